//! The stripe mapping loader (`mappings/<app>/stripe.toml`): any text, parsed and compiled.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The loader reads files as UTF-8 (fsx::read_text); other bytes never reach it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = common::mapping_path("stripe.toml");
    let _ = salvage::import::stripe::mapping::Mapping::parse(text, &path);
});
