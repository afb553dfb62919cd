//! The contract exporter: writes (and reads back) `recovered.sqlite`, exactly the tables
//! and columns of the contract (`recovered-db.sql`, version 1) plus additions that never
//! rename or drop anything. The schema itself lives in [`crate::contract`].

use crate::claims::Entity;
use crate::contract::{columns, ADDITIONS_DDL, CONTRACT_DDL};
use crate::error::{Error, Result};
use crate::merge::{Recovered, Row};
use crate::util::fsx::AtomicFile;
use rusqlite::{params, Connection};
use std::path::Path;

/// The provenance index, created before its rows: the merge hands provenance over in
/// the index's order ([`ProvenanceLog::sort_by_row`]), so each insert appends to it and
/// no sort of tens of millions of entries is needed afterwards.
///
/// [`ProvenanceLog::sort_by_row`]: crate::merge::ProvenanceLog::sort_by_row
const PROVENANCE_INDEX_DDL: &str = "CREATE INDEX provenance_row ON provenance(table_name, row_id);";

/// Other indexes, created once the rows are in (one sort instead of scattered inserts).
const INDEX_DDL: &str = "CREATE INDEX review_queue_row ON review_queue(table_name, row_id);";

/// Writes `rec` to `dest` atomically (temp file in the same directory, then rename): a
/// failed export never leaves a half-written file, and never replaces a good one.
pub fn write(rec: &Recovered, dest: &Path) -> Result<()> {
    let tmp = AtomicFile::create(dest)?;
    {
        let mut conn = Connection::open(tmp.path()).map_err(|e| Error::sqlite(dest, e))?;
        write_into(&mut conn, rec).map_err(|e| Error::sqlite(dest, e))?;
        conn.close().map_err(|(_, e)| Error::sqlite(dest, e))?;
    }
    tmp.commit()?;
    Ok(())
}

fn write_into(conn: &mut Connection, rec: &Recovered) -> rusqlite::Result<()> {
    // A fresh temp file that is renamed only when complete: no journal, no syncs, one
    // writer; larger pages for millions of provenance rows; the index sorts use helper
    // threads.
    conn.execute_batch(
        "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
         PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-32768; PRAGMA threads=4;",
    )?;
    let tx = conn.transaction()?;
    tx.execute_batch(CONTRACT_DDL)?;
    tx.execute_batch(ADDITIONS_DDL)?;
    tx.execute_batch(PROVENANCE_INDEX_DDL)?;
    for e in Entity::ALL {
        insert_rows(&tx, e, rec.rows(e))?;
    }
    {
        let mut st =
            tx.prepare("INSERT INTO row_evidence (table_name,row_id,signature) VALUES (?,?,?)")?;
        for e in Entity::ALL {
            for r in rec.rows(e) {
                if let Some(sig) = &r.evidence {
                    st.execute(params![e.table(), r.id, sig])?;
                }
            }
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO provenance (table_name,row_id,column_name,value,source,source_ref,observed_at,chosen) VALUES (?,?,?,?,?,?,?,?)",
        )?;
        for p in rec.provenance.iter() {
            st.execute(params![
                p.entity.table(),
                p.row_id,
                p.column,
                p.value,
                p.source.as_str(),
                p.source_ref,
                p.observed_at,
                p.chosen as i64
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO review_queue (table_name,row_id,reason,confidence,details) VALUES (?,?,?,?,?)",
        )?;
        for r in &rec.review {
            st.execute(params![
                r.entity.table(),
                r.row_id,
                r.reason,
                r.confidence,
                r.details.to_string()
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO record_links (table_name,row_id,record,joined_to,kind,weight,probability,detail) VALUES (?,?,?,?,?,?,?,?)",
        )?;
        for l in &rec.record_links {
            st.execute(params![
                l.entity.table(),
                l.row_id,
                l.record,
                l.joined_to,
                l.kind,
                l.weight,
                l.probability,
                l.detail.to_string()
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO deleted_rows (table_name,row_id,said_by,deleted_at,alive_in_backup) VALUES (?,?,?,?,?)",
        )?;
        for d in &rec.deleted {
            st.execute(params![
                d.entity.table(),
                d.row_id,
                d.said_by.join(","),
                d.deleted_at,
                d.alive_in_backup as i64
            ])?;
        }
        let mut st = tx.prepare("INSERT INTO run_info (key,value) VALUES (?,?)")?;
        for (k, v) in &rec.run_info {
            st.execute(params![k, v])?;
        }
    }
    tx.execute_batch(INDEX_DDL)?;
    tx.commit()
}

fn insert_rows(tx: &rusqlite::Transaction<'_>, e: Entity, rows: &[Row]) -> rusqlite::Result<()> {
    let cols = columns(e);
    let sql = format!(
        "INSERT INTO {} ({}, confidence, sources, extras) VALUES ({})",
        e.table(),
        cols.join(","),
        vec!["?"; cols.len() + 3].join(",")
    );
    let mut st = tx.prepare(&sql)?;
    for row in rows {
        let mut vals: Vec<rusqlite::types::Value> = Vec::with_capacity(cols.len() + 2);
        for c in cols {
            let v = if *c == "id" {
                rusqlite::types::Value::Text(row.id.clone())
            } else {
                to_sql(row.values.get(*c))
            };
            vals.push(v);
        }
        vals.push(rusqlite::types::Value::Real(row.confidence.clamp(0.0, 1.0)));
        vals.push(rusqlite::types::Value::Text(row.sources_text()));
        vals.push(if row.extras.is_empty() {
            rusqlite::types::Value::Null
        } else {
            rusqlite::types::Value::Text(serde_json::to_string(&row.extras).unwrap_or_default())
        });
        st.execute(rusqlite::params_from_iter(vals))?;
    }
    Ok(())
}

fn to_sql(v: Option<&crate::claims::Value>) -> rusqlite::types::Value {
    use crate::claims::Value as V;
    match v {
        None | Some(V::Null) => rusqlite::types::Value::Null,
        Some(V::Int(i)) => rusqlite::types::Value::Integer(*i),
        Some(V::Text(s)) => rusqlite::types::Value::Text(s.clone()),
    }
}

/// Reads a file written by [`write`] back (the workspace keeps the merge result in the
/// contract's own form between `salvage merge` and `salvage export`).
pub fn read(path: &Path) -> Result<Recovered> {
    use crate::claims::{SourceKind, Value};
    use crate::merge::{ProvenanceRef, ReviewItem};
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::sqlite(path, e))?;
    let err = |e| Error::sqlite(path, e);
    let mut rec = Recovered::default();
    let kinds =
        |s: String| -> Vec<SourceKind> { s.split(',').filter_map(SourceKind::parse).collect() };
    for e in Entity::ALL {
        let cols = columns(e);
        // Files written before the extras column have none.
        let has_extras = conn
            .prepare(&format!("SELECT extras FROM {} LIMIT 0", e.table()))
            .is_ok();
        let sql = format!(
            "SELECT {}, confidence, sources, {} FROM {}",
            cols.join(","),
            if has_extras { "extras" } else { "NULL" },
            e.table()
        );
        let mut st = conn.prepare(&sql).map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let mut values = std::collections::BTreeMap::new();
            for (i, c) in cols.iter().enumerate().skip(1) {
                let v = match r.get_ref(i).map_err(err)? {
                    rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                    rusqlite::types::ValueRef::Text(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Real(f) => Value::Text(f.to_string()),
                    _ => Value::Null,
                };
                if !v.is_null() {
                    values.insert(c.to_string(), v);
                }
            }
            rec.rows_mut(e).push(Row {
                id: r.get(0).map_err(err)?,
                values,
                confidence: r.get(cols.len()).map_err(err)?,
                sources: kinds(r.get(cols.len() + 1).map_err(err)?),
                evidence: None,
                extras: r
                    .get::<_, Option<String>>(cols.len() + 2)
                    .map_err(err)?
                    .and_then(|j| serde_json::from_str(&j).ok())
                    .unwrap_or_default(),
            });
        }
    }
    let table_entity = |t: &str| Entity::ALL.into_iter().find(|e| e.table() == t);
    if let Ok(mut st) = conn.prepare("SELECT table_name, row_id, signature FROM row_evidence") {
        let mut sigs: std::collections::HashMap<(String, String), String> = Default::default();
        let mut rows = st.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            sigs.insert(
                (r.get(0).map_err(err)?, r.get(1).map_err(err)?),
                r.get(2).map_err(err)?,
            );
        }
        for e in Entity::ALL {
            for row in rec.rows_mut(e) {
                row.evidence = sigs.remove(&(e.table().to_string(), row.id.clone()));
            }
        }
    }
    let mut st = conn
        .prepare("SELECT table_name,row_id,column_name,value,source,source_ref,observed_at,chosen FROM provenance ORDER BY rowid")
        .map_err(err)?;
    let mut rows = st.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        let t: String = r.get(0).map_err(err)?;
        let s: String = r.get(4).map_err(err)?;
        let (Some(entity), Some(source)) = (table_entity(&t), SourceKind::parse(&s)) else {
            continue;
        };
        let text = |i| -> Result<Option<&str>> {
            match r.get_ref(i).map_err(err)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                v => v.as_str().map(Some).map_err(|e| err(e.into())),
            }
        };
        rec.provenance.push(ProvenanceRef {
            entity,
            row_id: text(1)?.unwrap_or_default(),
            column: text(2)?.unwrap_or_default(),
            value: text(3)?,
            source,
            source_ref: text(5)?.unwrap_or_default(),
            observed_at: text(6)?,
            chosen: r.get::<_, i64>(7).map_err(err)? == 1,
        });
    }
    let mut st = conn
        .prepare(
            "SELECT table_name,row_id,reason,confidence,details FROM review_queue ORDER BY rowid",
        )
        .map_err(err)?;
    let mut rows = st.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        let t: String = r.get(0).map_err(err)?;
        let Some(entity) = table_entity(&t) else {
            continue;
        };
        let details: Option<String> = r.get(4).map_err(err)?;
        rec.review.push(ReviewItem {
            entity,
            row_id: r.get(1).map_err(err)?,
            reason: r.get(2).map_err(err)?,
            confidence: r.get(3).map_err(err)?,
            details: details
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(serde_json::Value::Null),
        });
    }
    // Files written before deleted_rows existed have none.
    if let Ok(mut st) = conn.prepare(
        "SELECT table_name,row_id,said_by,deleted_at,alive_in_backup FROM deleted_rows ORDER BY rowid",
    ) {
        let mut rows = st.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let t: String = r.get(0).map_err(err)?;
            let Some(entity) = table_entity(&t) else {
                continue;
            };
            let said: String = r.get(2).map_err(err)?;
            rec.deleted.push(crate::merge::DeletedRow {
                entity,
                row_id: r.get(1).map_err(err)?,
                said_by: said.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                deleted_at: r.get(3).map_err(err)?,
                alive_in_backup: r.get::<_, i64>(4).map_err(err)? == 1,
            });
        }
    }
    let mut st = conn
        .prepare("SELECT key, value FROM run_info")
        .map_err(err)?;
    let mut rows = st.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        let v: Option<String> = r.get(1).map_err(err)?;
        rec.run_info
            .insert(r.get(0).map_err(err)?, v.unwrap_or_default());
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{SourceKind, Value};
    use std::collections::BTreeMap;

    #[test]
    fn writes_rows_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r.sqlite");
        let mut rec = Recovered::default();
        let mut values = BTreeMap::new();
        values.insert("name".to_string(), Value::text("Lumen"));
        rec.businesses.push(Row {
            id: "1".into(),
            values,
            confidence: 0.9,
            sources: vec![SourceKind::Backup, SourceKind::Stripe],
            evidence: Some("business|backup,stripe|id|ok".into()),
            extras: Default::default(),
        });
        write(&rec, &dest).unwrap();
        assert_eq!(read(&dest).unwrap(), rec);
        let c = Connection::open(&dest).unwrap();
        let (name, src): (String, String) = c
            .query_row(
                "SELECT name, sources FROM businesses WHERE id='1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((name.as_str(), src.as_str()), ("Lumen", "backup,stripe"));
        // A failing export (a status the contract forbids) leaves the good file alone.
        let mut bad = rec.clone();
        let mut v = BTreeMap::new();
        v.insert("business_id".into(), Value::text("1"));
        v.insert("status".into(), Value::text("booked"));
        bad.reservations.push(Row {
            id: "r".into(),
            values: v,
            confidence: 0.5,
            sources: vec![SourceKind::Email],
            evidence: None,
            extras: Default::default(),
        });
        assert!(write(&bad, &dest).is_err());
        let c = Connection::open(&dest).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM reservations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
