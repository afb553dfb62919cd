//! `salvage review`: the review queue as a decisions file a person fills in (see
//! `salvage::review`); a rerun whose incident names the file applies it.

use super::Ui;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recovered file whose review queue is written.
    #[arg(long, default_value = "salvage-out/recovered.sqlite")]
    pub recovered: PathBuf,
    /// The decisions file (CSV). Keep it beside the incident file, not in the output
    /// folder: a rerun replaces that. Its decided lines are kept when it is written again.
    #[arg(long, default_value = "decisions.csv")]
    pub decisions: PathBuf,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let (open, kept) = salvage::review::write(&a.recovered, &a.decisions)?;
    outln!(
        "wrote {}: {open} items to decide{}. Fill in `decision` (accept, reject, keep with a value, same with other_row_id, apart with record), name the file in the incident (decisions = \"{}\") and run again",
        a.decisions.display(),
        if kept > 0 {
            format!(", {kept} decided lines kept")
        } else {
            String::new()
        },
        a.decisions.display()
    );
    Ok(ExitCode::SUCCESS)
}
