//! Pedalry, the bike-rental sample app (docs/trials/brief-2.md): its true world and, in the
//! submodules, its wreckage (`backup`: the pg_dump of 2025-03-12; `stripe`: a Connect
//! platform with Express accounts whose destination charges, customers, refunds and
//! disputes all live on the platform; `mail`: the app's plain-text mails from
//! `no-reply@<slug>.pedalry.app`).
//!
//! The world keeps the full history from 2023-01-01 to the incident (2025-06-10): shops
//! (some archived, some sandboxes, two sandboxes created after the backup), display names
//! edited over time, riders re-registered as duplicates, soft-deleted riders, bookings with
//! the app's states (`hold`, `lapsed`, `booked`, `out`, `returned`, `cancelled`, `no_show`),
//! card payments with declines on the same intent, new intents after a lapsed hold, cash at
//! the shop, several (partial) refunds per charge, disputes.
//!
//! Kelpie's world extensions are reused: [`KelpiePay`] carries a card payment's intent
//! start, its declined attempts and whether the app has a row; its `kind` says what the app
//! stored (`ch` before the 2024-03-01 cut-over, `pi` after). [`AppStatus`] carries the
//! booking state (see [`state_word`]).
//!
//! Volumes at 40 shops are the brief's (~3,000 riders, ~9,000 bookings); above 200 shops
//! each shop is a third as busy so that 1,600 shops generate in reasonable time.
//!
//! Deterministic: one `ChaCha8Rng` from the seed, consumed in a fixed order.

pub mod backup;
pub mod mail;
pub mod stripe;

use super::simulate::{alnum, digits, phone, pick, serial_ids, uniform_time, Density, FIRST, LAST};
use super::world::{
    AppStatus, Attempt, Business, Change, Customer, Dispute, Flavour, FormerName, KelpiePay,
    Method, PayMethod, Payment, Refund, Reservation, ReservationStatus, ReservationVersion, World,
};
use crate::util::time::{local_to_utc, Timestamp};
use chrono::{Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// The incident: 2025-06-10T08:42:00Z.
pub fn incident_at() -> Timestamp {
    utc(2025, 6, 10, 8, 42)
}
/// The surviving pg_dump: 2025-03-12 03:00 UTC.
pub fn backup_at() -> Timestamp {
    utc(2025, 3, 12, 3, 0)
}
/// Pedalry's first shops.
pub fn history_start() -> Timestamp {
    utc(2023, 1, 1, 0, 0)
}
/// Rows created before this have `currency IS NULL` (the business's default).
pub fn currency_since() -> Timestamp {
    utc(2023, 7, 1, 0, 0)
}
/// Metadata era B (`pedalry_booking_id`, ...) for intents created from this time on.
pub fn era_b() -> Timestamp {
    utc(2023, 9, 15, 0, 0)
}
/// From this time on the app stores the `pi_` (before: the `ch_`) and keeps declined rows.
pub fn cutover() -> Timestamp {
    utc(2024, 3, 1, 0, 0)
}
/// Mail relay outage: nothing archived in these days.
pub fn relay_outage() -> (Timestamp, Timestamp) {
    (utc(2024, 11, 4, 0, 0), utc(2024, 11, 18, 0, 0))
}
/// A hold lapses this long after creation.
fn hold_minutes() -> i64 {
    30
}

/// The app's `bookings.state` for a version's status word. Kelpie's [`AppStatus`] is reused:
/// `Held` = `hold`, `Waitlist` = `lapsed`, `Booked` = `booked`, `CheckedIn` = `out`,
/// `Done` = `returned`, `NoShow` = `no_show`, the cancellations = `cancelled`.
pub fn state_word(a: Option<AppStatus>) -> &'static str {
    match a {
        Some(AppStatus::Held) => "hold",
        Some(AppStatus::Waitlist) => "lapsed",
        Some(AppStatus::Booked) | None => "booked",
        Some(AppStatus::CheckedIn) => "out",
        Some(AppStatus::Done) => "returned",
        Some(AppStatus::NoShow) => "no_show",
        Some(
            AppStatus::CancelledDiver | AppStatus::CancelledShop | AppStatus::CancelledWeather,
        ) => "cancelled",
    }
}

/// When a card payment's charge succeeded (or its last decline, when none did).
pub fn charge_at(k: &KelpiePay) -> Timestamp {
    match k.attempts.last() {
        Some(a) => a.at + Duration::seconds(55),
        None => k.started_at + Duration::seconds(25),
    }
}

/// Does the app store the charge id (`ch_`, before the cut-over) rather than the intent's?
pub fn stores_charge(p: &Payment) -> bool {
    p.kelpie.as_ref().is_some_and(|k| k.kind == "ch")
}

/// The app's `payments.state` at `t`.
pub fn pay_state(p: &Payment, t: Timestamp) -> &'static str {
    if p.failed {
        return "declined";
    }
    if p.dispute.as_ref().is_some_and(|d| d.at <= t) {
        return "chargeback";
    }
    if p.method == Method::Card && p.kelpie.as_ref().is_some_and(|k| charge_at(k) > t) {
        return "processing";
    }
    let r = super::world::amount_refunded(p, t);
    if r >= p.amount && p.amount > 0 {
        "refunded"
    } else if r > 0 {
        "part_refunded"
    } else {
        "paid"
    }
}

/// The contract's payment status at `t` (a dispute counts whatever its outcome).
pub fn contract_pay_status(p: &Payment, t: Timestamp) -> &'static str {
    match pay_state(p, t) {
        "declined" => "failed",
        "chargeback" => "disputed",
        "processing" => "pending",
        "refunded" => "refunded",
        "part_refunded" => "partially_refunded",
        _ => "succeeded",
    }
}

/// A small stable hash (FNV-1a) of a text, for per-row decisions shared by renderers.
pub(crate) fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The reschedule path forgets `updated_at` on ~12 % of rescheduled bookings (~1 % of all).
pub fn stale_reschedule(r: &Reservation) -> bool {
    hash(&r.reference) % 8 == 0
}

/// The booking row's `updated_at` at `t`: its last change, except reschedules the buggy
/// path did not stamp.
pub fn updated_at(r: &Reservation, t: Timestamp) -> Option<Timestamp> {
    let stale = stale_reschedule(r);
    r.versions
        .iter()
        .filter(|v| v.at <= t)
        .filter(|v| !(stale && v.change == Change::Changed))
        .map(|v| v.at)
        .max()
}

/// A rider's email as typed into the app (and sent to Stripe): the truth's address with
/// capitals now and then. Deterministic so that every rendering agrees.
pub(crate) fn typed_email(seed: u64, c: &Customer) -> Option<String> {
    let e = c.email.as_deref()?;
    let x = hash(&format!("{seed}:{}:{e}", c.id)) % 100;
    let (local, dom) = e.split_once('@').unwrap_or((e, ""));
    let cap = |s: &str| {
        s.split('.')
            .map(|w| {
                let mut ch = w.chars();
                match ch.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + ch.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(".")
    };
    Some(match x {
        0..=11 => format!("{}@{dom}", cap(local)),
        12..=14 => format!("{}@{}", cap(local), cap(dom)),
        15 => e.to_uppercase(),
        _ => e.to_string(),
    })
}

/// A rider's phone as typed: E.164 with spaces, the national form, or US style.
pub(crate) fn typed_phone(seed: u64, c: &Customer, country: &str) -> Option<String> {
    let p = c.phone.as_deref()?;
    let x = hash(&format!("{seed}:{}:{p}", c.id)) % 10;
    let mut rng = ChaCha8Rng::seed_from_u64(hash(p) ^ seed);
    Some(match x {
        0..=3 => super::backup::typed_phone(&mut rng, p, country),
        4..=6 => {
            // `+351 912 345 678`
            let cut = match country {
                "US" => 2,
                "PT" | "IE" => 4,
                _ => 3,
            };
            let rest = &p[cut.min(p.len())..];
            let groups: Vec<&str> = (0..rest.len())
                .step_by(3)
                .map(|i| &rest[i..(i + 3).min(rest.len())])
                .collect();
            format!("{} {}", &p[..cut.min(p.len())], groups.join(" "))
        }
        _ => p.to_string(),
    })
}

struct Place {
    zone: &'static str,
    country: &'static str,
    currency: &'static str,
    towns: &'static [&'static str],
    weight: u32,
}

const PLACES: &[Place] = &[
    Place {
        zone: "Europe/Lisbon",
        country: "PT",
        currency: "eur",
        towns: &["Lisbon", "Porto", "Sintra", "Cascais", "Lagos"],
        weight: 8,
    },
    Place {
        zone: "Europe/Amsterdam",
        country: "NL",
        currency: "eur",
        towns: &["Amsterdam", "Utrecht", "Haarlem"],
        weight: 5,
    },
    Place {
        zone: "Europe/Berlin",
        country: "DE",
        currency: "eur",
        towns: &["Berlin", "Hamburg", "Munich"],
        weight: 4,
    },
    Place {
        zone: "Europe/Madrid",
        country: "ES",
        currency: "eur",
        towns: &["Barcelona", "Valencia", "Seville", "Mallorca"],
        weight: 5,
    },
    Place {
        zone: "Europe/Paris",
        country: "FR",
        currency: "eur",
        towns: &["Paris", "Lyon", "Annecy"],
        weight: 3,
    },
    Place {
        zone: "Europe/Dublin",
        country: "IE",
        currency: "eur",
        towns: &["Dublin", "Galway"],
        weight: 2,
    },
    Place {
        zone: "Europe/London",
        country: "GB",
        currency: "gbp",
        towns: &[
            "London",
            "Bristol",
            "Edinburgh",
            "Cambridge",
            "Peak District",
        ],
        weight: 7,
    },
    Place {
        zone: "America/Los_Angeles",
        country: "US",
        currency: "usd",
        towns: &["San Francisco", "Portland", "Santa Cruz", "Seattle"],
        weight: 5,
    },
    Place {
        zone: "America/New_York",
        country: "US",
        currency: "usd",
        towns: &["New York", "Boston", "Burlington"],
        weight: 3,
    },
    Place {
        zone: "America/Denver",
        country: "US",
        currency: "usd",
        towns: &["Denver", "Moab", "Boulder"],
        weight: 3,
    },
];

/// Shop names: the first two are shared by several shops on purpose ("City Bikes" x3).
const SHOP_NAMES: &[&str] = &[
    "City Bikes",
    "Ride On",
    "Pedal Power",
    "Spoke & Chain",
    "Gravel Garage",
    "E-Ride Rentals",
    "Two Wheels",
    "Cycle Hub",
    "Freewheel",
    "Crank Works",
    "Velo Loca",
    "Hill Climbers",
    "Coastline Cycles",
    "Urban Pedals",
    "Green Wheels",
    "Trail Tribe",
    "Bike Box",
    "Sunday Riders",
];
const RENAMED: &[&str] = &["Bikes & Co", "Rolling", "Wheelhouse", "Ride Local"];
/// Sandbox tenants: (name, slug). Most slugs end in `-demo`, not all.
const SANDBOXES: &[(&str, &str)] = &[
    ("Pedalry Demo", "pedalry-demo"),
    ("Sales Demo Shop", "sales-demo"),
    ("QA Bikes", "qa-bikes"),
    ("Acme Bike Rental (demo)", "acme-demo"),
    ("Test Shop Lisbon", "test-shop-lisbon"),
    ("Onboarding Demo", "onboarding-demo"),
    ("Staging Bikes", "staging-bikes-demo"),
];

/// (bike model, EUR per bike per day).
const MODELS: &[(&str, i64)] = &[
    ("City bike", 18),
    ("City e-bike", 45),
    ("Gravel 54cm", 35),
    ("Gravel 56cm", 35),
    ("Road bike 56cm", 40),
    ("Mountain bike M", 38),
    ("E-MTB L", 60),
    ("Cargo e-bike", 65),
    ("Tandem", 40),
    ("Kids bike 20in", 12),
];

fn price_in(eur: f64, cur: &str) -> i64 {
    match cur {
        "usd" => (eur * 1.1).round() as i64 * 100,
        "gbp" => (eur * 0.86).round() as i64 * 100,
        _ => eur.round() as i64 * 100,
    }
}

/// A share of `minor`, rounded to whole units.
fn share(minor: i64, f: f64) -> i64 {
    (((minor as f64 * f) / 100.0).round() as i64).max(1) * 100
}

/// `City Bikes Lisbon` -> `city-bikes-lisbon` (at most 30 characters).
fn slug_of(s: &str) -> String {
    let mut out = super::kelpie::slugify(s);
    out.truncate(30);
    out.trim_end_matches('-').to_string()
}

/// `PD-` + 6 Crockford base32 characters, unique.
fn booking_code(rng: &mut ChaCha8Rng, used: &mut BTreeSet<String>) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    loop {
        let s: String = (0..6)
            .map(|_| A[rng.gen_range(0..A.len())] as char)
            .collect();
        let code = format!("PD-{s}");
        if used.insert(code.clone()) {
            return code;
        }
    }
}

fn rider_email(rng: &mut ChaCha8Rng, first: &str, last: &str, sandbox: bool) -> String {
    if sandbox {
        return if rng.gen_bool(0.3) {
            format!("{first}@pedalry.app")
        } else {
            format!("{first}.{last}{}@example.com", rng.gen_range(1..99))
        };
    }
    let domain = *pick(
        rng,
        &[
            "gmail.com",
            "gmail.com",
            "gmail.com",
            "outlook.com",
            "yahoo.com",
            "icloud.com",
            "hotmail.com",
            "proton.me",
            "sapo.pt",
            "web.de",
        ],
    );
    match rng.gen_range(0..5) {
        0 | 1 => format!("{first}.{last}@{domain}"),
        2 => format!("{first}{last}{}@{domain}", rng.gen_range(1..100)),
        3 => format!("{}{last}@{domain}", first.chars().next().unwrap_or('x')),
        _ => format!("{first}_{}@{domain}", rng.gen_range(70..100)),
    }
}

/// A re-registration's address: other case (same once lowercased), gmail dots, or a typo.
fn dup_email(rng: &mut ChaCha8Rng, e: &str) -> String {
    let (local, dom) = e.split_once('@').unwrap_or((e, ""));
    match rng.gen_range(0..3) {
        0 if dom == "gmail.com" => {
            let l: String = if local.contains('.') {
                local.replace('.', "")
            } else {
                let mid = local.len() / 2;
                format!("{}.{}", &local[..mid], &local[mid..])
            };
            format!("{l}@{dom}")
        }
        1 => e
            .replacen("@gmail.", "@gmial.", 1)
            .replacen("@outlook.", "@outlok.", 1),
        _ => e.to_string(),
    }
}

fn name_typo(rng: &mut ChaCha8Rng, name: &str) -> String {
    match rng.gen_range(0..3) {
        0 => name.to_lowercase(),
        1 => name.to_uppercase(),
        _ => {
            let mut cs: Vec<char> = name.chars().collect();
            if cs.len() > 3 {
                let i = rng.gen_range(1..cs.len() - 1);
                cs.swap(i, i + 1);
            }
            cs.into_iter().collect()
        }
    }
}

fn card_brand(rng: &mut ChaCha8Rng) -> &'static str {
    const BRANDS: [&str; 6] = ["visa", "visa", "visa", "mastercard", "mastercard", "amex"];
    BRANDS[rng.gen_range(0..BRANDS.len())]
}

struct Shop {
    biz: Business,
    tz: Tz,
    /// When bookings stop (archived, or the incident).
    end: Timestamp,
    /// Bikes this shop rents.
    models: Vec<usize>,
    /// How busy: customers per shop.
    riders: usize,
}

struct Ctx {
    rng: ChaCha8Rng,
    density: Density,
    incident: Timestamp,
    customers: Vec<Customer>,
    reservations: Vec<Reservation>,
    payments: Vec<Payment>,
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

impl Ctx {
    fn id(&mut self, prefix: &str) -> String {
        format!("{prefix}_3{}", alnum(&mut self.rng, 23))
    }

    /// A card payment for booking `ri` on a PaymentIntent created at `start` with
    /// `declines` declined charges first; `succeed` says whether a charge finally went
    /// through. Returns the success time. Nothing is recorded when the intent's last charge
    /// comes after the incident.
    #[allow(clippy::too_many_arguments)]
    fn card(
        &mut self,
        b: &Business,
        ci: usize,
        ri: usize,
        amount: i64,
        start: Timestamp,
        declines: usize,
        succeed: bool,
    ) -> Option<Timestamp> {
        let legacy = start < cutover();
        let last4 = digits(&mut self.rng, 4);
        let brand = card_brand(&mut self.rng);
        let mut at = start + Duration::seconds(self.rng.gen_range(20..120));
        let mut attempts = Vec::new();
        for _ in 0..declines {
            let code = pick(
                &mut self.rng,
                &[
                    "generic_decline",
                    "insufficient_funds",
                    "do_not_honor",
                    "expired_card",
                ],
            )
            .to_string();
            let l4 = if self.rng.gen_bool(0.4) {
                digits(&mut self.rng, 4)
            } else {
                last4.clone()
            };
            attempts.push(Attempt {
                charge_id: self.id("ch"),
                at,
                decline_code: code,
                last4: l4,
            });
            at += Duration::seconds(self.rng.gen_range(30..240));
        }
        let mut k = KelpiePay {
            method: PayMethod::CardForm,
            kind: if legacy { "ch" } else { "pi" }.into(),
            checkout_session: None,
            attempts,
            no_row: legacy && !succeed,
            receipt_pending: false,
            card_brand: Some(brand.into()),
            dashboard: None,
            empty_booking_id: false,
            started_at: start,
            receipt_email: None,
        };
        let fin = if succeed {
            charge_at(&k)
        } else {
            k.attempts.last().map(|a| a.at).unwrap_or(start)
        };
        if fin > self.incident {
            return None;
        }
        if self.customers[ci].stripe_customer.is_none() && !b.is_demo {
            let id = format!("cus_{}", alnum(&mut self.rng, 14));
            self.customers[ci].stripe_customer = Some(id);
        }
        k.receipt_email = self.customers[ci].email.clone();
        let md_missing = !b.is_demo && self.rng.gen_bool(0.04);
        let pi = self.id("pi");
        let ch = succeed.then(|| self.id("ch"));
        let receipt =
            succeed.then(|| format!("{}-{}", digits(&mut self.rng, 4), digits(&mut self.rng, 4)));
        self.payments.push(Payment {
            id: 0,
            business_id: b.id,
            customer_id: Some(ci as i64),
            reservation_id: Some(ri as i64),
            method: Method::Card,
            charge_id: ch,
            payment_intent: Some(pi),
            amount,
            currency: b.currency.clone(),
            created_at: if legacy { fin } else { start },
            failed: !succeed,
            refunds: Vec::new(),
            dispute: None,
            receipt_number: receipt,
            card_last4: Some(last4),
            metadata_missing: md_missing,
            kelpie: Some(Box::new(k)),
        });
        succeed.then_some(fin)
    }

    fn cash(&mut self, b: &Business, ci: usize, ri: usize, amount: i64, at: Timestamp) {
        self.payments.push(Payment {
            business_id: b.id,
            customer_id: Some(ci as i64),
            reservation_id: Some(ri as i64),
            method: Method::Cash,
            amount,
            currency: b.currency.clone(),
            created_at: at,
            kelpie: Some(Box::new(KelpiePay {
                method: PayMethod::Cash,
                kind: "cash".into(),
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

    fn refund(&mut self, pi: usize, at: Timestamp, amount: i64) {
        let p = &self.payments[pi];
        let left = p.amount - p.refunds.iter().map(|r| r.amount).sum::<i64>();
        let amount = amount.min(left);
        let after = p
            .kelpie
            .as_ref()
            .map(|k| charge_at(k))
            .unwrap_or(p.created_at);
        let at = at.max(after + Duration::minutes(5));
        if amount <= 0 || at > self.incident || p.failed || p.method != Method::Card {
            return;
        }
        let id = format!("re_3{}", alnum(&mut self.rng, 23));
        let by_dashboard = self.rng.gen_bool(0.2);
        self.payments[pi].refunds.push(Refund {
            id,
            at,
            amount,
            not_in_app: false,
            by_dashboard,
        });
    }
}

/// A deterministic pedalry world of `businesses` tenants (sandboxes included).
pub fn simulate(businesses: usize, seed: u64) -> World {
    simulate_at(businesses, seed, Density::Current)
}

/// Mission density: customers per shop against the current density.
const MISSION_CUSTOMERS: f64 = 1.2;

/// The world of `businesses` shops at `density` (without the common habits: see
/// [`super::simulate::simulate_at`]).
pub fn simulate_at(businesses: usize, seed: u64, density: Density) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0070_6564_616c_7279);
    let incident = incident_at();
    let backup = backup_at();
    let start = history_start();
    let total: u32 = PLACES.iter().map(|p| p.weight).sum();
    // 4 sandboxes and 3 archived shops in 40: ~10 % and ~7.5 %.
    let n_sandbox = if businesses >= 5 {
        ((businesses as f64 * 0.1).round() as usize).max(2)
    } else {
        0
    };
    let n_archived = if businesses >= 5 {
        ((businesses as f64 * 0.075).round() as usize).max(1)
    } else {
        0
    };
    let mut order: Vec<usize> = (0..businesses).collect();
    for i in (1..order.len()).rev() {
        let j = rng.gen_range(0..=i);
        order.swap(i, j);
    }
    let sandbox_idx: BTreeSet<usize> = order.iter().take(n_sandbox).copied().collect();
    let archived_idx: BTreeSet<usize> = order
        .iter()
        .skip(n_sandbox)
        .take(n_archived)
        .copied()
        .collect();
    let busy = if businesses > 200 { 0.33 } else { 1.0 };
    let mut slugs = BTreeSet::new();
    let mut shops = Vec::with_capacity(businesses);
    let mut n_sb = 0;
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
        let sandbox = sandbox_idx.contains(&i);
        let archived = archived_idx.contains(&i);
        let created_at = if sandbox && n_sb < 2 {
            // Two sandboxes were created after the backup: they appear only in mail.
            uniform_time(
                &mut rng,
                backup + Duration::days(2),
                incident - Duration::days(20),
            )
        } else if archived {
            uniform_time(&mut rng, start, utc(2023, 10, 1, 0, 0))
        } else if rng.gen_bool(0.4) {
            uniform_time(&mut rng, start, start + Duration::days(45))
        } else {
            uniform_time(&mut rng, start, incident - Duration::days(60))
        };
        let (name, slug_base, email) = if sandbox {
            let (n, s) = SANDBOXES[n_sb % SANDBOXES.len()];
            let staff = *pick(&mut rng, &["sales", "ana", "qa", "support", "miguel"]);
            (n.to_string(), s.to_string(), format!("{staff}@pedalry.app"))
        } else {
            let base = if rng.gen_bool(0.15) {
                SHOP_NAMES[rng.gen_range(0..2)]
            } else {
                *pick(&mut rng, SHOP_NAMES)
            };
            let with_town = rng.gen_bool(0.4);
            let name = if with_town {
                format!("{base} {town}")
            } else {
                base.to_string()
            };
            let slug = slug_of(&format!("{base} {town}"));
            let compact: String = slug.chars().filter(|c| *c != '-').collect();
            let email = match rng.gen_range(0..4) {
                0 => format!("hello@{compact}.com"),
                1 => format!("rentals@{compact}.com"),
                2 => format!("{compact}@gmail.com"),
                _ => format!("info@{slug}.bike"),
            };
            (name, slug, email)
        };
        if sandbox {
            n_sb += 1;
        }
        let mut slug = slug_base.clone();
        let mut n = 1;
        while !slugs.insert(slug.clone()) {
            n += 1;
            let mut b = slug_base.clone();
            b.truncate(27);
            slug = format!("{}-{n}", b.trim_end_matches('-'));
        }
        let stripe_account = (!sandbox).then(|| format!("acct_1{}", alnum(&mut rng, 15)));
        let mut biz = Business {
            id: 0,
            name,
            email,
            timezone: place.zone.to_string(),
            currency: if sandbox { "eur" } else { place.currency }.to_string(),
            country: place.country.to_string(),
            stripe_account,
            created_at,
            slug,
            town: town.to_string(),
            locale: "en".into(),
            app_status: if archived { "archived" } else { "active" }.into(),
            is_demo: sandbox,
            ..Default::default()
        };
        let mut end = incident;
        if archived {
            let a = uniform_time(
                &mut rng,
                created_at + Duration::days(200),
                incident - Duration::days(30),
            );
            biz.cancelled_at = Some(a);
            end = a;
        }
        // ~8 % edited their display name once (a few after the backup).
        if !sandbox && end - created_at > Duration::days(150) && rng.gen_bool(0.08) {
            let until = uniform_time(
                &mut rng,
                created_at + Duration::days(60),
                end - Duration::days(20),
            );
            let old = std::mem::take(&mut biz.name);
            let new = format!("{} {town}", pick(&mut rng, RENAMED));
            biz.name = if new == old {
                format!("{old} Bikes")
            } else {
                new
            };
            biz.former_names.push(FormerName { name: old, until });
        }
        // Stripe's business_profile.name: the display name at onboarding.
        if biz.stripe_account.is_some() && !biz.former_names.is_empty() {
            biz.stripe_profile_name = Some(biz.name_at(created_at).to_string());
        }
        let mut models: Vec<usize> = (0..MODELS.len()).filter(|_| rng.gen_bool(0.45)).collect();
        if models.is_empty() {
            models.push(1);
        }
        let riders = if sandbox {
            rng.gen_range(4..=10)
        } else {
            density.customers(
                ((rng.gen_range(40..=110) as f64) * busy).round().max(3.0) as usize,
                MISSION_CUSTOMERS,
            )
        };
        shops.push(Shop {
            biz,
            tz,
            end,
            models,
            riders,
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
        codes: BTreeSet::new(),
    };
    for shop in &shops {
        simulate_shop(&mut ctx, shop);
    }
    let Ctx {
        mut customers,
        mut reservations,
        mut payments,
        ..
    } = ctx;
    let cust_map = serial_ids(customers.iter().map(|c| c.created_at));
    let res_map = serial_ids(reservations.iter().map(|r| r.created_at));
    for c in &mut customers {
        c.id = cust_map[c.id as usize];
    }
    customers.sort_by_key(|c| c.id);
    for r in &mut reservations {
        r.id = res_map[r.id as usize];
        r.customer_id = cust_map[r.customer_id as usize];
    }
    reservations.sort_by_key(|r| r.id);
    let rows: Vec<(usize, Timestamp)> = payments
        .iter()
        .enumerate()
        .filter(|(_, p)| p.has_row())
        .map(|(i, p)| (i, p.created_at))
        .collect();
    let pay_map = serial_ids(rows.iter().map(|x| x.1));
    for (k, (i, _)) in rows.iter().enumerate() {
        payments[*i].id = pay_map[k];
    }
    let mut neg = 0;
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
        flavour: Flavour::Pedalry,
        incident_at: incident,
        backup_at: backup,
        businesses: shops.into_iter().map(|s| s.biz).collect(),
        customers,
        reservations,
        payments,
        services: Vec::new(),
        zenda: None,
    }
}

fn simulate_shop(ctx: &mut Ctx, shop: &Shop) {
    let b = &shop.biz;
    let t = ctx.incident;
    let sandbox = b.is_demo;
    let first_day = b.created_at + Duration::hours(6);
    let last_day = shop.end - Duration::days(1);
    if last_day <= first_day {
        return;
    }
    let mut emails = BTreeSet::new();
    for _ in 0..shop.riders {
        let created = uniform_time(&mut ctx.rng, first_day, last_day);
        let f = *pick(&mut ctx.rng, FIRST);
        let l = *pick(&mut ctx.rng, LAST);
        let (first, last) = (
            super::simulate::ascii_fold(f),
            super::simulate::ascii_fold(l),
        );
        let name = if ctx.rng.gen_bool(0.03) {
            name_typo(&mut ctx.rng, &format!("{f} {l}"))
        } else {
            format!("{f} {l}")
        };
        let mut email = rider_email(&mut ctx.rng, &first, &last, sandbox);
        while !emails.insert(email.clone()) {
            email = format!("{}{email}", ctx.rng.gen_range(1..10));
        }
        let home = if ctx.rng.gen_bool(0.7) {
            b.country.clone()
        } else {
            pick(&mut ctx.rng, &["GB", "DE", "US", "NL", "FR", "ES"]).to_string()
        };
        let phone_no = ctx.rng.gen_bool(0.75).then(|| phone(&mut ctx.rng, &home));
        let ci = ctx.customers.len();
        ctx.customers.push(Customer {
            id: ci as i64,
            business_id: b.id,
            name: name.clone(),
            email: Some(email.clone()),
            phone: phone_no.clone(),
            created_at: created,
            home_country: home.clone(),
            ..Default::default()
        });
        let n_book = match ctx.density {
            Density::Current => *pick(&mut ctx.rng, &[1, 1, 2, 2, 3, 3, 3, 4, 5, 6]),
            Density::Mission => *pick(&mut ctx.rng, &[1, 1, 2, 2, 3, 3]),
        };
        let mut last_activity = created;
        for k in 0..n_book {
            let at = if k == 0 {
                created
            } else {
                uniform_time(&mut ctx.rng, created, shop.end - Duration::minutes(30))
            };
            last_activity = last_activity.max(booking(ctx, shop, ci, at));
        }
        // ~6 %: the same rider registers again (other case, gmail dots, a typo).
        if !sandbox && ctx.rng.gen_bool(0.06) {
            let d_created = uniform_time(
                &mut ctx.rng,
                created + Duration::days(1),
                shop.end.max(created + Duration::days(2)),
            );
            if d_created < shop.end - Duration::hours(2) {
                let de = dup_email(&mut ctx.rng, &email);
                let de = if emails.insert(de.clone()) {
                    de
                } else {
                    de.clone()
                };
                let dn = if ctx.rng.gen_bool(0.3) {
                    name_typo(&mut ctx.rng, &name)
                } else {
                    name.clone()
                };
                let di = ctx.customers.len();
                ctx.customers.push(Customer {
                    id: di as i64,
                    business_id: b.id,
                    name: dn,
                    email: Some(de),
                    phone: if ctx.rng.gen_bool(0.6) {
                        phone_no.clone()
                    } else {
                        None
                    },
                    created_at: d_created,
                    home_country: home.clone(),
                    ..Default::default()
                });
                let n = ctx.rng.gen_range(1..=2);
                for k in 0..n {
                    let at = if k == 0 {
                        d_created
                    } else {
                        uniform_time(&mut ctx.rng, d_created, shop.end - Duration::minutes(30))
                    };
                    booking(ctx, shop, di, at);
                }
            }
        }
        // ~3 % soft-deleted later (row and bookings kept).
        if ctx.rng.gen_bool(0.03) {
            let d = last_activity + Duration::days(ctx.rng.gen_range(3..200));
            if d < t {
                ctx.customers[ci].deleted_at = Some(d);
            }
        }
    }
}

fn pickup_slot(
    rng: &mut ChaCha8Rng,
    tz: Tz,
    at: Timestamp,
    end: Timestamp,
) -> (Timestamp, Timestamp) {
    let lead = match rng.gen_range(0..10) {
        0..=2 => rng.gen_range(0..3),
        3..=7 => rng.gen_range(3..21),
        _ => rng.gen_range(21..60),
    };
    let (h, m) = *pick(rng, &[(9, 0), (9, 30), (10, 0), (10, 0), (11, 0), (14, 0)]);
    let mut day = at.with_timezone(&tz).date_naive() + Duration::days(lead);
    let mk = |d: chrono::NaiveDate| {
        local_to_utc(
            d.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap()),
            Some(tz),
        )
    };
    let mut s = mk(day);
    while s < at + Duration::hours(1) {
        day += Duration::days(1);
        s = mk(day);
    }
    let _ = end;
    let e = match rng.gen_range(0..10) {
        0..=2 => s + Duration::hours(4),
        3..=7 => {
            let ret = local_to_utc(day.and_hms_opt(18, 0, 0).unwrap(), Some(tz));
            if ret > s + Duration::hours(2) {
                ret
            } else {
                s + Duration::hours(8)
            }
        }
        _ => s + Duration::days(rng.gen_range(2..6)),
    };
    (s, e)
}

/// Price of `bikes` x `model` for the slot, with add-ons now and then.
fn quote(
    rng: &mut ChaCha8Rng,
    eur_day: i64,
    bikes: i64,
    s: Timestamp,
    e: Timestamp,
    cur: &str,
) -> i64 {
    let hours = (e - s).num_hours().max(1);
    let days = if hours <= 4 {
        0.6
    } else if hours <= 12 {
        1.0
    } else {
        (hours as f64 / 24.0).ceil() * 0.85
    };
    let addons = if rng.gen_bool(0.3) { 5.0 } else { 0.0 };
    price_in((eur_day as f64 * days + addons) * bikes as f64, cur)
}

/// One booking by customer `ci` created at `at`, with its payments. Returns the time of its
/// last event.
fn booking(ctx: &mut Ctx, shop: &Shop, ci: usize, at: Timestamp) -> Timestamp {
    let b = &shop.biz;
    let t = ctx.incident;
    let tz = shop.tz;
    let sandbox = b.is_demo;
    let mi = *pick(&mut ctx.rng, &shop.models);
    let (model, eur_day) = MODELS[mi];
    let (s, e) = pickup_slot(&mut ctx.rng, tz, at, shop.end);
    let bikes: i64 = *pick(&mut ctx.rng, &[1, 1, 1, 2, 2, 2, 3, 4]);
    let amount = quote(&mut ctx.rng, eur_day, bikes, s, e, &b.currency);
    let ri = ctx.reservations.len();
    let code = booking_code(&mut ctx.rng, &mut ctx.codes);
    // ~3 %: booked at the shop, paid cash at pick-up.
    let cash = !sandbox && ctx.rng.gen_bool(0.03);
    let mut vs = vec![ReservationVersion {
        at,
        change: Change::Created,
        starts_at: s,
        ends_at: e,
        party_size: bikes,
        status: if cash {
            ReservationStatus::Confirmed
        } else {
            ReservationStatus::Pending
        },
        amount,
        app_status: Some(if cash {
            AppStatus::Booked
        } else {
            AppStatus::Held
        }),
    }];
    let mut card_rows: Vec<usize> = Vec::new();
    let lapse_at = at + Duration::minutes(hold_minutes());
    let lapse = |vs: &mut Vec<ReservationVersion>| {
        if lapse_at <= t {
            push_version(vs, lapse_at, Change::Status, |v| {
                v.status = ReservationStatus::Cancelled;
                v.app_status = Some(AppStatus::Waitlist);
            });
        }
    };
    if !cash {
        // ~3 % of riders leave before paying; ~8 % see a decline.
        let x: f64 = ctx.rng.gen();
        // Discount codes at checkout (~3 %): the rider pays less than the quote.
        let pay_amount = if !sandbox && ctx.rng.gen_bool(0.03) {
            share(amount, 0.9)
        } else {
            amount
        };
        let start = at + Duration::seconds(ctx.rng.gen_range(20..300));
        let booked_at = if x < 0.03 {
            lapse(&mut vs);
            None
        } else if x < 0.11 && !sandbox {
            let declines = ctx.rng.gen_range(1..=2);
            if ctx.rng.gen_bool(0.7) {
                // Retried on the checkout page: same intent, the row flips in place.
                let n = ctx.payments.len();
                let r = ctx.card(b, ci, ri, pay_amount, start, declines, true);
                if ctx.payments.len() > n {
                    card_rows.push(n);
                }
                if r.is_none() {
                    lapse(&mut vs);
                }
                r
            } else {
                ctx.card(b, ci, ri, pay_amount, start, declines, false);
                lapse(&mut vs);
                // The shop re-opens the hold; the rider pays by the "pay now" link: a new
                // intent and a new row.
                if lapse_at < t && ctx.rng.gen_bool(0.45) {
                    let re = lapse_at + Duration::minutes(ctx.rng.gen_range(30..2880));
                    if re + Duration::hours(1) < s && re <= t {
                        push_version(&mut vs, re, Change::Status, |v| {
                            v.status = ReservationStatus::Pending;
                            v.app_status = Some(AppStatus::Held);
                        });
                        let st = re + Duration::minutes(ctx.rng.gen_range(2..240));
                        let n = ctx.payments.len();
                        let r = ctx.card(b, ci, ri, pay_amount, st, 0, true);
                        if ctx.payments.len() > n {
                            card_rows.push(n);
                        }
                        r
                    } else {
                        None
                    }
                } else {
                    None
                }
            }
        } else {
            let n = ctx.payments.len();
            let r = ctx.card(b, ci, ri, pay_amount, start, 0, true);
            if ctx.payments.len() > n {
                card_rows.push(n);
            }
            r
        };
        match booked_at {
            Some(p_at) => push_version(&mut vs, p_at, Change::Status, |v| {
                v.status = ReservationStatus::Confirmed;
                v.app_status = Some(AppStatus::Booked);
            }),
            None => {
                let last = vs.last().unwrap().at;
                push_res(ctx, b, ci, ri, code, model, at, vs);
                return last;
            }
        }
    }
    let cur = vs.last().unwrap().clone();
    // A reschedule before pick-up (~8 %): mailed.
    let lim = cur.starts_at.min(t);
    if ctx.rng.gen_bool(0.08) && lim - cur.at > Duration::hours(4) {
        let c_at = uniform_time(
            &mut ctx.rng,
            cur.at + Duration::minutes(10),
            lim - Duration::hours(3),
        );
        let shift = Duration::days(*pick(&mut ctx.rng, &[-1i64, 1, 1, 2, 7]))
            + Duration::hours(*pick(&mut ctx.rng, &[-1i64, 0, 0, 1]));
        let (mut ns, mut ne) = (cur.starts_at + shift, cur.ends_at + shift);
        while ns < c_at + Duration::hours(2) {
            ns += Duration::days(1);
            ne += Duration::days(1);
        }
        push_version(&mut vs, c_at, Change::Changed, |v| {
            v.starts_at = ns;
            v.ends_at = ne;
        });
    }
    // One bike of several cancelled before pick-up (~4 %): a partial refund, no mail.
    let cur = vs.last().unwrap().clone();
    let lim = cur.starts_at.min(t);
    if cur.party_size >= 2 && ctx.rng.gen_bool(0.04) && lim - cur.at > Duration::hours(2) {
        let c_at = uniform_time(
            &mut ctx.rng,
            cur.at + Duration::minutes(5),
            lim - Duration::hours(1),
        );
        let per_bike = cur.amount / cur.party_size;
        let per_bike = (per_bike / 100) * 100;
        push_version(&mut vs, c_at, Change::Repriced, |v| {
            v.party_size -= 1;
            v.amount -= per_bike;
        });
        if let Some(&pi) = card_rows.last() {
            let r_at = c_at + Duration::minutes(ctx.rng.gen_range(1..600));
            ctx.refund(pi, r_at, per_bike);
        }
    }
    // Cancellation (~7 %) before pick-up, refund mostly.
    let cur = vs.last().unwrap().clone();
    let lim = cur.starts_at.min(t);
    if ctx.rng.gen_bool(0.07) && lim - cur.at > Duration::minutes(30) {
        let c_at = uniform_time(&mut ctx.rng, cur.at + Duration::minutes(10), lim);
        let by_shop = ctx.rng.gen_bool(0.25);
        push_version(&mut vs, c_at, Change::Cancelled, |v| {
            v.status = ReservationStatus::Cancelled;
            v.app_status = Some(if by_shop {
                AppStatus::CancelledShop
            } else {
                AppStatus::CancelledDiver
            });
        });
        let rows = card_rows.clone();
        for pi in rows {
            let p_amount = ctx.payments[pi].amount;
            let part = if by_shop {
                1.0
            } else {
                *pick(&mut ctx.rng, &[1.0, 1.0, 1.0, 0.8, 0.5, 0.0])
            };
            if part > 0.0 {
                let amt = if part >= 1.0 {
                    p_amount
                } else {
                    share(p_amount, part).min(p_amount)
                };
                let r_at = c_at + Duration::minutes(ctx.rng.gen_range(1..2880));
                ctx.refund(pi, r_at, amt);
            }
        }
        let last = vs.last().unwrap().at;
        push_res(ctx, b, ci, ri, code, model, at, vs);
        return last;
    }
    // The ride.
    let cur = vs.last().unwrap().clone();
    if cur.starts_at <= t {
        if ctx.rng.gen_bool(0.02) {
            let n_at = cur.starts_at + Duration::hours(3);
            if n_at <= t {
                push_version(&mut vs, n_at, Change::NoShow, |v| {
                    v.status = ReservationStatus::NoShow;
                    v.app_status = Some(AppStatus::NoShow);
                });
            }
        } else {
            let o_at = cur.starts_at + Duration::minutes(ctx.rng.gen_range(-20..25));
            push_version(&mut vs, o_at.min(t), Change::Status, |v| {
                v.app_status = Some(AppStatus::CheckedIn)
            });
            if cash {
                ctx.cash(b, ci, ri, cur.amount, o_at.min(t));
            }
            // Add-ons in the shop (~2 %): the quote goes up, no mail.
            if !sandbox && ctx.rng.gen_bool(0.02) {
                let a_at = (o_at + Duration::minutes(3)).min(t);
                let extra = price_in(*pick(&mut ctx.rng, &[5.0, 8.0, 10.0]), &b.currency);
                push_version(&mut vs, a_at, Change::Repriced, |v| v.amount += extra);
            }
            let r_at = cur.ends_at + Duration::minutes(ctx.rng.gen_range(-40..50));
            if r_at <= t {
                push_version(&mut vs, r_at, Change::Completed, |v| {
                    v.status = ReservationStatus::Completed;
                    v.app_status = Some(AppStatus::Done);
                });
                // Damage deposit partly kept / goodwill: partial refunds, sometimes two.
                if let Some(&pi) = card_rows.last() {
                    if ctx.rng.gen_bool(0.07) {
                        let p_amount = ctx.payments[pi].amount;
                        let f_at = r_at + Duration::hours(ctx.rng.gen_range(1..72));
                        ctx.refund(pi, f_at, share(p_amount, 0.2).min(p_amount - 100));
                        if ctx.rng.gen_bool(0.25) {
                            let g = f_at + Duration::days(ctx.rng.gen_range(1..10));
                            ctx.refund(pi, g, share(p_amount, 0.1));
                        }
                    }
                }
            }
        }
    }
    // Disputes (~0.6 % of card payments), whatever their outcome.
    for &pi in &card_rows {
        let p = &ctx.payments[pi];
        if p.failed || sandbox || !ctx.rng.gen_bool(0.006) {
            continue;
        }
        let d_at = p.created_at + Duration::days(ctx.rng.gen_range(7..60));
        if d_at <= t {
            let close = d_at + Duration::days(ctx.rng.gen_range(20..75));
            let closed = (close <= t).then(|| (close, ctx.rng.gen_bool(0.45)));
            let id = format!("du_1{}", alnum(&mut ctx.rng, 23));
            ctx.payments[pi].dispute = Some(Dispute {
                id,
                at: d_at,
                closed,
            });
        }
    }
    let last = vs.last().unwrap().at;
    push_res(ctx, b, ci, ri, code, model, at, vs);
    last
}

#[allow(clippy::too_many_arguments)]
fn push_res(
    ctx: &mut Ctx,
    b: &Business,
    ci: usize,
    ri: usize,
    code: String,
    model: &str,
    at: Timestamp,
    vs: Vec<ReservationVersion>,
) {
    debug_assert_eq!(ri, ctx.reservations.len());
    ctx.reservations.push(Reservation {
        id: ri as i64,
        business_id: b.id,
        customer_id: ci as i64,
        reference: code,
        service: model.to_string(),
        created_at: at,
        versions: vs,
        deleted_at: None,
        service_id: None,
    });
}

#[cfg(test)]
mod tests;
