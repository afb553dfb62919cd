//! pg_dump plain SQL (COPY and INSERT forms, gzip too): the plain reader on every table,
//! then the backup importer with the demo's mapping (src/import/backup/sql.rs, convert.rs).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (m, p) = common::backup_mapping();
    if let Ok(sink) = salvage::fuzzing::backup_plain(data, m, p) {
        // Every skipped input names its file and line.
        for s in &sink.skips {
            assert!(
                s.location.starts_with("app.sql:"),
                "a skip without its place: {s:?}"
            );
        }
    }
});
