//! Linking businesses: earlier Stripe accounts to the businesses they belong to, and
//! records (and customers) that name a business only by a name several share.

use super::identity::{key_value, keys};
use super::linked::{resolve, Linked, GLOBAL};
use crate::claims::store::{LoadedRecord, StoredRecord};
use crate::claims::Entity;
use std::collections::{BTreeMap, HashMap};

/// A business that reconnected Stripe keeps only its new account; its earlier account
/// still holds its earlier payments. Records that name a business by its app id and by an
/// account that no business with an app id holds say the account was that business's:
/// the account's cluster is redirected to the business (when all such records agree).
pub(super) fn link_earlier_accounts(records: &[StoredRecord], biz: &mut Linked) {
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
pub(super) fn link_accounts_by_bookings(
    records: &[StoredRecord],
    biz: &mut Linked,
    resv: &mut Linked,
) {
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
pub(super) fn business_candidates(rec: &LoadedRecord, biz: &mut Linked) -> Vec<usize> {
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
pub(super) fn disambiguate_customers(
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
