//! Importer tests over messages rendered by the sample generator and real-world mail.

use super::extract::{self, Outcome, RawMessage};
use super::mapping::Mapping;
use super::*;
use crate::claims::{Entity, Record, Value, VecSink};
use crate::samples::mail::tests::{all_messages, tiny_world};
use crate::samples::world::Flavour;
use std::path::PathBuf;

fn mapping(flavour: &str) -> Mapping {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mappings")
        .join(flavour)
        .join("email.toml");
    Mapping::load(Some(&p)).unwrap()
}

fn run(bytes: &[u8], m: &Mapping) -> Outcome {
    extract::process(
        &RawMessage {
            location: "t@0".into(),
            bytes: bytes.to_vec(),
        },
        m,
    )
}

fn records(o: Outcome) -> Vec<Record> {
    match o {
        Outcome::Extracted { records, .. } => records,
        Outcome::Skipped { skip, .. } => panic!("skipped: {skip:?}"),
    }
}

fn main_of(rs: &[Record], e: Entity) -> &Record {
    rs.iter().find(|r| r.entity == e).expect("record of entity")
}

fn text<'a>(r: &'a Record, f: &str) -> &'a str {
    r.get(f)
        .and_then(|v| v.as_text())
        .unwrap_or_else(|| panic!("no {f} in {r:?}"))
}

/// The currency a message names, or (for a symbol several currencies write, like `$`)
/// the guess the merge falls back to after the business's currency.
fn currency(r: &Record) -> &str {
    r.get("currency")
        .or_else(|| r.get("attr.currency_guess"))
        .and_then(|v| v.as_text())
        .unwrap_or_else(|| panic!("no currency in {r:?}"))
}

fn int(r: &Record, f: &str) -> i64 {
    r.get(f)
        .and_then(|v| v.as_int())
        .unwrap_or_else(|| panic!("no {f} in {r:?}"))
}

fn msg<'a>(all: &'a [(String, Vec<u8>)], prefix: &str) -> &'a [u8] {
    &all.iter()
        .find(|(id, _)| id.starts_with(prefix) || id.contains(prefix))
        .unwrap_or_else(|| panic!("no message {prefix}"))
        .1
}

#[test]
fn bookly_templates_both_versions() {
    let w = tiny_world(Flavour::Bookly);
    let all = all_messages(&w);
    let m = mapping("bookly");

    // v1 (February, before the cutoff): LA, PST.
    let rs = records(run(msg(&all, "confirm.100.0@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "reference"), "BK-7Q2X9");
    assert_eq!(text(r, "status"), "confirmed");
    assert_eq!(text(r, "starts_at"), "2026-02-10T17:30:00Z");
    assert_eq!(int(r, "amount"), 4500);
    assert_eq!(currency(r), "usd");
    assert_eq!(text(r, "service"), "Cut & colour");
    assert_eq!(text(r, "business_id"), "17");
    assert_eq!(text(r, "business.name"), "Lumen Hair Studio");
    assert_eq!(text(r, "business.email"), "hello@lumen.example");
    assert_eq!(text(r, "customer.email"), "ann.lee@example.org");
    // Mailed in the request that made the booking: its Date is the row's time.
    assert_eq!(text(r, "created_at"), "2026-02-01T17:00:00Z");
    assert_eq!(text(r, "updated_at"), "2026-02-01T17:00:00Z");
    assert_eq!(
        r.source_ref,
        format!(
            "email:{}",
            all.iter()
                .find(|(i, _)| i.starts_with("confirm.100.0@"))
                .unwrap()
                .0
        )
    );
    let c = main_of(&rs, Entity::Customer);
    assert_eq!(text(c, "email").to_lowercase(), "ann.lee@example.org");
    assert_eq!(text(c, "name"), "Ann Lee");
    assert_eq!(text(c, "business_id"), "17");
    let b = main_of(&rs, Entity::Business);
    assert_eq!(text(b, "id"), "17");
    assert_eq!(text(b, "name"), "Lumen Hair Studio");

    let rs = records(run(msg(&all, "change.100.1@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "starts_at"), "2026-02-11T18:00:00Z");
    assert_eq!(int(r, "amount"), 9000);
    assert!(
        r.get("status").is_none(),
        "a change notice does not say the status"
    );

    let rs = records(run(msg(&all, "cancel.100.2@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "status"), "cancelled");
    assert_eq!(text(r, "reference"), "BK-7Q2X9");

    // v2 (September, Berlin, CEST; money over a thousand; RFC 2047 names).
    let rs = records(run(msg(&all, "confirm.101.0@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "reference"), "BK-3MZ8P");
    assert_eq!(text(r, "starts_at"), "2026-07-14T17:30:00Z");
    assert_eq!(text(r, "ends_at"), "2026-07-14T19:30:00Z");
    assert_eq!(int(r, "party_size"), 12);
    assert_eq!(int(r, "amount"), 123450);
    assert_eq!(currency(r), "eur");
    assert_eq!(text(r, "business_id"), "18");
    assert_eq!(text(r, "business.name"), "Café Zürich & Söhne");
    let c = main_of(&rs, Entity::Customer);
    assert_eq!(text(c, "name"), "Jürgen Weiß");

    let rs = records(run(msg(&all, "change.101.1@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "starts_at"), "2026-09-14T18:00:00Z");
    assert_eq!(int(r, "party_size"), 14);

    // Pending in Tokyo, yen without decimals.
    let rs = records(run(msg(&all, "confirm.102.0@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "status"), "pending");
    assert_eq!(text(r, "starts_at"), "2026-10-20T10:00:00Z");
    assert_eq!(int(r, "amount"), 12000);
    assert_eq!(currency(r), "jpy");
}

#[test]
fn rfc2047_subjects_are_decoded() {
    let w = tiny_world(Flavour::Bookly);
    let all = all_messages(&w);
    let raw = String::from_utf8_lossy(msg(&all, "confirm.101.0@")).into_owned();
    let subject_line = raw.lines().find(|l| l.starts_with("Subject:")).unwrap();
    assert!(
        subject_line.contains("=?"),
        "subject is encoded: {subject_line}"
    );
    let from_line = raw.lines().find(|l| l.starts_with("From:")).unwrap();
    assert!(from_line.contains("=?"), "name is encoded: {from_line}");
    let rs = records(run(msg(&all, "confirm.101.0@"), &mapping("bookly")));
    assert_eq!(
        text(main_of(&rs, Entity::Reservation), "reference"),
        "BK-3MZ8P"
    );
}

#[test]
fn html_only_message_reads_the_table() {
    let html = "<html><body><h1>Your appointment is confirmed</h1><p>Hi Ann,</p>\
        <table><tr><td>Booking code</td><td>BK-AAAA1</td></tr>\
        <tr><td>When</td><td>Tue 14 Jul 2026, 09:30&ndash;10:30 (PDT)</td></tr>\
        <tr><td>Service</td><td>Trim</td></tr><tr><td>Party</td><td>2</td></tr>\
        <tr><td>Total</td><td>$1,045.00</td></tr></table>\
        <p>Lumen &middot; shop #17</p></body></html>";
    let bytes = mail_builder::MessageBuilder::new()
        .from(("Lumen", "bookings@mail.bookly.app"))
        .to(("Ann", "Ann@Example.org"))
        .subject("Your appointment is confirmed – BK-AAAA1")
        .message_id("html-only@test")
        .header(
            "Date",
            mail_builder::headers::raw::Raw::new("Mon, 13 Jul 2026 09:00:00 -0700"),
        )
        .html_body(html)
        .write_to_vec()
        .unwrap();
    let rs = records(run(&bytes, &mapping("bookly")));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "starts_at"), "2026-07-14T16:30:00Z");
    assert_eq!(text(r, "ends_at"), "2026-07-14T17:30:00Z");
    assert_eq!(int(r, "party_size"), 2);
    assert_eq!(int(r, "amount"), 104500);
    assert_eq!(text(r, "service"), "Trim");
    assert_eq!(text(r, "business_id"), "17");
    assert_eq!(text(r, "customer.email"), "ann@example.org");
    assert_eq!(r.observed_at.as_deref(), Some("2026-07-13T16:00:00Z"));
    assert_eq!(
        text(main_of(&rs, Entity::Customer), "email"),
        "Ann@Example.org"
    );
}

#[test]
fn stripe_receipts_and_refunds() {
    let w = tiny_world(Flavour::Bookly);
    let all = all_messages(&w);
    let m = mapping("bookly");
    let rs = records(run(msg(&all, ".receipt.500@"), &m));
    let p = main_of(&rs, Entity::Payment);
    assert_eq!(text(p, "attr.receipt_number"), "1234-5678");
    assert_eq!(int(p, "amount"), 4500);
    assert_eq!(currency(p), "usd");
    assert_eq!(text(p, "status"), "succeeded");
    assert_eq!(text(p, "created_at"), "2026-02-01T17:01:00Z");
    assert_eq!(text(p, "attr.card_last4"), "4242");
    assert_eq!(text(p, "business.stripe_account"), "acct_1Lumen17");
    assert_eq!(text(p, "customer.email"), "ann.lee@example.org");
    assert_eq!(text(p, "processor"), "stripe");
    let b = main_of(&rs, Entity::Business);
    assert_eq!(text(b, "stripe_account"), "acct_1Lumen17");

    let rs = records(run(msg(&all, ".refund.500.0@"), &m));
    let p = main_of(&rs, Entity::Payment);
    assert_eq!(text(p, "status"), "refunded");
    assert_eq!(int(p, "amount_refunded"), 4500);
    assert!(p.get("created_at").is_none());

    let rs = records(run(msg(&all, ".refund.501.0@"), &m));
    let p = main_of(&rs, Entity::Payment);
    assert_eq!(text(p, "status"), "partially_refunded");
    assert_eq!(int(p, "amount_refunded"), 1000);
    assert_eq!(int(p, "amount"), 123450);
    assert_eq!(currency(p), "eur");
    assert_eq!(text(p, "attr.card_last4"), "1881");

    // Turned off: the same receipt is unmatched.
    let off = Mapping::parse("stripe_receipts = false", std::path::Path::new("x")).unwrap();
    match run(msg(&all, ".receipt.500@"), &off) {
        Outcome::Skipped { skip, .. } => {
            assert_eq!(skip.kind, extract::UNMATCHED);
            assert!(
                skip.reason.contains("receipts+acct_1Lumen17@stripe.com"),
                "{}",
                skip.reason
            );
            assert!(skip.reason.contains("#9999-9999"), "{}", skip.reason);
        }
        o => panic!("{o:?}"),
    }
}

/// Imports a whole rendered mbox: every message lands in exactly one bucket.
#[test]
fn mbox_end_to_end_buckets_and_duplicates() {
    let w = tiny_world(Flavour::Bookly);
    let dir = tempfile::tempdir().unwrap();
    crate::samples::mail::render(&w, dir.path()).unwrap();
    let mbox = dir.path().join("mail").join("app.mbox");
    let bytes = std::fs::read(&mbox).unwrap();
    // Add a duplicate of the first message and a truncated copy at the end.
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let second = text[1..].find("\nFrom ").map(|p| p + 2).unwrap();
    let first_msg = &text[..second];
    let mut all = text.clone();
    all.push_str(first_msg);
    all.push_str(&first_msg[..first_msg.len() / 3]);
    all.push_str("\n\nFrom x Tue Jul 14 16:30:00 2026\n\n\nFrom y Tue Jul 14 16:30:00 2026\nnot a mail at all\n");
    std::fs::write(&mbox, &all).unwrap();
    let separators = all
        .lines()
        .filter(|l| l.starts_with("From ") && l.ends_with("2026"))
        .count();
    let mut sink = VecSink::default();
    import_path(&dir.path().join("mail"), &mapping("bookly"), &mut sink).unwrap();
    let mut refs: Vec<&str> = sink
        .records
        .iter()
        .filter(|r| r.entity != Entity::Customer && r.entity != Entity::Business)
        .map(|r| r.source_ref.as_str())
        .collect();
    let n_extracted = refs.len();
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), n_extracted, "one main record per message");
    let dups = sink
        .skips
        .iter()
        .filter(|s| s.kind == extract::DUPLICATE)
        .count();
    assert!(dups >= 1, "{:?}", sink.skips);
    // Every entry is counted, the empty one after "From x" too (`empty_email`).
    assert_eq!(
        n_extracted + sink.skips.len(),
        separators,
        "{:#?}",
        sink.skips
    );
    for s in &sink.skips {
        assert!(s.location.starts_with("app.mbox@"), "{s:?}");
        assert!(
            [
                extract::DUPLICATE,
                extract::UNMATCHED,
                extract::UNREADABLE,
                extract::INCOMPLETE,
                EMPTY
            ]
            .contains(&s.kind.as_str()),
            "{s:?}"
        );
    }
    assert!(sink
        .skips
        .iter()
        .any(|s| s.kind == extract::UNMATCHED && s.reason.contains("news@")));
    assert!(sink
        .skips
        .iter()
        .any(|s| s.reason.contains("MAILER-DAEMON")));
}

#[test]
fn truncated_and_garbage_messages_land_in_a_bucket() {
    let w = tiny_world(Flavour::Bookly);
    let all = all_messages(&w);
    let m = mapping("bookly");
    let full = msg(&all, "confirm.101.0@");
    for cut in [
        0,
        1,
        10,
        40,
        100,
        200,
        full.len() / 3,
        full.len() / 2,
        full.len() - 10,
    ] {
        let _ = run(&full[..cut], &m);
    }
    // Cut in the body: recognised, but the fields are gone.
    let head_end = full.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    match run(&full[..head_end + 4], &m) {
        Outcome::Skipped { skip, .. } => {
            assert_eq!(skip.kind, extract::INCOMPLETE, "{skip:?}");
            assert!(
                skip.reason.contains("confirmation (v2)") && skip.reason.contains("starts_at"),
                "{skip:?}"
            );
        }
        o => panic!("{o:?}"),
    }
    for junk in [
        &b""[..],
        b"\x00\x01\x02",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest",
        b"just text\n",
    ] {
        match run(junk, &m) {
            Outcome::Skipped { skip, .. } => {
                assert!(
                    skip.kind == extract::UNREADABLE || skip.kind == extract::UNMATCHED,
                    "{skip:?}"
                )
            }
            o => panic!("{o:?}"),
        }
    }
}

/// CPython's email test corpus: real, partly malformed mail. Each file is one message;
/// none may panic and each lands in one bucket.
#[test]
fn cpython_email_corpus_never_panics() {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import test.test_email, os; print(os.path.dirname(test.test_email.__file__))",
        ])
        .output();
    let Ok(out) = out else {
        eprintln!("python3 not available: skipped");
        return;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("data");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("CPython email corpus not found: skipped");
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("msg_") && n.ends_with(".txt"))
        })
        .collect();
    files.sort();
    assert!(files.len() > 20, "{}", files.len());
    let m = mapping("bookly");
    for f in &files {
        let mut sink = VecSink::default();
        import_path(f, &m, &mut sink).unwrap();
        let main = sink
            .records
            .iter()
            .filter(|r| matches!(r.entity, Entity::Reservation | Entity::Payment))
            .count();
        // A file may be read as an mbox when it starts with "From " (a few do), so it may
        // hold more than one message; at least one bucket, and only known kinds.
        assert!(main + sink.skips.len() >= 1, "{}", f.display());
        assert_eq!(main, 0, "{} matched an app template", f.display());
        for s in &sink.skips {
            assert!(
                [extract::UNMATCHED, extract::UNREADABLE, extract::DUPLICATE]
                    .contains(&s.kind.as_str()),
                "{}: {s:?}",
                f.display()
            );
        }
    }
}

#[test]
fn values_are_typed() {
    let w = tiny_world(Flavour::Bookly);
    let all = all_messages(&w);
    let rs = records(run(msg(&all, "confirm.101.0@"), &mapping("bookly")));
    let r = main_of(&rs, Entity::Reservation);
    assert!(matches!(r.get("amount"), Some(Value::Int(_))));
    assert!(matches!(r.get("party_size"), Some(Value::Int(_))));
    assert!(matches!(r.get("business_id"), Some(Value::Text(_))));
}

#[test]
fn tablehop_templates_both_versions() {
    let w = tiny_world(Flavour::Tablehop);
    let all = all_messages(&w);
    let m = mapping("tablehop");

    // v1 (February): long US dates, no zone written (the Date header's -0800 is used).
    let raw = String::from_utf8_lossy(msg(&all, "confirm.100.0@")).into_owned();
    assert!(raw.contains("(ref TH48213)"), "{raw}");
    let rs = records(run(msg(&all, "confirm.100.0@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "reference"), "TH48213");
    assert_eq!(text(r, "status"), "confirmed");
    assert_eq!(text(r, "starts_at"), "2026-02-10T17:30:00Z");
    assert_eq!(int(r, "party_size"), 1);
    assert_eq!(int(r, "amount"), 4500);
    assert_eq!(currency(r), "usd");
    assert_eq!(text(r, "business.name"), "Lumen Hair Studio");
    assert_eq!(text(r, "business.email"), "hello@lumen.example");
    assert!(r.get("business_id").is_none());
    let c = main_of(&rs, Entity::Customer);
    assert_eq!(text(c, "name"), "Ann Lee");
    assert_eq!(text(c, "business.email"), "hello@lumen.example");
    let b = main_of(&rs, Entity::Business);
    assert_eq!(text(b, "email"), "hello@lumen.example");

    let rs = records(run(msg(&all, "change.100.1@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "starts_at"), "2026-02-11T18:00:00Z");
    assert_eq!(int(r, "party_size"), 2);
    assert!(r.get("status").is_none());
    assert_eq!(text(r, "updated_at"), "2026-02-03T10:00:00Z");
    assert!(r.get("created_at").is_none());

    let rs = records(run(msg(&all, "cancel.100.2@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "status"), "cancelled");
    assert_eq!(text(r, "starts_at"), "2026-02-11T18:00:00Z");

    // v2 (September, Berlin): day-first dates, continental euros, RFC 2047 venue name.
    let rs = records(run(msg(&all, "confirm.101.0@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "reference"), "TH90017");
    assert_eq!(text(r, "starts_at"), "2026-07-14T17:30:00Z");
    assert_eq!(int(r, "party_size"), 12);
    assert_eq!(int(r, "amount"), 123450);
    assert_eq!(currency(r), "eur");
    assert_eq!(text(r, "business.name"), "Café Zürich & Söhne");
    assert_eq!(text(r, "business.email"), "info@cafe-zuerich.example");

    let rs = records(run(msg(&all, "change.101.1@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "starts_at"), "2026-09-14T18:00:00Z");
    assert_eq!(int(r, "party_size"), 14);
    assert_eq!(int(r, "amount"), 140000);

    // On hold in Tokyo, yen.
    let rs = records(run(msg(&all, "confirm.102.0@"), &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "status"), "pending");
    assert_eq!(text(r, "starts_at"), "2026-10-20T10:00:00Z");
    assert_eq!(int(r, "amount"), 12000);
    assert_eq!(currency(r), "jpy");

    // Stripe receipts read the same whatever the app.
    let rs = records(run(msg(&all, ".receipt.501@"), &m));
    let p = main_of(&rs, Entity::Payment);
    assert_eq!(text(p, "attr.receipt_number"), "2222-3333");
    assert_eq!(int(p, "amount"), 123450);
    assert_eq!(text(p, "created_at"), "2026-09-01T08:02:00Z");

    // A bookly mail is nothing to the tablehop mapping.
    let bw = tiny_world(Flavour::Bookly);
    let ball = all_messages(&bw);
    assert!(matches!(
        run(msg(&ball, "confirm.101.0@"), &m),
        Outcome::Skipped { ref skip, .. } if skip.kind == extract::UNMATCHED
    ));
}

/// Every rendered message of both flavours is extracted by its flavour's mapping.
#[test]
fn every_rendered_message_is_extracted() {
    for (flavour, name) in [(Flavour::Bookly, "bookly"), (Flavour::Tablehop, "tablehop")] {
        let w = tiny_world(flavour);
        let m = mapping(name);
        for (id, bytes) in all_messages(&w) {
            let junk = ["news.", "bounce.", "payout."]
                .iter()
                .any(|p| id.starts_with(p));
            match run(&bytes, &m) {
                Outcome::Extracted { .. } => assert!(!junk, "{id} extracted"),
                Outcome::Skipped { skip, .. } => assert!(junk, "{name} {id}: {skip:?}"),
            }
        }
    }
}

/// Timing on a big archive: `SALVAGE_MBOX=path SALVAGE_MAPPING=path cargo test --release
/// -- --ignored email_import_speed --nocapture`.
#[test]
#[ignore]
fn email_import_speed() {
    let (Ok(p), Ok(mp)) = (
        std::env::var("SALVAGE_MBOX"),
        std::env::var("SALVAGE_MAPPING"),
    ) else {
        return;
    };
    let m = Mapping::load(Some(std::path::Path::new(&mp))).unwrap();
    struct Count(usize, usize);
    impl crate::claims::RecordSink for Count {
        fn record(&mut self, _: Record) -> crate::Result<()> {
            self.0 += 1;
            Ok(())
        }
        fn skip(&mut self, _: crate::claims::Skip) -> crate::Result<()> {
            self.1 += 1;
            Ok(())
        }
    }
    let t = std::time::Instant::now();
    let mut c = Count(0, 0);
    import_path(std::path::Path::new(&p), &m, &mut c).unwrap();
    eprintln!("{} records, {} skips in {:?}", c.0, c.1, t.elapsed());
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn main_refs(sink: &VecSink) -> Vec<String> {
    let mut v: Vec<String> = sink
        .records
        .iter()
        .filter(|r| matches!(r.entity, Entity::Reservation | Entity::Payment))
        .map(|r| r.source_ref.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn maildir_eml_directory_single_file_and_gzip() {
    let w = tiny_world(Flavour::Bookly);
    let all = all_messages(&w);
    let m = mapping("bookly");
    let apps: Vec<&(String, Vec<u8>)> = all
        .iter()
        .filter(|(id, _)| {
            !["news.", "bounce.", "payout."]
                .iter()
                .any(|p| id.starts_with(p))
        })
        .collect();
    assert!(apps.len() >= 8);
    let dir = tempfile::tempdir().unwrap();

    // Maildir: cur/ and new/ are read, tmp/ (delivery in progress) is not.
    let md = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::write(md.join("cur/1.host:2,S"), &apps[0].1).unwrap();
    std::fs::write(md.join("new/2.host"), &apps[1].1).unwrap();
    std::fs::write(md.join("tmp/3.host"), &apps[2].1).unwrap();
    let mut sink = VecSink::default();
    import_path(&md, &m, &mut sink).unwrap();
    let mut want = vec![
        format!("email:{}", apps[0].0),
        format!("email:{}", apps[1].0),
    ];
    want.sort();
    assert_eq!(main_refs(&sink), want);
    // tmp/ is named, not imported.
    assert_eq!(sink.skips.len(), 1, "{:?}", sink.skips);
    assert_eq!(sink.skips[0].kind, UNDELIVERED);
    assert_eq!(sink.skips[0].location, "tmp/3.host@0");

    // A directory of .eml files, one of them gzipped, one an Outlook .msg.
    let ed = dir.path().join("eml");
    std::fs::create_dir_all(ed.join("sub")).unwrap();
    std::fs::write(ed.join("a.eml"), &apps[3].1).unwrap();
    std::fs::write(ed.join("sub/b.eml.gz"), gz(&apps[4].1)).unwrap();
    std::fs::write(
        ed.join("c.msg"),
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0",
    )
    .unwrap();
    let mut sink = VecSink::default();
    import_path(&ed, &m, &mut sink).unwrap();
    assert_eq!(main_refs(&sink).len(), 2);
    assert_eq!(sink.skips.len(), 1);
    assert_eq!(sink.skips[0].location, "c.msg@0");
    assert!(sink.skips[0].reason.contains("Outlook"), "{:?}", sink.skips);

    // One .eml file.
    let mut sink = VecSink::default();
    import_path(&ed.join("a.eml"), &m, &mut sink).unwrap();
    assert_eq!(main_refs(&sink), vec![format!("email:{}", apps[3].0)]);

    // A gzipped mbox, streamed: the same as the plain one.
    let mut plain = Vec::new();
    crate::samples::mail::write_mbox(&w, &mut plain).unwrap();
    std::fs::write(dir.path().join("x.mbox"), &plain).unwrap();
    std::fs::write(dir.path().join("x.mbox.gz"), gz(&plain)).unwrap();
    let mut a = VecSink::default();
    import_path(&dir.path().join("x.mbox"), &m, &mut a).unwrap();
    let mut b = VecSink::default();
    import_path(&dir.path().join("x.mbox.gz"), &m, &mut b).unwrap();
    assert_eq!(a.records, b.records);
    assert!(a.records.len() > 10);
    let locs = |s: &VecSink| {
        s.skips
            .iter()
            .map(|k| k.location.replace(".gz", ""))
            .collect::<Vec<_>>()
    };
    assert_eq!(locs(&a), locs(&b));

    // A gzip file cut short: what was read counts, the rest is one unreadable skip.
    let z = gz(&plain);
    std::fs::write(dir.path().join("cut.mbox.gz"), &z[..z.len() / 2]).unwrap();
    let mut c = VecSink::default();
    import_path(&dir.path().join("cut.mbox.gz"), &m, &mut c).unwrap();
    assert!(!c.records.is_empty());
    assert!(c.records.len() < a.records.len());
    assert!(
        c.skips.iter().any(|s| s.kind == extract::UNREADABLE),
        "{:?}",
        c.skips
    );

    // Nothing there.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = import_path(&empty, &m, &mut VecSink::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no mail files"), "{e}");
}

#[test]
fn import_reads_the_spec_and_sets_progress() {
    let w = tiny_world(Flavour::Tablehop);
    let dir = tempfile::tempdir().unwrap();
    crate::samples::mail::render(&w, dir.path()).unwrap();
    let mapping_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mappings/tablehop/email.toml");
    let inc = dir.path().join("incident.toml");
    std::fs::write(
        &inc,
        format!(
            "incident_at='2026-11-20T14:30:00Z'\n[[sources]]\nname='mail'\nkind='email'\npath='mail'\nmapping={:?}\n",
            mapping_path.to_string_lossy()
        ),
    )
    .unwrap();
    let incident = crate::incident::Incident::load(&inc).unwrap();
    let pb = indicatif::ProgressBar::hidden();
    let ctx = crate::import::ImportContext {
        incident: &incident,
        spec: &incident.sources[0],
        progress: &pb,
    };
    let mut sink = VecSink::default();
    import(&ctx, &mut sink).unwrap();
    let len = std::fs::metadata(dir.path().join("mail/app.mbox"))
        .unwrap()
        .len();
    assert_eq!(pb.length(), Some(len));
    assert_eq!(pb.position(), len);
    assert!(sink.records.iter().any(|r| r.entity == Entity::Reservation));
    assert!(sink
        .records
        .iter()
        .all(|r| r.source_ref.starts_with("email:")));
}

/// A zone-less time ("14/11/2026 at 19:30") is read in the zone the venue's mail shows
/// over the months, not at the offset of the day the mail was sent.
#[test]
fn zone_less_times_use_the_zone_inferred_from_date_headers() {
    let w = tiny_world(Flavour::Tablehop);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("all.mbox");
    std::fs::write(&p, crate::samples::mail::tests::full_mbox(&w)).unwrap();
    let mut sink = VecSink::default();
    import_path(&p, &mapping("tablehop"), &mut sink).unwrap();
    let res = |code: &str| {
        sink.records
            .iter()
            .find(|r| {
                r.entity == Entity::Reservation
                    && r.get("reference").and_then(|v| v.as_text()) == Some(code)
            })
            .unwrap_or_else(|| panic!("{code}"))
    };
    // Sent in October at +02:00, for a November evening at +01:00.
    assert_eq!(text(res("TH10300"), "starts_at"), "2026-11-14T18:30:00Z");
    assert_eq!(text(res("TH10400"), "starts_at"), "2026-11-10T11:00:00Z");
    assert_eq!(text(res("TH90017"), "starts_at"), "2026-07-14T17:30:00Z");
    // A venue seen at one offset only keeps the Date header's offset.
    assert_eq!(text(res("TH55555"), "starts_at"), "2026-10-20T10:00:00Z");
    // Receipts float too (no zone in "Date paid") and come out right.
    let p = sink
        .records
        .iter()
        .find(|r| r.entity == Entity::Payment && r.get("created_at").is_some())
        .unwrap();
    assert!(["2026-02-01T17:01:00Z", "2026-09-01T08:02:00Z"].contains(&text(p, "created_at")));
}

#[test]
fn format_hint_of_the_source() {
    let w = tiny_world(Flavour::Bookly);
    let all = all_messages(&w);
    let dir = tempfile::tempdir().unwrap();
    // An .eml export with an envelope line first.
    let mut eml = b"From bookings@mail.bookly.app Tue Jul 14 16:30:00 2026\n".to_vec();
    eml.extend_from_slice(msg(&all, "confirm.100.0@"));
    std::fs::write(dir.path().join("one.eml"), &eml).unwrap();
    let mapping_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mappings/bookly/email.toml");
    let run_with = |format: &str| -> crate::Result<VecSink> {
        let inc = dir.path().join("incident.toml");
        std::fs::write(
            &inc,
            format!(
                "incident_at='2026-11-20T14:30:00Z'\n[[sources]]\nname='mail'\nkind='email'\npath='one.eml'\nformat={format:?}\nmapping={:?}\n",
                mapping_path.to_string_lossy()
            ),
        )
        .unwrap();
        let incident = crate::incident::Incident::load(&inc).unwrap();
        let pb = indicatif::ProgressBar::hidden();
        let ctx = crate::import::ImportContext {
            incident: &incident,
            spec: &incident.sources[0],
            progress: &pb,
        };
        let mut sink = VecSink::default();
        import(&ctx, &mut sink)?;
        Ok(sink)
    };
    for f in ["eml", "auto", "mbox"] {
        let s = run_with(f).unwrap();
        assert_eq!(main_refs(&s).len(), 1, "{f}: {:?}", s.skips);
    }
    let e = run_with("pst").unwrap_err().to_string();
    assert!(
        e.contains("incident.toml") && e.contains("pst") && e.contains("mbox"),
        "{e}"
    );
}

/// Every template of both flavours, in both versions: created (confirmed and pending),
/// changed, cancelled, reminder.
#[test]
fn every_template_of_every_flavour() {
    use crate::samples::mail::tests::app_mail_at;
    let ts = |s: &str| crate::util::time::parse_any(s, None).unwrap();
    for (flavour, name) in [(Flavour::Bookly, "bookly"), (Flavour::Tablehop, "tablehop")] {
        let w = tiny_world(flavour);
        let m = mapping(name);
        for at in ["2026-02-01T12:00:00Z", "2026-10-01T12:00:00Z"] {
            let at = ts(at);
            // (reservation index, version, kind, status the mail implies)
            let pending = w.reservations.iter().position(|r| r.id == 102).unwrap();
            let cases = [
                (0, 0, "created", Some("confirmed")),
                (pending, 0, "created", Some("pending")),
                (0, 1, "changed", None),
                (0, 2, "cancelled", Some("cancelled")),
                (0, 1, "reminder", Some("confirmed")),
                (1, 1, "reminder", Some("confirmed")),
            ];
            for (ri, vi, kind, status) in cases {
                let r = &w.reservations[ri];
                let v = &r.versions[vi];
                let bytes = app_mail_at(&w, ri, vi, kind, at);
                let what = format!("{name} {kind} #{ri}.{vi} sent {at}");
                let rs = match run(&bytes, &m) {
                    Outcome::Extracted { records, .. } => records,
                    Outcome::Skipped { skip, .. } => panic!("{what}: {skip:?}"),
                };
                let rec = main_of(&rs, Entity::Reservation);
                assert_eq!(text(rec, "reference"), r.reference, "{what}");
                assert_eq!(
                    rec.get("status").and_then(|v| v.as_text()),
                    status,
                    "{what}"
                );
                // Zone-less tablehop times are read at the Date offset here (no history
                // of the venue's offsets in a single message): compare where that is right.
                let same_offset = {
                    let tz = crate::util::time::parse_zone(
                        &w.businesses
                            .iter()
                            .find(|b| b.id == r.business_id)
                            .unwrap()
                            .timezone,
                    )
                    .unwrap();
                    use chrono::{Offset, TimeZone};
                    tz.offset_from_utc_datetime(&at.naive_utc()).fix()
                        == tz.offset_from_utc_datetime(&v.starts_at.naive_utc()).fix()
                };
                if flavour == Flavour::Bookly || same_offset {
                    assert_eq!(
                        text(rec, "starts_at"),
                        crate::util::time::format_utc(v.starts_at),
                        "{what}"
                    );
                }
                if kind != "cancelled" {
                    assert_eq!(int(rec, "amount"), v.amount, "{what}");
                    let party_in_mail =
                        !(flavour == Flavour::Bookly && at < ts("2026-06-01T00:00:00Z"));
                    if party_in_mail {
                        assert_eq!(int(rec, "party_size"), v.party_size, "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn headers_and_message_id_are_captures() {
    let m = Mapping::parse(
        r#"
stripe_receipts = false
[[templates]]
name = "confirm"
version = "v1"
event = "reservation_created"
status = "confirmed"
subject = '^Booking confirmed \((?P<code>[A-Z0-9-]+)\)$'
[templates.fields]
reference = "{code}"
business_id = "{header.X-Shop-Id}"
id = { text = "{message_id}", pattern = '^app\.confirm\.([0-9]+)\.' }
"#,
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let mail = b"From: Reef via App <bookings@mail.app>\r\nTo: anna@x.org\r\nx-shop-id: 318\r\n\
Message-ID: <app.confirm.52211.1726300000@mail.app>\r\nDate: Sat, 14 Sep 2024 08:30:00 +0000\r\n\
Subject: Booking confirmed (KL24-7QX4M)\r\n\r\nHi Anna\r\n";
    let rs = records(run(mail, &m));
    let r = main_of(&rs, Entity::Reservation);
    assert_eq!(text(r, "reference"), "KL24-7QX4M");
    assert_eq!(
        text(r, "business_id"),
        "318",
        "header names compared case-insensitively"
    );
    assert_eq!(text(r, "id"), "52211");
}
