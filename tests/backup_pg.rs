//! Real PostgreSQL round trip of the backup renderer and importer: a rendered dump restores
//! with psql, real pg_dump prints exactly what our writer wrote, and the importer reads the
//! same records from plain, --inserts, --column-inserts (multi-row) and custom-format dumps.
//! Skipped (with a message) when no PostgreSQL server binaries are installed.

use salvage::claims::{Record, VecSink};
use salvage::import::backup::{import_input, mapping::Mapping, Input};
use salvage::samples::backup::{dump_text, render_with, PgBins, TempCluster};
use salvage::samples::simulate::simulate;
use salvage::samples::world::Flavour;
use std::path::{Path, PathBuf};

fn import(input: &Input, flavour: &str) -> VecSink {
    import_at(input, flavour, Some("2026-08-22T03:00:00Z"))
}

fn import_at(input: &Input, flavour: &str, snapshot: Option<&str>) -> VecSink {
    let mp = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mappings")
        .join(flavour)
        .join("backup.toml");
    let m = Mapping::load(&mp).unwrap();
    let mut sink = VecSink::default();
    import_input(
        input,
        &m,
        &mp,
        snapshot,
        "backup",
        Path::new("incident.toml"),
        &indicatif::ProgressBar::hidden(),
        &mut sink,
    )
    .unwrap_or_else(|e| panic!("{flavour} {input:?}: {e}"));
    sink
}

fn sorted(mut v: Vec<Record>) -> Vec<Record> {
    v.sort_by(|a, b| a.source_ref.cmp(&b.source_ref));
    v
}

/// The text without the random `\restrict` key lines, with the rows of each COPY block
/// sorted (the server prints rows in its physical order, which is not always load order).
fn normalized(s: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut block: Option<Vec<String>> = None;
    for l in s.lines() {
        if l.starts_with("\\restrict ")
            || l.starts_with("\\unrestrict ")
            || l.starts_with("-- Dumped from database version")
            || l.starts_with("-- Dumped by pg_dump version")
        {
            continue;
        }
        if let Some(b) = block.as_mut() {
            if l == "\\." {
                b.sort();
                out.append(b);
                block = None;
                out.push(l.to_string());
            } else {
                b.push(l.to_string());
            }
            continue;
        }
        if l.starts_with("COPY ") {
            block = Some(Vec::new());
        }
        out.push(l.to_string());
    }
    out.join("\n")
}

/// Only the COPY blocks of a normalized dump (for servers other than PostgreSQL 15, whose
/// pg_dump prints the schema part a little differently).
fn copy_blocks(s: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for l in s.lines() {
        if l.starts_with("COPY ") {
            inside = true;
        }
        if inside {
            out.push(l);
        }
        if l == "\\." {
            inside = false;
        }
    }
    out.join("\n")
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n ours: {x:?}\n real: {y:?}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

fn check_flavour(cluster: &TempCluster, dir: &Path, flavour: Flavour, db: &str, owner: &str) {
    let w = simulate(3, 11, flavour);
    let out = dir.join(flavour.name());
    render_with(&w, &out, false).unwrap();
    let ours = out.join("backup/app.sql");
    cluster
        .restore(db, owner, &ours)
        .unwrap_or_else(|e| panic!("psql could not restore our {} dump: {e}", flavour.name()));

    let dump = |name: &str, args: &[&str]| -> PathBuf {
        let p = out.join(name);
        cluster.dump(db, args, &p).unwrap();
        p
    };
    let plain = dump("plain.sql", &[]);
    let inserts = dump("inserts.sql", &["--inserts"]);
    let column_inserts = dump(
        "column_inserts.sql",
        &["--column-inserts", "--rows-per-insert=3"],
    );
    let custom = dump("custom.dump", &["-Fc"]);

    let real = std::fs::read_to_string(&plain).unwrap();
    let mine = dump_text(&w);
    let (mut a, mut b) = (normalized(&mine), normalized(&real));
    if !real.contains("-- Dumped by pg_dump version 15.") {
        // Another major version: its schema text differs a little; the data must not.
        a = copy_blocks(&a);
        b = copy_blocks(&b);
    }
    assert!(
        a == b,
        "{}: our dump differs from real pg_dump: {}",
        flavour.name(),
        first_difference(&a, &b)
    );

    // render_with(real_pg = true) replaces our file with the real pg_dump output.
    let real_out = out.join("real");
    render_with(&w, &real_out, true).unwrap();
    let rendered_real = std::fs::read_to_string(real_out.join("backup/app.sql")).unwrap();
    assert_eq!(
        normalized(&rendered_real),
        normalized(&real),
        "{}",
        flavour.name()
    );
    assert_ne!(
        rendered_real, mine,
        "the round trip did not replace our file"
    );

    let name = flavour.name();
    let base = import(&Input::Plain(ours.clone()), name);
    assert!(
        base.records.len() > 20,
        "{name}: only {} records",
        base.records.len()
    );
    assert!(
        base.skips.iter().all(|s| s.kind == "ignored_table"),
        "{name}: unexpected skips {:?}",
        base.skips
    );
    let expect = sorted(base.records.clone());
    for (label, input) in [
        ("real plain", Input::detect(&plain, None).unwrap()),
        ("--inserts", Input::detect(&inserts, None).unwrap()),
        (
            "--column-inserts",
            Input::detect(&column_inserts, None).unwrap(),
        ),
        ("custom (native)", Input::detect(&custom, None).unwrap()),
        ("custom (pg_restore)", Input::PgRestore(custom.clone())),
    ] {
        let got = import(&input, name);
        let got_records = sorted(got.records);
        assert_eq!(
            got_records.len(),
            expect.len(),
            "{name} {label}: record count"
        );
        for (g, e) in got_records.iter().zip(&expect) {
            assert_eq!(g, e, "{name} {label}");
        }
        let kinds: Vec<_> = got.skips.iter().map(|s| (&s.kind, &s.reason)).collect();
        let base_kinds: Vec<_> = base.skips.iter().map(|s| (&s.kind, &s.reason)).collect();
        assert_eq!(kinds, base_kinds, "{name} {label}: skips");
    }
    // Without snapshot_at, a custom archive's creation time is the observation time.
    let got = import_at(&Input::Archive(custom.clone()), name, None);
    let at = got.records[0].observed_at.clone().unwrap();
    assert!(at.starts_with("20") && at.ends_with('Z'), "{at}");
    assert!(got
        .records
        .iter()
        .all(|r| r.observed_at.as_deref() == Some(&at)));
}

/// The installed PostgreSQL (or the one SALVAGE_PG_TEST points the tests at).
fn pg_bins() -> Option<PgBins> {
    let bins = PgBins::find()?;
    (bins.initdb.starts_with("/usr/lib/postgresql")
        || std::env::var_os("SALVAGE_PG_TEST").is_some())
    .then_some(bins)
}

#[test]
fn real_postgres_round_trip() {
    let Some(bins) = pg_bins() else {
        println!("skipped: no PostgreSQL");
        return;
    };
    let cluster = TempCluster::start(bins).expect("start a throwaway PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    // SALVAGE_PG_TEST_KEEP=<dir> keeps the dumps for a look.
    let base = std::env::var_os("SALVAGE_PG_TEST_KEEP")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    check_flavour(
        &cluster,
        &base,
        Flavour::Bookly,
        "bookly_production",
        "bookly",
    );
    check_flavour(
        &cluster,
        &base,
        Flavour::Tablehop,
        "tablehop",
        "tablehop_app",
    );
}

/// A public sample database we did not write (Chinook, tests/data/chinook), restored by
/// PostgreSQL, dumped by the real pg_dump, rebuilt by the real binary with a mapping
/// written from its schema: its invoices reach their business only through their
/// customer, and every row is placed.
#[test]
fn chinook_through_real_postgres_places_every_row() {
    let Some(bins) = pg_bins() else {
        println!("skipped: no PostgreSQL");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cluster = TempCluster::start(bins).expect("start a throwaway PostgreSQL");
    // The script creates its own database (DROP/CREATE DATABASE chinook; \c chinook).
    let out = cluster
        .client(&cluster.bins.psql.clone())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f"])
        .arg(root.join("tests/data/chinook/Chinook_PostgreSql.sql"))
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("chinook.dump");
    cluster.dump("chinook", &["-Fc"], &dump).expect("pg_dump");
    let incident = dir.path().join("incident.toml");
    std::fs::write(
        &incident,
        format!(
            "name = \"chinook\"\nincident_at = \"2026-01-01T00:00:00Z\"\n\n[[sources]]\nname = \"backup\"\nkind = \"backup\"\npath = \"chinook.dump\"\nmapping = {:?}\nsnapshot_at = \"2025-12-31T00:00:00Z\"\n",
            root.join("mappings/examples/chinook/backup.toml")
                .display()
                .to_string()
        ),
    )
    .unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_salvage"))
        .arg("run")
        .arg(&incident)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["-q"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let db = rusqlite::Connection::open(dir.path().join("out/recovered.sqlite")).unwrap();
    let n = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    // Chinook 1.4.5: 8 employees, 59 customers, 412 invoices.
    assert_eq!(n("SELECT count(*) FROM businesses"), 8, "{stdout}");
    assert_eq!(n("SELECT count(*) FROM customers"), 59, "{stdout}");
    assert_eq!(n("SELECT count(*) FROM payments"), 412, "{stdout}");
    // Every invoice reached its business through its customer: the customer's rep.
    assert_eq!(
        n(
            "SELECT count(*) FROM payments p JOIN customers c ON c.id = p.customer_id
           WHERE p.business_id IS NOT NULL AND p.business_id = c.business_id"
        ),
        412
    );
    // The status is the mapping's constant, and provenance says so (not the backup).
    assert_eq!(
        n("SELECT count(*) FROM provenance WHERE table_name = 'payments' AND column_name = 'status'
           AND chosen = 1 AND source_ref LIKE 'mapping:%#[payment.constants].status (backup:invoice#%'"),
        412
    );
    assert_eq!(
        n("SELECT sum(amount) FROM payments"),
        232_860,
        "the invoices total $2,328.60"
    );
    // Nothing skipped but the tables the mapping does not name (albums, tracks, ...),
    // and those are named.
    let skipped: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("skipped input:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(stdout.contains("skipped input: 8"), "{stdout}");
    assert!(
        skipped.iter().all(|l| l.contains("ignored_table")),
        "{stdout}"
    );
}

/// `salvage restore` back into a real PostgreSQL: the demo's stale backup is restored,
/// the script the rebuild writes is applied with psql (the app's constraints hold: keys,
/// foreign keys, enums, checks), and the database it leaves, dumped and read back through
/// the same mapping, is scored against the truth beside the stale backup alone.
#[test]
fn restore_script_applies_to_the_stale_backup_and_improves_it() {
    let Some(bins) = pg_bins() else {
        println!("skipped: no PostgreSQL");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = root.join("samples/demo");
    let dir = tempfile::tempdir().unwrap();
    let salvage = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_salvage"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "salvage {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let inc = demo.join("incident.toml");
    let inc = inc.to_str().unwrap();
    salvage(&["run", inc, "--out", "full", "--quiet"]);
    salvage(&[
        "run",
        inc,
        "--out",
        "floor",
        "--quiet",
        "--source",
        "nightly-backup",
    ]);
    let said = salvage(&[
        "restore",
        inc,
        "--recovered",
        "full/recovered.sqlite",
        "--out",
        "restore",
        "--min-confidence",
        "0.8",
    ]);
    println!("{said}");

    let cluster = TempCluster::start(bins).expect("start a throwaway PostgreSQL");
    cluster
        .restore("bookly", "bookly", &demo.join("backup/app.sql"))
        .expect("the stale backup restores");
    let applied = cluster
        .client(&cluster.bins.psql.clone())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "bookly", "-f"])
        .arg(dir.path().join("restore/restore.sql"))
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "psql could not apply restore.sql: {}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let count = |sql: &str| -> i64 {
        let out = cluster
            .client(&cluster.bins.psql.clone())
            .args(["-X", "-tA", "-d", "bookly", "-c", sql])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    // Every inserted booking points at a shop and a client that exist (the foreign keys
    // held), and the script's rows are all there.
    let script = std::fs::read_to_string(dir.path().join("restore/restore.sql")).unwrap();
    let inserted = script.matches("INSERT INTO appointments").count() as i64;
    assert!(inserted > 100, "{inserted} bookings inserted");
    let stale: i64 = std::fs::read_to_string(demo.join("backup/app.sql"))
        .unwrap()
        .split("COPY public.appointments")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| *l != "\\.")
        .count() as i64;
    assert_eq!(count("SELECT count(*) FROM appointments"), stale + inserted);

    // The database the script leaves, read back through the same mapping, against the
    // truth; beside it the stale backup alone.
    cluster
        .dump("bookly", &[], &dir.path().join("restored.sql"))
        .expect("pg_dump");
    std::fs::write(
        dir.path().join("restored.toml"),
        format!(
            "name = \"restored\"\nincident_at = \"2026-11-20T14:30:00Z\"\n\n[[sources]]\nname = \"restored\"\nkind = \"backup\"\npath = \"restored.sql\"\nmapping = {:?}\nsnapshot_at = \"2026-11-20T14:30:00Z\"\n\n[rules]\ncompleted_hours_after_end = 4\n",
            root.join("mappings/bookly/backup.toml").display().to_string()
        ),
    )
    .unwrap();
    salvage(&["run", "restored.toml", "--out", "restored", "--quiet"]);
    let truth = demo.join("truth.sqlite");
    let f1 = |out: &str| -> std::collections::BTreeMap<String, f64> {
        salvage(&[
            "evaluate",
            "--truth",
            truth.to_str().unwrap(),
            "--recovered",
            &format!("{out}/recovered.sqlite"),
            "--json",
            &format!("{out}.json"),
        ]);
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("{out}.json"))).unwrap(),
        )
        .unwrap();
        v["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["table"].as_str().unwrap().to_string(),
                    t["f1"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let (restored, floor) = (f1("restored"), f1("floor"));
    for t in ["reservations", "payments"] {
        println!(
            "{t}: F1 restored {:.3}, stale backup {:.3}",
            restored[t], floor[t]
        );
        assert!(
            restored[t] > floor[t] + 0.05,
            "{t}: restored {} vs stale {}",
            restored[t],
            floor[t]
        );
    }
    println!(
        "customers: F1 restored {:.3}, stale backup {:.3}",
        restored["customers"], floor["customers"]
    );
    assert!(restored["customers"] >= floor["customers"]);
}
