//! The backup mapping file: which table holds each entity and which column holds each
//! field. The format is documented, with examples, in `mappings/*/backup.toml`.
//!
//! ```toml
//! timestamps = "utc"              # or "local": naive times in the business's zone
//! [business]
//! table = "companies"
//! id = "id"
//! timezone_column = "timezone"
//! fields = { name = "name", email = "email", stripe_account = "stripe_account_id" }
//! [reservation]
//! table = "visits"
//! id = "id"
//! fields = { business_id = "company_id", status = "status", amount = "price" }
//! money_unit = "major"
//! currency_from_business = "currency"
//! status = { booked = "confirmed", canceled = "cancelled" }
//! ```

use super::source::Summary;
use crate::claims::Entity;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TsMode {
    /// Times carry an offset, or naive times are UTC.
    #[default]
    Utc,
    /// Naive times are wall-clock times in the business's zone.
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MoneyUnit {
    /// `80.00` means 80 euros.
    Major,
    /// `8000` means 80 euros.
    Minor,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Default for every entity: how to read timestamps without an offset.
    #[serde(default)]
    pub timestamps: TsMode,
    /// IANA zone for local times of a business whose own zone is unknown.
    pub timezone: Option<String>,
    /// Trim surrounding whitespace from every value before it is mapped (a CSV written
    /// with `", "` between values, fixed-width exports); an all-blank value is NULL.
    #[serde(default)]
    pub trim_values: bool,
    /// Tables other rows take values from by key, over as many hops as the schema needs
    /// (`[lookups.session] table = "class_sessions", key = "id"`; a field then reads
    /// `"session_id->session.studio_id"`). See [`ColumnPath`].
    #[serde(default)]
    pub lookups: BTreeMap<String, Lookup>,
    /// Optional: a backup that holds only people (a contact list) names its business by
    /// `constants.business_id` or a column.
    pub business: Option<EntityMap>,
    pub customer: Option<EntityMap>,
    pub reservation: Option<EntityMap>,
    pub payment: Option<EntityMap>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityMap {
    /// Table name (without schema). Partitions are read as their parent table.
    pub table: String,
    /// The primary key column.
    pub id: String,
    /// `false`: the id column only names the row in provenance (`backup:<table>#<id>`);
    /// it is not the entity's identity, so rows are joined by the incident's `[linkage]`
    /// settings alone (a contact list, or a file of people without app ids).
    #[serde(default = "yes")]
    pub id_is_key: bool,
    /// Contract field -> column, or several columns joined by a space (a name kept as
    /// `["first_name", "last_name"]`).
    #[serde(default)]
    pub fields: BTreeMap<String, Columns>,
    /// The app's status word -> the contract's. A value not listed skips the row.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    /// Other value translations: field -> (app value -> contract value). Values not listed
    /// pass through unchanged.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Fixed field values for every row (`processor = "stripe"`).
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    pub money_unit: Option<MoneyUnit>,
    /// A fixed currency for all money of this table.
    pub currency: Option<String>,
    /// A column of this table holding the currency.
    pub currency_column: Option<String>,
    /// A column of the BUSINESS table holding the currency (via `fields.business_id`).
    pub currency_from_business: Option<String>,
    /// Overrides the top-level `timestamps`.
    pub timestamps: Option<TsMode>,
    /// Business table only: the column with the business's IANA zone.
    pub timezone_column: Option<String>,
    /// Soft delete: the row is deleted when this column (or any of these columns) is
    /// non-null (a timestamp) or true (a boolean): `"deleted_at"` or
    /// `["deleted_at", "is_test_account"]`.
    #[serde(default)]
    pub deleted_column: Option<Columns>,
    /// The inverse: the row is deleted when this column (or any of these) is false
    /// (`f`, `false`, `0`, `no`): an `active` / `is_live` flag. NULL says nothing.
    #[serde(default)]
    pub active_column: Option<Columns>,
    /// A status read from whether a column is NULL, for a row whose `status` is not
    /// mapped or is NULL (an order not yet shipped): `column`, and the contract's status
    /// word for `null` and for `set`.
    pub status_by_null: Option<StatusByNull>,
    /// Reservations: the end is the start plus a duration in a column (a class of 90
    /// minutes), for a row with `starts_at` and no `ends_at`:
    /// `[reservation.duration] column = "session_id->session.duration_min", unit = "minutes"`.
    pub duration: Option<DurationColumn>,
    /// The row was merged into another row of the same table (a duplicate customer): this
    /// column holds the survivor's id. The row is gone and whatever names it follows the
    /// survivor.
    pub merged_into_column: Option<String>,
    /// The same, when the app wrote the survivor's id into a note: a column and a regular
    /// expression with a named group `id` (`'merged into #(?P<id>[0-9]+)'`).
    pub merged_into_note: Option<NotePattern>,
}

fn yes() -> bool {
    true
}

/// A table other rows reach by key: its rows are read before the mapped tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    pub table: String,
    /// The column the referring rows hold the value of (usually the primary key).
    pub key: String,
}

impl Lookup {
    pub fn table_name(&self) -> &str {
        self.table
            .rsplit('.')
            .next()
            .unwrap_or(&self.table)
            .trim_matches('"')
    }
}

/// A column reached through other tables: `start->lookup.column(->lookup.column)*`, e.g.
/// `session_id->session.class_type_id->class_type.name`: the row's `session_id` finds a
/// row of lookup `session` by its key, whose `class_type_id` finds a row of `class_type`,
/// whose `name` is the value.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPath<'a> {
    pub start: &'a str,
    pub hops: Vec<(&'a str, &'a str)>,
}

impl<'a> ColumnPath<'a> {
    /// The path a column name spells, or `None` for a plain column. `Err` says what is
    /// malformed.
    pub fn parse(c: &'a str) -> Option<std::result::Result<Self, String>> {
        if !c.contains("->") {
            return None;
        }
        let mut parts = c.split("->").map(str::trim);
        let start = parts.next().unwrap_or_default();
        let mut hops = Vec::new();
        for p in parts {
            match p.split_once('.') {
                Some((l, col)) if !l.is_empty() && !col.is_empty() => hops.push((l, col)),
                _ => {
                    return Some(Err(format!(
                        "{c:?}: each step after `->` is `lookup.column` (got {p:?})"
                    )))
                }
            }
        }
        if start.is_empty() {
            return Some(Err(format!("{c:?}: the path starts with no column")));
        }
        Some(Ok(ColumnPath { start, hops }))
    }
}

/// One column or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    pub fn names(&self) -> Vec<&str> {
        match self {
            Columns::One(c) => vec![c.as_str()],
            Columns::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
    /// The column, when it is one.
    pub fn single(&self) -> Option<&str> {
        match self {
            Columns::One(c) => Some(c),
            Columns::Many(v) if v.len() == 1 => Some(&v[0]),
            Columns::Many(_) => None,
        }
    }
}

/// `[reservation.duration] column = "duration_min", unit = "minutes"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationColumn {
    /// A column, or a path through lookups.
    pub column: Columns,
    #[serde(default)]
    pub unit: DurationUnit,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    Seconds,
    #[default]
    Minutes,
    Hours,
}

impl DurationUnit {
    pub fn seconds(self) -> f64 {
        match self {
            DurationUnit::Seconds => 1.0,
            DurationUnit::Minutes => 60.0,
            DurationUnit::Hours => 3600.0,
        }
    }
}

/// `[<entity>.status_by_null] column = "shipped_at", null = "pending", set = "succeeded"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusByNull {
    pub column: String,
    /// The status when the column is NULL (or empty); none: no status.
    pub null: Option<String>,
    /// The status when it holds a value; none: no status.
    pub set: Option<String>,
}

/// A regular expression over a column, with a named group `id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotePattern {
    pub column: String,
    pub pattern: String,
    #[serde(skip)]
    pub regex: Option<regex::Regex>,
}

/// Contract fields whose value is a timestamp.
pub const TIMESTAMP_FIELDS: &[&str] = &["created_at", "updated_at", "starts_at", "ends_at"];
/// Contract fields whose value is money (minor units in the record).
pub const MONEY_FIELDS: &[&str] = &["amount", "amount_refunded"];
/// Contract fields whose value is an integer.
pub const INT_FIELDS: &[&str] = &["party_size"];

/// The contract fields a mapping may map a column to (the id and the currency have keys
/// of their own).
fn allowed_fields(e: Entity) -> Vec<&'static str> {
    e.columns()
        .iter()
        .copied()
        .filter(|f| !matches!(*f, "id" | "currency"))
        .collect()
}

/// Is `field` a name a record of `e` may carry (contract field, `attr.*`, link key)?
fn field_ok(e: Entity, field: &str) -> bool {
    if allowed_fields(e).contains(&field) {
        return true;
    }
    if let Some(a) = field.strip_prefix("attr.") {
        return !a.is_empty();
    }
    if let Some((ent, _)) = field.split_once('.') {
        // Only the link keys the merge reads: another would be accepted and never read.
        return Entity::parse(ent).is_some_and(|x| x != e) && LINK_KEYS.contains(&field);
    }
    false
}

/// The keys by which a record names another entity that the merge links on.
const LINK_KEYS: &[&str] = &[
    "business.stripe_account",
    "business.email",
    "business.name",
    "customer.stripe_customer",
    "customer.email",
    "reservation.reference",
];

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping> {
        let text =
            crate::util::toml_file::read_mapping(path, "the backup.toml files under mappings/")?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Mapping> {
        let mut m: Mapping =
            crate::util::toml_file::parse(text, path, "the backup.toml files under mappings/")?;
        m.check_static(path)?;
        let ems = [
            ("business", m.business.as_mut()),
            ("customer", m.customer.as_mut()),
            ("reservation", m.reservation.as_mut()),
            ("payment", m.payment.as_mut()),
        ];
        for (e, em) in ems {
            let Some(n) = em.and_then(|em| em.merged_into_note.as_mut()) else {
                continue;
            };
            let re = regex::Regex::new(&n.pattern).map_err(|err| {
                Error::config(
                    path,
                    format!(
                        "[{e}].merged_into_note.pattern is not a valid regular expression: {err}"
                    ),
                )
            })?;
            if !re.capture_names().any(|c| c == Some("id")) {
                return Err(Error::config(
                    path,
                    format!(
                        "[{e}].merged_into_note.pattern {:?} has no named group `id`; write it like 'merged into #(?P<id>[0-9]+)'",
                        n.pattern
                    ),
                ));
            }
            n.regex = Some(re);
        }
        Ok(m)
    }

    /// The mapped entities, in dependency order.
    pub fn entities(&self) -> Vec<(Entity, &EntityMap)> {
        let mut v = Vec::new();
        if let Some(b) = &self.business {
            v.push((Entity::Business, b));
        }
        if let Some(c) = &self.customer {
            v.push((Entity::Customer, c));
        }
        if let Some(r) = &self.reservation {
            v.push((Entity::Reservation, r));
        }
        if let Some(p) = &self.payment {
            v.push((Entity::Payment, p));
        }
        v
    }

    /// Checks that need no data: field names, status words, money and time settings.
    fn check_static(&self, path: &Path) -> Result<()> {
        let err = |msg: String| Error::config(path, msg);
        if let Some(z) = &self.timezone {
            if crate::util::time::parse_zone(z).is_none() {
                return Err(err(format!(
                    "timezone = {z:?} is not an IANA zone name (like \"Europe/Berlin\")"
                )));
            }
        }
        let mut tables = BTreeMap::new();
        for (e, em) in self.entities() {
            if let Some(other) = tables.insert(em.table_name().to_ascii_lowercase(), e) {
                return Err(err(format!(
                    "[{e}].table = {:?} is also the table of [{other}]; each entity needs its own table",
                    em.table
                )));
            }
            for field in em.fields.keys().chain(em.constants.keys()) {
                if field == "id" {
                    return Err(err(format!(
                        "[{e}].fields.id: the primary key is set by `id = \"column\"`, not in fields"
                    )));
                }
                if field == "currency" {
                    return Err(err(format!(
                        "[{e}].fields.currency: say where the currency is with `currency = \"eur\"`, `currency_column = \"...\"` or `currency_from_business = \"...\"`"
                    )));
                }
                if field == "deleted" {
                    return Err(err(format!(
                        "[{e}].fields.deleted: use `deleted_column = \"...\"` for soft deletes"
                    )));
                }
                if !field_ok(e, field) {
                    return Err(err(format!(
                        "[{e}].fields.{field}: {field:?} is not a field of a {e}; use one of {}, `attr.<name>` for extra columns, or a link key the merge reads ({})",
                        allowed_fields(e).join(", "),
                        LINK_KEYS.join(", ")
                    )));
                }
            }
            for field in em.values.keys() {
                if !em.fields.contains_key(field) {
                    return Err(err(format!(
                        "[{e}].values.{field}: there is no fields.{field} to translate; map the column first"
                    )));
                }
            }
            if !em.status.is_empty() {
                if em.values.contains_key("status") {
                    return Err(err(format!(
                        "[{e}].values.status: with a [{e}].status table the status is read by that table alone, so values.status would never apply; put its words into [{e}].status"
                    )));
                }
                if !em.fields.contains_key("status") {
                    return Err(err(format!(
                        "[{e}].status: a status map without fields.status; add `status = \"<column>\"` to [{e}.fields]"
                    )));
                }
                let words = e.statuses();
                for (app, contract) in &em.status {
                    if !words.contains(&contract.as_str()) {
                        return Err(err(format!(
                            "[{e}].status.{app} = {contract:?} is not a {e} status; use one of {}",
                            words.join(", ")
                        )));
                    }
                }
            }
            if let Some(sb) = &em.status_by_null {
                let words = e.statuses();
                for (k, w) in [("null", &sb.null), ("set", &sb.set)] {
                    if let Some(w) = w.as_deref().filter(|w| !words.contains(w)) {
                        return Err(err(format!(
                            "[{e}].status_by_null.{k} = {w:?} is not a {e} status; use one of {}",
                            words.join(", ")
                        )));
                    }
                }
            }
            let has_money = em.fields.keys().any(|f| MONEY_FIELDS.contains(&f.as_str()));
            if has_money {
                if em.money_unit.is_none() {
                    return Err(err(format!(
                        "[{e}]: money fields are mapped but money_unit is missing; set money_unit = \"major\" (80.00) or \"minor\" (8000)"
                    )));
                }
                let sources = [
                    em.currency.is_some(),
                    em.currency_column.is_some(),
                    em.currency_from_business.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if sources != 1 {
                    return Err(err(format!(
                        "[{e}]: money fields need exactly one of currency = \"eur\", currency_column = \"<column>\" or currency_from_business = \"<business column>\""
                    )));
                }
            }
            if let Some(c) = &em.currency {
                if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                    return Err(err(format!(
                        "[{e}].currency = {c:?} is not an ISO 4217 code like \"eur\""
                    )));
                }
            }
            if e != Entity::Business && em.timezone_column.is_some() {
                return Err(err(format!(
                    "[{e}].timezone_column: the zone is a property of the business; set timezone_column in [business]"
                )));
            }
            let needs_business = em.currency_from_business.is_some()
                || (self.ts_mode(em) == TsMode::Local && e != Entity::Business);
            if self.business.is_none()
                && e != Entity::Business
                && !em.fields.contains_key("business_id")
                && !em.constants.contains_key("business_id")
            {
                return Err(err(format!(
                    "[{e}]: without a [business] section each row needs its business: add `business_id = \"<column>\"` to [{e}.fields] or to [{e}.constants]"
                )));
            }
            if self.business.is_none() && em.currency_from_business.is_some() {
                return Err(err(format!(
                    "[{e}].currency_from_business needs a [business] section to read it from"
                )));
            }
            if needs_business && !em.fields.contains_key("business_id") {
                return Err(err(format!(
                    "[{e}]: currency_from_business or local timestamps need fields.business_id (the column that points at the business)"
                )));
            }
            if self.ts_mode(em) == TsMode::Local
                && self
                    .business
                    .as_ref()
                    .and_then(|b| b.timezone_column.as_ref())
                    .is_none()
                && self.timezone.is_none()
            {
                return Err(err(format!(
                    "[{e}]: timestamps = \"local\" needs [business].timezone_column or a top-level timezone"
                )));
            }
        }
        Ok(())
    }

    pub fn ts_mode(&self, em: &EntityMap) -> TsMode {
        em.timestamps.unwrap_or(self.timestamps)
    }

    /// Checks the mapping against the tables and columns the dump really has, before any
    /// record is emitted. Returns each entity's table as the dump names it (a table or
    /// column is matched exactly, else case-insensitively).
    pub fn validate(&self, summary: &Summary, path: &Path) -> Result<BTreeMap<Entity, String>> {
        let tables: Vec<&str> = summary
            .tables
            .iter()
            .filter(|(_, t)| t.columns.is_some())
            .map(|(n, _)| n.as_str())
            .collect();
        let resolve = |e: Entity, em: &EntityMap| -> Result<(String, Vec<String>)> {
            match summary.resolve(em.table_name()) {
                Some(name) => Ok((
                    name.to_string(),
                    summary.tables[name].columns.clone().unwrap_or_default(),
                )),
                None => Err(Error::config(
                    path,
                    format!(
                        "[{e}].table = {:?}: the backup has no such table (it has: {}). Fix the table name",
                        em.table,
                        if tables.is_empty() {
                            "no tables at all; is this a pg_dump file?".to_string()
                        } else {
                            tables.join(", ")
                        }
                    ),
                )),
            }
        };
        let (business_table, business_cols) = match &self.business {
            Some(b) => resolve(Entity::Business, b)?,
            None => (String::new(), Vec::new()),
        };
        let mut resolved = BTreeMap::new();
        for (e, em) in self.entities() {
            let (table, cols) = resolve(e, em)?;
            let check = |key: String, col: &str, cols: &[String], table: &str| -> Result<()> {
                if cols.iter().any(|c| c == col || c.eq_ignore_ascii_case(col)) {
                    Ok(())
                } else {
                    Err(Error::config(
                        path,
                        format!(
                            "{key} = {col:?}: table {table} has no column {col:?} (it has: {}). Fix the column name",
                            cols.join(", ")
                        ),
                    ))
                }
            };
            check(format!("[{e}].id"), &em.id, &cols, &table)?;
            let duration = em
                .duration
                .as_ref()
                .map(|d| ("duration.column".to_string(), &d.column));
            let fields = em
                .fields
                .iter()
                .map(|(f, c)| (format!("fields.{f}"), c))
                .chain(duration);
            for (f, c) in fields {
                for c in c.names() {
                    let key = format!("[{e}].{f}");
                    match ColumnPath::parse(c) {
                        None => check(key, c, &cols, &table)?,
                        Some(Err(why)) => {
                            return Err(Error::config(path, format!("{key} = {why}")))
                        }
                        Some(Ok(p)) => {
                            check(key.clone(), p.start, &cols, &table)?;
                            for (l, col) in p.hops {
                                let Some(lk) = self.lookups.get(l) else {
                                    return Err(Error::config(
                                        path,
                                        format!(
                                            "{key} = {c:?}: no [lookups.{l}] (the lookups are: {}). Add one: [lookups.{l}] table = \"...\", key = \"id\"",
                                            if self.lookups.is_empty() { "none".to_string() } else { self.lookups.keys().cloned().collect::<Vec<_>>().join(", ") }
                                        ),
                                    ));
                                };
                                let Some(name) = summary.resolve(lk.table_name()) else {
                                    return Err(Error::config(
                                        path,
                                        format!(
                                            "[lookups.{l}].table = {:?}: the backup has no such table (it has: {}). Fix the table name",
                                            lk.table,
                                            tables.join(", ")
                                        ),
                                    ));
                                };
                                let lcols =
                                    summary.tables[name].columns.clone().unwrap_or_default();
                                check(format!("[lookups.{l}].key"), &lk.key, &lcols, name)?;
                                check(key.clone(), col, &lcols, name)?;
                            }
                        }
                    }
                }
            }
            if let Some(c) = &em.deleted_column {
                for c in c.names() {
                    check(format!("[{e}].deleted_column"), c, &cols, &table)?;
                }
            }
            if let Some(c) = &em.active_column {
                for c in c.names() {
                    check(format!("[{e}].active_column"), c, &cols, &table)?;
                }
            }
            if let Some(s) = &em.status_by_null {
                check(
                    format!("[{e}].status_by_null.column"),
                    &s.column,
                    &cols,
                    &table,
                )?;
            }
            if let Some(c) = &em.merged_into_column {
                check(format!("[{e}].merged_into_column"), c, &cols, &table)?;
            }
            if let Some(n) = &em.merged_into_note {
                check(
                    format!("[{e}].merged_into_note.column"),
                    &n.column,
                    &cols,
                    &table,
                )?;
            }
            if let Some(c) = &em.currency_column {
                check(format!("[{e}].currency_column"), c, &cols, &table)?;
            }
            if let Some(c) = &em.timezone_column {
                check(format!("[{e}].timezone_column"), c, &cols, &table)?;
            }
            if let Some(c) = &em.currency_from_business {
                check(
                    format!("[{e}].currency_from_business"),
                    c,
                    &business_cols,
                    &business_table,
                )?;
            }
            resolved.insert(e, table);
        }
        Ok(resolved)
    }
}

impl EntityMap {
    /// The table name without a schema prefix or quotes (`public.people` -> `people`).
    pub fn table_name(&self) -> &str {
        self.table
            .rsplit('.')
            .next()
            .unwrap_or(&self.table)
            .trim_matches('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::backup::source::TableInfo;

    const OK: &str = r#"
[business]
table = "shops"
id = "id"
timezone_column = "tz"
fields = { name = "name", "attr.currency" = "currency" }

[reservation]
table = "appointments"
id = "id"
fields = { business_id = "shop_id", status = "status", amount = "price" }
money_unit = "major"
currency_from_business = "currency"
status = { booked = "confirmed" }
"#;

    fn summary() -> Summary {
        let mut s = Summary::default();
        let cols = |v: &[&str]| TableInfo {
            columns: Some(v.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        };
        s.tables
            .insert("shops".into(), cols(&["id", "name", "tz", "currency"]));
        s.tables.insert(
            "appointments".into(),
            cols(&["id", "shop_id", "status", "price"]),
        );
        s
    }

    #[test]
    fn valid_mapping_passes() {
        let p = Path::new("m.toml");
        let m = Mapping::parse(OK, p).unwrap();
        let t = m.validate(&summary(), p).unwrap();
        assert_eq!(t[&Entity::Reservation], "appointments");
        // Names match case-insensitively, and a schema prefix is ignored.
        let m = Mapping::parse(
            &OK.replace("\"appointments\"", "\"public.Appointments\""),
            p,
        )
        .unwrap();
        let t = m.validate(&summary(), p).unwrap();
        assert_eq!(t[&Entity::Reservation], "appointments");
    }

    #[test]
    fn unknown_keys_fields_and_words_are_config_errors() {
        let p = Path::new("m.toml");
        let e = Mapping::parse(&OK.replace("money_unit", "money_units"), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.toml") && e.contains("money_units"), "{e}");
        let e = Mapping::parse(&OK.replace("amount = ", "amout = "), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[reservation].fields.amout"), "{e}");
        let e = Mapping::parse(&OK.replace("\"confirmed\"", "\"ok\""), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[reservation].status.booked"), "{e}");
        let e = Mapping::parse(&OK.replace("money_unit = \"major\"", ""), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("money_unit"), "{e}");
    }

    #[test]
    fn missing_tables_and_columns_are_config_errors() {
        let p = Path::new("mappings/x/backup.toml");
        let m = Mapping::parse(&OK.replace("\"appointments\"", "\"appointmentz\""), p).unwrap();
        let e = m.validate(&summary(), p).unwrap_err();
        assert!(matches!(e, Error::Config { .. }));
        let e = e.to_string();
        assert!(
            e.contains("backup.toml")
                && e.contains("[reservation].table")
                && e.contains("appointmentz"),
            "{e}"
        );
        let m = Mapping::parse(&OK.replace("\"price\"", "\"prize\""), p).unwrap();
        let e = m.validate(&summary(), p).unwrap_err().to_string();
        assert!(
            e.contains("[reservation].fields.amount") && e.contains("prize"),
            "{e}"
        );
        let m = Mapping::parse(
            &OK.replace(
                "currency_from_business = \"currency\"",
                "currency_from_business = \"cur\"",
            ),
            p,
        )
        .unwrap();
        let e = m.validate(&summary(), p).unwrap_err().to_string();
        assert!(
            e.contains("currency_from_business") && e.contains("shops"),
            "{e}"
        );
    }
}
