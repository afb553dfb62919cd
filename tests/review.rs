//! The review round trip on the demo: `salvage review` writes the queue as a decisions
//! file, a script fills some of it in, a rerun applies it (queue shorter, decisions in
//! provenance as the `review` source), and writing the file again keeps the decided lines
//! and lists only what is still open.

use crate::util::*;

/// The demo's incident, with absolute paths, written into `d` (optionally with a
/// decisions file named).
fn incident(d: &Dir, decisions: bool) -> std::path::PathBuf {
    let demo = root().join("samples/demo");
    let text = std::fs::read_to_string(demo.join("incident.toml"))
        .unwrap()
        .replace("path = \"", &format!("path = \"{}/", demo.display()))
        .replace(
            "mapping = \"../../",
            &format!("mapping = \"{}/", root().display()),
        );
    let head = if decisions {
        "decisions = \"decisions.csv\"\n"
    } else {
        ""
    };
    d.write("incident.toml", &format!("{head}{text}"))
}

fn csv_rows(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rd = csv::Reader::from_path(path).unwrap();
    let headers = rd.headers().unwrap().clone();
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// `salvage review` of the run in `out/` into `decisions.csv`: what it said.
fn review(d: &Dir) -> String {
    let mut c = d.cmd();
    c.args([
        "review",
        "--recovered",
        "out/recovered.sqlite",
        "--decisions",
        "decisions.csv",
    ]);
    stdout(&ok(c))
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn decisions_round_trip() {
    let d = Dir::new();
    let inc = incident(&d, false);
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out", "--quiet"]);
    ok(c);
    let db = d.join("out/recovered.sqlite");
    let queued = count(&db, "SELECT count(*) FROM review_queue");
    let said = review(&d);
    assert!(
        said.contains(&format!("{queued} items to decide")),
        "{said}"
    );
    let rows = csv_rows(&d.join("decisions.csv"));
    assert_eq!(rows.len() as i64, queued);

    // A person (here a script) decides: accepts every orphan payment, rejects one
    // low-confidence row, keeps a value for the first conflict.
    let mut rows = rows;
    let mut decided = 0;
    let mut rejected = None;
    let mut kept = None;
    for r in rows.iter_mut() {
        let reason = r["reason"].clone();
        if reason == "orphan_payment" {
            r.insert("decision".into(), "accept".into());
        } else if reason == "low_confidence" && rejected.is_none() {
            r.insert("decision".into(), "reject".into());
            rejected = Some((r["table"].clone(), r["row_id"].clone()));
        } else if reason.starts_with("conflict:") && kept.is_none() {
            let value = if r["table"] == "payments" {
                "failed"
            } else {
                "cancelled"
            };
            r.insert("decision".into(), "keep".into());
            r.insert("value".into(), value.into());
            kept = Some((
                r["table"].clone(),
                r["row_id"].clone(),
                r["column"].clone(),
                value,
            ));
        } else {
            continue;
        }
        decided += 1;
    }
    assert!(
        decided >= 3 && rejected.is_some() && kept.is_some(),
        "the demo's queue has these reasons"
    );
    // And says of one customer, whom the mail also names, that one of its mail records
    // is someone else ("these are two").
    let customers_before = count(&db, "SELECT count(*) FROM customers");
    let (cust, record): (String, String) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT p.row_id, p.source_ref FROM provenance p JOIN customers c ON c.id = p.row_id \
             WHERE p.table_name = 'customers' AND p.source = 'email' AND c.sources LIKE '%backup%' \
             ORDER BY p.row_id, p.source_ref LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut apart = rows[0].clone();
    for v in apart.values_mut() {
        v.clear();
    }
    apart.insert("table".into(), "customers".into());
    apart.insert("row_id".into(), cust);
    apart.insert("decision".into(), "apart".into());
    apart.insert("record".into(), record);
    rows.push(apart);
    let mut w = csv::Writer::from_path(d.join("decisions.csv")).unwrap();
    w.write_record(rows[0].keys()).unwrap();
    for r in &rows {
        w.write_record(r.values()).unwrap();
    }
    w.flush().unwrap();
    drop(w);

    // The rerun applies them.
    let inc = incident(&d, true);
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out", "--quiet"]);
    let said = stdout(&ok(c));
    assert!(
        said.contains("review decisions:") && !said.contains("NOT applied"),
        "{said}"
    );
    assert!(said.contains("1 records linked apart"), "{said}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM customers"),
        customers_before + 1,
        "the record linked apart is a customer of its own"
    );
    let after = count(&db, "SELECT count(*) FROM review_queue");
    assert!(
        after <= queued - decided,
        "queue {queued} -> {after} after {decided} decisions"
    );
    let (t, id) = rejected.unwrap();
    assert_eq!(
        count(&db, &format!("SELECT count(*) FROM {t} WHERE id = '{id}'")),
        0,
        "rejected row gone"
    );
    let (t, id, col, value) = kept.unwrap();
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM {t} WHERE id = '{id}' AND {col} = '{value}'")
        ),
        1,
        "the kept value is in the table"
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM provenance WHERE table_name = '{t}' AND row_id = '{id}' AND column_name = '{col}' AND chosen = 1 AND source = 'review' AND value = '{value}'"
            )
        ),
        1,
        "the decision is the chosen provenance of the value"
    );
    assert_eq!(
        count(&db, &format!("SELECT count(*) FROM provenance WHERE table_name = '{t}' AND row_id = '{id}' AND column_name = '{col}' AND chosen = 1")),
        1,
        "one chosen value per column"
    );
    assert!(
        count(
            &db,
            "SELECT count(*) FROM provenance WHERE source = 'review'"
        ) >= decided
    );

    // Written again: the decided lines stay (the queue's and the apart line), only open
    // items are added, none twice.
    let lines = decided + 1;
    let said = review(&d);
    assert!(
        said.contains(&format!("{lines} decided lines kept")),
        "{said}"
    );
    let again = csv_rows(&d.join("decisions.csv"));
    assert_eq!(
        again.iter().filter(|r| !r["decision"].is_empty()).count() as i64,
        lines
    );
    assert_eq!(again.len() as i64, lines + after);
}

#[test]
fn a_decision_that_names_no_row_is_said() {
    let d = Dir::new();
    d.write(
        "decisions.csv",
        "table,row_id,reason,decision\npayments,no-such-row,low_confidence,accept\n",
    );
    let inc = incident(&d, true);
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out", "--quiet"]);
    let said = stdout(&ok(c));
    assert!(said.contains("1 NOT applied"), "{said}");
    // A file that cannot be read stops the run before anything is written.
    d.write(
        "decisions.csv",
        "table,row_id,reason,decision\npayments,x,y,perhaps\n",
    );
    let out = d
        .cmd()
        .arg("run")
        .arg(&inc)
        .args(["--out", "out2", "--quiet"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("decisions.csv") && err.contains("line 2"),
        "{err}"
    );
}
