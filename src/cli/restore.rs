//! `salvage restore`: what goes back into production, in the app's own schema (see
//! `salvage::restore`): a PostgreSQL script and CSV per table.

use super::Ui;
use anyhow::Context;
use salvage::claims::SourceKind;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The incident file: its backup source's mapping is read in reverse.
    pub incident: PathBuf,
    /// The recovered file to restore from.
    #[arg(long, default_value = "salvage-out/recovered.sqlite")]
    pub recovered: PathBuf,
    /// Where to write restore.sql, <table>.csv and held_back.csv.
    #[arg(long, default_value = "salvage-out/restore")]
    pub out: PathBuf,
    /// Rows under this confidence stay out unless accepted in review.
    #[arg(long, default_value_t = 0.9)]
    pub min_confidence: f64,
    /// The backup source whose mapping to use, when the incident has several.
    #[arg(long)]
    pub source: Option<String>,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let incident = salvage::incident::Incident::load(&a.incident)?;
    let backups: Vec<_> = incident
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Backup)
        .filter(|s| a.source.as_ref().is_none_or(|n| &s.name == n))
        .collect();
    let spec = match backups.as_slice() {
        [one] => *one,
        [] => anyhow::bail!(
            "{}: no backup source{}; restore writes through a backup's mapping",
            a.incident.display(),
            a.source
                .as_ref()
                .map(|n| format!(" named {n}"))
                .unwrap_or_default()
        ),
        _ => anyhow::bail!(
            "{}: several backup sources; name one with --source",
            a.incident.display()
        ),
    };
    let mapping_file = spec.mapping.as_ref().with_context(|| {
        format!(
            "source {} has no mapping; restore needs its tables and columns",
            spec.name
        )
    })?;
    let mapping = salvage::import::backup::mapping::Mapping::load(mapping_file)?;
    let rec = salvage::export::sqlite::read(&a.recovered)?;
    let plan = salvage::restore::plan(
        &rec,
        &mapping,
        &salvage::restore::Options {
            min_confidence: a.min_confidence,
        },
    );
    let header = format!(
        "Written by salvage {} from {} through {} (rows at confidence >= {} or accepted in review).\nApply to the database the backup restores into: psql -d <db> -f restore.sql",
        env!("CARGO_PKG_VERSION"),
        a.recovered.display(),
        mapping_file.display(),
        a.min_confidence
    );
    salvage::restore::write(&plan, &header, &a.out)?;
    for t in &plan.tables {
        let ins = t.rows.iter().filter(|r| r.insert).count();
        outln!(
            "{:<14} {:>7} to insert {:>7} to update {:>7} to soft-delete {:>7} unchanged",
            t.table,
            ins,
            t.rows.len() - ins,
            t.soft_deletes.len(),
            t.unchanged
        );
    }
    outln!(
        "wrote {}: restore.sql (one transaction), a CSV per table; {} rows held back and {} mapped fields not written back, each with why, in held_back.csv",
        a.out.display(),
        plan.held_back.len(),
        plan.not_written.len()
    );
    Ok(ExitCode::SUCCESS)
}
