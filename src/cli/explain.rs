//! `salvage explain`: why a row of recovered.sqlite exists.

use super::Ui;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The table: businesses, customers, reservations or payments.
    pub table: String,
    /// The row's id.
    pub id: String,
    /// The recovered file.
    #[arg(long, default_value = "salvage-out/recovered.sqlite")]
    pub recovered: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let x = salvage::explain::explain(&a.recovered, &a.table, &a.id)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&x)?);
    } else {
        out!("{}", salvage::explain::render_text(&x));
    }
    Ok(ExitCode::SUCCESS)
}
