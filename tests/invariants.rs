//! Rules about the code itself that a reviewer would otherwise have to remember.

use crate::util::root;

/// Nothing about a sample app may live in the importers, the merge or the exporters: a
/// company whose app differs from every sample must succeed with mapping files alone.
#[test]
fn no_sample_app_in_the_engine() {
    let words = [
        "bookly",
        "tablehop",
        "shops",
        "clients",
        "appointments",
        "appt_status",
        "venues",
        "guests",
        "booking_ref",
        "client_id",
        "shop_id",
        "guest_id",
        "venue_id",
        "reservation_code",
        "BK-",
        "TH4",
        "kelpie",
        "Kelpie",
        "merged_into_id",
        "is_demo",
    ];
    let mut bad = Vec::new();
    for dir in [
        "src/import",
        "src/merge",
        "src/export",
        "src/report",
        "src/claims",
    ] {
        let mut stack = vec![root().join(dir)];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
                continue;
            }
            if p.file_name().is_some_and(|n| n == "tests.rs") {
                continue; // a unit-test module of its own
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // Unit tests may use sample-looking data; the rule is about the code.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for w in words {
                if code.contains(w) {
                    bad.push(format!("{}: {w:?}", p.display()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "sample-app words in the engine:\n{}",
        bad.join("\n")
    );
}
