//! Linking payments: a payment mail without Stripe ids to its one payment, and
//! reservations through the payments that name them.

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
