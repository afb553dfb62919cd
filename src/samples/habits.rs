//! Habits of real people and apps that make customer linkage hard, common to every flavour:
//! the same person looks different from one source to the next, and different people look
//! alike. Each habit is decided by a hash of (seed, habit, id), never by a renderer's random
//! stream, so a habit changes only the records it touches and the rest of the output stays
//! as it was; a seed gives the same habits every time.
//!
//! What the truth says: the truth is the app's own rows (see [`super::truth`]), so two app
//! rows are two customers even when one person typed both (kelpie and pedalry already make
//! such second rows, and the truth keeps them apart unless the app merged them). A person
//! coming back under another identity is therefore drawn where it is one person in the
//! truth: in Stripe and in Stripe's receipt mails, under the one app customer it belongs to.
//! [`aliases`] lists, per truth customer, the other emails and Stripe customer ids these
//! habits gave it, and the truth file carries them (table `customer_aliases`) so an
//! evaluation can tell a duplicate of a customer from a phantom.
//!
//! The habits (rates are shares of the records they can apply to):
//! * **returning** (~2.5 % of card customers with an email): the person comes back later with
//!   a new address, is not recognised at checkout and gets a second Stripe customer with that
//!   address and no app metadata; later charges belong to it and their receipts go there;
//! * **email variants** (~6 % of Stripe customers): the address typed at checkout differs
//!   from the app's: other case, a `+tag`, a domain typo (`gmial.com`, `gmail.con`), two
//!   letters of the local part transposed or one dropped;
//! * **stale email** (~2.5 %): Stripe keeps an older address the person no longer uses;
//! * **phone only** (~2.5 % of those with a phone): the Stripe customer has no email and the
//!   phone in national format where the app stored E.164;
//! * **name variants** (~6 % of Stripe customers): accents dropped or added (José / Jose),
//!   family name first, or an initial (`J. Smith`);
//! * **partner's card** (~4 % of card payments): the cardholder name on the charge is
//!   someone else's (a partner with the same family name, or another person);
//! * **families** (~2 % of customers, in the app itself): a second person of a household
//!   registers with the same email as the first, with their own given name; two app rows,
//!   two customers, one address: they must stay apart.

use super::simulate::ascii_fold;
use super::world::{Customer, World};
use crate::util::time::Timestamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Per mille of card customers with an email who come back under a new address.
const RETURNING: u64 = 25;
/// Per mille of Stripe customers: phone only, stale email, email variant (exclusive).
const PHONE_ONLY: u64 = 25;
const STALE_EMAIL: u64 = 25;
const EMAIL_VARIANT: u64 = 60;
/// Per mille of Stripe customers whose name is written another way.
const NAME_VARIANT: u64 = 60;
/// Per mille of card payments paid with another person's card.
const PARTNER_CARD: u64 = 40;
/// Per mille of customers who share the email of an earlier customer of the same business.
const FAMILY: u64 = 20;

fn hash(s: &str) -> u64 {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    // Finalise (FNV alone leaves low bits poorly mixed for near-identical inputs).
    let mut z = h ^ (h >> 33);
    z = z.wrapping_mul(0xff51_afd7_ed55_8ccd);
    z ^ (z >> 33)
}

fn roll(seed: u64, habit: &str, id: i64) -> u64 {
    hash(&format!("{habit}:{seed}:{id}"))
}

fn rng_for(seed: u64, habit: &str, id: i64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(roll(seed, habit, id))
}

fn pick<'a>(rng: &mut ChaCha8Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

/// `(given, family)` of a "Given Family" name; `None` for one-word names (`山田太郎`).
fn split(name: &str) -> Option<(&str, &str)> {
    let (g, f) = name.trim().rsplit_once(' ')?;
    (!g.is_empty() && !f.is_empty()).then_some((g.trim(), f))
}

const GIVEN: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Laura",
    "Marco", "Nina", "Oscar", "Paula", "Sam", "Tom", "Vera",
];
const FAMILY_NAMES: &[&str] = &[
    "Baker", "Costa", "Dubois", "Fischer", "Garcia", "Hughes", "Jansen", "Kelly", "Moreau",
    "Novak", "Rossi", "Silva", "Tanaka", "Weber",
];
const OLD_DOMAINS: &[&str] = &["hotmail.com", "yahoo.com", "aol.com", "gmx.net", "live.com"];
const NEW_DOMAINS: &[&str] = &["gmail.com", "icloud.com", "outlook.com", "proton.me"];

/// An address the person once used (before the app's): from the name, on an old webmail.
fn old_address(rng: &mut ChaCha8Rng, c: &Customer, current: &str) -> String {
    let (local, dom) = current.split_once('@').unwrap_or((current, ""));
    let base = match split(&c.name) {
        Some((g, f)) => {
            let (g, f) = (ascii_fold(g), ascii_fold(f));
            if g.is_empty() || f.is_empty() {
                local.to_string()
            } else {
                format!("{g}{f}")
            }
        }
        None => local.to_string(),
    };
    let mut d = pick(rng, OLD_DOMAINS);
    if d == dom {
        d = "yahoo.co.uk";
    }
    format!("{base}{}@{d}", rng.gen_range(10..100))
}

/// A new address of a returning person.
fn new_address(rng: &mut ChaCha8Rng, c: &Customer, current: &str) -> String {
    let (local, dom) = current.split_once('@').unwrap_or((current, ""));
    let base = match split(&c.name).map(|(g, f)| (ascii_fold(g), ascii_fold(f))) {
        Some((g, f)) if !g.is_empty() && !f.is_empty() => match rng.gen_range(0..3) {
            0 => format!("{g}.{f}"),
            1 => format!("{}{f}", &g[..1]),
            _ => format!("{f}.{g}"),
        },
        _ => local.to_string(),
    };
    let mut d = pick(rng, NEW_DOMAINS);
    if d == dom {
        d = "me.com";
    }
    let n = rng.gen_range(1..100);
    let addr = format!("{base}@{d}");
    if addr == current {
        format!("{base}{n}@{d}")
    } else {
        addr
    }
}

/// The address as typed another way: other case, `+tag`, a domain typo, two letters of the
/// local part transposed or one dropped. Never the same text as `e`.
pub(crate) fn email_variant(rng: &mut ChaCha8Rng, e: &str) -> String {
    let (local, dom) = e.split_once('@').unwrap_or((e, ""));
    let chars: Vec<char> = local.chars().collect();
    let v = match rng.gen_range(0..5) {
        0 => {
            let tag = pick(rng, &["spa", "book", "promo", "web", "2024", "shop"]);
            format!("{local}+{tag}@{dom}")
        }
        1 => {
            let typo = match dom {
                "gmail.com" => pick(rng, &["gmial.com", "gmail.con", "gmal.com", "gmail.co"]),
                "hotmail.com" => pick(rng, &["hotmial.com", "hotmail.con", "hotmal.com"]),
                "yahoo.com" => pick(rng, &["yaho.com", "yahoo.con", "yahooo.com"]),
                "outlook.com" => pick(rng, &["outlok.com", "outlook.con"]),
                "icloud.com" => pick(rng, &["iclod.com", "icloud.con"]),
                _ => "",
            };
            if typo.is_empty() {
                match dom.strip_suffix(".com") {
                    Some(stem) => format!("{local}@{stem}.con"),
                    None => format!("{local}@{}", dom.replacen('.', "..", 1)),
                }
            } else {
                format!("{local}@{typo}")
            }
        }
        2 if chars.len() >= 3 => {
            // Two neighbouring letters swapped (not the first).
            let i = rng.gen_range(1..chars.len() - 1);
            let mut c = chars.clone();
            c.swap(i, i + 1);
            format!("{}@{dom}", c.into_iter().collect::<String>())
        }
        3 if chars.len() >= 4 => {
            let i = rng.gen_range(1..chars.len());
            let mut c = chars.clone();
            c.remove(i);
            format!("{}@{dom}", c.into_iter().collect::<String>())
        }
        _ => {
            // Ann.Lee@Gmail.com
            let mut out = String::with_capacity(e.len());
            let mut up = true;
            for ch in e.chars() {
                if up {
                    out.extend(ch.to_uppercase());
                } else {
                    out.push(ch);
                }
                up = !ch.is_alphanumeric();
            }
            out
        }
    };
    if v == e {
        format!("{local}+1@{dom}")
    } else {
        v
    }
}

/// A phone in the national form of `country` (`+447700900123` -> `07700 900123`), or the
/// E.164 text when the country is not known.
pub(crate) fn national_phone(e164: &str, country: &str) -> String {
    let cc = match country {
        "US" => "1",
        "GB" => "44",
        "DE" => "49",
        "FR" => "33",
        "NL" => "31",
        "IE" => "353",
        "JP" => "81",
        "AU" => "61",
        "ES" => "34",
        "PT" => "351",
        "IT" => "39",
        "EG" => "20",
        _ => return e164.to_string(),
    };
    let Some(rest) = e164.strip_prefix('+').and_then(|x| x.strip_prefix(cc)) else {
        return e164.to_string();
    };
    if rest.len() < 7 || !rest.chars().all(|c| c.is_ascii_digit()) {
        return e164.to_string();
    }
    match country {
        "US" if rest.len() == 10 => format!("({}) {}-{}", &rest[..3], &rest[3..6], &rest[6..]),
        "ES" | "PT" | "IT" => format!("{} {} {}", &rest[..3], &rest[3..6], &rest[6..]),
        _ => format!("0{} {}", &rest[..4], &rest[4..]),
    }
}

/// Accents a name has dropped or gained.
fn accents(name: &str) -> Option<String> {
    if !name.is_ascii() {
        let mut out = String::with_capacity(name.len());
        for ch in name.chars() {
            if ch.is_ascii() {
                out.push(ch);
                continue;
            }
            let f = ascii_fold(&ch.to_string());
            if f.is_empty() {
                return None; // a script without an ASCII spelling
            }
            if ch.is_uppercase() {
                let mut c = f.chars();
                out.extend(c.next().map(|x| x.to_ascii_uppercase()));
                out.push_str(c.as_str());
            } else {
                out.push_str(&f);
            }
        }
        return Some(out);
    }
    const ADD: &[(&str, &str)] = &[
        ("Jose", "José"),
        ("Rene", "René"),
        ("Zoe", "Zoë"),
        ("Andre", "André"),
        ("Noel", "Noël"),
        ("Chloe", "Chloé"),
        ("Ines", "Inês"),
        ("Joao", "João"),
        ("Lopez", "López"),
        ("Garcia", "García"),
        ("Martinez", "Martínez"),
        ("Perez", "Pérez"),
        ("Muller", "Müller"),
        ("Sofia", "Sofía"),
        ("Lucia", "Lucía"),
        ("Helene", "Hélène"),
        ("Francois", "François"),
    ];
    let words: Vec<String> = name
        .split(' ')
        .map(|w| {
            ADD.iter()
                .find(|(a, _)| *a == w)
                .map(|(_, b)| b.to_string())
                .unwrap_or_else(|| w.to_string())
        })
        .collect();
    let out = words.join(" ");
    (out != name).then_some(out)
}

/// The name written another way, or `None` when it has no other way (one-word names).
pub(crate) fn name_variant(rng: &mut ChaCha8Rng, name: &str) -> Option<String> {
    let (g, f) = split(name)?;
    let initial = g.chars().next()?;
    let kind = rng.gen_range(0..4);
    if kind == 0 {
        if let Some(a) = accents(name) {
            return Some(a);
        }
    }
    Some(match kind {
        0 | 1 => format!("{f} {g}"),
        2 => format!("{initial}. {f}"),
        _ => format!("{f}, {g}"),
    })
}

/// A returning person's second identity in Stripe.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Returning {
    /// When they came back (the second Stripe customer's creation).
    pub(crate) at: Timestamp,
    pub(crate) email: String,
    /// `cus_...` of the second Stripe customer.
    pub(crate) cus: String,
}

/// The second identity of `c` if `c` is a returning person who came back by `t`. Only a
/// card customer with an email: someone Stripe already knew under the app's address.
pub(crate) fn returning(seed: u64, c: &Customer, t: Timestamp) -> Option<Returning> {
    let e = c.email.as_deref()?;
    c.stripe_customer.as_ref()?;
    if roll(seed, "returning", c.id) % 1000 >= RETURNING {
        return None;
    }
    let mut rng = rng_for(seed, "returning-who", c.id);
    let span = (t - c.created_at).num_seconds().max(2);
    let at = c.created_at + chrono::Duration::seconds(rng.gen_range(span / 3..span));
    let email = new_address(&mut rng, c, e);
    let cus: String = (0..14)
        .map(|_| {
            let i = rng.gen_range(0..62u8);
            char::from(match i {
                0..=9 => b'0' + i,
                10..=35 => b'a' + i - 10,
                _ => b'A' + i - 36,
            })
        })
        .collect();
    (at <= t).then(|| Returning {
        at,
        email,
        cus: format!("cus_{cus}"),
    })
}

/// How the Stripe customer of `c` differs from the app's row, if it does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StripeEmail {
    /// No email; the phone in national format.
    PhoneOnly(String),
    /// An address the person used before.
    Stale(String),
    /// The app's address typed another way.
    Variant(String),
}

/// The email habit of `c`'s Stripe customer (`country` for the phone's national form).
pub(crate) fn stripe_email(seed: u64, c: &Customer, country: &str) -> Option<StripeEmail> {
    let e = c.email.as_deref()?;
    let r = roll(seed, "stripe-email", c.id) % 1000;
    let mut rng = rng_for(seed, "stripe-email-how", c.id);
    let country = if c.home_country.is_empty() {
        country
    } else {
        &c.home_country
    };
    if r < PHONE_ONLY {
        let p = c.phone.as_deref()?;
        return Some(StripeEmail::PhoneOnly(national_phone(p, country)));
    }
    if r < PHONE_ONLY + STALE_EMAIL {
        return Some(StripeEmail::Stale(old_address(&mut rng, c, e)));
    }
    if r < PHONE_ONLY + STALE_EMAIL + EMAIL_VARIANT {
        return Some(StripeEmail::Variant(email_variant(&mut rng, e)));
    }
    None
}

/// The name on `c`'s Stripe customer when it is written another way.
pub(crate) fn stripe_name(seed: u64, c: &Customer) -> Option<String> {
    if roll(seed, "stripe-name", c.id) % 1000 >= NAME_VARIANT {
        return None;
    }
    name_variant(&mut rng_for(seed, "stripe-name-how", c.id), &c.name)
}

/// Applies the Stripe habits of `c` to how its Stripe customer shows it.
pub(crate) fn stripe_shown(seed: u64, c: &Customer, country: &str, sh: &mut super::stripe::Shown) {
    match stripe_email(seed, c, country) {
        Some(StripeEmail::PhoneOnly(p)) => {
            sh.email = None;
            sh.phone = Some(p);
        }
        Some(StripeEmail::Stale(e) | StripeEmail::Variant(e)) => sh.email = Some(e),
        None => {}
    }
    if let Some(n) = stripe_name(seed, c) {
        sh.name = n;
    }
}

/// The receipt address of a charge of `c` made at `at`, when a habit sets it: the returning
/// person's new address after they came back, else the Stripe customer's address (`None`
/// inside: a phone-only customer gets no receipt). `None`: no habit, as before.
pub(crate) fn charge_email(
    seed: u64,
    c: &Customer,
    country: &str,
    at: Timestamp,
    t: Timestamp,
) -> Option<Option<String>> {
    if let Some(r) = returning(seed, c, t) {
        if at >= r.at {
            return Some(Some(r.email));
        }
    }
    match stripe_email(seed, c, country)? {
        StripeEmail::PhoneOnly(_) => Some(None),
        StripeEmail::Stale(e) | StripeEmail::Variant(e) => Some(Some(e)),
    }
}

/// The second Stripe customer of a returning person: their new address, the app's name,
/// no metadata (the checkout did not know them).
pub(crate) fn returning_json(r: &Returning, c: &Customer, currency: &str) -> serde_json::Value {
    let sh = super::stripe::Shown {
        name: c.name.clone(),
        email: Some(r.email.clone()),
        phone: None,
    };
    let mut rng = rng_for(0, &r.cus, c.id);
    super::stripe::customer_json(
        &r.cus,
        r.at,
        &sh,
        serde_json::Map::new(),
        currency,
        &mut rng,
    )
}

/// The Stripe customer a charge of `c` made at `at` belongs to when a habit moved it: the
/// returning person's second customer.
pub(crate) fn charge_customer(
    seed: u64,
    c: &Customer,
    at: Timestamp,
    t: Timestamp,
) -> Option<String> {
    returning(seed, c, t).filter(|r| at >= r.at).map(|r| r.cus)
}

/// How a charge of `c` shows its payer when a habit changes it: the returning person's new
/// address, another person's name as cardholder. `sh`: how the Stripe customer shows it.
pub(crate) fn charge_shown(
    seed: u64,
    c: &Customer,
    p: &super::world::Payment,
    t: Timestamp,
    sh: Option<&super::stripe::Shown>,
) -> Option<super::stripe::Shown> {
    let back = returning(seed, c, t).filter(|r| p.created_at >= r.at);
    let holder = cardholder(seed, c, p.id);
    if back.is_none() && holder.is_none() {
        return None;
    }
    let mut s = sh.cloned().unwrap_or_else(|| super::stripe::Shown {
        name: c.name.clone(),
        email: c.email.clone(),
        phone: None,
    });
    if let Some(r) = back {
        s.email = Some(r.email);
    }
    if let Some(h) = holder {
        s.name = h;
    }
    Some(s)
}

/// The cardholder name of payment `payment_id` of `c` when it is another person's card.
pub(crate) fn cardholder(seed: u64, c: &Customer, payment_id: i64) -> Option<String> {
    if roll(seed, "partner-card", payment_id) % 1000 >= PARTNER_CARD {
        return None;
    }
    let mut rng = rng_for(seed, "partner-who", payment_id);
    let own_given = split(&c.name).map(|(g, _)| g).unwrap_or("");
    let mut given = pick(&mut rng, GIVEN);
    if given == own_given {
        given = "Alex";
    }
    match split(&c.name) {
        Some((_, f)) if rng.gen_bool(0.6) => Some(format!("{given} {f}")),
        _ => Some(format!("{given} {}", pick(&mut rng, FAMILY_NAMES))),
    }
}

/// Other identifiers the habits gave each customer (by app id): `("email", address)` and
/// `("stripe_customer", cus_...)`, as of `t`.
pub fn aliases(world: &World) -> BTreeMap<i64, Vec<(&'static str, String)>> {
    let t = world.incident_at;
    let country: BTreeMap<i64, &str> = world
        .businesses
        .iter()
        .map(|b| (b.id, b.country.as_str()))
        .collect();
    let mut out: BTreeMap<i64, Vec<(&'static str, String)>> = BTreeMap::new();
    for c in &world.customers {
        let Some(own) = c.email.as_deref() else {
            continue;
        };
        let ctry = country.get(&c.business_id).copied().unwrap_or("");
        let mut v = Vec::new();
        if let Some(StripeEmail::Stale(e) | StripeEmail::Variant(e)) =
            stripe_email(world.seed, c, ctry)
        {
            v.push(("email", e.to_lowercase()));
        }
        if let Some(r) = returning(world.seed, c, t) {
            v.push(("email", r.email.to_lowercase()));
            v.push(("stripe_customer", r.cus));
        }
        for d in &c.stripe_duplicates {
            v.push(("stripe_customer", d.clone()));
        }
        v.retain(|(k, x)| !(*k == "email" && x == &own.to_lowercase()));
        v.dedup();
        if !v.is_empty() {
            out.insert(c.id, v);
        }
    }
    out
}

/// The habits that live in the app's own data: families sharing one email. A later customer
/// of a business takes the email and family name of an earlier one (keeping their own
/// given name); their own payments' receipt address follows.
pub fn apply(world: &mut World) {
    let seed = world.seed;
    let mut last_of_business: BTreeMap<i64, usize> = BTreeMap::new();
    let mut changed: BTreeMap<i64, (Option<String>, Option<String>)> = BTreeMap::new();
    for i in 0..world.customers.len() {
        let c = &world.customers[i];
        let usable = c.email.is_some()
            && c.merged_into.is_none()
            && c.erased_at.is_none()
            && split(&c.name).is_some();
        if !usable {
            continue;
        }
        let prev = last_of_business.insert(c.business_id, i);
        let Some(j) = prev else { continue };
        if roll(seed, "family", c.id) % 1000 >= FAMILY {
            continue;
        }
        let head = &world.customers[j];
        let (Some((g, _)), Some((hg, hf))) = (split(&c.name), split(&head.name)) else {
            continue;
        };
        if g == hg || head.email.is_none() {
            continue;
        }
        let name = format!("{g} {hf}");
        let email = head.email.clone();
        // A family member does not become the next one's head.
        last_of_business.insert(c.business_id, j);
        let c = &mut world.customers[i];
        changed.insert(c.id, (c.email.clone(), email.clone()));
        c.name = name;
        c.email = email;
    }
    for p in &mut world.payments {
        let Some((old, new)) = p.customer_id.and_then(|c| changed.get(&c)) else {
            continue;
        };
        if let Some(k) = p.kelpie.as_mut() {
            let was_own = match (&k.receipt_email, old) {
                (Some(r), Some(o)) => r.eq_ignore_ascii_case(o),
                _ => false,
            };
            if was_own {
                k.receipt_email = new.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_differ_and_are_recognisable() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let v = email_variant(&mut rng, "ann.lee@gmail.com");
            assert_ne!(v, "ann.lee@gmail.com");
            assert!(v.contains('@'), "{v}");
        }
        assert_eq!(national_phone("+447700900123", "GB"), "07700 900123");
        assert_eq!(national_phone("+12025550143", "US"), "(202) 555-0143");
        assert_eq!(accents("José Ruiz").as_deref(), Some("Jose Ruiz"));
        assert_eq!(accents("Jose Ruiz").as_deref(), Some("José Ruiz"));
        assert_eq!(split("山田太郎"), None);
    }

    #[test]
    fn habits_are_seeded_and_modest() {
        let w = super::super::simulate::simulate(60, 7, super::super::world::Flavour::Bookly);
        let w2 = super::super::simulate::simulate(60, 7, super::super::world::Flavour::Bookly);
        assert_eq!(aliases(&w), aliases(&w2));
        let n = w.customers.len();
        let with_alias = aliases(&w).len();
        assert!(with_alias > 0 && with_alias < n / 5, "{with_alias} of {n}");
        // Families: some shared addresses within a business, different names.
        let mut by: BTreeMap<(i64, &str), Vec<&str>> = BTreeMap::new();
        for c in &w.customers {
            if let Some(e) = &c.email {
                by.entry((c.business_id, e)).or_default().push(&c.name);
            }
        }
        let shared: Vec<_> = by.values().filter(|v| v.len() > 1).collect();
        assert!(!shared.is_empty());
        for v in shared {
            assert_ne!(v[0], v[1]);
        }
    }
}
