//! Pedalry's Stripe wreckage: a Connect platform with one Express account per live shop.
//! Every money object is a destination charge on the PLATFORM (`api/platform/...`, no
//! `acct_` in the path): customers, payment intents (metadata by era, on the intent only),
//! charges (declines, then the success on the same intent; `metadata` always `{}`,
//! `application` null, `transfer_data.destination` and `on_behalf_of` = the shop's account),
//! refunds with `reverse_transfer`, disputes. The account list (`api/accounts`) holds the
//! Express accounts (`metadata.pedalry_business_id`), rejected ones too; disconnected ones
//! are gone. Finance's monthly Dashboard "Payments" exports of the platform
//! (`exports/platform/<YYYY-MM>/unified_payments.csv`) for Jan 2024–Feb 2025 and Apr 2025.
//! Sandboxes have no live Stripe objects at all.

use super::super::habits;
use super::super::stripe::{
    customer_json, newest_first, unix, write_err, write_export, write_pages, Shown,
};
use super::{charge_at, era_b, hash, typed_email, typed_phone};
use crate::error::Result;
use crate::import::stripe::layout;
use crate::samples::world::{Business, Customer, Method, Payment, Reservation, World};
use crate::util::time::Timestamp;
use chrono::{Datelike, Duration};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const SALT: u64 = 0x7065_6461_5354_5250;
/// The directory name of the platform's own objects (no `acct_`: the importer reads them as
/// the platform's).
pub const PLATFORM_DIR: &str = "platform";

fn alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    super::super::stripe::alnum(rng, n)
}

/// The PaymentIntent's metadata (by era; `{}` for support's Dashboard-script intents) and
/// its description.
pub(crate) fn intent_metadata(
    p: &Payment,
    b: &Business,
    res: Option<&Reservation>,
) -> (Map<String, Value>, Option<String>) {
    let mut md = Map::new();
    let Some(k) = &p.kelpie else {
        return (md, None);
    };
    let Some(r) = res else { return (md, None) };
    let desc = Some(format!("Pedalry booking {}", r.reference));
    if p.metadata_missing {
        return (md, desc);
    }
    let cust = p.customer_id.unwrap_or(r.customer_id).to_string();
    if k.started_at < era_b() {
        md.insert("booking".into(), json!(r.reference));
        md.insert("rider".into(), json!(cust));
        md.insert("shop".into(), json!(b.slug));
    } else {
        md.insert("pedalry_booking_code".into(), json!(r.reference));
        md.insert("pedalry_booking_id".into(), json!(r.id.to_string()));
        md.insert("pedalry_business_id".into(), json!(b.id.to_string()));
        md.insert("pedalry_customer_id".into(), json!(cust));
    }
    (md, desc)
}

/// Is this archived shop's Express account disconnected (gone from the account list)
/// rather than rejected?
fn disconnected(b: &Business) -> bool {
    b.cancelled_at.is_some() && hash(&b.slug) % 2 == 0
}

fn fee(amount: i64) -> i64 {
    (amount as f64 * 0.05).round() as i64
}

/// The rider's email on Stripe: as typed, or (~2 %) an older address the app never synced.
fn stripe_email(seed: u64, c: &Customer) -> Option<String> {
    let e = typed_email(seed, c)?;
    if hash(&format!("stripe-email:{seed}:{}", c.id)) % 50 == 0 {
        let local = e.split('@').next().unwrap_or("rider");
        let dom = if e.ends_with("@gmail.com") {
            "hotmail.com"
        } else {
            "gmail.com"
        };
        return Some(format!("{local}@{dom}"));
    }
    Some(e)
}

/// Writes `out/stripe/`.
pub fn render(world: &World, out: &Path) -> Result<()> {
    let dest = out.join("stripe");
    let tmp = out.join(".stripe.partial");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| write_err(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| write_err(&tmp, e))?;
    let t = world.incident_at;
    let seed = world.seed;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SALT);
    let biz: HashMap<i64, &Business> = world.businesses.iter().map(|b| (b.id, b)).collect();
    let res: HashMap<i64, &Reservation> = world.reservations.iter().map(|r| (r.id, r)).collect();
    let cust: HashMap<i64, &Customer> = world.customers.iter().map(|c| (c.id, c)).collect();

    // Accounts.
    let mut accounts = Vec::new();
    for b in &world.businesses {
        let Some(acct) = &b.stripe_account else {
            continue;
        };
        if b.is_demo || b.created_at > t || disconnected(b) {
            continue;
        }
        let rejected = b.cancelled_at.is_some_and(|a| a <= t);
        let created = b.created_at + Duration::minutes(rng.gen_range(5..600));
        let name = b
            .stripe_profile_name
            .clone()
            .unwrap_or_else(|| b.name_at(b.created_at).to_string());
        accounts.push(json!({
            "business_profile": {
                "annual_revenue": null, "estimated_worker_count": null, "mcc": "7999",
                "name": name, "product_description": "Bike and e-bike rentals",
                "support_address": null, "support_email": b.email, "support_phone": null,
                "support_url": null, "url": format!("https://{}.pedalry.app", b.slug),
                "minority_owned_business_designation": null
            },
            "business_type": "company",
            "capabilities": {
                "card_payments": if rejected { "inactive" } else { "active" },
                "transfers": if rejected { "inactive" } else { "active" }
            },
            "charges_enabled": !rejected,
            "controller": {"fees": {"payer": "application"}, "is_controller": true,
                "losses": {"payments": "application"}, "requirement_collection": "stripe",
                "stripe_dashboard": {"type": "express"}, "type": "application"},
            "country": b.country,
            "created": unix(created),
            "default_currency": b.currency,
            "details_submitted": true,
            "email": b.email,
            "external_accounts": {"data": [], "has_more": false, "object": "list",
                "url": format!("/v1/accounts/{acct}/external_accounts")},
            "id": acct,
            "metadata": {"pedalry_business_id": b.id.to_string()},
            "object": "account",
            "payouts_enabled": !rejected,
            "requirements": {
                "current_deadline": null, "currently_due": [], "disabled_reason":
                    if rejected { json!("rejected.other") } else { Value::Null },
                "errors": [], "eventually_due": [], "past_due": [], "pending_verification": []
            },
            "settings": {
                "dashboard": {"display_name": name, "timezone": b.timezone},
                "payouts": {"debit_negative_balances": true,
                    "schedule": {"delay_days": 7, "interval": "weekly", "weekly_anchor": "monday"},
                    "statement_descriptor": null}
            },
            "tos_acceptance": {"date": unix(created)},
            "type": "express"
        }));
    }
    newest_first(&mut accounts);
    write_pages(&layout::accounts_dir(&tmp), "/v1/accounts", &accounts)?;

    // Platform customers: one per customer row, at its first card payment.
    let mut pays: Vec<&Payment> = world
        .payments
        .iter()
        .filter(|p| p.method == Method::Card)
        .filter(|p| p.kelpie.as_ref().is_some_and(|k| k.started_at <= t))
        .filter(|p| biz.get(&p.business_id).is_some_and(|b| !b.is_demo))
        .collect();
    pays.sort_by_key(|p| (p.kelpie.as_ref().map(|k| k.started_at), p.id));
    let mut customers = Vec::new();
    let mut cus_at: BTreeMap<i64, Timestamp> = BTreeMap::new();
    for p in &pays {
        let (Some(c), Some(k)) = (p.customer_id.and_then(|c| cust.get(&c)), &p.kelpie) else {
            continue;
        };
        if cus_at.contains_key(&c.id) {
            continue;
        }
        let Some(id) = &c.stripe_customer else {
            continue;
        };
        let at = k.started_at - Duration::seconds(rng.gen_range(1..15));
        cus_at.insert(c.id, at);
        let b = biz[&c.business_id];
        let mut sh = Shown {
            name: c.name.clone(),
            email: stripe_email(seed, c),
            phone: typed_phone(seed, c, &b.country),
        };
        habits::stripe_shown(seed, c, &b.country, &mut sh);
        let mut md = Map::new();
        md.insert("pedalry_customer_id".into(), json!(c.id.to_string()));
        customers.push(customer_json(id, at, &sh, md, &b.currency, &mut rng));
        if let Some(r) = habits::returning(seed, c, t) {
            customers.push(habits::returning_json(&r, c, &b.currency));
        }
    }

    let mut charges = Vec::new();
    let mut intents = Vec::new();
    let mut refunds = Vec::new();
    let mut disputes = Vec::new();
    for p in &pays {
        let Some(k) = &p.kelpie else { continue };
        let b = biz[&p.business_id];
        let Some(acct) = &b.stripe_account else {
            continue;
        };
        let Some(pi) = &p.payment_intent else {
            continue;
        };
        let r = p.reservation_id.and_then(|r| res.get(&r).copied());
        let c = p.customer_id.and_then(|c| cust.get(&c).copied());
        let mut cus_id = c.and_then(|c| c.stripe_customer.clone());
        let mut email = k
            .receipt_email
            .as_ref()
            .and(c)
            .and_then(|c| typed_email(seed, c));
        let mut name = c.map(|c| c.name.clone());
        if let Some(c) = c {
            if email.is_some() {
                if let Some(e) = habits::charge_email(seed, c, &b.country, k.started_at, t) {
                    email = e;
                }
            }
            if cus_id.is_some() {
                if let Some(r) = habits::charge_customer(seed, c, k.started_at, t) {
                    cus_id = Some(r);
                }
            }
            if let Some(h) = habits::cardholder(seed, c, p.id) {
                name = Some(h);
            }
        }
        let (md, description) = intent_metadata(p, b, r);
        let app_fee = fee(p.amount);
        let group = format!("group_{pi}");
        let descriptor: String = b
            .stripe_profile_name
            .clone()
            .unwrap_or_else(|| b.name_at(b.created_at).to_string())
            .to_uppercase()
            .chars()
            .take(22)
            .collect();
        let brand = k.card_brand.clone().unwrap_or_else(|| "visa".into());
        let mut chs: Vec<(String, Timestamp, Option<&str>, String)> = k
            .attempts
            .iter()
            .map(|a| {
                (
                    a.charge_id.clone(),
                    a.at,
                    Some(a.decline_code.as_str()),
                    a.last4.clone(),
                )
            })
            .collect();
        let ok_at = charge_at(k);
        if let Some(ch) = &p.charge_id {
            if ok_at <= t {
                chs.push((
                    ch.clone(),
                    ok_at,
                    None,
                    p.card_last4.clone().unwrap_or_else(|| "4242".into()),
                ));
            }
        }
        let refunded: i64 = p
            .refunds
            .iter()
            .filter(|r| r.at <= t)
            .map(|r| r.amount)
            .sum();
        let mut latest = None;
        let mut last_error = Value::Null;
        let mut ok = false;
        for (ch, at, decline, l4) in &chs {
            let success = decline.is_none();
            ok |= success;
            let mut refund_objs: Vec<Value> = Vec::new();
            if success {
                for rf in p.refunds.iter().filter(|r| r.at <= t) {
                    refund_objs.push(json!({
                        "amount": rf.amount,
                        "balance_transaction": format!("txn_{}", &rf.id[3..]),
                        "charge": ch,
                        "created": unix(rf.at),
                        "currency": p.currency,
                        "destination_details": {"card": {"reference": null, "reference_status": "pending",
                            "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
                        "id": rf.id,
                        "metadata": {},
                        "object": "refund",
                        "payment_intent": pi,
                        "reason": if rf.by_dashboard { Value::Null } else { json!("requested_by_customer") },
                        "receipt_number": null,
                        "source_transfer_reversal": null,
                        "status": "succeeded",
                        "transfer_reversal": format!("trr_{}", &rf.id[3..])
                    }));
                }
                newest_first(&mut refund_objs);
            }
            refunds.extend(refund_objs.iter().cloned());
            let dispute = p.dispute.as_ref().filter(|d| success && d.at <= t);
            let err = decline.map(|d| {
                json!({"charge": ch, "code": "card_declined", "decline_code": d,
                       "message": "Your card was declined.", "type": "card_error"})
            });
            if let Some(e) = &err {
                last_error = e.clone();
            }
            let mut charge = json!({
                "amount": p.amount,
                "amount_captured": if success { p.amount } else { 0 },
                "amount_refunded": if success { refunded } else { 0 },
                "application": null,
                "application_fee": if success { json!(format!("fee_1{}", alnum(&mut rng, 23))) } else { Value::Null },
                "application_fee_amount": if success { json!(app_fee) } else { Value::Null },
                "balance_transaction": if success { json!(format!("txn_{}", &ch[3..])) } else { Value::Null },
                "billing_details": {"address": {"city": null, "country": null, "line1": null, "line2": null,
                    "postal_code": null, "state": null}, "email": email, "name": name, "phone": null, "tax_id": null},
                "calculated_statement_descriptor": descriptor,
                "captured": success,
                "created": unix(*at),
                "currency": p.currency,
                "customer": cus_id,
                "description": description,
                "destination": acct,
                "disputed": dispute.is_some(),
                "failure_balance_transaction": null,
                "failure_code": if success { Value::Null } else { json!("card_declined") },
                "failure_message": if success { Value::Null } else { json!("Your card was declined.") },
                "fraud_details": {},
                "id": ch,
                "livemode": true,
                "metadata": {},
                "object": "charge",
                "on_behalf_of": acct,
                "outcome": {
                    "network_status": if success { "approved_by_network" } else { "declined_by_network" },
                    "reason": decline,
                    "risk_level": "normal",
                    "seller_message": if success { "Payment complete." } else { "The bank did not return any further details with this decline." },
                    "type": if success { "authorized" } else { "issuer_declined" }
                }
            });
            let rest = json!({
                "paid": success,
                "payment_intent": pi,
                "payment_method": format!("pm_{}", &ch[3..]),
                "payment_method_details": {"card": {
                    "brand": brand, "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass"},
                    "country": null, "exp_month": rng.gen_range(1..13), "exp_year": 2026 + rng.gen_range(0..5),
                    "fingerprint": alnum(&mut rng, 16), "funding": "credit", "last4": l4, "network": brand,
                    "three_d_secure": null, "wallet": null}, "type": "card"},
                "receipt_email": if success { json!(email) } else { Value::Null },
                "receipt_number": null,
                "receipt_url": format!("https://pay.stripe.com/receipts/payment/{}", alnum(&mut rng, 40)),
                "refunded": success && refunded >= p.amount && p.amount > 0,
                "refunds": {"data": refund_objs, "has_more": false, "object": "list",
                    "total_count": refund_objs.len(), "url": format!("/v1/charges/{ch}/refunds")},
                "review": null,
                "shipping": null,
                "source": null,
                "source_transfer": null,
                "statement_descriptor": null,
                "statement_descriptor_suffix": null,
                "status": if success { "succeeded" } else { "failed" },
                "transfer": if success { json!(format!("tr_{}", &ch[3..])) } else { Value::Null },
                "transfer_data": {"amount": null, "destination": acct},
                "transfer_group": group
            });
            if let (Some(m), Value::Object(r)) = (charge.as_object_mut(), rest) {
                m.extend(r);
            }
            if let Some(d) = dispute {
                let status = match d.closed {
                    Some((at, won)) if at <= t => {
                        if won {
                            "won"
                        } else {
                            "lost"
                        }
                    }
                    _ => "needs_response",
                };
                disputes.push(json!({
                    "amount": p.amount,
                    "balance_transactions": [],
                    "charge": ch,
                    "created": unix(d.at),
                    "currency": p.currency,
                    "evidence_details": {"due_by": unix(d.at + Duration::days(7)), "has_evidence": false,
                        "past_due": d.at + Duration::days(7) < t, "submission_count": 0},
                    "id": d.id,
                    "is_charge_refundable": false,
                    "livemode": true,
                    "metadata": {},
                    "object": "dispute",
                    "payment_intent": pi,
                    "reason": *[
                        "fraudulent",
                        "product_not_received",
                        "duplicate",
                        "general",
                    ]
                    .get(rng.gen_range(0..4))
                    .unwrap_or(&"general"),
                    "status": status
                }));
            }
            latest = Some(ch.clone());
            charges.push(charge);
        }
        intents.push(json!({
            "amount": p.amount,
            "amount_capturable": 0,
            "amount_received": if ok { p.amount } else { 0 },
            "application": null,
            "application_fee_amount": app_fee,
            "automatic_payment_methods": null,
            "canceled_at": null,
            "cancellation_reason": null,
            "capture_method": "automatic",
            "client_secret": format!("{pi}_secret_{}", alnum(&mut rng, 24)),
            "confirmation_method": "automatic",
            "created": unix(k.started_at),
            "currency": p.currency,
            "customer": cus_id,
            "description": description,
            "id": pi,
            "last_payment_error": if ok { Value::Null } else { last_error },
            "latest_charge": latest,
            "livemode": true,
            "metadata": md,
            "next_action": null,
            "object": "payment_intent",
            "on_behalf_of": acct,
            "payment_method": if ok { json!(format!("pm_{}", &p.charge_id.as_deref().unwrap_or("ch_x")[3..])) } else { Value::Null },
            "payment_method_types": ["card"],
            "processing": null,
            "receipt_email": email,
            "review": null,
            "setup_future_usage": null,
            "shipping": null,
            "source": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": if ok { "succeeded" } else if chs.is_empty() { "processing" } else { "requires_payment_method" },
            "transfer_data": {"destination": acct},
            "transfer_group": group
        }));
    }
    for v in [
        &mut customers,
        &mut charges,
        &mut intents,
        &mut refunds,
        &mut disputes,
    ] {
        newest_first(v);
    }
    let dir = |r: &str| layout::resource_dir(&tmp, PLATFORM_DIR, r);
    write_pages(&dir("customers"), "/v1/customers", &customers)?;
    write_pages(&dir("charges"), "/v1/charges", &charges)?;
    write_pages(&dir("payment_intents"), "/v1/payment_intents", &intents)?;
    write_pages(&dir("refunds"), "/v1/refunds", &refunds)?;
    write_pages(&dir("disputes"), "/v1/disputes", &disputes)?;

    // Finance's monthly exports: Jan 2024 – Feb 2025, and Apr 2025.
    let mut months: Vec<(i32, u32)> = (0..14)
        .map(|i| (2024 + i / 12, (i % 12) as u32 + 1))
        .collect();
    months.push((2025, 4));
    let month_of = |v: &Value| {
        let ts = v["created"].as_i64().unwrap_or(0);
        chrono::DateTime::from_timestamp(ts, 0).map(|d| (d.year(), d.month()))
    };
    for (y, m) in months {
        // Newest first by `created`: a month is one contiguous run.
        let run = |v: &[Value]| -> (usize, usize) {
            let a = v.iter().position(|c| month_of(c) == Some((y, m)));
            let z = v.iter().rposition(|c| month_of(c) == Some((y, m)));
            match (a, z) {
                (Some(a), Some(z)) => (a, z + 1),
                _ => (0, 0),
            }
        };
        let (ca, cz) = run(&charges);
        let (pa, pz) = run(&intents);
        let (ch, pi) = (&charges[ca..cz], &intents[pa..pz]);
        if ch.is_empty() {
            continue;
        }
        let dir = layout::exports_dir(&tmp, PLATFORM_DIR).join(format!("{y}-{m:02}"));
        std::fs::create_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
        write_export(
            &mut rng,
            &dir.join("unified_payments.csv"),
            ch,
            pi,
            &customers,
        )?;
    }
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| write_err(&dest, e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| write_err(&dest, e))?;
    Ok(())
}
