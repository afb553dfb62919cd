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
