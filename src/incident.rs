//! The incident file (`incident.toml`): when the incident happened and where each source is.
//!
//! ```toml
//! name = "demo"
//! incident_at = "2026-11-20T14:30:00Z"
//!
//! [[sources]]
//! name = "nightly-backup"           # unique; names the source in reports and provenance
//! kind = "backup"                   # backup | stripe | email
//! path = "backup/app.sql"           # relative to this file
//! mapping = "../../mappings/bookly/backup.toml"
//! snapshot_at = "2026-08-22T03:00:00Z"
//! ```
//! Unknown keys are errors (a typo must not silently drop a setting).

use crate::claims::SourceKind;
use crate::error::{Error, Result};
use crate::util::time;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncident {
    name: Option<String>,
    incident_at: String,
    #[serde(default)]
    sources: Vec<RawSource>,
    #[serde(default)]
    rules: crate::merge::Rules,
    #[serde(default)]
    linkage: Linkage,
    /// A review decisions file (`salvage review` writes one to fill in), relative to
    /// the incident file.
    decisions: Option<PathBuf>,
}

/// `[linkage.customer]`: how customers are linked (see [`crate::linkage::Settings`]).
/// A table that leaves out `blocking` or `comparisons` keeps the defaults for people
/// (name, email, phone); the defaults hold when the table is absent.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Linkage {
    pub customer: Option<crate::linkage::Settings>,
}

impl Linkage {
    /// The customer settings, defaults filled in.
    pub fn customer(&self) -> crate::linkage::Settings {
        let people = crate::linkage::Settings::people();
        match &self.customer {
            None => people,
            Some(s) => {
                let mut s = s.clone();
                if s.blocking.is_empty() {
                    s.blocking = people.blocking;
                }
                if s.comparisons.is_empty() {
                    s.comparisons = people.comparisons;
                }
                s
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Option<String>,
    kind: String,
    path: Option<PathBuf>,
    mapping: Option<PathBuf>,
    snapshot_at: Option<String>,
    exported_at: Option<String>,
    api_base: Option<String>,
    api_key_env: Option<String>,
    format: Option<String>,
    max_message_mb: Option<u64>,
    accounts: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    platform: Option<bool>,
    created_since: Option<String>,
    created_until: Option<String>,
}

/// A parsed, validated incident file. Paths are resolved against the file's directory.
#[derive(Debug, Clone)]
pub struct Incident {
    pub file: PathBuf,
    pub name: String,
    /// Contract timestamp text.
    pub incident_at: String,
    pub sources: Vec<SourceSpec>,
    /// The app's own rules the merge applies (`[rules]`).
    pub rules: crate::merge::Rules,
    /// How records of one entity are linked (`[linkage]`).
    pub linkage: Linkage,
    /// The review decisions file, if the incident names one (`decisions = "..."`).
    pub decisions: Option<PathBuf>,
}

/// One source of the incident.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub name: String,
    pub kind: SourceKind,
    /// File or directory (absent for a Stripe API source).
    pub path: Option<PathBuf>,
    /// The mapping file that tells the importer how this company's data maps to the model.
    pub mapping: Option<PathBuf>,
    /// Backups: when the snapshot was taken (contract timestamp text).
    pub snapshot_at: Option<String>,
    /// Exports (Stripe Dashboard CSV, JSON pulls): when they were made.
    pub exported_at: Option<String>,
    /// Stripe API: base URL and the *name* of the environment variable holding the key.
    pub api_base: Option<String>,
    pub api_key_env: Option<String>,
    /// Optional format hint (`pg_plain`, `sqlite`, `csv`, `mbox`, ...); `auto` when absent.
    pub format: Option<String>,
    /// Email: the message size cap in MB (a bigger message is skipped as too big);
    /// absent: `import::email::DEFAULT_MAX_MESSAGE`.
    pub max_message_mb: Option<u64>,
    /// Stripe API: what to pull (absent: every account, every list, the platform too,
    /// every date).
    pub pull: PullScope,
}

/// What a Stripe API source pulls (`accounts`, `resources`, `platform`, `created_since`,
/// `created_until` in the source's table).
#[derive(Debug, Clone, Default)]
pub struct PullScope {
    pub accounts: Option<Vec<String>>,
    pub resources: Option<Vec<String>>,
    pub platform: Option<bool>,
    /// Unix seconds.
    pub created_since: Option<i64>,
    pub created_until: Option<i64>,
}

impl Incident {
    pub fn load(path: &Path) -> Result<Incident> {
        let text = crate::util::fsx::read_text(path)?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Incident> {
        let raw: RawIncident =
            crate::util::toml_file::parse(text, path, "samples/demo/incident.toml")?;
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let incident_at = time::normalize(&raw.incident_at, None).ok_or_else(|| {
            Error::config(
                path,
                format!(
                    "incident_at = {:?} is not a timestamp; write it like 2026-11-20T14:30:00Z",
                    raw.incident_at
                ),
            )
        })?;
        let mut sources = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in raw.sources.into_iter().enumerate() {
            let kind = SourceKind::parse(&s.kind)
                .filter(|k| *k != SourceKind::Review)
                .ok_or_else(|| {
                Error::config(
                    path,
                    format!(
                        "sources[{i}].kind = {:?} is not a kind of source; use one of backup, stripe, email",
                        s.kind
                    ),
                )
            })?;
            let name = s.name.unwrap_or_else(|| format!("{}-{}", kind, i + 1));
            if !names.insert(name.clone()) {
                return Err(Error::config(
                    path,
                    format!(
                        "sources[{i}].name = {name:?} is used twice; give each source its own name"
                    ),
                ));
            }
            let ts = |key: &str, v: Option<String>| -> Result<Option<String>> {
                match v {
                    None => Ok(None),
                    Some(v) => time::normalize(&v, None).map(Some).ok_or_else(|| {
                        Error::config(
                            path,
                            format!("sources[{i}].{key} = {v:?} is not a timestamp; write it like 2026-08-22T03:00:00Z"),
                        )
                    }),
                }
            };
            // A key that means nothing for this kind is a mistake, not a no-op: say so.
            let misplaced = |key: &str, why: &str| -> Result<()> {
                Err(Error::config(
                    path,
                    format!(
                        "sources[{i}] ({name}): `{key}` has no meaning for a source of kind {kind}; {why}"
                    ),
                ))
            };
            if kind != SourceKind::Backup && s.snapshot_at.is_some() {
                misplaced("snapshot_at", "it is when a backup was taken (a Stripe export's time is exported_at; mail carries its own dates)")?;
            }
            if kind != SourceKind::Stripe && s.exported_at.is_some() {
                misplaced(
                    "exported_at",
                    "it is when a Stripe export or pull was made (a backup's time is snapshot_at)",
                )?;
            }
            if kind != SourceKind::Email && s.max_message_mb.is_some() {
                misplaced("max_message_mb", "it caps the size of one email message")?;
            }
            if s.max_message_mb == Some(0) {
                return Err(Error::config(
                    path,
                    format!("sources[{i}] ({name}): max_message_mb = 0 would skip every message; give a size in MB (the default is 64)"),
                ));
            }
            if kind == SourceKind::Stripe && s.format.is_some() {
                misplaced(
                    "format",
                    "Stripe pages and exports are recognised by their contents",
                )?;
            }
            if kind != SourceKind::Stripe && (s.api_base.is_some() || s.api_key_env.is_some()) {
                misplaced(
                    "api_base",
                    "only a stripe source is pulled from an API; give this source a path",
                )?;
            }
            if s.api_base.is_none() {
                let pull_keys = [
                    ("accounts", s.accounts.is_some()),
                    ("resources", s.resources.is_some()),
                    ("platform", s.platform.is_some()),
                    ("created_since", s.created_since.is_some()),
                    ("created_until", s.created_until.is_some()),
                ];
                if let Some((key, _)) = pull_keys.iter().find(|(_, set)| *set) {
                    return Err(Error::config(
                        path,
                        format!("sources[{i}] ({name}): `{key}` narrows a Stripe pull, and this source has no api_base; add api_base and api_key_env, or remove `{key}`"),
                    ));
                }
            }
            let snapshot_at = ts("snapshot_at", s.snapshot_at)?;
            let exported_at = ts("exported_at", s.exported_at)?;
            if s.path.is_none() && s.api_base.is_none() {
                return Err(Error::config(
                    path,
                    format!("sources[{i}] ({name}) has no path; say where the {kind} source is"),
                ));
            }
            if s.api_base.is_some() && s.api_key_env.is_none() {
                return Err(Error::config(
                    path,
                    format!("sources[{i}] ({name}) has api_base but no api_key_env: name the environment variable that holds the key (never the key itself)"),
                ));
            }
            let path_abs = s.path.map(|p| base.join(p));
            // An API source's path is where its pull is saved: it need not exist yet.
            if let (Some(p), None) = (&path_abs, &s.api_base) {
                if !p.exists() {
                    return Err(Error::config(
                        path,
                        format!(
                            "sources[{i}] ({name}): {} does not exist; fix `path` (it is relative to the incident file)",
                            p.display()
                        ),
                    ));
                }
                // A FIFO would block the first read forever; a device never ends.
                if let Some(why) = crate::util::walk::not_a_file_or_folder(p) {
                    return Err(Error::config(
                        path,
                        format!("sources[{i}] ({name}): {} is {why}", p.display()),
                    ));
                }
            }
            // A pull writes into its `path`: a folder of pages or exports someone saved
            // (an input, read-only to us) is no place for it.
            if let (Some(p), Some(_)) = (&path_abs, &s.api_base) {
                let saved_by_hand = p.is_file()
                    || (p.is_dir()
                        && !p.join("pull").is_dir()
                        && std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_some()));
                if saved_by_hand {
                    return Err(Error::config(
                        path,
                        format!(
                            "sources[{i}] ({name}): `path` = {} holds files no pull made, and `api_base` would pull into it: the two contradict. To read those files, remove `api_base` and `api_key_env`; to pull, point `path` at a new folder (or leave it out for <out>/pulls/{name})",
                            p.display()
                        ),
                    ));
                }
            }
            let mapping = s.mapping.map(|p| base.join(p));
            if let Some(m) = &mapping {
                if m.exists() && !m.is_file() {
                    let why = crate::util::walk::not_a_file_or_folder(m)
                        .unwrap_or_else(|| "a folder, not a file".into());
                    return Err(Error::config(
                        path,
                        format!("sources[{i}] ({name}): mapping {} is {why}", m.display()),
                    ));
                }
                if !m.is_file() {
                    return Err(Error::config(
                        path,
                        format!(
                            "sources[{i}] ({name}): mapping {} does not exist; fix `mapping` (relative to the incident file)",
                            m.display()
                        ),
                    ));
                }
            }
            let secs = |key: &str, v: Option<String>| -> Result<Option<i64>> {
                Ok(ts(key, v)?
                    .and_then(|t| time::parse_any(&t, None))
                    .map(|t| t.timestamp()))
            };
            let pull = PullScope {
                accounts: s.accounts,
                resources: s.resources,
                platform: s.platform,
                created_since: secs("created_since", s.created_since)?,
                created_until: secs("created_until", s.created_until)?,
            };
            if let Some(rs) = &pull.resources {
                for r in rs {
                    if crate::import::stripe::layout::resource_url(r).is_none() {
                        let known: Vec<&str> = crate::import::stripe::layout::ACCOUNT_RESOURCES
                            .iter()
                            .map(|(r, _)| *r)
                            .collect();
                        return Err(Error::config(
                            path,
                            format!("sources[{i}] ({name}): resources has {r:?}, which is not a list Salvage pulls; use some of {}", known.join(", ")),
                        ));
                    }
                }
            }
            if let Some(a) = pull
                .accounts
                .iter()
                .flatten()
                .find(|a| !a.starts_with("acct_"))
            {
                return Err(Error::config(
                    path,
                    format!("sources[{i}] ({name}): accounts has {a:?}, which is not a connected account id (acct_...)"),
                ));
            }
            sources.push(SourceSpec {
                name,
                kind,
                path: path_abs,
                mapping,
                snapshot_at,
                exported_at,
                api_base: s.api_base,
                api_key_env: s.api_key_env,
                format: s.format,
                max_message_mb: s.max_message_mb,
                pull,
            });
        }
        if sources.is_empty() {
            return Err(Error::config(
                path,
                "no [[sources]]: add at least one backup, stripe or email source",
            ));
        }
        let decisions = raw.decisions.map(|p| base.join(p));
        if let Some(d) = decisions.as_ref().filter(|d| !d.is_file()) {
            return Err(Error::config(
                path,
                format!(
                    "decisions = {}: no such file; write one with `salvage review --out <dir>` and fix the path (relative to the incident file)",
                    d.display()
                ),
            ));
        }
        Ok(Incident {
            decisions,
            file: path.to_path_buf(),
            name: raw.name.unwrap_or_else(|| "incident".into()),
            incident_at,
            sources,
            rules: raw.rules,
            linkage: {
                let l = raw.linkage;
                l.customer()
                    .validate()
                    .map_err(|e| Error::config(path, format!("[linkage.customer]: {e}")))?;
                l
            },
        })
    }
}

impl SourceSpec {
    /// The source's path, or a config error naming the source.
    pub fn require_path(&self) -> Result<&Path> {
        self.path
            .as_deref()
            .ok_or_else(|| Error::Other(format!("source {}: no path given", self.name)))
    }
    /// The source's mapping file, or a config error naming the source.
    pub fn require_mapping(&self) -> Result<&Path> {
        self.mapping.as_deref().ok_or_else(|| {
            Error::Other(format!(
                "source {}: no mapping file; add `mapping = \"...\"` (see mappings/)",
                self.name
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_means_nothing_for_its_kind_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("incident.toml");
        std::fs::write(dir.path().join("a.sql"), "").unwrap();
        let err = |src: &str| {
            Incident::parse(
                &format!("incident_at='2026-01-01T00:00:00Z'\n[[sources]]\n{src}"),
                &f,
            )
            .unwrap_err()
            .to_string()
        };
        let e = err("kind='email'\npath='a.sql'\nsnapshot_at='2026-01-01T00:00:00Z'\n");
        assert!(
            e.contains("`snapshot_at` has no meaning for a source of kind email"),
            "{e}"
        );
        let e = err(
            "kind='backup'\npath='a.sql'\napi_base='https://api.stripe.com'\napi_key_env='K'\n",
        );
        assert!(
            e.contains("`api_base`") && e.contains("give this source a path"),
            "{e}"
        );
        let e = err("kind='stripe'\npath='a.sql'\naccounts=['acct_1']\n");
        assert!(
            e.contains("narrows a Stripe pull") && e.contains("no api_base"),
            "{e}"
        );
        let e = err("kind='stripe'\npath='a.sql'\nformat='csv'\n");
        assert!(e.contains("`format`"), "{e}");
        let e = err("kind='backup'\npath='a.sql'\nmax_message_mb=10\n");
        assert!(e.contains("`max_message_mb` has no meaning"), "{e}");
        let e = err("kind='email'\npath='a.sql'\nmax_message_mb=0\n");
        assert!(e.contains("would skip every message"), "{e}");
        let ok = Incident::parse(
            "incident_at='2026-01-01T00:00:00Z'\n[[sources]]\nkind='email'\npath='a.sql'\nmax_message_mb=8\n",
            &f,
        )
        .unwrap();
        assert_eq!(ok.sources[0].max_message_mb, Some(8));
    }

    #[test]
    fn rejects_unknown_keys_and_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("incident.toml");
        std::fs::write(dir.path().join("a.sql"), "").unwrap();
        let e = Incident::parse(
            "incident_at='2026-01-01T00:00:00Z'\n[[sources]]\nkind='bakup'\npath='a.sql'\n",
            &f,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("bakup") && e.contains("backup, stripe, email"),
            "{e}"
        );
        let e = Incident::parse(
            "incident_at='2026-01-01T00:00:00Z'\n[[sources]]\nkind='backup'\npath='a.sql'\nsnapshot='x'\n",
            &f,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("snapshot"), "{e}");
        let ok = Incident::parse(
            "incident_at='2026-01-01 00:00:00'\n[[sources]]\nkind='backup'\npath='a.sql'\n",
            &f,
        )
        .unwrap();
        assert_eq!(ok.incident_at, "2026-01-01T00:00:00Z");
        assert_eq!(ok.sources[0].name, "backup-1");
    }
}
