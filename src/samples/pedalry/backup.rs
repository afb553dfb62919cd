//! Pedalry's PostgreSQL schema (docs/trials/brief-2.md) with the world as it stood at the
//! pg_dump of 2025-03-12 03:00 UTC: naive UTC timestamps, money in minor units, display
//! names as they were then, emails and phones as typed, `currency IS NULL` on rows created
//! before 2023-07-01, `stripe_ref` = `ch_` before the 2024-03-01 cut-over and `pi_` after,
//! declined rows only after the cut-over, sandboxes with their (test) rows.

use super::super::backup::{col, s, Schema, Table};
use super::{
    charge_at, currency_since, pay_state, state_word, stores_charge, typed_email, typed_phone,
};
use crate::samples::world::{amount_refunded, Business, Method, World};
use crate::util::time::Timestamp;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};

/// `timestamp without time zone` holding UTC.
fn naive(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn schema(w: &World, _rng: &mut ChaCha8Rng) -> Schema {
    let t = w.backup_at;
    let seed = w.seed;
    let biz: BTreeMap<i64, &Business> = w
        .businesses
        .iter()
        .filter(|b| b.created_at <= t)
        .map(|b| (b.id, b))
        .collect();
    // When the app stored each rider's cus_: their first card payment's intent.
    let mut cus_since: HashMap<i64, Timestamp> = HashMap::new();
    for p in &w.payments {
        if let (Some(k), Some(c)) = (&p.kelpie, p.customer_id) {
            if p.method == Method::Card {
                let e = cus_since.entry(c).or_insert(k.started_at);
                *e = (*e).min(k.started_at);
            }
        }
    }
    let mut b_rows = Vec::new();
    for b in biz.values() {
        let archived = b.cancelled_at.filter(|a| *a <= t);
        b_rows.push(vec![
            s(b.id),
            s(&b.slug),
            s(b.name_at(t)),
            s(&b.email),
            b.stripe_account.clone(),
            s(&b.currency),
            s(&b.timezone),
            s(if archived.is_some() { "t" } else { "f" }),
            archived.map(naive),
            s(if b.is_demo { "t" } else { "f" }),
            s(naive(b.created_at)),
        ]);
    }
    let mut c_rows = Vec::new();
    for c in w
        .customers
        .iter()
        .filter(|c| c.created_at <= t && biz.contains_key(&c.business_id))
    {
        let b = biz[&c.business_id];
        let cus = c
            .stripe_customer
            .clone()
            .filter(|_| cus_since.get(&c.id).is_some_and(|s| *s <= t));
        let deleted = c.deleted_at.filter(|d| *d <= t);
        let updated = [
            Some(c.created_at),
            deleted,
            cus_since
                .get(&c.id)
                .copied()
                .filter(|s| *s <= t && cus.is_some()),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(c.created_at);
        c_rows.push(vec![
            s(c.id),
            s(c.business_id),
            s(&c.name),
            Some(typed_email(seed, c).unwrap_or_default()),
            typed_phone(seed, c, &b.country),
            cus,
            s(if deleted.is_some() { "t" } else { "f" }),
            s(naive(c.created_at)),
            s(naive(updated)),
        ]);
    }
    let legacy_cur =
        |at: Timestamp, b: &Business| (at >= currency_since()).then(|| b.currency.clone());
    let mut r_rows = Vec::new();
    for r in w
        .reservations
        .iter()
        .filter(|r| r.created_at <= t && biz.contains_key(&r.business_id))
    {
        let Some(v) = r.at(t) else { continue };
        let b = biz[&r.business_id];
        let updated = super::updated_at(r, t).unwrap_or(v.at);
        r_rows.push(vec![
            s(r.id),
            s(r.business_id),
            s(r.customer_id),
            s(&r.reference),
            s(&r.service),
            s(v.party_size),
            s(naive(v.starts_at)),
            s(naive(v.ends_at)),
            s(state_word(v.app_status)),
            s(v.amount),
            legacy_cur(r.created_at, b),
            s(naive(r.created_at)),
            s(naive(updated)),
        ]);
    }
    let mut p_rows = Vec::new();
    let mut ps: Vec<_> = w
        .payments
        .iter()
        .filter(|p| p.has_row() && p.created_at <= t && biz.contains_key(&p.business_id))
        .collect();
    ps.sort_by_key(|p| p.id);
    for p in ps {
        let b = biz[&p.business_id];
        let card = p.method == Method::Card;
        let state = pay_state(p, t);
        let stripe_ref = if !card {
            None
        } else if stores_charge(p) {
            p.charge_id.clone()
        } else {
            p.payment_intent.clone()
        };
        let paid_at = match &p.kelpie {
            Some(k) if card => Some(charge_at(k)).filter(|a| *a <= t && !p.failed),
            _ => Some(p.created_at),
        };
        let last4 = if card {
            match (&p.kelpie, p.failed) {
                (Some(k), true) => k.attempts.last().map(|a| a.last4.clone()),
                _ => p.card_last4.clone(),
            }
        } else {
            None
        };
        p_rows.push(vec![
            s(p.id),
            s(p.business_id),
            p.reservation_id.map(|x| x.to_string()),
            p.customer_id.map(|x| x.to_string()),
            s(if card { "card" } else { "cash" }),
            stripe_ref,
            s(p.amount),
            s(amount_refunded(p, t)),
            legacy_cur(p.created_at, b),
            s(state),
            last4,
            paid_at.map(naive),
            s(naive(p.created_at)),
        ]);
    }
    Schema {
        owner: "pedalry",
        enums: vec![],
        tables: vec![
            Table {
                name: "businesses",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("slug", "text NOT NULL"),
                    col("display_name", "text NOT NULL"),
                    col("contact_email", "text NOT NULL"),
                    col("stripe_account", "text"),
                    col("default_currency", "character(3) NOT NULL"),
                    col("timezone", "text NOT NULL"),
                    col("archived", "boolean DEFAULT false NOT NULL"),
                    col("archived_at", "timestamp without time zone"),
                    col("is_sandbox", "boolean DEFAULT false NOT NULL"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![("businesses_slug_key", "slug")],
                indexes: vec![],
                fks: vec![],
                rows: b_rows,
            },
            Table {
                name: "customers",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("business_id", "integer NOT NULL"),
                    col("full_name", "text NOT NULL"),
                    col("email", "text NOT NULL"),
                    col("phone", "text"),
                    col("stripe_customer", "text"),
                    col("deleted", "boolean DEFAULT false NOT NULL"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                    col("updated_at", "timestamp without time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![],
                indexes: vec![],
                fks: vec![("customers_business_id_fkey", "business_id", "businesses")],
                rows: c_rows,
            },
            Table {
                name: "bookings",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("business_id", "integer NOT NULL"),
                    col("customer_id", "integer NOT NULL"),
                    col("code", "character(9) NOT NULL"),
                    col("bike_model", "text NOT NULL"),
                    col("bikes", "smallint DEFAULT 1 NOT NULL"),
                    col("pickup_at", "timestamp without time zone NOT NULL"),
                    col("return_at", "timestamp without time zone NOT NULL"),
                    col("state", "text NOT NULL"),
                    col("price_cents", "integer NOT NULL"),
                    col("currency", "character(3)"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                    col("updated_at", "timestamp without time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![("bookings_code_key", "code")],
                indexes: vec![],
                fks: vec![
                    ("bookings_business_id_fkey", "business_id", "businesses"),
                    ("bookings_customer_id_fkey", "customer_id", "customers"),
                ],
                rows: r_rows,
            },
            Table {
                name: "payments",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("business_id", "integer NOT NULL"),
                    col("booking_id", "integer NOT NULL"),
                    col("customer_id", "integer NOT NULL"),
                    col("method", "text DEFAULT 'card'::text NOT NULL"),
                    col("stripe_ref", "text"),
                    col("amount_cents", "integer NOT NULL"),
                    col("refunded_cents", "integer DEFAULT 0 NOT NULL"),
                    col("currency", "character(3)"),
                    col("state", "text NOT NULL"),
                    col("card_last4", "character(4)"),
                    col("paid_at", "timestamp without time zone"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![],
                indexes: vec![],
                fks: vec![
                    ("payments_booking_id_fkey", "booking_id", "bookings"),
                    ("payments_business_id_fkey", "business_id", "businesses"),
                    ("payments_customer_id_fkey", "customer_id", "customers"),
                ],
                rows: p_rows,
            },
        ],
    }
}
