//! Simulates the true world of an incident: businesses, their customers, the reservations
//! those customers made (with every change), and the payments taken for them.
//!
//! Deterministic: one `ChaCha8Rng` seeded from the seed, consumed in a fixed order (no hash
//! map iteration), so the same `(businesses, seed, flavour)` always gives the same world.
//!
//! Nothing in the world happens after the incident: every `created_at`, version `at`,
//! refund, dispute and deletion is at or before `incident_at` (reservation *slots* can be up
//! to 60 days after it: future bookings). Ids are serial, in `created_at` order, like a real
//! database's sequences.

use super::world::{
    Business, Change, Customer, Dispute, Flavour, Method, Payment, Refund, Reservation,
    ReservationStatus, ReservationVersion, World,
};
use crate::util::time::{local_to_utc, Timestamp};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rand::distributions::Alphanumeric;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

/// The incident of every generated world: 2026-11-20T14:30:00Z.
pub fn incident_at() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 14, 30, 0).unwrap()
}

/// The stale backup: 90 days before the incident, at 03:00 UTC that day.
pub fn backup_at(incident: Timestamp) -> Timestamp {
    let d = (incident - Duration::days(90)).date_naive();
    Utc.from_utc_datetime(&d.and_hms_opt(3, 0, 0).unwrap())
}

/// How far back the bookings go.
const HISTORY_DAYS: i64 = 548;
/// How far ahead future slots go.
const FUTURE_DAYS: i64 = 60;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Region {
    Us,
    Europe,
    Gb,
    Jp,
    Au,
}

struct Locale {
    country: &'static str,
    currency: &'static str,
    zones: &'static [&'static str],
    region: Region,
    tld: &'static str,
    weight: u32,
}

const LOCALES: &[Locale] = &[
    Locale {
        country: "US",
        currency: "usd",
        zones: &[
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Los_Angeles",
            "America/Phoenix",
        ],
        region: Region::Us,
        tld: "com",
        weight: 34,
    },
    Locale {
        country: "GB",
        currency: "gbp",
        zones: &["Europe/London"],
        region: Region::Gb,
        tld: "co.uk",
        weight: 12,
    },
    Locale {
        country: "DE",
        currency: "eur",
        zones: &["Europe/Berlin"],
        region: Region::Europe,
        tld: "de",
        weight: 8,
    },
    Locale {
        country: "FR",
        currency: "eur",
        zones: &["Europe/Paris"],
        region: Region::Europe,
        tld: "fr",
        weight: 7,
    },
    Locale {
        country: "ES",
        currency: "eur",
        zones: &["Europe/Madrid"],
        region: Region::Europe,
        tld: "es",
        weight: 5,
    },
    Locale {
        country: "IT",
        currency: "eur",
        zones: &["Europe/Rome"],
        region: Region::Europe,
        tld: "it",
        weight: 5,
    },
    Locale {
        country: "NL",
        currency: "eur",
        zones: &["Europe/Amsterdam"],
        region: Region::Europe,
        tld: "nl",
        weight: 3,
    },
    Locale {
        country: "IE",
        currency: "eur",
        zones: &["Europe/Dublin"],
        region: Region::Europe,
        tld: "ie",
        weight: 3,
    },
    Locale {
        country: "PT",
        currency: "eur",
        zones: &["Europe/Lisbon"],
        region: Region::Europe,
        tld: "pt",
        weight: 2,
    },
    Locale {
        country: "JP",
        currency: "jpy",
        zones: &["Asia/Tokyo"],
        region: Region::Jp,
        tld: "jp",
        weight: 10,
    },
    Locale {
        country: "AU",
        currency: "aud",
        zones: &[
            "Australia/Sydney",
            "Australia/Melbourne",
            "Australia/Brisbane",
            "Australia/Perth",
        ],
        region: Region::Au,
        tld: "com.au",
        weight: 11,
    },
];

const SALON_FIRST: &[&str] = &[
    "Lumen", "Velvet", "Willow", "Juniper", "Aurora", "Saffron", "Ivory", "Cedar", "Marigold",
    "Indigo", "Olive", "Luna", "Ember", "Sage", "Coral", "Pearl", "Maple", "Birch", "Azure",
    "Honey", "Blossom", "Harbor", "Golden", "Silk", "Bloom", "Nova", "Halo", "Serenity", "Mirror",
    "Copper", "Orchid", "Lotus", "Studio 9", "Atelier", "Clover", "Fern",
];
const SALON_FIRST_FR: &[&str] = &[
    "Élise",
    "Amélie",
    "Belle Époque",
    "Côté",
    "Léonie",
    "Maison Chloé",
];
const SALON_FIRST_DE: &[&str] = &[
    "Haarwerk",
    "Zeitlos",
    "Schnittpunkt",
    "Glanzstück",
    "Kopfsache",
];
const SALON_FIRST_JP: &[&str] = &["Sakura", "Hanabi", "Tsubaki", "Kirei", "Yuzu", "Hoshi"];
const SALON_KIND: &[&str] = &[
    "Hair Studio",
    "Day Spa",
    "Beauty Lounge",
    "Nail Bar",
    "Barbers",
    "Salon",
    "Wellness",
    "Skin Clinic",
    "Massage Rooms",
    "Brow & Lash",
    "Hair & Beauty",
    "Spa",
];
const RESTO_PREFIX_KIND: &[&str] = &[
    "Trattoria",
    "Bistro",
    "Osteria",
    "Brasserie",
    "Café",
    "Taverna",
    "Cantina",
    "Izakaya",
    "Chez",
    "Casa",
];
const RESTO_SUFFIX_KIND: &[&str] = &[
    "Kitchen",
    "Grill",
    "Ramen Bar",
    "Wine Bar",
    "Dining Room",
    "Eatery",
];
const RESTO_NAME: &[&str] = &[
    "Vela",
    "Laurent",
    "Sole",
    "Marlowe",
    "Olivo",
    "Ferro",
    "Mirabel",
    "Nonna Rosa",
    "Alba",
    "Corvo",
    "Sakura",
    "Hoshi",
    "Lucca",
    "Porto",
    "Bellini",
    "Amalfi",
    "Duomo",
    "Basil",
    "Fig",
    "Harbour",
    "Noma",
    "Juniper",
    "Saffron",
    "Ember",
    "Müller",
    "Zoë",
    "Léon",
    "Señora Paz",
    "Tsuki",
    "Oak",
    "Copper",
    "Anchor",
];
const PUB_A: &[&str] = &[
    "Fox", "Crown", "Swan", "Stag", "Hare", "Raven", "Lion", "Otter",
];
const PUB_B: &[&str] = &[
    "Anchor", "Hound", "Thistle", "Feathers", "Barrel", "Compass", "Rose", "Kettle",
];

/// (name, minutes, price in USD-like major units). Bookly: per booking.
const SALON_SERVICES: &[(&str, i64, i64)] = &[
    ("Women's Haircut", 60, 65),
    ("Men's Haircut", 30, 35),
    ("Cut & Blow-dry", 75, 80),
    ("Full Colour", 120, 140),
    ("Balayage", 180, 220),
    ("Gel Manicure", 45, 40),
    ("Pedicure", 60, 50),
    ("Deep Tissue Massage – 60 min", 60, 95),
    ("Hot Stone Massage – 90 min", 90, 130),
    ("Signature Facial", 60, 90),
    ("Brow Shape & Tint", 30, 30),
    ("Lash Lift", 45, 60),
];
/// Tablehop: deposit per person.
const RESTO_SERVICES: &[(&str, i64, i64)] = &[
    ("Dinner", 120, 15),
    ("Lunch", 90, 10),
    ("Tasting Menu", 150, 85),
    ("Sunday Brunch", 90, 12),
    ("Chef's Table", 180, 120),
    ("Pre-theatre Menu", 90, 35),
];

pub(crate) const FIRST: &[&str] = &[
    "Emma",
    "Olivia",
    "Liam",
    "Noah",
    "Sophie",
    "Lucas",
    "Mia",
    "James",
    "Charlotte",
    "Oliver",
    "Amelia",
    "Ethan",
    "Chloé",
    "José",
    "Zoë",
    "François",
    "Søren",
    "Björn",
    "Anaïs",
    "Noémie",
    "Łukasz",
    "Renée",
    "Inès",
    "Jürgen",
    "Siobhán",
    "Aoife",
    "Seán",
    "Maëlle",
    "André",
    "Mónica",
    "Ángel",
    "Raphaël",
    "Lena",
    "Max",
    "Hannah",
    "Paul",
    "Giulia",
    "Marco",
    "Sofia",
    "Lucía",
    "Mateo",
    "Daniel",
    "Sarah",
    "Michael",
    "Jessica",
    "David",
    "Emily",
    "Priya",
    "Arjun",
    "Fatima",
    "Omar",
    "Mei",
    "Wei",
    "Ava",
    "Isla",
    "Jack",
    "Grace",
    "Harper",
    "Leo",
    "Chris",
    "Anna",
    "Laura",
    "Tom",
    "Kate",
    "Ben",
    "Julia",
    "Nina",
    "Oscar",
    "Elena",
];
pub(crate) const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Müller",
    "Schmidt",
    "Schneider",
    "García",
    "Martínez",
    "Núñez",
    "Rossi",
    "Bianchi",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Jensen",
    "Kowalski",
    "Nowak",
    "Papadopoulos",
    "van der Berg",
    "de Vries",
    "Silva",
    "Gonçalves",
    "Taylor",
    "Wilson",
    "Anderson",
    "Thompson",
    "Patel",
    "Khan",
    "Ng",
    "Lee",
    "Kim",
    "Chen",
    "Fernández",
    "Jørgensen",
    "Weiß",
    "Schäfer",
    "Köhler",
    "Miller",
    "Davis",
    "Clarke",
    "Walsh",
    "Romano",
    "Costa",
    "Bauer",
    "Fischer",
    "Martin",
    "Bernard",
    "López",
];
const VIET: &[(&str, &str, &str)] = &[
    ("Nguyễn Thị Lan", "lan", "nguyen"),
    ("Trần Văn Minh", "minh", "tran"),
    ("Lê Thị Hương", "huong", "le"),
    ("Phạm Quốc Bảo", "bao", "pham"),
    ("Nguyễn Văn An", "an", "nguyen"),
    ("Đặng Thu Hà", "ha", "dang"),
];
pub(crate) const JP_FAMILY: &[(&str, &str)] = &[
    ("山田", "Yamada"),
    ("佐藤", "Sato"),
    ("鈴木", "Suzuki"),
    ("高橋", "Takahashi"),
    ("田中", "Tanaka"),
    ("伊藤", "Ito"),
    ("渡辺", "Watanabe"),
    ("中村", "Nakamura"),
    ("小林", "Kobayashi"),
    ("加藤", "Kato"),
];
pub(crate) const JP_GIVEN: &[(&str, &str)] = &[
    ("太郎", "Taro"),
    ("花子", "Hanako"),
    ("翔太", "Shota"),
    ("美咲", "Misaki"),
    ("大輔", "Daisuke"),
    ("結衣", "Yui"),
    ("健", "Ken"),
    ("さくら", "Sakura"),
    ("陽菜", "Hina"),
    ("蓮", "Ren"),
];
pub(crate) const MAIL_COMMON: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "hotmail.com",
    "proton.me",
];

pub(crate) fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

pub(crate) fn alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n).map(|_| rng.sample(Alphanumeric) as char).collect()
}

pub(crate) fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Folds a name to the ASCII letters an email address would use.
pub(crate) fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let r: &str = match c {
            'a'..='z' | '0'..='9' => {
                out.push(c);
                continue;
            }
            'A'..='Z' => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' | 'ă' | 'ạ' | 'ả' | 'ấ' | 'ầ' | 'ẩ' | 'ẫ'
            | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' | 'Á' | 'À' | 'Â' | 'Ä' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'Ç' => "c",
            'đ' | 'Đ' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' | 'É'
            | 'È' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ị' | 'ỉ' | 'ĩ' | 'Í' => "i",
            'ł' | 'Ł' => "l",
            'ñ' | 'ń' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ơ' | 'ọ' | 'ỏ' | 'ố' | 'ồ' | 'ổ' | 'ỗ' | 'ộ'
            | 'ờ' | 'ớ' | 'ở' | 'ỡ' | 'ợ' | 'Ó' | 'Ö' | 'Ø' => "o",
            'ß' => "ss",
            'ś' | 'Ś' => "s",
            'ù' | 'ú' | 'û' | 'ü' | 'ư' | 'ụ' | 'ủ' | 'ừ' | 'ứ' | 'ử' | 'ữ' | 'ự' | 'Ü' => {
                "u"
            }
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' => "z",
            _ => "",
        };
        out.push_str(r);
    }
    out
}

pub(crate) fn phone(rng: &mut ChaCha8Rng, country: &str) -> String {
    match country {
        "US" => format!(
            "+1{}{}{}{}{}",
            rng.gen_range(2..10),
            digits(rng, 2),
            rng.gen_range(2..10),
            digits(rng, 2),
            digits(rng, 4)
        ),
        "GB" => format!("+447{}", digits(rng, 9)),
        "DE" => format!("+4915{}{}", rng.gen_range(1..8), digits(rng, 8)),
        "FR" => format!("+33{}{}", rng.gen_range(6..8), digits(rng, 8)),
        "ES" => format!("+346{}", digits(rng, 8)),
        "IT" => format!("+393{}", digits(rng, 9)),
        "NL" => format!("+316{}", digits(rng, 8)),
        "IE" => format!("+3538{}{}", rng.gen_range(3..10), digits(rng, 7)),
        "PT" => format!("+3519{}{}", pick(rng, &[1, 2, 3, 6]), digits(rng, 7)),
        "JP" => format!("+81{}0{}", rng.gen_range(7..10), digits(rng, 8)),
        "AU" => format!("+614{}", digits(rng, 8)),
        _ => format!("+1{}", digits(rng, 10)),
    }
}

/// Converts a USD-like major price to the minor units of `currency`, scaled by `factor`.
fn price_minor(usd: i64, factor: f64, currency: &str) -> i64 {
    let x = usd as f64 * factor;
    match currency {
        "jpy" => ((x * 150.0 / 100.0).round() as i64).max(1) * 100,
        "eur" => (x * 0.95).round() as i64 * 100,
        "gbp" => ((x * 0.8 * 2.0).round() as i64) * 50,
        "aud" => (x * 1.5).round() as i64 * 100,
        _ => x.round() as i64 * 100,
    }
}

struct Person {
    name: String,
    first: String,
    last: String,
}

fn person(rng: &mut ChaCha8Rng, region: Region) -> Person {
    let r: f64 = rng.gen();
    let jp_share = if region == Region::Jp { 0.85 } else { 0.03 };
    let viet_share = if region == Region::Au { 0.08 } else { 0.04 };
    if r < jp_share {
        let (fk, fr) = *pick(rng, JP_FAMILY);
        let (gk, gr) = *pick(rng, JP_GIVEN);
        let name = if region == Region::Jp && rng.gen_bool(0.7) {
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
    if r < jp_share + viet_share {
        let (n, f, l) = *pick(rng, VIET);
        return Person {
            name: n.to_string(),
            first: f.into(),
            last: l.into(),
        };
    }
    let f = *pick(rng, FIRST);
    let l = *pick(rng, LAST);
    Person {
        name: format!("{f} {l}"),
        first: ascii_fold(f),
        last: ascii_fold(l),
    }
}

fn email_for(rng: &mut ChaCha8Rng, p: &Person, loc: &Locale) -> String {
    let regional: &[&str] = match loc.country {
        "DE" => &["gmx.de", "web.de", "t-online.de"],
        "FR" => &["orange.fr", "free.fr", "laposte.net"],
        "IT" => &["libero.it", "virgilio.it"],
        "ES" => &["telefonica.net", "yahoo.es"],
        "GB" => &["btinternet.com", "hotmail.co.uk", "sky.com"],
        "JP" => &["yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp"],
        "AU" => &["bigpond.com", "optusnet.com.au"],
        "US" => &["aol.com", "comcast.net"],
        _ => &["kpnmail.nl", "eircom.net", "sapo.pt"],
    };
    let domain = if rng.gen_bool(0.25) {
        *pick(rng, regional)
    } else {
        *pick(rng, MAIL_COMMON)
    };
    let (f, l) = (&p.first, &p.last);
    let local = match rng.gen_range(0..6) {
        0 | 1 => format!("{f}.{l}"),
        2 => format!("{f}{l}{}", rng.gen_range(1..100)),
        3 => format!("{}{l}", f.chars().next().unwrap_or('x')),
        4 => format!("{l}.{f}"),
        _ => format!("{f}_{l}{}", rng.gen_range(60..100)),
    };
    format!("{local}@{domain}")
}

fn business_name(
    rng: &mut ChaCha8Rng,
    flavour: Flavour,
    loc: &Locale,
    zone: &str,
    used: &mut BTreeSet<String>,
) -> String {
    let base = match flavour {
        Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda => {
            let first = match (loc.country, rng.gen_bool(0.5)) {
                ("FR", true) => *pick(rng, SALON_FIRST_FR),
                ("DE", true) => *pick(rng, SALON_FIRST_DE),
                ("JP", true) => *pick(rng, SALON_FIRST_JP),
                _ => *pick(rng, SALON_FIRST),
            };
            match rng.gen_range(0..10) {
                0..=5 => format!("{first} {}", pick(rng, SALON_KIND)),
                6 | 7 => format!("{}'s {}", pick(rng, FIRST), pick(rng, SALON_KIND)),
                8 => format!("Hair by {}", pick(rng, FIRST)),
                _ => format!(
                    "{} & {} {}",
                    first,
                    pick(rng, SALON_FIRST),
                    pick(rng, SALON_KIND)
                ),
            }
        }
        Flavour::Tablehop => match rng.gen_range(0..10) {
            0..=4 => format!("{} {}", pick(rng, RESTO_PREFIX_KIND), pick(rng, RESTO_NAME)),
            5..=7 => format!("{} {}", pick(rng, RESTO_NAME), pick(rng, RESTO_SUFFIX_KIND)),
            _ => format!("The {} & {}", pick(rng, PUB_A), pick(rng, PUB_B)),
        },
    };
    let city = zone.rsplit('/').next().unwrap_or("").replace('_', " ");
    let mut name = base.clone();
    let mut n = 1;
    while used.contains(&name) {
        n += 1;
        const BRANCH: &[&str] = &[
            "Downtown",
            "Riverside",
            "Old Town",
            "Westside",
            "Central",
            "North",
            "Harbourside",
            "Market Street",
            "Station Road",
            "Park Lane",
            "Eastgate",
            "Uptown",
        ];
        name = if n == 2 {
            format!("{base} {city}")
        } else if n < 40 {
            format!("{base} {} {city}", pick(rng, BRANCH))
        } else {
            format!("{base} {city} {n}")
        };
    }
    used.insert(name.clone());
    name
}

struct Svc {
    name: &'static str,
    minutes: i64,
    /// Minor units; per booking (bookly) or per person (tablehop).
    price: i64,
}

struct BizPlan {
    biz: Business,
    tz: Tz,
    loc: &'static Locale,
    services: Vec<Svc>,
}

/// Start and end of a slot on `date` (local) for a service.
fn slot(
    rng: &mut ChaCha8Rng,
    flavour: Flavour,
    svc: &Svc,
    tz: Tz,
    date: NaiveDate,
) -> (Timestamp, Timestamp) {
    let mut date = date;
    let minutes_of_day = match flavour {
        Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda => {
            if date.weekday() == Weekday::Sun {
                date += Duration::days(1);
            }
            // 09:00..17:45 in quarter hours.
            9 * 60 + 15 * rng.gen_range(0..36)
        }
        Flavour::Tablehop => match svc.name {
            "Lunch" => 12 * 60 + 15 * rng.gen_range(0..9),
            "Sunday Brunch" => 10 * 60 + 30 + 15 * rng.gen_range(0..11),
            _ => 17 * 60 + 30 + 15 * rng.gen_range(0..17),
        },
    };
    let t = NaiveTime::from_hms_opt(
        (minutes_of_day / 60) as u32,
        (minutes_of_day % 60) as u32,
        0,
    )
    .unwrap();
    let start = local_to_utc(date.and_time(t), Some(tz));
    (start, start + Duration::minutes(svc.minutes))
}

fn party(rng: &mut ChaCha8Rng, flavour: Flavour) -> i64 {
    match flavour {
        Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda => {
            if rng.gen_bool(0.05) {
                2
            } else {
                1
            }
        }
        Flavour::Tablehop => *pick(rng, &[1, 2, 2, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 8]),
    }
}

pub(crate) fn uniform_time(rng: &mut ChaCha8Rng, from: Timestamp, to: Timestamp) -> Timestamp {
    let span = (to - from).num_seconds();
    if span <= 0 {
        return from;
    }
    from + Duration::seconds(rng.gen_range(0..span))
}

fn reference(rng: &mut ChaCha8Rng, flavour: Flavour, used: &mut BTreeSet<String>) -> String {
    const CODE: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    loop {
        let r = match flavour {
            Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda => {
                let s: String = (0..5)
                    .map(|_| CODE[rng.gen_range(0..CODE.len())] as char)
                    .collect();
                format!("BK-{s}")
            }
            // Five digits while they last (the app widened its codes when they ran out).
            Flavour::Tablehop => {
                if used.len() < 60_000 {
                    format!("TH{}", rng.gen_range(10_000..100_000))
                } else {
                    format!("TH{}", rng.gen_range(100_000..1_000_000))
                }
            }
        };
        if used.insert(r.clone()) {
            return r;
        }
    }
}

/// A deterministic world: the same `(businesses, seed, flavour)` always gives the same world.
pub fn simulate(businesses: usize, seed: u64, flavour: Flavour) -> World {
    simulate_at(businesses, seed, flavour, Density::Current)
}

/// How big each business is: its customers and their bookings. The number of businesses is
/// the caller's; a density scales what each of them holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Density {
    /// About 19 customers and 86 reservations a business (bookly).
    #[default]
    Current,
    /// The density of the mission's own data: about 91 customers, 184 reservations and 184
    /// payments a business (1,600 businesses: ~146k customers, ~295k reservations, ~294k
    /// payments). More customers, fewer bookings each, nearly every booking paid.
    Mission,
}

impl Density {
    pub fn name(self) -> &'static str {
        match self {
            Density::Current => "current",
            Density::Mission => "mission",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "current" => Some(Density::Current),
            "mission" => Some(Density::Mission),
            _ => None,
        }
    }
    /// Customers of a business from its count at the current density; `scale` is the
    /// flavour's mission factor.
    pub(crate) fn customers(self, n: usize, scale: f64) -> usize {
        match self {
            Density::Current => n,
            Density::Mission => ((n as f64) * scale).round() as usize,
        }
    }
}

/// Mission density: customers per business against the current density.
const CUSTOMER_SCALE: f64 = 4.87;

/// The world of `businesses` businesses at `density`, with the habits of real people
/// ([`super::habits`]) in it.
pub fn simulate_at(businesses: usize, seed: u64, flavour: Flavour, density: Density) -> World {
    let mut w = match flavour {
        Flavour::Kelpie => super::kelpie::simulate_at(businesses, seed, density),
        Flavour::Pedalry => super::pedalry::simulate_at(businesses, seed, density),
        Flavour::Zenda => super::zenda::simulate_at(businesses, seed, density),
        _ => simulate_generic(businesses, seed, flavour, density),
    };
    super::habits::apply(&mut w);
    w
}

fn simulate_generic(businesses: usize, seed: u64, flavour: Flavour, density: Density) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let incident = incident_at();
    let backup = backup_at(incident);
    let history_start = incident - Duration::days(HISTORY_DAYS);
    let horizon = incident + Duration::days(FUTURE_DAYS);
    let total_weight: u32 = LOCALES.iter().map(|l| l.weight).sum();

    // Businesses, then ids in order of creation.
    let mut names = BTreeSet::new();
    let mut plans: Vec<BizPlan> = Vec::with_capacity(businesses);
    for _ in 0..businesses {
        let mut w = rng.gen_range(0..total_weight);
        let loc = LOCALES
            .iter()
            .find(|l| {
                if w < l.weight {
                    true
                } else {
                    w -= l.weight;
                    false
                }
            })
            .unwrap_or(&LOCALES[0]);
        let zone = *pick(&mut rng, loc.zones);
        let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
        let name = business_name(&mut rng, flavour, loc, zone, &mut names);
        let slug: String = ascii_fold(&name);
        let email = match rng.gen_range(0..4) {
            0 => format!("hello@{slug}.{}", loc.tld),
            1 => format!("bookings@{slug}.{}", loc.tld),
            2 => format!("{slug}@gmail.com"),
            _ => format!("info@{slug}.{}", loc.tld),
        };
        let stripe_account = if rng.gen_bool(0.08) {
            None
        } else {
            Some(format!("acct_{}", alnum(&mut rng, 16)))
        };
        // Most businesses predate the booking history; some joined during it.
        let created_at = if rng.gen_bool(0.85) {
            uniform_time(&mut rng, incident - Duration::days(6 * 365), history_start)
        } else {
            uniform_time(&mut rng, history_start, incident - Duration::days(45))
        };
        let factor = rng.gen_range(0.8..1.3);
        let catalogue = match flavour {
            Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda => SALON_SERVICES,
            Flavour::Tablehop => RESTO_SERVICES,
        };
        let mut services: Vec<Svc> = Vec::new();
        for (i, s) in catalogue.iter().enumerate() {
            // Every business offers the first (staple) service, and about half the others.
            if i == 0 || rng.gen_bool(0.55) {
                services.push(Svc {
                    name: s.0,
                    minutes: s.1,
                    price: price_minor(s.2, factor, loc.currency),
                });
            }
        }
        plans.push(BizPlan {
            biz: Business {
                id: 0,
                name,
                email,
                timezone: zone.to_string(),
                currency: loc.currency.to_string(),
                country: loc.country.to_string(),
                stripe_account,
                created_at,
                ..Default::default()
            },
            tz,
            loc,
            services,
        });
    }
    // Stable sort: ties keep generation order.
    plans.sort_by_key(|p| p.biz.created_at);
    for (i, p) in plans.iter_mut().enumerate() {
        p.biz.id = i as i64 + 1;
    }

    let mut customers: Vec<Customer> = Vec::new();
    let mut reservations: Vec<Reservation> = Vec::new();
    let mut payments: Vec<Payment> = Vec::new();
    let mut refs = BTreeSet::new();

    for plan in &plans {
        let b = &plan.biz;
        let size_factor: f64 = rng.gen_range(0.6..1.6);
        let n_customers = density.customers(
            ((rng.gen_range(10..=25) as f64) * size_factor)
                .round()
                .max(3.0) as usize,
            CUSTOMER_SCALE,
        );
        let start = (b.created_at + Duration::days(1)).max(history_start);
        let mut emails = BTreeSet::new();
        for _ in 0..n_customers {
            let cust_idx = customers.len() as i64;
            let created_at = uniform_time(&mut rng, start, incident - Duration::days(2));
            let p = person(&mut rng, plan.loc.region);
            let email = if rng.gen_bool(0.95) {
                let mut e = email_for(&mut rng, &p, plan.loc);
                while !emails.insert(e.clone()) {
                    e = format!("{}{}", rng.gen_range(1..10), e);
                }
                Some(e)
            } else {
                None
            };
            let phone = if rng.gen_bool(0.8) {
                Some(phone(&mut rng, &b.country))
            } else {
                None
            };
            let deleted_at = if rng.gen_bool(0.03) {
                Some(uniform_time(
                    &mut rng,
                    created_at + Duration::days(1),
                    incident,
                ))
            } else {
                None
            };
            customers.push(Customer {
                id: cust_idx,
                business_id: b.id,
                name: p.name,
                email,
                phone,
                stripe_customer: None,
                stripe_duplicates: Vec::new(),
                created_at,
                deleted_at,
                ..Default::default()
            });
            let mut has_card = false;
            let n_res = match density {
                Density::Current => rng.gen_range(3..=6),
                Density::Mission => rng.gen_range(1..=3),
            };
            for k in 0..n_res {
                let res_idx = reservations.len() as i64;
                let r_created = if k == 0 {
                    created_at
                } else {
                    uniform_time(&mut rng, created_at, incident - Duration::minutes(5))
                };
                let svc = pick(&mut rng, &plan.services);
                let lead_days = {
                    let max_lead = (horizon - r_created).num_days().max(1);
                    let l: i64 = match rng.gen_range(0..10) {
                        0..=2 => rng.gen_range(0..3),
                        3..=7 => rng.gen_range(3..21),
                        _ => rng.gen_range(21..60),
                    };
                    l.min(max_lead - 1).max(0)
                };
                let local_created = r_created.with_timezone(&plan.tz).date_naive();
                let (mut s, mut e) = slot(
                    &mut rng,
                    flavour,
                    svc,
                    plan.tz,
                    local_created + Duration::days(lead_days),
                );
                if s < r_created + Duration::hours(1) {
                    s += Duration::days(1);
                    e += Duration::days(1);
                }
                let ps = party(&mut rng, flavour);
                let status = if rng.gen_bool(0.05) {
                    ReservationStatus::Pending
                } else {
                    ReservationStatus::Confirmed
                };
                let created_amount = svc.price * ps;
                let mut versions = vec![ReservationVersion {
                    at: r_created,
                    change: Change::Created,
                    starts_at: s,
                    ends_at: e,
                    party_size: ps,
                    status,
                    amount: created_amount,
                    ..Default::default()
                }];
                // A change of time or party size before the slot.
                let limit = s.min(incident);
                if rng.gen_bool(0.15) && limit - r_created > Duration::hours(2) {
                    let at = uniform_time(
                        &mut rng,
                        r_created + Duration::minutes(10),
                        limit - Duration::hours(1),
                    );
                    let last = versions.last().unwrap().clone();
                    let shift = rng.gen_range(-5..=10i64);
                    let local_day =
                        last.starts_at.with_timezone(&plan.tz).date_naive() + Duration::days(shift);
                    let (mut ns, mut ne) = slot(&mut rng, flavour, svc, plan.tz, local_day);
                    while ns < at + Duration::hours(1) {
                        ns += Duration::days(1);
                        ne += Duration::days(1);
                    }
                    if ns > horizon {
                        ns = last.starts_at;
                        ne = last.ends_at;
                    }
                    let nps = if flavour == Flavour::Tablehop && rng.gen_bool(0.5) {
                        (last.party_size + rng.gen_range(-1..=2)).max(1)
                    } else {
                        last.party_size
                    };
                    versions.push(ReservationVersion {
                        at,
                        change: Change::Changed,
                        starts_at: ns,
                        ends_at: ne,
                        party_size: nps,
                        status: last.status,
                        amount: svc.price * nps,
                        ..Default::default()
                    });
                }
                let cur = versions.last().unwrap().clone();
                let limit = cur.starts_at.min(incident);
                let mut cancelled_at = None;
                if rng.gen_bool(0.10) && limit - cur.at > Duration::minutes(10) {
                    let at = uniform_time(&mut rng, cur.at + Duration::minutes(5), limit);
                    cancelled_at = Some(at);
                    versions.push(ReservationVersion {
                        at,
                        change: Change::Cancelled,
                        status: ReservationStatus::Cancelled,
                        ..cur.clone()
                    });
                } else if cur.status == ReservationStatus::Confirmed {
                    let no_show = rng.gen_bool(0.02);
                    let at = cur.ends_at
                        + Duration::hours(rng.gen_range(2..6))
                        + Duration::minutes(rng.gen_range(0..60));
                    if at <= incident {
                        versions.push(ReservationVersion {
                            at,
                            change: if no_show {
                                Change::NoShow
                            } else {
                                Change::Completed
                            },
                            status: if no_show {
                                ReservationStatus::NoShow
                            } else {
                                ReservationStatus::Completed
                            },
                            ..cur.clone()
                        });
                    }
                }
                let deleted_at = if rng.gen_bool(0.01) {
                    Some(uniform_time(
                        &mut rng,
                        r_created + Duration::hours(1),
                        incident,
                    ))
                } else {
                    None
                };
                let final_v = versions.last().unwrap().clone();

                // Payments.
                // At mission density every booking is paid when made, a pending one too
                // (prepaid), so payments keep up with bookings.
                let mission = density == Density::Mission;
                if status != ReservationStatus::Pending || mission {
                    let method = if b.stripe_account.is_none() {
                        Some(Method::Cash)
                    } else {
                        match (rng.gen_range(0..100), mission) {
                            (0..=4, false) | (0..=2, true) => Some(Method::Cash),
                            (5..=92, false) | (_, true) => Some(Method::Card),
                            _ => None,
                        }
                    };
                    match method {
                        Some(Method::Cash) => {
                            let paid = final_v.status == ReservationStatus::Completed;
                            if paid && final_v.starts_at <= incident {
                                payments.push(Payment {
                                    id: 0,
                                    business_id: b.id,
                                    customer_id: Some(cust_idx),
                                    reservation_id: Some(res_idx),
                                    method: Method::Cash,
                                    charge_id: None,
                                    payment_intent: None,
                                    amount: final_v.amount,
                                    currency: b.currency.clone(),
                                    created_at: final_v.starts_at,
                                    failed: false,
                                    refunds: Vec::new(),
                                    dispute: None,
                                    receipt_number: None,
                                    card_last4: None,
                                    metadata_missing: false,
                                    ..Default::default()
                                });
                            }
                        }
                        Some(Method::Card) => {
                            let mut at = r_created + Duration::seconds(rng.gen_range(3..120));
                            if at > incident {
                                at = incident;
                            }
                            let failed = rng.gen_bool(0.02);
                            let retry = failed && rng.gen_bool(0.6);
                            let last4 = digits(&mut rng, 4);
                            let mut attempts = vec![(at, failed)];
                            if retry {
                                let again = at + Duration::minutes(rng.gen_range(2..30));
                                if again <= incident {
                                    attempts.push((again, false));
                                }
                            }
                            for (at, failed) in attempts {
                                has_card = true;
                                let mut refunds = Vec::new();
                                let mut dispute = None;
                                if !failed {
                                    if let Some(c_at) = cancelled_at {
                                        let x: f64 = rng.gen();
                                        let r_at = (c_at + Duration::seconds(rng.gen_range(1..90)))
                                            .min(incident);
                                        if x < 0.6 {
                                            refunds.push(Refund {
                                                id: format!("re_{}", alnum(&mut rng, 24)),
                                                at: r_at,
                                                amount: created_amount,
                                                ..Default::default()
                                            });
                                        } else if x < 0.9 {
                                            let part = match b.currency.as_str() {
                                                "jpy" => (created_amount / 200) * 100,
                                                _ => created_amount / 2,
                                            };
                                            if part > 0 {
                                                refunds.push(Refund {
                                                    id: format!("re_{}", alnum(&mut rng, 24)),
                                                    at: r_at,
                                                    amount: part,
                                                    ..Default::default()
                                                });
                                            }
                                        }
                                    } else {
                                        let p = if final_v.status == ReservationStatus::NoShow {
                                            0.2
                                        } else {
                                            0.012
                                        };
                                        if rng.gen_bool(p) {
                                            let d_at = final_v.starts_at
                                                + Duration::days(rng.gen_range(3..40))
                                                + Duration::minutes(rng.gen_range(0..1440));
                                            if d_at <= incident {
                                                dispute = Some(Dispute {
                                                    id: format!("dp_{}", alnum(&mut rng, 24)),
                                                    at: d_at,
                                                    ..Default::default()
                                                });
                                            }
                                        }
                                    }
                                }
                                let receipt_number = if failed {
                                    None
                                } else {
                                    Some(format!("{}-{}", digits(&mut rng, 4), digits(&mut rng, 4)))
                                };
                                payments.push(Payment {
                                    id: 0,
                                    business_id: b.id,
                                    customer_id: Some(cust_idx),
                                    reservation_id: Some(res_idx),
                                    method: Method::Card,
                                    charge_id: Some(format!("ch_{}", alnum(&mut rng, 24))),
                                    payment_intent: Some(format!("pi_{}", alnum(&mut rng, 24))),
                                    amount: created_amount,
                                    currency: b.currency.clone(),
                                    created_at: at,
                                    failed,
                                    refunds,
                                    dispute,
                                    receipt_number,
                                    card_last4: Some(last4.clone()),
                                    metadata_missing: rng.gen_bool(0.07),
                                    ..Default::default()
                                });
                            }
                        }
                        None => {}
                    }
                }

                reservations.push(Reservation {
                    id: res_idx,
                    business_id: b.id,
                    customer_id: cust_idx,
                    reference: reference(&mut rng, flavour, &mut refs),
                    service: svc.name.to_string(),
                    created_at: r_created,
                    versions,
                    deleted_at,
                    ..Default::default()
                });
            }
            if has_card {
                let c = customers.last_mut().unwrap();
                c.stripe_customer = Some(format!("cus_{}", alnum(&mut rng, 14)));
                if rng.gen_bool(0.05) {
                    c.stripe_duplicates
                        .push(format!("cus_{}", alnum(&mut rng, 14)));
                }
            }
        }
    }

    // Serial ids in order of creation (stable: ties keep generation order).
    let cust_map = serial_ids(customers.iter().map(|c| c.created_at));
    let res_map = serial_ids(reservations.iter().map(|r| r.created_at));
    let pay_map = serial_ids(payments.iter().map(|p| p.created_at));
    for c in &mut customers {
        c.id = cust_map[c.id as usize];
    }
    customers.sort_by_key(|c| c.id);
    for r in &mut reservations {
        r.id = res_map[r.id as usize];
        r.customer_id = cust_map[r.customer_id as usize];
    }
    reservations.sort_by_key(|r| r.id);
    for (i, p) in payments.iter_mut().enumerate() {
        p.id = pay_map[i];
        p.customer_id = p.customer_id.map(|c| cust_map[c as usize]);
        p.reservation_id = p.reservation_id.map(|r| res_map[r as usize]);
    }
    payments.sort_by_key(|p| p.id);

    World {
        seed,
        flavour,
        incident_at: incident,
        backup_at: backup,
        businesses: plans.into_iter().map(|p| p.biz).collect(),
        customers,
        reservations,
        payments,
        ..Default::default()
    }
}

/// For items in generation order with these creation times: index -> serial id (1-based).
pub(crate) fn serial_ids(times: impl Iterator<Item = Timestamp>) -> Vec<i64> {
    let times: Vec<Timestamp> = times.collect();
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| (times[i], i));
    let mut ids = vec![0i64; times.len()];
    for (rank, i) in order.into_iter().enumerate() {
        ids[i] = rank as i64 + 1;
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mission_density_scales_each_business() {
        for flavour in [Flavour::Bookly, Flavour::Kelpie, Flavour::Pedalry] {
            let cur = simulate(30, 3, flavour);
            let mis = simulate_at(30, 3, flavour, Density::Mission);
            assert_eq!(cur.businesses.len(), mis.businesses.len());
            let per_biz = mis.customers.len() as f64 / mis.businesses.len() as f64;
            let per_cust = mis.reservations.len() as f64 / mis.customers.len() as f64;
            assert!((60.0..130.0).contains(&per_biz), "{flavour:?}: {per_biz}");
            assert!((1.5..2.6).contains(&per_cust), "{flavour:?}: {per_cust}");
        }
    }

    #[test]
    fn same_seed_same_world() {
        let a = serde_json::to_string(&simulate(12, 7, Flavour::Bookly)).unwrap();
        let b = serde_json::to_string(&simulate(12, 7, Flavour::Bookly)).unwrap();
        assert_eq!(a, b);
        let c = serde_json::to_string(&simulate(12, 8, Flavour::Bookly)).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn nothing_happens_after_the_incident_and_ids_are_serial() {
        for flavour in [Flavour::Bookly, Flavour::Tablehop] {
            let w = simulate(40, 3, flavour);
            let t = w.incident_at;
            assert_eq!(
                crate::util::time::format_utc(w.backup_at),
                "2026-08-22T03:00:00Z"
            );
            for (i, b) in w.businesses.iter().enumerate() {
                assert_eq!(b.id, i as i64 + 1);
                assert!(b.created_at < t);
            }
            assert!(w
                .businesses
                .windows(2)
                .all(|x| x[0].created_at <= x[1].created_at));
            assert!(w
                .customers
                .windows(2)
                .all(|x| x[0].created_at <= x[1].created_at && x[0].id < x[1].id));
            assert!(w
                .reservations
                .windows(2)
                .all(|x| x[0].created_at <= x[1].created_at));
            assert!(w
                .payments
                .windows(2)
                .all(|x| x[0].created_at <= x[1].created_at));
            let mut refs = BTreeSet::new();
            for r in &w.reservations {
                assert!(
                    refs.insert(r.reference.clone()),
                    "duplicate {}",
                    r.reference
                );
                assert_eq!(r.versions[0].change, Change::Created);
                assert_eq!(r.versions[0].at, r.created_at);
                assert!(r.versions.windows(2).all(|v| v[0].at <= v[1].at));
                assert!(r
                    .versions
                    .iter()
                    .all(|v| v.at <= t && v.starts_at < v.ends_at));
                assert!(r
                    .versions
                    .iter()
                    .all(|v| v.starts_at <= t + Duration::days(FUTURE_DAYS + 1)));
                let c = &w.customers[(r.customer_id - 1) as usize];
                assert_eq!(c.id, r.customer_id);
                assert_eq!(c.business_id, r.business_id);
                assert!(c.created_at <= r.created_at);
            }
            for p in &w.payments {
                assert!(p.created_at <= t);
                assert!(p.refunds.iter().all(|r| r.at <= t && r.amount <= p.amount));
                assert_eq!(p.method == Method::Card, p.charge_id.is_some());
                let b = &w.businesses[(p.business_id - 1) as usize];
                assert_eq!(p.currency, b.currency);
                if p.method == Method::Card {
                    assert!(b.stripe_account.is_some());
                    let c = &w.customers[(p.customer_id.unwrap() - 1) as usize];
                    assert!(c.stripe_customer.is_some());
                }
            }
        }
    }

    /// Prints the shape of a full-size world: `cargo test --lib full_size -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn full_size_world_stats() {
        let t0 = std::time::Instant::now();
        let w = simulate(1600, 1, Flavour::Bookly);
        let dt = t0.elapsed();
        let t = w.incident_at;
        let mut st = std::collections::BTreeMap::new();
        for r in &w.reservations {
            *st.entry(r.at(t).unwrap().status.as_str()).or_insert(0) += 1;
        }
        let mut ps = std::collections::BTreeMap::new();
        for p in &w.payments {
            let k = format!(
                "{:?}/{}",
                p.method,
                crate::samples::world::payment_status(p, t)
            );
            *ps.entry(k).or_insert(0) += 1;
        }
        let future = w
            .reservations
            .iter()
            .filter(|r| r.at(t).unwrap().starts_at > t)
            .count();
        println!(
            "{dt:?}: {} businesses, {} customers, {} reservations ({future} future) {st:?}, {} payments {ps:?}, md missing {}, dup cus {}",
            w.businesses.len(),
            w.customers.len(),
            w.reservations.len(),
            w.payments.len(),
            w.payments.iter().filter(|p| p.metadata_missing).count(),
            w.customers.iter().filter(|c| !c.stripe_duplicates.is_empty()).count(),
        );
        for b in w.businesses.iter().take(8) {
            println!("{b:?}");
        }
        for c in w.customers.iter().take(8) {
            println!("{c:?}");
        }
        println!("{:?}", w.reservations[1000]);
        println!("{:?}", w.payments[1000]);
        assert!(dt.as_secs() < 20);
    }

    #[test]
    fn realistic_shapes() {
        let w = simulate(60, 11, Flavour::Tablehop);
        let jpy = w.businesses.iter().find(|b| b.currency == "jpy");
        if let Some(b) = jpy {
            assert!(w
                .reservations
                .iter()
                .filter(|r| r.business_id == b.id)
                .all(|r| r.versions[0].amount % 100 == 0));
        }
        assert!(w.reservations.iter().all(|r| r.reference.starts_with("TH")));
        assert!(w.customers.iter().any(|c| !c.name.is_ascii()));
        assert!(w.customers.iter().all(|c| c
            .email
            .as_deref()
            .is_none_or(|e| e == e.to_lowercase() && e.contains('@'))));
        assert!(w.customers.iter().all(|c| c
            .phone
            .as_deref()
            .is_none_or(|p| p.starts_with('+') && p[1..].chars().all(|d| d.is_ascii_digit()))));
        let cash_only = w
            .businesses
            .iter()
            .filter(|b| b.stripe_account.is_none())
            .count();
        assert!(cash_only < w.businesses.len() / 3);
        let s = |st: ReservationStatus| {
            w.reservations
                .iter()
                .filter(|r| r.at(w.incident_at).unwrap().status == st)
                .count()
        };
        let n = w.reservations.len();
        assert!(
            s(ReservationStatus::Completed) > n / 2,
            "completed {}",
            s(ReservationStatus::Completed)
        );
        assert!(s(ReservationStatus::Cancelled) > n / 30);
        assert!(s(ReservationStatus::Pending) > 0 && s(ReservationStatus::Pending) < n / 8);
        assert!(s(ReservationStatus::Confirmed) > 0);
        assert!(w.payments.iter().any(|p| p.refunds.len() == 1));
        assert!(w.payments.iter().any(|p| p.method == Method::Cash));
        assert!(w.payments.iter().any(|p| p.metadata_missing));
        assert_eq!(
            ascii_fold("Nguyễn Zoë Müller-Łukasz"),
            "nguyenzoemullerlukasz"
        );
    }
}
