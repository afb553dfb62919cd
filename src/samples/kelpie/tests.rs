use super::*;
use crate::samples::truth::truth;
use std::collections::BTreeMap;

fn world() -> World {
    simulate(60, 4)
}

#[test]
fn same_seed_same_world_and_nothing_after_the_incident() {
    let a = serde_json::to_string(&simulate(8, 3)).unwrap();
    assert_eq!(a, serde_json::to_string(&simulate(8, 3)).unwrap());
    let w = world();
    let t = w.incident_at;
    for r in &w.reservations {
        assert!(r.versions.windows(2).all(|v| v[0].at <= v[1].at), "{r:?}");
        assert!(r.versions.iter().all(|v| v.at <= t));
        assert!(r.reference.starts_with("KL") && r.reference.len() == 10);
    }
    for p in &w.payments {
        assert!(p.created_at <= t);
        assert!(p.refunds.iter().all(|r| r.at <= t));
    }
}

/// Declined then succeeded on the same intent: one truth payment, its `pi_`; intents that
/// only failed are in the world (and Stripe) but not in the truth.
#[test]
fn declines_on_one_intent_are_one_truth_payment() {
    let w = world();
    let rec = truth(&w);
    let by_pid: BTreeMap<&str, &crate::merge::Row> = rec
        .payments
        .iter()
        .filter_map(|r| r.text("processor_id").map(|p| (p, r)))
        .collect();
    let retried: Vec<&Payment> = w
        .payments
        .iter()
        .filter(|p| {
            p.has_row()
                && !w.businesses[(p.business_id - 1) as usize].is_demo
                && p.kelpie
                    .as_ref()
                    .is_some_and(|k| !k.attempts.is_empty() && k.method == PayMethod::CardForm)
        })
        .collect();
    assert!(!retried.is_empty());
    for p in retried {
        let pi = p.payment_intent.as_deref().unwrap();
        let row = by_pid
            .get(pi)
            .unwrap_or_else(|| panic!("{pi} not in truth"));
        assert_eq!(row.id, p.id.to_string());
        assert_eq!(
            row.text("status"),
            Some(crate::samples::world::payment_status(p, w.incident_at))
        );
    }
    let failed: Vec<&Payment> = w.payments.iter().filter(|p| !p.has_row()).collect();
    assert!(failed
        .iter()
        .any(|p| p.kelpie.as_ref().unwrap().method == PayMethod::Checkout));
    for p in failed {
        if let Some(pi) = &p.payment_intent {
            assert!(!by_pid.contains_key(pi.as_str()));
        }
    }
    // Processor ids are what the app stored.
    for r in &rec.payments {
        match r.text("processor") {
            Some("stripe") => {
                let id = r.text("processor_id").unwrap();
                assert!(id.starts_with("pi_") || id.starts_with("cs_"), "{id}");
            }
            _ => assert!(r.text("processor_id").is_none()),
        }
        assert_eq!(
            r.text("currency"),
            r.text("currency").map(|c| c.to_lowercase()).as_deref()
        );
    }
}

/// Demo shops are in the backup, not in the truth; merged duplicates neither, and their
/// payments belong to the survivor.
#[test]
fn demo_shops_and_merged_duplicates_are_absent_from_the_truth() {
    let w = world();
    let rec = truth(&w);
    let demo: Vec<&Business> = w.businesses.iter().filter(|b| b.is_demo).collect();
    assert!(!demo.is_empty());
    let dump = crate::samples::backup::dump_text(&w);
    for b in &demo {
        assert!(!rec.businesses.iter().any(|r| r.id == b.id.to_string()));
        if b.created_at <= w.backup_at {
            assert!(
                dump.contains(&format!("\n{}\t{}\t", b.id, b.slug)),
                "{} not in the dump",
                b.slug
            );
        }
        for r in rec
            .reservations
            .iter()
            .chain(&rec.payments)
            .chain(&rec.customers)
        {
            assert_ne!(r.text("business_id"), Some(b.id.to_string().as_str()));
        }
    }
    let merged: BTreeMap<i64, i64> = w
        .customers
        .iter()
        .filter_map(|c| c.merged_into.map(|m| (c.id, m)))
        .collect();
    assert!(!merged.is_empty());
    for (dup, survivor) in &merged {
        assert!(!rec.customers.iter().any(|r| r.id == dup.to_string()));
        for p in w
            .payments
            .iter()
            .filter(|p| p.customer_id == Some(*dup) && p.has_row())
        {
            let row = rec
                .payments
                .iter()
                .find(|r| r.id == p.id.to_string())
                .unwrap();
            assert_eq!(row.text("customer_id"), Some(survivor.to_string().as_str()));
        }
    }
    // Both eras of merges show in the backup: the column, and the note before it existed.
    assert!(
        w.customers
            .iter()
            .any(|c| c.merged_into.is_some()
                && c.deleted_at.is_some_and(|d| d < merge_column_since()))
    );
}

#[test]
fn a_booked_slot_that_ended_is_completed_without_a_new_updated_at() {
    let w = world();
    let rec = truth(&w);
    let r = w
        .reservations
        .iter()
        .find(|r| {
            r.deleted_at.is_none()
                && r.versions.last().unwrap().change == Change::SlotEnded
                && !w.businesses[(r.business_id - 1) as usize].is_demo
        })
        .expect("a never-closed booking");
    let row = rec
        .reservations
        .iter()
        .find(|x| x.id == r.id.to_string())
        .unwrap();
    assert_eq!(row.text("status"), Some("completed"));
    let before = &r.versions[r.versions.len() - 2];
    assert_eq!(
        row.text("updated_at"),
        Some(crate::util::time::format_utc(before.at).as_str())
    );
}
