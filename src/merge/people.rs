//! Customers are people: after the hard keys (an app id, a Stripe customer) have joined
//! what they can, the linkage engine ([`crate::linkage`]) decides which of the remaining
//! records of one business describe one person, from names, emails, phones and whatever
//! attributes the mapping declares, with weights it estimates from this incident's own
//! records. This file only translates: claims to the engine's table, its joins back to
//! clusters, with the explanation of every join kept for `record_links`.

use super::link::Clusters;
use crate::claims::store::StoredRecord;
use crate::linkage::{self, Link, Row, Table};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// A join the engine made, between two records (indexes into the stored records).
#[derive(Debug, Clone)]
pub struct Joined {
    pub a: usize,
    pub b: usize,
    pub link: Link,
}

/// A record two people fit about equally: (record, [(candidate record, probability,
/// the pair's evidence)], whether it was joined to the first).
pub type Doubtful = (usize, Vec<(usize, f64, Vec<linkage::Evidence>)>, bool);

/// What the people pass did, for the summary, the report and `record_links`.
#[derive(Debug, Default)]
pub struct Outcome {
    pub joins: Vec<Joined>,
    /// Records that two people who cannot be one fit about equally: (record,
    /// [(candidate record, probability)], joined to the first).
    pub ambiguous: Vec<Doubtful>,
    /// Identical records folded before linkage (same business, same values).
    pub identical_folded: usize,
    pub stats: linkage::Stats,
    pub model: Option<linkage::estimate::Model>,
    /// Set when the engine could not run (bad settings): nothing was joined by similarity.
    pub error: Option<String>,
}

fn hash_of<T: Hash>(t: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

/// The fields the settings read (comparisons, then blocking rules), once each.
fn fields(settings: &linkage::Settings) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let rules = settings
        .blocking
        .iter()
        .filter_map(|r| linkage::block::Rule::parse(r).ok())
        .collect::<Vec<_>>();
    for f in settings
        .comparisons
        .iter()
        .map(|c| c.field.as_str())
        .chain(rules.iter().flat_map(|r| r.fields()))
    {
        if !out.iter().any(|x| x == f) {
            out.push(f.to_string());
        }
    }
    out
}

/// Links the customer records `nodes` (node -> record) already clustered by hard keys.
/// `scope[node]` is the node's business (`global` when unplaced: left alone); `id_key` is
/// the index of the app-id key among the clusters' exclusive keys.
pub fn link(
    records: &[StoredRecord],
    nodes: &[Option<usize>],
    scope: &[usize],
    global: usize,
    clusters: &mut Clusters,
    id_key: usize,
    settings: &linkage::Settings,
) -> Outcome {
    let fields = fields(settings);
    let mut out = Outcome::default();
    // Nodes that take part, and their values.
    let mut members: Vec<usize> = Vec::new();
    let mut values: Vec<Vec<Option<String>>> = Vec::new();
    for (node, ri) in nodes.iter().enumerate() {
        let Some(ri) = ri else { continue };
        if scope[node] == global {
            continue;
        }
        let rec = &records[*ri].record;
        let v: Vec<Option<String>> = fields
            .iter()
            .map(|f| {
                rec.get(f)
                    .and_then(|v| v.render())
                    .filter(|s| !s.trim().is_empty())
            })
            .collect();
        if v.iter().all(Option::is_none) {
            continue; // nothing to compare (a record with only an id)
        }
        members.push(node);
        values.push(v);
    }
    // Identical records of one business are one person's (a mail per booking): fold them
    // first, so the engine compares people, not copies.
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for (i, &node) in members.iter().enumerate() {
        let norm: Vec<Option<String>> = values[i]
            .iter()
            .map(|v| v.as_ref().map(|s| s.trim().to_lowercase()))
            .collect();
        let key = hash_of(&(scope[node], norm));
        match seen.get(&key) {
            Some(&first) => {
                if clusters.find(first) != clusters.find(node) && clusters.union(first, node) {
                    out.identical_folded += 1;
                }
            }
            None => {
                seen.insert(key, node);
            }
        }
    }
    // Sources as small numbers (for link_only).
    let mut source_ids: HashMap<&str, u32> = HashMap::new();
    let rows: Vec<Row> = members
        .iter()
        .zip(values)
        .map(|(&node, values)| {
            let root = clusters.find(node);
            let exclusive = clusters
                .exclusive_of(root)
                .iter()
                .find(|(k, _)| *k == id_key)
                .map(|(_, v)| hash_of(v));
            let ri = nodes[node].expect("members have records");
            let next = source_ids.len() as u32;
            let source = *source_ids.entry(&records[ri].source).or_insert(next);
            Row {
                values,
                scope: scope[node] as u32,
                source,
                group: root as u32,
                exclusive,
            }
        })
        .collect();
    if rows.is_empty() {
        return out;
    }
    let table = Table { fields, rows };
    let linked = match linkage::link(&table, settings) {
        Ok(l) => l,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let rec = |row: u32| nodes[members[row as usize]].expect("members have records");
    for l in linked.links {
        let (na, nb) = (members[l.a as usize], members[l.b as usize]);
        if clusters.union(na, nb) {
            out.joins.push(Joined {
                a: rec(l.a),
                b: rec(l.b),
                link: l,
            });
        }
    }
    // A record that fits two customers about equally is evidence about one of them, not a
    // customer of its own: it joins the likelier (ties: the first), and is reviewed.
    for a in linked.ambiguous {
        let Some(&(best, _)) = a.candidates.first() else {
            continue;
        };
        let joined = clusters.union(members[a.row as usize], members[best as usize]);
        out.ambiguous.push((
            rec(a.row),
            a.candidates
                .into_iter()
                .zip(a.evidence)
                .map(|((r, p), ev)| (rec(r), p, ev))
                .collect(),
            joined,
        ));
    }
    out.stats = linked.stats;
    out.model = linked.model;
    out
}
