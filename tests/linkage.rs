//! Linkage on the standard benchmark: FEBRL through the ordinary CSV path (a mapping and
//! an incident's `[linkage.customer]`, no Rust), scored pairwise from the exported file,
//! and `salvage explain` showing the weights of a similarity join.

use crate::util::*;

/// FEBRL lives in the shared material beside the clone (`../shared/data/febrl`); a clone
/// without it skips these tests, saying so.
fn have_febrl() -> bool {
    let ok = root().join("../shared/data/febrl/dataset4a.csv").exists();
    if !ok {
        eprintln!("skipped: ../shared/data/febrl is not beside this clone");
    }
    ok
}

fn febrl(name: &str) -> (Dir, serde_json::Value) {
    let d = Dir::new();
    let inc = root().join(format!("mappings/examples/febrl/{name}.incident.toml"));
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out", "--quiet"]);
    ok(c);
    let mut c = d.cmd();
    c.args([
        "evaluate",
        "--recovered",
        "out/recovered.sqlite",
        "--pairs",
        "customers",
        "--truth-ref",
        r"rec-(\d+)",
        "--json",
        "pairs.json",
    ]);
    ok(c);
    let v = serde_json::from_str(&std::fs::read_to_string(d.join("pairs.json")).unwrap()).unwrap();
    (d, v)
}

#[test]
fn febrl4_links_a_to_b_above_splink() {
    if !have_febrl() {
        return;
    }
    let (d, v) = febrl("febrl4");
    // Splink 5 with a standard setup: F1 0.9991.
    assert!(v["f1"].as_f64().unwrap() > 0.999, "{v}");
    // Every similarity join is explained, comparison by comparison.
    let db = sqlite(&d.join("out/recovered.sqlite"));
    let joins = count(
        &db,
        "SELECT count(*) FROM record_links WHERE kind = 'similarity'",
    );
    assert!(joins >= 4990, "{joins} similarity joins");
    let (row, record): (String, String) = db
        .query_row(
            "SELECT row_id, record FROM record_links ORDER BY probability LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut c = d.cmd();
    c.args([
        "explain",
        "customers",
        &row,
        "--recovered",
        "out/recovered.sqlite",
    ]);
    let text = stdout(&ok(c));
    assert!(
        text.contains(&record),
        "explain names the joined record:\n{text}"
    );
    assert!(
        text.contains("attr.surname"),
        "explain shows the comparisons:\n{text}"
    );
}

#[test]
fn febrl3_dedupes_above_splink() {
    if !have_febrl() {
        return;
    }
    let (_d, v) = febrl("febrl3");
    // Splink 5 with a standard setup: F1 0.9925.
    assert!(v["f1"].as_f64().unwrap() > 0.995, "{v}");
}
