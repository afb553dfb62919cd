//! Command-line definition and glue. Each subcommand's arguments and code live in its own
//! file; nothing here knows a file format.

/// `println!` for the binary: a line on stdout, where a reader that went away
/// (`salvage run ... | head -1`) is not an error and never a panic. See [`write_stdout`].
macro_rules! outln {
    () => {
        $crate::cli::write_stdout(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*), true)
    };
}

/// `print!` for the binary (see [`outln!`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*), false)
    };
}

/// `eprintln!` for the binary: a line on stderr that is dropped, not a panic, when stderr
/// is closed.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::write_stderr(format_args!($($arg)*))
    };
}

mod bench;
mod bench_pull;
mod evaluate;
mod explain;
mod export;
mod import;
mod mapping;
mod merge;
mod report;
mod restore;
mod review;
mod run;
mod samples;
mod schedule;
mod stripe;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output could not be written (its reader went away): later output
/// is dropped without trying.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Writes to standard output (what `outln!` and `out!` expand to). SIGPIPE stays ignored,
/// as Rust sets it, so a closed stdout is an `EPIPE` error here rather than a signal that
/// kills the process wherever it is: the run goes on, writes all its files and exits with
/// its usual code; only the summary's remaining lines are dropped. Any other write error
/// (a full disk behind a redirect) is said once on stderr and the run goes on too.
pub fn write_stdout(args: std::fmt::Arguments<'_>, newline: bool) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let res = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(e) = res {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            write_stderr(format_args!(
                "salvage: warning: cannot write to standard output ({e}); going on without it, everything is in the output files"
            ));
        }
    }
}

/// Writes one line to standard error (what `errln!` expands to); a closed stderr drops
/// it.
pub fn write_stderr(args: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// Salvage rebuilds a lost bookings-and-payments database from Stripe, emails and stale
/// backups, with a confidence score on every row and the source of every value.
#[derive(Debug, Parser)]
#[command(name = "salvage", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v info, -vv debug). RUST_LOG also works.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars, only errors and the final summary.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole pipeline: import every source, merge, export recovered.sqlite, write the report.
    Run(run::Args),
    /// Import the incident's sources into a workspace (idempotent).
    Import(import::Args),
    /// Merge everything in a workspace (linkage, replay, survivorship, confidence).
    Merge(merge::Args),
    /// Write recovered.sqlite (the contract) from a merged workspace.
    Export(export::Args),
    /// Write the reconciliation report (report.json, report.html) from a merged workspace.
    Report(report::Args),
    /// Score a recovered file against the truth of a generated incident.
    Evaluate(evaluate::Args),
    /// Why a row of recovered.sqlite exists: the records joined, with weights, and the values chosen.
    Explain(explain::Args),
    /// Per business, the bookings from the incident on (CSV and iCalendar), doubtful ones marked.
    Schedule(schedule::Args),
    /// Write the review queue as a decisions file to fill in (accept, reject, keep, same); a rerun applies it.
    Review(review::Args),
    /// Write what goes back into production in the app's own schema (PostgreSQL script, CSV per table).
    Restore(restore::Args),
    /// Benchmarks of one part alone (the linkage engine), with quality figures.
    #[command(subcommand)]
    Bench(bench::Command),
    /// Try the incident's mappings on their sources (nothing merged or written).
    #[command(subcommand)]
    Mapping(mapping::Command),
    /// Pull from the Stripe API (read-only, resumable) into the layout the importer reads.
    #[command(subcommand)]
    Stripe(stripe::Command),
    /// Sample incidents with their truth.
    #[command(subcommand)]
    Samples(samples::Command),
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let ui = Ui { quiet: cli.quiet };
    match cli.command {
        Command::Run(a) => run::run(a, &ui),
        Command::Import(a) => import::run(a, &ui),
        Command::Merge(a) => merge::run(a, &ui),
        Command::Export(a) => export::run(a, &ui),
        Command::Report(a) => report::run(a, &ui),
        Command::Evaluate(a) => evaluate::run(a, &ui),
        Command::Explain(a) => explain::run(a, &ui),
        Command::Schedule(a) => schedule::run(a, &ui),
        Command::Review(a) => review::run(a, &ui),
        Command::Restore(a) => restore::run(a, &ui),
        Command::Mapping(c) => mapping::run(c, &ui),
        Command::Stripe(c) => stripe::run(c, &ui),
        Command::Samples(c) => samples::run(c, &ui),
        Command::Bench(c) => bench::run(c, &ui),
    }
}

pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        // A closed stderr (`salvage run 2>&1 | head -1`) drops log lines; reporting that
        // would go through `eprintln!`, which panics on the same closed pipe.
        .log_internal_errors(false)
        .try_init();
}

/// Progress bars and stage messages on stderr.
pub struct Ui {
    pub quiet: bool,
}

impl Ui {
    /// A progress bar for one stage or source (hidden with --quiet or when stderr is not a
    /// terminal).
    pub fn bar(&self, label: &str) -> indicatif::ProgressBar {
        self.styled_bar(
            label,
            "{prefix:>14.bold} [{bar:30}] {bytes}/{total_bytes} {msg}",
        )
    }

    /// A progress bar of a Stripe pull: accounts done, requests, objects, time left.
    pub fn pull_bar(&self, label: &str) -> indicatif::ProgressBar {
        self.styled_bar(
            label,
            "{prefix:>14.bold} [{bar:30}] {pos}/{len} {msg} eta {eta}",
        )
    }

    fn styled_bar(&self, label: &str, template: &str) -> indicatif::ProgressBar {
        if self.quiet {
            return indicatif::ProgressBar::hidden();
        }
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_prefix(label.to_string());
        pb
    }

    /// A spinner for a stage without a known length.
    pub fn spinner(&self, label: &str) -> indicatif::ProgressBar {
        if self.quiet {
            return indicatif::ProgressBar::hidden();
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{prefix:>14.bold} {spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.set_prefix(label.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    }
}
