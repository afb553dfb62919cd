//! Renders the backup wreckage of a [`World`]: `backup/app.sql`, a pg_dump plain-format dump
//! of the app's database as it was at `world.backup_at`, in the flavour's own schema.
//!
//! Our own writer produces exactly what pg_dump 15 prints (header, SET lines, types, tables,
//! sequences, COPY blocks with COPY text escaping, then constraints, indexes and foreign
//! keys, and the trailer), deterministically. When a PostgreSQL installation is found (and
//! `SALVAGE_NO_PG` is unset), [`render`] then restores that file into a throwaway cluster
//! with psql and replaces it with the real `pg_dump` output, proving it restores.
//!
//! Mess a real backup has: emails typed in odd case, unicode names, notes with tabs,
//! newlines, backslashes and control characters, a jsonb column, a text[] column, an
//! unmapped table (`schema_migrations`), soft-deleted rows, and (tablehop) naive local
//! timestamps and upper-case currency codes.

use super::world::{amount_refunded, payment_status, Flavour, Method, ReservationStatus, World};
use crate::error::Result;
use crate::import::backup::copy::escape_field;
use crate::util::fsx::{write_atomic, AtomicFile};
use crate::util::time::Timestamp;
use chrono::TimeZone;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const RNG_SALT: u64 = 0x00BA_C00B_5ED0_5A1E;
const PG_VERSION: &str = "15.18 (Debian 15.18-0+deb12u1)";

/// Writes `out/backup/app.sql`, using a real PostgreSQL when one is installed.
pub fn render(world: &World, out: &Path) -> Result<()> {
    render_with(world, out, real_pg_available())
}

/// Writes `out/backup/app.sql`; with `real_pg`, round-trips it through a throwaway
/// PostgreSQL (restore with psql, dump with pg_dump). When PostgreSQL is missing (or
/// `SALVAGE_NO_PG` is set), or that step fails, our own file stays and a warning is logged.
pub fn render_with(world: &World, out: &Path, real_pg: bool) -> Result<()> {
    if world.flavour == Flavour::Zenda {
        return super::zenda::backup::render(world, out);
    }
    let dest = out.join("backup").join("app.sql");
    let text = dump_text(world);
    write_atomic(&dest, text.as_bytes())?;
    if real_pg && !real_pg_available() {
        tracing::warn!(
            "no usable PostgreSQL (initdb, pg_ctl, pg_dump and psql under /usr/lib/postgresql/*/bin or on PATH; SALVAGE_NO_PG unset): {} is our own pg_dump-format rendering",
            dest.display()
        );
    } else if real_pg {
        if let Err(e) = real_pg_roundtrip(&dest, db_name(world.flavour), owner(world.flavour)) {
            tracing::warn!(
                "real pg_dump round trip failed, keeping the generated dump {}: {e}",
                dest.display()
            );
        }
    }
    Ok(())
}

/// Is a PostgreSQL installation usable (initdb, pg_ctl, pg_dump, psql found; SALVAGE_NO_PG
/// unset)?
pub fn real_pg_available() -> bool {
    std::env::var_os("SALVAGE_NO_PG").is_none() && PgBins::find().is_some()
}

fn db_name(f: Flavour) -> &'static str {
    match f {
        Flavour::Bookly => "bookly_production",
        Flavour::Tablehop => "tablehop",
        Flavour::Kelpie => "kelpie_production",
        Flavour::Pedalry => "pedalry",
        Flavour::Zenda => "zenda",
    }
}

fn owner(f: Flavour) -> &'static str {
    match f {
        Flavour::Bookly => "bookly",
        Flavour::Tablehop => "tablehop_app",
        Flavour::Kelpie => "kelpie",
        Flavour::Pedalry => "pedalry",
        Flavour::Zenda => "zenda",
    }
}

// ---------------------------------------------------------------------------------------
// The schema model and pg_dump's plain writer.

pub(crate) struct Column {
    pub(crate) name: &'static str,
    /// As pg_dump prints it, with default and NOT NULL (`integer NOT NULL`).
    pub(crate) decl: String,
}

pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: Vec<Column>,
    /// Inline CHECK constraints as pg_dump prints them (`CONSTRAINT x CHECK ((a > 0))`).
    pub(crate) checks: Vec<String>,
    /// Serial id: (sequence type line or "" for bigint).
    pub(crate) serial: Option<&'static str>,
    pub(crate) pkey: &'static str,
    pub(crate) uniques: Vec<(&'static str, &'static str)>,
    /// (index name, definition after `ON public.<table> USING btree `).
    pub(crate) indexes: Vec<(&'static str, &'static str)>,
    /// (constraint name, column, referenced table).
    pub(crate) fks: Vec<(&'static str, &'static str, &'static str)>,
    pub(crate) rows: Vec<Vec<Option<String>>>,
}

pub(crate) fn col(name: &'static str, decl: &str) -> Column {
    Column {
        name,
        decl: decl.to_string(),
    }
}

pub(crate) struct Schema {
    pub(crate) owner: &'static str,
    /// (name, labels)
    pub(crate) enums: Vec<(&'static str, Vec<&'static str>)>,
    pub(crate) tables: Vec<Table>,
}

fn comment(out: &mut String, name: &str, kind: &str, owner: &str) {
    let _ = write!(
        out,
        "--\n-- Name: {name}; Type: {kind}; Schema: public; Owner: {owner}\n--\n\n"
    );
}

fn quote_ident(s: &str) -> String {
    const RESERVED: &[&str] = &[
        "all",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "both",
        "case",
        "cast",
        "check",
        "column",
        "constraint",
        "create",
        "default",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "into",
        "is",
        "leading",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "primary",
        "references",
        "select",
        "table",
        "then",
        "to",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "when",
        "where",
        "with",
    ];
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !RESERVED.contains(&s) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// pg_dump's plain output of a schema with its data.
fn write_dump(s: &Schema, restrict_key: &str) -> String {
    let o = s.owner;
    let mut out = String::with_capacity(1 << 20);
    let _ = write!(
        out,
        "--\n-- PostgreSQL database dump\n--\n\n\\restrict {restrict_key}\n\n\
         -- Dumped from database version {PG_VERSION}\n-- Dumped by pg_dump version {PG_VERSION}\n\n\
         SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\n\
         SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\
         SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\
         SET xmloption = content;\nSET client_min_messages = warning;\nSET row_security = off;\n\n"
    );
    let mut enums: Vec<_> = s.enums.iter().collect();
    enums.sort_by_key(|e| e.0);
    for (name, labels) in enums {
        comment(&mut out, name, "TYPE", o);
        let _ = writeln!(out, "CREATE TYPE public.{name} AS ENUM (");
        let l: Vec<String> = labels.iter().map(|l| format!("    '{l}'")).collect();
        let _ = write!(
            out,
            "{}\n);\n\n\nALTER TYPE public.{name} OWNER TO {o};\n\n",
            l.join(",\n")
        );
    }
    out.push_str("SET default_tablespace = '';\n\nSET default_table_access_method = heap;\n\n");
    let mut tables: Vec<&Table> = s.tables.iter().collect();
    tables.sort_by_key(|t| t.name);
    // Tables and their sequences, by name.
    let mut objs: Vec<(String, &Table, bool)> = Vec::new();
    for t in &tables {
        objs.push((t.name.to_string(), t, false));
        if t.serial.is_some() {
            objs.push((format!("{}_id_seq", t.name), t, true));
        }
    }
    objs.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, t, is_seq) in &objs {
        if !is_seq {
            comment(&mut out, name, "TABLE", o);
            let _ = writeln!(out, "CREATE TABLE public.{name} (");
            let mut items: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("    {} {}", quote_ident(c.name), c.decl))
                .collect();
            items.extend(t.checks.iter().map(|c| format!("    {c}")));
            let _ = write!(
                out,
                "{}\n);\n\n\nALTER TABLE public.{name} OWNER TO {o};\n\n",
                items.join(",\n")
            );
        } else {
            comment(&mut out, name, "SEQUENCE", o);
            let _ = writeln!(out, "CREATE SEQUENCE public.{name}");
            if let Some(line) = t.serial.filter(|l| !l.is_empty()) {
                let _ = writeln!(out, "    {line}");
            }
            let _ = write!(
                out,
                "    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n\n\n\
                 ALTER TABLE public.{name} OWNER TO {o};\n\n"
            );
            comment(&mut out, name, "SEQUENCE OWNED BY", o);
            let _ = write!(
                out,
                "ALTER SEQUENCE public.{name} OWNED BY public.{}.id;\n\n\n",
                t.name
            );
        }
    }
    for t in tables.iter().filter(|t| t.serial.is_some()) {
        comment(&mut out, &format!("{} id", t.name), "DEFAULT", o);
        let _ = write!(
            out,
            "ALTER TABLE ONLY public.{n} ALTER COLUMN id SET DEFAULT nextval('public.{n}_id_seq'::regclass);\n\n\n",
            n = t.name
        );
    }
    for t in &tables {
        let _ = write!(
            out,
            "--\n-- Data for Name: {}; Type: TABLE DATA; Schema: public; Owner: {o}\n--\n\n",
            t.name
        );
        let cols: Vec<String> = t.columns.iter().map(|c| quote_ident(c.name)).collect();
        let _ = writeln!(
            out,
            "COPY public.{} ({}) FROM stdin;",
            t.name,
            cols.join(", ")
        );
        for r in &t.rows {
            let fields: Vec<String> = r.iter().map(|v| escape_field(v.as_deref())).collect();
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
        out.push_str("\\.\n\n\n");
    }
    for t in tables.iter().filter(|t| t.serial.is_some()) {
        let name = format!("{}_id_seq", t.name);
        comment(&mut out, &name, "SEQUENCE SET", o);
        let max = t
            .rows
            .iter()
            .filter_map(|r| r[0].as_deref().and_then(|v| v.parse::<i64>().ok()))
            .max();
        let _ = match max {
            Some(m) => write!(
                out,
                "SELECT pg_catalog.setval('public.{name}', {m}, true);\n\n\n"
            ),
            None => write!(
                out,
                "SELECT pg_catalog.setval('public.{name}', 1, false);\n\n\n"
            ),
        };
    }
    let mut cons: Vec<(String, &str, String)> = Vec::new();
    for t in &tables {
        cons.push((
            format!("{}_pkey", t.name),
            t.name,
            format!("PRIMARY KEY ({})", t.pkey),
        ));
        for (n, c) in &t.uniques {
            cons.push((n.to_string(), t.name, format!("UNIQUE ({c})")));
        }
    }
    cons.sort();
    for (n, t, def) in &cons {
        comment(&mut out, &format!("{t} {n}"), "CONSTRAINT", o);
        let _ = write!(
            out,
            "ALTER TABLE ONLY public.{t}\n    ADD CONSTRAINT {n} {def};\n\n\n"
        );
    }
    let mut idx: Vec<(&str, &str, &str)> = tables
        .iter()
        .flat_map(|t| t.indexes.iter().map(move |(n, d)| (*n, t.name, *d)))
        .collect();
    idx.sort();
    for (n, t, d) in idx {
        comment(&mut out, n, "INDEX", o);
        let _ = write!(out, "CREATE INDEX {n} ON public.{t} USING btree {d};\n\n\n");
    }
    let mut fks: Vec<(&str, &str, &str, &str)> = tables
        .iter()
        .flat_map(|t| t.fks.iter().map(move |(n, c, r)| (*n, t.name, *c, *r)))
        .collect();
    fks.sort();
    for (n, t, c, r) in fks {
        comment(&mut out, &format!("{t} {n}"), "FK CONSTRAINT", o);
        let _ = write!(
            out,
            "ALTER TABLE ONLY public.{t}\n    ADD CONSTRAINT {n} FOREIGN KEY ({c}) REFERENCES public.{r}(id);\n\n\n"
        );
    }
    let _ = write!(
        out,
        "--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict {restrict_key}\n\n"
    );
    out
}

// ---------------------------------------------------------------------------------------
// Value formatting as PostgreSQL prints it.

pub(crate) fn ts_utc(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S+00").to_string()
}

pub(crate) fn ts_local(t: Timestamp, zone: &str) -> String {
    match crate::util::time::parse_zone(zone) {
        Some(z) => z
            .from_utc_datetime(&t.naive_utc())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => t.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

/// Minor units as `numeric(12,2)` prints them (`80.00`, `1500.00` for yen).
pub(crate) fn major(minor: i64, currency: &str) -> String {
    let exp = crate::util::money::exponent(currency);
    let neg = minor < 0;
    let a = minor.unsigned_abs() as u128;
    let scaled = match exp {
        0 => a * 100,
        1 => a * 10,
        2 => a,
        e => {
            let d = 10u128.pow(e - 2);
            (a + d / 2) / d
        }
    };
    format!(
        "{}{}.{:02}",
        if neg { "-" } else { "" },
        scaled / 100,
        scaled % 100
    )
}

/// A text[] value as PostgreSQL prints it.
pub(crate) fn pg_array(items: &[&str]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|s| {
            let needs = s.is_empty()
                || s.eq_ignore_ascii_case("null")
                || s.chars()
                    .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_ascii_whitespace());
            if needs {
                let mut q = String::from("\"");
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        q.push('\\');
                    }
                    q.push(c);
                }
                q.push('"');
                q
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// A JSON string as jsonb prints it.
pub(crate) fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A jsonb object of scalar values as PostgreSQL prints it: keys by length, then bytes.
pub(crate) fn jsonb(pairs: &[(&str, String)]) -> String {
    let mut p: Vec<&(&str, String)> = pairs.iter().collect();
    p.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(b.0)));
    let items: Vec<String> = p
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

// ---------------------------------------------------------------------------------------
// The world as the app's tables held it at the backup.

const NOTES: &[&str] = &[
    "Prefers the window seat.\nAllergic to nuts\t(severe)",
    "Paid deposit by bank transfer; scan in C:\\invoices\\2026\\044.pdf",
    "Regular since 2019 — always asks for María",
    "Said \"never again\" last time; call ahead",
    "Line one\r\nLine two (typed on Windows)",
    "Backslash-dot \\. in the middle, a bell \u{7} and an escape \u{1b}[0m",
    "Loves the 💇 emoji; Straße 5, 3. OG",
    "",
    "tab\tseparated\tvalues\tpasted\tfrom a sheet",
    "\\N is not null here",
];

const TAGS: &[&str] = &[
    "vip",
    "regular",
    "late arrival",
    "has,comma",
    "quote\"d",
    "back\\slash",
    "{braces}",
    "NULL",
    "",
    "étudiant",
];

fn pick_tags(rng: &mut ChaCha8Rng) -> String {
    if rng.gen_bool(0.7) {
        return "{}".into();
    }
    let n = rng.gen_range(1..=3);
    let mut chosen = BTreeSet::new();
    for _ in 0..n {
        chosen.insert(rng.gen_range(0..TAGS.len()));
    }
    let items: Vec<&str> = chosen.into_iter().map(|i| TAGS[i]).collect();
    pg_array(&items)
}

pub(crate) fn pick_note(rng: &mut ChaCha8Rng) -> Option<String> {
    if rng.gen_bool(0.25) {
        Some(NOTES[rng.gen_range(0..NOTES.len())].to_string())
    } else {
        None
    }
}

/// The email as the app held it at the backup. The truth keeps it lowercase; customers type
/// capitals, and a few fixed a typo in their address only after the backup (so the backup
/// has the old, wrong one).
pub(crate) fn typed_email(rng: &mut ChaCha8Rng, e: &str) -> String {
    let r: f64 = rng.gen();
    if r < 0.03 {
        let fixed_later = [
            ("@gmail.", "@gmial."),
            ("@hotmail.", "@hotmial."),
            ("@yahoo.", "@yaho."),
            ("@outlook.", "@outlok."),
        ];
        for (good, bad) in fixed_later {
            if e.contains(good) {
                return e.replacen(good, bad, 1);
            }
        }
        // A doubled letter in the local part.
        match e.split_once('@') {
            Some((l, d)) if !l.is_empty() => {
                let mut l2 = l.to_string();
                let last = l.chars().last().unwrap_or('x');
                l2.push(last);
                format!("{l2}@{d}")
            }
            _ => e.to_string(),
        }
    } else if r < 0.08 {
        let mut c = e.chars();
        match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    } else if r < 0.10 {
        match e.split_once('@') {
            Some((l, d)) => format!("{}@{d}", l.to_uppercase()),
            None => e.to_string(),
        }
    } else {
        e.to_string()
    }
}

/// The phone as typed into the app: often the national format of the business's country
/// (the truth holds E.164; the merge normalises with the business's country).
pub(crate) fn typed_phone(rng: &mut ChaCha8Rng, e164: &str, country: &str) -> String {
    let r: f64 = rng.gen();
    if r >= 0.35 {
        return e164.to_string();
    }
    let cc = match country {
        "US" => "1",
        "GB" => "44",
        "DE" => "49",
        "FR" => "33",
        "NL" => "31",
        "IE" => "353",
        "JP" => "81",
        "AU" => "61",
        "ES" => "34",
        "PT" => "351",
        _ => return e164.to_string(),
    };
    let Some(rest) = e164.strip_prefix('+').and_then(|x| x.strip_prefix(cc)) else {
        return e164.to_string();
    };
    if rest.len() < 8 || !rest.chars().all(|c| c.is_ascii_digit()) {
        return e164.to_string();
    }
    let (a, b) = rest.split_at(3);
    match country {
        "US" if rest.len() == 10 => format!("({}) {}-{}", &rest[..3], &rest[3..6], &rest[6..]),
        "GB" => format!("0{} {}", &rest[..4], &rest[4..]),
        "DE" | "IE" => format!("0{a} {b}"),
        "FR" => {
            let n = format!("0{rest}");
            let pairs: Vec<&str> = (0..n.len())
                .step_by(2)
                .map(|i| &n[i..(i + 2).min(n.len())])
                .collect();
            pairs.join(" ")
        }
        "NL" => format!("0{}-{}", &rest[..1], &rest[1..]),
        "JP" if rest.len() == 10 => format!("0{}-{}-{}", &rest[..2], &rest[2..6], &rest[6..]),
        "AU" if rest.len() == 9 => format!("0{} {} {}", &rest[..3], &rest[3..6], &rest[6..]),
        "ES" | "PT" if rest.len() == 9 => format!("{} {} {}", &rest[..3], &rest[3..6], &rest[6..]),
        _ => format!("+{cc} {rest}"),
    }
}

fn bookly_status(s: ReservationStatus) -> &'static str {
    match s {
        ReservationStatus::Pending => "tentative",
        ReservationStatus::Confirmed => "booked",
        ReservationStatus::Cancelled => "canceled",
        ReservationStatus::Completed => "done",
        ReservationStatus::NoShow => "noshow",
    }
}

fn tablehop_status(s: ReservationStatus) -> &'static str {
    match s {
        ReservationStatus::Pending => "HOLD",
        ReservationStatus::Confirmed => "CONFIRMED",
        ReservationStatus::Cancelled => "CANCELED",
        ReservationStatus::Completed => "SEATED",
        ReservationStatus::NoShow => "NOSHOW",
    }
}

fn bookly_pay_status(s: &str) -> &'static str {
    match s {
        "failed" => "failed",
        "refunded" => "refunded",
        "partially_refunded" => "part_refunded",
        "disputed" => "disputed",
        "pending" => "pending",
        _ => "paid",
    }
}

fn tablehop_pay_status(s: &str) -> &'static str {
    match s {
        "failed" => "DECLINED",
        "refunded" => "REFUNDED",
        "partially_refunded" => "PARTIAL_REFUND",
        "disputed" => "CHARGEBACK",
        "pending" => "PENDING",
        _ => "SETTLED",
    }
}

const MIGRATIONS: &[&str] = &[
    "20230114093000",
    "20230302120000",
    "20230911081500",
    "20240205170000",
    "20240619101500",
    "20250127094500",
];

pub(crate) fn s(v: impl ToString) -> Option<String> {
    Some(v.to_string())
}

/// What the app's database held at the backup: rows by kind, in id order.
struct AtBackup<'a> {
    w: &'a World,
    t: Timestamp,
    businesses: BTreeMap<i64, &'a super::world::Business>,
    /// Customers with a card payment by the backup: the app had their Stripe customer.
    stripe_known: BTreeSet<i64>,
}

impl<'a> AtBackup<'a> {
    fn new(w: &'a World) -> Self {
        let t = w.backup_at;
        let businesses = w
            .businesses
            .iter()
            .filter(|b| b.created_at <= t)
            .map(|b| (b.id, b))
            .collect();
        let stripe_known = w
            .payments
            .iter()
            .filter(|p| p.created_at <= t && p.method == Method::Card)
            .filter_map(|p| p.customer_id)
            .collect();
        AtBackup {
            w,
            t,
            businesses,
            stripe_known,
        }
    }
    fn customers(&self) -> impl Iterator<Item = &'a super::world::Customer> + '_ {
        let mut v: Vec<_> = self
            .w
            .customers
            .iter()
            .filter(|c| c.created_at <= self.t && self.businesses.contains_key(&c.business_id))
            .collect();
        v.sort_by_key(|c| c.id);
        v.into_iter()
    }
    fn reservations(&self) -> impl Iterator<Item = &'a super::world::Reservation> + '_ {
        let mut v: Vec<_> = self
            .w
            .reservations
            .iter()
            .filter(|r| r.created_at <= self.t && self.businesses.contains_key(&r.business_id))
            .collect();
        v.sort_by_key(|r| r.id);
        v.into_iter()
    }
    fn payments(&self) -> impl Iterator<Item = &'a super::world::Payment> + '_ {
        let mut v: Vec<_> = self
            .w
            .payments
            .iter()
            .filter(|p| p.created_at <= self.t && self.businesses.contains_key(&p.business_id))
            .collect();
        v.sort_by_key(|p| p.id);
        v.into_iter()
    }
    fn deleted(&self, d: Option<Timestamp>) -> Option<Timestamp> {
        d.filter(|d| *d <= self.t)
    }
    fn zone(&self, business: i64) -> &'a str {
        self.businesses
            .get(&business)
            .map(|b| b.timezone.as_str())
            .unwrap_or("UTC")
    }
}

fn migrations_table() -> Table {
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
    }
}

fn bookly_schema(w: &World, rng: &mut ChaCha8Rng) -> Schema {
    let a = AtBackup::new(w);
    let shops_rows = a
        .businesses
        .values()
        .map(|b| {
            vec![
                s(b.id),
                s(&b.name),
                s(&b.email),
                s(&b.timezone),
                s(&b.currency),
                s(&b.country),
                b.stripe_account.clone(),
                s(ts_utc(b.created_at)),
            ]
        })
        .collect();
    let mut clients_rows = Vec::new();
    for c in a.customers() {
        let email = c.email.as_deref().map(|e| typed_email(rng, e));
        let country = &a.businesses[&c.business_id].country;
        let phone = c.phone.as_deref().map(|p| typed_phone(rng, p, country));
        let note = pick_note(rng);
        let tags = pick_tags(rng);
        let prefs = match rng.gen_range(0..4) {
            0 => None,
            1 => Some(jsonb(&[
                ("channel", json_str("sms")),
                ("reminders", "true".into()),
            ])),
            2 => Some(jsonb(&[
                ("channel", json_str("email")),
                ("reminders", "false".into()),
                ("lang", json_str("de")),
            ])),
            _ => Some(jsonb(&[
                ("note", json_str("line1\nline2 \"quoted\" \\ done")),
                ("stylist_id", rng.gen_range(1..40).to_string()),
            ])),
        };
        clients_rows.push(vec![
            s(c.id),
            s(c.business_id),
            s(&c.name),
            email,
            phone,
            c.stripe_customer
                .clone()
                .filter(|_| a.stripe_known.contains(&c.id)),
            note,
            s(tags),
            prefs,
            s(ts_utc(c.created_at)),
            a.deleted(c.deleted_at).map(ts_utc),
        ]);
    }
    let mut appt_rows = Vec::new();
    for r in a.reservations() {
        let Some(v) = r.at(a.t) else { continue };
        let cur = &a.businesses[&r.business_id].currency;
        appt_rows.push(vec![
            s(r.id),
            s(&r.reference),
            s(r.business_id),
            s(r.customer_id),
            s(&r.service),
            s(ts_utc(v.starts_at)),
            s(ts_utc(v.ends_at)),
            s(v.party_size),
            s(bookly_status(v.status)),
            s(major(v.amount, cur)),
            s(ts_utc(r.created_at)),
            s(ts_utc(v.at)),
            a.deleted(r.deleted_at).map(ts_utc),
        ]);
    }
    let mut charge_rows = Vec::new();
    for p in a.payments() {
        let status = payment_status(p, a.t);
        charge_rows.push(vec![
            s(p.id),
            s(p.business_id),
            p.customer_id.map(|x| x.to_string()),
            p.reservation_id.map(|x| x.to_string()),
            s(match p.method {
                Method::Card => "card",
                Method::Cash => "cash",
            }),
            p.charge_id.clone(),
            p.payment_intent.clone(),
            s(major(p.amount, &p.currency)),
            s(major(amount_refunded(p, a.t), &p.currency)),
            s(bookly_pay_status(status)),
            p.receipt_number.clone(),
            p.card_last4.clone(),
            s(ts_utc(p.created_at)),
        ]);
    }
    Schema {
        owner: owner(Flavour::Bookly),
        enums: vec![(
            "appt_status",
            vec!["booked", "tentative", "canceled", "done", "noshow"],
        )],
        tables: vec![
            Table {
                name: "shops",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("name", "text NOT NULL"),
                    col("email", "text"),
                    col("timezone", "text DEFAULT 'UTC'::text NOT NULL"),
                    col("currency", "character(3) NOT NULL"),
                    col("country", "character(2)"),
                    col("stripe_account_id", "text"),
                    col("created_at", "timestamp with time zone DEFAULT now() NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![],
                indexes: vec![],
                fks: vec![],
                rows: shops_rows,
            },
            Table {
                name: "clients",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("shop_id", "integer NOT NULL"),
                    col("full_name", "text NOT NULL"),
                    col("email", "text"),
                    col("mobile", "text"),
                    col("stripe_customer_id", "text"),
                    col("notes", "text"),
                    col("tags", "text[] DEFAULT '{}'::text[] NOT NULL"),
                    col("preferences", "jsonb"),
                    col("created_at", "timestamp with time zone DEFAULT now() NOT NULL"),
                    col("deleted_at", "timestamp with time zone"),
                ],
                checks: vec![],
                serial: Some(""),
                pkey: "id",
                uniques: vec![],
                indexes: vec![("clients_shop_id_email_idx", "(shop_id, email)")],
                fks: vec![("clients_shop_id_fkey", "shop_id", "shops")],
                rows: clients_rows,
            },
            Table {
                name: "appointments",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("code", "character varying(16) NOT NULL"),
                    col("shop_id", "integer NOT NULL"),
                    col("client_id", "bigint"),
                    col("service_name", "text NOT NULL"),
                    col("starts_at", "timestamp with time zone NOT NULL"),
                    col("ends_at", "timestamp with time zone NOT NULL"),
                    col("party_size", "smallint DEFAULT 1 NOT NULL"),
                    col(
                        "status",
                        "public.appt_status DEFAULT 'booked'::public.appt_status NOT NULL",
                    ),
                    col("price", "numeric(12,2) NOT NULL"),
                    col("created_at", "timestamp with time zone DEFAULT now() NOT NULL"),
                    col("updated_at", "timestamp with time zone DEFAULT now() NOT NULL"),
                    col("deleted_at", "timestamp with time zone"),
                ],
                checks: vec!["CONSTRAINT appointments_party_size_check CHECK ((party_size > 0))".into()],
                serial: Some(""),
                pkey: "id",
                uniques: vec![("appointments_code_key", "code")],
                indexes: vec![("appointments_shop_id_starts_at_idx", "(shop_id, starts_at)")],
                fks: vec![
                    ("appointments_client_id_fkey", "client_id", "clients"),
                    ("appointments_shop_id_fkey", "shop_id", "shops"),
                ],
                rows: appt_rows,
            },
            Table {
                name: "charges",
                columns: vec![
                    col("id", "bigint NOT NULL"),
                    col("shop_id", "integer NOT NULL"),
                    col("client_id", "bigint"),
                    col("appointment_id", "bigint"),
                    col("method", "text NOT NULL"),
                    col("stripe_charge_id", "text"),
                    col("stripe_payment_intent_id", "text"),
                    col("amount", "numeric(12,2) NOT NULL"),
                    col("refunded_amount", "numeric(12,2) DEFAULT 0 NOT NULL"),
                    col("status", "text NOT NULL"),
                    col("receipt_number", "text"),
                    col("card_last4", "character(4)"),
                    col("created_at", "timestamp with time zone DEFAULT now() NOT NULL"),
                ],
                checks: vec![
                    "CONSTRAINT charges_method_check CHECK ((method = ANY (ARRAY['card'::text, 'cash'::text])))".into(),
                ],
                serial: Some(""),
                pkey: "id",
                uniques: vec![],
                indexes: vec![("charges_stripe_charge_id_idx", "(stripe_charge_id)")],
                fks: vec![
                    ("charges_appointment_id_fkey", "appointment_id", "appointments"),
                    ("charges_client_id_fkey", "client_id", "clients"),
                    ("charges_shop_id_fkey", "shop_id", "shops"),
                ],
                rows: charge_rows,
            },
            migrations_table(),
        ],
    }
}

fn tablehop_schema(w: &World, rng: &mut ChaCha8Rng) -> Schema {
    let a = AtBackup::new(w);
    let venue_rows = a
        .businesses
        .values()
        .map(|b| {
            vec![
                s(b.id),
                s(&b.name),
                s(&b.email),
                s(&b.timezone),
                s(b.currency.to_uppercase()),
                s(&b.country),
                b.stripe_account.clone(),
                s(ts_local(b.created_at, &b.timezone)),
                s("f"),
            ]
        })
        .collect();
    let mut guest_rows = Vec::new();
    for c in a.customers() {
        let z = a.zone(c.business_id);
        let email = c.email.as_deref().map(|e| typed_email(rng, e));
        let country = &a.businesses[&c.business_id].country;
        let phone = c.phone.as_deref().map(|p| typed_phone(rng, p, country));
        let allergies = if rng.gen_bool(0.2) {
            let opts = [
                "gluten",
                "nuts",
                "shellfish",
                "lactose",
                "sesame seeds",
                "\"mild\" pepper",
            ];
            let n = rng.gen_range(1..=2);
            let mut chosen = BTreeSet::new();
            for _ in 0..n {
                chosen.insert(rng.gen_range(0..opts.len()));
            }
            let items: Vec<&str> = chosen.into_iter().map(|i| opts[i]).collect();
            pg_array(&items)
        } else {
            "{}".into()
        };
        guest_rows.push(vec![
            s(c.id),
            s(c.business_id),
            s(&c.name),
            email,
            phone,
            c.stripe_customer
                .clone()
                .filter(|_| a.stripe_known.contains(&c.id)),
            s(allergies),
            pick_note(rng),
            s(ts_local(c.created_at, z)),
            s(if a.deleted(c.deleted_at).is_some() {
                "t"
            } else {
                "f"
            }),
        ]);
    }
    let mut booking_rows = Vec::new();
    for r in a.reservations() {
        let Some(v) = r.at(a.t) else { continue };
        let z = a.zone(r.business_id);
        let meta = match rng.gen_range(0..3) {
            0 => None,
            1 => Some(jsonb(&[
                ("source", json_str("widget")),
                ("highchair", "false".into()),
            ])),
            _ => Some(jsonb(&[
                ("source", json_str("phone")),
                ("occasion", json_str("birthday 🎂")),
                ("table", rng.gen_range(1..30).to_string()),
            ])),
        };
        booking_rows.push(vec![
            s(r.id),
            s(r.business_id),
            s(r.customer_id),
            s(&r.reference),
            s(&r.service),
            s(ts_local(v.starts_at, z)),
            s(ts_local(v.ends_at, z)),
            s(v.party_size),
            s(tablehop_status(v.status)),
            s(v.amount),
            meta,
            s(ts_local(r.created_at, z)),
            s(ts_local(v.at, z)),
            s(if a.deleted(r.deleted_at).is_some() {
                "t"
            } else {
                "f"
            }),
        ]);
    }
    let mut tx_rows = Vec::new();
    for p in a.payments() {
        let z = a.zone(p.business_id);
        tx_rows.push(vec![
            s(p.id),
            s(p.business_id),
            p.customer_id.map(|x| x.to_string()),
            p.reservation_id.map(|x| x.to_string()),
            s(match p.method {
                Method::Card => "stripe",
                Method::Cash => "cash",
            }),
            p.charge_id.clone(),
            p.payment_intent.clone(),
            s(p.amount),
            s(amount_refunded(p, a.t)),
            s(p.currency.to_uppercase()),
            s(tablehop_pay_status(payment_status(p, a.t))),
            p.receipt_number.clone(),
            p.card_last4.clone(),
            s(ts_local(p.created_at, z)),
        ]);
    }
    Schema {
        owner: owner(Flavour::Tablehop),
        enums: vec![],
        tables: vec![
            Table {
                name: "venues",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("name", "character varying(200) NOT NULL"),
                    col("contact_email", "character varying(254)"),
                    col("tz", "character varying(64) NOT NULL"),
                    col("currency_code", "character(3) NOT NULL"),
                    col("country_code", "character(2) NOT NULL"),
                    col("stripe_account", "character varying(64)"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                    col("is_deleted", "boolean DEFAULT false NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![],
                indexes: vec![],
                fks: vec![],
                rows: venue_rows,
            },
            Table {
                name: "guests",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("venue_id", "integer NOT NULL"),
                    col("name", "character varying(200) NOT NULL"),
                    col("email", "character varying(254)"),
                    col("phone", "character varying(32)"),
                    col("stripe_customer", "character varying(64)"),
                    col("allergies", "text[] DEFAULT '{}'::text[] NOT NULL"),
                    col("notes", "text"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                    col("is_deleted", "boolean DEFAULT false NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![],
                indexes: vec![("guests_venue_id_idx", "(venue_id)")],
                fks: vec![("guests_venue_id_fkey", "venue_id", "venues")],
                rows: guest_rows,
            },
            Table {
                name: "bookings",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("venue_id", "integer NOT NULL"),
                    col("guest_id", "integer"),
                    col("code", "character varying(12) NOT NULL"),
                    col("sitting", "text"),
                    col("slot_start", "timestamp without time zone NOT NULL"),
                    col("slot_end", "timestamp without time zone NOT NULL"),
                    col("covers", "smallint NOT NULL"),
                    col(
                        "status",
                        "character varying(16) DEFAULT 'CONFIRMED'::character varying NOT NULL",
                    ),
                    col("deposit_cents", "integer DEFAULT 0 NOT NULL"),
                    col("meta", "jsonb"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                    col("updated_at", "timestamp without time zone NOT NULL"),
                    col("is_deleted", "boolean DEFAULT false NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![("bookings_code_key", "code")],
                indexes: vec![("bookings_venue_id_slot_start_idx", "(venue_id, slot_start)")],
                fks: vec![
                    ("bookings_guest_id_fkey", "guest_id", "guests"),
                    ("bookings_venue_id_fkey", "venue_id", "venues"),
                ],
                rows: booking_rows,
            },
            Table {
                name: "transactions",
                columns: vec![
                    col("id", "integer NOT NULL"),
                    col("venue_id", "integer NOT NULL"),
                    col("guest_id", "integer"),
                    col("booking_id", "integer"),
                    col("provider", "character varying(16) NOT NULL"),
                    col("provider_ref", "character varying(64)"),
                    col("payment_intent", "character varying(64)"),
                    col("amount_cents", "integer NOT NULL"),
                    col("refunded_cents", "integer DEFAULT 0 NOT NULL"),
                    col("currency", "character(3) NOT NULL"),
                    col("state", "character varying(20) NOT NULL"),
                    col("receipt_no", "character varying(20)"),
                    col("last4", "character(4)"),
                    col("created_at", "timestamp without time zone NOT NULL"),
                ],
                checks: vec![],
                serial: Some("AS integer"),
                pkey: "id",
                uniques: vec![],
                indexes: vec![],
                fks: vec![
                    ("transactions_booking_id_fkey", "booking_id", "bookings"),
                    ("transactions_guest_id_fkey", "guest_id", "guests"),
                    ("transactions_venue_id_fkey", "venue_id", "venues"),
                ],
                rows: tx_rows,
            },
            migrations_table(),
        ],
    }
}

/// Our own pg_dump plain output of the world at the backup (deterministic).
pub fn dump_text(world: &World) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(world.seed ^ RNG_SALT);
    let key: String = (0..63)
        .map(|_| {
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            A[rng.gen_range(0..A.len())] as char
        })
        .collect();
    let schema = match world.flavour {
        Flavour::Bookly => bookly_schema(world, &mut rng),
        Flavour::Tablehop => tablehop_schema(world, &mut rng),
        Flavour::Kelpie => super::kelpie::backup::schema(world, &mut rng),
        Flavour::Pedalry => super::pedalry::backup::schema(world, &mut rng),
        // Zenda has its own writer (a directory archive, and its plain script).
        Flavour::Zenda => return super::zenda::backup::plain_text(world),
    };
    write_dump(&schema, &key)
}

// ---------------------------------------------------------------------------------------
// Real PostgreSQL: a throwaway cluster on a free loopback port.

/// The PostgreSQL programs the round trip needs.
#[derive(Debug, Clone)]
pub struct PgBins {
    pub initdb: PathBuf,
    pub pg_ctl: PathBuf,
    pub pg_dump: PathBuf,
    pub psql: PathBuf,
}

impl PgBins {
    /// The newest /usr/lib/postgresql/*/bin with all four, else all four on PATH.
    pub fn find() -> Option<PgBins> {
        let from_dir = |d: &Path| {
            let b = PgBins {
                initdb: d.join("initdb"),
                pg_ctl: d.join("pg_ctl"),
                pg_dump: d.join("pg_dump"),
                psql: d.join("psql"),
            };
            [&b.initdb, &b.pg_ctl, &b.pg_dump, &b.psql]
                .iter()
                .all(|p| p.is_file())
                .then_some(b)
        };
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
                Some((v, e.path().join("bin")))
            })
            .collect();
        versions.sort();
        for (_, d) in versions.iter().rev() {
            if let Some(b) = from_dir(d) {
                return Some(b);
            }
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).find_map(|d| from_dir(&d))
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A running throwaway cluster; stopped and removed when dropped.
pub struct TempCluster {
    pub bins: PgBins,
    pub port: u16,
    dir: tempfile::TempDir,
    as_postgres: bool,
    started: bool,
}

fn run(cmd: &mut std::process::Command, what: &str) -> std::result::Result<Vec<u8>, String> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl TempCluster {
    /// initdb + pg_ctl start on 127.0.0.1 and a free port.
    pub fn start(bins: PgBins) -> std::result::Result<TempCluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("salvage-pg-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let as_postgres = running_as_root();
        if as_postgres {
            run(
                std::process::Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(dir.path()),
                "chown postgres",
            )?;
        }
        let free_port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| format!("no free port: {e}"))
        };
        let mut c = TempCluster {
            bins,
            port: free_port()?,
            dir,
            as_postgres,
            started: false,
        };
        let data = c.dir.path().join("data");
        run(
            c.server_cmd(&c.bins.initdb.clone())
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]),
            "initdb",
        )?;
        // The port was free a moment ago; another process may take it first, so try again
        // with a new one a few times.
        let mut last = String::new();
        for attempt in 0..3 {
            if attempt > 0 {
                c.port = free_port()?;
            }
            let opts = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC",
                c.port,
                c.dir.path().display()
            );
            c.started = true;
            match run(
                c.server_cmd(&c.bins.pg_ctl.clone())
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(c.dir.path().join("server.log"))
                    .args(["-w", "-t", "60", "-o", &opts, "start"]),
                "pg_ctl start",
            ) {
                Ok(_) => return Ok(c),
                Err(e) => {
                    let log = std::fs::read_to_string(c.dir.path().join("server.log"))
                        .unwrap_or_default();
                    last = format!("{e}; server log: {}", log.trim());
                }
            }
        }
        Err(last)
    }

    fn server_cmd(&self, bin: &Path) -> std::process::Command {
        if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            std::process::Command::new(bin)
        }
    }

    /// A client command (psql, pg_dump) connected to this cluster as `postgres`.
    pub fn client(&self, bin: &Path) -> std::process::Command {
        let mut c = std::process::Command::new(bin);
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ])
        .env("PGTZ", "UTC")
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .env_remove("PGDATABASE")
        .env_remove("PGOPTIONS");
        c
    }

    /// Runs SQL with psql (stopping at the first error).
    pub fn psql(&self, db: &str, sql: &str) -> std::result::Result<Vec<u8>, String> {
        run(
            self.client(&self.bins.psql.clone()).args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                db,
                "-c",
                sql,
            ]),
            "psql",
        )
    }

    /// Restores a plain SQL file with psql (stopping at the first error).
    pub fn restore(&self, db: &str, owner: &str, file: &Path) -> std::result::Result<(), String> {
        // Two calls: psql -c runs several statements in one transaction, and CREATE
        // DATABASE cannot run in one.
        self.psql("postgres", &format!("CREATE ROLE {owner}"))?;
        self.psql("postgres", &format!("CREATE DATABASE {db} OWNER {owner}"))?;
        run(
            self.client(&self.bins.psql.clone())
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f"])
                .arg(file),
            "psql restore",
        )?;
        Ok(())
    }

    /// Runs pg_dump with `args` into `dest`.
    pub fn dump(&self, db: &str, args: &[&str], dest: &Path) -> std::result::Result<(), String> {
        let mut f = AtomicFile::create(dest).map_err(|e| e.to_string())?;
        let file = f.file().try_clone().map_err(|e| e.to_string())?;
        let out = self
            .client(&self.bins.pg_dump.clone())
            .args(args)
            .arg(db)
            .stdin(std::process::Stdio::null())
            .stdout(file)
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| format!("pg_dump: cannot run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg_dump failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        f.commit().map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if self.started {
            let data = self.dir.path().join("data");
            let _ = self
                .server_cmd(&self.bins.pg_ctl.clone())
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
        // The TempDir removes the directory after this.
    }
}

fn real_pg_roundtrip(dest: &Path, db: &str, owner: &str) -> std::result::Result<(), String> {
    let bins = PgBins::find().ok_or("no PostgreSQL installation found")?;
    let cluster = TempCluster::start(bins)?;
    // psql reads the file itself; copy it where the cluster lives for a stable path.
    let src = cluster.dir.path().join("ours.sql");
    std::fs::copy(dest, &src).map_err(|e| format!("copy: {e}"))?;
    cluster.restore(db, owner, &src)?;
    cluster.dump(db, &[], dest)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::samples::world::*;
    use chrono::TimeZone;

    pub(crate) fn tiny_world(flavour: Flavour) -> World {
        let t = |d: u32, h: u32| chrono::Utc.with_ymd_and_hms(2026, 8, d, h, 0, 0).unwrap();
        let backup_at = t(22, 3);
        let ver = |at, st| ReservationVersion {
            at,
            change: Change::Created,
            starts_at: t(25, 10),
            ends_at: t(25, 11),
            party_size: 2,
            status: st,
            amount: 8000,
            ..Default::default()
        };
        World {
            seed: 7,
            flavour,
            incident_at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 14, 30, 0)
                .unwrap(),
            backup_at,
            businesses: vec![Business {
                id: 1,
                name: "Zoë's Salon".into(),
                email: "hello@zoe.example".into(),
                timezone: "Europe/Berlin".into(),
                currency: "eur".into(),
                country: "DE".into(),
                stripe_account: Some("acct_1ABC".into()),
                created_at: t(1, 9),
                ..Default::default()
            }],
            customers: vec![
                Customer {
                    id: 10,
                    business_id: 1,
                    name: "Ann Ö'Neil".into(),
                    email: Some("ann@example.org".into()),
                    phone: Some("+4915112345678".into()),
                    stripe_customer: Some("cus_A".into()),
                    stripe_duplicates: vec![],
                    created_at: t(2, 9),
                    deleted_at: None,
                    ..Default::default()
                },
                Customer {
                    id: 11,
                    business_id: 1,
                    name: "Gone Person".into(),
                    email: None,
                    phone: None,
                    stripe_customer: None,
                    stripe_duplicates: vec![],
                    created_at: t(3, 9),
                    deleted_at: Some(t(4, 9)),
                    ..Default::default()
                },
                Customer {
                    id: 12,
                    business_id: 1,
                    name: "Too Late".into(),
                    email: None,
                    phone: None,
                    stripe_customer: None,
                    stripe_duplicates: vec![],
                    created_at: t(23, 9),
                    deleted_at: None,
                    ..Default::default()
                },
            ],
            reservations: vec![Reservation {
                id: 100,
                business_id: 1,
                customer_id: 10,
                reference: "BK-7Q2X9".into(),
                service: "Haircut".into(),
                created_at: t(5, 9),
                versions: vec![
                    ver(t(5, 9), ReservationStatus::Pending),
                    ver(t(6, 9), ReservationStatus::Confirmed),
                    ver(t(24, 9), ReservationStatus::Cancelled),
                ],
                deleted_at: None,
                ..Default::default()
            }],
            payments: vec![Payment {
                id: 1000,
                business_id: 1,
                customer_id: Some(10),
                reservation_id: Some(100),
                method: Method::Card,
                charge_id: Some("ch_1".into()),
                payment_intent: Some("pi_1".into()),
                amount: 8000,
                currency: "eur".into(),
                created_at: t(6, 9),
                failed: false,
                refunds: vec![
                    Refund {
                        id: "re_1".into(),
                        at: t(7, 9),
                        amount: 1000,
                        ..Default::default()
                    },
                    Refund {
                        id: "re_2".into(),
                        at: t(23, 9),
                        amount: 7000,
                        ..Default::default()
                    },
                ],
                dispute: None,
                receipt_number: Some("1234-5678".into()),
                card_last4: Some("4242".into()),
                metadata_missing: false,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn values_as_postgres_prints_them() {
        assert_eq!(major(8000, "eur"), "80.00");
        assert_eq!(major(1500, "jpy"), "1500.00");
        assert_eq!(major(-599, "usd"), "-5.99");
        assert_eq!(
            pg_array(&[
                "wellness",
                "has,comma",
                "q\"x",
                "NULL",
                "a\\b",
                "{b}",
                "",
                "two words"
            ]),
            "{wellness,\"has,comma\",\"q\\\"x\",\"NULL\",\"a\\\\b\",\"{b}\",\"\",\"two words\"}"
        );
        assert_eq!(
            jsonb(&[
                ("b", "1".into()),
                ("a", json_str("x\ny")),
                ("aa", "true".into())
            ]),
            "{\"a\": \"x\\ny\", \"b\": 1, \"aa\": true}"
        );
    }

    #[test]
    fn phones_as_typed_normalise_back() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (p, c) in [
            ("+14155550134", "US"),
            ("+447700900123", "GB"),
            ("+4915112345678", "DE"),
            ("+33612345678", "FR"),
            ("+31612345678", "NL"),
            ("+353831234567", "IE"),
            ("+819012345678", "JP"),
            ("+61412345678", "AU"),
            ("+34612345678", "ES"),
            ("+351912345678", "PT"),
            ("+393331234567", "IT"),
        ] {
            let mut national = 0;
            for _ in 0..40 {
                let t = typed_phone(&mut rng, p, c);
                if t != p {
                    national += 1;
                }
                assert_eq!(crate::merge::normalize::phone(&t, Some(c)), p, "{t} ({c})");
            }
            assert!(c == "IT" || national > 0, "{c}");
        }
    }

    #[test]
    fn dump_is_deterministic_and_as_of_the_backup() {
        let w = tiny_world(Flavour::Bookly);
        let a = dump_text(&w);
        assert_eq!(a, dump_text(&w));
        assert!(a.starts_with("--\n-- PostgreSQL database dump\n--\n\n\\restrict "));
        assert!(a.contains("\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict "));
        // Customer 12 was created after the backup; 11 was soft-deleted before it.
        assert!(!a.contains("Too Late"));
        assert!(a.contains("11\t1\tGone Person\t\\N\t\\N\t\\N\t"));
        assert!(a.contains("\t2026-08-04 09:00:00+00\n"));
        // The reservation as confirmed (cancelled only after the backup); one refund by then.
        assert!(a.contains("100\tBK-7Q2X9\t1\t10\tHaircut\t2026-08-25 10:00:00+00\t2026-08-25 11:00:00+00\t2\tbooked\t80.00\t"));
        assert!(a.contains("\tcard\tch_1\tpi_1\t80.00\t10.00\tpart_refunded\t1234-5678\t4242\t"));
        // Constraints come after the data.
        assert!(
            a.find("COPY public.shops").unwrap() < a.find("ADD CONSTRAINT shops_pkey").unwrap()
        );
        let t = dump_text(&tiny_world(Flavour::Tablehop));
        assert!(t.contains("1\tZoë's Salon\thello@zoe.example\tEurope/Berlin\tEUR\tDE\tacct_1ABC\t2026-08-01 11:00:00\tf\n"));
    }

    #[test]
    fn render_without_pg_writes_app_sql() {
        let dir = tempfile::tempdir().unwrap();
        let w = tiny_world(Flavour::Bookly);
        render_with(&w, dir.path(), false).unwrap();
        let text = std::fs::read_to_string(dir.path().join("backup/app.sql")).unwrap();
        assert_eq!(text, dump_text(&w));
    }
}
