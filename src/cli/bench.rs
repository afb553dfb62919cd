//! `salvage bench linkage`: how fast and how good is the linkage engine alone? Links
//! generated person records (`--records N`) or CSV files of people (`--csv`, FEBRL) and
//! prints wall time, peak memory and pairwise precision, recall and F1. A bench command,
//! not a timed test: the figures are for a person to read and compare with the limits in
//! the issues (Splink + DuckDB on the same machine).

use super::Ui;
use anyhow::{bail, Context};
use salvage::linkage::{self, Comparison, Kind, Row, Settings, Table};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Dedupe generated person records, or link CSV files of people.
    Linkage(LinkageArgs),
    /// Pull a fake Stripe of N accounts × M objects at a rate limit: wall time against the
    /// ideal and against a sequential pull.
    StripePull(super::bench_pull::StripePullArgs),
}

#[derive(Debug, clap::Args)]
pub struct LinkageArgs {
    /// Generated person records to dedupe (e.g. 100000, 1000000).
    #[arg(long, conflicts_with = "csv")]
    pub records: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// CSV files of people instead (one file: dedupe; several: each is a source).
    #[arg(long, num_args = 1..)]
    pub csv: Vec<PathBuf>,
    /// With --csv: the column naming each row's true entity, and a regular expression
    /// whose first group is it (FEBRL: --truth-column rec_id --truth-ref 'rec-(\d+)').
    #[arg(long, default_value = "rec_id")]
    pub truth_column: String,
    #[arg(long, default_value = r"(.*)")]
    pub truth_ref: String,
    /// Linkage settings (TOML, the fields of an incident's [linkage.customer] table).
    /// Required with --csv; generated records have their own.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(c: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match c {
        Command::Linkage(a) => linkage_bench(a, ui),
        Command::StripePull(a) => super::bench_pull::run(a, ui),
    }
}

/// The settings the generated records are linked with, as a user would write them.
fn generated_settings() -> Settings {
    let mut s = Settings::people();
    s.blocking = vec![
        "email_local(email)".into(),
        "phone(phone)".into(),
        "first(name) & last(name)".into(),
        "soundex(last(name)) & dob".into(),
    ];
    // The people defaults (name, email, phone with term frequencies), and the birth date.
    s.comparisons.push(Comparison {
        field: "dob".into(),
        kind: Kind::Date,
        tf: false,
    });
    s
}

fn read_csvs(
    files: &[PathBuf],
    truth_column: &str,
    truth_ref: &str,
) -> anyhow::Result<(Table, Vec<u32>)> {
    let re = regex::Regex::new(truth_ref).context("--truth-ref is not a regular expression")?;
    let mut table = Table::default();
    let mut truth_ids: std::collections::HashMap<String, u32> = Default::default();
    let mut truth = Vec::new();
    for (source, f) in files.iter().enumerate() {
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(
                std::fs::File::open(f).with_context(|| format!("cannot open {}", f.display()))?,
            );
        let headers: Vec<String> = rd.headers()?.iter().map(str::to_string).collect();
        if table.fields.is_empty() {
            table.fields = headers.clone();
        } else if table.fields != headers {
            bail!("{}: columns differ from the first file's", f.display());
        }
        let tcol = headers
            .iter()
            .position(|h| h == truth_column)
            .with_context(|| format!("{}: no column {truth_column}", f.display()))?;
        for rec in rd.records() {
            let rec = rec.with_context(|| format!("{}: a bad row", f.display()))?;
            let label = rec.get(tcol).unwrap_or("");
            let label = re
                .captures(label)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string())
                .unwrap_or_else(|| label.to_string());
            let next = truth_ids.len() as u32;
            truth.push(*truth_ids.entry(label).or_insert(next));
            table.rows.push(Row {
                // A short row (the reader is flexible) has its missing columns empty.
                values: (0..headers.len())
                    .map(|i| rec.get(i).filter(|v| !v.is_empty()).map(str::to_string))
                    .collect(),
                source: source as u32,
                group: table.rows.len() as u32,
                ..Row::default()
            });
        }
    }
    Ok((table, truth))
}

fn linkage_bench(a: LinkageArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let settings: Option<Settings> = match &a.settings {
        Some(p) => Some(
            toml::from_str(
                &std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?,
            )
            .with_context(|| format!("{}: not linkage settings", p.display()))?,
        ),
        None => None,
    };
    let started = Instant::now();
    let (table, truth, settings, what) = match (a.records, a.csv.is_empty()) {
        (Some(n), _) => {
            let (t, truth) = salvage::samples::people::generate(n, a.seed);
            (
                t,
                truth,
                settings.unwrap_or_else(generated_settings),
                format!("{n} generated person records"),
            )
        }
        (None, false) => {
            let (t, truth) = read_csvs(&a.csv, &a.truth_column, &a.truth_ref)?;
            let Some(s) = settings else {
                bail!("--csv needs --settings FILE (see mappings/examples/febrl/*.incident.toml, [linkage.customer])");
            };
            let names: Vec<String> = a.csv.iter().map(|p| p.display().to_string()).collect();
            (t, truth, s, names.join(" + "))
        }
        (None, true) => bail!("say what to link: --records N, or --csv FILE..."),
    };
    let prepared = started.elapsed().as_secs_f64();
    let input_peak = salvage::samples::bench::peak_rss_mib();
    let sp = ui.spinner("linking");
    let t0 = Instant::now();
    let out = linkage::link(&table, &settings).map_err(|e| anyhow::anyhow!(e))?;
    let link_s = t0.elapsed().as_secs_f64();
    sp.finish_and_clear();
    let (p, r, f1) = salvage::samples::people::pairwise(&out.cluster, &truth);
    let peak = salvage::samples::bench::peak_rss_mib();
    outln!("linkage bench: {what}");
    outln!("  input            {prepared:>8.2} s   ({input_peak} MiB held after reading)");
    outln!(
        "  link             {link_s:>8.2} s   ({} candidate pairs, {} joins, {} ambiguous)",
        out.stats.candidate_pairs,
        out.stats.joins,
        out.stats.ambiguous
    );
    outln!("  peak memory      {peak:>8} MiB");
    outln!("  pairwise         precision {p:.4}  recall {r:.4}  F1 {f1:.4}");
    for (rule, n) in &out.stats.pairs_per_rule {
        outln!("  rule {rule:<40} {n:>10} pairs");
    }
    if !out.stats.oversized_blocks.is_empty() {
        outln!(
            "  {} blocks over max_block_size not compared (largest {})",
            out.stats.oversized_blocks.len(),
            out.stats
                .oversized_blocks
                .iter()
                .map(|b| b.1)
                .max()
                .unwrap_or(0)
        );
    }
    for c in &out.stats.empty_comparisons {
        outln!("  comparison on `{c}` found no values");
    }
    if let Some(m) = &out.model {
        outln!(
            "  model: λ {:.4} ({}), EM {} iterations{}",
            m.lambda,
            m.rules
                .iter()
                .map(|r| format!("{} {:.3}", r.rule, r.lambda))
                .collect::<Vec<_>>()
                .join("; "),
            m.em_iterations,
            if m.converged { "" } else { " (not converged)" }
        );
        for (field, levels) in &m.comparisons {
            let ws: Vec<String> = levels
                .iter()
                .map(|l| format!("{} {:+.1} (m {:.3} u {:.4})", l.label, l.weight, l.m, l.u))
                .collect();
            outln!("    {field}: {}", ws.join(", "));
        }
    }
    if let Some(j) = &a.json {
        let v = serde_json::json!({
            "input": what, "link_seconds": link_s, "peak_rss_mib": peak,
            "precision": p, "recall": r, "f1": f1, "stats": out.stats, "model": out.model,
        });
        salvage::util::fsx::write_atomic(j, &serde_json::to_vec_pretty(&v)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
