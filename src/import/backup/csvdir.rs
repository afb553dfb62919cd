//! A directory of CSV files as a backup: one file per table (`people.csv` is table
//! `people`), a header row naming the columns. An empty field (or `\N`) is NULL.

use super::source::{Row, Summary, Visitor};
use crate::claims::Skip;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub fn scan(dir: &Path, summary: &mut Summary, v: &mut dyn Visitor) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::read(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
        .collect();
    files.sort();
    for path in files {
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = path
            .file_stem()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let f = crate::util::fsx::open_input(&path)?;
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(std::io::BufReader::with_capacity(1 << 16, f));
        let cols: Vec<String> = rd
            .headers()
            .map_err(|e| Error::input(&path, format!("cannot read the CSV header row: {e}")))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        summary.set_columns(&table, &cols);
        summary.table_mut(&table).data_at = Some(format!("{label}:2"));
        let wanted = v.wants(&table);
        let mut rec = csv::ByteRecord::new();
        let mut last_pos = 0u64;
        let mut n = 0u64;
        loop {
            match rd.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    v.skip(
                        Some(&table),
                        Skip {
                            location: format!("{label}:{line}"),
                            kind: "bad_row".into(),
                            reason: format!("unreadable CSV row: {e}"),
                        },
                    )?;
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                    continue;
                }
            }
            let pos = rec
                .position()
                .map(|p| (p.line(), p.byte()))
                .unwrap_or((0, 0));
            v.progress(pos.1.saturating_sub(last_pos));
            last_pos = pos.1;
            let loc = format!("{label}:{}", pos.0);
            if rec.len() != cols.len() {
                v.skip(
                    Some(&table),
                    Skip {
                        location: loc,
                        kind: "bad_row".into(),
                        reason: format!(
                            "{} fields where the header names {} columns",
                            rec.len(),
                            cols.len()
                        ),
                    },
                )?;
                continue;
            }
            n += 1;
            if !wanted {
                continue;
            }
            let values = rec
                .iter()
                .map(|f| {
                    if f.is_empty() || f == b"\\N" {
                        None
                    } else {
                        Some(String::from_utf8_lossy(f).into_owned())
                    }
                })
                .collect();
            v.row(Row {
                table: &table,
                columns: &cols,
                values,
                location: loc,
            })?;
        }
        summary.table_mut(&table).rows += n;
    }
    Ok(())
}
