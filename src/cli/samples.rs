//! `salvage samples generate`: a realistic incident with its truth.

use super::Ui;
use salvage::samples::{self, world::Flavour, GenerateOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Generate an incident: truth.sqlite, a pg_dump backup, Stripe objects and exports,
    /// an mbox of the app's emails, and incident.toml to run it.
    Generate(GenerateArgs),
    /// Measure how often rows of each kind of evidence are right on generated incidents,
    /// and write the calibration table the merge reads its confidences from.
    Calibrate(CalibrateArgs),
    /// Time each stage of a rebuild of a generated incident (and its peak memory).
    Bench(BenchArgs),
    /// Serve a fake, read-only Stripe API on 127.0.0.1 (a test double: what the demo
    /// walk-through pulls from), from API pages in DIR or a synthetic world, until killed.
    ServeStripe(ServeStripeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeStripeArgs {
    /// Stripe API pages to serve: DIR/api/accounts/page-*.json and
    /// DIR/api/<acct_id|platform>/<resource>/page-*.json (e.g. samples/demo/stripe).
    #[arg(required_unless_present = "synthetic", conflicts_with = "synthetic")]
    pub dir: Option<PathBuf>,
    /// Serve a synthetic world instead: ACCOUNTS connected accounts with PER_RESOURCE objects
    /// of each of the ten resources, cloned from Stripe's example objects (--fixtures).
    #[arg(long, value_name = "ACCOUNTS:PER_RESOURCE")]
    pub synthetic: Option<String>,
    /// Stripe's example objects, for --synthetic.
    #[arg(long, default_value = "../shared/fixtures/stripe/fixtures3.json")]
    pub fixtures: PathBuf,
    /// Random seed of --synthetic: the same seed serves the same objects.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 12111)]
    pub port: u16,
    /// Accept the key in this environment variable (default: the key rk_test_salvage_demo).
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// At most N requests a second; beyond, 429 as Stripe does.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Wait this long before each answer.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Append each request, as one JSON line, to this file.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 1600)]
    pub businesses: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, default_value = "bookly")]
    pub flavour: String,
    /// Keep the generated incident and outputs here (default: a temp dir, removed after).
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Also write the figures as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Businesses per generated incident.
    #[arg(long, default_value_t = 15)]
    pub businesses: usize,
    /// Seeds to generate (each with every flavour), e.g. 21,22,23.
    #[arg(long, value_delimiter = ',', default_values_t = [21u64, 22, 23])]
    pub seeds: Vec<u64>,
    /// Where to write the table.
    #[arg(long, default_value = "src/merge/calibration.tsv")]
    pub out: PathBuf,
    /// Write nothing: for each flavour, fit on the others and print how the confidence
    /// holds on the one held out (ECE per table).
    #[arg(long)]
    pub leave_one_out: bool,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// How many businesses (each with its Stripe connected account, most of them).
    #[arg(long, default_value_t = 12)]
    pub businesses: usize,
    /// Random seed: the same seed gives the same incident, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Which sample app the wreckage comes from: bookly, tablehop, kelpie, pedalry or zenda.
    #[arg(long, default_value = "bookly")]
    pub flavour: String,
    /// How much each business holds: `current` (about 19 customers and 86 reservations a
    /// business) or `mission` (about 91 customers, 184 reservations and 184 payments).
    #[arg(long, default_value = "current")]
    pub density: String,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Write our own pg_dump-format file even when PostgreSQL is installed (by default the
    /// backup is restored into a throwaway PostgreSQL and dumped by the real pg_dump).
    #[arg(long)]
    pub no_real_pg_dump: bool,
    /// Refer to the mapping files in this directory (relative to --out) instead of writing
    /// copies into OUT/mappings.
    #[arg(long)]
    pub mapping_dir: Option<PathBuf>,
}

pub fn run(c: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match c {
        Command::ServeStripe(a) => {
            use samples::stripe_server::{FakeConfig, FakeStripe, World, DEMO_KEY};
            let world = match (&a.dir, &a.synthetic) {
                (_, Some(spec)) => {
                    let parsed = spec
                        .split_once(':')
                        .and_then(|(n, m)| Some((n.parse().ok()?, m.parse().ok()?)));
                    let (accounts, per) = parsed.ok_or_else(|| {
                        anyhow::anyhow!(
                            "--synthetic {spec:?}: write it ACCOUNTS:PER_RESOURCE, e.g. 3:250"
                        )
                    })?;
                    World::synthetic(&a.fixtures, accounts, per, a.seed)?
                }
                (Some(dir), None) => World::from_dir(dir)?,
                (None, None) => anyhow::bail!("give a DIR of API pages or --synthetic"),
            };
            let (key, whose) = match &a.key_env {
                Some(var) => match std::env::var(var) {
                    Ok(k) if !k.trim().is_empty() => {
                        (k.trim().to_string(), format!("the one in ${var}"))
                    }
                    _ => anyhow::bail!("--key-env {var}: ${var} is not set"),
                },
                None => (DEMO_KEY.to_string(), DEMO_KEY.to_string()),
            };
            let (objects, accounts) = (world.object_count(), world.accounts().len());
            let fake = FakeStripe::start(
                world,
                FakeConfig {
                    key,
                    port: a.port,
                    rate_limit: a.rate_limit,
                    latency: std::time::Duration::from_millis(a.latency_ms),
                    log_file: a.log,
                    ..FakeConfig::default()
                },
            )?;
            outln!(
                "fake Stripe serving {objects} objects of {accounts} accounts at {} (key: {whose})",
                fake.base_url()
            );
            // Serves until the process is killed (Ctrl-C).
            loop {
                std::thread::park();
            }
        }
        Command::Bench(a) => {
            let flavour = Flavour::parse(&a.flavour).ok_or_else(|| {
                anyhow::anyhow!(
                    "--flavour {:?} is not a sample app; use bookly, tablehop, kelpie, pedalry or zenda",
                    a.flavour
                )
            })?;
            let tmp = tempfile::tempdir()?;
            let work = a.work.clone().unwrap_or_else(|| tmp.path().to_path_buf());
            let sp = ui.spinner("bench");
            let stages = samples::bench::run(a.businesses, a.seed, flavour, &work)?;
            sp.finish_and_clear();
            outln!(
                "salvage {} ({} build), {} businesses ({}), {} cores",
                env!("CARGO_PKG_VERSION"),
                if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                },
                a.businesses,
                flavour.name(),
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            );
            out!("{}", samples::bench::render(&stages));
            if let Some(j) = &a.json {
                salvage::util::fsx::write_atomic(j, &serde_json::to_vec_pretty(&stages)?)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Calibrate(a) => {
            let work = tempfile::tempdir()?;
            let sp = ui.spinner("calibrate");
            // Zenda (blind trial 3) is left out on purpose: it is the app the shipped
            // calibration has never seen, so its ECE is the one that says how it holds.
            let flavours = [
                Flavour::Bookly,
                Flavour::Tablehop,
                Flavour::Kelpie,
                Flavour::Pedalry,
            ];
            let each =
                samples::calibrate::measure_each(a.businesses, &a.seeds, &flavours, work.path())?;
            sp.finish_and_clear();
            if a.leave_one_out {
                let seeds: Vec<String> = a.seeds.iter().map(|s| s.to_string()).collect();
                outln!(
                    "leave one flavour out: {} businesses, seeds {}",
                    a.businesses,
                    seeds.join(",")
                );
                out!(
                    "{}",
                    samples::calibrate::render_held_out(&samples::calibrate::leave_one_out(&each))
                );
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = samples::calibrate::Table::new();
            for (_, t) in &each {
                for (sig, (n, c)) in t {
                    let e = table.entry(sig.clone()).or_insert((0, 0));
                    e.0 += n;
                    e.1 += c;
                }
            }
            let seeds: Vec<String> = a.seeds.iter().map(|s| s.to_string()).collect();
            let how = format!(
                "salvage samples calibrate --businesses {} --seeds {} (every sample app)",
                a.businesses,
                seeds.join(",")
            );
            salvage::util::fsx::write_atomic(
                &a.out,
                samples::calibrate::render(&table, &how).as_bytes(),
            )?;
            for (sig, (rows, correct)) in &table {
                outln!(
                    "{sig:<60} {rows:>7} {:>7.3}",
                    *correct as f64 / *rows as f64
                );
            }
            outln!("wrote {} (rebuild to use it)", a.out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate(a) => {
            let flavour = Flavour::parse(&a.flavour).ok_or_else(|| {
                anyhow::anyhow!(
                    "--flavour {:?} is not a sample app; use bookly, tablehop, kelpie, pedalry or zenda",
                    a.flavour
                )
            })?;
            let density = samples::simulate::Density::parse(&a.density).ok_or_else(|| {
                anyhow::anyhow!("--density {:?}: use current or mission", a.density)
            })?;
            if a.businesses == 0 {
                anyhow::bail!("--businesses must be at least 1");
            }
            if std::fs::read_dir(&a.out).is_ok_and(|mut d| d.next().is_some()) {
                anyhow::bail!(
                    "{} exists and is not empty; choose another --out (files of an older incident would mix with the new one)",
                    a.out.display()
                );
            }
            let sp = ui.spinner("generate");
            let summary = samples::generate(&GenerateOptions {
                businesses: a.businesses,
                seed: a.seed,
                flavour,
                density,
                out: a.out.clone(),
                real_pg_dump: !a.no_real_pg_dump,
                mapping_dir: a.mapping_dir,
            })?;
            sp.finish_and_clear();
            for l in &summary.lines {
                outln!("{l}");
            }
            outln!("wrote {}", a.out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
