//! The backup importer: a database backup -> records, through the mapping file
//! (`mappings/<app>/backup.toml`, format in [`mapping`]).
//!
//! Formats, detected from the content (or `format = ...` in the incident file):
//! * pg_dump plain SQL (`COPY ... FROM stdin` blocks, or `INSERT` statements from
//!   `--inserts`/`--column-inserts`), also gzip-compressed (`app.sql.gz`);
//! * pg_dump custom archives (`PGDMP`), read natively (zlib or uncompressed); tar and
//!   directory archives, lz4/zstd compression and unknown versions through
//!   `pg_restore -f -` (format hint `pg_restore` forces it);
//! * a SQLite database file (opened read-only, immutable);
//! * a directory of CSV files, one per table (`people.csv`), with a header row.
//!
//! The input is read twice, streaming: first the business table (and every table's
//! columns, to validate the mapping before any record moves), then everything else. The
//! businesses are small and kept in memory, so other rows can take their time zone and
//! currency whatever order the tables come in.

pub mod archive;
pub mod convert;
pub mod copy;
pub mod csvdir;
pub mod mapping;
pub mod source;
pub mod sql;
pub mod sqlite;

use crate::claims::{Entity, RecordSink, Skip};
use crate::error::{Error, Result};
use crate::import::ImportContext;
use convert::Converter;
use mapping::{EntityMap, Mapping};
use source::{Row, Summary, Visitor};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// The kinds of backup this importer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Plain(PathBuf),
    Gzip(PathBuf),
    /// pg_dump custom, directory or tar archive: the custom format is read natively when
    /// it can be, anything else through `pg_restore -f -`.
    Archive(PathBuf),
    /// An archive read through `pg_restore` always (format hint `pg_restore`).
    PgRestore(PathBuf),
    Sqlite(PathBuf),
    CsvDir(PathBuf),
}

impl Input {
    /// Decides the format from the `format` hint or the content.
    pub fn detect(path: &Path, hint: Option<&str>) -> Result<Input> {
        let p = path.to_path_buf();
        match hint.map(|h| h.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("auto") => {}
            Some("pg_plain" | "plain" | "sql") => return Ok(Input::Plain(p)),
            Some("pg_custom" | "custom" | "pg_dir" | "directory" | "pg_tar" | "tar") => {
                return Ok(Input::Archive(p))
            }
            Some("pg_restore") => return Ok(Input::PgRestore(p)),
            Some("sqlite") => return Ok(Input::Sqlite(p)),
            Some("csv") => return Ok(Input::CsvDir(p)),
            Some(other) => {
                return Err(Error::input(
                    path,
                    format!(
                        "format = {other:?} is not a backup format; use auto, pg_plain, pg_custom, pg_restore, sqlite or csv"
                    ),
                ))
            }
        }
        if path.is_dir() {
            if path.join("toc.dat").is_file() {
                return Ok(Input::Archive(p));
            }
            std::fs::read_dir(path).map_err(|e| Error::read(path, e))?;
            let has_csv = !csvdir::csv_files(path).0.is_empty();
            if has_csv {
                return Ok(Input::CsvDir(p));
            }
            return Err(Error::input(
                path,
                "a directory that is neither a pg_dump directory archive (toc.dat) nor a set of CSV files; point the source at the dump file",
            ));
        }
        let mut head = [0u8; 512];
        let mut f = crate::util::fsx::open_input(path)?;
        let mut n = 0;
        while n < head.len() {
            let k = f.read(&mut head[n..]).map_err(|e| Error::read(path, e))?;
            if k == 0 {
                break;
            }
            n += k;
        }
        let head = &head[..n];
        if head.starts_with(b"PGDMP") {
            return Ok(Input::Archive(p));
        }
        if head.starts_with(b"SQLite format 3\0") {
            return Ok(Input::Sqlite(p));
        }
        if head.starts_with(&[0x1f, 0x8b]) {
            return Ok(Input::Gzip(p));
        }
        if head.len() >= 262 && &head[257..262] == b"ustar" {
            return Ok(Input::Archive(p));
        }
        Ok(Input::Plain(p))
    }

    fn path(&self) -> &Path {
        match self {
            Input::Plain(p)
            | Input::Gzip(p)
            | Input::Archive(p)
            | Input::PgRestore(p)
            | Input::Sqlite(p)
            | Input::CsvDir(p) => p,
        }
    }

    fn label(&self) -> String {
        let name = self
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path().display().to_string());
        match self {
            Input::Archive(_) | Input::PgRestore(_) => format!("{name}[sql]"),
            _ => name,
        }
    }

    /// Bytes one pass reads (for progress), when known.
    fn size(&self) -> u64 {
        match self {
            Input::Plain(p) | Input::Gzip(p) | Input::Sqlite(p) => {
                std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
            }
            Input::CsvDir(p) => csvdir::csv_files(p)
                .0
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum(),
            Input::Archive(_) | Input::PgRestore(_) => 0,
        }
    }

    /// One full pass over the input.
    pub fn scan(&self, summary: &mut Summary, v: &mut dyn Visitor) -> Result<()> {
        let label = self.label();
        match self {
            Input::Plain(p) => {
                let f = crate::util::fsx::open_input(p)?;
                sql::scan_plain(BufReader::with_capacity(1 << 16, f), p, &label, summary, v)
            }
            Input::Gzip(p) => {
                let f = crate::util::fsx::open_input(p)?;
                let gz = flate2::read::MultiGzDecoder::new(BufReader::new(f));
                let mut counted = CountingProgress { inner: v };
                sql::scan_plain(
                    BufReader::with_capacity(1 << 16, gz),
                    p,
                    &label,
                    summary,
                    &mut counted,
                )
            }
            Input::Archive(p) => match archive::probe(p) {
                Ok(_) => {
                    let mut stream = archive::NativeStream::open(p);
                    let mut counted = CountingProgress { inner: v };
                    let res = sql::scan_plain(
                        BufReader::with_capacity(1 << 16, &mut stream),
                        p,
                        &label,
                        summary,
                        &mut counted,
                    );
                    let done = stream.finish();
                    res?;
                    done.map_err(|e| {
                        Error::input(
                            p,
                            format!("cannot read this pg_dump custom archive: {e}. Is it complete? `pg_restore -l FILE` shows what pg_restore makes of it"),
                        )
                    })
                }
                Err(why) => {
                    tracing::debug!("{}: reading through pg_restore ({why})", p.display());
                    scan_archive(p, &label, summary, v)
                }
            },
            Input::PgRestore(p) => scan_archive(p, &label, summary, v),
            Input::Sqlite(p) => sqlite::scan(p, summary, v),
            Input::CsvDir(p) => csvdir::scan(p, summary, v),
        }
    }
}

/// Compressed input: progress is not in file bytes, so none is reported.
struct CountingProgress<'a> {
    inner: &'a mut dyn Visitor,
}
impl Visitor for CountingProgress<'_> {
    fn wants(&self, t: &str) -> bool {
        self.inner.wants(t)
    }
    fn row(&mut self, r: Row<'_>) -> Result<()> {
        self.inner.row(r)
    }
    fn skip(&mut self, t: Option<&str>, s: Skip) -> Result<()> {
        self.inner.skip(t, s)
    }
}

/// The newest `pg_restore`: on PATH, else under /usr/lib/postgresql/*/bin.
pub fn find_pg_tool(name: &str) -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&paths) {
            let c = d.join(name);
            if c.is_file() {
                return Some(c);
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let c = e.path().join("bin").join(name);
            c.is_file().then_some((v, c))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

fn scan_archive(
    path: &Path,
    label: &str,
    summary: &mut Summary,
    v: &mut dyn Visitor,
) -> Result<()> {
    let Some(bin) = find_pg_tool("pg_restore") else {
        return Err(Error::input(
            path,
            "this is a pg_dump archive (custom, directory or tar format); reading it needs pg_restore. \
             Install the PostgreSQL client (apt-get install postgresql-client, brew install libpq), \
             or convert it yourself with `pg_restore -f app.sql FILE` and point the source at app.sql",
        ));
    };
    // --verbose makes the script start with `-- Started on <archive creation time>`, the
    // snapshot time when the incident file does not give one; TZ=UTC prints it in UTC.
    let mut child = std::process::Command::new(&bin)
        .arg("--verbose")
        .env("TZ", "UTC")
        .arg("-f")
        .arg("-")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::input(path, format!("cannot run {}: {e}", bin.display())))?;
    let stderr = child.stderr.take();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let Some(stdout) = child.stdout.take() else {
        return Err(Error::input(path, "pg_restore gave no output"));
    };
    let mut counted = CountingProgress { inner: v };
    let res = sql::scan_plain(
        BufReader::with_capacity(1 << 16, stdout),
        path,
        label,
        summary,
        &mut counted,
    );
    if res.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| Error::read(path, e))?;
    let err = err_thread.join().unwrap_or_default();
    res?;
    if !status.success() {
        return Err(Error::input(
            path,
            format!(
                "pg_restore could not read this archive ({status}): {}. A newer pg_dump than this pg_restore? Install a matching postgresql-client",
                err.trim()
            ),
        ));
    }
    Ok(())
}

/// Pass 1: the business rows, kept; every table's columns, for validation.
struct Pass1<'a> {
    table: String,
    rows: Vec<(Vec<String>, Vec<Option<String>>, String)>,
    /// Tables that `[lookups]` name, and their rows as read: (table, columns, values).
    lookup_tables: Vec<String>,
    lookup_rows: Vec<convert::LookupRow>,
    skips: Vec<Skip>,
    progress: &'a indicatif::ProgressBar,
}

impl Pass1<'_> {
    fn is_lookup(&self, t: &str) -> bool {
        self.lookup_tables
            .iter()
            .any(|l| l == t || l.eq_ignore_ascii_case(t))
    }
}

impl Visitor for Pass1<'_> {
    fn wants(&self, t: &str) -> bool {
        t == self.table || t.eq_ignore_ascii_case(&self.table) || self.is_lookup(t)
    }
    fn row(&mut self, r: Row<'_>) -> Result<()> {
        if self.is_lookup(r.table) {
            let cols = match self.lookup_rows.last() {
                Some((_, c, _)) if **c == *r.columns => c.clone(),
                _ => r.columns.to_vec().into(),
            };
            self.lookup_rows
                .push((r.table.to_string(), cols, r.values.clone()));
        }
        if r.table == self.table || r.table.eq_ignore_ascii_case(&self.table) {
            self.rows.push((r.columns.to_vec(), r.values, r.location));
        }
        Ok(())
    }
    fn skip(&mut self, t: Option<&str>, s: Skip) -> Result<()> {
        if t.is_some_and(|t| self.wants(t)) {
            self.skips.push(s);
        }
        Ok(())
    }
    fn progress(&mut self, n: u64) {
        self.progress.inc(n);
    }
}

/// Pass 2: every other mapped table, converted and sent to the sink.
struct Pass2<'a, 'm> {
    business_table: String,
    tables: BTreeMap<String, (Entity, &'m EntityMap)>,
    conv: Converter<'m>,
    sink: &'a mut dyn RecordSink,
    progress: &'a indicatif::ProgressBar,
}

impl Visitor for Pass2<'_, '_> {
    fn wants(&self, t: &str) -> bool {
        t != self.business_table && self.tables.contains_key(t)
    }
    fn row(&mut self, r: Row<'_>) -> Result<()> {
        let Some(&(entity, em)) = self.tables.get(r.table) else {
            return Ok(());
        };
        match self.conv.convert(entity, em, &r) {
            Ok((rec, partial)) => {
                self.sink.record(rec)?;
                for s in partial {
                    self.sink.skip(s)?;
                }
                Ok(())
            }
            Err(s) => self.sink.skip(s),
        }
    }
    fn skip(&mut self, t: Option<&str>, s: Skip) -> Result<()> {
        if t == Some(self.business_table.as_str()) {
            return Ok(()); // reported by pass 1
        }
        self.sink.skip(s)
    }
    fn progress(&mut self, n: u64) {
        self.progress.inc(n);
    }
}

pub fn import(ctx: &ImportContext<'_>, sink: &mut dyn RecordSink) -> Result<()> {
    let path = ctx.spec.require_path()?;
    let mapping_path = ctx.spec.require_mapping()?;
    let mapping = Mapping::load(mapping_path)?;
    let input = Input::detect(path, ctx.spec.format.as_deref())?;
    import_input(
        &input,
        &mapping,
        mapping_path,
        ctx.spec.snapshot_at.as_deref(),
        &ctx.spec.name,
        &ctx.incident.file,
        ctx.progress,
        sink,
    )
}

/// The importer without an incident: for tests and other callers.
#[allow(clippy::too_many_arguments)]
pub fn import_input(
    input: &Input,
    mapping: &Mapping,
    mapping_path: &Path,
    snapshot_at: Option<&str>,
    source_name: &str,
    incident_file: &Path,
    progress: &indicatif::ProgressBar,
    sink: &mut dyn RecordSink,
) -> Result<()> {
    progress.set_length(input.size() * 2);
    let business_name = mapping
        .business
        .as_ref()
        .map(|b| b.table_name().to_string())
        .unwrap_or_default();

    let mut summary = Summary::default();
    let mut p1 = Pass1 {
        table: business_name,
        rows: Vec::new(),
        lookup_tables: mapping
            .lookups
            .values()
            .map(|l| l.table_name().to_string())
            .collect(),
        lookup_rows: Vec::new(),
        skips: Vec::new(),
        progress,
    };
    // An empty or table-less input is the dump's fault, not the mapping's: say so before
    // the mapping's table names are looked for.
    let empty_file = !matches!(input, Input::CsvDir(_))
        && std::fs::metadata(input.path()).is_ok_and(|m| m.is_file() && m.len() == 0);
    if empty_file {
        return Err(Error::input(
            input.path(),
            "the dump is empty (0 bytes); check that the backup finished writing, or point `path` at another dump",
        ));
    }
    input.scan(&mut summary, &mut p1)?;
    if !summary.tables.values().any(|t| t.columns.is_some()) {
        return Err(Error::input(
            input.path(),
            "the dump holds no table (no CREATE TABLE, COPY or INSERT with columns); check that it is a pg_dump, SQLite or CSV backup and that it finished writing",
        ));
    }
    let resolved = mapping.validate(&summary, mapping_path)?;
    let business_table = resolved.get(&Entity::Business).cloned().unwrap_or_default();

    let observed_at = match snapshot_at {
        Some(s) => s.to_string(),
        None => match summary
            .started_on
            .as_deref()
            .and_then(|s| convert::parse_timestamp(s, None))
        {
            Some(t) => crate::util::time::format_utc(t),
            None => {
                return Err(Error::config(
                    incident_file,
                    format!(
                        "source {source_name}: the backup does not say when it was taken (no `-- Started on` line); \
                         add snapshot_at = \"2026-08-22T03:00:00Z\" (the backup's time) to this source"
                    ),
                ))
            }
        },
    };

    let mut conv = Converter::new(mapping, mapping_path, observed_at);
    let Pass1 {
        rows,
        skips,
        lookup_rows,
        ..
    } = p1;
    let mut empty_lookups = Vec::new();
    for (name, l) in &mapping.lookups {
        let table = summary.resolve(l.table_name()).unwrap_or(l.table_name());
        let of_table = |(t, _, _): &&(String, _, _)| t == table || t.eq_ignore_ascii_case(table);
        if !lookup_rows.iter().any(|r| of_table(&r)) {
            empty_lookups.push(crate::import::unused_rule(
                mapping_path,
                &format!("[lookups.{name}] table {table}"),
                "holds no rows in this backup: every path through it gives no value".into(),
            ));
        }
        conv.add_lookup(name, &l.key, lookup_rows.iter().filter(of_table));
    }
    drop(lookup_rows);
    for (cols, values, location) in &rows {
        conv.add_business(&Row {
            table: &business_table,
            columns: cols,
            values: values.clone(),
            location: location.clone(),
        });
    }
    for s in skips.into_iter().chain(empty_lookups) {
        sink.skip(s)?;
    }
    for (cols, values, location) in rows {
        let row = Row {
            table: &business_table,
            columns: &cols,
            values,
            location,
        };
        let Some(bm) = &mapping.business else { break };
        match conv.convert(Entity::Business, bm, &row) {
            Ok((rec, partial)) => {
                sink.record(rec)?;
                for s in partial {
                    sink.skip(s)?;
                }
            }
            Err(s) => sink.skip(s)?,
        }
    }

    let tables = mapping
        .entities()
        .into_iter()
        .map(|(e, em)| (resolved[&e].clone(), (e, em)))
        .collect();
    let mut p2 = Pass2 {
        business_table,
        tables,
        conv,
        sink,
        progress,
    };
    let mut summary2 = Summary::default();
    input.scan(&mut summary2, &mut p2)?;
    let Pass2 { tables, sink, .. } = p2;
    let label = input.label();
    // A mapped table with no rows: a rule that matched nothing (or a backup without it).
    for (e, table) in &resolved {
        let rows = summary2.tables.get(table).map_or(0, |i| i.rows);
        sink.rule_hits(&format!("[{}] table {table}: rows", e.as_str()), rows)?;
        if rows > 0 {
            continue;
        }
        sink.skip(crate::import::unused_rule(
            mapping_path,
            &format!("[{}] table {table}", e.as_str()),
            "holds no rows in this backup, so it gave no record".into(),
        ))?;
    }
    for (name, info) in &summary2.tables {
        if tables.contains_key(name) || info.rows == 0 {
            continue;
        }
        sink.skip(Skip {
            location: info.data_at.clone().unwrap_or_else(|| label.clone()),
            kind: "ignored_table".into(),
            reason: format!(
                "table {name}: {} rows not imported (the mapping {} maps no entity to it)",
                info.rows,
                mapping_path.display()
            ),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
