//! `salvage evaluate`: a recovered file against the truth of a generated incident.

use super::Ui;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// truth.sqlite of a generated incident.
    #[arg(long)]
    pub truth: PathBuf,
    /// recovered.sqlite written by `salvage run` or `salvage export`.
    #[arg(long)]
    pub recovered: PathBuf,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let ev = salvage::evaluate::evaluate(&a.truth, &a.recovered)?;
    print!("{}", salvage::evaluate::render_text(&ev));
    if let Some(j) = &a.json {
        let text = serde_json::to_vec_pretty(&ev)?;
        salvage::util::fsx::write_atomic(j, &text)?;
        println!("wrote {}", j.display());
    }
    Ok(ExitCode::SUCCESS)
}
