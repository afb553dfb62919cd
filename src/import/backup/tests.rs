//! End-to-end tests of the backup importer on rendered sample dumps.

use super::*;
use crate::claims::{Record, Value, VecSink};
use crate::samples::backup::tests::tiny_world;
use crate::samples::world::Flavour;

pub(crate) fn mapping_path(flavour: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mappings")
        .join(flavour)
        .join("backup.toml")
}

pub(crate) fn run(input: &Input, flavour: &str, snapshot: Option<&str>) -> Result<VecSink> {
    let mp = mapping_path(flavour);
    let m = Mapping::load(&mp)?;
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
    )?;
    Ok(sink)
}

fn find<'a>(s: &'a VecSink, r: &str) -> &'a Record {
    s.records
        .iter()
        .find(|x| x.source_ref == r)
        .unwrap_or_else(|| panic!("no record {r}: {:?}", s.records))
}

fn text(r: &Record, f: &str) -> Option<String> {
    r.get(f).and_then(|v| v.render())
}

#[test]
fn bookly_plain_dump_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let w = tiny_world(Flavour::Bookly);
    crate::samples::backup::render_with(&w, dir.path(), false).unwrap();
    let p = dir.path().join("backup/app.sql");
    let input = Input::detect(&p, None).unwrap();
    assert_eq!(input, Input::Plain(p.clone()));
    let s = run(&input, "bookly", Some("2026-08-22T03:00:00Z")).unwrap();
    let b = find(&s, "backup:shops#1");
    assert_eq!(b.observed_at.as_deref(), Some("2026-08-22T03:00:00Z"));
    assert_eq!(text(b, "name").as_deref(), Some("Zoë's Salon"));
    assert_eq!(text(b, "stripe_account").as_deref(), Some("acct_1ABC"));
    assert_eq!(text(b, "attr.timezone").as_deref(), Some("Europe/Berlin"));
    let c = find(&s, "backup:clients#10");
    assert_eq!(text(c, "business_id").as_deref(), Some("1"));
    assert_eq!(
        text(c, "created_at").as_deref(),
        Some("2026-08-02T09:00:00Z")
    );
    assert!(c.get("deleted").is_none());
    let gone = find(&s, "backup:clients#11");
    assert_eq!(gone.get("deleted"), Some(&Value::Int(1)));
    assert!(!s
        .records
        .iter()
        .any(|r| r.source_ref == "backup:clients#12"));
    let r = find(&s, "backup:appointments#100");
    assert_eq!(text(r, "status").as_deref(), Some("confirmed"));
    assert_eq!(r.get("amount"), Some(&Value::Int(8000)));
    assert_eq!(text(r, "currency").as_deref(), Some("eur"));
    assert_eq!(r.get("party_size"), Some(&Value::Int(2)));
    assert_eq!(text(r, "reference").as_deref(), Some("BK-7Q2X9"));
    assert_eq!(
        text(r, "starts_at").as_deref(),
        Some("2026-08-25T10:00:00Z")
    );
    assert_eq!(
        text(r, "updated_at").as_deref(),
        Some("2026-08-06T09:00:00Z")
    );
    let p = find(&s, "backup:charges#1000");
    assert_eq!(text(p, "processor").as_deref(), Some("stripe"));
    assert_eq!(text(p, "processor_id").as_deref(), Some("ch_1"));
    assert_eq!(text(p, "status").as_deref(), Some("partially_refunded"));
    assert_eq!(p.get("amount_refunded"), Some(&Value::Int(1000)));
    assert_eq!(text(p, "attr.payment_intent").as_deref(), Some("pi_1"));
    assert_eq!(s.records.len(), 5, "{:?}", s.records);
    let ignored: Vec<_> = s
        .skips
        .iter()
        .filter(|k| k.kind == "ignored_table")
        .collect();
    assert_eq!(ignored.len(), 1, "{:?}", s.skips);
    assert!(
        ignored[0].reason.contains("schema_migrations") && ignored[0].reason.contains("6 rows")
    );
    assert_eq!(s.skips.len(), 1, "{:?}", s.skips);
}

#[test]
fn tablehop_local_times_and_minor_units() {
    let dir = tempfile::tempdir().unwrap();
    let w = tiny_world(Flavour::Tablehop);
    crate::samples::backup::render_with(&w, dir.path(), false).unwrap();
    let p = dir.path().join("backup/app.sql");
    let s = run(&Input::Plain(p), "tablehop", Some("2026-08-22T03:00:00Z")).unwrap();
    let b = find(&s, "backup:venues#1");
    assert!(b.get("deleted").is_none());
    let c = find(&s, "backup:guests#10");
    assert_eq!(
        text(c, "created_at").as_deref(),
        Some("2026-08-02T09:00:00Z")
    );
    assert_eq!(
        find(&s, "backup:guests#11").get("deleted"),
        Some(&Value::Int(1))
    );
    let r = find(&s, "backup:bookings#100");
    assert_eq!(
        text(r, "starts_at").as_deref(),
        Some("2026-08-25T10:00:00Z")
    );
    assert_eq!(text(r, "status").as_deref(), Some("confirmed"));
    assert_eq!(r.get("amount"), Some(&Value::Int(8000)));
    assert_eq!(text(r, "currency").as_deref(), Some("eur"));
    let p = find(&s, "backup:transactions#1000");
    assert_eq!(text(p, "processor").as_deref(), Some("stripe"));
    assert_eq!(p.get("amount_refunded"), Some(&Value::Int(1000)));
    assert_eq!(text(p, "currency").as_deref(), Some("eur"));
    assert_eq!(text(p, "status").as_deref(), Some("partially_refunded"));
}

#[test]
fn truncated_dump_keeps_complete_rows() {
    let dir = tempfile::tempdir().unwrap();
    let w = tiny_world(Flavour::Bookly);
    let full = crate::samples::backup::dump_text(&w);
    // Cut inside the COPY block of clients, in the middle of its second row.
    let start = full.find("COPY public.clients").unwrap();
    let row2 = full[start..].find("\n11\t").unwrap() + start + 6;
    let p = dir.path().join("cut.sql");
    std::fs::write(&p, &full[..row2]).unwrap();
    let s = run(&Input::Plain(p), "bookly", Some("2026-08-22T03:00:00Z")).unwrap();
    assert!(s
        .records
        .iter()
        .any(|r| r.source_ref == "backup:clients#10"));
    assert!(!s
        .records
        .iter()
        .any(|r| r.source_ref == "backup:clients#11"));
    // Tables before the cut are complete.
    assert!(s
        .records
        .iter()
        .any(|r| r.source_ref == "backup:appointments#100"));
    let t: Vec<_> = s.skips.iter().filter(|k| k.kind == "truncated").collect();
    assert_eq!(t.len(), 1, "{:?}", s.skips);
    let line = full[..row2].lines().count();
    assert_eq!(t[0].location, format!("cut.sql:{line}"));
    assert!(t[0].reason.contains("clients"));
}

#[test]
fn unmapped_status_and_bad_rows_are_skips() {
    let dir = tempfile::tempdir().unwrap();
    let w = tiny_world(Flavour::Bookly);
    let full = crate::samples::backup::dump_text(&w)
        .replace("\tbooked\t80.00\t", "\twaitlist\t80.00\t")
        .replace("\n10\t1\tAnn", "\n10\t1\tAnn\textra\tcol\n10\t1\tAnn")
        .replace("\n1000\t1\t", "\n1000\t1\t10\t100\tcash\t\\N\t\\N\t1.00\t0.00\tpaid\t\\N\t\\N\t2026-08-06 09:00:00+00\n1000\t1\t");
    let p = dir.path().join("app.sql");
    std::fs::write(&p, &full).unwrap();
    let s = run(&Input::Plain(p), "bookly", Some("2026-08-22T03:00:00Z")).unwrap();
    let st: Vec<_> = s
        .skips
        .iter()
        .filter(|k| k.kind == "unmapped_status")
        .collect();
    assert_eq!(st.len(), 1, "{:?}", s.skips);
    assert!(st[0].reason.contains("\"waitlist\""), "{}", st[0].reason);
    assert!(st[0].location.starts_with("app.sql:"));
    assert!(!s
        .records
        .iter()
        .any(|r| r.source_ref == "backup:appointments#100"));
    let bad: Vec<_> = s.skips.iter().filter(|k| k.kind == "bad_row").collect();
    assert_eq!(bad.len(), 1, "{:?}", s.skips);
    assert!(s
        .records
        .iter()
        .any(|r| r.source_ref == "backup:clients#10"));
}

#[test]
fn mapping_against_the_dump_and_snapshot_time() {
    let dir = tempfile::tempdir().unwrap();
    let w = tiny_world(Flavour::Bookly);
    let p = dir.path().join("app.sql");
    std::fs::write(
        &p,
        crate::samples::backup::dump_text(&w).replace("mobile", "cellphone"),
    )
    .unwrap();
    let e = run(
        &Input::Plain(p.clone()),
        "bookly",
        Some("2026-08-22T03:00:00Z"),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Config { .. }));
    let e = e.to_string();
    assert!(
        e.contains("backup.toml") && e.contains("[customer].fields.phone") && e.contains("mobile"),
        "{e}"
    );
    // No snapshot_at and no `-- Started on`: a config error naming the fix.
    std::fs::write(&p, crate::samples::backup::dump_text(&w)).unwrap();
    let e = run(&Input::Plain(p.clone()), "bookly", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("snapshot_at"), "{e}");
    // A verbose dump's start time is used instead.
    let text = crate::samples::backup::dump_text(&w).replacen(
        "\nSET statement_timeout",
        "\n-- Started on 2026-08-22 03:00:05 UTC\n\nSET statement_timeout",
        1,
    );
    std::fs::write(&p, text).unwrap();
    let s = run(&Input::Plain(p), "bookly", None).unwrap();
    assert_eq!(
        s.records[0].observed_at.as_deref(),
        Some("2026-08-22T03:00:05Z")
    );
}

/// A table's columns and rows.
type TableRows = (Vec<String>, Vec<Vec<Option<String>>>);

/// Every row of every table of an input.
#[derive(Default)]
struct All {
    tables: BTreeMap<String, TableRows>,
}
impl Visitor for All {
    fn wants(&self, _t: &str) -> bool {
        true
    }
    fn row(&mut self, r: Row<'_>) -> Result<()> {
        let e = self
            .tables
            .entry(r.table.to_string())
            .or_insert_with(|| (r.columns.to_vec(), Vec::new()));
        e.1.push(r.values);
        Ok(())
    }
    fn skip(&mut self, _t: Option<&str>, s: Skip) -> Result<()> {
        panic!("unexpected skip {s:?}")
    }
}

fn rendered(flavour: Flavour, dir: &Path) -> (PathBuf, All) {
    let w = tiny_world(flavour);
    crate::samples::backup::render_with(&w, dir, false).unwrap();
    let p = dir.join("backup/app.sql");
    let mut all = All::default();
    Input::Plain(p.clone())
        .scan(&mut Summary::default(), &mut all)
        .unwrap();
    (p, all)
}

fn sorted(mut v: Vec<Record>) -> Vec<Record> {
    v.sort_by(|a, b| a.source_ref.cmp(&b.source_ref));
    v
}

#[test]
fn sqlite_backup_reads_like_the_dump() {
    for (flavour, name) in [(Flavour::Bookly, "bookly"), (Flavour::Tablehop, "tablehop")] {
        let dir = tempfile::tempdir().unwrap();
        let (plain, all) = rendered(flavour, dir.path());
        let db = dir.path().join("app.sqlite");
        {
            let c = rusqlite::Connection::open(&db).unwrap();
            for (t, (cols, rows)) in &all.tables {
                let decl: Vec<String> = cols.iter().map(|c| format!("\"{c}\" TEXT")).collect();
                c.execute(&format!("CREATE TABLE {t} ({})", decl.join(", ")), [])
                    .unwrap();
                let q: Vec<&str> = cols.iter().map(|_| "?").collect();
                let sql = format!("INSERT INTO {t} VALUES ({})", q.join(", "));
                for r in rows {
                    c.execute(&sql, rusqlite::params_from_iter(r.iter()))
                        .unwrap();
                }
            }
        }
        let snap = Some("2026-08-22T03:00:00Z");
        let input = Input::detect(&db, None).unwrap();
        assert_eq!(input, Input::Sqlite(db.clone()));
        let got = run(&input, name, snap).unwrap();
        let want = run(&Input::Plain(plain), name, snap).unwrap();
        assert_eq!(sorted(got.records), sorted(want.records), "{name}");
        assert_eq!(got.skips.len(), want.skips.len(), "{:?}", got.skips);
        // Read-only and immutable: no journal or WAL file appears beside it.
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 2, "{files:?}");
    }
}

#[test]
fn csv_directory_reads_like_the_dump() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, all) = rendered(Flavour::Bookly, dir.path());
    let csvdir = dir.path().join("csv");
    std::fs::create_dir_all(&csvdir).unwrap();
    for (t, (cols, rows)) in &all.tables {
        let mut w = csv::Writer::from_path(csvdir.join(format!("{t}.csv"))).unwrap();
        w.write_record(cols).unwrap();
        for r in rows {
            w.write_record(r.iter().map(|v| v.as_deref().unwrap_or("")))
                .unwrap();
        }
        w.flush().unwrap();
    }
    // One broken row: a skip with its line, the rest goes on.
    let cp = csvdir.join("clients.csv");
    let mut text = std::fs::read_to_string(&cp).unwrap();
    text.push_str("99,1\n");
    std::fs::write(&cp, text).unwrap();
    let snap = Some("2026-08-22T03:00:00Z");
    let input = Input::detect(&csvdir, None).unwrap();
    assert_eq!(input, Input::CsvDir(csvdir.clone()));
    let got = run(&input, "bookly", snap).unwrap();
    let want = run(&Input::Plain(plain), "bookly", snap).unwrap();
    // CSV cannot tell an empty string from NULL: empty texts are absent.
    let mut want = sorted(want.records);
    for r in &mut want {
        r.fields.retain(|(_, v)| v != &Value::Text(String::new()));
    }
    assert_eq!(sorted(got.records), want);
    let bad: Vec<_> = got.skips.iter().filter(|s| s.kind == "bad_row").collect();
    assert_eq!(bad.len(), 1, "{:?}", got.skips);
    assert!(bad[0].location.starts_with("clients.csv:"), "{:?}", bad[0]);
}

#[test]
fn gzip_and_format_hints() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (plain, _) = rendered(Flavour::Bookly, dir.path());
    let gz = dir.path().join("app.sql.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    e.finish().unwrap();
    let input = Input::detect(&gz, None).unwrap();
    assert_eq!(input, Input::Gzip(gz.clone()));
    let snap = Some("2026-08-22T03:00:00Z");
    let got = run(&input, "bookly", snap).unwrap();
    let want = run(&Input::Plain(plain.clone()), "bookly", snap).unwrap();
    assert_eq!(sorted(got.records), sorted(want.records));
    assert_eq!(
        Input::detect(&plain, Some("sqlite")).unwrap(),
        Input::Sqlite(plain.clone())
    );
    let e = Input::detect(&plain, Some("mysql"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("mysql") && e.contains("pg_plain"), "{e}");
}

#[test]
fn business_table_after_the_data_that_needs_it() {
    // The business table comes last in the dump (shops after appointments): every
    // reservation still gets its shop's currency.
    let dir = tempfile::tempdir().unwrap();
    let (plain, _) = rendered(Flavour::Bookly, dir.path());
    let text = std::fs::read_to_string(&plain).unwrap();
    assert!(
        text.find("COPY public.shops").unwrap() > text.find("COPY public.appointments").unwrap()
    );
    let s = run(&Input::Plain(plain), "bookly", Some("2026-08-22T03:00:00Z")).unwrap();
    assert!(s
        .records
        .iter()
        .filter(|r| r.entity == Entity::Reservation)
        .all(|r| r.get("currency") == Some(&Value::text("eur"))));
    assert_eq!(
        s.records
            .iter()
            .filter(|r| r.entity == Entity::Business)
            .count(),
        1
    );
}

#[test]
fn import_through_the_incident_file() {
    let dir = tempfile::tempdir().unwrap();
    let w = tiny_world(Flavour::Tablehop);
    crate::samples::backup::render_with(&w, dir.path(), false).unwrap();
    let inc = dir.path().join("incident.toml");
    std::fs::write(
        &inc,
        format!(
            "incident_at = \"2026-11-20T14:30:00Z\"\n[[sources]]\nname = \"nightly\"\nkind = \"backup\"\npath = \"backup/app.sql\"\nmapping = {:?}\nsnapshot_at = \"2026-08-22T03:00:00Z\"\n",
            mapping_path("tablehop").display().to_string()
        ),
    )
    .unwrap();
    let incident = crate::incident::Incident::load(&inc).unwrap();
    let progress = indicatif::ProgressBar::hidden();
    let ctx = ImportContext {
        incident: &incident,
        spec: &incident.sources[0],
        progress: &progress,
    };
    let mut sink = VecSink::default();
    crate::import::import_source(&ctx, &mut sink).unwrap();
    assert_eq!(sink.records.len(), 5, "{:?}", sink.records);
    let size = std::fs::metadata(dir.path().join("backup/app.sql"))
        .unwrap()
        .len();
    assert_eq!(progress.position(), 2 * size);
}

#[test]
fn custom_archive_through_pg_restore() {
    // A broken archive: pg_restore's failure, or its absence, is one clear error. (Real
    // archives are read in tests/backup_pg.rs.)
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("app.dump");
    std::fs::write(&p, b"PGDMP\x01\x0e\x00\x04\x08\x01garbage").unwrap();
    let input = Input::detect(&p, None).unwrap();
    assert_eq!(input, Input::Archive(p.clone()));
    let e = run(&input, "bookly", Some("2026-08-22T03:00:00Z"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("app.dump"), "{e}");
    assert!(
        e.contains("cannot read this pg_dump custom archive")
            || e.contains("pg_restore could not read")
            || e.contains("postgresql-client"),
        "{e}"
    );
    // Forced through pg_restore: its failure, or the advice to install it.
    let e = run(&Input::PgRestore(p), "bookly", Some("2026-08-22T03:00:00Z"))
        .unwrap_err()
        .to_string();
    if find_pg_tool("pg_restore").is_some() {
        assert!(e.contains("pg_restore could not read"), "{e}");
    } else {
        assert!(e.contains("postgresql-client"), "{e}");
    }
}

/// A file of people without a business table or app ids (a contact list, FEBRL): the
/// business is a constant, the id only names the row, a name comes from two columns, and
/// values written with `", "` between them are trimmed.
#[test]
fn people_without_business_or_ids() {
    let dir = tempfile::tempdir().unwrap();
    let csvdir = dir.path().join("people");
    std::fs::create_dir_all(&csvdir).unwrap();
    std::fs::write(
        csvdir.join("people.csv"),
        "rec_id, given_name, surname, postcode\nrec-1-org, ann, smith, 2600\nrec-1-dup-0, , smith ,  \n",
    )
    .unwrap();
    let mp = dir.path().join("people.toml");
    std::fs::write(
        &mp,
        r#"trim_values = true
[customer]
table = "people"
id = "rec_id"
id_is_key = false
constants = { business_id = "list" }
fields = { name = ["given_name", "surname"], "attr.postcode" = "postcode" }
"#,
    )
    .unwrap();
    let m = Mapping::load(&mp).unwrap();
    let mut sink = VecSink::default();
    import_input(
        &Input::CsvDir(csvdir),
        &m,
        &mp,
        Some("2026-01-01T00:00:00Z"),
        "people",
        Path::new("incident.toml"),
        &indicatif::ProgressBar::hidden(),
        &mut sink,
    )
    .unwrap();
    assert!(sink.skips.is_empty(), "{:?}", sink.skips);
    let a = find(&sink, "backup:people#rec-1-org");
    assert_eq!(text(a, "id"), None, "the id is not a key");
    assert_eq!(text(a, "name").as_deref(), Some("ann smith"));
    assert_eq!(text(a, "business_id").as_deref(), Some("list"));
    assert_eq!(text(a, "attr.postcode").as_deref(), Some("2600"));
    let b = find(&sink, "backup:people#rec-1-dup-0");
    assert_eq!(text(b, "name").as_deref(), Some("smith"));
    assert_eq!(
        text(b, "attr.postcode"),
        None,
        "blank after trimming is NULL"
    );

    // Without [business] and without a business for the rows: told what to add.
    std::fs::write(&mp, "[customer]\ntable = \"people\"\nid = \"rec_id\"\n").unwrap();
    let e = Mapping::load(&mp).unwrap_err().to_string();
    assert!(e.contains("business_id") && e.contains("[customer"), "{e}");
}

/// A booking row that names neither its business nor its time reaches both through the
/// session it belongs to, over two hops (`[lookups]`); a reference to no row is counted.
#[test]
fn fields_through_lookups_over_two_hops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("csv");
    std::fs::create_dir(&d).unwrap();
    let w = |name: &str, body: &str| std::fs::write(d.join(name), body).unwrap();
    w("studios.csv", "id,name\n1,Joga Kraków\n2,Tanec Brno\n");
    w(
        "class_types.csv",
        "id,studio_id,title\n7,1,Vinyasa\n8,2,Salsa\n",
    );
    w(
        "class_sessions.csv",
        "id,class_type_id,starts_at\n70,7,2026-07-01T10:00:00Z\n80,8,2026-07-02T18:00:00Z\n81,,2026-07-03T18:00:00Z\n",
    );
    w(
        "spots.csv",
        "id,session_id,state\na1,70,booked\na2,80,booked\na3,99,booked\na4,81,booked\n",
    );
    let mapping = r#"
[lookups.session]
table = "class_sessions"
key = "id"
[lookups.class_type]
table = "class_types"
key = "id"
[business]
table = "studios"
id = "id"
fields = { name = "name" }
[reservation]
table = "spots"
id = "id"
status = { booked = "confirmed" }
[reservation.fields]
status = "state"
starts_at = "session_id->session.starts_at"
service = "session_id->session.class_type_id->class_type.title"
business_id = "session_id->session.class_type_id->class_type.studio_id"
"#;
    let mp = dir.path().join("backup.toml");
    let input = Input::detect(&d, None).unwrap();
    let import = |mapping: &str| -> Result<VecSink> {
        let m = Mapping::parse(mapping, &mp)?;
        let mut sink = VecSink::default();
        import_input(
            &input,
            &m,
            &mp,
            Some("2026-08-22T03:00:00Z"),
            "backup",
            Path::new("incident.toml"),
            &indicatif::ProgressBar::hidden(),
            &mut sink,
        )?;
        Ok(sink)
    };
    let sink = import(mapping).unwrap();
    let a2 = find(&sink, "backup:spots#a2");
    assert_eq!(text(a2, "business_id").as_deref(), Some("2"));
    assert_eq!(text(a2, "service").as_deref(), Some("Salsa"));
    assert_eq!(
        text(a2, "starts_at").as_deref(),
        Some("2026-07-02T18:00:00Z")
    );
    let a3 = find(&sink, "backup:spots#a3");
    assert_eq!(text(a3, "business_id"), None);
    let unresolved: Vec<_> = sink
        .skips
        .iter()
        .filter(|k| k.kind == "unresolved_reference")
        .collect();
    // a3's session does not exist (three fields); a4's session has no class type, which
    // is no value, not a broken reference.
    assert_eq!(unresolved.len(), 3, "{unresolved:?}");
    assert!(unresolved.iter().all(|k| k.reason.contains("spots#a3")));
    let a4 = find(&sink, "backup:spots#a4");
    assert_eq!(text(a4, "business_id"), None);
    assert_eq!(
        text(a4, "starts_at").as_deref(),
        Some("2026-07-03T18:00:00Z")
    );
    assert!(unresolved[0]
        .reason
        .contains("spots#a3: session_id = \"99\""));

    // A path through a lookup the mapping does not declare is an error naming it.
    let bad = mapping.replace("->class_type.title", "->klass.title");
    let e = import(&bad).unwrap_err().to_string();
    assert!(
        e.contains("no [lookups.klass]") && e.contains("class_type, session"),
        "{e}"
    );
}

/// Imports a directory of CSV files (a backup) with the mapping file `mp`.
fn import_csv(csvdir: &Path, mp: &Path) -> Result<VecSink> {
    let m = Mapping::load(mp)?;
    let mut sink = VecSink::default();
    import_input(
        &Input::detect(csvdir, None)?,
        &m,
        mp,
        Some("2026-08-22T03:00:00Z"),
        "backup",
        Path::new("incident.toml"),
        &indicatif::ProgressBar::hidden(),
        &mut sink,
    )?;
    Ok(sink)
}

#[test]
fn a_mapped_table_or_lookup_with_no_rows_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let csvdir = dir.path().join("csv");
    std::fs::create_dir_all(&csvdir).unwrap();
    std::fs::write(csvdir.join("shops.csv"), "id,name\n1,Lumen\n").unwrap();
    std::fs::write(csvdir.join("orders.csv"), "id,client_id,total\n").unwrap();
    std::fs::write(csvdir.join("clients.csv"), "id,shop_id,email\n").unwrap();
    let mp = dir.path().join("backup.toml");
    let text = r#"
[lookups.client]
table = "clients"
key = "id"

[business]
table = "shops"
id = "id"
[business.fields]
name = "name"

[payment]
table = "orders"
id = "id"
money_unit = "major"
currency = "EUR"
[payment.fields]
business_id = "client_id->client.shop_id"
amount = "total"
"#;
    std::fs::write(&mp, text).unwrap();
    let sink = import_csv(&csvdir, &mp).unwrap();
    let rules: Vec<&str> = sink
        .unused_rules
        .iter()
        .map(|s| s.location.as_str())
        .collect();
    assert_eq!(rules.len(), 2, "{:?}", sink.skips);
    assert!(
        rules
            .iter()
            .any(|l| l.ends_with("[lookups.client] table clients")),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|l| l.ends_with("[payment] table orders")),
        "{rules:?}"
    );
    assert!(rules
        .iter()
        .all(|l| l.starts_with(&mp.display().to_string())));
}

#[test]
fn an_active_flag_deletes_and_a_null_column_gives_a_status() {
    let dir = tempfile::tempdir().unwrap();
    let csvdir = dir.path().join("csv");
    std::fs::create_dir_all(&csvdir).unwrap();
    std::fs::write(csvdir.join("shops.csv"), "id,name\n1,Lumen\n").unwrap();
    std::fs::write(
        csvdir.join("clients.csv"),
        "id,shop_id,name,active\n1,1,Ann,t\n2,1,Bob,f\n3,1,Cy,\n",
    )
    .unwrap();
    std::fs::write(
        csvdir.join("orders.csv"),
        "id,shop_id,total,shipped_at\n1,1,9.50,2026-01-02 10:00:00\n2,1,4.00,\n",
    )
    .unwrap();
    let mp = dir.path().join("backup.toml");
    let toml_text = r#"
[business]
table = "shops"
id = "id"
[business.fields]
name = "name"

[customer]
table = "clients"
id = "id"
active_column = "active"
[customer.fields]
business_id = "shop_id"
name = "name"

[payment]
table = "orders"
id = "id"
money_unit = "major"
currency = "EUR"
[payment.fields]
business_id = "shop_id"
amount = "total"
[payment.status_by_null]
column = "shipped_at"
null = "pending"
set = "succeeded"
[payment.constants]
processor = "cash"
"#;
    std::fs::write(&mp, toml_text).unwrap();
    let sink = import_csv(&csvdir, &mp).unwrap();
    let deleted = |r: &str| find(&sink, r).get("deleted").is_some();
    assert!(!deleted("backup:clients#1"));
    assert!(deleted("backup:clients#2"), "active = f");
    assert!(!deleted("backup:clients#3"), "NULL says nothing");
    assert_eq!(
        text(find(&sink, "backup:orders#1"), "status"),
        Some("succeeded".into())
    );
    // A constant is the mapping's value, and the record says which rule gave it.
    let o1 = find(&sink, "backup:orders#1");
    assert_eq!(text(o1, "processor").as_deref(), Some("cash"));
    let rule = text(o1, "mapping:processor").unwrap();
    assert!(
        rule.ends_with("backup.toml#[payment.constants].processor"),
        "{rule}"
    );
    assert_eq!(
        text(find(&sink, "backup:orders#2"), "status"),
        Some("pending".into())
    );
    // A word the contract does not have is a mapping error, before anything is read.
    std::fs::write(
        &mp,
        toml_text.replace("null = \"pending\"", "null = \"unshipped\""),
    )
    .unwrap();
    let e = import_csv(&csvdir, &mp).unwrap_err().to_string();
    assert!(
        e.contains("status_by_null.null") && e.contains("unshipped"),
        "{e}"
    );
}

#[test]
fn the_end_of_a_booking_is_its_start_plus_a_duration() {
    let dir = tempfile::tempdir().unwrap();
    let csvdir = dir.path().join("csv");
    std::fs::create_dir_all(&csvdir).unwrap();
    std::fs::write(csvdir.join("shops.csv"), "id,name\n1,Lumen\n").unwrap();
    std::fs::write(csvdir.join("classes.csv"), "id,minutes\n7,90\n").unwrap();
    std::fs::write(
        csvdir.join("spots.csv"),
        "id,shop_id,class_id,starts\n1,1,7,2026-03-02 18:00:00\n2,1,,2026-03-03 09:00:00\n",
    )
    .unwrap();
    let mp = dir.path().join("backup.toml");
    std::fs::write(
        &mp,
        r#"
[lookups.class]
table = "classes"
key = "id"

[business]
table = "shops"
id = "id"
[business.fields]
name = "name"

[reservation]
table = "spots"
id = "id"
[reservation.fields]
business_id = "shop_id"
starts_at = "starts"
[reservation.duration]
column = "class_id->class.minutes"
unit = "minutes"
"#,
    )
    .unwrap();
    let sink = import_csv(&csvdir, &mp).unwrap();
    let r1 = find(&sink, "backup:spots#1");
    assert_eq!(
        text(r1, "starts_at").as_deref(),
        Some("2026-03-02T18:00:00Z")
    );
    assert_eq!(text(r1, "ends_at").as_deref(), Some("2026-03-02T19:30:00Z"));
    // No duration (no class): no end, rather than a guess.
    assert_eq!(text(find(&sink, "backup:spots#2"), "ends_at"), None);
}

/// Silence is never success in a backup mapping: a link key the merge never reads and a
/// `values.status` the status table would shadow are errors; a row read in the fallback
/// zone, and one column of a joined field that names no row, are named where they are.
#[test]
fn keys_that_would_do_nothing_are_errors_and_fallbacks_are_named() {
    let base = "[business]\ntable = \"shops\"\nid = \"id\"\n[business.fields]\nname = \"name\"\n";
    let err = |extra: &str| {
        Mapping::parse(&format!("{base}{extra}"), Path::new("m.toml"))
            .unwrap_err()
            .to_string()
    };
    let e = err("[customer]\ntable = \"c\"\nid = \"id\"\n[customer.fields]\nbusiness_id = \"shop_id\"\n\"reservation.code\" = \"code\"\n");
    assert!(
        e.contains("reservation.code") && e.contains("link key the merge reads"),
        "{e}"
    );
    let e = err("[reservation]\ntable = \"r\"\nid = \"id\"\nstatus = { ok = \"confirmed\" }\nvalues = { status = { ok = \"confirmed\" } }\n[reservation.fields]\nstatus = \"st\"\n");
    assert!(
        e.contains("values.status") && e.contains("never apply"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let csvdir = dir.path().join("csv");
    std::fs::create_dir_all(&csvdir).unwrap();
    std::fs::write(
        csvdir.join("shops.csv"),
        "id,name,tz\n1,Lumen,Nowhere/Else\n2,Reef,Europe/Berlin\n",
    )
    .unwrap();
    std::fs::write(csvdir.join("people.csv"), "id,first\n7,Ann\n").unwrap();
    std::fs::write(
        csvdir.join("bookings.csv"),
        "id,shop_id,person_id,last,starts\n10,1,7,Lee,2026-03-01 10:00\n11,2,8,Kim,2026-03-01 10:00\n",
    )
    .unwrap();
    let mp = dir.path().join("backup.toml");
    std::fs::write(
        &mp,
        r#"
timezone = "UTC"
[lookups.person]
table = "people"
key = "id"
[business]
table = "shops"
id = "id"
timezone_column = "tz"
[business.fields]
name = "name"
[reservation]
table = "bookings"
id = "id"
timestamps = "local"
[reservation.fields]
business_id = "shop_id"
reference = ["person_id->person.first", "last"]
starts_at = "starts"
"#,
    )
    .unwrap();
    let sink = import_csv(&csvdir, &mp).unwrap();
    let of = |kind: &str| -> Vec<&str> {
        sink.skips
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.reason.as_str())
            .collect()
    };
    let fallback = of(crate::import::ZONE_FALLBACK);
    assert_eq!(fallback.len(), 1, "{:?}", sink.skips);
    assert!(
        fallback[0].contains("bookings#10") && fallback[0].contains("UTC"),
        "{fallback:?}"
    );
    let partial = of("unresolved_reference");
    assert_eq!(partial.len(), 1, "{:?}", sink.skips);
    assert!(
        partial[0].contains("bookings#11") && partial[0].contains("joined from its other columns"),
        "{partial:?}"
    );
    let r11 = find(&sink, "backup:bookings#11");
    assert_eq!(text(r11, "reference").as_deref(), Some("Kim"));
    let r10 = find(&sink, "backup:bookings#10");
    assert_eq!(text(r10, "reference").as_deref(), Some("Ann Lee"));
}
