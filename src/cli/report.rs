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
    /// truth.sqlite of a generated incident (or a trial): adds the reliability diagram,
    /// confidence against measured accuracy.
    #[arg(long)]
    pub truth: Option<PathBuf>,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let paths = WorkspacePaths::new(&a.workspace);
    let ws = Workspace::open_existing(&paths.claims())?;
    let merged = paths.merged_file()?;
    let rec = salvage::export::sqlite::read(&merged)?;
    let mut report = salvage::report::build(&rec, ws.sources()?, &ws.skips()?);
    if let Some(truth) = &a.truth {
        let c = salvage::evaluate::evaluate(truth, &merged)?.calibration;
        report.reliability = Some(salvage::report::Reliability {
            truth: truth.display().to_string(),
            ece: c.ece,
            bins: c
                .bins
                .iter()
                .map(|b| (b.lo, b.hi, b.count, b.mean_confidence, b.accuracy))
                .collect(),
        });
    }
    salvage::report::write(&report, &a.out)?;
    outln!(
        "wrote {} and {}",
        a.out.join("report.html").display(),
        a.out.join("report.json").display()
    );
    Ok(ExitCode::SUCCESS)
}
