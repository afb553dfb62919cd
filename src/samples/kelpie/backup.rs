//! Kelpie's PostgreSQL schema (docs/trials/brief.md) with the world as it stood at the
//! pg_dump of 2026-01-24 03:00 UTC: display names as they were then, divers' emails and
//! phones as typed, merge notes before the `merged_into_id` column existed, bookings in the
//! app's status words with naive local times, payments in major units with upper-case
//! currencies, only the refunds the app heard of.

use super::super::backup::{
    col, major, pick_note, s, ts_local, ts_utc, typed_email, typed_phone, Schema, Table,
};
use super::merge_column_since;
use crate::samples::world::{
    amount_refunded, AppStatus, Business, Customer, PayMethod, Payment, World, ERASED_NAME,
};
use crate::util::time::Timestamp;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};

const MIGRATIONS: &[&str] = &[
    "20190402101500",
    "20200611083000",
    "20210118120000",
    "20210802091500",
    "20220901070000",
    "20230314140000",
    "20240515093000",
];

/// The app's status word of a payment at `t`.
pub(crate) fn pay_status(p: &Payment, t: Timestamp) -> &'static str {
    if let Some(d) = p.dispute.as_ref().filter(|d| d.at <= t) {
        return match d.closed {
            Some((at, true)) if at <= t => "chargeback_won",
            Some((at, false)) if at <= t => "chargeback_lost",
            _ => "chargeback",
        };
    }
    let r = amount_refunded(p, t);
    if r >= p.amount && p.amount > 0 {
        "refunded"
    } else if r > 0 {
        "part_refunded"
    } else {
        "captured"
    }
}

/// The diver's email as typed: capitals and trailing spaces now and then.
fn typed(rng: &mut ChaCha8Rng, e: &str) -> String {
    let x: f64 = rng.gen();
    if x < 0.03 {
        format!("{e} ")
    } else if x < 0.05 {
        format!("{}  ", typed_email(rng, e))
    } else {
        typed_email(rng, e)
    }
}

/// A phone as typed by a diver from `home` at a shop: the national form when both are in
/// the same country, else the international one with spaces or a `00` prefix.
fn typed_phone_at(rng: &mut ChaCha8Rng, e164: &str, home: &str, shop_country: &str) -> String {
    if home == shop_country {
        return typed_phone(rng, e164, home);
    }
    let x: f64 = rng.gen();
    if x < 0.18 {
        let d = &e164[1..];
        let cut = match d.as_bytes().first() {
            Some(b'1') | Some(b'7') => 1,
            _ => 2,
        };
        format!("+{} {}", &d[..cut], &d[cut..])
    } else if x < 0.30 {
        format!("00{}", &e164[1..])
    } else {
        e164.to_string()
    }
}

const CERTS: &[&str] = &[
    "PADI OW",
    "PADI AOW",
    "SSI Open Water",
    "CMAS **",
    "PADI Rescue",
    "Divemaster",
    "none",
];

pub(crate) fn schema(w: &World, rng: &mut ChaCha8Rng) -> Schema {
    let t = w.backup_at;
    let at = |d: Option<Timestamp>| d.filter(|d| *d <= t);
    let biz: BTreeMap<i64, &Business> = w
        .businesses
        .iter()
        .filter(|b| b.created_at <= t)
        .map(|b| (b.id, b))
        .collect();
    let cust: HashMap<i64, &Customer> = w.customers.iter().map(|c| (c.id, c)).collect();
    // The survivor a booking points at once its diver was merged.
    let survivor = |id: i64| -> i64 {
        match cust.get(&id) {
            Some(c) if c.merged_into.is_some() && at(c.deleted_at).is_some() => {
                c.merged_into.unwrap_or(id)
            }
            _ => id,
        }
    };
    // When the app stored each diver's cus_: their first card-form payment.
    let mut cus_since: HashMap<i64, Timestamp> = HashMap::new();
    for p in &w.payments {
        if let (Some(k), Some(c)) = (&p.kelpie, p.customer_id) {
            if k.method == PayMethod::CardForm && k.dashboard.is_none() {
                let e = cus_since.entry(c).or_insert(k.started_at);
                *e = (*e).min(k.started_at);
            }
        }
    }

    let mut b_rows = Vec::new();
    for b in biz.values() {
        let status = if at(b.cancelled_at).is_some() {
            "cancelled"
        } else if b.app_status == "cancelled" || (b.app_status == "trial" && !b.is_demo) {
            if t - b.created_at < chrono::Duration::days(30) {
                "trial"
            } else {
                "active"
            }
        } else {
            b.app_status.as_str()
        };
        b_rows.push(vec![
            s(b.id),
            s(&b.slug),
            s(b.name_at(t)),
            s(&b.email),
            s(&b.timezone),
            s(b.currency.to_uppercase()),
            s(&b.locale),
            b.account_at(t).map(str::to_string),
            s(status),
            s(if b.is_demo { "t" } else { "f" }),
            at(b.cancelled_at).map(ts_utc),
            at(b.deleted_at).map(ts_utc),
            s(ts_utc(b.created_at)),
        ]);
    }

    let mut c_rows = Vec::new();
    let mut cs: Vec<&Customer> = w
        .customers
        .iter()
        .filter(|c| c.created_at <= t && biz.contains_key(&c.business_id))
        .collect();
    cs.sort_by_key(|c| c.id);
    for c in cs {
        let b = biz[&c.business_id];
        let erased = at(c.erased_at).is_some();
        let email = c
            .email
            .as_deref()
            .filter(|_| !erased)
            .map(|e| typed(rng, e));
        let phone = c
            .phone
            .as_deref()
            .filter(|_| !erased)
            .map(|p| typed_phone_at(rng, p, &c.home_country, &b.country));
        let merged = c.merged_into.filter(|_| at(c.deleted_at).is_some());
        let (merged_col, note) = match (merged, c.deleted_at) {
            (Some(m), Some(d)) if d < merge_column_since() => {
                (None, Some(format!("merged into #{m}")))
            }
            (Some(m), _) => (
                Some(m.to_string()),
                pick_note(rng).filter(|n| !n.is_empty()),
            ),
            _ => (None, pick_note(rng).filter(|n| !n.is_empty())),
        };
        let cert = rng
            .gen_bool(0.7)
            .then(|| CERTS[rng.gen_range(0..CERTS.len())].to_string());
        c_rows.push(vec![
            s(c.id),
            s(c.business_id),
            Some(if erased {
                ERASED_NAME.to_string()
            } else {
                c.name.clone()
            }),
            email,
            phone,
            c.stripe_customer
                .clone()
                .filter(|_| cus_since.get(&c.id).is_some_and(|s| *s <= t)),
            cert,
            note,
            merged_col,
            at(c.deleted_at).map(ts_utc),
            s(ts_utc(c.created_at)),
        ]);
    }

    let svc_rows: Vec<_> = w
        .services
        .iter()
        .filter(|v| biz.contains_key(&v.business_id))
        .map(|v| {
            let cur = &biz[&v.business_id].currency;
            vec![
                s(v.id),
                s(v.business_id),
                s(&v.name),
                s(v.duration_min),
                s(major(v.price, cur)),
                at(v.archived_at).map(ts_utc),
            ]
        })
        .collect();

    let mut r_rows = Vec::new();
    let mut rs: Vec<_> = w
        .reservations
        .iter()
        .filter(|r| r.created_at <= t && biz.contains_key(&r.business_id))
        .collect();
    rs.sort_by_key(|r| r.id);
    for r in rs {
        let Some(v) = r.row_at(t) else { continue };
        let b = biz[&r.business_id];
        let z = &b.timezone;
        let app = v.app_status.unwrap_or(AppStatus::Booked);
        let cancelled_at = r
            .versions
            .iter()
            .filter(|x| x.at <= t)
            .find(|x| x.status == crate::samples::world::ReservationStatus::Cancelled)
            .map(|x| x.at);
        r_rows.push(vec![
            s(r.id),
            s(r.business_id),
            s(survivor(r.customer_id)),
            s(&r.reference),
            r.service_id.map(|x| x.to_string()),
            s(&r.service),
            s(ts_local(v.starts_at, z)),
            s(ts_local(v.ends_at, z)),
            s(v.party_size),
            s(app.as_str()),
            s(major(v.amount, &b.currency)),
            s(b.currency.to_uppercase()),
            s(ts_utc(r.created_at)),
            s(ts_utc(v.at)),
            cancelled_at.map(ts_utc),
            at(r.deleted_at).map(ts_utc),
        ]);
    }

    let mut p_rows = Vec::new();
    let mut ps: Vec<&Payment> = w
        .payments
        .iter()
        .filter(|p| p.has_row() && p.created_at <= t && biz.contains_key(&p.business_id))
        .collect();
    ps.sort_by_key(|p| p.id);
    // Refund rows: every refund the app heard of, serial in time order.
    let mut refunds: Vec<(Timestamp, i64, &str, i64, bool)> = Vec::new();
    for p in &w.payments {
        if !p.has_row() {
            continue;
        }
        for r in p.refunds.iter().filter(|r| !r.not_in_app) {
            refunds.push((r.at, p.id, r.id.as_str(), r.amount, r.by_dashboard));
        }
    }
    refunds.sort();
    for p in ps {
        let Some(k) = &p.kelpie else { continue };
        let cur = &p.currency;
        let card = matches!(k.method, PayMethod::CardForm | PayMethod::Checkout);
        p_rows.push(vec![
            s(p.id),
            s(p.business_id),
            p.reservation_id.map(|x| x.to_string()),
            p.customer_id.map(|x| x.to_string()),
            s(k.method.as_str()),
            s(&k.kind),
            p.payment_intent
                .clone()
                .filter(|_| k.method == PayMethod::CardForm),
            k.checkout_session
                .clone()
                .filter(|_| k.method == PayMethod::Checkout),
            s(major(p.amount, cur)),
            s(major(amount_refunded(p, t), cur)),
            s(cur.to_uppercase()),
            s(pay_status(p, t)),
            p.receipt_number
                .clone()
                .filter(|_| card && !k.receipt_pending),
            k.card_brand.clone().filter(|_| card),
            p.card_last4.clone().filter(|_| card),
            s(ts_utc(p.created_at)),
            s(ts_utc(p.created_at)),
        ]);
    }
    let of: HashMap<i64, (&str, i64)> = w
        .payments
        .iter()
        .map(|p| (p.id, (p.currency.as_str(), p.business_id)))
        .collect();
    let cur_of: HashMap<i64, &str> = of.iter().map(|(k, v)| (*k, v.0)).collect();
    let ref_rows: Vec<_> = refunds
        .iter()
        .enumerate()
        .filter(|(_, r)| r.0 <= t && of.get(&r.1).is_some_and(|x| biz.contains_key(&x.1)))
        .map(|(i, (at, pid, re, amount, dash))| {
            vec![
                s(i + 1),
                s(pid),
                s(re),
                s(major(*amount, cur_of.get(pid).copied().unwrap_or("eur"))),
                if *dash {
                    None
                } else {
                    s("requested_by_customer")
                },
                s(ts_utc(*at)),
            ]
        })
        .collect();

    Schema {
        owner: "kelpie",
        enums: vec![
            (
                "business_status",
                vec!["trial", "active", "past_due", "cancelled"],
            ),
            (
                "booking_status",
                vec![
                    "held",
                    "waitlist",
                    "booked",
                    "checked_in",
                    "done",
                    "no_show",
                    "cancelled_diver",
                    "cancelled_shop",
                    "cancelled_weather",
                ],
            ),
            (
                "payment_status",
                vec![
                    "captured",
                    "part_refunded",
                    "refunded",
                    "chargeback",
                    "chargeback_won",
                    "chargeback_lost",
                ],
            ),
            (
                "payment_method",
                vec!["card_form", "checkout", "cash", "bank_transfer", "voucher"],
            ),
            ("payment_kind", vec!["full", "deposit", "balance", "extra"]),
        ],
        tables: vec![
            Table {
                name: "businesses",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("slug", "text NOT NULL"),
                    col("display_name", "text NOT NULL"),
                    col("contact_email", "text"),
                    col("timezone", "text NOT NULL"),
                    col("currency", "character(3) NOT NULL"),
                    col("locale", "text DEFAULT 'en'::text NOT NULL"),
                    col("stripe_account_id", "text"),
                    col("status", "public.business_status NOT NULL"),
                    col("is_demo", "boolean DEFAULT false NOT NULL"),
                    col("cancelled_at", "timestamp with time zone"),
                    col("deleted_at", "timestamp with time zone"),
                    col("created_at", "timestamp with time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some(""),
                pkey: "id",
                uniques: vec![("businesses_slug_key", "slug")],
                indexes: vec![],
                fks: vec![],
                rows: b_rows,
            },
            Table {
                name: "customers",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("business_id", "bigint NOT NULL"),
                    col("full_name", "text"),
                    col("email", "text"),
                    col("phone", "text"),
                    col("stripe_customer_id", "text"),
                    col("cert_level", "text"),
                    col("notes", "text"),
                    col("merged_into_id", "bigint"),
                    col("deleted_at", "timestamp with time zone"),
                    col("created_at", "timestamp with time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some(""),
                pkey: "id",
                uniques: vec![],
                indexes: vec![("customers_business_id_idx", "(business_id)")],
                fks: vec![
                    ("customers_business_id_fkey", "business_id", "businesses"),
                    (
                        "customers_merged_into_id_fkey",
                        "merged_into_id",
                        "customers",
                    ),
                ],
                rows: c_rows,
            },
            Table {
                name: "services",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("business_id", "bigint NOT NULL"),
                    col("name", "text NOT NULL"),
                    col("duration_min", "integer"),
                    col("price", "numeric(12,2)"),
                    col("archived_at", "timestamp with time zone"),
                ],
                checks: vec![],
                serial: Some(""),
                pkey: "id",
                uniques: vec![],
                indexes: vec![],
                fks: vec![("services_business_id_fkey", "business_id", "businesses")],
                rows: svc_rows,
            },
            Table {
                name: "bookings",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("business_id", "bigint NOT NULL"),
                    col("customer_id", "bigint"),
                    col("code", "text NOT NULL"),
                    col("service_id", "bigint"),
                    col("service_name", "text NOT NULL"),
                    col("starts_at", "timestamp without time zone NOT NULL"),
                    col("ends_at", "timestamp without time zone"),
                    col("divers", "smallint DEFAULT 1 NOT NULL"),
                    col("status", "public.booking_status NOT NULL"),
                    col("total_price", "numeric(12,2) NOT NULL"),
                    col("currency", "character(3) NOT NULL"),
                    col("created_at", "timestamp with time zone NOT NULL"),
                    col("updated_at", "timestamp with time zone NOT NULL"),
                    col("cancelled_at", "timestamp with time zone"),
                    col("deleted_at", "timestamp with time zone"),
                ],
                checks: vec![],
                serial: Some(""),
                pkey: "id",
                uniques: vec![("bookings_code_key", "code")],
                indexes: vec![(
                    "bookings_business_id_starts_at_idx",
                    "(business_id, starts_at)",
                )],
                fks: vec![
                    ("bookings_business_id_fkey", "business_id", "businesses"),
                    ("bookings_customer_id_fkey", "customer_id", "customers"),
                    ("bookings_service_id_fkey", "service_id", "services"),
                ],
                rows: r_rows,
            },
            Table {
                name: "payments",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("business_id", "bigint NOT NULL"),
                    col("booking_id", "bigint"),
                    col("customer_id", "bigint"),
                    col("method", "public.payment_method NOT NULL"),
                    col("kind", "public.payment_kind NOT NULL"),
                    col("stripe_payment_intent_id", "text"),
                    col("stripe_checkout_session_id", "text"),
                    col("amount", "numeric(12,2) NOT NULL"),
                    col("amount_refunded", "numeric(12,2) DEFAULT 0 NOT NULL"),
                    col("currency", "character(3) NOT NULL"),
                    col("status", "public.payment_status NOT NULL"),
                    col("receipt_number", "text"),
                    col("card_brand", "text"),
                    col("card_last4", "character(4)"),
                    col("paid_at", "timestamp with time zone"),
                    col("created_at", "timestamp with time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some(""),
                pkey: "id",
                uniques: vec![],
                indexes: vec![("payments_booking_id_idx", "(booking_id)")],
                fks: vec![
                    ("payments_booking_id_fkey", "booking_id", "bookings"),
                    ("payments_business_id_fkey", "business_id", "businesses"),
                    ("payments_customer_id_fkey", "customer_id", "customers"),
                ],
                rows: p_rows,
            },
            Table {
                name: "refunds",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("payment_id", "bigint NOT NULL"),
                    col("stripe_refund_id", "text"),
                    col("amount", "numeric(12,2) NOT NULL"),
                    col("reason", "text"),
                    col("created_at", "timestamp with time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some(""),
                pkey: "id",
                uniques: vec![],
                indexes: vec![],
                fks: vec![("refunds_payment_id_fkey", "payment_id", "payments")],
                rows: ref_rows,
            },
            Table {
                name: "schema_migrations",
                columns: vec![col("version", "character varying(255) NOT NULL")],
                checks: vec![],
                serial: None,
                pkey: "version",
                uniques: vec![],
                indexes: vec![],
                fks: vec![],
                rows: MIGRATIONS.iter().map(|m| vec![s(m)]).collect(),
            },
        ],
    }
}
