//! `salvage export --parquet`: the demo's tables, provenance and claims as Parquet, read
//! back with a Parquet reader: row counts and the money sum equal those of the SQLite
//! file the same export wrote.

use crate::util::*;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

fn rows(path: &std::path::Path) -> Vec<parquet::record::Row> {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    r.get_row_iter(None).unwrap().map(|r| r.unwrap()).collect()
}

#[test]
fn parquet_export_equals_the_sqlite_file() {
    let d = Dir::new();
    let mut c = d.cmd();
    c.arg("run")
        .arg(root().join("samples/demo/incident.toml"))
        .args(["--out", "out", "--quiet"]);
    ok(c);
    let mut c = d.cmd();
    c.args([
        "export",
        "--workspace",
        "out/workspace",
        "--out",
        "again.sqlite",
        "--parquet",
        "pq",
    ]);
    ok(c);
    let db = rusqlite::Connection::open(d.join("again.sqlite")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    for t in [
        "businesses",
        "customers",
        "reservations",
        "payments",
        "provenance",
        "review_queue",
        "run_info",
    ] {
        let n = rows(&d.join(&format!("pq/{t}.parquet"))).len() as i64;
        assert_eq!(n, count(&format!("SELECT count(*) FROM {t}")), "{t}");
    }
    // The money: the same sum of amounts, per currency too.
    let pay = rows(&d.join("pq/payments.parquet"));
    let mut sum = 0i64;
    for r in &pay {
        for (name, f) in r.get_column_iter() {
            if name == "amount" {
                if let Field::Long(a) = f {
                    sum += a;
                }
            }
        }
    }
    assert!(sum > 0);
    assert_eq!(sum, count("SELECT sum(amount) FROM payments"));
    // Every claim of every source, one row per field.
    let claims = rows(&d.join("pq/claims.parquet")).len() as i64;
    let ws = rusqlite::Connection::open(d.join("out/workspace/workspace.sqlite")).unwrap();
    let fields: i64 = ws
        .query_row(
            "SELECT sum(json_array_length(fields)) FROM records",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(claims, fields);
}
