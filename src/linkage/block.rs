//! Blocking: which pairs are compared. Each rule turns a record into zero or more keys
//! (a key per word for `token(...)`); records sharing a key in one scope form a block,
//! and only pairs inside a block are compared, so the work grows with block sizes, never
//! with n². A pair that several rules find is compared once: it belongs to the first
//! rule, and to that rule's smallest shared key (Splink's trick, per key as well).

use super::compare::fold;
use super::Table;
use rayon::prelude::*;
use rphonetic::{DoubleMetaphone, Encoder, Soundex};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// One transform of a field's value into key parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Exact,
    Lower,
    EmailLocal,
    Phone,
    Token,
    First,
    Last,
    Soundex,
    Metaphone,
    Prefix3,
    Digits,
}

/// A blocking rule: keys AND-ed; a key is functions applied inside out to a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub text: String,
    parts: Vec<(Vec<Func>, String)>,
}

impl Rule {
    pub fn parse(text: &str) -> Result<Rule, String> {
        if text.trim().is_empty() {
            return Err("an empty blocking rule".into());
        }
        let mut parts = Vec::new();
        for part in text.split('&') {
            let mut s = part.trim();
            let mut funcs = Vec::new();
            while let Some(open) = s.find('(') {
                let name = s[..open].trim();
                let Some(inner) = s[open + 1..].strip_suffix(')') else {
                    return Err(format!("blocking rule `{text}`: unbalanced parentheses"));
                };
                funcs.push(match name {
                    "exact" => Func::Exact,
                    "lower" => Func::Lower,
                    "email_local" => Func::EmailLocal,
                    "phone" => Func::Phone,
                    "token" => Func::Token,
                    "first" => Func::First,
                    "last" => Func::Last,
                    "soundex" => Func::Soundex,
                    "metaphone" => Func::Metaphone,
                    "prefix3" => Func::Prefix3,
                    "digits" => Func::Digits,
                    other => {
                        return Err(format!(
                            "blocking rule `{text}`: unknown function `{other}` (known: exact, lower, email_local, phone, token, first, last, soundex, metaphone, prefix3, digits)"
                        ))
                    }
                });
                s = inner.trim();
            }
            if s.is_empty() || s.contains(')') {
                return Err(format!("blocking rule `{text}`: no field in `{part}`"));
            }
            if funcs.is_empty() {
                funcs.push(Func::Lower);
            }
            funcs.reverse(); // innermost first
            parts.push((funcs, s.to_string()));
        }
        Ok(Rule {
            text: text.to_string(),
            parts,
        })
    }

    /// The fields this rule reads.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().map(|(_, f)| f.as_str())
    }

    /// The keys of one record (sorted, deduplicated), scope mixed in.
    fn keys(&self, values: &[Option<&str>], scope: u32, enc: &Encoders) -> Vec<u64> {
        let mut combos: Vec<Vec<String>> = vec![Vec::new()];
        for (i, (funcs, _)) in self.parts.iter().enumerate() {
            let Some(raw) = values[i] else {
                return Vec::new();
            };
            let mut vals = vec![raw.to_string()];
            for f in funcs {
                vals = vals.into_iter().flat_map(|v| apply(*f, &v, enc)).collect();
            }
            vals.retain(|v| !v.is_empty());
            if vals.is_empty() {
                return Vec::new();
            }
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    vals.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push(v.clone());
                        c
                    })
                })
                .collect();
        }
        let mut keys: Vec<u64> = combos
            .into_iter()
            .map(|c| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                scope.hash(&mut h);
                c.hash(&mut h);
                h.finish()
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

struct Encoders {
    soundex: Soundex,
    metaphone: DoubleMetaphone,
}

fn apply(f: Func, v: &str, enc: &Encoders) -> Vec<String> {
    let one = |s: String| vec![s];
    match f {
        Func::Exact => one(v.trim().to_string()),
        Func::Lower => one(v.trim().to_lowercase()),
        Func::EmailLocal => {
            let l = v.trim().to_lowercase();
            let local = l.rsplit_once('@').map(|(l, _)| l).unwrap_or(&l);
            one(local.split('+').next().unwrap_or(local).to_string())
        }
        Func::Phone => {
            let d: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
            if d.len() < 6 {
                return Vec::new();
            }
            one(d[d.len().saturating_sub(9)..].to_string())
        }
        Func::Token => fold(v)
            .split(' ')
            .filter(|w| w.chars().count() > 1)
            .map(str::to_string)
            .collect(),
        Func::First => one(fold(v).split(' ').next().unwrap_or("").to_string()),
        Func::Last => one(fold(v).rsplit(' ').next().unwrap_or("").to_string()),
        // The encoders know the Latin alphabet only: other scripts key by the folded text.
        Func::Soundex | Func::Metaphone => {
            let folded = fold(v);
            let latin: String = folded.chars().filter(|c| c.is_ascii_alphabetic()).collect();
            if latin.is_empty() {
                one(folded)
            } else if matches!(f, Func::Soundex) {
                one(enc.soundex.encode(&latin))
            } else {
                one(enc.metaphone.encode(&latin))
            }
        }
        Func::Prefix3 => one(fold(v).chars().take(3).collect()),
        Func::Digits => one(v.chars().filter(|c| c.is_ascii_digit()).collect()),
    }
}

/// Every row's keys under one rule, in one allocation.
struct Keys {
    offsets: Vec<u32>,
    data: Vec<u64>,
}

impl From<Vec<Vec<u64>>> for Keys {
    fn from(per_row: Vec<Vec<u64>>) -> Keys {
        let mut offsets = Vec::with_capacity(per_row.len() + 1);
        let mut data = Vec::with_capacity(per_row.iter().map(Vec::len).sum());
        offsets.push(0);
        for ks in per_row {
            data.extend(ks);
            offsets.push(data.len() as u32);
        }
        Keys { offsets, data }
    }
}

impl Keys {
    fn of(&self, row: usize) -> &[u64] {
        &self.data[self.offsets[row] as usize..self.offsets[row + 1] as usize]
    }
}

/// A candidate pair (a < b) and every rule that finds it (bit per rule); it is counted
/// once, under its first rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub a: u32,
    pub b: u32,
    pub rules: u32,
}

impl Candidate {
    pub fn first_rule(&self) -> usize {
        self.rules.trailing_zeros() as usize
    }
}

/// What blocking found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BlockStats {
    /// Per rule: pairs it contributed (after the pairs earlier rules found).
    pub pairs_per_rule: Vec<(String, u64)>,
    /// Blocks over the size limit, not compared: (rule, records in the block).
    pub oversized_blocks: Vec<(String, usize)>,
}

fn common(a: &[u64], b: &[u64]) -> Option<u64> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => return Some(a[i]),
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    None
}

/// Candidate pairs (i < j), each once, honouring scope, link type and hard groups.
pub fn candidates(
    table: &Table,
    rules: &[Rule],
    max_block: usize,
    cross_source_only: bool,
) -> (Vec<Candidate>, BlockStats) {
    let field_ix = |f: &str| table.fields.iter().position(|x| x == f);
    // keys[rule].of(row), flattened (a Vec per row would cost more than its keys).
    let keys: Vec<Keys> = rules
        .iter()
        .map(|rule| {
            let ix: Vec<Option<usize>> = rule.fields().map(field_ix).collect();
            table
                .rows
                .par_iter()
                .map_init(
                    || Encoders {
                        soundex: Soundex::default(),
                        metaphone: DoubleMetaphone::default(),
                    },
                    |enc, row| {
                        let vals: Vec<Option<&str>> = ix
                            .iter()
                            .map(|i| i.and_then(|i| row.values[i].as_deref()))
                            .collect();
                        rule.keys(&vals, row.scope, enc)
                    },
                )
                .collect::<Vec<Vec<u64>>>()
        })
        .map(Keys::from)
        .collect();
    tracing::debug!("linkage: blocking keys built");
    let mut stats = BlockStats::default();
    let mut all = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        let mut blocks: HashMap<u64, Vec<u32>> = HashMap::new();
        for row in 0..table.rows.len() {
            for k in keys[r].of(row) {
                blocks.entry(*k).or_default().push(row as u32);
            }
        }
        let mut list: Vec<(u64, Vec<u32>)> =
            blocks.into_iter().filter(|(_, v)| v.len() > 1).collect();
        list.sort_unstable_by_key(|(k, _)| *k);
        for (_, v) in list.iter().filter(|(_, v)| v.len() > max_block) {
            stats.oversized_blocks.push((rule.text.clone(), v.len()));
        }
        let found: Vec<Candidate> = list
            .par_iter()
            .filter(|(_, v)| v.len() <= max_block)
            .flat_map_iter(|(key, members)| {
                let keys = &keys;
                let mut out = Vec::new();
                for (x, &a) in members.iter().enumerate() {
                    for &b in &members[x + 1..] {
                        let (ra, rb) = (&table.rows[a as usize], &table.rows[b as usize]);
                        if ra.group == rb.group || (cross_source_only && ra.source == rb.source) {
                            continue;
                        }
                        // This rule's smallest shared key only, and no earlier rule.
                        if common(keys[r].of(a as usize), keys[r].of(b as usize)) != Some(*key) {
                            continue;
                        }
                        let mut rules = 0u32;
                        for (q, kq) in keys.iter().enumerate() {
                            if common(kq.of(a as usize), kq.of(b as usize)).is_some() {
                                rules |= 1 << q;
                            }
                        }
                        if rules & ((1 << r) - 1) != 0 {
                            continue; // an earlier rule found it
                        }
                        out.push(Candidate {
                            a: a.min(b),
                            b: a.max(b),
                            rules,
                        });
                    }
                }
                out.into_iter()
            })
            .collect();
        stats
            .pairs_per_rule
            .push((rule.text.clone(), found.len() as u64));
        all.extend(found);
    }
    (all, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::Row;

    #[test]
    fn phonetic_keys_survive_any_script() {
        let enc = Encoders {
            soundex: Soundex::default(),
            metaphone: DoubleMetaphone::default(),
        };
        assert_eq!(apply(Func::Soundex, "Müller", &enc), ["M460"]);
        assert_eq!(apply(Func::Soundex, "王芳", &enc), ["王芳"]);
        assert_eq!(apply(Func::Metaphone, "Nguyễn", &enc).len(), 1);
    }

    #[test]
    fn rules_parse_and_reject() {
        assert!(Rule::parse("email_local(email)").is_ok());
        assert!(Rule::parse("soundex(last(name)) & first(attr.dob)").is_ok());
        assert!(Rule::parse("sounds(name)")
            .unwrap_err()
            .contains("unknown function"));
        assert!(Rule::parse("token(").is_err());
    }

    #[test]
    fn each_pair_once_within_scope() {
        let row = |name: &str, email: &str, scope| Row {
            values: vec![Some(name.into()), Some(email.into())],
            scope,
            ..Row::default()
        };
        let mut rows = vec![
            row("Ann Lee", "ann@x.io", 1),
            row("Ann Lee", "ann@x.io", 1),
            row("Ann Lee", "ann@x.io", 2),
        ];
        for (i, r) in rows.iter_mut().enumerate() {
            r.group = i as u32;
        }
        let t = Table {
            fields: vec!["name".into(), "email".into()],
            rows,
        };
        let rules = [
            Rule::parse("email_local(email)").unwrap(),
            Rule::parse("token(name)").unwrap(),
        ];
        let (pairs, stats) = candidates(&t, &rules, 100, false);
        assert_eq!(
            pairs,
            vec![Candidate {
                a: 0,
                b: 1,
                rules: 0b11
            }]
        );
        assert_eq!(
            stats.pairs_per_rule[1].1, 0,
            "found by the first rule already"
        );
    }
}
