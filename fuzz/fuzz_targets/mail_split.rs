//! The mail archive splitters (src/import/email/mbox.rs, mmdf.rs, babyl.rs): each reader on
//! the same bytes, with a small size cap so that `too_big_email` is reached too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage::fuzzing::{mail_entries, MailLayout};
use salvage::import::email::mbox::Entry;

const CAP: u64 = 4096;

fuzz_target!(|data: &[u8]| {
    for layout in [MailLayout::Mbox, MailLayout::Mmdf, MailLayout::Babyl] {
        let items = mail_entries(layout, data, CAP);
        // Every entry takes at least one byte of the input.
        assert!(
            items.len() <= data.len() + 1,
            "{layout:?}: {} entries",
            items.len()
        );
        let mut last = None;
        for it in &items {
            assert!(
                it.offset <= data.len() as u64,
                "{layout:?}: offset past the end"
            );
            assert!(
                last.is_none_or(|l| it.offset > l),
                "{layout:?}: offsets not increasing"
            );
            last = Some(it.offset);
            if let Entry::Message(b) = &it.entry {
                assert!(b.len() as u64 <= CAP, "{layout:?}: a message over the cap");
                assert!(
                    b.len() <= data.len(),
                    "{layout:?}: a message longer than the input"
                );
            }
        }
    }
});
