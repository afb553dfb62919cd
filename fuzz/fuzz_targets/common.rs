//! What the targets share: the repository's files, the mappings they read with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A path in the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The bundled demo's mapping file `mappings/bookly/<name>` (as the demo's incident uses it).
pub fn mapping_path(name: &str) -> PathBuf {
    repo(&format!("mappings/bookly/{name}"))
}

pub fn mapping_text(name: &str) -> String {
    std::fs::read_to_string(mapping_path(name)).expect("the bundled mapping")
}

/// The email importer catches a panic of the MIME parser (mail-parser) and counts the
/// message as `unreadable_email` (`extract::process`): that is handled, not a crash. The
/// fuzzer's panic hook aborts on every panic, caught or not, so this hook lets panics raised
/// inside mail-parser through (each place named once on stderr) and aborts on any other.
pub fn allow_caught_mail_parser_panics() {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let abort_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if place.contains("/mail-parser-") {
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            if seen.get_or_insert_with(HashSet::new).insert(place.clone()) {
                eprintln!(
                    "note: caught panic in mail-parser at {place} (an unreadable_email skip)"
                );
            }
            return;
        }
        abort_hook(info);
    }));
}
