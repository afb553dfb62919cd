//! The truth of a world at its incident time, as a [`Recovered`] (confidence 1) written by
//! the contract exporter: what the lost database held at `incident_at`.
//!
//! Rules:
//! * businesses: all (every business exists before the incident);
//! * customers: created by the incident and not soft-deleted by then;
//! * reservations: created by the incident and not soft-deleted by then, with the version in
//!   force at the incident (`updated_at` = that version's time);
//! * payments: created by the incident, with refunds and disputes made by then.
//!
//! Kelpie adds: demo shops and everything under them are absent; a customer merged into a
//! survivor is absent and its bookings and payments belong to the survivor; an erased
//! customer comes back as `Erased diver` without email or phone; attempts the app has no row
//! for (declined, expired, typed in the Stripe Dashboard) are absent; a payment's
//! `processor_id` is what the app stored (`pi_` for the card form, `cs_` for Checkout).
//!
//! Pedalry adds: sandboxes and everything under them are absent; archived shops are
//! present; a booking's `updated_at` is the row's (a buggy reschedule path did not stamp
//! it); a payment's `processor_id` is what the app stored (`ch_` before the 2024-03-01
//! cut-over, `pi_` after); declined attempts before the cut-over have no row; a dispute
//! makes a payment `disputed` whatever its outcome.
//!
//! A reservation or payment whose customer (or reservation) is not in the truth (soft-deleted)
//! gets a NULL link: the contract's foreign keys point at rows of the contract.
//! `sources` is approximate: the kinds of source that truly hold the row (backup when it
//! existed at the snapshot, stripe for card payments and Stripe-known customers/accounts,
//! email when the app mailed about it).

use super::world::{
    amount_refunded, payment_status, Flavour, Method, PayMethod, World, ERASED_NAME,
};
use crate::claims::{SourceKind, Value};
use crate::error::Result;
use crate::merge::{Recovered, Row};
use crate::util::time::format_utc;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn row(id: i64, values: Vec<(&str, Value)>, sources: BTreeSet<SourceKind>) -> Row {
    Row {
        id: id.to_string(),
        values: values
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        confidence: 1.0,
        sources: sources.into_iter().collect(),
        evidence: None,
        extras: Default::default(),
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// The contract rows of `world` at its incident time.
pub fn truth(world: &World) -> Recovered {
    if world.flavour == Flavour::Zenda {
        return super::zenda::truth(world);
    }
    let t = world.incident_at;
    let backup = world.backup_at;
    let mut rec = Recovered::default();
    let demo: BTreeSet<i64> = world
        .businesses
        .iter()
        .filter(|b| b.is_demo)
        .map(|b| b.id)
        .collect();
    // A merged duplicate's survivor (merged by the incident).
    let survivor: BTreeMap<i64, i64> = world
        .customers
        .iter()
        .filter_map(|c| match (c.merged_into, c.deleted_at) {
            (Some(m), Some(d)) if d <= t => Some((c.id, m)),
            _ => None,
        })
        .collect();
    let owner = |c: i64| survivor.get(&c).copied().unwrap_or(c);

    let live_customers: BTreeSet<i64> = world
        .customers
        .iter()
        .filter(|c| c.created_at <= t && c.deleted_at.is_none_or(|d| d > t))
        .filter(|c| !demo.contains(&c.business_id))
        .map(|c| c.id)
        .collect();
    let live_reservations: BTreeSet<i64> = world
        .reservations
        .iter()
        .filter(|r| r.created_at <= t && r.deleted_at.is_none_or(|d| d > t))
        .filter(|r| !demo.contains(&r.business_id))
        .map(|r| r.id)
        .collect();
    // Which customers and businesses the app mailed about (a reservation in force, with an
    // email address to send to).
    let mut mailed_customers = BTreeSet::new();
    let mut mailed_businesses = BTreeSet::new();
    let has_email: BTreeMap<i64, bool> = world
        .customers
        .iter()
        .map(|c| (c.id, c.email.is_some()))
        .collect();
    for r in &world.reservations {
        if r.created_at <= t && has_email.get(&r.customer_id).copied().unwrap_or(false) {
            mailed_customers.insert(owner(r.customer_id));
            mailed_businesses.insert(r.business_id);
        }
    }
    let mut card_customers = BTreeSet::new();
    let mut card_reservations = BTreeSet::new();
    for p in &world.payments {
        if p.method == Method::Card && p.created_at <= t {
            if let Some(c) = p.customer_id {
                card_customers.insert(c);
                card_customers.insert(owner(c));
            }
            if let Some(r) = p.reservation_id {
                card_reservations.insert(r);
            }
        }
    }

    for b in &world.businesses {
        if b.created_at > t || b.is_demo {
            continue;
        }
        let mut src = BTreeSet::new();
        if b.created_at <= backup {
            src.insert(SourceKind::Backup);
        }
        if b.stripe_account.is_some() {
            src.insert(SourceKind::Stripe);
        }
        if mailed_businesses.contains(&b.id) {
            src.insert(SourceKind::Email);
        }
        rec.businesses.push(row(
            b.id,
            vec![
                ("name", text(&b.name)),
                ("email", text(&b.email)),
                ("stripe_account", b.stripe_account.clone().into()),
            ],
            src,
        ));
    }

    for c in &world.customers {
        if !live_customers.contains(&c.id) {
            continue;
        }
        let mut src = BTreeSet::new();
        if c.created_at <= backup && c.deleted_at.is_none_or(|d| d > backup) {
            src.insert(SourceKind::Backup);
        }
        if c.stripe_customer.is_some() && card_customers.contains(&c.id) {
            src.insert(SourceKind::Stripe);
        }
        if mailed_customers.contains(&c.id) {
            src.insert(SourceKind::Email);
        }
        let erased = c.erased_at.is_some_and(|e| e <= t);
        let (name, email, phone) = if erased {
            (ERASED_NAME.to_string(), None, None)
        } else {
            (
                c.name.clone(),
                c.email.as_ref().map(|e| e.trim().to_lowercase()),
                c.phone.clone(),
            )
        };
        rec.customers.push(row(
            c.id,
            vec![
                ("business_id", text(c.business_id.to_string())),
                ("name", text(name)),
                ("email", email.into()),
                ("phone", phone.into()),
                ("stripe_customer", c.stripe_customer.clone().into()),
                ("created_at", text(format_utc(c.created_at))),
            ],
            src,
        ));
    }

    let currency: BTreeMap<i64, &str> = world
        .businesses
        .iter()
        .map(|b| (b.id, b.currency.as_str()))
        .collect();
    for r in &world.reservations {
        if !live_reservations.contains(&r.id) {
            continue;
        }
        let Some(v) = r.at(t) else { continue };
        // The row's last change (a slot that ended without anyone closing it changed nothing).
        let updated = if world.flavour == Flavour::Pedalry {
            super::pedalry::updated_at(r, t).unwrap_or(v.at)
        } else {
            r.row_at(t).map(|x| x.at).unwrap_or(v.at)
        };
        let mut src = BTreeSet::new();
        if r.created_at <= backup && r.deleted_at.is_none_or(|d| d > backup) {
            src.insert(SourceKind::Backup);
        }
        if card_reservations.contains(&r.id) {
            src.insert(SourceKind::Stripe);
        }
        if has_email.get(&r.customer_id).copied().unwrap_or(false) {
            src.insert(SourceKind::Email);
        }
        let customer_id: Value = if live_customers.contains(&owner(r.customer_id)) {
            text(owner(r.customer_id).to_string())
        } else {
            Value::Null
        };
        rec.reservations.push(row(
            r.id,
            vec![
                ("business_id", text(r.business_id.to_string())),
                ("customer_id", customer_id),
                ("reference", text(&r.reference)),
                ("service", text(&r.service)),
                ("starts_at", text(format_utc(v.starts_at))),
                ("ends_at", text(format_utc(v.ends_at))),
                ("party_size", Value::Int(v.party_size)),
                ("status", text(v.status.as_str())),
                ("amount", Value::Int(v.amount)),
                (
                    "currency",
                    text(currency.get(&r.business_id).copied().unwrap_or("")),
                ),
                ("created_at", text(format_utc(r.created_at))),
                ("updated_at", text(format_utc(updated))),
            ],
            src,
        ));
    }

    for p in &world.payments {
        if p.created_at > t || !p.has_row() || demo.contains(&p.business_id) {
            continue;
        }
        let mut src = BTreeSet::new();
        if p.created_at <= backup {
            src.insert(SourceKind::Backup);
        }
        if p.method == Method::Card {
            src.insert(SourceKind::Stripe);
            if p.receipt_number.is_some() {
                src.insert(SourceKind::Email);
            }
        }
        let customer_id: Value = p
            .customer_id
            .map(owner)
            .filter(|c| live_customers.contains(c))
            .map(|c| c.to_string())
            .into();
        let reservation_id: Value = p
            .reservation_id
            .filter(|r| live_reservations.contains(r))
            .map(|r| r.to_string())
            .into();
        let pedalry = world.flavour == Flavour::Pedalry;
        let (processor, processor_id) = match (&p.kelpie, p.method) {
            _ if pedalry && p.method == Method::Cash => ("cash", None),
            _ if pedalry && super::pedalry::stores_charge(p) => ("stripe", p.charge_id.clone()),
            _ if pedalry => ("stripe", p.payment_intent.clone()),
            (Some(k), _) => match k.method {
                PayMethod::CardForm => ("stripe", p.payment_intent.clone()),
                PayMethod::Checkout => ("stripe", k.checkout_session.clone()),
                _ => ("cash", None),
            },
            (None, Method::Card) => ("stripe", p.charge_id.clone()),
            (None, Method::Cash) => ("cash", None),
        };
        rec.payments.push(row(
            p.id,
            vec![
                ("business_id", text(p.business_id.to_string())),
                ("customer_id", customer_id),
                ("reservation_id", reservation_id),
                ("processor", text(processor)),
                ("processor_id", processor_id.into()),
                ("amount", Value::Int(p.amount)),
                ("amount_refunded", Value::Int(amount_refunded(p, t))),
                ("currency", text(&p.currency)),
                (
                    "status",
                    text(if pedalry {
                        super::pedalry::contract_pay_status(p, t)
                    } else {
                        payment_status(p, t)
                    }),
                ),
                ("created_at", text(format_utc(p.created_at))),
            ],
            src,
        ));
    }
    rec.run_info
        .insert("incident_at".into(), format_utc(world.incident_at));
    rec.run_info.insert(
        "generator".into(),
        format!(
            "salvage samples {} seed {}",
            world.flavour.name(),
            world.seed
        ),
    );
    rec
}

/// Counts of truth rows by reservation status (for summaries and tests).
pub fn reservation_status_counts(rec: &Recovered) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in &rec.reservations {
        if let Some(s) = r.text("status") {
            *m.entry(s.to_string()).or_insert(0) += 1;
        }
    }
    m
}

/// Writes the truth of `world` to `path` in the contract schema, with its aliases.
pub fn write_truth(world: &World, path: &Path) -> Result<()> {
    let rec = truth(world);
    crate::export::sqlite::write(&rec, path)?;
    write_aliases(world, path)
}

/// Adds table `customer_aliases (customer_id, kind, value)` to the truth file at `path`: the
/// other emails (`kind = 'email'`, lowercased) and Stripe customer ids (`'stripe_customer'`)
/// under which the sources show a truth customer (the habits of [`super::habits`], Stripe
/// duplicates). Not part of the contract: it says which records are which customer, so an
/// evaluation can count a row found under an alias as a duplicate of that customer.
pub fn write_aliases(world: &World, path: &Path) -> Result<()> {
    let t = world.incident_at;
    let live: BTreeSet<i64> = world
        .customers
        .iter()
        .filter(|c| c.created_at <= t && c.deleted_at.is_none_or(|d| d > t))
        .filter(|c| c.erased_at.is_none_or(|e| e > t))
        .map(|c| c.id)
        .collect();
    let err = |e: rusqlite::Error| crate::error::Error::Write {
        path: path.to_path_buf(),
        cause: std::io::Error::other(e),
    };
    let mut conn = rusqlite::Connection::open(path).map_err(err)?;
    let tx = conn.transaction().map_err(err)?;
    tx.execute_batch(
        "CREATE TABLE customer_aliases (customer_id TEXT NOT NULL, kind TEXT NOT NULL, \
         value TEXT NOT NULL);",
    )
    .map_err(err)?;
    {
        let mut ins = tx
            .prepare("INSERT INTO customer_aliases (customer_id, kind, value) VALUES (?1, ?2, ?3)")
            .map_err(err)?;
        let aliases = if world.flavour == Flavour::Zenda {
            super::zenda::aliases(world)
        } else {
            super::habits::aliases(world)
        };
        let zenda = world.flavour == Flavour::Zenda;
        for (id, list) in aliases {
            // Zenda's aliases name only its truth customers already.
            if !zenda && !live.contains(&id) {
                continue;
            }
            for (kind, value) in list {
                ins.execute(rusqlite::params![id.to_string(), kind, value])
                    .map_err(err)?;
            }
        }
    }
    tx.commit().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::simulate::simulate;
    use crate::samples::world::Flavour;

    #[test]
    fn truth_counts_are_sane() {
        let w = simulate(30, 5, Flavour::Bookly);
        let rec = truth(&w);
        assert_eq!(rec.businesses.len(), 30);
        let deleted_customers = w
            .customers
            .iter()
            .filter(|c| c.deleted_at.is_some())
            .count();
        assert_eq!(rec.customers.len(), w.customers.len() - deleted_customers);
        assert!(rec.reservations.len() >= w.reservations.len() * 95 / 100);
        assert!(rec.reservations.len() < w.reservations.len());
        assert_eq!(rec.payments.len(), w.payments.len());
        // Ids are app ids as text, unique.
        let ids: BTreeSet<&str> = rec.reservations.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), rec.reservations.len());
        // Links point at rows of the truth.
        let custs: BTreeSet<&str> = rec.customers.iter().map(|r| r.id.as_str()).collect();
        for r in rec.reservations.iter().chain(&rec.payments) {
            if let Some(c) = r.text("customer_id") {
                assert!(custs.contains(c), "dangling customer {c}");
            }
            assert_eq!(r.confidence, 1.0);
        }
        // Only a few rows are known to no source at all (walk-ins paying cash after the backup).
        let unknown = rec
            .reservations
            .iter()
            .filter(|r| r.sources.is_empty())
            .count();
        assert!(unknown < rec.reservations.len() / 10, "{unknown}");
        let res: BTreeSet<&str> = ids;
        for p in &rec.payments {
            if let Some(r) = p.text("reservation_id") {
                assert!(res.contains(r));
            }
        }
    }

    #[test]
    fn statuses_at_the_incident() {
        let w = simulate(40, 9, Flavour::Tablehop);
        let rec = truth(&w);
        let t = crate::util::time::format_utc(w.incident_at);
        let counts = reservation_status_counts(&rec);
        for s in ["pending", "confirmed", "cancelled", "completed"] {
            assert!(counts.get(s).copied().unwrap_or(0) > 0, "{s}: {counts:?}");
        }
        for r in &rec.reservations {
            let st = r.text("status").unwrap();
            let starts = r.text("starts_at").unwrap();
            let updated = r.text("updated_at").unwrap();
            assert!(updated <= t.as_str());
            // Completed and no-show only for slots that started before the incident;
            // future slots are still open.
            if st == "completed" || st == "no_show" {
                assert!(starts < t.as_str(), "{r:?}");
            }
            if starts > t.as_str() {
                assert!(matches!(st, "pending" | "confirmed" | "cancelled"), "{r:?}");
            }
        }
        let pst: BTreeSet<&str> = rec
            .payments
            .iter()
            .filter_map(|p| p.text("status"))
            .collect();
        assert!(
            pst.contains("succeeded") && pst.contains("refunded"),
            "{pst:?}"
        );
        for p in &rec.payments {
            let amount = p.get("amount").and_then(|v| v.as_int()).unwrap();
            let refunded = p.get("amount_refunded").and_then(|v| v.as_int()).unwrap();
            match p.text("status").unwrap() {
                "refunded" => assert_eq!(refunded, amount),
                "partially_refunded" => assert!(refunded > 0 && refunded < amount),
                "succeeded" | "failed" => assert_eq!(refunded, 0),
                _ => {}
            }
            let is_card = p.text("processor") == Some("stripe");
            assert_eq!(
                is_card,
                p.text("processor_id").is_some_and(|x| x.starts_with("ch_"))
            );
        }
    }

    #[test]
    fn writes_a_contract_file() {
        let dir = tempfile::tempdir().unwrap();
        let w = simulate(3, 1, Flavour::Bookly);
        let dest = dir.path().join("truth.sqlite");
        match write_truth(&w, &dest) {
            Ok(()) => {
                let c = rusqlite::Connection::open(&dest).unwrap();
                let n: i64 = c
                    .query_row("SELECT count(*) FROM reservations", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(n as usize, truth(&w).reservations.len());
            }
            Err(e) => panic!("{e}"),
        }
    }
}
