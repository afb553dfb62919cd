//! `salvage bench stripe-pull`: a pull of N accounts × M objects per list from the fake
//! Stripe server, which enforces a rate limit and adds a latency per request, against the
//! ideal (requests needed / rate) and against a sequential pull at the same limit (one
//! request at a time, as a hand-written script pages). A bench command, not a timed test.

use super::Ui;
use anyhow::Context;
use salvage::pull::{self, Options, Plan};
use salvage::samples::stripe_server::{FakeConfig, FakeStripe, World};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct StripePullArgs {
    /// Connected accounts in the fake world.
    #[arg(long, default_value_t = 40)]
    pub accounts: usize,
    /// Objects per list (per account and resource).
    #[arg(long, default_value_t = 150)]
    pub objects: usize,
    /// The limit the fake enforces and the pull is given (requests per second).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Latency the fake adds to every reply (Stripe's own is tens of milliseconds).
    #[arg(long, default_value_t = 35)]
    pub latency_ms: u64,
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Stripe's example objects the fake world is built from.
    #[arg(long, default_value = "../shared/fixtures/stripe/fixtures3.json")]
    pub fixtures: PathBuf,
    /// Skip the sequential pull.
    #[arg(long)]
    pub no_sequential: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the figures as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

const KEY_ENV: &str = "SALVAGE_BENCH_FAKE_KEY";
const KEY: &str = "rk_test_salvage_bench";

pub fn run(a: StripePullArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let world = World::synthetic(&a.fixtures, a.accounts, a.objects, a.seed)
        .with_context(|| format!("building the fake world from {}", a.fixtures.display()))?;
    let needed = world.request_count_needed(salvage::import::stripe::layout::PAGE_SIZE);
    let objects = world.object_count();
    let fake = FakeStripe::start(
        world,
        FakeConfig {
            key: KEY.into(),
            rate_limit: Some(a.rate.floor() as u32),
            latency: Duration::from_millis(a.latency_ms),
            ..FakeConfig::default()
        },
    )?;
    // The pull reads its key from the environment, as in a real incident.
    std::env::set_var(KEY_ENV, KEY);
    let plan = Plan {
        base: fake.base_url(),
        key_env: KEY_ENV.into(),
        accounts: None,
        resources: salvage::import::stripe::layout::ACCOUNT_RESOURCES
            .iter()
            .map(|(r, _)| r.to_string())
            .collect(),
        platform: true,
        since: None,
        until: None,
    };
    let ideal = needed as f64 / a.rate;
    outln!(
        "fake Stripe: {} accounts, {objects} objects, limit {:.0}/s, {} ms latency; {needed} requests needed, ideal {ideal:.1} s",
        a.accounts, a.rate, a.latency_ms
    );
    let mut rows = Vec::new();
    let runs: &[(&str, usize)] = if a.no_sequential {
        &[("salvage", 0)]
    } else {
        &[("salvage", 0), ("sequential", 1)]
    };
    for &(name, conc) in runs {
        let dir = tempfile::tempdir()?;
        let opts = Options {
            rate: Some(a.rate),
            // The sequential script has no per-resource pacing either.
            per_resource: if conc == 1 { a.rate } else { 25.0 },
            concurrency: if conc == 0 { a.concurrency } else { conc },
            ..Options::default()
        };
        let before = fake.requests().len();
        let s = pull::pull(&plan, dir.path(), &opts, &ui.pull_bar(name))?;
        let answered = &fake.requests()[before..];
        let limited = answered.iter().filter(|r| r.status == 429).count();
        anyhow::ensure!(
            s.finished(),
            "the {name} pull did not finish: {:?} {:?}",
            s.fatal,
            s.failed
        );
        outln!(
            "{name:<11} {:>7.1} s  {:>6} requests  {:>6.1} req/s  {:>5.1}% of ideal  {} answered 429",
            s.seconds,
            s.requests,
            s.requests as f64 / s.seconds,
            100.0 * ideal / s.seconds,
            limited
        );
        rows.push(serde_json::json!({
            "run": name, "seconds": s.seconds, "requests": s.requests,
            "objects": s.objects, "share_of_ideal": ideal / s.seconds, "answered_429": limited,
        }));
    }
    if rows.len() == 2 {
        let f = |i: usize| rows[i]["seconds"].as_f64().unwrap_or(1.0);
        outln!(
            "salvage is {:.1}x faster than the sequential pull",
            f(1) / f(0)
        );
    }
    if let Some(j) = &a.json {
        let v = serde_json::json!({
            "accounts": a.accounts, "objects": objects, "rate": a.rate,
            "latency_ms": a.latency_ms, "requests_needed": needed, "ideal_seconds": ideal,
            "runs": rows,
        });
        salvage::util::fsx::write_atomic(j, serde_json::to_string_pretty(&v)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
