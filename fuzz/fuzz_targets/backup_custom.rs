//! pg_dump custom archives (PGDMP), the native reader: its SQL through the plain reader,
//! then the backup importer with the demo's mapping (src/import/backup/archive.rs).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (m, p) = common::backup_mapping();
    if let Ok(sink) = salvage::fuzzing::backup_custom(data, m, p) {
        // Every skipped input names its file and line.
        for s in &sink.skips {
            assert!(
                s.location.starts_with("app.dump[sql]:"),
                "a skip without its place: {s:?}"
            );
        }
    }
});
