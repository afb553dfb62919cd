//! The whole email importer on one file (compression and layout sniffed, split, parsed,
//! extracted with the demo's mapping, zones inferred; src/import/email/mod.rs), cap 64 KiB.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use salvage::import::email::mapping::Mapping;
use std::sync::OnceLock;

fn mapping() -> &'static Mapping {
    static M: OnceLock<Mapping> = OnceLock::new();
    M.get_or_init(|| {
        Mapping::load(Some(&common::mapping_path("email.toml"))).expect("the demo's email mapping")
    })
}

fuzz_target!(
    init: common::allow_caught_mail_parser_panics(),
    |data: &[u8]| {
        if let Ok(t) = salvage::fuzzing::mail_file(data, mapping(), 64 << 10) {
            let skipped: u64 = t.skipped.values().sum();
            assert_eq!(t.read, t.extracted + skipped, "messages read != extracted + skipped");
        }
    }
);
