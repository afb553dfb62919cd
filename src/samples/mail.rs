//! Renders the mail wreckage of a [`World`]: `mail/app.mbox` (mboxrd), the app's
//! transactional emails (confirmation, change, cancellation, reminder) and Stripe's
//! receipts and refund mails, as real MIME built with mail-builder.
//!
//! The mess: ~10% of messages missing, a few duplicates (same Message-ID twice), junk that
//! matches no template (a newsletter, a bounce, a Stripe payout notice), one truncated
//! message, HTML-only messages, base64 and quoted-printable bodies, RFC 2047 names and
//! subjects, recipients' addresses in changed case, two template versions per flavour (the
//! older one before [`template_cutoff`]).

use super::world::{
    Business, Change, Customer, Flavour, Method, Payment, Reservation, ReservationStatus, World,
};
use crate::error::{Error, Result};
use crate::util::time::{self, Timestamp};
use chrono::{Duration, TimeZone};
use chrono_tz::Tz;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// This renderer's share of the world seed.
const SEED_XOR: u64 = 0x6d61_696c_2e6d_626f;
/// Share of messages missing from the archive.
const DROP_RATE: f64 = 0.10;

/// The app's sending domain per flavour.
pub fn app_domain(f: Flavour) -> &'static str {
    match f {
        Flavour::Bookly => "mail.bookly.app",
        Flavour::Tablehop => "tablehop.com",
        Flavour::Kelpie => "mail.kelpie.dive",
        Flavour::Pedalry => "mail.pedalry.app",
        Flavour::Zenda => "zenda.fit",
    }
}

/// Before this instant the app sent its older template version: halfway between the
/// first reservation and the incident, so both versions appear in any world.
pub fn template_cutoff(world: &World) -> Timestamp {
    let first = world
        .reservations
        .iter()
        .map(|r| r.created_at)
        .min()
        .unwrap_or(world.incident_at);
    let half = (world.incident_at - first) / 2;
    // Whole days, at midnight UTC, so a test can name it.
    let t = first + half;
    chrono::Utc.from_utc_datetime(&t.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Created,
    Changed,
    Cancelled,
    Reminder,
    Receipt,
    Refund(usize),
    Newsletter,
    Bounce,
    Payout,
}

#[derive(Debug, Clone)]
struct Spec {
    at: Timestamp,
    id: String,
    kind: Kind,
    /// Reservation index (app mails) / payment index (Stripe mails).
    idx: usize,
    /// Version index for app mails.
    ver: usize,
}

pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Ctx<'a> {
    world: &'a World,
    biz: HashMap<i64, &'a Business>,
    cust: HashMap<i64, &'a Customer>,
    res: HashMap<i64, &'a Reservation>,
    cutoff: Timestamp,
}

/// Writes `out/mail/app.mbox`.
pub fn render(world: &World, out: &Path) -> Result<()> {
    if world.flavour == Flavour::Zenda {
        return super::zenda::mail::render(world, out);
    }
    let dest = out.join("mail").join("app.mbox");
    let mut f = crate::util::fsx::AtomicFile::create(&dest)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f.file());
        write_mbox(world, &mut w).map_err(|e| Error::Write {
            path: dest.clone(),
            cause: e,
        })?;
        w.flush().map_err(|e| Error::Write {
            path: dest.clone(),
            cause: e,
        })?;
    }
    f.commit()?;
    Ok(())
}

/// The messages of the archive in order, as (mbox sender, date, raw RFC 822 bytes).
pub fn write_mbox(world: &World, w: &mut dyn Write) -> std::io::Result<()> {
    if world.flavour == Flavour::Kelpie {
        return super::kelpie::mail::write_mbox(world, w);
    }
    if world.flavour == Flavour::Pedalry {
        return super::pedalry::mail::write_mbox(world, w);
    }
    if world.flavour == Flavour::Zenda {
        return super::zenda::mail::write_mbox(world, w);
    }
    let ctx = Ctx {
        world,
        biz: world.businesses.iter().map(|b| (b.id, b)).collect(),
        cust: world.customers.iter().map(|c| (c.id, c)).collect(),
        res: world.reservations.iter().map(|r| (r.id, r)).collect(),
        cutoff: template_cutoff(world),
    };
    let specs = plan(&ctx);
    let mut rng = ChaCha8Rng::seed_from_u64(world.seed ^ SEED_XOR);
    // Decide the archive's gaps and copies in date order, and each message's own seed.
    let mut kept: Vec<(usize, u64, bool)> = Vec::with_capacity(specs.len());
    for (i, s) in specs.iter().enumerate() {
        let junk = matches!(s.kind, Kind::Newsletter | Kind::Bounce | Kind::Payout);
        let drop = !junk && rng.gen_bool(DROP_RATE);
        let dup = rng.gen_bool(0.003);
        let seed = rng.gen::<u64>();
        if !drop {
            kept.push((i, seed, dup));
        }
    }
    // At least two duplicates, whatever the dice said.
    let n = kept.len();
    if n > 10 && kept.iter().filter(|k| k.2).count() < 2 {
        kept[n / 3].2 = true;
        kept[2 * n / 3].2 = true;
    }
    let truncated = if n > 4 { Some(n * 2 / 5) } else { None };
    for (ci, chunk) in kept.chunks(2000).enumerate() {
        // Render and quote in parallel; write in order.
        let rendered: Vec<Vec<u8>> = chunk
            .par_iter()
            .enumerate()
            .map(|(j, (i, seed, dup))| {
                let s = &specs[*i];
                let mut r = ChaCha8Rng::seed_from_u64(*seed);
                let mut bytes = render_one(&ctx, s, &mut r);
                if Some(ci * 2000 + j) == truncated {
                    // Cut mid-line early in the body, as a crashed copy would leave it.
                    let body = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
                    bytes.truncate((body + 120).min(bytes.len() * 2 / 3));
                }
                let mut out = mbox_entry(s, &bytes);
                if *dup {
                    out.extend_from_within(..);
                }
                out
            })
            .collect();
        for bytes in rendered {
            w.write_all(&bytes)?;
        }
    }
    Ok(())
}

/// One mbox entry: the `From ` line, the message with LF line ends and mboxrd quoting
/// (`From ` -> `>From `, `>From ` -> `>>From `), and the blank line that ends it.
fn mbox_entry(s: &Spec, msg: &[u8]) -> Vec<u8> {
    mbox_entry_at(s.id.contains("stripe.com"), s.at, msg)
}

/// [`mbox_entry`] for a message from Stripe (`stripe`) or the app, journaled at `at`.
pub(crate) fn mbox_entry_at(stripe: bool, at: Timestamp, msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 64);
    let _ = writeln!(
        out,
        "From {} {}",
        if stripe {
            "receipts@stripe.com"
        } else {
            "MAILER-DAEMON"
        },
        at.format("%a %b %e %H:%M:%S %Y")
    );
    let text = String::from_utf8_lossy(msg);
    let body = text.strip_suffix('\n').unwrap_or(&text);
    for line in body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_start_matches('>').starts_with("From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

/// Every message the app and Stripe sent up to the incident, sorted by date then id.
fn plan(ctx: &Ctx<'_>) -> Vec<Spec> {
    let w = ctx.world;
    let dom = app_domain(w.flavour);
    let mut specs = Vec::new();
    for (ri, r) in w.reservations.iter().enumerate() {
        for (vi, v) in r.versions.iter().enumerate() {
            let kind = match v.change {
                Change::Created => Kind::Created,
                Change::Changed => Kind::Changed,
                Change::Cancelled => Kind::Cancelled,
                _ => continue,
            };
            // The app sends in the request that made the change: the Date is its time.
            let at = v.at;
            specs.push(Spec {
                at,
                id: format!("{}.{}.{}@{dom}", kind_word(kind), r.id, vi),
                kind,
                idx: ri,
                ver: vi,
            });
        }
        // Reminders for about 40% of reservations, the day before, if still confirmed.
        if mix(w.seed ^ (r.id as u64).wrapping_mul(31)) % 10 < 4 {
            for (vi, v) in r.versions.iter().enumerate() {
                let at = v.starts_at - Duration::hours(24);
                let in_force = r.versions.iter().rposition(|x| x.at <= at);
                if in_force == Some(vi) && v.status == ReservationStatus::Confirmed {
                    specs.push(Spec {
                        at,
                        id: format!("reminder.{}.{}@{dom}", r.id, vi),
                        kind: Kind::Reminder,
                        idx: ri,
                        ver: vi,
                    });
                }
            }
        }
    }
    for (pi, p) in w.payments.iter().enumerate() {
        if p.method != Method::Card || p.failed || p.receipt_number.is_none() {
            continue;
        }
        let acct = match ctx
            .biz
            .get(&p.business_id)
            .and_then(|b| b.stripe_account.as_ref())
        {
            Some(a) => a,
            None => continue,
        };
        let h = mix(w.seed ^ p.id as u64);
        specs.push(Spec {
            at: p.created_at + Duration::seconds(3 + (h % 20) as i64),
            id: format!("{:016x}.receipt.{}@{acct}.stripe.com", h, p.id),
            kind: Kind::Receipt,
            idx: pi,
            ver: 0,
        });
        for (k, rf) in p.refunds.iter().enumerate() {
            specs.push(Spec {
                at: rf.at + Duration::seconds(5),
                id: format!("{:016x}.refund.{}.{k}@{acct}.stripe.com", h, p.id),
                kind: Kind::Refund(k),
                idx: pi,
                ver: 0,
            });
        }
    }
    // Junk that matches no template, spread over the timeline.
    if let (Some(first), Some(last)) = (
        specs.iter().map(|s| s.at).min(),
        specs.iter().map(|s| s.at).max(),
    ) {
        let span = last - first;
        for (k, kind) in [Kind::Newsletter, Kind::Bounce, Kind::Payout]
            .into_iter()
            .enumerate()
        {
            let at = first + span * (k as i32 + 1) / 4;
            specs.push(Spec {
                at,
                id: format!("{}.{k}@{dom}", kind_word(kind)),
                kind,
                idx: k,
                ver: 0,
            });
        }
    }
    specs.retain(|s| s.at <= w.incident_at);
    specs.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    specs
}

fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::Created => "confirm",
        Kind::Changed => "change",
        Kind::Cancelled => "cancel",
        Kind::Reminder => "reminder",
        Kind::Receipt => "receipt",
        Kind::Refund(_) => "refund",
        Kind::Newsletter => "news",
        Kind::Bounce => "bounce",
        Kind::Payout => "payout",
    }
}

// ---------------------------------------------------------------------------------------
// Formatting helpers

fn zone(b: &Business) -> Tz {
    time::parse_zone(&b.timezone).unwrap_or(chrono_tz::UTC)
}

fn symbol(cur: &str) -> Option<&'static str> {
    Some(match cur {
        "usd" => "$",
        "eur" => "€",
        "gbp" => "£",
        "jpy" => "¥",
        "cad" => "CA$",
        "aud" => "A$",
        "nzd" => "NZ$",
        "inr" => "₹",
        "krw" => "₩",
        _ => return None,
    })
}

/// `1234567` minor units -> ("12,345", Some("67")) in `cur`'s exponent.
pub(crate) fn split_money(minor: i64, cur: &str, thousands: char) -> (String, Option<String>) {
    let exp = crate::util::money::exponent(cur);
    let abs = minor.unsigned_abs();
    let div = 10u64.pow(exp);
    let (int, frac) = (abs / div, abs % div);
    let digits = int.to_string();
    let mut grouped = String::with_capacity(digits.len() + 4);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(ch);
    }
    if minor < 0 {
        grouped.insert(0, '-');
    }
    let frac = (exp > 0).then(|| format!("{:0width$}", frac, width = exp as usize));
    (grouped, frac)
}

/// `$1,234.50`, `¥12,000`, `CHF 45.00`.
pub fn money_en(minor: i64, cur: &str) -> String {
    let (int, frac) = split_money(minor, cur, ',');
    let num = match frac {
        Some(f) => format!("{int}.{f}"),
        None => int,
    };
    match symbol(cur) {
        Some(s) => format!("{s}{num}"),
        None => format!("{} {num}", cur.to_ascii_uppercase()),
    }
}

/// Continental style for euros: `1.234,50 €`; others as [`money_en`].
fn money_local(minor: i64, cur: &str) -> String {
    if cur != "eur" {
        return money_en(minor, cur);
    }
    let (int, frac) = split_money(minor, cur, '.');
    format!("{int},{} €", frac.unwrap_or_default())
}

/// `EUR 40.00` (tablehop's old template).
fn money_code(minor: i64, cur: &str) -> String {
    let (int, frac) = split_money(minor, cur, ',');
    match frac {
        Some(f) => format!("{} {int}.{f}", cur.to_ascii_uppercase()),
        None => format!("{} {int}", cur.to_ascii_uppercase()),
    }
}

pub(crate) fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

/// The customer's address as this message writes it: sometimes in another case.
pub(crate) fn to_address(email: &str, rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..100) {
        0..=3 => email.to_ascii_uppercase(),
        4..=9 => {
            // Capitalise each part of the local name: ann.lee@x.org -> Ann.Lee@x.org
            let (local, dom) = email.split_once('@').unwrap_or((email, ""));
            let mut out = String::with_capacity(email.len());
            let mut up = true;
            for ch in local.chars() {
                if up {
                    out.extend(ch.to_uppercase());
                } else {
                    out.push(ch);
                }
                up = !ch.is_alphanumeric();
            }
            if !dom.is_empty() {
                out.push('@');
                out.push_str(dom);
            }
            out
        }
        _ => email.to_string(),
    }
}

/// An HTML body: a heading, paragraphs, and a table of label/value rows.
pub(crate) fn html_page(
    title: &str,
    paras: &[String],
    rows: &[(&str, String)],
    footer: &[String],
) -> String {
    let mut h = String::with_capacity(2048);
    h.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
    h.push_str(&esc(title));
    h.push_str("</title><style>td{padding:4px 8px}.l{color:#666}</style></head><body>\n<h1>");
    h.push_str(&esc(title));
    h.push_str("</h1>\n");
    for p in paras {
        let _ = writeln!(h, "<p>{}</p>", esc(p));
    }
    if !rows.is_empty() {
        h.push_str("<table role=\"presentation\">\n");
        for (l, v) in rows {
            let _ = writeln!(
                h,
                "<tr><td class=\"l\">{}</td><td><strong>{}</strong></td></tr>",
                esc(l),
                esc(v)
            );
        }
        h.push_str("</table>\n");
    }
    for f in footer {
        let _ = writeln!(h, "<p style=\"font-size:12px\">{}</p>", esc(f));
    }
    h.push_str("</body></html>\n");
    h
}

pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '–' => o.push_str("&ndash;"),
            '·' => o.push_str("&middot;"),
            c => o.push(c),
        }
    }
    o
}

pub(crate) fn text_page(paras: &[String], rows: &[(&str, String)], footer: &[String]) -> String {
    let mut t = String::with_capacity(1024);
    for p in paras {
        t.push_str(p);
        t.push_str("\n\n");
    }
    for (l, v) in rows {
        let _ = writeln!(t, "{l}: {v}");
    }
    if !rows.is_empty() {
        t.push('\n');
    }
    if !footer.is_empty() {
        t.push_str("-- \n");
        for f in footer {
            t.push_str(f);
            t.push('\n');
        }
    }
    t
}

/// A text part, base64 when `b64` (else mail-builder picks 7bit or quoted-printable).
pub(crate) fn part(ctype: &'static str, body: String, b64: bool) -> MimePart<'static> {
    let ct = ContentType::new(ctype).attribute("charset", "utf-8");
    if b64 {
        let mut enc = Vec::with_capacity(body.len() * 4 / 3 + 8);
        let _ =
            mail_builder::encoders::base64::base64_encode_mime(body.as_bytes(), &mut enc, false);
        let enc = String::from_utf8(enc).unwrap_or_default();
        MimePart::new(ct, BodyPart::Text(enc.into())).transfer_encoding("base64")
    } else {
        MimePart::new(ct, BodyPart::Text(body.into()))
    }
}

pub(crate) struct Content {
    pub(crate) from_name: String,
    pub(crate) from_addr: String,
    pub(crate) reply_to: Option<String>,
    pub(crate) to_name: Option<String>,
    pub(crate) to_addr: String,
    pub(crate) subject: String,
    pub(crate) text: Option<String>,
    pub(crate) html: Option<String>,
    /// Extra MIME part (bounce reports).
    pub(crate) body: Option<MimePart<'static>>,
    pub(crate) zone: Tz,
    /// Extra header fields, in order.
    pub(crate) headers: Vec<(&'static str, String)>,
}

pub(crate) fn build(id: &str, at: Timestamp, c: Content, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let local = at.with_timezone(&c.zone);
    let date = local.format("%a, %d %b %Y %H:%M:%S %z").to_string();
    let mut m = MessageBuilder::new()
        .from(Address::new_address(Some(c.from_name), c.from_addr))
        .to(Address::new_address(c.to_name, c.to_addr))
        .subject(c.subject)
        .message_id(id.to_string())
        .header("Date", Raw::new(date));
    if let Some(r) = c.reply_to {
        m = m.reply_to(Address::new_address(None::<String>, r));
    }
    for (k, v) in c.headers {
        m = m.header(k, Raw::new(v));
    }
    let b64 = rng.gen_bool(0.2);
    let boundary = format!("=_salvage_{:016x}", rng.gen::<u64>());
    let body = match (c.body, c.text, c.html) {
        (Some(b), _, _) => b,
        (None, Some(t), Some(h)) => MimePart::new(
            ContentType::new("multipart/alternative").attribute("boundary", boundary),
            vec![part("text/plain", t, b64), part("text/html", h, b64)],
        ),
        (None, Some(t), None) => part("text/plain", t, b64),
        (None, None, Some(h)) => part("text/html", h, b64),
        (None, None, None) => part("text/plain", String::new(), false),
    };
    m.body(body).write_to_vec().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// The messages

fn render_one(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Vec<u8> {
    match s.kind {
        Kind::Created | Kind::Changed | Kind::Cancelled | Kind::Reminder => app_mail(ctx, s, rng),
        Kind::Receipt | Kind::Refund(_) => stripe_mail(ctx, s, rng),
        Kind::Newsletter | Kind::Bounce | Kind::Payout => junk_mail(ctx, s, rng),
    }
    .unwrap_or_default()
}

fn app_mail(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let r = &ctx.world.reservations[s.idx];
    let v = &r.versions[s.ver];
    let b = *ctx.biz.get(&r.business_id)?;
    let c = *ctx.cust.get(&r.customer_id)?;
    let email = c.email.as_deref()?;
    let tz = zone(b);
    let old = s.at < ctx.cutoff;
    let (subject, paras, rows, footer) = match ctx.world.flavour {
        Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda => {
            bookly(s.kind, old, b, c, r, v, tz)
        }
        Flavour::Tablehop => tablehop(s.kind, old, b, c, r, v, tz),
    };
    let html_only = rng.gen_bool(0.2);
    let title = subject.clone();
    let content = Content {
        from_name: b.name.clone(),
        from_addr: format!("bookings@{}", app_domain(ctx.world.flavour)),
        reply_to: Some(b.email.clone()),
        to_name: Some(c.name.clone()),
        to_addr: to_address(email, rng),
        subject,
        text: (!html_only).then(|| text_page(&paras, &rows, &footer)),
        html: Some(html_page(&title, &paras, &rows, &footer)),
        body: None,
        zone: tz,
        headers: Vec::new(),
    };
    Some(build(&s.id, s.at, content, rng))
}

type Page = (
    String,
    Vec<String>,
    Vec<(&'static str, String)>,
    Vec<String>,
);

fn bookly(
    kind: Kind,
    old: bool,
    b: &Business,
    c: &Customer,
    r: &Reservation,
    v: &super::world::ReservationVersion,
    tz: Tz,
) -> Page {
    let start = v.starts_at.with_timezone(&tz);
    let end = v.ends_at.with_timezone(&tz);
    let pending = v.status == ReservationStatus::Pending;
    let code = &r.reference;
    let footer = vec![
        format!("From all of us at {}, see you soon!", b.name),
        format!("{} · shop #{}", b.name, b.id),
        "Sent by Bookly on behalf of your salon.".to_string(),
    ];
    let hi = format!("Hi {},", first_name(&c.name));
    if old {
        // v1: "Appointment confirmed (BK-...)", Date/Time/Price lines, 12-hour clock.
        let (subject, lead) = match kind {
            Kind::Created if pending => (
                format!("Appointment request received ({code})"),
                format!(
                    "{} has received your appointment request and will confirm it shortly.",
                    b.name
                ),
            ),
            Kind::Created => (
                format!("Appointment confirmed ({code})"),
                format!(
                    "Thanks for booking with {}. Your appointment is confirmed.",
                    b.name
                ),
            ),
            Kind::Changed => (
                format!("Appointment changed ({code})"),
                format!(
                    "{} has changed your appointment. The new details are below.",
                    b.name
                ),
            ),
            Kind::Cancelled => (
                format!("Appointment cancelled ({code})"),
                format!("Your appointment at {} has been cancelled.", b.name),
            ),
            _ => (
                format!("Appointment reminder ({code})"),
                format!(
                    "This is a reminder of your appointment at {} tomorrow.",
                    b.name
                ),
            ),
        };
        let mut rows = vec![
            ("Reference", code.clone()),
            ("Date", start.format("%-d %B %Y").to_string()),
            ("Time", start.format("%-I:%M %p %Z").to_string()),
            ("Service", r.service.clone()),
        ];
        if kind != Kind::Cancelled {
            rows.push(("Price", money_en(v.amount, &b.currency)));
        }
        return (subject, vec![hi, lead], rows, footer);
    }
    let (subject, lead) = match kind {
        Kind::Created if pending => (
            format!("We received your appointment request – {code}"),
            format!(
                "Your appointment request at {} is waiting for confirmation.",
                b.name
            ),
        ),
        Kind::Created => (
            format!("Your appointment is confirmed – {code}"),
            format!("Your appointment at {} is confirmed.", b.name),
        ),
        Kind::Changed => (
            format!("Your appointment has changed – {code}"),
            format!(
                "Your appointment at {} has been changed. Here are the new details:",
                b.name
            ),
        ),
        Kind::Cancelled => (
            format!("Your appointment was cancelled – {code}"),
            format!("Your appointment at {} has been cancelled.", b.name),
        ),
        _ => (
            format!("Reminder: your appointment tomorrow – {code}"),
            format!("See you tomorrow at {}!", b.name),
        ),
    };
    let when = format!(
        "{}–{} ({})",
        start.format("%a %d %b %Y, %H:%M"),
        end.format("%H:%M"),
        start.format("%Z")
    );
    let mut rows = vec![
        ("Booking code", code.clone()),
        ("When", when),
        ("Service", r.service.clone()),
    ];
    if kind != Kind::Cancelled {
        rows.push(("Party", v.party_size.to_string()));
        rows.push(("Total", money_en(v.amount, &b.currency)));
    }
    (subject, vec![hi, lead], rows, footer)
}

fn tablehop(
    kind: Kind,
    old: bool,
    b: &Business,
    c: &Customer,
    r: &Reservation,
    v: &super::world::ReservationVersion,
    tz: Tz,
) -> Page {
    let start = v.starts_at.with_timezone(&tz);
    let pending = v.status == ReservationStatus::Pending;
    let code = &r.reference;
    let n = v.party_size;
    let guests = if n == 1 {
        "1 guest".to_string()
    } else {
        format!("{n} guests")
    };
    if old {
        // v1: "Your booking at <venue> (ref TH...)", long US-style dates, ISO-code money.
        let when = start.format("%A, %B %-d, %Y at %-I:%M %p").to_string();
        let (subject, lead) = match kind {
            Kind::Created if pending => (
                format!("Booking on hold at {} (ref {code})", b.name),
                format!(
                    "your table for {n} is on hold for {when}. Please confirm within 24 hours."
                ),
            ),
            Kind::Created => (
                format!("Your booking at {} (ref {code})", b.name),
                format!("your table for {n} is booked for {when}."),
            ),
            Kind::Changed => (
                format!("Booking changed at {} (ref {code})", b.name),
                format!("your booking now reads: table for {n} on {when}."),
            ),
            Kind::Cancelled => (
                format!("Booking cancelled at {} (ref {code})", b.name),
                format!("your booking for {when} has been cancelled."),
            ),
            _ => (
                format!("Booking reminder: {} (ref {code})", b.name),
                format!("a reminder that your table for {n} is booked for {when}."),
            ),
        };
        let mut rows = vec![("Booking reference", code.clone())];
        if v.amount > 0 && kind != Kind::Cancelled {
            rows.push(("Deposit", money_code(v.amount, &b.currency)));
        }
        let paras = vec![
            format!("Dear {},", c.name),
            lead,
            "Kind regards,".to_string(),
        ];
        return (
            subject,
            paras,
            rows,
            vec![b.name.clone(), "Tablehop reservations".into()],
        );
    }
    let date = start.format("%d/%m/%Y").to_string();
    let hm = start.format("%H:%M").to_string();
    let (subject, lead) = match kind {
        Kind::Created if pending => (
            format!("Reservation on hold: {code} at {}", b.name),
            format!("We are holding a table for you on {date} at {hm} for {guests}. Please confirm within 24 hours."),
        ),
        Kind::Created => (
            format!("Reservation confirmed: {code} at {}", b.name),
            format!("We look forward to seeing you on {date} at {hm} for {guests}."),
        ),
        Kind::Changed => (
            format!("Reservation updated: {code} at {}", b.name),
            format!("Your reservation has been updated. We now expect you on {date} at {hm} for {guests}."),
        ),
        Kind::Cancelled => (
            format!("Reservation cancelled: {code} at {}", b.name),
            format!("Your reservation for {date} at {hm} has been cancelled. We hope to see you another time."),
        ),
        _ => (
            format!("See you tomorrow: {code} at {}", b.name),
            format!("Just a reminder: your table is booked for {date} at {hm} for {guests}."),
        ),
    };
    let mut rows = vec![("Reservation code", code.clone())];
    if v.amount > 0 && kind != Kind::Cancelled {
        rows.push(("Prepaid", money_local(v.amount, &b.currency)));
    }
    let paras = vec![format!("Hello {},", first_name(&c.name)), lead];
    let footer = vec![
        b.name.clone(),
        format!("Manage your reservation: https://tablehop.com/r/{code}"),
        "Powered by Tablehop".into(),
    ];
    (subject, paras, rows, footer)
}

fn stripe_mail(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let p: &Payment = &ctx.world.payments[s.idx];
    let b = *ctx.biz.get(&p.business_id)?;
    let acct = b.stripe_account.as_deref()?;
    let c = p.customer_id.and_then(|id| ctx.cust.get(&id).copied());
    let own = c.and_then(|c| c.email.as_deref())?;
    // Stripe mails the address the charge holds (see [`super::habits`]).
    let w = ctx.world;
    let habit = c.and_then(|c| {
        super::habits::charge_email(w.seed, c, &b.country, p.created_at, w.incident_at)
    });
    let email: &str = match &habit {
        Some(Some(e)) => e,
        Some(None) => return None,
        None => own,
    };
    let tz = zone(b);
    let receipt = p.receipt_number.as_deref()?;
    let last4 = p.card_last4.as_deref().unwrap_or("4242");
    let brand = if mix(p.id as u64) % 5 == 0 {
        "Mastercard"
    } else {
        "Visa"
    };
    // The charge's description, as Stripe shows it on the receipt.
    let res = p.reservation_id.and_then(|id| ctx.res.get(&id));
    let service = match (ctx.world.flavour, res) {
        (Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda, Some(r)) => {
            format!("{} at {}", r.service, b.name)
        }
        (Flavour::Tablehop, Some(r)) => {
            let party = r.at(p.created_at).map(|v| v.party_size).unwrap_or(2);
            format!("Table for {party} at {}", b.name)
        }
        (_, None) => format!("Payment to {}", b.name),
    };
    let paid = money_en(p.amount, &p.currency);
    let fmt_local = |t: Timestamp| {
        t.with_timezone(&tz)
            .format("%b %-d, %Y, %-I:%M:%S %p")
            .to_string()
    };
    let (subject, title, rows) = match s.kind {
        Kind::Refund(k) => {
            let rf = &p.refunds[k];
            let total: i64 = p.refunds[..=k].iter().map(|r| r.amount).sum();
            (
                format!("Your refund from {} #{receipt}", b.name),
                format!("Refund from {}", b.name),
                vec![
                    ("Amount refunded", money_en(total, &p.currency)),
                    ("Amount paid", paid.clone()),
                    ("Date refunded", fmt_local(rf.at)),
                    ("Refunded to", format!("{brand} - {last4}")),
                ],
            )
        }
        _ => (
            format!("Your receipt from {} #{receipt}", b.name),
            format!("Receipt from {}", b.name),
            vec![
                ("Amount paid", paid.clone()),
                ("Date paid", fmt_local(p.created_at)),
                ("Payment method", format!("{brand} - {last4}")),
            ],
        ),
    };
    let paras = vec![title.clone(), format!("Receipt #{receipt}")];
    let footer = vec![
        format!("Summary: {service} {paid}"),
        format!("If you have any questions, contact {} at {}.", b.name, b.email),
        format!(
            "Something wrong with the email? View it in your browser: https://dashboard.stripe.com/receipts/payment/{:x}",
            mix(p.id as u64 ^ 7)
        ),
        format!(
            "You're receiving this email because you made a purchase at {}, which partners with Stripe to provide invoicing and payment processing.",
            b.name
        ),
    ];
    let html_only = rng.gen_bool(0.3);
    let content = Content {
        from_name: b.name.clone(),
        from_addr: format!("receipts+{acct}@stripe.com"),
        reply_to: Some(b.email.clone()),
        to_name: None,
        to_addr: to_address(email, rng),
        subject,
        text: (!html_only).then(|| text_page(&paras, &rows, &footer)),
        html: Some(html_page(&title, &paras[1..], &rows, &footer)),
        body: None,
        zone: tz,
        headers: Vec::new(),
    };
    Some(build(&s.id, s.at, content, rng))
}

fn junk_mail(ctx: &Ctx<'_>, s: &Spec, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let w = ctx.world;
    let dom = app_domain(w.flavour);
    let c = w.customers.iter().find(|c| c.email.is_some());
    let to = c
        .and_then(|c| c.email.clone())
        .unwrap_or_else(|| format!("someone@{dom}"));
    let b = w.businesses.first()?;
    let content = match s.kind {
        Kind::Newsletter => Content {
            from_name: format!("{} news", w.flavour.name()),
            from_addr: format!("news@{dom}"),
            reply_to: None,
            to_name: None,
            to_addr: to,
            subject: "5 ways to fill your quiet Tuesdays 🌿".into(),
            text: Some("This month: loyalty cards, gift vouchers and more.\n\nFrom our blog: how to fill quiet days.\n\nUnsubscribe: https://example.invalid/u\n".into()),
            html: Some(html_page("News", &["This month: loyalty cards, gift vouchers and more.".into()], &[("Issue", "42".into())], &[])),
            body: None,
            zone: chrono_tz::UTC,
            headers: Vec::new(),
        },
        Kind::Bounce => {
            let report = format!(
                "This is the mail system at host {dom}.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<{to}x>: host mx.example.invalid said: 550 5.1.1 user unknown\n"
            );
            let status = format!("Reporting-MTA: dns; {dom}\n\nFinal-Recipient: rfc822; {to}x\nAction: failed\nStatus: 5.1.1\n");
            let boundary = format!("=_bounce_{:08x}", rng.gen::<u32>());
            let body = MimePart::new(
                ContentType::new("multipart/report")
                    .attribute("report-type", "delivery-status")
                    .attribute("boundary", boundary),
                vec![
                    part("text/plain", report, false),
                    MimePart::new(ContentType::new("message/delivery-status"), BodyPart::Text(status.into())),
                ],
            );
            Content {
                from_name: "Mail Delivery System".into(),
                from_addr: format!("MAILER-DAEMON@{dom}"),
                reply_to: None,
                to_name: None,
                to_addr: format!("bookings@{dom}"),
                subject: "Undelivered Mail Returned to Sender".into(),
                text: None,
                html: None,
                body: Some(body),
                zone: chrono_tz::UTC,
                headers: Vec::new(),
            }
        }
        _ => Content {
            from_name: "Stripe".into(),
            from_addr: "notifications@stripe.com".into(),
            reply_to: None,
            to_name: None,
            to_addr: b.email.clone(),
            subject: format!("Your payout of {} is on its way", money_en(123456, &b.currency)),
            text: Some("A payout to your bank account is on its way.\n".into()),
            html: None,
            body: None,
            zone: chrono_tz::UTC,
            headers: Vec::new(),
        },
    };
    Some(build(&s.id, s.at, content, rng))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::world::*;
    use super::*;
    use chrono::TimeZone;

    fn ts(s: &str) -> Timestamp {
        time::parse_any(s, None).unwrap()
    }

    /// A small hand-made world: two businesses (one with a unicode name), reservations in
    /// both template eras, a pending one, changes, a cancellation, card payments with a
    /// refund. Shared by the importer's tests.
    pub(crate) fn tiny_world(flavour: Flavour) -> World {
        let (c1, c2) = match flavour {
            Flavour::Bookly | Flavour::Kelpie | Flavour::Pedalry | Flavour::Zenda => {
                ("BK-7Q2X9", "BK-3MZ8P")
            }
            Flavour::Tablehop => ("TH48213", "TH90017"),
        };
        let v =
            |at: &str, change, start: &str, mins: i64, party, status, amount| ReservationVersion {
                at: ts(at),
                change,
                starts_at: ts(start),
                ends_at: ts(start) + Duration::minutes(mins),
                party_size: party,
                status,
                amount,
                ..Default::default()
            };
        World {
            seed: 7,
            flavour,
            incident_at: ts("2026-11-20T14:30:00Z"),
            backup_at: ts("2026-08-22T03:00:00Z"),
            businesses: vec![
                Business {
                    id: 17,
                    name: "Lumen Hair Studio".into(),
                    email: "hello@lumen.example".into(),
                    timezone: "America/Los_Angeles".into(),
                    currency: "usd".into(),
                    country: "US".into(),
                    stripe_account: Some("acct_1Lumen17".into()),
                    created_at: ts("2025-01-01T00:00:00Z"),
                    ..Default::default()
                },
                Business {
                    id: 18,
                    name: "Café Zürich & Söhne".into(),
                    email: "info@cafe-zuerich.example".into(),
                    timezone: "Europe/Berlin".into(),
                    currency: "eur".into(),
                    country: "DE".into(),
                    stripe_account: Some("acct_1Zurich18".into()),
                    created_at: ts("2025-01-01T00:00:00Z"),
                    ..Default::default()
                },
                Business {
                    id: 19,
                    name: "Sakura".into(),
                    email: "sakura@example.jp".into(),
                    timezone: "Asia/Tokyo".into(),
                    currency: "jpy".into(),
                    country: "JP".into(),
                    stripe_account: None,
                    created_at: ts("2025-01-01T00:00:00Z"),
                    ..Default::default()
                },
            ],
            customers: vec![
                Customer {
                    id: 1,
                    business_id: 17,
                    name: "Ann Lee".into(),
                    email: Some("ann.lee@example.org".into()),
                    phone: None,
                    stripe_customer: Some("cus_A".into()),
                    stripe_duplicates: vec![],
                    created_at: ts("2026-01-01T00:00:00Z"),
                    deleted_at: None,
                    ..Default::default()
                },
                Customer {
                    id: 2,
                    business_id: 18,
                    name: "Jürgen Weiß".into(),
                    email: Some("jw@example.de".into()),
                    phone: None,
                    stripe_customer: Some("cus_B".into()),
                    stripe_duplicates: vec![],
                    created_at: ts("2026-01-01T00:00:00Z"),
                    deleted_at: None,
                    ..Default::default()
                },
                Customer {
                    id: 3,
                    business_id: 19,
                    name: "Yui Sato".into(),
                    email: Some("yui@example.jp".into()),
                    phone: None,
                    stripe_customer: None,
                    stripe_duplicates: vec![],
                    created_at: ts("2026-01-01T00:00:00Z"),
                    deleted_at: None,
                    ..Default::default()
                },
            ],
            reservations: vec![
                // Old era (before the cutoff): created, changed, cancelled.
                Reservation {
                    id: 100,
                    business_id: 17,
                    customer_id: 1,
                    reference: c1.into(),
                    service: "Cut & colour".into(),
                    created_at: ts("2026-02-01T17:00:00Z"),
                    versions: vec![
                        v(
                            "2026-02-01T17:00:00Z",
                            Change::Created,
                            "2026-02-10T17:30:00Z",
                            60,
                            1,
                            ReservationStatus::Confirmed,
                            4500,
                        ),
                        v(
                            "2026-02-03T10:00:00Z",
                            Change::Changed,
                            "2026-02-11T18:00:00Z",
                            90,
                            2,
                            ReservationStatus::Confirmed,
                            9000,
                        ),
                        v(
                            "2026-02-05T10:00:00Z",
                            Change::Cancelled,
                            "2026-02-11T18:00:00Z",
                            90,
                            2,
                            ReservationStatus::Cancelled,
                            9000,
                        ),
                    ],
                    deleted_at: None,
                    ..Default::default()
                },
                // New era, in Berlin, with money over a thousand.
                Reservation {
                    id: 101,
                    business_id: 18,
                    customer_id: 2,
                    reference: c2.into(),
                    service: "Dinner for the team".into(),
                    created_at: ts("2026-09-01T08:00:00Z"),
                    versions: vec![
                        v(
                            "2026-09-01T08:00:00Z",
                            Change::Created,
                            "2026-07-14T17:30:00Z",
                            120,
                            12,
                            ReservationStatus::Confirmed,
                            123450,
                        ),
                        v(
                            "2026-09-02T08:00:00Z",
                            Change::Changed,
                            "2026-09-14T18:00:00Z",
                            120,
                            14,
                            ReservationStatus::Confirmed,
                            140000,
                        ),
                        v(
                            "2026-09-16T21:00:00Z",
                            Change::Completed,
                            "2026-09-14T18:00:00Z",
                            120,
                            14,
                            ReservationStatus::Completed,
                            140000,
                        ),
                    ],
                    deleted_at: None,
                    ..Default::default()
                },
                // Booked in October (CEST) for November (CET): a zone-less time read at
                // the Date header's offset would be an hour off.
                Reservation {
                    id: 103,
                    business_id: 18,
                    customer_id: 2,
                    reference: if flavour == Flavour::Bookly {
                        "BK-DST01".into()
                    } else {
                        "TH10300".into()
                    },
                    service: "Dinner".into(),
                    created_at: ts("2026-10-20T10:00:00Z"),
                    versions: vec![v(
                        "2026-10-20T10:00:00Z",
                        Change::Created,
                        "2026-11-14T18:30:00Z",
                        120,
                        2,
                        ReservationStatus::Confirmed,
                        0,
                    )],
                    deleted_at: None,
                    ..Default::default()
                },
                Reservation {
                    id: 104,
                    business_id: 18,
                    customer_id: 2,
                    reference: if flavour == Flavour::Bookly {
                        "BK-DST02".into()
                    } else {
                        "TH10400".into()
                    },
                    service: "Lunch".into(),
                    created_at: ts("2026-11-02T10:00:00Z"),
                    versions: vec![v(
                        "2026-11-02T10:00:00Z",
                        Change::Created,
                        "2026-11-10T11:00:00Z",
                        60,
                        3,
                        ReservationStatus::Confirmed,
                        0,
                    )],
                    deleted_at: None,
                    ..Default::default()
                },
                // Pending, in Tokyo, yen.
                Reservation {
                    id: 102,
                    business_id: 19,
                    customer_id: 3,
                    reference: if flavour == Flavour::Bookly {
                        "BK-9YY1A".into()
                    } else {
                        "TH55555".into()
                    },
                    service: "Omakase".into(),
                    created_at: ts("2026-10-01T01:00:00Z"),
                    versions: vec![v(
                        "2026-10-01T01:00:00Z",
                        Change::Created,
                        "2026-10-20T10:00:00Z",
                        60,
                        2,
                        ReservationStatus::Pending,
                        12000,
                    )],
                    deleted_at: None,
                    ..Default::default()
                },
            ],
            payments: vec![
                Payment {
                    id: 500,
                    business_id: 17,
                    customer_id: Some(1),
                    reservation_id: Some(100),
                    method: Method::Card,
                    charge_id: Some("ch_1".into()),
                    payment_intent: Some("pi_1".into()),
                    amount: 4500,
                    currency: "usd".into(),
                    created_at: ts("2026-02-01T17:01:00Z"),
                    failed: false,
                    refunds: vec![Refund {
                        id: "re_1".into(),
                        at: ts("2026-02-05T10:05:00Z"),
                        amount: 4500,
                        ..Default::default()
                    }],
                    dispute: None,
                    receipt_number: Some("1234-5678".into()),
                    card_last4: Some("4242".into()),
                    metadata_missing: false,
                    ..Default::default()
                },
                Payment {
                    id: 501,
                    business_id: 18,
                    customer_id: Some(2),
                    reservation_id: Some(101),
                    method: Method::Card,
                    charge_id: Some("ch_2".into()),
                    payment_intent: Some("pi_2".into()),
                    amount: 123450,
                    currency: "eur".into(),
                    created_at: ts("2026-09-01T08:02:00Z"),
                    failed: false,
                    refunds: vec![Refund {
                        id: "re_2".into(),
                        at: ts("2026-09-03T08:00:00Z"),
                        amount: 1000,
                        ..Default::default()
                    }],
                    dispute: None,
                    receipt_number: Some("2222-3333".into()),
                    card_last4: Some("1881".into()),
                    metadata_missing: false,
                    ..Default::default()
                },
                // Cash: no receipt mail.
                Payment {
                    id: 502,
                    business_id: 19,
                    customer_id: Some(3),
                    reservation_id: Some(102),
                    method: Method::Cash,
                    charge_id: None,
                    payment_intent: None,
                    amount: 12000,
                    currency: "jpy".into(),
                    created_at: ts("2026-10-20T11:00:00Z"),
                    failed: false,
                    refunds: vec![],
                    dispute: None,
                    receipt_number: None,
                    card_last4: None,
                    metadata_missing: false,
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    /// Every message of the world, none dropped, unmangled: for template tests.
    pub(crate) fn all_messages(world: &World) -> Vec<(String, Vec<u8>)> {
        let ctx = Ctx {
            world,
            biz: world.businesses.iter().map(|b| (b.id, b)).collect(),
            cust: world.customers.iter().map(|c| (c.id, c)).collect(),
            res: world.reservations.iter().map(|r| (r.id, r)).collect(),
            cutoff: template_cutoff(world),
        };
        plan(&ctx)
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut r = ChaCha8Rng::seed_from_u64(i as u64);
                (s.id.clone(), render_one(&ctx, s, &mut r))
            })
            .collect()
    }

    /// One app mail of reservation `res_idx`, version `ver`, as sent at `at` (which picks
    /// the template version): kind is created, changed, cancelled or reminder.
    pub(crate) fn app_mail_at(
        world: &World,
        res_idx: usize,
        ver: usize,
        kind: &str,
        at: Timestamp,
    ) -> Vec<u8> {
        let ctx = Ctx {
            world,
            biz: world.businesses.iter().map(|b| (b.id, b)).collect(),
            cust: world.customers.iter().map(|c| (c.id, c)).collect(),
            res: world.reservations.iter().map(|r| (r.id, r)).collect(),
            cutoff: template_cutoff(world),
        };
        let kind = match kind {
            "created" => Kind::Created,
            "changed" => Kind::Changed,
            "cancelled" => Kind::Cancelled,
            _ => Kind::Reminder,
        };
        let spec = Spec {
            at,
            id: format!(
                "{}.{res_idx}.{ver}.{}@test",
                kind_word(kind),
                at.timestamp()
            ),
            kind,
            idx: res_idx,
            ver,
        };
        let mut r = ChaCha8Rng::seed_from_u64(at.timestamp() as u64);
        render_one(&ctx, &spec, &mut r)
    }

    /// Every message as one mbox, none dropped or duplicated.
    pub(crate) fn full_mbox(world: &World) -> Vec<u8> {
        let ctx = Ctx {
            world,
            biz: world.businesses.iter().map(|b| (b.id, b)).collect(),
            cust: world.customers.iter().map(|c| (c.id, c)).collect(),
            res: world.reservations.iter().map(|r| (r.id, r)).collect(),
            cutoff: template_cutoff(world),
        };
        let mut out = Vec::new();
        for (i, s) in plan(&ctx).iter().enumerate() {
            let mut r = ChaCha8Rng::seed_from_u64(i as u64);
            out.extend(mbox_entry(s, &render_one(&ctx, s, &mut r)));
        }
        out
    }

    #[test]
    fn money_formats() {
        assert_eq!(money_en(123450, "usd"), "$1,234.50");
        assert_eq!(money_en(12000, "jpy"), "¥12,000");
        assert_eq!(money_en(4500, "chf"), "CHF 45.00");
        assert_eq!(money_local(123450, "eur"), "1.234,50 €");
        assert_eq!(money_code(4000, "eur"), "EUR 40.00");
        assert_eq!(money_en(5, "usd"), "$0.05");
    }

    #[test]
    fn renders_deterministic_sorted_mbox_with_dates_in_local_zone() {
        let w = tiny_world(Flavour::Bookly);
        let mut a = Vec::new();
        write_mbox(&w, &mut a).unwrap();
        let mut b = Vec::new();
        write_mbox(&w, &mut b).unwrap();
        assert_eq!(a, b, "same world, same bytes");
        let text = String::from_utf8_lossy(&a);
        assert!(text.starts_with("From "));
        assert!(
            text.contains("Date: Sun, 01 Feb 2026 09:0") || text.contains("-0800"),
            "{text}"
        );
        // mboxrd: no unquoted body line "From all of us" survives.
        for line in text.lines() {
            if line.starts_with("From ") {
                assert!(
                    line.ends_with("2026"),
                    "unquoted From line in a body: {line}"
                );
            }
        }
        let all = all_messages(&w);
        let ids: Vec<&String> = all.iter().map(|(id, _)| id).collect();
        assert!(ids.iter().any(|i| i.starts_with("confirm.100.0@")));
        assert!(ids.iter().any(|i| i.starts_with("cancel.100.2@")));
        assert!(ids.iter().any(|i| i.contains(".receipt.500@acct_1Lumen17")));
        assert!(ids.iter().any(|i| i.contains(".refund.501.0@")));
        // Nothing after the incident, nothing for the completed version.
        assert!(!ids.iter().any(|i| i.starts_with("confirm.101.2")));
        assert_eq!(
            template_cutoff(&w),
            chrono::Utc.with_ymd_and_hms(2026, 6, 27, 0, 0, 0).unwrap()
        );
    }
}

#[cfg(test)]
mod speed {
    /// `cargo test -- --ignored mail_render_speed --nocapture`: 1,600 businesses.
    #[test]
    #[ignore]
    fn mail_render_speed() {
        let w = crate::samples::simulate::simulate(1600, 1, super::Flavour::Bookly);
        let t = std::time::Instant::now();
        let mut sink = std::io::sink();
        super::write_mbox(&w, &mut sink).unwrap();
        eprintln!("rendered in {:?}", t.elapsed());
    }
}

#[cfg(test)]
mod mess {
    use super::*;

    /// The archive of a simulated world has the mess the brief promises.
    #[test]
    fn archive_has_gaps_duplicates_junk_and_encodings() {
        for flavour in [Flavour::Bookly, Flavour::Tablehop] {
            let w = crate::samples::simulate::simulate(6, 11, flavour);
            let ctx = Ctx {
                world: &w,
                biz: w.businesses.iter().map(|b| (b.id, b)).collect(),
                cust: w.customers.iter().map(|c| (c.id, c)).collect(),
                res: w.reservations.iter().map(|r| (r.id, r)).collect(),
                cutoff: template_cutoff(&w),
            };
            let planned = plan(&ctx).len();
            let mut out = Vec::new();
            write_mbox(&w, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            let ids: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("Message-ID: "))
                .collect();
            let mut uniq = ids.clone();
            uniq.sort();
            uniq.dedup();
            let dups = ids.len() - uniq.len();
            assert!(dups >= 2, "{flavour:?}: {dups} duplicates");
            let kept = uniq.len() as f64 / planned as f64;
            assert!((0.82..0.97).contains(&kept), "{flavour:?}: kept {kept}");
            for needle in [
                "Content-Type: text/html",
                "multipart/alternative",
                "Content-Transfer-Encoding: base64",
                "Content-Transfer-Encoding: quoted-printable",
                "=?utf-8?",
                "Subject: Undelivered Mail Returned to Sender",
                "receipts+acct_",
                "\n>From ",
            ] {
                assert!(text.contains(needle), "{flavour:?}: no {needle:?}");
            }
            // Dates carry the business's offset, not +0000 everywhere.
            assert!(text
                .lines()
                .any(|l| l.starts_with("Date: ") && !l.ends_with("+0000")));
        }
    }
}
