//! Linking payments: a payment mail without Stripe ids to its one payment, reservations
//! through the payments that name them, and Stripe customers through the bookings their
//! payments paid.

use super::identity;
use super::identity::keys;
use super::linked::{Linked, GLOBAL};
use crate::claims::store::StoredRecord;
use crate::claims::{Entity, SourceKind, Value};
use std::collections::HashMap;

/// A payment mail without any Stripe id (a receipt sent before Stripe issued its number,
/// a mail for a payment taken on site) joins the one payment that has Stripe ids or the
/// app's own id, the same business, amount and currency, a time within a day of it, no
/// other booking, and the same outcome (a receipt is not about a declined attempt). It never becomes a payment of its own
/// when such a payment exists; with two candidates it stays apart (and is reviewed as
/// the weaker row it is).
pub(super) fn link_loose_payments(
    records: &[StoredRecord],
    pay: &mut Linked,
    rec_biz: &[Option<usize>],
) {
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
pub(super) fn link_through_payments(records: &[StoredRecord], pay: &mut Linked, resv: &mut Linked) {
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

/// A customer no app row names (a Stripe customer a returning person paid under with a
/// new address, the address a booking mail went to) is the app customer whose bookings
/// it paid for or was written about: the app's own rows say who booked; a charge says
/// which Stripe customer paid, a mail which customer it went to. It joins when every
/// booking names one customer, the names do not disagree, and no app id forbids it (two
/// app ids never join). Returns how many joined.
pub(super) fn link_customers_through_bookings(
    records: &[StoredRecord],
    pay: &mut Linked,
    resv: &mut Linked,
    cust: &mut Linked,
) -> usize {
    use super::identity::key_value;
    // Reservation cluster -> the app customer id its records name (when they agree).
    let mut booked_by: HashMap<usize, Option<String>> = HashMap::new();
    for g in resv.groups() {
        let root = resv.clusters.find(g[0]);
        for ri in g.iter().filter_map(|&n| resv.nodes[n]) {
            if let Some(c) = records[ri]
                .record
                .get("customer_id")
                .and_then(|v| key_value("id", v))
            {
                let e = booked_by.entry(root).or_insert(Some(c.clone()));
                if e.as_deref() != Some(c.as_str()) {
                    *e = None;
                }
            }
        }
    }
    // The customer record of each source record (a mail or a charge that names a
    // customer and a booking at once), as a cluster.
    let by_ref = cust.by_source_ref(records);
    let mut resv_of: HashMap<usize, usize> = HashMap::new();
    for n in 0..resv.nodes.len() {
        if let Some(ri) = resv.nodes[n] {
            resv_of.insert(ri, n);
        }
    }
    // Customer cluster -> the app customer id the bookings it paid for or booked name.
    let mut votes: HashMap<usize, Option<String>> = HashMap::new();
    let payers = pay.nodes.iter().filter_map(|n| *n);
    let bookers = resv.nodes.iter().filter_map(|n| *n);
    for ri in payers.chain(bookers).collect::<Vec<_>>() {
        let r = &records[ri];
        if let Some(c) = r.record.get("customer_id").and_then(|v| key_value("id", v)) {
            // A record that names its customer by app id and by Stripe customer (a
            // charge's metadata) says they are one.
            let stripe = r
                .record
                .get("customer.stripe_customer")
                .and_then(|v| cust.lookup(Entity::Customer, "stripe_customer", v, GLOBAL));
            if let Some(who) = stripe {
                let vote = Some(c);
                let e = votes.entry(who).or_insert(vote.clone());
                if *e != vote {
                    *e = None;
                }
            }
            continue;
        }
        let who = r
            .record
            .get("customer.stripe_customer")
            .and_then(|v| cust.lookup(Entity::Customer, "stripe_customer", v, GLOBAL))
            .or_else(|| by_ref.get(r.record.source_ref.as_str()).copied().flatten());
        let Some(who) = who else { continue };
        let booking = match r.record.entity {
            Entity::Reservation => resv_of.get(&ri).map(|&n| resv.clusters.find(n)),
            _ => super::linked::resolve(&r.record, Entity::Reservation, resv, GLOBAL),
        };
        let Some(Some(c)) = booking.and_then(|b| booked_by.get(&b).cloned()) else {
            continue;
        };
        let vote = Some(c);
        let e = votes.entry(who).or_insert(vote.clone());
        if *e != vote {
            *e = None;
        }
    }
    let mut votes: Vec<(usize, String)> = votes
        .into_iter()
        .filter_map(|(s, v)| Some((s, v?)))
        .collect();
    votes.sort();
    let mut pairs = Vec::new();
    for (a, c) in votes {
        // An app id is global: no scope needed.
        if let Some(b) = cust.lookup(Entity::Customer, "id", &Value::text(c), GLOBAL) {
            if a != b {
                pairs.push((a, b));
            }
        }
    }
    if pairs.is_empty() {
        return 0;
    }
    // The names of the clusters involved, in one pass.
    use crate::linkage::{compare, Kind};
    let wanted: std::collections::HashSet<usize> =
        pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let mut names: HashMap<usize, Vec<compare::Prepared>> = HashMap::new();
    for n in 0..cust.nodes.len() {
        let r = cust.clusters.find(n);
        if !wanted.contains(&r) {
            continue;
        }
        if let Some(p) = cust.nodes[n]
            .and_then(|ri| records[ri].record.get("name")?.render())
            .and_then(|s| compare::prepare(Kind::Name, &s))
        {
            names.entry(r).or_default().push(p);
        }
    }
    let else_level = compare::labels(Kind::Name).len() as u8;
    let agree = |a: &[compare::Prepared], b: &[compare::Prepared]| {
        a.is_empty()
            || b.is_empty()
            || a.iter().any(|x| {
                b.iter()
                    .any(|y| compare::level(Kind::Name, x.view(), y.view()) < else_level)
            })
    };
    let none = Vec::new();
    let mut joined = 0;
    for (a, b) in pairs {
        let (na, nb) = (
            names.get(&a).unwrap_or(&none),
            names.get(&b).unwrap_or(&none),
        );
        if agree(na, nb) && cust.clusters.union(a, b) {
            joined += 1;
        }
    }
    joined
}
