//! `salvage run`: the whole pipeline on one incident file.

use super::Ui;
use salvage::claims::store::Workspace;
use salvage::claims::Entity;
use salvage::incident::Incident;
use salvage::merge::Recovered;
use salvage::pipeline::{self, ImportOutcome, WorkspacePaths};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The incident file: when it happened and where each source is.
    pub incident: PathBuf,
    /// Output directory: recovered.sqlite, report.html, report.json, workspace/.
    #[arg(long, default_value = "salvage-out")]
    pub out: PathBuf,
    /// Go on to merge and export even if a source failed to import as a whole. Such a
    /// source gives nothing, not even what an earlier run imported of it; the summary and
    /// the report name it with its error, and the exit code is 2 (a partial rebuild).
    #[arg(long)]
    pub keep_going: bool,
    /// Re-import every source even if unchanged since the last run.
    #[arg(long)]
    pub force: bool,
    /// Rebuild from this source only (repeatable; default: every source). Other sources
    /// the workspace holds from an earlier run are left out: `--source nightly-backup`
    /// gives the backup-only floor.
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// A Stripe source with `api_base` is pulled first into <out>/pulls/<name> (or its
    /// `path`), unless a finished pull is there already; this is its pace.
    #[command(flatten)]
    pub pace: super::stripe::PaceArgs,
    /// Exit 3 (after writing everything) when anything was not placed or matched nothing:
    /// a mapping rule that matched nothing, a source that gave no record, an input row
    /// skipped for any reason but a table the mapping does not name, a repeat, or a
    /// payment intent that moved no money. For CI and scripts.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(a: Args, ui: &Ui) -> anyhow::Result<ExitCode> {
    let started = salvage::util::time::format_utc(chrono::Utc::now());
    let run_started = Instant::now();
    let incident = Incident::load(&a.incident)?;
    let only: Vec<&str> = a.sources.iter().map(String::as_str).collect();
    // A wrong name stops the run before the workspace is created.
    pipeline::check_sources(&incident, &only)?;
    // The output folder is this run's from here on: locked, what a killed run left there
    // removed, a fresh folder for this run's set of outputs.
    let set = salvage::util::outset::OutputSet::begin(&a.out)?;
    let (incident, pulls) =
        pipeline::pull_sources(&incident, &a.out, &only, false, &a.pace.options(), &|n| {
            ui.pull_bar(n)
        })?;
    for p in &pulls {
        if let Some(s) = &p.summary {
            super::stripe::print_summary(&p.source, &p.dir, s);
        }
    }
    let paths = WorkspacePaths::new(&a.out.join("workspace"));
    let mut ws = Workspace::open(&paths.claims())?;
    let outcomes = pipeline::import_sources(&incident, &mut ws, &only, a.force, &|n| ui.bar(n))?;
    let stops = !a.keep_going
        && outcomes
            .iter()
            .any(|o| matches!(o, ImportOutcome::Failed { .. }));
    // One failing source that stops the run is said once, in the run's own error.
    let single = stops
        && outcomes
            .iter()
            .filter(|o| matches!(o, ImportOutcome::Failed { .. }))
            .count()
            == 1;
    let code = super::import::print_outcomes(&outcomes, !single);
    if !only.is_empty() {
        outln!("rebuilding from {} only", only.join(", "));
    }
    let failed: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            ImportOutcome::Failed { source, .. } => Some(source.as_str()),
            _ => None,
        })
        .collect();
    if single {
        let (source, error) = outcomes
            .iter()
            .find_map(|o| match o {
                ImportOutcome::Failed { source, error } => Some((source, error)),
                _ => None,
            })
            .expect("one failed source");
        anyhow::bail!(
            "source {source}: {error}; nothing was written. Fix it, or pass --keep-going to rebuild without it"
        );
    }
    if !failed.is_empty() && !a.keep_going {
        anyhow::bail!(
            "{} source(s) failed to import ({}); nothing was written. Fix them, or pass --keep-going to rebuild without them",
            failed.len(),
            failed.join(", ")
        );
    }
    tracing::info!("import: all sources in {:.1?}", run_started.elapsed());
    let sp = ui.spinner("merge");
    let mut rec = pipeline::merge_sources(&ws, &only)?;
    sp.finish_and_clear();
    rec.run_info.insert("started_at".into(), started);
    rec.run_info.insert("run_id".into(), set.id().to_string());
    rec.run_info.insert(
        "finished_at".into(),
        salvage::util::time::format_utc(chrono::Utc::now()),
    );
    let sp = ui.spinner("export");
    let recovered = set.dir().join("recovered.sqlite");
    let t = Instant::now();
    salvage::export::sqlite::write(&rec, &recovered)?;
    tracing::info!(
        "export: wrote {} in {:.1?}{}",
        recovered.display(),
        t.elapsed(),
        pipeline::memory_note()
    );
    // `salvage export` / `report` later read the merge from recovered.sqlite itself,
    // while it is unchanged: the workspace notes which file, rather than a second copy.
    paths.refer_to_merged(&recovered)?;
    let t = Instant::now();
    let selected = |name: &str| only.is_empty() || only.contains(&name);
    let mut sources = ws.sources()?;
    sources.retain(|s| selected(&s.name));
    let mut skips = ws.skips()?;
    skips.retain(|s| selected(&s.source));
    let report = salvage::report::build(&rec, sources, &skips);
    salvage::report::write(&report, set.dir())?;
    tracing::info!(
        "report: built and written in {:.1?}{}",
        t.elapsed(),
        pipeline::memory_note()
    );
    // What each business needs this morning: its upcoming bookings.
    let t = Instant::now();
    let schedules = salvage::schedule::build(&recovered, &salvage::schedule::Options::default())?;
    let mut schedule = salvage::schedule::write(&schedules, &set.dir().join("schedule"))?;
    tracing::info!("schedule: written in {:.1?}", t.elapsed());
    // Everything is written: the manifest, then one switch puts the whole set in place.
    let t = Instant::now();
    let manifest = set.public(salvage::util::outset::MANIFEST);
    schedule.dir = set.public("schedule");
    let recovered = set.public("recovered.sqlite");
    set.commit()?;
    tracing::info!("outputs: switched into place in {:.1?}", t.elapsed());
    sp.finish_and_clear();

    outln!();
    print_tables(&rec);
    outln!();
    outln!("review queue: {} rows", rec.review.len());
    if let Some(d) = rec
        .run_info
        .get("review.decisions")
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
    {
        let n = |k: &str| d[k].as_u64().unwrap_or(0);
        let unmatched = d["unmatched"].as_array().map_or(0, |u| u.len());
        outln!(
            "review decisions: {} accepted, {} rejected, {} values kept, {} rows folded, {} records linked apart ({} review items answered){}",
            n("accepted"),
            n("rejected"),
            n("kept"),
            n("folded"),
            n("split"),
            n("review_items_answered"),
            if unmatched > 0 {
                format!("; {unmatched} NOT applied (run_info review.decisions says why)")
            } else {
                String::new()
            }
        );
    }
    for (reason, n) in &report.review.by_reason {
        outln!("  {reason:<24} {n:>7}");
    }
    // Every message accounted for: read = extracted + skipped, per mail source.
    for src in &report.sources {
        let Some(t) = &src.inputs else { continue };
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        let skipped: u64 = t["skipped"]
            .as_object()
            .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
            .unwrap_or(0);
        outln!(
            "{}: {} messages read: {} extracted, {skipped} skipped{}",
            src.name,
            n("read"),
            n("extracted"),
            match n("undelivered") {
                0 => String::new(),
                u => format!(" ({u} undelivered in tmp/ not read)"),
            }
        );
    }
    if !report.unmatched_mail.is_empty() {
        outln!("mail no template matched, by sender and subject (most first):");
        for u in report.unmatched_mail.iter().take(5) {
            outln!("  {:>7}  {}  (e.g. {})", u.count, u.shape, u.example);
        }
        if report.unmatched_mail.len() > 5 {
            outln!(
                "  ... {} more kinds in report.html",
                report.unmatched_mail.len() - 5
            );
        }
    }
    let skipped: usize = report.skipped.iter().map(|g| g.count).sum();
    outln!("skipped input: {skipped}");
    for g in &report.skipped {
        outln!("  {:<16} {:<24} {:>7}", g.source, g.kind, g.count);
    }
    if !report.notices.is_empty() {
        let n: usize = report.notices.iter().map(|g| g.count).sum();
        outln!("kept with a caveat: {n}");
        for g in &report.notices {
            outln!("  {:<16} {:<24} {:>7}", g.source, g.kind, g.count);
        }
    }
    let unmatched: Vec<_> = report
        .unmatched_rules
        .iter()
        .flat_map(|g| g.examples.iter().map(move |e| (g.source.as_str(), e)))
        .collect();
    if !unmatched.is_empty() {
        outln!("mapping rules that matched nothing: {}", unmatched.len());
        for (source, e) in unmatched.iter().take(10) {
            outln!("  {source:<16} {}: {}", e.location, e.reason);
        }
        if unmatched.len() > 10 {
            outln!("  ... and {} more in report.html", unmatched.len() - 10);
        }
    }
    let empty: Vec<(&str, &str)> = outcomes
        .iter()
        .filter_map(|o| match o {
            ImportOutcome::Imported(i) if i.records == 0 => {
                Some((i.name.as_str(), i.path.as_deref().unwrap_or("")))
            }
            _ => None,
        })
        .collect();
    for (name, path) in &empty {
        outln!("source {name} gave no record: check its path ({path}) and mapping");
    }
    outln!();
    outln!("wrote {}", recovered.display());
    outln!("wrote {}", a.out.join("report.html").display());
    outln!("wrote {}", a.out.join("report.json").display());
    outln!(
        "wrote {} (the run id and every file's SHA-256)",
        manifest.display()
    );
    super::schedule::print_summary(&schedules.from, &schedule);
    if !failed.is_empty() {
        outln!();
        outln!(
            "partial rebuild: {} source(s) failed and gave nothing, not even what an earlier run had imported: {} (see report.html; exit code 2)",
            failed.len(),
            failed.join(", ")
        );
    }
    tracing::info!(
        "run: done in {:.1?}{}",
        run_started.elapsed(),
        pipeline::memory_note()
    );
    if a.strict {
        let benign = [
            "ignored_table",
            "duplicate",
            "duplicate_email",
            "ignored_email",
            // Nothing to place: an empty mbox entry, a Maildir message still in tmp/.
            "empty_email",
            "undelivered_email",
            "payment_intent_without_charge",
        ];
        let unplaced: usize = report
            .skipped
            .iter()
            .filter(|g| !benign.contains(&g.kind.as_str()))
            .map(|g| g.count)
            .sum();
        // A failed source (exit 2) says more than --strict's 3.
        if unplaced + unmatched.len() + empty.len() > 0 && failed.is_empty() {
            errln!(
                "salvage: --strict: {unplaced} input rows or messages not placed, {} mapping rules that matched nothing, {} sources with no record (everything was written; see report.html)",
                unmatched.len(),
                empty.len()
            );
            return Ok(ExitCode::from(3));
        }
    }
    Ok(code)
}

/// Rows per table and per kind of supporting source.
pub fn print_tables(rec: &Recovered) {
    outln!(
        "{:<14} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "table",
        "rows",
        "backup",
        "stripe",
        "email",
        "mean conf"
    );
    for e in Entity::ALL {
        let rows = rec.rows(e);
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        let mut sum = 0.0;
        for r in rows {
            for k in &r.sources {
                *by.entry(k.as_str()).or_insert(0) += 1;
            }
            sum += r.confidence;
        }
        let mean = if rows.is_empty() {
            0.0
        } else {
            sum / rows.len() as f64
        };
        outln!(
            "{:<14} {:>8} {:>8} {:>8} {:>8} {:>10.3}",
            e.table(),
            rows.len(),
            by.get("backup").unwrap_or(&0),
            by.get("stripe").unwrap_or(&0),
            by.get("email").unwrap_or(&0),
            mean
        );
    }
}
