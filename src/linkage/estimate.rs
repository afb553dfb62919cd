//! Fellegi-Sunter weights, estimated from the records themselves: u (how often two
//! different records agree at a level) from random pairs, then m (how often a match does)
//! and the share of matches among candidate pairs (λ) by expectation-maximisation over
//! the candidate pairs' comparison patterns (and, with `em_u`, u re-estimated among the
//! candidates too, where blocking made agreement commoner). Patterns are counted first,
//! so EM runs over a few thousand distinct patterns, not millions of pairs.
//!
//! A pair's match weight is Σ log2(m/u) over its comparisons plus term-frequency
//! adjustments; its probability is that weight plus the prior log-odds, through the
//! logistic function.

use super::compare::{labels, level_count};
use super::settings::{Comparison, Settings};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// One level of one comparison, as estimated.
#[derive(Debug, Clone, Serialize)]
pub struct LevelModel {
    pub label: &'static str,
    pub m: f64,
    pub u: f64,
    /// log2(m / u): the evidence this level gives, in bits.
    pub weight: f64,
}

/// What the model knows of one blocking rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleModel {
    pub rule: String,
    /// Share of matches among the pairs this rule finds (its training session).
    pub lambda: f64,
    /// Comparisons on the rule's own fields: not evidence for the pairs it found.
    pub masked: Vec<String>,
}

/// The fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Per comparison: field, then its levels 1.. (level 0, missing, weighs 0).
    pub comparisons: Vec<(String, Vec<LevelModel>)>,
    /// Chance that two records of one scope are one entity (the prior).
    pub lambda: f64,
    /// Share of matches among the candidate pairs.
    pub candidate_lambda: f64,
    /// Per blocking rule: its share of matches and the comparisons it masks.
    pub rules: Vec<RuleModel>,
    pub em_iterations: usize,
    pub converged: bool,
    pub random_pairs: usize,
    pub distinct_patterns: usize,
}

impl Model {
    /// The prior log-odds of a pair, in bits.
    pub fn prior_bits(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// The weight of level `l` (1-based; 0 weighs nothing) of comparison `c`.
    pub fn weight(&self, c: usize, l: u8) -> f64 {
        if l == 0 {
            0.0
        } else {
            self.comparisons[c].1[l as usize - 1].weight
        }
    }
}

/// Comparison levels of every pair, packed: one byte per comparison.
pub type Pattern = Vec<u8>;

fn normalise(v: &mut [f64]) {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
}

/// u per comparison from random pairs: `levels(a, b)` gives a random pair's pattern.
pub fn sample_u(
    comps: &[Comparison],
    n: usize,
    settings: &Settings,
    ok: impl Fn(usize, usize) -> bool,
    levels: impl Fn(usize, usize) -> Pattern + Sync,
) -> (Vec<Vec<f64>>, usize) {
    let mut counts: Vec<Vec<f64>> = comps
        .iter()
        .map(|c| vec![1.0; level_count(c.kind) - 1])
        .collect();
    // The pairs are drawn in order from the seeded generator, then compared in parallel.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(settings.seed);
    let mut drawn = Vec::with_capacity(settings.u_sample_pairs);
    if n >= 2 {
        let mut tries = 0;
        while drawn.len() < settings.u_sample_pairs && tries < settings.u_sample_pairs * 4 {
            tries += 1;
            let (a, b) = (rng.gen_range(0..n), rng.gen_range(0..n));
            if a != b && ok(a, b) {
                drawn.push((a, b));
            }
        }
    }
    let taken = drawn.len();
    // Integer counts in f64 add exactly in any order: the result does not depend on how
    // rayon splits the work.
    let zeros: Vec<Vec<f64>> = counts.iter().map(|v| vec![0.0; v.len()]).collect();
    let add = |mut a: Vec<Vec<f64>>, b: Vec<Vec<f64>>| {
        for (x, y) in a.iter_mut().zip(b) {
            for (p, q) in x.iter_mut().zip(y) {
                *p += q;
            }
        }
        a
    };
    let tally = drawn
        .par_iter()
        .fold(
            || zeros.clone(),
            |mut t, &(a, b)| {
                for (c, &l) in levels(a, b).iter().enumerate() {
                    if l > 0 {
                        t[c][l as usize - 1] += 1.0;
                    }
                }
                t
            },
        )
        .reduce(|| zeros.clone(), add);
    counts = add(counts, tally);
    counts.iter_mut().for_each(|v| normalise(v));
    (counts, taken)
}

/// The first E-step's guess, so EM starts from people rather than from whatever latent
/// split the data offers (two people with one surname and emails made of it are a
/// split too): a pair whose present comparisons mostly agree (their best two levels)
/// is likely a match.
fn seed(comps: &[Comparison], p: &Pattern, mask: &[bool]) -> f64 {
    let (mut present, mut agree) = (0, 0);
    for (c, &l) in p.iter().enumerate() {
        if l > 0 && !mask[c] {
            present += 1;
            let disagree = l as usize == labels(comps[c].kind).len();
            agree += (l <= 2 && !disagree) as usize;
        }
    }
    if present > 0 && agree * 2 > present {
        0.95
    } else {
        0.01
    }
}

/// One EM session (Splink's training): the pairs one blocking rule finds, with the
/// comparisons on the rule's own fields masked (the rule chose the pairs for agreeing
/// on them, so they say nothing here). m of every unmasked comparison, the session's
/// share of matches, and the session's own u are estimated: non-matches a rule finds
/// agree more than random pairs do (two people with one name often have emails made of
/// it), and a u that ignored this would push them into the match class. The session's u
/// starts from the sampled u and is dropped afterwards; scoring uses the sampled u. Returns (m, λ, m
/// evidence weight per comparison, iterations, converged).
#[allow(clippy::type_complexity)]
fn session(
    comps: &[Comparison],
    pats: &BTreeMap<Pattern, u64>,
    mask: &[bool],
    u: &[Vec<f64>],
    iterations: usize,
) -> (Vec<Vec<f64>>, f64, Vec<f64>, usize, bool) {
    let mut m: Vec<Vec<f64>> = comps
        .iter()
        .map(|c| {
            let k = level_count(c.kind) - 1;
            let mut v = vec![0.15 / (k.max(2) - 1) as f64; k];
            v[0] = 0.8;
            v[k - 1] = 0.05;
            normalise(&mut v);
            v
        })
        .collect();
    let total: f64 = pats.values().map(|&n| n as f64).sum();
    let mut lambda: f64 = 0.5;
    let mut u = u.to_vec();
    let mut mass = vec![0.0; comps.len()];
    let (mut done, mut converged) = (0, false);
    for it in 0..iterations {
        done = it + 1;
        let mut mm: Vec<Vec<f64>> = m.iter().map(|v| vec![1e-3; v.len()]).collect();
        let mut uu: Vec<Vec<f64>> = u.iter().map(|v| vec![1e-3; v.len()]).collect();
        let mut matched = 0.0;
        for (p, &n) in pats {
            let n = n as f64;
            let (mut lm, mut lu) = (lambda.ln(), (1.0 - lambda).ln());
            for (c, &l) in p.iter().enumerate() {
                if l > 0 && !mask[c] {
                    lm += m[c][l as usize - 1].ln();
                    lu += u[c][l as usize - 1].ln();
                }
            }
            let post = if it == 0 {
                seed(comps, p, mask)
            } else {
                1.0 / (1.0 + (lu - lm).exp())
            };
            matched += n * post;
            for (c, &l) in p.iter().enumerate() {
                if l > 0 && !mask[c] {
                    mm[c][l as usize - 1] += n * post;
                    uu[c][l as usize - 1] += n * (1.0 - post);
                }
            }
        }
        mass = mm.iter().map(|v| v.iter().sum()).collect();
        mm.iter_mut().for_each(|v| normalise(v));
        uu.iter_mut().for_each(|v| normalise(v));
        for (c, v) in uu.into_iter().enumerate() {
            if !mask[c] {
                u[c] = v;
            }
        }
        let new_lambda = (matched / total.max(1.0)).clamp(1e-9, 1.0 - 1e-9);
        let delta = m
            .iter()
            .zip(&mm)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
            .fold((new_lambda - lambda).abs(), f64::max);
        m = mm;
        lambda = new_lambda;
        if delta < 1e-6 {
            converged = true;
            break;
        }
    }
    for (c, w) in mass.iter_mut().enumerate() {
        if mask[c] {
            *w = 0.0;
        }
    }
    (m, lambda, mass, done, converged)
}

/// Fits the model. `sessions[r]` holds the patterns of every pair rule `r` finds (found
/// by earlier rules too), `masks[r]` the comparisons on rule `r`'s fields. m of each
/// comparison is the average of the sessions that did not mask it, weighted by the
/// matches they saw. λ, the chance that two records of one scope are one, comes from the
/// deduplicated candidates (`all`), with m and u fixed, over `total_pairs` (every pair
/// of a scope): blocking selects pairs by their comparisons, so a pair's probability
/// among all pairs is its probability among the candidates too.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    comps: &[Comparison],
    sessions: &[BTreeMap<Pattern, u64>],
    masks: &[Vec<bool>],
    rule_names: &[String],
    all: &BTreeMap<Pattern, u64>,
    total_pairs: f64,
    u: Vec<Vec<f64>>,
    random_pairs: usize,
    settings: &Settings,
) -> Model {
    let mut m_sum: Vec<Vec<f64>> = comps
        .iter()
        .map(|c| vec![0.0; level_count(c.kind) - 1])
        .collect();
    let mut m_mass = vec![0.0; comps.len()];
    let mut rules = Vec::new();
    let (mut iterations, mut converged) = (0, true);
    for (r, pats) in sessions.iter().enumerate() {
        if pats.is_empty() {
            rules.push(RuleModel {
                rule: rule_names[r].clone(),
                lambda: 0.0,
                masked: Vec::new(),
            });
            continue;
        }
        let (m, lambda, mass, it, conv) =
            session(comps, pats, &masks[r], &u, settings.em_iterations);
        iterations = iterations.max(it);
        converged &= conv;
        for c in 0..comps.len() {
            for (l, x) in m[c].iter().enumerate() {
                m_sum[c][l] += x * mass[c];
            }
            m_mass[c] += mass[c];
        }
        rules.push(RuleModel {
            rule: rule_names[r].clone(),
            lambda,
            masked: comps
                .iter()
                .zip(&masks[r])
                .filter(|(_, m)| **m)
                .map(|(c, _)| c.field.clone())
                .collect(),
        });
    }
    // A comparison no session could learn (every rule blocks on it): m stays at a
    // cautious prior (mostly exact), reported as such in the weights.
    let m: Vec<Vec<f64>> = m_sum
        .into_iter()
        .zip(&m_mass)
        .map(|(mut v, &mass)| {
            if mass <= 0.0 {
                let k = v.len();
                v = vec![0.1 / (k.max(2) - 1) as f64; k];
                v[0] = 0.9;
            }
            normalise(&mut v);
            v
        })
        .collect();
    // λ among the candidates, m and u fixed.
    let n_cand: f64 = all.values().map(|&n| n as f64).sum();
    let mut lc: f64 = 0.1;
    for _ in 0..settings.em_iterations {
        let mut matched = 0.0;
        for (p, &n) in all {
            let (mut lm, mut lu) = (lc.ln(), (1.0 - lc).ln());
            for (c, &l) in p.iter().enumerate() {
                if l > 0 {
                    lm += m[c][l as usize - 1].ln();
                    lu += u[c][l as usize - 1].ln();
                }
            }
            matched += n as f64 / (1.0 + (lu - lm).exp());
        }
        let new = (matched / n_cand.max(1.0)).clamp(1e-9, 1.0 - 1e-9);
        let d = (new - lc).abs();
        lc = new;
        if d < 1e-7 {
            break;
        }
    }
    let lambda = (lc * n_cand / total_pairs.max(n_cand).max(1.0)).clamp(1e-12, 0.5);
    let comparisons = comps
        .iter()
        .enumerate()
        .map(|(c, comp)| {
            let levels = labels(comp.kind)
                .iter()
                .enumerate()
                .map(|(l, label)| LevelModel {
                    label,
                    m: m[c][l],
                    u: u[c][l],
                    weight: (m[c][l] / u[c][l]).log2(),
                })
                .collect();
            (comp.field.clone(), levels)
        })
        .collect();
    Model {
        comparisons,
        lambda,
        candidate_lambda: lc,
        rules,
        em_iterations: iterations,
        converged,
        random_pairs,
        distinct_patterns: all.len(),
    }
}

/// Probability from bits (weight plus prior).
pub fn probability(bits: f64) -> f64 {
    1.0 / (1.0 + (-bits).exp2())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linkage::settings::Kind;

    #[test]
    fn em_separates_matches_from_non_matches() {
        let comps: Vec<Comparison> = ["a", "b", "c", "d"]
            .iter()
            .map(|f| Comparison {
                field: f.to_string(),
                kind: Kind::Exact,
                tf: false,
            })
            .collect();
        // Blocked on a: 100 matches mostly agree on b, c and d; 900 non-matches mostly
        // disagree.
        let mut on_a = BTreeMap::new();
        for (p, n) in [
            ([1, 1, 1, 1], 80),
            ([1, 1, 1, 2], 10),
            ([1, 1, 2, 1], 10),
            ([1, 2, 2, 2], 800),
            ([1, 1, 2, 2], 40),
            ([1, 2, 1, 2], 30),
            ([1, 2, 2, 1], 30),
        ] {
            on_a.insert(p.to_vec(), n);
        }
        let u = vec![vec![0.03, 0.97]; 4];
        let masks = vec![vec![true, false, false, false]];
        let model = fit(
            &comps,
            &[on_a.clone()],
            &masks,
            &["a".into()],
            &on_a,
            100_000.0,
            u,
            1000,
            &Settings::default(),
        );
        let lambda = model.rules[0].lambda;
        assert!((lambda - 0.1).abs() < 0.03, "{lambda}");
        assert!(model.weight(1, 1) > 3.0 && model.weight(1, 2) < -2.0);
        let all_agree = model.prior_bits() + (0..4).map(|c| model.weight(c, 1)).sum::<f64>();
        let a_only = model.prior_bits()
            + model.weight(0, 1)
            + (1..4).map(|c| model.weight(c, 2)).sum::<f64>();
        assert!(probability(all_agree) > 0.9, "{}", probability(all_agree));
        assert!(probability(a_only) < 0.1, "{}", probability(a_only));
    }
}
