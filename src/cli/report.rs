//! `salvage report`: the reconciliation report of a merged workspace.

use super::Ui;
use salvage::claims::store::Workspace;
use salvage::pipeline::WorkspacePaths;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workspace directory that `salvage merge` filled.
    #[arg(long, default_value = "salvage-out/workspace")]
    pub workspace: PathBuf,
    /// The directory for report.json and report.html.
    #[arg(long, default_value = "salvage-out")]
    pub out: PathBuf,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let paths = WorkspacePaths::new(&a.workspace);
    let ws = Workspace::open_existing(&paths.claims())?;
    let rec = salvage::export::sqlite::read(&paths.merged_file()?)?;
    let report = salvage::report::build(&rec, ws.sources()?, &ws.skips()?);
    salvage::report::write(&report, &a.out)?;
    println!(
        "wrote {} and {}",
        a.out.join("report.html").display(),
        a.out.join("report.json").display()
    );
    Ok(ExitCode::SUCCESS)
}
