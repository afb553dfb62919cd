//! The whole pipeline on generated incidents, as a user runs it.

use crate::util::*;

/// Generated incident -> run -> the contract file, scored against the truth.
fn run_and_score(flavour: &str, seed: u64) {
    let d = Dir::new();
    let inc = generate(&d, "inc", flavour, 6, seed);
    let mut c = d.cmd();
    c.arg("run")
        .arg(inc.join("incident.toml"))
        .args(["--out", "out", "--quiet"]);
    let o = ok(c);
    let text = stdout(&o);
    assert!(text.contains("review queue"), "{text}");
    let rec = d.join("out/recovered.sqlite");
    let db = sqlite(&rec);
    for t in ["businesses", "customers", "reservations", "payments"] {
        assert!(
            count(&db, &format!("SELECT count(*) FROM {t}")) > 0,
            "{t} is empty"
        );
        assert_eq!(
            count(
                &db,
                &format!("SELECT count(*) FROM {t} WHERE confidence IS NULL OR sources = ''")
            ),
            0,
            "{t}: every row carries confidence and sources"
        );
    }
    // Every exported value has a source: a chosen provenance row for each non-null cell.
    for (t, cols) in [
        ("businesses", &["name", "email", "stripe_account"][..]),
        (
            "customers",
            &["business_id", "name", "email", "phone", "created_at"][..],
        ),
        (
            "reservations",
            &[
                "business_id",
                "customer_id",
                "reference",
                "status",
                "starts_at",
                "currency",
            ][..],
        ),
        (
            "payments",
            &[
                "business_id",
                "reservation_id",
                "processor",
                "amount",
                "status",
                "currency",
            ][..],
        ),
    ] {
        for c in cols {
            let orphans = count(
                &db,
                &format!(
                    "SELECT count(*) FROM {t} r WHERE r.{c} IS NOT NULL AND NOT EXISTS \
                     (SELECT 1 FROM provenance p WHERE p.table_name = '{t}' AND p.row_id = r.id \
                      AND p.column_name = '{c}' AND p.chosen = 1)"
                ),
            );
            assert_eq!(
                orphans, 0,
                "{t}.{c}: values without a chosen provenance row"
            );
        }
    }
    assert!(d.join("out/report.html").is_file() && d.join("out/report.json").is_file());

    let mut c = d.cmd();
    c.args(["evaluate", "--truth"])
        .arg(inc.join("truth.sqlite"))
        .arg("--recovered")
        .arg(&rec)
        .args(["--json", "eval.json"]);
    ok(c);
    let ev: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("eval.json")).unwrap()).unwrap();
    for t in ev["tables"].as_array().unwrap() {
        let f1 = t["f1"].as_f64().unwrap();
        eprintln!("{flavour} seed {seed}: {} F1 {f1:.3}", t["table"]);
        assert!(f1 >= 0.85, "{flavour}: {} F1 {f1} too low", t["table"]);
    }
}

#[test]
fn bookly_incident_rebuilds() {
    run_and_score("bookly", 11);
}

#[test]
fn tablehop_incident_rebuilds() {
    run_and_score("tablehop", 12);
}

/// Two runs on the same inputs give identical tables, ids and confidences.
#[test]
fn two_runs_give_identical_tables() {
    let d = Dir::new();
    let inc = generate(&d, "inc", "bookly", 4, 3);
    for out in ["a", "b"] {
        let mut c = d.cmd();
        c.arg("run")
            .arg(inc.join("incident.toml"))
            .args(["--out", out, "--quiet"]);
        ok(c);
    }
    let dump = |p: &str| {
        let db = sqlite(&d.join(p).join("recovered.sqlite"));
        let mut all = Vec::new();
        for t in [
            "businesses",
            "customers",
            "reservations",
            "payments",
            "provenance",
            "review_queue",
        ] {
            let mut st = db
                .prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2, 3"))
                .unwrap();
            let n = st.column_count();
            let rows = st
                .query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            r.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            for r in rows {
                all.push(format!("{t}: {}", r.unwrap().join("|")));
            }
        }
        all
    };
    let (a, b) = (dump("a"), dump("b"));
    assert!(a.len() > 100);
    assert_eq!(a, b);
}

/// Importing the same incident twice adds nothing.
#[test]
fn reimport_is_idempotent() {
    let d = Dir::new();
    let inc = generate(&d, "inc", "bookly", 3, 5);
    let import = |force: bool| {
        let mut c = d.cmd();
        c.arg("import")
            .arg(inc.join("incident.toml"))
            .args(["--workspace", "ws", "--quiet"]);
        if force {
            c.arg("--force");
        }
        stdout(&ok(c))
    };
    let first = import(false);
    assert!(first.contains("imported"), "{first}");
    let second = import(false);
    assert!(second.contains("unchanged"), "{second}");
    let third = import(true);
    assert_eq!(
        first
            .lines()
            .filter(|l| l.starts_with("imported"))
            .collect::<Vec<_>>(),
        third
            .lines()
            .filter(|l| l.starts_with("imported"))
            .collect::<Vec<_>>()
    );
    let ws = sqlite(&d.join("ws/workspace.sqlite"));
    let n = count(&ws, "SELECT count(*) FROM records");
    let distinct = count(
        &ws,
        "SELECT count(*) FROM (SELECT DISTINCT source, entity, source_ref FROM records)",
    );
    assert_eq!(n, distinct);
}

/// The README's first command, on the committed demo incident.
#[test]
fn the_demo_from_the_readme() {
    let d = Dir::new();
    let inc = root().join("samples/demo/incident.toml");
    let mut c = d.cmd();
    c.arg("run")
        .arg(&inc)
        .args(["--out", "out/demo", "--quiet"]);
    let text = stdout(&ok(c));
    for t in [
        "businesses",
        "customers",
        "reservations",
        "payments",
        "review queue",
    ] {
        assert!(text.contains(t), "summary lacks {t}:\n{text}");
    }
    let mut c = d.cmd();
    c.args(["evaluate", "--truth"])
        .arg(root().join("samples/demo/truth.sqlite"))
        .args([
            "--recovered",
            "out/demo/recovered.sqlite",
            "--json",
            "eval.json",
        ]);
    ok(c);
    let ev: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("eval.json")).unwrap()).unwrap();
    for t in ev["tables"].as_array().unwrap() {
        // Payments: the cash payments taken after the backup are in no source at all.
        let floor = if t["table"] == "payments" { 0.9 } else { 0.95 };
        assert!(t["f1"].as_f64().unwrap() >= floor, "{t}");
    }
    assert!(ev["calibration"]["ece"].as_f64().unwrap() < 0.05);
    // The demo's inputs are read, never written.
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain", "samples/demo"])
        .current_dir(root())
        .output();
    if let Ok(s) = status {
        assert!(
            s.stdout.is_empty(),
            "the run changed samples/demo: {}",
            String::from_utf8_lossy(&s.stdout)
        );
    }
}
