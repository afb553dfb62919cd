//! The claims model: the one language every importer speaks and the merge engine hears.
//!
//! A [`Record`] is what one source says about one entity at one place ("backup row
//! bookings#4211 says: id=4211, status=confirmed, ..."). Each of its fields is a *claim*:
//! "source S (at ref R, observed at T) says field F of entity E is V". The merge engine never
//! sees a file format, only records; importers never see one another or the merge.
//!
//! Field names are the contract's column names (`id`, `name`, `email`, `status`,
//! `business_id`, ...). Besides those, a record can carry:
//! * link keys: `<entity>.<key>` names another entity by a key other than its app id, e.g.
//!   `business.stripe_account = acct_1` on a Stripe customer, `reservation.reference =
//!   R-1042` on a payment, `customer.email = ann@x.org` on an email confirmation;
//! * extra attributes: `attr.<name>`, kept for linkage and shown in provenance;
//! * `deleted = 1`: the source says the row was (soft-)deleted.

pub mod store;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of source the contract knows (`sources` column, `provenance.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Backup,
    Email,
    Stripe,
    /// A person's review decision (`salvage review`): never an input source of the
    /// incident, and never in a row's `sources`; in provenance, the source of a value a
    /// person decided.
    Review,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Backup => "backup",
            SourceKind::Email => "email",
            SourceKind::Stripe => "stripe",
            SourceKind::Review => "review",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "backup" => Some(SourceKind::Backup),
            "email" => Some(SourceKind::Email),
            "stripe" => Some(SourceKind::Stripe),
            "review" => Some(SourceKind::Review),
            _ => None,
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical entities, in dependency order (a payment links to a reservation, which
/// links to a customer, which links to a business).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Business,
    Customer,
    Reservation,
    Payment,
}

impl Entity {
    pub const ALL: [Entity; 4] = [
        Entity::Business,
        Entity::Customer,
        Entity::Reservation,
        Entity::Payment,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Business => "business",
            Entity::Customer => "customer",
            Entity::Reservation => "reservation",
            Entity::Payment => "payment",
        }
    }
    /// The contract table that holds this entity.
    pub fn table(self) -> &'static str {
        match self {
            Entity::Business => "businesses",
            Entity::Customer => "customers",
            Entity::Reservation => "reservations",
            Entity::Payment => "payments",
        }
    }
    /// The canonical fields of this entity: the contract table's columns in order, except
    /// `confidence` and `sources`. Importers may claim any of them (but `id` is the app's).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Entity::Business => &["id", "name", "email", "stripe_account"],
            Entity::Customer => &[
                "id",
                "business_id",
                "name",
                "email",
                "phone",
                "stripe_customer",
                "created_at",
            ],
            Entity::Reservation => &[
                "id",
                "business_id",
                "customer_id",
                "reference",
                "service",
                "starts_at",
                "ends_at",
                "party_size",
                "status",
                "amount",
                "currency",
                "created_at",
                "updated_at",
            ],
            Entity::Payment => &[
                "id",
                "business_id",
                "customer_id",
                "reservation_id",
                "processor",
                "processor_id",
                "amount",
                "amount_refunded",
                "currency",
                "status",
                "created_at",
            ],
        }
    }

    /// The contract's status words of this entity (`recovered-db.sql`); empty when it has
    /// no status.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Entity::Reservation => &["pending", "confirmed", "cancelled", "completed", "no_show"],
            Entity::Payment => &[
                "pending",
                "succeeded",
                "failed",
                "refunded",
                "partially_refunded",
                "disputed",
            ],
            _ => &[],
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "business" => Some(Entity::Business),
            "customer" => Some(Entity::Customer),
            "reservation" => Some(Entity::Reservation),
            "payment" => Some(Entity::Payment),
            _ => None,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A claimed value. Money is `Int` in minor units; timestamps are `Text` in the contract's
/// form (`2026-04-25T09:14:00Z`, see [`crate::util::time::format_utc`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    pub fn text(s: impl Into<String>) -> Self {
        Value::Text(s.into())
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Text(s) => s.parse().ok(),
            Value::Null => None,
        }
    }
    /// The value as provenance shows it.
    pub fn render(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Int(i) => Some(i.to_string()),
            Value::Text(s) => Some(s.clone()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map(Into::into).unwrap_or(Value::Null)
    }
}

/// A field named `FROM_MAPPING + <field>` says that `<field>`'s value came from the
/// mapping (a constant or default), not from the source; its value names the rule
/// (`mappings/x/backup.toml#[payment.constants].status`). Provenance then names the rule.
pub const FROM_MAPPING: &str = "mapping:";

/// A field named `LOCAL_TIME + <field>` holds `<field>`'s wall-clock time as the source
/// wrote it, without a zone (`2025-04-14T18:30:00`), when the source could not tell the
/// zone for sure: `<field>` holds the source's best reading, and the merge reads the wall
/// clock again in the zone that some source knows for the row's business (its
/// `attr.timezone`), or for the record itself.
pub const LOCAL_TIME: &str = "local:";

/// What one source says about one entity at one place. Every field is a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub entity: Entity,
    /// Where exactly, unique within the source: `backup:bookings#4211`,
    /// `stripe:acct_1/ch_3Nx`, `email:<message-id>`. Becomes `provenance.source_ref`.
    pub source_ref: String,
    /// When the source saw these values (backup snapshot time, Stripe object state at pull
    /// or event time, email Date). Contract timestamp text. Drives replay.
    pub observed_at: Option<String>,
    /// Field name -> value. Field names: see the module docs.
    pub fields: Vec<(String, Value)>,
}

impl Record {
    pub fn new(entity: Entity, source_ref: impl Into<String>, observed_at: Option<String>) -> Self {
        Record {
            entity,
            source_ref: source_ref.into(),
            observed_at,
            fields: Vec::new(),
        }
    }
    /// Adds a field unless the value is null (a source that does not know says nothing).
    pub fn set(&mut self, field: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        let value = value.into();
        if !value.is_null() {
            self.fields.push((field.into(), value));
        }
        self
    }
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.iter().find(|(f, _)| f == field).map(|(_, v)| v)
    }
}

/// A source input that could not be read as a whole or in part: counted, reported, never fatal
/// for the rest of the import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skip {
    /// File and position: `backup.sql:1042`, `mail.mbox@183422`, `unified_payments.csv:17`.
    pub location: String,
    /// A short machine-friendly category: `bad_row`, `unmatched_email`, `truncated`, ...
    pub kind: String,
    /// What went wrong, for a person.
    pub reason: String,
}

/// Where importers send what they read. The workspace store implements it; tests collect
/// into a `Vec`.
pub trait RecordSink {
    fn record(&mut self, record: Record) -> crate::Result<()>;
    fn skip(&mut self, skip: Skip) -> crate::Result<()>;
    /// What the importer counted of its input, as JSON (the email importer: messages read,
    /// extracted and skipped by kind), kept with the source. Sinks that keep no such thing
    /// drop it.
    fn counts(&mut self, _counts: serde_json::Value) -> crate::Result<()> {
        Ok(())
    }
    /// How many inputs a rule of the mapping matched (`templates[3] (confirmation (v2))`:
    /// 1,204 messages), for `salvage mapping check`. Sinks that do not keep it ignore it.
    fn rule_hits(&mut self, _rule: &str, _hits: u64) -> crate::Result<()> {
        Ok(())
    }
}

/// A sink that keeps everything in memory (tests, small runs).
#[derive(Debug, Default)]
pub struct VecSink {
    pub records: Vec<Record>,
    /// Skipped input.
    pub skips: Vec<Skip>,
    /// Rules of the mapping that matched nothing (`import::UNUSED_RULE`), kept apart as
    /// the report keeps them: no input was dropped.
    pub unused_rules: Vec<Skip>,
    /// How many inputs each rule matched, as the importer said.
    pub rule_hits: Vec<(String, u64)>,
}

impl RecordSink for VecSink {
    fn record(&mut self, record: Record) -> crate::Result<()> {
        self.records.push(record);
        Ok(())
    }
    fn rule_hits(&mut self, rule: &str, hits: u64) -> crate::Result<()> {
        self.rule_hits.push((rule.to_string(), hits));
        Ok(())
    }
    fn skip(&mut self, skip: Skip) -> crate::Result<()> {
        if skip.kind == crate::import::UNUSED_RULE {
            self.unused_rules.push(skip);
        } else {
            self.skips.push(skip);
        }
        Ok(())
    }
}
