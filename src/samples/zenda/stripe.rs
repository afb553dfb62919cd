//! Zenda's Stripe wreckage: everything lives on Zenda's own platform account
//! (`api/platform/<resource>/page-NNNN.json`, no `acct_` in the path), live mode only:
//!
//! * `accounts`: one Connect **Custom** account per studio (`business_profile.name` = the
//!   legal name; a studio that changed legal entity has its old account too), the two
//!   studios onboarded after the backup included; no metadata;
//! * Era L (to 2023-05-08 10:00 UTC): `ch_` charges from a token, no intent, no customer,
//!   `receipt_email`, metadata `studio`/`member`/`spot` (`member` missing on ~5 %),
//!   descriptions `Vinyasa Flow 14.04.2022 18:30 – Studio Mantra`; declined tokens left
//!   failed charges the app never stored;
//! * Era C: `checkout_sessions` (`client_reference_id` = purchase uuid, metadata
//!   `zenda_studio_id`/`zenda_member_id`/`zenda_purchase_id`/`zenda_spot_id`), their intents
//!   (description = the label, `on_behalf_of`, `transfer_group`; metadata `{}` in C1, the
//!   four keys from 2024-06-18 12:00 in C2) and charges (metadata `{}`), declines retried on
//!   the same intent; the member-id bug window (2025-03-03 → 03-20: the person's id) and
//!   the empty spot-id window (2025-12-01 → 12-12);
//! * memberships: `subscriptions` (the three keys), `invoices` (numbered per person, basil
//!   shape: the subscription and its metadata under `parent.subscription_details`,
//!   `metadata` `{}`), `invoice_payments` linking invoices to intents (`Subscription
//!   creation` / `Subscription update`), destination charges with a 4 % application fee,
//!   Smart Retries on one intent;
//! * Terminal (`card_present`, `POS: <label>`, `zenda_pos`) and off-session fee intents
//!   (`zenda_fee_for_spot`);
//! * `customers`: one per person (from 2022-01-10 for memberships, 2023-05-08 for every
//!   online buyer), `metadata.zenda_person_id`, the address re-synced only from 2024-01-15;
//!   erased ones as `{"deleted": true}`;
//! * `refunds` (admin and Dashboard), `disputes`, and the nightly `transfers` (one per
//!   studio and local day of its `transfer_group`, net of refunds and disputes);
//! * ~30 refunded live QA charges on internal tenants;
//! * Finance's monthly Dashboard exports `exports/platform/<YYYY-MM>/unified_payments.csv`
//!   (2024-01 … 2026-01, all columns, no `Decline Reason` before 2024-07, the six `zenda_*
//!   (metadata)` columns from the intents) as of the 3rd of the next month, and one
//!   `exports/platform/2025-06-02/unified_customers.csv`.

use super::*;
use crate::error::Result;
use crate::import::stripe::layout;
use crate::samples::stripe::{major, newest_first, unix, write_err, write_pages};
use chrono::Datelike;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::path::Path;

const SALT: u64 = 0x7a65_6e64_6153_5452;
/// The directory of the platform's own objects.
pub const PLATFORM_DIR: &str = "platform";

fn alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    crate::samples::stripe::alnum(rng, n)
}

/// `studio-42-2025-04-12`: the studio and the local day the payment was created.
pub fn transfer_group(s: &Studio, at: Timestamp) -> String {
    format!(
        "studio-{}-{}",
        s.id,
        at.with_timezone(&s.tz()).format("%Y-%m-%d")
    )
}

fn brand_name(b: &str) -> &'static str {
    match b {
        "mastercard" => "MasterCard",
        "amex" => "American Express",
        _ => "Visa",
    }
}

/// A charge as the renderer needs it, whatever produced it.
struct Ch {
    id: String,
    created: Timestamp,
    amount: i64,
    currency: String,
    /// `None`: succeeded; else the decline code.
    decline: Option<String>,
    brand: String,
    last4: String,
    present: bool,
    customer: Option<String>,
    email: Option<String>,
    name: Option<String>,
    description: Option<String>,
    metadata: Map<String, Value>,
    /// The intent and its metadata (the export's metadata columns).
    intent: Option<String>,
    intent_md: Map<String, Value>,
    checkout: Option<String>,
    client_reference: Option<String>,
    invoice: Option<(String, String)>,
    transfer_group: Option<String>,
    on_behalf_of: Option<String>,
    /// Destination charges (memberships): the account and the application fee.
    destination: Option<String>,
    app_fee: Option<i64>,
    legacy: bool,
    receipt_email: Option<String>,
    refunds: Vec<(String, Timestamp, i64, bool)>,
    dispute: Option<Dispute>,
    studio_id: i64,
}

impl Ch {
    fn refunded_at(&self, t: Timestamp) -> i64 {
        self.refunds.iter().filter(|r| r.1 <= t).map(|r| r.2).sum()
    }
    fn ok(&self) -> bool {
        self.decline.is_none()
    }
}

struct Out {
    charges: Vec<Ch>,
    intents: Vec<Value>,
    sessions: Vec<Value>,
    invoices: Vec<Value>,
    invoice_payments: Vec<Value>,
    subscriptions: Vec<Value>,
}

/// Metadata of a Checkout session (and of the intent in C2).
fn checkout_md(p: &Purchase, s: &Studio) -> Map<String, Value> {
    let mut md = Map::new();
    md.insert("zenda_studio_id".into(), json!(s.id.to_string()));
    md.insert(
        "zenda_member_id".into(),
        json!(p.md_member.clone().unwrap_or_default()),
    );
    md.insert("zenda_purchase_id".into(), json!(p.id));
    if let Some(spot) = &p.spot {
        let (a, z) = empty_spot_bug();
        let v = if p.started_at >= a && p.started_at < z {
            String::new()
        } else {
            spot.clone()
        };
        md.insert("zenda_spot_id".into(), json!(v));
    }
    md
}

fn billing(email: Option<&str>, name: Option<&str>) -> Value {
    json!({"address": {"city": null, "country": null, "line1": null, "line2": null,
        "postal_code": null, "state": null}, "email": email, "name": name, "phone": null,
        "tax_id": null})
}

fn charge_json(c: &Ch, t: Timestamp, rng: &mut ChaCha8Rng) -> Value {
    let ok = c.ok();
    let refunded = if ok { c.refunded_at(t) } else { 0 };
    let disputed = ok && c.dispute.as_ref().is_some_and(|d| d.at <= t);
    let mut refund_objs: Vec<Value> = c
        .refunds
        .iter()
        .filter(|r| ok && r.1 <= t)
        .map(|(id, at, amount, dashboard)| refund_json(id, *at, *amount, c, *dashboard))
        .collect();
    newest_first(&mut refund_objs);
    let pm = format!("pm_1{}", alnum(rng, 23));
    let card = json!({
        "brand": c.brand, "checks": {"address_line1_check": null,
            "address_postal_code_check": null, "cvc_check": if c.present { Value::Null } else { json!("pass") }},
        "country": null, "exp_month": rng.gen_range(1..13), "exp_year": 2026 + rng.gen_range(0..5),
        "fingerprint": alnum(rng, 16), "funding": "credit", "last4": c.last4,
        "network": c.brand, "three_d_secure": null, "wallet": null
    });
    let pmd = if c.present {
        json!({"card_present": {"brand": c.brand, "last4": c.last4,
            "read_method": "contactless_emv", "network": c.brand,
            "exp_month": rng.gen_range(1..13), "exp_year": 2027}, "type": "card_present"})
    } else {
        json!({"card": card, "type": "card"})
    };
    let source = c.legacy.then(|| {
        json!({"id": format!("card_1{}", alnum(rng, 23)), "object": "card",
            "brand": brand_name(&c.brand), "last4": c.last4, "funding": "credit",
            "exp_month": rng.gen_range(1..13), "exp_year": 2025, "customer": null})
    });
    let mut v = json!({
        "amount": c.amount,
        "amount_captured": if ok { c.amount } else { 0 },
        "amount_refunded": refunded,
        "application": null,
        "application_fee": c.app_fee.filter(|_| ok).map(|_| format!("fee_1{}", alnum(rng, 23))),
        "application_fee_amount": c.app_fee.filter(|_| ok),
        "balance_transaction": ok.then(|| format!("txn_{}", &c.id[3..])),
        "billing_details": billing(c.email.as_deref(), c.name.as_deref()),
        "calculated_statement_descriptor": "ZENDA.FIT",
        "captured": ok,
        "created": unix(c.created),
        "currency": c.currency,
        "customer": c.customer,
        "description": c.description,
        "destination": c.destination,
        "disputed": disputed,
        "failure_balance_transaction": null,
        "failure_code": c.decline.as_ref().map(|_| "card_declined"),
        "failure_message": c.decline.as_ref().map(|_| "Your card was declined."),
        "fraud_details": {},
        "id": c.id,
        "livemode": true,
        "metadata": c.metadata,
        "object": "charge",
        "on_behalf_of": c.on_behalf_of,
        "outcome": {
            "network_status": if ok { "approved_by_network" } else { "declined_by_network" },
            "reason": c.decline,
            "risk_level": "normal",
            "seller_message": if ok { "Payment complete." } else { "The bank did not return any further details with this decline." },
            "type": if ok { "authorized" } else { "issuer_declined" }
        }
    });
    let rest = json!({
        "paid": ok,
        "payment_intent": c.intent,
        "payment_method": source.as_ref().map(|s| s["id"].clone()).unwrap_or(json!(pm)),
        "payment_method_details": pmd,
        "receipt_email": c.receipt_email,
        "receipt_number": (c.legacy && ok).then(|| format!("{}-{}", rng.gen_range(1000..9999), rng.gen_range(1000..9999))),
        "receipt_url": format!("https://pay.stripe.com/receipts/payment/{}", alnum(rng, 40)),
        "refunded": ok && refunded >= c.amount && c.amount > 0,
        "refunds": {"data": refund_objs, "has_more": false, "object": "list",
            "total_count": refund_objs.len(), "url": format!("/v1/charges/{}/refunds", c.id)},
        "review": null,
        "shipping": null,
        "source": source,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": if ok { "succeeded" } else { "failed" },
        "transfer": c.destination.as_ref().filter(|_| ok).map(|_| format!("tr_{}", &c.id[3..])),
        "transfer_data": c.destination.as_ref().map(|d| json!({"amount": null, "destination": d})),
        "transfer_group": c.transfer_group
    });
    if let (Some(m), Value::Object(r)) = (v.as_object_mut(), rest) {
        m.extend(r);
    }
    v
}

fn refund_json(id: &str, at: Timestamp, amount: i64, c: &Ch, dashboard: bool) -> Value {
    json!({
        "amount": amount,
        "balance_transaction": format!("txn_{}", &id[3..]),
        "charge": c.id,
        "created": unix(at),
        "currency": c.currency,
        "destination_details": {"card": {"reference": null, "reference_status": "pending",
            "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
        "id": id,
        "metadata": {},
        "object": "refund",
        "payment_intent": c.intent,
        "reason": if dashboard { Value::Null } else { json!("requested_by_customer") },
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": c.destination.as_ref().map(|_| format!("trr_{}", &id[3..]))
    })
}

#[allow(clippy::too_many_arguments)]
fn intent_json(
    id: &str,
    created: Timestamp,
    amount: i64,
    currency: &str,
    customer: Option<&str>,
    description: &str,
    md: &Map<String, Value>,
    on_behalf_of: Option<&str>,
    transfer_group: Option<&str>,
    destination: Option<&str>,
    app_fee: Option<i64>,
    charges: &[&Ch],
    canceled: Option<Timestamp>,
    present: bool,
    rng: &mut ChaCha8Rng,
) -> Value {
    let ok = charges.iter().any(|c| c.ok());
    let latest = charges.last().map(|c| c.id.clone());
    let last_error = charges.iter().rev().find(|c| !c.ok()).map(|c| {
        json!({"charge": c.id, "code": "card_declined", "decline_code": c.decline,
            "message": "Your card was declined.", "type": "card_error"})
    });
    let status = if ok {
        "succeeded"
    } else if canceled.is_some() {
        "canceled"
    } else {
        "requires_payment_method"
    };
    json!({
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": if ok { amount } else { 0 },
        "application": null,
        "application_fee_amount": app_fee,
        "automatic_payment_methods": null,
        "canceled_at": canceled.map(unix),
        "cancellation_reason": canceled.map(|_| "abandoned"),
        "capture_method": "automatic",
        "client_secret": format!("{id}_secret_{}", alnum(rng, 24)),
        "confirmation_method": "automatic",
        "created": unix(created),
        "currency": currency,
        "customer": customer,
        "description": description,
        "id": id,
        "last_payment_error": if ok { Value::Null } else { last_error.unwrap_or(Value::Null) },
        "latest_charge": latest,
        "livemode": true,
        "metadata": md,
        "next_action": null,
        "object": "payment_intent",
        "on_behalf_of": on_behalf_of,
        "payment_method": ok.then(|| format!("pm_1{}", alnum(rng, 23))),
        "payment_method_types": [if present { "card_present" } else { "card" }],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status,
        "transfer_data": destination.map(|d| json!({"destination": d})),
        "transfer_group": transfer_group
    })
}

/// Writes `out/stripe/`.
pub fn render(w: &World, out: &Path) -> Result<()> {
    let dest = out.join("stripe");
    let tmp = out.join(".stripe.partial");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| write_err(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| write_err(&tmp, e))?;
    let z = of(w);
    let t = w.incident_at;
    let mut rng = ChaCha8Rng::seed_from_u64(w.seed ^ SALT);

    // Accounts: the Custom accounts of live studios (and the old ones).
    let mut accounts = Vec::new();
    for s in z
        .studios
        .iter()
        .filter(|s| !s.internal() && s.created_at <= t)
    {
        let mut push = |acct: &str, legal: &str, created: Timestamp, active: bool| {
            accounts.push(json!({
                "business_profile": {
                    "annual_revenue": null, "estimated_worker_count": null, "mcc": "7997",
                    "name": legal, "product_description": "Group fitness classes",
                    "support_address": null, "support_email": s.contact_email,
                    "support_phone": null, "support_url": null, "url": s.url(),
                    "minority_owned_business_designation": null
                },
                "business_type": "company",
                "capabilities": {"card_payments": if active { "active" } else { "inactive" },
                    "transfers": if active { "active" } else { "inactive" }},
                "charges_enabled": active,
                "controller": {"fees": {"payer": "application"}, "is_controller": true,
                    "losses": {"payments": "application"}, "requirement_collection": "application",
                    "stripe_dashboard": {"type": "none"}, "type": "application"},
                "country": s.country,
                "created": unix(created),
                "default_currency": s.cur(),
                "details_submitted": true,
                "email": null,
                "external_accounts": {"data": [], "has_more": false, "object": "list",
                    "url": format!("/v1/accounts/{acct}/external_accounts")},
                "id": acct,
                "metadata": {},
                "object": "account",
                "payouts_enabled": active,
                "requirements": {"current_deadline": null, "currently_due": [],
                    "disabled_reason": if active { Value::Null } else { json!("rejected.other") },
                    "errors": [], "eventually_due": [], "past_due": [], "pending_verification": []},
                "settings": {"payouts": {"debit_negative_balances": true,
                    "schedule": {"delay_days": 7, "interval": "weekly", "weekly_anchor": "monday"},
                    "statement_descriptor": null}},
                "tos_acceptance": {"date": unix(created), "ip": "203.0.113.7", "user_agent": null},
                "type": "custom"
            }));
        };
        let closed = s.closed_at.is_some_and(|c| c <= t);
        if let Some((old, legal, until)) = &s.former_account {
            push(old, legal, s.created_at + Duration::minutes(30), false);
            if let Some(acct) = &s.stripe_account {
                push(acct, &s.legal_name, *until - Duration::days(2), !closed);
            }
        } else if let Some(acct) = &s.stripe_account {
            push(
                acct,
                &s.legal_name,
                s.created_at + Duration::minutes(30),
                !closed,
            );
        }
    }
    newest_first(&mut accounts);
    write_pages(&layout::accounts_dir(&tmp), "/v1/accounts", &accounts)?;

    // Customers: one per person.
    let mut customers = Vec::new();
    for p in &z.people {
        let Some((cus, made)) = &p.stripe_customer else {
            continue;
        };
        if *made > t {
            continue;
        }
        if p.erased_by(t) {
            customers.push(json!({"deleted": true, "id": cus, "object": "customer"}));
            continue;
        }
        customers.push(customer_json(p, cus, *made, t));
    }
    newest_first(&mut customers);

    let mut o = Out {
        charges: Vec::new(),
        intents: Vec::new(),
        sessions: Vec::new(),
        invoices: Vec::new(),
        invoice_payments: Vec::new(),
        subscriptions: Vec::new(),
    };
    legacy_declines(z, t, &mut o);
    for p in &z.purchases {
        if !p.live || p.channel == Channel::None || p.created_at > t {
            continue;
        }
        purchase_objects(z, p, t, &mut o, &mut rng);
    }
    subscriptions(z, t, &mut o, &mut rng);
    let mut refunds = Vec::new();
    let mut disputes = Vec::new();
    for c in &o.charges {
        if !c.ok() {
            continue;
        }
        for (id, at, amount, dashboard) in c.refunds.iter().filter(|r| r.1 <= t) {
            refunds.push(refund_json(id, *at, *amount, c, *dashboard));
        }
        if let Some(d) = c.dispute.as_ref().filter(|d| d.at <= t) {
            let status = match d.closed {
                Some((at, won)) if at <= t => {
                    if won {
                        "won"
                    } else {
                        "lost"
                    }
                }
                _ if d.at + Duration::days(7) < t => "under_review",
                _ => "needs_response",
            };
            let reason = [
                "fraudulent",
                "subscription_canceled",
                "product_not_received",
                "general",
            ][(hash(&d.id) % 4) as usize];
            disputes.push(json!({
                "amount": c.amount,
                "balance_transactions": [],
                "charge": c.id,
                "created": unix(d.at),
                "currency": c.currency,
                "evidence_details": {"due_by": unix(d.at + Duration::days(7)),
                    "has_evidence": status != "needs_response",
                    "past_due": false, "submission_count": if status == "needs_response" { 0 } else { 1 }},
                "id": d.id,
                "is_charge_refundable": false,
                "livemode": true,
                "metadata": {},
                "object": "dispute",
                "payment_intent": c.intent,
                "reason": reason,
                "status": status
            }));
        }
    }
    let transfers = transfers(z, &o.charges, t, &mut rng);
    let mut charges: Vec<Value> = o
        .charges
        .iter()
        .filter(|c| c.created <= t)
        .map(|c| charge_json(c, t, &mut rng))
        .collect();
    for v in [
        &mut charges,
        &mut o.intents,
        &mut o.sessions,
        &mut o.invoices,
        &mut o.invoice_payments,
        &mut o.subscriptions,
        &mut refunds,
        &mut disputes,
    ] {
        newest_first(v);
    }
    let mut transfers = transfers;
    newest_first(&mut transfers);
    let dir = |r: &str| layout::resource_dir(&tmp, PLATFORM_DIR, r);
    write_pages(&dir("customers"), "/v1/customers", &customers)?;
    write_pages(&dir("charges"), "/v1/charges", &charges)?;
    write_pages(&dir("payment_intents"), "/v1/payment_intents", &o.intents)?;
    write_pages(
        &dir("checkout_sessions"),
        "/v1/checkout/sessions",
        &o.sessions,
    )?;
    write_pages(&dir("invoices"), "/v1/invoices", &o.invoices)?;
    write_pages(
        &dir("invoice_payments"),
        "/v1/invoice_payments",
        &o.invoice_payments,
    )?;
    write_pages(&dir("subscriptions"), "/v1/subscriptions", &o.subscriptions)?;
    write_pages(&dir("refunds"), "/v1/refunds", &refunds)?;
    write_pages(&dir("disputes"), "/v1/disputes", &disputes)?;
    write_pages(&dir("transfers"), "/v1/transfers", &transfers)?;

    // Finance's monthly exports, 2024-01 … 2026-01, each made on the 3rd of the next month.
    for i in 0..25 {
        let (y, m) = (2024 + i / 12, (i % 12) as u32 + 1);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let made = utc(ny, nm, 3, 9, 0).min(t);
        let rows: Vec<&Ch> = o
            .charges
            .iter()
            .filter(|c| c.created.year() == y && c.created.month() == m && c.created <= made)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let dir = layout::exports_dir(&tmp, PLATFORM_DIR).join(format!("{y}-{m:02}"));
        std::fs::create_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
        export_payments(
            &dir.join("unified_payments.csv"),
            &rows,
            made,
            y == 2024 && m <= 6,
        )?;
    }
    let dir = layout::exports_dir(&tmp, PLATFORM_DIR).join("2025-06-02");
    std::fs::create_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
    export_customers(
        &dir.join("unified_customers.csv"),
        z,
        &o.charges,
        utc(2025, 6, 2, 8, 0),
    )?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| write_err(&dest, e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| write_err(&dest, e))?;
    Ok(())
}

fn customer_json(p: &Person, cus: &str, made: Timestamp, t: Timestamp) -> Value {
    let mut md = Map::new();
    md.insert("zenda_person_id".into(), json!(p.id.to_string()));
    json!({
        "address": null,
        "balance": 0,
        "created": unix(made),
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": p.stripe_email_at(t),
        "id": cus,
        "invoice_prefix": p.invoice_prefix,
        "invoice_settings": {"custom_fields": null, "default_payment_method": null,
            "footer": null, "rendering_options": null},
        "livemode": true,
        "metadata": md,
        "name": p.full_name,
        "next_invoice_sequence": 1,
        "object": "customer",
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null
    })
}

fn legacy_declines(z: &Zenda, t: Timestamp, o: &mut Out) {
    for d in z.legacy_declines.iter().filter(|d| d.at <= t) {
        let s = z.studio(d.studio_id);
        if s.internal() {
            continue;
        }
        let mut md = Map::new();
        md.insert("studio".into(), json!(s.slug));
        md.insert("member".into(), json!(d.member_id.to_string()));
        if let Some(sp) = &d.spot {
            md.insert("spot".into(), json!(sp));
        }
        o.charges.push(Ch {
            id: d.charge.clone(),
            created: d.at,
            amount: d.amount,
            currency: s.cur(),
            decline: Some(d.code.clone()),
            brand: d.brand.clone(),
            last4: d.last4.clone(),
            present: false,
            customer: None,
            email: None,
            name: None,
            description: Some(d.description.clone()),
            metadata: md,
            intent: None,
            intent_md: Map::new(),
            checkout: None,
            client_reference: None,
            invoice: None,
            transfer_group: Some(transfer_group(s, d.at)),
            on_behalf_of: None,
            destination: None,
            app_fee: None,
            legacy: true,
            receipt_email: Some(d.email.trim().to_string()).filter(|e| !e.is_empty()),
            refunds: Vec::new(),
            dispute: None,
            studio_id: s.id,
        });
    }
}

/// The buyer's name and address as a card form or Checkout saw them at `at`.
fn buyer(z: &Zenda, p: &Purchase, at: Timestamp) -> (Option<String>, Option<String>) {
    let Some(m) = p.member_id.map(|m| z.member(m)) else {
        return (None, None);
    };
    match m.person_id.map(|x| z.person(x)) {
        Some(person) => (
            Some(person.full_name.clone()),
            Some(person.live_email_at(at)),
        ),
        None => (
            Some(
                format!("{} {}", m.first_name, m.last_name)
                    .trim()
                    .to_string(),
            ),
            m.email.as_ref().map(|e| e.trim().to_string()),
        ),
    }
}

fn purchase_objects(z: &Zenda, p: &Purchase, t: Timestamp, o: &mut Out, rng: &mut ChaCha8Rng) {
    let s = z.studio(p.studio_id);
    let cur = s.cur();
    let acct = s.account_at(p.created_at).map(str::to_string);
    let group = Some(transfer_group(s, p.created_at));
    let (name, email) = buyer(z, p, p.started_at);
    let refunds: Vec<(String, Timestamp, i64, bool)> = p
        .refunds
        .iter()
        .filter_map(|r| {
            r.id.as_ref()
                .map(|id| (id.clone(), r.at, r.amount, r.dashboard))
        })
        .collect();
    let base = |id: &str, at: Timestamp, decline: Option<&Decline>| Ch {
        id: id.to_string(),
        created: at,
        amount: p.amount,
        currency: cur.clone(),
        decline: decline.map(|d| d.code.clone()),
        brand: p.brand.clone(),
        last4: decline
            .map(|d| d.last4.clone())
            .unwrap_or_else(|| p.last4.clone()),
        present: p.channel == Channel::Terminal,
        customer: p.customer.clone(),
        email: email.clone(),
        name: name.clone(),
        description: None,
        metadata: Map::new(),
        intent: p.intent.clone(),
        intent_md: Map::new(),
        checkout: None,
        client_reference: None,
        invoice: None,
        transfer_group: group.clone(),
        on_behalf_of: acct.clone(),
        destination: None,
        app_fee: None,
        legacy: false,
        receipt_email: None,
        refunds: if decline.is_none() {
            refunds.clone()
        } else {
            Vec::new()
        },
        dispute: if decline.is_none() {
            p.dispute.clone()
        } else {
            None
        },
        studio_id: s.id,
    };
    match p.channel {
        Channel::Legacy => {
            let Some(ch) = &p.charge else { return };
            let paid = p.paid_at().unwrap_or(p.created_at);
            let mut c = base(ch, paid, None);
            let mut md = Map::new();
            md.insert("studio".into(), json!(s.slug));
            if let Some(m) = &p.md_member {
                md.insert("member".into(), json!(m));
            }
            if let Some(sp) = &p.spot {
                md.insert("spot".into(), json!(sp));
            }
            c.metadata = md;
            c.description = Some(legacy_description(&p.label, s.name_at(p.created_at)));
            c.customer = None;
            c.intent = None;
            c.on_behalf_of = None;
            c.legacy = true;
            c.receipt_email = email.clone().map(|e| e.trim().to_string());
            c.name = None;
            c.email = None;
            o.charges.push(c);
        }
        Channel::Checkout => {
            let smd = checkout_md(p, s);
            let pmd = if p.started_at >= era_c2() {
                smd.clone()
            } else {
                Map::new()
            };
            let expires = p.started_at + Duration::hours(24);
            let (status, pay_status) = match p.status_at(t) {
                Some("awaiting_payment") => ("open", "unpaid"),
                Some("expired") => ("expired", "unpaid"),
                _ => ("complete", "paid"),
            };
            let cs = p.stripe_object.clone().unwrap_or_default();
            let walk_in = p.customer.is_none();
            let mut charges: Vec<Ch> = Vec::new();
            for d in &p.declines {
                let mut c = base(&d.charge, d.at, Some(d));
                c.description = Some(p.label.clone());
                c.intent_md = pmd.clone();
                c.checkout = Some(cs.clone());
                c.client_reference = Some(p.id.clone());
                charges.push(c);
            }
            if let (Some(ch), Some(paid)) = (&p.charge, p.paid_at()) {
                let mut c = base(ch, paid, None);
                c.description = Some(p.label.clone());
                c.intent_md = pmd.clone();
                c.checkout = Some(cs.clone());
                c.client_reference = Some(p.id.clone());
                charges.push(c);
            }
            if let Some(pi) = &p.intent {
                let created = p.started_at + Duration::seconds(30);
                let canceled = (status == "expired").then_some(expires);
                let refs: Vec<&Ch> = charges.iter().collect();
                o.intents.push(intent_json(
                    pi,
                    created,
                    p.amount,
                    &cur,
                    p.customer.as_deref(),
                    &p.label,
                    &pmd,
                    acct.as_deref(),
                    group.as_deref(),
                    None,
                    None,
                    &refs,
                    canceled,
                    false,
                    rng,
                ));
            }
            o.sessions.push(json!({
                "after_expiration": null,
                "allow_promotion_codes": null,
                "amount_subtotal": p.amount,
                "amount_total": p.amount,
                "automatic_tax": {"enabled": false, "liability": null, "status": null},
                "billing_address_collection": null,
                "cancel_url": format!("{}/checkout/cancel", s.url()),
                "client_reference_id": p.id,
                "created": unix(p.started_at),
                "currency": cur,
                "customer": p.customer,
                "customer_creation": if walk_in { json!("if_required") } else { Value::Null },
                "customer_details": if status == "complete" {
                    json!({"address": null, "email": email, "name": name, "phone": null,
                        "tax_exempt": "none", "tax_ids": []})
                } else { Value::Null },
                "customer_email": if walk_in { json!(email) } else { Value::Null },
                "expires_at": unix(expires),
                "id": cs,
                "livemode": true,
                "locale": s.locale,
                "metadata": smd,
                "mode": "payment",
                "object": "checkout.session",
                "payment_intent": p.intent,
                "payment_method_types": ["card"],
                "payment_status": pay_status,
                "status": status,
                "submit_type": "pay",
                "success_url": format!("{}/checkout/done?session_id={{CHECKOUT_SESSION_ID}}", s.url()),
                "ui_mode": "hosted",
                "url": if status == "open" { json!(format!("https://checkout.stripe.com/c/pay/{cs}")) } else { Value::Null }
            }));
            o.charges.extend(charges);
        }
        Channel::Terminal | Channel::OffSession => {
            let mut md = Map::new();
            md.insert("zenda_studio_id".into(), json!(s.id.to_string()));
            md.insert("zenda_purchase_id".into(), json!(p.id));
            let (description, customer) = if p.channel == Channel::Terminal {
                md.insert("zenda_pos".into(), json!("1"));
                if let Some(m) = &p.md_member {
                    md.insert("zenda_member_id".into(), json!(m));
                }
                (format!("POS: {}", p.label), None)
            } else {
                md.insert(
                    "zenda_member_id".into(),
                    json!(p.md_member.clone().unwrap_or_default()),
                );
                if let Some(sp) = &p.fee_for {
                    let (a, zz) = empty_spot_bug();
                    let v = if p.started_at >= a && p.started_at < zz {
                        String::new()
                    } else {
                        sp.clone()
                    };
                    md.insert("zenda_spot_id".into(), json!(v));
                    md.insert("zenda_fee_for_spot".into(), json!(sp));
                }
                (p.label.clone(), p.customer.clone())
            };
            let mut charges: Vec<Ch> = Vec::new();
            for d in &p.declines {
                let mut c = base(&d.charge, d.at, Some(d));
                c.description = Some(description.clone());
                c.intent_md = md.clone();
                c.customer = customer.clone();
                if p.channel == Channel::Terminal {
                    c.email = None;
                    c.name = None;
                }
                charges.push(c);
            }
            if let (Some(ch), Some(paid)) = (&p.charge, p.paid_at()) {
                let mut c = base(ch, paid, None);
                c.description = Some(description.clone());
                c.intent_md = md.clone();
                c.customer = customer.clone();
                if p.channel == Channel::Terminal {
                    c.email = None;
                    c.name = None;
                }
                charges.push(c);
            }
            if let Some(pi) = &p.intent {
                let refs: Vec<&Ch> = charges.iter().collect();
                o.intents.push(intent_json(
                    pi,
                    p.started_at,
                    p.amount,
                    &cur,
                    customer.as_deref(),
                    &description,
                    &md,
                    acct.as_deref(),
                    group.as_deref(),
                    None,
                    None,
                    &refs,
                    None,
                    p.channel == Channel::Terminal,
                    rng,
                ));
            }
            o.charges.extend(charges);
        }
        Channel::Invoice => {
            let Some(inv) = &p.invoice else { return };
            let in_id = p.stripe_object.clone().unwrap_or_default();
            let dest = s.account_at(p.created_at).map(str::to_string);
            let fee = (p.amount as f64 * 0.04).round() as i64;
            let group = p.intent.as_ref().map(|pi| format!("group_{pi}"));
            let mut charges: Vec<Ch> = Vec::new();
            let mk = |c: &mut Ch| {
                c.description = Some(if inv.first {
                    "Subscription creation".into()
                } else {
                    "Subscription update".into()
                });
                c.invoice = Some((in_id.clone(), inv.number.clone()));
                c.transfer_group = group.clone();
                c.destination = dest.clone();
                c.app_fee = Some(fee);
            };
            for d in &p.declines {
                let mut c = base(&d.charge, d.at, Some(d));
                mk(&mut c);
                charges.push(c);
            }
            if let (Some(ch), Some(paid)) = (&p.charge, p.paid_at()) {
                let mut c = base(ch, paid, None);
                mk(&mut c);
                charges.push(c);
            }
            let ms = z
                .memberships
                .iter()
                .find(|m| m.id == inv.membership_id)
                .cloned()
                .unwrap_or_default();
            let sub_md = sub_metadata(&ms, s);
            let status = match p.status_at(t) {
                Some("awaiting_payment") => "open",
                Some("failed") => "uncollectible",
                _ => "paid",
            };
            let tz = s.tz();
            let pstart = local_to_utc(
                inv.period.0.and_hms_opt(0, 0, 0).unwrap_or_default(),
                Some(tz),
            );
            let pend = local_to_utc(
                (inv.period.1 + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
                Some(tz),
            );
            if let Some(pi) = &p.intent {
                let refs: Vec<&Ch> = charges.iter().collect();
                let desc = if inv.first {
                    "Subscription creation"
                } else {
                    "Subscription update"
                };
                o.intents.push(intent_json(
                    pi,
                    p.created_at + Duration::seconds(2),
                    p.amount,
                    &cur,
                    p.customer.as_deref(),
                    desc,
                    &Map::new(),
                    dest.as_deref(),
                    group.as_deref(),
                    dest.as_deref(),
                    Some(fee),
                    &refs,
                    None,
                    false,
                    rng,
                ));
                o.invoice_payments.push(json!({
                    "amount_paid": if status == "paid" { p.amount } else { 0 },
                    "amount_requested": p.amount,
                    "created": unix(p.created_at + Duration::seconds(2)),
                    "currency": cur,
                    "id": format!("inpay_1{}", alnum(rng, 23)),
                    "invoice": in_id,
                    "is_default": true,
                    "livemode": true,
                    "object": "invoice_payment",
                    "payment": {"payment_intent": pi, "type": "payment_intent"},
                    "status": match status { "paid" => "paid", "open" => "open", _ => "canceled" },
                    "status_transitions": {"canceled_at": null,
                        "paid_at": p.paid_at().filter(|a| *a <= t).map(unix)}
                }));
            }
            let person = p
                .member_id
                .and_then(|m| z.member(m).person_id)
                .map(|x| z.person(x));
            o.invoices.push(json!({
                "account_country": "PL",
                "account_name": "Zenda sp. z o.o.",
                "amount_due": p.amount,
                "amount_paid": if status == "paid" { p.amount } else { 0 },
                "amount_remaining": if status == "paid" { 0 } else { p.amount },
                "application": null,
                "attempt_count": p.declines.len() + usize::from(p.charge.is_some()),
                "attempted": true,
                "auto_advance": status == "open",
                "billing_reason": if inv.first { "subscription_create" } else { "subscription_cycle" },
                "collection_method": "charge_automatically",
                "created": unix(p.created_at),
                "currency": cur,
                "customer": p.customer,
                "customer_email": person.and_then(|x| x.stripe_email_at(p.created_at)),
                "customer_name": person.map(|x| x.full_name.clone()),
                "description": null,
                "hosted_invoice_url": format!("https://invoice.stripe.com/i/acct_1ZendaPlatform/live_{}", alnum(rng, 40)),
                "id": in_id,
                "lines": {"data": [{
                    "amount": p.amount,
                    "currency": cur,
                    "description": format!("1 × {} (at {} / month)", p.label, major(p.amount, &cur)),
                    "id": format!("il_1{}", alnum(rng, 23)),
                    "object": "line_item",
                    "parent": {"subscription_item_details": {"subscription": ms.subscription,
                        "subscription_item": format!("si_{}", alnum(rng, 14))},
                        "type": "subscription_item_details"},
                    "period": {"end": unix(pend), "start": unix(pstart)},
                    "quantity": 1
                }], "has_more": false, "object": "list", "url": format!("/v1/invoices/{in_id}/lines")},
                "livemode": true,
                "metadata": {},
                "next_payment_attempt": null,
                "number": inv.number,
                "object": "invoice",
                "on_behalf_of": dest,
                "parent": {"quote_details": null, "subscription_details": {
                    "metadata": sub_md, "subscription": ms.subscription}, "type": "subscription_details"},
                "period_end": unix(pend),
                "period_start": unix(pstart),
                "status": status,
                "status_transitions": {
                    "finalized_at": unix(p.created_at + Duration::seconds(1)),
                    "marked_uncollectible_at": match p.outcome { Outcome::Failed(a) if a <= t => Some(unix(a)), _ => None },
                    "paid_at": p.paid_at().filter(|a| *a <= t).map(unix),
                    "voided_at": null
                },
                "subtotal": p.amount,
                "total": p.amount,
                "transfer_data": dest.as_ref().map(|d| json!({"amount": null, "destination": d}))
            }));
            o.charges.extend(charges);
        }
        Channel::None => {}
    }
}

fn sub_metadata(ms: &Membership, s: &Studio) -> Map<String, Value> {
    let mut md = Map::new();
    md.insert("zenda_studio_id".into(), json!(s.id.to_string()));
    md.insert("zenda_member_id".into(), json!(ms.member_id.to_string()));
    md.insert("zenda_membership_id".into(), json!(ms.id.to_string()));
    md
}

fn subscriptions(z: &Zenda, t: Timestamp, o: &mut Out, rng: &mut ChaCha8Rng) {
    for ms in &z.memberships {
        let Some(sub) = &ms.subscription else {
            continue;
        };
        let s = z.studio(ms.studio_id);
        if s.internal() || ms.started_at > t {
            continue;
        }
        let person = z.member(ms.member_id).person_id.map(|p| z.person(p));
        let cus = person.and_then(|p| p.stripe_customer.as_ref().map(|c| c.0.clone()));
        let ended = ms.ended_at.filter(|e| *e <= t);
        let status = match ended {
            Some(_) if ms.failed => "canceled",
            Some(_) => "canceled",
            None => "active",
        };
        let dest = s.account_at(ms.started_at);
        let latest = z
            .purchases
            .iter()
            .rev()
            .find(|p| {
                p.invoice.as_ref().is_some_and(|i| i.membership_id == ms.id) && p.created_at <= t
            })
            .and_then(|p| p.stripe_object.clone());
        o.subscriptions.push(json!({
            "application": null,
            "application_fee_percent": 4.0,
            "billing_cycle_anchor": unix(ms.started_at),
            "cancel_at": null,
            "cancel_at_period_end": false,
            "canceled_at": ended.map(unix),
            "cancellation_details": {"comment": null,
                "feedback": null, "reason": ended.map(|_| if ms.failed { "payment_failed" } else { "cancellation_requested" })},
            "collection_method": "charge_automatically",
            "created": unix(ms.started_at),
            "currency": s.cur(),
            "customer": cus,
            "default_payment_method": format!("pm_1{}", alnum(rng, 23)),
            "ended_at": ended.map(unix),
            "id": sub,
            "items": {"data": [{"id": format!("si_{}", alnum(rng, 14)), "object": "subscription_item",
                "price": {"currency": s.cur(), "id": format!("price_1{}", alnum(rng, 23)),
                    "object": "price", "product": format!("prod_{}", alnum(rng, 14)),
                    "recurring": {"interval": "month", "interval_count": 1},
                    "type": "recurring", "unit_amount": ms.price},
                "quantity": 1}], "has_more": false, "object": "list",
                "url": format!("/v1/subscription_items?subscription={sub}")},
            "latest_invoice": latest,
            "livemode": true,
            "metadata": sub_metadata(ms, s),
            "object": "subscription",
            "on_behalf_of": dest,
            "start_date": unix(ms.started_at),
            "status": status,
            "transfer_data": dest.map(|d| json!({"amount_percent": null, "destination": d}))
        }));
    }
}

/// The nightly transfers: per studio and `transfer_group`, the day's succeeded charges
/// net of refunds and disputes by the night after, to the account of the time.
fn transfers(z: &Zenda, charges: &[Ch], t: Timestamp, rng: &mut ChaCha8Rng) -> Vec<Value> {
    let mut groups: BTreeMap<(i64, String), Vec<&Ch>> = BTreeMap::new();
    for c in charges {
        if !c.ok() || c.destination.is_some() {
            continue;
        }
        if let Some(g) = &c.transfer_group {
            groups.entry((c.studio_id, g.clone())).or_default().push(c);
        }
    }
    let mut out = Vec::new();
    for ((sid, g), cs) in groups {
        let s = z.studio(sid);
        if s.internal() {
            continue;
        }
        let Some(day) = g
            .rsplit_once('-')
            .and_then(|_| g.get(g.len() - 10..))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let at = local_to_utc(
            (day + Duration::days(1))
                .and_hms_opt(2, 0, 0)
                .unwrap_or_default(),
            Some(s.tz()),
        ) + Duration::seconds((hash(&g) % 900) as i64);
        if at > t {
            continue;
        }
        let net: i64 = cs
            .iter()
            .map(|c| {
                let d = c.dispute.as_ref().filter(|d| d.at <= at).map(|_| c.amount);
                c.amount - c.refunded_at(at) - d.unwrap_or(0)
            })
            .sum();
        if net <= 0 {
            continue;
        }
        let Some(acct) = s.account_at(at) else {
            continue;
        };
        out.push(json!({
            "amount": net,
            "amount_reversed": 0,
            "balance_transaction": format!("txn_1{}", alnum(rng, 23)),
            "created": unix(at),
            "currency": s.cur(),
            "description": null,
            "destination": acct,
            "destination_payment": format!("py_1{}", alnum(rng, 23)),
            "id": format!("tr_1{}", alnum(rng, 23)),
            "livemode": true,
            "metadata": {},
            "object": "transfer",
            "reversals": {"data": [], "has_more": false, "object": "list", "total_count": 0,
                "url": "/v1/transfers/reversals"},
            "reversed": false,
            "source_transaction": null,
            "source_type": "card",
            "transfer_group": g
        }));
    }
    out
}

/// The export's metadata columns.
const MD_COLS: [&str; 6] = [
    "zenda_studio_id",
    "zenda_member_id",
    "zenda_spot_id",
    "zenda_purchase_id",
    "zenda_pos",
    "zenda_fee_for_spot",
];

fn csv_err(path: &Path, e: csv::Error) -> crate::error::Error {
    crate::error::Error::Other(format!("{}: {e}", path.display()))
}

fn date_utc(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn export_payments(path: &Path, rows: &[&Ch], made: Timestamp, no_decline: bool) -> Result<()> {
    let cols: Vec<&str> = crate::samples::stripe::VARIANTS[3]
        .iter()
        .copied()
        .filter(|c| !(no_decline && *c == "Decline Reason"))
        .collect();
    let mut header: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
    header.extend(MD_COLS.iter().map(|k| format!("{k} (metadata)")));
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 600 + 2048));
    w.write_record(&header).map_err(|e| csv_err(path, e))?;
    let mut rows: Vec<&&Ch> = rows.iter().collect();
    rows.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    for c in rows {
        let ok = c.ok();
        let refunded = if ok { c.refunded_at(made) } else { 0 };
        let disputed = ok && c.dispute.as_ref().is_some_and(|d| d.at <= made);
        let status = if !ok {
            "Failed"
        } else if refunded >= c.amount {
            "Refunded"
        } else {
            "Paid"
        };
        let fee = if ok {
            major(c.amount * 15 / 1000 + 25, &c.currency)
        } else {
            major(0, &c.currency)
        };
        let refund_at = c.refunds.iter().filter(|r| r.1 <= made).map(|r| r.1).max();
        let mut rec: Vec<String> = Vec::with_capacity(header.len());
        for col in &cols {
            let v = match *col {
                "id" => c.id.clone(),
                "PaymentIntent ID" => c.intent.clone().unwrap_or_default(),
                "Created date (UTC)" => date_utc(c.created),
                "Amount" | "Converted Amount" => major(c.amount, &c.currency),
                "Amount Refunded" | "Converted Amount Refunded" => major(refunded, &c.currency),
                "Currency" | "Converted Currency" => c.currency.clone(),
                "Captured" => ok.to_string(),
                "Decline Reason" => c.decline.clone().unwrap_or_default(),
                "Description" => c.description.clone().unwrap_or_default(),
                "Fee" => fee.clone(),
                "Taxes On Fee" => major(0, &c.currency),
                "Is Link" => "false".into(),
                "Mode" => "Live".into(),
                "Payment Source Type" => if c.present { "card_present" } else { "card" }.into(),
                "Refunded date (UTC)" => refund_at.map(date_utc).unwrap_or_default(),
                "Statement Descriptor" => "ZENDA.FIT".into(),
                "Status" => status.into(),
                "Seller Message" => if ok {
                    "Payment complete."
                } else {
                    "The bank did not return any further details with this decline."
                }
                .into(),
                "Card Name" => c.name.clone().unwrap_or_default(),
                "Card Brand" => brand_name(&c.brand).into(),
                "Card CVC Status" => if c.present { "" } else { "pass" }.into(),
                "Card Funding" => "credit".into(),
                "Card Last4" => c.last4.clone(),
                "Card Tokenization Method" => String::new(),
                "Customer ID" => c.customer.clone().unwrap_or_default(),
                "Customer Email" => c.email.clone().unwrap_or_default(),
                "Disputed Amount" if disputed => major(c.amount, &c.currency),
                "Dispute Date (UTC)" if disputed => c
                    .dispute
                    .as_ref()
                    .map(|d| date_utc(d.at))
                    .unwrap_or_default(),
                "Dispute Status" if disputed => match c.dispute.as_ref().and_then(|d| d.closed) {
                    Some((at, won)) if at <= made => if won { "won" } else { "lost" }.into(),
                    _ => "needs_response".into(),
                },
                "Invoice ID" => c.invoice.as_ref().map(|i| i.0.clone()).unwrap_or_default(),
                "Invoice Number" => c.invoice.as_ref().map(|i| i.1.clone()).unwrap_or_default(),
                "Checkout Session ID" => c.checkout.clone().unwrap_or_default(),
                "Client Reference ID" => c.client_reference.clone().unwrap_or_default(),
                "Application Fee" => c
                    .app_fee
                    .filter(|_| ok)
                    .map(|f| major(f, &c.currency))
                    .unwrap_or_default(),
                "Destination" => c.destination.clone().unwrap_or_default(),
                "Transfer" => c
                    .destination
                    .as_ref()
                    .filter(|_| ok)
                    .map(|_| format!("tr_{}", &c.id[3..]))
                    .unwrap_or_default(),
                "Transfer Group" => c.transfer_group.clone().unwrap_or_default(),
                _ => String::new(),
            };
            rec.push(v);
        }
        for k in MD_COLS {
            rec.push(
                c.intent_md
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        w.write_record(&rec).map_err(|e| csv_err(path, e))?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| crate::error::Error::Other(format!("{}: {e}", path.display())))?;
    std::fs::write(path, buf).map_err(|e| write_err(path, e))
}

fn export_customers(path: &Path, z: &Zenda, charges: &[Ch], made: Timestamp) -> Result<()> {
    let cols = [
        "id",
        "Description",
        "Email",
        "Name",
        "Created (UTC)",
        "Delinquent",
        "Card ID",
        "Card Last4",
        "Card Brand",
        "Currency",
        "Total Spend",
        "Payment Count",
        "Refunded Volume",
        "Dispute Losses",
        "zenda_person_id (metadata)",
    ];
    let mut stats: HashMap<&str, (i64, i64, i64, &Ch)> = HashMap::new();
    for c in charges.iter().filter(|c| c.ok() && c.created <= made) {
        if let Some(id) = c.customer.as_deref() {
            let e = stats.entry(id).or_insert((0, 0, 0, c));
            e.0 += c.amount - c.refunded_at(made);
            e.1 += 1;
            e.2 += c.refunded_at(made);
            e.3 = c;
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cols).map_err(|e| csv_err(path, e))?;
    let mut people: Vec<&Person> = z
        .people
        .iter()
        .filter(|p| {
            p.stripe_customer
                .as_ref()
                .is_some_and(|(_, at)| *at <= made)
                && !p.erased_by(made)
        })
        .collect();
    people.sort_by_key(|p| std::cmp::Reverse(p.stripe_customer.as_ref().map(|c| c.1)));
    for p in people {
        let Some((cus, made_at)) = &p.stripe_customer else {
            continue;
        };
        let st = stats.get(cus.as_str());
        let cur = st.map(|s| s.3.currency.clone()).unwrap_or_default();
        let rec = vec![
            cus.clone(),
            String::new(),
            p.stripe_email_at(made).unwrap_or_default(),
            p.full_name.clone(),
            made_at.format("%Y-%m-%d %H:%M").to_string(),
            "false".into(),
            st.map(|_| format!("pm_1{}", &cus[4..])).unwrap_or_default(),
            st.map(|s| s.3.last4.clone()).unwrap_or_default(),
            st.map(|s| brand_name(&s.3.brand).to_string())
                .unwrap_or_default(),
            cur.clone(),
            st.map(|s| major(s.0, &cur)).unwrap_or_default(),
            st.map(|s| s.1.to_string()).unwrap_or_else(|| "0".into()),
            st.map(|s| major(s.2, &cur)).unwrap_or_default(),
            st.map(|_| major(0, &cur)).unwrap_or_default(),
            p.id.to_string(),
        ];
        w.write_record(&rec).map_err(|e| csv_err(path, e))?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| crate::error::Error::Other(format!("{}: {e}", path.display())))?;
    std::fs::write(path, buf).map_err(|e| write_err(path, e))
}
