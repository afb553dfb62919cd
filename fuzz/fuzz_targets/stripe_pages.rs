//! A saved Stripe API list page (or one object) through the Stripe importer with the demo's
//! mapping (src/import/stripe/mod.rs, objects.rs).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use salvage::import::stripe::mapping::Mapping;
use std::sync::OnceLock;

fn mapping() -> &'static Mapping {
    static M: OnceLock<Mapping> = OnceLock::new();
    M.get_or_init(|| {
        Mapping::load(&common::mapping_path("stripe.toml")).expect("the demo's stripe mapping")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(sink) = salvage::fuzzing::stripe_file(data, "page-0001.json", mapping()) {
        for s in &sink.skips {
            assert!(!s.location.is_empty(), "a skip without its place: {s:?}");
        }
    }
});
