//! The way back into production: the rows that are new or changed since the backup's
//! snapshot, in the app's own schema, through the backup mapping read in reverse (table
//! and column names, money in the app's unit, status and value words, times as the app
//! stores them, `attr.*` extras back into their columns). Written as one PostgreSQL
//! script (one transaction: upserts for rows whose original id is known, inserts that take
//! a new id from the table's default for rows no source gave an id, their children
//! pointing at that id) and the same rows as CSV per table.
//!
//! Only rows at or above the confidence the user sets, or accepted in review, go back;
//! every other one is held back with its reason (as are the children of a row held back,
//! and rows missing a value every backup row has). A column the mapping derives (a
//! concatenation, a joined path, a constant) is not written back, and is named.

use crate::claims::{Entity, SourceKind};
use crate::error::{Error, Result};
use crate::import::backup::mapping::{EntityMap, Mapping, MoneyUnit, TsMode};
use crate::merge::{Recovered, Row};
use crate::report::offers;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Options {
    /// Rows under this confidence are held back unless accepted in review.
    pub min_confidence: f64,
}

/// A value as the script writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    /// A literal, quoted: PostgreSQL reads it as the column's type.
    Text(String),
    /// The new id of a row this script inserts (table, its contract id).
    NewId(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowOut {
    pub row_id: String,
    /// The app's id, when a source gave it (else the table's default assigns one).
    pub app_id: Option<String>,
    pub insert: bool,
    pub columns: Vec<(String, SqlValue)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TablePlan {
    pub entity: Option<Entity>,
    pub table: String,
    pub id_column: String,
    pub rows: Vec<RowOut>,
    pub unchanged: usize,
    /// Rows the backup has alive that were deleted since (a source says so, or a person
    /// rejected them in review), soft-deleted as the app does it: (app id, column, time).
    pub soft_deletes: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub tables: Vec<TablePlan>,
    /// (table, row id, why).
    pub held_back: Vec<(String, String, String)>,
    /// (table, field, why): mapped fields that cannot be written back.
    pub not_written: Vec<(String, String, String)>,
}

const REFS: [(&str, Entity); 3] = [
    ("business_id", Entity::Business),
    ("customer_id", Entity::Customer),
    ("reservation_id", Entity::Reservation),
];
const TIMES: [&str; 4] = ["created_at", "updated_at", "starts_at", "ends_at"];
const MONEY: [&str; 2] = ["amount", "amount_refunded"];

/// The app column a field is written back to, when the mapping reads it from one column.
fn reversible(column: &crate::import::backup::mapping::Columns) -> Option<&str> {
    column.single().filter(|c| !c.contains("->"))
}

/// The app's word for a canonical word: itself when the app uses it, else the first app
/// word (in the mapping's order of keys) that maps to it.
fn app_word<'a>(map: &'a BTreeMap<String, String>, canonical: &'a str) -> Option<&'a str> {
    if map.is_empty() || map.get(canonical).is_some_and(|c| c == canonical) {
        return Some(canonical);
    }
    map.iter()
        .find(|(_, c)| c.as_str() == canonical)
        .map(|(app, _)| app.as_str())
}

pub fn plan(rec: &Recovered, mapping: &Mapping, opts: &Options) -> Plan {
    let mut plan = Plan::default();
    let zones: HashMap<&str, chrono_tz::Tz> = rec
        .businesses
        .iter()
        .filter_map(|b| {
            let z = b.extras.get("timezone")?;
            Some((b.id.as_str(), crate::util::time::parse_zone(z)?))
        })
        .collect();
    // Rows a person accepted in review go back whatever their confidence.
    let accepted: HashSet<(Entity, &str)> = rec
        .provenance
        .iter()
        .filter(|p| {
            p.source == SourceKind::Review && p.column == "review" && p.value == Some("accept")
        })
        .map(|p| (p.entity, p.row_id))
        .collect();
    // Rows that go back by a new id, and rows held back: children follow their parents.
    let mut new_ids: HashMap<(Entity, String), String> = HashMap::new();
    let mut held: HashSet<(Entity, String)> = HashSet::new();
    for (entity, em) in mapping.entities() {
        let table = em.table.clone();
        let fields: Vec<(&str, &str)> = em
            .fields
            .iter()
            .filter_map(|(f, c)| match reversible(c) {
                Some(col) => Some((f.as_str(), col)),
                None => {
                    plan.not_written.push((
                        table.clone(),
                        f.clone(),
                        format!("read from {:?}, which cannot be written back", c.names()),
                    ));
                    None
                }
            })
            .filter(|(f, _)| *f != "id")
            // A row's currency goes back to its column, when the mapping reads it from one.
            .chain(em.currency_column.as_deref().map(|c| ("currency", c)))
            .collect();
        let contract: Vec<&str> = fields
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| !f.starts_with("attr."))
            .collect();
        let offered = offers::collect(rec, entity, &contract);
        let rows = rec.rows(entity);
        // A column every backup row has a value for is one the app requires.
        let required: Vec<&str> = contract
            .iter()
            .copied()
            .filter(|f| {
                let mut backed = rows
                    .iter()
                    .filter(|r| r.sources.contains(&SourceKind::Backup))
                    .peekable();
                backed.peek().is_some() && backed.all(|r| r.get(f).is_some())
            })
            .collect();
        let mut tp = TablePlan {
            entity: Some(entity),
            table: table.clone(),
            id_column: em.id.clone(),
            ..Default::default()
        };
        for row in rows {
            let key = (entity, row.id.clone());
            let in_backup = row.sources.contains(&SourceKind::Backup);
            // A row the backup has stays in the database when its update is held back,
            // so its children can still point at it; a new row held back takes them along.
            let hold = |why: String, held: &mut HashSet<(Entity, String)>, plan: &mut Plan| {
                if !in_backup {
                    held.insert(key.clone());
                }
                plan.held_back.push((table.clone(), row.id.clone(), why));
            };
            let offer = offered.get(row.id.as_str());
            // The columns whose value differs from the backup's (all, for a new row).
            let changed: Vec<&str> = fields
                .iter()
                .map(|(f, _)| *f)
                .filter(|f| {
                    if !in_backup {
                        return true;
                    }
                    if f.starts_with("attr.") {
                        return false; // extras are restored with new rows only
                    }
                    let i = contract
                        .iter()
                        .position(|c| c == f)
                        .expect("contract field");
                    let o = offer.map(|o| &o[i]);
                    // The backup's own value, only written in the contract's form (a
                    // phone in E.164), is no change.
                    if o.and_then(|o| o.chosen)
                        .is_some_and(|(_, src)| src == SourceKind::Backup)
                    {
                        return false;
                    }
                    let was = o.and_then(|o| o.backup);
                    let now = row.get(f).and_then(|v| v.render());
                    now.is_some() && !same_value(f, now.as_deref(), was)
                })
                .collect();
            if in_backup && changed.is_empty() {
                tp.unchanged += 1;
                continue;
            }
            if row.confidence < opts.min_confidence
                && !accepted.contains(&(entity, row.id.as_str()))
            {
                hold(
                    format!(
                        "confidence {:.3} under {} and not accepted in review",
                        row.confidence, opts.min_confidence
                    ),
                    &mut held,
                    &mut plan,
                );
                continue;
            }
            if let Some((f, parent)) = REFS.iter().find_map(|(f, e)| {
                let id = row.text(f)?;
                held.contains(&(*e, id.to_string())).then_some((*f, id))
            }) {
                hold(
                    format!("its {f} {parent} is held back"),
                    &mut held,
                    &mut plan,
                );
                continue;
            }
            if !in_backup {
                if let Some(f) = required.iter().find(|f| row.get(f).is_none()) {
                    let col = fields.iter().find(|(n, _)| n == f).map_or("", |(_, c)| *c);
                    hold(
                        format!("no value for {f} (column {col}), which every backup row has"),
                        &mut held,
                        &mut plan,
                    );
                    continue;
                }
            }
            let mut columns = Vec::new();
            let mut bad = None;
            for (f, col) in &fields {
                if !changed.contains(f) {
                    continue;
                }
                match value_for(row, f, em, mapping, &zones, &new_ids) {
                    // No value: the column is left out, so the app's default applies (a
                    // NULL written would override it, and break a NOT NULL DEFAULT).
                    Ok(SqlValue::Null) => {}
                    Ok(v) => columns.push((col.to_string(), v)),
                    Err(why) => {
                        bad = Some(why);
                        break;
                    }
                }
            }
            if let Some(why) = bad {
                hold(why, &mut held, &mut plan);
                continue;
            }
            let synthetic = row.id.starts_with("rec_");
            if synthetic && !in_backup {
                new_ids.insert(key.clone(), table.clone());
            }
            tp.rows.push(RowOut {
                row_id: row.id.clone(),
                app_id: (!synthetic).then(|| row.id.clone()),
                insert: !in_backup,
                columns,
            });
        }
        // Deleted since the backup: soft-deleted in the app's own column, never removed.
        let rejected: HashSet<&str> = rec
            .provenance
            .iter()
            .filter(|p| {
                p.entity == entity
                    && p.source == SourceKind::Review
                    && p.column == "review"
                    && p.value == Some("reject")
            })
            .map(|p| p.row_id)
            .collect();
        let in_backup: HashSet<&str> = if rejected.is_empty() {
            HashSet::new()
        } else {
            rec.provenance
                .iter()
                .filter(|p| {
                    p.entity == entity
                        && p.source == SourceKind::Backup
                        && rejected.contains(p.row_id)
                })
                .map(|p| p.row_id)
                .collect()
        };
        let incident = rec.run_info.get("incident_at").cloned().unwrap_or_default();
        let gone: Vec<(&str, String, &str)> = rec
            .deleted
            .iter()
            .filter(|d| d.entity == entity && d.alive_in_backup)
            .map(|d| {
                (
                    d.row_id.as_str(),
                    d.deleted_at.clone().unwrap_or_else(|| incident.clone()),
                    "a source says it was deleted since the backup",
                )
            })
            .chain(
                in_backup
                    .iter()
                    .map(|id| (*id, incident.clone(), "rejected in review")),
            )
            .collect();
        for (id, at, why) in gone {
            match em.deleted_column.as_ref().and_then(reversible) {
                Some(col) if !id.starts_with("rec_") => {
                    tp.soft_deletes.push((id.to_string(), col.to_string(), at))
                }
                _ => plan.held_back.push((
                    table.clone(),
                    id.to_string(),
                    format!("{why}, but the mapping names no deleted_column to mark it in; delete it by hand if it must go"),
                )),
            }
        }
        plan.tables.push(tp);
    }
    plan
}

/// Whether two renderings of field `f` say the same (phones by their digits, emails
/// without case).
fn same_value(f: &str, a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if f == "phone" => {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let (da, db) = (digits(a), digits(b));
            da == db || (da.len() >= 7 && db.len() >= 7 && (da.ends_with(&db) || db.ends_with(&da)))
        }
        (Some(a), Some(b)) if f == "email" => a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    }
}

/// The value of contract field `f` of `row` as the app stores it.
fn value_for(
    row: &Row,
    f: &str,
    em: &EntityMap,
    mapping: &Mapping,
    zones: &HashMap<&str, chrono_tz::Tz>,
    new_ids: &HashMap<(Entity, String), String>,
) -> std::result::Result<SqlValue, String> {
    if let Some(name) = f.strip_prefix("attr.") {
        return Ok(row
            .extras
            .get(name)
            .map_or(SqlValue::Null, |v| SqlValue::Text(v.clone())));
    }
    let Some(v) = row.get(f) else {
        return Ok(SqlValue::Null);
    };
    if let Some((_, e)) = REFS.iter().find(|(r, _)| *r == f) {
        let id = v.render().unwrap_or_default();
        return Ok(match new_ids.get(&(*e, id.clone())) {
            Some(table) => SqlValue::NewId(table.clone(), id),
            None => SqlValue::Text(id),
        });
    }
    if f == "status" {
        let word = v.render().unwrap_or_default();
        return app_word(&em.status, &word)
            .map(|w| SqlValue::Text(w.to_string()))
            .ok_or_else(|| format!("status {word} has no word in the app's [status] map"));
    }
    if let Some(map) = em.values.get(f) {
        let word = v.render().unwrap_or_default();
        return app_word(map, &word)
            .map(|w| SqlValue::Text(w.to_string()))
            .ok_or_else(|| format!("{f} {word} has no word in the app's [values.{f}] map"));
    }
    if MONEY.contains(&f) {
        let minor = v
            .as_int()
            .ok_or_else(|| format!("{f} is not a whole number"))?;
        return Ok(SqlValue::Text(match em.money_unit {
            Some(MoneyUnit::Minor) => minor.to_string(),
            // Major units (the default): the currency's decimals, no symbol or grouping.
            _ => {
                let exp = crate::util::money::exponent(row.text("currency").unwrap_or("usd"));
                let unit = 10i64.pow(exp);
                let sign = if minor < 0 { "-" } else { "" };
                let (int, frac) = (minor.abs() / unit, minor.abs() % unit);
                if exp == 0 {
                    format!("{sign}{int}")
                } else {
                    format!("{sign}{int}.{frac:0w$}", w = exp as usize)
                }
            }
        }));
    }
    if TIMES.contains(&f) && mapping.ts_mode(em) == TsMode::Local {
        let t = crate::util::time::parse_any(&v.render().unwrap_or_default(), None)
            .ok_or_else(|| format!("{f} is not a time"))?;
        let biz = if em.table == mapping.business.as_ref().map_or("", |b| b.table.as_str()) {
            Some(row.id.as_str())
        } else {
            row.text("business_id")
        };
        let zone = biz.and_then(|b| zones.get(b)).ok_or_else(|| {
            format!("{f} is kept in the business's local time, and its zone is unknown")
        })?;
        return Ok(SqlValue::Text(
            t.with_timezone(zone)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
        ));
    }
    Ok(SqlValue::Text(v.render().unwrap_or_default()))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ident(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// A table name as written (`public.appointments` stays qualified).
fn table_ident(t: &str) -> String {
    t.split('.').map(ident).collect::<Vec<_>>().join(".")
}

fn new_ids_table(table: &str) -> String {
    format!("salvage_new_ids_{}", table.replace('.', "_"))
}

fn sql_value(v: &SqlValue) -> String {
    match v {
        SqlValue::Null => "NULL".into(),
        SqlValue::Text(s) => quote(s),
        SqlValue::NewId(table, rec) => format!(
            "(SELECT new_id FROM {} WHERE rec_id = {})",
            new_ids_table(table),
            quote(rec)
        ),
    }
}

/// The PostgreSQL script: one transaction, in entity order (parents first).
pub fn script(plan: &Plan, header: &str) -> String {
    let mut s = String::new();
    for l in header.lines() {
        let _ = writeln!(s, "-- {l}");
    }
    s.push_str("\\set ON_ERROR_STOP on\nBEGIN;\n");
    for t in &plan.tables {
        let tbl = table_ident(&t.table);
        let id = ident(&t.id_column);
        if t.rows.iter().any(|r| r.app_id.is_none()) {
            // New ids of the rows inserted without one, typed like the table's id.
            let _ = writeln!(
                s,
                "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {id} AS new_id, NULL::text AS rec_id FROM {tbl} LIMIT 0;",
                new_ids_table(&t.table)
            );
        }
        let (ins, upd) = (
            t.rows.iter().filter(|r| r.insert).count(),
            t.rows.iter().filter(|r| !r.insert).count(),
        );
        let _ = writeln!(
            s,
            "\n-- {}: {ins} inserted, {upd} updated, {} soft-deleted",
            t.table,
            t.soft_deletes.len()
        );
        for (app, col, at) in &t.soft_deletes {
            let c = ident(col);
            let _ = writeln!(
                s,
                "UPDATE {tbl} SET {c} = {} WHERE {id} = {} AND {c} IS NULL;",
                quote(at),
                quote(app)
            );
        }
        for r in &t.rows {
            let cols: Vec<String> = r.columns.iter().map(|(c, _)| ident(c)).collect();
            let vals: Vec<String> = r.columns.iter().map(|(_, v)| sql_value(v)).collect();
            match (&r.app_id, r.insert) {
                (Some(app), true) => {
                    let set: Vec<String> =
                        cols.iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
                    let _ = writeln!(
                        s,
                        "INSERT INTO {tbl} ({id}{}{}) VALUES ({}{}{}) ON CONFLICT ({id}) DO {};",
                        if cols.is_empty() { "" } else { ", " },
                        cols.join(", "),
                        quote(app),
                        if vals.is_empty() { "" } else { ", " },
                        vals.join(", "),
                        if set.is_empty() {
                            "NOTHING".to_string()
                        } else {
                            format!("UPDATE SET {}", set.join(", "))
                        }
                    );
                }
                (None, _) => {
                    let _ = writeln!(
                        s,
                        "WITH ins AS (INSERT INTO {tbl} ({}) VALUES ({}) RETURNING {id}) INSERT INTO {} SELECT {id}, {} FROM ins;",
                        cols.join(", "),
                        vals.join(", "),
                        new_ids_table(&t.table),
                        quote(&r.row_id)
                    );
                }
                (Some(app), false) => {
                    let set: Vec<String> = cols
                        .iter()
                        .zip(&vals)
                        .map(|(c, v)| format!("{c} = {v}"))
                        .collect();
                    let _ = writeln!(
                        s,
                        "UPDATE {tbl} SET {} WHERE {id} = {};",
                        set.join(", "),
                        quote(app)
                    );
                }
            }
        }
    }
    s.push_str("\nCOMMIT;\n");
    s
}

/// Writes `restore.sql`, one CSV per table (`<table>.csv`: action, id, the app's
/// columns) and `held_back.csv` into `dir`, as one set.
pub fn write(plan: &Plan, header: &str, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Write {
        path: dir.to_path_buf(),
        cause: e,
    })?;
    crate::util::fsx::write_atomic(&dir.join("restore.sql"), script(plan, header).as_bytes())?;
    let io = |e: csv::Error| Error::Other(format!("restore CSV: {e}"));
    for t in &plan.tables {
        let mut cols: Vec<&str> = t
            .soft_deletes
            .iter()
            .map(|(_, c, _)| c.as_str())
            .take(1)
            .collect();
        for r in &t.rows {
            for (c, _) in &r.columns {
                if !cols.contains(&c.as_str()) {
                    cols.push(c);
                }
            }
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut head = vec!["action", "row_id", t.id_column.as_str()];
        head.extend(cols.iter().copied());
        w.write_record(&head).map_err(io)?;
        for r in &t.rows {
            let mut rec = vec![
                if r.insert { "insert" } else { "update" }.to_string(),
                r.row_id.clone(),
                r.app_id.clone().unwrap_or_default(),
            ];
            for c in &cols {
                rec.push(
                    match r.columns.iter().find(|(n, _)| n == c).map(|(_, v)| v) {
                        Some(SqlValue::Text(s)) => s.clone(),
                        Some(SqlValue::NewId(_, rec_id)) => format!("(new id of {rec_id})"),
                        Some(SqlValue::Null) | None => String::new(),
                    },
                );
            }
            w.write_record(&rec).map_err(io)?;
        }
        for (app, col, at) in &t.soft_deletes {
            let mut rec = vec!["soft_delete".to_string(), app.clone(), app.clone()];
            rec.extend(
                cols.iter()
                    .map(|c| if c == col { at.clone() } else { String::new() }),
            );
            w.write_record(&rec).map_err(io)?;
        }
        let bytes = w.into_inner().map_err(|e| Error::Other(e.to_string()))?;
        crate::util::fsx::write_atomic(
            &dir.join(format!("{}.csv", t.table.replace('.', "_"))),
            &bytes,
        )?;
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["table", "row_id", "why"]).map_err(io)?;
    for (t, id, why) in plan.held_back.iter().chain(&plan.not_written) {
        w.write_record([t, id, why]).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Other(e.to_string()))?;
    crate::util::fsx::write_atomic(&dir.join("held_back.csv"), &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Value;
    use crate::merge::Provenance;
    use std::path::Path;

    fn mapping() -> Mapping {
        Mapping::parse(
            r#"
[business]
table = "shops"
id = "id"
[business.fields]
name = "name"
[reservation]
table = "appointments"
id = "id"
money_unit = "major"
currency = "eur"
deleted_column = "deleted_at"
[reservation.fields]
business_id = "shop_id"
reference = "code"
status = "status"
amount = "price"
service = ["kind", "variant"]
[reservation.status]
booked = "confirmed"
canceled = "cancelled"
"#,
            Path::new("backup.toml"),
        )
        .unwrap()
    }

    fn row(id: &str, vals: &[(&str, Value)], conf: f64, sources: &[SourceKind]) -> Row {
        Row::for_test(id, vals, conf, sources)
    }

    fn backup_said(row: &str, col: &str, v: &str) -> Provenance {
        Provenance::offered(
            Entity::Reservation,
            row,
            col,
            v,
            SourceKind::Backup,
            None,
            false,
        )
    }

    #[test]
    fn new_and_changed_rows_in_the_apps_words_and_units() {
        use SourceKind::*;
        let t = |s: &str| Value::text(s);
        let rec = Recovered {
            businesses: vec![row("1", &[("name", t("Hair"))], 0.99, &[Backup])],
            reservations: vec![
                // Changed since the backup: cancelled by mail.
                row(
                    "10",
                    &[
                        ("business_id", t("1")),
                        ("reference", t("AB")),
                        ("status", t("cancelled")),
                        ("amount", Value::Int(4500)),
                    ],
                    0.95,
                    &[Backup, Email],
                ),
                // Unchanged.
                row(
                    "11",
                    &[
                        ("business_id", t("1")),
                        ("reference", t("CD")),
                        ("status", t("confirmed")),
                        ("amount", Value::Int(100)),
                    ],
                    0.95,
                    &[Backup],
                ),
                // New, no id from any source.
                row(
                    "rec_1",
                    &[
                        ("business_id", t("1")),
                        ("reference", t("EF")),
                        ("status", t("confirmed")),
                        ("amount", Value::Int(1999)),
                    ],
                    0.93,
                    &[Email],
                ),
                // New and doubtful: held back.
                row(
                    "rec_2",
                    &[
                        ("business_id", t("1")),
                        ("reference", t("GH")),
                        ("status", t("confirmed")),
                        ("amount", Value::Int(1)),
                    ],
                    0.40,
                    &[Email],
                ),
                // New without a code, which every backup row has.
                row(
                    "rec_3",
                    &[
                        ("business_id", t("1")),
                        ("status", t("confirmed")),
                        ("amount", Value::Int(1)),
                    ],
                    0.99,
                    &[Email],
                ),
            ],
            provenance: [
                backup_said("10", "status", "confirmed"),
                backup_said("10", "reference", "AB"),
                backup_said("10", "amount", "4500"),
                backup_said("10", "business_id", "1"),
                backup_said("11", "status", "confirmed"),
                backup_said("11", "reference", "CD"),
                backup_said("11", "amount", "100"),
                backup_said("11", "business_id", "1"),
            ]
            .into_iter()
            .collect(),
            deleted: vec![
                crate::merge::DeletedRow {
                    entity: Entity::Reservation,
                    row_id: "12".into(),
                    said_by: vec!["email:<x>".into()],
                    deleted_at: Some("2026-10-01T00:00:00Z".into()),
                    alive_in_backup: true,
                },
                // Deleted before the backup: nothing to do.
                crate::merge::DeletedRow {
                    entity: Entity::Reservation,
                    row_id: "13".into(),
                    said_by: vec!["backup:appointments#13".into()],
                    deleted_at: None,
                    alive_in_backup: false,
                },
            ],
            ..Default::default()
        };
        let p = plan(
            &rec,
            &mapping(),
            &Options {
                min_confidence: 0.9,
            },
        );
        let appts = p.tables.iter().find(|t| t.table == "appointments").unwrap();
        assert_eq!(appts.unchanged, 1);
        assert_eq!(appts.rows.len(), 2);
        let upd = &appts.rows[0];
        assert_eq!((upd.insert, upd.app_id.as_deref()), (false, Some("10")));
        assert_eq!(
            upd.columns,
            vec![("status".into(), SqlValue::Text("canceled".into()))]
        );
        let ins = &appts.rows[1];
        assert!(ins.insert && ins.app_id.is_none());
        assert!(ins
            .columns
            .contains(&("price".into(), SqlValue::Text("19.99".into()))));
        let held: Vec<&str> = p.held_back.iter().map(|h| h.1.as_str()).collect();
        assert_eq!(held, ["rec_2", "rec_3"]);
        assert!(p.held_back[1].2.contains("code"));
        assert!(
            p.not_written.iter().any(|n| n.1 == "service"),
            "a concatenation is not written back"
        );
        let sql = script(&p, "test");
        assert!(
            sql.contains("UPDATE appointments SET status = 'canceled' WHERE id = '10';"),
            "{sql}"
        );
        assert!(sql.contains("WITH ins AS (INSERT INTO appointments"));
        assert!(sql.contains("CREATE TEMP TABLE salvage_new_ids_appointments"));
        assert!(sql.trim_end().ends_with("COMMIT;"));
        assert!(
            sql.contains("UPDATE appointments SET deleted_at = '2026-10-01T00:00:00Z' WHERE id = '12' AND deleted_at IS NULL;"),
            "{sql}"
        );
        assert!(!sql.contains("'13'"));
    }

    #[test]
    fn quoting_keeps_values_and_names_intact() {
        assert_eq!(quote("O'Brien"), "'O''Brien'");
        assert_eq!(ident("Order Items"), "\"Order Items\"");
        assert_eq!(table_ident("public.appointments"), "public.appointments");
    }
}
