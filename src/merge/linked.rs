//! Stage 1 and 2: the records of one entity clustered by identity keys ([`Linked`]), and
//! references resolved to the clusters of the entity they name.

use super::identity;
use super::identity::{key_value, keys};
use super::link::{Clusters, KeyIndex};
use crate::claims::store::{LoadedRecord, StoredRecord};
use crate::claims::{Entity, Value};
use std::collections::{BTreeMap, HashMap};

/// Business keys that name a business only when exactly one business with a hard key
/// shows them: a display name (shared by several businesses, changed on renames) and a
/// contact email (the businesses of a chain share one). First the stronger.
pub(super) const WEAK_BUSINESS_KEYS: [&str; 2] = ["email", "name"];

/// The records of one entity, clustered.
pub(super) struct Linked {
    /// node -> record index (None for a stub).
    pub(super) nodes: Vec<Option<usize>>,
    pub(super) clusters: Clusters,
    pub(super) index: KeyIndex,
    /// node -> business root (scope), for entities linked per business.
    pub(super) scope: Vec<usize>,
    /// Node -> keys other records named it by (a stub's only key, or an app id learnt
    /// from a record that names the business by two keys), with the naming record.
    pub(super) named_keys: HashMap<usize, Vec<(&'static str, String, usize)>>,
    /// Businesses only: name key -> nodes whose record shows that name. A name is not an
    /// identity (several businesses share one, and businesses rename themselves): it names
    /// a business only when exactly one business that has a hard key shows it.
    pub(super) names: HashMap<String, Vec<usize>>,
    /// Cluster root -> the root it was merged into (a duplicate customer merged into a
    /// survivor): whatever names the duplicate names the survivor.
    pub(super) redirect: HashMap<usize, usize>,
    /// Records whose app id was dropped because another business holds that id.
    pub(super) foreign_ids: usize,
}

pub(super) const GLOBAL: usize = usize::MAX;

/// An app id that a record of another business claims is not that row's: the backup
/// says which business holds each id (rows do not move between businesses), so a Stripe
/// or mail record placed in another business that names the id (a deploy that wrote the
/// wrong id into metadata for a while) drops that id and is linked by its other keys.
/// Only entities linked per business (customers) have scopes to compare.
fn drop_foreign_ids(
    records: &[StoredRecord],
    idx: &[usize],
    scope: &[usize],
    rec_keys: &mut [Vec<(usize, String)>],
    specs: &[super::link::KeySpec],
) -> usize {
    let Some(id_key) = specs.iter().position(|s| s.field == "id") else {
        return 0;
    };
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (node, &ri) in idx.iter().enumerate() {
        if records[ri].kind != crate::claims::SourceKind::Backup || scope[node] == GLOBAL {
            continue;
        }
        if let Some((_, v)) = rec_keys[node].iter().find(|(k, _)| *k == id_key) {
            owner.entry(v.as_str()).or_insert(scope[node]);
        }
    }
    let owner: HashMap<String, usize> =
        owner.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut dropped = 0;
    for (node, ks) in rec_keys.iter_mut().enumerate() {
        if scope[node] == GLOBAL {
            continue;
        }
        let before = ks.len();
        ks.retain(|(k, v)| *k != id_key || owner.get(v).is_none_or(|&o| o == scope[node]));
        dropped += before - ks.len();
    }
    dropped
}

impl Linked {
    pub(super) fn build(
        e: Entity,
        records: &[StoredRecord],
        idx: &[usize],
        scope: Vec<usize>,
        apart: &HashMap<usize, String>,
    ) -> Linked {
        let specs = keys(e);
        let mut l = Linked {
            nodes: idx.iter().map(|&i| Some(i)).collect(),
            clusters: Clusters::new(idx.len()),
            index: KeyIndex::default(),
            scope,
            named_keys: HashMap::new(),
            names: HashMap::new(),
            redirect: HashMap::new(),
            foreign_ids: 0,
        };
        // Each record's identity keys, computed once.
        let mut rec_keys: Vec<Vec<(usize, String)>> = idx
            .iter()
            .map(|&ri| identity::keys_of(e, &records[ri].record))
            .collect();
        l.foreign_ids = drop_foreign_ids(records, idx, &l.scope, &mut rec_keys, specs);
        for (node, ks) in rec_keys.iter().enumerate() {
            for (k, v) in ks {
                if specs[*k].exclusive {
                    l.clusters.set_exclusive(node, *k, v);
                }
            }
        }
        // A record a person said is not its row's ("these are two") gets an app id of
        // its own: the cannot-link on ids keeps every key from joining it to that row.
        if let Some(id_key) = specs.iter().position(|s| s.field == "id" && s.exclusive) {
            for (node, &ri) in idx.iter().enumerate() {
                if let Some(v) = apart.get(&ri) {
                    l.clusters.set_exclusive(node, id_key, v);
                }
            }
        }
        for (k, spec) in specs.iter().enumerate() {
            if spec.lookup_only {
                continue; // indexed once linkage is done (index_lookup_keys)
            }
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

    /// The cluster of `node`, after redirects (a duplicate merged into a survivor).
    pub(super) fn root_of(&mut self, node: usize) -> usize {
        let r = self.clusters.find(node);
        self.redirect.get(&r).copied().unwrap_or(r)
    }

    /// Source ref -> the cluster of the record with that ref (None when records of one
    /// ref are in several clusters): the customer a mail or a charge was about.
    pub(super) fn by_source_ref<'r>(
        &mut self,
        records: &'r [StoredRecord],
    ) -> HashMap<&'r str, Option<usize>> {
        let mut by_ref: HashMap<&str, Option<usize>> = HashMap::new();
        for n in 0..self.nodes.len() {
            let Some(ri) = self.nodes[n] else { continue };
            let root = self.root_of(n);
            let e = by_ref
                .entry(records[ri].record.source_ref.as_str())
                .or_insert(Some(root));
            if *e != Some(root) {
                *e = None;
            }
        }
        by_ref
    }

    /// Indexes the lookup-only keys (a customer's email) once the clusters are final: a
    /// value names the one cluster that shows it; a value several clusters show (a
    /// family's email) names none. Returns the shared values with the clusters showing them.
    pub(super) fn index_lookup_keys(
        &mut self,
        e: Entity,
        records: &[StoredRecord],
    ) -> Vec<(String, Vec<usize>)> {
        let specs = keys(e);
        let mut owners: BTreeMap<(usize, usize, String), Vec<usize>> = BTreeMap::new();
        for node in 0..self.nodes.len() {
            let Some(ri) = self.nodes[node] else { continue };
            for (k, v) in identity::keys_of(e, &records[ri].record) {
                let spec = &specs[k];
                if !spec.lookup_only {
                    continue;
                }
                let scope = if spec.per_business {
                    self.scope[node]
                } else {
                    GLOBAL
                };
                if spec.per_business && scope == GLOBAL {
                    continue;
                }
                let root = self.clusters.find(node);
                let o = owners.entry((scope, k, v)).or_default();
                if !o.contains(&root) {
                    o.push(root);
                }
            }
        }
        let mut shared = Vec::new();
        for ((scope, k, v), roots) in owners {
            match roots[..] {
                [one] => self.index.insert(one, scope, k, &v),
                _ => shared.push((v, roots)),
            }
        }
        shared
    }

    /// The node that holds key `field = value` (in `scope` for per-business keys).
    pub(super) fn lookup(
        &mut self,
        e: Entity,
        field: &str,
        value: &Value,
        scope: usize,
    ) -> Option<usize> {
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
    pub(super) fn link_merged(&mut self, e: Entity, records: &[StoredRecord]) -> usize {
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
    pub(super) fn named(&mut self, field: &str, value: &Value) -> Vec<usize> {
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
    pub(super) fn link_names(&mut self, records: &[StoredRecord]) -> HashMap<usize, Vec<usize>> {
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
    pub(super) fn attach(
        &mut self,
        e: Entity,
        n: usize,
        field: &str,
        value: &str,
        named_by: usize,
    ) -> bool {
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
    pub(super) fn stub(&mut self, e: Entity, field: &str, value: &str, named_by: usize) -> usize {
        let n = self.clusters.add();
        self.nodes.push(None);
        self.scope.push(GLOBAL);
        self.attach(e, n, field, value, named_by);
        n
    }

    /// Clusters as lists of nodes, ordered by their first node.
    pub(super) fn groups(&mut self) -> Vec<Vec<usize>> {
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
pub(super) fn link_fields(target: Entity) -> (&'static str, &'static [&'static str]) {
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
pub(super) fn resolve(
    rec: &LoadedRecord,
    target: Entity,
    linked: &mut Linked,
    scope: usize,
) -> Option<usize> {
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
