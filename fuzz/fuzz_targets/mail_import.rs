//! The whole email importer on one file (compression and layout sniffed, split, parsed,
//! extracted with the demo's mapping, zones inferred; src/import/email/mod.rs), cap 64 KiB.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: common::allow_caught_mail_parser_panics(),
    |data: &[u8]| {
        if let Ok(t) = salvage::fuzzing::mail_file(data, common::email_mapping(), 64 << 10) {
            let skipped: u64 = t.skipped.values().sum();
            assert_eq!(t.read, t.extracted + skipped, "messages read != extracted + skipped");
        }
    }
);
