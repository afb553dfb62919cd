//! A probabilistic record-linkage engine (Fellegi-Sunter, as Splink does it), with no
//! knowledge of claims, sources or the merge: a [`Table`] of rows in, a [`Linkage`] out.
//!
//! Stages, one file each:
//! 1. [`block`]: candidate pairs from blocking rules (data, OR-ed), never all pairs;
//! 2. [`compare`]: each comparison sorts a pair into a level (exact, typo bands, ...);
//! 3. [`estimate`]: u from random pairs, m and λ by EM on the candidates' patterns;
//! 4. score: a pair's bits are the prior plus each level's log2(m/u) plus term-frequency
//!    adjustments;
//! 5. [`cluster`]: best-first union under hard constraints (groups, exclusive keys,
//!    one row per source, cross-pair disagreement, ambiguity).
//!
//! Deterministic: the same table and settings give the same clusters (random pairs are
//! drawn from a seeded generator; ties break on row order).

pub mod block;
pub mod cluster;
pub mod compare;
pub mod estimate;
pub mod settings;

pub use settings::{Comparison, Kind, LinkType, Settings};

use compare::Column;
use estimate::{Model, Pattern};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// One record to link.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// One value per [`Table::fields`] entry.
    pub values: Vec<Option<String>>,
    /// Only rows of one scope are compared (a business's customers).
    pub scope: u32,
    /// The dataset the row came from (for `link_only`).
    pub source: u32,
    /// Rows of one group are already known to be one (hard keys): never compared, never
    /// split. Give every row its own group when nothing is known.
    pub group: u32,
    /// A key two different values of which mean two different entities (an app id).
    pub exclusive: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub fields: Vec<String>,
    pub rows: Vec<Row>,
}

/// The evidence one comparison gave a pair.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub comparison: String,
    pub level: String,
    /// Bits: log2(m/u) of the level, plus the term-frequency adjustment.
    pub weight: f64,
}

/// A pair that joined two clusters, with why.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub a: u32,
    pub b: u32,
    pub probability: f64,
    /// Match weight plus prior, in bits.
    pub bits: f64,
    pub evidence: Vec<Evidence>,
}

/// A row left apart because incompatible candidates fit about equally well.
#[derive(Debug, Clone, Serialize)]
pub struct Ambiguity {
    pub row: u32,
    /// (candidate row, probability), best first.
    pub candidates: Vec<(u32, f64)>,
    /// Per candidate: the evidence of the pair (row, candidate).
    pub evidence: Vec<Vec<Evidence>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub rows: usize,
    pub candidate_pairs: u64,
    pub pairs_per_rule: Vec<(String, u64)>,
    /// Blocks not compared for their size: (rule, rows). Never silent.
    pub oversized_blocks: Vec<(String, usize)>,
    pub pairs_above_threshold: u64,
    pub joins: u64,
    pub refused_cross: u64,
    pub refused_exclusive: u64,
    pub ambiguous: u64,
    /// Comparisons whose field no row holds (a setting that matched nothing).
    pub empty_comparisons: Vec<String>,
}

pub struct Linkage {
    /// Per row: the smallest row index of its cluster.
    pub cluster: Vec<u32>,
    pub links: Vec<Link>,
    pub ambiguous: Vec<Ambiguity>,
    pub model: Option<Model>,
    pub stats: Stats,
}

fn hash_str(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Term frequencies of one comparison's exact values.
struct Tf {
    /// Keyed by the value's hash: a million names cost a million u64s, not strings.
    counts: HashMap<u64, u32>,
    total: f64,
    /// Chance that two random present values are equal: Σ count² / total².
    u_exact: f64,
}

impl Tf {
    fn build(prep: &Column) -> Tf {
        let mut counts: HashMap<u64, u32> = HashMap::new();
        for s in prep.values() {
            *counts.entry(hash_str(s)).or_default() += 1;
        }
        let total: f64 = counts.values().map(|&c| c as f64).sum();
        let u_exact = if total > 0.0 {
            counts.values().map(|&c| (c as f64).powi(2)).sum::<f64>() / total.powi(2)
        } else {
            0.0
        };
        Tf {
            counts,
            total,
            u_exact,
        }
    }

    /// Bits to add when two rows agree exactly on `v`.
    fn adjust(&self, v: &str) -> f64 {
        let c = self.counts.get(&hash_str(v)).copied().unwrap_or(1) as f64;
        (self.u_exact / (c / self.total)).log2().clamp(-10.0, 10.0)
    }
}

/// Levels of a pair, 3 bits per comparison (at most 21 comparisons, 7 levels each).
fn pack(levels: &[u8]) -> u64 {
    levels
        .iter()
        .enumerate()
        .fold(0, |p, (c, &l)| p | (u64::from(l) << (3 * c)))
}

fn level_of(p: u64, c: usize) -> u8 {
    ((p >> (3 * c)) & 7) as u8
}

fn unpack(p: u64, n: usize) -> Pattern {
    (0..n).map(|c| level_of(p, c)).collect()
}

/// Every pair a scope holds (across sources only, for `link_only`): the space the prior
/// is a share of.
fn total_pairs(rows: &[Row], cross_only: bool) -> f64 {
    let mut scope: HashMap<u32, f64> = HashMap::new();
    let mut scope_source: HashMap<(u32, u32), f64> = HashMap::new();
    for r in rows {
        *scope.entry(r.scope).or_default() += 1.0;
        *scope_source.entry((r.scope, r.source)).or_default() += 1.0;
    }
    if cross_only {
        let all: f64 = scope.values().map(|n| n * n).sum();
        let same: f64 = scope_source.values().map(|n| n * n).sum();
        (all - same) / 2.0
    } else {
        scope.values().map(|n| n * (n - 1.0) / 2.0).sum()
    }
}

/// Links the rows of `table`.
pub fn link(table: &Table, settings: &Settings) -> Result<Linkage, String> {
    settings.validate()?;
    if let Some(i) = table
        .rows
        .iter()
        .position(|r| r.values.len() != table.fields.len())
    {
        return Err(format!(
            "row {i} has {} values for {} fields",
            table.rows[i].values.len(),
            table.fields.len()
        ));
    }
    let started = std::time::Instant::now();
    let lap = |what: &str| tracing::debug!("linkage: {what} at {:.2?}", started.elapsed());
    let n = table.rows.len();
    let comps = &settings.comparisons;
    let field_ix = |f: &str| table.fields.iter().position(|x| x == f);
    let prep: Vec<Column> = comps
        .iter()
        .map(|c| {
            let ix = field_ix(&c.field);
            let mut col = Column::default();
            // In chunks: parallel preparation without holding every row's strings.
            for chunk in table.rows.chunks(1 << 16) {
                let part: Vec<Option<compare::Prepared>> = chunk
                    .par_iter()
                    .map(|r| {
                        ix.and_then(|i| r.values[i].as_deref())
                            .and_then(|v| compare::prepare(c.kind, v))
                    })
                    .collect();
                part.into_iter().for_each(|p| col.push(p));
            }
            col
        })
        .collect();
    let mut stats = Stats {
        rows: n,
        empty_comparisons: comps
            .iter()
            .zip(&prep)
            .filter(|(_, p)| p.is_empty())
            .map(|(c, _)| c.field.clone())
            .collect(),
        ..Stats::default()
    };
    let tfs: Vec<Option<Tf>> = comps
        .iter()
        .zip(&prep)
        .map(|(c, p)| c.tf.then(|| Tf::build(p)))
        .collect();
    let levels = |a: usize, b: usize| -> Pattern {
        comps
            .iter()
            .zip(&prep)
            .map(|(c, p)| match (p.get(a), p.get(b)) {
                (Some(x), Some(y)) => compare::level(c.kind, x, y),
                _ => 0,
            })
            .collect()
    };
    let rules: Vec<block::Rule> = settings
        .blocking
        .iter()
        .map(|r| block::Rule::parse(r))
        .collect::<Result<_, _>>()?;
    let cross_only = settings.link_type == LinkType::LinkOnly;
    lap("prepared");
    let (pairs, bstats) = block::candidates(table, &rules, settings.max_block_size, cross_only);
    lap("blocked");
    stats.candidate_pairs = pairs.len() as u64;
    stats.pairs_per_rule = bstats.pairs_per_rule;
    stats.oversized_blocks = bstats.oversized_blocks;
    if pairs.is_empty() {
        return Ok(Linkage {
            cluster: (0..n as u32).collect(),
            links: Vec::new(),
            ambiguous: Vec::new(),
            model: None,
            stats,
        });
    }
    let rows = &table.rows;
    let (u, random_pairs) = estimate::sample_u(
        comps,
        n,
        settings,
        |a, b| rows[a].group != rows[b].group && (!cross_only || rows[a].source != rows[b].source),
        levels,
    );
    lap("sampled u");
    // Each pair's levels packed into a u64, 3 bits per comparison.
    let patterns: Vec<u64> = pairs
        .par_iter()
        .map(|c| pack(&levels(c.a as usize, c.b as usize)))
        .collect();
    // Training sessions: every pair a rule finds, whichever rule it is counted under.
    let nrules = rules.len();
    let (sessions, all) = pairs
        .par_iter()
        .zip(&patterns)
        .fold(
            || (vec![HashMap::new(); nrules], HashMap::new()),
            |(mut s, mut all): (Vec<HashMap<u64, u64>>, HashMap<u64, u64>), (c, &p)| {
                for (r, sess) in s.iter_mut().enumerate() {
                    if c.rules & (1 << r) != 0 {
                        *sess.entry(p).or_default() += 1;
                    }
                }
                *all.entry(p).or_default() += 1;
                (s, all)
            },
        )
        .reduce(
            || (vec![HashMap::new(); nrules], HashMap::new()),
            |(mut s, mut all), (s2, all2)| {
                for (a, b) in s.iter_mut().zip(s2) {
                    for (k, v) in b {
                        *a.entry(k).or_default() += v;
                    }
                }
                for (k, v) in all2 {
                    *all.entry(k).or_default() += v;
                }
                (s, all)
            },
        );
    let nc = comps.len();
    // Ordered, so that EM sums its floats in the same order on every run (a HashMap's
    // order changes from run to run, and with it the last digits of every weight).
    let unpacked = |m: HashMap<u64, u64>| -> std::collections::BTreeMap<Pattern, u64> {
        m.into_iter().map(|(p, n)| (unpack(p, nc), n)).collect()
    };
    let sessions: Vec<std::collections::BTreeMap<Pattern, u64>> =
        sessions.into_iter().map(unpacked).collect();
    let all = unpacked(all);
    let masks: Vec<Vec<bool>> = rules
        .iter()
        .map(|r| {
            comps
                .iter()
                .map(|c| r.fields().any(|f| f == c.field))
                .collect()
        })
        .collect();
    let model = estimate::fit(
        comps,
        &sessions,
        &masks,
        &settings.blocking,
        &all,
        total_pairs(rows, cross_only),
        u,
        random_pairs,
        settings,
    );
    lap("estimated");
    let tf_bits = |c: usize, a: usize, l: u8| -> f64 {
        match (&tfs[c], l, prep[c].get(a)) {
            (Some(tf), 1, Some(p)) => tf.adjust(p.s),
            _ => 0.0,
        }
    };
    let prior = model.prior_bits();
    let scored: Vec<cluster::Scored> = pairs
        .par_iter()
        .zip(&patterns)
        .map(|(c, &p)| {
            let bits = prior
                + (0..nc)
                    .map(|k| {
                        let l = level_of(p, k);
                        model.weight(k, l) + tf_bits(k, c.a as usize, l)
                    })
                    .sum::<f64>();
            cluster::Scored {
                a: c.a,
                b: c.b,
                bits,
            }
        })
        .collect();
    let threshold_bits = (settings.threshold / (1.0 - settings.threshold).max(1e-12)).log2();
    let cross_bits = {
        let p = settings.min_cross_probability.clamp(1e-12, 1.0 - 1e-12);
        (p / (1.0 - p)).log2()
    };
    stats.pairs_above_threshold = scored.iter().filter(|s| s.bits >= threshold_bits).count() as u64;
    lap("scored");
    let out = cluster::cluster(
        rows,
        &scored,
        threshold_bits,
        cross_bits,
        settings.ambiguity_bits,
        cross_only,
    );
    lap("clustered");
    stats.joins = out.joins.len() as u64;
    stats.refused_cross = out.refused_cross;
    stats.refused_exclusive = out.refused_exclusive;
    stats.ambiguous = out.ambiguous.len() as u64;
    let evidence_of = |a: u32, b: u32, found_by: Option<usize>| -> Vec<Evidence> {
        let mut ev = vec![Evidence {
            comparison: "prior".into(),
            level: match found_by {
                Some(r) => format!(
                    "two records of one scope (found by `{}`)",
                    settings.blocking[r]
                ),
                None => "two records of one scope".into(),
            },
            weight: prior,
        }];
        ev.extend(
            levels(a as usize, b as usize)
                .into_iter()
                .enumerate()
                .map(|(c, l)| Evidence {
                    comparison: comps[c].field.clone(),
                    level: match l {
                        0 => "missing".into(),
                        _ => model.comparisons[c].1[l as usize - 1].label.to_string(),
                    },
                    weight: model.weight(c, l) + tf_bits(c, a as usize, l),
                }),
        );
        ev
    };
    let links = out
        .joins
        .iter()
        .map(|&i| {
            let s = scored[i];
            Link {
                a: s.a,
                b: s.b,
                probability: estimate::probability(s.bits),
                bits: s.bits,
                evidence: evidence_of(s.a, s.b, Some(pairs[i].first_rule())),
            }
        })
        .collect();
    let ambiguous = out
        .ambiguous
        .into_iter()
        .map(|(row, c)| Ambiguity {
            row,
            evidence: c.iter().map(|&(r, _)| evidence_of(row, r, None)).collect(),
            candidates: c
                .into_iter()
                .map(|(r, bits)| (r, estimate::probability(bits)))
                .collect(),
        })
        .collect();
    Ok(Linkage {
        cluster: out.cluster,
        links,
        ambiguous,
        model: Some(model),
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// People with typos, a family email and a phone-only duplicate.
    #[test]
    fn links_typos_keeps_a_family_apart() {
        let people = [
            ("Ann Lee", "ann.lee@gmail.com", "+14155550101", Some(1)),
            ("ann lee", "ann.lee@gmial.com", "", None),
            ("Ann Lee", "", "(415) 555-0101", None),
            ("Bob Lee", "lee.family@yahoo.com", "", Some(2)),
            ("Cat Lee", "lee.family@yahoo.com", "", Some(3)),
            ("Cat Lee", "lee.family@yahoo.com", "", None),
        ];
        let mut rows: Vec<Row> = people
            .iter()
            .enumerate()
            .map(|(i, (n, e, p, id))| Row {
                values: [n, e, p]
                    .iter()
                    .map(|v| (!v.is_empty()).then(|| v.to_string()))
                    .collect(),
                group: i as u32,
                exclusive: *id,
                ..Row::default()
            })
            .collect();
        // Filler: other people of the business, so there is something to estimate from.
        for i in 0..300u32 {
            rows.push(Row {
                values: vec![
                    Some(format!("Person{i} Name{}", i % 37)),
                    Some(format!("p{i}@mail{}.com", i % 5)),
                    Some(format!("+1415555{:04}", 2000 + i)),
                ],
                group: 100 + i,
                ..Row::default()
            });
            if i % 3 == 0 {
                rows.push(Row {
                    values: vec![
                        Some(format!("person{i} name{}", i % 37)),
                        Some(format!("P{i}@mail{}.com", i % 5)),
                        None,
                    ],
                    group: 1000 + i,
                    ..Row::default()
                });
            }
        }
        let t = Table {
            fields: vec!["name".into(), "email".into(), "phone".into()],
            rows,
        };
        let l = link(&t, &Settings::people()).unwrap();
        assert_eq!(&l.cluster[..6], &[0, 0, 0, 3, 4, 4], "{:?}", l.stats);
        let j = l.links.iter().find(|k| k.b == 1).expect("the typo joined");
        assert!(j.evidence.iter().any(|e| e.level == "domain typo"));
        // Deterministic.
        let again = link(&t, &Settings::people()).unwrap();
        assert_eq!(again.cluster, l.cluster);
    }
}
