//! `salvage schedule` (and the schedule `salvage run` writes): per business, the upcoming
//! bookings as CSV and iCalendar, from the real binary on the bundled demo.

use crate::util::*;

/// Unfolds an iCalendar text (RFC 5545 3.1) into its content lines, checking the folding:
/// CRLF endings, no line over 75 octets.
fn content_lines(ics: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in ics.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(raw.len() <= 75, "a line over 75 octets: {raw:?}");
        match raw.strip_prefix(' ') {
            Some(rest) => out.last_mut().expect("a continuation line").push_str(rest),
            None => out.push(raw.to_string()),
        }
    }
    out
}

#[test]
fn the_run_writes_each_business_its_upcoming_bookings() {
    let d = Dir::new();
    let mut c = d.cmd();
    c.arg("run")
        .arg(root().join("samples/demo/incident.toml"))
        .args(["--out", "out", "--quiet"]);
    let text = stdout(&ok(c));
    assert!(
        text.contains("upcoming bookings from 2026-11-20T14:30:00Z"),
        "{text}"
    );
    let db = sqlite(&d.join("out/recovered.sqlite"));
    let upcoming = count(
        &db,
        "SELECT count(*) FROM reservations WHERE starts_at >= '2026-11-20T14:30:00Z' AND status IN ('confirmed','pending')",
    );
    assert!(upcoming > 20, "{upcoming}");

    // The index: one line per business, the bookings add up to the upcoming ones.
    let index = std::fs::read_to_string(d.join("out/schedule/index.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(index.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len() as i64,
        count(&db, "SELECT count(*) FROM businesses")
    );
    let total: i64 = rows
        .iter()
        .map(|r| r[col("bookings")].parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, upcoming);

    // A business's CSV: its bookings in its own zone (Europe/London: UTC in November).
    let (b12, ics_name) = rows
        .iter()
        .find(|r| &r[col("business_id")] == "12")
        .map(|r| (r[col("csv")].to_string(), r[col("ics")].to_string()))
        .unwrap();
    let csv_text = std::fs::read_to_string(d.join("out/schedule").join(&b12)).unwrap();
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let first = rdr.records().next().unwrap().unwrap();
    let get = |n: &str| first[h.iter().position(|x| x == n).unwrap()].to_string();
    assert_eq!(get("zone"), "Europe/London");
    let id = get("reservation_id");
    let starts: String = db
        .query_row(
            "SELECT starts_at FROM reservations WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        get("starts"),
        starts
            .replace('T', " ")
            .trim_end_matches(":00Z")
            .to_string()
    );
    assert!(!get("customer").is_empty() && !get("email").is_empty());

    // A business in another zone: Berlin is UTC+1 in November.
    let b1 = std::fs::read_to_string(d.join("out/schedule/business-1.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(b1.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let r = rdr.records().next().unwrap().unwrap();
    let rid = &r[h.iter().position(|x| x == "reservation_id").unwrap()];
    let utc: String = db
        .query_row(
            "SELECT starts_at FROM reservations WHERE id = ?1",
            [rid],
            |x| x.get(0),
        )
        .unwrap();
    let local = &r[h.iter().position(|x| x == "starts").unwrap()];
    let hour = |s: &str, at: usize| s[at..at + 2].parse::<i64>().unwrap();
    assert_eq!(
        (hour(&utc, 11) + 1) % 24,
        hour(local, 11),
        "{utc} vs {local}"
    );

    // The iCalendar file: well folded, one event per booking, each with the RFC's
    // required properties, times in UTC.
    let ics = std::fs::read_to_string(d.join("out/schedule").join(&ics_name)).unwrap();
    let lines = content_lines(&ics);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    let events = lines.iter().filter(|l| *l == "BEGIN:VEVENT").count();
    let csv_rows = csv_text.lines().count() - 1;
    assert_eq!(events, csv_rows);
    for prop in ["UID:", "DTSTAMP:", "DTSTART:", "DTEND:", "SUMMARY:"] {
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(prop)).count(),
            events,
            "{prop}"
        );
    }
    assert!(lines
        .iter()
        .filter(|l| l.starts_with("DTSTART:"))
        .all(|l| l.ends_with('Z') && l.len() == "DTSTART:20261121T110000Z".len()));
    assert!(lines
        .iter()
        .any(|l| l == &format!("UID:{id}@salvage.recovered")));

    // Doubtful bookings are marked, in both files.
    let marked: i64 = rows
        .iter()
        .map(|r| r[col("to_check")].parse::<i64>().unwrap())
        .sum();
    assert!(marked > 0, "the demo has bookings to check");
    let all_ics: String = rows
        .iter()
        .filter(|r| !r[col("ics")].is_empty())
        .map(|r| std::fs::read_to_string(d.join("out/schedule").join(&r[col("ics")])).unwrap())
        .collect();
    let tentative_checks = all_ics.matches("SUMMARY:[check] ").count() as i64;
    assert_eq!(tentative_checks, marked);

    // `salvage schedule` alone: one business, a week, into another folder.
    let mut c = d.cmd();
    c.args([
        "schedule",
        "--recovered",
        "out/recovered.sqlite",
        "--out",
        "week",
    ])
    .args(["--business", "12", "--days", "7"]);
    let text = stdout(&ok(c));
    assert!(text.contains("for 1 businesses"), "{text}");
    let week = std::fs::read_to_string(d.join("week/business-12.csv")).unwrap();
    let in_week = count(
        &db,
        "SELECT count(*) FROM reservations WHERE business_id = '12' AND status IN ('confirmed','pending')
           AND starts_at >= '2026-11-20T14:30:00Z' AND starts_at < '2026-11-27T14:30:00Z'",
    );
    assert_eq!(week.lines().count() as i64 - 1, in_week);
    assert!(!d.join("week/business-1.csv").exists());
    // A business the file does not have: one line that says so.
    let mut c = d.cmd();
    c.args([
        "schedule",
        "--recovered",
        "out/recovered.sqlite",
        "--out",
        "x",
    ])
    .args(["--business", "nope"]);
    let err = fails(c);
    assert!(err.contains("no business with id \"nope\""), "{err}");
}
