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
    /// The mapping's extra values (`attr.<name>` claims), name without `attr.` -> value:
    /// exported as the table's `extras` JSON column, each with its provenance
    /// (`column_name` = `extras.<name>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extras: BTreeMap<String, String>,
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

/// One value a source offered for a field, chosen or not (owned; see [`ProvenanceRef`]
/// for the form [`ProvenanceLog`] hands out).
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

impl Provenance {
    pub fn view(&self) -> ProvenanceRef<'_> {
        ProvenanceRef {
            entity: self.entity,
            row_id: &self.row_id,
            column: &self.column,
            value: self.value.as_deref(),
            source: self.source,
            source_ref: &self.source_ref,
            observed_at: self.observed_at.as_deref(),
            chosen: self.chosen,
        }
    }
}

/// One value a source offered for a field, chosen or not, borrowed from a
/// [`ProvenanceLog`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProvenanceRef<'a> {
    pub entity: Entity,
    pub row_id: &'a str,
    pub column: &'a str,
    pub value: Option<&'a str>,
    pub source: SourceKind,
    pub source_ref: &'a str,
    pub observed_at: Option<&'a str>,
    pub chosen: bool,
}

impl ProvenanceRef<'_> {
    pub fn to_owned(&self) -> Provenance {
        Provenance {
            entity: self.entity,
            row_id: self.row_id.to_string(),
            column: self.column.to_string(),
            value: self.value.map(str::to_string),
            source: self.source,
            source_ref: self.source_ref.to_string(),
            observed_at: self.observed_at.map(str::to_string),
            chosen: self.chosen,
        }
    }
}

/// The number of a string in a [`Strings`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(std::num::NonZeroU32);

impl StrId {
    fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// Distinct strings, each kept once and named by a [`StrId`] (in order of first sight).
/// Provenance repeats the same row ids, column names, source refs, times and values
/// millions of times; this keeps one copy of each.
#[derive(Clone, Default)]
pub struct Strings {
    text: String,
    /// End of string `i` in `text` (it starts where string `i - 1` ends).
    ends: Vec<usize>,
    /// Open addressing (linear probing, at most half full): ids by hash.
    table: Vec<Option<StrId>>,
}

impl Strings {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, id: StrId) -> &str {
        let i = id.index();
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The id of `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> StrId {
        if (self.ends.len() + 1) * 2 > self.table.len() {
            self.grow();
        }
        let mask = self.table.len() - 1;
        let mut slot = hash(s) as usize & mask;
        loop {
            match self.table[slot] {
                Some(id) if self.get(id) == s => return id,
                Some(_) => slot = (slot + 1) & mask,
                None => {
                    self.text.push_str(s);
                    self.ends.push(self.text.len());
                    let n = u32::try_from(self.ends.len()).expect("fewer than 2^32 strings");
                    let id = StrId(std::num::NonZeroU32::new(n).expect("n >= 1"));
                    self.table[slot] = Some(id);
                    return id;
                }
            }
        }
    }

    fn grow(&mut self) {
        let cap = (self.table.len() * 2).max(1024);
        let mut table = vec![None; cap];
        let mask = cap - 1;
        for i in 0..self.ends.len() {
            let id = StrId(std::num::NonZeroU32::new(i as u32 + 1).expect("i + 1 >= 1"));
            let mut slot = hash(self.get(id)) as usize & mask;
            while table[slot].is_some() {
                slot = (slot + 1) & mask;
            }
            table[slot] = Some(id);
        }
        self.table = table;
    }
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Strings")
            .field("len", &self.len())
            .field("bytes", &self.text.len())
            .finish()
    }
}

/// A fast hash of a string, for [`Strings`] (no need to resist attacks: a collision costs
/// time, never a wrong answer).
fn hash(s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let b = s.as_bytes();
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// One provenance entry with its strings as [`StrId`]s of the log's [`Strings`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProvenanceIds {
    pub entity: Entity,
    pub row_id: StrId,
    pub column: StrId,
    pub value: Option<StrId>,
    pub source: SourceKind,
    pub source_ref: StrId,
    pub observed_at: Option<StrId>,
    pub chosen: bool,
}

/// Every value offered for every exported column, in order, kept compactly: about 24
/// bytes an entry plus one copy of each distinct string (millions of entries on a large
/// incident). Iterate with [`ProvenanceLog::iter`].
#[derive(Clone, Default)]
pub struct ProvenanceLog {
    strings: Strings,
    entries: Vec<ProvenanceIds>,
}

impl ProvenanceLog {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of `s` in this log's strings (for [`ProvenanceLog::push_ids`]).
    pub fn intern(&mut self, s: &str) -> StrId {
        self.strings.intern(s)
    }

    pub fn push_ids(&mut self, p: ProvenanceIds) {
        self.entries.push(p);
    }

    pub fn push(&mut self, p: ProvenanceRef<'_>) {
        let ids = ProvenanceIds {
            entity: p.entity,
            row_id: self.intern(p.row_id),
            column: self.intern(p.column),
            value: p.value.map(|v| self.intern(v)),
            source: p.source,
            source_ref: self.intern(p.source_ref),
            observed_at: p.observed_at.map(|v| self.intern(v)),
            chosen: p.chosen,
        };
        self.entries.push(ids);
    }

    /// Puts the entries in the order of the exported index on (table_name, row_id):
    /// tables by name, rows by id as bytes, each row's entries in the order they were
    /// pushed. The export then appends to that index instead of sorting tens of millions
    /// of entries after the fact. Entries come in runs of one row (a row's values are
    /// pushed together), so it is the runs that are sorted.
    pub fn sort_by_row(&mut self) {
        use rayon::prelude::*;
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (i, p) in self.entries.iter().enumerate() {
            match runs.last_mut() {
                Some((start, end))
                    if self.entries[*start].entity == p.entity
                        && self.entries[*start].row_id == p.row_id =>
                {
                    *end = i + 1
                }
                _ => runs.push((i, i + 1)),
            }
        }
        let key = |&(start, _): &(usize, usize)| {
            let p = &self.entries[start];
            (p.entity.table(), self.strings.get(p.row_id).as_bytes())
        };
        if runs.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
            return;
        }
        runs.par_sort_by(|a, b| key(a).cmp(&key(b)));
        let mut sorted = Vec::with_capacity(self.entries.len());
        for (start, end) in runs {
            sorted.extend_from_slice(&self.entries[start..end]);
        }
        self.entries = sorted;
    }

    /// Marks every chosen entry that `pred` picks as not chosen (a later decision chose
    /// another value for its column).
    pub fn unchoose_where(&mut self, pred: impl Fn(&ProvenanceRef<'_>) -> bool) {
        for i in 0..self.entries.len() {
            let hit = {
                let v = self.view(&self.entries[i]);
                v.chosen && pred(&v)
            };
            if hit {
                self.entries[i].chosen = false;
            }
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = ProvenanceRef<'_>> + '_ {
        self.entries.iter().map(|p| self.view(p))
    }

    fn view(&self, p: &ProvenanceIds) -> ProvenanceRef<'_> {
        let s = |id: StrId| self.strings.get(id);
        ProvenanceRef {
            entity: p.entity,
            row_id: s(p.row_id),
            column: s(p.column),
            value: p.value.map(s),
            source: p.source,
            source_ref: s(p.source_ref),
            observed_at: p.observed_at.map(s),
            chosen: p.chosen,
        }
    }
}

impl PartialEq for ProvenanceLog {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for ProvenanceLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for ProvenanceLog {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ProvenanceLog {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let all = Vec::<Provenance>::deserialize(d)?;
        let mut log = ProvenanceLog::default();
        for p in &all {
            log.push(p.view());
        }
        Ok(log)
    }
}

impl FromIterator<Provenance> for ProvenanceLog {
    fn from_iter<I: IntoIterator<Item = Provenance>>(iter: I) -> Self {
        let mut log = ProvenanceLog::default();
        for p in iter {
            log.push(p.view());
        }
        log
    }
}

#[cfg(test)]
impl Row {
    /// A row for tests: values by column, its confidence and its supporting sources.
    pub fn for_test(
        id: &str,
        values: &[(&str, Value)],
        confidence: f64,
        sources: &[SourceKind],
    ) -> Row {
        Row {
            id: id.into(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            confidence,
            sources: sources.to_vec(),
            evidence: None,
            extras: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
impl Provenance {
    /// A value `source` offered for a column, for tests (its ref is `<source>:<row>`).
    pub fn offered(
        entity: Entity,
        row: &str,
        column: &str,
        value: &str,
        source: SourceKind,
        observed_at: Option<&str>,
        chosen: bool,
    ) -> Provenance {
        Provenance {
            entity,
            row_id: row.into(),
            column: column.into(),
            value: Some(value.into()),
            source,
            source_ref: format!("{}:{row}", source.as_str()),
            observed_at: observed_at.map(str::to_string),
            chosen,
        }
    }
}

#[cfg(test)]
impl ReviewItem {
    /// A review item for tests, with no evidence.
    pub fn for_test(
        entity: Entity,
        row_id: &str,
        reason: &str,
        confidence: Option<f64>,
    ) -> ReviewItem {
        ReviewItem {
            entity,
            row_id: row_id.into(),
            reason: reason.into(),
            confidence,
            details: serde_json::json!({}),
        }
    }
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
    pub provenance: ProvenanceLog,
    pub review: Vec<ReviewItem>,
    /// `run_info` key/value pairs (tool version, incident time, inputs and their SHA-256...).
    pub run_info: BTreeMap<String, String>,
    /// Why records that share no key were joined (`record_links`).
    #[serde(default)]
    pub record_links: Vec<RecordLink>,
    /// Rows a source says were deleted (or merged into another), left out of the tables
    /// (`deleted_rows`): what a restore soft-deletes in the app.
    #[serde(default)]
    pub deleted: Vec<DeletedRow>,
}

/// A row a source says was deleted in the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedRow {
    pub entity: Entity,
    pub row_id: String,
    /// The records that say so (source refs).
    pub said_by: Vec<String>,
    /// When the latest of them observed it.
    pub deleted_at: Option<String>,
    /// Whether a backup record shows the row alive: it was deleted after the backup.
    pub alive_in_backup: bool,
}

/// One join of two records into a row, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordLink {
    pub entity: Entity,
    pub row_id: String,
    pub record: String,
    pub joined_to: String,
    pub kind: String,
    pub weight: Option<f64>,
    pub probability: Option<f64>,
    pub detail: serde_json::Value,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_kept_once_and_found_again() {
        let mut s = Strings::default();
        let words: Vec<String> = (0..5000).map(|i| format!("w{}", i % 1700)).collect();
        let ids: Vec<StrId> = words.iter().map(|w| s.intern(w)).collect();
        assert_eq!(s.len(), 1700);
        for (w, id) in words.iter().zip(&ids) {
            assert_eq!(s.get(*id), w);
        }
        assert_eq!(ids[0], ids[1700]);
        assert_ne!(ids[0], ids[1]);
        let empty = s.intern("");
        assert_eq!(s.get(empty), "");
        assert_eq!(s.get(ids[3]), "w3");
    }

    #[test]
    fn the_log_gives_back_what_went_in() {
        let p = |row: &str, v: Option<&str>, chosen| Provenance {
            entity: Entity::Payment,
            row_id: row.into(),
            column: "amount".into(),
            value: v.map(str::to_string),
            source: SourceKind::Stripe,
            source_ref: "stripe:acct_1/ch_1".into(),
            observed_at: None,
            chosen,
        };
        let all = vec![p("1", Some("4500"), true), p("2", None, false)];
        let log: ProvenanceLog = all.iter().cloned().collect();
        assert_eq!(log.len(), 2);
        let back: Vec<Provenance> = log.iter().map(|r| r.to_owned()).collect();
        assert_eq!(back, all);
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(serde_json::from_str::<ProvenanceLog>(&json).unwrap(), log);
        let other: ProvenanceLog = all[..1].iter().cloned().collect();
        assert_ne!(other, log);
    }

    #[test]
    fn sorting_by_row_keeps_each_rows_entries_in_order() {
        let p = |e: Entity, row: &str, col: &str| Provenance {
            entity: e,
            row_id: row.into(),
            column: col.into(),
            value: None,
            source: SourceKind::Email,
            source_ref: "email:<a@b>".into(),
            observed_at: None,
            chosen: false,
        };
        let mut log: ProvenanceLog = [
            p(Entity::Reservation, "2", "status"),
            p(Entity::Reservation, "2", "amount"),
            p(Entity::Payment, "9", "amount"),
            p(Entity::Reservation, "10", "status"),
            p(Entity::Business, "1", "name"),
        ]
        .into_iter()
        .collect();
        log.sort_by_row();
        let got: Vec<(&str, &str, &str)> = log
            .iter()
            .map(|r| (r.entity.table(), r.row_id, r.column))
            .collect();
        assert_eq!(
            got,
            [
                ("businesses", "1", "name"),
                ("payments", "9", "amount"),
                ("reservations", "10", "status"),
                ("reservations", "2", "status"),
                ("reservations", "2", "amount"),
            ]
        );
    }
}
