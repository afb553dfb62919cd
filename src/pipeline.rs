//! The stages as functions, shared by `salvage run` and the per-stage subcommands:
//! import (sources -> workspace), merge (workspace -> merged), export and report.
//! Each stage reads what the previous one stored, so any stage can be re-run alone.

use crate::claims::store::{SourceInfo, Workspace};
use crate::claims::Entity;
use crate::error::{Error, Result};
use crate::import::{self, ImportContext};
use crate::incident::Incident;
use crate::merge::{self, Recovered, Rules, Settings};
use crate::util::{ids, time};
use std::path::{Path, PathBuf};

/// The process's resident and peak resident memory so far, for stage timings in the log
/// (`rss 812 MB, peak 1.9 GB`); empty where /proc is not available.
pub fn memory_note() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    match (kb("VmRSS:"), kb("VmHWM:")) {
        (Some(rss), Some(peak)) => format!(" (rss {} MB, peak {} MB)", rss / 1024, peak / 1024),
        _ => String::new(),
    }
}

/// Where a workspace directory keeps its files.
pub struct WorkspacePaths {
    pub dir: PathBuf,
}

impl WorkspacePaths {
    pub fn new(dir: &Path) -> Self {
        WorkspacePaths {
            dir: dir.to_path_buf(),
        }
    }
    pub fn claims(&self) -> PathBuf {
        self.dir.join("workspace.sqlite")
    }
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged.sqlite")
    }
    /// The note `salvage run` leaves instead of a second copy of its output: which
    /// `recovered.sqlite` holds this workspace's merge, with its size and modification time.
    pub fn merged_ref(&self) -> PathBuf {
        self.dir.join("merged.ref")
    }

    /// Records that `recovered` (just written by `salvage run`) is this workspace's merge,
    /// instead of copying it (gigabytes at a large incident). A `merged.sqlite` from an
    /// earlier `salvage merge` is removed so it is never read in place of the newer run.
    pub fn refer_to_merged(&self, recovered: &Path) -> Result<()> {
        let stamp = file_stamp(recovered)?;
        let abs = std::fs::canonicalize(recovered).map_err(|e| Error::read(recovered, e))?;
        let note = serde_json::json!({ "path": abs, "size": stamp.0, "modified_ns": stamp.1 });
        crate::util::fsx::write_atomic(&self.merged_ref(), note.to_string().as_bytes())?;
        match std::fs::remove_file(self.merged()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Write {
                path: self.merged(),
                cause: e,
            }),
            _ => Ok(()),
        }
    }

    /// The file that holds this workspace's merge: `merged.sqlite` (from `salvage merge`),
    /// else the `recovered.sqlite` that `salvage run` named, if it is unchanged since. An
    /// error says which command to run when there is none.
    pub fn merged_file(&self) -> Result<PathBuf> {
        let merged = self.merged();
        if merged.is_file() {
            return Ok(merged);
        }
        let again = format!(
            "run `salvage merge --workspace {}` (or `salvage run` again)",
            self.dir.display()
        );
        let Ok(text) = std::fs::read_to_string(self.merged_ref()) else {
            return Err(Error::input(
                &self.dir,
                format!("nothing merged yet; {again}"),
            ));
        };
        let note: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::input(self.merged_ref(), format!("unreadable ({e}); {again}")))?;
        let path = PathBuf::from(note["path"].as_str().unwrap_or_default());
        let want = (note["size"].as_u64(), note["modified_ns"].as_u64());
        match file_stamp(&path) {
            Ok((size, ns)) if want == (Some(size), Some(ns)) => Ok(path),
            Ok(_) => Err(Error::input(
                &path,
                format!("changed since `salvage run` wrote it, so it is no longer this workspace's merge; {again}"),
            )),
            Err(_) => Err(Error::input(
                &path,
                format!("gone since `salvage run` wrote it; {again}"),
            )),
        }
    }
}

/// A file's size and modification time in nanoseconds: enough to tell that it changed.
fn file_stamp(path: &Path) -> Result<(u64, u64)> {
    let m = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
    let ns = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Ok((m.len(), ns))
}

/// How one source's import went.
#[derive(Debug, Clone)]
pub enum ImportOutcome {
    Imported(SourceInfo),
    /// The input's SHA-256 matches the last import: nothing to do.
    Unchanged(String),
    /// The import failed as a whole; the others went on.
    Failed {
        source: String,
        error: String,
    },
}

/// A Stripe API source's pull: where it is saved and what it did (None when it was
/// already finished and `run` did not pull again).
#[derive(Debug)]
pub struct PullOutcome {
    pub source: String,
    pub dir: PathBuf,
    pub summary: Option<crate::pull::Summary>,
}

/// Where an API source's pull is saved: its `path`, else `<out>/pulls/<name>`.
pub fn pull_dir(spec: &crate::incident::SourceSpec, out: &Path) -> PathBuf {
    spec.path
        .clone()
        .unwrap_or_else(|| out.join("pulls").join(&spec.name))
}

/// What a source's pull asks for.
pub fn pull_plan(spec: &crate::incident::SourceSpec) -> Option<crate::pull::Plan> {
    let base = spec.api_base.clone()?;
    Some(crate::pull::Plan {
        base,
        key_env: spec.api_key_env.clone()?,
        accounts: spec.pull.accounts.clone(),
        resources: spec.pull.resources.clone().unwrap_or_else(|| {
            crate::import::stripe::layout::ACCOUNT_RESOURCES
                .iter()
                .map(|(r, _)| r.to_string())
                .collect()
        }),
        platform: spec.pull.platform.unwrap_or(true),
        since: spec.pull.created_since,
        until: spec.pull.created_until,
    })
}

/// Pulls every Stripe API source of `only` (all when empty) into its pull directory,
/// unless `again` is false and that pull is finished; returns the incident with each such
/// source's `path` set to its pull, so the importers read files as always. A pull that
/// stopped as a whole (wrong key, no network) is an error naming the source; lists that
/// failed are left to the importer to name.
pub fn pull_sources(
    incident: &Incident,
    out: &Path,
    only: &[&str],
    again: bool,
    opts: &crate::pull::Options,
    progress: &dyn Fn(&str) -> indicatif::ProgressBar,
) -> Result<(Incident, Vec<PullOutcome>)> {
    let mut resolved = incident.clone();
    let mut outcomes = Vec::new();
    for spec in resolved.sources.iter_mut() {
        if !only.is_empty() && !only.contains(&spec.name.as_str()) {
            continue;
        }
        let Some(plan) = pull_plan(spec) else {
            continue;
        };
        let dir = pull_dir(spec, out);
        let summary = if again || !crate::pull::is_finished(&dir) {
            let pb = progress(&spec.name);
            let s = crate::pull::pull(&plan, &dir, opts, &pb)?;
            if let Some(f) = &s.fatal {
                return Err(Error::Other(format!(
                    "source {}: the Stripe pull stopped: {f}",
                    spec.name
                )));
            }
            Some(s)
        } else {
            None
        };
        spec.path = Some(dir.clone());
        outcomes.push(PullOutcome {
            source: spec.name.clone(),
            dir,
            summary,
        });
    }
    Ok((resolved, outcomes))
}

/// Imports every source of the incident (or only `only`) into the workspace. A source
/// that fails as a whole is reported and the others go on.
pub fn import(
    incident: &Incident,
    ws: &mut Workspace,
    only: Option<&str>,
    force: bool,
    progress: &dyn Fn(&str) -> indicatif::ProgressBar,
) -> Result<Vec<ImportOutcome>> {
    import_sources(incident, ws, only.as_slice(), force, progress)
}

/// An error that lists the incident's source names if one of `names` is not among them.
pub fn check_sources(incident: &Incident, names: &[&str]) -> Result<()> {
    for &name in names {
        if !incident.sources.iter().any(|s| s.name == name) {
            let names: Vec<_> = incident.sources.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::config(
                &incident.file,
                format!(
                    "no source named {name:?}; the sources are: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Imports the sources named in `only` (every source when it is empty). A name the
/// incident does not have is an error that lists the names, before anything is imported.
pub fn import_sources(
    incident: &Incident,
    ws: &mut Workspace,
    only: &[&str],
    force: bool,
    progress: &dyn Fn(&str) -> indicatif::ProgressBar,
) -> Result<Vec<ImportOutcome>> {
    check_sources(incident, only)?;
    ws.set_meta("incident_at", &incident.incident_at)?;
    ws.set_meta("incident_name", &incident.name)?;
    ws.set_meta(
        "rules",
        &serde_json::to_string(&incident.rules).unwrap_or_default(),
    )?;
    ws.set_meta(
        "linkage",
        &serde_json::to_string(&incident.linkage).unwrap_or_default(),
    )?;
    // The decisions are read on every import (a person edits the file between runs).
    let decisions = match &incident.decisions {
        Some(f) => crate::review::read(f)?,
        None => Vec::new(),
    };
    ws.set_meta(
        "decisions",
        &serde_json::to_string(&decisions).unwrap_or_default(),
    )?;
    let selected: Vec<_> = incident
        .sources
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.name.as_str()))
        .collect();
    // The input's own SHA-256 goes to run_info; the fingerprint (input, mapping and
    // times) decides whether a re-import can be skipped. Hashing reads every input once
    // more (seconds for a large mail archive): a second thread hashes the next sources
    // while this one imports.
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        let to_hash = selected.clone();
        scope.spawn(move || {
            let sha_of = |p: &Path| ids::sha256_path(p).map_err(|e| Error::read(p, e));
            for spec in to_hash {
                let t = std::time::Instant::now();
                let shas = spec
                    .path
                    .as_deref()
                    .map(sha_of)
                    .transpose()
                    .and_then(|sha| Ok((sha, spec.mapping.as_deref().map(sha_of).transpose()?)));
                tracing::debug!("hashed {} in {:.1?}", spec.name, t.elapsed());
                if tx.send(shas).is_err() {
                    break;
                }
            }
        });
        import_hashed(incident, ws, &selected, force, progress, &rx)
    })
}

type Shas = Result<(Option<String>, Option<String>)>;

fn import_hashed(
    incident: &Incident,
    ws: &mut Workspace,
    selected: &[&crate::incident::SourceSpec],
    force: bool,
    progress: &dyn Fn(&str) -> indicatif::ProgressBar,
    hashes: &std::sync::mpsc::Receiver<Shas>,
) -> Result<Vec<ImportOutcome>> {
    let mut out = Vec::new();
    for &spec in selected {
        let hashed = hashes
            .recv()
            .map_err(|_| Error::Other("the input hashing thread stopped".into()))?;
        // An input that cannot even be hashed fails its own source, not the others.
        let (sha, mapping_sha) = match hashed {
            Ok(shas) => shas,
            Err(e) => {
                fail(ws, spec, e.to_string(), &mut out)?;
                continue;
            }
        };
        let fingerprint = format!(
            "{}|{}|{}|{}|{}",
            sha.as_deref().unwrap_or(""),
            mapping_sha.as_deref().unwrap_or(""),
            spec.snapshot_at.as_deref().unwrap_or(""),
            spec.exported_at.as_deref().unwrap_or(""),
            env!("CARGO_PKG_VERSION"),
        );
        // A setting that changes what is read (absent: the fingerprint is as before).
        let fingerprint = match spec.max_message_mb {
            Some(mb) => format!("{fingerprint}|max_message_mb={mb}"),
            None => fingerprint,
        };
        let fp_key = format!("fingerprint.{}", spec.name);
        if !force && sha.is_some() && ws.meta(&fp_key)?.as_deref() == Some(fingerprint.as_str()) {
            out.push(ImportOutcome::Unchanged(spec.name.clone()));
            continue;
        }
        let info = SourceInfo {
            name: spec.name.clone(),
            kind: spec.kind.as_str().to_string(),
            path: spec.path.as_ref().map(|p| p.display().to_string()),
            sha256: sha,
            snapshot_at: spec.snapshot_at.clone(),
            exported_at: spec.exported_at.clone(),
            imported_at: Some(time::format_utc(chrono::Utc::now())),
            records: 0,
            claims: 0,
            skips: 0,
            inputs: None,
        };
        let pb = progress(&spec.name);
        let started = std::time::Instant::now();
        let mut writer = ws.begin_source(info)?;
        let ctx = ImportContext {
            incident,
            spec,
            progress: &pb,
        };
        match import::import_source(&ctx, &mut writer) {
            Ok(()) => {
                pb.finish_and_clear();
                let info = writer.finish()?;
                tracing::info!(
                    "import {}: {} records, {} skips in {:.1?}{}",
                    spec.name,
                    info.records,
                    info.skips,
                    started.elapsed(),
                    memory_note()
                );
                out.push(ImportOutcome::Imported(info));
                ws.set_meta(&fp_key, &fingerprint)?;
            }
            Err(e) => {
                pb.abandon();
                drop(writer);
                fail(ws, spec, e.to_string(), &mut out)?;
            }
        }
    }
    Ok(out)
}

/// A source that failed as a whole: nothing it said in an earlier import stays in the
/// workspace (a merge must not pass last week's records off as this run's), the error
/// is kept for the report, and its fingerprint is cleared so the next run reads it again.
fn fail(
    ws: &mut Workspace,
    spec: &crate::incident::SourceSpec,
    error: String,
    out: &mut Vec<ImportOutcome>,
) -> Result<()> {
    ws.fail_source(&spec.name, &error)?;
    ws.set_meta(&format!("fingerprint.{}", spec.name), "")?;
    out.push(ImportOutcome::Failed {
        source: spec.name.clone(),
        error,
    });
    Ok(())
}

/// Merges everything in the workspace.
pub fn merge(ws: &Workspace) -> Result<Recovered> {
    merge_sources(ws, &[])
}

/// Merges what the sources named in `only` said (everything when it is empty): other
/// sources a workspace holds from an earlier import are left out of the rows and of
/// `run_info`.
pub fn merge_sources(ws: &Workspace, only: &[&str]) -> Result<Recovered> {
    let selected = |name: &str| only.is_empty() || only.contains(&name);
    let incident_at = ws.meta("incident_at")?.ok_or_else(|| {
        Error::input(
            ws.path(),
            "the workspace has no incident; run `salvage import <incident.toml>` first",
        )
    })?;
    let rules: Rules = ws
        .meta("rules")?
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    let mut records = ws.records()?;
    if !only.is_empty() {
        records.retain(|r| selected(&r.source));
    }
    tracing::info!(
        "load records: {} from the workspace in {:.1?}{}",
        records.len(),
        started.elapsed(),
        memory_note()
    );
    let started = std::time::Instant::now();
    let linkage: crate::incident::Linkage = ws
        .meta("linkage")?
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default();
    let settings = Settings {
        incident_at,
        rules,
        customer_linkage: linkage.customer(),
        decisions: ws
            .meta("decisions")?
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default(),
    };
    let mut rec = merge::merge(&records, &settings);
    drop(records);
    tracing::info!(
        "merge: {} rows, {} provenance, {} review in {:.1?}{}",
        Entity::ALL
            .iter()
            .map(|&e| rec.rows(e).len())
            .sum::<usize>(),
        rec.provenance.len(),
        rec.review.len(),
        started.elapsed(),
        memory_note()
    );
    rec.run_info.insert(
        "tool_version".into(),
        format!("salvage {}", env!("CARGO_PKG_VERSION")),
    );
    if let Some(n) = ws.meta("incident_name")? {
        rec.run_info.insert("incident_name".into(), n);
    }
    // A source that failed as a whole gave nothing to this merge: say so in run_info, so
    // recovered.sqlite and the report both show the rebuild is partial.
    for (name, error) in ws.failed_sources()? {
        if selected(&name) {
            rec.run_info.insert(
                format!("source.{name}.{}", crate::claims::store::FAILED),
                error,
            );
        }
    }
    for s in ws.sources()?.into_iter().filter(|s| selected(&s.name)) {
        let p = format!("source.{}", s.name);
        rec.run_info.insert(format!("{p}.kind"), s.kind.clone());
        if let Some(path) = &s.path {
            rec.run_info.insert(format!("{p}.path"), path.clone());
        }
        if let Some(h) = &s.sha256 {
            rec.run_info.insert(format!("{p}.sha256"), h.clone());
        }
        if let Some(t) = &s.snapshot_at {
            rec.run_info.insert(format!("{p}.snapshot_at"), t.clone());
            rec.run_info
                .entry("backup_snapshot_at".into())
                .or_insert_with(|| t.clone());
        }
    }
    Ok(rec)
}

/// The whole pipeline without a terminal: import every source, merge, write
/// `out/recovered.sqlite`. For tools built on Salvage (calibration, benchmarks).
pub fn run_quiet(incident: &Path, out: &Path) -> Result<PathBuf> {
    let incident = Incident::load(incident)?;
    let paths = WorkspacePaths::new(&out.join("workspace"));
    let mut ws = Workspace::open(&paths.claims())?;
    let outcomes = import(&incident, &mut ws, None, false, &|_| {
        indicatif::ProgressBar::hidden()
    })?;
    if let Some(ImportOutcome::Failed { source, error }) = outcomes
        .iter()
        .find(|o| matches!(o, ImportOutcome::Failed { .. }))
    {
        return Err(Error::Other(format!("source {source}: {error}")));
    }
    let rec = merge(&ws)?;
    let dest = out.join("recovered.sqlite");
    crate::export::sqlite::write(&rec, &dest)?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::SourceKind;

    fn demo() -> Incident {
        Incident::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo/incident.toml"))
            .unwrap()
    }

    fn hidden(_: &str) -> indicatif::ProgressBar {
        indicatif::ProgressBar::hidden()
    }

    /// `salvage run` names its recovered.sqlite as the workspace's merge instead of
    /// copying it; once that file changes, the workspace says so rather than reading it.
    #[test]
    fn the_merge_is_read_from_recovered_sqlite_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let paths = WorkspacePaths::new(&dir.path().join("workspace"));
        std::fs::create_dir_all(&paths.dir).unwrap();
        assert!(paths
            .merged_file()
            .unwrap_err()
            .to_string()
            .contains("nothing merged yet"));
        let recovered = dir.path().join("recovered.sqlite");
        std::fs::write(&recovered, b"rows").unwrap();
        std::fs::write(paths.merged(), b"older merge").unwrap();
        paths.refer_to_merged(&recovered).unwrap();
        assert!(!paths.merged().exists(), "the older merge is gone");
        assert_eq!(
            paths.merged_file().unwrap(),
            std::fs::canonicalize(&recovered).unwrap()
        );
        std::fs::write(&recovered, b"rows someone edited").unwrap();
        let e = paths.merged_file().unwrap_err().to_string();
        assert!(
            e.contains("changed since `salvage run`") && e.contains("salvage merge"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_source_is_an_error_that_lists_the_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("ws.sqlite")).unwrap();
        let e = import_sources(&demo(), &mut ws, &["stripe", "backup"], false, &hidden)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"backup\"") && e.contains("nightly-backup, stripe, mail-archive"),
            "{e}"
        );
        assert!(ws.sources().unwrap().is_empty(), "nothing imported");
    }

    /// The backup-only floor is the same whether the workspace is fresh or already holds
    /// every source from a full run.
    #[test]
    fn merge_of_some_sources_ignores_the_others_in_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let inc = demo();
        let only = ["nightly-backup"];
        let mut fresh = Workspace::open(&dir.path().join("fresh.sqlite")).unwrap();
        let out = import_sources(&inc, &mut fresh, &only, false, &hidden).unwrap();
        assert_eq!(out.len(), 1);
        let floor = merge_sources(&fresh, &only).unwrap();
        let mut full = Workspace::open(&dir.path().join("full.sqlite")).unwrap();
        import_sources(&inc, &mut full, &[], false, &hidden).unwrap();
        assert_eq!(full.sources().unwrap().len(), 3);
        let again = merge_sources(&full, &only).unwrap();
        let all = merge(&full).unwrap();
        for e in Entity::ALL {
            let ids = |r: &Recovered| r.rows(e).iter().map(|x| x.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&floor), ids(&again), "{e:?}");
            assert!(
                floor
                    .rows(e)
                    .iter()
                    .all(|r| r.sources == [SourceKind::Backup]),
                "{e:?}"
            );
        }
        assert!(all.rows(Entity::Payment).len() > floor.rows(Entity::Payment).len());
        assert!(!again.run_info.contains_key("source.stripe.kind"));
        assert!(all.run_info.contains_key("source.stripe.kind"));
    }
}
