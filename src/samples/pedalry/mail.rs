//! Pedalry's mail wreckage (docs/trials/brief-2.md): the app's plain-text English mails as
//! one mbox. From `"<display name at send time>" <no-reply@<slug>.pedalry.app>`, Reply-To
//! the shop's contact email, To the rider's address as typed, Message-ID
//! `<uuid@mail.pedalry.app>`. Five templates: booking confirmed, rescheduled, cancelled,
//! payment receipt (card only), refund. No integer or Stripe id in any mail.
//!
//! The mess: ~10 % of mails missing, nothing from 2024-11-04 to 2024-11-17 (relay outage),
//! ~1 % sent twice (same body, another Message-ID). Sandboxes mail too.

use super::super::kelpie::mail::money;
use super::super::mail::{build, first_name, mbox_entry_at, Content};
use super::{charge_at, relay_outage, typed_email};
use crate::samples::world::{AppStatus, Business, Change, Customer, Method, Payment, World};
use crate::util::time::{self, Timestamp};
use chrono::Duration;
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Write;

const SEED_XOR: u64 = 0x7065_6461_6d61_696c;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Confirm,
    Reschedule,
    Cancel,
    Receipt,
    Refund(usize),
}

#[derive(Debug, Clone)]
struct Spec {
    at: Timestamp,
    kind: Kind,
    /// Reservation index (booking mails) or payment index (payment mails).
    idx: usize,
    /// Version index (booking mails).
    ver: usize,
}

struct Ctx<'a> {
    world: &'a World,
    biz: HashMap<i64, &'a Business>,
    cust: HashMap<i64, &'a Customer>,
    res: HashMap<i64, usize>,
}

fn zone(b: &Business) -> Tz {
    time::parse_zone(&b.timezone).unwrap_or(chrono_tz::UTC)
}

/// `Sat 12 Apr 2025, 10:00 (WEST)`
fn when(t: Timestamp, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M (%Z)")
        .to_string()
}

/// `12 Apr 2025`
fn day(t: Timestamp, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %b %Y").to_string()
}

fn amount(minor: i64, cur: &str) -> String {
    money(minor, cur, "en")
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let a: u128 = rng.gen();
    let h = format!("{a:032x}");
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        ["8", "9", "a", "b"][rng.gen_range(0..4)],
        &h[17..20],
        &h[20..32]
    )
}

/// Writes the archive as one mbox.
pub fn write_mbox(world: &World, w: &mut dyn Write) -> std::io::Result<()> {
    let ctx = Ctx {
        world,
        biz: world.businesses.iter().map(|b| (b.id, b)).collect(),
        cust: world.customers.iter().map(|c| (c.id, c)).collect(),
        res: world
            .reservations
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect(),
    };
    let specs = plan(&ctx);
    let mut rng = ChaCha8Rng::seed_from_u64(world.seed ^ SEED_XOR);
    let (oa, oz) = relay_outage();
    let mut kept: Vec<(usize, u64, bool)> = Vec::with_capacity(specs.len());
    for (i, s) in specs.iter().enumerate() {
        let drop = (s.at >= oa && s.at < oz) || rng.gen_bool(0.10);
        let dup = rng.gen_bool(0.01);
        let seed = rng.gen::<u64>();
        if !drop {
            kept.push((i, seed, dup));
        }
    }
    for chunk in kept.chunks(2000) {
        let rendered: Vec<Vec<u8>> = chunk
            .par_iter()
            .filter_map(|(i, seed, dup)| {
                let s = &specs[*i];
                let mut r = ChaCha8Rng::seed_from_u64(*seed);
                let (content, at) = render_one(&ctx, s)?;
                let id = format!("{}@mail.pedalry.app", uuid(&mut r));
                let bytes = build(&id, at, content, &mut r);
                let mut out = mbox_entry_at(false, at, &bytes);
                if *dup {
                    // Sent twice: the same body under another Message-ID, a little later.
                    let (content, _) = render_one(&ctx, s)?;
                    let id2 = format!("{}@mail.pedalry.app", uuid(&mut r));
                    let at2 = at + Duration::seconds(r.gen_range(1..90));
                    let b2 = build(&id2, at2, content, &mut r);
                    out.extend(mbox_entry_at(false, at2, &b2));
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

fn plan(ctx: &Ctx<'_>) -> Vec<Spec> {
    let w = ctx.world;
    let t = w.incident_at;
    let mut specs = Vec::new();
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
                Change::Changed => Kind::Reschedule,
                Change::Cancelled => Kind::Cancel,
                _ => continue,
            };
            specs.push(Spec {
                at: v.at + Duration::seconds(3),
                kind,
                idx: ri,
                ver: vi,
            });
        }
    }
    for (pi, p) in w.payments.iter().enumerate() {
        if p.method != Method::Card || p.failed || !p.has_row() {
            continue;
        }
        let Some(k) = &p.kelpie else { continue };
        specs.push(Spec {
            at: charge_at(k) + Duration::seconds(6),
            kind: Kind::Receipt,
            idx: pi,
            ver: 0,
        });
        for (n, rf) in p.refunds.iter().enumerate() {
            specs.push(Spec {
                at: rf.at + Duration::seconds(8),
                kind: Kind::Refund(n),
                idx: pi,
                ver: 0,
            });
        }
    }
    specs.retain(|s| s.at <= t);
    specs.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| a.idx.cmp(&b.idx))
            .then_with(|| a.ver.cmp(&b.ver))
    });
    specs
}

fn content(
    b: &Business,
    c: &Customer,
    seed: u64,
    at: Timestamp,
    subject: String,
    body: String,
) -> Option<Content> {
    let to = typed_email(seed, c)?;
    Some(Content {
        from_name: b.name_at(at).to_string(),
        from_addr: format!("no-reply@{}.pedalry.app", b.slug),
        reply_to: Some(b.email.clone()),
        to_name: None,
        to_addr: to,
        subject,
        text: Some(body),
        html: None,
        body: None,
        zone: zone(b),
        headers: Vec::new(),
    })
}

fn render_one(ctx: &Ctx<'_>, s: &Spec) -> Option<(Content, Timestamp)> {
    let w = ctx.world;
    let seed = w.seed;
    match s.kind {
        Kind::Confirm | Kind::Reschedule | Kind::Cancel => {
            let r = &w.reservations[s.idx];
            let v = &r.versions[s.ver];
            let b = *ctx.biz.get(&r.business_id)?;
            let c = *ctx.cust.get(&r.customer_id)?;
            let tz = zone(b);
            let name = b.name_at(s.at).to_string();
            let code = &r.reference;
            let hi = first_name(&c.name);
            let (subject, body) = match s.kind {
                Kind::Confirm => (
                    format!("Your bikes are booked – {code}"),
                    format!(
                        "Hi {hi},\n\nYour booking {code} at {name} is confirmed.\n\n\
                         Bikes: {} x {}\nPick-up: {}\nReturn: {}\nTotal: {}\n\n\
                         See you soon!\n{name} via Pedalry\n",
                        v.party_size,
                        r.service,
                        when(v.starts_at, tz),
                        when(v.ends_at, tz),
                        amount(v.amount, &b.currency)
                    ),
                ),
                Kind::Reschedule => (
                    format!("New times for booking {code}"),
                    format!(
                        "Hi {hi},\n\nYour booking {code} has new times.\n\n\
                         Pick-up: {}\nReturn: {}\n\n{name} via Pedalry\n",
                        when(v.starts_at, tz),
                        when(v.ends_at, tz)
                    ),
                ),
                _ => (
                    format!("Booking {code} cancelled"),
                    format!(
                        "Hi {hi},\n\nYour booking {code} ({} x {}, {}) has been cancelled.\n\
                         If you paid, any refund will follow in a separate email.\n\n\
                         {name} via Pedalry\n",
                        v.party_size,
                        r.service,
                        day(v.starts_at, tz)
                    ),
                ),
            };
            Some((content(b, c, seed, s.at, subject, body)?, s.at))
        }
        Kind::Receipt | Kind::Refund(_) => {
            let p: &Payment = &w.payments[s.idx];
            let k = p.kelpie.as_ref()?;
            let b = *ctx.biz.get(&p.business_id)?;
            let r = &w.reservations[*ctx.res.get(&p.reservation_id?)?];
            let c = *ctx.cust.get(&r.customer_id)?;
            let tz = zone(b);
            let name = b.name_at(s.at).to_string();
            let code = &r.reference;
            let hi = first_name(&c.name);
            let last4 = p.card_last4.as_deref().unwrap_or("0000");
            let (subject, body) = match s.kind {
                Kind::Refund(n) => {
                    let rf = &p.refunds[n];
                    let so_far: i64 = p.refunds[..=n].iter().map(|x| x.amount).sum();
                    let m = amount(rf.amount, &p.currency);
                    (
                        format!("Refund for {code} – {m}"),
                        format!(
                            "Hi {hi},\n\nWe have refunded {m} to your card ending {last4} for booking {code}.\n\
                             Total refunded so far: {}\nRefunds take 5–10 business days to appear.\n\n\
                             {name} via Pedalry\n",
                            amount(so_far, &p.currency)
                        ),
                    )
                }
                _ => {
                    let m = amount(p.amount, &p.currency);
                    (
                        format!("Receipt for {code} – {m}"),
                        format!(
                            "Hi {hi},\n\nThanks for your payment.\n\nBooking: {code}\n\
                             Amount paid: {m}\nDate: {}\nCard: ending {last4}\n\n{name} via Pedalry\n",
                            day(charge_at(k), tz)
                        ),
                    )
                }
            };
            Some((content(b, c, seed, s.at, subject, body)?, s.at))
        }
    }
}
