//! `salvage stripe pull`: the incident's Stripe API sources onto disk, read-only and
//! resumable, in the layout the importer reads.

use super::Ui;
use salvage::incident::Incident;
use salvage::pipeline;
use salvage::pull::{Options, Summary};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Pull every Stripe API source of the incident (sources with `api_base` and
    /// `api_key_env`): the platform and every connected account. Resumes an interrupted
    /// pull; after a finished one, asks only for newer objects.
    Pull(PullArgs),
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The incident file.
    pub incident: PathBuf,
    /// Output directory (as for `salvage run`): a source without `path` is saved in
    /// <out>/pulls/<source name>.
    #[arg(long, default_value = "salvage-out")]
    pub out: PathBuf,
    /// Pull only this source (repeatable).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub pace: PaceArgs,
    /// Also write what the pull did as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// How fast a pull goes (shared by `salvage run`).
#[derive(Debug, Clone, clap::Args)]
pub struct PaceArgs {
    /// Requests per second in all (default: Stripe's read limit for the key: live 100,
    /// test 25).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Requests per second to any one resource (Stripe allows 25 per endpoint).
    #[arg(long, default_value_t = 25.0)]
    pub per_resource_rate: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Retries of a call that failed for a reason a retry can cure (5xx, a dropped
    /// connection, a malformed page), with exponential backoff and jitter.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
}

impl PaceArgs {
    pub fn options(&self) -> Options {
        Options {
            rate: self.rate,
            per_resource: self.per_resource_rate,
            concurrency: self.concurrency.max(1),
            retries: self.retries,
            ..Options::default()
        }
    }
}

pub fn run(c: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match c {
        Command::Pull(a) => pull(a, ui),
    }
}

fn pull(a: PullArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let incident = Incident::load(&a.incident)?;
    let only: Vec<&str> = a.sources.iter().map(String::as_str).collect();
    pipeline::check_sources(&incident, &only)?;
    if !incident.sources.iter().any(|s| s.api_base.is_some()) {
        anyhow::bail!(
            "{}: no source has api_base; give the Stripe source `api_base = \"https://api.stripe.com\"` and `api_key_env = \"STRIPE_KEY\"` (the name of the variable that holds a restricted read-only key)",
            a.incident.display()
        );
    }
    let (_, outcomes) =
        pipeline::pull_sources(&incident, &a.out, &only, true, &a.pace.options(), &|n| {
            ui.pull_bar(n)
        })?;
    let mut code = ExitCode::SUCCESS;
    let mut all = Vec::new();
    for o in &outcomes {
        if let Some(s) = &o.summary {
            print_summary(&o.source, &o.dir, s);
            if !s.finished() {
                code = ExitCode::from(2);
            }
            all.push(serde_json::json!({"source": o.source, "dir": o.dir, "summary": s}));
        }
    }
    if let Some(j) = &a.json {
        salvage::util::fsx::write_atomic(j, serde_json::to_string_pretty(&all)?.as_bytes())?;
    }
    Ok(code)
}

/// What a pull did, for people: one line of totals, then every list not saved. (Warnings
/// about the key were logged when the pull started.)
pub fn print_summary(source: &str, dir: &std::path::Path, s: &Summary) {
    outln!(
        "pulled {source} into {}: {} accounts, {} lists ({} complete, {} refused, {} failed)",
        dir.display(),
        s.accounts,
        s.lists,
        s.complete,
        s.refused.len(),
        s.failed.len()
    );
    outln!(
        "  {} requests, {} pages, {} new objects in {:.1} s ({:.1} requests/s, limit {:.0}/s), {} retries, {} rate limited",
        s.requests,
        s.pages,
        s.objects,
        s.seconds,
        s.requests as f64 / s.seconds.max(1e-9),
        s.rate,
        s.retries,
        s.rate_limited
    );
    if !s.refused.is_empty() {
        outln!("  refused by Stripe (skipped; this money is not verified against Stripe):");
        for (list, why) in &s.refused {
            outln!("    {list:<40} {why}");
        }
    }
    if !s.failed.is_empty() {
        outln!("  failed (rerun `salvage stripe pull` to go on from the checkpoint):");
        for (list, why) in &s.failed {
            outln!("    {list:<40} {why}");
        }
    }
}
