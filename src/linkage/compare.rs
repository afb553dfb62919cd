//! Comparing one field of two records: each [`Kind`] prepares a value once (normalised
//! forms) and sorts a pair into one of its levels, best first. Level 0 is "a value is
//! missing" (weight 0: no evidence); the last level is "else" (they disagree).

use super::settings::Kind;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A value prepared for comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The main normalised form (exact level; term frequencies count it).
    pub s: Box<str>,
    /// A second form: names' sorted words without accents, emails without `+tag`,
    /// phones' last nine digits, dates' digits.
    pub alt: Box<str>,
}

impl Prepared {
    pub fn view(&self) -> View<'_> {
        View {
            s: &self.s,
            alt: &self.alt,
        }
    }
}

/// A prepared value as compared, borrowed from a [`Column`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View<'a> {
    pub s: &'a str,
    pub alt: &'a str,
}

/// One comparison's prepared values for every row, in one buffer (a million rows of
/// two small strings each would otherwise be two million allocations).
#[derive(Debug, Default)]
pub struct Column {
    buf: String,
    /// Per row: (start, end of s, end of alt); alt equal to s is stored once.
    spans: Vec<(u32, u32, u32)>,
}

const MISSING: u32 = u32::MAX;

impl Column {
    pub fn push(&mut self, p: Option<Prepared>) {
        match p {
            None => self.spans.push((MISSING, 0, 0)),
            Some(p) => {
                let start = self.buf.len() as u32;
                self.buf.push_str(&p.s);
                let s_end = self.buf.len() as u32;
                if p.alt != p.s {
                    self.buf.push_str(&p.alt);
                }
                self.spans.push((start, s_end, self.buf.len() as u32));
            }
        }
    }

    pub fn get(&self, row: usize) -> Option<View<'_>> {
        let (start, s_end, alt_end) = self.spans[row];
        if start == MISSING {
            return None;
        }
        let s = &self.buf[start as usize..s_end as usize];
        let alt = if alt_end == s_end {
            s
        } else {
            &self.buf[s_end as usize..alt_end as usize]
        };
        Some(View { s, alt })
    }

    pub fn is_empty(&self) -> bool {
        self.spans.iter().all(|s| s.0 == MISSING)
    }

    /// The present values' main forms.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        (0..self.spans.len()).filter_map(|i| self.get(i).map(|v| v.s))
    }
}

/// Lowercase, accents dropped, punctuation to spaces, whitespace collapsed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    if s.is_ascii() {
        // Most names and keys: no decomposition to do.
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(b.to_ascii_lowercase() as char);
            } else {
                space = true;
            }
        }
        return out;
    }
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        let c = match c {
            'ß' => 's',
            'ø' | 'Ø' => 'o',
            'ł' | 'Ł' => 'l',
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// Prepares a raw value for `kind`; None when nothing is left (a missing value).
pub fn prepare(kind: Kind, raw: &str) -> Option<Prepared> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let (s, alt) = match kind {
        Kind::Exact => {
            let s = raw.to_lowercase();
            (s.clone(), s)
        }
        Kind::Text => {
            let s = fold(raw);
            (s.clone(), s)
        }
        Kind::Name => {
            let s = raw
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            let mut words: Vec<String> = fold(raw).split(' ').map(str::to_string).collect();
            words.sort();
            (s, words.join(" "))
        }
        Kind::Email => {
            let s = raw.to_lowercase();
            let (local, domain) = s.rsplit_once('@').unwrap_or((&s, ""));
            let local = local.split('+').next().unwrap_or(local);
            let alt = format!("{local}@{domain}");
            (s, alt)
        }
        Kind::Phone => {
            let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
            if digits.len() < 6 {
                return None;
            }
            let plus = if raw.starts_with('+') { "+" } else { "" };
            let tail = &digits[digits.len().saturating_sub(9)..];
            (format!("{plus}{digits}"), tail.to_string())
        }
        Kind::Date => {
            let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
            (raw.to_lowercase(), digits)
        }
    };
    if s.is_empty() {
        return None;
    }
    Some(Prepared {
        s: s.into(),
        alt: alt.into(),
    })
}

/// The names of a kind's levels, level 1 first (level 0 is "missing").
pub fn labels(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Exact => &["exact", "else"],
        Kind::Text => &[
            "exact",
            "one edit",
            "jaro-winkler >= 0.92",
            "jaro-winkler >= 0.8",
            "else",
        ],
        Kind::Name => &[
            "exact",
            "same words (accents, case, order)",
            "jaro-winkler >= 0.92",
            "initials fit",
            "jaro-winkler >= 0.8",
            "else",
        ],
        Kind::Email => &[
            "exact",
            "same without +tag",
            "domain typo",
            "local-part typo",
            "same local part, other domain",
            "else",
        ],
        Kind::Phone => &["exact", "same last 9 digits", "one digit off", "else"],
        Kind::Date => &["exact", "one digit off", "day and month swapped", "else"],
    }
}

/// Levels a kind has, counting level 0 (missing).
pub fn level_count(kind: Kind) -> usize {
    labels(kind).len() + 1
}

fn edits(a: &str, b: &str) -> usize {
    strsim::damerau_levenshtein(a, b)
}

/// Initials fit: the same number of words, each pair equal or one an initial of the other,
/// and at least one full word equal (`j smith` and `john smith`).
fn initials_fit(a: &str, b: &str) -> bool {
    let (wa, wb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if wa.len() != wb.len() || wa.len() < 2 {
        return false;
    }
    let fits = |x: &[&str], y: &[&str]| {
        let mut full = false;
        for (p, q) in x.iter().zip(y) {
            if p == q {
                full |= p.len() > 1;
            } else if !((p.len() == 1 && q.starts_with(p)) || (q.len() == 1 && p.starts_with(q))) {
                return false;
            }
        }
        full
    };
    // Words in stored order (given family) or reversed (family given).
    let rb: Vec<&str> = wb.iter().rev().copied().collect();
    fits(&wa, &wb) || fits(&wa, &rb)
}

/// The level (1-based) of a pair of present values.
pub fn level(kind: Kind, a: View<'_>, b: View<'_>) -> u8 {
    match kind {
        Kind::Exact => {
            if a.s == b.s {
                1
            } else {
                2
            }
        }
        Kind::Text => {
            if a.s == b.s {
                1
            } else if edits(a.s, b.s) <= 1 {
                2
            } else {
                let jw = strsim::jaro_winkler(a.s, b.s);
                if jw >= 0.92 {
                    3
                } else if jw >= 0.8 {
                    4
                } else {
                    5
                }
            }
        }
        Kind::Name => {
            if a.s == b.s {
                return 1;
            }
            if a.alt == b.alt {
                return 2;
            }
            let (fa, fb) = (fold(a.s), fold(b.s));
            let jw = strsim::jaro_winkler(&fa, &fb).max(strsim::jaro_winkler(a.alt, b.alt));
            if jw >= 0.92 {
                3
            } else if initials_fit(&fa, &fb) {
                4
            } else if jw >= 0.8 {
                5
            } else {
                6
            }
        }
        Kind::Email => {
            if a.s == b.s {
                return 1;
            }
            if a.alt == b.alt {
                return 2;
            }
            let split = |p: View<'_>| -> (String, String) {
                let (l, d) = p.alt.rsplit_once('@').unwrap_or((p.alt, ""));
                (l.to_string(), d.to_string())
            };
            let ((la, da), (lb, db)) = (split(a), split(b));
            if la == lb && !da.is_empty() && edits(&da, &db) <= 2 {
                3
            } else if da == db && la.len().min(lb.len()) >= 4 && edits(&la, &lb) <= 1 {
                4
            } else if la == lb && la.len() >= 4 {
                5
            } else {
                6
            }
        }
        Kind::Phone => {
            if a.s == b.s {
                1
            } else if a.alt == b.alt {
                2
            } else if a.alt.len() == b.alt.len() && edits(a.alt, b.alt) <= 1 {
                3
            } else {
                4
            }
        }
        Kind::Date => {
            if a.s == b.s || (a.alt == b.alt && !a.alt.is_empty()) {
                1
            } else if a.alt.len() == b.alt.len() && edits(a.alt, b.alt) <= 1 {
                2
            } else if a.alt.len() == 8 && b.alt.len() == 8 && swapped(a.alt, b.alt) {
                3
            } else {
                4
            }
        }
    }
}

/// `yyyymmdd` (or `ddmmyyyy`) whose day and month are swapped.
fn swapped(a: &str, b: &str) -> bool {
    let ymd = |s: &str| {
        (
            s[0..4].to_string(),
            s[4..6].to_string(),
            s[6..8].to_string(),
        )
    };
    let (ya, ma, da) = ymd(a);
    let (yb, mb, db) = ymd(b);
    (ya == yb && ma == db && da == mb)
        || (a[4..] == b[4..] && a[0..2] == b[2..4] && a[2..4] == b[0..2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(kind: Kind, a: &str, b: &str) -> &'static str {
        let (a, b) = (prepare(kind, a).unwrap(), prepare(kind, b).unwrap());
        labels(kind)[level(kind, a.view(), b.view()) as usize - 1]
    }

    #[test]
    fn folding_ascii_and_not_agree() {
        assert_eq!(fold("  O'Brien-Smith  Jr. "), "o brien smith jr");
        assert_eq!(fold("José  MÜLLER"), "jose muller");
        assert_eq!(fold("Łukasz Søren"), "lukasz soren");
    }

    #[test]
    fn names_accents_order_and_initials() {
        assert_eq!(lv(Kind::Name, "José Müller", "José  Müller"), "exact");
        assert_eq!(
            lv(Kind::Name, "José Müller", "jose muller"),
            "same words (accents, case, order)"
        );
        assert_eq!(
            lv(Kind::Name, "Müller José", "Jose Muller"),
            "same words (accents, case, order)"
        );
        assert_eq!(lv(Kind::Name, "J. Smith", "John Smith"), "initials fit");
        assert_eq!(lv(Kind::Name, "Smith J", "John Smith"), "initials fit");
        assert_eq!(
            lv(Kind::Name, "Jonathan Smith", "Jonathon Smith"),
            "jaro-winkler >= 0.92"
        );
        assert_eq!(lv(Kind::Name, "Ann Lee", "Bob Lee"), "else");
    }

    #[test]
    fn emails_tags_and_typos() {
        assert_eq!(
            lv(Kind::Email, "Ann.Lee@Gmail.com", "ann.lee@gmail.com"),
            "exact"
        );
        assert_eq!(
            lv(Kind::Email, "ann.lee+spa@gmail.com", "ann.lee@gmail.com"),
            "same without +tag"
        );
        assert_eq!(
            lv(Kind::Email, "ann.lee@gmial.com", "ann.lee@gmail.com"),
            "domain typo"
        );
        assert_eq!(
            lv(Kind::Email, "ann.le@gmail.com", "ann.lee@gmail.com"),
            "local-part typo"
        );
        assert_eq!(
            lv(Kind::Email, "ann.lee@yahoo.co.uk", "ann.lee@gmail.com"),
            "same local part, other domain"
        );
        assert_eq!(lv(Kind::Email, "bob@x.io", "ann@x.io"), "else");
    }

    #[test]
    fn phones_and_dates() {
        assert_eq!(
            lv(Kind::Phone, "+14155550134", "(415) 555-0134"),
            "same last 9 digits"
        );
        assert_eq!(
            lv(Kind::Phone, "+14155550134", "+14155550135"),
            "one digit off"
        );
        assert!(prepare(Kind::Phone, "12").is_none());
        assert_eq!(
            lv(Kind::Date, "19840312", "19841203"),
            "day and month swapped"
        );
        assert_eq!(lv(Kind::Date, "1984-03-12", "19840312"), "exact");
        assert_eq!(lv(Kind::Date, "19840312", "19840313"), "one digit off");
    }
}
