//! A saved Stripe API list page (or one object) through the Stripe importer with the demo's
//! mapping (src/import/stripe/mod.rs, objects.rs).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sink) =
        salvage::fuzzing::stripe_file(data, "page-0001.json", common::stripe_mapping())
    {
        for s in &sink.skips {
            assert!(!s.location.is_empty(), "a skip without its place: {s:?}");
        }
    }
});
