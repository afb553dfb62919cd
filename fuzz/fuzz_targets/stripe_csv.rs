//! A Stripe Dashboard CSV export (payments, or customers when the header says so) through
//! the Stripe importer with the demo's mapping (src/import/stripe/dashboard.rs).
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
    // The file name is part of how an export is recognised: both names are tried.
    let m = mapping();
    let _ = salvage::fuzzing::stripe_file(data, "unified_payments.csv", m);
    let _ = salvage::fuzzing::stripe_file(data, "unified_customers.csv", m);
});
