//! The incident file loader (src/incident.rs), as if the text were samples/demo/incident.toml
//! (so its relative paths find the demo's files).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = common::repo("samples/demo/incident.toml");
    let _ = salvage::incident::Incident::parse(text, &path);
});
