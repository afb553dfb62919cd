//! The merge engine: records (claims) in, [`Recovered`] out. It never sees a file format
//! and does no I/O; the same records always give the same rows, ids and confidences.
//!
//! Stages, in entity order (business, customer, reservation, payment):
//! 1. [`link`]: cluster the records of an entity by identity keys (union-find);
//! 2. resolve references (`business_id`, `customer.email`, ...) to the clusters of the
//!    entity they name, creating a low-confidence stub for an app id no record shows;
//! 3. [`survive`]: choose each column's value (replay for state, trust for facts), keep
//!    every offered value as provenance, queue conflicts that matter for review;
//! 4. apply the app's rules (e.g. a confirmed booking whose slot ended is completed);
//! 5. [`confidence`]: score each row.

pub mod confidence;
pub mod fuzzy;
pub mod identity;
pub mod link;
pub mod model;
pub mod normalize;
pub mod survive;

pub use model::{
    Provenance, ProvenanceIds, ProvenanceLog, ProvenanceRef, Recovered, ReviewItem, Row, StrId,
};

use crate::claims::store::{LoadedRecord, StoredRecord};
use crate::claims::{Entity, SourceKind, Value};
use identity::{key_value, keys};
use link::{Clusters, KeyIndex};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use survive::Candidate;

/// The app's own rules, stated in the incident file's `[rules]` table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// A nightly job marks a confirmed booking as completed once its slot ended this many
    /// hours ago (e.g. 4: the job runs a few hours after closing).
    pub completed_hours_after_end: Option<i64>,
    /// An unpaid hold (pending) expires, i.e. becomes cancelled, after this many hours.
    pub pending_expires_after_hours: Option<i64>,
}

/// What the merge needs besides the records.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Contract timestamp text: the state to rebuild is the state at this time.
    pub incident_at: String,
    pub rules: Rules,
}

/// Business keys that name a business only when exactly one business with a hard key
/// shows them: a display name (shared by several businesses, changed on renames) and a
/// contact email (the businesses of a chain share one). First the stronger.
const WEAK_BUSINESS_KEYS: [&str; 2] = ["email", "name"];

/// The records of one entity, clustered.
struct Linked {
    /// node -> record index (None for a stub).
    nodes: Vec<Option<usize>>,
    clusters: Clusters,
    index: KeyIndex,
    /// node -> business root (scope), for entities linked per business.
    scope: Vec<usize>,
    /// Node -> keys other records named it by (a stub's only key, or an app id learnt
    /// from a record that names the business by two keys), with the naming record.
    named_keys: HashMap<usize, Vec<(&'static str, String, usize)>>,
    /// Businesses only: name key -> nodes whose record shows that name. A name is not an
    /// identity (several businesses share one, and businesses rename themselves): it names
    /// a business only when exactly one business that has a hard key shows it.
    names: HashMap<String, Vec<usize>>,
    /// Cluster root -> the root it was merged into (a duplicate customer merged into a
    /// survivor): whatever names the duplicate names the survivor.
    redirect: HashMap<usize, usize>,
}

const GLOBAL: usize = usize::MAX;

impl Linked {
    fn build(e: Entity, records: &[StoredRecord], idx: &[usize], scope: Vec<usize>) -> Linked {
        let specs = keys(e);
        let mut l = Linked {
            nodes: idx.iter().map(|&i| Some(i)).collect(),
            clusters: Clusters::new(idx.len()),
            index: KeyIndex::default(),
            scope,
            named_keys: HashMap::new(),
            names: HashMap::new(),
            redirect: HashMap::new(),
        };
        // Each record's identity keys, computed once.
        let rec_keys: Vec<Vec<(usize, String)>> = idx
            .iter()
            .map(|&ri| identity::keys_of(e, &records[ri].record))
            .collect();
        for (node, ks) in rec_keys.iter().enumerate() {
            for (k, v) in ks {
                if specs[*k].exclusive {
                    l.clusters.set_exclusive(node, *k, v);
                }
            }
        }
        for (k, spec) in specs.iter().enumerate() {
            // Nodes per key value, in node order.
            let mut groups: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
            for (node, ks) in rec_keys.iter().enumerate() {
                let Some((_, v)) = ks.iter().find(|(kk, _)| *kk == k) else {
                    continue;
                };
                let scope = if spec.per_business {
                    l.scope[node]
                } else {
                    GLOBAL
                };
                if spec.per_business && scope == GLOBAL {
                    continue;
                }
                groups.entry((scope, v.clone())).or_default().push(node);
            }
            for ((scope, v), nodes) in groups {
                if spec.exclusive {
                    for &n in &nodes {
                        l.index.link(&mut l.clusters, n, scope, k, &v);
                    }
                    continue;
                }
                // A weak key shared by clusters that cannot be one (two app ids: a family
                // email): records that only have the weak key join the cluster whose
                // exclusive keys sort first, so the result does not depend on input order.
                let mut owners: Vec<(Vec<(usize, String)>, usize)> = Vec::new();
                for &n in &nodes {
                    let r = l.clusters.find(n);
                    let ex = l.clusters.exclusive_of(r);
                    if !ex.is_empty() && !owners.iter().any(|(_, o)| l.clusters.find(*o) == r) {
                        owners.push((ex, r));
                    }
                }
                owners.sort();
                let anchor = owners.first().map(|(_, r)| *r).unwrap_or(nodes[0]);
                for &n in &nodes {
                    l.clusters.union(anchor, n);
                }
                if l.index.get(scope, k, &v).is_none() {
                    l.index.link(&mut l.clusters, anchor, scope, k, &v);
                }
            }
        }
        l
    }

    /// The node that holds key `field = value` (in `scope` for per-business keys).
    fn lookup(&mut self, e: Entity, field: &str, value: &Value, scope: usize) -> Option<usize> {
        if e == Entity::Business && WEAK_BUSINESS_KEYS.contains(&field) {
            return match self.named(field, value)[..] {
                [one] => Some(one),
                _ => None,
            };
        }
        let (k, spec) = keys(e).iter().enumerate().find(|(_, s)| s.field == field)?;
        let v = key_value(field, value)?;
        let scope = if spec.per_business { scope } else { GLOBAL };
        let n = self.index.get(scope, k, &v)?;
        let r = self.clusters.find(n);
        Some(self.redirect.get(&r).copied().unwrap_or(r))
    }

    /// Records that say they were merged into another (`merged_into = <app id>`): their
    /// cluster is redirected to the survivor's, so references to the duplicate follow it.
    /// Returns how many survivors were not found (the duplicate is then only deleted).
    fn link_merged(&mut self, e: Entity, records: &[StoredRecord]) -> usize {
        let mut missing = 0;
        for node in 0..self.nodes.len() {
            let Some(ri) = self.nodes[node] else { continue };
            let Some(to) = records[ri].record.get("merged_into").cloned() else {
                continue;
            };
            let from = self.clusters.find(node);
            match self.lookup(e, "id", &to, GLOBAL) {
                Some(target) if target != from => {
                    self.redirect.insert(from, target);
                }
                Some(_) => {}
                None => missing += 1,
            }
        }
        // A survivor that was itself merged: follow the chain (bounded, in case of a cycle).
        let roots: Vec<usize> = self.redirect.keys().copied().collect();
        for r in roots {
            let mut t = self.redirect[&r];
            for _ in 0..8 {
                match self.redirect.get(&t) {
                    Some(&n) if n != r => t = n,
                    _ => break,
                }
            }
            self.redirect.insert(r, t);
        }
        missing
    }

    /// The clusters with a hard key (app id, Stripe account) whose records show this
    /// business email or name (`field`), sorted.
    fn named(&mut self, field: &str, value: &Value) -> Vec<usize> {
        let Some(v) = key_value(field, value) else {
            return Vec::new();
        };
        let nodes = self
            .names
            .get(&format!("{field}\u{0}{v}"))
            .cloned()
            .unwrap_or_default();
        let mut roots = Vec::new();
        for n in nodes {
            let r = self.clusters.find(n);
            if !self.clusters.exclusive_of(r).is_empty() {
                roots.push(r);
            }
        }
        roots.sort_unstable();
        roots.dedup();
        roots
    }

    /// Businesses: indexes the names records show, then joins each cluster that has no
    /// hard key (a mail that names its business only by its name) to the one business
    /// with a hard key that shows the same name. Returns the clusters whose name several
    /// businesses share (they stay out of the tables: ambiguous), with their candidates.
    fn link_names(&mut self, records: &[StoredRecord]) -> HashMap<usize, Vec<usize>> {
        for (node, ri) in self.nodes.iter().enumerate() {
            let Some(ri) = ri else { continue };
            for f in WEAK_BUSINESS_KEYS {
                if let Some(v) = records[*ri].record.get(f).and_then(|v| key_value(f, v)) {
                    self.names
                        .entry(format!("{f}\u{0}{v}"))
                        .or_default()
                        .push(node);
                }
            }
        }
        let mut ambiguous = HashMap::new();
        for node in 0..self.nodes.len() {
            let Some(ri) = self.nodes[node] else { continue };
            let root = self.clusters.find(node);
            if !self.clusters.exclusive_of(root).is_empty() {
                continue;
            }
            // The first weak key that names some business decides.
            let Some(cands) = WEAK_BUSINESS_KEYS.iter().find_map(|f| {
                let v = records[ri].record.get(f)?.clone();
                let c = self.named(f, &v);
                (!c.is_empty()).then_some(c)
            }) else {
                continue;
            };
            match cands[..] {
                [] => {}
                [one] => {
                    self.clusters.union(one, node);
                }
                ref several => {
                    ambiguous.insert(root, several.to_vec());
                }
            }
        }
        // Businesses no record with a hard key shows (known only from mail) are one
        // business per email, else per name.
        let mut alone: BTreeMap<String, usize> = BTreeMap::new();
        for node in 0..self.nodes.len() {
            let Some(ri) = self.nodes[node] else { continue };
            let root = self.clusters.find(node);
            if !self.clusters.exclusive_of(root).is_empty() || ambiguous.contains_key(&root) {
                continue;
            }
            let Some(key) = WEAK_BUSINESS_KEYS.iter().find_map(|f| {
                let v = records[ri].record.get(f)?;
                Some(format!("{f}\u{0}{}", key_value(f, v)?))
            }) else {
                continue;
            };
            match alone.get(&key) {
                Some(&first) => {
                    self.clusters.union(first, node);
                }
                None => {
                    alone.insert(key, node);
                }
            }
        }
        // A cluster joined after all is not ambiguous.
        let roots: Vec<usize> = ambiguous.keys().copied().collect();
        for root in roots {
            let r = self.clusters.find(root);
            if !self.clusters.exclusive_of(r).is_empty() {
                ambiguous.remove(&root);
            }
        }
        ambiguous
    }

    /// Gives node `n`'s cluster the exclusive key `field = value`, which record `named_by`
    /// told us. False (and nothing changes) when the cluster holds another value of it.
    fn attach(&mut self, e: Entity, n: usize, field: &str, value: &str, named_by: usize) -> bool {
        let (k, spec) = keys(e)
            .iter()
            .enumerate()
            .find(|(_, s)| s.field == field)
            .expect("an identity key");
        if !self.clusters.set_exclusive(n, k, value) {
            return false;
        }
        self.index.link(&mut self.clusters, n, GLOBAL, k, value);
        self.named_keys
            .entry(n)
            .or_default()
            .push((spec.field, value.to_string(), named_by));
        true
    }

    /// Adds a stub node for an entity only referred to (by record `named_by`).
    fn stub(&mut self, e: Entity, field: &str, value: &str, named_by: usize) -> usize {
        let n = self.clusters.add();
        self.nodes.push(None);
        self.scope.push(GLOBAL);
        self.attach(e, n, field, value, named_by);
        n
    }

    /// Clusters as lists of nodes, ordered by their first node.
    fn groups(&mut self) -> Vec<Vec<usize>> {
        let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for n in 0..self.nodes.len() {
            let r = self.clusters.find(n);
            by_root.entry(r).or_default().push(n);
        }
        let mut g: Vec<Vec<usize>> = by_root.into_values().collect();
        g.sort_by_key(|v| v[0]);
        g
    }
}

/// The link fields by which a record can name an entity of kind `target`.
fn link_fields(target: Entity) -> (&'static str, &'static [&'static str]) {
    match target {
        Entity::Business => (
            "business_id",
            &["business.stripe_account", "business.email", "business.name"],
        ),
        Entity::Customer => (
            "customer_id",
            &["customer.stripe_customer", "customer.email"],
        ),
        Entity::Reservation => ("reservation_id", &["reservation.reference"]),
        Entity::Payment => ("payment_id", &["payment.processor_id"]),
    }
}

/// Resolves what `rec` says about its `target` to a cluster root of `linked`.
fn resolve(rec: &LoadedRecord, target: Entity, linked: &mut Linked, scope: usize) -> Option<usize> {
    let (id_field, others) = link_fields(target);
    if let Some(v) = rec.get(id_field) {
        if let Some(n) = linked.lookup(target, "id", v, scope) {
            return Some(n);
        }
    }
    for f in others {
        if let Some(v) = rec.get(f) {
            let key = &f[f.find('.').unwrap() + 1..];
            if let Some(n) = linked.lookup(target, key, v, scope) {
                return Some(n);
            }
        }
    }
    None
}

/// A business that reconnected Stripe keeps only its new account; its earlier account
/// still holds its earlier payments. Records that name a business by its app id and by an
/// account that no business with an app id holds say the account was that business's:
/// the account's cluster is redirected to the business (when all such records agree).
fn link_earlier_accounts(records: &[StoredRecord], biz: &mut Linked) {
    let id_spec = keys(Entity::Business)
        .iter()
        .position(|k| k.field == "id")
        .expect("business id key");
    let mut owner: BTreeMap<usize, Option<usize>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.record.entity != Entity::Business)
    {
        let (Some(id), Some(acct)) = (
            r.record.get("business_id"),
            r.record.get("business.stripe_account"),
        ) else {
            continue;
        };
        let (Some(b), Some(a)) = (
            biz.lookup(Entity::Business, "id", id, GLOBAL),
            biz.lookup(Entity::Business, "stripe_account", acct, GLOBAL),
        ) else {
            continue;
        };
        if a == b
            || biz
                .clusters
                .exclusive_of(a)
                .iter()
                .any(|(k, _)| *k == id_spec)
        {
            continue;
        }
        let e = owner.entry(a).or_insert(Some(b));
        if *e != Some(b) {
            *e = None; // two businesses claim it: leave it alone
        }
    }
    for (a, b) in owner {
        if let Some(b) = b {
            biz.redirect.insert(a, b);
        }
    }
}

/// The same for an earlier account whose records name no business id but name bookings
/// (a code in older metadata): when every booking they name that the app's own rows
/// place belongs to one business with an app id, the account was that business's.
fn link_accounts_by_bookings(records: &[StoredRecord], biz: &mut Linked, resv: &mut Linked) {
    let id_spec = keys(Entity::Business)
        .iter()
        .position(|k| k.field == "id")
        .expect("business id key");
    // Reservation cluster -> the business its records with an app id name.
    let mut resv_biz: HashMap<usize, Option<usize>> = HashMap::new();
    for g in resv.groups() {
        let root = resv.clusters.find(g[0]);
        let mut owner = None;
        for ri in g.iter().filter_map(|&n| resv.nodes[n]) {
            let r = &records[ri].record;
            if r.get("id").is_none() {
                continue;
            }
            let Some(b) = r
                .get("business_id")
                .and_then(|v| biz.lookup(Entity::Business, "id", v, GLOBAL))
            else {
                continue;
            };
            owner = match owner {
                None => Some(Some(b)),
                Some(Some(x)) if x == b => Some(Some(b)),
                _ => Some(None),
            };
        }
        if let Some(o) = owner {
            resv_biz.insert(root, o);
        }
    }
    let mut votes: BTreeMap<usize, Option<usize>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.record.entity == Entity::Payment)
    {
        let Some(acct) = r.record.get("business.stripe_account") else {
            continue;
        };
        if r.record.get("business_id").is_some() {
            continue;
        }
        let Some(a) = biz.lookup(Entity::Business, "stripe_account", acct, GLOBAL) else {
            continue;
        };
        if biz
            .clusters
            .exclusive_of(a)
            .iter()
            .any(|(k, _)| *k == id_spec)
        {
            continue;
        }
        let Some(code) = r.record.get("reservation.reference") else {
            continue;
        };
        let Some(b) = resv
            .lookup(Entity::Reservation, "reference", code, GLOBAL)
            .and_then(|n| resv_biz.get(&n).copied().flatten())
        else {
            continue;
        };
        let e = votes.entry(a).or_insert(Some(b));
        if *e != Some(b) {
            *e = None;
        }
    }
    for (a, b) in votes {
        if let Some(b) = b {
            if a != b {
                biz.redirect.insert(a, b);
            }
        }
    }
}

/// The businesses a record names only by a name several businesses share (empty when it
/// names its business by a hard key, or by a name only one business shows).
fn business_candidates(rec: &LoadedRecord, biz: &mut Linked) -> Vec<usize> {
    match rec.get("business.name") {
        Some(name) if resolve(rec, Entity::Business, biz, GLOBAL).is_none() => {
            // A shared email narrows the candidates a shared name gives.
            let by_name = biz.named("name", name);
            match rec.get("business.email").map(|e| biz.named("email", e)) {
                Some(by_email) if !by_email.is_empty() => {
                    let both: Vec<usize> = by_name
                        .iter()
                        .copied()
                        .filter(|b| by_email.contains(b))
                        .collect();
                    if both.is_empty() {
                        by_email
                    } else {
                        both
                    }
                }
                _ => by_name,
            }
        }
        _ => Vec::new(),
    }
}

/// A customer record whose business name is shared by several businesses belongs to the
/// one of them where its email is already known (from records that name their business by
/// a hard key); otherwise it stays unplaced (review), never guessed.
fn disambiguate_customers(
    records: &[StoredRecord],
    c_idx: &[usize],
    c_scope: &mut [usize],
    biz: &mut Linked,
) {
    use std::collections::HashSet;
    let known: HashSet<(usize, String)> = c_idx
        .iter()
        .zip(c_scope.iter())
        .filter(|(_, &s)| s != GLOBAL)
        .filter_map(|(&ri, &s)| {
            let e = records[ri].record.get("email")?;
            Some((s, key_value("email", e)?))
        })
        .collect();
    for (node, &ri) in c_idx.iter().enumerate() {
        if c_scope[node] != GLOBAL {
            continue;
        }
        let rec = &records[ri].record;
        let cands = business_candidates(rec, biz);
        let Some(email) = rec.get("email").and_then(|e| key_value("email", e)) else {
            continue;
        };
        let hits: Vec<usize> = cands
            .into_iter()
            .filter(|&b| known.contains(&(b, email.clone())))
            .collect();
        if let [one] = hits[..] {
            c_scope[node] = one;
        }
    }
}

/// A payment mail without any Stripe id (a receipt sent before Stripe issued its number,
/// a mail for a payment taken on site) joins the one payment that has Stripe ids or the
/// app's own id, the same business, amount and currency, a time within a day of it, no
/// other booking, and the same outcome (a receipt is not about a declined attempt). It never becomes a payment of its own
/// when such a payment exists; with two candidates it stays apart (and is reviewed as
/// the weaker row it is).
fn link_loose_payments(records: &[StoredRecord], pay: &mut Linked, rec_biz: &[Option<usize>]) {
    struct Facts {
        root: usize,
        business: usize,
        amount: i64,
        currency: String,
        at: Option<i64>,
        booking: Option<String>,
        /// The payment failed (a declined attempt): no receipt is about it.
        failed: bool,
        strong: bool,
        loose: bool,
    }
    let specs = keys(Entity::Payment);
    let mut facts = Vec::new();
    for g in pay.groups() {
        let recs: Vec<usize> = g.iter().filter_map(|&n| pay.nodes[n]).collect();
        let first = |f: &str| {
            recs.iter()
                .find_map(|&ri| records[ri].record.get(f).cloned())
        };
        let (Some(amount), Some(currency)) = (
            first("amount").and_then(|v| v.as_int()),
            first("currency").and_then(|v| v.render()),
        ) else {
            continue;
        };
        let Some(business) = recs.iter().find_map(|&ri| rec_biz[ri]) else {
            continue;
        };
        let stripe_key = recs.iter().any(|&ri| {
            identity::keys_of(Entity::Payment, &records[ri].record)
                .iter()
                .any(|(k, _)| specs[*k].field != "id")
        });
        let app_id = recs
            .iter()
            .any(|&ri| records[ri].record.get("id").is_some());
        let only_mail = recs.iter().all(|&ri| records[ri].kind == SourceKind::Email);
        facts.push(Facts {
            root: pay.clusters.find(g[0]),
            business,
            amount,
            currency: currency.trim().to_lowercase(),
            at: first("created_at")
                .and_then(|v| v.render())
                .and_then(|t| crate::util::time::parse_any(&t, None))
                .map(|t| t.timestamp()),
            booking: first("reservation.reference")
                .or_else(|| first("reservation_id"))
                .and_then(|v| v.render()),
            // A mail joins a payment Stripe knows, or one the app's own rows hold (a
            // payment taken on site has no Stripe id at all).
            // Only failed attempts: a cluster with a declined charge and its retry succeeded.
            failed: {
                let st: Vec<String> = recs
                    .iter()
                    .filter_map(|&ri| records[ri].record.get("status")?.render())
                    .collect();
                !st.is_empty() && st.iter().all(|s| s == "failed")
            },
            strong: stripe_key || app_id,
            loose: !stripe_key && !app_id && only_mail,
        });
    }
    let mut strong: HashMap<(usize, i64, &str), Vec<&Facts>> = HashMap::new();
    for f in facts.iter().filter(|f| f.strong) {
        strong
            .entry((f.business, f.amount, f.currency.as_str()))
            .or_default()
            .push(f);
    }
    const DAY: i64 = 86_400 + 3_600;
    let mut joins = Vec::new();
    for f in facts.iter().filter(|f| f.loose) {
        let Some(cands) = strong.get(&(f.business, f.amount, f.currency.as_str())) else {
            continue;
        };
        let fits: Vec<&&Facts> = cands
            .iter()
            .filter(|c| c.failed == f.failed)
            .filter(|c| match (f.at, c.at) {
                (Some(a), Some(b)) => (a - b).abs() <= DAY,
                _ => true,
            })
            .filter(|c| match (&f.booking, &c.booking) {
                // Booking keys of different kinds (a code, an id) cannot be compared here.
                (Some(a), Some(b)) => {
                    a == b || a.parse::<i64>().is_ok() != b.parse::<i64>().is_ok()
                }
                _ => true,
            })
            .collect();
        // The same booking first; then any that fits.
        let same: Vec<&&Facts> = fits
            .iter()
            .copied()
            .filter(|c| f.booking.is_some() && c.booking == f.booking)
            .collect();
        match (&same[..], &fits[..]) {
            ([one], _) | ([], [one]) => joins.push((one.root, f.root)),
            _ => {}
        }
    }
    for (a, b) in joins {
        pay.clusters.union(a, b);
    }
}

/// One booking, several names: records of one payment that name its reservation by the
/// app's id and by the code customers see (a charge's metadata holds the id, its receipt
/// mail the code) say that the two are one reservation. Cannot-link constraints still
/// hold (two ids, or two codes, never join).
fn link_through_payments(records: &[StoredRecord], pay: &mut Linked, resv: &mut Linked) {
    for g in pay.groups() {
        let (mut ids, mut refs): (Vec<&Value>, Vec<&Value>) = (Vec::new(), Vec::new());
        for ri in g.iter().filter_map(|&n| pay.nodes[n]) {
            let r = &records[ri].record;
            if let Some(v) = r.get("reservation_id") {
                if !ids.contains(&v) {
                    ids.push(v);
                }
            }
            if let Some(v) = r.get("reservation.reference") {
                if !refs.contains(&v) {
                    refs.push(v);
                }
            }
        }
        if let ([id], [code]) = (&ids[..], &refs[..]) {
            let a = resv.lookup(Entity::Reservation, "id", id, GLOBAL);
            let b = resv.lookup(Entity::Reservation, "reference", code, GLOBAL);
            if let (Some(a), Some(b)) = (a, b) {
                resv.clusters.union(a, b);
            }
        }
    }
}

/// Merges every stored record into the recovered database.
pub fn merge(records: &[StoredRecord], settings: &Settings) -> Recovered {
    let started = std::time::Instant::now();
    let mut by_entity: HashMap<Entity, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        by_entity.entry(r.record.entity).or_default().push(i);
    }
    let idx = |e| by_entity.get(&e).cloned().unwrap_or_default();
    let mut out = Recovered::default();

    let biz_of = |rec: &LoadedRecord, biz: &mut Linked| resolve(rec, Entity::Business, biz, GLOBAL);
    // Reservations and payments are clustered on their own keys, beside businesses and
    // customers (which need the businesses first).
    let (r_idx, p_idx) = (idx(Entity::Reservation), idx(Entity::Payment));
    let ((mut biz, mut cust, ambiguous_biz), (mut resv, mut pay)) = rayon::join(
        || {
            // Businesses: cluster, then stubs for ids and accounts that other records name.
            let b_idx = idx(Entity::Business);
            let mut biz =
                Linked::build(Entity::Business, records, &b_idx, vec![GLOBAL; b_idx.len()]);
            let ambiguous = biz.link_names(records);
            for (ri, r) in records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.record.entity != Entity::Business)
            {
                // A record that names its business by app id and by Stripe account tells
                // us they are one business, even when no business record says so.
                let id_v = r.record.get("business_id").and_then(|v| key_value("id", v));
                let acct_v = r
                    .record
                    .get("business.stripe_account")
                    .and_then(|v| key_value("stripe_account", v));
                let find = |biz: &mut Linked, key: &str, v: &Option<String>| {
                    v.as_ref().and_then(|v| {
                        biz.lookup(Entity::Business, key, &Value::text(v.clone()), GLOBAL)
                    })
                };
                if let Some(v) = &id_v {
                    if find(&mut biz, "id", &id_v).is_none() {
                        let joined = find(&mut biz, "stripe_account", &acct_v)
                            .is_some_and(|n| biz.attach(Entity::Business, n, "id", v, ri));
                        if !joined {
                            biz.stub(Entity::Business, "id", v, ri);
                        }
                    }
                }
                if let Some(v) = &acct_v {
                    if find(&mut biz, "stripe_account", &acct_v).is_none() {
                        let joined = find(&mut biz, "id", &id_v).is_some_and(|n| {
                            biz.attach(Entity::Business, n, "stripe_account", v, ri)
                        });
                        if !joined {
                            biz.stub(Entity::Business, "stripe_account", v, ri);
                        }
                    }
                }
            }

            link_earlier_accounts(records, &mut biz);

            // Customers: per-business keys need each record's business first.
            let c_idx = idx(Entity::Customer);
            let mut c_scope: Vec<usize> = c_idx
                .iter()
                .map(|&i| biz_of(&records[i].record, &mut biz).unwrap_or(GLOBAL))
                .collect();
            disambiguate_customers(records, &c_idx, &mut c_scope, &mut biz);
            let mut cust = Linked::build(Entity::Customer, records, &c_idx, c_scope);
            let people: Vec<fuzzy::Person<'_>> = c_idx
                .iter()
                .enumerate()
                .filter(|(node, _)| cust.scope[*node] != GLOBAL)
                .filter_map(|(node, &ri)| {
                    let r = &records[ri].record;
                    Some(fuzzy::Person {
                        node,
                        scope: cust.scope[node],
                        name: r.get("name")?.as_text()?,
                        email: r.get("email")?.as_text()?,
                    })
                })
                .collect();
            fuzzy::link_typos(&mut cust.clusters, &people);
            cust.link_merged(Entity::Customer, records);
            (biz, cust, ambiguous)
        },
        || {
            rayon::join(
                || {
                    Linked::build(
                        Entity::Reservation,
                        records,
                        &r_idx,
                        vec![GLOBAL; r_idx.len()],
                    )
                },
                || Linked::build(Entity::Payment, records, &p_idx, vec![GLOBAL; p_idx.len()]),
            )
        },
    );
    drop((r_idx, p_idx));
    link_accounts_by_bookings(records, &mut biz, &mut resv);

    tracing::debug!("merge: linked in {:.1?}", started.elapsed());
    let mut ctx = Ctx {
        records,
        settings,
        rec_strs: vec![None; records.len()],
        deleted: Default::default(),
    };
    let mut res_customer: HashMap<String, Option<Value>> = HashMap::new();
    // Each entity is built (in parallel) and finished (in order) before the next, so only
    // one entity's rows in the making are held at a time. Finishing an entity needs the
    // row ids of the entities it refers to, which are built before it.
    // Businesses first: their ids and countries are needed below.
    let mut b_groups = biz.groups();
    // Businesses named only by a name several businesses share stay out (review below).
    let mut ambiguous_groups = Vec::new();
    let mut earlier_accounts = Vec::new();
    b_groups.retain(|g| {
        let root = biz.clusters.find(g[0]);
        if let Some(&to) = biz.redirect.get(&root) {
            earlier_accounts.push((g.clone(), to));
            return false;
        }
        match ambiguous_biz.get(&root) {
            Some(cands) => {
                ambiguous_groups.push((g.clone(), cands.clone()));
                false
            }
            None => true,
        }
    });
    let b_rows = build_rows(&ctx, Entity::Business, &b_groups, &biz, |_, _| {
        Links::default()
    });
    let b_root_id: HashMap<usize, (String, Option<String>, Option<String>)> = b_groups
        .iter()
        .zip(&b_rows)
        .map(|(g, row)| {
            let root = biz.clusters.find(g[0]);
            (
                root,
                (
                    row.row.id.clone(),
                    row.attrs.get("attr.country").cloned(),
                    row.attrs.get("attr.currency").cloned(),
                ),
            )
        })
        .collect();
    drop(b_groups);
    for (g, to) in earlier_accounts {
        let recs: Vec<usize> = g.iter().filter_map(|&n| biz.nodes[n]).collect();
        let account = g.iter().find_map(|&n| {
            let ri = biz.nodes[n]?;
            records[ri].record.get("stripe_account")?.render()
        });
        out.review.push(ReviewItem {
            entity: Entity::Business,
            row_id: b_root_id.get(&to).map(|x| x.0.clone()).unwrap_or_default(),
            reason: "earlier_stripe_account".into(),
            confidence: None,
            details: serde_json::json!({
                "why": "records name this business by its id and by another Stripe account: an account it used before; its payments are the business's",
                "account": account,
                "sources": ctx.refs_json(&recs),
            }),
        });
    }
    for (g, cands) in ambiguous_groups {
        let recs: Vec<usize> = g.iter().filter_map(|&n| biz.nodes[n]).collect();
        let name = recs
            .iter()
            .find_map(|&ri| records[ri].record.get("name").and_then(|v| v.render()));
        let candidates: Vec<&str> = cands
            .iter()
            .filter_map(|r| b_root_id.get(r).map(|x| x.0.as_str()))
            .collect();
        out.review.push(ReviewItem {
            entity: Entity::Business,
            row_id: String::new(),
            reason: "ambiguous_business".into(),
            confidence: None,
            details: serde_json::json!({
                "why": "a record names its business only by a name several businesses share; it is not placed",
                "name": name,
                "candidates": candidates,
                "sources": ctx.refs_json(&recs),
            }),
        });
    }
    let mut ids = IdMaps {
        business_by_id: b_root_id
            .values()
            .map(|(id, country, cur)| (id.clone(), (country.clone(), cur.clone())))
            .collect(),
        business: b_root_id,
        customer: HashMap::new(),
        reservation: HashMap::new(),
    };
    // Finish rows: foreign keys to row ids, normalisation that needs the business, rules.
    finish_rows(
        &mut ctx,
        Entity::Business,
        b_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!("merge: businesses done in {:.1?}", started.elapsed());

    // For every non-business record: its business root.
    let mut rec_biz: Vec<Option<usize>> = vec![None; records.len()];
    for (node, ri) in cust.nodes.iter().enumerate() {
        if let (Some(ri), s) = (ri, cust.scope[node]) {
            rec_biz[*ri] = (s != GLOBAL).then(|| biz.redirect.get(&s).copied().unwrap_or(s));
        }
    }
    for (ri, r) in records.iter().enumerate() {
        if matches!(r.record.entity, Entity::Business | Entity::Customer) {
            continue;
        }
        rec_biz[ri] = biz_of(&r.record, &mut biz).or_else(|| {
            // A shared business name: the candidate where the record's customer is known.
            let email = r.record.get("customer.email")?;
            let hits: Vec<usize> = business_candidates(&r.record, &mut biz)
                .into_iter()
                .filter(|&b| cust.lookup(Entity::Customer, "email", email, b).is_some())
                .collect();
            match hits[..] {
                [one] => Some(one),
                _ => None,
            }
        });
    }

    link_loose_payments(records, &mut pay, &rec_biz);
    link_through_payments(records, &mut pay, &mut resv);

    let c_groups = cust.groups();
    let c_rows = build_rows(&ctx, Entity::Customer, &c_groups, &cust, |ri, _| Links {
        business: rec_biz[ri],
        ..Default::default()
    });
    ids.customer = c_groups
        .iter()
        .zip(&c_rows)
        .map(|(g, row)| (cust.clusters.find(g[0]), row.row.id.clone()))
        .collect();
    drop(c_groups);
    finish_rows(
        &mut ctx,
        Entity::Customer,
        c_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!("merge: customers done in {:.1?}", started.elapsed());

    let rec_cust: Vec<Option<usize>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| match r.record.entity {
            Entity::Reservation | Entity::Payment => resolve(
                &r.record,
                Entity::Customer,
                &mut cust,
                rec_biz[i].unwrap_or(GLOBAL),
            ),
            _ => None,
        })
        .collect();
    let r_groups = resv.groups();
    let r_rows = build_rows(&ctx, Entity::Reservation, &r_groups, &resv, |ri, _| Links {
        business: rec_biz[ri],
        customer: rec_cust[ri],
        ..Default::default()
    });
    ids.reservation = r_groups
        .iter()
        .zip(&r_rows)
        .map(|(g, row)| (resv.clusters.find(g[0]), row.row.id.clone()))
        .collect();
    drop(r_groups);
    finish_rows(
        &mut ctx,
        Entity::Reservation,
        r_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!("merge: reservations done in {:.1?}", started.elapsed());

    let rec_resv: Vec<Option<usize>> = records
        .iter()
        .map(|r| match r.record.entity {
            Entity::Payment => resolve(&r.record, Entity::Reservation, &mut resv, GLOBAL),
            _ => None,
        })
        .collect();
    let p_groups = pay.groups();
    let p_rows = build_rows(&ctx, Entity::Payment, &p_groups, &pay, |ri, _| Links {
        business: rec_biz[ri],
        customer: rec_cust[ri],
        reservation: rec_resv[ri],
    });
    drop(p_groups);
    finish_rows(
        &mut ctx,
        Entity::Payment,
        p_rows,
        &ids,
        &mut out,
        &mut res_customer,
    );
    tracing::debug!("merge: payments done in {:.1?}", started.elapsed());
    resolve_id_collisions(&mut out);
    drop_orphans(&mut out, &ctx.deleted);
    drop_dangling_references(&mut out);
    for e in Entity::ALL {
        out.rows_mut(e)
            .sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
    }
    out.run_info
        .insert("incident_at".into(), settings.incident_at.clone());
    out
}

/// Two clusters that claim the same app id but could not be joined (another exclusive key
/// disagrees: e.g. one id with two Stripe accounts) keep the id on the better-supported
/// row; the other gets a synthetic id and goes to review, so no row is lost.
fn resolve_id_collisions(out: &mut Recovered) {
    let mut review = Vec::new();
    for e in Entity::ALL {
        let rows = out.rows_mut(e);
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| {
            rows[a]
                .id
                .cmp(&rows[b].id)
                .then(rows[b].sources.len().cmp(&rows[a].sources.len()))
                .then(rows[b].confidence.total_cmp(&rows[a].confidence))
                .then(a.cmp(&b))
        });
        // The first row of each run of equal ids keeps the id (compare with it, not with
        // the row before, which may already have been renamed).
        let mut kept: Option<String> = None;
        for &cur in &order {
            if kept.as_deref() != Some(rows[cur].id.as_str()) && !rows[cur].id.is_empty() {
                kept = Some(rows[cur].id.clone());
            } else {
                let old = rows[cur].id.clone();
                let new = crate::util::ids::synthetic_id(&[
                    e.as_str(),
                    "collision",
                    &old,
                    &cur.to_string(),
                ]);
                rows[cur].id = new.clone();
                rows[cur].confidence = (rows[cur].confidence * 0.5).max(0.01);
                review.push(ReviewItem {
                    entity: e,
                    row_id: new,
                    reason: "id_conflict".into(),
                    confidence: Some(rows[cur].confidence),
                    details: serde_json::json!({
                        "why": "another row claims the same id but disagrees on a key that cannot differ",
                        "claimed_id": old,
                    }),
                });
            }
        }
    }
    out.review.extend(review);
}

/// Referential integrity, an invariant of the merge: a row whose business is not exported
/// (deleted in the app, e.g. a demo tenant, with everything under it; or never described)
/// is not exported either. It goes to the review queue with the parent's id and why.
fn drop_orphans(out: &mut Recovered, deleted: &std::collections::HashSet<(Entity, String)>) {
    use std::collections::HashSet;
    let businesses: HashSet<String> = out.businesses.iter().map(|r| r.id.clone()).collect();
    let mut review = Vec::new();
    for e in [Entity::Customer, Entity::Reservation, Entity::Payment] {
        out.rows_mut(e).retain(|r| {
            let parent = r.text("business_id").unwrap_or_default();
            if businesses.contains(parent) {
                return true;
            }
            let was_deleted = deleted.contains(&(Entity::Business, parent.to_string()));
            review.push(ReviewItem {
                entity: e,
                row_id: r.id.clone(),
                reason: if was_deleted {
                    "deleted_parent:business_id".into()
                } else {
                    "missing_parent:business_id".into()
                },
                confidence: Some(r.confidence),
                details: serde_json::json!({
                    "why": if was_deleted {
                        "its business was deleted in the app: the row goes with it"
                    } else {
                        "its business is not in the result"
                    },
                    "parent": parent,
                }),
            });
            false
        });
    }
    out.review.extend(review);
}

/// A reference to a row that is not in the result (e.g. a customer deleted in the app) is
/// cleared, so the file keeps its foreign keys; the value stays in provenance and the row
/// goes to review.
fn drop_dangling_references(out: &mut Recovered) {
    use std::collections::HashSet;
    let ids = |rows: &[Row]| rows.iter().map(|r| r.id.clone()).collect::<HashSet<_>>();
    let customers = ids(&out.customers);
    let reservations = ids(&out.reservations);
    let mut review = Vec::new();
    for (e, rows) in [
        (Entity::Reservation, &mut out.reservations),
        (Entity::Payment, &mut out.payments),
    ] {
        for r in rows.iter_mut() {
            for (col, known) in [
                ("customer_id", &customers),
                ("reservation_id", &reservations),
            ] {
                let Some(id) = r.text(col).map(str::to_string) else {
                    continue;
                };
                if !known.contains(&id) {
                    r.values.remove(col);
                    review.push(ReviewItem {
                        entity: e,
                        row_id: r.id.clone(),
                        reason: format!("dangling:{col}"),
                        confidence: Some(r.confidence),
                        details: serde_json::json!({
                            "why": "the referenced row is not in the result (deleted in the app, or no source describes it)",
                            "value": id,
                        }),
                    });
                }
            }
        }
    }
    out.review.extend(review);
}

struct Ctx<'a> {
    records: &'a [StoredRecord],
    settings: &'a Settings,
    /// Per record, its source ref and observation time in the provenance log's strings
    /// (interned on first use).
    rec_strs: Vec<Option<(StrId, Option<StrId>)>>,
    /// Rows a source says were deleted (or merged into another): not exported.
    deleted: std::collections::HashSet<(Entity, String)>,
}

impl Ctx<'_> {
    /// A candidate value offered by record `ri`.
    fn candidate(&self, ri: usize, value: Value) -> Candidate {
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
    fn refs_json(&self, recs: &[usize]) -> serde_json::Value {
        recs.iter()
            .map(|&ri| serde_json::Value::from(self.records[ri].record.source_ref.as_str()))
            .collect()
    }

    /// The kind of source, source ref and observation time of an offered value.
    fn origin<'o>(&'o self, o: &'o Offer) -> (SourceKind, &'o str, Option<&'o str>) {
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
    fn log(&mut self, out: &mut Recovered, e: Entity, row_id: StrId, column: StrId, o: Offer) {
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
struct Links {
    business: Option<usize>,
    customer: Option<usize>,
    reservation: Option<usize>,
}

/// A business's country and currency, for normalising its rows.
type BizFacts = (Option<String>, Option<String>);

struct IdMaps {
    business: HashMap<usize, (String, Option<String>, Option<String>)>,
    business_by_id: HashMap<String, BizFacts>,
    customer: HashMap<usize, String>,
    reservation: HashMap<usize, String>,
}

/// A value offered for a column of the row being built (provenance to be).
struct Offer {
    from: Origin,
    column: &'static str,
    value: Option<Box<str>>,
    chosen: bool,
}

/// Where an offered value came from.
enum Origin {
    /// A record (index into the merged records).
    Record(usize),
    /// No source offered it as such: a rule, a default, a derivation (see [`derive`]).
    Derived(Box<Derived>),
}

struct Derived {
    source: SourceKind,
    source_ref: String,
    observed_at: Option<String>,
}

/// A row being built, with what finishing it needs.
struct Building {
    row: Row,
    attrs: BTreeMap<String, String>,
    /// Candidate targets of each foreign key: (column, target root, record).
    fks: Vec<(&'static str, usize, usize)>,
    /// Raw app ids of references that resolved to nothing: (column, record, value).
    raw_fks: Vec<(&'static str, usize, Value)>,
    provenance: Vec<Offer>,
    conflicts: Vec<(String, Vec<Candidate>)>,
    evidence: confidence::Evidence,
    /// The row's records (indexes into the merged records), in cluster order.
    recs: Vec<usize>,
    deleted: bool,
}

fn build_rows(
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
fn named_values(ctx: &Ctx<'_>, b: &mut Building, named: &[&(&'static str, String, usize)]) {
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

fn build_one(
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
                    attrs.entry(format!("attr.{a}")).or_insert(s);
                }
            } else if let Some(c) = cols.iter().find(|c| **c == f) {
                if !matches!(*c, "business_id" | "customer_id" | "reservation_id") {
                    let value = clean(f, v.clone());
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
        let l = links(ri, e);
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
    };
    let mut provenance = Vec::new();
    let mut conflicts = Vec::new();
    for (col, (cs, from)) in cands {
        let choice = survive::choose(e, col, &cs);
        for (c, &ri) in cs.iter().zip(&from) {
            provenance.push(Offer {
                from: Origin::Record(ri),
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
const ATTEMPT_FIELDS: [&str; 6] = [
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
fn failed_attempts(ctx: &Ctx<'_>, recs: &[usize]) -> Vec<usize> {
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
fn contract_holds(e: Entity, col: &str, v: &Value) -> bool {
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
fn clean(col: &str, v: Value) -> Value {
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
fn synthetic_id(
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
        Entity::Customer => pick(&["stripe_customer", "email", "phone", "name"]),
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

/// Finishes the built rows of one entity, in order, into `out`.
fn finish_rows(
    ctx: &mut Ctx<'_>,
    e: Entity,
    rows: Vec<Building>,
    ids: &IdMaps,
    out: &mut Recovered,
    res_customer: &mut HashMap<String, Option<Value>>,
) {
    for mut b in rows {
        if b.deleted {
            ctx.deleted.insert((e, b.row.id.clone()));
            continue;
        }
        finish_row(ctx, e, &mut b, ids, out, res_customer);
        if e == Entity::Reservation {
            res_customer.insert(b.row.id.clone(), b.row.values.get("customer_id").cloned());
        }
        if !b.row.values.contains_key("business_id") && e != Entity::Business {
            out.review.push(ReviewItem {
                entity: e,
                row_id: b.row.id.clone(),
                reason: "unlinked_record".into(),
                confidence: None,
                details: serde_json::json!({
                    "why": "no source says which business this belongs to",
                    "sources": ctx.refs_json(&b.recs),
                }),
            });
            continue;
        }
        if e == Entity::Payment
            && (b.row.get("amount").is_none() || b.row.get("currency").is_none())
        {
            // The contract cannot hold a payment without an amount: it stays in the
            // review queue (missing_amount) with its sources, and out of the table.
            continue;
        }
        out.rows_mut(e).push(b.row);
    }
}

fn finish_row(
    ctx: &mut Ctx<'_>,
    e: Entity,
    b: &mut Building,
    ids: &IdMaps,
    out: &mut Recovered,
    res_customer: &HashMap<String, Option<Value>>,
) {
    // Foreign keys: the target most records point at (ties: the first).
    let mut fk_cands: BTreeMap<&'static str, (Vec<Candidate>, Vec<usize>)> = BTreeMap::new();
    for &(col, root, ri) in &b.fks {
        let id = match col {
            "business_id" => ids.business.get(&root).map(|x| x.0.clone()),
            "customer_id" => ids.customer.get(&root).cloned(),
            _ => ids.reservation.get(&root).cloned(),
        };
        if let Some(id) = id {
            let (cs, from) = fk_cands.entry(col).or_default();
            cs.push(ctx.candidate(ri, Value::Text(id)));
            from.push(ri);
        }
    }
    for (col, ri, v) in &b.raw_fks {
        if !fk_cands.contains_key(col) {
            let (cs, from) = fk_cands.entry(col).or_default();
            cs.push(ctx.candidate(*ri, v.clone()));
            from.push(*ri);
        }
    }
    for (col, (cs, from)) in fk_cands {
        let choice = survive::choose(e, col, &cs);
        for (c, ri) in cs.into_iter().zip(from) {
            b.provenance.push(Offer {
                from: Origin::Record(ri),
                column: col,
                chosen: c.value == choice.value,
                value: c.value.render().map(String::into_boxed_str),
            });
        }
        b.row.values.insert(col.to_string(), choice.value);
    }
    let biz = b
        .row
        .text("business_id")
        .and_then(|id| ids.business_by_id.get(id))
        .cloned();
    match e {
        Entity::Customer => {
            if let Some(Value::Text(p)) = b.row.values.get("phone").cloned() {
                let country = biz.as_ref().and_then(|x| x.0.as_deref());
                b.row
                    .values
                    .insert("phone".into(), Value::Text(normalize::phone(&p, country)));
            }
        }
        Entity::Reservation => {
            if b.row.get("currency").is_none() {
                if let Some(cur) = biz
                    .as_ref()
                    .and_then(|x| x.1.clone())
                    .filter(|c| crate::util::money::is_iso_currency(&c.trim().to_lowercase()))
                {
                    let basis = b
                        .row
                        .text("business_id")
                        .map(|id| format!("businesses#{id}"));
                    derive(
                        ctx,
                        b,
                        "currency",
                        Value::Text(cur.trim().to_lowercase()),
                        "derived:business_currency",
                        basis,
                    );
                }
            }
            if let Some((rule, value, basis_col)) = apply_rules(ctx, &b.row) {
                let basis = chosen_ref(ctx, b, basis_col);
                derive(ctx, b, "status", Value::text(value), rule, basis);
            }
            if b.row.get("status").is_none() {
                derive(
                    ctx,
                    b,
                    "status",
                    Value::text("confirmed"),
                    "default:status_unknown",
                    None,
                );
                b.conflicts.push(("status_unknown".into(), Vec::new()));
            }
        }
        Entity::Payment => {
            if b.row.get("customer_id").is_none() {
                if let Some(Some(c)) = b
                    .row
                    .text("reservation_id")
                    .and_then(|r| res_customer.get(r))
                {
                    b.row.values.insert("customer_id".into(), c.clone());
                }
            }
            // The id the app itself stored wins: when the app's own rows keep it in a
            // column of its own (a Checkout Session id beside an empty PaymentIntent
            // column) rather than in processor_id.
            let app_offered = b.provenance.iter().any(|o| {
                o.column == "processor_id"
                    && matches!(o.from, Origin::Record(ri) if ctx.records[ri].kind == SourceKind::Backup)
            });
            if !app_offered {
                let stored = b
                    .recs
                    .iter()
                    .filter(|&&ri| ctx.records[ri].kind == SourceKind::Backup)
                    .flat_map(|&ri| {
                        let r = &ctx.records[ri].record;
                        [
                            "attr.checkout_session",
                            "attr.payment_intent",
                            "attr.charge",
                        ]
                        .into_iter()
                        .filter_map(move |k| Some((k, r.get(k)?.render()?, r.source_ref.clone())))
                    })
                    .next();
                if let Some((_, id, basis)) = stored {
                    if b.row.text("processor_id") != Some(id.as_str()) {
                        derive(
                            ctx,
                            b,
                            "processor_id",
                            Value::Text(id),
                            "derived:processor_id_the_app_stored",
                            Some(basis),
                        );
                    }
                }
            }
            if b.row.get("processor_id").is_none() {
                // No source offered the id the app stored: the PaymentIntent, else the charge.
                let known = [
                    "attr.payment_intent",
                    "attr.charge",
                    "attr.checkout_session",
                ]
                .iter()
                .find_map(|k| b.attrs.get(*k).cloned());
                if let Some(id) = known {
                    derive(
                        ctx,
                        b,
                        "processor_id",
                        Value::Text(id),
                        "derived:processor_id_from_stripe_ids",
                        None,
                    );
                }
            }
            if b.row.get("processor").is_none() {
                let p = if b.row.get("processor_id").is_some()
                    || b.attrs.contains_key("attr.receipt_number")
                {
                    "stripe"
                } else {
                    "unknown"
                };
                derive(
                    ctx,
                    b,
                    "processor",
                    Value::text(p),
                    "derived:processor_from_ids",
                    None,
                );
            }
            if b.row.get("amount_refunded").is_none() {
                derive(
                    ctx,
                    b,
                    "amount_refunded",
                    Value::Int(0),
                    "default:no_refund_seen",
                    None,
                );
            }
            if b.row.get("status").is_none() {
                derive(
                    ctx,
                    b,
                    "status",
                    Value::text("succeeded"),
                    "default:payment_seen",
                    None,
                );
            }
            if b.row.get("amount").is_none() || b.row.get("currency").is_none() {
                b.conflicts.push(("missing_amount".into(), Vec::new()));
            }
        }
        Entity::Business => {}
    }
    b.evidence.problems = b
        .conflicts
        .iter()
        .map(|(col, cs)| {
            if cs.is_empty() || col.starts_with("invalid:") {
                col.clone()
            } else {
                format!("conflict:{col}")
            }
        })
        .collect();
    if e == Entity::Reservation && slot_ended_unclosed(ctx, &b.row) {
        b.evidence.problems.push("slot_ended_unclosed".into());
    }
    let conf = confidence::score(e, &b.evidence);
    b.row.evidence = Some(b.evidence.signature(e));
    b.row.confidence = (conf * 1000.0).round() / 1000.0;
    let id = b.row.id.clone();
    for (col, cs) in &b.conflicts {
        if cs.is_empty() {
            let why = match col.as_str() {
                "status_unknown" => "no source says this booking's status; 'confirmed' is assumed",
                "missing_amount" => "no source gives this payment's amount and currency",
                _ => "see the row's provenance",
            };
            out.review.push(ReviewItem {
                entity: e,
                row_id: id.clone(),
                reason: col.clone(),
                confidence: Some(b.row.confidence),
                details: serde_json::json!({ "why": why, "sources": ctx.refs_json(&b.recs) }),
            });
            continue;
        }
        let reason = if col.starts_with("invalid:") {
            col.clone()
        } else {
            format!("conflict:{col}")
        };
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason,
            confidence: Some(b.row.confidence),
            details: serde_json::json!({
                "chosen": b.row.values.get(col.as_str()).and_then(|v| v.render()),
                "offered": cs.iter().map(|c| serde_json::json!({
                    "value": c.value.render(), "source": c.kind.as_str(),
                    "source_ref": c.source_ref, "observed_at": c.observed_at,
                })).collect::<Vec<_>>(),
            }),
        });
    }
    if e == Entity::Payment
        && b.row.get("reservation_id").is_none()
        && b.row.text("processor") == Some("stripe")
    {
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason: "orphan_payment".into(),
            confidence: Some(b.row.confidence),
            details: serde_json::json!({"why": "no source links this payment to a reservation", "sources": ctx.refs_json(&b.recs)}),
        });
    }
    if b.evidence.stub {
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason: "referenced_only".into(),
            confidence: Some(b.row.confidence),
            details: serde_json::json!({"why": "other records name this id, but no source describes it"}),
        });
    } else if b.row.confidence < 0.6 {
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason: "low_confidence".into(),
            confidence: Some(b.row.confidence),
            details: serde_json::json!({"sources": ctx.refs_json(&b.recs)}),
        });
    }
    let row_id = out.provenance.intern(&id);
    for o in std::mem::take(&mut b.provenance) {
        let column = out.provenance.intern(o.column);
        ctx.log(out, e, row_id, column, o);
    }
}

/// The app's rules at the incident time: the status a rule gives the row, the rule's name
/// and the column it was read from, or `None` when no rule applies.
fn apply_rules(ctx: &Ctx<'_>, row: &Row) -> Option<(&'static str, &'static str, &'static str)> {
    let now = crate::util::time::parse_any(&ctx.settings.incident_at, None)?;
    let rules = &ctx.settings.rules;
    let at = |col: &str| {
        row.text(col)
            .and_then(|t| crate::util::time::parse_any(t, None))
    };
    match row.text("status") {
        Some("confirmed") => {
            let h = rules.completed_hours_after_end?;
            // Without an end time (some templates only say when it starts), the start is
            // the best lower bound of the end.
            let (end, col) = match at("ends_at") {
                Some(t) => (t, "ends_at"),
                None => (at("starts_at")?, "starts_at"),
            };
            (end + chrono::Duration::hours(h) < now).then_some((
                "rule:completed_hours_after_end",
                "completed",
                col,
            ))
        }
        Some("pending") => {
            let h = rules.pending_expires_after_hours?;
            (at("created_at")? + chrono::Duration::hours(h) < now).then_some((
                "rule:pending_expires_after_hours",
                "cancelled",
                "created_at",
            ))
        }
        _ => None,
    }
}

/// A booking still `confirmed` although its slot ended before the incident, with no rule
/// of the app to close it: what became of it (completed, no-show) no surviving source
/// says, so the state is the evidence's age, not a fact (lower confidence).
fn slot_ended_unclosed(ctx: &Ctx<'_>, row: &Row) -> bool {
    if row.text("status") != Some("confirmed") {
        return false;
    }
    let Some(now) = crate::util::time::parse_any(&ctx.settings.incident_at, None) else {
        return false;
    };
    let end = ["ends_at", "starts_at"].iter().find_map(|c| {
        row.text(c)
            .and_then(|t| crate::util::time::parse_any(t, None))
    });
    end.is_some_and(|t| t + chrono::Duration::hours(24) < now)
}

/// The source ref of the value chosen for `col`.
fn chosen_ref(ctx: &Ctx<'_>, b: &Building, col: &str) -> Option<String> {
    b.provenance
        .iter()
        .find(|p| p.column == col && p.chosen)
        .map(|p| ctx.origin(p).1.to_string())
}

/// Sets a value no source offered as such (a rule, a default, a derivation): the offered
/// values stay in provenance unchosen, and a provenance row says how the value came about
/// (`source_ref` = `rule:...`, `default:...`, `derived:...`, with its basis).
fn derive(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Record;

    fn rec(
        kind: SourceKind,
        e: Entity,
        r: &str,
        at: &str,
        fields: &[(&str, Value)],
    ) -> StoredRecord {
        let mut record = Record::new(e, r, Some(at.to_string()));
        for (f, v) in fields {
            record.set(*f, v.clone());
        }
        StoredRecord::new(kind.as_str(), kind, record)
    }
    fn t(s: &str) -> Value {
        Value::text(s)
    }

    fn incident() -> Vec<StoredRecord> {
        use Entity::*;
        use SourceKind::*;
        let b = "2026-08-22T03:00:00Z";
        let s = "2026-11-20T14:30:00Z";
        vec![
            rec(
                Backup,
                Business,
                "backup:shops#1",
                b,
                &[
                    ("id", t("1")),
                    ("name", t("Lumen")),
                    ("stripe_account", t("acct_1")),
                    ("attr.country", t("US")),
                    ("attr.currency", t("usd")),
                ],
            ),
            rec(
                Stripe,
                Business,
                "stripe:acct_1",
                s,
                &[("stripe_account", t("acct_1")), ("name", t("Lumen Studio"))],
            ),
            rec(
                Backup,
                Customer,
                "backup:clients#7",
                b,
                &[
                    ("id", t("7")),
                    ("business_id", t("1")),
                    ("name", t("José Müller")),
                    ("email", t("jose@x.org")),
                    ("phone", t("(415) 555-0134")),
                    ("stripe_customer", t("cus_A")),
                ],
            ),
            // Stripe: the real customer (case differs) and a duplicate object with the same email.
            rec(
                Stripe,
                Customer,
                "stripe:acct_1/cus_A",
                s,
                &[
                    ("business.stripe_account", t("acct_1")),
                    ("stripe_customer", t("cus_A")),
                    ("email", t("Jose@X.org")),
                    ("name", t("Jose Muller")),
                ],
            ),
            rec(
                Stripe,
                Customer,
                "stripe:acct_1/cus_B",
                s,
                &[
                    ("business.stripe_account", t("acct_1")),
                    ("stripe_customer", t("cus_B")),
                    ("email", t("JOSE@x.org")),
                ],
            ),
            // A family member sharing the email but with another app id stays apart.
            rec(
                Backup,
                Customer,
                "backup:clients#8",
                b,
                &[
                    ("id", t("8")),
                    ("business_id", t("1")),
                    ("name", t("Ana Müller")),
                    ("email", t("jose@x.org")),
                ],
            ),
            rec(
                Backup,
                Reservation,
                "backup:appointments#100",
                b,
                &[
                    ("id", t("100")),
                    ("business_id", t("1")),
                    ("customer_id", t("7")),
                    ("reference", t("BK-1")),
                    ("status", t("confirmed")),
                    ("starts_at", t("2026-09-10T10:00:00Z")),
                    ("ends_at", t("2026-09-10T11:00:00Z")),
                    ("amount", Value::Int(4500)),
                ],
            ),
            rec(
                Email,
                Reservation,
                "email:<c1@x>",
                "2026-09-01T10:00:00Z",
                &[
                    ("reference", t("BK-1")),
                    ("status", t("cancelled")),
                    ("customer.email", t("jose@x.org")),
                    ("business.stripe_account", t("acct_1")),
                ],
            ),
            // A booking made after the backup, seen only in an email.
            rec(
                Email,
                Reservation,
                "email:<c2@x>",
                "2026-10-01T10:00:00Z",
                &[
                    ("reference", t("BK-2")),
                    ("status", t("confirmed")),
                    ("starts_at", t("2026-10-05T10:00:00Z")),
                    ("ends_at", t("2026-10-05T11:00:00Z")),
                    ("customer.email", t("JOSE@x.org")),
                    ("business.stripe_account", t("acct_1")),
                ],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/ch_1",
                s,
                &[
                    ("processor", t("stripe")),
                    ("processor_id", t("ch_1")),
                    ("amount", Value::Int(4500)),
                    ("amount_refunded", Value::Int(4500)),
                    ("currency", t("usd")),
                    ("status", t("refunded")),
                    ("business.stripe_account", t("acct_1")),
                    ("customer.stripe_customer", t("cus_A")),
                    ("reservation.reference", t("BK-1")),
                    ("attr.receipt_number", t("1111-2222")),
                ],
            ),
            rec(
                Email,
                Payment,
                "email:<r1@x>",
                "2026-08-01T10:00:00Z",
                &[
                    ("amount", Value::Int(4500)),
                    ("currency", t("usd")),
                    ("status", t("succeeded")),
                    ("attr.receipt_number", t("1111-2222")),
                    ("business.stripe_account", t("acct_1")),
                ],
            ),
            rec(
                Backup,
                Payment,
                "backup:charges#5",
                b,
                &[
                    ("id", t("5")),
                    ("business_id", t("1")),
                    ("processor", t("cash")),
                    ("amount", Value::Int(2000)),
                    ("currency", t("usd")),
                    ("status", t("succeeded")),
                    ("reservation_id", t("100")),
                ],
            ),
        ]
    }

    fn settings() -> Settings {
        Settings {
            incident_at: "2026-11-20T14:30:00Z".into(),
            rules: Rules {
                completed_hours_after_end: Some(4),
                pending_expires_after_hours: None,
            },
        }
    }

    #[test]
    fn links_replays_and_keeps_provenance() {
        let out = merge(&incident(), &settings());
        assert_eq!(out.businesses.len(), 1);
        let b = &out.businesses[0];
        assert_eq!(b.id, "1");
        assert_eq!(b.text("name"), Some("Lumen"), "backup wins a business name");
        assert_eq!(b.sources_text(), "backup,stripe");

        // Customer 7 absorbs both Stripe objects; customer 8 (same email) stays apart.
        let ids: Vec<&str> = out.customers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["7", "8"]);
        let c7 = &out.customers[0];
        assert_eq!(c7.text("email"), Some("jose@x.org"));
        assert_eq!(c7.text("phone"), Some("+14155550134"));
        assert_eq!(c7.text("stripe_customer"), Some("cus_A"));
        assert_eq!(c7.text("name"), Some("José Müller"));

        let r100 = out.reservations.iter().find(|r| r.id == "100").unwrap();
        assert_eq!(
            r100.text("status"),
            Some("cancelled"),
            "the later email replays"
        );
        assert_eq!(r100.text("currency"), Some("usd"));
        let r2 = out
            .reservations
            .iter()
            .find(|r| r.text("reference") == Some("BK-2"))
            .unwrap();
        assert!(r2.id.starts_with("rec_"));
        assert_eq!(
            r2.text("status"),
            Some("completed"),
            "slot ended: the app's rule"
        );
        assert_eq!(r2.sources_text(), "email");
        assert!(r2.confidence < r100.confidence);

        // The Stripe charge and its receipt email are one payment; the cash payment stays.
        assert_eq!(out.payments.len(), 2);
        let ch = out
            .payments
            .iter()
            .find(|p| p.text("processor_id") == Some("ch_1"))
            .unwrap();
        assert_eq!(ch.sources_text(), "email,stripe");
        assert_eq!(ch.text("status"), Some("refunded"));
        assert_eq!(ch.text("reservation_id"), Some("100"));
        assert_eq!(ch.text("customer_id"), Some("7"));
        let cash = out.payments.iter().find(|p| p.id == "5").unwrap();
        assert_eq!(cash.text("processor"), Some("cash"));

        // Every offered value is in provenance, the chosen one marked.
        let status: Vec<_> = out
            .provenance
            .iter()
            .filter(|p| p.row_id == "100" && p.column == "status")
            .collect();
        assert_eq!(status.len(), 2);
        assert!(status
            .iter()
            .any(|p| p.chosen && p.value == Some("cancelled")));
        assert!(status
            .iter()
            .any(|p| !p.chosen && p.value == Some("confirmed")));
    }

    #[test]
    fn same_records_same_result_in_any_order() {
        let a = merge(&incident(), &settings());
        let mut shuffled = incident();
        shuffled.reverse();
        let b = merge(&shuffled, &settings());
        assert_eq!(a.businesses, b.businesses);
        assert_eq!(a.customers, b.customers);
        assert_eq!(a.payments, b.payments);
        assert_eq!(
            a.reservations.iter().map(|r| &r.id).collect::<Vec<_>>(),
            b.reservations.iter().map(|r| &r.id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_record_naming_two_keys_joins_them() {
        use Entity::*;
        use SourceKind::*;
        let s = "2026-11-20T14:30:00Z";
        // An account without the app's id in its metadata, and charges on it that carry
        // the id; plus a second business known only by an id and a third only by an account.
        let recs = vec![
            rec(
                Stripe,
                Business,
                "stripe:acct_9",
                s,
                &[("stripe_account", t("acct_9")), ("name", t("Vela"))],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_9/ch_1",
                s,
                &[
                    ("processor_id", t("ch_1")),
                    ("amount", Value::Int(100)),
                    ("currency", t("eur")),
                    ("business_id", t("9")),
                    ("business.stripe_account", t("acct_9")),
                ],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_9/ch_2",
                s,
                &[
                    ("processor_id", t("ch_2")),
                    ("amount", Value::Int(100)),
                    ("currency", t("eur")),
                    ("business_id", t("9")),
                    ("business.stripe_account", t("acct_9")),
                ],
            ),
            rec(
                Backup,
                Payment,
                "backup:charges#3",
                s,
                &[
                    ("id", t("3")),
                    ("amount", Value::Int(100)),
                    ("currency", t("eur")),
                    ("business_id", t("11")),
                ],
            ),
            rec(
                Email,
                Payment,
                "email:<r@x>",
                s,
                &[
                    ("attr.receipt_number", t("1-2")),
                    ("amount", Value::Int(100)),
                    ("currency", t("eur")),
                    ("business.stripe_account", t("acct_12")),
                ],
            ),
            rec(
                Email,
                Payment,
                "email:<s@x>",
                s,
                &[
                    ("attr.receipt_number", t("1-3")),
                    ("amount", Value::Int(100)),
                    ("currency", t("eur")),
                    ("business.stripe_account", t("acct_13")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        let ids: Vec<&str> = out.businesses.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(out.businesses.len(), 4, "{ids:?}");
        let vela = out
            .businesses
            .iter()
            .find(|b| b.id == "9")
            .expect("id learnt from charges");
        assert_eq!(vela.text("stripe_account"), Some("acct_9"));
        assert_eq!(vela.text("name"), Some("Vela"));
        // Businesses only referred to keep the key they were named by, and distinct ids.
        let a12 = out
            .businesses
            .iter()
            .find(|b| b.text("stripe_account") == Some("acct_12"))
            .unwrap();
        let a13 = out
            .businesses
            .iter()
            .find(|b| b.text("stripe_account") == Some("acct_13"))
            .unwrap();
        assert_ne!(a12.id, a13.id);
        assert_eq!(a12.sources_text(), "email");
        assert!(out.businesses.iter().any(|b| b.id == "11"));
        let mut seen = std::collections::HashSet::new();
        assert!(out.businesses.iter().all(|b| seen.insert(b.id.clone())));
    }

    fn biz(id: &str, name: &str) -> StoredRecord {
        rec(
            SourceKind::Backup,
            Entity::Business,
            &format!("backup:shops#{id}"),
            "2026-01-24T03:00:00Z",
            &[
                ("id", t(id)),
                ("name", t(name)),
                ("attr.currency", t("EUR")),
            ],
        )
    }

    #[test]
    fn a_payment_is_its_payment_intent_and_failed_attempts_are_facts_on_it() {
        use Entity::*;
        use SourceKind::*;
        let s = "2026-04-25T10:00:00Z";
        let recs = vec![
            biz("1", "Reef"),
            // The app stored the PaymentIntent; Stripe has a declined charge and the retry.
            rec(
                Backup,
                Payment,
                "backup:payments#7",
                "2026-01-24T03:00:00Z",
                &[
                    ("id", t("7")),
                    ("business_id", t("1")),
                    ("processor_id", t("pi_1")),
                    ("amount", Value::Int(5000)),
                    ("currency", t("EUR")),
                    ("status", t("succeeded")),
                ],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/ch_fail",
                s,
                &[
                    ("processor_id", t("pi_1")),
                    ("attr.charge", t("ch_fail")),
                    ("attr.payment_intent", t("pi_1")),
                    ("amount", Value::Int(5000)),
                    ("currency", t("eur")),
                    ("status", t("failed")),
                    ("created_at", t("2024-09-02T10:00:00Z")),
                ],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/ch_ok",
                s,
                &[
                    ("processor_id", t("pi_1")),
                    ("attr.charge", t("ch_ok")),
                    ("attr.payment_intent", t("pi_1")),
                    ("attr.receipt_number", t("1834-2210")),
                    ("amount", Value::Int(5000)),
                    ("amount_refunded", Value::Int(2000)),
                    ("currency", t("eur")),
                    ("status", t("partially_refunded")),
                    ("created_at", t("2024-09-02T10:05:00Z")),
                ],
            ),
            // Its receipt mail shows only the receipt number, and joins by it.
            rec(
                Email,
                Payment,
                "email:<paid.1@x>",
                "2024-09-02T10:06:00Z",
                &[
                    ("attr.receipt_number", t("#1834-2210")),
                    ("amount", Value::Int(5000)),
                    ("currency", t("eur")),
                    ("status", t("succeeded")),
                    ("business_id", t("1")),
                ],
            ),
            // A legacy charge with no PaymentIntent is a payment of its own.
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/ch_legacy",
                s,
                &[
                    ("processor_id", t("ch_legacy")),
                    ("amount", Value::Int(100)),
                    ("currency", t("eur")),
                    ("status", t("succeeded")),
                    ("business_id", t("1")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        assert_eq!(out.payments.len(), 2, "{:?}", out.payments);
        let p = out.payments.iter().find(|p| p.id == "7").unwrap();
        assert_eq!(
            p.text("processor_id"),
            Some("pi_1"),
            "the id the app stored"
        );
        assert_eq!(p.text("status"), Some("partially_refunded"));
        assert_eq!(p.get("amount_refunded"), Some(&Value::Int(2000)));
        assert_eq!(p.text("currency"), Some("eur"));
        assert_eq!(p.text("created_at"), Some("2024-09-02T10:05:00Z"));
        assert_eq!(p.sources_text(), "backup,email,stripe");
        // The failed attempt's status is in provenance, not chosen.
        assert!(out.provenance.iter().any(|x| x.row_id == "7"
            && x.column == "status"
            && x.value == Some("failed")
            && !x.chosen
            && x.source_ref == "stripe:acct_1/ch_fail"));
        assert!(!out.review.iter().any(|r| r.reason == "conflict:status"));
        let legacy = out.payments.iter().find(|p| p.id != "7").unwrap();
        assert_eq!(legacy.text("processor_id"), Some("ch_legacy"));
    }

    #[test]
    fn a_checkout_payment_keeps_its_session_id_and_others_their_intent() {
        use Entity::*;
        use SourceKind::*;
        let s = "2026-04-25T10:00:00Z";
        let charge = |pi: &str, ch: &str| {
            rec(
                Stripe,
                Payment,
                &format!("stripe:acct_1/{ch}"),
                s,
                &[
                    ("processor_id", t(pi)),
                    ("attr.charge", t(ch)),
                    ("amount", Value::Int(900)),
                    ("currency", t("eur")),
                    ("status", t("succeeded")),
                    ("business_id", t("1")),
                ],
            )
        };
        let recs = vec![
            biz("1", "Reef"),
            charge("pi_a", "ch_a"),
            charge("pi_b", "ch_b"),
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/cs_a#payment",
                s,
                &[
                    ("processor_id", t("cs_a")),
                    ("attr.payment_intent", t("pi_a")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        let mut ids: Vec<&str> = out
            .payments
            .iter()
            .filter_map(|p| p.text("processor_id"))
            .collect();
        ids.sort();
        assert_eq!(ids, ["cs_a", "pi_b"]);
    }

    #[test]
    fn a_booking_named_by_id_in_one_place_and_by_code_in_another_is_one() {
        use Entity::*;
        use SourceKind::*;
        let s = "2026-04-25T10:00:00Z";
        let recs = vec![
            biz("1", "Reef"),
            // The charge's metadata names booking 52 by id; its receipt mail by code.
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/ch_1",
                s,
                &[
                    ("processor_id", t("pi_1")),
                    ("attr.receipt_number", t("1111-2222")),
                    ("amount", Value::Int(900)),
                    ("currency", t("eur")),
                    ("business_id", t("1")),
                    ("reservation_id", t("52")),
                ],
            ),
            rec(
                Stripe,
                Reservation,
                "stripe:acct_1/ch_1#reservation",
                s,
                &[("id", t("52")), ("business_id", t("1"))],
            ),
            rec(
                Email,
                Payment,
                "email:<paid@x>",
                s,
                &[
                    ("attr.receipt_number", t("1111-2222")),
                    ("reservation.reference", t("KL24-7QX4M")),
                    ("business_id", t("1")),
                ],
            ),
            rec(
                Email,
                Reservation,
                "email:<confirm@x>",
                s,
                &[
                    ("reference", t("KL24-7QX4M")),
                    ("status", t("confirmed")),
                    ("starts_at", t("2026-05-01T08:30:00Z")),
                    ("business_id", t("1")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        assert_eq!(out.reservations.len(), 1, "{:?}", out.reservations);
        let r = &out.reservations[0];
        assert_eq!(r.id, "52");
        assert_eq!(r.text("reference"), Some("KL24-7QX4M"));
        assert_eq!(out.payments[0].text("reservation_id"), Some("52"));
    }

    #[test]
    fn a_shared_business_name_is_not_an_identity() {
        use Entity::*;
        use SourceKind::*;
        let m = "2026-03-01T10:00:00Z";
        let mail_res = |r: &str, code: &str, email: &str| {
            rec(
                Email,
                Reservation,
                r,
                m,
                &[
                    ("reference", t(code)),
                    ("status", t("confirmed")),
                    ("business.name", t("Blue Hole Divers")),
                    ("customer.email", t(email)),
                ],
            )
        };
        let recs = vec![
            biz("1", "Blue Hole Divers"),
            biz("2", "Blue Hole Divers"),
            biz("3", "Kings Dive Dahab"),
            rec(
                Backup,
                Customer,
                "backup:customers#9",
                "2026-01-24T03:00:00Z",
                &[
                    ("id", t("9")),
                    ("business_id", t("2")),
                    ("email", t("anna@x.org")),
                ],
            ),
            // The mail's own business record, named by the shared name only.
            rec(
                Email,
                Business,
                "email:<a@x>#business",
                m,
                &[("name", t("Blue Hole Divers"))],
            ),
            // Placed where its customer is known; the other cannot be placed.
            mail_res("email:<a@x>", "KL-1", "Anna@x.org"),
            mail_res("email:<b@x>", "KL-2", "bob@y.org"),
            // A name only one business shows is enough.
            rec(
                Email,
                Reservation,
                "email:<c@x>",
                m,
                &[
                    ("reference", t("KL-3")),
                    ("status", t("confirmed")),
                    ("business.name", t("Kings Dive Dahab")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        assert_eq!(out.businesses.len(), 3, "no business from a shared name");
        let placed: Vec<(&str, &str)> = out
            .reservations
            .iter()
            .map(|r| (r.text("reference").unwrap(), r.text("business_id").unwrap()))
            .collect();
        assert!(placed.contains(&("KL-1", "2")), "{placed:?}");
        assert!(placed.contains(&("KL-3", "3")), "{placed:?}");
        assert!(!placed.iter().any(|(c, _)| *c == "KL-2"), "{placed:?}");
        assert!(out.review.iter().any(|r| r.reason == "ambiguous_business"));
        assert!(out.review.iter().any(|r| r.reason == "unlinked_record"));
    }

    #[test]
    fn a_deleted_business_takes_its_rows_and_a_merged_customer_follows_its_survivor() {
        use Entity::*;
        use SourceKind::*;
        let b = "2026-01-24T03:00:00Z";
        let mut demo = biz("9", "Demo Dive Co");
        let mut r = Record::new(Business, "backup:shops#9", Some(b.into()));
        for (f, v) in demo.record.fields.iter() {
            r.set(f.to_string(), v.clone());
        }
        r.set("deleted", Value::Int(1));
        demo = StoredRecord::new("backup", Backup, r);
        let recs = vec![
            biz("1", "Reef"),
            demo,
            rec(
                Backup,
                Customer,
                "backup:customers#90",
                b,
                &[("id", t("90")), ("business_id", t("9"))],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_9/ch_9",
                b,
                &[
                    ("processor_id", t("pi_9")),
                    ("amount", Value::Int(100)),
                    ("currency", t("eur")),
                    ("business_id", t("9")),
                    ("customer_id", t("90")),
                ],
            ),
            rec(
                Backup,
                Customer,
                "backup:customers#5",
                b,
                &[
                    ("id", t("5")),
                    ("business_id", t("1")),
                    ("email", t("ann@x.org")),
                ],
            ),
            rec(
                Backup,
                Customer,
                "backup:customers#6",
                b,
                &[
                    ("id", t("6")),
                    ("business_id", t("1")),
                    ("email", t("ann@gmial.com")),
                    ("merged_into", t("5")),
                    ("deleted", Value::Int(1)),
                ],
            ),
            rec(
                Backup,
                Payment,
                "backup:payments#3",
                b,
                &[
                    ("id", t("3")),
                    ("business_id", t("1")),
                    ("customer_id", t("6")),
                    ("processor_id", t("pi_3")),
                    ("amount", Value::Int(100)),
                    ("currency", t("EUR")),
                    ("status", t("succeeded")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        let ids = |rows: &[Row]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&out.businesses), ["1"]);
        assert_eq!(ids(&out.customers), ["5"]);
        assert_eq!(ids(&out.payments), ["3"]);
        assert_eq!(
            out.payments[0].text("customer_id"),
            Some("5"),
            "follows the survivor"
        );
        // Nothing exported names a row that is not exported.
        let biz_ids = ids(&out.businesses);
        for e in [Customer, Reservation, Payment] {
            for r in out.rows(e) {
                assert!(biz_ids.contains(&r.text("business_id").unwrap().to_string()));
            }
        }
        let gone: Vec<&str> = out
            .review
            .iter()
            .filter(|r| r.reason == "deleted_parent:business_id")
            .map(|r| r.row_id.as_str())
            .collect();
        assert_eq!(
            gone.len(),
            2,
            "the demo shop's customer and payment: {gone:?}"
        );
    }

    #[test]
    fn values_the_contract_cannot_hold_go_to_review() {
        use Entity::*;
        use SourceKind::*;
        let b = "2026-01-24T03:00:00Z";
        let pay = |id: &str, cur: &str, amount: i64, status: &str| {
            rec(
                Backup,
                Payment,
                &format!("backup:payments#{id}"),
                b,
                &[
                    ("id", t(id)),
                    ("business_id", t("1")),
                    ("amount", Value::Int(amount)),
                    ("currency", t(cur)),
                    ("status", t(status)),
                    ("processor", t("cash")),
                ],
            )
        };
        let recs = vec![
            biz("1", "Reef"),
            pay("1", " USD ", 100, "succeeded"),
            pay("2", "XQZ", 100, "succeeded"),
            pay("3", "eur", -5, "succeeded"),
            pay("4", "eur", 100, "captured"),
        ];
        let out = merge(&recs, &settings());
        let p1 = out.payments.iter().find(|p| p.id == "1").unwrap();
        assert_eq!(p1.text("currency"), Some("usd"));
        let reasons: Vec<(&str, &str)> = out
            .review
            .iter()
            .map(|r| (r.row_id.as_str(), r.reason.as_str()))
            .collect();
        assert!(reasons.contains(&("2", "invalid:currency")), "{reasons:?}");
        assert!(reasons.contains(&("3", "invalid:amount")), "{reasons:?}");
        assert!(reasons.contains(&("4", "invalid:status")), "{reasons:?}");
        // No unchecked value reaches the table: the ones without a valid amount or
        // currency stay out; the bad status is replaced by the default and reviewed.
        assert!(!out.payments.iter().any(|p| p.id == "2" || p.id == "3"));
        for p in &out.payments {
            assert!(Entity::Payment
                .statuses()
                .contains(&p.text("status").unwrap()));
        }
    }

    #[test]
    fn a_receipt_without_a_receipt_number_joins_its_charge() {
        use Entity::*;
        use SourceKind::*;
        let s = "2026-04-25T10:00:00Z";
        let charge = |ch: &str, code: &str, at: &str| {
            rec(
                Stripe,
                Payment,
                &format!("stripe:acct_1/{ch}"),
                s,
                &[
                    ("processor_id", t(&ch.replace("ch_", "pi_"))),
                    ("amount", Value::Int(5000)),
                    ("currency", t("eur")),
                    ("status", t("succeeded")),
                    ("created_at", t(at)),
                    ("business_id", t("1")),
                    ("reservation.reference", t(code)),
                ],
            )
        };
        let mail = |r: &str, code: &str, at: &str| {
            rec(
                Email,
                Payment,
                r,
                at,
                &[
                    ("amount", Value::Int(5000)),
                    ("currency", t("eur")),
                    ("created_at", t(at)),
                    ("business_id", t("1")),
                    ("reservation.reference", t(code)),
                ],
            )
        };
        let recs = vec![
            biz("1", "Reef"),
            charge("ch_a", "KL-A", "2026-03-02T10:00:00Z"),
            charge("ch_b", "KL-B", "2026-03-02T11:00:00Z"),
            // Same amount, same day: the booking code tells which.
            mail("email:<paid.a@x>", "KL-A", "2026-03-02T10:01:00Z"),
            // A cash payment only the mail knows stays a payment of its own.
            mail("email:<paid.c@x>", "KL-C", "2026-03-09T10:01:00Z"),
            // A declined attempt on its own PaymentIntent, same booking, amount and day:
            // the receipt is not about it.
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/pi_declined",
                s,
                &[
                    ("processor_id", t("pi_declined")),
                    ("amount", Value::Int(5000)),
                    ("currency", t("eur")),
                    ("status", t("failed")),
                    ("created_at", t("2026-03-02T09:58:00Z")),
                    ("business_id", t("1")),
                    ("reservation.reference", t("KL-A")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        assert_eq!(out.payments.len(), 4, "{:?}", out.payments);
        let a = out
            .payments
            .iter()
            .find(|p| p.text("processor_id") == Some("pi_a"))
            .unwrap();
        assert_eq!(a.sources_text(), "email,stripe");
    }

    #[test]
    fn the_id_the_app_stored_wins_and_a_cash_mail_joins_its_row() {
        use Entity::*;
        use SourceKind::*;
        let b = "2026-01-24T03:00:00Z";
        let s = "2026-04-25T10:00:00Z";
        let recs = vec![
            biz("1", "Reef"),
            // The app keeps a Checkout payment's session id in a column of its own.
            rec(
                Backup,
                Payment,
                "backup:payments#8",
                b,
                &[
                    ("id", t("8")),
                    ("business_id", t("1")),
                    ("attr.checkout_session", t("cs_b")),
                    ("amount", Value::Int(900)),
                    ("currency", t("eur")),
                    ("status", t("succeeded")),
                ],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/cs_b#payment",
                s,
                &[
                    ("attr.checkout_session", t("cs_b")),
                    ("attr.payment_intent", t("pi_b")),
                ],
            ),
            rec(
                Stripe,
                Payment,
                "stripe:acct_1/ch_b",
                s,
                &[
                    ("processor_id", t("pi_b")),
                    ("amount", Value::Int(900)),
                    ("currency", t("eur")),
                    ("status", t("succeeded")),
                ],
            ),
            // A payment taken on site, and the app's mail about it.
            rec(
                Backup,
                Payment,
                "backup:payments#9",
                b,
                &[
                    ("id", t("9")),
                    ("business_id", t("1")),
                    ("processor", t("cash")),
                    ("amount", Value::Int(4000)),
                    ("currency", t("eur")),
                    ("status", t("succeeded")),
                    ("created_at", t("2025-12-01T10:00:00Z")),
                    ("reservation_id", t("52")),
                ],
            ),
            rec(
                Email,
                Payment,
                "email:<paid.9@x>",
                "2025-12-01T10:02:00Z",
                &[
                    ("processor", t("cash")),
                    ("amount", Value::Int(4000)),
                    ("currency", t("eur")),
                    ("created_at", t("2025-12-01T10:02:00Z")),
                    ("business_id", t("1")),
                    ("reservation.reference", t("KL-52")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        let ids: Vec<(&str, Option<&str>)> = out
            .payments
            .iter()
            .map(|p| (p.id.as_str(), p.text("processor_id")))
            .collect();
        assert_eq!(ids, [("8", Some("cs_b")), ("9", None)]);
        assert_eq!(out.payments[1].sources_text(), "backup,email");
    }

    #[test]
    fn an_earlier_stripe_account_of_a_business_is_that_business() {
        use Entity::*;
        use SourceKind::*;
        let s = "2026-04-25T10:00:00Z";
        let charge = |ch: &str, fields: &[(&str, Value)]| {
            let mut f = vec![
                ("processor_id", t(&ch.replace("ch_", "pi_"))),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
                ("business.stripe_account", t("acct_old")),
            ];
            f.extend(fields.iter().cloned());
            rec(Stripe, Payment, &format!("stripe:acct_old/{ch}"), s, &f)
        };
        let mut b = biz("1", "Reef");
        let mut r = Record::new(Business, "backup:shops#1", None);
        for (f, v) in b.record.fields.iter() {
            r.set(f.to_string(), v.clone());
        }
        r.set("stripe_account", "acct_new");
        b = StoredRecord::new("backup", Backup, r);
        let recs = vec![
            b,
            rec(
                Stripe,
                Business,
                "stripe:acct_old",
                s,
                &[("stripe_account", t("acct_old")), ("name", t("Reef"))],
            ),
            charge("ch_1", &[("business_id", t("1"))]),
            charge("ch_2", &[]),
        ];
        let out = merge(&recs, &settings());
        assert_eq!(out.businesses.len(), 1, "{:?}", out.businesses);
        assert_eq!(out.businesses[0].text("stripe_account"), Some("acct_new"));
        assert_eq!(out.payments.len(), 2);
        assert!(out
            .payments
            .iter()
            .all(|p| p.text("business_id") == Some("1")));
        assert!(out
            .review
            .iter()
            .any(|r| r.reason == "earlier_stripe_account"));

        // Older charges name only the booking code: its booking's business is the owner.
        let mut recs = recs;
        recs.truncate(2);
        recs.push(rec(
            Backup,
            Reservation,
            "backup:bookings#5",
            s,
            &[
                ("id", t("5")),
                ("business_id", t("1")),
                ("reference", t("KL-5")),
                ("status", t("completed")),
            ],
        ));
        recs.push(charge("ch_3", &[("reservation.reference", t("KL-5"))]));
        let out = merge(&recs, &settings());
        assert_eq!(out.businesses.len(), 1, "{:?}", out.businesses);
        assert_eq!(out.payments[0].text("business_id"), Some("1"));
        assert_eq!(out.payments[0].text("reservation_id"), Some("5"));
    }

    #[test]
    fn a_shared_business_email_is_not_an_identity_either() {
        use Entity::*;
        use SourceKind::*;
        let b = "2026-01-24T03:00:00Z";
        let shop = |id: &str, name: &str| {
            rec(
                Backup,
                Business,
                &format!("backup:shops#{id}"),
                b,
                &[
                    ("id", t(id)),
                    ("name", t(name)),
                    ("email", t("rentals@chain.example")),
                ],
            )
        };
        let recs = vec![
            shop("1", "E-Ride Rentals"),
            shop("2", "Wheelhouse Lagos"),
            rec(
                Email,
                Reservation,
                "email:<r@x>",
                b,
                &[
                    ("reference", t("PD-1")),
                    ("status", t("confirmed")),
                    ("business.email", t("rentals@chain.example")),
                    ("business.name", t("Wheelhouse Lagos")),
                ],
            ),
        ];
        let out = merge(&recs, &settings());
        assert_eq!(out.businesses.len(), 2);
        assert_eq!(out.reservations[0].text("business_id"), Some("2"));
    }

    #[test]
    fn amount_disagreement_goes_to_review() {
        let mut recs = incident();
        recs.push(rec(
            SourceKind::Backup,
            Entity::Payment,
            "backup:charges#6",
            "2026-08-22T03:00:00Z",
            &[
                ("id", t("6")),
                ("business_id", t("1")),
                ("processor_id", t("ch_1")),
                ("amount", Value::Int(5000)),
                ("currency", t("usd")),
            ],
        ));
        let out = merge(&recs, &settings());
        let p = out.payments.iter().find(|p| p.id == "6").unwrap();
        assert_eq!(
            p.get("amount"),
            Some(&Value::Int(4500)),
            "Stripe is trusted for amounts"
        );
        assert!(out
            .review
            .iter()
            .any(|r| r.row_id == "6" && r.reason == "conflict:amount"));
    }
}
