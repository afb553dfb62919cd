//! Zenda's mail wreckage: the Maildir of the BCC mailbox `archive@zenda.fit`, synced from
//! Gmail by mbsync: every message in `[Gmail].All Mail/cur/`, ~40 % also in `INBOX/` or
//! `Receipts/` (same Message-ID), the last two days' `INBOX` mail still in `new/`.
//!
//! Eight templates in the studio's language (`pl`, `cs`, `de`, `en`): `spot_confirmed`,
//! `spot_changed` (a spot moved, or its session rescheduled), `spot_cancelled`,
//! `class_cancelled`, `waitlist_promoted`, `reminder` (3 h before, members who opted in),
//! `receipt` and `refund`; `multipart/alternative` text and HTML, UTF-8, quoted-printable
//! (Postmark-era receipts and refunds HTML only). `From: "<studio name at send time>"
//! <noreply@zenda.fit>` (RFC 2047 when not ASCII), `Reply-To` the studio's contact,
//! `To` the person's address at the time (a walk-in's as staff typed it; a kid's parent's),
//! `Date` in `+0000`. Postmark until 2024-09-10 (Message-ID `@mtasv.net`, no tenant
//! header), then Amazon SES (`X-Zenda-Studio`, `X-Zenda-Template`). Local date, time and
//! money formats of each language, `U+00A0` before the currency symbol.
//!
//! No mail for expired or void purchases, disputes, check-ins, no-shows, failed renewals,
//! removed spots, studio credit, or Dashboard refunds before 2024-04-15; cash receipts only
//! when staff ticked "email receipt". The mess: nothing archived 2024-09-10 → 2024-09-21
//! (BCC not set up on SES), ~2 % lost, ~0.5 % of Postmark mail sent twice under a new
//! Message-ID.

use super::sim::pass_label;
use super::*;
use crate::error::{Error, Result};
use chrono::{Datelike, NaiveDateTime, Timelike};
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

const SEED_XOR: u64 = 0x7a65_6e64_616d_6169;
const NBSP: char = '\u{a0}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Confirmed,
    Promoted,
    Changed,
    /// The session was rescheduled (no spot version).
    SessionMoved,
    Cancelled,
    ClassCancelled,
    Reminder,
    Receipt,
    Refund(usize),
}

impl Kind {
    fn template(self) -> &'static str {
        match self {
            Kind::Confirmed => "spot_confirmed",
            Kind::Promoted => "waitlist_promoted",
            Kind::Changed | Kind::SessionMoved => "spot_changed",
            Kind::Cancelled => "spot_cancelled",
            Kind::ClassCancelled => "class_cancelled",
            Kind::Reminder => "reminder",
            Kind::Receipt => "receipt",
            Kind::Refund(_) => "refund",
        }
    }
    fn receipts(self) -> bool {
        matches!(self, Kind::Receipt | Kind::Refund(_))
    }
}

#[derive(Debug, Clone)]
struct Spec {
    at: Timestamp,
    kind: Kind,
    /// Spot index (spot mails) or purchase index (receipts, refunds).
    idx: usize,
    /// Version index (spot mails); the session id for `SessionMoved`.
    ver: usize,
}

struct Ctx<'a> {
    z: &'a Zenda,
    /// Fee purchases by the spot they are for.
    fees: HashMap<&'a str, usize>,
    /// Purchases by id.
    purchases: HashMap<&'a str, usize>,
    spots: HashMap<&'a str, usize>,
}

// ---------------------------------------------------------------------------------------
// Words, dates and money of each language.

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_PL: [&str; 12] = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_CS: [&str; 12] = [
    "ledna",
    "února",
    "března",
    "dubna",
    "května",
    "června",
    "července",
    "srpna",
    "září",
    "října",
    "listopadu",
    "prosince",
];
const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const DAYS_PL: [&str; 7] = [
    "poniedziałek",
    "wtorek",
    "środa",
    "czwartek",
    "piątek",
    "sobota",
    "niedziela",
];
const DAYS_DE: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const DAYS_CS: [&str; 7] = [
    "pondělí",
    "úterý",
    "středa",
    "čtvrtek",
    "pátek",
    "sobota",
    "neděle",
];

/// A class's local date and time: `Monday 14 April 2025 at 18:30`,
/// `poniedziałek, 14 kwietnia 2025, godz. 18:30`, `Montag, 14. April 2025, 18:30 Uhr`,
/// `pondělí 14. dubna 2025 v 18:30`.
pub(crate) fn class_when(locale: &str, l: NaiveDateTime) -> String {
    let wd = l.weekday().num_days_from_monday() as usize;
    let m = l.month0() as usize;
    let (d, y) = (l.day(), l.year());
    let hm = l.format("%H:%M");
    match locale {
        "pl" => format!("{}, {d} {} {y}, godz. {hm}", DAYS_PL[wd], MONTHS_PL[m]),
        "de" => format!("{}, {d}. {} {y}, {hm} Uhr", DAYS_DE[wd], MONTHS_DE[m]),
        "cs" => format!(
            "{} {d}. {} {y} v {}:{:02}",
            DAYS_CS[wd],
            MONTHS_CS[m],
            l.hour(),
            l.minute()
        ),
        _ => format!("{} {d} {} {y} at {hm}", DAYS_EN[wd], MONTHS_EN[m]),
    }
}

/// When a payment was made: `12 April 2025, 09:14`, `12 kwietnia 2025, 09:14`,
/// `12. April 2025, 09:14`, `12. dubna 2025 v 9:14`.
pub(crate) fn paid_when(locale: &str, l: NaiveDateTime) -> String {
    let m = l.month0() as usize;
    let (d, y) = (l.day(), l.year());
    let hm = l.format("%H:%M");
    match locale {
        "pl" => format!("{d} {} {y}, {hm}", MONTHS_PL[m]),
        "de" => format!("{d}. {} {y}, {hm}", MONTHS_DE[m]),
        "cs" => format!("{d}. {} {y} v {}:{:02}", MONTHS_CS[m], l.hour(), l.minute()),
        _ => format!("{d} {} {y}, {hm}", MONTHS_EN[m]),
    }
}

/// A day of a period: `1 April 2025`, `1 kwietnia 2025`, `1. April 2025`, `1. dubna 2025`.
fn day_of(locale: &str, d: NaiveDate) -> String {
    let m = d.month0() as usize;
    match locale {
        "pl" => format!("{} {} {}", d.day(), MONTHS_PL[m], d.year()),
        "de" => format!("{}. {} {}", d.day(), MONTHS_DE[m], d.year()),
        "cs" => format!("{}. {} {}", d.day(), MONTHS_CS[m], d.year()),
        _ => format!("{} {} {}", d.day(), MONTHS_EN[m], d.year()),
    }
}

/// The time of day as a subject shows it (`18:30`; Czech `9:00`).
fn time_of(locale: &str, l: NaiveDateTime) -> String {
    match locale {
        "cs" => format!("{}:{:02}", l.hour(), l.minute()),
        _ => l.format("%H:%M").to_string(),
    }
}

fn group(int: u64, sep: &str) -> String {
    let digits = int.to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(sep);
        }
        out.push(ch);
    }
    out
}

/// Money as the studio's language writes it: `£12.00`, `€15.00`, `45,00 zł`,
/// `1 200,00 zł`, `18,00 €`, `1.200,00 €`, `250 Kč`, `249,50 Kč` (U+00A0 spaces).
pub(crate) fn money(minor: i64, currency: &str, locale: &str) -> String {
    let neg = if minor < 0 { "-" } else { "" };
    let a = minor.unsigned_abs();
    let (int, frac) = (a / 100, a % 100);
    let nb = NBSP.to_string();
    match (locale, currency) {
        ("pl", _) => format!("{neg}{},{frac:02}{nb}zł", group(int, &nb)),
        ("cs", _) if frac == 0 => format!("{neg}{}{nb}Kč", group(int, &nb)),
        ("cs", _) => format!("{neg}{},{frac:02}{nb}Kč", group(int, &nb)),
        ("de", _) => format!("{neg}{},{frac:02}{nb}€", group(int, ".")),
        (_, "GBP") => format!("{neg}£{}.{frac:02}", group(int, ",")),
        _ => format!("{neg}€{}.{frac:02}", group(int, ",")),
    }
}

fn brand(b: &str) -> &'static str {
    match b {
        "mastercard" => "Mastercard",
        "amex" => "American Express",
        _ => "Visa",
    }
}

/// A label of a `Label: value` line.
fn label(locale: &str, key: &str) -> &'static str {
    let i = match key {
        "when" => 0,
        "where" => 1,
        "paid_with" => 2,
        "guests" => 3,
        "was" => 4,
        "now" => 5,
        "item" => 6,
        "amount" => 7,
        "paid" => 8,
        "method" => 9,
        "doc" => 10,
        "ref" => 11,
        "manage" => 12,
        "original" => 13,
        "so_far" => 14,
        _ => 0,
    };
    let table: [&str; 15] = match locale {
        "pl" => [
            "Kiedy",
            "Gdzie",
            "Płatność",
            "Goście",
            "Było",
            "Jest",
            "Pozycja",
            "Kwota",
            "Zapłacono",
            "Metoda",
            "Nr dokumentu",
            "Referencja",
            "Zarządzaj rezerwacją",
            "Płatność pierwotna",
            "Zwrócono dotąd",
        ],
        "de" => [
            "Wann",
            "Wo",
            "Bezahlt mit",
            "Gäste",
            "Vorher",
            "Jetzt",
            "Artikel",
            "Betrag",
            "Bezahlt am",
            "Zahlungsart",
            "Beleg-Nr.",
            "Referenz",
            "Buchung verwalten",
            "Ursprüngliche Zahlung",
            "Bisher erstattet",
        ],
        "cs" => [
            "Kdy",
            "Kde",
            "Platba",
            "Hosté",
            "Původně",
            "Nově",
            "Položka",
            "Částka",
            "Zaplaceno",
            "Způsob platby",
            "Číslo dokladu",
            "Reference",
            "Správa rezervace",
            "Původní platba",
            "Dosud vráceno",
        ],
        _ => [
            "When",
            "Where",
            "Paid with",
            "Guests",
            "Was",
            "Now",
            "Item",
            "Amount",
            "Paid",
            "Method",
            "Document no.",
            "Reference",
            "Manage your booking",
            "Original payment",
            "Refunded so far",
        ],
    };
    table[i]
}

fn hello(locale: &str, name: &str) -> String {
    match locale {
        "pl" => format!("Cześć {name}!"),
        "de" => format!("Hallo {name},"),
        "cs" => format!("Ahoj {name},"),
        _ => format!("Hi {name},"),
    }
}

/// `Hi Zofia, you cancelled in time.`: the sentence goes on after a comma (Polish greets
/// with `!`).
fn after_hello(locale: &str, hi: &str, sentence: &str) -> String {
    if locale == "pl" {
        return format!("{hi} {sentence}");
    }
    let mut c = sentence.chars();
    match c.next() {
        Some(f) => format!("{hi} {}{}", f.to_lowercase(), c.as_str()),
        None => hi.to_string(),
    }
}

fn subject_prefix(locale: &str, kind: Kind) -> &'static str {
    match (locale, kind) {
        ("pl", Kind::Confirmed) => "Rezerwacja potwierdzona:",
        ("pl", Kind::Changed | Kind::SessionMoved) => "Zmiana rezerwacji:",
        ("pl", Kind::Cancelled) => "Anulowano:",
        ("pl", Kind::ClassCancelled) => "Zajęcia odwołane:",
        ("pl", Kind::Promoted) => "Zwolniło się miejsce:",
        ("de", Kind::Confirmed) => "Buchung bestätigt:",
        ("de", Kind::Changed | Kind::SessionMoved) => "Buchung geändert:",
        ("de", Kind::Cancelled) => "Storniert:",
        ("de", Kind::ClassCancelled) => "Kurs abgesagt:",
        ("de", Kind::Promoted) => "Platz frei geworden:",
        ("cs", Kind::Confirmed) => "Rezervace potvrzena:",
        ("cs", Kind::Changed | Kind::SessionMoved) => "Změna rezervace:",
        ("cs", Kind::Cancelled) => "Zrušeno:",
        ("cs", Kind::ClassCancelled) => "Lekce zrušena:",
        ("cs", Kind::Promoted) => "Uvolnilo se místo:",
        (_, Kind::Confirmed) => "You're booked:",
        (_, Kind::Changed | Kind::SessionMoved) => "Your booking has moved:",
        (_, Kind::Cancelled) => "Cancelled:",
        (_, Kind::ClassCancelled) => "Class cancelled:",
        (_, Kind::Promoted) => "A spot opened up:",
        _ => "",
    }
}

/// A mail's content before MIME.
struct Page {
    subject: String,
    paras: Vec<String>,
    rows: Vec<(&'static str, String)>,
    studio: String,
    url: String,
}

fn text_body(p: &Page) -> String {
    let mut t = String::with_capacity(1024);
    for para in &p.paras {
        t.push_str(para);
        t.push_str("\n\n");
    }
    for (l, v) in &p.rows {
        t.push_str(l);
        t.push_str(": ");
        t.push_str(v);
        t.push('\n');
    }
    if !p.rows.is_empty() {
        t.push('\n');
    }
    t.push_str(&format!("{} · powered by Zenda · {}\n", p.studio, p.url));
    t
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            NBSP => o.push_str("&nbsp;"),
            c => o.push(c),
        }
    }
    o
}

fn html_body(p: &Page) -> String {
    let mut h = String::with_capacity(2048);
    h.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>");
    h.push_str(&esc(&p.subject));
    h.push_str("</title></head><body style=\"font-family:Helvetica,Arial,sans-serif;color:#222\">\n<div style=\"max-width:560px;margin:0 auto\">\n");
    for para in &p.paras {
        h.push_str("<p>");
        h.push_str(&esc(para));
        h.push_str("</p>\n");
    }
    if !p.rows.is_empty() {
        h.push_str("<table role=\"presentation\" cellpadding=\"4\">\n");
        for (l, v) in &p.rows {
            let val = if v.starts_with("https://") {
                format!("<a href=\"{}\">{}</a>", esc(v), esc(v))
            } else {
                esc(v)
            };
            h.push_str(&format!(
                "<tr><td style=\"color:#666\">{}</td><td><strong>{val}</strong></td></tr>\n",
                esc(l)
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str(&format!(
        "<p style=\"font-size:12px;color:#888\">{} &middot; powered by Zenda &middot; <a href=\"{}\">{}</a></p>\n</div></body></html>\n",
        esc(&p.studio),
        esc(&p.url),
        esc(&p.url)
    ));
    h
}

fn qp_part(ctype: &'static str, body: &str) -> MimePart<'static> {
    let ct = ContentType::new(ctype).attribute("charset", "utf-8");
    let mut enc = Vec::with_capacity(body.len() * 11 / 10 + 16);
    let _ = mail_builder::encoders::quoted_printable::quoted_printable_encode(
        body.as_bytes(),
        &mut enc,
        true,
    );
    let enc = String::from_utf8(enc).unwrap_or_default();
    MimePart::new(ct, BodyPart::Text(enc.into())).transfer_encoding("quoted-printable")
}

// ---------------------------------------------------------------------------------------
// Planning: which mails the app sent, when.

fn plan(cx: &Ctx<'_>, t: Timestamp) -> Vec<Spec> {
    let z = cx.z;
    let mut specs = Vec::new();
    let mut by_session: HashMap<i64, Vec<usize>> = HashMap::new();
    for (si, sp) in z.spots.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for v in &sp.versions {
            if seen.insert(v.session_id) {
                by_session.entry(v.session_id).or_default().push(si);
            }
        }
        for (vi, v) in sp.versions.iter().enumerate() {
            let kind = match v.ev {
                SpotEv::Booked => Kind::Confirmed,
                SpotEv::Promoted => Kind::Promoted,
                SpotEv::Moved => Kind::Changed,
                SpotEv::Cancelled | SpotEv::LateCancel => Kind::Cancelled,
                SpotEv::ClassCancelled
                    if vi > 0 && sp.versions[vi - 1].state == SpotState::Reserved =>
                {
                    Kind::ClassCancelled
                }
                _ => continue,
            };
            let off = (hash(&format!("{}:{vi}", sp.id)) % 18) as i64 + 2;
            specs.push(Spec {
                at: v.at + Duration::seconds(off),
                kind,
                idx: si,
                ver: vi,
            });
        }
        // The reminder, 3 h before, to members who opted in.
        let m = z.member(z.owner_at(sp.member_id, sp.created_at));
        if m.reminders {
            let last = sp.versions.last().map(|v| v.session_id).unwrap_or(0);
            let s = z.session(last);
            let tz = z.studio(s.studio_id).tz();
            let rt = s.start(tz) - Duration::hours(3);
            let rt = s.start_at(rt, tz) - Duration::hours(3);
            if let Some(v) = sp.at(rt) {
                if v.state == SpotState::Reserved && v.session_id == last && !s.cancelled_by(rt) {
                    specs.push(Spec {
                        at: rt + Duration::seconds((hash(&sp.id) % 120) as i64),
                        kind: Kind::Reminder,
                        idx: si,
                        ver: 0,
                    });
                }
            }
        }
    }
    for s in &z.sessions {
        let Some((_, _, at)) = s.moved else { continue };
        for &si in by_session.get(&s.id).map(Vec::as_slice).unwrap_or(&[]) {
            let sp = &z.spots[si];
            if sp
                .at(at)
                .is_some_and(|v| v.session_id == s.id && v.state == SpotState::Reserved)
            {
                specs.push(Spec {
                    at: at + Duration::seconds((hash(&sp.id) % 60) as i64 + 5),
                    kind: Kind::SessionMoved,
                    idx: si,
                    ver: s.id as usize,
                });
            }
        }
    }
    for (pi, p) in z.purchases.iter().enumerate() {
        let Some(paid) = p.paid_at() else { continue };
        let mailable = p.member_id.is_some()
            && match p.method {
                PMethod::CreditBalance => false,
                PMethod::Cash => p.email_receipt,
                _ => true,
            };
        if mailable {
            specs.push(Spec {
                at: paid + Duration::seconds((hash(&p.id) % 25) as i64 + 3),
                kind: Kind::Receipt,
                idx: pi,
                ver: 0,
            });
        }
        if p.member_id.is_some() {
            for (n, r) in p.refunds.iter().enumerate() {
                if r.in_app {
                    specs.push(Spec {
                        at: r.at + Duration::seconds((hash(&p.id) % 25) as i64 + 4),
                        kind: Kind::Refund(n),
                        idx: pi,
                        ver: 0,
                    });
                }
            }
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

// ---------------------------------------------------------------------------------------
// Rendering one mail.

struct Rendered {
    at: Timestamp,
    to: String,
    from_name: String,
    reply_to: String,
    studio_id: i64,
    page: Page,
    html_only: bool,
    template: &'static str,
}

fn paid_with_text(cx: &Ctx<'_>, s: &Studio, sp: &Spot, v: &SpotV) -> String {
    let l = s.locale.as_str();
    let m = money(v.price, &s.currency, l);
    match v.paid_with {
        PaidWith::DropIn => {
            let credit = sp
                .purchase
                .as_ref()
                .and_then(|id| cx.purchases.get(id.as_str()))
                .is_some_and(|&i| cx.z.purchases[i].method == PMethod::CreditBalance);
            let word = match (l, credit) {
                ("pl", false) => "karta",
                ("pl", true) => "saldo",
                ("de", false) => "Karte",
                ("de", true) => "Guthaben",
                ("cs", false) => "karta",
                ("cs", true) => "kredit",
                (_, false) => "card",
                (_, true) => "credit",
            };
            format!("{word}, {m}")
        }
        PaidWith::Pass => {
            let left = sp.pass.map(|p| p.1).unwrap_or(0);
            match l {
                "pl" => format!("karnet (pozostało {left})"),
                "de" => format!("10er-Karte (noch {left})"),
                "cs" => format!("permanentka (zbývá {left})"),
                _ => format!("10-class pass ({left} left)"),
            }
        }
        PaidWith::Membership => match l {
            "pl" => "członkostwo",
            "de" => "Mitgliedschaft",
            "cs" => "členství",
            _ => "membership",
        }
        .into(),
        PaidWith::BenefitCard => match s.country.as_str() {
            "DE" | "AT" => "Urban Sports Club",
            _ => "MultiSport",
        }
        .into(),
        PaidWith::PayAtStudio => match l {
            "pl" => format!("płatność na miejscu: {m}"),
            "de" => format!("Zahlung vor Ort: {m}"),
            "cs" => format!("platba na místě: {m}"),
            _ => format!("pay at the studio: {m}"),
        },
        PaidWith::Intro => match l {
            "pl" => "zajęcia próbne",
            "de" => "Probestunde",
            "cs" => "ukázková lekce",
            _ => "intro class",
        }
        .into(),
        PaidWith::Comp => match l {
            "pl" | "de" => "gratis",
            "cs" => "zdarma",
            _ => "complimentary",
        }
        .into(),
    }
}

/// `Vinyasa Flow, Monday 14 April 2025 at 18:30` for the session as it was at `at`.
fn class_line(z: &Zenda, s: &Studio, session: &Session, at: Timestamp) -> (String, String) {
    let (d, tm) = session.when_at(at);
    let title = z.title_at(session, at);
    let when = class_when(&s.locale, d.and_time(tm));
    (title, when)
}

fn spot_mail(cx: &Ctx<'_>, sp: &Spot, spec: &Spec) -> Option<Rendered> {
    let z = cx.z;
    let at = spec.at;
    let owner = z.owner_at(sp.member_id, at);
    let m = z.member(owner);
    let s = z.studio(m.studio_id);
    let to = z.mail_to(owner, at)?;
    let l = s.locale.as_str();
    let name = s.name_at(at).to_string();
    let v = match spec.kind {
        Kind::SessionMoved | Kind::Reminder => sp.at(at)?,
        _ => &sp.versions[spec.ver],
    };
    let session = z.session(v.session_id);
    let (title, when) = class_line(z, s, session, at);
    let manage = format!("{}/b/{}", s.url(), sp.id);
    let hi = hello(l, &m.first_name);
    let mut rows: Vec<(&'static str, String)> = Vec::new();
    let mut paras = Vec::new();
    let subject;
    match spec.kind {
        Kind::Confirmed | Kind::Promoted => {
            subject = format!("{} {title}, {when}", subject_prefix(l, spec.kind));
            let who = &session.instructor;
            paras.push(match l {
                "pl" => {
                    format!("{hi} Masz miejsce na zajęciach {title} (prowadzi {who}) w {name}.")
                }
                "de" => format!("{hi} du bist für {title} mit {who} bei {name} angemeldet."),
                "cs" => format!(
                    "{hi} máš rezervaci na lekci {title} s lektorem {who} ve studiu {name}."
                ),
                _ => format!("{hi} you're booked for {title} with {who} at {name}."),
            });
            rows.push((
                label(l, "when"),
                format!("{when} ({} min)", session.duration_min),
            ));
            rows.push((label(l, "where"), s.address.clone()));
            rows.push((label(l, "paid_with"), paid_with_text(cx, s, sp, v)));
            if v.guests > 0 {
                rows.push((label(l, "guests"), v.guests.to_string()));
            }
            rows.push((label(l, "manage"), manage));
        }
        Kind::Changed | Kind::SessionMoved => {
            let (old_title, old_when) = if spec.kind == Kind::Changed {
                let prev = &sp.versions[spec.ver.saturating_sub(1)];
                class_line(z, s, z.session(prev.session_id), at)
            } else {
                let before = at - Duration::seconds(120);
                class_line(z, s, session, before)
            };
            subject = format!("{} {title}, {when}", subject_prefix(l, spec.kind));
            paras.push(match l {
                "pl" => format!("{hi} Twoja rezerwacja w {name} została zmieniona."),
                "de" => format!("{hi} deine Buchung bei {name} wurde geändert."),
                "cs" => format!("{hi} tvoje rezervace ve studiu {name} byla změněna."),
                _ => format!("{hi} your booking at {name} has moved."),
            });
            rows.push((label(l, "was"), format!("{old_title}, {old_when}")));
            rows.push((label(l, "now"), format!("{title}, {when}")));
            rows.push((label(l, "manage"), manage));
        }
        Kind::Cancelled => {
            subject = format!("{} {title}, {when}", subject_prefix(l, spec.kind));
            let late = v.state == SpotState::LateCancel;
            let prev = &sp.versions[spec.ver.saturating_sub(1)];
            let pw = prev.paid_with;
            let credit = sp
                .purchase
                .as_ref()
                .and_then(|id| cx.purchases.get(id.as_str()))
                .is_some_and(|&i| z.purchases[i].method == PMethod::OnlineCard);
            let fee = cx.fees.get(sp.id.as_str()).map(|&i| &z.purchases[i]);
            let price = money(prev.price, &s.currency, l);
            let sentence = match (late, pw, credit, fee) {
                (false, PaidWith::DropIn, true, _) => match l {
                    "pl" => format!("Odwołano w terminie. {price} dodaliśmy do Twojego salda w {name}."),
                    "de" => format!("Rechtzeitig storniert. {price} wurden deinem Guthaben bei {name} gutgeschrieben."),
                    "cs" => format!("Zrušeno včas. {price} jsme připsali na tvůj kredit ve studiu {name}."),
                    _ => format!("You cancelled in time. {price} has been added to your {name} credit."),
                },
                (false, PaidWith::Pass, _, _) => match l {
                    "pl" => "Odwołano w terminie. Wejście wróciło na Twój karnet.".into(),
                    "de" => "Rechtzeitig storniert. Dein Eintritt wurde deiner 10er-Karte gutgeschrieben.".into(),
                    "cs" => "Zrušeno včas. Vstup se vrátil na tvou permanentku.".into(),
                    _ => "You cancelled in time. Your pass credit has been returned.".to_string(),
                },
                (false, _, _, _) => match l {
                    "pl" => "Odwołano w terminie.".into(),
                    "de" => "Rechtzeitig storniert.".into(),
                    "cs" => "Zrušeno včas.".into(),
                    _ => "You cancelled in time.".to_string(),
                },
                (true, PaidWith::Pass, _, _) => match l {
                    "pl" => "Późne odwołanie (mniej niż 12 godzin przed zajęciami): wejście z karnetu przepada.".into(),
                    "de" => "Späte Stornierung (weniger als 12 Stunden vor Kursbeginn): der Eintritt wird von deiner Karte abgebucht.".into(),
                    "cs" => "Pozdní zrušení (méně než 12 hodin před lekcí): vstup z permanentky propadá.".into(),
                    _ => "Late cancellation (less than 12 hours before class): your pass credit is used.".to_string(),
                },
                (true, _, _, Some(f)) => {
                    let fm = money(f.amount, &s.currency, l);
                    match l {
                        "pl" => format!("Późne odwołanie: pobierzemy z Twojej karty opłatę {fm}."),
                        "de" => format!("Späte Stornierung: eine Gebühr von {fm} wird von deiner Karte abgebucht."),
                        "cs" => format!("Pozdní zrušení: z tvé karty strhneme poplatek {fm}."),
                        _ => format!("Late cancellation: a fee of {fm} will be charged to your card."),
                    }
                }
                (true, _, _, None) => match l {
                    "pl" => "Późne odwołanie (mniej niż 12 godzin przed zajęciami).".into(),
                    "de" => "Späte Stornierung (weniger als 12 Stunden vor Kursbeginn).".into(),
                    "cs" => "Pozdní zrušení (méně než 12 hodin před lekcí).".into(),
                    _ => "Late cancellation (less than 12 hours before class).".to_string(),
                },
            };
            paras.push(after_hello(l, &hi, &sentence));
            rows.push((label(l, "when"), when));
            rows.push((label(l, "where"), s.address.clone()));
        }
        Kind::ClassCancelled => {
            subject = format!("{} {title}, {when}", subject_prefix(l, spec.kind));
            let reason = session
                .cancelled
                .as_ref()
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            paras.push(match l {
                "pl" => format!("{hi} {name} odwołało te zajęcia: {reason}."),
                "de" => format!("{hi} {name} hat diesen Kurs abgesagt: {reason}."),
                "cs" => format!("{hi} {name} zrušilo tuto lekci: {reason}."),
                _ => format!("{hi} {name} has cancelled this class: {reason}."),
            });
            let prev = &sp.versions[spec.ver.saturating_sub(1)];
            let p = sp
                .purchase
                .as_ref()
                .and_then(|id| cx.purchases.get(id.as_str()))
                .map(|&i| &z.purchases[i]);
            let price = money(prev.price, &s.currency, l);
            let refunded = p.and_then(|p| {
                p.refunds
                    .iter()
                    .find(|r| r.at >= v.at && r.at <= v.at + Duration::hours(3))
                    .map(|_| p.last4.clone())
            });
            let extra = match (prev.paid_with, refunded) {
                (PaidWith::Pass, _) => Some(match l {
                    "pl" => "Wejście wróciło na Twój karnet.".to_string(),
                    "de" => "Dein Eintritt wurde deiner Karte gutgeschrieben.".into(),
                    "cs" => "Vstup se vrátil na tvou permanentku.".into(),
                    _ => "Your pass credit has been returned.".into(),
                }),
                (PaidWith::DropIn, Some(l4)) => Some(match l {
                    "pl" => format!("Zwracamy {price} na Twoją kartę zakończoną na {l4}."),
                    "de" => format!("Wir erstatten {price} auf deine Karte mit Endung {l4}."),
                    "cs" => format!("Vracíme {price} na tvou kartu končící {l4}."),
                    _ => format!("We are refunding {price} to your card ending {l4}."),
                }),
                (PaidWith::DropIn, None) if p.is_some() => Some(match l {
                    "pl" => format!("{price} dodaliśmy do Twojego salda."),
                    "de" => format!("{price} wurden deinem Guthaben gutgeschrieben."),
                    "cs" => format!("{price} jsme připsali na tvůj kredit."),
                    _ => format!("{price} has been added to your credit."),
                }),
                _ => None,
            };
            if let Some(e) = extra {
                paras.push(e);
            }
            rows.push((label(l, "when"), when));
        }
        Kind::Reminder => {
            let (d, tm) = session.when_at(at);
            let hm = time_of(l, d.and_time(tm));
            subject = match l {
                "pl" => format!("Przypomnienie: {title} dziś o {hm}"),
                "de" => format!("Erinnerung: {title} heute um {hm} Uhr"),
                "cs" => format!("Připomínka: {title} dnes v {hm}"),
                _ => format!("Reminder: {title} today at {hm}"),
            };
            paras.push(match l {
                "pl" => {
                    format!("{hi} Przypominamy o dzisiejszych zajęciach {title} o {hm} w {name}.")
                }
                "de" => format!("{hi} wir sehen uns heute um {hm} Uhr bei {title} im {name}."),
                "cs" => format!("{hi} připomínáme dnešní lekci {title} v {hm} ve studiu {name}."),
                _ => format!("{hi} see you today at {hm} for {title} at {name}."),
            });
            rows.push((
                label(l, "when"),
                format!("{when} ({} min)", session.duration_min),
            ));
            rows.push((label(l, "where"), s.address.clone()));
            if v.guests > 0 {
                rows.push((label(l, "guests"), v.guests.to_string()));
            }
            rows.push((label(l, "manage"), manage));
        }
        _ => return None,
    }
    Some(Rendered {
        at,
        to,
        from_name: name.clone(),
        reply_to: s.contact_email.clone(),
        studio_id: s.id,
        page: Page {
            subject,
            paras,
            rows,
            studio: name,
            url: s.url(),
        },
        html_only: false,
        template: spec.kind.template(),
    })
}

/// What a receipt's `Item:` says.
fn item(cx: &Ctx<'_>, s: &Studio, p: &Purchase, at: Timestamp) -> String {
    let z = cx.z;
    let l = s.locale.as_str();
    let class = || {
        p.spot
            .as_ref()
            .and_then(|id| cx.spots.get(id.as_str()))
            .and_then(|&i| z.spots[i].at(at).or(z.spots[i].versions.first()))
            .map(|v| {
                let (t, w) = class_line(z, s, z.session(v.session_id), at);
                format!("{t}, {w}")
            })
    };
    match p.kind {
        PKind::DropIn => {
            let word = match l {
                "pl" => "Wejście jednorazowe",
                "de" => "Einzelstunde",
                "cs" => "Jednorázový vstup",
                _ => "Drop-in",
            };
            match class() {
                Some(c) => format!("{word}: {c}"),
                None => p.label.replacen("Drop-in", word, 1),
            }
        }
        PKind::Pass => match l {
            "en" => "10-class pass".into(),
            _ => pass_label(l).into(),
        },
        PKind::Membership => {
            let (a, b) = match &p.invoice {
                Some(inv) => inv.period,
                None => {
                    let d = NaiveDate::parse_from_str(
                        &format!("01/{}", p.label.trim_start_matches("Unlimited ")),
                        "%d/%m/%Y",
                    )
                    .unwrap_or_default();
                    (d, d + chrono::Months::new(1) - Duration::days(1))
                }
            };
            let (a, b) = (day_of(l, a), day_of(l, b));
            match l {
                "pl" => format!("Karnet open miesięczny, {a} – {b}"),
                "de" => format!("Flatrate monatlich, {a} – {b}"),
                "cs" => format!("Neomezené měsíční členství, {a} – {b}"),
                _ => format!("Unlimited monthly, {a} – {b}"),
            }
        }
        PKind::LateCancelFee | PKind::NoShowFee => {
            let late = p.kind == PKind::LateCancelFee;
            let word = match (l, late) {
                ("pl", true) => "Opłata za późne odwołanie",
                ("pl", false) => "Opłata za nieobecność",
                ("de", true) => "Gebühr für späte Stornierung",
                ("de", false) => "No-Show-Gebühr",
                ("cs", true) => "Poplatek za pozdní zrušení",
                ("cs", false) => "Poplatek za neúčast",
                (_, true) => "Late cancellation fee",
                (_, false) => "No-show fee",
            };
            match class() {
                Some(c) => format!("{word}: {c}"),
                None => word.to_string(),
            }
        }
        PKind::Retail => p.label.clone(),
    }
}

fn method_text(l: &str, p: &Purchase) -> String {
    let b = brand(&p.brand);
    let l4 = &p.last4;
    match p.method {
        PMethod::Terminal => match l {
            "pl" => format!("Karta w studiu ({b} zakończona na {l4})"),
            "de" => format!("Karte vor Ort ({b} mit Endung {l4})"),
            "cs" => format!("Karta ve studiu ({b} končící {l4})"),
            _ => format!("Card at the studio ({b} ending {l4})"),
        },
        PMethod::Cash => match l {
            "pl" => "Gotówka",
            "de" => "Bar",
            "cs" => "Hotově",
            _ => "Cash",
        }
        .into(),
        PMethod::BankTransfer => match l {
            "pl" => "Przelew",
            "de" => "Überweisung",
            "cs" => "Bankovní převod",
            _ => "Bank transfer",
        }
        .into(),
        _ => match l {
            "pl" => format!("{b} zakończona na {l4}"),
            "de" => format!("{b} mit Endung {l4}"),
            "cs" => format!("{b} končící {l4}"),
            _ => format!("{b} ending {l4}"),
        },
    }
}

fn purchase_mail(cx: &Ctx<'_>, p: &Purchase, spec: &Spec) -> Option<Rendered> {
    let z = cx.z;
    let at = spec.at;
    let owner = z.owner_at(p.member_id?, at);
    let m = z.member(owner);
    let s = z.studio(p.studio_id);
    let to = z.mail_to(owner, at)?;
    let l = s.locale.as_str();
    let name = s.name_at(at).to_string();
    let hi = hello(l, &m.first_name);
    let doc = p.doc_no.clone().unwrap_or_default();
    let reference = p.reference();
    let tz = s.tz();
    let (subject, paras, rows) = match spec.kind {
        Kind::Receipt => {
            let paid = p.paid_at()?.with_timezone(&tz).naive_local();
            let subject = match l {
                "pl" => format!("Potwierdzenie płatności {doc} – {name}"),
                "de" => format!("Zahlungsbeleg {doc} – {name}"),
                "cs" => format!("Potvrzení platby {doc} – {name}"),
                _ => format!("Receipt {doc} – {name}"),
            };
            let para = match l {
                "pl" => format!("{hi} Dziękujemy za płatność."),
                "de" => format!("{hi} vielen Dank für deine Zahlung."),
                "cs" => format!("{hi} děkujeme za platbu."),
                _ => format!("{hi} thank you for your payment."),
            };
            let rows = vec![
                (label(l, "item"), item(cx, s, p, at)),
                (label(l, "amount"), money(p.amount, &s.currency, l)),
                (label(l, "paid"), paid_when(l, paid)),
                (label(l, "method"), method_text(l, p)),
                (label(l, "doc"), doc.clone()),
                (label(l, "ref"), reference.clone()),
            ];
            (subject, vec![para], rows)
        }
        Kind::Refund(n) => {
            let r = p.refunds.get(n)?;
            let amt = money(r.amount, &s.currency, l);
            let so_far: i64 = p.refunds[..=n]
                .iter()
                .filter(|x| x.in_app)
                .map(|x| x.amount)
                .sum();
            let subject = match l {
                "pl" => format!("Zwrot {amt} – {name}"),
                "de" => format!("Erstattung {amt} – {name}"),
                "cs" => format!("Vrácení platby {amt} – {name}"),
                _ => format!("Refund {amt} – {name}"),
            };
            let b = brand(&p.brand);
            let l4 = &p.last4;
            let sentence = match (l, r.cash) {
                ("pl", false) => {
                    format!("Zwróciliśmy {amt} na Twoją kartę {b} zakończoną na {l4}.")
                }
                ("pl", true) => format!("Zwróciliśmy {amt} gotówką w studiu."),
                ("de", false) => {
                    format!("wir haben {amt} auf deine {b} mit Endung {l4} erstattet.")
                }
                ("de", true) => format!("wir haben {amt} bar im Studio erstattet."),
                ("cs", false) => format!("vrátili jsme {amt} na tvou kartu {b} končící {l4}."),
                ("cs", true) => format!("vrátili jsme {amt} v hotovosti ve studiu."),
                (_, false) => format!("we have refunded {amt} to your {b} ending {l4}."),
                (_, true) => format!("we have refunded {amt} in cash at the studio."),
            };
            let of = match l {
                "pl" | "cs" => "z",
                "de" => "von",
                _ => "of",
            };
            let ref_word = label(l, "ref");
            let rows = vec![
                (
                    label(l, "original"),
                    format!("{doc} ({ref_word} {reference})"),
                ),
                (
                    label(l, "so_far"),
                    format!(
                        "{} {of} {}",
                        money(so_far, &s.currency, l),
                        money(p.amount, &s.currency, l)
                    ),
                ),
            ];
            (subject, vec![format!("{hi} {sentence}")], rows)
        }
        _ => return None,
    };
    Some(Rendered {
        at,
        to,
        from_name: name.clone(),
        reply_to: s.contact_email.clone(),
        studio_id: s.id,
        page: Page {
            subject,
            paras,
            rows,
            studio: name,
            url: s.url(),
        },
        html_only: at < ses_since(),
        template: spec.kind.template(),
    })
}

fn render_one(cx: &Ctx<'_>, spec: &Spec) -> Option<Rendered> {
    match spec.kind {
        Kind::Receipt | Kind::Refund(_) => purchase_mail(cx, &cx.z.purchases[spec.idx], spec),
        _ => spot_mail(cx, &cx.z.spots[spec.idx], spec),
    }
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    super::sim::uuid4(rng)
}

/// A display name as Zenda's mailer writes it: plain ASCII as is (quoted when it holds
/// specials), anything else as RFC 2047 `Q` encoded words (`=?UTF-8?Q?J=C3=B3ga_Vinohrady?=`),
/// each at most 75 characters.
pub(crate) fn display_name(name: &str) -> String {
    if name.is_ascii() {
        let special = name.chars().any(|c| "()<>[]:;@\\,.\"&".contains(c));
        return if special {
            format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            name.to_string()
        };
    }
    let mut words = Vec::new();
    let mut cur = String::new();
    for ch in name.chars() {
        let mut enc = String::new();
        if ch == ' ' {
            enc.push('_');
        } else if ch.is_ascii_alphanumeric() || "!*+-/".contains(ch) {
            enc.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                enc.push_str(&format!("={b:02X}"));
            }
        }
        if cur.len() + enc.len() > 75 - 12 {
            words.push(format!("=?UTF-8?Q?{cur}?="));
            cur.clear();
        }
        cur.push_str(&enc);
    }
    if !cur.is_empty() {
        words.push(format!("=?UTF-8?Q?{cur}?="));
    }
    words.join("\r\n ")
}

/// The RFC 822 bytes of a rendered mail.
fn build(r: Rendered, rng: &mut ChaCha8Rng) -> (String, Vec<u8>) {
    let ses = r.at >= ses_since();
    let id = if ses {
        format!(
            "{:016x}-{}-000000@eu-west-1.amazonses.com",
            0x0107_0190_0000_0000u64 | (r.at.timestamp_millis() as u64 & 0xffff_ffff_ffff),
            uuid(rng)
        )
    } else {
        format!("{}@mtasv.net", uuid(rng))
    };
    let date = r.at.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
    let mut m = MessageBuilder::new()
        .header(
            "From",
            Raw::new(format!(
                "{} <noreply@zenda.fit>",
                display_name(&r.from_name)
            )),
        )
        .reply_to(Address::new_address(None::<String>, r.reply_to.clone()))
        .to(Address::new_address(
            None::<String>,
            r.to.trim().to_string(),
        ))
        .subject(r.page.subject.clone())
        .message_id(id.clone())
        .header("Date", Raw::new(date));
    if ses {
        m = m
            .header("X-Zenda-Studio", Raw::new(r.studio_id.to_string()))
            .header("X-Zenda-Template", Raw::new(r.template))
            .header(
                "Feedback-ID",
                Raw::new(format!(
                    "1.eu-west-1.{}=:AmazonSES",
                    crate::samples::stripe::alnum(rng, 43)
                )),
            );
    } else {
        m = m.header("X-PM-Message-Id", Raw::new(uuid(rng)));
    }
    let html = html_body(&r.page);
    let body = if r.html_only {
        qp_part("text/html", &html)
    } else {
        let boundary = format!("mk3-{:032x}", rng.gen::<u128>());
        MimePart::new(
            ContentType::new("multipart/alternative").attribute("boundary", boundary),
            vec![
                qp_part("text/plain", &text_body(&r.page)),
                qp_part("text/html", &html),
            ],
        )
    };
    (id, m.body(body).write_to_vec().unwrap_or_default())
}

/// One archived message: its bytes, when, and the folders holding it.
struct Msg {
    at: Timestamp,
    bytes: Vec<u8>,
    folders: Vec<&'static str>,
}

fn messages(w: &World) -> Vec<Msg> {
    let z = of(w);
    let t = w.incident_at;
    let cx = Ctx {
        z,
        fees: z
            .purchases
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == PKind::LateCancelFee)
            .filter_map(|(i, p)| p.fee_for.as_deref().map(|s| (s, i)))
            .collect(),
        purchases: z
            .purchases
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect(),
        spots: z
            .spots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect(),
    };
    let specs = plan(&cx, t);
    let mut rng = ChaCha8Rng::seed_from_u64(w.seed ^ SEED_XOR);
    let (ga, gz) = bcc_gap();
    // (spec, seed, sent twice, folders)
    let mut kept: Vec<(usize, u64, bool, Vec<&'static str>)> = Vec::with_capacity(specs.len());
    for (i, s) in specs.iter().enumerate() {
        let lost = rng.gen_bool(0.02);
        let dup = s.at < ses_since() && rng.gen_bool(0.005);
        let seed = rng.gen::<u64>();
        let mut folders = vec!["[Gmail].All Mail"];
        if s.kind.receipts() {
            if rng.gen_bool(0.55) {
                folders.push("Receipts");
            }
        } else if rng.gen_bool(0.36) {
            folders.push("INBOX");
        }
        if (s.at >= ga && s.at < gz) || lost {
            continue;
        }
        kept.push((i, seed, dup, folders));
    }
    let mut out = Vec::with_capacity(kept.len());
    for chunk in kept.chunks(4000) {
        let rendered: Vec<Vec<Msg>> = chunk
            .par_iter()
            .map(|(i, seed, dup, folders)| {
                let s = &specs[*i];
                let mut r = ChaCha8Rng::seed_from_u64(*seed);
                let mut v = Vec::new();
                let Some(page) = render_one(&cx, s) else {
                    return v;
                };
                let at = page.at;
                let (_, bytes) = build(page, &mut r);
                v.push(Msg {
                    at,
                    bytes,
                    folders: folders.clone(),
                });
                if *dup {
                    // A Postmark retry: the same mail under a new Message-ID.
                    if let Some(mut again) = render_one(&cx, s) {
                        again.at = at + Duration::seconds(r.gen_range(30..400));
                        let at2 = again.at;
                        let (_, b2) = build(again, &mut r);
                        v.push(Msg {
                            at: at2,
                            bytes: b2,
                            folders: folders.clone(),
                        });
                    }
                }
                v
            })
            .collect();
        out.extend(rendered.into_iter().flatten());
    }
    out
}

fn werr(p: &Path, e: std::io::Error) -> Error {
    Error::Write {
        path: p.to_path_buf(),
        cause: e,
    }
}

/// Writes the Maildir tree under `out/mail/`.
pub fn render(w: &World, out: &Path) -> Result<()> {
    let dest = out.join("mail");
    let tmp = out.join(".mail.partial");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| werr(&tmp, e))?;
    }
    let folders = ["[Gmail].All Mail", "INBOX", "Receipts"];
    for f in folders {
        for sub in ["cur", "new", "tmp"] {
            let d = tmp.join(f).join(sub);
            std::fs::create_dir_all(&d).map_err(|e| werr(&d, e))?;
        }
        let uv = tmp.join(f).join(".uidvalidity");
        std::fs::write(&uv, format!("1\n{}\n", 1_600_000_000 + hash(f) % 1_000_000))
            .map_err(|e| werr(&uv, e))?;
    }
    let msgs = messages(w);
    let t = w.incident_at;
    let mut uid: HashMap<&str, u64> = HashMap::new();
    let mut files: Vec<(PathBuf, usize)> = Vec::with_capacity(msgs.len() * 3 / 2);
    for (i, m) in msgs.iter().enumerate() {
        for f in &m.folders {
            let u = uid.entry(f).or_insert(0);
            *u += 1;
            let unread = *f == "INBOX" && m.at > t - Duration::days(2);
            let base = format!(
                "{}.R{:016x}.zenda-archive,U={}",
                m.at.timestamp(),
                hash(&format!("{f}:{i}")),
                u
            );
            let path = if unread {
                tmp.join(f).join("new").join(base)
            } else {
                tmp.join(f).join("cur").join(format!("{base}:2,S"))
            };
            files.push((path, i));
        }
    }
    files
        .par_iter()
        .try_for_each(|(p, i)| std::fs::write(p, &msgs[*i].bytes).map_err(|e| werr(p, e)))?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| werr(&dest, e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| werr(&dest, e))?;
    Ok(())
}

/// The `[Gmail].All Mail` folder as one mbox (for tools and tests).
pub fn write_mbox(w: &World, out: &mut dyn Write) -> std::io::Result<()> {
    for m in messages(w) {
        out.write_all(&crate::samples::mail::mbox_entry_at(false, m.at, &m.bytes))?;
    }
    Ok(())
}
