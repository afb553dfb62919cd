//! Kelpie, the dive-centre sample app (docs/trials/brief.md): its true world and, in the
//! submodules, its wreckage (`backup`: the pg_dump of 2026-01-24; `stripe`: one connected
//! account per shop with card-form intents, Hosted Checkout sessions, refunds and
//! disputes; `mail`: the journal of the relay `mail.kelpie.dive` with Stripe's receipts).
//!
//! The world keeps the full history from 2019-04 to the incident (2026-04-25): shop renames,
//! demo shops, divers merged into a survivor, bookings with the app's status words,
//! payments with declined charges on the same intent, expired Checkout sessions, Stripe
//! Dashboard charges and refunds the app never heard of. Volumes are about a tenth of the
//! brief's real app (≈100 bookings a shop) so that 1,600 shops generate in seconds; the
//! rates of the mess are the brief's.
//!
//! Deterministic: one `ChaCha8Rng` from the seed, consumed in a fixed order.

pub mod backup;
pub mod mail;
pub mod stripe;

use super::simulate::{
    alnum, digits, phone, pick, serial_ids, uniform_time, Density, FIRST, JP_FAMILY, JP_GIVEN,
    LAST, MAIL_COMMON,
};
use super::world::{
    AppStatus, Attempt, Business, Change, Customer, Dispute, Flavour, FormerName, KelpiePay,
    Method, PayMethod, Payment, Refund, Reservation, ReservationStatus, ReservationVersion,
    Service, World,
};
use crate::util::time::{local_to_utc, Timestamp};
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// The incident: 2026-04-25T09:14:00Z.
pub fn incident_at() -> Timestamp {
    utc(2026, 4, 25, 9, 14)
}
/// The pg_dump: 2026-01-24 03:00 UTC.
pub fn backup_at() -> Timestamp {
    utc(2026, 1, 24, 3, 0)
}
/// Kelpie's first shops.
pub fn history_start() -> Timestamp {
    utc(2019, 4, 1, 0, 0)
}
/// Metadata era B (`kelpie_booking_id`, `kelpie_shop_id`) from this deploy on.
pub fn era_b() -> Timestamp {
    utc(2023, 3, 14, 14, 0)
}
/// Hosted Checkout since.
pub fn checkout_since() -> Timestamp {
    utc(2022, 9, 1, 0, 0)
}
/// `customers.merged_into_id` exists since; before, a merge only wrote a note.
pub fn merge_column_since() -> Timestamp {
    utc(2021, 8, 2, 0, 0)
}
/// Mails carry `X-Kelpie-Shop` since.
pub fn shop_header_since() -> Timestamp {
    utc(2021, 1, 18, 0, 0)
}
/// Before this the Android app made a new intent per retry.
fn android_fixed() -> Timestamp {
    utc(2021, 6, 1, 0, 0)
}
/// The mobile bug that sent `kelpie_booking_id: ""`.
pub fn empty_id_bug() -> (Timestamp, Timestamp) {
    (utc(2023, 6, 10, 0, 0), utc(2023, 7, 3, 0, 0))
}
/// Webhook outage: Dashboard refunds of these days never reached the app.
pub fn webhook_outage() -> (Timestamp, Timestamp) {
    (utc(2024, 10, 2, 0, 0), utc(2024, 10, 6, 0, 0))
}
/// Mail relay outage: nothing journaled.
pub fn relay_outage() -> (Timestamp, Timestamp) {
    (utc(2025, 3, 11, 0, 0), utc(2025, 3, 14, 0, 0))
}

struct Place {
    zone: &'static str,
    towns: &'static [&'static str],
    currencies: &'static [&'static str],
    country: &'static str,
    locales: &'static [&'static str],
    /// Where the divers come from.
    divers: &'static [&'static str],
    weight: u32,
}

const PLACES: &[Place] = &[
    Place {
        zone: "Africa/Cairo",
        towns: &[
            "Dahab",
            "Hurghada",
            "Marsa Alam",
            "Sharm El Sheikh",
            "El Gouna",
        ],
        currencies: &["egp", "egp", "eur", "usd"],
        country: "EG",
        locales: &["en", "en", "de"],
        divers: &["DE", "DE", "GB", "GB", "NL", "IT", "FR", "EG", "US"],
        weight: 24,
    },
    Place {
        zone: "Europe/Malta",
        towns: &["Gozo", "Sliema", "Comino"],
        currencies: &["eur"],
        country: "MT",
        locales: &["en"],
        divers: &["GB", "DE", "IT", "NL", "FR"],
        weight: 6,
    },
    Place {
        zone: "Europe/Rome",
        towns: &["Elba", "Portofino", "Sardinia"],
        currencies: &["eur"],
        country: "IT",
        locales: &["it", "en"],
        divers: &["IT", "IT", "DE", "FR"],
        weight: 5,
    },
    Place {
        zone: "Europe/Berlin",
        towns: &["Hemmoor", "Kreidesee", "Berlin"],
        currencies: &["eur"],
        country: "DE",
        locales: &["de"],
        divers: &["DE", "DE", "DE", "NL"],
        weight: 5,
    },
    Place {
        zone: "Europe/Amsterdam",
        towns: &["Zeeland", "Vinkeveen"],
        currencies: &["eur"],
        country: "NL",
        locales: &["nl", "en"],
        divers: &["NL", "NL", "DE"],
        weight: 3,
    },
    Place {
        zone: "Europe/Paris",
        towns: &["Marseille", "Nice", "Corsica"],
        currencies: &["eur"],
        country: "FR",
        locales: &["fr"],
        divers: &["FR", "FR", "DE", "IT"],
        weight: 4,
    },
    Place {
        zone: "Atlantic/Canary",
        towns: &["Tenerife", "Lanzarote", "Gran Canaria"],
        currencies: &["eur"],
        country: "ES",
        locales: &["en", "de"],
        divers: &["GB", "DE", "ES", "NL"],
        weight: 4,
    },
    Place {
        zone: "Europe/London",
        towns: &["Plymouth", "Oban", "Scapa Flow"],
        currencies: &["gbp"],
        country: "GB",
        locales: &["en"],
        divers: &["GB", "GB", "GB", "IE"],
        weight: 4,
    },
    Place {
        zone: "Asia/Bangkok",
        towns: &["Koh Tao", "Phuket", "Koh Lanta"],
        currencies: &["thb", "thb", "usd"],
        country: "TH",
        locales: &["en"],
        divers: &["GB", "DE", "AU", "US", "NL", "FR"],
        weight: 9,
    },
    Place {
        zone: "Asia/Makassar",
        towns: &["Amed", "Nusa Penida", "Gili Air"],
        currencies: &["usd"],
        country: "ID",
        locales: &["en"],
        divers: &["AU", "AU", "GB", "DE", "NL", "US"],
        weight: 5,
    },
    Place {
        zone: "Asia/Manila",
        towns: &["Moalboal", "Anilao", "Coron"],
        currencies: &["usd"],
        country: "PH",
        locales: &["en"],
        divers: &["US", "AU", "GB", "DE", "JP"],
        weight: 4,
    },
    Place {
        zone: "America/Belize",
        towns: &["Belize", "San Pedro", "Caye Caulker"],
        currencies: &["usd"],
        country: "BZ",
        locales: &["en"],
        divers: &["US", "US", "US", "GB", "DE"],
        weight: 4,
    },
    Place {
        zone: "America/Cancun",
        towns: &["Playa del Carmen", "Cozumel", "Tulum"],
        currencies: &["usd"],
        country: "MX",
        locales: &["en"],
        divers: &["US", "US", "GB", "DE", "FR"],
        weight: 5,
    },
    Place {
        zone: "America/Kralendijk",
        towns: &["Bonaire"],
        currencies: &["usd"],
        country: "BQ",
        locales: &["en", "nl"],
        divers: &["US", "NL", "NL", "DE"],
        weight: 3,
    },
    Place {
        zone: "Asia/Tokyo",
        towns: &["Okinawa", "Ishigaki", "Zamami"],
        currencies: &["jpy"],
        country: "JP",
        locales: &["en"],
        divers: &["JP", "JP", "JP", "JP", "US", "AU"],
        weight: 6,
    },
    Place {
        zone: "Australia/Brisbane",
        towns: &["Cairns", "Port Douglas"],
        currencies: &["aud"],
        country: "AU",
        locales: &["en"],
        divers: &["AU", "AU", "GB", "DE", "US", "JP"],
        weight: 5,
    },
    Place {
        zone: "Australia/Sydney",
        towns: &["Sydney", "Byron Bay"],
        currencies: &["aud"],
        country: "AU",
        locales: &["en"],
        divers: &["AU", "AU", "AU", "GB"],
        weight: 2,
    },
];

/// Shop names: the first three are shared by several shops on purpose.
const SHOP_BASES: &[&str] = &[
    "Blue Hole Divers",
    "Reef Republic",
    "Aqua Sport",
    "Coral Kings",
    "Deep Blue",
    "Manta Point Divers",
    "Big Blue Diving",
    "Octopus Dive Centre",
    "Turtle Bay Divers",
    "Nemo Scuba",
    "Shark Reef Divers",
    "Poseidon Diving",
    "Sea Dragon Dive",
    "Wreck & Reef",
    "Kelp Garden Divers",
    "Barracuda Dive Club",
    "Dolphin House",
    "Orca Dive",
    "Seahorse Scuba",
    "Lagoon Divers",
    "Ocean Pulse",
    "Bubble Makers",
    "Neptune Dive",
    "Tauchschule Nord",
    "Plongée Azur",
    "Scuba Školjka",
    "Duikcentrum Zeester",
    "Diving Paradise",
    "Island Scuba",
    "Current Affairs Diving",
];
const RENAMED: &[&str] = &[
    "Kings Dive",
    "Blue Water Collective",
    "Salt & Bubbles",
    "Reefology",
    "Deep End Divers",
    "Tidal Scuba",
];
const DEMO_NAMES: &[&str] = &[
    "Demo Dive Co",
    "Test shop Anna",
    "Kelpie Demo",
    "Sandbox Divers",
    "QA Test Shop",
    "Demo Shop (sales)",
];

/// (name, minutes, EUR per diver, kind): `trip` or `course`.
const SERVICES: &[(&str, i64, i64)] = &[
    ("Two-tank boat dive", 300, 84),
    ("Shore dive", 120, 38),
    ("Night dive", 150, 55),
    ("Discover Scuba Diving", 240, 95),
    ("Open Water course", 3 * 1440 + 480, 450),
    ("Advanced Open Water course", 2 * 1440 + 480, 340),
    ("Nitrox course", 240, 160),
    ("Wreck dive", 300, 92),
    ("Snorkel trip", 180, 35),
    ("Rescue Diver course", 3 * 1440 + 480, 420),
    ("Full-day safari", 540, 130),
];
const EXTRAS: &[(&str, i64)] = &[
    ("Nitrox", 10),
    ("Equipment rental", 25),
    ("Torch rental", 8),
    ("Logbook", 12),
    ("Marine park fee", 6),
];

/// EUR major units to minor units of `cur`, rounded as a shop would price.
fn price_in(eur: f64, cur: &str) -> i64 {
    match cur {
        "usd" => (eur * 1.1).round() as i64 * 100,
        "gbp" => (eur * 0.86).round() as i64 * 100,
        "egp" => ((eur * 52.0 / 50.0).round() as i64).max(1) * 50 * 100,
        "thb" => ((eur * 40.0 / 100.0).round() as i64).max(1) * 100 * 100,
        "aud" => (eur * 1.7).round() as i64 * 100,
        "jpy" => ((eur * 165.0 / 500.0).round() as i64).max(1) * 500,
        _ => eur.round() as i64 * 100,
    }
}

/// A share of `minor`, rounded to whole units (yen: hundreds).
fn share(minor: i64, f: f64, cur: &str) -> i64 {
    let unit = match cur {
        "jpy" => 100,
        "egp" | "thb" => 1000,
        _ => 100,
    };
    ((minor as f64 * f / unit as f64).round() as i64).max(1) * unit
}

/// `Blue Hole Divers Dahab` -> `blue-hole-divers-dahab`.
pub(crate) fn slugify(s: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in s.chars() {
        let f = super::simulate::ascii_fold(c.encode_utf8(&mut [0u8; 4]));
        if f.is_empty() {
            sep = !out.is_empty();
        } else {
            if sep {
                out.push('-');
                sep = false;
            }
            out.push_str(&f);
        }
    }
    out
}

/// The booking code: `KL` + year + `-` + 5 characters, unique.
fn booking_code(rng: &mut ChaCha8Rng, at: Timestamp, used: &mut BTreeSet<String>) -> String {
    const A: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    loop {
        let s: String = (0..5)
            .map(|_| A[rng.gen_range(0..A.len())] as char)
            .collect();
        let code = format!("KL{}-{s}", at.format("%y"));
        if used.insert(code.clone()) {
            return code;
        }
    }
}

fn diver_phone(rng: &mut ChaCha8Rng, country: &str) -> String {
    match country {
        "EG" => format!("+2010{}", digits(rng, 8)),
        "TH" => format!("+668{}", digits(rng, 8)),
        _ => phone(rng, country),
    }
}

struct Person {
    name: String,
    first: String,
    last: String,
}

fn diver(rng: &mut ChaCha8Rng, home: &str) -> Person {
    if home == "JP" {
        let (fk, fr) = *pick(rng, JP_FAMILY);
        let (gk, gr) = *pick(rng, JP_GIVEN);
        let name = if rng.gen_bool(0.5) {
            format!("{fk}{gk}")
        } else {
            format!("{gr} {fr}")
        };
        return Person {
            name,
            first: gr.to_lowercase(),
            last: fr.to_lowercase(),
        };
    }
    let f = *pick(rng, FIRST);
    let l = *pick(rng, LAST);
    Person {
        name: format!("{f} {l}"),
        first: super::simulate::ascii_fold(f),
        last: super::simulate::ascii_fold(l),
    }
}

fn diver_email(rng: &mut ChaCha8Rng, p: &Person, home: &str) -> String {
    let regional: &[&str] = match home {
        "DE" => &["gmx.de", "web.de", "t-online.de"],
        "FR" => &["orange.fr", "free.fr"],
        "IT" => &["libero.it"],
        "NL" => &["ziggo.nl", "kpnmail.nl"],
        "GB" => &["btinternet.com", "hotmail.co.uk"],
        "JP" => &["yahoo.co.jp", "docomo.ne.jp"],
        "AU" => &["bigpond.com"],
        _ => &["aol.com", "comcast.net"],
    };
    let domain = if rng.gen_bool(0.25) {
        *pick(rng, regional)
    } else {
        *pick(rng, MAIL_COMMON)
    };
    let (f, l) = (&p.first, &p.last);
    let local = match rng.gen_range(0..5) {
        0 | 1 => format!("{f}.{l}"),
        2 => format!("{f}{l}{}", rng.gen_range(1..100)),
        3 => format!("{}{l}", f.chars().next().unwrap_or('x')),
        _ => format!("{f}_{}", rng.gen_range(60..100)),
    };
    format!("{local}@{domain}")
}

/// A slot on local `date`: the service's usual start time.
fn slot(rng: &mut ChaCha8Rng, svc: &Service, tz: Tz, date: NaiveDate) -> (Timestamp, Timestamp) {
    let (h, m) = match svc.name.as_str() {
        "Night dive" => (18, 30),
        "Shore dive" => *pick(rng, &[(9, 0), (11, 0), (14, 0)]),
        "Snorkel trip" => (9, 30),
        n if n.contains("course") || n.contains("Discover") => (9, 0),
        _ => *pick(rng, &[(8, 0), (8, 30), (13, 30)]),
    };
    let start = local_to_utc(
        date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap()),
        Some(tz),
    );
    (start, start + Duration::minutes(svc.duration_min))
}

/// The next 03:00 local after `t` (the job that turns `checked_in` into `done`).
fn next_3am(t: Timestamp, tz: Tz) -> Timestamp {
    let d = t.with_timezone(&tz).date_naive() + Duration::days(1);
    local_to_utc(d.and_hms_opt(3, 0, 0).unwrap(), Some(tz))
}

struct Shop {
    biz: Business,
    tz: Tz,
    place: &'static Place,
    services: Vec<usize>,
    /// When bookings stop (cancelled or deleted shop, or the incident).
    end: Timestamp,
}

struct Ctx {
    rng: ChaCha8Rng,
    density: Density,
    incident: Timestamp,
    customers: Vec<Customer>,
    reservations: Vec<Reservation>,
    payments: Vec<Payment>,
    services: Vec<Service>,
    codes: BTreeSet<String>,
}

fn push_version(
    vs: &mut Vec<ReservationVersion>,
    at: Timestamp,
    change: Change,
    f: impl FnOnce(&mut ReservationVersion),
) {
    let mut v = vs.last().unwrap().clone();
    v.at = at.max(v.at);
    v.change = change;
    f(&mut v);
    vs.push(v);
}

fn card_brand(rng: &mut ChaCha8Rng) -> &'static str {
    const BRANDS: [&str; 7] = [
        "visa",
        "visa",
        "visa",
        "visa",
        "mastercard",
        "mastercard",
        "amex",
    ];
    BRANDS[rng.gen_range(0..BRANDS.len())]
}

fn receipt_no(rng: &mut ChaCha8Rng) -> String {
    format!("{}-{}", digits(rng, 4), digits(rng, 4))
}

impl Ctx {
    fn id(&mut self, prefix: &str) -> String {
        format!("{prefix}_3{}", alnum(&mut self.rng, 23))
    }

    /// The diver's `cus_` for a card-form payment at `at` (created now if they have none).
    fn cus_for(&mut self, cust: usize, at: Timestamp) -> Option<String> {
        if self.customers[cust].stripe_customer.is_none() {
            let id = format!("cus_{}", alnum(&mut self.rng, 14));
            self.customers[cust].stripe_customer = Some(id);
        }
        let _ = at;
        self.customers[cust].stripe_customer.clone()
    }

    /// A Stripe payment (card form or Checkout) of `amount` for a booking, started at
    /// `start`. Returns the succeeded payment's time, or `None` when every attempt failed
    /// (the failures are recorded as payments without a row).
    #[allow(clippy::too_many_arguments)]
    fn stripe_payment(
        &mut self,
        b: &Business,
        cust: usize,
        res: usize,
        method: PayMethod,
        kind: &str,
        amount: i64,
        start: Timestamp,
        allow_fail: bool,
    ) -> Option<Timestamp> {
        let t = self.incident;
        let rng = &mut self.rng;
        let declines = if rng.gen_bool(0.06) {
            rng.gen_range(1..=2)
        } else {
            0
        };
        let only_fail = allow_fail && rng.gen_bool(0.02);
        let android = method == PayMethod::CardForm && start < android_fixed() && rng.gen_bool(0.5);
        let last4 = digits(rng, 4);
        let brand = card_brand(rng);
        let email = self.customers[cust].email.clone();
        let mut at = start + Duration::seconds(self.rng.gen_range(20..240));
        let mut attempts = Vec::new();
        let n_fail = if only_fail { declines.max(1) } else { declines };
        let decline = |rng: &mut ChaCha8Rng| {
            pick(
                rng,
                &[
                    "generic_decline",
                    "insufficient_funds",
                    "do_not_honor",
                    "card_declined",
                    "expired_card",
                ],
            )
            .to_string()
        };
        for _ in 0..n_fail {
            let a = Attempt {
                charge_id: self.id("ch"),
                at,
                decline_code: decline(&mut self.rng),
                last4: if self.rng.gen_bool(0.5) {
                    digits(&mut self.rng, 4)
                } else {
                    last4.clone()
                },
            };
            at += Duration::seconds(self.rng.gen_range(30..400));
            attempts.push(a);
        }
        if at > t {
            return None;
        }
        let cus = match method {
            PayMethod::CardForm => self.cus_for(cust, start),
            _ => None,
        };
        let mk = |ctx: &mut Ctx,
                  attempts: Vec<Attempt>,
                  no_row: bool,
                  started: Timestamp,
                  pi: Option<String>,
                  cs: Option<String>,
                  charge: Option<String>,
                  created: Timestamp,
                  receipt: Option<String>| {
            let empty_id = {
                let (a, z) = empty_id_bug();
                method == PayMethod::CardForm
                    && created >= a
                    && created < z
                    && ctx.rng.gen_bool(0.4)
            };
            let md_missing =
                method == PayMethod::CardForm && created < era_b() && ctx.rng.gen_bool(0.04);
            let receipt_pending = receipt.is_some() && ctx.rng.gen_bool(0.10);
            ctx.payments.push(Payment {
                id: 0,
                business_id: b.id,
                customer_id: Some(cust as i64),
                reservation_id: Some(res as i64),
                method: Method::Card,
                charge_id: charge,
                payment_intent: pi,
                amount,
                currency: b.currency.clone(),
                created_at: created,
                failed: no_row,
                refunds: Vec::new(),
                dispute: None,
                receipt_number: receipt,
                card_last4: Some(last4.clone()),
                metadata_missing: md_missing,
                kelpie: Some(Box::new(KelpiePay {
                    method,
                    kind: kind.to_string(),
                    checkout_session: cs,
                    attempts,
                    no_row,
                    receipt_pending,
                    card_brand: Some(brand.to_string()),
                    dashboard: None,
                    empty_booking_id: empty_id,
                    started_at: started,
                    receipt_email: email.clone(),
                })),
            });
            let _ = &cus;
        };
        let cs = (method == PayMethod::Checkout)
            .then(|| format!("cs_live_{}", alnum(&mut self.rng, 58)));
        if only_fail || android {
            // Android before 2021-06: every retry a new intent; or nothing ever succeeded.
            if android && !only_fail {
                for a in std::mem::take(&mut attempts) {
                    let pi = self.id("pi");
                    mk(
                        self,
                        vec![a.clone()],
                        true,
                        a.at - Duration::seconds(5),
                        Some(pi),
                        None,
                        None,
                        a.at,
                        None,
                    );
                }
            } else {
                let pi = self.id("pi");
                let first = attempts.first().map(|a| a.at).unwrap_or(at);
                mk(
                    self,
                    attempts,
                    true,
                    first - Duration::seconds(5),
                    Some(pi),
                    cs,
                    None,
                    at,
                    None,
                );
                return None;
            }
        }
        let pi = self.id("pi");
        let ch = self.id("ch");
        let receipt = Some(receipt_no(&mut self.rng));
        mk(
            self,
            attempts,
            false,
            start,
            Some(pi),
            cs,
            Some(ch),
            at,
            receipt,
        );
        Some(at)
    }

    /// A payment by hand (cash, bank transfer, voucher): a row, no Stripe.
    #[allow(clippy::too_many_arguments)]
    fn manual_payment(
        &mut self,
        b: &Business,
        cust: usize,
        res: usize,
        method: PayMethod,
        kind: &str,
        amount: i64,
        at: Timestamp,
    ) {
        self.payments.push(Payment {
            id: 0,
            business_id: b.id,
            customer_id: Some(cust as i64),
            reservation_id: Some(res as i64),
            method: Method::Cash,
            amount,
            currency: b.currency.clone(),
            created_at: at,
            kelpie: Some(Box::new(KelpiePay {
                method,
                kind: kind.to_string(),
                checkout_session: None,
                attempts: Vec::new(),
                no_row: false,
                receipt_pending: false,
                card_brand: None,
                dashboard: None,
                empty_booking_id: false,
                started_at: at,
                receipt_email: None,
            })),
            ..Default::default()
        });
    }
}

/// A deterministic kelpie world of `businesses` shops.
pub fn simulate(businesses: usize, seed: u64) -> World {
    simulate_at(businesses, seed, Density::Current)
}

/// Mission density: customers per shop against the current density.
const MISSION_CUSTOMERS: f64 = 4.35;

/// The world of `businesses` shops at `density` (without the common habits: see
/// [`super::simulate::simulate_at`]).
pub fn simulate_at(businesses: usize, seed: u64, density: Density) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6b65_6c70_6965);
    let incident = incident_at();
    let backup = backup_at();
    let start = history_start();
    let total: u32 = PLACES.iter().map(|p| p.weight).sum();
    // Which shops are demo shops: ~2.8 %, at least one from five shops on; one in nine of
    // them never soft-deleted.
    let n_demo = if businesses >= 5 {
        ((businesses as f64 * 0.028).round() as usize).max(1)
    } else {
        0
    };
    let mut demo_idx = BTreeSet::new();
    while demo_idx.len() < n_demo {
        demo_idx.insert(rng.gen_range(0..businesses));
    }
    let mut slugs = BTreeSet::new();
    let mut shops: Vec<Shop> = Vec::with_capacity(businesses);
    for i in 0..businesses {
        let mut w = rng.gen_range(0..total);
        let place = PLACES
            .iter()
            .find(|p| {
                if w < p.weight {
                    true
                } else {
                    w -= p.weight;
                    false
                }
            })
            .unwrap_or(&PLACES[0]);
        let tz: Tz = place.zone.parse().unwrap_or(Tz::UTC);
        let town = *pick(&mut rng, place.towns);
        let demo = demo_idx.contains(&i);
        let created_at = if rng.gen_bool(0.45) {
            uniform_time(&mut rng, start, utc(2021, 1, 1, 0, 0))
        } else {
            uniform_time(&mut rng, start, incident - Duration::days(40))
        };
        let (name, slug_base) = if demo {
            let n = *pick(&mut rng, DEMO_NAMES);
            (n.to_string(), slugify(n))
        } else {
            // The shared names come often and mostly without the town.
            let base = if rng.gen_bool(0.15) {
                SHOP_BASES[rng.gen_range(0..3)]
            } else {
                *pick(&mut rng, SHOP_BASES)
            };
            let with_town = rng.gen_bool(0.4);
            let name = if with_town {
                format!("{base} {town}")
            } else {
                base.to_string()
            };
            let slug = if with_town {
                slugify(&name)
            } else {
                format!("{}-{}", slugify(base), slugify(town))
            };
            (name, slug)
        };
        let mut slug = slug_base.clone();
        let mut n = 1;
        while !slugs.insert(slug.clone()) {
            n += 1;
            slug = format!("{slug_base}-{n}");
        }
        let currency = if demo {
            "eur"
        } else {
            *pick(&mut rng, place.currencies)
        };
        let locale = *pick(&mut rng, place.locales);
        let compact: String = slug.chars().filter(|c| *c != '-').collect();
        let email = match rng.gen_range(0..4) {
            0 => format!("info@{compact}.com"),
            1 => format!("bookings@{compact}.com"),
            2 => format!("{compact}@gmail.com"),
            _ => format!("dive@{slug}.com"),
        };
        let stripe = demo || rng.gen_bool(0.95);
        let stripe_account = stripe.then(|| format!("acct_1{}", alnum(&mut rng, 15)));
        let mut biz = Business {
            id: 0,
            name,
            email,
            timezone: place.zone.to_string(),
            currency: currency.to_string(),
            country: place.country.to_string(),
            stripe_account,
            created_at,
            slug,
            town: town.to_string(),
            locale: locale.to_string(),
            app_status: "active".into(),
            is_demo: demo,
            ..Default::default()
        };
        let mut end = incident;
        if demo {
            if rng.gen_bool(8.0 / 9.0) {
                let d = uniform_time(
                    &mut rng,
                    created_at + Duration::days(20),
                    (created_at + Duration::days(400)).min(incident),
                );
                biz.deleted_at = Some(d);
                end = d;
            }
            biz.app_status = "trial".into();
        } else {
            let age = incident - created_at;
            if age > Duration::days(500) && rng.gen_bool(0.06) {
                let c = uniform_time(
                    &mut rng,
                    created_at + Duration::days(365),
                    incident - Duration::days(10),
                );
                biz.cancelled_at = Some(c);
                biz.app_status = "cancelled".into();
                end = c;
            } else if age < Duration::days(30) {
                biz.app_status = "trial".into();
            } else if rng.gen_bool(0.03) {
                biz.app_status = "past_due".into();
            }
            // ~6 % renamed once (a few after the backup); half never told Stripe.
            if age > Duration::days(200) && rng.gen_bool(0.06) {
                let until = if rng.gen_bool(0.15) {
                    uniform_time(
                        &mut rng,
                        backup + Duration::days(1),
                        incident - Duration::days(3),
                    )
                } else {
                    uniform_time(&mut rng, created_at + Duration::days(150), end.min(backup))
                };
                let old = std::mem::take(&mut biz.name);
                let new = format!("{} {town}", pick(&mut rng, RENAMED));
                biz.name = if new == old {
                    format!("{old} Divers")
                } else {
                    new
                };
                if rng.gen_bool(0.5) && biz.stripe_account.is_some() {
                    biz.stripe_profile_name = Some(old.clone());
                }
                biz.former_names.push(FormerName { name: old, until });
            }
            // ~2 % reconnected a new Stripe account once.
            if biz.stripe_account.is_some() && age > Duration::days(300) && rng.gen_bool(0.02) {
                let until = uniform_time(
                    &mut rng,
                    created_at + Duration::days(200),
                    end - Duration::days(30),
                );
                biz.former_account = Some((format!("acct_1{}", alnum(&mut rng, 15)), until));
            }
        }
        shops.push(Shop {
            biz,
            tz,
            place,
            services: Vec::new(),
            end,
        });
    }
    shops.sort_by_key(|s| s.biz.created_at);
    for (i, s) in shops.iter_mut().enumerate() {
        s.biz.id = i as i64 + 1;
    }

    let mut ctx = Ctx {
        rng,
        density,
        incident,
        customers: Vec::new(),
        reservations: Vec::new(),
        payments: Vec::new(),
        services: Vec::new(),
        codes: BTreeSet::new(),
    };
    #[allow(clippy::needless_range_loop)]
    for si in 0..shops.len() {
        // Services.
        let factor: f64 = ctx.rng.gen_range(0.85..1.25);
        let cur = shops[si].biz.currency.clone();
        let bid = shops[si].biz.id;
        for (k, (name, mins, eur)) in SERVICES.iter().enumerate() {
            if k == 0 || ctx.rng.gen_bool(0.5) {
                let archived_at = (k > 0 && ctx.rng.gen_bool(0.08)).then(|| {
                    let b = &shops[si].biz;
                    uniform_time(&mut ctx.rng, b.created_at + Duration::days(100), incident)
                });
                shops[si].services.push(ctx.services.len());
                ctx.services.push(Service {
                    id: 0,
                    business_id: bid,
                    name: name.to_string(),
                    duration_min: *mins,
                    price: if shops[si].biz.is_demo {
                        100
                    } else {
                        price_in(*eur as f64 * factor, &cur)
                    },
                    archived_at,
                });
            }
        }
        simulate_shop(&mut ctx, &shops[si]);
    }

    // Serial ids in order of creation.
    let Ctx {
        mut customers,
        mut reservations,
        mut payments,
        mut services,
        ..
    } = ctx;
    let svc_map: Vec<i64> = (1..=services.len() as i64).collect();
    for (i, s) in services.iter_mut().enumerate() {
        s.id = svc_map[i];
    }
    let cust_map = serial_ids(customers.iter().map(|c| c.created_at));
    let res_map = serial_ids(reservations.iter().map(|r| r.created_at));
    for c in &mut customers {
        c.id = cust_map[c.id as usize];
        c.merged_into = c.merged_into.map(|m| cust_map[m as usize]);
    }
    customers.sort_by_key(|c| c.id);
    for r in &mut reservations {
        r.id = res_map[r.id as usize];
        r.customer_id = cust_map[r.customer_id as usize];
        r.service_id = r.service_id.map(|s| svc_map[s as usize]);
    }
    reservations.sort_by_key(|r| r.id);
    // Rows get serial ids; attempts without a row get negative ones (they never had an id).
    let row_times: Vec<(usize, Timestamp)> = payments
        .iter()
        .enumerate()
        .filter(|(_, p)| p.has_row())
        .map(|(i, p)| (i, p.created_at))
        .collect();
    let pay_map = serial_ids(row_times.iter().map(|x| x.1));
    let mut neg = 0;
    for (k, (i, _)) in row_times.iter().enumerate() {
        payments[*i].id = pay_map[k];
    }
    for p in &mut payments {
        if !p.has_row() {
            neg -= 1;
            p.id = neg;
        }
        p.customer_id = p.customer_id.map(|c| cust_map[c as usize]);
        p.reservation_id = p.reservation_id.map(|r| res_map[r as usize]);
    }
    payments.sort_by_key(|p| (p.created_at, p.id));
    World {
        seed,
        flavour: Flavour::Kelpie,
        incident_at: incident,
        backup_at: backup,
        businesses: shops.into_iter().map(|s| s.biz).collect(),
        customers,
        reservations,
        payments,
        services,
        zenda: None,
    }
}

fn simulate_shop(ctx: &mut Ctx, shop: &Shop) {
    let b = &shop.biz;
    let t = ctx.incident;
    let demo = b.is_demo;
    let first_day = b.created_at + Duration::days(1);
    let last_day = shop.end - Duration::days(2);
    if last_day <= first_day {
        return;
    }
    let size: f64 = ctx.rng.gen_range(0.6..1.6);
    let n_cust = if demo {
        ctx.rng.gen_range(2..=5)
    } else {
        ctx.density.customers(
            ((ctx.rng.gen_range(12..=26) as f64) * size).round() as usize,
            MISSION_CUSTOMERS,
        )
    };
    let mut emails = BTreeSet::new();
    for _ in 0..n_cust {
        let home = *pick(&mut ctx.rng, shop.place.divers);
        let created = uniform_time(&mut ctx.rng, first_day, last_day);
        let p = if demo {
            Person {
                name: pick(
                    &mut ctx.rng,
                    &["Test Diver", "Anna Test", "Max Mustermann", "QA Bot"],
                )
                .to_string(),
                first: "test".into(),
                last: "diver".into(),
            }
        } else {
            diver(&mut ctx.rng, home)
        };
        let email = if ctx.rng.gen_bool(0.95) {
            let mut e = if demo {
                format!("test+{}@kelpie.dive", alnum(&mut ctx.rng, 5).to_lowercase())
            } else {
                diver_email(&mut ctx.rng, &p, home)
            };
            while !emails.insert(e.clone()) {
                e = format!("{}{e}", ctx.rng.gen_range(1..10));
            }
            Some(e)
        } else {
            None
        };
        let phone = ctx
            .rng
            .gen_bool(0.8)
            .then(|| diver_phone(&mut ctx.rng, home));
        let ci = ctx.customers.len();
        ctx.customers.push(Customer {
            id: ci as i64,
            business_id: b.id,
            name: p.name.clone(),
            email: email.clone(),
            phone: phone.clone(),
            created_at: created,
            home_country: home.to_string(),
            ..Default::default()
        });
        let n_book = if demo {
            ctx.rng.gen_range(1..=3)
        } else {
            match ctx.density {
                Density::Current => *pick(&mut ctx.rng, &[1, 1, 2, 2, 3, 3, 4, 5, 6]),
                Density::Mission => *pick(&mut ctx.rng, &[1, 1, 2, 2, 3, 3]),
            }
        };
        let mut last_activity = created;
        for k in 0..n_book {
            let at = if k == 0 {
                created
            } else {
                uniform_time(&mut ctx.rng, created, shop.end - Duration::minutes(30))
            };
            let end = booking(ctx, shop, ci, at);
            last_activity = last_activity.max(end);
        }
        // ~4 %: the same diver again as a second row (another email spelling, no login).
        if !demo && ctx.rng.gen_bool(0.04) {
            let dup_created = uniform_time(
                &mut ctx.rng,
                created + Duration::days(1),
                shop.end.max(created + Duration::days(2)),
            );
            if dup_created < shop.end - Duration::hours(1) {
                // The same address (typed in another case or with spaces), a typo, or none
                // (a second booking without login).
                let dup_email = email.as_ref().and_then(|e| match ctx.rng.gen_range(0..4) {
                    0 => Some(e.replacen("@gmail.", "@gmial.", 1)),
                    1 => None,
                    _ => Some(e.clone()),
                });
                let name = if ctx.rng.gen_bool(0.3) {
                    p.name.to_lowercase()
                } else {
                    p.name.clone()
                };
                let di = ctx.customers.len();
                ctx.customers.push(Customer {
                    id: di as i64,
                    business_id: b.id,
                    name,
                    email: dup_email,
                    phone: if ctx.rng.gen_bool(0.5) {
                        phone.clone()
                    } else {
                        None
                    },
                    created_at: dup_created,
                    home_country: home.to_string(),
                    ..Default::default()
                });
                let n = ctx.rng.gen_range(1..=2);
                let mut dup_last = dup_created;
                for k in 0..n {
                    let at = if k == 0 {
                        dup_created
                    } else {
                        uniform_time(&mut ctx.rng, dup_created, shop.end - Duration::minutes(30))
                    };
                    dup_last = dup_last.max(booking(ctx, shop, di, at));
                }
                // Half are merged into the first row later.
                if ctx.rng.gen_bool(0.5) {
                    let m_at = dup_last
                        + Duration::days(ctx.rng.gen_range(1..120))
                        + Duration::minutes(ctx.rng.gen_range(0..1440));
                    if m_at < t {
                        ctx.customers[di].merged_into = Some(ci as i64);
                        ctx.customers[di].deleted_at = Some(m_at);
                    }
                }
            }
        }
        // GDPR erasure, rarely.
        if !demo && ctx.rng.gen_bool(0.0015) {
            let e = last_activity + Duration::days(ctx.rng.gen_range(10..200));
            if e < t {
                ctx.customers[ci].erased_at = Some(e);
            }
        }
    }
    // Charges typed by staff in the Dashboard: ~1.5 % of the shop's bookings.
    if let Some(_acct) = &b.stripe_account {
        if demo {
            return;
        }
        let mine: Vec<usize> = (0..ctx.reservations.len())
            .rev()
            .take_while(|&i| ctx.reservations[i].business_id == b.id)
            .collect();
        for ri in mine.into_iter().rev() {
            if !ctx.rng.gen_bool(0.015) {
                continue;
            }
            let r = &ctx.reservations[ri];
            let v = r.versions.last().unwrap();
            let at = v.starts_at + Duration::hours(ctx.rng.gen_range(1..10));
            if at > t || matches!(v.status, ReservationStatus::Cancelled) {
                continue;
            }
            let cust = r.customer_id as usize;
            let code = r.reference.clone();
            let (desc, linked, amount) = if ctx.rng.gen_bool(0.6) {
                let c = if ctx.rng.gen_bool(0.03) {
                    code.to_lowercase().replace('-', " ")
                } else {
                    code
                };
                (
                    format!("balance {c}"),
                    true,
                    share(v.amount, ctx.rng.gen_range(0.3..0.8), &b.currency),
                )
            } else {
                let (x, eur) = *pick(&mut ctx.rng, EXTRAS);
                let first = ctx.customers[cust]
                    .name
                    .split_whitespace()
                    .next()
                    .unwrap_or("diver")
                    .to_string();
                (
                    format!("{x} for {first}"),
                    false,
                    price_in(eur as f64, &b.currency),
                )
            };
            let recorded = ctx.rng.gen_bool(0.1);
            let pi = ctx.id("pi");
            let ch = ctx.id("ch");
            let receipt = Some(receipt_no(&mut ctx.rng));
            let last4 = digits(&mut ctx.rng, 4);
            let brand = card_brand(&mut ctx.rng);
            ctx.payments.push(Payment {
                business_id: b.id,
                customer_id: Some(cust as i64),
                reservation_id: linked.then_some(ri as i64),
                method: Method::Card,
                charge_id: Some(ch),
                payment_intent: Some(pi),
                amount,
                currency: b.currency.clone(),
                created_at: at,
                receipt_number: receipt,
                card_last4: Some(last4),
                kelpie: Some(Box::new(KelpiePay {
                    method: PayMethod::CardForm,
                    kind: if linked { "balance" } else { "extra" }.into(),
                    checkout_session: None,
                    attempts: Vec::new(),
                    no_row: !recorded,
                    receipt_pending: false,
                    card_brand: Some(brand.into()),
                    dashboard: Some(desc),
                    empty_booking_id: false,
                    started_at: at - Duration::seconds(40),
                    receipt_email: None,
                })),
                ..Default::default()
            });
        }
    }
}

/// One booking by customer `ci` created at `at`, with its payments. Returns the time of its
/// last event.
fn booking(ctx: &mut Ctx, shop: &Shop, ci: usize, at: Timestamp) -> Timestamp {
    let b = &shop.biz;
    let t = ctx.incident;
    let tz = shop.tz;
    let demo = b.is_demo;
    let live: Vec<usize> = shop
        .services
        .iter()
        .copied()
        .filter(|&s| ctx.services[s].archived_at.is_none_or(|a| a > at))
        .collect();
    let si = *pick(
        &mut ctx.rng,
        if live.is_empty() {
            &shop.services
        } else {
            &live
        },
    );
    let svc = ctx.services[si].clone();
    let horizon = t + Duration::days(60);
    let lead = match ctx.rng.gen_range(0..10) {
        0..=2 => ctx.rng.gen_range(0..3),
        3..=7 => ctx.rng.gen_range(3..30),
        _ => ctx.rng.gen_range(30..90),
    };
    let day = at.with_timezone(&tz).date_naive() + Duration::days(lead);
    let (mut s, mut e) = slot(&mut ctx.rng, &svc, tz, day);
    while s < at + Duration::hours(2) {
        s += Duration::days(1);
        e += Duration::days(1);
    }
    if s > horizon {
        let d = (s - horizon).num_days() + 1;
        s -= Duration::days(d);
        e -= Duration::days(d);
        while s < at + Duration::hours(2) {
            s += Duration::days(1);
            e += Duration::days(1);
        }
    }
    let divers: i64 = if demo {
        1
    } else if svc.name.contains("course") {
        *pick(&mut ctx.rng, &[1, 1, 1, 2])
    } else {
        *pick(&mut ctx.rng, &[1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 4])
    };
    let amount = svc.price * divers;
    let ri = ctx.reservations.len();
    let code = booking_code(&mut ctx.rng, at, &mut ctx.codes);
    let stripe = b.stripe_account.is_some();
    let waitlist = !demo && ctx.rng.gen_bool(0.03);
    let online = stripe && !waitlist && (demo || ctx.rng.gen_bool(0.7));
    let checkout = online && !demo && at >= checkout_since() && ctx.rng.gen_bool(0.35);
    let first_app = if waitlist {
        AppStatus::Waitlist
    } else if online && !checkout {
        AppStatus::Held
    } else {
        AppStatus::Booked
    };
    let mut vs = vec![ReservationVersion {
        at,
        change: Change::Created,
        starts_at: s,
        ends_at: e,
        party_size: divers,
        status: if matches!(first_app, AppStatus::Booked) {
            ReservationStatus::Confirmed
        } else {
            ReservationStatus::Pending
        },
        amount,
        app_status: Some(first_app),
    }];
    let mut deleted_at = None;
    let mut paid: i64 = 0;
    let mut stripe_paid: Vec<usize> = Vec::new();
    let pay = |ctx: &mut Ctx,
               method: PayMethod,
               kind: &str,
               amount: i64,
               start: Timestamp,
               allow_fail: bool,
               stripe_paid: &mut Vec<usize>|
     -> Option<Timestamp> {
        let n = ctx.payments.len();
        let r = ctx.stripe_payment(b, ci, ri, method, kind, amount, start, allow_fail);
        if r.is_some() {
            stripe_paid.push(ctx.payments.len() - 1);
        }
        let _ = n;
        r
    };
    let deposit_share = ctx.rng.gen_range(0.2..0.3);
    if waitlist {
        if ctx.rng.gen_bool(0.6) {
            let w = uniform_time(
                &mut ctx.rng,
                at + Duration::hours(2),
                (s - Duration::hours(3)).max(at + Duration::hours(3)),
            );
            if w < t {
                push_version(&mut vs, w, Change::Status, |v| {
                    v.status = ReservationStatus::Confirmed;
                    v.app_status = Some(AppStatus::Booked);
                });
            }
        } else {
            let c = s - Duration::hours(ctx.rng.gen_range(20..48));
            if c < t && c > at {
                push_version(&mut vs, c, Change::Cancelled, |v| {
                    v.status = ReservationStatus::Cancelled;
                    v.app_status = Some(AppStatus::CancelledShop);
                });
            }
        }
    } else if online && !checkout {
        let full = demo || ctx.rng.gen_bool(0.4);
        let (kind, amt) = if full {
            ("full", amount)
        } else {
            ("deposit", share(amount, deposit_share, &b.currency))
        };
        match pay(
            ctx,
            PayMethod::CardForm,
            kind,
            amt,
            at,
            true,
            &mut stripe_paid,
        ) {
            Some(p_at) => {
                paid += amt;
                push_version(&mut vs, p_at, Change::Status, |v| {
                    v.status = ReservationStatus::Confirmed;
                    v.app_status = Some(AppStatus::Booked);
                });
            }
            None => {
                // The held slot lapsed: the app soft-deletes it after 20 minutes.
                deleted_at = Some((at + Duration::minutes(20)).min(t));
            }
        }
    } else if checkout {
        // Pay-by-link: the session expires in 24 h in ~15 % of cases (no row).
        let full = ctx.rng.gen_bool(0.4);
        let (kind, amt) = if full {
            ("full", amount)
        } else {
            ("deposit", share(amount, deposit_share, &b.currency))
        };
        let cs_at = at + Duration::minutes(ctx.rng.gen_range(1..180));
        if cs_at < t {
            if ctx.rng.gen_bool(0.15) {
                let cs = format!("cs_live_{}", alnum(&mut ctx.rng, 58));
                let expired = cs_at + Duration::hours(24);
                if expired <= t {
                    ctx.payments.push(Payment {
                        business_id: b.id,
                        customer_id: Some(ci as i64),
                        reservation_id: Some(ri as i64),
                        method: Method::Card,
                        amount: amt,
                        currency: b.currency.clone(),
                        created_at: expired,
                        failed: true,
                        kelpie: Some(Box::new(KelpiePay {
                            method: PayMethod::Checkout,
                            kind: kind.into(),
                            checkout_session: Some(cs),
                            attempts: Vec::new(),
                            no_row: true,
                            receipt_pending: false,
                            card_brand: None,
                            dashboard: None,
                            empty_booking_id: false,
                            started_at: cs_at,
                            receipt_email: ctx.customers[ci].email.clone(),
                        })),
                        ..Default::default()
                    });
                }
            } else if pay(
                ctx,
                PayMethod::Checkout,
                kind,
                amt,
                cs_at,
                false,
                &mut stripe_paid,
            )
            .is_some()
            {
                paid += amt;
            }
        }
    }
    let cur = vs.last().unwrap().clone();
    let booked = cur.app_status == Some(AppStatus::Booked);
    // Staff delete ~0.3 % of unpaid bookings by mistake.
    if deleted_at.is_none() && booked && paid == 0 && ctx.rng.gen_bool(0.003) {
        deleted_at = Some((cur.at + Duration::hours(ctx.rng.gen_range(1..72))).min(t));
    }
    if deleted_at.is_some() || !booked {
        let last = vs.last().unwrap().at;
        push_res(ctx, b, ci, ri, code, &svc, si, at, vs, deleted_at);
        return last;
    }
    // A change of date or party size before the slot (~12 %).
    if ctx.rng.gen_bool(0.12) {
        let lim = cur.starts_at.min(t);
        if lim - cur.at > Duration::hours(3) {
            let c_at = uniform_time(
                &mut ctx.rng,
                cur.at + Duration::minutes(10),
                lim - Duration::hours(2),
            );
            let party = ctx.rng.gen_bool(0.5);
            let shift = if party {
                0
            } else {
                *pick(&mut ctx.rng, &[-2i64, -1, 1, 1, 2, 3, 7])
            };
            let nd = (cur.divers_change(party, &mut ctx.rng)).max(1);
            let (mut ns, mut ne) = (
                cur.starts_at + Duration::days(shift),
                cur.ends_at + Duration::days(shift),
            );
            while ns < c_at + Duration::hours(2) {
                ns += Duration::days(1);
                ne += Duration::days(1);
            }
            push_version(&mut vs, c_at, Change::Changed, |v| {
                v.starts_at = ns;
                v.ends_at = ne;
                v.party_size = nd;
                v.amount = svc.price * nd;
            });
        }
    }
    // Re-priced after payment (~3 %): no mail.
    if paid > 0 && ctx.rng.gen_bool(0.03) {
        let cur = vs.last().unwrap().clone();
        let lim = cur.starts_at.min(t);
        if lim - cur.at > Duration::hours(2) {
            let r_at = uniform_time(
                &mut ctx.rng,
                cur.at + Duration::minutes(5),
                lim - Duration::hours(1),
            );
            let f = *pick(&mut ctx.rng, &[0.9, 0.95, 1.1, 1.15]);
            let na = share(cur.amount, f, &b.currency);
            push_version(&mut vs, r_at, Change::Repriced, |v| v.amount = na);
        }
    }
    let cur = vs.last().unwrap().clone();
    // Cancellation (~9 %) before the slot.
    let lim = cur.starts_at.min(t);
    if ctx.rng.gen_bool(0.09) && lim - cur.at > Duration::minutes(30) {
        let c_at = uniform_time(&mut ctx.rng, cur.at + Duration::minutes(10), lim);
        let why = *pick(
            &mut ctx.rng,
            &[
                AppStatus::CancelledDiver,
                AppStatus::CancelledDiver,
                AppStatus::CancelledWeather,
                AppStatus::CancelledShop,
            ],
        );
        push_version(&mut vs, c_at, Change::Cancelled, |v| {
            v.status = ReservationStatus::Cancelled;
            v.app_status = Some(why);
        });
        for &pi in &stripe_paid {
            let p_amount = ctx.payments[pi].amount;
            let part = match why {
                AppStatus::CancelledDiver => *pick(&mut ctx.rng, &[1.0, 1.0, 0.5, 0.0]),
                _ => 1.0,
            };
            if part > 0.0 {
                let amt = if part >= 1.0 {
                    p_amount
                } else {
                    share(p_amount, part, &b.currency).min(p_amount)
                };
                let r_at = (c_at + Duration::minutes(ctx.rng.gen_range(1..2880))).min(t);
                add_refund(ctx, pi, r_at, amt);
            }
        }
        let last = vs.last().unwrap().at;
        push_res(ctx, b, ci, ri, code, &svc, si, at, vs, None);
        return last;
    }
    // The trip.
    let mut last = cur.at;
    if cur.starts_at <= t {
        let no_show = ctx.rng.gen_bool(0.02);
        let checked_in = !no_show && ctx.rng.gen_bool(0.75);
        let shows = !no_show;
        if no_show {
            let n_at = cur.ends_at + Duration::hours(2);
            if n_at <= t {
                push_version(&mut vs, n_at, Change::NoShow, |v| {
                    v.status = ReservationStatus::NoShow;
                    v.app_status = Some(AppStatus::NoShow);
                });
            }
        } else if checked_in {
            let c_at = cur.starts_at - Duration::minutes(ctx.rng.gen_range(15..45));
            push_version(&mut vs, c_at.max(cur.at), Change::Status, |v| {
                v.app_status = Some(AppStatus::CheckedIn)
            });
            let d_at = next_3am(cur.ends_at, tz);
            if d_at <= t {
                push_version(&mut vs, d_at, Change::Completed, |v| {
                    v.status = ReservationStatus::Completed;
                    v.app_status = Some(AppStatus::Done);
                });
            }
        } else if cur.ends_at <= t {
            push_version(&mut vs, cur.ends_at, Change::SlotEnded, |v| {
                v.status = ReservationStatus::Completed
            });
        }
        // On-site payment of what is left (balance or full), and extras.
        if shows && !demo {
            let due = cur.amount - paid;
            let p_at = cur.starts_at - Duration::minutes(ctx.rng.gen_range(5..40));
            let record = checked_in || ctx.rng.gen_bool(0.6);
            if due > 0 && record && p_at <= t {
                let kind = if paid > 0 { "balance" } else { "full" };
                let x: f64 = ctx.rng.gen();
                if stripe && x < 0.35 {
                    pay(
                        ctx,
                        PayMethod::CardForm,
                        kind,
                        due,
                        p_at,
                        false,
                        &mut stripe_paid,
                    );
                } else {
                    let m = if x < 0.82 {
                        PayMethod::Cash
                    } else if x < 0.92 {
                        PayMethod::BankTransfer
                    } else {
                        PayMethod::Voucher
                    };
                    ctx.manual_payment(b, ci, ri, m, kind, due, p_at);
                }
            }
            if ctx.rng.gen_bool(0.08) {
                let (_, eur) = *pick(&mut ctx.rng, EXTRAS);
                let x_at = cur.ends_at - Duration::minutes(10);
                if x_at <= t {
                    let amt = price_in(eur as f64, &b.currency);
                    if stripe && ctx.rng.gen_bool(0.5) {
                        pay(
                            ctx,
                            PayMethod::CardForm,
                            "extra",
                            amt,
                            x_at,
                            false,
                            &mut stripe_paid,
                        );
                    } else {
                        ctx.manual_payment(b, ci, ri, PayMethod::Cash, "extra", amt, x_at);
                    }
                }
            }
        }
        last = vs.last().unwrap().at;
        // Goodwill partial refunds, disputes.
        for &pi in &stripe_paid {
            let p = &ctx.payments[pi];
            let (p_amount, p_at) = (p.amount, p.created_at);
            let x: f64 = ctx.rng.gen();
            if demo {
                if x < 0.8 {
                    let r_at = (p_at + Duration::days(ctx.rng.gen_range(0..5))).min(t);
                    add_refund(ctx, pi, r_at, p_amount);
                }
            } else if x < 0.045 {
                let r_at = (cur.ends_at + Duration::days(ctx.rng.gen_range(1..20))).min(t);
                if r_at > p_at {
                    let amt = if x < 0.02 {
                        p_amount
                    } else {
                        share(p_amount, 0.3, &b.currency).min(p_amount)
                    };
                    add_refund(ctx, pi, r_at, amt);
                }
            } else if x < 0.05 && ctx.payments[pi].refunds.is_empty() {
                let d_at = p_at + Duration::days(ctx.rng.gen_range(10..60));
                if d_at <= t {
                    let close = d_at + Duration::days(ctx.rng.gen_range(30..75));
                    let closed = (close <= t).then(|| (close, ctx.rng.gen_bool(0.4)));
                    let id = format!("du_1{}", alnum(&mut ctx.rng, 23));
                    ctx.payments[pi].dispute = Some(Dispute {
                        id,
                        at: d_at,
                        closed,
                    });
                }
            }
        }
    }
    push_res(ctx, b, ci, ri, code, &svc, si, at, vs, None);
    last
}

trait DiversChange {
    fn divers_change(&self, party: bool, rng: &mut ChaCha8Rng) -> i64;
}
impl DiversChange for ReservationVersion {
    fn divers_change(&self, party: bool, rng: &mut ChaCha8Rng) -> i64 {
        if party {
            self.party_size + *pick(rng, &[-1i64, 1, 1, 2])
        } else {
            self.party_size
        }
    }
}

fn add_refund(ctx: &mut Ctx, pi: usize, at: Timestamp, amount: i64) {
    let left = ctx.payments[pi].amount
        - ctx.payments[pi]
            .refunds
            .iter()
            .map(|r| r.amount)
            .sum::<i64>();
    let amount = amount.min(left);
    if amount <= 0 || at < ctx.payments[pi].created_at {
        return;
    }
    let by_dashboard = ctx.rng.gen_bool(0.3);
    let (a, z) = webhook_outage();
    let id = format!("re_3{}", alnum(&mut ctx.rng, 23));
    ctx.payments[pi].refunds.push(Refund {
        id,
        at,
        amount,
        not_in_app: by_dashboard && at >= a && at < z,
        by_dashboard,
    });
}

#[allow(clippy::too_many_arguments)]
fn push_res(
    ctx: &mut Ctx,
    b: &Business,
    ci: usize,
    ri: usize,
    code: String,
    svc: &Service,
    si: usize,
    at: Timestamp,
    vs: Vec<ReservationVersion>,
    deleted_at: Option<Timestamp>,
) {
    debug_assert_eq!(ri, ctx.reservations.len());
    ctx.reservations.push(Reservation {
        id: ri as i64,
        business_id: b.id,
        customer_id: ci as i64,
        reference: code,
        service: svc.name.clone(),
        created_at: at,
        versions: vs,
        deleted_at,
        service_id: Some(si as i64),
    });
}

#[cfg(test)]
mod tests;
