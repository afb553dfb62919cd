//! The email mapping file: which templates the app sent and how to read each one.
//!
//! ```toml
//! stripe_receipts = true            # the built-in Stripe receipt templates (default on)
//! [currency_symbols]                # extra currency symbols -> ISO 4217 (added to built-ins)
//! "R$" = "brl"
//! [zone_abbreviations]              # extra zone abbreviations -> UTC offset
//! "HKT" = "+08:00"
//!
//! [[templates]]
//! name = "confirmation"             # names the template in reports
//! version = "v2"                    # free text, shown in reports
//! event = "reservation_created"     # what the message tells (see `Event`)
//! status = "confirmed"              # contract status the event implies (optional)
//! from = '^bookings@example\.app$'  # regex over the From address (named groups = captures)
//! subject = '^Booked: (?P<code>\S+)$'   # regex over the decoded Subject
//! body_marker = "is confirmed"      # text the body must contain (optional)
//! body = ['When: (?P<when>.+)']     # regexes over the body text; named groups = captures
//! labels = { "Service" = "service" }    # "Service: Haircut" line -> capture `service`
//! required = ["reference", "starts_at"] # missing -> the message is "incomplete"
//! [templates.fields]                # record field -> value built from captures
//! reference = "{code}"
//! starts_at = { text = "{when}", type = "datetime", formats = ["%d/%m/%Y %H:%M"], zone = "{tz}" }
//! ```
//! Built-in captures, always there: `from_address`, `from_name`, `reply_to`, `to_address`,
//! `to_name`, `subject`, `message_date` (RFC 3339 with the Date header's offset),
//! `message_id` (without angle brackets), and `header.<Name>` for any header of the
//! message (`{header.X-Tenant-Id}`; names compared case-insensitively). A field with a
//! `pattern` takes its value from the pattern's first group (or the whole match), e.g.
//! `business_id = { text = "{header.X-Shop}" }` or
//! `id = { text = "{message_id}", pattern = 'booking\.([0-9]+)\.' }`.

use crate::claims::Entity;
use crate::error::{Error, Result};
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Stripe's own receipt mails (English), recognised without any mapping.
pub const STRIPE_DEFAULT: &str = include_str!("stripe_receipts.toml");

/// Captures every message has, whatever the template.
pub const BUILTIN_CAPTURES: &[&str] = &[
    "from_address",
    "from_name",
    "reply_to",
    "to_address",
    "to_name",
    "subject",
    "message_date",
    "message_id",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default = "yes")]
    stripe_receipts: bool,
    #[serde(default)]
    currency_symbols: BTreeMap<String, String>,
    #[serde(default)]
    zone_abbreviations: BTreeMap<String, String>,
    /// Words of dates that are not English ("kwietnia" = "April", "Montag" = "Monday"):
    /// replaced, whole words and case-insensitively, before a datetime's formats are tried.
    #[serde(default)]
    date_words: BTreeMap<String, String>,
    #[serde(default)]
    templates: Vec<RawTemplate>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    ReservationCreated,
    ReservationChanged,
    ReservationCancelled,
    ReservationReminder,
    PaymentReceived,
    PaymentRefunded,
}

impl Event {
    pub fn entity(self) -> Entity {
        match self {
            Event::PaymentReceived | Event::PaymentRefunded => Entity::Payment,
            _ => Entity::Reservation,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: String,
    version: Option<String>,
    /// What the message tells; not needed by a template that ignores its messages.
    event: Option<Event>,
    status: Option<String>,
    from: Option<String>,
    from_name: Option<String>,
    subject: Option<String>,
    body_marker: Option<Markers>,
    /// The messages this template recognises are deliberately not imported, for this
    /// reason (counted as `ignored_email`, with it).
    ignore: Option<String>,
    #[serde(default)]
    body: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    fields: BTreeMap<String, RawField>,
    required: Option<Vec<String>>,
    default_currency: Option<String>,
}

/// One text the body must contain, or a list of which any will do.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Markers {
    One(String),
    Any(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawField {
    Text(String),
    Full(RawFieldFull),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldFull {
    text: String,
    #[serde(rename = "type", default)]
    kind: FieldType,
    #[serde(default)]
    formats: Vec<String>,
    zone: Option<String>,
    pattern: Option<String>,
    #[serde(default)]
    map: BTreeMap<String, String>,
    /// The value when the text is there but gives none (no amount in "Paid with:
    /// membership"): read as the field's type would read it; money in major units,
    /// without a currency (it comes from the record's other fields or its business).
    default: Option<String>,
}

/// How a field's text becomes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Trimmed text.
    #[default]
    Text,
    /// The first integer in the text.
    Int,
    /// Money in major units with a currency symbol or code: minor units, and `currency`.
    Money,
    /// A local date/time read with `formats`, in `zone`: contract UTC text.
    Datetime,
    /// An email address: trimmed and lowercased.
    Email,
}

/// A piece of a value template: literal text or a capture's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Lit(String),
    Cap(String),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub text: Vec<Piece>,
    pub kind: FieldType,
    pub formats: Vec<String>,
    pub zone: Option<Vec<Piece>>,
    /// `zone = "business"`: the time is the business's wall clock, in a zone the mail does
    /// not show; the merge reads it in the zone that any source knows for the business
    /// (the record carries `local.<field>`).
    pub business_zone: bool,
    pub pattern: Option<Regex>,
    pub map: BTreeMap<String, String>,
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub version: String,
    pub event: Event,
    pub status: Option<String>,
    pub from: Option<Regex>,
    pub from_name: Option<Regex>,
    pub subject: Option<Regex>,
    /// Texts of which the body must contain one (none: any body).
    pub body_marker: Vec<String>,
    /// Why the messages of this template are not imported (see [`RawTemplate`]).
    pub ignore: Option<String>,
    pub body: Vec<Regex>,
    /// (label, capture) pairs, label without the colon.
    pub labels: Vec<(String, String)>,
    pub fields: Vec<Field>,
    pub required: Vec<String>,
    pub default_currency: Option<String>,
}

impl Template {
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.version)
    }
}

#[derive(Debug, Clone)]
pub struct Mapping {
    pub templates: Vec<Template>,
    /// Symbol -> currency, longest symbols first.
    pub currency_symbols: Vec<(String, String)>,
    /// Built-in symbols that several currencies write (`$`, `¥`, `kr`) and the mapping did
    /// not pin: an amount with only such a symbol takes its currency from elsewhere (the
    /// payment's other sources, else its business).
    pub ambiguous_symbols: Vec<String>,
    /// Abbreviation (upper case) -> its readings in seconds east of UTC, the usual first.
    pub zone_abbreviations: BTreeMap<String, Vec<i32>>,
    /// Lowercase names of the headers templates read (`{header.<Name>}`).
    pub headers: BTreeSet<String>,
    /// Non-English words of dates (lowercase) -> the English word chrono reads.
    pub date_words: std::collections::HashMap<String, String>,
    /// How many messages each template matched (shared by the threads that extract).
    pub template_hits: std::sync::Arc<Vec<std::sync::atomic::AtomicU64>>,
    /// Per template, how many of its messages each of its fields gave a value in.
    pub field_hits: std::sync::Arc<Vec<Vec<std::sync::atomic::AtomicU64>>>,
    /// The file it was read from (named in the notices of templates that matched nothing).
    pub file: std::path::PathBuf,
    /// The first this many templates are the file's own (the built-in Stripe receipt
    /// templates follow; one that matches nothing is no mistake of the user's).
    pub own_templates: usize,
}

/// Symbols that several currencies write: `$` (USD, CAD, AUD, NZD, MXN, SGD, ...), `¥`
/// (JPY, CNY), `kr` (SEK, NOK, DKK, ISK).
const AMBIGUOUS_SYMBOLS: &[&str] = &["$", "¥", "kr"];

const DEFAULT_SYMBOLS: &[(&str, &str)] = &[
    ("US$", "usd"),
    ("CA$", "cad"),
    ("C$", "cad"),
    ("A$", "aud"),
    ("AU$", "aud"),
    ("NZ$", "nzd"),
    ("HK$", "hkd"),
    ("S$", "sgd"),
    ("MX$", "mxn"),
    ("R$", "brl"),
    ("$", "usd"),
    ("€", "eur"),
    ("£", "gbp"),
    ("¥", "jpy"),
    ("₹", "inr"),
    ("₩", "krw"),
    ("zł", "pln"),
    ("kr", "sek"),
];

/// Common abbreviations; ambiguous ones (IST, CST in Asia...) take the most common reading.
const DEFAULT_ABBREVIATIONS: &[(&str, i32)] = &[
    ("UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("WET", 0),
    ("WEST", 3600),
    ("BST", 3600),
    ("IST", 3600),
    ("CET", 3600),
    ("CEST", 7200),
    ("MEZ", 3600),
    ("MESZ", 7200),
    ("EET", 7200),
    ("EEST", 10800),
    ("MSK", 10800),
    ("EST", -5 * 3600),
    ("EDT", -4 * 3600),
    ("CST", -6 * 3600),
    ("CDT", -5 * 3600),
    ("MST", -7 * 3600),
    ("MDT", -6 * 3600),
    ("PST", -8 * 3600),
    ("PDT", -7 * 3600),
    ("AKST", -9 * 3600),
    ("AKDT", -8 * 3600),
    ("HST", -10 * 3600),
    ("AST", -4 * 3600),
    ("ADT", -3 * 3600),
    ("NST", -(3 * 3600 + 1800)),
    ("NDT", -(2 * 3600 + 1800)),
    ("JST", 9 * 3600),
    ("KST", 9 * 3600),
    ("HKT", 8 * 3600),
    ("SGT", 8 * 3600),
    ("AWST", 8 * 3600),
    ("ACST", 9 * 3600 + 1800),
    ("ACDT", 10 * 3600 + 1800),
    ("AEST", 10 * 3600),
    ("AEDT", 11 * 3600),
    ("NZST", 12 * 3600),
    ("NZDT", 13 * 3600),
    ("SAST", 2 * 3600),
];

/// Other readings of ambiguous abbreviations; the one nearest the message's Date offset
/// wins.
const OTHER_READINGS: &[(&str, i32)] = &[
    ("IST", 5 * 3600 + 1800),
    ("IST", 2 * 3600),
    ("CST", 8 * 3600),
    ("AST", 3 * 3600),
    ("BST", 6 * 3600),
];

/// Field names a record of `entity` may carry besides link keys and `attr.*`.
fn allowed_field(entity: Entity, name: &str) -> bool {
    if name.starts_with("attr.") && name.len() > 5 {
        return true;
    }
    let common = [
        "business_id",
        "customer_id",
        "status",
        "amount",
        "currency",
        "created_at",
    ];
    if common.contains(&name) {
        return true;
    }
    if let Some((ent, key)) = name.split_once('.') {
        return match ent {
            "business" => ["id", "stripe_account", "email", "name"].contains(&key),
            "customer" => ["stripe_customer", "email", "name", "phone"].contains(&key),
            // The link keys the merge reads; others would be accepted and never read.
            "reservation" => entity == Entity::Payment && key == "reference",
            _ => false,
        };
    }
    match entity {
        Entity::Reservation => [
            "id",
            "reference",
            "service",
            "starts_at",
            "ends_at",
            "party_size",
            "updated_at",
            "deleted",
        ]
        .contains(&name),
        Entity::Payment => [
            "id",
            "reservation_id",
            "processor",
            "processor_id",
            "amount_refunded",
        ]
        .contains(&name),
        _ => false,
    }
}

/// Splits `"{date} {start}"` into pieces; `{{`/`}}` are literal braces.
pub fn parse_pieces(s: &str) -> std::result::Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => name.push(ch),
                        None => return Err(format!("unclosed {{ in {s:?}")),
                    }
                }
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err(format!("empty {{}} in {s:?}"));
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Cap(name));
            }
            '}' => return Err(format!("stray }} in {s:?} (write }}}} for a brace)")),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

/// Parses `+02:00`, `-0700`, `+04`, `UTC`, `GMT+1` into seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let s = s
        .strip_prefix("UTC")
        .or_else(|| s.strip_prefix("GMT"))
        .unwrap_or(s);
    if s.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes()[0] {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

impl Mapping {
    /// Loads the mapping at `path` (None: only the built-in templates).
    pub fn load(path: Option<&Path>) -> Result<Mapping> {
        match path {
            Some(p) => {
                let text = crate::util::toml_file::read_mapping(
                    p,
                    "the email.toml files under mappings/ (or leave `mapping` out to read only Stripe's receipts)",
                )?;
                Self::parse(&text, p)
            }
            None => Self::parse("", Path::new("(built-in)")),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Mapping> {
        const EXAMPLE: &str = "the email.toml files under mappings/";
        let doc: toml::Table = crate::util::toml_file::parse(text, path, EXAMPLE)?;
        let raw: RawMapping = if doc.contains_key("patterns") || doc.contains_key("shared") {
            expand_shared(doc, path)?
        } else {
            // Without shared definitions the file is read as written, so that an error
            // names its line.
            crate::util::toml_file::parse(text, path, EXAMPLE)?
        };
        let mut templates = Vec::new();
        for (i, t) in raw.templates.into_iter().enumerate() {
            templates.push(compile(t, i, path)?);
        }
        let own_templates = templates.len();
        if raw.stripe_receipts {
            let builtin: RawMapping = toml::from_str(STRIPE_DEFAULT).map_err(|e| {
                Error::Other(format!(
                    "built-in Stripe receipt templates are invalid: {e}"
                ))
            })?;
            let bpath = Path::new("(built-in stripe_receipts.toml)");
            for (i, t) in builtin.templates.into_iter().enumerate() {
                templates.push(compile(t, i, bpath)?);
            }
        }
        let mut currency_symbols: Vec<(String, String)> = DEFAULT_SYMBOLS
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let mut ambiguous_symbols: Vec<String> =
            AMBIGUOUS_SYMBOLS.iter().map(|s| s.to_string()).collect();
        for (sym, cur) in raw.currency_symbols {
            ambiguous_symbols.retain(|s| s != &sym);
            let cur = cur.trim().to_ascii_lowercase();
            if cur.len() != 3 || !cur.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(Error::config(
                    path,
                    format!(
                        "currency_symbols.{sym:?} = {cur:?} is not an ISO 4217 code like \"eur\""
                    ),
                ));
            }
            currency_symbols.retain(|(s, _)| s != &sym);
            currency_symbols.push((sym, cur));
        }
        currency_symbols.sort_by_key(|a| std::cmp::Reverse(a.0.chars().count()));
        let mut zone_abbreviations: BTreeMap<String, Vec<i32>> = DEFAULT_ABBREVIATIONS
            .iter()
            .map(|(a, o)| (a.to_string(), vec![*o]))
            .collect();
        for (a, o) in OTHER_READINGS {
            if let Some(v) = zone_abbreviations.get_mut(*a) {
                v.push(*o);
            }
        }
        for (abbr, off) in raw.zone_abbreviations {
            let o = parse_offset(&off).ok_or_else(|| {
                Error::config(
                    path,
                    format!("zone_abbreviations.{abbr} = {off:?} is not an offset like \"+02:00\""),
                )
            })?;
            zone_abbreviations.insert(abbr.to_ascii_uppercase(), vec![o]);
        }
        let mut date_words = Vec::new();
        for (word, to) in raw.date_words {
            let w = word.trim().to_lowercase();
            if w.is_empty() || w.contains(char::is_whitespace) {
                return Err(Error::config(
                    path,
                    format!("date_words.{word:?}: give one word (e.g. \"kwietnia\" = \"April\")"),
                ));
            }
            date_words.push((w, to));
        }
        let headers = templates
            .iter()
            .flat_map(|t| &t.fields)
            .flat_map(|f| f.text.iter().chain(f.zone.iter().flatten()))
            .filter_map(|p| match p {
                Piece::Cap(c) => c.strip_prefix("header.").map(str::to_ascii_lowercase),
                _ => None,
            })
            .collect();
        Ok(Mapping {
            ambiguous_symbols,
            field_hits: std::sync::Arc::new(
                templates
                    .iter()
                    .map(|t| {
                        t.fields
                            .iter()
                            .map(|_| std::sync::atomic::AtomicU64::new(0))
                            .collect()
                    })
                    .collect(),
            ),
            template_hits: std::sync::Arc::new(
                templates
                    .iter()
                    .map(|_| std::sync::atomic::AtomicU64::new(0))
                    .collect(),
            ),
            templates,
            currency_symbols,
            date_words: date_words.into_iter().collect(),
            headers,
            zone_abbreviations,
            file: path.to_path_buf(),
            own_templates,
        })
    }
}

/// The keys of a template whose values are regexes, where `(?&name)` takes a pattern.
const REGEX_KEYS: &[&str] = &["from", "from_name", "subject", "body"];

/// Expands the file's shared definitions, so that templates that share their patterns and
/// fields say them once:
/// * `[patterns]`: named regexes; `(?&name)` in any regex of a template (`from`,
///   `from_name`, `subject`, `body`, a field's `pattern`) or of another pattern stands for
///   the pattern's text;
/// * `[shared.<name>]`: part of a template (any template keys); a template that says
///   `use = ["<name>", ...]` takes each part in order, then its own keys. Tables
///   (`labels`, `fields`) merge key by key, the later winning; `body` lists add up;
///   anything else the later replaces.
fn expand_shared(mut doc: toml::Table, path: &Path) -> Result<RawMapping> {
    use toml::Value as V;
    let patterns: BTreeMap<String, String> = match doc.remove("patterns") {
        None => BTreeMap::new(),
        Some(V::Table(t)) => t
            .into_iter()
            .map(|(k, v)| match v {
                V::String(s) => Ok((k, s)),
                _ => Err(Error::config(
                    path,
                    format!("patterns.{k}: a pattern is a regex string"),
                )),
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(Error::config(
                path,
                "[patterns] is a table of name = 'regex'",
            ))
        }
    };
    let shared: toml::Table = match doc.remove("shared") {
        None => toml::Table::new(),
        Some(V::Table(t)) => t,
        Some(_) => {
            return Err(Error::config(
                path,
                "[shared] holds tables: [shared.<name>] with template keys",
            ))
        }
    };
    let used = std::cell::RefCell::new(BTreeSet::<String>::new());
    let mut used_parts = BTreeSet::<String>::new();
    let subst = |where_: &str, s: &str| -> Result<String> {
        substitute_patterns(s, &patterns, &used)
            .map_err(|e| Error::config(path, format!("{where_}: {e}")))
    };
    let mut templates = Vec::new();
    if let Some(list) = doc.remove("templates") {
        let V::Array(list) = list else {
            return Err(Error::config(path, "templates is a list: [[templates]]"));
        };
        for (i, t) in list.into_iter().enumerate() {
            let V::Table(mut own) = t else {
                return Err(Error::config(
                    path,
                    format!("templates[{i}] is not a table"),
                ));
            };
            let name = own
                .get("name")
                .and_then(V::as_str)
                .unwrap_or("?")
                .to_string();
            let at = format!("templates[{i}] ({name})");
            let uses: Vec<String> = match own.remove("use") {
                None => Vec::new(),
                Some(V::String(s)) => vec![s],
                Some(V::Array(a)) => a
                    .into_iter()
                    .map(|v| match v {
                        V::String(s) => Ok(s),
                        _ => Err(Error::config(path, format!("{at}.use: a list of names"))),
                    })
                    .collect::<Result<_>>()?,
                Some(_) => return Err(Error::config(path, format!("{at}.use: a list of names"))),
            };
            let mut merged = toml::Table::new();
            for u in &uses {
                let Some(V::Table(part)) = shared.get(u) else {
                    let known: Vec<&String> = shared.keys().collect();
                    return Err(Error::config(
                        path,
                        format!("{at}.use: no [shared.{u}] in this file (there are: {known:?})"),
                    ));
                };
                merge_part(&mut merged, part.clone());
                used_parts.insert(u.clone());
            }
            merge_part(&mut merged, own);
            for key in REGEX_KEYS {
                match merged.get_mut(*key) {
                    Some(V::String(s)) => *s = subst(&format!("{at}.{key}"), s)?,
                    Some(V::Array(a)) => {
                        for (j, v) in a.iter_mut().enumerate() {
                            if let V::String(s) = v {
                                *s = subst(&format!("{at}.{key}[{j}]"), s)?;
                            }
                        }
                    }
                    _ => {}
                }
            }
            if let Some(V::Table(fields)) = merged.get_mut("fields") {
                for (f, spec) in fields.iter_mut() {
                    if let Some(V::String(p)) = spec.get_mut("pattern") {
                        *p = subst(&format!("{at}.fields.{f}.pattern"), p)?;
                    }
                }
            }
            let t: RawTemplate = V::Table(merged).try_into().map_err(|e: toml::de::Error| {
                Error::config(path, format!("{at}: {}", e.message().trim()))
            })?;
            templates.push(t);
        }
    }
    // Silence is never success: a shared part or pattern no template uses is a mistake.
    let used = used.into_inner();
    if let Some(name) = patterns.keys().find(|n| !used.contains(*n)) {
        return Err(Error::config(
            path,
            format!("patterns.{name} is used by no regex; use it as (?&{name}) or remove it"),
        ));
    }
    if let Some(name) = shared.keys().find(|n| !used_parts.contains(*n)) {
        return Err(Error::config(
            path,
            format!("[shared.{name}] is used by no template; add `use = [\"{name}\"]` to one or remove it"),
        ));
    }
    let mut raw: RawMapping = V::Table(doc)
        .try_into()
        .map_err(|e: toml::de::Error| Error::config(path, e.message().trim().to_string()))?;
    raw.templates = templates;
    Ok(raw)
}

/// Merges a part of a template into `into` (see [`expand_shared`]).
fn merge_part(into: &mut toml::Table, part: toml::Table) {
    use toml::Value as V;
    for (k, v) in part {
        match (into.get_mut(&k), v) {
            (Some(V::Table(a)), V::Table(b)) => {
                for (kk, vv) in b {
                    a.insert(kk, vv);
                }
            }
            (Some(V::Array(a)), V::Array(b)) if k == "body" => a.extend(b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Replaces each `(?&name)` in `s` by the named pattern (itself expanded; a cycle is an
/// error). Records each name used.
fn substitute_patterns(
    s: &str,
    patterns: &BTreeMap<String, String>,
    used: &std::cell::RefCell<BTreeSet<String>>,
) -> std::result::Result<String, String> {
    fn go(
        s: &str,
        patterns: &BTreeMap<String, String>,
        used: &std::cell::RefCell<BTreeSet<String>>,
        stack: &mut Vec<String>,
    ) -> std::result::Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = rest.find("(?&") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 3..];
            let end = after
                .find(')')
                .ok_or_else(|| format!("unclosed (?& in {s:?}"))?;
            let name = after[..end].trim();
            let p = patterns.get(name).ok_or_else(|| {
                format!(
                    "(?&{name}) names no pattern of [patterns] (there are: {:?})",
                    patterns.keys().collect::<Vec<_>>()
                )
            })?;
            if stack.iter().any(|n| n == name) {
                return Err(format!("pattern {name} uses itself"));
            }
            used.borrow_mut().insert(name.to_string());
            stack.push(name.to_string());
            out.push_str(&go(p, patterns, used, stack)?);
            stack.pop();
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
    go(s, patterns, used, &mut Vec::new())
}

fn compile(t: RawTemplate, i: usize, path: &Path) -> Result<Template> {
    let at = |key: &str| format!("templates[{i}] ({}).{key}", t.name);
    let re = |key: &str, s: &str| -> Result<Regex> {
        Regex::new(s)
            .map_err(|e| Error::config(path, format!("{}: not a valid regex: {e}", at(key))))
    };
    let mut captures: BTreeSet<String> = BUILTIN_CAPTURES.iter().map(|s| s.to_string()).collect();
    let mut add_names = |r: &Regex| {
        for n in r.capture_names().flatten() {
            captures.insert(n.to_string());
        }
    };
    let from = t.from.as_deref().map(|s| re("from", s)).transpose()?;
    let from_name = t
        .from_name
        .as_deref()
        .map(|s| re("from_name", s))
        .transpose()?;
    let subject = t.subject.as_deref().map(|s| re("subject", s)).transpose()?;
    if from.is_none() && subject.is_none() && from_name.is_none() {
        return Err(Error::config(
            path,
            format!(
                "{}: give at least `from` or `subject` so the template can be recognised",
                at("")
            ),
        ));
    }
    let mut body = Vec::new();
    for (j, b) in t.body.iter().enumerate() {
        body.push(re(&format!("body[{j}]"), b)?);
    }
    for r in from.iter().chain(&from_name).chain(&subject).chain(&body) {
        add_names(r);
    }
    let mut labels = Vec::new();
    for (label, cap) in &t.labels {
        let label = label.trim().trim_end_matches(':').trim().to_string();
        if label.is_empty() {
            return Err(Error::config(
                path,
                format!("{}: empty label", at("labels")),
            ));
        }
        captures.insert(cap.clone());
        labels.push((label, cap.clone()));
    }
    // Longer labels first, so "Amount paid" is tried before "Amount".
    labels.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    let event = match (t.event, &t.ignore) {
        (Some(e), _) => e,
        // The event of an ignoring template is never used.
        (None, Some(_)) => Event::ReservationChanged,
        (None, None) => {
            return Err(Error::config(
                path,
                format!(
                    "{}: say what the message tells (event = \"reservation_created\", ...), or `ignore = \"why\"` to skip such messages on purpose",
                    at("event")
                ),
            ))
        }
    };
    let entity = event.entity();
    let check_caps = |key: &str, pieces: &[Piece]| -> Result<()> {
        for p in pieces {
            if let Piece::Cap(c) = p {
                if !captures.contains(c) && !c.starts_with("header.") {
                    return Err(Error::config(
                        path,
                        format!(
                            "{}: {{{c}}} is not captured by this template; name it in a regex group (?P<{c}>...), in `labels`, or use a built-in ({})",
                            at(key),
                            BUILTIN_CAPTURES.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    };
    let mut fields = Vec::new();
    for (name, spec) in t.fields {
        let key = format!("fields.{name}");
        if !allowed_field(entity, &name) {
            return Err(Error::config(
                path,
                format!(
                    "{}: `{name}` is not a field of a {} record (see the contract's columns, link keys like business.email, or attr.<name>)",
                    at(&key),
                    entity
                ),
            ));
        }
        let full = match spec {
            RawField::Text(text) => RawFieldFull {
                text,
                kind: FieldType::Text,
                formats: Vec::new(),
                zone: None,
                pattern: None,
                map: BTreeMap::new(),
                default: None,
            },
            RawField::Full(f) => f,
        };
        let text = parse_pieces(&full.text)
            .map_err(|e| Error::config(path, format!("{}: {e}", at(&key))))?;
        check_caps(&key, &text)?;
        // "business", or "business or Europe/Warsaw": the business's zone as a source
        // gives it, else (for now, and where none does) the zone after `or`.
        let (business_zone, zone_text) = match full.zone.as_deref().map(str::trim) {
            Some("business") => (true, None),
            Some(z) => match z.strip_prefix("business or ") {
                Some(rest) => (true, Some(rest.trim().to_string())),
                None => (false, Some(z.to_string())),
            },
            None => (false, None),
        };
        let zone = match &zone_text {
            Some(z) => {
                let p = parse_pieces(z)
                    .map_err(|e| Error::config(path, format!("{}.zone: {e}", at(&key))))?;
                check_caps(&format!("{key}.zone"), &p)?;
                Some(p)
            }
            None => None,
        };
        if full.kind == FieldType::Datetime && full.formats.is_empty() {
            return Err(Error::config(
                path,
                format!(
                    "{}: a datetime needs `formats` (chrono strftime, e.g. \"%d/%m/%Y %H:%M\")",
                    at(&key)
                ),
            ));
        }
        let pattern = full
            .pattern
            .as_deref()
            .map(|p| re(&format!("{key}.pattern"), p))
            .transpose()?;
        fields.push(Field {
            name,
            text,
            kind: full.kind,
            formats: full.formats,
            zone,
            business_zone,
            pattern,
            map: full.map,
            default: full.default,
        });
    }
    let required = t.required.unwrap_or_else(|| match entity {
        _ if t.ignore.is_some() => Vec::new(),
        Entity::Payment => vec!["attr.receipt_number".to_string()],
        _ => vec!["reference".to_string()],
    });
    for r in &required {
        if !fields.iter().any(|f| &f.name == r) {
            return Err(Error::config(
                path,
                format!(
                    "{}: `{r}` is required but not in [templates.fields]",
                    at("required")
                ),
            ));
        }
    }
    let default_currency = t.default_currency.map(|c| c.trim().to_ascii_lowercase());
    Ok(Template {
        name: t.name.clone(),
        version: t.version.unwrap_or_else(|| "1".into()),
        event,
        status: t.status,
        from,
        from_name,
        subject,
        body_marker: match t.body_marker {
            None => Vec::new(),
            Some(Markers::One(m)) => vec![m],
            Some(Markers::Any(ms)) => ms,
        },
        ignore: t.ignore,
        body,
        labels,
        fields,
        required,
        default_currency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_and_offsets() {
        assert_eq!(
            parse_pieces("{date} {start}").unwrap(),
            vec![
                Piece::Cap("date".into()),
                Piece::Lit(" ".into()),
                Piece::Cap("start".into())
            ]
        );
        assert!(parse_pieces("{oops").is_err());
        assert_eq!(parse_offset("-07:00"), Some(-25200));
        assert_eq!(parse_offset("+0530"), Some(19800));
        assert_eq!(parse_offset("+04"), Some(14400));
        assert_eq!(parse_offset("UTC"), Some(0));
        assert_eq!(parse_offset("PDT"), None);
    }

    /// Templates that share their patterns and fields say them once: `[patterns]` with
    /// `(?&name)`, `[shared.<name>]` with `use`; tables merge, `body` adds up, the
    /// template's own keys win.
    #[test]
    fn shared_definitions_expand_into_each_template() {
        let m = Mapping::parse(
            r#"
stripe_receipts = false
[patterns]
code = '(?P<code>BK-[0-9A-Z]+)'
when = 'When: (?P<when>.+)'
[shared.booking]
from = '^bookings@app\.example$'
body = ['(?m)^(?&when)$']
required = ["reference"]
labels = { "Service" = "service" }
[shared.booking.fields]
reference = "{code}"
service = "{service}"
starts_at = { text = "{when}", type = "datetime", formats = ["%d/%m/%Y %H:%M"] }
[[templates]]
name = "confirmation"
event = "reservation_created"
status = "confirmed"
use = ["booking"]
subject = '^Confirmed (?&code)$'
[[templates]]
name = "cancellation"
event = "reservation_cancelled"
status = "cancelled"
use = "booking"
subject = '^Cancelled (?&code)$'
body = ['Refund: (?P<refund>\S+)']
[templates.fields]
service = "{service} (cancelled)"
"attr.refund" = "{refund}"
"#,
            Path::new("m.toml"),
        )
        .unwrap();
        assert_eq!(m.templates.len(), 2);
        let (a, b) = (&m.templates[0], &m.templates[1]);
        assert_eq!(
            a.subject.as_ref().unwrap().as_str(),
            "^Confirmed (?P<code>BK-[0-9A-Z]+)$"
        );
        assert_eq!(
            a.from.as_ref().unwrap().as_str(),
            r"^bookings@app\.example$"
        );
        assert_eq!(a.body.len(), 1);
        assert_eq!(a.body[0].as_str(), "(?m)^When: (?P<when>.+)$");
        assert_eq!(b.body.len(), 2, "the shared body, then the template's own");
        let field = |t: &Template, n: &str| {
            t.fields
                .iter()
                .find(|f| f.name == n)
                .map(|f| f.text.clone())
        };
        assert_eq!(
            field(a, "service"),
            Some(vec![Piece::Cap("service".into())])
        );
        assert_eq!(
            field(b, "service"),
            Some(vec![
                Piece::Cap("service".into()),
                Piece::Lit(" (cancelled)".into())
            ]),
            "the template's own field wins"
        );
        assert!(field(b, "starts_at").is_some() && field(b, "attr.refund").is_some());
        assert!(field(a, "attr.refund").is_none());
        assert_eq!(
            a.labels,
            vec![("Service".to_string(), "service".to_string())]
        );
    }

    #[test]
    fn shared_definitions_that_are_wrong_or_unused_are_errors() {
        let base = "[[templates]]\nname = 'a'\nevent = 'reservation_created'\nsubject = '(?P<r>x)'\nfields = { reference = '{r}' }\n";
        let err = |extra: &str, tpl_extra: &str| {
            let text = format!("stripe_receipts = false\n{extra}\n{base}{tpl_extra}");
            Mapping::parse(&text, Path::new("m.toml"))
                .unwrap_err()
                .to_string()
        };
        let e = err("[patterns]\nx = 'y'", "");
        assert!(e.contains("patterns.x is used by no regex"), "{e}");
        let e = err("[shared.s]\nfrom = 'q'", "");
        assert!(e.contains("[shared.s] is used by no template"), "{e}");
        let e = err("[shared.s]\nfrom = 'q'", "use = ['t']\n");
        assert!(
            e.contains("templates[0] (a).use") && e.contains("no [shared.t]"),
            "{e}"
        );
        let e = err("[patterns]\nx = '(?&x)'", "from = '(?&x)'\n");
        assert!(e.contains("uses itself"), "{e}");
        let e = err("[patterns]\nx = 'y'", "from = '(?&z)'\n");
        assert!(e.contains("(?&z) names no pattern"), "{e}");
        let e = err("[shared.s]\nfrom = 'q'", "use = ['s']\nbogus = 1\n");
        assert!(e.contains("templates[0] (a)") && e.contains("bogus"), "{e}");
        let e = err("[date_words]\n'two words' = 'x'", "");
        assert!(e.contains("date_words"), "{e}");
    }

    #[test]
    fn builtin_stripe_templates_compile_and_can_be_disabled() {
        let m = Mapping::parse("", Path::new("x.toml")).unwrap();
        assert!(m
            .templates
            .iter()
            .any(|t| t.event == Event::PaymentReceived));
        let m = Mapping::parse("stripe_receipts = false", Path::new("x.toml")).unwrap();
        assert!(m.templates.is_empty());
    }

    #[test]
    fn config_errors_name_the_key() {
        let e = Mapping::parse(
            "[[templates]]\nname='a'\nevent='reservation_created'\nsubject='x'\n[templates.fields]\nreference='{nope}'\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("m.toml") && e.contains("fields.reference") && e.contains("nope"),
            "{e}"
        );
        let e = Mapping::parse(
            "[[templates]]\nname='a'\nevent='reservation_created'\nsubject='(?P<r>x)'\n[templates.fields]\nreference='{r}'\nstarts='{r}'\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("starts"), "{e}");
        let e = Mapping::parse("[[templates]]\nname='a'\nevent='x'\n", Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.toml"), "{e}");
        let e = Mapping::parse("bogus = 1\n", Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
    }
}
