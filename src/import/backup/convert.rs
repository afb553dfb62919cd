//! A table row -> a [`Record`] through the mapping: ids, status words, money in minor units,
//! timestamps in UTC (naive local times resolved in the business's zone), soft deletes.

use super::mapping::{
    EntityMap, Mapping, MoneyUnit, TsMode, INT_FIELDS, MONEY_FIELDS, TIMESTAMP_FIELDS,
};
use super::source::{truthy, Row};
use crate::claims::{Entity, Record, Skip, Value};
use crate::util::{money, time};
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

/// A table's columns and where each is.
pub struct ColumnIndex {
    columns: Vec<String>,
    at: HashMap<String, usize>,
}

impl ColumnIndex {
    fn new(columns: &[String]) -> Self {
        let mut at = HashMap::new();
        for (i, c) in columns.iter().enumerate() {
            at.insert(c.clone(), i);
        }
        for (i, c) in columns.iter().enumerate() {
            at.entry(c.to_ascii_lowercase()).or_insert(i);
        }
        ColumnIndex {
            columns: columns.to_vec(),
            at,
        }
    }
    /// Where column `c` is: exact name, else case-insensitively.
    pub fn get(&self, c: &str) -> Option<usize> {
        self.at
            .get(c)
            .or_else(|| self.at.get(&c.to_ascii_lowercase()))
            .copied()
    }
}

/// What is known of each business (from the business table, read first).
#[derive(Debug, Clone, Default)]
pub struct BusinessInfo {
    pub zone: Option<Tz>,
    /// Business table column -> value (only the columns other entities refer to).
    pub columns: HashMap<String, String>,
}

/// A row of a `[lookups]` table as pass 1 read it: table, columns (shared), values.
pub type LookupRow = (String, Rc<[String]>, Vec<Option<String>>);

/// The rows of one `[lookups]` table, by key.
#[derive(Default)]
pub struct LookupTable {
    /// Each row with the column layout it was read under (partitions of one table, or
    /// two COPY blocks, may order their columns differently).
    rows: HashMap<String, (Rc<ColumnIndex>, Vec<Option<String>>)>,
    /// Keys held by more than one row: a reference through them names no row.
    ambiguous: std::collections::HashSet<String>,
}

impl LookupTable {
    fn get(&self, key: &str, column: &str) -> Option<&str> {
        if self.ambiguous.contains(key) {
            return None;
        }
        let (columns, values) = self.rows.get(key)?;
        values.get(columns.get(column)?)?.as_deref()
    }
}

pub struct Converter<'m> {
    pub mapping: &'m Mapping,
    /// `[lookups]` by name.
    lookups: HashMap<String, LookupTable>,
    pub mapping_path: &'m Path,
    pub observed_at: String,
    pub businesses: HashMap<String, BusinessInfo>,
    default_zone: Option<Tz>,
    /// table -> (columns, column index by name and by lowercase name)
    cache: HashMap<String, Rc<ColumnIndex>>,
    /// Hashes of the source_refs emitted so far (a primary key seen twice is a duplicate
    /// row); 8 bytes a row, so a dump of tens of millions of rows fits.
    seen: std::collections::HashSet<u64>,
}

impl<'m> Converter<'m> {
    pub fn new(mapping: &'m Mapping, mapping_path: &'m Path, observed_at: String) -> Self {
        Converter {
            mapping,
            mapping_path,
            observed_at,
            businesses: HashMap::new(),
            lookups: HashMap::new(),
            default_zone: mapping.timezone.as_deref().and_then(time::parse_zone),
            cache: HashMap::new(),
            seen: std::collections::HashSet::new(),
        }
    }

    /// Remembers a business row (zone and the columns other tables take from it).
    pub fn add_business(&mut self, row: &Row<'_>) {
        let Some(em) = &self.mapping.business else {
            return;
        };
        let idx = ColumnIndex::new(row.columns);
        let get = |c: &str| idx.get(c).and_then(|i| row.values[i].clone());
        let Some(id) = get(&em.id) else { return };
        let mut info = BusinessInfo {
            zone: em
                .timezone_column
                .as_deref()
                .and_then(get)
                .and_then(|z| time::parse_zone(&z)),
            columns: HashMap::new(),
        };
        for (_, m) in self.mapping.entities() {
            if let Some(c) = &m.currency_from_business {
                if let Some(v) = get(c) {
                    info.columns.insert(c.clone(), v);
                }
            }
        }
        self.businesses.insert(id, info);
    }

    /// Keeps the rows of lookup `name` (read in pass 1) by their `key` column.
    pub fn add_lookup<'r>(
        &mut self,
        name: &str,
        key: &str,
        rows: impl Iterator<Item = &'r LookupRow>,
    ) {
        let mut t = LookupTable::default();
        let mut layout: Option<Rc<ColumnIndex>> = None;
        for (_, cols, values) in rows {
            let ix = match &layout {
                Some(ix) if ix.columns.as_slice() == &cols[..] => ix.clone(),
                _ => {
                    let ix = Rc::new(ColumnIndex::new(cols));
                    layout = Some(ix.clone());
                    ix
                }
            };
            let Some(k) = ix.get(key).and_then(|i| values[i].clone()) else {
                continue;
            };
            if t.rows.insert(k.clone(), (ix, values.clone())).is_some() {
                t.ambiguous.insert(k);
            }
        }
        self.lookups.insert(name.to_string(), t);
    }

    /// Whether some step of `path` holds a key its lookup has no row for (as opposed to
    /// a NULL met on the way). `get` reads the row's own columns.
    fn names_no_row<'v>(
        &self,
        path: &super::mapping::ColumnPath<'_>,
        get: impl Fn(&str) -> Option<&'v str>,
    ) -> bool {
        let Some(mut v) = get(path.start).map(str::trim) else {
            return false;
        };
        for (l, col) in &path.hops {
            let Some(t) = self.lookups.get(*l) else {
                return false;
            };
            if !t.rows.contains_key(v) || t.ambiguous.contains(v) {
                return true;
            }
            match t.get(v, col) {
                Some(next) => v = next.trim(),
                None => return false,
            }
        }
        false
    }

    fn index(&mut self, row: &Row<'_>) -> Rc<ColumnIndex> {
        if let Some(ix) = self.cache.get(row.table) {
            if ix.columns.as_slice() == row.columns {
                return ix.clone();
            }
        }
        let ix = Rc::new(ColumnIndex::new(row.columns));
        self.cache.insert(row.table.to_string(), ix.clone());
        ix
    }

    /// Converts a row of `entity`'s table, or says why it cannot. A value that cannot be read
    /// (a bad timestamp, money of an unknown currency) drops that field and comes back as a
    /// skip beside the record; the rest of the row is kept.
    pub fn convert(
        &mut self,
        entity: Entity,
        em: &EntityMap,
        row: &Row<'_>,
    ) -> Result<(Record, Vec<Skip>), Skip> {
        let idx = self.index(row);
        let trim = self.mapping.trim_values;
        let lookups = &self.lookups;
        let get = |c: &str| -> Option<&str> {
            let v = match super::mapping::ColumnPath::parse(c) {
                None => idx.get(c).and_then(|i| row.values[i].as_deref())?,
                // A column of another table, reached by key (checked by validate).
                Some(path) => {
                    let path = path.ok()?;
                    let mut v = idx.get(path.start).and_then(|i| row.values[i].as_deref())?;
                    for (l, col) in path.hops {
                        v = lookups.get(l)?.get(v.trim(), col)?;
                    }
                    v
                }
            };
            if trim {
                Some(v.trim()).filter(|v| !v.is_empty())
            } else {
                Some(v)
            }
        };
        // A field of several columns: their values joined by a space (NULLs left out).
        let joined = |cols: &super::mapping::Columns| -> Option<String> {
            let parts: Vec<&str> = cols.names().into_iter().filter_map(get).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        let skip = |kind: &str, reason: String| Skip {
            location: row.location.clone(),
            kind: kind.into(),
            reason,
        };
        let Some(id) = get(&em.id) else {
            return Err(skip(
                "bad_row",
                format!("{} row has no {} (primary key is NULL)", row.table, em.id),
            ));
        };
        let source_ref = format!("backup:{}#{}", row.table, id);
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            source_ref.hash(&mut h);
            h.finish()
        };
        if !self.seen.insert(key) {
            return Err(skip(
                "duplicate_row",
                format!(
                    "{}: primary key {} = {id} appears again; the first row is kept",
                    row.table, em.id
                ),
            ));
        }
        let mut rec = Record::new(entity, source_ref, Some(self.observed_at.clone()));
        if em.id_is_key {
            rec.set("id", id);
        }
        let business_key = if entity == Entity::Business {
            Some(id)
        } else {
            em.fields
                .get("business_id")
                .and_then(|c| c.single())
                .and_then(get)
                .or_else(|| em.constants.get("business_id").map(String::as_str))
        };
        let business = business_key.and_then(|k| self.businesses.get(k));
        let mut fallback = None;
        let zone = match self.mapping.ts_mode(em) {
            TsMode::Utc => None,
            TsMode::Local => {
                let own = business.and_then(|b| b.zone);
                if own.is_none() {
                    if let Some(tz) = self.default_zone {
                        // Never silent: the row is read, in the mapping's zone.
                        fallback = Some(skip(
                            crate::import::ZONE_FALLBACK,
                            format!(
                                "{}#{id}: business {} has no known time zone (no such business row, or its timezone_column is empty or not an IANA zone); its local times are read in the mapping's timezone {tz}",
                                row.table,
                                business_key.unwrap_or("?"),
                            ),
                        ));
                    }
                }
                let z = own.or(self.default_zone);
                if z.is_none() {
                    return Err(skip(
                        "no_timezone",
                        format!(
                            "{}#{id}: its times are local but business {} has no known time zone; set a top-level `timezone` in {}",
                            row.table,
                            business_key.unwrap_or("?"),
                            self.mapping_path.display()
                        ),
                    ));
                }
                z
            }
        };
        let currency: Option<String> = if let Some(c) = &em.currency {
            Some(c.to_ascii_lowercase())
        } else if let Some(c) = &em.currency_column {
            get(c).map(|v| v.trim().to_ascii_lowercase())
        } else if let Some(c) = &em.currency_from_business {
            business
                .and_then(|b| b.columns.get(c))
                .map(|v| v.trim().to_ascii_lowercase())
        } else {
            None
        };
        let mut has_money = false;
        let mut partial: Vec<Skip> = fallback.into_iter().collect();
        for (field, cols) in &em.fields {
            // A reference that names no row of its lookup is counted, not dropped in
            // silence: the field is then not imported, or (one column of several) joined
            // from the others.
            let unresolved = |partial: &mut Vec<Skip>, what: &str| {
                for c in cols.names() {
                    if let Some(Ok(p)) = super::mapping::ColumnPath::parse(c) {
                        // Only a key that finds no row counts; a NULL on the way (an empty
                        // optional column) is no value, as it would be on the row itself.
                        if let Some(v) = get(p.start).filter(|_| self.names_no_row(&p, get)) {
                            partial.push(skip(
                                "unresolved_reference",
                                format!(
                                    "{}#{id}: {} = {v:?} leads to no value through {c:?}; {field} {what}",
                                    row.table, p.start
                                ),
                            ));
                        }
                    }
                }
            };
            let Some(raw) = joined(cols) else {
                unresolved(&mut partial, "not imported");
                continue;
            };
            if cols.names().len() > 1 {
                unresolved(&mut partial, "joined from its other columns");
            }
            let raw = raw.as_str();
            let col = cols.names().join("+");
            let mut val: String = raw.to_string();
            if let Some(map) = em.values.get(field) {
                if let Some(m) = map.get(raw).or_else(|| map.get(raw.trim())) {
                    val = m.clone();
                }
            }
            if field == "status" {
                if !em.status.is_empty() {
                    match em.status.get(raw).or_else(|| em.status.get(raw.trim())) {
                        Some(m) => val = m.clone(),
                        None => {
                            return Err(skip(
                                "unmapped_status",
                                format!(
                                    "{}#{id}: status {raw:?} has no mapping; add `{} = \"<contract status>\"` to [{entity}].status in {}",
                                    row.table,
                                    toml_key(raw),
                                    self.mapping_path.display()
                                ),
                            ))
                        }
                    }
                }
                rec.set("status", val);
                continue;
            }
            let f = field.as_str();
            if TIMESTAMP_FIELDS.contains(&f) {
                if is_infinity(&val) {
                    continue;
                }
                match parse_timestamp(&val, zone) {
                    Some(t) => {
                        rec.set(f, time::format_utc(t));
                    }
                    None => partial.push(skip(
                        "bad_value",
                        format!(
                            "{}#{id}: {col} = {val:?} is not a timestamp; {f} not imported",
                            row.table
                        ),
                    )),
                }
            } else if MONEY_FIELDS.contains(&f) {
                let Some(cur) = currency.as_deref().filter(|c| !c.is_empty()) else {
                    partial.push(skip(
                        "no_currency",
                        format!(
                            "{}#{id}: {col} is money but the currency is unknown (business {} not in the backup?); {f} not imported",
                            row.table,
                            business_key.unwrap_or("?")
                        ),
                    ));
                    continue;
                };
                let minor = match em.money_unit {
                    Some(MoneyUnit::Major) => money::major_to_minor(&val, cur),
                    // Minor units are integers; "8000.00" is tolerated, "80.5" is not.
                    _ => money::major_to_minor(&val, "jpy"),
                };
                match minor {
                    Some(m) => {
                        rec.set(f, Value::Int(m));
                        has_money = true;
                    }
                    None => partial.push(skip(
                        "bad_value",
                        format!(
                            "{}#{id}: {col} = {val:?} is not an amount of {cur}; {f} not imported",
                            row.table
                        ),
                    )),
                }
            } else if INT_FIELDS.contains(&f) {
                match val.trim().parse::<i64>() {
                    Ok(n) => {
                        rec.set(f, Value::Int(n));
                    }
                    Err(_) => partial.push(skip(
                        "bad_value",
                        format!(
                            "{}#{id}: {col} = {val:?} is not an integer; {f} not imported",
                            row.table
                        ),
                    )),
                }
            } else {
                rec.set(f, val);
            }
        }
        if has_money {
            if let Some(c) = currency {
                rec.set("currency", c);
            }
        }
        for (f, v) in &em.constants {
            if rec.get(f).is_none() {
                rec.set(f.as_str(), v.as_str());
                // The value is the mapping's, not the backup's: provenance says so.
                rec.set(
                    format!("{}{f}", crate::claims::FROM_MAPPING),
                    format!(
                        "{}#[{}.constants].{f}",
                        self.mapping_path.display(),
                        entity.as_str()
                    ),
                );
            }
        }
        for c in em.deleted_column.iter().flat_map(|c| c.names()) {
            if let Some(v) = get(c) {
                let v = v.trim();
                let is_bool_false = matches!(
                    v.to_ascii_lowercase().as_str(),
                    "f" | "false" | "0" | "no" | "n" | "off" | ""
                );
                if (truthy(v) || !is_bool_false) && rec.get("deleted").is_none() {
                    rec.set("deleted", Value::Int(1));
                }
            }
        }
        for c in em.active_column.iter().flat_map(|c| c.names()) {
            let off = get(c).map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "f" | "false" | "0" | "no" | "n" | "off"
                )
            });
            if off == Some(true) && rec.get("deleted").is_none() {
                rec.set("deleted", Value::Int(1));
            }
        }
        if let Some(d) = &em.duration {
            if rec.get("ends_at").is_none() {
                let start = rec
                    .get("starts_at")
                    .and_then(|v| v.as_text())
                    .and_then(|t| crate::util::time::parse_any(t, None));
                let len = d
                    .column
                    .single()
                    .and_then(get)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|n| n.is_finite() && *n >= 0.0);
                if let (Some(s), Some(n)) = (start, len) {
                    let secs = (n * d.unit.seconds()).round() as i64;
                    rec.set(
                        "ends_at",
                        crate::util::time::format_utc(s + chrono::Duration::seconds(secs)),
                    );
                }
            }
        }
        if let Some(sb) = &em.status_by_null {
            if rec.get("status").is_none() {
                let set = get(&sb.column).is_some_and(|v| !v.trim().is_empty());
                let word = if set { &sb.set } else { &sb.null };
                if let Some(w) = word {
                    rec.set("status", w.as_str());
                }
            }
        }
        // Merged into a survivor: by a column, else by a note that names it.
        let survivor = em
            .merged_into_column
            .as_deref()
            .and_then(get)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .or_else(|| {
                let n = em.merged_into_note.as_ref()?;
                let text = get(&n.column)?;
                let caps = n.regex.as_ref()?.captures(text)?;
                Some(caps.name("id")?.as_str().to_string())
            });
        if let Some(s) = survivor {
            rec.set("merged_into", s);
        }
        Ok((rec, partial))
    }
}

fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        format!("{s:?}")
    }
}

fn is_infinity(s: &str) -> bool {
    let s = s.trim();
    s.eq_ignore_ascii_case("infinity") || s.eq_ignore_ascii_case("-infinity")
}

/// Parses a timestamp as databases write it: with an offset (exact), naive (in `zone`, UTC
/// when none), or with a zone abbreviation (`2026-07-01 10:00:00 PDT`), resolved through
/// `zone` (the abbreviation picks the side of a DST fold) or a table of common ones.
pub fn parse_timestamp(s: &str, zone: Option<Tz>) -> Option<time::Timestamp> {
    let s = s.trim();
    if let Some(t) = time::parse_any(s, zone) {
        return Some(t);
    }
    // Unix time (SQLite and CSV exports): seconds, or milliseconds.
    if (9..=14).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        let secs = if s.len() >= 12 { n / 1000 } else { n };
        return chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0);
    }
    let (head, abbr) = s.rsplit_once(' ')?;
    if !abbr.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(head.trim(), f).ok())?;
    let up = abbr.to_ascii_uppercase();
    if matches!(up.as_str(), "UTC" | "GMT" | "Z" | "UT") {
        return Some(time::local_to_utc(naive, None));
    }
    if let Some(z) = zone {
        let candidates: Vec<_> = match z.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => vec![t],
            chrono::LocalResult::Ambiguous(a, b) => vec![a, b],
            chrono::LocalResult::None => vec![],
        };
        if let Some(t) = candidates
            .iter()
            .find(|t| t.format("%Z").to_string().eq_ignore_ascii_case(&up))
        {
            return Some(t.with_timezone(&chrono::Utc));
        }
    }
    let hours: i32 = match up.as_str() {
        "PST" => -8,
        "PDT" | "MST" => -7,
        "MDT" | "CST" => -6,
        "CDT" | "EST" => -5,
        "EDT" => -4,
        "BST" | "CET" | "WEST" => 1,
        "CEST" | "EET" | "SAST" => 2,
        "EEST" | "MSK" => 3,
        "WET" => 0,
        "JST" | "KST" => 9,
        "AEST" => 10,
        "AEDT" => 11,
        "NZST" => 12,
        "NZDT" => 13,
        _ => {
            // Unknown abbreviation: the business's own zone is the best guess.
            return zone.map(|z| time::local_to_utc(naive, Some(z)));
        }
    };
    let off = chrono::FixedOffset::east_opt(hours * 3600)?;
    off.from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of one lookup table read under two column layouts (two partitions) are all
    /// kept, each read by its own layout.
    #[test]
    fn a_lookup_keeps_rows_of_every_column_layout() {
        let m = Mapping::parse("", Path::new("m.toml")).unwrap();
        let mut c = Converter::new(&m, Path::new("m.toml"), String::new());
        let a: Rc<[String]> = vec!["id".to_string(), "studio_id".to_string()].into();
        let b: Rc<[String]> = vec!["studio_id".to_string(), "id".to_string()].into();
        let rows: Vec<LookupRow> = vec![
            ("s".into(), a, vec![Some("70".into()), Some("1".into())]),
            ("s".into(), b, vec![Some("2".into()), Some("80".into())]),
        ];
        c.add_lookup("session", "id", rows.iter());
        let t = &c.lookups["session"];
        assert_eq!(t.get("70", "studio_id"), Some("1"));
        assert_eq!(t.get("80", "studio_id"), Some("2"));
    }

    fn fmt(t: Option<time::Timestamp>) -> Option<String> {
        t.map(time::format_utc)
    }

    #[test]
    fn timestamps_with_abbreviations() {
        let la = time::parse_zone("America/Los_Angeles");
        assert_eq!(
            fmt(parse_timestamp("2026-07-01 10:00:00 PDT", la)).as_deref(),
            Some("2026-07-01T17:00:00Z")
        );
        // DST fold in LA: 01:30 happens twice on 2026-11-01; the abbreviation decides.
        assert_eq!(
            fmt(parse_timestamp("2026-11-01 01:30:00 PST", la)).as_deref(),
            Some("2026-11-01T09:30:00Z")
        );
        assert_eq!(
            fmt(parse_timestamp("2026-11-01 01:30:00 PDT", la)).as_deref(),
            Some("2026-11-01T08:30:00Z")
        );
        assert_eq!(
            fmt(parse_timestamp("2026-01-10 10:00:00 CET", None)).as_deref(),
            Some("2026-01-10T09:00:00Z")
        );
        assert_eq!(
            fmt(parse_timestamp("2026-11-24 18:04:03 UTC", None)).as_deref(),
            Some("2026-11-24T18:04:03Z")
        );
        assert_eq!(
            fmt(parse_timestamp(
                "2026-01-10 10:00:00",
                time::parse_zone("Europe/Berlin")
            ))
            .as_deref(),
            Some("2026-01-10T09:00:00Z")
        );
        assert!(parse_timestamp("yesterday", None).is_none());
        assert_eq!(
            fmt(parse_timestamp("1787374800", None)).as_deref(),
            Some("2026-08-22T05:00:00Z")
        );
        assert_eq!(
            fmt(parse_timestamp("1787374800000", None)).as_deref(),
            Some("2026-08-22T05:00:00Z")
        );
    }
}
