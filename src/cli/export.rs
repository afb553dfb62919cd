//! `salvage export`: the merged workspace as recovered.sqlite (the contract), and with
//! `--parquet DIR` the same tables, the provenance and the claims as Parquet.

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
    /// Also write the tables, the provenance and every source's claims as Parquet files
    /// into this folder (for DuckDB, a BI tool, Spark).
    #[arg(long, value_name = "DIR")]
    pub parquet: Option<PathBuf>,
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
    if let Some(dir) = &a.parquet {
        let claims =
            salvage::claims::store::Workspace::open_existing(&paths.claims())?.records()?;
        for (file, rows) in salvage::export::parquet::write(&rec, &claims, dir)? {
            outln!("wrote {file}: {rows} rows");
        }
    }
    Ok(ExitCode::SUCCESS)
}
