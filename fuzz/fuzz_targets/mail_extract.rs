//! One message through MIME parsing and the template extraction with the demo's email
//! mapping (src/import/email/extract.rs, html.rs), as the importer processes each message.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use salvage::import::email::extract::{process_with, RawMessage};

fuzz_target!(
    init: common::allow_caught_mail_parser_panics(),
    |data: &[u8]| {
        let parser = mail_parser::MessageParser::default();
        let raw = RawMessage {
            location: "fuzz.eml@0".into(),
            bytes: data.to_vec(),
        };
        let _ = process_with(&raw, common::email_mapping(), &parser);
    }
);
