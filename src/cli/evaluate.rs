//! `salvage evaluate`: a recovered file against the truth (being wired).

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

pub fn run(_a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    anyhow::bail!("evaluate is not wired yet")
}
