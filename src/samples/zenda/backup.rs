//! Zenda's backup: `pg_dump -Fd -j 4 -Z 6 --exclude-table-data=audit_log` of 2025-10-30
//! 01:15:07 UTC, PostgreSQL 15.8, run with `PGTZ=Europe/Warsaw`, as a **directory
//! archive**: `toc.dat` (the custom format's header and table of contents, archive version
//! 1.14, one file name per data entry) and one `NNNN.dat.gz` of COPY data per table or
//! partition. Our own writer, deterministic, byte-compatible with `pg_restore` 15
//! (checked against a real `pg_dump -Fd`); [`plain_text`] is the script `pg_restore -f -`
//! prints from it.
//!
//! What it holds: the extension `citext`, the enums `spot_state` and `purchase_status`,
//! `studios`, `people` (`email citext`), `studio_members`, `class_types`, `class_sessions`
//! partitioned by range of `on_date` into `class_sessions_2021` … `_2026` (data only in the
//! partitions), `spots` and `spots_archive` (`LIKE spots` plus `archived_at`, no keys),
//! `purchases`, `purchase_refunds`, `passes`, `memberships`, `member_credits` and
//! `audit_log` (schema only). Every `timestamptz` prints in Warsaw time (`+01`/`+02`),
//! often with fractional seconds; money is `numeric(10,2)` major units in `spots` and
//! `class_sessions`, integer minor units elsewhere.

use super::*;
use crate::error::{Error, Result};
use crate::import::backup::copy::escape_field;
use crate::samples::backup::major;
use crate::util::fsx::write_atomic;
use chrono::{Datelike, Timelike};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// The archive's directory under `backup/`.
pub const ARCHIVE_DIR: &str = "zenda-20251030T011507Z.dir";
const PG_VERSION: &str = "15.8 (Ubuntu 15.8-1.pgdg22.04+1)";
const DB: &str = "zenda";
const OWNER: &str = "zenda";

/// `2025-04-12 11:14:03.52+02`: a timestamptz as PostgreSQL prints it with
/// `TimeZone=Europe/Warsaw`; the fraction is the row's own (the world keeps whole seconds).
fn tstz(t: Timestamp, salt: &str) -> String {
    let l = t.with_timezone(&chrono_tz::Europe::Warsaw);
    let off = l.format("%:z").to_string();
    let off = off.trim_end_matches(":00");
    let h = hash(&format!("{salt}:{}", t.timestamp()));
    let frac = if h % 7 == 0 {
        String::new()
    } else {
        let micros = (h >> 8) % 1_000_000;
        let s = format!(".{micros:06}");
        let s = s.trim_end_matches('0').to_string();
        if s == "." {
            String::new()
        } else {
            s
        }
    };
    format!("{}{frac}{off}", l.format("%Y-%m-%d %H:%M:%S"))
}

fn s(v: impl ToString) -> Option<String> {
    Some(v.to_string())
}

fn b(v: bool) -> Option<String> {
    s(if v { "t" } else { "f" })
}

/// A table as the writer needs it.
struct Table {
    name: &'static str,
    /// `(column, declaration as pg_dump prints it)`.
    cols: Vec<(&'static str, String)>,
    /// An owned `id` sequence: its `AS ...` line (`""` for bigint).
    seq: Option<&'static str>,
    /// `PARTITION BY RANGE (on_date)` and the partitions `(name, from, to, rows)`.
    partitioned: Option<(&'static str, Vec<Partition>)>,
    pkey: Option<&'static str>,
    uniques: Vec<(&'static str, &'static str)>,
    /// `(constraint, column, referenced table)`.
    fks: Vec<(&'static str, &'static str, &'static str)>,
    indexes: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    /// `--exclude-table-data`: no data entry.
    no_data: bool,
}

type Row = Vec<Option<String>>;
/// A partition: `(name, from, to, rows)`.
type Partition = (String, String, String, Vec<Row>);
/// `(column, declaration)`.
type Col = (&'static str, String);

fn col(name: &'static str, decl: &str) -> (&'static str, String) {
    (name, decl.to_string())
}

const SPOT_COLS: &[(&str, &str)] = &[
    ("id", "uuid NOT NULL"),
    ("session_id", "bigint NOT NULL"),
    ("member_id", "bigint NOT NULL"),
    ("state", "public.spot_state NOT NULL"),
    ("paid_with", "text NOT NULL"),
    ("price_gross", "numeric(10,2) DEFAULT 0 NOT NULL"),
    ("guests", "smallint DEFAULT 0 NOT NULL"),
    ("checked_in_at", "timestamp with time zone"),
    ("cancelled_at", "timestamp with time zone"),
    ("created_at", "timestamp with time zone NOT NULL"),
    ("updated_at", "timestamp with time zone NOT NULL"),
];

const PURCHASE_STATES: [&str; 10] = [
    "awaiting_payment",
    "paid",
    "failed",
    "expired",
    "void",
    "refunded",
    "refunded_partial",
    "in_dispute",
    "dispute_won",
    "dispute_lost",
];

/// The app's tables as they stood at the backup.
fn tables(w: &World) -> Vec<Table> {
    let z = of(w);
    let t = w.backup_at;
    let studios: Vec<&Studio> = z.studios.iter().filter(|s| s.created_at <= t).collect();
    let live_studio: HashSet<i64> = studios.iter().map(|s| s.id).collect();
    let st_rows: Vec<Row> = studios
        .iter()
        .map(|st| {
            let legal = match &st.former_account {
                Some((_, l, until)) if t < *until => l.clone(),
                _ => st.legal_name.clone(),
            };
            vec![
                s(st.id),
                s(&st.slug),
                s(st.name_at(t)),
                s(legal),
                s(&st.category),
                s(&st.country),
                s(&st.locale),
                s(&st.tz),
                s(&st.currency),
                s(&st.contact_email),
                s(&st.address),
                st.account_at(t).map(str::to_string),
                s(&st.plan),
                st.closed_at.filter(|c| *c <= t).map(|c| tstz(c, "closed")),
                s(tstz(st.created_at, "studio")),
            ]
        })
        .collect();
    let people_rows: Vec<Row> = z
        .people
        .iter()
        .filter(|p| p.created_at <= t)
        .map(|p| {
            let erased = p.erased_by(t);
            vec![
                s(p.id),
                s(p.email_at(t)),
                (!erased).then(|| p.full_name.clone()),
                p.phone.clone(),
                p.stripe_customer
                    .as_ref()
                    .filter(|(_, at)| *at <= t)
                    .map(|(c, _)| c.clone()),
                p.deleted_at.filter(|d| *d <= t).map(|d| tstz(d, "deleted")),
                s(tstz(p.created_at, "person")),
            ]
        })
        .collect();
    let member_rows: Vec<Row> = z
        .members
        .iter()
        .filter(|m| m.created_at <= t && live_studio.contains(&m.studio_id))
        .map(|m| {
            let (first, last) = m.name_at(t);
            let anon = m.anonymised_at.filter(|a| *a <= t);
            vec![
                s(m.id),
                s(m.studio_id),
                m.person_id.map(|p| p.to_string()),
                s(first),
                s(last),
                m.email.clone(),
                if anon.is_some() {
                    None
                } else {
                    m.phone.clone()
                },
                b(m.archived_at.is_some_and(|a| a <= t)),
                m.merged_by(t).map(|x| x.to_string()),
                anon.map(|a| tstz(a, "anon")),
                s(tstz(m.created_at, "member")),
            ]
        })
        .collect();
    let ct_rows: Vec<Row> = z
        .class_types
        .iter()
        .filter(|c| c.created_at <= t)
        .map(|c| vec![s(c.id), s(c.studio_id), s(c.name_at(t))])
        .collect();
    // Sessions by partition (year of `on_date` as the row held it).
    let mut parts: Vec<Partition> = (2021..=2026)
        .map(|y| {
            (
                format!("class_sessions_{y}"),
                format!("{y}-01-01"),
                format!("{}-01-01", y + 1),
                Vec::new(),
            )
        })
        .collect();
    for se in z.sessions.iter().filter(|x| x.created_at <= t) {
        let studio = z.studio(se.studio_id);
        let (d, tm) = se.when_at(t);
        let y = d.year();
        if !(2021..=2026).contains(&y) {
            continue;
        }
        let cancelled = se.cancelled.as_ref().filter(|(at, _)| *at <= t);
        parts[(y - 2021) as usize].3.push(vec![
            s(se.id),
            s(se.studio_id),
            s(se.class_type_id),
            se.title_override.clone(),
            s(&se.instructor),
            s(d.format("%Y-%m-%d")),
            s(tm.format("%H:%M:%S")),
            s(se.duration_min),
            se.drop_in_price.map(|p| major(p, &studio.cur())),
            cancelled.map(|(at, _)| tstz(*at, "scancel")),
            cancelled.map(|(_, r)| r.clone()),
        ]);
    }
    // Spots and the archive: a merge re-points `spots`, not `spots_archive`.
    let mut spot_rows = Vec::new();
    let mut archive_rows = Vec::new();
    for sp in z.spots.iter().filter(|x| x.created_at <= t) {
        let Some(v) = sp.at(t) else { continue };
        let studio = z.studio(z.member(sp.member_id).studio_id);
        if !live_studio.contains(&studio.id) {
            continue;
        }
        let archived = sp.archived_at.filter(|a| *a <= t);
        let member = z.owner_at(sp.member_id, archived.unwrap_or(t));
        let mut r = vec![
            s(&sp.id),
            s(v.session_id),
            s(member),
            s(v.state.as_str()),
            s(v.paid_with.as_str()),
            s(major(v.price, &studio.cur())),
            s(v.guests),
            v.checked_in_at.map(|x| tstz(x, "checkin")),
            v.cancelled_at.map(|x| tstz(x, "spotcancel")),
            s(tstz(sp.created_at, &sp.id)),
            s(tstz(v.at, &sp.id)),
        ];
        match archived {
            Some(a) => {
                r.push(s(tstz(a, "archived")));
                archive_rows.push(r);
            }
            None => spot_rows.push(r),
        }
    }
    let mut purchase_rows = Vec::new();
    let mut refunds: Vec<(Timestamp, &str, &ZRefund)> = Vec::new();
    for p in z.purchases.iter().filter(|p| p.created_at <= t) {
        if !live_studio.contains(&p.studio_id) {
            continue;
        }
        let Some(status) = p.status_at(t) else {
            continue;
        };
        let paid = p.paid_at().filter(|a| *a <= t);
        purchase_rows.push(vec![
            s(&p.id),
            s(p.studio_id),
            p.member_id.map(|m| z.owner_at(m, t).to_string()),
            s(p.kind.as_str()),
            p.spot.clone(),
            s(&p.label),
            s(p.method.as_str()),
            p.stripe_object.clone(),
            s(p.amount),
            s(p.refunded_at(t)),
            s(status),
            paid.and(p.doc_no.clone()),
            paid.map(|a| tstz(a, &p.id)),
            s(tstz(p.created_at, &p.id)),
            s(tstz(p.updated_at(t), &p.id)),
        ]);
    }
    for p in &z.purchases {
        for r in p.refunds.iter().filter(|r| r.in_app) {
            refunds.push((r.at, &p.id, r));
        }
    }
    refunds.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    let refund_rows: Vec<Row> = refunds
        .iter()
        .enumerate()
        .filter(|(_, (at, _, _))| *at <= t)
        .map(|(i, (at, pid, r))| {
            vec![
                s(i + 1),
                s(pid),
                s(r.amount),
                s(if r.cash { "cash" } else { "card" }),
                r.id.clone(),
                s(tstz(*at, pid)),
            ]
        })
        .collect();
    let pass_rows: Vec<Row> = z
        .passes
        .iter()
        .filter(|p| p.created_at <= t)
        .map(|p| {
            vec![
                s(p.id),
                s(p.studio_id),
                s(p.member_id),
                s(&p.purchase),
                s(p.entries),
                s(p.left_at(t)),
                s(p.valid_until.format("%Y-%m-%d")),
                s(tstz(p.created_at, "pass")),
            ]
        })
        .collect();
    let ms_rows: Vec<Row> = z
        .memberships
        .iter()
        .filter(|m| m.started_at <= t)
        .map(|m| {
            let ended = m.ended_at.filter(|e| *e <= t);
            let status = match ended {
                Some(_) if m.failed => "unpaid",
                Some(_) => "cancelled",
                None => "active",
            };
            vec![
                s(m.id),
                s(m.studio_id),
                s(m.member_id),
                m.subscription.clone(),
                s(m.price),
                s(status),
                s(tstz(m.started_at, "ms")),
                ended.map(|e| tstz(e, "msend")),
            ]
        })
        .collect();
    let credit_rows: Vec<Row> = z
        .credits
        .iter()
        .filter(|c| c.at <= t)
        .map(|c| {
            vec![
                s(c.id),
                s(c.studio_id),
                s(c.member_id),
                s(c.amount),
                s(&c.reason),
                c.spot.clone(),
                c.purchase.clone(),
                s(tstz(c.at, "credit")),
            ]
        })
        .collect();
    let ts = "timestamp with time zone";
    let tsn = "timestamp with time zone NOT NULL";
    vec![
        Table {
            name: "audit_log",
            cols: vec![
                col("id", "bigint NOT NULL"),
                col("studio_id", "integer"),
                col("actor", "text"),
                col("action", "text NOT NULL"),
                col("payload", "jsonb"),
                col("created_at", tsn),
            ],
            seq: Some(""),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![],
            indexes: vec![],
            rows: vec![],
            no_data: true,
        },
        Table {
            name: "class_sessions",
            cols: vec![
                col(
                    "id",
                    "bigint DEFAULT nextval('public.class_sessions_id_seq'::regclass) NOT NULL",
                ),
                col("studio_id", "integer NOT NULL"),
                col("class_type_id", "integer NOT NULL"),
                col("title_override", "text"),
                col("instructor_name", "text"),
                col("on_date", "date NOT NULL"),
                col("start_time", "time without time zone NOT NULL"),
                col("duration_min", "smallint NOT NULL"),
                col("drop_in_price", "numeric(10,2)"),
                col("cancelled_at", ts),
                col("cancel_reason", "text"),
            ],
            seq: None,
            partitioned: Some(("RANGE (on_date)", parts)),
            pkey: Some("id, on_date"),
            uniques: vec![],
            fks: vec![],
            indexes: vec![],
            rows: vec![],
            no_data: false,
        },
        Table {
            name: "class_types",
            cols: vec![
                col("id", "integer NOT NULL"),
                col("studio_id", "integer NOT NULL"),
                col("name", "text NOT NULL"),
            ],
            seq: Some("AS integer"),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![],
            indexes: vec![],
            rows: ct_rows,
            no_data: false,
        },
        Table {
            name: "member_credits",
            cols: vec![
                col("id", "bigint NOT NULL"),
                col("studio_id", "integer NOT NULL"),
                col("member_id", "bigint NOT NULL"),
                col("amount_minor", "integer NOT NULL"),
                col("reason", "text NOT NULL"),
                col("spot_id", "uuid"),
                col("purchase_id", "uuid"),
                col("created_at", tsn),
            ],
            seq: Some(""),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![(
                "member_credits_member_id_fkey",
                "member_id",
                "studio_members",
            )],
            indexes: vec![],
            rows: credit_rows,
            no_data: false,
        },
        Table {
            name: "memberships",
            cols: vec![
                col("id", "bigint NOT NULL"),
                col("studio_id", "integer NOT NULL"),
                col("member_id", "bigint NOT NULL"),
                col("stripe_subscription_id", "text"),
                col("price_minor", "integer NOT NULL"),
                col("status", "text NOT NULL"),
                col("started_at", tsn),
                col("ended_at", ts),
            ],
            seq: Some(""),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![("memberships_member_id_fkey", "member_id", "studio_members")],
            indexes: vec![],
            rows: ms_rows,
            no_data: false,
        },
        Table {
            name: "passes",
            cols: vec![
                col("id", "bigint NOT NULL"),
                col("studio_id", "integer NOT NULL"),
                col("member_id", "bigint NOT NULL"),
                col("purchase_id", "uuid"),
                col("entries_total", "smallint DEFAULT 10 NOT NULL"),
                col("entries_left", "smallint NOT NULL"),
                col("valid_until", "date"),
                col("created_at", tsn),
            ],
            seq: Some(""),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![("passes_member_id_fkey", "member_id", "studio_members")],
            indexes: vec![],
            rows: pass_rows,
            no_data: false,
        },
        Table {
            name: "people",
            cols: vec![
                col("id", "bigint NOT NULL"),
                col("email", "public.citext NOT NULL"),
                col("full_name", "text"),
                col("phone", "text"),
                col("stripe_customer_id", "text"),
                col("deleted_at", ts),
                col("created_at", tsn),
            ],
            seq: Some(""),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![("people_email_key", "email")],
            fks: vec![],
            indexes: vec![],
            rows: people_rows,
            no_data: false,
        },
        Table {
            name: "purchase_refunds",
            cols: vec![
                col("id", "bigint NOT NULL"),
                col("purchase_id", "uuid NOT NULL"),
                col("amount_minor", "integer NOT NULL"),
                col("kind", "text NOT NULL"),
                col("stripe_refund_id", "text"),
                col("created_at", tsn),
            ],
            seq: Some(""),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![],
            indexes: vec![],
            rows: refund_rows,
            no_data: false,
        },
        Table {
            name: "purchases",
            cols: vec![
                col("id", "uuid NOT NULL"),
                col("studio_id", "integer NOT NULL"),
                col("member_id", "bigint"),
                col("kind", "text NOT NULL"),
                col("spot_id", "uuid"),
                col("label", "text NOT NULL"),
                col("method", "text NOT NULL"),
                col("stripe_object", "text"),
                col("amount_minor", "integer NOT NULL"),
                col("refunded_minor", "integer DEFAULT 0 NOT NULL"),
                col("status", "public.purchase_status NOT NULL"),
                col("doc_no", "text"),
                col("paid_at", ts),
                col("created_at", tsn),
                col("updated_at", tsn),
            ],
            seq: None,
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![
                ("purchases_member_id_fkey", "member_id", "studio_members"),
                ("purchases_studio_id_fkey", "studio_id", "studios"),
            ],
            indexes: vec![
                ("purchases_spot_id_idx", "(spot_id)"),
                ("purchases_stripe_object_idx", "(stripe_object)"),
            ],
            rows: purchase_rows,
            no_data: false,
        },
        Table {
            name: "spots",
            cols: SPOT_COLS.iter().map(|(n, d)| col(n, d)).collect(),
            seq: None,
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![],
            fks: vec![("spots_member_id_fkey", "member_id", "studio_members")],
            indexes: vec![("spots_session_id_idx", "(session_id)")],
            rows: spot_rows,
            no_data: false,
        },
        Table {
            name: "spots_archive",
            cols: SPOT_COLS
                .iter()
                .map(|(n, d)| col(n, &d.replace(" DEFAULT 0", "")))
                .chain([col("archived_at", tsn)])
                .collect(),
            seq: None,
            partitioned: None,
            pkey: None,
            uniques: vec![],
            fks: vec![],
            indexes: vec![],
            rows: archive_rows,
            no_data: false,
        },
        Table {
            name: "studio_members",
            cols: vec![
                col("id", "bigint NOT NULL"),
                col("studio_id", "integer NOT NULL"),
                col("person_id", "bigint"),
                col("first_name", "text"),
                col("last_name", "text"),
                col("email", "text"),
                col("phone", "text"),
                col("archived", "boolean DEFAULT false NOT NULL"),
                col("merged_into_id", "bigint"),
                col("anonymised_at", ts),
                col("created_at", tsn),
            ],
            seq: Some(""),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![(
                "studio_members_studio_id_person_id_first_name_key",
                "studio_id, person_id, first_name",
            )],
            fks: vec![
                (
                    "studio_members_merged_into_id_fkey",
                    "merged_into_id",
                    "studio_members",
                ),
                ("studio_members_person_id_fkey", "person_id", "people"),
                ("studio_members_studio_id_fkey", "studio_id", "studios"),
            ],
            indexes: vec![],
            rows: member_rows,
            no_data: false,
        },
        Table {
            name: "studios",
            cols: vec![
                col("id", "integer NOT NULL"),
                col("slug", "text NOT NULL"),
                col("name", "text NOT NULL"),
                col("legal_name", "text"),
                col("category", "text NOT NULL"),
                col("country", "character(2) NOT NULL"),
                col("locale", "text NOT NULL"),
                col("tz", "text NOT NULL"),
                col("currency", "character(3) NOT NULL"),
                col("contact_email", "text"),
                col("address", "text"),
                col("stripe_account_id", "text"),
                col("plan", "text NOT NULL"),
                col("closed_at", ts),
                col("created_at", tsn),
            ],
            seq: Some("AS integer"),
            partitioned: None,
            pkey: Some("id"),
            uniques: vec![("studios_slug_key", "slug")],
            fks: vec![],
            indexes: vec![],
            rows: st_rows,
            no_data: false,
        },
    ]
}

/// One entry of the archive's table of contents.
struct Entry {
    id: i64,
    tableoid: u32,
    oid: u32,
    tag: String,
    desc: &'static str,
    section: i64,
    defn: Option<String>,
    drop: Option<String>,
    copy: Option<String>,
    ns: Option<&'static str>,
    tablespace: Option<&'static str>,
    am: Option<&'static str>,
    owner: Option<&'static str>,
    deps: Vec<i64>,
    /// COPY data (with its `\.` terminator), for TABLE DATA.
    data: Option<Vec<u8>>,
}

impl Entry {
    fn new(id: i64, tag: impl Into<String>, desc: &'static str, section: i64) -> Entry {
        Entry {
            id,
            tableoid: 0,
            oid: 0,
            tag: tag.into(),
            desc,
            section,
            defn: None,
            drop: None,
            copy: None,
            ns: Some("public"),
            tablespace: None,
            am: None,
            owner: Some(OWNER),
            deps: Vec::new(),
            data: None,
        }
    }
}

fn copy_data(rows: &[Row]) -> Vec<u8> {
    let mut out = String::with_capacity(rows.len() * 120 + 8);
    for r in rows {
        for (i, v) in r.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            out.push_str(&escape_field(v.as_deref()));
        }
        out.push('\n');
    }
    out.push_str("\\.\n\n\n");
    out.into_bytes()
}

fn create_table(name: &str, cols: &[(&'static str, String)], tail: &str) -> String {
    let items: Vec<String> = cols.iter().map(|(n, d)| format!("    {n} {d}")).collect();
    format!(
        "CREATE TABLE public.{name} (\n{}\n){tail};\n",
        items.join(",\n")
    )
}

fn sequence(name: &str, as_line: &str) -> String {
    let mut s = format!("CREATE SEQUENCE public.{name}\n");
    if !as_line.is_empty() {
        let _ = writeln!(s, "    {as_line}");
    }
    s.push_str(
        "    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n",
    );
    s
}

/// The table of contents, in pg_dump's order, with the data.
fn entries(w: &World) -> Vec<Entry> {
    let tables = tables(w);
    let mut out: Vec<Entry> = Vec::new();
    let mut next_oid = 16386u32;
    let mut oid = || {
        next_oid += 6;
        next_oid
    };
    let mut id = 200i64;
    let mut nid = || {
        id += 1;
        id
    };
    // Pre-data: the extension, the enums, tables and sequences by name.
    let ext = 2;
    let mut e = Entry::new(ext, "citext", "EXTENSION", 2);
    e.tableoid = 3079;
    e.oid = 16385;
    e.defn = Some("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;\n".into());
    e.drop = Some("DROP EXTENSION citext;\n".into());
    e.ns = None;
    e.owner = None;
    out.push(e);
    let mut e = Entry::new(4380, "EXTENSION citext", "COMMENT", 1);
    e.defn = Some(
        "COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';\n"
            .into(),
    );
    e.ns = None;
    e.owner = Some("");
    e.deps = vec![ext];
    out.push(e);
    let spot_state: Vec<&str> = SpotState::ALL.iter().map(|s| s.as_str()).collect();
    let mut type_ids: HashMap<&str, i64> = HashMap::new();
    for (name, labels) in [
        ("purchase_status", PURCHASE_STATES.to_vec()),
        ("spot_state", spot_state),
    ] {
        let i = nid();
        type_ids.insert(name, i);
        let mut e = Entry::new(i, name, "TYPE", 2);
        e.tableoid = 1247;
        e.oid = oid();
        let l: Vec<String> = labels.iter().map(|l| format!("    '{l}'")).collect();
        e.defn = Some(format!(
            "CREATE TYPE public.{name} AS ENUM (\n{}\n);\n",
            l.join(",\n")
        ));
        e.drop = Some(format!("DROP TYPE public.{name};\n"));
        out.push(e);
    }
    let deps_of = |t: &Table, type_ids: &HashMap<&str, i64>| -> Vec<i64> {
        let mut d = Vec::new();
        for (_, decl) in &t.cols {
            if decl.contains("public.citext") {
                d.push(ext);
            }
            for (n, i) in type_ids {
                if decl.contains(&format!("public.{n} ")) {
                    d.push(*i);
                }
            }
        }
        d
    };
    // (table, its entry id, oid)
    let mut table_ids: HashMap<String, (i64, u32)> = HashMap::new();
    let mut attaches: Vec<Entry> = Vec::new();
    let mut defaults: Vec<Entry> = Vec::new();
    let mut seq_ids: Vec<(String, i64)> = Vec::new();
    for t in &tables {
        let tail = t
            .partitioned
            .as_ref()
            .map(|(by, _)| format!("\nPARTITION BY {by}"))
            .unwrap_or_default();
        if t.partitioned.is_some() {
            // The standalone sequence the default names comes first.
            let si = nid();
            let mut e = Entry::new(si, format!("{}_id_seq", t.name), "SEQUENCE", 2);
            e.tableoid = 1259;
            e.oid = oid();
            e.defn = Some(sequence(&format!("{}_id_seq", t.name), ""));
            e.drop = Some(format!("DROP SEQUENCE public.{}_id_seq;\n", t.name));
            out.push(e);
            seq_ids.push((format!("{}_id_seq", t.name), si));
            let ti = nid();
            let to = oid();
            let mut e = Entry::new(ti, t.name, "TABLE", 2);
            e.tableoid = 1259;
            e.oid = to;
            e.defn = Some(create_table(t.name, &t.cols, &tail));
            e.drop = Some(format!("DROP TABLE public.{};\n", t.name));
            e.tablespace = Some("");
            e.deps = vec![si];
            out.push(e);
            table_ids.insert(t.name.to_string(), (ti, to));
            if let Some((_, parts)) = &t.partitioned {
                for (pname, from, to_, _) in parts {
                    let pi = nid();
                    let po = oid();
                    let mut e = Entry::new(pi, pname.clone(), "TABLE", 2);
                    e.tableoid = 1259;
                    e.oid = po;
                    e.defn = Some(create_table(pname, &t.cols, ""));
                    e.drop = Some(format!("DROP TABLE public.{pname};\n"));
                    e.tablespace = Some("");
                    e.am = Some("heap");
                    e.deps = vec![si, ti];
                    out.push(e);
                    table_ids.insert(pname.clone(), (pi, po));
                    let mut a = Entry::new(0, pname.clone(), "TABLE ATTACH", 2);
                    a.defn = Some(format!(
                        "ALTER TABLE ONLY public.{} ATTACH PARTITION public.{pname} FOR VALUES FROM ('{from}') TO ('{to_}');\n",
                        t.name
                    ));
                    a.deps = vec![pi, ti];
                    attaches.push(a);
                }
            }
            continue;
        }
        let ti = nid();
        let to = oid();
        let mut e = Entry::new(ti, t.name, "TABLE", 2);
        e.tableoid = 1259;
        e.oid = to;
        e.defn = Some(create_table(t.name, &t.cols, &tail));
        e.drop = Some(format!("DROP TABLE public.{};\n", t.name));
        e.tablespace = Some("");
        e.am = Some("heap");
        e.deps = deps_of(t, &type_ids);
        out.push(e);
        table_ids.insert(t.name.to_string(), (ti, to));
        if let Some(as_line) = t.seq {
            let seq = format!("{}_id_seq", t.name);
            let si = nid();
            let mut e = Entry::new(si, seq.clone(), "SEQUENCE", 2);
            e.tableoid = 1259;
            e.oid = oid();
            e.defn = Some(sequence(&seq, as_line));
            e.drop = Some(format!("DROP SEQUENCE public.{seq};\n"));
            e.deps = vec![ti];
            out.push(e);
            let mut e = Entry::new(nid(), seq.clone(), "SEQUENCE OWNED BY", 2);
            e.defn = Some(format!(
                "ALTER SEQUENCE public.{seq} OWNED BY public.{}.id;\n",
                t.name
            ));
            e.deps = vec![si];
            out.push(e);
            seq_ids.push((seq.clone(), si));
            let mut d = Entry::new(0, format!("{} id", t.name), "DEFAULT", 2);
            d.tableoid = 2604;
            d.oid = oid();
            d.defn = Some(format!(
                "ALTER TABLE ONLY public.{} ALTER COLUMN id SET DEFAULT nextval('public.{seq}'::regclass);\n",
                t.name
            ));
            d.drop = Some(format!(
                "ALTER TABLE public.{} ALTER COLUMN id DROP DEFAULT;\n",
                t.name
            ));
            d.deps = vec![ti, si, ti];
            defaults.push(d);
        }
    }
    for mut a in attaches {
        a.id = nid();
        out.push(a);
    }
    defaults.sort_by(|a, b| a.tag.cmp(&b.tag));
    for mut d in defaults {
        d.id = nid();
        out.push(d);
    }
    // Data: one entry per table (partitions, not their parent), by name.
    let mut data: Vec<(String, &[Col], &[Row])> = Vec::new();
    let mut max_ids: HashMap<String, i64> = HashMap::new();
    for t in &tables {
        if t.no_data {
            continue;
        }
        match &t.partitioned {
            Some((_, parts)) => {
                for (pname, _, _, rows) in parts {
                    data.push((pname.clone(), &t.cols, rows));
                    let m = rows
                        .iter()
                        .filter_map(|r| r[0].as_deref()?.parse::<i64>().ok())
                        .max();
                    let e = max_ids.entry(format!("{}_id_seq", t.name)).or_insert(0);
                    *e = (*e).max(m.unwrap_or(0));
                }
            }
            None => {
                data.push((t.name.to_string(), &t.cols, &t.rows));
                if t.seq.is_some() {
                    let m = t
                        .rows
                        .iter()
                        .filter_map(|r| r[0].as_deref()?.parse::<i64>().ok())
                        .max()
                        .unwrap_or(0);
                    max_ids.insert(format!("{}_id_seq", t.name), m);
                }
            }
        }
    }
    data.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, cols, rows) in data {
        let (ti, to) = table_ids[&name];
        let mut e = Entry::new(nid(), name.clone(), "TABLE DATA", 3);
        e.oid = to;
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        e.copy = Some(format!(
            "COPY public.{name} ({}) FROM stdin;\n",
            names.join(", ")
        ));
        e.deps = vec![ti];
        e.data = Some(copy_data(rows));
        out.push(e);
    }
    seq_ids.sort();
    for (seq, si) in &seq_ids {
        let mut e = Entry::new(nid(), seq.clone(), "SEQUENCE SET", 3);
        let m = max_ids.get(seq).copied().unwrap_or(0);
        e.defn = Some(if m > 0 {
            format!("SELECT pg_catalog.setval('public.{seq}', {m}, true);\n")
        } else {
            format!("SELECT pg_catalog.setval('public.{seq}', 1, false);\n")
        });
        e.deps = vec![*si];
        out.push(e);
    }
    // Post-data: keys, indexes, foreign keys.
    let mut cons: Vec<(String, String, String, i64)> = Vec::new();
    for t in &tables {
        let (ti, _) = table_ids[t.name];
        if let Some(pk) = t.pkey {
            cons.push((
                t.name.to_string(),
                format!("{}_pkey", t.name),
                format!("PRIMARY KEY ({pk})"),
                ti,
            ));
            if let Some((_, parts)) = &t.partitioned {
                for (pname, _, _, _) in parts {
                    let (pi, _) = table_ids[pname];
                    cons.push((
                        pname.clone(),
                        format!("{pname}_pkey"),
                        format!("PRIMARY KEY ({pk})"),
                        pi,
                    ));
                }
            }
        }
        for (n, c) in &t.uniques {
            cons.push((
                t.name.to_string(),
                n.to_string(),
                format!("UNIQUE ({c})"),
                ti,
            ));
        }
    }
    cons.sort();
    let mut pkey_ids: HashMap<String, i64> = HashMap::new();
    for (tname, cname, def, ti) in &cons {
        let i = nid();
        pkey_ids.insert(cname.clone(), i);
        let mut e = Entry::new(i, format!("{tname} {cname}"), "CONSTRAINT", 4);
        e.tableoid = 2606;
        e.oid = oid();
        e.defn = Some(format!(
            "ALTER TABLE ONLY public.{tname}\n    ADD CONSTRAINT {cname} {def};\n"
        ));
        e.drop = Some(format!(
            "ALTER TABLE ONLY public.{tname} DROP CONSTRAINT {cname};\n"
        ));
        e.tablespace = Some("");
        e.deps = vec![*ti];
        out.push(e);
    }
    let mut idx: Vec<(&str, &str, &str)> = tables
        .iter()
        .flat_map(|t| t.indexes.iter().map(move |(n, d)| (*n, t.name, *d)))
        .collect();
    idx.sort();
    for (n, t, d) in idx {
        let (ti, _) = table_ids[t];
        let mut e = Entry::new(nid(), n, "INDEX", 4);
        e.tableoid = 1259;
        e.oid = oid();
        e.defn = Some(format!("CREATE INDEX {n} ON public.{t} USING btree {d};\n"));
        e.drop = Some(format!("DROP INDEX public.{n};\n"));
        e.tablespace = Some("");
        e.deps = vec![ti];
        out.push(e);
    }
    for t in &tables {
        if let Some((_, parts)) = &t.partitioned {
            let parent = pkey_ids[&format!("{}_pkey", t.name)];
            for (pname, _, _, _) in parts {
                let (pi, _) = table_ids[pname];
                let mut e = Entry::new(nid(), format!("{pname}_pkey"), "INDEX ATTACH", 4);
                e.defn = Some(format!(
                    "ALTER INDEX public.{}_pkey ATTACH PARTITION public.{pname}_pkey;\n",
                    t.name
                ));
                e.deps = vec![pi, pkey_ids[&format!("{pname}_pkey")], parent];
                out.push(e);
            }
        }
    }
    let mut fks: Vec<(&str, &str, &str, &str)> = tables
        .iter()
        .flat_map(|t| t.fks.iter().map(move |(n, c, r)| (t.name, *n, *c, *r)))
        .collect();
    fks.sort();
    for (t, n, c, r) in fks {
        let (ti, _) = table_ids[t];
        let mut e = Entry::new(nid(), format!("{t} {n}"), "FK CONSTRAINT", 4);
        e.tableoid = 2606;
        e.oid = oid();
        e.defn = Some(format!(
            "ALTER TABLE ONLY public.{t}\n    ADD CONSTRAINT {n} FOREIGN KEY ({c}) REFERENCES public.{r}(id);\n"
        ));
        e.drop = Some(format!(
            "ALTER TABLE ONLY public.{t} DROP CONSTRAINT {n};\n"
        ));
        e.tablespace = Some("");
        e.deps = vec![ti, pkey_ids.get(&format!("{r}_pkey")).copied().unwrap_or(0)];
        out.push(e);
    }
    out
}

/// The special entries pg_dump puts first (restored as SET commands).
fn specials(next: i64) -> Vec<Entry> {
    let mut v = Vec::new();
    for (i, (tag, defn)) in [
        ("ENCODING", "SET client_encoding = 'UTF8';\n"),
        ("STDSTRINGS", "SET standard_conforming_strings = 'on';\n"),
        (
            "SEARCHPATH",
            "SELECT pg_catalog.set_config('search_path', '', false);\n",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = Entry::new(
            next + i as i64,
            tag,
            match tag {
                "ENCODING" => "ENCODING",
                "STDSTRINGS" => "STDSTRINGS",
                _ => "SEARCHPATH",
            },
            2,
        );
        e.defn = Some(defn.into());
        e.ns = None;
        e.owner = None;
        v.push(e);
    }
    let mut e = Entry::new(next + 3, DB, "DATABASE", 2);
    e.tableoid = 1262;
    e.oid = 16384;
    e.defn = Some(format!(
        "CREATE DATABASE {DB} WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'en_US.UTF-8';\n"
    ));
    e.drop = Some(format!("DROP DATABASE {DB};\n"));
    e.ns = None;
    e.owner = Some(OWNER);
    v.push(e);
    v
}

fn w_int(out: &mut Vec<u8>, v: i64) {
    out.push(if v < 0 { 1 } else { 0 });
    out.extend_from_slice(&(v.unsigned_abs() as u32).to_le_bytes());
}

fn w_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => w_int(out, -1),
        Some(t) => {
            w_int(out, t.len() as i64);
            out.extend_from_slice(t.as_bytes());
        }
    }
}

/// The archive's files: `toc.dat` and the data files, by name.
pub fn archive_files(w: &World) -> Vec<(String, Vec<u8>)> {
    let mut es = entries(w);
    let max = es.iter().map(|e| e.id).max().unwrap_or(0);
    let mut all = specials(max + 1);
    all.append(&mut es);
    let mut toc = b"PGDMP".to_vec();
    // Version 1.14, int 4 bytes, offsets 8 bytes, directory format, gzip level 6.
    toc.extend_from_slice(&[1, 14, 0, 4, 8, 3]);
    w_int(&mut toc, 6);
    let c = w.backup_at;
    for v in [
        c.second() as i64,
        c.minute() as i64,
        c.hour() as i64,
        c.day() as i64,
        c.month0() as i64,
        c.year() as i64 - 1900,
        0,
    ] {
        w_int(&mut toc, v);
    }
    w_str(&mut toc, Some(DB));
    w_str(&mut toc, Some(PG_VERSION));
    w_str(&mut toc, Some(PG_VERSION));
    w_int(&mut toc, all.len() as i64);
    let mut files = Vec::new();
    for e in &all {
        w_int(&mut toc, e.id);
        w_int(&mut toc, if e.data.is_some() { 1 } else { 0 });
        w_str(&mut toc, Some(&e.tableoid.to_string()));
        w_str(&mut toc, Some(&e.oid.to_string()));
        w_str(&mut toc, Some(&e.tag));
        w_str(&mut toc, Some(e.desc));
        w_int(&mut toc, e.section);
        w_str(&mut toc, e.defn.as_deref());
        w_str(&mut toc, e.drop.as_deref());
        w_str(&mut toc, e.copy.as_deref());
        w_str(&mut toc, e.ns);
        w_str(&mut toc, e.tablespace);
        w_str(&mut toc, e.am);
        w_str(&mut toc, e.owner);
        w_str(&mut toc, Some("false"));
        for d in &e.deps {
            w_str(&mut toc, Some(&d.to_string()));
        }
        w_str(&mut toc, None);
        match &e.data {
            Some(data) => {
                let name = format!("{}.dat", e.id);
                w_str(&mut toc, Some(&name));
                let mut gz = flate2::GzBuilder::new()
                    .operating_system(3)
                    .write(Vec::new(), flate2::Compression::new(6));
                let _ = gz.write_all(data);
                files.push((format!("{name}.gz"), gz.finish().unwrap_or_default()));
            }
            None => w_str(&mut toc, Some("")),
        }
    }
    files.insert(0, ("toc.dat".to_string(), toc));
    files
}

/// Writes `out/backup/<ARCHIVE_DIR>/`.
pub fn render(w: &World, out: &Path) -> Result<()> {
    let dir = out.join("backup").join(ARCHIVE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Write {
        path: dir.clone(),
        cause: e,
    })?;
    for (name, bytes) in archive_files(w) {
        write_atomic(&dir.join(name), &bytes)?;
    }
    Ok(())
}

/// The plain script `pg_restore -f -` prints from the archive.
pub fn plain_text(w: &World) -> String {
    let es = entries(w);
    let mut out = String::with_capacity(1 << 20);
    let _ = write!(
        out,
        "--\n-- PostgreSQL database dump\n--\n\n\
         -- Dumped from database version {PG_VERSION}\n-- Dumped by pg_dump version {PG_VERSION}\n\n\
         SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\n\
         SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\
         SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\
         SET xmloption = content;\nSET client_min_messages = warning;\nSET row_security = off;\n\n"
    );
    let mut tables_started = false;
    for e in &es {
        if e.desc == "TABLE" && !tables_started {
            out.push_str("SET default_tablespace = '';\n\n");
            tables_started = true;
        }
        if e.desc == "TABLE DATA" {
            let _ = write!(
                out,
                "--\n-- Data for Name: {}; Type: TABLE DATA; Schema: public; Owner: {OWNER}\n--\n\n",
                e.tag
            );
            out.push_str(e.copy.as_deref().unwrap_or(""));
            out.push_str(&String::from_utf8_lossy(e.data.as_deref().unwrap_or(&[])));
            continue;
        }
        let _ = write!(
            out,
            "--\n-- Name: {}; Type: {}; Schema: {}; Owner: {}\n--\n\n{}\n\n",
            e.tag,
            e.desc,
            e.ns.unwrap_or("-"),
            e.owner.filter(|o| !o.is_empty()).unwrap_or("-"),
            e.defn.as_deref().unwrap_or("")
        );
    }
    out.push_str("--\n-- PostgreSQL database dump complete\n--\n\n");
    out
}
