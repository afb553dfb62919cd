//! What the targets share: the repository's files, the mappings they read with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A path in the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The bundled demo's mapping file `mappings/bookly/<name>` (as the demo's incident uses it).
pub fn mapping_path(name: &str) -> PathBuf {
    repo(&format!("mappings/bookly/{name}"))
}

/// The demo's backup mapping, loaded once, with its path.
pub fn backup_mapping() -> &'static (salvage::import::backup::mapping::Mapping, PathBuf) {
    use salvage::import::backup::mapping::Mapping;
    static M: OnceLock<(Mapping, PathBuf)> = OnceLock::new();
    M.get_or_init(|| {
        let p = mapping_path("backup.toml");
        (Mapping::load(&p).expect("the demo's backup mapping"), p)
    })
}

/// The demo's email mapping, loaded once.
pub fn email_mapping() -> &'static salvage::import::email::mapping::Mapping {
    use salvage::import::email::mapping::Mapping;
    static M: OnceLock<Mapping> = OnceLock::new();
    M.get_or_init(|| {
        Mapping::load(Some(&mapping_path("email.toml"))).expect("the demo's email mapping")
    })
}

/// The demo's Stripe mapping, loaded once.
pub fn stripe_mapping() -> &'static salvage::import::stripe::mapping::Mapping {
    use salvage::import::stripe::mapping::Mapping;
    static M: OnceLock<Mapping> = OnceLock::new();
    M.get_or_init(|| {
        Mapping::load(&mapping_path("stripe.toml")).expect("the demo's stripe mapping")
    })
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
