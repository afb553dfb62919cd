//! A directory of CSV files as a backup: one file per table (`people.csv` is table
//! `people`), a header row naming the columns. An empty field (or `\N`) is NULL.

use super::source::{Row, Summary, Visitor};
use crate::claims::Skip;
use crate::error::{Error, Result};
use crate::util::walk;
use std::path::{Path, PathBuf};

/// The `.csv` files of `dir` (regular files, symbolic links followed), sorted, and the
/// entries left out (a FIFO, a dangling link: see [`crate::util::walk`]) as skips.
pub fn csv_files(dir: &Path) -> (Vec<PathBuf>, Vec<Skip>) {
    let mut w = walk::Walker::new();
    let files = w
        .list(dir)
        .into_iter()
        .filter(|e| e.kind == walk::Kind::File)
        .map(|e| e.path)
        .filter(|p| is_csv(p))
        .collect();
    let skips = w
        .take_skipped()
        .into_iter()
        .map(|s| Skip {
            location: s
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| s.path.display().to_string()),
            kind: walk::UNREADABLE_ENTRY.into(),
            reason: s.reason,
        })
        .collect();
    (files, skips)
}

fn is_csv(p: &Path) -> bool {
    p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv"))
}

pub fn scan(dir: &Path, summary: &mut Summary, v: &mut dyn Visitor) -> Result<()> {
    let (files, left_out) = csv_files(dir);
    for s in left_out {
        v.skip(None, s)?;
    }
    for path in files {
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = path
            .file_stem()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let f = match crate::util::fsx::open_input(&path) {
            Ok(f) => f,
            // One table's file of many: a skip, the other tables are read.
            Err(e) => {
                v.skip(
                    None,
                    Skip {
                        location: label,
                        kind: walk::UNREADABLE_ENTRY.into(),
                        reason: format!("table {table} not read: {e}"),
                    },
                )?;
                continue;
            }
        };
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

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn odd_entries_are_skips_and_never_opened() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::write(p.join("people.csv"), "id\n1\n").unwrap();
        std::fs::write(p.join("notes.txt"), "x").unwrap();
        let fifo =
            std::ffi::CString::new(p.join("orders.csv").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        std::os::unix::fs::symlink(p.join("gone.csv"), p.join("lost.csv")).unwrap();
        let (files, skips) = super::csv_files(p);
        assert_eq!(files, vec![p.join("people.csv")]);
        let mut locs: Vec<&str> = skips.iter().map(|s| s.location.as_str()).collect();
        locs.sort();
        assert_eq!(locs, ["lost.csv", "orders.csv"], "{skips:?}");
        assert!(skips.iter().all(|s| s.kind == "unreadable_entry"));
    }
}
