//! `salvage evaluate --pairs`: pairwise linkage quality when the truth is written in the
//! records' own references, as in a labelled benchmark (FEBRL's `rec-<N>-org` and
//! `rec-<N>-dup-<k>` name one person `N`). No truth database is needed.
//!
//! Every distinct `source_ref` that `provenance` cites for a row of the table is one
//! record; the regular expression's first group (or the whole match) is its true entity.
//! Predicted pairs are the record pairs inside one recovered row, true pairs the record
//! pairs with one label, counted over the records found (a record that reached no row is
//! reported, since it cannot be paired). Precision = correct / predicted pairs, recall =
//! correct / true pairs.

use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PairScores {
    pub table: String,
    /// Distinct records (source refs) cited for rows of the table.
    pub records: u64,
    /// Records whose ref the pattern does not match (left out of the scores).
    pub unlabelled: u64,
    pub rows: u64,
    pub predicted_pairs: u64,
    pub true_pairs: u64,
    pub correct_pairs: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Scores the linkage of `table` in a recovered file.
pub fn evaluate(recovered: &Path, table: &str, truth_ref: &str) -> Result<PairScores> {
    let re = regex::Regex::new(truth_ref).map_err(|e| {
        Error::Other(format!(
            "--truth-ref {truth_ref:?} is not a regular expression: {e}"
        ))
    })?;
    let db = rusqlite::Connection::open_with_flags(
        recovered,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| Error::input(recovered, format!("cannot open: {e}")))?;
    let mut st = db
        .prepare("SELECT DISTINCT row_id, source_ref FROM provenance WHERE table_name = ?1")
        .map_err(|e| Error::input(recovered, format!("no provenance table: {e}")))?;
    let mut rows = st
        .query([table])
        .map_err(|e| Error::input(recovered, e.to_string()))?;
    // ref -> (row, label); a ref cited by two rows counts for the first.
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut by_row: BTreeMap<String, HashMap<String, u64>> = BTreeMap::new();
    let mut by_label: HashMap<String, u64> = HashMap::new();
    let mut out = PairScores {
        table: table.to_string(),
        ..Default::default()
    };
    while let Some(r) = rows
        .next()
        .map_err(|e| Error::input(recovered, e.to_string()))?
    {
        let row_id: String = r.get(0).unwrap_or_default();
        let sref: String = r.get(1).unwrap_or_default();
        if seen.insert(sref.clone(), ()).is_some() {
            continue;
        }
        out.records += 1;
        let Some(c) = re.captures(&sref) else {
            out.unlabelled += 1;
            continue;
        };
        let label = c
            .get(1)
            .or_else(|| c.get(0))
            .map(|m| m.as_str())
            .unwrap_or_default();
        *by_row
            .entry(row_id)
            .or_default()
            .entry(label.to_string())
            .or_default() += 1;
        *by_label.entry(label.to_string()).or_default() += 1;
    }
    out.rows = by_row.len() as u64;
    for labels in by_row.values() {
        out.predicted_pairs += pairs(labels.values().sum());
        out.correct_pairs += labels.values().map(|&n| pairs(n)).sum::<u64>();
    }
    out.true_pairs = by_label.values().map(|&n| pairs(n)).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    out.precision = ratio(out.correct_pairs, out.predicted_pairs);
    out.recall = ratio(out.correct_pairs, out.true_pairs);
    out.f1 = if out.precision + out.recall == 0.0 {
        0.0
    } else {
        2.0 * out.precision * out.recall / (out.precision + out.recall)
    };
    Ok(out)
}

pub fn render_text(s: &PairScores) -> String {
    format!(
        "{}: {} records in {} rows{}\n  pairs: {} predicted, {} true, {} correct\n  precision {:.4}  recall {:.4}  F1 {:.4}\n",
        s.table,
        s.records,
        s.rows,
        if s.unlabelled > 0 {
            format!(" ({} without a label, left out)", s.unlabelled)
        } else {
            String::new()
        },
        s.predicted_pairs,
        s.true_pairs,
        s.correct_pairs,
        s.precision,
        s.recall,
        s.f1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_inside_rows_against_labels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.sqlite");
        let db = rusqlite::Connection::open(&p).unwrap();
        db.execute_batch(
            "CREATE TABLE provenance (table_name TEXT, row_id TEXT, column_name TEXT, value TEXT, source TEXT, source_ref TEXT, observed_at TEXT, chosen INTEGER);",
        )
        .unwrap();
        // Row A joins 1-org, 1-dup-0 and 2-org (one right pair, two wrong); row B holds
        // 2-dup-0 alone (its true pair with 2-org is missed).
        for (row, r) in [
            ("A", "backup:t#rec-1-org"),
            ("A", "backup:t#rec-1-dup-0"),
            ("A", "backup:t#rec-1-dup-0"),
            ("A", "backup:t#rec-2-org"),
            ("B", "backup:t#rec-2-dup-0"),
            ("B", "stripe:cus_1"),
        ] {
            db.execute(
                "INSERT INTO provenance VALUES ('customers', ?1, 'name', 'x', 'backup', ?2, NULL, 1)",
                [row, r],
            )
            .unwrap();
        }
        drop(db);
        let s = evaluate(&p, "customers", r"rec-(\d+)").unwrap();
        assert_eq!((s.records, s.unlabelled, s.rows), (5, 1, 2));
        assert_eq!(
            (s.predicted_pairs, s.true_pairs, s.correct_pairs),
            (3, 2, 1)
        );
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-9 && (s.recall - 0.5).abs() < 1e-9);
    }
}
