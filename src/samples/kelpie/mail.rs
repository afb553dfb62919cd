//! Kelpie's mail wreckage: the journal of the relay `mail.kelpie.dive` (docs/trials/brief.md)
//! as one mbox. App mails (booking_confirmed, booking_changed, booking_cancelled,
//! booking_reminder, payment_received, refund_issued) from `"<name at send time> via Kelpie"`,
//! `Reply-To: <slug>@reply.kelpie.dive`, `X-Kelpie-Shop` since 2021-01-18, and the copies of
//! Stripe's receipts and refund mails (~70 %) the shops' support address received.
//!
//! Mail is in English whatever the shop's locale (the brief's examples); amounts follow the
//! locale (`€84.00`, `84,00 €`, `¥12,000`). The mess: the relay outage of 2025-03-11…13,
//! ~1 % never journaled, a few duplicates, HTML-only and base64 bodies, addresses in other
//! case, names of the shop as they were when each mail was sent.

use super::super::mail::{
    build, first_name, html_page, mbox_entry_at, mix, split_money, to_address, Content,
};
use super::stripe::{metadata_and_description, profile_name_at};
use super::{era_b, relay_outage, shop_header_since};
use crate::samples::world::{
    AppStatus, Business, Change, Customer, PayMethod, Payment, Reservation, ReservationVersion,
    World,
};
use crate::util::time::{self, Timestamp};
use chrono::Duration;
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Write;

const SEED_XOR: u64 = 0x6b65_6c70_6d61_696c;
const DOMAIN: &str = "mail.kelpie.dive";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Confirm,
    Change,
    Cancel,
    Remind,
    Paid,
    Refund(usize),
    StripeReceipt,
    StripeRefund(usize),
}

#[derive(Debug, Clone)]
struct Spec {
    at: Timestamp,
    kind: Kind,
    /// Reservation index (booking mails), payment index (payment mails).
    idx: usize,
    /// Version index (booking mails).
    ver: usize,
    id: String,
}

struct Ctx<'a> {
    world: &'a World,
    biz: HashMap<i64, &'a Business>,
    cust: HashMap<i64, &'a Customer>,
    res: HashMap<i64, &'a Reservation>,
    /// Reservation id -> its payments with a row, in time order.
    pays_of: HashMap<i64, Vec<&'a Payment>>,
}

impl<'a> Ctx<'a> {
    /// The diver a mail about customer `id` goes to at `t` (the survivor once merged).
    fn diver(&self, id: i64, t: Timestamp) -> Option<&'a Customer> {
        let c = *self.cust.get(&id)?;
        let c = match (c.merged_into, c.deleted_at) {
            (Some(m), Some(d)) if d <= t => *self.cust.get(&m)?,
            _ => c,
        };
        if c.erased_at.is_some_and(|e| e <= t) {
            return None;
        }
        Some(c)
    }
}

fn symbol(cur: &str) -> Option<&'static str> {
    Some(match cur {
        "eur" => "€",
        "usd" => "$",
        "gbp" => "£",
        "jpy" => "¥",
        "aud" => "A$",
        "thb" => "฿",
        _ => return None,
    })
}

/// An amount as the shop's locale prints it: `€84.00`, `84,00 €`, `¥12,000`.
pub(crate) fn money(minor: i64, cur: &str, locale: &str) -> String {
    if cur == "jpy" || locale == "en" || locale.is_empty() {
        let (int, frac) = split_money(minor, cur, ',');
        let num = match frac {
            Some(f) => format!("{int}.{f}"),
            None => int,
        };
        return match symbol(cur) {
            Some(s) => format!("{s}{num}"),
            None => format!("{} {num}", cur.to_uppercase()),
        };
    }
    let (int, frac) = split_money(minor, cur, '.');
    let num = match frac {
        Some(f) => format!("{int},{f}"),
        None => int,
    };
    match symbol(cur) {
        Some(s) => format!("{num} {s}"),
        None => format!("{num} {}", cur.to_uppercase()),
    }
}

fn zone(b: &Business) -> Tz {
    time::parse_zone(&b.timezone).unwrap_or(chrono_tz::UTC)
}

fn when(t: Timestamp, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M")
        .to_string()
}

fn day(t: Timestamp, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %b %Y").to_string()
}

fn brand_word(b: &str) -> &'static str {
    match b {
        "mastercard" => "Mastercard",
        "amex" => "American Express",
        _ => "Visa",
    }
}

/// Writes the journal as one mbox.
pub fn write_mbox(world: &World, w: &mut dyn Write) -> std::io::Result<()> {
    let ctx = Ctx {
        world,
        biz: world.businesses.iter().map(|b| (b.id, b)).collect(),
        cust: world.customers.iter().map(|c| (c.id, c)).collect(),
        res: world.reservations.iter().map(|r| (r.id, r)).collect(),
        pays_of: {
            let mut m: HashMap<i64, Vec<&Payment>> = HashMap::new();
            for p in world.payments.iter().filter(|p| p.has_row()) {
                if let Some(r) = p.reservation_id {
                    m.entry(r).or_default().push(p);
                }
            }
            m
        },
    };
    let specs = plan(&ctx);
    let mut rng = ChaCha8Rng::seed_from_u64(world.seed ^ SEED_XOR);
    let (oa, oz) = relay_outage();
    let mut kept: Vec<(usize, u64, bool)> = Vec::with_capacity(specs.len());
    for (i, s) in specs.iter().enumerate() {
        let stripe = matches!(s.kind, Kind::StripeReceipt | Kind::StripeRefund(_));
        let drop =
            (s.at >= oa && s.at < oz) || rng.gen_bool(0.01) || (stripe && rng.gen_bool(0.30));
        let dup = rng.gen_bool(0.002);
        let seed = rng.gen::<u64>();
        if !drop {
            kept.push((i, seed, dup));
        }
    }
    for chunk in kept.chunks(2000) {
        // A mail to nobody (a diver without an email address, or erased) was never sent.
        let rendered: Vec<Vec<u8>> = chunk
            .par_iter()
            .filter_map(|(i, seed, dup)| {
                let s = &specs[*i];
                let mut r = ChaCha8Rng::seed_from_u64(*seed);
                let bytes = render_one(&ctx, s, &mut r)?;
                let stripe = matches!(s.kind, Kind::StripeReceipt | Kind::StripeRefund(_));
                let mut out = mbox_entry_at(stripe, s.at, &bytes);
                if *dup {
                    out.extend_from_within(..);
                }
                Some(out)
            })
            .collect();
        for bytes in rendered {
            w.write_all(&bytes)?;
        }
    }
    Ok(())
}

fn word(k: Kind) -> &'static str {
    match k {
        Kind::Confirm => "confirm",
        Kind::Change => "change",
        Kind::Cancel => "cancel",
        Kind::Remind => "remind",
        Kind::Paid => "paid",
        Kind::Refund(_) => "refund",
        Kind::StripeReceipt => "receipt",
        Kind::StripeRefund(_) => "refund",
    }
}

fn plan(ctx: &Ctx<'_>) -> Vec<Spec> {
    let w = ctx.world;
    let t = w.incident_at;
    let mut specs = Vec::new();
    let app_id = |k: Kind, booking: i64, at: Timestamp| {
        format!("kelpie.{}.{booking}.{}@{DOMAIN}", word(k), at.timestamp())
    };
    for (ri, r) in w.reservations.iter().enumerate() {
        let mut confirmed = false;
        for (vi, v) in r.versions.iter().enumerate() {
            let kind = match v.change {
                Change::Created | Change::Status
                    if !confirmed && v.app_status == Some(AppStatus::Booked) =>
                {
                    confirmed = true;
                    Kind::Confirm
                }
                Change::Changed => Kind::Change,
                Change::Cancelled => Kind::Cancel,
                _ => continue,
            };
            let at = v.at + Duration::seconds(2);
            specs.push(Spec {
                at,
                kind,
                idx: ri,
                ver: vi,
                id: app_id(kind, r.id, at),
            });
        }
        // Reminders 24 h before, if still booked then.
        if let Some(v) = r.versions.last() {
            let at = v.starts_at - Duration::hours(24);
            if let Some(vi) = r.versions.iter().rposition(|x| x.at <= at) {
                let x = &r.versions[vi];
                if x.app_status == Some(AppStatus::Booked)
                    && r.deleted_at.is_none_or(|d| d > at)
                    && mix(w.seed ^ r.id as u64) % 10 < 9
                {
                    specs.push(Spec {
                        at,
                        kind: Kind::Remind,
                        idx: ri,
                        ver: vi,
                        id: app_id(Kind::Remind, r.id, at),
                    });
                }
            }
        }
    }
    for (pi, p) in w.payments.iter().enumerate() {
        let Some(k) = &p.kelpie else { continue };
        let booking = p.reservation_id.unwrap_or(0);
        let acct = ctx
            .biz
            .get(&p.business_id)
            .and_then(|b| b.account_at(k.started_at))
            .unwrap_or("acct_x");
        let h = mix(w.seed ^ (pi as u64).wrapping_mul(77));
        if p.has_row() && k.dashboard.is_none() {
            let at = p.created_at + Duration::seconds(4);
            specs.push(Spec {
                at,
                kind: Kind::Paid,
                idx: pi,
                ver: 0,
                id: app_id(Kind::Paid, booking, at),
            });
            for (n, rf) in p.refunds.iter().enumerate() {
                if rf.not_in_app {
                    continue;
                }
                let at = rf.at + Duration::seconds(6);
                specs.push(Spec {
                    at,
                    kind: Kind::Refund(n),
                    idx: pi,
                    ver: 0,
                    id: app_id(Kind::Refund(n), booking, at),
                });
            }
        }
        if p.charge_id.is_some() && k.receipt_email.is_some() {
            let at = p.created_at + Duration::seconds(3 + (h % 30) as i64);
            specs.push(Spec {
                at,
                kind: Kind::StripeReceipt,
                idx: pi,
                ver: 0,
                id: format!("{:016x}.receipt@{acct}.stripe.com", h),
            });
            for (n, rf) in p.refunds.iter().enumerate() {
                let at = rf.at + Duration::seconds(9);
                specs.push(Spec {
                    at,
                    kind: Kind::StripeRefund(n),
                    idx: pi,
                    ver: 0,
                    id: format!("{:016x}.refund.{n}@{acct}.stripe.com", h),
                });
            }
        }
    }
    specs.retain(|s| s.at <= t);
    specs.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    specs
}

fn render_one(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    match s.kind {
        Kind::Confirm | Kind::Change | Kind::Cancel | Kind::Remind => booking_mail(ctx, s, rng),
        Kind::Paid | Kind::Refund(_) => payment_mail(ctx, s, rng),
        Kind::StripeReceipt | Kind::StripeRefund(_) => stripe_mail(ctx, s, rng),
    }
}

fn template(k: Kind) -> &'static str {
    match k {
        Kind::Confirm => "booking_confirmed",
        Kind::Change => "booking_changed",
        Kind::Cancel => "booking_cancelled",
        Kind::Remind => "booking_reminder",
        Kind::Paid => "payment_received",
        _ => "refund_issued",
    }
}

#[allow(clippy::too_many_arguments)]
fn app_content(
    b: &Business,
    c: &Customer,
    at: Timestamp,
    kind: Kind,
    subject: String,
    paras: Vec<String>,
    rows: Vec<(&'static str, String)>,
    rng: &mut ChaCha8Rng,
) -> Option<Content> {
    let email = c.email.as_deref()?;
    let name = b.name_at(at).to_string();
    let footer = vec![format!(
        "{name} · {} · reply to this mail to reach the shop",
        b.town
    )];
    let mut headers = Vec::new();
    if at >= shop_header_since() {
        headers.push(("X-Kelpie-Shop", b.id.to_string()));
    }
    headers.push(("X-Kelpie-Template", template(kind).to_string()));
    let html_only = rng.gen_bool(0.15);
    Some(Content {
        from_name: format!("{name} via Kelpie"),
        from_addr: format!("bookings@{DOMAIN}"),
        reply_to: Some(format!("{}@reply.kelpie.dive", b.slug)),
        to_name: Some(c.name.clone()),
        to_addr: to_address(email, rng),
        html: Some(html_page(&subject, &paras, &rows, &footer)),
        text: (!html_only).then(|| page_text(&paras, &rows, &footer)),
        subject,
        body: None,
        zone: zone(b),
        headers,
    })
}

/// The text body: paragraphs, one line per `Label: value` (a bare value when the label is
/// empty), the footer.
fn page_text(paras: &[String], rows: &[(&str, String)], footer: &[String]) -> String {
    let mut t = String::with_capacity(512);
    for p in paras {
        t.push_str(p);
        t.push_str("\n\n");
    }
    for (l, v) in rows {
        if l.is_empty() {
            t.push_str(v);
        } else {
            t.push_str(l);
            t.push_str(": ");
            t.push_str(v);
        }
        t.push('\n');
    }
    if !rows.is_empty() {
        t.push('\n');
    }
    for f in footer {
        t.push_str(f);
        t.push('\n');
    }
    t
}

/// What the diver had paid on the booking by `t` (the first payment, for the confirmation).
fn paid_line(ctx: &Ctx<'_>, r: &Reservation, t: Timestamp, b: &Business) -> String {
    let first = ctx
        .pays_of
        .get(&r.id)
        .and_then(|v| v.first())
        .filter(|p| p.created_at <= t);
    match first {
        Some(p) => {
            let kind = p.kelpie.as_ref().map(|k| k.kind.as_str()).unwrap_or("full");
            let m = money(p.amount, &p.currency, &b.locale);
            if kind == "deposit" {
                format!("{m} deposit")
            } else {
                m
            }
        }
        None => "pay on site".to_string(),
    }
}

fn booking_mail(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let r = &ctx.world.reservations[s.idx];
    let v: &ReservationVersion = &r.versions[s.ver];
    let b = *ctx.biz.get(&r.business_id)?;
    let c = ctx.diver(r.customer_id, s.at)?;
    let tz = zone(b);
    let name = b.name_at(s.at).to_string();
    let code = &r.reference;
    let hi = first_name(&c.name).to_string();
    let total = money(v.amount, &b.currency, &b.locale);
    let (subject, paras, rows) = match s.kind {
        Kind::Confirm => (
            format!(
                "Booking confirmed: {} on {} ({code})",
                r.service,
                v.starts_at.with_timezone(&tz).format("%a %-d %b %Y")
            ),
            vec![format!("Hi {hi}, you're booked with {name}.")],
            vec![
                ("Booking", code.clone()),
                ("", r.service.clone()),
                ("", when(v.starts_at, tz)),
                ("Divers", v.party_size.to_string()),
                ("Total", total),
                ("Paid", paid_line(ctx, r, s.at, b)),
            ],
        ),
        Kind::Change => {
            let was = &r.versions[s.ver.saturating_sub(1)];
            (
                format!("Your booking {code} has changed"),
                vec![format!("Hi {hi}, {name} changed your booking {code}.")],
                vec![
                    (
                        "Was",
                        format!(
                            "{} — Now: {}",
                            when(was.starts_at, tz),
                            when(v.starts_at, tz)
                        ),
                    ),
                    ("Divers", v.party_size.to_string()),
                    ("Total", total),
                ],
            )
        }
        Kind::Cancel => {
            let why = match v.app_status {
                Some(AppStatus::CancelledWeather) => format!("by {name}: sea conditions"),
                Some(AppStatus::CancelledShop) => format!("by {name}: the trip cannot run"),
                _ => "at your request".to_string(),
            };
            (
                format!("Booking {code} cancelled"),
                vec![
                    format!(
                        "Hi {hi}, your booking {code} ({}, {}) was cancelled {why}.",
                        r.service,
                        when(v.starts_at, tz)
                    ),
                    "Any payment will be refunded within 5–10 days.".to_string(),
                ],
                vec![],
            )
        }
        _ => {
            let hm = v.starts_at.with_timezone(&tz).format("%H:%M").to_string();
            (
                format!("Reminder: {} tomorrow at {hm}", r.service),
                vec![
                    format!(
                        "Hi {hi}, see you tomorrow at {hm} for {}. Bring your logbook.",
                        r.service
                    ),
                    format!("Ref {code}"),
                ],
                vec![],
            )
        }
    };
    let content = app_content(b, c, s.at, s.kind, subject, paras, rows, rng)?;
    Some(build(&s.id, s.at, content, rng))
}

fn payment_mail(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let p = &ctx.world.payments[s.idx];
    let k = p.kelpie.as_ref()?;
    let b = *ctx.biz.get(&p.business_id)?;
    let r = p.reservation_id.and_then(|id| ctx.res.get(&id).copied())?;
    let c = ctx.diver(r.customer_id, s.at)?;
    let tz = zone(b);
    let name = b.name_at(s.at).to_string();
    let code = r.reference.clone();
    let receipt = if k.receipt_pending {
        "pending".to_string()
    } else {
        p.receipt_number.clone().unwrap_or_else(|| "pending".into())
    };
    let card = format!(
        "{} •••• {}",
        brand_word(k.card_brand.as_deref().unwrap_or("visa")),
        p.card_last4.as_deref().unwrap_or("0000")
    );
    let stripe = matches!(k.method, PayMethod::CardForm | PayMethod::Checkout);
    let (subject, paras, rows) = match s.kind {
        Kind::Refund(n) => {
            let rf = &p.refunds[n];
            let m = money(rf.amount, &p.currency, &b.locale);
            let to = if stripe {
                format!("to your {card}")
            } else {
                format!("({})", k.method.as_str().replace('_', " "))
            };
            (
                format!("Refund issued for {code}"),
                vec![format!("{name} refunded {m} {to} on {}.", day(rf.at, tz))],
                if stripe {
                    vec![("Receipt", receipt), ("Booking", code)]
                } else {
                    vec![("Booking", code)]
                },
            )
        }
        _ => {
            let mut rows = vec![
                ("Amount", money(p.amount, &p.currency, &b.locale)),
                ("Date", day(p.created_at, tz)),
            ];
            if stripe {
                rows.push(("Card", card));
                rows.push(("Receipt", receipt));
            } else {
                rows.push(("Paid on site", k.method.as_str().replace('_', " ")));
            }
            let checkout_a = k.method == PayMethod::Checkout && k.started_at < era_b();
            if !checkout_a {
                rows.push(("Booking", code.clone()));
            }
            (
                format!("Payment received – {code}"),
                vec![format!(
                    "Thanks {}! {name} received your payment.",
                    first_name(&c.name)
                )],
                rows,
            )
        }
    };
    let content = app_content(b, c, s.at, s.kind, subject, paras, rows, rng)?;
    Some(build(&s.id, s.at, content, rng))
}

fn stripe_mail(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let p = &ctx.world.payments[s.idx];
    let k = p.kelpie.as_ref()?;
    let b = *ctx.biz.get(&p.business_id)?;
    let acct = b.account_at(k.started_at)?;
    let own = k.receipt_email.as_deref()?;
    // Stripe mails the address the charge holds (see [`crate::samples::habits`]).
    let w = ctx.world;
    let c = p.customer_id.and_then(|id| ctx.cust.get(&id).copied());
    let habit = c.filter(|_| k.dashboard.is_none()).and_then(|c| {
        crate::samples::habits::charge_email(w.seed, c, &b.country, k.started_at, w.incident_at)
    });
    let email: &str = match &habit {
        Some(Some(e)) => e,
        Some(None) => return None,
        None => own,
    };
    let receipt = p.receipt_number.as_deref()?;
    let tz = zone(b);
    let name = profile_name_at(b, acct, s.at);
    let last4 = p.card_last4.as_deref().unwrap_or("0000");
    let brand = brand_word(k.card_brand.as_deref().unwrap_or("visa"));
    let res = p.reservation_id.and_then(|id| ctx.res.get(&id).copied());
    let (_, description) = metadata_and_description(p, res);
    let fmt = |t: Timestamp| t.with_timezone(&tz).format("%b %-d, %Y").to_string();
    let (subject, title, rows) = match s.kind {
        Kind::StripeRefund(n) => {
            let rf = &p.refunds[n];
            (
                format!("Your refund from {name} #{receipt}"),
                format!("Refund from {name}"),
                vec![
                    ("Refunded", money(rf.amount, &p.currency, "en")),
                    ("Date refunded", fmt(rf.at)),
                    ("Refunded to", format!("- {last4}")),
                ],
            )
        }
        _ => (
            format!("Your receipt from {name} #{receipt}"),
            format!("Receipt from {name}"),
            vec![
                ("Amount paid", money(p.amount, &p.currency, "en")),
                ("Date paid", fmt(p.created_at)),
                ("Payment method", format!("{brand} - {last4}")),
            ],
        ),
    };
    let mut lines = vec![title.clone(), format!("Receipt #{receipt}")];
    for (l, v) in &rows {
        lines.push(format!("{l} {v}"));
    }
    if let Some(d) = &description {
        lines.push(d.clone());
    }
    let mut text = lines.join("\n\n");
    text.push_str(&format!(
        "\n\nIf you have any questions, contact {name} at {}@reply.kelpie.dive.\n\n\
         You're receiving this email because you made a purchase at {name}, which partners with Stripe to provide invoicing and payment processing.\n",
        b.slug
    ));
    let mut html_paras = vec![format!("Receipt #{receipt}")];
    if let Some(d) = &description {
        html_paras.push(d.clone());
    }
    let html_only = rng.gen_bool(0.3);
    let content = Content {
        from_name: name.clone(),
        from_addr: format!("receipts+{acct}@stripe.com"),
        reply_to: Some(format!("{}@reply.kelpie.dive", b.slug)),
        to_name: None,
        to_addr: to_address(email, rng),
        subject,
        text: (!html_only).then_some(text),
        html: Some(html_page(&title, &html_paras, &rows, &[])),
        body: None,
        zone: tz,
        headers: Vec::new(),
    };
    Some(build(&s.id, s.at, content, rng))
}
