//! Generated person records for the linkage bench: people with Zipf-distributed given
//! names and surnames, each written one to four times with the habits real records have
//! (case, accents dropped, initials, swapped order, typos, `+tags` and domain typos in
//! emails, national phone formats, missing fields), plus families that share an email.
//! The truth is each record's person.

use crate::linkage::{Row, Table};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const GIVEN: &[&str] = &[
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "dorothy",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "edward",
    "deborah",
    "josé",
    "zoë",
    "renée",
    "chloé",
    "inés",
    "noémie",
    "søren",
    "björn",
    "andré",
    "hélène",
    "nguyễn",
    "thảo",
    "minh",
    "li",
    "wei",
    "yuki",
    "hiro",
    "aarav",
    "priya",
    "fatima",
    "omar",
    "ali",
    "leila",
    "mateo",
    "lucía",
    "sofía",
];

const SYL: &[&str] = &[
    "an", "ber", "cal", "dor", "el", "fin", "gar", "hal", "is", "jen", "kel", "lor", "mar", "nor",
    "ol", "per", "quin", "ros", "sal", "tor", "ul", "van", "wes", "xan", "yor", "zel", "son",
    "ton", "ley", "man", "ford", "wood", "berg", "stein", "ez", "ov", "ski", "sen", "ic", "ari",
];

const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "proton.me",
    "web.de",
    "orange.fr",
    "comcast.net",
    "aol.com",
];

fn zipf(rng: &mut ChaCha8Rng, n: usize) -> usize {
    // P(k) ∝ 1/(k+1): inverse CDF on the harmonic series, approximately.
    let h = (n as f64).ln() + 0.577;
    let x = rng.gen::<f64>() * h;
    ((x - 0.577).exp().floor() as usize).min(n - 1)
}

fn surname(rng: &mut ChaCha8Rng) -> String {
    // Common surnames Zipf-weighted, most of them drawn evenly from a long tail (the
    // commonest real surname is about 1% of people).
    let k = if rng.gen_bool(0.1) {
        zipf(rng, 5000)
    } else {
        rng.gen_range(0..40 * 40 * 40)
    };
    let mut s = String::new();
    let mut k2 = k;
    for _ in 0..(2 + (k % 2)) {
        s.push_str(SYL[k2 % SYL.len()]);
        k2 /= SYL.len();
    }
    s
}

fn strip_accents(s: &str) -> String {
    crate::linkage::compare::fold(s)
}

fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 3 {
        return s.to_string();
    }
    let i = rng.gen_range(1..c.len() - 1);
    match rng.gen_range(0..4) {
        0 => {
            c.remove(i);
        }
        1 => c.swap(i, i + 1),
        2 => c[i] = (b'a' + rng.gen_range(0..26u8)) as char,
        _ => c.insert(i, c[i]),
    }
    c.into_iter().collect()
}

fn title(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `records` person records (about 1.6 per person) in one scope, with each record's
/// person. Fields: name, email, phone, dob.
pub fn generate(records: usize, seed: u64) -> (Table, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(records);
    let mut truth = Vec::with_capacity(records);
    let mut person = 0u32;
    while rows.len() < records {
        // Given names: a common list (Zipf and even), and a long tail of rarer ones.
        let given = match rng.gen_range(0..10) {
            0..=2 => GIVEN[zipf(&mut rng, GIVEN.len())].to_string(),
            3..=5 => GIVEN[rng.gen_range(0..GIVEN.len())].to_string(),
            _ => format!(
                "{}{}",
                SYL[rng.gen_range(0..SYL.len())],
                SYL[rng.gen_range(0..SYL.len())]
            ),
        };
        let family = surname(&mut rng);
        let dob = format!(
            "{}{:02}{:02}",
            rng.gen_range(1940..2006),
            rng.gen_range(1..13),
            rng.gen_range(1..29)
        );
        let local = match rng.gen_range(0..3) {
            0 => format!("{}.{}", strip_accents(&given), family),
            1 => format!(
                "{}{}{}",
                strip_accents(&given),
                family,
                rng.gen_range(1..999)
            ),
            _ => format!("{}{}", &strip_accents(&given)[..1], family),
        };
        let domain = DOMAINS[zipf(&mut rng, DOMAINS.len())];
        let email = format!("{local}@{domain}");
        let phone = format!("415{:07}", rng.gen_range(0..10_000_000));
        // A family sharing one email: a second person, same surname, other given name.
        let family_of = rng.gen_bool(0.03);
        let copies = match rng.gen_range(0..10) {
            0..=4 => 1,
            5..=7 => 2,
            8 => 3,
            _ => 4,
        };
        let mut people = vec![(given.clone(), person, dob.clone())];
        if family_of {
            let other = GIVEN
                .iter()
                .filter(|g| **g != given)
                .collect::<Vec<_>>()
                .choose(&mut rng)
                .map(|g| g.to_string())
                .unwrap_or_default();
            let their_dob = format!(
                "{}{:02}{:02}",
                rng.gen_range(1940..2006),
                rng.gen_range(1..13),
                rng.gen_range(1..29)
            );
            people.push((other, person + 1, their_dob));
        }
        for (g, who, dob) in &people {
            for copy in 0..copies {
                let mut name = format!("{g} {family}");
                let mut em = Some(email.clone());
                let mut ph = Some(format!("+1{phone}"));
                let mut birth = Some(dob.clone());
                if copy > 0 {
                    match rng.gen_range(0..8) {
                        0 => name = title(&strip_accents(&name)),
                        1 => {
                            name = format!(
                                "{}. {}",
                                &g[..g.chars().next().unwrap().len_utf8()],
                                family
                            )
                        }
                        2 => name = format!("{family} {g}"),
                        3 => name = typo(&mut rng, &name),
                        _ => name = title(&name),
                    }
                    match rng.gen_range(0..10) {
                        0 => em = Some(email.to_uppercase()),
                        1 => em = Some(email.replacen('@', "+book@", 1)),
                        2 => em = Some(email.replace(".com", ".con")),
                        3 => em = Some(format!("{}@{}", typo(&mut rng, &local), domain)),
                        4 => em = None,
                        _ => {}
                    }
                    match rng.gen_range(0..6) {
                        0 => {
                            ph = Some(format!(
                                "({}) {}-{}",
                                &phone[..3],
                                &phone[3..6],
                                &phone[6..]
                            ))
                        }
                        1 => ph = None,
                        _ => {}
                    }
                    if rng.gen_bool(0.3) {
                        birth = None;
                    }
                }
                if em.is_none() && ph.is_none() {
                    ph = Some(format!("+1{phone}"));
                }
                rows.push(Row {
                    values: vec![Some(name), em, ph, birth],
                    group: rows.len() as u32,
                    ..Row::default()
                });
                truth.push(*who);
            }
        }
        person += people.len() as u32;
    }
    rows.truncate(records);
    truth.truncate(records);
    (
        Table {
            fields: vec!["name".into(), "email".into(), "phone".into(), "dob".into()],
            rows,
        },
        truth,
    )
}

/// Pairwise precision, recall and F1 of `cluster` against `truth` (per row).
pub fn pairwise(cluster: &[u32], truth: &[u32]) -> (f64, f64, f64) {
    use std::collections::HashMap;
    fn pairs<K>(counts: HashMap<K, u64>) -> u64 {
        counts.values().map(|&c| c * (c - 1) / 2).sum()
    }
    let mut by_c: HashMap<u32, u64> = HashMap::new();
    let mut by_t: HashMap<u32, u64> = HashMap::new();
    let mut by_both: HashMap<(u32, u32), u64> = HashMap::new();
    for (&c, &t) in cluster.iter().zip(truth) {
        *by_c.entry(c).or_default() += 1;
        *by_t.entry(t).or_default() += 1;
        *by_both.entry((c, t)).or_default() += 1;
    }
    let (pc, pt, pb) = (
        pairs(by_c) as f64,
        pairs(by_t) as f64,
        pairs(by_both) as f64,
    );
    let p = if pc > 0.0 { pb / pc } else { 1.0 };
    let r = if pt > 0.0 { pb / pt } else { 1.0 };
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_duplicates_with_truth() {
        let (t, truth) = generate(2000, 1);
        assert_eq!(t.rows.len(), 2000);
        let people: std::collections::HashSet<_> = truth.iter().collect();
        assert!(
            people.len() < 1600 && people.len() > 900,
            "{}",
            people.len()
        );
        assert_eq!(pairwise(&truth, &truth), (1.0, 1.0, 1.0));
    }
}
