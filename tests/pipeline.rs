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
    // The review queue points only at rows that exist, or says its row was not exported.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM review_queue q
             WHERE NOT EXISTS (SELECT 1 FROM businesses WHERE q.table_name = 'businesses' AND id = q.row_id)
               AND NOT EXISTS (SELECT 1 FROM customers WHERE q.table_name = 'customers' AND id = q.row_id)
               AND NOT EXISTS (SELECT 1 FROM reservations WHERE q.table_name = 'reservations' AND id = q.row_id)
               AND NOT EXISTS (SELECT 1 FROM payments WHERE q.table_name = 'payments' AND id = q.row_id)
               AND coalesce(json_extract(q.details, '$.row_exported'), 1) != 0"
        ),
        0,
        "review items of rows that are not exported say so"
    );
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
    assert!(ev["review"]["unqueued_right_share"].as_f64().unwrap() > 0.95);
    // The mapping's extras (attr.*) are exported, each with its source.
    let db = sqlite(&d.join("out/demo/recovered.sqlite"));
    let tz: String = db
        .query_row(
            "SELECT json_extract(extras, '$.timezone') FROM businesses WHERE id = '1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tz, "Europe/Berlin");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM businesses b WHERE json_extract(b.extras, '$.timezone') IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM provenance p WHERE p.table_name = 'businesses'
               AND p.row_id = b.id AND p.column_name = 'extras.timezone' AND p.chosen = 1
               AND p.value = json_extract(b.extras, '$.timezone'))"
        ),
        0,
        "every extra has its chosen provenance"
    );
    // `salvage export` again from the workspace keeps them.
    let mut c = d.cmd();
    c.args([
        "export",
        "--workspace",
        "out/demo/workspace",
        "--out",
        "again.sqlite",
    ]);
    ok(c);
    let again = sqlite(&d.join("again.sqlite"));
    let extras = |c: &rusqlite::Connection| -> Vec<Option<String>> {
        let mut st = c
            .prepare("SELECT extras FROM customers ORDER BY id")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    assert_eq!(extras(&db), extras(&again));
    assert!(extras(&db).iter().any(|e| e.is_some()));
    // The report again, from the workspace the run left (no second copy of
    // recovered.sqlite in it), now with the truth: the reliability diagram.
    assert!(!d.join("out/demo/workspace/merged.sqlite").exists());
    let mut c = d.cmd();
    c.args([
        "report",
        "--workspace",
        "out/demo/workspace",
        "--out",
        "again",
        "--truth",
    ])
    .arg(root().join("samples/demo/truth.sqlite"));
    ok(c);
    let html = std::fs::read_to_string(d.join("again/report.html")).unwrap();
    assert!(html.contains("Reliability against the truth") && html.contains("<circle"));
    assert!(html.contains("Confidence per table and source") && html.contains("<rect"));
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

/// Damaged inputs: a dump cut off in the middle of a COPY block, a broken message in the
/// mail archive, a bad row in a Stripe export. Each is counted with its file and position;
/// the run goes on and rebuilds from everything else.
#[test]
fn damaged_inputs_are_counted_not_fatal() {
    let d = Dir::new();
    let demo = root().join("samples/demo");
    let inc = d.join("inc");
    copy_dir(&demo, &inc);
    // Cut the dump in the middle of the charges' COPY block (line 1000 of 1,600).
    let sql = std::fs::read_to_string(inc.join("backup/app.sql")).unwrap();
    let cut: String = sql.lines().take(1000).map(|l| format!("{l}\n")).collect();
    std::fs::write(inc.join("backup/app.sql"), cut).unwrap();
    // A message with a broken MIME structure and binary junk at the end of the archive.
    let mut mbox = std::fs::read(inc.join("mail/app.mbox")).unwrap();
    mbox.extend_from_slice(
        b"From junk@example.com Mon Jan  1 00:00:00 2026\nContent-Type: multipart/mixed; boundary=\"x\"\nSubject: =?utf-8?b?broken\n\n--x\nContent-Type: text/plain\n\n\x00\xff\xfe garbage\n",
    );
    std::fs::write(inc.join("mail/app.mbox"), mbox).unwrap();
    // A bad row in one Dashboard export.
    let exports = inc.join("stripe/exports");
    let acct = std::fs::read_dir(&exports)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let csv = acct.join("unified_payments.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("ch_broken,\"not a date\",not money\n");
    std::fs::write(&csv, text).unwrap();
    let incident = std::fs::read_to_string(inc.join("incident.toml"))
        .unwrap()
        .replace(
            "../../mappings/",
            &format!("{}/mappings/", root().display()),
        );
    std::fs::write(inc.join("incident.toml"), incident).unwrap();

    let mut c = d.cmd();
    c.arg("run")
        .arg(inc.join("incident.toml"))
        .args(["--out", "out", "--quiet"]);
    ok(c);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    let skipped = report["skipped"].as_array().unwrap();
    let find = |source: &str, pred: &dyn Fn(&str) -> bool| {
        skipped.iter().any(|g| {
            g["source"] == source
                && g["examples"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| pred(e["location"].as_str().unwrap()))
        })
    };
    assert!(
        find("nightly-backup", &|l| l.contains("app.sql:")),
        "{skipped:#?}"
    );
    assert!(
        find("stripe", &|l| l.contains("unified_payments.csv:")),
        "{skipped:#?}"
    );
    let end = std::fs::metadata(demo.join("mail/app.mbox")).unwrap().len();
    assert!(
        find("mail-archive", &|l| l
            .rsplit_once('@')
            .and_then(|(_, off)| off.parse::<u64>().ok())
            .is_some_and(|off| off >= end)),
        "the junk message at the end is counted: {skipped:#?}"
    );
    let db = sqlite(&d.join("out/recovered.sqlite"));
    assert!(count(&db, "SELECT count(*) FROM payments") > 500);
    assert!(count(&db, "SELECT count(*) FROM businesses") >= 12);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Real apps soft-delete parents that still own rows (a demo tenant with its customers,
/// bookings and payments) and merge duplicate customers into a survivor. The run completes,
/// nothing of the deleted tenant comes back, the merged customer's payment follows the
/// survivor, and the file passes SQLite's own foreign-key check.
#[test]
fn deleted_parents_with_live_children_keep_referential_integrity() {
    let d = Dir::new();
    d.write(
        "backup/tenants.csv",
        "id,name,currency,is_demo,deleted_at\n1,Reef Divers,EUR,false,\n2,Demo Dive Co,EUR,true,\n3,Test shop,EUR,false,2025-12-01 10:00:00+00\n",
    );
    d.write(
        "backup/people.csv",
        "id,tenant,email,merged_into,notes,deleted_at\n\
         10,1,ann@x.org,,,\n\
         11,1,ann@gmial.com,10,,2025-11-01 10:00:00+00\n\
         12,1,bob@x.org,,merged into #10,2025-11-02 10:00:00+00\n\
         20,2,demo@x.org,,,\n\
         30,3,test@x.org,,,\n",
    );
    d.write(
        "backup/bookings.csv",
        "id,tenant,person,code,status,starts_at,total\n\
         100,1,10,KL-100,booked,2026-02-01 09:00:00+00,50.00\n\
         200,2,20,KL-200,booked,2026-02-01 09:00:00+00,1.00\n\
         300,3,30,KL-300,booked,2026-02-01 09:00:00+00,1.00\n",
    );
    d.write(
        "backup/payments.csv",
        "id,tenant,person,booking,pi,amount,currency,status\n\
         1000,1,11,100,pi_1,50.00,EUR,captured\n\
         1001,1,12,100,pi_2,10.00,EUR,captured\n\
         2000,2,20,200,pi_3,1.00,EUR,captured\n\
         3000,3,30,300,pi_4,1.00,EUR,captured\n",
    );
    let m = d.write(
        "backup.toml",
        r#"
timestamps = "utc"
[business]
table = "tenants"
id = "id"
deleted_column = ["is_demo", "deleted_at"]
[business.fields]
name = "name"
"attr.currency" = "currency"

[customer]
table = "people"
id = "id"
deleted_column = "deleted_at"
merged_into_column = "merged_into"
merged_into_note = { column = "notes", pattern = 'merged into #(?P<id>[0-9]+)' }
[customer.fields]
business_id = "tenant"
email = "email"

[reservation]
table = "bookings"
id = "id"
money_unit = "major"
currency_from_business = "currency"
[reservation.fields]
business_id = "tenant"
customer_id = "person"
reference = "code"
status = "status"
starts_at = "starts_at"
amount = "total"
[reservation.status]
booked = "confirmed"

[payment]
table = "payments"
id = "id"
money_unit = "major"
currency_column = "currency"
[payment.fields]
business_id = "tenant"
customer_id = "person"
reservation_id = "booking"
processor_id = "pi"
amount = "amount"
status = "status"
[payment.status]
captured = "succeeded"
"#,
    );
    let f = d.write(
        "incident.toml",
        &format!(
            "incident_at = '2026-04-25T10:00:00Z'\n[[sources]]\nname = 'db'\nkind = 'backup'\npath = 'backup'\nmapping = '{}'\nsnapshot_at = '2026-01-24T03:00:00Z'\n",
            m.display()
        ),
    );
    let mut c = d.cmd();
    c.arg("run").arg(&f).args(["--out", "out", "--quiet"]);
    ok(c);
    let db = sqlite(&d.join("out/recovered.sqlite"));
    let ids = |sql: &str| -> Vec<String> {
        let mut st = db.prepare(sql).unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    assert_eq!(ids("SELECT id FROM businesses ORDER BY id"), ["1"]);
    assert_eq!(ids("SELECT id FROM customers ORDER BY id"), ["10"]);
    assert_eq!(ids("SELECT id FROM reservations ORDER BY id"), ["100"]);
    assert_eq!(
        ids("SELECT id || ':' || customer_id || ':' || currency FROM payments ORDER BY id"),
        ["1000:10:eur", "1001:10:eur"],
        "merged customers' payments follow the survivor (by column and by note)"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM pragma_foreign_key_check"),
        0,
        "every reference resolves"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM review_queue WHERE reason = 'deleted_parent:business_id'"
        ),
        6,
        "the deleted tenants' customers, bookings and payments are in review"
    );
}
