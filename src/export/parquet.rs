//! The rebuild as Parquet, for DuckDB, a BI tool or Spark: the four contract tables (with
//! `confidence`, `sources` and `extras`), `provenance`, `review_queue`, `run_info`, and the
//! claims every source made (`claims.parquet`: one row per field of every record). One
//! file per table, zstd-compressed, row groups of at most [`ROW_GROUP`] rows, each file
//! written to a temp file and renamed. Built on the `parquet` crate alone (no Arrow, no
//! polars): the leanest writer that does the job.

use crate::claims::store::StoredRecord;
use crate::claims::Entity;
use crate::error::{Error, Result};
use crate::merge::Recovered;
use crate::util::fsx::AtomicFile;
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::path::Path;
use std::sync::Arc;

/// Rows per row group: bounds the memory a column buffer takes.
pub const ROW_GROUP: usize = 1 << 20;

/// Contract columns held as integers (the rest are text).
const INT_COLUMNS: [&str; 3] = ["amount", "amount_refunded", "party_size"];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Int,
    Real,
    Bool,
}

/// One value of a cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Real(f64),
    Bool(bool),
}

/// A table being written: its columns, and the rows of the row group being filled.
struct Table<'a> {
    path: &'a Path,
    columns: Vec<(String, Kind, bool)>,
    rows: Vec<Vec<Cell>>,
    writer: SerializedFileWriter<std::fs::File>,
    tmp: AtomicFile,
    written: usize,
}

fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Other(format!("writing {}: {e}", path.display()))
}

impl<'a> Table<'a> {
    /// `columns`: name, kind, whether it may be null.
    fn create(path: &'a Path, name: &str, columns: Vec<(String, Kind, bool)>) -> Result<Self> {
        let fields: Vec<String> = columns
            .iter()
            .map(|(n, k, nullable)| {
                let rep = if *nullable { "OPTIONAL" } else { "REQUIRED" };
                let ty = match k {
                    Kind::Text => "BYTE_ARRAY",
                    Kind::Int => "INT64",
                    Kind::Real => "DOUBLE",
                    Kind::Bool => "BOOLEAN",
                };
                let ann = if *k == Kind::Text { " (UTF8)" } else { "" };
                format!("{rep} {ty} {n}{ann};")
            })
            .collect();
        let schema = parse_message_type(&format!("message {name} {{ {} }}", fields.join(" ")))
            .map_err(|e| pq_err(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let mut tmp = AtomicFile::create(path)?;
        let f = tmp.file().try_clone().map_err(|e| Error::Write {
            path: tmp.path().to_path_buf(),
            cause: e,
        })?;
        let writer = SerializedFileWriter::new(f, Arc::new(schema), Arc::new(props))
            .map_err(|e| pq_err(path, e))?;
        Ok(Table {
            path,
            columns,
            rows: Vec::new(),
            writer,
            tmp,
            written: 0,
        })
    }

    fn push(&mut self, row: Vec<Cell>) -> Result<()> {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
        if self.rows.len() >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let path = self.path;
        let err = |e: parquet::errors::ParquetError| pq_err(path, e);
        let mut rg = self.writer.next_row_group().map_err(err)?;
        for (ci, (name, kind, nullable)) in self.columns.iter().enumerate() {
            let mut col = rg
                .next_column()
                .map_err(err)?
                .ok_or_else(|| pq_err(path, format!("no column {name}")))?;
            let defs: Vec<i16> = self
                .rows
                .iter()
                .map(|r| i16::from(r[ci] != Cell::Null))
                .collect();
            let defs = nullable.then_some(defs.as_slice());
            match kind {
                Kind::Text => {
                    let v: Vec<ByteArray> = self
                        .rows
                        .iter()
                        .filter_map(|r| match &r[ci] {
                            Cell::Text(s) => Some(ByteArray::from(s.as_str())),
                            _ => None,
                        })
                        .collect();
                    col.typed::<ByteArrayType>().write_batch(&v, defs, None)
                }
                Kind::Int => {
                    let v: Vec<i64> = self
                        .rows
                        .iter()
                        .filter_map(|r| match r[ci] {
                            Cell::Int(i) => Some(i),
                            _ => None,
                        })
                        .collect();
                    col.typed::<Int64Type>().write_batch(&v, defs, None)
                }
                Kind::Real => {
                    let v: Vec<f64> = self
                        .rows
                        .iter()
                        .filter_map(|r| match r[ci] {
                            Cell::Real(x) => Some(x),
                            _ => None,
                        })
                        .collect();
                    col.typed::<DoubleType>().write_batch(&v, defs, None)
                }
                Kind::Bool => {
                    let v: Vec<bool> = self
                        .rows
                        .iter()
                        .filter_map(|r| match r[ci] {
                            Cell::Bool(b) => Some(b),
                            _ => None,
                        })
                        .collect();
                    col.typed::<BoolType>().write_batch(&v, defs, None)
                }
            }
            .map_err(err)?;
            col.close().map_err(err)?;
        }
        rg.close().map_err(err)?;
        self.written += self.rows.len();
        self.rows.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<usize> {
        self.flush()?;
        let path = self.path;
        self.writer.close().map_err(|e| pq_err(path, e))?;
        self.tmp.commit()?;
        Ok(self.written)
    }
}

fn text(s: Option<&str>) -> Cell {
    s.map_or(Cell::Null, |s| Cell::Text(s.to_string()))
}

/// Writes every table into `dir` (created if needed); returns (file, rows) per table.
pub fn write(rec: &Recovered, claims: &[StoredRecord], dir: &Path) -> Result<Vec<(String, usize)>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Write {
        path: dir.to_path_buf(),
        cause: e,
    })?;
    let mut out = Vec::new();
    for e in Entity::ALL {
        let path = dir.join(format!("{}.parquet", e.table()));
        let mut cols = vec![("id".to_string(), Kind::Text, false)];
        for c in e.columns().iter().filter(|c| **c != "id") {
            let k = if INT_COLUMNS.contains(c) {
                Kind::Int
            } else {
                Kind::Text
            };
            cols.push((c.to_string(), k, true));
        }
        cols.push(("confidence".into(), Kind::Real, false));
        cols.push(("sources".into(), Kind::Text, false));
        cols.push(("extras".into(), Kind::Text, true));
        let mut t = Table::create(&path, e.table(), cols)?;
        for r in rec.rows(e) {
            let mut row = vec![Cell::Text(r.id.clone())];
            for c in e.columns().iter().filter(|c| **c != "id") {
                row.push(match r.get(c) {
                    None => Cell::Null,
                    Some(v) if INT_COLUMNS.contains(c) => v.as_int().map_or(Cell::Null, Cell::Int),
                    Some(v) => text(v.render().as_deref()),
                });
            }
            row.push(Cell::Real(r.confidence));
            row.push(Cell::Text(r.sources_text()));
            row.push(if r.extras.is_empty() {
                Cell::Null
            } else {
                Cell::Text(serde_json::to_string(&r.extras).unwrap_or_default())
            });
            t.push(row)?;
        }
        out.push((path.display().to_string(), t.finish()?));
    }

    let path = dir.join("provenance.parquet");
    let tc = |n: &str, nullable: bool| (n.to_string(), Kind::Text, nullable);
    let mut t = Table::create(
        &path,
        "provenance",
        vec![
            tc("table_name", false),
            tc("row_id", false),
            tc("column_name", false),
            tc("value", true),
            tc("source", false),
            tc("source_ref", false),
            tc("observed_at", true),
            ("chosen".into(), Kind::Bool, false),
        ],
    )?;
    for p in rec.provenance.iter() {
        t.push(vec![
            Cell::Text(p.entity.table().into()),
            Cell::Text(p.row_id.into()),
            Cell::Text(p.column.into()),
            text(p.value),
            Cell::Text(p.source.as_str().into()),
            Cell::Text(p.source_ref.into()),
            text(p.observed_at),
            Cell::Bool(p.chosen),
        ])?;
    }
    out.push((path.display().to_string(), t.finish()?));

    let path = dir.join("review_queue.parquet");
    let mut t = Table::create(
        &path,
        "review_queue",
        vec![
            tc("table_name", false),
            tc("row_id", false),
            tc("reason", false),
            ("confidence".into(), Kind::Real, true),
            tc("details", true),
        ],
    )?;
    for q in &rec.review {
        t.push(vec![
            Cell::Text(q.entity.table().into()),
            Cell::Text(q.row_id.clone()),
            Cell::Text(q.reason.clone()),
            q.confidence.map_or(Cell::Null, Cell::Real),
            Cell::Text(q.details.to_string()),
        ])?;
    }
    out.push((path.display().to_string(), t.finish()?));

    let path = dir.join("run_info.parquet");
    let mut t = Table::create(&path, "run_info", vec![tc("key", false), tc("value", true)])?;
    for (k, v) in &rec.run_info {
        t.push(vec![Cell::Text(k.clone()), Cell::Text(v.clone())])?;
    }
    out.push((path.display().to_string(), t.finish()?));

    let path = dir.join("claims.parquet");
    let mut t = Table::create(
        &path,
        "claims",
        vec![
            tc("source", false),
            tc("kind", false),
            tc("entity", false),
            tc("source_ref", false),
            tc("observed_at", true),
            tc("field", false),
            tc("value", true),
        ],
    )?;
    for r in claims {
        for (field, value) in r.record.fields.iter() {
            t.push(vec![
                Cell::Text(r.source.to_string()),
                Cell::Text(r.kind.as_str().into()),
                Cell::Text(r.record.entity.as_str().into()),
                Cell::Text(r.record.source_ref.clone()),
                text(r.record.observed_at.as_deref()),
                Cell::Text(field.to_string()),
                text(value.render().as_deref()),
            ])?;
        }
    }
    out.push((path.display().to_string(), t.finish()?));
    Ok(out)
}
