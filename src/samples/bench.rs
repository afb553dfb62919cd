//! `salvage samples bench`: how fast is a rebuild? Generates an incident, then times each
//! stage (generate, import per source, merge, export, report) in this process and reads
//! the peak memory after each from the kernel. A bench command rather than a timed test:
//! timings belong in a report a person reads, not in a pass/fail assertion.

use super::world::Flavour;
use super::GenerateOptions;
use crate::claims::store::Workspace;
use crate::error::Result;
use crate::incident::Incident;
use crate::pipeline::{self, ImportOutcome, WorkspacePaths};
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// One measured stage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stage {
    pub name: String,
    pub seconds: f64,
    /// Records (import), rows (merge, export) or businesses (generate) handled.
    pub items: u64,
    /// Peak resident memory of the process so far, MiB (Linux; 0 elsewhere).
    pub peak_rss_mib: u64,
}

/// Peak resident set size of this process so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

/// Generates `businesses` businesses of `flavour` under `work` and rebuilds them, timing
/// each stage.
pub fn run(businesses: usize, seed: u64, flavour: Flavour, work: &Path) -> Result<Vec<Stage>> {
    let mut stages = Vec::new();
    let mut stage = |name: &str, t: Instant, items: u64| {
        stages.push(Stage {
            name: name.to_string(),
            seconds: t.elapsed().as_secs_f64(),
            items,
            peak_rss_mib: peak_rss_mib(),
        })
    };
    let inc_dir = work.join("incident");
    let t = Instant::now();
    super::generate(&GenerateOptions {
        businesses,
        seed,
        flavour,
        density: Default::default(),
        out: inc_dir.clone(),
        real_pg_dump: false,
        mapping_dir: None,
    })?;
    stage("generate", t, businesses as u64);

    let incident = Incident::load(&inc_dir.join("incident.toml"))?;
    let paths = WorkspacePaths::new(&work.join("out/workspace"));
    let mut ws = Workspace::open(&paths.claims())?;
    for spec in &incident.sources {
        let t = Instant::now();
        let out = pipeline::import(&incident, &mut ws, Some(&spec.name), true, &|_| {
            indicatif::ProgressBar::hidden()
        })?;
        let records = match out.first() {
            Some(ImportOutcome::Imported(i)) => i.records as u64,
            Some(ImportOutcome::Failed { source, error }) => {
                return Err(crate::Error::Other(format!("source {source}: {error}")))
            }
            _ => 0,
        };
        stage(&format!("import {}", spec.kind), t, records);
    }
    let t = Instant::now();
    let rec = pipeline::merge(&ws)?;
    let rows: u64 = crate::claims::Entity::ALL
        .iter()
        .map(|e| rec.rows(*e).len() as u64)
        .sum();
    stage("merge", t, rows);
    let t = Instant::now();
    crate::export::sqlite::write(&rec, &work.join("out/recovered.sqlite"))?;
    stage("export", t, rows + rec.provenance.len() as u64);
    let t = Instant::now();
    let report = crate::report::build(&rec, ws.sources()?, &ws.skips()?);
    crate::report::write(&report, &work.join("out"))?;
    stage("report", t, rows);
    Ok(stages)
}

/// The stages as a table for the terminal.
pub fn render(stages: &[Stage]) -> String {
    let mut s = format!(
        "{:<16} {:>9} {:>11} {:>12} {:>14}\n",
        "stage", "seconds", "items", "items/s", "peak RSS MiB"
    );
    for st in stages {
        let _ = writeln!(
            s,
            "{:<16} {:>9.2} {:>11} {:>12.0} {:>14}",
            st.name,
            st.seconds,
            st.items,
            st.items as f64 / st.seconds.max(1e-9),
            st.peak_rss_mib
        );
    }
    let total: f64 = stages
        .iter()
        .filter(|s| s.name != "generate")
        .map(|s| s.seconds)
        .sum();
    let _ = writeln!(s, "{:<16} {:>9.2}   (import to report)", "rebuild", total);
    s
}
