//! One message in, one outcome out: records (extracted), or a skip saying why not
//! (incomplete, unmatched, unreadable). Pure and thread-safe, so batches run in parallel.

use super::html::html_to_text;
use super::mapping::{Event, Field, FieldType, Mapping, Piece, Template};
use crate::claims::{Entity, Record, Skip, Value};
use crate::util::{money, time};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use mail_parser::{MessageParser, PartType};
use std::collections::HashMap;

/// Skip kinds of this importer.
pub const INCOMPLETE: &str = "incomplete_email";
pub const UNMATCHED: &str = "unmatched_email";
pub const UNREADABLE: &str = "unreadable_email";
pub const DUPLICATE: &str = "duplicate_email";
/// A message a template recognised and the mapping says not to import (`ignore`).
pub const IGNORED: &str = "ignored_email";

/// A message as read from the archive, before parsing.
#[derive(Debug, Clone)]
pub struct RawMessage {
    /// `file@byteoffset`.
    pub location: String,
    pub bytes: Vec<u8>,
}

/// A wall-clock time of the main record (the last record) with no zone of its own.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Floating {
    pub field: String,
    pub local: NaiveDateTime,
}

/// What became of one message.
#[derive(Debug, Clone)]
pub enum Outcome {
    Extracted {
        message_id: Option<String>,
        records: Vec<Record>,
        /// The business the message names (`business_id=17`, `business.email=x@y`), for
        /// inferring its zone from the Date offsets of its mail.
        zone_key: Option<String>,
        /// The Date header: (unix seconds, offset seconds east).
        date: Option<(i64, i32)>,
        /// Times written without a zone, read at the Date header's offset for now; the
        /// importer rereads them in the business's inferred zone when it can.
        floating: Vec<Floating>,
        /// Values that were cleaned (control characters removed, cut to the length cap):
        /// notices `value_cleaned`, the message is kept.
        cleaned: Vec<Skip>,
    },
    Skipped {
        message_id: Option<String>,
        skip: Skip,
    },
}

impl Outcome {
    pub fn message_id(&self) -> Option<&str> {
        match self {
            Outcome::Extracted { message_id, .. } | Outcome::Skipped { message_id, .. } => {
                message_id.as_deref()
            }
        }
    }
}

fn skip(raw: &RawMessage, id: Option<String>, kind: &str, reason: String) -> Outcome {
    Outcome::Skipped {
        message_id: id,
        skip: Skip {
            location: raw.location.clone(),
            kind: kind.to_string(),
            reason,
        },
    }
}

/// Processes one message; never panics (a parser panic becomes an unreadable message).
pub fn process(raw: &RawMessage, mapping: &Mapping) -> Outcome {
    process_with(raw, mapping, &MessageParser::default())
}

/// [`process`] with a parser made once (building one hashes its header table).
pub fn process_with(raw: &RawMessage, mapping: &Mapping, parser: &MessageParser) -> Outcome {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        process_inner(raw, mapping, parser)
    })) {
        Ok(o) => o,
        Err(_) => skip(
            raw,
            None,
            UNREADABLE,
            "the MIME parser failed on this message".into(),
        ),
    }
}

/// The facts of a parsed message that templates match against.
struct Facts {
    message_id: Option<String>,
    date_utc: Option<DateTime<Utc>>,
    date_offset: Option<FixedOffset>,
    date_text: Option<String>,
    from_address: String,
    from_name: String,
    reply_to: String,
    to_address: String,
    to_name: String,
    subject: String,
    body: String,
    /// The headers templates read: (lowercase name, value).
    headers: Vec<(String, String)>,
}

fn process_inner(raw: &RawMessage, mapping: &Mapping, parser: &MessageParser) -> Outcome {
    let b = &raw.bytes;
    if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return skip(
            raw,
            None,
            UNREADABLE,
            "an Outlook .msg file (OLE2), not an RFC 822 message; export it as .eml or mbox".into(),
        );
    }
    if b.iter().all(|c| c.is_ascii_whitespace()) {
        return skip(raw, None, UNREADABLE, "empty message".into());
    }
    let Some(msg) = parser.parse(&b[..]) else {
        return skip(
            raw,
            None,
            UNREADABLE,
            "not a MIME message (no headers)".into(),
        );
    };
    if msg.headers().is_empty() {
        return skip(
            raw,
            None,
            UNREADABLE,
            "not a MIME message (no headers)".into(),
        );
    }
    let message_id = msg
        .message_id()
        .map(|s| {
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .filter(|s| !s.is_empty());
    if msg.from().is_none()
        && msg.subject().is_none()
        && msg.date().is_none()
        && message_id.is_none()
    {
        return skip(
            raw,
            None,
            UNREADABLE,
            "no From, Subject, Date or Message-ID header: not an email (or cut off before its headers)".into(),
        );
    }
    let (date_utc, date_offset, date_text) = match msg.date().filter(|d| d.is_valid()) {
        Some(d) => {
            let secs = (d.tz_hour as i32) * 3600 + (d.tz_minute as i32) * 60;
            let off = FixedOffset::east_opt(if d.tz_before_gmt { -secs } else { secs });
            let utc = DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0);
            let text = match (utc, off) {
                (Some(u), Some(o)) => Some(u.with_timezone(&o).to_rfc3339()),
                _ => None,
            };
            (utc, off, text)
        }
        None => (None, None, None),
    };
    let first = |a: Option<&mail_parser::Address<'_>>| -> (String, String) {
        match a.and_then(|a| a.first()) {
            Some(addr) => (
                addr.address().unwrap_or("").trim().to_string(),
                addr.name().unwrap_or("").trim().to_string(),
            ),
            None => (String::new(), String::new()),
        }
    };
    let (from_address, from_name) = first(msg.from());
    let (reply_to, _) = first(msg.reply_to());
    let (to_address, to_name) = first(msg.to());
    let subject = msg
        .subject()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let body = body_text(&msg);
    let headers = if mapping.headers.is_empty() {
        Vec::new()
    } else {
        msg.headers()
            .iter()
            .filter_map(|h| {
                let name = h.name.as_str().to_ascii_lowercase();
                if !mapping.headers.contains(&name) {
                    return None;
                }
                let v = msg.header_raw(h.name.clone())?.trim().to_string();
                Some((name, v))
            })
            .collect()
    };
    let facts = Facts {
        message_id,
        date_utc,
        date_offset,
        date_text,
        from_address,
        from_name,
        reply_to,
        to_address,
        to_name,
        subject,
        body,
        headers,
    };
    let found = mapping.templates.iter().position(|t| matches(t, &facts));
    if let Some(hits) = found.and_then(|i| mapping.template_hits.get(i)) {
        hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let Some(t) = found.map(|i| &mapping.templates[i]) else {
        return skip(
            raw,
            facts.message_id.clone(),
            UNMATCHED,
            format!(
                "no template matches: from {}, subject {:?}",
                if facts.from_address.is_empty() {
                    "(none)"
                } else {
                    &facts.from_address
                },
                shape(&facts.subject)
            ),
        );
    };
    if let Some(why) = &t.ignore {
        return skip(
            raw,
            facts.message_id.clone(),
            IGNORED,
            format!("template {}: {why}", t.label()),
        );
    }
    extract(raw, t, &facts, mapping)
}

/// The decoded text body, or the HTML body turned to text.
fn body_text(msg: &mail_parser::Message<'_>) -> String {
    for part in msg.text_bodies() {
        if let PartType::Text(t) = &part.body {
            return t.to_string();
        }
    }
    for part in msg.html_bodies() {
        if let PartType::Html(h) = &part.body {
            return html_to_text(h);
        }
    }
    // A message whose only part is text but was filed elsewhere (odd structures).
    for part in &msg.parts {
        match &part.body {
            PartType::Text(t) => return t.to_string(),
            PartType::Html(h) => return html_to_text(h),
            _ => {}
        }
    }
    String::new()
}

/// The subject's shape for reports: digits as 9, long tails cut.
fn shape(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .take(80)
        .collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

fn matches(t: &Template, f: &Facts) -> bool {
    if let Some(r) = &t.from {
        if !r.is_match(&f.from_address) {
            return false;
        }
    }
    if let Some(r) = &t.from_name {
        if !r.is_match(&f.from_name) {
            return false;
        }
    }
    if let Some(r) = &t.subject {
        if !r.is_match(&f.subject) {
            return false;
        }
    }
    t.body_marker.is_empty() || t.body_marker.iter().any(|m| f.body.contains(m.as_str()))
}

/// `Label: value` (or the label alone on its line and the value on the next) in `body`.
fn find_label<'a>(body: &'a str, label: &str) -> Option<&'a str> {
    let mut lines = body.lines();
    while let Some(line) = lines.next() {
        let l = line.trim_start();
        let Some(head) = l.get(..label.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(label) {
            continue;
        }
        let rest = &l[label.len()..];
        let after = rest.trim_start();
        let value = if let Some(v) = after.strip_prefix(':') {
            v.trim()
        } else if after.is_empty() {
            ""
        } else if rest.starts_with('\t') || rest.starts_with("  ") {
            after.trim()
        } else {
            continue;
        };
        if !value.is_empty() {
            return Some(value);
        }
        // Value on the next non-empty line.
        for next in lines.by_ref() {
            let n = next.trim();
            if !n.is_empty() {
                return Some(n);
            }
        }
        return None;
    }
    None
}

fn render(pieces: &[Piece], caps: &HashMap<String, String>) -> Result<String, String> {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Lit(l) => s.push_str(l),
            Piece::Cap(c) => match caps.get(c.as_str()).or_else(|| {
                let h = c.strip_prefix("header.")?;
                caps.get(&format!("header.{}", h.to_ascii_lowercase()))
            }) {
                Some(v) if !v.trim().is_empty() => s.push_str(v.trim()),
                _ => return Err(format!("{{{c}}} not found")),
            },
        }
    }
    Ok(s)
}

fn extract(raw: &RawMessage, t: &Template, f: &Facts, mapping: &Mapping) -> Outcome {
    let mut caps: HashMap<String, String> = HashMap::new();
    caps.insert("from_address".into(), f.from_address.clone());
    caps.insert("from_name".into(), f.from_name.clone());
    caps.insert("reply_to".into(), f.reply_to.clone());
    caps.insert("to_address".into(), f.to_address.clone());
    caps.insert("to_name".into(), f.to_name.clone());
    caps.insert("subject".into(), f.subject.clone());
    if let Some(d) = &f.date_text {
        caps.insert("message_date".into(), d.clone());
    }
    if let Some(m) = &f.message_id {
        caps.insert("message_id".into(), m.clone());
    }
    for (name, v) in &f.headers {
        caps.entry(format!("header.{name}"))
            .or_insert_with(|| v.clone());
    }
    let sources = t
        .from
        .iter()
        .map(|r| (r, f.from_address.as_str()))
        .chain(t.from_name.iter().map(|r| (r, f.from_name.as_str())))
        .chain(t.subject.iter().map(|r| (r, f.subject.as_str())))
        .chain(t.body.iter().map(|r| (r, f.body.as_str())));
    for (r, text) in sources {
        if let Some(c) = r.captures(text) {
            for name in r.capture_names().flatten() {
                if let Some(m) = c.name(name) {
                    if !m.as_str().trim().is_empty() && !caps.contains_key(name) {
                        caps.insert(name.to_string(), m.as_str().to_string());
                    }
                }
            }
        }
    }
    for (label, cap) in &t.labels {
        if !caps.contains_key(cap.as_str()) {
            if let Some(v) = find_label(&f.body, label) {
                caps.insert(cap.clone(), v.to_string());
            }
        }
    }

    let mut values: Vec<(String, Value)> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut currency: Option<String> = None;
    let mut guess: Option<String> = None;
    let mut floating = Vec::new();
    let mut locals = Vec::new();
    let hits = mapping
        .templates
        .iter()
        .position(|x| std::ptr::eq(x, t))
        .and_then(|i| mapping.field_hits.get(i));
    let mut cleaned = Vec::new();
    for (fi, field) in t.fields.iter().enumerate() {
        match eval_field(field, t, f, &caps, mapping) {
            Ok((v, cur, local)) => {
                let v = match v {
                    Value::Text(text) => match clean_value(&text) {
                        Some((clean, why)) => {
                            cleaned.push(Skip {
                                location: raw.location.clone(),
                                kind: crate::import::VALUE_CLEANED.into(),
                                reason: format!(
                                    "template {} field {}: {why}",
                                    t.label(),
                                    field.name
                                ),
                            });
                            Value::Text(clean)
                        }
                        None => Value::Text(text),
                    },
                    v => v,
                };
                if let Some(h) = hits.and_then(|h| h.get(fi)) {
                    h.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                match cur {
                    Some(c) if c.starts_with(GUESS) => {
                        guess.get_or_insert(c[GUESS.len()..].to_string());
                    }
                    Some(c) => {
                        currency.get_or_insert(c);
                    }
                    None => {}
                }
                if let Some(local) = local {
                    if !field.name.contains('.') {
                        // The wall-clock time itself, for the merge to read in the zone a
                        // source knows for the business.
                        locals.push((
                            format!("{}{}", crate::claims::LOCAL_TIME, field.name),
                            Value::text(local.format("%Y-%m-%dT%H:%M:%S").to_string()),
                        ));
                        if !field.business_zone {
                            floating.push(Floating {
                                field: field.name.clone(),
                                local,
                            });
                        }
                    }
                }
                values.push((field.name.clone(), v));
            }
            Err(why) => missing.push(format!("{} ({why})", field.name)),
        }
    }
    let absent: Vec<&String> = missing
        .iter()
        .filter(|m| t.required.iter().any(|r| m.starts_with(&format!("{r} ("))))
        .collect();
    if !absent.is_empty() {
        return skip(
            raw,
            f.message_id.clone(),
            INCOMPLETE,
            format!(
                "template {} recognised, but missing: {}",
                t.label(),
                absent
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    let source_ref = match &f.message_id {
        Some(id) => format!("email:{id}"),
        None => format!("email:{}", raw.location),
    };
    let observed_at = f.date_utc.map(time::format_utc);
    let get = |name: &str| {
        values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let entity = t.event.entity();
    let mut main = Record::new(entity, source_ref.clone(), observed_at.clone());
    for (n, v) in &values {
        if n == "customer.name" || n == "customer.phone" {
            continue;
        }
        main.set(n.clone(), v.clone());
    }
    for (n, v) in locals {
        main.set(n, v);
    }
    if main.get("currency").is_none() {
        main.set("currency", currency.clone());
        if currency.is_none() {
            main.set("attr.currency_guess", guess.clone());
        }
    }
    if main.get("status").is_none() {
        if let Some(s) = &t.status {
            let mut s = s.clone();
            if t.event == Event::PaymentRefunded && s == "refunded" {
                let paid = main.get("amount").and_then(|v| v.as_int());
                let back = main.get("amount_refunded").and_then(|v| v.as_int());
                if let (Some(p), Some(r)) = (paid, back) {
                    if r < p {
                        s = "partially_refunded".into();
                    }
                }
            }
            main.set("status", s);
        }
    }
    let to_email = match get("customer.email") {
        Some(Value::Text(e)) => Some(e),
        _ => Some(f.to_address.clone()).filter(|a| a.contains('@')),
    };
    if main.get("customer.email").is_none() {
        main.set(
            "customer.email",
            to_email.as_ref().map(|e| e.to_lowercase()),
        );
    }
    let business_keys = [
        "business_id",
        "business.id",
        "business.name",
        "business.email",
        "business.stripe_account",
    ];
    let mut records = Vec::with_capacity(3);

    // The business the message names, when it names it by a key the merge links on.
    let has_key = [
        "business_id",
        "business.id",
        "business.email",
        "business.stripe_account",
    ]
    .iter()
    .any(|k| main.get(k).is_some());
    if has_key {
        let mut b = Record::new(Entity::Business, source_ref.clone(), observed_at.clone());
        b.set(
            "id",
            main.get("business_id").or(main.get("business.id")).cloned(),
        );
        b.set("name", main.get("business.name").cloned());
        b.set("email", main.get("business.email").cloned());
        b.set(
            "stripe_account",
            main.get("business.stripe_account").cloned(),
        );
        records.push(b);
    }
    if let Some(email) = &to_email {
        let mut c = Record::new(Entity::Customer, source_ref.clone(), observed_at.clone());
        for k in business_keys {
            c.set(k, main.get(k).cloned());
        }
        // The To address as written (case included): the merge lowercases for linking.
        let written = if f.to_address.eq_ignore_ascii_case(email) {
            f.to_address.clone()
        } else {
            email.clone()
        };
        c.set("email", written);
        let name = match get("customer.name") {
            Some(v) => Some(v),
            None => Some(Value::Text(f.to_name.clone())).filter(|v| v.as_text() != Some("")),
        };
        c.set("name", name);
        c.set("phone", get("customer.phone"));
        records.push(c);
    }
    let zone_key = [
        "business_id",
        "business.stripe_account",
        "business.email",
        "business.name",
    ]
    .iter()
    .find_map(|k| {
        main.get(k)
            .and_then(|v| v.render())
            .map(|v| format!("{k}={}", v.to_lowercase()))
    });
    records.push(main);
    let date = match (f.date_utc, f.date_offset) {
        (Some(u), Some(o)) => Some((u.timestamp(), o.local_minus_utc())),
        _ => None,
    };
    Outcome::Extracted {
        message_id: f.message_id.clone(),
        records,
        zone_key,
        date,
        floating,
        cleaned,
    }
}

/// The longest value a mail field keeps (characters); a longer one is cut, and said.
pub const MAX_VALUE_CHARS: usize = 4096;

/// A value without NUL and other control characters (tab and line breaks stay) and cut to
/// [`MAX_VALUE_CHARS`], with what was done; None when it needed nothing.
fn clean_value(text: &str) -> Option<(String, String)> {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    let controls = text.chars().filter(|c| bad(*c)).count();
    let long = text.chars().count() > MAX_VALUE_CHARS;
    if controls == 0 && !long {
        return None;
    }
    let mut out: String = text.chars().filter(|c| !bad(*c)).collect();
    let mut why = Vec::new();
    if controls > 0 {
        why.push(format!("{controls} control characters (NUL, ...) removed"));
    }
    if out.chars().count() > MAX_VALUE_CHARS {
        let n = out.chars().count();
        out = out.chars().take(MAX_VALUE_CHARS).collect();
        why.push(format!("cut from {n} to {MAX_VALUE_CHARS} characters"));
    }
    Some((out, why.join(", ")))
}

type FieldValue = (Value, Option<String>, Option<NaiveDateTime>);

/// One field's value (with the currency when it is money, the wall-clock time when it is a
/// time read at the Date header's offset), or why it has none.
fn eval_field(
    field: &Field,
    t: &Template,
    f: &Facts,
    caps: &HashMap<String, String>,
    mapping: &Mapping,
) -> Result<FieldValue, String> {
    let text = render(&field.text, caps)?;
    match read_field(field, t, f, caps, text, mapping) {
        Err(_) if field.default.is_some() => {
            let d = field.default.as_deref().unwrap_or_default();
            match field.kind {
                // Major units without a currency: the currency comes from elsewhere.
                FieldType::Money => match t.default_currency.as_deref() {
                    Some(c) => crate::util::money::major_to_minor(d, c)
                        .map(|v| (Value::Int(v), Some(c.to_string()), None)),
                    None => crate::util::money::major_to_minor(d, "usd")
                        .filter(|v| *v == 0)
                        .map(|v| (Value::Int(v), None, None)),
                }
                .ok_or_else(|| {
                    format!("default {d:?} is not an amount (without default_currency, only 0)")
                }),
                _ => {
                    let plain = Field {
                        pattern: None,
                        map: Default::default(),
                        default: None,
                        ..field.clone()
                    };
                    read_field(&plain, t, f, caps, d.to_string(), mapping)
                }
            }
        }
        r => r,
    }
}

/// A field's value from its rendered text (pattern, map, then its type).
fn read_field(
    field: &Field,
    t: &Template,
    f: &Facts,
    caps: &HashMap<String, String>,
    mut text: String,
    mapping: &Mapping,
) -> Result<FieldValue, String> {
    if let Some(p) = &field.pattern {
        let c = p
            .captures(&text)
            .ok_or_else(|| format!("{text:?} does not match its pattern"))?;
        text = c
            .iter()
            .skip(1)
            .flatten()
            .next()
            .or_else(|| c.get(0))
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
    }
    if !field.map.is_empty() {
        let key = text.trim();
        text = field
            .map
            .get(key)
            .or_else(|| {
                field
                    .map
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            })
            .cloned()
            .ok_or_else(|| format!("{key:?} is not in its map"))?;
    }
    let text = text.replace('\u{a0}', " ");
    let text = text.trim();
    if text.is_empty() {
        return Err("empty".into());
    }
    match field.kind {
        FieldType::Text => Ok((Value::text(text), None, None)),
        FieldType::Email => {
            if text.contains('@') {
                Ok((Value::text(text.to_lowercase()), None, None))
            } else {
                Err(format!("{text:?} is not an email address"))
            }
        }
        FieldType::Int => first_int(text)
            .map(|i| (Value::Int(i), None, None))
            .ok_or_else(|| format!("{text:?} has no number")),
        FieldType::Money => parse_money(
            text,
            &mapping.currency_symbols,
            t.default_currency.as_deref(),
        )
        .map(|(v, c)| {
            // "$45.00" says dollars, not which: the currency comes from elsewhere (the
            // payment's other sources, its business), the symbol's usual one only as a
            // last resort (a guess, marked `~`).
            let which = if t.default_currency.is_some() || !only_ambiguous(text, mapping) {
                c
            } else {
                format!("{GUESS}{c}")
            };
            (Value::Int(v), Some(which), None)
        })
        .ok_or_else(|| format!("{text:?} is not an amount with a currency")),
        FieldType::Datetime => {
            let zone = match &field.zone {
                Some(z) => render(z, caps).ok(),
                None => None,
            };
            parse_datetime(
                text,
                &field.formats,
                zone.as_deref(),
                f.date_offset,
                mapping,
                field.business_zone,
            )
            .map(|(t, local)| (Value::text(time::format_utc(t)), None, local))
            .ok_or_else(|| format!("{text:?} matches none of its formats"))
        }
    }
}

fn first_int(s: &str) -> Option<i64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let digits: String = s[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let v: i64 = digits.parse().ok()?;
    let neg = s[..start].ends_with('-');
    Some(if neg { -v } else { v })
}

/// `$1,234.50`, `1.234,50 €`, `¥12,000`, `CHF 45.00` -> (minor units, currency).
/// Marks a currency read from a symbol several currencies write (in `eval_field`'s result).
const GUESS: &str = "~";

/// Whether the only currency `text` shows is a symbol several currencies write (`$45.00`,
/// not `US$45.00`, `CA$45.00` or `45.00 USD`).
fn only_ambiguous(text: &str, mapping: &Mapping) -> bool {
    let has_code = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.len() == 3 && w.chars().all(|c| c.is_ascii_uppercase()));
    if has_code {
        return false;
    }
    // The longest symbol the text contains decides (`CA$` before `$`).
    match mapping
        .currency_symbols
        .iter()
        .find(|(s, _)| text.contains(s.as_str()))
    {
        Some((s, _)) => mapping.ambiguous_symbols.contains(s),
        None => false,
    }
}

/// The first number in `text` (digits with `.`/`,` between them, and a space, NBSP or `'`
/// only before a group of three digits: `1 234,50`), and whether a minus comes before it.
fn first_number(text: &str) -> Option<(bool, String)> {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.iter().position(|c| c.is_ascii_digit())?;
    let neg = chars[..start].iter().any(|c| matches!(c, '-' | '−'));
    let group_follows = |i: usize| {
        chars.len() >= i + 4
            && chars[i + 1..i + 4].iter().all(char::is_ascii_digit)
            && chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit())
    };
    let mut out = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || matches!(c, '.' | ',') {
            if matches!(c, '.' | ',') && !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                break;
            }
            out.push(c);
        } else if matches!(c, ' ' | '\u{a0}' | '\'' | '\u{202f}') && group_follows(i) {
            // a thousands separator: dropped
        } else {
            break;
        }
        i += 1;
    }
    Some((neg, out))
}

pub fn parse_money(
    text: &str,
    symbols: &[(String, String)],
    default_currency: Option<&str>,
) -> Option<(i64, String)> {
    let mut currency: Option<String> = None;
    // An ISO code written out (USD, chf).
    for w in text.split(|c: char| !c.is_ascii_alphabetic()) {
        if w.len() == 3 && w.chars().all(|c| c.is_ascii_uppercase()) {
            currency = Some(w.to_ascii_lowercase());
            break;
        }
    }
    if currency.is_none() {
        currency = symbols
            .iter()
            .find(|(s, _)| text.contains(s.as_str()))
            .map(|(_, c)| c.clone());
    }
    let currency = currency.or_else(|| default_currency.map(str::to_string))?;
    // The first money-shaped token: "Total: $45.00 (2 items)" is 45.00, not 45.002.
    let (neg, num) = first_number(text)?;
    let num = num.trim_matches(|c| c == '.' || c == ',');
    if !num.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let exp = money::exponent(&currency) as usize;
    let normal = match num.rfind(['.', ',']) {
        Some(p) if exp > 0 => {
            let frac = &num[p + 1..];
            let int: String = num[..p].chars().filter(|c| c.is_ascii_digit()).collect();
            if frac.len() <= exp && !(frac.len() == 3 && exp == 2) {
                format!("{int}.{frac}")
            } else {
                format!("{int}{frac}")
            }
        }
        _ => num.chars().filter(|c| c.is_ascii_digit()).collect(),
    };
    let v = money::major_to_minor(&normal, &currency)?;
    Some((if neg { -v } else { v }, currency))
}

/// Parses `text` with the first format that fits; the zone text (offset, abbreviation or
/// IANA name) decides the offset, else the message Date's offset (and then the wall-clock
/// time is returned too: it "floats"), else UTC.
fn parse_datetime(
    text: &str,
    formats: &[String],
    zone: Option<&str>,
    msg_offset: Option<FixedOffset>,
    mapping: &Mapping,
    business_zone: bool,
) -> Option<(DateTime<Utc>, Option<NaiveDateTime>)> {
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !mapping.date_words.is_empty() {
        text = replace_date_words(&text, &mapping.date_words);
    }
    enum Z {
        Fixed(FixedOffset),
        Iana(chrono_tz::Tz),
    }
    let zone = zone.map(str::trim).filter(|z| !z.is_empty());
    let explicit = zone.and_then(|z| {
        super::mapping::parse_offset(z)
            .or_else(|| {
                // An abbreviation; of its readings (IST: Irish, Indian, Israeli) the one
                // nearest the Date header's offset.
                let cands = mapping.zone_abbreviations.get(&z.to_ascii_uppercase())?;
                let near = msg_offset.map(|o| o.local_minus_utc()).unwrap_or(cands[0]);
                cands.iter().copied().min_by_key(|c| (c - near).abs())
            })
            .and_then(FixedOffset::east_opt)
            .map(Z::Fixed)
            .or_else(|| time::parse_zone(z).map(Z::Iana))
    });
    let floats = business_zone || (explicit.is_none() && msg_offset.is_some());
    let z = explicit
        .or(msg_offset.map(Z::Fixed))
        .unwrap_or(Z::Fixed(FixedOffset::east_opt(0)?));
    for fmt in formats {
        if fmt.contains("%z") || fmt.contains("%:z") || fmt.contains("%#z") || fmt.contains("%+") {
            if let Ok(t) = DateTime::parse_from_str(&text, fmt) {
                return Some((t.with_timezone(&Utc), None));
            }
            continue;
        }
        let naive = parse_local(&text, fmt);
        if let Some(n) = naive {
            let t = match &z {
                Z::Fixed(o) => o.from_local_datetime(&n).single()?.with_timezone(&Utc),
                Z::Iana(tz) => time::local_to_utc(n, Some(*tz)),
            };
            return Some((t, floats.then_some(n)));
        }
    }
    None
}

/// `text` with each word found in `words` (lowercase keys) replaced: "14 kwietnia 2025"
/// -> "14 April 2025". Words are runs of letters, compared case-insensitively.
fn replace_date_words(text: &str, words: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            match words.get(&word.to_lowercase()) {
                Some(to) => out.push_str(to),
                None => out.push_str(word),
            }
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A local date and time by `fmt`. A format with an hour but no minutes (`%I%p`: "6pm")
/// reads minute 0; a format with no time at all reads midnight; a format with a time
/// that the text does not fill is no match (never a date read as midnight).
fn parse_local(text: &str, fmt: &str) -> Option<NaiveDateTime> {
    use chrono::format::{parse, Parsed, StrftimeItems};
    let mut p = Parsed::new();
    parse(&mut p, text, StrftimeItems::new(fmt)).ok()?;
    let has_time = [
        "%H", "%I", "%k", "%l", "%T", "%R", "%r", "%X", "%p", "%P", "%M", "%S",
    ]
    .iter()
    .any(|t| fmt.contains(t));
    if has_time {
        if p.hour_div_12.is_none() && p.hour_mod_12.is_none() {
            return None;
        }
        if p.minute.is_none() {
            p.set_minute(0).ok()?;
        }
        p.to_naive_datetime_with_offset(0).ok()
    } else {
        p.to_naive_date().ok()?.and_hms_opt(0, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_dollar_sign_alone_does_not_say_which_dollar() {
        let m = Mapping::parse("", Path::new("x")).unwrap();
        assert!(only_ambiguous("$45.00", &m));
        assert!(!only_ambiguous("US$45.00", &m));
        assert!(!only_ambiguous("CA$45.00", &m));
        assert!(!only_ambiguous("$45.00 USD", &m));
        assert!(!only_ambiguous("€45.00", &m));
        // A mapping that pins `$` makes it unambiguous.
        let pinned =
            Mapping::parse("[currency_symbols]\n\"$\" = \"cad\"\n", Path::new("x")).unwrap();
        assert!(!only_ambiguous("$45.00", &pinned));
    }

    #[test]
    fn an_hour_without_minutes_is_that_hour_not_midnight() {
        let t = |s: &str, f: &str| parse_local(s, f).map(|n| n.to_string());
        assert_eq!(
            t("Tue 14 Jul 2026 6pm", "%a %d %b %Y %I%p").as_deref(),
            Some("2026-07-14 18:00:00")
        );
        assert_eq!(
            t("14 Jul 2026 18:30", "%d %b %Y %H:%M").as_deref(),
            Some("2026-07-14 18:30:00")
        );
        assert_eq!(
            t("14 Jul 2026", "%d %b %Y").as_deref(),
            Some("2026-07-14 00:00:00")
        );
        assert_eq!(
            t("14 Jul 2026", "%d %b %Y %H:%M"),
            None,
            "a time the text lacks"
        );
        assert_eq!(
            t("14 Jul 2026 18:30 extra", "%d %b %Y %H:%M"),
            None,
            "text left over"
        );
    }

    fn syms() -> Vec<(String, String)> {
        Mapping::parse("", Path::new("x")).unwrap().currency_symbols
    }

    #[test]
    fn money_in_many_shapes() {
        let s = syms();
        assert_eq!(
            parse_money("Total: $45.00 (2 items)", &s, None),
            Some((4500, "usd".into())),
            "the first amount, not every digit"
        );
        assert_eq!(
            parse_money("1 234,50 zł", &s, Some("pln")),
            Some((123450, "pln".into()))
        );
        assert_eq!(parse_money("-€5.99", &s, None), Some((-599, "eur".into())));
        assert_eq!(
            parse_money("$1,234.50", &s, None),
            Some((123450, "usd".into()))
        );
        assert_eq!(
            parse_money("1.234,50 €", &s, None),
            Some((123450, "eur".into()))
        );
        assert_eq!(
            parse_money("¥12,000", &s, None),
            Some((12000, "jpy".into()))
        );
        assert_eq!(
            parse_money("CA$45.00", &s, None),
            Some((4500, "cad".into()))
        );
        assert_eq!(
            parse_money("CHF 45.5", &s, None),
            Some((4550, "chf".into()))
        );
        assert_eq!(
            parse_money("£1,000", &s, None),
            Some((100000, "gbp".into()))
        );
        assert_eq!(parse_money("45.00", &s, None), None);
        assert_eq!(
            parse_money("45.00", &s, Some("eur")),
            Some((4500, "eur".into()))
        );
        assert_eq!(parse_money("€", &s, None), None);
    }

    #[test]
    fn labels_on_one_or_two_lines() {
        let body = "Booking code: BK-1\nAmount paid\n  $5.00\nAmount: x\nParty   3\n";
        assert_eq!(find_label(body, "Booking code"), Some("BK-1"));
        assert_eq!(find_label(body, "Amount paid"), Some("$5.00"));
        assert_eq!(find_label(body, "Amount"), Some("x"));
        assert_eq!(find_label(body, "Party"), Some("3"));
        assert_eq!(find_label(body, "When"), None);
    }

    /// Dates in another language read through `[date_words]`; `zone = "business"` keeps
    /// the wall clock (`local:<field>`) for the merge to read in the business's zone, and
    /// the Date header's zone is not taken for the business's.
    #[test]
    fn foreign_dates_and_times_in_the_business_zone() {
        let m = Mapping::parse(
            r#"
stripe_receipts = false
[date_words]
kwietnia = "April"
"poniedziałek" = "Monday"
[[templates]]
name = "potwierdzenie"
event = "reservation_created"
subject = '^Rezerwacja (?P<code>\S+): (?P<when>.+)$'
[templates.fields]
reference = "{code}"
starts_at = { text = "{when}", type = "datetime", formats = ["%A, %d %B %Y %H:%M"], zone = "business" }
"#,
            Path::new("m.toml"),
        )
        .unwrap();
        let mail = "From: Studio <noreply@app.example>\r\nTo: anna@x.org\r\n\
Message-ID: <a.1@app.example>\r\nDate: Mon, 07 Apr 2025 08:30:00 +0000\r\n\
Subject: =?utf-8?q?Rezerwacja_R-1:_Poniedzia=C5=82ek=2C_14_kwietnia_2025_18:30?=\r\n\r\nDzień dobry\r\n";
        let o = process(
            &RawMessage {
                location: "t@0".into(),
                bytes: mail.as_bytes().to_vec(),
            },
            &m,
        );
        let Outcome::Extracted {
            records, floating, ..
        } = o
        else {
            panic!("{o:?}")
        };
        let r = records.last().unwrap();
        assert_eq!(r.get("reference").and_then(|v| v.as_text()), Some("R-1"));
        // Read at the Date header's offset for now (UTC here) ...
        assert_eq!(
            r.get("starts_at").and_then(|v| v.as_text()),
            Some("2025-04-14T18:30:00Z")
        );
        // ... with the wall clock kept for the merge.
        assert_eq!(
            r.get("local:starts_at").and_then(|v| v.as_text()),
            Some("2025-04-14T18:30:00")
        );
        assert!(
            floating.is_empty(),
            "not re-read in a zone inferred from Date headers"
        );
    }

    /// `ignore` skips what a template recognises, as `ignored_email` with its reason; a
    /// `body_marker` list takes any of its texts; a field's `default` stands when its text
    /// gives no value (money: 0, in the currency found elsewhere).
    #[test]
    fn ignored_mail_marker_lists_and_defaults() {
        let m = Mapping::parse(
            r#"
stripe_receipts = false
[[templates]]
name = "internal"
from = '@app\.example$'
body_marker = ["://demo-", "://qa-"]
ignore = "an internal tenant's mail"
[[templates]]
name = "booked"
event = "reservation_created"
from = '@app\.example$'
subject = '^Booked (?P<code>\S+)$'
body = ['(?m)^Paid with: (?P<paid>.+)$']
[templates.fields]
reference = "{code}"
amount = { text = "{paid}", pattern = '(£\d+\.\d{2})', type = "money", default = "0" }
"#,
            Path::new("m.toml"),
        )
        .unwrap();
        let mail = |body: &str| {
            let text = format!(
                "From: <noreply@app.example>\r\nTo: a@x.org\r\nMessage-ID: <m@x>\r\nDate: Mon, 07 Apr 2025 08:30:00 +0000\r\nSubject: Booked R-1\r\n\r\n{body}\r\n"
            );
            process(
                &RawMessage {
                    location: "t@0".into(),
                    bytes: text.into_bytes(),
                },
                &m,
            )
        };
        match mail("see https://qa-studio.app.example/") {
            Outcome::Skipped { skip, .. } => {
                assert_eq!(skip.kind, IGNORED);
                assert!(
                    skip.reason.contains("an internal tenant's mail"),
                    "{skip:?}"
                );
            }
            o => panic!("{o:?}"),
        }
        let amount = |o: Outcome| match o {
            Outcome::Extracted { records, .. } => {
                let r = records.last().unwrap().clone();
                (r.get("amount").cloned(), r.get("currency").cloned())
            }
            o => panic!("{o:?}"),
        };
        assert_eq!(
            amount(mail("Paid with: card, £12.50")),
            (Some(Value::Int(1250)), Some(Value::text("gbp")))
        );
        assert_eq!(
            amount(mail("Paid with: 10-class pass (3 left)")),
            (Some(Value::Int(0)), None),
            "no amount in the text: the default, currency from elsewhere"
        );
        assert_eq!(
            amount(mail("nothing about payment")),
            (None, None),
            "no text at all: no value (the default is for a text that gives none)"
        );
    }

    /// A hostile value never reaches the claims as it came: NUL and other control
    /// characters are removed and a huge value is cut, each said as a `value_cleaned`
    /// notice with the message kept.
    #[test]
    fn control_characters_and_huge_values_are_cleaned_and_said() {
        let m = Mapping::parse(
            r#"
stripe_receipts = false
[[templates]]
name = "booked"
event = "reservation_created"
subject = '^Booked (?P<code>\S+)$'
body = ['(?s)Note: (?P<note>.*)\z']
[templates.fields]
reference = "{code}"
"attr.note" = "{note}"
"#,
            Path::new("m.toml"),
        )
        .unwrap();
        let huge = "x".repeat(MAX_VALUE_CHARS + 500);
        let text = format!(
            "From: <a@app.example>\r\nTo: b@x.org\r\nMessage-ID: <m@x>\r\nDate: Mon, 07 Apr 2025 08:30:00 +0000\r\nSubject: Booked R-\u{1}1\r\n\r\nNote: {huge}\r\n"
        );
        let o = process(
            &RawMessage {
                location: "t@0".into(),
                bytes: text.into_bytes(),
            },
            &m,
        );
        let Outcome::Extracted {
            records, cleaned, ..
        } = o
        else {
            panic!("{o:?}")
        };
        let r = records.last().unwrap();
        assert_eq!(r.get("reference").and_then(|v| v.as_text()), Some("R-1"));
        let note = r.get("attr.note").and_then(|v| v.as_text()).unwrap();
        assert_eq!(note.chars().count(), MAX_VALUE_CHARS);
        assert_eq!(cleaned.len(), 2, "{cleaned:?}");
        assert!(cleaned
            .iter()
            .all(|c| c.kind == crate::import::VALUE_CLEANED));
        assert!(
            cleaned
                .iter()
                .any(|c| c.reason.contains("field reference: 1 control characters")),
            "{cleaned:?}"
        );
        assert!(
            cleaned
                .iter()
                .any(|c| c.reason.contains("field attr.note: cut from")),
            "{cleaned:?}"
        );
    }

    #[test]
    fn datetimes_with_zone_sources() {
        let m = Mapping::parse("", Path::new("x")).unwrap();
        let f = ["%a %d %b %Y %H:%M".to_string()];
        let t = parse_datetime("Tue 14 Jul 2026 09:30", &f, Some("PDT"), None, &m, false)
            .unwrap()
            .0;
        assert_eq!(time::format_utc(t), "2026-07-14T16:30:00Z");
        let t = parse_datetime("Tue 14 Jul 2026 09:30", &f, Some("+04"), None, &m, false)
            .unwrap()
            .0;
        assert_eq!(time::format_utc(t), "2026-07-14T05:30:00Z");
        let off = FixedOffset::east_opt(7200);
        let t = parse_datetime("Tue 14 Jul 2026 09:30", &f, None, off, &m, false)
            .unwrap()
            .0;
        assert_eq!(time::format_utc(t), "2026-07-14T07:30:00Z");
        let t = parse_datetime(
            "Tue 14 Jul 2026 09:30",
            &f,
            Some("Europe/Berlin"),
            None,
            &m,
            false,
        )
        .unwrap()
        .0;
        assert_eq!(time::format_utc(t), "2026-07-14T07:30:00Z");
        let f2 = ["%b %d, %Y, %I:%M:%S %p".to_string()];
        let t = parse_datetime("Jul 4, 2026, 9:05:01 PM", &f2, Some("UTC"), None, &m, false)
            .unwrap()
            .0;
        assert_eq!(time::format_utc(t), "2026-07-04T21:05:01Z");
        assert!(parse_datetime("garbage", &f, None, None, &m, false).is_none());
    }
}
