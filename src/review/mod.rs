//! The review decisions file: `salvage review` writes the review queue of a
//! `recovered.sqlite` as a CSV a person fills in (one line per item, work order: the
//! reason with the most money at stake first), and a rerun whose incident names the file
//! (`decisions = "..."`) applies what was decided (`merge::decisions`). Writing it again
//! after a rerun keeps every decided line and lists only the items still open, so nothing
//! is asked twice.
//!
//! Columns: `table,row_id,reason,business_id,amount,currency,confidence,question,
//! decision,column,value,other_row_id,note,record`. A person fills `decision` with one of
//! `accept`, `reject`, `keep` (with `value`, and `column` unless the reason names it:
//! `conflict:<column>`), `same` (with `other_row_id`: these two rows are one), `apart`
//! (with `record`, a source ref `salvage explain` lists: these are two, that record is not
//! this row's); an empty `decision` is still open.

use crate::claims::Entity;
use crate::error::{Error, Result};
use crate::merge::decisions::{Action, Decision};
use std::path::Path;

const HEADER: [&str; 14] = [
    "table",
    "row_id",
    "reason",
    "business_id",
    "amount",
    "currency",
    "confidence",
    "question",
    "decision",
    "column",
    "value",
    "other_row_id",
    "note",
    "record",
];

fn entity_of(table: &str) -> Option<Entity> {
    Entity::ALL.into_iter().find(|e| e.table() == table)
}

/// Reads the decisions a person made; lines left open are skipped. A line that cannot
/// be read is an error naming the file, the line and what to write.
pub fn read(path: &Path) -> Result<Vec<Decision>> {
    let file = crate::util::fsx::open_input(path)?;
    let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers = rd
        .headers()
        .map_err(|e| Error::input(path, format!("not a decisions CSV ({e})")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(table_i), Some(row_i), Some(dec_i)) = (col("table"), col("row_id"), col("decision"))
    else {
        return Err(Error::input(
            path,
            "a decisions file needs the columns table, row_id and decision; write one with `salvage review`",
        ));
    };
    let mut out = Vec::new();
    for (n, rec) in rd.records().enumerate() {
        let line = n + 2;
        let at = format!(
            "{}:{line}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let bad = |why: String| Error::input(path, format!("line {line}: {why}"));
        let rec = rec.map_err(|e| bad(format!("unreadable ({e})")))?;
        let get = |i: Option<usize>| {
            i.and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(word) = get(Some(dec_i)) else {
            continue;
        };
        let table = get(Some(table_i)).unwrap_or_default();
        let entity = entity_of(table).ok_or_else(|| {
            bad(format!(
                "table {table:?} is not one of businesses, customers, reservations, payments"
            ))
        })?;
        let row_id = get(Some(row_i))
            .ok_or_else(|| bad("row_id is empty".into()))?
            .to_string();
        let reason = get(col("reason")).map(str::to_string);
        let action = match word.to_ascii_lowercase().as_str() {
            "accept" => Action::Accept,
            "reject" => Action::Reject,
            "keep" => {
                let column = get(col("column"))
                    .map(str::to_string)
                    .or_else(|| {
                        reason
                            .as_deref()
                            .and_then(|r| r.strip_prefix("conflict:"))
                            .map(str::to_string)
                    })
                    .ok_or_else(|| bad("keep needs a column (the reason names none)".into()))?;
                let value = get(col("value"))
                    .ok_or_else(|| bad(format!("keep needs the value to keep for {column}")))?
                    .to_string();
                Action::Keep { column, value }
            }
            "apart" | "two" | "different" => Action::Apart {
                record: get(col("record"))
                    .ok_or_else(|| {
                        bad("apart needs record: the source ref of the record that is not this row's (`salvage explain` lists them)".into())
                    })?
                    .to_string(),
            },
            "same" => Action::Same {
                other: get(col("other_row_id"))
                    .ok_or_else(|| bad("same needs other_row_id: the row this one is".into()))?
                    .to_string(),
            },
            other => {
                return Err(bad(format!(
                    "decision {other:?} is not one of accept, reject, keep, same, apart (or empty: still open)"
                )))
            }
        };
        out.push(Decision {
            entity,
            row_id,
            reason,
            action,
            at,
        });
    }
    Ok(out)
}

/// Writes the review queue of `recovered` (a contract SQLite file) to `dest`, keeping
/// the decided lines of the file already there. Returns (items still open, decided
/// lines kept).
pub fn write(recovered: &Path, dest: &Path) -> Result<(usize, usize)> {
    let mut kept: Vec<csv::StringRecord> = Vec::new();
    let mut decided: std::collections::HashSet<(String, String, String)> = Default::default();
    if dest.is_file() {
        read(dest)?; // a file that cannot be applied is not rewritten
        let mut rd = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(crate::util::fsx::open_input(dest)?);
        let headers = rd
            .headers()
            .map_err(|e| Error::input(dest, e.to_string()))?
            .clone();
        let pos = |n: &str| headers.iter().position(|h| h == n);
        for rec in rd.records() {
            let rec = rec.map_err(|e| Error::input(dest, e.to_string()))?;
            let get = |n: &str| {
                pos(n)
                    .and_then(|i| rec.get(i))
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            if get("decision").is_empty() {
                continue;
            }
            decided.insert((get("table"), get("row_id"), get("reason")));
            // Re-laid in this file's columns, whatever order the person's tool saved.
            kept.push(HEADER.iter().map(|h| get(h)).collect());
        }
    }
    let conn = rusqlite::Connection::open_with_flags(
        recovered,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| Error::sqlite(recovered, e))?;
    // Each item with its row's business and money; the work order of the report.
    let sql = "SELECT q.table_name, q.row_id, q.reason, q.confidence, \
        COALESCE(p.business_id, r.business_id, c.business_id, CASE WHEN q.table_name = 'businesses' THEN q.row_id END), \
        COALESCE(p.amount, r.amount), COALESCE(p.currency, r.currency) \
        FROM review_queue q \
        LEFT JOIN payments p ON q.table_name = 'payments' AND p.id = q.row_id \
        LEFT JOIN reservations r ON q.table_name = 'reservations' AND r.id = q.row_id \
        LEFT JOIN customers c ON q.table_name = 'customers' AND c.id = q.row_id";
    type Item = (
        String,
        String,
        String,
        Option<f64>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let mut st = conn.prepare(sql).map_err(|e| Error::sqlite(recovered, e))?;
    let mut items: Vec<Item> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| Error::sqlite(recovered, e))?;
    items.retain(|i| !decided.contains(&(i.0.clone(), i.1.clone(), i.2.clone())));
    // Reasons by money at stake, then the largest amount first within a reason.
    let mut stake: std::collections::HashMap<String, i64> = Default::default();
    for i in &items {
        *stake.entry(i.2.clone()).or_insert(0) += i.5.unwrap_or(0).abs();
    }
    items.sort_by(|a, b| {
        stake[&b.2]
            .cmp(&stake[&a.2])
            .then(a.2.cmp(&b.2))
            .then(b.5.unwrap_or(0).abs().cmp(&a.5.unwrap_or(0).abs()))
            .then((&a.0, &a.1).cmp(&(&b.0, &b.1)))
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Other(format!("writing {}: {e}", dest.display()));
    w.write_record(HEADER).map_err(io)?;
    for k in &kept {
        w.write_record(k).map_err(io)?;
    }
    for (table, row_id, reason, conf, biz, amount, currency) in &items {
        let column = reason.strip_prefix("conflict:").unwrap_or("");
        w.write_record([
            table.as_str(),
            row_id,
            reason,
            biz.as_deref().unwrap_or(""),
            &amount.map(|a| a.to_string()).unwrap_or_default(),
            currency.as_deref().unwrap_or(""),
            &conf.map(|c| format!("{c:.3}")).unwrap_or_default(),
            &crate::report::worklist::decision(reason),
            "",
            column,
            "",
            "",
            "",
            "",
        ])
        .map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Other(format!("writing {}: {e}", dest.display())))?;
    crate::util::fsx::write_atomic(dest, &bytes)?;
    Ok((items.len(), kept.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_read_with_their_line_and_open_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("decisions.csv");
        std::fs::write(
            &f,
            "table,row_id,reason,decision,column,value,other_row_id,record\n\
             payments,p1,conflict:amount,keep,,1200,\n\
             payments,p2,low_confidence,,,,\n\
             customers,c1,ambiguous_customer,Same,,,c2\n\
             customers,c1,low_confidence,apart,,,,email:<m1>\n\
             reservations,r1,low_confidence,reject,,,\n",
        )
        .unwrap();
        let d = read(&f).unwrap();
        assert_eq!(d.len(), 4);
        assert_eq!(
            d[0].action,
            Action::Keep {
                column: "amount".into(),
                value: "1200".into()
            }
        );
        assert_eq!(d[0].at, "decisions.csv:2");
        assert_eq!(d[1].action, Action::Same { other: "c2".into() });
        assert_eq!(
            d[2].action,
            Action::Apart {
                record: "email:<m1>".into()
            }
        );
        assert_eq!(
            (d[3].entity, d[3].action.clone()),
            (Entity::Reservation, Action::Reject)
        );
    }

    #[test]
    fn a_line_that_cannot_be_applied_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("d.csv");
        for (body, want) in [
            (
                "payments,p1,low_confidence,maybe",
                "line 2: decision \"maybe\"",
            ),
            ("payments,p1,low_confidence,keep", "keep needs a column"),
            ("invoices,p1,low_confidence,accept", "table \"invoices\""),
            ("customers,c1,x,same", "other_row_id"),
        ] {
            std::fs::write(&f, format!("table,row_id,reason,decision\n{body}\n")).unwrap();
            let e = read(&f).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
