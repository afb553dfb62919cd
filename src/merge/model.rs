//! What the merge produces and the exporters consume: rows of the four tables with their
//! confidence and sources, every offered value (provenance), and the review queue. No file
//! format and no source format appears here.

use crate::claims::{Entity, SourceKind, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One reconstructed row of `businesses`, `customers`, `reservations` or `payments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    /// Contract column -> value, for every column except `id`, `confidence`, `sources`.
    pub values: BTreeMap<String, Value>,
    pub confidence: f64,
    /// Kinds of source that support the row, sorted, deduplicated.
    pub sources: Vec<SourceKind>,
    /// The evidence signature its confidence was read from (see `merge::confidence`).
    #[serde(default)]
    pub evidence: Option<String>,
}

impl Row {
    pub fn get(&self, col: &str) -> Option<&Value> {
        self.values.get(col).filter(|v| !v.is_null())
    }
    pub fn text(&self, col: &str) -> Option<&str> {
        self.get(col).and_then(|v| v.as_text())
    }
    pub fn sources_text(&self) -> String {
        self.sources
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One value a source offered for a field, chosen or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub entity: Entity,
    pub row_id: String,
    pub column: String,
    pub value: Option<String>,
    pub source: SourceKind,
    pub source_ref: String,
    pub observed_at: Option<String>,
    pub chosen: bool,
}

/// A row a person should look at before it goes back into production.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub entity: Entity,
    pub row_id: String,
    /// `conflict:<column>`, `low_confidence`, `orphan_payment`, ...
    pub reason: String,
    pub confidence: Option<f64>,
    pub details: serde_json::Value,
}

/// The whole reconstructed database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recovered {
    pub businesses: Vec<Row>,
    pub customers: Vec<Row>,
    pub reservations: Vec<Row>,
    pub payments: Vec<Row>,
    pub provenance: Vec<Provenance>,
    pub review: Vec<ReviewItem>,
    /// `run_info` key/value pairs (tool version, incident time, inputs and their SHA-256...).
    pub run_info: BTreeMap<String, String>,
}

impl Recovered {
    pub fn rows(&self, e: Entity) -> &Vec<Row> {
        match e {
            Entity::Business => &self.businesses,
            Entity::Customer => &self.customers,
            Entity::Reservation => &self.reservations,
            Entity::Payment => &self.payments,
        }
    }
    pub fn rows_mut(&mut self, e: Entity) -> &mut Vec<Row> {
        match e {
            Entity::Business => &mut self.businesses,
            Entity::Customer => &mut self.customers,
            Entity::Reservation => &mut self.reservations,
            Entity::Payment => &mut self.payments,
        }
    }
}
