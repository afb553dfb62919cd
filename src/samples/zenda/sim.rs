//! Simulates Zenda's world (see the module docs of [`super`]): studios, then per studio its
//! class types, timetable and members, each member's bookings in time order with the
//! purchases that paid for them, then the merges, erasures, archive moves and numbering
//! that follow from the events.

use super::names::{self, Market, MARKETS};
use super::*;
use crate::samples::simulate::{serial_ids, uniform_time, Density};
use crate::samples::world::{Business, Flavour};
use chrono::{Datelike, Months};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};

const SALT: u64 = 0x7a65_6e64_615f_7331;

/// Mission density: members per studio against the current density.
const MISSION_MEMBERS: f64 = 1.2;

/// A deterministic zenda world of `businesses` studios (internal tenants included).
pub fn simulate(businesses: usize, seed: u64) -> World {
    simulate_at(businesses, seed, Density::Current)
}

fn alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..n)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

fn upper_alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..n)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect()
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// A v4 uuid.
pub(crate) fn uuid4(rng: &mut ChaCha8Rng) -> String {
    let a: u128 = rng.gen();
    let h = format!("{a:032x}");
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        ["8", "9", "a", "b"][rng.gen_range(0..4)],
        &h[17..20],
        &h[20..32]
    )
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

/// A mobile number of `country` in E.164 and as someone typed it.
fn phone(rng: &mut ChaCha8Rng, country: &str) -> (String, String) {
    let style = rng.gen_range(0..10);
    match country {
        "PL" => {
            let n = format!("{}{}", rng.gen_range(5..9), digits(rng, 8));
            let e = format!("+48{n}");
            let t = match style {
                0..=1 => format!("+48 {} {} {}", &n[..3], &n[3..6], &n[6..]),
                2..=3 => format!("{}-{}-{}", &n[..3], &n[3..6], &n[6..]),
                4 => format!("0048{n}"),
                5..=6 => n.clone(),
                _ => e.clone(),
            };
            (e, t)
        }
        "CZ" => {
            let n = format!("{}{}", pick(rng, &[6, 7, 7]), digits(rng, 8));
            let e = format!("+420{n}");
            let t = match style {
                0..=3 => n.clone(),
                4..=5 => format!("+420 {} {} {}", &n[..3], &n[3..6], &n[6..]),
                6 => format!("{} {} {}", &n[..3], &n[3..6], &n[6..]),
                _ => e.clone(),
            };
            (e, t)
        }
        "DE" => {
            let n = format!("15{}{}", rng.gen_range(1..8), digits(rng, 8));
            let e = format!("+49{n}");
            let t = match style {
                0..=3 => format!("0{} {}", &n[..3], &n[3..]),
                4..=5 => format!("+49 {} {}", &n[..3], &n[3..]),
                _ => e.clone(),
            };
            (e, t)
        }
        "AT" => {
            let n = format!("6{}{}", pick(rng, &["64", "76", "99"]), digits(rng, 7));
            let e = format!("+43{n}");
            let t = match style {
                0..=4 => format!("0{} {}", &n[..3], &n[3..]),
                _ => e.clone(),
            };
            (e, t)
        }
        "GR" => {
            let n = format!("69{}{}", rng.gen_range(0..10), digits(rng, 7));
            let e = format!("+30{n}");
            let t = match style {
                0..=3 => n.clone(),
                4..=5 => format!("+30 {} {} {}", &n[..3], &n[3..6], &n[6..]),
                _ => e.clone(),
            };
            (e, t)
        }
        _ => {
            let n = format!("7{}{}", rng.gen_range(4..10), digits(rng, 8));
            let e = format!("+44{n}");
            let t = match style {
                0..=4 => format!("0{} {}", &n[..4], &n[4..]),
                5 => format!("+44 {} {}", &n[..4], &n[4..]),
                _ => e.clone(),
            };
            (e, t)
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// An address as someone typed it: capitals now and then (`Zofia.Nowak@wp.pl`).
fn typed(rng: &mut ChaCha8Rng, e: &str) -> String {
    match rng.gen_range(0..20) {
        0 | 1 => {
            let (l, d) = e.split_once('@').unwrap_or((e, ""));
            let l: Vec<String> = l.split('.').map(capitalise).collect();
            format!("{}@{d}", l.join("."))
        }
        2 => capitalise(e),
        _ => e.to_string(),
    }
}

/// Staff typing a walk-in's address: case and stray spaces (`Zofia.Nowak@WP.pl `).
fn desk_typed(rng: &mut ChaCha8Rng, e: &str) -> String {
    match rng.gen_range(0..10) {
        0 => format!("{} ", typed(rng, e)),
        1 => {
            let (l, d) = e.split_once('@').unwrap_or((e, ""));
            format!("{}@{}", capitalise(l), d.to_uppercase())
        }
        2 => format!(" {e}"),
        _ => e.to_string(),
    }
}

/// A second login's address: Gmail dots or a `+joga` tag, a domain typo, or a new work
/// address.
fn dup_email(rng: &mut ChaCha8Rng, e: &str, first: &str, last: &str) -> String {
    let (local, dom) = e.split_once('@').unwrap_or((e, ""));
    match rng.gen_range(0..5) {
        0 if dom == "gmail.com" => {
            if local.contains('.') {
                format!("{}@{dom}", local.replace('.', ""))
            } else {
                let mid = local.len() / 2;
                format!("{}.{}@{dom}", &local[..mid], &local[mid..])
            }
        }
        1 => format!(
            "{local}+{}@{dom}",
            pick(rng, &["joga", "yoga", "studio", "pilates"])
        ),
        2 => {
            let bad = match dom {
                "wp.pl" => "wp.p".to_string(),
                "gmail.com" => "gmial.com".to_string(),
                "seznam.cz" => "sezanm.cz".to_string(),
                "gmx.de" => "gmx.d".to_string(),
                d => format!("{d}m"),
            };
            format!("{local}@{bad}")
        }
        _ => format!(
            "{}.{}@{}",
            names::fold(first),
            names::fold(last),
            pick(rng, names::WORK_DOMAINS)
        ),
    }
}

/// The drop-in price of a class in the studio's currency (minor units).
fn drop_in_price(rng: &mut ChaCha8Rng, cur: &str, kids: bool) -> i64 {
    let f = if kids { 0.8 } else { 1.0 };
    match cur {
        "PLN" => ((*pick(rng, &[40.0, 45.0, 45.0, 50.0, 55.0, 60.0]) * f) as i64) * 100,
        "CZK" => ((*pick(rng, &[200.0, 220.0, 250.0, 250.0, 280.0, 300.0]) * f) as i64) * 100,
        "GBP" => ((*pick(rng, &[10.0, 12.0, 12.0, 14.0, 16.0, 18.0]) * f) as i64) * 100,
        _ => ((*pick(rng, &[15.0, 16.0, 18.0, 18.0, 20.0, 24.0]) * f) as i64) * 100,
    }
}

fn fee_amount(cur: &str) -> i64 {
    match cur {
        "PLN" => 2000,
        "CZK" => 10000,
        "GBP" => 600,
        _ => 800,
    }
}

fn membership_price(rng: &mut ChaCha8Rng, cur: &str) -> i64 {
    match cur {
        "PLN" => *pick(rng, &[249, 299, 349]) * 100,
        "CZK" => *pick(rng, &[1290, 1490, 1690]) * 100,
        "GBP" => *pick(rng, &[69, 79, 95]) * 100,
        _ => *pick(rng, &[69, 79, 89]) * 100,
    }
}

/// A pass of 10 entries: about 8.5 drop-ins, rounded to whole units (whole koruna).
fn pass_price(drop_in: i64, cur: &str) -> i64 {
    let unit = if cur == "CZK" { 1000 } else { 500 };
    ((drop_in as f64 * 8.5 / unit as f64).round() as i64).max(1) * unit
}

/// `Karnet 10 wejść` and its siblings: the pass label in the studio's language.
pub(crate) fn pass_label(locale: &str) -> &'static str {
    match locale {
        "pl" => "Karnet 10 wejść",
        "cs" => "Permanentka 10 vstupů",
        "de" => "10er-Karte",
        _ => "10-class pass",
    }
}

/// `Unlimited 04/2025`
pub(crate) fn membership_label(d: NaiveDate) -> String {
    format!("Unlimited {}", d.format("%m/%Y"))
}

/// `14.04.2025 18:30`
pub(crate) fn short_when(d: NaiveDate, t: NaiveTime) -> String {
    format!("{} {}", d.format("%d.%m.%Y"), t.format("%H:%M"))
}

const RETAIL: &[(&str, &str, i64)] = &[
    ("pl", "Woda 0,5 l", 600),
    ("pl", "Wypożyczenie maty", 1000),
    ("pl", "Ręcznik", 800),
    ("cs", "Voda 0,5 l", 3000),
    ("cs", "Půjčení podložky", 5000),
    ("de", "Wasser 0,5 l", 250),
    ("de", "Mattenverleih", 300),
    ("en", "Water 500ml", 200),
    ("en", "Mat hire", 300),
];

/// One timetable slot: weekly class.
struct Slot {
    weekday: u32,
    time: NaiveTime,
    /// Index into `Ctx::class_types`.
    class_type: usize,
    instructor: String,
    duration: i64,
    price: i64,
}

struct StudioPlan {
    studio: Studio,
    members: usize,
    slots: usize,
    /// When bookings stop (closed, or the incident).
    end: Timestamp,
}

/// A member's way of paying.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    DropIn,
    Pass,
    Membership,
}

struct Sc {
    /// Index into `Ctx::studios`.
    si: usize,
    tz: Tz,
    slots: Vec<Slot>,
    sessions: HashMap<(usize, NaiveDate), usize>,
    /// When bookings stop (closed, or the incident).
    end: Timestamp,
    /// Sessions run until this time (closed, or three weeks after the incident).
    horizon: Timestamp,
    /// Walk-in addresses already typed here (families share one).
    walkin_emails: Vec<String>,
    /// Kids' parents at this studio (person index), for siblings.
    parents: Vec<usize>,
    /// Last activity per member (index).
    last_activity: HashMap<usize, Timestamp>,
}

struct Ctx {
    rng: ChaCha8Rng,
    t: Timestamp,
    density: Density,
    studios: Vec<Studio>,
    people: Vec<Person>,
    members: Vec<Member>,
    class_types: Vec<ClassType>,
    sessions: Vec<Session>,
    spots: Vec<Spot>,
    purchases: Vec<Purchase>,
    passes: Vec<Pass>,
    memberships: Vec<Membership>,
    credits: Vec<Credit>,
    legacy_declines: Vec<LegacyDecline>,
    /// Logins' addresses (lower case): `people.email` is unique.
    emails: HashSet<String>,
    /// Addresses staff typed for walk-ins (kept apart from new logins by chance).
    walkin_taken: HashSet<String>,
    people_by_country: HashMap<String, Vec<usize>>,
    /// Last activity of any member of each person (index).
    person_last: Vec<Timestamp>,
    /// The studios each person (index) is a member of.
    person_studios: Vec<Vec<i64>>,
}

/// Member and person indices of a new member.
#[derive(Clone, Copy)]
enum Who {
    App,
    Kid,
    WalkIn,
}

/// The world of `businesses` studios at `density` (each a tenth as busy above 200).
pub fn simulate_at(businesses: usize, seed: u64, density: Density) -> World {
    let busy = if businesses > 200 { 0.1 } else { 1.0 };
    simulate_scaled(businesses, seed, density, busy)
}

/// [`simulate_at`] with each studio's members scaled by `busy`.
pub(crate) fn simulate_scaled(businesses: usize, seed: u64, density: Density, busy: f64) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SALT);
    let t = incident_at();
    let plans = plan_studios(&mut rng, businesses, density, busy);
    let mut ctx = Ctx {
        rng,
        t,
        density,
        studios: plans.iter().map(|p| p.studio.clone()).collect(),
        people: Vec::new(),
        members: Vec::new(),
        class_types: Vec::new(),
        sessions: Vec::new(),
        spots: Vec::new(),
        purchases: Vec::new(),
        passes: Vec::new(),
        memberships: Vec::new(),
        credits: Vec::new(),
        legacy_declines: Vec::new(),
        emails: HashSet::new(),
        walkin_taken: HashSet::new(),
        people_by_country: HashMap::new(),
        person_last: Vec::new(),
        person_studios: Vec::new(),
    };
    for (i, p) in plans.iter().enumerate() {
        ctx.studio(i, p);
    }
    ctx.qa_charges();
    let z = ctx.finish();
    World {
        seed,
        flavour: Flavour::Zenda,
        incident_at: t,
        backup_at: backup_at(),
        businesses: z.studios.iter().map(business_of).collect::<Vec<Business>>(),
        customers: Vec::new(),
        reservations: Vec::new(),
        payments: Vec::new(),
        services: Vec::new(),
        zenda: Some(Box::new(z)),
    }
}

fn weighted_market(rng: &mut ChaCha8Rng) -> &'static Market {
    let total: u32 = MARKETS.iter().map(|m| m.weight).sum();
    let mut w = rng.gen_range(0..total);
    for m in MARKETS {
        if w < m.weight {
            return m;
        }
        w -= m.weight;
    }
    &MARKETS[0]
}

/// Internal tenants: (name, slug, country).
const INTERNAL: &[(&str, &str, &str)] = &[
    ("Studio Mantra (TEST)", "studio-mantra-test", "PL"),
    ("Zenda Demo Studio", "demo-yoga-studio", "PL"),
    ("QA Praha", "qa-praha", "CZ"),
    ("Sales Demo Pilates", "sales-demo-pilates", "PL"),
    ("Demo Berlin", "demo-berlin", "DE"),
    ("QA London", "qa-london", "GB"),
];

/// Studios that exist by design when there are enough: (name, town, country).
const FIXED: &[(&str, &str, &str)] = &[
    ("Studio Mantra", "Kraków", "PL"),
    ("Pilates Loft", "Kraków", "PL"),
    ("Pilates Loft", "Berlin", "DE"),
    ("Joga Centrum", "Warszawa", "PL"),
    ("Joga Centrum", "Łódź", "PL"),
    ("Yoga Space", "London", "GB"),
    ("Yoga Space", "Athens", "GR"),
    ("Jóga Vinohrady", "Praha", "CZ"),
];

fn plan_studios(rng: &mut ChaCha8Rng, n: usize, density: Density, busy: f64) -> Vec<StudioPlan> {
    let t = incident_at();
    let backup = backup_at();
    let start = history_start();
    let big = n >= 5;
    let n_internal = if big {
        ((n as f64 * 0.075).round() as usize).clamp(2, INTERNAL.len())
    } else {
        0
    };
    let n_closed = if big {
        ((n as f64 * 0.05).round() as usize).max(1)
    } else {
        0
    };
    let n_post = if big {
        ((n as f64 * 0.05).round() as usize).max(1)
    } else {
        0
    };
    // Roles in a shuffled order: internal, closed, post-backup, the rest regular.
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..order.len()).rev() {
        let j = rng.gen_range(0..=i);
        order.swap(i, j);
    }
    let role = |i: usize| {
        let k = order.iter().position(|&x| x == i).unwrap_or(0);
        if k < n_internal {
            0
        } else if k < n_internal + n_closed {
            1
        } else if k < n_internal + n_closed + n_post {
            2
        } else {
            3
        }
    };
    // ~6 % renamed, ~3 % a new legal entity (at least one of each in a big world).
    let first_regular = n_internal + n_closed + n_post;
    let n_rename = if n >= 20 {
        ((n as f64 * 0.06).round() as usize).max(1)
    } else {
        0
    };
    let n_entity = if n >= 20 {
        ((n as f64 * 0.03).round() as usize).max(1)
    } else {
        0
    };
    let chosen = |i: usize, from: usize, k: usize| order.iter().skip(from).take(k).any(|&x| x == i);
    let mut slugs = HashSet::new();
    let mut fixed = FIXED.iter();
    let mut n_int = 0;
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        let r = role(i);
        let (name, town, market, category, slug_base, plan) = if r == 0 {
            let (nm, slug, c) = INTERNAL[n_int % INTERNAL.len()];
            n_int += 1;
            let m = names::market(c);
            let town = m.towns[0].0;
            (
                nm.to_string(),
                town,
                m,
                "yoga".to_string(),
                slug.to_string(),
                "internal",
            )
        } else {
            let f = if n >= 12 && r == 3 && !chosen(i, first_regular, n_rename) {
                fixed.next()
            } else {
                None
            };
            let (m, nm, town) = match f {
                Some((nm, town, c)) => (names::market(c), nm.to_string(), *town),
                None => {
                    // Names and towns not taken yet (the shared names are the fixed ones).
                    let m = weighted_market(rng);
                    let mut pickn = || {
                        let pool: Vec<&str> = names::studio_names(m.country)
                            .iter()
                            .map(|x| x.0)
                            .filter(|x| !FIXED.iter().any(|f| f.0 == *x))
                            .collect();
                        (*pick(rng, &pool), pick(rng, m.towns).0)
                    };
                    let mut c = pickn();
                    for _ in 0..8 {
                        if !slugs.contains(&names::slugify(&format!("{} {}", c.0, c.1))) {
                            break;
                        }
                        c = pickn();
                    }
                    (m, c.0.to_string(), c.1)
                }
            };
            let category = names::studio_names(m.country)
                .iter()
                .find(|(x, _)| *x == nm)
                .map(|(_, c)| c.to_string())
                .unwrap_or_else(|| "yoga".into());
            let slug = names::slugify(&format!("{nm} {town}"));
            (
                nm,
                town,
                m,
                category,
                slug,
                if rng.gen_bool(0.35) { "pro" } else { "starter" },
            )
        };
        let mut slug = slug_base.clone();
        let mut k = 1;
        while !slugs.insert(slug.clone()) {
            k += 1;
            slug = format!("{slug_base}-{k}");
        }
        let (_, zone_name, streets) = *m_town(market, town);
        let created_at = match r {
            0 => uniform_time(rng, start, utc(2024, 6, 1, 0, 0)),
            1 => uniform_time(rng, start, utc(2022, 6, 1, 0, 0)),
            2 => uniform_time(rng, backup + Duration::days(5), t - Duration::days(30)),
            _ if rng.gen_bool(0.45) => uniform_time(rng, start, utc(2021, 7, 1, 0, 0)),
            _ => uniform_time(rng, start, backup - Duration::days(60)),
        };
        let closed_at = (r == 1).then(|| {
            uniform_time(
                rng,
                created_at + Duration::days(300),
                backup - Duration::days(30),
            )
        });
        let owner = {
            let ns = names::names(market.country);
            format!("{} {}", pick(rng, ns.female), pick(rng, ns.family).1)
        };
        let compact: String = slug.split('-').take(3).collect::<Vec<_>>().join("");
        let tld = match market.country {
            "PL" => "pl",
            "CZ" => "cz",
            "DE" => "de",
            "AT" => "at",
            "GR" => "gr",
            _ => "co.uk",
        };
        let contact_email = if r == 0 {
            format!(
                "{}@zenda.fit",
                pick(rng, &["sales", "qa", "marta", "support"])
            )
        } else {
            match rng.gen_range(0..4) {
                0 => format!("kontakt@{compact}.{tld}"),
                1 => format!("hello@{compact}.{tld}"),
                2 => format!("{compact}@gmail.com"),
                _ => format!("info@{compact}.{tld}"),
            }
        };
        let legal = names::legal_name(market.country, &name, &owner, rng.gen());
        let stripe_account = (r != 0).then(|| format!("acct_1{}", alnum(rng, 16)));
        let mut studio = Studio {
            id: 0,
            slug,
            name: name.clone(),
            former_names: Vec::new(),
            legal_name: legal.clone(),
            category,
            country: market.country.into(),
            locale: market.locale.into(),
            tz: zone_name.into(),
            currency: market.currency.into(),
            contact_email,
            address: format!("{}, {town}", pick(rng, streets)),
            town: town.into(),
            stripe_account,
            former_account: None,
            plan: plan.into(),
            closed_at,
            created_at,
        };
        let end = closed_at.unwrap_or(t);
        // ~6 % renamed (From changes, slug does not).
        if r == 3 && chosen(i, first_regular, n_rename) && end - created_at > Duration::days(200) {
            let until = uniform_time(
                rng,
                created_at + Duration::days(90),
                end - Duration::days(20),
            );
            studio.former_names.push(FormerName {
                name: studio.name.clone(),
                until,
            });
            studio.name = names::renamed(market.country, &studio.name);
        }
        // ~3 % changed legal entity: a new Custom account.
        if r == 3
            && chosen(i, first_regular + n_rename, n_entity)
            && end - created_at > Duration::days(300)
        {
            let until = uniform_time(
                rng,
                created_at + Duration::days(150),
                end - Duration::days(30),
            );
            let old = studio.stripe_account.clone().unwrap_or_default();
            studio.former_account = Some((old, legal.clone(), until));
            studio.stripe_account = Some(format!("acct_1{}", alnum(rng, 16)));
            studio.legal_name = names::legal_name(market.country, &name, &owner, rng.gen());
            if studio.legal_name == legal {
                studio.legal_name = format!("{legal} 2");
            }
        }
        let life = ((end - created_at).num_days() as f64 / 1000.0).clamp(0.12, 1.0);
        let members = if r == 0 {
            rng.gen_range(12..=30)
        } else {
            let base = rng.gen_range(150..=380) as f64 * busy * life;
            density.customers(base.round().max(4.0) as usize, MISSION_MEMBERS)
        };
        let slots = ((members as f64 / 60.0).round() as usize).clamp(2, 6);
        plans.push(StudioPlan {
            studio,
            members,
            slots,
            end,
        });
    }
    plans.sort_by_key(|p| p.studio.created_at);
    for (i, p) in plans.iter_mut().enumerate() {
        p.studio.id = i as i64 + 1;
    }
    plans
}

fn m_town<'a>(
    m: &'a Market,
    town: &str,
) -> &'a (&'static str, &'static str, &'static [&'static str]) {
    m.towns.iter().find(|x| x.0 == town).unwrap_or(&m.towns[0])
}

fn local(tz: Tz, d: NaiveDate, t: NaiveTime) -> Timestamp {
    local_to_utc(d.and_time(t), Some(tz))
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// The nightly archive run (03:30 Warsaw) on `d`.
fn nightly(d: NaiveDate) -> Timestamp {
    local(chrono_tz::Europe::Warsaw, d, hm(3, 30))
}

fn card(rng: &mut ChaCha8Rng) -> (String, String) {
    let b = *pick(
        rng,
        &["visa", "visa", "visa", "mastercard", "mastercard", "amex"],
    );
    (b.to_string(), digits(rng, 4))
}

fn decline_code(rng: &mut ChaCha8Rng) -> String {
    pick(
        rng,
        &[
            "generic_decline",
            "insufficient_funds",
            "insufficient_funds",
            "do_not_honor",
            "expired_card",
            "card_velocity_exceeded",
        ],
    )
    .to_string()
}

impl Ctx {
    fn id(&mut self, prefix: &str) -> String {
        format!("{prefix}_3{}", alnum(&mut self.rng, 23))
    }

    fn studio(&mut self, si: usize, plan: &StudioPlan) {
        let s = self.studios[si].clone();
        let tz = s.tz();
        let first_class = s.created_at + Duration::days(self.rng.gen_range(3..20));
        let end = plan.end;
        if end - first_class < Duration::days(10) {
            return;
        }
        let kids = s.category == "kids";
        // Class types and the weekly timetable.
        let catalogue = names::class_names(&s.category, &s.locale);
        let k = self.rng.gen_range(3..=catalogue.len().clamp(3, 5));
        let mut chosen: Vec<usize> = (0..catalogue.len()).collect();
        for i in (1..chosen.len()).rev() {
            let j = self.rng.gen_range(0..=i);
            chosen.swap(i, j);
        }
        chosen.truncate(k.min(catalogue.len()));
        let mut types = Vec::new();
        for &c in &chosen {
            let (name, dur) = catalogue[c];
            let created = s.created_at + Duration::minutes(self.rng.gen_range(10..600));
            let mut ct = ClassType {
                id: self.class_types.len() as i64 + 1,
                studio_id: s.id,
                name: name.to_string(),
                former: None,
                created_at: created,
            };
            if end - first_class > Duration::days(200) && self.rng.gen_bool(0.07) {
                let until = uniform_time(
                    &mut self.rng,
                    first_class + Duration::days(60),
                    end - Duration::days(10),
                );
                ct.former = Some((ct.name.clone(), until));
                ct.name = names::renamed_class(name, &s.locale);
            }
            types.push((self.class_types.len(), dur));
            self.class_types.push(ct);
        }
        let instructors = names::instructors(&s.country);
        let times: &[(u32, u32)] = if kids {
            &[(16, 0), (16, 30), (17, 0), (17, 30), (10, 0)]
        } else {
            &[
                (7, 0),
                (8, 30),
                (10, 0),
                (12, 0),
                (17, 0),
                (17, 30),
                (18, 30),
                (19, 0),
                (20, 0),
            ]
        };
        let mut slots = Vec::new();
        for _ in 0..plan.slots {
            let (ti, dur) = *pick(&mut self.rng, &types);
            let (h, m) = *pick(&mut self.rng, times);
            let price = drop_in_price(&mut self.rng, &s.currency, kids);
            slots.push(Slot {
                weekday: self.rng.gen_range(0..6),
                time: hm(h, m),
                class_type: ti,
                instructor: pick(&mut self.rng, instructors).to_string(),
                duration: dur,
                price,
            });
        }
        let mut sc = Sc {
            si,
            tz,
            slots,
            sessions: HashMap::new(),
            end,
            horizon: s.closed_at.unwrap_or(self.t + Duration::days(21)),
            walkin_emails: Vec::new(),
            parents: Vec::new(),
            last_activity: HashMap::new(),
        };
        // Members join over the studio's life.
        let mut joins: Vec<Timestamp> = (0..plan.members)
            .map(|_| uniform_time(&mut self.rng, first_class, end - Duration::days(3)))
            .collect();
        joins.sort();
        let walkin_share = match s.country.as_str() {
            "PL" | "CZ" => 0.25,
            _ => 0.2,
        };
        for join in joins {
            let who = if self.rng.gen_bool(walkin_share) {
                Who::WalkIn
            } else if kids {
                Who::Kid
            } else {
                Who::App
            };
            self.member_with_history(&mut sc, who, join, None);
        }
        // Empty future sessions: the next three weeks of the timetable.
        if s.closed_at.is_none() {
            let today = self.t.with_timezone(&tz).date_naive();
            for si2 in 0..sc.slots.len() {
                for d in 0..21 {
                    let date = today + Duration::days(d);
                    if date.weekday().num_days_from_monday() == sc.slots[si2].weekday {
                        self.session_for(&mut sc, si2, date);
                    }
                }
            }
        }
        // Anonymous sales at the desk (water, mats).
        if !s.internal() {
            let n = (plan.members as f64 * 0.15).round() as usize;
            for _ in 0..n {
                let at = uniform_time(&mut self.rng, first_class, end.min(self.t));
                let (_, label, amount) = *pick(
                    &mut self.rng,
                    &RETAIL
                        .iter()
                        .filter(|r| r.0 == s.locale)
                        .copied()
                        .collect::<Vec<_>>(),
                );
                self.desk(
                    &sc,
                    None,
                    PKind::Retail,
                    amount,
                    label.to_string(),
                    None,
                    at,
                );
            }
        }
    }

    /// A member, its bookings, and what follows (a later app signup of a walk-in, a
    /// second login, erasure, archiving). `person` reuses a login.
    fn member_with_history(
        &mut self,
        sc: &mut Sc,
        who: Who,
        join: Timestamp,
        forced: Option<(usize, String, String)>,
    ) -> Option<usize> {
        let s = self.studios[sc.si].clone();
        let internal = s.internal();
        let kids_studio = s.category == "kids";
        let ns = names::names(&s.country);
        let female = self.rng.gen_bool(0.72);
        let given = if female {
            pick(&mut self.rng, ns.female)
        } else {
            pick(&mut self.rng, ns.male)
        }
        .to_string();
        let fam = pick(&mut self.rng, ns.family);
        let family = if female { fam.1 } else { fam.0 }.to_string();
        let child = pick(&mut self.rng, ns.kids).to_string();
        let mi = self.members.len();
        let mut member = Member {
            id: mi as i64 + 1,
            studio_id: s.id,
            created_at: join,
            reminders: self.rng.gen_bool(0.35),
            ..Default::default()
        };
        // A walk-in's real name, for a later signup: (member first, member last, email).
        let mut walkin_real: Option<(String, String, Option<String>)> = None;
        match who {
            Who::WalkIn => {
                // Kids' studios: the child is the walk-in (named by the parent at the desk).
                let (rf, rl) = if kids_studio {
                    (child.clone(), family.clone())
                } else {
                    (given.clone(), family.clone())
                };
                let (mut f, mut l) = (rf.clone(), rl.clone());
                if s.country == "GR" && self.rng.gen_bool(0.4) {
                    f = names::transliterate(&f);
                    l = names::transliterate(&l);
                }
                if s.country == "CZ" && female && !kids_studio && self.rng.gen_bool(0.15) {
                    l = fam.0.to_string();
                }
                if matches!(s.country.as_str(), "PL" | "CZ") && self.rng.gen_bool(0.15) {
                    f = names::strip_diacritics(&f);
                    l = names::strip_diacritics(&l);
                }
                if matches!(s.country.as_str(), "PL" | "CZ") && self.rng.gen_bool(0.10) {
                    // Surname first, all in the first-name field.
                    f = format!("{l} {f}");
                    l = String::new();
                }
                member.first_name = f;
                member.last_name = l;
                let email = if !sc.walkin_emails.is_empty() && self.rng.gen_bool(0.08) {
                    // A family: the address of an earlier walk-in here.
                    Some(pick(&mut self.rng, &sc.walkin_emails).clone())
                } else if self.rng.gen_bool(0.7) {
                    let e = self.fresh_email(&given, &family, &s.country, internal);
                    self.walkin_taken.insert(e.clone());
                    let typed = desk_typed(&mut self.rng, &e);
                    sc.walkin_emails.push(typed.clone());
                    Some(typed)
                } else {
                    None
                };
                member.email = email.clone();
                if self.rng.gen_bool(0.85) {
                    let (e, t) = phone(&mut self.rng, &s.country);
                    member.phone = Some(t);
                    member.phone_e164 = Some(e);
                }
                walkin_real = Some((rf, rl, email));
            }
            Who::App | Who::Kid => {
                // A sibling's parent: a login made before this join.
                let parents: Vec<usize> = sc
                    .parents
                    .iter()
                    .copied()
                    .filter(|&p| self.people[p].created_at < join)
                    .collect();
                let pi = match (&forced, who) {
                    (Some((p, _, _)), _) => *p,
                    (None, Who::Kid) if !parents.is_empty() && self.rng.gen_bool(0.25) => {
                        *pick(&mut self.rng, &parents)
                    }
                    (None, _) => self
                        .reuse_person(&s, join)
                        .unwrap_or_else(|| self.new_person(&s, join, &given, &family)),
                };
                member.person_id = Some(pi as i64 + 1);
                let full = self.people[pi].full_name.clone();
                let (pf, pl) = match full.split_once(' ') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (full.clone(), String::new()),
                };
                let (ff, fl) = match &forced {
                    Some((_, f, l)) => (f.clone(), l.clone()),
                    None if matches!(who, Who::Kid) => (child.clone(), pl.clone()),
                    None => (pf, pl),
                };
                member.first_name = ff;
                member.last_name = fl;
                if matches!(who, Who::Kid) {
                    member.kid = true;
                    sc.parents.push(pi);
                    // Siblings share the parent's login: (studio, person, first) is unique.
                    if self.members.iter().rev().take(400).any(|m| {
                        m.studio_id == s.id
                            && m.person_id == member.person_id
                            && m.first_name == member.first_name
                    }) {
                        return None;
                    }
                } else if self
                    .members
                    .iter()
                    .rev()
                    .take(2000)
                    .any(|m| m.studio_id == s.id && m.person_id == member.person_id && !m.kid)
                {
                    return None;
                }
                if self.rng.gen_bool(0.3) {
                    // A stale copy of the login's address at join.
                    member.email = Some(self.people[pi].live_email_at(join));
                }
                member.phone = self.people[pi].phone.clone();
                member.phone_e164 = self.people[pi].phone_e164.clone();
                // A married name, typed by staff later (~1.5 %).
                if female
                    && !member.kid
                    && self.rng.gen_bool(0.015)
                    && sc.end - join > Duration::days(120)
                {
                    let other = pick(&mut self.rng, ns.family).1.to_string();
                    let at = uniform_time(&mut self.rng, join + Duration::days(30), sc.end);
                    if at <= self.t && other != member.last_name {
                        member.renamed = Some((format!("{other}-{}", member.last_name), at));
                    }
                }
            }
        }
        if let Some(p) = member.person_id {
            let ps = &mut self.person_studios[p as usize - 1];
            if !ps.contains(&s.id) {
                ps.push(s.id);
            }
        }
        self.members.push(member);
        let last = self.activity(sc, mi, join);
        sc.last_activity.insert(mi, last);
        if let Some(p) = self.members[mi].person_id {
            let pl = &mut self.person_last[p as usize - 1];
            *pl = (*pl).max(last);
        }
        if let Some((rf, rl, email)) = walkin_real {
            // A walk-in who later signs up in the app (~40 % of walk-ins: ~7 % of members);
            // half of those after 2022-06 are linked ("merged") into the app row.
            if !internal && self.rng.gen_bool(0.4) {
                let at = last + Duration::days(self.rng.gen_range(1..90));
                if at < sc.end - Duration::days(2) && at < self.t {
                    let pi = match &email {
                        Some(e) if self.rng.gen_bool(0.6) => {
                            let e = e.trim().to_lowercase();
                            (!self.emails.contains(&e))
                                .then(|| self.person_with_email(&s, at, &given, &family, &e))
                        }
                        _ => None,
                    };
                    let pi = pi.unwrap_or_else(|| self.new_person(&s, at, &given, &family));
                    let who2 = if kids_studio { Who::Kid } else { Who::App };
                    let ai = self.member_with_history(sc, who2, at, Some((pi, rf, rl)));
                    if let Some(ai) = ai {
                        if at >= merges_since() && self.rng.gen_bool(0.5) {
                            let m_at = at + Duration::minutes(self.rng.gen_range(5..14 * 1440));
                            if m_at <= self.t {
                                self.members[mi].merged_into = Some((ai as i64 + 1, m_at));
                                self.members[mi].archived_at = Some(m_at);
                            }
                        }
                    }
                }
            }
        } else if !internal && forced.is_none() && self.rng.gen_bool(0.05) {
            // A second login of the same person (~5 % of people): Gmail dots, a tag, a
            // typo, a work address; Greek names transliterated.
            if let Some(pi) = self.members[mi].person_id.map(|p| p as usize - 1) {
                let at = join + Duration::days(self.rng.gen_range(20..400));
                if at < sc.end - Duration::days(2) && at < self.t {
                    let old = self.people[pi].emails[0].0.to_lowercase();
                    let full = self.people[pi].full_name.clone();
                    let (pg, pf) = full
                        .split_once(' ')
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .unwrap_or((full.clone(), String::new()));
                    let (pg2, pf2) = if names::is_greek(&full) {
                        (names::transliterate(&pg), names::transliterate(&pf))
                    } else {
                        (pg.clone(), pf.clone())
                    };
                    let e = dup_email(&mut self.rng, &old, &pg, &pf);
                    if !self.emails.contains(&e) {
                        let p2 = self.person_with_email(&s, at, &pg2, &pf2, &e);
                        let m = &self.members[mi];
                        let (who2, f2, l2) = if m.kid {
                            (Who::Kid, m.first_name.clone(), m.last_name.clone())
                        } else {
                            (Who::App, pg2, pf2)
                        };
                        self.member_with_history(sc, who2, at, Some((p2, f2, l2)));
                    }
                }
            }
        }
        // Archived by staff after the last activity (~6 %); erasure of the login (~1.2 %).
        if self.members[mi].merged_into.is_none() && self.rng.gen_bool(0.06) {
            let at = last + Duration::days(self.rng.gen_range(60..500));
            if at <= self.t {
                self.members[mi].archived_at = Some(at);
            }
        }
        if let Some(p) = self.members[mi].person_id {
            let pi = p as usize - 1;
            if !internal && self.people[pi].deleted_at.is_none() && self.rng.gen_bool(0.012) {
                let at = self.person_last[pi] + Duration::days(self.rng.gen_range(10..400));
                if at <= self.t {
                    self.people[pi].deleted_at = Some(at);
                }
            }
        }
        Some(mi)
    }

    /// An existing login of the same country (and kind of tenant) made before `at`
    /// (~7.5 %).
    fn reuse_person(&mut self, s: &Studio, at: Timestamp) -> Option<usize> {
        if !self.rng.gen_bool(0.13) {
            return None;
        }
        let n = self.people_by_country.get(&pool(s))?.len();
        if n == 0 {
            return None;
        }
        for _ in 0..20 {
            let k = self.rng.gen_range(0..n);
            let p = self.people_by_country[&pool(s)][k];
            let ok = self.people[p].created_at < at
                && self.people[p].deleted_at.is_none()
                && !self.person_studios[p].contains(&s.id);
            if ok {
                return Some(p);
            }
        }
        None
    }

    fn fresh_email(&mut self, given: &str, family: &str, country: &str, internal: bool) -> String {
        let (g, f) = (names::fold(given), names::fold(family));
        loop {
            let e = if internal {
                if self.rng.gen_bool(0.3) {
                    format!("{g}@zenda.fit")
                } else {
                    format!("{g}.{f}{}@example.org", self.rng.gen_range(1..99))
                }
            } else {
                let d = pick(&mut self.rng, names::mail_domains(country));
                match self.rng.gen_range(0..6) {
                    0..=2 => format!("{g}.{f}@{d}"),
                    3 => format!("{g}{f}{}@{d}", self.rng.gen_range(1..99)),
                    4 => format!("{}{f}@{d}", g.chars().next().unwrap_or('x')),
                    _ => format!("{g}_{f}{}@{d}", self.rng.gen_range(70..99)),
                }
            };
            if !self.emails.contains(&e) && !self.walkin_taken.contains(&e) {
                return e;
            }
            // Taken: try another form.
            let d = pick(&mut self.rng, names::mail_domains(country));
            let e2 = format!("{g}.{f}{}@{d}", self.rng.gen_range(100..999));
            if !self.emails.contains(&e2) && !self.walkin_taken.contains(&e2) {
                return e2;
            }
        }
    }

    fn new_person(&mut self, s: &Studio, at: Timestamp, given: &str, family: &str) -> usize {
        let e = self.fresh_email(given, family, &s.country, s.internal());
        self.person_with_email(s, at, given, family, &e)
    }

    fn person_with_email(
        &mut self,
        s: &Studio,
        at: Timestamp,
        given: &str,
        family: &str,
        email: &str,
    ) -> usize {
        let e = email.to_lowercase();
        self.emails.insert(e.clone());
        let typed_e = typed(&mut self.rng, &e);
        let ph = self
            .rng
            .gen_bool(0.8)
            .then(|| phone(&mut self.rng, &s.country));
        let pi = self.people.len();
        let mut p = Person {
            id: pi as i64 + 1,
            emails: vec![(typed_e, at)],
            full_name: format!("{given} {family}"),
            phone: ph.as_ref().map(|x| x.1.clone()),
            phone_e164: ph.map(|x| x.0),
            created_at: at,
            deleted_at: None,
            stripe_customer: None,
            invoice_prefix: upper_alnum(&mut self.rng, 8),
        };
        // ~4 % change their address later (a new work address, another provider).
        if self.rng.gen_bool(0.04) {
            let ch = uniform_time(&mut self.rng, at + Duration::days(20), self.t);
            let dom = pick(&mut self.rng, names::mail_domains(&s.country));
            let new = if self.rng.gen_bool(0.5) {
                format!(
                    "{}.{}@{}",
                    names::fold(given),
                    names::fold(family),
                    pick(&mut self.rng, names::WORK_DOMAINS)
                )
            } else {
                format!("{}{}@{dom}", names::fold(given), names::fold(family))
            };
            if !self.emails.contains(&new) && ch <= self.t {
                self.emails.insert(new.clone());
                p.emails.push((new, ch));
            }
        }
        self.people.push(p);
        self.person_last.push(at);
        self.person_studios.push(Vec::new());
        self.people_by_country.entry(pool(s)).or_default().push(pi);
        pi
    }

    /// The session of `slot` on `date`, made when first needed.
    fn session_for(&mut self, sc: &mut Sc, slot: usize, date: NaiveDate) -> usize {
        if let Some(&i) = sc.sessions.get(&(slot, date)) {
            return i;
        }
        let s = &self.studios[sc.si];
        let locale = s.locale.clone();
        let sl = &sc.slots[slot];
        let start = local(sc.tz, date, sl.time);
        let published = (start - Duration::days(56)).max(s.created_at + Duration::hours(2));
        let mut session = Session {
            id: self.sessions.len() as i64 + 1,
            studio_id: s.id,
            class_type_id: self.class_types[sl.class_type].id,
            title_override: None,
            instructor: sl.instructor.clone(),
            on_date: date,
            start_time: sl.time,
            moved: None,
            duration_min: sl.duration,
            drop_in_price: Some(sl.price),
            cancelled: None,
            created_at: published,
        };
        // A substitute teacher now and then: the title says so.
        if self.rng.gen_bool(0.03) {
            let sub = pick(&mut self.rng, names::instructors(&s.country)).to_string();
            if sub != session.instructor {
                let tname = self.class_types[sl.class_type].name_at(start).to_string();
                session.title_override = Some(format!(
                    "{tname} – {}: {sub}",
                    names::substitute_word(&locale)
                ));
                session.instructor = sub;
            }
        }
        // ~1 % rescheduled (an hour later, or the next day).
        if self.rng.gen_bool(0.01) {
            let at = start - Duration::hours(self.rng.gen_range(24..240));
            if at > published {
                let (nd, nt) = if self.rng.gen_bool(0.5) {
                    (date, sl.time + Duration::hours(1))
                } else {
                    (date + Duration::days(1), sl.time)
                };
                session.moved = Some((date, sl.time, at));
                session.on_date = nd;
                session.start_time = nt;
            }
        }
        // ~1.5 % cancelled by the studio.
        if self.rng.gen_bool(0.015) {
            let at = session.start(sc.tz) - Duration::minutes(self.rng.gen_range(120..5760));
            if at > published {
                let reason = pick(&mut self.rng, names::cancel_reasons(&locale)).to_string();
                session.cancelled = Some((at, reason));
            }
        }
        let i = self.sessions.len();
        self.sessions.push(session);
        sc.sessions.insert((slot, date), i);
        i
    }

    /// A member's bookings from `join`; returns the time of the last activity.
    fn activity(&mut self, sc: &mut Sc, mi: usize, join: Timestamp) -> Timestamp {
        let s = self.studios[sc.si].clone();
        let internal = s.internal();
        let x: f64 = self.rng.gen();
        let mut n = if x < 0.45 {
            self.rng.gen_range(1..=2)
        } else if x < 0.75 {
            self.rng.gen_range(3..=7)
        } else if x < 0.92 {
            self.rng.gen_range(8..=16)
        } else {
            self.rng.gen_range(17..=40)
        };
        if internal {
            n = n.min(6);
        }
        if self.density == Density::Mission {
            n = n.min(20);
        }
        let span_days = match self.rng.gen_range(0..10) {
            0..=3 => self.rng.gen_range(7..90),
            4..=7 => self.rng.gen_range(90..500),
            _ => self.rng.gen_range(500..1600),
        };
        let horizon = (join + Duration::days(span_days))
            .min(sc.end - Duration::hours(2))
            .min(self.t);
        if horizon <= join {
            return join;
        }
        let mut times: Vec<Timestamp> = (0..n)
            .map(|k| {
                if k == 0 {
                    join
                } else {
                    uniform_time(&mut self.rng, join, horizon)
                }
            })
            .collect();
        times.sort();
        let person = self.members[mi].person_id.map(|p| p as usize - 1);
        let benefit_p = match s.country.as_str() {
            "PL" | "CZ" => 0.32,
            "DE" | "AT" => 0.15,
            _ => 0.0,
        };
        let benefit = !internal && self.rng.gen_bool(benefit_p);
        let profile = match self.rng.gen_range(0..100) {
            0..=14 if !internal => Profile::Membership,
            15..=56 => Profile::Pass,
            _ => Profile::DropIn,
        };
        let mut st = MemberState {
            pass: None,
            membership: None,
            membership_tried: false,
            credit: 0,
            first: true,
        };
        let mut last = join;
        let preferred: Vec<usize> = (0..2)
            .map(|_| self.rng.gen_range(0..sc.slots.len()))
            .collect();
        for bt in times {
            let slot = if self.rng.gen_bool(0.8) {
                *pick(&mut self.rng, &preferred)
            } else {
                self.rng.gen_range(0..sc.slots.len())
            };
            let Some(sess) = self.pick_session(sc, slot, bt) else {
                continue;
            };
            let a = self.book(sc, mi, person, bt, sess, benefit, profile, &mut st);
            last = last.max(a);
        }
        last
    }

    /// The session a booking at `bt` takes: the slot's next date after a lead of 0–14 days.
    fn pick_session(&mut self, sc: &mut Sc, slot: usize, bt: Timestamp) -> Option<usize> {
        let lead = match self.rng.gen_range(0..10) {
            0..=3 => self.rng.gen_range(0..2),
            4..=7 => self.rng.gen_range(2..7),
            _ => self.rng.gen_range(7..15),
        };
        let sl = &sc.slots[slot];
        let mut date = bt.with_timezone(&sc.tz).date_naive() + Duration::days(lead);
        while date.weekday().num_days_from_monday() != sl.weekday {
            date += Duration::days(1);
        }
        if local(sc.tz, date, sl.time) < bt + Duration::hours(1) {
            date += Duration::days(7);
        }
        let start = local(sc.tz, date, sl.time);
        if start >= sc.horizon {
            return None;
        }
        let i = self.session_for(sc, slot, date);
        let s = &self.sessions[i];
        if s.cancelled.as_ref().is_some_and(|(at, _)| *at <= bt) {
            return None;
        }
        if s.start_at(bt, sc.tz) < bt + Duration::minutes(30) {
            return None;
        }
        Some(i)
    }

    /// Ensures the person has a Stripe customer by `at`. Before 2024-01-15 an address
    /// change did not reach Stripe: ~3 % of those customers keep a stale one.
    fn customer(&mut self, pi: usize, at: Timestamp) -> String {
        if let Some((c, _)) = &self.people[pi].stripe_customer {
            return c.clone();
        }
        let id = format!("cus_{}", alnum(&mut self.rng, 14));
        self.people[pi].stripe_customer = Some((id.clone(), at - Duration::seconds(2)));
        let p = &self.people[pi];
        if at < resync_since() && p.emails.len() == 1 && self.rng.gen_bool(0.08) {
            let ch = uniform_time(&mut self.rng, at + Duration::days(3), resync_since());
            let full = p.full_name.clone();
            let (g, f) = full.split_once(' ').unwrap_or((&full, ""));
            let new = format!(
                "{}.{}{}@{}",
                names::fold(g),
                names::fold(f),
                self.rng.gen_range(1..99),
                pick(&mut self.rng, &["gmail.com", "outlook.com", "icloud.com"])
            );
            if ch <= self.t && !self.emails.contains(&new) {
                self.emails.insert(new.clone());
                self.people[pi].emails.push((new, ch));
            }
        }
        id
    }

    /// What `zenda_member_id` (or Era L's `member`) holds for member `mi` at `at`.
    fn md_member(&self, mi: usize, at: Timestamp) -> Option<String> {
        let (a, z) = member_id_bug();
        let m = &self.members[mi];
        match m.person_id {
            Some(p) if at >= a && at < z => Some(p.to_string()),
            _ => Some(m.id.to_string()),
        }
    }

    /// A purchase made online at `start` (Era L card form or Era C Checkout). Returns the
    /// purchase index and when it was paid, if it was by the incident.
    #[allow(clippy::too_many_arguments)]
    fn online(
        &mut self,
        sc: &Sc,
        mi: usize,
        kind: PKind,
        amount: i64,
        label: String,
        spot: Option<String>,
        start: Timestamp,
        retry: bool,
    ) -> Option<(usize, Timestamp)> {
        let s = self.studios[sc.si].clone();
        let person = self.members[mi].person_id.map(|p| p as usize - 1);
        let (brand, last4) = card(&mut self.rng);
        let email = self.mail_addr(mi, start);
        if start < era_c1() {
            // Era L: a token and POST /v1/charges; declines leave charges without a row.
            let mut at = start + Duration::seconds(self.rng.gen_range(15..90));
            if self.rng.gen_bool(0.07) {
                for _ in 0..self.rng.gen_range(1..=2) {
                    let (b2, l2) = if self.rng.gen_bool(0.4) {
                        card(&mut self.rng)
                    } else {
                        (brand.clone(), last4.clone())
                    };
                    let ch = format!("ch_1{}", alnum(&mut self.rng, 23));
                    let code = decline_code(&mut self.rng);
                    self.legacy_declines.push(LegacyDecline {
                        studio_id: s.id,
                        member_id: mi as i64 + 1,
                        charge: ch,
                        at,
                        amount,
                        description: legacy_description(&label, s.name_at(at)),
                        spot: spot.clone(),
                        email: email.clone().unwrap_or_default(),
                        code,
                        last4: l2,
                        brand: b2,
                    });
                    at += Duration::seconds(self.rng.gen_range(30..200));
                }
                if self.rng.gen_bool(0.3) {
                    return None;
                }
            }
            if at > self.t {
                return None;
            }
            // Charges API ids (`ch_1…`), not an intent's (`ch_3…`).
            let ch = format!("ch_1{}", alnum(&mut self.rng, 23));
            let md = if self.rng.gen_bool(0.05) {
                None
            } else {
                Some((mi as i64 + 1).to_string())
            };
            let pi = self.purchases.len();
            self.purchases.push(Purchase {
                id: uuid4(&mut self.rng),
                studio_id: s.id,
                member_id: Some(mi as i64 + 1),
                kind,
                spot,
                label,
                method: PMethod::OnlineCard,
                channel: Channel::Legacy,
                stripe_object: Some(ch.clone()),
                amount,
                created_at: at,
                outcome: Outcome::Paid(at),
                live: true,
                charge: Some(ch),
                brand,
                last4,
                md_member: md,
                started_at: start,
                ..Default::default()
            });
            return Some((pi, at));
        }
        // Era C: a Checkout Session; the row is created when it starts.
        let cus = person
            .filter(|_| !s.internal())
            .map(|p| self.customer(p, start));
        let cs = format!("cs_live_{}", alnum(&mut self.rng, 58));
        let x: f64 = self.rng.gen();
        let expires = start + Duration::hours(24);
        let mut declines = Vec::new();
        let mut at = start + Duration::seconds(self.rng.gen_range(40..300));
        let mut intent = None;
        let outcome = if x < 0.18 {
            Outcome::Expired(expires)
        } else {
            if x < 0.18 + 0.07 {
                intent = Some(self.id("pi"));
                for _ in 0..self.rng.gen_range(1..=2) {
                    let l4 = if self.rng.gen_bool(0.4) {
                        digits(&mut self.rng, 4)
                    } else {
                        last4.clone()
                    };
                    let ch = self.id("ch");
                    let code = decline_code(&mut self.rng);
                    declines.push(Decline {
                        charge: ch,
                        at,
                        code,
                        last4: l4,
                    });
                    at += Duration::seconds(self.rng.gen_range(30..200));
                }
            }
            if !declines.is_empty() && self.rng.gen_bool(0.2) {
                Outcome::Expired(expires)
            } else {
                Outcome::Paid(at)
            }
        };
        let outcome = match outcome {
            Outcome::Paid(a) | Outcome::Expired(a) if a > self.t => Outcome::Open,
            o => o,
        };
        let paid = matches!(outcome, Outcome::Paid(_));
        if paid && intent.is_none() {
            intent = Some(self.id("pi"));
        }
        let charge = paid.then(|| self.id("ch"));
        let pi = self.purchases.len();
        self.purchases.push(Purchase {
            id: uuid4(&mut self.rng),
            studio_id: s.id,
            member_id: Some(mi as i64 + 1),
            kind,
            spot: spot.clone(),
            label: label.clone(),
            method: PMethod::OnlineCard,
            channel: Channel::Checkout,
            stripe_object: Some(cs),
            amount,
            created_at: start,
            outcome,
            live: !s.internal(),
            intent,
            charge,
            declines,
            brand,
            last4,
            customer: cus,
            md_member: self.md_member(mi, start),
            started_at: start,
            ..Default::default()
        });
        match outcome {
            Outcome::Paid(a) => Some((pi, a)),
            Outcome::Expired(_) if !retry && self.rng.gen_bool(0.5) => {
                let again = start + Duration::minutes(self.rng.gen_range(2..180));
                if again > self.t {
                    return None;
                }
                self.online(sc, mi, kind, amount, label, spot, again, true)
            }
            _ => None,
        }
    }

    /// The address the app mails member `mi` at `t`.
    fn mail_addr(&self, mi: usize, t: Timestamp) -> Option<String> {
        let m = &self.members[mi];
        match m.person_id {
            Some(p) => Some(self.people[p as usize - 1].live_email_at(t)),
            None => m.email.clone(),
        }
    }

    /// A sale at the desk: Terminal (from 2023-10-02) or cash. Returns the purchase index.
    #[allow(clippy::too_many_arguments)]
    fn desk(
        &mut self,
        sc: &Sc,
        mi: Option<usize>,
        kind: PKind,
        amount: i64,
        label: String,
        spot: Option<String>,
        at: Timestamp,
    ) -> usize {
        let s = self.studios[sc.si].clone();
        let cash_p = match s.country.as_str() {
            "PL" | "CZ" => 0.32,
            _ => 0.12,
        };
        let cash = at < terminal_since() || self.rng.gen_bool(cash_p);
        // ~1 %: staff entered it, then voided it and entered it again.
        let mut at = at;
        if self.rng.gen_bool(0.01) {
            self.purchases.push(Purchase {
                id: uuid4(&mut self.rng),
                studio_id: s.id,
                member_id: mi.map(|m| m as i64 + 1),
                kind,
                spot: spot.clone(),
                label: label.clone(),
                method: if cash {
                    PMethod::Cash
                } else {
                    PMethod::Terminal
                },
                amount,
                created_at: at,
                outcome: Outcome::Void(at + Duration::minutes(2)),
                live: !s.internal(),
                started_at: at,
                ..Default::default()
            });
            at += Duration::minutes(3);
        }
        let pi = self.purchases.len();
        let mut p = Purchase {
            id: uuid4(&mut self.rng),
            studio_id: s.id,
            member_id: mi.map(|m| m as i64 + 1),
            kind,
            spot,
            label,
            amount,
            created_at: at,
            live: !s.internal(),
            started_at: at,
            ..Default::default()
        };
        if cash {
            p.method = PMethod::Cash;
            p.outcome = Outcome::Paid(at);
            p.email_receipt = self.rng.gen_bool(0.5);
        } else {
            let (brand, last4) = card(&mut self.rng);
            let pi_id = self.id("pi");
            p.method = PMethod::Terminal;
            p.channel = Channel::Terminal;
            p.stripe_object = Some(pi_id.clone());
            p.intent = Some(pi_id);
            let mut paid = at + Duration::seconds(self.rng.gen_range(8..40));
            if self.rng.gen_bool(0.02) {
                let ch = self.id("ch");
                p.declines.push(Decline {
                    charge: ch,
                    at: paid,
                    code: decline_code(&mut self.rng),
                    last4: digits(&mut self.rng, 4),
                });
                paid += Duration::seconds(self.rng.gen_range(20..90));
            }
            p.charge = Some(self.id("ch"));
            p.brand = brand;
            p.last4 = last4;
            p.outcome = if paid <= self.t {
                Outcome::Paid(paid)
            } else {
                Outcome::Open
            };
            p.md_member = mi
                .filter(|_| self.rng.gen_bool(0.4))
                .map(|m| (m + 1).to_string());
        }
        self.purchases.push(p);
        pi
    }

    /// A fee on the saved card (off-session intent) at `at`.
    fn fee(&mut self, sc: &Sc, mi: usize, kind: PKind, spot: &Spot, sess: usize, at: Timestamp) {
        let Some(pi) = self.members[mi].person_id.map(|p| p as usize - 1) else {
            return;
        };
        let Some((cus, _)) = self.people[pi].stripe_customer.clone() else {
            return;
        };
        if at > self.t {
            return;
        }
        let s = self.studios[sc.si].clone();
        let session = &self.sessions[sess];
        let (d, tm) = session.when_at(at);
        let title = {
            let ct = &self.class_types[session.class_type_id as usize - 1];
            session
                .title_override
                .clone()
                .unwrap_or_else(|| ct.name_at(at).to_string())
        };
        let word = if kind == PKind::LateCancelFee {
            "Late cancellation fee"
        } else {
            "No-show fee"
        };
        let label = format!("{word} – {title}, {}", short_when(d, tm));
        let (brand, last4) = card(&mut self.rng);
        let intent = self.id("pi");
        let failed = self.rng.gen_bool(0.12);
        let mut p = Purchase {
            id: uuid4(&mut self.rng),
            studio_id: s.id,
            member_id: Some(mi as i64 + 1),
            kind,
            spot: Some(spot.id.clone()),
            label,
            method: PMethod::OnlineCard,
            channel: Channel::OffSession,
            stripe_object: Some(intent.clone()),
            amount: fee_amount(&s.currency),
            created_at: at,
            live: !s.internal(),
            intent: Some(intent),
            brand,
            last4: last4.clone(),
            customer: Some(cus),
            md_member: self.md_member(mi, at),
            fee_for: Some(spot.id.clone()),
            started_at: at,
            ..Default::default()
        };
        let done = at + Duration::seconds(self.rng.gen_range(2..20));
        if failed {
            p.declines.push(Decline {
                charge: self.id("ch"),
                at: done,
                code: decline_code(&mut self.rng),
                last4,
            });
            p.outcome = Outcome::Failed(done);
        } else {
            p.charge = Some(self.id("ch"));
            p.outcome = Outcome::Paid(done);
        }
        if done > self.t {
            p.outcome = Outcome::Open;
            p.charge = None;
            p.declines.clear();
        }
        self.purchases.push(p);
    }

    /// Starts a membership for member `mi` at `at` with its invoices; returns its index.
    fn membership(&mut self, sc: &Sc, mi: usize, at: Timestamp) -> Option<usize> {
        let s = self.studios[sc.si].clone();
        let person = self.members[mi].person_id.map(|p| p as usize - 1);
        let bank = matches!(s.country.as_str(), "DE" | "AT") && self.rng.gen_bool(0.4);
        if !bank && (at < memberships_since() || person.is_none()) {
            return None;
        }
        let price = membership_price(&mut self.rng, &s.currency);
        let months = self.rng.gen_range(2..=18u32);
        let planned = at + Duration::days(30 * months as i64);
        let id = self.memberships.len();
        let sub = (!bank).then(|| format!("sub_1{}", alnum(&mut self.rng, 23)));
        let cus = match (bank, person) {
            (false, Some(p)) => Some(self.customer(p, at)),
            _ => None,
        };
        self.memberships.push(Membership {
            id: id as i64 + 1,
            studio_id: s.id,
            member_id: mi as i64 + 1,
            subscription: sub,
            price,
            started_at: at,
            ended_at: None,
            bank_transfer: bank,
            failed: false,
        });
        let tz = sc.tz;
        let start_date = at.with_timezone(&tz).date_naive();
        let mut k = 0u32;
        let mut ended = None;
        loop {
            let pstart = start_date + Months::new(k);
            let pend = start_date + Months::new(k + 1) - Duration::days(1);
            let created = if k == 0 {
                at
            } else {
                local(tz, pstart, hm(6, 0)) + Duration::minutes(self.rng.gen_range(0..120))
            };
            if created > self.t || created >= planned || created >= sc.end {
                if created < self.t {
                    ended = Some(created.min(sc.end));
                }
                break;
            }
            let label = membership_label(pstart);
            if bank {
                // Entered by staff when the standing order arrives (~5th of the month).
                let entered = local(tz, pstart + Duration::days(4), hm(10, 0))
                    + Duration::minutes(self.rng.gen_range(0..400));
                if entered <= self.t {
                    self.purchases.push(Purchase {
                        id: uuid4(&mut self.rng),
                        studio_id: s.id,
                        member_id: Some(mi as i64 + 1),
                        kind: PKind::Membership,
                        label,
                        method: PMethod::BankTransfer,
                        amount: price,
                        created_at: entered,
                        outcome: Outcome::Paid(entered),
                        live: !s.internal(),
                        email_receipt: true,
                        started_at: entered,
                        ..Default::default()
                    });
                }
                k += 1;
                continue;
            }
            let intent = self.id("pi");
            let inv = format!("in_1{}", alnum(&mut self.rng, 23));
            let (brand, last4) = card(&mut self.rng);
            let mut attempt = created + Duration::seconds(if k == 0 { 5 } else { 3600 });
            let mut declines = Vec::new();
            let mut outcome = Outcome::Open;
            for n in 0..4 {
                if attempt > self.t {
                    break;
                }
                let ok = if k == 0 && n == 0 {
                    self.rng.gen_bool(0.99)
                } else if n == 0 {
                    self.rng.gen_bool(0.96)
                } else {
                    self.rng.gen_bool(0.5)
                };
                if ok {
                    outcome = Outcome::Paid(attempt);
                    break;
                }
                declines.push(Decline {
                    charge: self.id("ch"),
                    at: attempt,
                    code: decline_code(&mut self.rng),
                    last4: last4.clone(),
                });
                if n == 3 || k == 0 {
                    let f = attempt + Duration::hours(1);
                    if f <= self.t {
                        outcome = Outcome::Failed(f);
                    }
                    break;
                }
                attempt +=
                    Duration::days([3, 5, 6][n]) + Duration::minutes(self.rng.gen_range(0..90));
            }
            let paid = matches!(outcome, Outcome::Paid(_));
            let failed = matches!(outcome, Outcome::Failed(_));
            let charge = paid.then(|| self.id("ch"));
            self.purchases.push(Purchase {
                id: uuid4(&mut self.rng),
                studio_id: s.id,
                member_id: Some(mi as i64 + 1),
                kind: PKind::Membership,
                label,
                method: PMethod::OnlineCard,
                channel: Channel::Invoice,
                stripe_object: Some(inv),
                amount: price,
                created_at: created,
                outcome,
                live: !s.internal(),
                intent: Some(intent),
                charge,
                declines,
                brand,
                last4,
                customer: cus.clone(),
                invoice: Some(Box::new(Inv {
                    membership_id: id as i64 + 1,
                    number: String::new(),
                    period: (pstart, pend),
                    first: k == 0,
                })),
                started_at: created,
                ..Default::default()
            });
            if failed {
                if let Outcome::Failed(f) = outcome {
                    ended = Some(f);
                }
                self.memberships[id].failed = true;
                break;
            }
            k += 1;
        }
        self.memberships[id].ended_at = ended;
        // The first invoice failed: no membership to book with.
        if ended.is_some_and(|e| e <= at + Duration::hours(2)) {
            return None;
        }
        Some(id)
    }

    /// A pass bought at `at` by member `mi`: online or at the desk. Returns its index.
    fn buy_pass(
        &mut self,
        sc: &Sc,
        mi: usize,
        price: i64,
        at: Timestamp,
    ) -> Option<(usize, Timestamp)> {
        let s = self.studios[sc.si].clone();
        let label = pass_label(&s.locale).to_string();
        let app = self.members[mi].person_id.is_some();
        let (pi, paid) = if app && self.rng.gen_bool(0.7) {
            self.online(sc, mi, PKind::Pass, price, label, None, at, false)?
        } else {
            let pi = self.desk(sc, Some(mi), PKind::Pass, price, label, None, at);
            let paid = self.purchases[pi].paid_at()?;
            (pi, paid)
        };
        let id = self.passes.len();
        let valid = paid.with_timezone(&sc.tz).date_naive() + Duration::days(90);
        self.passes.push(Pass {
            id: id as i64 + 1,
            studio_id: s.id,
            member_id: mi as i64 + 1,
            purchase: self.purchases[pi].id.clone(),
            entries: 10,
            created_at: paid,
            valid_until: valid,
            uses: Vec::new(),
        });
        Some((id, paid))
    }

    /// One booking by member `mi` at `bt` of session `sess`, with its payment and its
    /// life until the incident. Returns the time of its last event.
    #[allow(clippy::too_many_arguments)]
    fn book(
        &mut self,
        sc: &mut Sc,
        mi: usize,
        person: Option<usize>,
        bt: Timestamp,
        sess: usize,
        benefit: bool,
        profile: Profile,
        st: &mut MemberState,
    ) -> Timestamp {
        let t = self.t;
        let tz = sc.tz;
        let s = self.studios[sc.si].clone();
        let price = self.sessions[sess].drop_in_price.unwrap_or(0);
        let first = std::mem::replace(&mut st.first, false);
        let mut created = bt;
        let mut purchase: Option<usize> = None;
        let mut pass_used: Option<usize> = None;
        let spot_id = uuid4(&mut self.rng);
        let active_membership = st.membership.filter(|&m| {
            let ms = &self.memberships[m];
            ms.started_at <= bt && ms.ended_at.is_none_or(|e| bt < e)
        });
        let paid_with = if first && self.rng.gen_bool(0.15) {
            PaidWith::Intro
        } else if benefit && self.rng.gen_bool(0.85) {
            PaidWith::BenefitCard
        } else if active_membership.is_some() {
            PaidWith::Membership
        } else if profile == Profile::Membership && !st.membership_tried {
            st.membership_tried = true;
            match self.membership(sc, mi, bt) {
                Some(m) => {
                    st.membership = Some(m);
                    PaidWith::Membership
                }
                None => PaidWith::DropIn,
            }
        } else if profile == Profile::Pass || (profile == Profile::Membership && st.pass.is_some())
        {
            let date = self.sessions[sess].when_at(bt).0;
            let usable = st.pass.filter(|&p| {
                let ps = &self.passes[p];
                ps.left_at(bt) > 0 && ps.valid_until >= date && ps.created_at <= bt
            });
            match usable {
                Some(p) => {
                    pass_used = Some(p);
                    PaidWith::Pass
                }
                None => {
                    let pp = pass_price(price.max(100), &s.currency);
                    let before = Duration::minutes(self.rng.gen_range(2..15));
                    let at = (bt - before).max(self.members[mi].created_at);
                    match self.buy_pass(sc, mi, pp, at) {
                        Some((p, paid)) if paid <= bt + Duration::minutes(30) => {
                            st.pass = Some(p);
                            pass_used = Some(p);
                            created = created.max(paid + Duration::seconds(20));
                            PaidWith::Pass
                        }
                        _ => return bt,
                    }
                }
            }
        } else if self.rng.gen_bool(0.01) {
            PaidWith::Comp
        } else {
            PaidWith::DropIn
        };
        // A drop-in: online (a purchase first, the spot when paid), credit, or at the desk.
        let paid_with = if paid_with == PaidWith::DropIn {
            let online_ok = match person {
                Some(_) => self.rng.gen_bool(0.75),
                None => {
                    bt >= era_c1() && self.members[mi].email.is_some() && self.rng.gen_bool(0.15)
                }
            };
            if online_ok && st.credit >= price && price > 0 {
                st.credit -= price;
                let (d, tm) = self.sessions[sess].when_at(bt);
                let title = self.title(sess, bt);
                let pi = self.purchases.len();
                self.purchases.push(Purchase {
                    id: uuid4(&mut self.rng),
                    studio_id: s.id,
                    member_id: Some(mi as i64 + 1),
                    kind: PKind::DropIn,
                    spot: Some(spot_id.clone()),
                    label: format!("Drop-in: {title}, {}", short_when(d, tm)),
                    method: PMethod::CreditBalance,
                    amount: price,
                    created_at: bt,
                    outcome: Outcome::Paid(bt),
                    live: !s.internal(),
                    started_at: bt,
                    ..Default::default()
                });
                self.credits.push(Credit {
                    id: 0,
                    studio_id: s.id,
                    member_id: mi as i64 + 1,
                    amount: -price,
                    reason: "used".into(),
                    spot: Some(spot_id.clone()),
                    purchase: Some(self.purchases[pi].id.clone()),
                    at: bt,
                });
                purchase = Some(pi);
                PaidWith::DropIn
            } else if online_ok && price > 0 {
                let (d, tm) = self.sessions[sess].when_at(bt);
                let title = self.title(sess, bt);
                let label = format!("Drop-in: {title}, {}", short_when(d, tm));
                match self.online(
                    sc,
                    mi,
                    PKind::DropIn,
                    price,
                    label,
                    Some(spot_id.clone()),
                    bt,
                    false,
                ) {
                    Some((pi, paid)) => {
                        purchase = Some(pi);
                        created = paid + Duration::seconds(self.rng.gen_range(1..5));
                        PaidWith::DropIn
                    }
                    None => return bt,
                }
            } else {
                PaidWith::PayAtStudio
            }
        } else {
            paid_with
        };
        if created > t {
            return bt;
        }
        let session_start =
            |ctx: &Ctx, sess: usize, at: Timestamp| ctx.sessions[sess].start_at(at, tz);
        if session_start(self, sess, created) < created + Duration::minutes(10) {
            return bt;
        }
        let priced = matches!(paid_with, PaidWith::DropIn | PaidWith::PayAtStudio);
        let guests = if created >= guests_since() {
            match self.rng.gen_range(0..100) {
                0..=7 => 1,
                8..=9 => 2,
                _ => 0,
            }
        } else {
            0
        };
        let waitlisted = matches!(
            paid_with,
            PaidWith::Pass | PaidWith::Membership | PaidWith::BenefitCard
        ) && self.rng.gen_bool(0.03);
        let mut spot = Spot {
            id: spot_id,
            member_id: mi as i64 + 1,
            created_at: created,
            versions: vec![SpotV {
                at: created,
                ev: if waitlisted {
                    SpotEv::Waitlisted
                } else {
                    SpotEv::Booked
                },
                session_id: sess as i64 + 1,
                state: if waitlisted {
                    SpotState::Waitlisted
                } else {
                    SpotState::Reserved
                },
                paid_with,
                price: if priced { price } else { 0 },
                guests,
                checked_in_at: None,
                cancelled_at: None,
            }],
            archived_at: None,
            pass: None,
            purchase: purchase.map(|p| self.purchases[p].id.clone()),
        };
        let push = |spot: &mut Spot, at: Timestamp, ev: SpotEv, f: &dyn Fn(&mut SpotV)| {
            let mut v = spot.versions.last().cloned().unwrap_or_default();
            v.at = at.max(v.at);
            v.ev = ev;
            f(&mut v);
            spot.versions.push(v);
        };
        let use_pass = |ctx: &mut Ctx, spot: &mut Spot, at: Timestamp| {
            if let Some(p) = pass_used {
                ctx.passes[p].uses.push((at, 1));
                spot.pass = Some((ctx.passes[p].id, ctx.passes[p].left_at(at)));
            }
        };
        let mut last = created;
        let mut sess = sess;
        if waitlisted {
            let s0 = session_start(self, sess, created);
            if self.rng.gen_bool(0.6) && s0 - created > Duration::hours(2) {
                let at = uniform_time(
                    &mut self.rng,
                    created + Duration::minutes(10),
                    s0 - Duration::hours(1),
                );
                let cancelled_before = self.sessions[sess]
                    .cancelled
                    .as_ref()
                    .is_some_and(|(c, _)| *c <= at);
                if at <= t && !cancelled_before {
                    push(&mut spot, at, SpotEv::Promoted, &|v| {
                        v.state = SpotState::Reserved
                    });
                    use_pass(self, &mut spot, at);
                    last = at;
                }
            }
        } else {
            use_pass(self, &mut spot, created);
        }
        // Moved to another session (~4 %).
        let s0 = session_start(self, sess, last);
        if spot
            .versions
            .last()
            .is_some_and(|v| v.state == SpotState::Reserved)
            && self.rng.gen_bool(0.04)
            && s0 - last > Duration::hours(30)
        {
            let mt = uniform_time(
                &mut self.rng,
                last + Duration::hours(1),
                s0 - Duration::hours(24),
            );
            if mt <= t {
                let slot = self.rng.gen_range(0..sc.slots.len());
                let lead = Duration::hours(self.rng.gen_range(12..72));
                if let Some(ns) = self.pick_session(sc, slot, mt + lead) {
                    if ns != sess && self.sessions[ns].start_at(mt, tz) > mt + Duration::hours(6) {
                        sess = ns;
                        push(&mut spot, mt, SpotEv::Moved, &|v| {
                            v.session_id = ns as i64 + 1
                        });
                        last = mt;
                    }
                }
            }
        }
        // Guests changed (~1.5 %).
        let s0 = session_start(self, sess, last);
        if last >= guests_since() && self.rng.gen_bool(0.015) && s0 - last > Duration::hours(3) {
            let at = uniform_time(
                &mut self.rng,
                last + Duration::minutes(5),
                s0 - Duration::hours(2),
            );
            if at <= t {
                let g = (spot.versions.last().map(|v| v.guests).unwrap_or(0) + 1) % 3;
                push(&mut spot, at, SpotEv::Guests, &|v| v.guests = g);
                last = at;
            }
        }
        // How it ends: the member cancels, staff remove it, the studio cancels the class,
        // or the class happens.
        let s0 = session_start(self, sess, last);
        let x: f64 = self.rng.gen();
        let mut intent: Option<(Timestamp, SpotEv)> = None;
        if x < 0.12 && s0 - last > Duration::hours(13) {
            intent = Some((
                uniform_time(
                    &mut self.rng,
                    last + Duration::minutes(5),
                    s0 - Duration::hours(12),
                ),
                SpotEv::Cancelled,
            ));
        } else if x < 0.16 && s0 - last > Duration::minutes(20) {
            let from = (s0 - Duration::hours(12)).max(last + Duration::minutes(1));
            intent = Some((
                uniform_time(&mut self.rng, from, s0 - Duration::minutes(5)),
                SpotEv::LateCancel,
            ));
        } else if x < 0.17 && paid_with != PaidWith::DropIn && s0 - last > Duration::minutes(30) {
            let to = (last + Duration::days(3)).min(s0 - Duration::minutes(10));
            intent = Some((
                uniform_time(&mut self.rng, last + Duration::minutes(5), to),
                SpotEv::Removed,
            ));
        }
        let class_cancel = self.sessions[sess]
            .cancelled
            .clone()
            .filter(|(c, _)| *c > last && intent.is_none_or(|(i, _)| *c < i));
        let state_now = spot.versions.last().map(|v| v.state).unwrap_or_default();
        let returns_pass = state_now == SpotState::Reserved && spot.pass.is_some();
        if let Some((ct, _)) = class_cancel {
            if ct <= t {
                push(&mut spot, ct, SpotEv::ClassCancelled, &|v| {
                    v.state = SpotState::ClassCancelled;
                    v.cancelled_at = Some(ct);
                });
                last = ct;
                if returns_pass {
                    if let Some(p) = pass_used {
                        self.passes[p].uses.push((ct, -1));
                    }
                }
                if let Some(pi) = purchase.filter(|_| state_now == SpotState::Reserved) {
                    if self.purchases[pi].method == PMethod::OnlineCard && self.rng.gen_bool(0.6) {
                        let at = ct + Duration::minutes(self.rng.gen_range(1..90));
                        self.refund(pi, at, price, false);
                    } else {
                        self.credits.push(Credit {
                            id: 0,
                            studio_id: s.id,
                            member_id: mi as i64 + 1,
                            amount: price,
                            reason: "class_cancelled".into(),
                            spot: Some(spot.id.clone()),
                            purchase: Some(self.purchases[pi].id.clone()),
                            at: ct,
                        });
                        st.credit += price;
                    }
                }
            }
            self.spots.push(spot);
            return last;
        }
        if let Some((at, ev)) = intent {
            if at <= t {
                let state = match ev {
                    SpotEv::Cancelled => SpotState::Cancelled,
                    SpotEv::LateCancel => SpotState::LateCancel,
                    _ => SpotState::Removed,
                };
                push(&mut spot, at, ev, &|v| {
                    v.state = state;
                    if state != SpotState::Removed {
                        v.cancelled_at = Some(at);
                    }
                });
                last = at;
                let was_reserved = state_now == SpotState::Reserved;
                if was_reserved && state != SpotState::LateCancel {
                    if let Some(p) = pass_used {
                        self.passes[p].uses.push((at, -1));
                    }
                }
                if state == SpotState::Cancelled {
                    if let Some(pi) = purchase.filter(|_| was_reserved) {
                        if self.purchases[pi].method == PMethod::OnlineCard {
                            self.credits.push(Credit {
                                id: 0,
                                studio_id: s.id,
                                member_id: mi as i64 + 1,
                                amount: price,
                                reason: "cancelled_in_time".into(),
                                spot: Some(spot.id.clone()),
                                purchase: Some(self.purchases[pi].id.clone()),
                                at,
                            });
                            st.credit += price;
                        }
                    }
                }
                let feeable = matches!(paid_with, PaidWith::Membership | PaidWith::DropIn)
                    && at >= fees_since()
                    && was_reserved;
                if state == SpotState::LateCancel && feeable && self.rng.gen_bool(0.6) {
                    let f_at = at + Duration::minutes(self.rng.gen_range(2..30));
                    self.fee(sc, mi, PKind::LateCancelFee, &spot, sess, f_at);
                }
            }
            self.spots.push(spot);
            return last;
        }
        // The class.
        let sstart = session_start(self, sess, last);
        let dur = self.sessions[sess].duration_min;
        if sstart <= t
            && spot
                .versions
                .last()
                .is_some_and(|v| v.state == SpotState::Reserved)
        {
            let r: f64 = self.rng.gen();
            if r < 0.505 {
                let at = sstart + Duration::minutes(self.rng.gen_range(-15..6));
                if at <= t {
                    push(&mut spot, at, SpotEv::CheckedIn, &|v| {
                        v.state = SpotState::Attended;
                        v.checked_in_at = Some(at);
                    });
                    last = at;
                    if paid_with == PaidWith::PayAtStudio && price > 0 {
                        let (d, tm) = self.sessions[sess].when_at(at);
                        let title = self.title(sess, at);
                        let pi = self.desk(
                            sc,
                            Some(mi),
                            PKind::DropIn,
                            price,
                            format!("Drop-in: {title}, {}", short_when(d, tm)),
                            Some(spot.id.clone()),
                            at,
                        );
                        spot.purchase = Some(self.purchases[pi].id.clone());
                    }
                }
            } else if r < 0.57 {
                let at = sstart
                    + Duration::minutes(dur)
                    + Duration::minutes(self.rng.gen_range(60..1200));
                if at <= t {
                    push(&mut spot, at, SpotEv::NoShow, &|v| {
                        v.state = SpotState::NoShow
                    });
                    last = at;
                    let feeable = matches!(paid_with, PaidWith::Membership | PaidWith::DropIn)
                        && at >= fees_since();
                    if feeable && self.rng.gen_bool(0.5) {
                        let f_at = at + Duration::minutes(self.rng.gen_range(5..120));
                        self.fee(sc, mi, PKind::NoShowFee, &spot, sess, f_at);
                    }
                }
            } else if paid_with == PaidWith::PayAtStudio && price > 0 && self.rng.gen_bool(0.7) {
                // Nobody took attendance, but the money was taken at the desk.
                let at = sstart - Duration::minutes(self.rng.gen_range(2..15));
                if at <= t {
                    let (d, tm) = self.sessions[sess].when_at(at);
                    let title = self.title(sess, at);
                    let pi = self.desk(
                        sc,
                        Some(mi),
                        PKind::DropIn,
                        price,
                        format!("Drop-in: {title}, {}", short_when(d, tm)),
                        Some(spot.id.clone()),
                        at,
                    );
                    spot.purchase = Some(self.purchases[pi].id.clone());
                    last = at;
                }
            }
            last = last.max(sstart.min(t));
        }
        self.spots.push(spot);
        last
    }

    fn title(&self, sess: usize, at: Timestamp) -> String {
        let s = &self.sessions[sess];
        s.title_override.clone().unwrap_or_else(|| {
            self.class_types[s.class_type_id as usize - 1]
                .name_at(at)
                .to_string()
        })
    }

    /// A refund of `amount` on purchase `pi` at `at` (by the app, or by support in the
    /// Dashboard when `dashboard`).
    fn refund(&mut self, pi: usize, at: Timestamp, amount: i64, dashboard: bool) {
        let p = &self.purchases[pi];
        let Some(paid) = p.paid_at() else { return };
        let left = p.amount - p.refunds.iter().map(|r| r.amount).sum::<i64>();
        let amount = amount.min(left);
        let at = at.max(paid + Duration::minutes(3));
        if amount <= 0
            || at > self.t
            || p.method == PMethod::BankTransfer
            || p.method == PMethod::CreditBalance
        {
            return;
        }
        let cash = p.method == PMethod::Cash;
        let dashboard = dashboard && !cash;
        let id = (!cash).then(|| format!("re_3{}", alnum(&mut self.rng, 23)));
        let in_app = !dashboard || at >= refund_webhook_since();
        self.purchases[pi].refunds.push(ZRefund {
            id,
            at,
            amount,
            cash,
            dashboard,
            in_app,
        });
    }

    /// ~30 live QA charges (2.00 PLN / 15.00 CZK) on internal tenants, refunded at once.
    fn qa_charges(&mut self) {
        let internal: Vec<usize> = (0..self.studios.len())
            .filter(|&i| {
                self.studios[i].internal()
                    && matches!(self.studios[i].currency.as_str(), "PLN" | "CZK")
            })
            .collect();
        let staff: Vec<usize> = (0..self.members.len())
            .filter(|&m| {
                internal.contains(&(self.members[m].studio_id as usize - 1))
                    && self.members[m].person_id.is_some()
            })
            .collect();
        if staff.is_empty() {
            return;
        }
        let n = (self.studios.len() as f64 * 0.75).round() as usize;
        for _ in 0..n {
            let mi = *pick(&mut self.rng, &staff);
            let si = self.members[mi].studio_id as usize - 1;
            let s = self.studios[si].clone();
            let at = uniform_time(
                &mut self.rng,
                era_c1().max(self.members[mi].created_at),
                self.t - Duration::days(1),
            );
            let amount = if s.currency == "PLN" { 200 } else { 1500 };
            let sc = Sc {
                si,
                tz: s.tz(),
                slots: Vec::new(),
                sessions: HashMap::new(),
                end: self.t,
                horizon: self.t,
                walkin_emails: Vec::new(),
                parents: Vec::new(),
                last_activity: HashMap::new(),
            };
            if let Some((pi, paid)) = self.online(
                &sc,
                mi,
                PKind::Retail,
                amount,
                "QA live test".into(),
                None,
                at,
                true,
            ) {
                self.purchases[pi].live = true;
                let after = Duration::minutes(self.rng.gen_range(2..30));
                self.refund(pi, paid + after, amount, false);
            }
        }
    }

    /// Refunds and disputes of paid purchases, the archive job, numbering and ids.
    fn finish(mut self) -> Zenda {
        let t = self.t;
        // Refunds (4 % full, 3 % partial) and disputes (~0.15 %, 70 % memberships).
        for pi in 0..self.purchases.len() {
            let p = &self.purchases[pi];
            let Some(paid) = p.paid_at() else { continue };
            if !p.refunds.is_empty()
                || matches!(p.method, PMethod::BankTransfer | PMethod::CreditBalance)
                || p.kind == PKind::Retail && p.member_id.is_none()
            {
                continue;
            }
            let internal = self.studios[p.studio_id as usize - 1].internal();
            if internal {
                continue;
            }
            let kind = p.kind;
            let amount = p.amount;
            let card = p.channel != Channel::None;
            let x: f64 = self.rng.gen();
            let dashboard = self.rng.gen_bool(0.25);
            let at = paid + Duration::minutes(self.rng.gen_range(60..30 * 1440));
            if x < 0.04 {
                self.refund(pi, at, amount, dashboard);
            } else if x < 0.07 {
                let part = match kind {
                    PKind::Pass => amount * self.rng.gen_range(3..10) / 10,
                    PKind::Membership => amount * self.rng.gen_range(30..80) / 100,
                    _ => amount / 2,
                };
                let part =
                    if self.studios[self.purchases[pi].studio_id as usize - 1].currency == "CZK" {
                        (part / 100) * 100
                    } else {
                        part
                    };
                self.refund(pi, at, part, dashboard);
            } else if card {
                let p_dispute = if kind == PKind::Membership {
                    0.0055
                } else {
                    0.0006
                };
                if self.rng.gen_bool(p_dispute) {
                    let d_at = paid + Duration::days(self.rng.gen_range(10..60));
                    if d_at <= t {
                        let close = d_at + Duration::days(self.rng.gen_range(30..75));
                        let closed = (close <= t).then(|| (close, !self.rng.gen_bool(0.6)));
                        self.purchases[pi].dispute = Some(Dispute {
                            id: format!("du_1{}", alnum(&mut self.rng, 23)),
                            at: d_at,
                            closed,
                        });
                    }
                }
            }
        }
        // Anonymisation follows the erasure of the login. (Siblings on one login would
        // both become `Anonymised` under UNIQUE (studio_id, person_id, first_name): such
        // logins are not erased.)
        let mut rows_of: HashMap<(i64, i64), usize> = HashMap::new();
        for m in &self.members {
            if let Some(p) = m.person_id {
                *rows_of.entry((m.studio_id, p)).or_insert(0) += 1;
            }
        }
        for ((_, p), n) in rows_of {
            if n > 1 {
                self.people[p as usize - 1].deleted_at = None;
            }
        }
        for m in &mut self.members {
            if let Some(p) = m.person_id {
                if let Some(d) = self.people[p as usize - 1].deleted_at {
                    m.anonymised_at = Some(d.max(m.created_at));
                }
            }
        }
        // The archive job: spots of sessions older than 540 days, nightly at 03:30 Warsaw.
        let job = archive_job_since().date_naive();
        for sp in &mut self.spots {
            let Some(v) = sp.versions.last() else {
                continue;
            };
            let s = &self.sessions[v.session_id as usize - 1];
            let day = (s.on_date + Duration::days(ARCHIVE_AFTER_DAYS + 1)).max(job);
            let at = nightly(day);
            if at <= t && at > v.at {
                sp.archived_at = Some(at);
            }
        }
        // Ids in order of creation, as the sequences gave them.
        let people_map = serial_ids(self.people.iter().map(|p| p.created_at));
        let member_map = serial_ids(self.members.iter().map(|m| m.created_at));
        let ct_map = serial_ids(self.class_types.iter().map(|c| c.created_at));
        let sess_map = serial_ids(self.sessions.iter().map(|s| s.created_at));
        let pass_map = serial_ids(self.passes.iter().map(|p| p.created_at));
        let ms_map = serial_ids(self.memberships.iter().map(|m| m.started_at));
        let pm = |id: i64| people_map[id as usize - 1];
        let mm = |id: i64| member_map[id as usize - 1];
        for p in &mut self.people {
            p.id = pm(p.id);
        }
        for m in &mut self.members {
            m.id = mm(m.id);
            m.person_id = m.person_id.map(pm);
            m.merged_into = m.merged_into.map(|(x, at)| (mm(x), at));
        }
        for c in &mut self.class_types {
            c.id = ct_map[c.id as usize - 1];
        }
        for s in &mut self.sessions {
            s.id = sess_map[s.id as usize - 1];
            s.class_type_id = ct_map[s.class_type_id as usize - 1];
        }
        for sp in &mut self.spots {
            sp.member_id = mm(sp.member_id);
            for v in &mut sp.versions {
                v.session_id = sess_map[v.session_id as usize - 1];
            }
            sp.pass = sp.pass.map(|(p, left)| (pass_map[p as usize - 1], left));
        }
        for p in &mut self.purchases {
            p.member_id = p.member_id.map(mm);
            if let Some(inv) = p.invoice.as_mut() {
                inv.membership_id = ms_map[inv.membership_id as usize - 1];
            }
        }
        for p in &mut self.passes {
            p.id = pass_map[p.id as usize - 1];
            p.member_id = mm(p.member_id);
        }
        for m in &mut self.memberships {
            m.id = ms_map[m.id as usize - 1];
            m.member_id = mm(m.member_id);
        }
        for c in &mut self.credits {
            c.member_id = mm(c.member_id);
        }
        for d in &mut self.legacy_declines {
            d.member_id = mm(d.member_id);
        }
        self.people.sort_by_key(|p| p.id);
        self.members.sort_by_key(|m| m.id);
        self.class_types.sort_by_key(|c| c.id);
        self.sessions.sort_by_key(|s| s.id);
        self.passes.sort_by_key(|p| p.id);
        self.memberships.sort_by_key(|m| m.id);
        self.credits.sort_by_key(|c| (c.at, c.member_id, c.amount));
        for (i, c) in self.credits.iter_mut().enumerate() {
            c.id = i as i64 + 1;
        }
        self.spots
            .sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        self.purchases
            .sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        // Document numbers: per studio and local calendar year, in order of payment.
        let mut paid: Vec<(i64, Timestamp, usize)> = self
            .purchases
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.paid_at().map(|a| (p.studio_id, a, i)))
            .collect();
        paid.sort();
        let mut seq: HashMap<(i64, i32), u32> = HashMap::new();
        for (sid, at, i) in paid {
            let tz = self.studios[sid as usize - 1].tz();
            let y = at.with_timezone(&tz).year();
            let n = seq.entry((sid, y)).or_insert(0);
            *n += 1;
            self.purchases[i].doc_no = Some(format!("{y}/{:05}", n));
        }
        // Invoice numbers per person (the customer's prefix), across studios.
        let person_of: HashMap<i64, i64> = self
            .members
            .iter()
            .filter_map(|m| m.person_id.map(|p| (m.id, p)))
            .collect();
        let mut inv_seq: HashMap<i64, u32> = HashMap::new();
        for i in 0..self.purchases.len() {
            if self.purchases[i].channel != Channel::Invoice {
                continue;
            }
            let Some(p) = self.purchases[i].member_id.and_then(|m| person_of.get(&m)) else {
                continue;
            };
            let n = inv_seq.entry(*p).or_insert(0);
            *n += 1;
            let prefix = self.people[*p as usize - 1].invoice_prefix.clone();
            if let Some(inv) = self.purchases[i].invoice.as_mut() {
                inv.number = format!("{prefix}-{:04}", n);
            }
        }
        Zenda {
            studios: self.studios,
            people: self.people,
            members: self.members,
            class_types: self.class_types,
            sessions: self.sessions,
            spots: self.spots,
            purchases: self.purchases,
            passes: self.passes,
            memberships: self.memberships,
            credits: self.credits,
            legacy_declines: self.legacy_declines,
        }
    }
}

/// Logins are shared by studios of one country; internal tenants keep their own.
fn pool(s: &Studio) -> String {
    if s.internal() {
        format!("{}/internal", s.country)
    } else {
        s.country.clone()
    }
}

struct MemberState {
    pass: Option<usize>,
    membership: Option<usize>,
    membership_tried: bool,
    credit: i64,
    first: bool,
}
