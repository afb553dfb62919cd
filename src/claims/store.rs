//! The workspace: a SQLite file (`workspace.sqlite`) that holds every imported record with
//! its claims, what each source skipped and why, and the incident's facts. Stages after
//! import read only this file, so each stage can be re-run on its own.
//!
//! Importing is idempotent: re-importing a source replaces everything that source said
//! before, in one transaction, so the same file twice adds nothing, and an interrupted
//! import leaves the previous state intact.

use super::{Entity, Record, RecordSink, Skip, SourceKind, Value};
use crate::error::{Error, Result};
use rayon::prelude::*;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sources (
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, path TEXT, sha256 TEXT,
  snapshot_at TEXT, exported_at TEXT, imported_at TEXT,
  records INTEGER NOT NULL DEFAULT 0, claims INTEGER NOT NULL DEFAULT 0,
  skips INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records (
  source TEXT NOT NULL, kind TEXT NOT NULL, entity TEXT NOT NULL, source_ref TEXT NOT NULL,
  observed_at TEXT, fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_source ON records (source);
CREATE TABLE IF NOT EXISTS skips (
  source TEXT NOT NULL, seq INTEGER NOT NULL, location TEXT NOT NULL, kind TEXT NOT NULL,
  reason TEXT NOT NULL, PRIMARY KEY (source, seq)
);
"#;

/// The layout of the workspace file (`PRAGMA user_version`). A workspace of another
/// layout is emptied when opened: it is a cache of the imports, rebuilt from the sources.
/// 2: `records` has no key index; a source's (entity, ref) are kept unique by its writer.
const LAYOUT: i64 = 2;

/// A row of `records` as read: source, kind, entity, ref, observed_at, fields (JSON).
type RawRecord = (String, String, String, String, Option<String>, String);

/// A record as stored: which source said it, and of which kind that source is.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub source: Arc<str>,
    pub kind: SourceKind,
    pub record: LoadedRecord,
}

impl StoredRecord {
    pub fn new(source: &str, kind: SourceKind, record: Record) -> Self {
        StoredRecord {
            source: source.into(),
            kind,
            record: record.into(),
        }
    }
}

/// A [`Record`] as loaded for the merge: the same claims, with field names shared
/// between records (a million records repeat the same few dozen names).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRecord {
    pub entity: Entity,
    pub source_ref: String,
    pub observed_at: Option<String>,
    pub fields: Fields,
}

/// A loaded record's fields: name (shared) and value.
pub type Fields = Box<[(Arc<str>, Value)]>;

impl LoadedRecord {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(f, _)| &**f == field)
            .map(|(_, v)| v)
    }
}

impl From<Record> for LoadedRecord {
    fn from(r: Record) -> Self {
        LoadedRecord {
            entity: r.entity,
            source_ref: r.source_ref,
            observed_at: r.observed_at,
            fields: r.fields.into_iter().map(|(f, v)| (f.into(), v)).collect(),
        }
    }
}

/// One shared copy of each distinct string (field and source names).
#[derive(Default)]
struct Names(HashMap<String, Arc<str>>);

impl Names {
    fn get_str(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        self.0.insert(s.to_string(), a.clone());
        a
    }

    fn get(&mut self, s: String) -> Arc<str> {
        if let Some(a) = self.0.get(&s) {
            return a.clone();
        }
        let a: Arc<str> = s.as_str().into();
        self.0.insert(s, a.clone());
        a
    }
}

/// What the workspace knows about one imported source.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceInfo {
    pub name: String,
    pub kind: String,
    pub path: Option<String>,
    pub sha256: Option<String>,
    pub snapshot_at: Option<String>,
    pub exported_at: Option<String>,
    pub imported_at: Option<String>,
    pub records: i64,
    pub claims: i64,
    pub skips: i64,
    /// What the importer counted of its inputs (mail: messages read, extracted, skipped by
    /// kind), as it stored it (see [`counts_key`]); none when it counts nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<serde_json::Value>,
}

/// The `meta` key of what the importer of source `name` counted (see
/// [`RecordSink::counts`]): `counts.<name>`, JSON.
pub fn counts_key(name: &str) -> String {
    format!("counts.{name}")
}

/// The `run_info` key suffix (`source.<name>.failed`) of a source that failed as a whole in
/// the import a merge read: its value is the error (the report lists it from there).
pub const FAILED: &str = "failed";

/// The `meta` key that marks source `name` as failed in its last import, with the error.
pub fn failed_key(name: &str) -> String {
    format!("failed.{name}")
}

/// A skip as stored, with its source.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredSkip {
    pub source: String,
    pub location: String,
    pub kind: String,
    pub reason: String,
}

pub struct Workspace {
    path: PathBuf,
    conn: Connection,
}

impl Workspace {
    /// Opens (creating if needed) the workspace file at `path`.
    pub fn open(path: &Path) -> Result<Workspace> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Write {
                path: dir.to_path_buf(),
                cause: e,
            })?;
        }
        let conn = Connection::open(path).map_err(|e| Error::sqlite(path, e))?;
        // A source is imported in one transaction of up to millions of rows: with SQLite's
        // default 2 MB page cache, the records' key index is evicted and re-read from the
        // WAL for every insert. 256 MB keeps it in memory (the cache grows only as used).
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;",
        )
        .map_err(|e| Error::sqlite(path, e))?;
        let layout: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| Error::sqlite(path, e))?;
        if layout != LAYOUT {
            let has_tables: bool = conn
                .query_row("SELECT count(*) > 0 FROM sqlite_master", [], |r| r.get(0))
                .map_err(|e| Error::sqlite(path, e))?;
            if has_tables {
                tracing::warn!(
                    "{}: a workspace of an older Salvage; emptied, every source is imported again",
                    path.display()
                );
            }
            conn.execute_batch(&format!(
                "DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS skips; \
                 DROP TABLE IF EXISTS sources; DROP TABLE IF EXISTS meta; \
                 PRAGMA user_version = {LAYOUT};"
            ))
            .map_err(|e| Error::sqlite(path, e))?;
        }
        conn.execute_batch(SCHEMA)
            .map_err(|e| Error::sqlite(path, e))?;
        Ok(Workspace {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// Opens an existing workspace, with an error that says how to make one.
    pub fn open_existing(path: &Path) -> Result<Workspace> {
        if !path.is_file() {
            return Err(Error::input(
                path,
                "no workspace here; run `salvage import <incident.toml> --workspace <dir>` first",
            ));
        }
        Self::open(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::sqlite(&self.path, e)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta (key,value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                params![key, value],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key=?", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The stored SHA-256 of a source, to skip re-importing an unchanged input.
    pub fn source_sha(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT sha256 FROM sources WHERE name=?", [name], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()
            .map_err(|e| self.err(e))?
            .flatten())
    }

    /// Starts (re)importing a source: everything it said before is replaced when the
    /// returned writer is committed, and kept if it is dropped.
    pub fn begin_source(&mut self, info: SourceInfo) -> Result<SourceWriter<'_>> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::sqlite(&path, e))?;
        tx.execute("DELETE FROM records WHERE source=?", [&info.name])
            .and_then(|_| tx.execute("DELETE FROM skips WHERE source=?", [&info.name]))
            .and_then(|_| tx.execute("DELETE FROM meta WHERE key=?", [counts_key(&info.name)]))
            .map_err(|e| Error::sqlite(&path, e))?;
        Ok(SourceWriter {
            path,
            tx,
            info,
            busy: std::time::Duration::ZERO,
            seq: 0,
            rule_hits: Vec::new(),
            written: HashMap::new(),
        })
    }

    /// A source whose import failed as a whole this time: everything it said before (its
    /// records, skips, counts, its row in `sources`) is removed, in one transaction, and
    /// the error kept (`failed.<name>`), so no merge or report shows an earlier run's
    /// records of it as if they were current. A later import that works clears the mark.
    pub fn fail_source(&mut self, name: &str, error: &str) -> Result<()> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::sqlite(&path, e))?;
        tx.execute("DELETE FROM records WHERE source=?", [name])
            .and_then(|_| tx.execute("DELETE FROM skips WHERE source=?", [name]))
            .and_then(|_| tx.execute("DELETE FROM sources WHERE name=?", [name]))
            .and_then(|_| {
                tx.execute(
                    "DELETE FROM meta WHERE key IN (?, ?)",
                    [counts_key(name), format!("rule_hits.{name}")],
                )
            })
            .and_then(|_| {
                tx.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    params![failed_key(name), error],
                )
            })
            .and_then(|_| tx.commit())
            .map_err(|e| Error::sqlite(&path, e))?;
        Ok(())
    }

    /// The sources whose last import failed as a whole, with the error, by name.
    pub fn failed_sources(&self) -> Result<Vec<(String, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT key, value FROM meta WHERE key LIKE 'failed.%' ORDER BY key")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (k, v) = r.map_err(|e| self.err(e))?;
            out.push((k["failed.".len()..].to_string(), v));
        }
        Ok(out)
    }

    /// Every stored record, in a stable order (source, entity, ref).
    pub fn records(&self) -> Result<Vec<StoredRecord>> {
        // Read in table order (a sequential scan) and sorted here: the same order as
        // `ORDER BY source, entity, source_ref` (SQLite compares text bytewise, as Rust
        // does), without a lookup in the table for every entry of the index.
        let mut st = self
            .conn
            .prepare("SELECT source, kind, entity, source_ref, observed_at, fields FROM records")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        // Rows are read in order and decoded in parallel, a chunk at a time (decoding the
        // fields is most of the work; a chunk bounds the raw text held at once).
        const CHUNK: usize = 1 << 15;
        let path = self.path.as_path();
        let decode =
            |names: &mut Names,
             (source, kind, entity, source_ref, observed_at, fields): RawRecord| {
                let bad = |what: &str| {
                    Error::input(
                    path,
                    format!("corrupt workspace ({what} in {source}/{source_ref}); delete it and import again"),
                )
                };
                let kind = SourceKind::parse(&kind).ok_or_else(|| bad("source kind"))?;
                let entity = Entity::parse(&entity).ok_or_else(|| bad("entity"))?;
                let fields = decode_fields(&fields, names).ok_or_else(|| bad("fields"))?;
                Ok((source, kind, entity, source_ref, observed_at, fields))
            };
        let mut out = Vec::new();
        let mut names = Names::default();
        let mut chunk: Vec<RawRecord> = Vec::with_capacity(CHUNK);
        let mut rows = rows.peekable();
        while rows.peek().is_some() {
            chunk.clear();
            for row in rows.by_ref().take(CHUNK) {
                chunk.push(row.map_err(|e| self.err(e))?);
            }
            // Each parallel job shares names through its own table (a few dozen copies).
            let decoded: Vec<Result<_>> = chunk
                .par_drain(..)
                .map_init(Names::default, decode)
                .collect();
            for r in decoded {
                let (source, kind, entity, source_ref, observed_at, fields) = r?;
                out.push(StoredRecord {
                    source: names.get(source),
                    kind,
                    record: LoadedRecord {
                        entity,
                        source_ref,
                        observed_at,
                        fields,
                    },
                });
            }
        }
        out.par_sort_unstable_by(|a, b| {
            (&a.source, a.record.entity.as_str(), &a.record.source_ref).cmp(&(
                &b.source,
                b.record.entity.as_str(),
                &b.record.source_ref,
            ))
        });
        Ok(out)
    }

    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let mut st = self
            .conn
            .prepare("SELECT name, kind, path, sha256, snapshot_at, exported_at, imported_at, records, claims, skips FROM sources ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(SourceInfo {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    path: r.get(2)?,
                    sha256: r.get(3)?,
                    snapshot_at: r.get(4)?,
                    exported_at: r.get(5)?,
                    imported_at: r.get(6)?,
                    records: r.get(7)?,
                    claims: r.get(8)?,
                    skips: r.get(9)?,
                    inputs: None,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = rows
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        drop(st);
        for s in &mut out {
            s.inputs = self
                .meta(&counts_key(&s.name))?
                .and_then(|j| serde_json::from_str(&j).ok());
        }
        Ok(out)
    }

    pub fn skips(&self) -> Result<Vec<StoredSkip>> {
        let mut st = self
            .conn
            .prepare("SELECT source, location, kind, reason FROM skips ORDER BY source, seq")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(StoredSkip {
                    source: r.get(0)?,
                    location: r.get(1)?,
                    kind: r.get(2)?,
                    reason: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }
}

/// A record's fields as stored: a JSON array of `[name, value]` pairs, the value a string,
/// an integer or null (what `serde_json` makes of `Vec<(String, Value)>`). Decoded by hand:
/// `Value` is an untagged enum, which serde decodes slowly, and a million records are read
/// at once. Names come from `names` (one copy each).
fn decode_fields(json: &str, names: &mut Names) -> Option<Fields> {
    use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
    use std::fmt;

    struct FieldValue(Value);

    impl<'de> serde::Deserialize<'de> for FieldValue {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = FieldValue;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string, an integer or null")
                }
                fn visit_str<E: serde::de::Error>(
                    self,
                    v: &str,
                ) -> std::result::Result<FieldValue, E> {
                    Ok(FieldValue(Value::Text(v.to_string())))
                }
                fn visit_string<E: serde::de::Error>(
                    self,
                    v: String,
                ) -> std::result::Result<FieldValue, E> {
                    Ok(FieldValue(Value::Text(v)))
                }
                fn visit_i64<E: serde::de::Error>(
                    self,
                    v: i64,
                ) -> std::result::Result<FieldValue, E> {
                    Ok(FieldValue(Value::Int(v)))
                }
                fn visit_u64<E: serde::de::Error>(
                    self,
                    v: u64,
                ) -> std::result::Result<FieldValue, E> {
                    i64::try_from(v)
                        .map(|i| FieldValue(Value::Int(i)))
                        .map_err(|_| E::custom("integer out of range"))
                }
                fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<FieldValue, E> {
                    Ok(FieldValue(Value::Null))
                }
            }
            d.deserialize_any(V)
        }
    }

    /// A field name, looked up in `names`.
    struct Name<'n>(&'n mut Names);
    impl<'de> DeserializeSeed<'de> for Name<'_> {
        type Value = Arc<str>;
        fn deserialize<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Arc<str>, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl Visitor<'_> for Name<'_> {
        type Value = Arc<str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Arc<str>, E> {
            Ok(self.0.get_str(v))
        }
    }

    /// One `[name, value]` pair.
    struct Field<'n>(&'n mut Names);
    impl<'de> DeserializeSeed<'de> for Field<'_> {
        type Value = (Arc<str>, Value);
        fn deserialize<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_tuple(2, self)
        }
    }
    impl<'de> Visitor<'de> for Field<'_> {
        type Value = (Arc<str>, Value);
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a [name, value] pair")
        }
        fn visit_seq<A: SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            use serde::de::Error as _;
            let name = seq
                .next_element_seed(Name(self.0))?
                .ok_or_else(|| A::Error::invalid_length(0, &"a [name, value] pair"))?;
            let FieldValue(v) = seq
                .next_element()?
                .ok_or_else(|| A::Error::invalid_length(1, &"a [name, value] pair"))?;
            if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                return Err(A::Error::invalid_length(3, &"a [name, value] pair"));
            }
            Ok((name, v))
        }
    }

    struct FieldList<'n>(&'n mut Names);
    impl<'de> Visitor<'de> for FieldList<'_> {
        type Value = Vec<(Arc<str>, Value)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of [name, value] pairs")
        }
        fn visit_seq<A: SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(16));
            while let Some(f) = seq.next_element_seed(Field(&mut *self.0))? {
                out.push(f);
            }
            Ok(out)
        }
    }

    let mut de = serde_json::Deserializer::from_str(json);
    let fields = de.deserialize_seq(FieldList(names)).ok()?;
    de.end().ok()?;
    Some(fields.into_boxed_slice())
}

/// A hash of a record's (entity, ref), for [`SourceWriter`]'s map of rows written.
fn ref_hash(entity: Entity, source_ref: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    entity.as_str().hash(&mut h);
    source_ref.hash(&mut h);
    h.finish()
}

/// Receives one source's records inside a transaction. Commit with [`SourceWriter::finish`].
pub struct SourceWriter<'a> {
    path: PathBuf,
    tx: rusqlite::Transaction<'a>,
    info: SourceInfo,
    /// Time spent storing records (for the log).
    busy: std::time::Duration,
    /// Skips and notices stored so far (their sequence numbers).
    seq: i64,
    /// How many inputs each mapping rule matched (stored at finish, meta `rule_hits.<source>`).
    rule_hits: Vec<(String, u64)>,
    /// The row of each (entity, ref) written so far, by a hash of the pair: a record that
    /// repeats one replaces it. This keeps the pair unique without a key index, whose
    /// random-order inserts were most of the cost of storing millions of records.
    written: HashMap<u64, i64>,
}

impl SourceWriter<'_> {
    pub fn finish(self) -> Result<SourceInfo> {
        let i = &self.info;
        self.tx
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                params![
                    format!("rule_hits.{}", i.name),
                    serde_json::to_string(&self.rule_hits).unwrap_or_default()
                ],
            )
            .map_err(|e| Error::sqlite(&self.path, e))?;
        self.tx
            .execute("DELETE FROM meta WHERE key=?", [failed_key(&i.name)])
            .map_err(|e| Error::sqlite(&self.path, e))?;
        self.tx
            .execute(
                "INSERT OR REPLACE INTO sources (name,kind,path,sha256,snapshot_at,exported_at,imported_at,records,claims,skips) VALUES (?,?,?,?,?,?,?,?,?,?)",
                params![i.name, i.kind, i.path, i.sha256, i.snapshot_at, i.exported_at, i.imported_at, i.records, i.claims, i.skips],
            )
            .map_err(|e| Error::sqlite(&self.path, e))?;
        let t = std::time::Instant::now();
        self.tx.commit().map_err(|e| Error::sqlite(&self.path, e))?;
        tracing::debug!(
            "stored {} records of {} in {:.1?}, committed in {:.1?}",
            self.info.records,
            self.info.name,
            self.busy,
            t.elapsed()
        );
        Ok(self.info)
    }
}

impl RecordSink for SourceWriter<'_> {
    fn rule_hits(&mut self, rule: &str, hits: u64) -> Result<()> {
        self.rule_hits.push((rule.to_string(), hits));
        Ok(())
    }

    fn record(&mut self, r: Record) -> Result<()> {
        let started = std::time::Instant::now();
        let fields = serde_json::to_string(&r.fields).map_err(|e| Error::Other(e.to_string()))?;
        let key = ref_hash(r.entity, &r.source_ref);
        let sql = |e| Error::sqlite(&self.path, e);
        // The row this (entity, ref) was written to before, if it was (a hash that
        // collides with another pair is told apart by reading the row).
        let earlier = match self.written.get(&key) {
            Some(&rowid) => {
                let (entity, source_ref): (String, String) = self
                    .tx
                    .prepare_cached("SELECT entity, source_ref FROM records WHERE rowid=?")
                    .and_then(|mut st| st.query_row([rowid], |x| Ok((x.get(0)?, x.get(1)?))))
                    .map_err(sql)?;
                if entity == r.entity.as_str() && source_ref == r.source_ref {
                    Some(rowid)
                } else {
                    // Another pair has this hash (about once in 10^12 pairs): look the
                    // pair up by its values, through the source's rows.
                    self.tx
                        .prepare_cached(
                            "SELECT rowid FROM records WHERE source=? AND entity=? AND source_ref=?",
                        )
                        .and_then(|mut st| {
                            st.query_row(
                                params![self.info.name, r.entity.as_str(), r.source_ref],
                                |x| x.get(0),
                            )
                            .optional()
                        })
                        .map_err(sql)?
                }
            }
            None => None,
        };
        match earlier {
            Some(rowid) => {
                let old_claims: i64 = self
                    .tx
                    .prepare_cached("SELECT json_array_length(fields) FROM records WHERE rowid=?")
                    .and_then(|mut st| st.query_row([rowid], |x| x.get(0)))
                    .map_err(sql)?;
                self.tx
                    .prepare_cached(
                        "UPDATE records SET kind=?, observed_at=?, fields=? WHERE rowid=?",
                    )
                    .and_then(|mut st| {
                        st.execute(params![self.info.kind, r.observed_at, fields, rowid])
                    })
                    .map_err(sql)?;
                self.info.claims += r.fields.len() as i64 - old_claims;
            }
            None => {
                self.tx
                    .prepare_cached(
                        "INSERT INTO records (source,kind,entity,source_ref,observed_at,fields) VALUES (?,?,?,?,?,?)",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            self.info.name,
                            self.info.kind,
                            r.entity.as_str(),
                            r.source_ref,
                            r.observed_at,
                            fields
                        ])
                    })
                    .map_err(sql)?;
                // A colliding pair keeps the first pair's entry: the map only speeds up
                // the common case, and a second collision is read from the row again.
                self.written
                    .entry(key)
                    .or_insert_with(|| self.tx.last_insert_rowid());
                self.info.records += 1;
                self.info.claims += r.fields.len() as i64;
            }
        }
        self.busy += started.elapsed();
        Ok(())
    }

    fn counts(&mut self, counts: serde_json::Value) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO meta (key,value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                params![counts_key(&self.info.name), counts.to_string()],
            )
            .map_err(|e| Error::sqlite(&self.path, e))?;
        Ok(())
    }

    fn skip(&mut self, s: Skip) -> Result<()> {
        // A notice (a rule that matched nothing, a row kept with a caveat) is stored with
        // the skips but is no input skipped.
        if !crate::import::is_notice(&s.kind) {
            self.info.skips += 1;
        }
        self.seq += 1;
        self.tx
            .prepare_cached(
                "INSERT INTO skips (source,seq,location,kind,reason) VALUES (?,?,?,?,?)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    self.info.name,
                    self.seq,
                    s.location,
                    s.kind,
                    s.reason
                ])
            })
            .map_err(|e| Error::sqlite(&self.path, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str) -> SourceInfo {
        SourceInfo {
            name: name.into(),
            kind: "backup".into(),
            path: None,
            sha256: Some("abc".into()),
            snapshot_at: None,
            exported_at: None,
            imported_at: None,
            records: 0,
            claims: 0,
            skips: 0,
            inputs: None,
        }
    }

    fn import_once(ws: &mut Workspace) {
        let mut w = ws.begin_source(info("b")).unwrap();
        let mut r = Record::new(Entity::Customer, "backup:clients#1", None);
        r.set("id", "1").set("party", 2i64);
        w.record(r).unwrap();
        w.skip(Skip {
            location: "a.sql:3".into(),
            kind: "bad_row".into(),
            reason: "x".into(),
        })
        .unwrap();
        w.finish().unwrap();
    }

    #[test]
    fn fields_decode_as_serde_encodes_them() {
        let fields = vec![
            ("id".to_string(), Value::text("17")),
            ("amount".to_string(), Value::Int(-4500)),
            ("big".to_string(), Value::Int(i64::MAX)),
            ("none".to_string(), Value::Null),
            ("name".to_string(), Value::text("José \"Pepe\" Müller\n")),
        ];
        let json = serde_json::to_string(&fields).unwrap();
        let mut names = Names::default();
        let back = decode_fields(&json, &mut names).unwrap();
        let back_owned: Vec<(String, Value)> = back
            .iter()
            .map(|(f, v)| (f.to_string(), v.clone()))
            .collect();
        assert_eq!(back_owned, fields);
        // Names are shared between records.
        let again = decode_fields(r#"[["id","18"],["na\u006de",1]]"#, &mut names).unwrap();
        assert!(Arc::ptr_eq(&back[0].0, &again[0].0));
        assert!(Arc::ptr_eq(&back[4].0, &again[1].0));
        assert!(decode_fields("[]", &mut names).unwrap().is_empty());
        for bad in [
            "",
            "{}",
            "[[1,2]]",
            "[[\"a\",1.5]]",
            "[[\"a\",[1]]]",
            "[] x",
            "[[\"a\"]]",
            "[[\"a\",1,2]]",
        ] {
            assert!(decode_fields(bad, &mut names).is_none(), "{bad}");
        }
        // What the untagged serde form refuses, this refuses too.
        assert!(serde_json::from_str::<Vec<(String, Value)>>("[[\"a\",1.5]]").is_err());
    }

    #[test]
    fn records_come_in_the_order_sqlite_sorts_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.sqlite")).unwrap();
        let refs = ["b#10", "B#2", "b#1", "é#1", "e#1", "b#1 ", "b", "z#0", "ä"];
        for src in ["zeta", "Alpha", "alpha"] {
            let mut w = ws.begin_source(info(src)).unwrap();
            for (i, r) in refs.iter().enumerate() {
                let e = [Entity::Payment, Entity::Reservation, Entity::Business][i % 3];
                let mut rec = Record::new(e, *r, None);
                rec.set("id", format!("{i}"));
                w.record(rec).unwrap();
            }
            w.finish().unwrap();
        }
        let mut st = ws
            .conn
            .prepare("SELECT source, entity, source_ref FROM records ORDER BY source, entity, source_ref")
            .unwrap();
        let want: Vec<(String, String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let got: Vec<(String, String, String)> = ws
            .records()
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.source.to_string(),
                    r.record.entity.as_str().to_string(),
                    r.record.source_ref,
                )
            })
            .collect();
        assert_eq!(got.len(), 27);
        assert_eq!(got, want);
    }

    #[test]
    fn a_record_repeated_in_a_source_replaces_the_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.sqlite")).unwrap();
        let mut w = ws.begin_source(info("b")).unwrap();
        let rec = |party: i64, extra: bool| {
            let mut r = Record::new(Entity::Customer, "backup:clients#1", None);
            r.set("party", party);
            if extra {
                r.set("id", "1");
            }
            r
        };
        w.record(rec(2, true)).unwrap();
        // The same ref for another entity is another record.
        w.record(Record::new(Entity::Payment, "backup:clients#1", None))
            .unwrap();
        w.record(rec(3, false)).unwrap();
        let info = w.finish().unwrap();
        assert_eq!((info.records, info.claims), (2, 1));
        let recs = ws.records().unwrap();
        assert_eq!(recs.len(), 2);
        let c = recs
            .iter()
            .find(|r| r.record.entity == Entity::Customer)
            .unwrap();
        assert_eq!(c.record.get("party"), Some(&Value::Int(3)));
        assert_eq!(c.record.get("id"), None);
    }

    #[test]
    fn a_hash_shared_by_two_refs_keeps_both_and_still_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.sqlite")).unwrap();
        let mut w = ws.begin_source(info("b")).unwrap();
        w.record(Record::new(Entity::Customer, "backup:clients#1", None))
            .unwrap();
        // Pretend "#2" hashes like "#1": its entry points at #1's row.
        let one = w.written[&ref_hash(Entity::Customer, "backup:clients#1")];
        w.written
            .insert(ref_hash(Entity::Customer, "backup:clients#2"), one);
        let mut two = Record::new(Entity::Customer, "backup:clients#2", None);
        two.set("party", 1i64);
        w.record(two).unwrap();
        let mut again = Record::new(Entity::Customer, "backup:clients#2", None);
        again.set("party", 5i64);
        w.record(again).unwrap();
        w.finish().unwrap();
        let recs = ws.records().unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].record.source_ref, "backup:clients#2");
        assert_eq!(recs[1].record.get("party"), Some(&Value::Int(5)));
    }

    #[test]
    fn a_workspace_of_an_older_layout_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE records (source TEXT, kind TEXT, entity TEXT, source_ref TEXT, observed_at TEXT, fields TEXT, PRIMARY KEY (source, entity, source_ref)); \
                 INSERT INTO records VALUES ('b','backup','customer','x',NULL,'[]'); \
                 CREATE TABLE sources (name TEXT PRIMARY KEY, sha256 TEXT); INSERT INTO sources VALUES ('b','abc');",
            )
            .unwrap();
        }
        let ws = Workspace::open(&path).unwrap();
        assert!(ws.records().unwrap().is_empty());
        assert_eq!(ws.source_sha("b").unwrap(), None);
        drop(ws);
        // Opening it again keeps what is there.
        let mut ws = Workspace::open(&path).unwrap();
        import_once(&mut ws);
        drop(ws);
        assert_eq!(Workspace::open(&path).unwrap().records().unwrap().len(), 1);
    }

    #[test]
    fn reimport_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.sqlite")).unwrap();
        import_once(&mut ws);
        import_once(&mut ws);
        let recs = ws.records().unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].record.get("party"), Some(&Value::Int(2)));
        assert_eq!(ws.skips().unwrap().len(), 1);
        assert_eq!(ws.sources().unwrap()[0].records, 1);
    }

    #[test]
    fn a_failed_source_says_nothing_until_it_imports_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.sqlite")).unwrap();
        import_once(&mut ws);
        assert_eq!(ws.records().unwrap().len(), 1);
        ws.fail_source("b", "b.sql: cannot read").unwrap();
        assert!(ws.records().unwrap().is_empty());
        assert!(ws.skips().unwrap().is_empty());
        assert!(ws.sources().unwrap().is_empty());
        assert_eq!(
            ws.failed_sources().unwrap(),
            vec![("b".to_string(), "b.sql: cannot read".to_string())]
        );
        import_once(&mut ws);
        assert!(ws.failed_sources().unwrap().is_empty());
        assert_eq!(ws.records().unwrap().len(), 1);
    }

    #[test]
    fn dropped_writer_keeps_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.sqlite")).unwrap();
        import_once(&mut ws);
        {
            let mut w = ws.begin_source(info("b")).unwrap();
            w.record(Record::new(Entity::Customer, "backup:clients#2", None))
                .unwrap();
        }
        assert_eq!(ws.records().unwrap().len(), 1);
    }
}
