//! The output contract: the tables and columns of `recovered.sqlite` (`recovered-db.sql`,
//! version 1) and our additions to it. This is the only place that knows the contract
//! schema; merge, evaluate and export all read it from here (export depends on merge,
//! never the reverse).

use crate::claims::Entity;

/// The contract, version 1, as DDL. Checked against `../shared/recovered-db.sql` by a test.
pub const CONTRACT_DDL: &str = r#"
CREATE TABLE businesses (
  id             TEXT PRIMARY KEY,
  name           TEXT,
  email          TEXT,
  stripe_account TEXT,
  confidence     REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  sources        TEXT NOT NULL
);
CREATE TABLE customers (
  id              TEXT PRIMARY KEY,
  business_id     TEXT NOT NULL REFERENCES businesses(id),
  name            TEXT,
  email           TEXT,
  phone           TEXT,
  stripe_customer TEXT,
  created_at      TEXT,
  confidence      REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  sources         TEXT NOT NULL
);
CREATE TABLE reservations (
  id           TEXT PRIMARY KEY,
  business_id  TEXT NOT NULL REFERENCES businesses(id),
  customer_id  TEXT REFERENCES customers(id),
  reference    TEXT,
  service      TEXT,
  starts_at    TEXT,
  ends_at      TEXT,
  party_size   INTEGER,
  status       TEXT NOT NULL CHECK (status IN
                 ('pending','confirmed','cancelled','completed','no_show')),
  amount       INTEGER,
  currency     TEXT,
  created_at   TEXT,
  updated_at   TEXT,
  confidence   REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  sources      TEXT NOT NULL
);
CREATE TABLE payments (
  id              TEXT PRIMARY KEY,
  business_id     TEXT NOT NULL REFERENCES businesses(id),
  customer_id     TEXT REFERENCES customers(id),
  reservation_id  TEXT REFERENCES reservations(id),
  processor       TEXT NOT NULL,
  processor_id    TEXT,
  amount          INTEGER NOT NULL,
  amount_refunded INTEGER NOT NULL DEFAULT 0,
  currency        TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN
                    ('pending','succeeded','failed','refunded','partially_refunded','disputed')),
  created_at      TEXT,
  confidence      REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  sources         TEXT NOT NULL
);
CREATE TABLE provenance (
  table_name   TEXT NOT NULL,
  row_id       TEXT NOT NULL,
  column_name  TEXT NOT NULL,
  value        TEXT,
  source       TEXT NOT NULL,
  source_ref   TEXT NOT NULL,
  observed_at  TEXT,
  chosen       INTEGER NOT NULL
);
CREATE TABLE review_queue (
  table_name  TEXT NOT NULL,
  row_id      TEXT NOT NULL,
  reason      TEXT NOT NULL,
  confidence  REAL,
  details     TEXT
);
CREATE TABLE run_info (
  key    TEXT PRIMARY KEY,
  value  TEXT
);
"#;

/// Additions to the contract (allowed: new tables and indexes only).
pub const ADDITIONS_DDL: &str = r#"
-- The mapping's extra values of each row (`attr.<name>` in a mapping): a JSON object
-- {"name": "value"}, NULL when none. Each value's source is in provenance, column_name
-- 'extras.<name>'.
ALTER TABLE businesses ADD COLUMN extras TEXT;
ALTER TABLE customers ADD COLUMN extras TEXT;
ALTER TABLE reservations ADD COLUMN extras TEXT;
ALTER TABLE payments ADD COLUMN extras TEXT;
CREATE TABLE row_evidence (
  table_name  TEXT NOT NULL,
  row_id      TEXT NOT NULL,
  signature   TEXT NOT NULL,   -- what the row's confidence was read from (merge::confidence)
  PRIMARY KEY (table_name, row_id)
);
CREATE TABLE deleted_rows (
  table_name      TEXT NOT NULL,
  row_id          TEXT NOT NULL,   -- the id the row had (it is in no table)
  said_by         TEXT NOT NULL,   -- comma-separated source refs of the records that say so
  deleted_at      TEXT,            -- when the latest of them observed it
  alive_in_backup INTEGER NOT NULL -- 1: a backup record shows it alive (deleted after the backup)
);
CREATE TABLE record_links (
  table_name  TEXT NOT NULL,
  row_id      TEXT NOT NULL,
  record      TEXT NOT NULL,   -- source_ref of a record joined into the row
  joined_to   TEXT NOT NULL,   -- source_ref of the record it was joined to
  kind        TEXT NOT NULL,   -- 'similarity' (the linkage engine), 'identical'
  weight      REAL,            -- bits: prior plus every comparison's weight
  probability REAL,
  detail      TEXT             -- JSON: [{comparison, level, weight}]
);
"#;

/// Opens a recovered file of the contract read-only, for the tools that read it alone
/// (`explain`, `schedule`): an error naming the file and what to give instead when it is
/// missing, not SQLite, or not of this contract.
pub fn open_recovered(path: &std::path::Path) -> crate::Result<rusqlite::Connection> {
    use crate::Error;
    let what = "give the recovered.sqlite that `salvage run` (or `salvage export`) wrote";
    if !path.is_file() {
        return Err(Error::input(path, format!("no such file; {what}")));
    }
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| Error::input(path, format!("cannot open it as SQLite ({e}); {what}")))?;
    let found: rusqlite::Result<i64> = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('businesses', 'run_info')",
        [],
        |r| r.get(0),
    );
    match found {
        Ok(2) => Ok(conn),
        Ok(_) => Err(Error::input(
            path,
            format!("not a recovered file (no businesses or run_info table); {what}"),
        )),
        Err(e) => Err(Error::input(
            path,
            format!("not a SQLite file ({e}); {what}"),
        )),
    }
}

/// The contract columns of each table, in order, except `confidence` and `sources`
/// (the lists themselves are the canonical model's, [`Entity::columns`]).
pub fn columns(e: Entity) -> &'static [&'static str] {
    e.columns()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;
    use std::collections::BTreeMap;
    use std::path::Path;

    fn table_columns(conn: &Connection) -> BTreeMap<String, Vec<(String, String, bool)>> {
        let mut out = BTreeMap::new();
        let mut st = conn
            .prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
            .unwrap();
        let names: Vec<String> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        for n in names {
            let mut st = conn.prepare(&format!("PRAGMA table_info({n})")).unwrap();
            let cols = st
                .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? == 1)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            out.insert(n, cols);
        }
        out
    }

    #[test]
    fn schema_is_the_contract() {
        let contract = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/recovered-db.sql");
        let Ok(sql) = std::fs::read_to_string(&contract) else {
            eprintln!("skipped: {} not found", contract.display());
            return;
        };
        let theirs = Connection::open_in_memory().unwrap();
        theirs.execute_batch(&sql).unwrap();
        let ours = Connection::open_in_memory().unwrap();
        ours.execute_batch(CONTRACT_DDL).unwrap();
        let ours_cols = table_columns(&ours);
        for (table, cols) in table_columns(&theirs) {
            let mine = ours_cols
                .get(&table)
                .unwrap_or_else(|| panic!("missing {table}"));
            for c in cols {
                assert!(mine.contains(&c), "{table}: column {c:?} differs");
            }
        }
    }
}
