//! `salvage schedule`: per business, the bookings the rebuild supports from the incident
//! on, as CSV and iCalendar files (see `salvage::schedule`).

use super::Ui;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recovered file.
    #[arg(long, default_value = "salvage-out/recovered.sqlite")]
    pub recovered: PathBuf,
    /// Where to write the schedule (a folder: index.csv, business-<id>.csv and .ics).
    #[arg(long, default_value = "salvage-out/schedule")]
    pub out: PathBuf,
    /// Bookings from this time on (default: the incident time in the file's run_info).
    #[arg(long)]
    pub from: Option<String>,
    /// Only the bookings of the next N days from --from.
    #[arg(long)]
    pub days: Option<i64>,
    /// Only this business (its id; repeatable).
    #[arg(long = "business", value_name = "ID")]
    pub businesses: Vec<String>,
    /// Mark bookings under this confidence for checking.
    #[arg(long, default_value_t = 0.8)]
    pub min_confidence: f64,
}

pub fn run(a: Args, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let opts = salvage::schedule::Options {
        from: a.from,
        days: a.days,
        businesses: a.businesses,
        min_confidence: a.min_confidence,
    };
    let all = salvage::schedule::build(&a.recovered, &opts)?;
    let w = salvage::schedule::write(&all, &a.out)?;
    print_summary(&all.from, &w);
    Ok(ExitCode::SUCCESS)
}

/// The summary line (also printed by `salvage run`).
pub fn print_summary(from: &str, w: &salvage::schedule::Written) {
    outln!(
        "wrote {}: {} upcoming bookings from {from} for {} businesses, {} marked to check{}",
        w.dir.display(),
        w.bookings,
        w.businesses,
        w.to_check,
        if w.zones_unknown > 0 {
            format!(
                "; {} businesses have no known time zone (their times are in UTC)",
                w.zones_unknown
            )
        } else {
            String::new()
        }
    );
}
