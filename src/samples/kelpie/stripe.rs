//! Kelpie's Stripe wreckage: one Standard connected account per shop (and the old account of
//! a shop that reconnected), holding customers, payment intents with every charge attempt
//! (declines, then the success on the same intent), Hosted Checkout sessions (expired ones
//! too), refunds (also those the app never heard of) and disputes; Dashboard CSV exports
//! for about a third of the accounts. Metadata by era (docs/trials/brief.md): Era A
//! `kelpie_ref` = booking code, Era B `kelpie_booking_id` + `kelpie_shop_id`.
//!
//! Same layout as the other flavours (`src/import/stripe/layout.rs`).

use super::super::habits;
use super::super::stripe::{
    customer_json, newest_first, other_case_email, shown, unix, write_err, write_exports,
    write_pages, Shown,
};
use super::era_b;
use crate::error::Result;
use crate::import::stripe::layout;
use crate::samples::world::{Business, Customer, PayMethod, Payment, Reservation, World};
use crate::util::time::Timestamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const SALT: u64 = 0x6b65_6c70_5354_5250;

fn alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    super::super::stripe::alnum(rng, n)
}

/// The account's `business_profile.name` at `t`: half the renamed shops never updated it.
pub(crate) fn profile_name_at(b: &Business, acct: &str, t: Timestamp) -> String {
    if b.stripe_account.as_deref() == Some(acct) {
        if let Some(n) = &b.stripe_profile_name {
            return n.clone();
        }
    }
    b.name_at(t).to_string()
}

/// Kelpie's Stripe metadata on an intent (and its charges) and its description.
pub(crate) fn metadata_and_description(
    p: &Payment,
    res: Option<&Reservation>,
) -> (Map<String, Value>, Option<String>) {
    let mut md = Map::new();
    let Some(k) = &p.kelpie else {
        return (md, None);
    };
    if let Some(d) = &k.dashboard {
        return (md, Some(d.clone()));
    }
    let checkout = k.method == PayMethod::Checkout;
    let Some(r) = res else {
        return (md, None);
    };
    if k.started_at < era_b() {
        if p.metadata_missing {
            return (md, None);
        }
        md.insert("kelpie_ref".into(), json!(r.reference));
        (md, (!checkout).then(|| format!("Booking {}", r.reference)))
    } else {
        let id = if k.empty_booking_id {
            String::new()
        } else {
            r.id.to_string()
        };
        md.insert("kelpie_booking_id".into(), json!(id));
        md.insert("kelpie_shop_id".into(), json!(p.business_id.to_string()));
        (
            md,
            (!checkout).then(|| format!("{} – {}", r.service, r.reference)),
        )
    }
}

struct Index<'w> {
    reservations: HashMap<i64, &'w Reservation>,
    customers: HashMap<i64, &'w Customer>,
    /// Account -> its Stripe payments (card form and Checkout), by id.
    payments_of: BTreeMap<String, Vec<&'w Payment>>,
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
    let biz: HashMap<i64, &Business> = world.businesses.iter().map(|b| (b.id, b)).collect();
    let mut payments_of: BTreeMap<String, Vec<&Payment>> = BTreeMap::new();
    for p in &world.payments {
        let Some(k) = &p.kelpie else { continue };
        if !matches!(k.method, PayMethod::CardForm | PayMethod::Checkout) || k.started_at > t {
            continue;
        }
        let Some(acct) = biz
            .get(&p.business_id)
            .and_then(|b| b.account_at(k.started_at))
        else {
            continue;
        };
        payments_of.entry(acct.to_string()).or_default().push(p);
    }
    let idx = Index {
        reservations: world.reservations.iter().map(|r| (r.id, r)).collect(),
        customers: world.customers.iter().map(|c| (c.id, c)).collect(),
        payments_of,
    };
    // Every account: (business, acct, created, until).
    let mut jobs: Vec<(&Business, String, Timestamp)> = Vec::new();
    for b in &world.businesses {
        if let Some((old, until)) = &b.former_account {
            let _ = until;
            jobs.push((b, old.clone(), b.created_at));
        }
        if let Some(a) = &b.stripe_account {
            let created = match &b.former_account {
                Some((_, until)) => *until - chrono::Duration::days(2),
                None => b.created_at,
            };
            jobs.push((b, a.clone(), created));
        }
    }
    let accounts = jobs
        .par_iter()
        .map(|(b, acct, created)| render_account(world, &idx, b, acct, *created, &tmp))
        .collect::<Result<Vec<_>>>()?;
    let mut accounts = accounts;
    accounts.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    let objs: Vec<Value> = accounts.into_iter().map(|(_, _, v)| v).collect();
    write_pages(&layout::accounts_dir(&tmp), "/v1/accounts", &objs)?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| write_err(&dest, e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| write_err(&dest, e))?;
    Ok(())
}

fn fee(amount: i64) -> i64 {
    (amount as f64 * 0.015).round() as i64
}

fn render_account(
    world: &World,
    idx: &Index<'_>,
    b: &Business,
    acct: &str,
    created: Timestamp,
    root: &Path,
) -> Result<(i64, String, Value)> {
    let t = world.incident_at;
    let h = acct
        .bytes()
        .fold(0u64, |h, c| h.wrapping_mul(131).wrapping_add(c as u64));
    let mut rng = ChaCha8Rng::seed_from_u64(world.seed ^ SALT ^ h);
    let support = format!("{}@reply.kelpie.dive", b.slug);
    let name = profile_name_at(b, acct, t);
    let account = json!({
        "business_profile": {
            "annual_revenue": null, "estimated_worker_count": null, "mcc": "7999",
            "name": name, "product_description": "Scuba diving trips and courses",
            "support_address": {"city": null, "country": b.country, "line1": null, "line2": null,
                "postal_code": null, "state": null},
            "support_email": support, "support_phone": null, "support_url": null, "url": null,
            "minority_owned_business_designation": null
        },
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": true,
        "controller": {"type": "account"},
        "country": b.country,
        "created": unix(created),
        "default_currency": b.currency,
        "details_submitted": true,
        "email": b.email,
        "external_accounts": {"data": [], "has_more": false, "object": "list",
            "url": format!("/v1/accounts/{acct}/external_accounts")},
        "id": acct,
        "metadata": {},
        "object": "account",
        "payouts_enabled": true,
        "settings": {
            "branding": {"icon": null, "logo": null, "primary_color": null, "secondary_color": null},
            "card_payments": {"decline_on": {"avs_failure": false, "cvc_failure": true},
                "statement_descriptor_prefix": null},
            "dashboard": {"display_name": name, "timezone": b.timezone},
            "email_receipts": {"successful_payments": true, "refunds": true},
            "payments": {"statement_descriptor": null},
            "payouts": {"debit_negative_balances": true,
                "schedule": {"delay_days": 2, "interval": "daily"}, "statement_descriptor": null}
        },
        "tos_acceptance": {"date": unix(created), "ip": null, "user_agent": null},
        "type": "standard"
    });

    let empty = Vec::new();
    let payments = idx.payments_of.get(acct).unwrap_or(&empty);
    // Customers: created at the diver's first card-form payment in this account; Checkout
    // creates one per diver without one since Era B (`customer_creation=always`).
    // Card-form customers (the app's `cus_`) and those Checkout created, by diver.
    let mut card_cus: HashMap<i64, (String, Timestamp, Shown)> = HashMap::new();
    let mut co_cus: HashMap<i64, (String, Timestamp, Shown)> = HashMap::new();
    let mut customer_objs = Vec::new();
    for p in payments.iter() {
        let Some(k) = &p.kelpie else { continue };
        let Some(c) = p.customer_id.and_then(|c| idx.customers.get(&c).copied()) else {
            continue;
        };
        if k.dashboard.is_some() {
            continue;
        }
        let (map, id) = match k.method {
            PayMethod::CardForm => (&mut card_cus, c.stripe_customer.clone()),
            _ if k.started_at >= era_b() && !k.no_row && !co_cus.contains_key(&c.id) => {
                (&mut co_cus, Some(format!("cus_{}", alnum(&mut rng, 14))))
            }
            _ => continue,
        };
        if map.contains_key(&c.id) {
            continue;
        }
        let Some(id) = id else { continue };
        let at = k.started_at - chrono::Duration::seconds(rng.gen_range(1..20));
        let mut sh = shown(&mut rng, c);
        habits::stripe_shown(world.seed, c, &b.country, &mut sh);
        let mut md = Map::new();
        if k.method == PayMethod::CardForm && at >= era_b() {
            md.insert("kelpie_customer_id".into(), json!(c.id.to_string()));
        }
        customer_objs.push(customer_json(&id, at, &sh, md, &b.currency, &mut rng));
        map.insert(c.id, (id, at, sh));
    }

    // Returning divers' second customers, in the account that knew them first.
    let mut back: Vec<i64> = card_cus.keys().copied().collect();
    back.sort_unstable();
    for cid in back {
        let Some(c) = idx.customers.get(&cid).copied() else {
            continue;
        };
        if let Some(r) = habits::returning(world.seed, c, t) {
            customer_objs.push(habits::returning_json(&r, c, &b.currency));
        }
    }

    let mut charges = Vec::new();
    let mut intents = Vec::new();
    let mut sessions = Vec::new();
    let mut refunds = Vec::new();
    let mut disputes = Vec::new();
    for p in payments.iter() {
        let Some(k) = &p.kelpie else { continue };
        let res = p
            .reservation_id
            .and_then(|r| idx.reservations.get(&r).copied());
        let cust = p.customer_id.and_then(|c| idx.customers.get(&c).copied());
        let map = if k.method == PayMethod::CardForm {
            &card_cus
        } else {
            &co_cus
        };
        let cus = cust
            .filter(|_| k.dashboard.is_none())
            .and_then(|c| map.get(&c.id))
            .filter(|(_, at, _)| *at <= k.started_at + chrono::Duration::seconds(30));
        let mut cus_id = cus.map(|c| c.0.clone());
        let mut email = k.receipt_email.as_ref().map(|e| {
            if rng.gen_bool(0.1) {
                other_case_email(&mut rng, e)
            } else {
                e.clone()
            }
        });
        let mut name = cus
            .map(|c| c.2.name.clone())
            .or_else(|| cust.map(|c| c.name.clone()));
        if let Some(c) = cust.filter(|_| k.dashboard.is_none()) {
            let at = k.started_at;
            if email.is_some() {
                if let Some(e) = habits::charge_email(world.seed, c, &b.country, at, t) {
                    email = e;
                }
            }
            if k.method == PayMethod::CardForm && card_cus.contains_key(&c.id) {
                if let Some(r) = habits::charge_customer(world.seed, c, at, t) {
                    cus_id = Some(r);
                }
            }
            if let Some(h) = habits::cardholder(world.seed, c, p.id) {
                name = Some(h);
            }
        }
        let (md, description) = metadata_and_description(p, res);
        let checkout = k.method == PayMethod::Checkout;
        let expired = checkout && k.no_row && p.charge_id.is_none();
        if let Some(cs) = &k.checkout_session {
            let era_b = k.started_at >= era_b();
            sessions.push(json!({
                "id": cs,
                "object": "checkout.session",
                "after_expiration": null,
                "allow_promotion_codes": null,
                "amount_subtotal": p.amount,
                "amount_total": p.amount,
                "automatic_tax": {"enabled": false, "liability": null, "status": null},
                "billing_address_collection": null,
                "cancel_url": format!("https://book.kelpie.dive/{}/cancelled", b.slug),
                "client_reference_id": res.map(|r| r.id.to_string()),
                "consent": null,
                "created": unix(k.started_at),
                "currency": p.currency,
                "customer": if expired { Value::Null } else { json!(cus_id) },
                "customer_creation": if era_b { "always" } else { "if_required" },
                "customer_details": if expired { Value::Null } else {
                    json!({"address": null, "email": email, "name": name, "phone": null,
                           "tax_exempt": "none", "tax_ids": []})
                },
                "customer_email": k.receipt_email,
                "expires_at": unix(k.started_at + chrono::Duration::hours(24)),
                "livemode": true,
                "locale": null,
                "metadata": {},
                "mode": "payment",
                "payment_intent": if expired { Value::Null } else { json!(p.payment_intent) },
                "payment_method_types": ["card"],
                "payment_status": if expired { "unpaid" } else { "paid" },
                "status": if expired { "expired" } else { "complete" },
                "submit_type": "pay",
                "success_url": format!("https://book.kelpie.dive/{}/thanks", b.slug),
                "url": null
            }));
        }
        if expired {
            continue;
        }
        let Some(pi) = &p.payment_intent else {
            continue;
        };
        let ok = p.charge_id.is_some();
        let brand = k.card_brand.clone().unwrap_or_else(|| "visa".into());
        let last4 = p.card_last4.clone().unwrap_or_else(|| "4242".into());
        // A charge the shop's staff made in its own Dashboard (a Standard account) is not
        // the platform's: no `application`, no application fee.
        let platform = k.dashboard.is_none();
        let application = if platform {
            json!("ca_KelpiePlatform0001")
        } else {
            Value::Null
        };
        let app_fee = (!b.is_demo && platform).then(|| fee(p.amount));
        // Charges: the declines, then the success.
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
        if let Some(ch) = &p.charge_id {
            chs.push((ch.clone(), p.created_at, None, last4.clone()));
        }
        let all_refunded: i64 = p
            .refunds
            .iter()
            .filter(|r| r.at <= t)
            .map(|r| r.amount)
            .sum();
        let mut latest = None;
        let mut last_error = Value::Null;
        for (ch, at, decline, l4) in &chs {
            let success = decline.is_none();
            let refund_objs: Vec<Value> = if success {
                let mut v: Vec<Value> = p
                    .refunds
                    .iter()
                    .filter(|r| r.at <= t)
                    .map(|r| {
                        json!({
                            "amount": r.amount,
                            "balance_transaction": format!("txn_{}", &r.id[3..]),
                            "charge": ch,
                            "created": unix(r.at),
                            "currency": p.currency,
                            "destination_details": {"card": {"reference": null, "reference_status": "pending",
                                "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
                            "id": r.id,
                            "metadata": {},
                            "object": "refund",
                            "payment_intent": pi,
                            "reason": if r.by_dashboard { Value::Null } else { json!("requested_by_customer") },
                            "receipt_number": null,
                            "source_transfer_reversal": null,
                            "status": "succeeded",
                            "transfer_reversal": null
                        })
                    })
                    .collect();
                newest_first(&mut v);
                v
            } else {
                Vec::new()
            };
            refunds.extend(refund_objs.iter().cloned());
            let dispute = p.dispute.as_ref().filter(|d| success && d.at <= t);
            let err = decline.map(|d| {
                json!({"charge": ch, "code": "card_declined", "decline_code": d,
                       "message": "Your card was declined.", "type": "card_error"})
            });
            if let Some(e) = &err {
                last_error = e.clone();
            }
            let charge = json!({
                "amount": p.amount,
                "amount_captured": if success { p.amount } else { 0 },
                "amount_refunded": if success { all_refunded } else { 0 },
                "application": application,
                "application_fee": app_fee.filter(|_| success).map(|_| format!("fee_1{}", alnum(&mut rng, 23))),
                "application_fee_amount": if success { json!(app_fee) } else { Value::Null },
                "balance_transaction": if success { json!(format!("txn_{}", &ch[3..])) } else { Value::Null },
                "billing_details": {"address": {"city": null, "country": null, "line1": null, "line2": null,
                    "postal_code": null, "state": null}, "email": email, "name": name, "phone": null, "tax_id": null},
                "calculated_statement_descriptor": profile_name_at(b, acct, *at).to_uppercase().chars().take(22).collect::<String>(),
                "captured": success,
                "created": unix(*at),
                "currency": p.currency,
                "customer": cus_id,
                "description": description,
                "disputed": dispute.is_some(),
                "failure_balance_transaction": null,
                "failure_code": if success { Value::Null } else { json!("card_declined") },
                "failure_message": if success { Value::Null } else { json!("Your card was declined.") },
                "fraud_details": {},
                "id": ch,
                "livemode": true,
                "metadata": md,
                "object": "charge",
                "on_behalf_of": null,
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
                    "country": null, "exp_month": rng.gen_range(1..13), "exp_year": 2027 + rng.gen_range(0..5),
                    "fingerprint": alnum(&mut rng, 16), "funding": "credit", "last4": l4, "network": brand,
                    "three_d_secure": null, "wallet": null}, "type": "card"},
                "receipt_email": if success { json!(email) } else { Value::Null },
                "receipt_number": if success { json!(p.receipt_number) } else { Value::Null },
                "receipt_url": format!("https://pay.stripe.com/receipts/payment/{}", alnum(&mut rng, 40)),
                "refunded": success && all_refunded >= p.amount && p.amount > 0,
                "refunds": {"data": refund_objs, "has_more": false, "object": "list",
                    "total_count": refund_objs.len(), "url": format!("/v1/charges/{ch}/refunds")},
                "review": null,
                "shipping": null,
                "source": null,
                "statement_descriptor": null,
                "statement_descriptor_suffix": null,
                "status": if success { "succeeded" } else { "failed" },
                "transfer_data": null,
                "transfer_group": null
            });
            let mut charge = charge;
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
                    "evidence_details": {"due_by": unix(d.at + chrono::Duration::days(7)), "has_evidence": false,
                        "past_due": d.at + chrono::Duration::days(7) < t, "submission_count": 0},
                    "id": d.id,
                    "is_charge_refundable": false,
                    "livemode": true,
                    "metadata": {},
                    "object": "dispute",
                    "payment_intent": pi,
                    "reason": "fraudulent",
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
            "application": application,
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
            "on_behalf_of": null,
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
            "status": if ok { "succeeded" } else { "requires_payment_method" },
            "transfer_data": null,
            "transfer_group": null
        }));
    }
    for v in [
        &mut customer_objs,
        &mut charges,
        &mut intents,
        &mut sessions,
        &mut refunds,
        &mut disputes,
    ] {
        newest_first(v);
    }
    let dir = |r: &str| layout::resource_dir(root, acct, r);
    write_pages(&dir("customers"), "/v1/customers", &customer_objs)?;
    write_pages(&dir("charges"), "/v1/charges", &charges)?;
    write_pages(&dir("payment_intents"), "/v1/payment_intents", &intents)?;
    write_pages(
        &dir("checkout_sessions"),
        "/v1/checkout/sessions",
        &sessions,
    )?;
    write_pages(&dir("refunds"), "/v1/refunds", &refunds)?;
    write_pages(&dir("disputes"), "/v1/disputes", &disputes)?;
    if rng.gen_bool(0.33) && !charges.is_empty() {
        write_exports(
            &mut rng,
            &layout::exports_dir(root, acct),
            &charges,
            &intents,
            &customer_objs,
        )?;
    }
    Ok((unix(created), acct.to_string(), account))
}
