use super::*;
use crate::samples::truth::truth;
use std::collections::BTreeMap;

#[test]
fn same_seed_same_world_and_the_briefs_shape() {
    let a = serde_json::to_string(&simulate(8, 3)).unwrap();
    assert_eq!(a, serde_json::to_string(&simulate(8, 3)).unwrap());
    let w = simulate(40, 21);
    let t = w.incident_at;
    assert_eq!(w.businesses.iter().filter(|b| b.is_demo).count(), 4);
    assert_eq!(
        w.businesses
            .iter()
            .filter(|b| b.is_demo && b.created_at > w.backup_at)
            .count(),
        2
    );
    assert_eq!(
        w.businesses
            .iter()
            .filter(|b| b.cancelled_at.is_some())
            .count(),
        3
    );
    for r in &w.reservations {
        assert!(r.versions.windows(2).all(|v| v[0].at <= v[1].at), "{r:?}");
        assert!(r.versions.iter().all(|v| v.at <= t));
        assert!(r.reference.starts_with("PD-") && r.reference.len() == 9);
    }
    for p in &w.payments {
        assert!(p.created_at <= t);
        assert!(p.refunds.iter().all(|r| r.at <= t));
        let refunded: i64 = p.refunds.iter().map(|r| r.amount).sum();
        assert!(refunded <= p.amount);
    }
    // Volumes near the brief's (~3,000 riders, ~9,000 bookings, ~9,500 payments).
    assert!(
        (2000..4500).contains(&w.customers.len()),
        "{}",
        w.customers.len()
    );
    assert!(
        (6000..13000).contains(&w.reservations.len()),
        "{}",
        w.reservations.len()
    );
}

/// The truth holds what the app stored: `ch_` before the cut-over, `pi_` after; declined
/// rows only after; no sandbox rows; archived shops present.
#[test]
fn truth_follows_the_cut_over_and_the_tenants() {
    let w = simulate(40, 21);
    let rec = truth(&w);
    let sandboxes: BTreeSet<String> = w
        .businesses
        .iter()
        .filter(|b| b.is_demo)
        .map(|b| b.id.to_string())
        .collect();
    assert_eq!(rec.businesses.len(), 36);
    for b in w.businesses.iter().filter(|b| b.cancelled_at.is_some()) {
        assert!(rec.businesses.iter().any(|r| r.id == b.id.to_string()));
    }
    let by_id: BTreeMap<String, &Payment> =
        w.payments.iter().map(|p| (p.id.to_string(), p)).collect();
    let mut seen = BTreeMap::new();
    for r in &rec.payments {
        let bid = r.text("business_id").unwrap();
        assert!(!sandboxes.contains(bid));
        let p = by_id[&r.id];
        let created = r.text("created_at").unwrap().to_string();
        let cut = crate::util::time::format_utc(cutover());
        let status = r.text("status").unwrap();
        match r.text("processor_id") {
            Some(id) if created < cut => assert!(id.starts_with("ch_"), "{r:?}"),
            Some(id) => assert!(id.starts_with("pi_"), "{r:?}"),
            None => assert_eq!(r.text("processor"), Some("cash")),
        }
        if status == "failed" {
            assert!(created >= cut, "a declined row before the cut-over: {r:?}");
        }
        assert_eq!(r.text("currency"), Some(p.currency.as_str()));
        *seen.entry(status.to_string()).or_insert(0) += 1;
    }
    for s in ["succeeded", "failed", "refunded", "partially_refunded"] {
        assert!(seen.contains_key(s), "{s}: {seen:?}");
    }
    assert!(rec
        .customers
        .iter()
        .all(|c| !sandboxes.contains(c.text("business_id").unwrap())));
}
