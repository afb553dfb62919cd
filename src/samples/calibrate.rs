//! `salvage samples calibrate`: measures how often rows of each evidence signature are
//! right, on generated incidents with known truth, and writes the table the merge reads
//! its confidences from (`src/merge/calibration.tsv`).

use super::world::Flavour;
use super::GenerateOptions;
use crate::error::Result;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// Rows seen and rows right per signature, over every run.
pub type Table = BTreeMap<String, (u64, u64)>;

/// Generates `seeds` incidents of each flavour, rebuilds and scores each, and sums the
/// evaluation's per-signature counts.
pub fn measure(
    businesses: usize,
    seeds: &[u64],
    flavours: &[Flavour],
    work: &Path,
) -> Result<Table> {
    let mut table = Table::new();
    for &flavour in flavours {
        for &seed in seeds {
            let dir = work.join(format!("{}-{seed}", flavour.name()));
            let inc = dir.join("incident");
            super::generate(&GenerateOptions {
                businesses,
                seed,
                flavour,
                density: Default::default(),
                out: inc.clone(),
                real_pg_dump: false,
                mapping_dir: None,
            })?;
            let rec = crate::pipeline::run_quiet(&inc.join("incident.toml"), &dir.join("out"))?;
            let ev = crate::evaluate::evaluate(&inc.join("truth.sqlite"), &rec)?;
            for g in ev.by_evidence {
                let e = table.entry(g.signature).or_insert((0, 0));
                e.0 += g.rows as u64;
                e.1 += g.correct as u64;
            }
        }
    }
    Ok(table)
}

/// One table per flavour, as [`measure`] sums them.
pub fn measure_each(
    businesses: usize,
    seeds: &[u64],
    flavours: &[Flavour],
    work: &Path,
) -> Result<Vec<(Flavour, Table)>> {
    flavours
        .iter()
        .map(|&f| Ok((f, measure(businesses, seeds, &[f], work)?)))
        .collect()
}

/// How a calibration fitted on the other flavours holds on one held out.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeldOut {
    pub flavour: String,
    pub rows: u64,
    /// Expected calibration error, 10 equal-width bins, over every row.
    pub ece: f64,
    /// Per table: (table, rows, ECE).
    pub tables: Vec<(String, u64, f64)>,
    /// Rows whose signature the fitted table had not seen often enough (scored by prior).
    pub unseen_rows: u64,
    /// The signatures that miss most (rows × |confidence − accuracy|): (signature, rows,
    /// confidence, accuracy).
    pub worst: Vec<(String, u64, f64, f64)>,
}

/// ECE over (confidence, rows, correct) groups, 10 equal-width bins.
pub fn ece(groups: &[(f64, u64, u64)]) -> f64 {
    let mut bins = [(0.0f64, 0u64, 0u64); 10];
    for &(c, rows, correct) in groups {
        let b = ((c * 10.0) as usize).min(9);
        bins[b].0 += c * rows as f64;
        bins[b].1 += rows;
        bins[b].2 += correct;
    }
    let total: u64 = bins.iter().map(|b| b.1).sum();
    if total == 0 {
        return 0.0;
    }
    bins.iter()
        .filter(|b| b.1 > 0)
        .map(|&(csum, rows, correct)| {
            let (conf, acc) = (csum / rows as f64, correct as f64 / rows as f64);
            rows as f64 / total as f64 * (conf - acc).abs()
        })
        .sum()
}

/// Leave one flavour out: for each flavour, fit on the others and score its rows.
pub fn leave_one_out(each: &[(Flavour, Table)]) -> Vec<HeldOut> {
    use crate::merge::confidence::{score_with, Evidence};
    each.iter()
        .map(|(held, rows)| {
            let mut fit: std::collections::HashMap<String, (u64, u64)> = Default::default();
            for (f, t) in each {
                if f == held {
                    continue;
                }
                for (sig, (n, c)) in t {
                    let e = fit.entry(sig.clone()).or_insert((0, 0));
                    e.0 += n;
                    e.1 += c;
                }
            }
            let mut all = Vec::new();
            let mut per: BTreeMap<String, Vec<(f64, u64, u64)>> = BTreeMap::new();
            let mut unseen = 0;
            let mut worst = Vec::new();
            for (sig, &(n, c)) in rows {
                let Some((e, ev)) = Evidence::from_signature(sig) else {
                    continue;
                };
                if fit.get(sig).is_none_or(|x| x.0 < 20) {
                    unseen += n;
                }
                let conf = score_with(&fit, e, &ev);
                worst.push((sig.clone(), n, conf, c as f64 / n.max(1) as f64));
                all.push((conf, n, c));
                per.entry(e.table().to_string())
                    .or_default()
                    .push((conf, n, c));
            }
            HeldOut {
                flavour: held.name().to_string(),
                rows: all.iter().map(|g| g.1).sum(),
                ece: ece(&all),
                tables: per
                    .into_iter()
                    .map(|(t, g)| (t, g.iter().map(|x| x.1).sum(), ece(&g)))
                    .collect(),
                unseen_rows: unseen,
                worst: {
                    let miss = |w: &(String, u64, f64, f64)| w.1 as f64 * (w.2 - w.3).abs();
                    worst.sort_by(|a, b| miss(b).total_cmp(&miss(a)));
                    worst.truncate(5);
                    worst
                },
            }
        })
        .collect()
}

/// The held-out results as a table a person reads.
pub fn render_held_out(results: &[HeldOut]) -> String {
    let mut s = String::from(
        "held out     rows      ECE   businesses  customers  reservations  payments   unseen\n",
    );
    for r in results {
        let t = |name: &str| {
            r.tables
                .iter()
                .find(|x| x.0 == name)
                .map(|x| format!("{:.4}", x.2))
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(
            s,
            "{:<10} {:>6}   {:.4}   {:>10} {:>10} {:>13} {:>9} {:>7.1}%",
            r.flavour,
            r.rows,
            r.ece,
            t("businesses"),
            t("customers"),
            t("reservations"),
            t("payments"),
            100.0 * r.unseen_rows as f64 / r.rows.max(1) as f64
        );
    }
    for r in results {
        let _ = writeln!(
            s,
            "\n{} held out, the signatures that miss most:",
            r.flavour
        );
        for (sig, n, conf, acc) in &r.worst {
            let _ = writeln!(
                s,
                "  {sig:<58} {n:>6} rows  confidence {conf:.3}  right {acc:.3}"
            );
        }
    }
    s
}

/// The table as `calibration.tsv` text.
pub fn render(table: &Table, how: &str) -> String {
    let mut s = String::from(
        "# Calibration of confidence: signature, rows seen, rows right, measured on generated\n# incidents with known truth. Rewrite with `salvage samples calibrate`.\n",
    );
    let _ = writeln!(s, "# {how}");
    for (sig, (rows, correct)) in table {
        let _ = writeln!(s, "{sig}\t{rows}\t{correct}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ece_is_the_weighted_gap_per_bin() {
        // 100 rows at 0.9 of which 90 right, 100 at 0.55 of which 35 right.
        let e = ece(&[(0.9, 100, 90), (0.55, 100, 35)]);
        assert!((e - 0.1).abs() < 1e-9, "{e}");
        assert_eq!(ece(&[]), 0.0);
    }
}
