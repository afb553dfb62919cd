//! Stage 3: building each row from its cluster of records: values offered per column,
//! references, synthetic ids and derived values.

use super::linked::{link_fields, Linked};
use super::model::{ProvenanceIds, Recovered, Row, StrId};
use super::survive::Candidate;
use super::{confidence, normalize, survive, Settings};
use crate::claims::store::StoredRecord;
use crate::claims::{Entity, SourceKind, Value};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

pub(super) struct Ctx<'a> {
    pub(super) records: &'a [StoredRecord],
    pub(super) settings: &'a Settings,
    /// Per record, its source ref and observation time in the provenance log's strings
    /// (interned on first use).
    pub(super) rec_strs: Vec<Option<(StrId, Option<StrId>)>>,
    /// Rows a source says were deleted (or merged into another): not exported.
    pub(super) deleted: std::collections::HashSet<(Entity, String)>,
    /// How the app closes bookings whose slot has passed, from its backup.
    pub(super) closure: super::closure::ClosureHabit,
    /// Bookings given a state by that habit, per state (for run_info).
    pub(super) closed_by_habit: std::collections::BTreeMap<&'static str, usize>,
    /// Each business's time zone (by cluster root), as its sources give it.
    pub(super) biz_zones: HashMap<usize, chrono_tz::Tz>,
    /// Wall-clock times read in their business's zone, and those whose zone no source knew.
    pub(super) local_times: LocalTimes,
    /// Bookings an app rule applies to but cannot be evaluated on (no time to read), per
    /// rule (for run_info).
    pub(super) rules_unevaluable: std::collections::BTreeMap<&'static str, usize>,
}

/// Counts of wall-clock claims (`local:<field>`) the build read again (see [`local_time`]).
#[derive(Default)]
pub(super) struct LocalTimes {
    read: std::sync::atomic::AtomicUsize,
    unknown: std::sync::atomic::AtomicUsize,
}

impl LocalTimes {
    pub(super) fn counts(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.read.load(Relaxed), self.unknown.load(Relaxed))
    }
}

/// The value of column `col` of a record that also wrote the column's wall-clock time
/// without a zone (`local:<col>`): that time read in `zone` (the record's own, else its
/// business's), or None to keep the record's own reading.
fn local_time(
    rec: &crate::claims::store::LoadedRecord,
    col: &str,
    zone: Option<chrono_tz::Tz>,
    counts: &LocalTimes,
) -> Option<Value> {
    use std::sync::atomic::Ordering::Relaxed;
    let local = rec.fields.iter().find_map(|(n, v)| {
        let f = n.strip_prefix(crate::claims::LOCAL_TIME)?;
        (f == col).then_some(v)?.as_text()
    })?;
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S").ok()?;
    match zone {
        Some(z) => {
            counts.read.fetch_add(1, Relaxed);
            let t = crate::util::time::local_to_utc(naive, Some(z));
            Some(Value::text(crate::util::time::format_utc(t)))
        }
        None => {
            counts.unknown.fetch_add(1, Relaxed);
            None
        }
    }
}

impl Ctx<'_> {
    /// A candidate value offered by record `ri`.
    pub(super) fn candidate(&self, ri: usize, value: Value) -> Candidate {
        let sr = &self.records[ri];
        Candidate {
            value,
            kind: sr.kind,
            source_ref: sr.record.source_ref.clone(),
            observed_at: sr.record.observed_at.clone(),
            has_app_id: sr.record.get("id").is_some(),
        }
    }

    /// The source refs of records, as the review queue shows them.
    pub(super) fn refs_json(&self, recs: &[usize]) -> serde_json::Value {
        recs.iter()
            .map(|&ri| serde_json::Value::from(self.records[ri].record.source_ref.as_str()))
            .collect()
    }

    /// The kind of source, source ref and observation time of an offered value.
    pub(super) fn origin<'o>(&'o self, o: &'o Offer) -> (SourceKind, &'o str, Option<&'o str>) {
        match &o.from {
            Origin::Record(ri) => {
                let sr = &self.records[*ri];
                (
                    sr.kind,
                    &sr.record.source_ref,
                    sr.record.observed_at.as_deref(),
                )
            }
            Origin::Derived(d) => (d.source, &d.source_ref, d.observed_at.as_deref()),
        }
    }

    /// Appends an offered value of row `row_id` to the provenance log.
    pub(super) fn log(
        &mut self,
        out: &mut Recovered,
        e: Entity,
        row_id: StrId,
        column: StrId,
        o: Offer,
    ) {
        let (source, source_ref, observed_at) = match &o.from {
            Origin::Record(ri) => {
                let ids = match self.rec_strs[*ri] {
                    Some(ids) => ids,
                    None => {
                        let r = &self.records[*ri].record;
                        let ids = (
                            out.provenance.intern(&r.source_ref),
                            r.observed_at.as_deref().map(|t| out.provenance.intern(t)),
                        );
                        self.rec_strs[*ri] = Some(ids);
                        ids
                    }
                };
                (self.records[*ri].kind, ids.0, ids.1)
            }
            Origin::Derived(d) => (
                d.source,
                out.provenance.intern(&d.source_ref),
                d.observed_at.as_deref().map(|t| out.provenance.intern(t)),
            ),
        };
        let value = o.value.as_deref().map(|v| out.provenance.intern(v));
        out.provenance.push_ids(ProvenanceIds {
            entity: e,
            row_id,
            column,
            value,
            source,
            source_ref,
            observed_at,
            chosen: o.chosen,
        });
    }
}

/// Cluster roots a record's references resolved to.
#[derive(Default, Clone, Copy)]
pub(super) struct Links {
    pub(super) business: Option<usize>,
    pub(super) customer: Option<usize>,
    pub(super) reservation: Option<usize>,
}

/// A business's country and currency, for normalising its rows.
pub(super) type BizFacts = (Option<String>, Option<String>);

pub(super) struct IdMaps {
    pub(super) business: HashMap<usize, (String, Option<String>, Option<String>)>,
    pub(super) business_by_id: HashMap<String, BizFacts>,
    pub(super) customer: HashMap<usize, String>,
    pub(super) reservation: HashMap<usize, String>,
}

/// Where a record's value of `col` came from: the record, or the mapping rule that set it
/// (a constant or default: `mapping:<file>#[payment.constants].status (backup:orders#1)`).
fn origin_of(ctx: &Ctx<'_>, ri: usize, col: &str) -> Origin {
    let sr = &ctx.records[ri];
    // Only backup mappings set constants: other records need no look.
    if sr.kind != SourceKind::Backup {
        return Origin::Record(ri);
    }
    let rule = sr.record.fields.iter().find_map(|(n, v)| {
        let f = n.strip_prefix(crate::claims::FROM_MAPPING)?;
        (f == col).then(|| v.render()).flatten()
    });
    match rule {
        None => Origin::Record(ri),
        Some(rule) => Origin::Derived(Box::new(Derived {
            source: sr.kind,
            source_ref: format!(
                "{}{rule} ({})",
                crate::claims::FROM_MAPPING,
                sr.record.source_ref
            ),
            observed_at: sr.record.observed_at.clone(),
        })),
    }
}

/// The provenance column name of an extra value, `extras.<name>`. The names come from the
/// mapping (a few dozen at most), so each is made `'static` once and reused.
fn extras_column(name: &str) -> &'static str {
    // Each thread remembers the names it has seen, so the shared set's lock is taken once
    // per name and thread, not once per value.
    thread_local! {
        static SEEN: std::cell::RefCell<HashMap<String, &'static str>> = Default::default();
    }
    if let Some(s) = SEEN.with(|m| m.borrow().get(name).copied()) {
        return s;
    }
    let s = extras_column_shared(name);
    SEEN.with(|m| m.borrow_mut().insert(name.to_string(), s));
    s
}

fn extras_column_shared(name: &str) -> &'static str {
    static NAMES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<&'static str>>> =
        std::sync::OnceLock::new();
    let full = format!("extras.{name}");
    let mut set = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(s) = set.get(full.as_str()) {
        return s;
    }
    let s: &'static str = Box::leak(full.into_boxed_str());
    set.insert(s);
    s
}

/// A value offered for a column of the row being built (provenance to be).
pub(super) struct Offer {
    pub(super) from: Origin,
    pub(super) column: &'static str,
    pub(super) value: Option<Box<str>>,
    pub(super) chosen: bool,
}

/// Where an offered value came from.
pub(super) enum Origin {
    /// A record (index into the merged records).
    Record(usize),
    /// No source offered it as such: a rule, a default, a derivation (see [`derive`]).
    Derived(Box<Derived>),
}

pub(super) struct Derived {
    pub(super) source: SourceKind,
    pub(super) source_ref: String,
    pub(super) observed_at: Option<String>,
}

/// A row being built, with what finishing it needs.
pub(super) struct Building {
    pub(super) row: Row,
    pub(super) attrs: BTreeMap<String, String>,
    /// Candidate targets of each foreign key: (column, target root, record).
    pub(super) fks: Vec<(&'static str, usize, usize)>,
    /// Raw app ids of references that resolved to nothing: (column, record, value).
    pub(super) raw_fks: Vec<(&'static str, usize, Value)>,
    pub(super) provenance: Vec<Offer>,
    pub(super) conflicts: Vec<(String, Vec<Candidate>)>,
    pub(super) evidence: confidence::Evidence,
    /// The row's records (indexes into the merged records), in cluster order.
    pub(super) recs: Vec<usize>,
    pub(super) deleted: bool,
}

pub(super) fn build_rows(
    ctx: &Ctx<'_>,
    e: Entity,
    groups: &[Vec<usize>],
    linked: &Linked,
    links: impl Fn(usize, Entity) -> Links + Sync,
) -> Vec<Building> {
    let cols = crate::contract::columns(e);
    groups
        .par_iter()
        .map(|g| {
            let recs: Vec<usize> = g.iter().filter_map(|&n| linked.nodes[n]).collect();
            let named: Vec<&(&'static str, String, usize)> = g
                .iter()
                .filter_map(|n| linked.named_keys.get(n))
                .flatten()
                .collect();
            let mut b = build_one(ctx, e, cols, recs, &links);
            if !named.is_empty() {
                named_values(ctx, &mut b, &named);
            }
            b
        })
        .collect()
}

/// A row holds the keys other records named it by (an app id, a Stripe account) when no
/// record of its own gives them, supported by those records; a stub becomes a usable row
/// with a stable id.
pub(super) fn named_values(
    ctx: &Ctx<'_>,
    b: &mut Building,
    named: &[&(&'static str, String, usize)],
) {
    let mut named = named.to_vec();
    named.sort();
    for (field, value, ri) in named {
        let kind = ctx.records[*ri].kind;
        if !b.row.sources.contains(&kind) {
            b.row.sources.push(kind);
            b.row.sources.sort();
            b.evidence.kinds = b.row.sources.clone();
        }
        if *field == "id" {
            if b.row.id.starts_with("rec_") || b.row.id.is_empty() {
                b.row.id = value.clone();
            }
        } else {
            b.row
                .values
                .entry(field.to_string())
                .or_insert_with(|| Value::Text(value.clone()));
        }
        b.provenance.push(Offer {
            from: Origin::Record(*ri),
            column: field,
            value: Some(value.clone().into_boxed_str()),
            chosen: true,
        });
    }
    if b.row.id.starts_with("rec_") || b.row.id.is_empty() {
        if let Some(acct) = b.row.text("stripe_account") {
            b.row.id = crate::util::ids::synthetic_id(&["business", "stripe_account", acct]);
        }
    }
}

pub(super) fn build_one(
    ctx: &Ctx<'_>,
    e: Entity,
    cols: &[&'static str],
    recs: Vec<usize>,
    links: &(impl Fn(usize, Entity) -> Links + Sync),
) -> Building {
    // Per column: the candidates and the record each came from.
    let mut cands: BTreeMap<&'static str, (Vec<Candidate>, Vec<usize>)> = BTreeMap::new();
    let mut attrs: BTreeMap<String, String> = BTreeMap::new();
    let mut fks = Vec::new();
    let mut raw_fks = Vec::new();
    let mut kinds: Vec<SourceKind> = Vec::new();
    let mut has_app_id = false;
    let mut deleted = false;
    let attempts = if e == Entity::Payment {
        failed_attempts(ctx, &recs)
    } else {
        Vec::new()
    };
    // Values that do not compete: failed attempts' state and money, and values the
    // contract cannot hold (kept in provenance, unchosen; the latter also reviewed).
    let mut set_aside: Vec<Offer> = Vec::new();
    let mut invalid: Vec<(String, Vec<Candidate>)> = Vec::new();
    for &ri in &recs {
        let sr = &ctx.records[ri];
        let rec = &sr.record;
        let attempt = attempts.contains(&ri);
        if !kinds.contains(&sr.kind) {
            kinds.push(sr.kind);
        }
        let rec_has_id = rec.get("id").is_some();
        has_app_id |= rec_has_id;
        let l = links(ri, e);
        let has_local = rec
            .fields
            .iter()
            .any(|(n, _)| n.starts_with(crate::claims::LOCAL_TIME));
        let zone = if has_local {
            rec.get("attr.timezone")
                .and_then(|v| v.as_text())
                .and_then(crate::util::time::parse_zone)
                .or_else(|| l.business.and_then(|b| ctx.biz_zones.get(&b).copied()))
        } else {
            None
        };
        let cand = |v: Value| Candidate {
            value: v,
            kind: sr.kind,
            source_ref: rec.source_ref.clone(),
            observed_at: rec.observed_at.clone(),
            has_app_id: rec_has_id,
        };
        for (f, v) in rec.fields.iter() {
            let f: &str = f;
            if f == "deleted" {
                deleted |= v.as_int() == Some(1);
            } else if f == "merged_into" {
                deleted = true;
            } else if let Some(a) = f.strip_prefix("attr.") {
                if let Some(s) = v.render() {
                    // The first record's value is the row's (records come in the
                    // cluster's order); every offer is kept in provenance.
                    let key = format!("attr.{a}");
                    let chosen = attrs.get(&key).is_none_or(|c| *c == s);
                    set_aside.push(Offer {
                        from: Origin::Record(ri),
                        column: extras_column(a),
                        value: Some(s.clone().into_boxed_str()),
                        chosen,
                    });
                    attrs.entry(key).or_insert(s);
                }
            } else if let Some(c) = cols.iter().find(|c| **c == f) {
                if !matches!(*c, "business_id" | "customer_id" | "reservation_id") {
                    let v = match has_local {
                        true => local_time(rec, c, zone, &ctx.local_times),
                        false => None,
                    }
                    .unwrap_or_else(|| v.clone());
                    let value = clean(f, v);
                    let valid = contract_holds(e, c, &value);
                    if !valid || (attempt && ATTEMPT_FIELDS.contains(c)) {
                        if !valid {
                            invalid.push((format!("invalid:{c}"), vec![cand(value.clone())]));
                        }
                        set_aside.push(Offer {
                            from: Origin::Record(ri),
                            column: c,
                            value: value.render().map(String::into_boxed_str),
                            chosen: false,
                        });
                        continue;
                    }
                    let (cs, from) = cands.entry(c).or_default();
                    cs.push(cand(value));
                    from.push(ri);
                }
            }
        }
        for (col, target, root) in [
            ("business_id", Entity::Business, l.business),
            ("customer_id", Entity::Customer, l.customer),
            ("reservation_id", Entity::Reservation, l.reservation),
        ] {
            if !cols.contains(&col) {
                continue;
            }
            match root {
                Some(r) => fks.push((col, r, ri)),
                None => {
                    let (id_field, _) = link_fields(target);
                    if let Some(v) = rec.get(id_field) {
                        raw_fks.push((col, ri, v.clone()));
                    }
                }
            }
        }
    }
    kinds.sort();
    let mut row = Row {
        id: String::new(),
        values: BTreeMap::new(),
        confidence: 0.0,
        sources: kinds.clone(),
        evidence: None,
        extras: attrs
            .iter()
            .map(|(k, v)| (k.trim_start_matches("attr.").to_string(), v.clone()))
            .collect(),
    };
    let mut provenance = Vec::new();
    let mut conflicts = Vec::new();
    for (col, (cs, from)) in cands {
        let choice = survive::choose(e, col, &cs);
        for (c, &ri) in cs.iter().zip(&from) {
            provenance.push(Offer {
                from: origin_of(ctx, ri, col),
                column: col,
                value: c.value.render().map(String::into_boxed_str),
                chosen: c.value == choice.value,
            });
        }
        if choice.conflict && survive::conflict_matters(e, col) {
            conflicts.push((col.to_string(), cs));
        }
        row.values.insert(col.to_string(), choice.value);
    }
    provenance.extend(set_aside);
    conflicts.extend(invalid);
    row.id = match row.values.remove("id") {
        Some(v) => v.render().unwrap_or_default(),
        None => synthetic_id(ctx, e, &row, &attrs, &recs),
    };
    let stub = recs.is_empty();
    Building {
        row,
        attrs,
        fks,
        raw_fks,
        provenance,
        conflicts,
        evidence: confidence::Evidence {
            kinds,
            has_app_id,
            problems: Vec::new(),
            stub,
        },
        recs,
        deleted,
    }
}

/// A payment's fields that a failed attempt does not get to decide.
pub(super) const ATTEMPT_FIELDS: [&str; 6] = [
    "status",
    "amount",
    "amount_refunded",
    "currency",
    "created_at",
    "processor_id",
];

/// The failed charges of a payment that also has a charge that did not fail: attempts
/// before the one that succeeded (a declined card, then a retry on the same
/// PaymentIntent). They are facts on the payment, not its state.
pub(super) fn failed_attempts(ctx: &Ctx<'_>, recs: &[usize]) -> Vec<usize> {
    let failed = |ri: &usize| {
        let sr = &ctx.records[*ri];
        sr.kind == SourceKind::Stripe
            && sr.record.get("status").and_then(|v| v.as_text()) == Some("failed")
    };
    let other = recs.iter().any(|ri| {
        let sr = &ctx.records[*ri];
        sr.kind == SourceKind::Stripe
            && sr
                .record
                .get("status")
                .and_then(|v| v.as_text())
                .is_some_and(|s| s != "failed")
    });
    if !other {
        return Vec::new();
    }
    recs.iter().copied().filter(|ri| failed(ri)).collect()
}

/// Whether the contract can hold this value of a column: a lowercase ISO 4217 currency,
/// a status of the contract's enum, an amount that is not negative. A value it cannot hold
/// goes to review with its source, never into the table.
pub(super) fn contract_holds(e: Entity, col: &str, v: &Value) -> bool {
    match (e, col, v) {
        (_, "currency", Value::Text(c)) => crate::util::money::is_iso_currency(c),
        (_, "currency", _) => false,
        (_, "status", Value::Text(s)) => e.statuses().contains(&s.as_str()),
        (_, "status", _) => false,
        (_, "amount" | "amount_refunded" | "party_size", Value::Int(n)) => *n >= 0,
        (_, "amount" | "amount_refunded" | "party_size", _) => false,
        _ => true,
    }
}

/// Normalises a claimed value of a column for comparison and output.
pub(super) fn clean(col: &str, v: Value) -> Value {
    // A NUL byte (a torn write, a C string read too far) never reaches the export: it
    // becomes U+FFFD, visible to whoever reviews the value, and a currency holding one is
    // no ISO 4217 code, so it goes to review as `invalid:currency`.
    let v = match v {
        Value::Text(s) if s.contains('\0') => Value::Text(s.replace('\0', "\u{fffd}")),
        v => v,
    };
    match (col, &v) {
        ("email", Value::Text(s)) => Value::Text(normalize::email(s)),
        ("name" | "service", Value::Text(s)) => Value::Text(normalize::clean_text(s)),
        ("currency", Value::Text(s)) => Value::Text(s.trim().to_lowercase()),
        ("party_size" | "amount" | "amount_refunded", Value::Text(s)) => {
            s.trim().parse().map(Value::Int).unwrap_or(v)
        }
        _ => v,
    }
}

/// A stable id for a row whose original id no source shows, from its strongest key.
pub(super) fn synthetic_id(
    ctx: &Ctx<'_>,
    e: Entity,
    row: &Row,
    attrs: &BTreeMap<String, String>,
    recs: &[usize],
) -> String {
    let pick = |cols: &[&str]| {
        cols.iter().find_map(|c| {
            row.values
                .get(*c)
                .and_then(|v| v.render())
                .or_else(|| attrs.get(*c).cloned())
                .map(|v| (c.to_string(), v))
        })
    };
    let key = match e {
        Entity::Business => pick(&["stripe_account", "email", "name"]),
        // Emails, phones and names are not a person's identity (families share an email,
        // people share names): without a Stripe customer, the cluster's first record
        // names the row.
        Entity::Customer => pick(&["stripe_customer"]),
        Entity::Reservation => pick(&["reference"]),
        Entity::Payment => pick(&["processor_id", "attr.payment_intent", "attr.receipt_number"]),
    };
    let (k, v) = key.unwrap_or_else(|| {
        (
            "ref".to_string(),
            recs.iter()
                .map(|&ri| ctx.records[ri].record.source_ref.as_str())
                .min()
                .unwrap_or_default()
                .to_string(),
        )
    });
    crate::util::ids::synthetic_id(&[e.as_str(), &k, &v])
}

/// The source ref of the value chosen for `col`.
pub(super) fn chosen_ref(ctx: &Ctx<'_>, b: &Building, col: &str) -> Option<String> {
    b.provenance
        .iter()
        .find(|p| p.column == col && p.chosen)
        .map(|p| ctx.origin(p).1.to_string())
}

/// Sets a value no source offered as such (a rule, a default, a derivation): the offered
/// values stay in provenance unchosen, and a provenance row says how the value came about
/// (`source_ref` = `rule:...`, `default:...`, `derived:...`, with its basis).
pub(super) fn derive(
    ctx: &Ctx<'_>,
    b: &mut Building,
    col: &'static str,
    value: Value,
    how: &str,
    basis: Option<String>,
) {
    let mut source = b.row.sources.first().copied();
    let mut observed_at = None;
    for p in b.provenance.iter_mut().filter(|p| p.column == col) {
        if p.chosen {
            let (kind, _, at) = ctx.origin(p);
            source = Some(kind);
            observed_at = at.map(str::to_string);
        }
        p.chosen = false;
    }
    let source_ref = match basis {
        Some(basis) => format!("{how}({basis})"),
        None => how.to_string(),
    };
    b.provenance.push(Offer {
        from: Origin::Derived(Box::new(Derived {
            source: source.unwrap_or(SourceKind::Backup),
            source_ref,
            observed_at,
        })),
        column: col,
        value: value.render().map(String::into_boxed_str),
        chosen: true,
    });
    b.row.values.insert(col.to_string(), value);
}
