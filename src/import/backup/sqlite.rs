//! A SQLite database as a backup: every table, read-only (`immutable=1`, never written,
//! no journal created next to it).

use super::source::{Row, Summary, Visitor};
use crate::claims::Skip;
use crate::error::{Error, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

fn uri(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut s = String::from("file:");
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'?' | b'#' | b'%' | b' ' => s.push_str(&format!("%{b:02X}")),
            _ => s.push(b as char),
        }
    }
    s.push_str("?immutable=1");
    s
}

/// Opens a SQLite file read-only and immutable.
pub fn open(path: &Path) -> Result<Connection> {
    // Opening by URI needs a valid UTF-8 path; the bytes above are ASCII-escaped as needed.
    Connection::open_with_flags(
        uri(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::sqlite(path, e))
}

fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(format!("\\x{}", hex::encode(b))),
    }
}

pub fn scan(path: &Path, summary: &mut Summary, v: &mut dyn Visitor) -> Result<()> {
    let conn = open(path)?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sq = |e| Error::sqlite(path, e);
    let names: Vec<String> = {
        let mut st = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .map_err(|e| Error::input(path, format!("not a readable SQLite database: {e}")))?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(sq)?;
        rows.collect::<std::result::Result<_, _>>().map_err(sq)?
    };
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let cols: Vec<String> = {
            let mut st = conn
                .prepare(&format!("PRAGMA table_info({quoted})"))
                .map_err(sq)?;
            let rows = st.query_map([], |r| r.get::<_, String>(1)).map_err(sq)?;
            rows.collect::<std::result::Result<_, _>>().map_err(sq)?
        };
        let table = name.to_ascii_lowercase();
        summary.set_columns(&table, &cols);
        summary.table_mut(&table).data_at = Some(format!("{label}:{name}"));
        if !v.wants(&table) {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {quoted}"), [], |r| r.get(0))
                .map_err(sq)?;
            summary.table_mut(&table).rows += n.max(0) as u64;
            continue;
        }
        let mut st = conn
            .prepare(&format!("SELECT * FROM {quoted}"))
            .map_err(sq)?;
        let ncol = st.column_count();
        let mut rows = st.query([]).map_err(sq)?;
        let mut n: u64 = 0;
        loop {
            let r = match rows.next() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    v.skip(
                        Some(&table),
                        Skip {
                            location: format!("{label}:{name}#{}", n + 1),
                            kind: "bad_row".into(),
                            reason: format!("SQLite could not read the rest of table {name}: {e}"),
                        },
                    )?;
                    break;
                }
            };
            n += 1;
            let mut values = Vec::with_capacity(ncol);
            for i in 0..ncol {
                values.push(r.get_ref(i).map(text).unwrap_or(None));
            }
            v.row(Row {
                table: &table,
                columns: &cols,
                values,
                location: format!("{label}:{name}#{n}"),
            })?;
        }
        summary.table_mut(&table).rows += n;
    }
    v.progress(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
    Ok(())
}
