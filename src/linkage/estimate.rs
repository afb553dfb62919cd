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
use serde::Serialize;
use std::collections::HashMap;

/// One level of one comparison, as estimated.
#[derive(Debug, Clone, Serialize)]
pub struct LevelModel {
    pub label: &'static str,
    pub m: f64,
    pub u: f64,
    /// log2(m / u): the evidence this level gives, in bits.
    pub weight: f64,
}

/// The fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Per comparison: field, then its levels 1.. (level 0, missing, weighs 0).
    pub comparisons: Vec<(String, Vec<LevelModel>)>,
    /// Share of matches among candidate pairs.
    pub lambda: f64,
    pub em_iterations: usize,
    pub converged: bool,
    pub random_pairs: usize,
    pub distinct_patterns: usize,
}

impl Model {
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
    levels: impl Fn(usize, usize) -> Pattern,
) -> (Vec<Vec<f64>>, usize) {
    let mut counts: Vec<Vec<f64>> = comps
        .iter()
        .map(|c| vec![1.0; level_count(c.kind) - 1])
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(settings.seed);
    let mut taken = 0;
    if n >= 2 {
        let mut tries = 0;
        while taken < settings.u_sample_pairs && tries < settings.u_sample_pairs * 4 {
            tries += 1;
            let (a, b) = (rng.gen_range(0..n), rng.gen_range(0..n));
            if a == b || !ok(a, b) {
                continue;
            }
            taken += 1;
            for (c, &l) in levels(a, b).iter().enumerate() {
                if l > 0 {
                    counts[c][l as usize - 1] += 1.0;
                }
            }
        }
    }
    counts.iter_mut().for_each(|v| normalise(v));
    (counts, taken)
}

/// EM over pattern counts. `u` is the sampled u (kept when `em_u` is off).
pub fn fit(
    comps: &[Comparison],
    patterns: &HashMap<Pattern, u64>,
    u_sampled: Vec<Vec<f64>>,
    random_pairs: usize,
    settings: &Settings,
) -> Model {
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
    let mut u = u_sampled.clone();
    let mut lambda: f64 = 0.1;
    let pats: Vec<(&Pattern, f64)> = patterns.iter().map(|(p, n)| (p, *n as f64)).collect();
    let total: f64 = pats.iter().map(|(_, n)| n).sum();
    let mut iterations = 0;
    let mut converged = false;
    if total > 0.0 {
        for it in 0..settings.em_iterations {
            iterations = it + 1;
            let mut mm: Vec<Vec<f64>> = m.iter().map(|v| vec![1e-3; v.len()]).collect();
            let mut uu: Vec<Vec<f64>> = u.iter().map(|v| vec![1e-3; v.len()]).collect();
            let mut matched = 0.0;
            for (p, n) in &pats {
                let (mut lm, mut lu) = (lambda.ln(), (1.0 - lambda).ln());
                for (c, &l) in p.iter().enumerate() {
                    if l > 0 {
                        lm += m[c][l as usize - 1].ln();
                        lu += u[c][l as usize - 1].ln();
                    }
                }
                let post = 1.0 / (1.0 + (lu - lm).exp());
                matched += n * post;
                for (c, &l) in p.iter().enumerate() {
                    if l > 0 {
                        mm[c][l as usize - 1] += n * post;
                        uu[c][l as usize - 1] += n * (1.0 - post);
                    }
                }
            }
            mm.iter_mut().for_each(|v| normalise(v));
            uu.iter_mut().for_each(|v| normalise(v));
            let new_lambda = (matched / total).clamp(1e-6, 1.0 - 1e-6);
            let delta = m
                .iter()
                .zip(&mm)
                .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
                .fold((new_lambda - lambda).abs(), f64::max);
            m = mm;
            if settings.em_u {
                u = uu;
            }
            lambda = new_lambda;
            if delta < 1e-5 {
                converged = true;
                break;
            }
        }
    }
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
        em_iterations: iterations,
        converged,
        random_pairs,
        distinct_patterns: patterns.len(),
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
        let comps = vec![
            Comparison {
                field: "a".into(),
                kind: Kind::Exact,
                tf: false,
            },
            Comparison {
                field: "b".into(),
                kind: Kind::Exact,
                tf: false,
            },
        ];
        // 100 pairs agree on both (matches), most disagree on both, a few on one.
        let mut pats = HashMap::new();
        pats.insert(vec![1, 1], 100);
        pats.insert(vec![1, 2], 25);
        pats.insert(vec![2, 1], 25);
        pats.insert(vec![2, 2], 850);
        let u = vec![vec![0.03, 0.97], vec![0.03, 0.97]];
        // u as sampled: two binary comparisons cannot identify u among candidates too.
        let settings = Settings {
            em_u: false,
            ..Settings::default()
        };
        let model = fit(&comps, &pats, u, 1000, &settings);
        assert!(model.weight(0, 1) > 0.0 && model.weight(0, 2) < 0.0);
        let both = model.prior_bits() + model.weight(0, 1) + model.weight(1, 1);
        let one = model.prior_bits() + model.weight(0, 1) + model.weight(1, 2);
        assert!(probability(both) > 0.9, "{}", probability(both));
        assert!(probability(one) < 0.1, "{}", probability(one));
    }
}
