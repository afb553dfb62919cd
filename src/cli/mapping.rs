//! `salvage mapping check`: the incident's mappings tried on their sources, with nothing
//! merged or written: per source, how many records each entity got, what was skipped
//! and why (with a first example), and every mapping rule that matched nothing.

use super::Ui;
use salvage::claims::store::Workspace;
use salvage::incident::Incident;
use salvage::pipeline::{self, ImportOutcome};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import every source into a throwaway workspace and say what each mapping matched:
    /// records per source, skips by kind with an example, rules that matched nothing.
    /// Exit 3 when a rule matched nothing or a source gave no record.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The incident file.
    pub incident: PathBuf,
    /// Check only this source (repeatable).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Where `salvage run` / `stripe pull` saved a Stripe API source's pull (as their
    /// `--out`): it is checked there; nothing is pulled.
    #[arg(long, default_value = "salvage-out")]
    pub out: PathBuf,
}

pub fn run(c: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match c {
        Command::Check(a) => check(a, ui),
    }
}

fn check(a: CheckArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let incident = Incident::load(&a.incident)?;
    let only: Vec<&str> = a.sources.iter().map(String::as_str).collect();
    pipeline::check_sources(&incident, &only)?;
    // An API source is checked on its finished pull, if there is one; nothing is pulled.
    let tmp = tempfile::tempdir()?;
    let mut incident = incident;
    for s in incident.sources.iter_mut() {
        if s.api_base.is_some() && s.path.is_none() {
            let dir = pipeline::pull_dir(s, &a.out);
            if dir.is_dir() {
                s.path = Some(dir);
            }
        }
    }
    let mut ws = Workspace::open(&tmp.path().join("claims.sqlite"))?;
    let outcomes = pipeline::import_sources(&incident, &mut ws, &only, true, &|n| ui.bar(n))?;
    let skips = ws.skips()?;
    let mut problems = 0usize;
    for o in &outcomes {
        let (name, records) = match o {
            ImportOutcome::Imported(i) => (i.name.as_str(), i.records),
            ImportOutcome::Unchanged(n) => (n.as_str(), 0),
            ImportOutcome::Failed { source, error } => {
                outln!("source {source}: FAILED: {error}");
                problems += 1;
                continue;
            }
        };
        outln!("source {name}: {records} records");
        if records == 0 {
            outln!("  gave no record: check its path and mapping");
            problems += 1;
        }
        let mine: Vec<_> = skips.iter().filter(|s| s.source == name).collect();
        let mut kinds: BTreeMap<&str, (usize, &str, &str)> = BTreeMap::new();
        let mut rules = Vec::new();
        for s in &mine {
            if s.kind == salvage::import::UNUSED_RULE {
                rules.push(*s);
                continue;
            }
            kinds
                .entry(s.kind.as_str())
                .or_insert((0, s.location.as_str(), s.reason.as_str()))
                .0 += 1;
        }
        for (k, (n, loc, why)) in &kinds {
            outln!("  skipped {k:<28} {n:>7}   e.g. {loc}: {why}");
        }
        // Per rule, how many inputs it matched (the importers that count them).
        let hits: Vec<(String, u64)> = ws
            .meta(&format!("rule_hits.{name}"))?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        if !hits.is_empty() {
            outln!("  matched per rule:");
            for (rule, n) in &hits {
                outln!("    {n:>9}  {rule}");
            }
        }
        if rules.is_empty() {
            outln!("  every mapping rule matched something");
        } else {
            problems += rules.len();
            outln!("  rules that matched nothing: {}", rules.len());
            for r in rules {
                outln!("    {}: {}", r.location, r.reason);
            }
        }
    }
    Ok(if problems > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
