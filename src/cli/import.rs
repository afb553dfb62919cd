//! `salvage import`: the incident's sources into a workspace.

use super::Ui;
use salvage::claims::store::Workspace;
use salvage::incident::Incident;
use salvage::pipeline::{self, ImportOutcome, WorkspacePaths};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The incident file (see samples/demo/incident.toml).
    pub incident: PathBuf,
    /// The workspace directory (created if needed).
    #[arg(long, default_value = "salvage-out/workspace")]
    pub workspace: PathBuf,
    /// Import only the source with this name.
    #[arg(long)]
    pub source: Option<String>,
    /// Re-import even when the input is unchanged since the last import.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args, ui: &Ui) -> anyhow::Result<ExitCode> {
    let incident = Incident::load(&a.incident)?;
    // A Stripe API source is read from its pull, beside the workspace (pulled first if
    // it is not finished).
    let out = a.workspace.parent().unwrap_or(std::path::Path::new("."));
    let only: Vec<&str> = a.source.as_deref().into_iter().collect();
    pipeline::check_sources(&incident, &only)?;
    let (incident, pulls) = pipeline::pull_sources(
        &incident,
        out,
        &only,
        false,
        &salvage::pull::Options::default(),
        &|n| ui.pull_bar(n),
    )?;
    for p in &pulls {
        if let Some(s) = &p.summary {
            super::stripe::print_summary(&p.source, &p.dir, s);
        }
    }
    let paths = WorkspacePaths::new(&a.workspace);
    let mut ws = Workspace::open(&paths.claims())?;
    let outcomes = pipeline::import(&incident, &mut ws, a.source.as_deref(), a.force, &|n| {
        ui.bar(n)
    })?;
    Ok(print_outcomes(&outcomes, true))
}

/// Prints one line per source (a failure on stderr, unless `failures` is false: the
/// caller says it in its own error); exit code 2 if any source failed as a whole.
pub fn print_outcomes(outcomes: &[ImportOutcome], failures: bool) -> ExitCode {
    let mut failed = false;
    for o in outcomes {
        match o {
            ImportOutcome::Imported(i) => outln!(
                "imported {:<16} {:>8} records {:>9} claims {:>6} skipped",
                i.name,
                i.records,
                i.claims,
                i.skips
            ),
            ImportOutcome::Unchanged(n) => {
                outln!("unchanged {n:<15} (same input as the last import; --force to redo)")
            }
            ImportOutcome::Failed { source, error } => {
                failed = true;
                if failures {
                    errln!("salvage: error: source {source}: {error}");
                }
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
