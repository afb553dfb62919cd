//! `salvage merge`: everything in a workspace into one recovered database.

use super::Ui;
use salvage::claims::store::Workspace;
use salvage::pipeline::{self, WorkspacePaths};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workspace directory that `salvage import` filled.
    #[arg(long, default_value = "salvage-out/workspace")]
    pub workspace: PathBuf,
}

pub fn run(a: Args, ui: &Ui) -> anyhow::Result<ExitCode> {
    let paths = WorkspacePaths::new(&a.workspace);
    let ws = Workspace::open_existing(&paths.claims())?;
    let sp = ui.spinner("merge");
    let rec = pipeline::merge(&ws)?;
    salvage::export::sqlite::write(&rec, &paths.merged())?;
    // A note from an earlier `salvage run` would now name an older merge.
    let _ = std::fs::remove_file(paths.merged_ref());
    sp.finish_and_clear();
    super::run::print_tables(&rec);
    Ok(ExitCode::SUCCESS)
}
