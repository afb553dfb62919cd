//! `salvage evaluate`: a recovered file against the truth of a generated incident, or
//! (`--pairs`) its linkage against labels written in the records' own references.

use super::Ui;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("against").required(true).args(["truth", "pairs"])))]
pub struct Args {
    /// truth.sqlite of a generated incident.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// recovered.sqlite written by `salvage run` or `salvage export`.
    #[arg(long)]
    pub recovered: PathBuf,
    /// Score the linkage of this table pairwise instead (e.g. `customers`): records joined
    /// into one row against the labels that --truth-ref reads from their references.
    #[arg(long, requires = "truth_ref")]
    pub pairs: Option<String>,
    /// With --pairs: a regular expression over each record's source_ref whose first group
    /// names its true entity (FEBRL: 'rec-(\d+)').
    #[arg(long)]
    pub truth_ref: Option<String>,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let json = if let (Some(table), Some(re)) = (&a.pairs, &a.truth_ref) {
        let s = salvage::evaluate::pairs::evaluate(&a.recovered, table, re)?;
        out!("{}", salvage::evaluate::pairs::render_text(&s));
        serde_json::to_vec_pretty(&s)?
    } else {
        let truth = a
            .truth
            .as_deref()
            .expect("clap requires --truth or --pairs");
        let ev = salvage::evaluate::evaluate(truth, &a.recovered)?;
        out!("{}", salvage::evaluate::render_text(&ev));
        serde_json::to_vec_pretty(&ev)?
    };
    if let Some(j) = &a.json {
        salvage::util::fsx::write_atomic(j, &json)?;
        outln!("wrote {}", j.display());
    }
    Ok(ExitCode::SUCCESS)
}
