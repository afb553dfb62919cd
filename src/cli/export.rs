//! `salvage export`: the merged workspace as recovered.sqlite (the contract).

use super::Ui;
use salvage::pipeline::WorkspacePaths;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workspace directory that `salvage merge` filled.
    #[arg(long, default_value = "salvage-out/workspace")]
    pub workspace: PathBuf,
    /// Where to write the recovered database.
    #[arg(long, default_value = "salvage-out/recovered.sqlite")]
    pub out: PathBuf,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let paths = WorkspacePaths::new(&a.workspace);
    let mut rec = salvage::export::sqlite::read(&paths.merged_file()?)?;
    rec.run_info.insert(
        "exported_at".into(),
        salvage::util::time::format_utc(chrono::Utc::now()),
    );
    salvage::export::sqlite::write(&rec, &a.out)?;
    outln!("wrote {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
