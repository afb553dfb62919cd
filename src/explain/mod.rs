//! `salvage explain <table> <id>`: why a row of `recovered.sqlite` exists. Reads only the
//! exported file (like any other program that reads the contract): the source records that
//! were joined into the row and how (the key they share, or the similarity weights of each
//! comparison), which value of each column won and which lost, what the confidence was read
//! from, the review items that name the row, and the rows that refer to it.

use crate::claims::Entity;
use crate::error::{Error, Result};
use rusqlite::{Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// One claimed value of a column.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Claim {
    pub value: Option<String>,
    pub source: String,
    pub source_ref: String,
    pub observed_at: Option<String>,
    pub chosen: bool,
}

/// How one record joined the row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Join {
    pub record: String,
    pub joined_to: String,
    /// `key:<field>` (a shared identity key) or `similarity`.
    pub kind: String,
    pub weight: Option<f64>,
    pub probability: Option<f64>,
    /// For a key: the value. For similarity: each comparison's level and weight.
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Explanation {
    pub table: String,
    pub id: String,
    pub values: BTreeMap<String, Option<String>>,
    pub confidence: Option<f64>,
    pub evidence: Option<String>,
    pub records: Vec<(String, String, Option<String>)>,
    pub joins: Vec<Join>,
    pub claims: BTreeMap<String, Vec<Claim>>,
    pub review: Vec<(String, Option<f64>, serde_json::Value)>,
    pub referred_by: Vec<(String, u64)>,
}

fn table_exists(db: &Connection, t: &str) -> bool {
    db.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [t],
        |_| Ok(()),
    )
    .optional()
    .ok()
    .flatten()
    .is_some()
}

/// Explains row `id` of `table` (`customers`, or `customer`: the entity's name works too).
pub fn explain(recovered: &Path, table: &str, id: &str) -> Result<Explanation> {
    let tables = Entity::ALL.map(Entity::table);
    let table = tables
        .iter()
        .find(|t| **t == table || t.trim_end_matches('s') == table)
        .ok_or_else(|| {
            Error::Other(format!(
                "{table:?} is not a table of recovered.sqlite; use one of {}",
                tables.join(", ")
            ))
        })?
        .to_string();
    let db = crate::contract::open_recovered(recovered)?;
    let sql_err = |e: rusqlite::Error| Error::input(recovered, e.to_string());

    let mut st = db
        .prepare(&format!("SELECT * FROM {table} WHERE id = ?1"))
        .map_err(sql_err)?;
    let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
    let row = st
        .query_row([id], |r| {
            let mut m = BTreeMap::new();
            for (i, n) in names.iter().enumerate() {
                let v: rusqlite::types::Value = r.get(i)?;
                let s = match v {
                    rusqlite::types::Value::Null => None,
                    rusqlite::types::Value::Integer(n) => Some(n.to_string()),
                    rusqlite::types::Value::Real(f) => Some(f.to_string()),
                    rusqlite::types::Value::Text(t) => Some(t),
                    rusqlite::types::Value::Blob(_) => Some("<blob>".into()),
                };
                m.insert(n.clone(), s);
            }
            Ok(m)
        })
        .optional()
        .map_err(sql_err)?;
    let Some(mut values) = row else {
        let like: Vec<String> = db
            .prepare(&format!(
                "SELECT id FROM {table} WHERE id LIKE ?1 ORDER BY id LIMIT 5"
            ))
            .and_then(|mut s| {
                s.query_map([format!("%{id}%")], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap_or_default();
        return Err(Error::Other(format!(
            "{}: no row {id:?} in {table}{}",
            recovered.display(),
            if like.is_empty() {
                String::new()
            } else {
                format!("; ids like it: {}", like.join(", "))
            }
        )));
    };
    let confidence = values
        .remove("confidence")
        .flatten()
        .and_then(|c| c.parse().ok());
    values.remove("sources");

    let mut claims: BTreeMap<String, Vec<Claim>> = BTreeMap::new();
    let mut records: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    let mut st = db
        .prepare(
            "SELECT column_name, value, source, source_ref, observed_at, chosen FROM provenance
             WHERE table_name = ?1 AND row_id = ?2 ORDER BY column_name, chosen DESC, observed_at DESC",
        )
        .map_err(sql_err)?;
    let mut rows = st.query([&table, id]).map_err(sql_err)?;
    while let Some(r) = rows.next().map_err(sql_err)? {
        let c = Claim {
            value: r.get(1).map_err(sql_err)?,
            source: r.get(2).map_err(sql_err)?,
            source_ref: r.get(3).map_err(sql_err)?,
            observed_at: r.get(4).map_err(sql_err)?,
            chosen: r.get::<_, i64>(5).map_err(sql_err)? != 0,
        };
        records
            .entry(c.source_ref.clone())
            .or_insert((c.source.clone(), c.observed_at.clone()));
        claims
            .entry(r.get(0).map_err(sql_err)?)
            .or_default()
            .push(c);
    }

    let mut joins = Vec::new();
    if table_exists(&db, "record_links") {
        let mut st = db
            .prepare(
                "SELECT record, joined_to, kind, weight, probability, detail FROM record_links
                 WHERE table_name = ?1 AND row_id = ?2 ORDER BY rowid",
            )
            .map_err(sql_err)?;
        let mut rows = st.query([&table, id]).map_err(sql_err)?;
        while let Some(r) = rows.next().map_err(sql_err)? {
            let detail: Option<String> = r.get(5).map_err(sql_err)?;
            joins.push(Join {
                record: r.get(0).map_err(sql_err)?,
                joined_to: r.get(1).map_err(sql_err)?,
                kind: r.get(2).map_err(sql_err)?,
                weight: r.get(3).map_err(sql_err)?,
                probability: r.get(4).map_err(sql_err)?,
                detail: detail
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or(serde_json::Value::Null),
            });
        }
    }

    let evidence = if table_exists(&db, "row_evidence") {
        db.query_row(
            "SELECT signature FROM row_evidence WHERE table_name = ?1 AND row_id = ?2",
            [&table, id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?
    } else {
        None
    };

    let mut review = Vec::new();
    let mut st = db
        .prepare("SELECT reason, confidence, details FROM review_queue WHERE table_name = ?1 AND row_id = ?2")
        .map_err(sql_err)?;
    let mut rows = st.query([&table, id]).map_err(sql_err)?;
    while let Some(r) = rows.next().map_err(sql_err)? {
        let d: Option<String> = r.get(2).map_err(sql_err)?;
        review.push((
            r.get(0).map_err(sql_err)?,
            r.get(1).map_err(sql_err)?,
            d.and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(serde_json::Value::Null),
        ));
    }

    let fk = match table.as_str() {
        "businesses" => "business_id",
        "customers" => "customer_id",
        "reservations" => "reservation_id",
        _ => "",
    };
    let mut referred_by = Vec::new();
    if !fk.is_empty() {
        for t in Entity::ALL.map(Entity::table) {
            let has = db.prepare(&format!("SELECT {fk} FROM {t} LIMIT 0")).is_ok();
            if !has {
                continue;
            }
            let n: u64 = db
                .query_row(
                    &format!("SELECT count(*) FROM {t} WHERE {fk} = ?1"),
                    [id],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            if n > 0 {
                referred_by.push((t.to_string(), n));
            }
        }
    }

    Ok(Explanation {
        table,
        id: id.to_string(),
        values,
        confidence,
        evidence,
        records: records.into_iter().map(|(r, (s, t))| (r, s, t)).collect(),
        joins,
        claims,
        review,
        referred_by,
    })
}

fn show(v: &Option<String>) -> String {
    match v {
        Some(s) => format!("{s:?}"),
        None => "NULL".into(),
    }
}

/// The explanation as a person reads it.
pub fn render_text(x: &Explanation) -> String {
    let mut o = String::new();
    let label = ["name", "reference", "processor_id"]
        .iter()
        .find_map(|c| x.values.get(*c).cloned().flatten())
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "{} {}  {}  confidence {}",
        x.table,
        x.id,
        label,
        x.confidence
            .map(|c| format!("{c:.3}"))
            .unwrap_or_else(|| "?".into())
    );
    if let Some(e) = &x.evidence {
        let _ = writeln!(o, "  confidence read from: {e}");
    }
    let _ = writeln!(o, "\nfrom {} source record(s):", x.records.len());
    for (r, s, t) in &x.records {
        let _ = writeln!(o, "  {r}  ({s}, seen {})", t.as_deref().unwrap_or("?"));
    }
    if !x.joins.is_empty() {
        let _ = writeln!(o, "\nhow they were joined:");
        for j in &x.joins {
            let how = match (j.kind.as_str(), j.weight) {
                ("similarity", Some(w)) => format!(
                    "similar: match weight {w:+.1} (probability {:.4})",
                    j.probability.unwrap_or(0.0)
                ),
                (k, _) => format!(
                    "same {}{}",
                    k.trim_start_matches("key:"),
                    j.detail
                        .as_str()
                        .map(|v| format!(" {v:?}"))
                        .unwrap_or_default()
                ),
            };
            let _ = writeln!(o, "  {} -> {}: {how}", j.record, j.joined_to);
            if let Some(levels) = j.detail.as_array() {
                for l in levels {
                    let _ = writeln!(
                        o,
                        "      {:<20} {:<34} {:+.2}",
                        l["comparison"].as_str().unwrap_or("?"),
                        l["level"].as_str().unwrap_or("?"),
                        l["weight"].as_f64().unwrap_or(0.0)
                    );
                }
            }
        }
    } else if x.records.len() > 1 {
        let _ = writeln!(
            o,
            "\n(no similarity join: its records share an app id or Stripe ids, or are identical)"
        );
    }
    let _ = writeln!(o, "\nvalues:");
    for (col, v) in &x.values {
        let cs = x.claims.get(col).map(Vec::as_slice).unwrap_or(&[]);
        let chosen = cs.iter().find(|c| c.chosen);
        let _ = writeln!(
            o,
            "  {col:<16} {}{}",
            show(v),
            match chosen {
                Some(c) => format!("  from {}", c.source_ref),
                None if v.is_some() => "  (derived)".into(),
                None => String::new(),
            }
        );
        for c in cs.iter().filter(|c| !c.chosen) {
            let _ = writeln!(
                o,
                "  {:<16}   not chosen: {} from {} ({})",
                "",
                show(&c.value),
                c.source_ref,
                c.observed_at.as_deref().unwrap_or("?")
            );
        }
    }
    if !x.review.is_empty() {
        let _ = writeln!(o, "\nin the review queue:");
        for (reason, c, d) in &x.review {
            let _ = writeln!(
                o,
                "  {reason}{}: {}",
                c.map(|c| format!(" ({c:.2})")).unwrap_or_default(),
                d.get("why").and_then(|w| w.as_str()).unwrap_or("")
            );
        }
    }
    if !x.referred_by.is_empty() {
        let refs: Vec<String> = x
            .referred_by
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        let _ = writeln!(o, "\nreferred to by: {}", refs.join(", "));
    }
    o
}
