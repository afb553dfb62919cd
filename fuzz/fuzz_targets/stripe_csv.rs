//! A Stripe Dashboard CSV export (payments, or customers when the header says so) through
//! the Stripe importer with the demo's mapping (src/import/stripe/dashboard.rs).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The file name is part of how an export is recognised: both names are tried.
    let m = common::stripe_mapping();
    let _ = salvage::fuzzing::stripe_file(data, "unified_payments.csv", m);
    let _ = salvage::fuzzing::stripe_file(data, "unified_customers.csv", m);
});
