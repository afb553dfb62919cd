//! `salvage evaluate`: a recovered file against the truth. Both are SQLite files of the
//! contract schema (`recovered-db.sql`), opened read-only.
//!
//! # Matching
//! Tables are matched in dependency order (businesses, customers, reservations, payments).
//! A recovered row is matched to a truth row
//! 1. by `id` (the app's id), else
//! 2. by natural key: businesses by `stripe_account`, then by name (case-insensitive);
//!    customers by (`business_id`, lowercased `email`), then `stripe_customer`; reservations by `reference`;
//!    payments by `processor_id`, or without one by (business, reservation, amount,
//!    currency, day of `created_at`). Foreign keys in a natural key are first mapped through the
//!    matching of the table they point at (a recovered business `rec_1f..` matched to truth
//!    business 7 counts as 7).
//!
//! A truth file may add table `customer_aliases (customer_id, kind, value)`: other emails
//! (`kind = 'email'`) and Stripe customer ids (`'stripe_customer'`) under which the sources
//! show that customer (a generated incident's habits). They are further natural keys of the
//! truth customer, after its own, so a row found under an alias is that customer (or its
//! duplicate), not a phantom.
//!
//! Rows matched by id are taken first; rows matched by natural key are then taken in order
//! of decreasing confidence (then id). When a key names several truth rows (a family sharing
//! one email), a recovered row takes, among the rows its keys name that are not yet taken,
//! first a row that one of its keys names alone (its Stripe customer), else the first in
//! key order. A recovered row whose truth row is already taken is a
//! **duplicate**; one that matches nothing is a **phantom**.
//!
//! # Scores
//! Per table: `matched` = truth rows matched by a recovered row (each at most once);
//! precision = matched / recovered rows; recall = matched / truth rows; F1 their harmonic
//! mean (0/0 counts as 1). Evidenced recall and F1 count only the truth rows whose
//! `sources` is not empty (some surviving source holds them). Per column: accuracy over matched (non-duplicate) pairs, exact
//! equality after normalising (NULL and empty text are the same; emails lowercased; numbers
//! compared by value; foreign keys mapped through the matching).
//!
//! # Calibration
//! Every recovered row of the four tables with a `confidence` is one prediction. It is
//! **correct** when the row is matched (not a duplicate, not a phantom) AND its key columns
//! are all right: businesses `name`; customers `business_id`, `email`; reservations
//! `business_id`, `status`, `starts_at`; payments `amount`, `status`, `business_id`.
//! Predictions fall into 10 equal-width bins of confidence ([0,0.1), ..., [0.9,1.0]); the
//! expected calibration error is Σ (n_bin / n) · |accuracy_bin − mean confidence_bin|.
//!
//! # Stripe money per business
//! For each truth business with at least one payment with `processor = 'stripe'`: per
//! currency, net = Σ `amount` − Σ `amount_refunded` over its Stripe payments whose status is
//! succeeded, refunded, partially_refunded or disputed. Recovered payments count for the
//! truth business their `business_id` maps to through the business matching (an unmatched
//! id stands for itself, as for every foreign key here). A business is **exact** when, for
//! every currency on either side, the two nets are equal. Currencies are compared as written:
//! the contract's codes are lowercase, so `'USD'` is not `'usd'`. A duplicate payment counts
//! its money twice, so it breaks its business.

pub mod pairs;

use crate::claims::Entity;
use crate::error::{Error, Result};
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub truth: String,
    pub recovered: String,
    pub tables: Vec<TableScore>,
    pub calibration: Calibration,
    /// Stripe money per business (see the module docs).
    pub money: MoneyScore,
    /// Rows grouped by table, supporting sources and confidence: which kinds of row are
    /// right how often (the data a calibration is fitted on).
    pub by_evidence: Vec<EvidenceGroup>,
    /// Whether the review queue holds the rows a person should see.
    pub review: ReviewScore,
}

/// The review queue against the truth: a queue worth reading holds mostly wrong rows,
/// and the rows it leaves out are mostly right. A row is wrong as for calibration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReviewScore {
    /// Recovered rows with at least one review item.
    pub queued_rows: usize,
    pub queued_wrong: usize,
    /// queued_wrong / queued_rows.
    pub queued_wrong_share: f64,
    pub unqueued_rows: usize,
    pub unqueued_right: usize,
    /// unqueued_right / unqueued_rows.
    pub unqueued_right_share: f64,
    /// Of all wrong rows, the share the queue holds.
    pub wrong_caught_share: f64,
    /// Per reason: rows queued for it, and how many of them are wrong.
    pub by_reason: std::collections::BTreeMap<String, (usize, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceGroup {
    pub table: String,
    /// The row's evidence signature (`row_evidence`), or its `sources` when the file has none.
    pub signature: String,
    pub confidence: f64,
    pub rows: usize,
    pub correct: usize,
}

/// One table's scores.
#[derive(Debug, Clone, Serialize)]
pub struct TableScore {
    pub table: String,
    pub truth_rows: usize,
    pub recovered_rows: usize,
    /// Truth rows matched by some recovered row.
    pub matched: usize,
    pub matched_by_id: usize,
    pub matched_by_key: usize,
    /// Recovered rows matched to a truth row already matched.
    pub duplicates: usize,
    /// duplicates / truth rows (0 when the truth has no rows).
    pub duplicate_share: f64,
    /// Recovered rows that match no truth row.
    pub phantoms: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Truth rows that some surviving source holds (their `sources` is not empty): the
    /// rows a rebuild can find at all.
    pub evidenced_rows: usize,
    /// Recall and F1 over those rows (precision as above).
    pub evidenced_recall: f64,
    pub evidenced_f1: f64,
    /// Accuracy of each contract column over matched pairs.
    pub columns: Vec<ColumnScore>,
    /// Up to 50 duplicate rows: (recovered row id, the truth row id it duplicates).
    pub duplicate_examples: Vec<(String, String)>,
    /// Up to 50 phantom rows (recovered row ids).
    pub phantom_examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnScore {
    pub column: String,
    /// Matched pairs compared.
    pub compared: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// Stripe money per business: how many truth businesses get their Stripe net right.
#[derive(Debug, Clone, Serialize)]
pub struct MoneyScore {
    /// What "exact" means (see the module docs).
    pub rule: String,
    /// Truth businesses with at least one Stripe payment.
    pub businesses: usize,
    /// Of those, businesses whose net is right in every currency.
    pub exact: usize,
    /// exact / businesses (1 when there are none).
    pub share: f64,
    /// Each wrong (business, currency): the truth's and the recovered net, in minor units
    /// (`null` when an amount was not a whole number).
    pub wrong: Vec<MoneyMiss>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MoneyMiss {
    pub business_id: String,
    pub currency: String,
    pub truth: Option<i128>,
    pub recovered: Option<i128>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// What "correct" means for a row (see the module docs).
    pub rule: String,
    /// Recovered rows with a confidence.
    pub predictions: usize,
    /// Of those, correct.
    pub correct: usize,
    /// Expected calibration error over 10 equal-width bins.
    pub ece: f64,
    /// The reliability table (bins with no rows included, count 0).
    pub bins: Vec<ReliabilityBin>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReliabilityBin {
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

const MONEY_RULE: &str = "per truth business with a Stripe payment and per currency (as written), \
net = sum(amount) - sum(amount_refunded) over processor = 'stripe' payments with status \
succeeded, refunded, partially_refunded or disputed; recovered payments attributed through the \
business matching; exact when every currency's net is equal";

/// Payment statuses whose money a business received (before refunds).
const MONEY_STATUSES: &[&str] = &["succeeded", "refunded", "partially_refunded", "disputed"];

const CALIBRATION_RULE: &str = "a recovered row is correct when it is matched to a truth row \
(not a duplicate, not a phantom) and its key columns are right: businesses name; customers \
business_id, email; reservations business_id, status, starts_at; payments amount, status, \
business_id";

/// Key columns of each table for calibration.
fn key_columns(e: Entity) -> &'static [&'static str] {
    match e {
        Entity::Business => &["name"],
        Entity::Customer => &["business_id", "email"],
        Entity::Reservation => &["business_id", "status", "starts_at"],
        Entity::Payment => &["amount", "status", "business_id"],
    }
}

/// Which table a foreign-key column points at.
fn fk_target(col: &str) -> Option<Entity> {
    match col {
        "business_id" => Some(Entity::Business),
        "customer_id" => Some(Entity::Customer),
        "reservation_id" => Some(Entity::Reservation),
        _ => None,
    }
}

/// One row as read: id, normalised values of the contract columns (in the order of
/// [`crate::contract::columns`]), confidence.
#[derive(Debug, Clone)]
struct Rec {
    entity: Entity,
    id: String,
    cols: Vec<Option<String>>,
    confidence: Option<f64>,
    sources: Option<String>,
}

impl Rec {
    fn get(&self, c: &str) -> Option<&str> {
        let i = crate::contract::columns(self.entity)
            .iter()
            .position(|x| *x == c)?;
        self.cols[i].as_deref()
    }
}

fn normalise(col: &str, v: ValueRef<'_>) -> Option<String> {
    let s = match v {
        ValueRef::Null => return None,
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => {
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
                (f as i64).to_string()
            } else {
                f.to_string()
            }
        }
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("blob:{}", hex::encode(b)),
    };
    if s.trim().is_empty() {
        return None;
    }
    Some(if col == "email" { s.to_lowercase() } else { s })
}

fn read_table(conn: &Connection, path: &Path, e: Entity) -> Result<Vec<Rec>> {
    let table = e.table();
    let mut st = conn
        .prepare(&format!("SELECT * FROM {table}"))
        .map_err(|err| {
            Error::input(
                path,
                format!("cannot read table {table}: {err}. Give a SQLite file of the contract schema (recovered-db.sql)."),
            )
        })?;
    let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
    let id_at = names.iter().position(|n| n == "id").ok_or_else(|| {
        Error::input(
            path,
            format!("table {table} has no id column; is this a contract file?"),
        )
    })?;
    let contract = crate::contract::columns(e);
    let slot: Vec<Option<usize>> = names
        .iter()
        .map(|n| contract.iter().position(|c| c == n))
        .collect();
    let mut rows = st.query([]).map_err(|err| Error::sqlite(path, err))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|err| Error::sqlite(path, err))? {
        let mut rec = Rec {
            entity: e,
            id: String::new(),
            cols: vec![None; contract.len()],
            confidence: None,
            sources: None,
        };
        for (i, n) in names.iter().enumerate() {
            let v = r.get_ref(i).map_err(|err| Error::sqlite(path, err))?;
            if i == id_at {
                rec.id = normalise("id", v).unwrap_or_default();
            } else if n == "sources" {
                if let ValueRef::Text(t) = v {
                    rec.sources = Some(String::from_utf8_lossy(t).into_owned());
                }
            } else if n == "confidence" {
                rec.confidence = match v {
                    ValueRef::Real(f) => Some(f),
                    ValueRef::Integer(i) => Some(i as f64),
                    _ => None,
                };
            } else if let Some(k) = slot[i] {
                rec.cols[k] = normalise(n, v);
            }
        }
        out.push(rec);
    }
    Ok(out)
}

fn open(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::input(
            path,
            "no such file; give the path of a SQLite file of the contract schema",
        ));
    }
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::input(path, format!("cannot open as SQLite: {e}")))
}

/// Per table: recovered index -> (truth index, is the first match).
type Matching = Vec<Option<(usize, bool)>>;

/// (truth business id, currency) -> net in minor units (`None`: not a whole number).
type Nets = BTreeMap<(String, String), Option<i128>>;

struct Tables {
    truth: Vec<Vec<Rec>>,
    rec: Vec<Vec<Rec>>,
    /// Per table: recovered id -> truth id, for every matched recovered row.
    id_map: Vec<HashMap<String, String>>,
    matching: Vec<Matching>,
    /// Truth customer id -> its aliases `(kind, value)` (table `customer_aliases`).
    aliases: HashMap<String, Vec<(String, String)>>,
}

/// The truth's `customer_aliases`, if it has that table.
fn read_aliases(conn: &Connection) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let Ok(mut st) = conn.prepare("SELECT customer_id, kind, value FROM customer_aliases") else {
        return out;
    };
    let Ok(rows) = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    }) else {
        return out;
    };
    for (id, kind, value) in rows.flatten() {
        let value = if kind == "email" {
            value.trim().to_lowercase()
        } else {
            value.trim().to_string()
        };
        out.entry(id).or_default().push((kind, value));
    }
    out
}

fn entity_index(e: Entity) -> usize {
    Entity::ALL.iter().position(|x| *x == e).unwrap_or(0)
}

impl Tables {
    /// A recovered value of `col` in truth terms (foreign keys mapped through the matching).
    fn mapped<'a>(&'a self, col: &str, v: Option<&'a str>) -> Option<&'a str> {
        let v = v?;
        match fk_target(col) {
            Some(t) => Some(
                self.id_map[entity_index(t)]
                    .get(v)
                    .map(|s| s.as_str())
                    .unwrap_or(v),
            ),
            None => Some(v),
        }
    }

    fn natural_key(&self, e: Entity, r: &Rec, recovered: bool) -> Vec<String> {
        let get = |c: &str| {
            if recovered {
                self.mapped(c, r.get(c))
            } else {
                r.get(c)
            }
        };
        let mut keys = Vec::new();
        match e {
            Entity::Business => {
                if let Some(a) = get("stripe_account") {
                    keys.push(format!("acct\u{0}{a}"));
                }
                if let Some(n) = get("name") {
                    keys.push(format!("name\u{0}{}", n.trim().to_lowercase()));
                }
            }
            Entity::Customer => {
                if let (Some(b), Some(m)) = (get("business_id"), get("email")) {
                    keys.push(format!("{b}\u{0}{}", m.trim()));
                }
                // A customer with no email is still known by its Stripe customer id.
                if let Some(c) = get("stripe_customer") {
                    keys.push(format!("cus\u{0}{}", c.trim()));
                }
            }
            Entity::Reservation => {
                if let Some(x) = get("reference") {
                    keys.push(x.trim().to_string());
                }
            }
            Entity::Payment => {
                if let Some(x) = get("processor_id") {
                    keys.push(x.trim().to_string());
                } else if let (Some(b), Some(a), Some(c)) =
                    (get("business_id"), get("amount"), get("currency"))
                {
                    // A payment without a processor id (cash on site) is known by its
                    // business, booking, amount and day.
                    let day = get("created_at").map(|t| t.get(..10).unwrap_or(t));
                    keys.push(format!(
                        "pay\u{0}{b}\u{0}{}\u{0}{a}\u{0}{}\u{0}{}",
                        get("reservation_id").unwrap_or(""),
                        c.trim().to_lowercase(),
                        day.unwrap_or("")
                    ));
                }
            }
        }
        keys
    }

    fn match_table(&mut self, e: Entity) -> (usize, usize) {
        let ei = entity_index(e);
        let truth = &self.truth[ei];
        let rec = &self.rec[ei];
        let by_id: HashMap<&str, usize> = truth
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in truth.iter().enumerate() {
            for k in self.natural_key(e, t, false) {
                by_key.entry(k).or_default().push(i);
            }
        }
        if e == Entity::Customer {
            // Aliases after every row's own keys: a key of its own wins over an alias.
            for (i, t) in truth.iter().enumerate() {
                for (kind, v) in self.aliases.get(&t.id).into_iter().flatten() {
                    let k = match (kind.as_str(), t.get("business_id")) {
                        ("email", Some(b)) => format!("{b}\u{0}{v}"),
                        ("stripe_customer", _) => format!("cus\u{0}{v}"),
                        _ => continue,
                    };
                    let list = by_key.entry(k).or_default();
                    if !list.contains(&i) {
                        list.push(i);
                    }
                }
            }
        }
        let mut taken = vec![false; truth.len()];
        let mut m: Matching = vec![None; rec.len()];
        let (mut n_id, mut n_key) = (0, 0);
        for (ri, r) in rec.iter().enumerate() {
            if let Some(&ti) = by_id.get(r.id.as_str()) {
                let first = !taken[ti];
                taken[ti] = true;
                if first {
                    n_id += 1;
                }
                m[ri] = Some((ti, first));
            }
        }
        let mut rest: Vec<usize> = (0..rec.len()).filter(|&i| m[i].is_none()).collect();
        rest.sort_by(|&a, &b| {
            let ca = rec[a].confidence.unwrap_or(0.0);
            let cb = rec[b].confidence.unwrap_or(0.0);
            cb.total_cmp(&ca).then_with(|| rec[a].id.cmp(&rec[b].id))
        });
        for ri in rest {
            let keys = self.natural_key(e, &rec[ri], true);
            // A free row a key names alone, else any free candidate, else (a duplicate) the
            // first candidate of the first key.
            let lists: Vec<&Vec<usize>> = keys.iter().filter_map(|k| by_key.get(k)).collect();
            let alone = lists
                .iter()
                .filter(|l| l.len() == 1)
                .map(|l| l[0])
                .find(|&ti| !taken[ti]);
            let free = alone.or_else(|| {
                lists
                    .iter()
                    .copied()
                    .flatten()
                    .copied()
                    .find(|&ti| !taken[ti])
            });
            if let Some(ti) = free.or_else(|| lists.first().and_then(|l| l.first().copied())) {
                let first = !taken[ti];
                taken[ti] = true;
                if first {
                    n_key += 1;
                }
                m[ri] = Some((ti, first));
            }
        }
        let mut map = HashMap::new();
        for (ri, x) in m.iter().enumerate() {
            if let Some((ti, _)) = x {
                map.insert(rec[ri].id.clone(), truth[*ti].id.clone());
            }
        }
        self.id_map[ei] = map;
        self.matching[ei] = m;
        (n_id, n_key)
    }

    /// Stripe nets per (truth business, currency) of one side; `None` where an amount is
    /// not a whole number.
    fn stripe_nets(&self, recovered: bool) -> Nets {
        let pi = entity_index(Entity::Payment);
        let rows = if recovered {
            &self.rec[pi]
        } else {
            &self.truth[pi]
        };
        let mut out = Nets::new();
        for p in rows {
            if p.get("processor") != Some("stripe")
                || !p.get("status").is_some_and(|s| MONEY_STATUSES.contains(&s))
            {
                continue;
            }
            let business = if recovered {
                self.mapped("business_id", p.get("business_id"))
            } else {
                p.get("business_id")
            };
            let Some(business) = business else { continue };
            let int = |c: &str| match p.get(c) {
                None => Some(0),
                Some(v) => v.trim().parse::<i128>().ok(),
            };
            let net = match (int("amount"), int("amount_refunded")) {
                (Some(a), Some(r)) => Some(a - r),
                _ => None,
            };
            let key = (
                business.to_string(),
                p.get("currency").unwrap_or("").to_string(),
            );
            let e = out.entry(key).or_insert(Some(0));
            *e = e.zip(net).map(|(x, y)| x + y);
        }
        out
    }

    fn money(&self) -> MoneyScore {
        let pi = entity_index(Entity::Payment);
        let businesses: BTreeSet<&str> = self.truth[pi]
            .iter()
            .filter(|p| p.get("processor") == Some("stripe"))
            .filter_map(|p| p.get("business_id"))
            .collect();
        let truth = self.stripe_nets(false);
        let rec = self.stripe_nets(true);
        let mut wrong = Vec::new();
        let mut exact = 0;
        for &b in &businesses {
            let range = |n: &'_ Nets| {
                n.range((b.to_string(), String::new())..)
                    .take_while(|((x, _), _)| x == b)
                    .map(|((_, c), v)| (c.clone(), *v))
                    .collect::<BTreeMap<String, Option<i128>>>()
            };
            let (t, r) = (range(&truth), range(&rec));
            let currencies: BTreeSet<&String> = t.keys().chain(r.keys()).collect();
            let mut ok = true;
            for c in currencies {
                let tv = t.get(c).copied().unwrap_or(Some(0));
                let rv = r.get(c).copied().unwrap_or(Some(0));
                if tv.is_none() || tv != rv {
                    ok = false;
                    wrong.push(MoneyMiss {
                        business_id: b.to_string(),
                        currency: c.clone(),
                        truth: tv,
                        recovered: rv,
                    });
                }
            }
            exact += ok as usize;
        }
        MoneyScore {
            rule: MONEY_RULE.to_string(),
            businesses: businesses.len(),
            exact,
            share: ratio(exact, businesses.len()),
            wrong,
        }
    }

    fn column_right(&self, e: Entity, col: &str, ri: usize, ti: usize) -> bool {
        let ei = entity_index(e);
        let r = &self.rec[ei][ri];
        let t = &self.truth[ei][ti];
        self.mapped(col, r.get(col)) == t.get(col)
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        1.0
    } else {
        n as f64 / d as f64
    }
}

/// Compares the recovered file with the truth file.
pub fn evaluate(truth: &Path, recovered: &Path) -> Result<Evaluation> {
    let tc = open(truth)?;
    let rc = open(recovered)?;
    let mut t = Tables {
        truth: Vec::new(),
        rec: Vec::new(),
        id_map: vec![HashMap::new(); 4],
        matching: vec![Vec::new(); 4],
        aliases: read_aliases(&tc),
    };
    for e in Entity::ALL {
        t.truth.push(read_table(&tc, truth, e)?);
        t.rec.push(read_table(&rc, recovered, e)?);
    }
    let mut tables = Vec::new();
    let mut predictions: Vec<(f64, bool)> = Vec::new();
    let signatures = read_signatures(&rc);
    let queued = read_queued(&rc);
    let mut review = ReviewScore::default();
    let mut groups: std::collections::BTreeMap<(String, String, u64), (usize, usize)> =
        Default::default();
    for e in Entity::ALL {
        let ei = entity_index(e);
        let (by_id, by_key) = t.match_table(e);
        let matched = by_id + by_key;
        let m = &t.matching[ei];
        let duplicates = m.iter().filter(|x| matches!(x, Some((_, false)))).count();
        let phantoms = m.iter().filter(|x| x.is_none()).count();
        let duplicate_examples: Vec<(String, String)> = m
            .iter()
            .enumerate()
            .filter_map(|(ri, x)| match x {
                Some((ti, false)) => Some((t.rec[ei][ri].id.clone(), t.truth[ei][*ti].id.clone())),
                _ => None,
            })
            .take(50)
            .collect();
        let phantom_examples: Vec<String> = m
            .iter()
            .enumerate()
            .filter(|(_, x)| x.is_none())
            .map(|(ri, _)| t.rec[ei][ri].id.clone())
            .take(50)
            .collect();
        let (nt, nr) = (t.truth[ei].len(), t.rec[ei].len());
        let precision = ratio(matched, nr);
        let recall = ratio(matched, nt);
        let harmonic = |p: f64, r: f64| {
            if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            }
        };
        let f1 = harmonic(precision, recall);
        let evidenced = |ti: usize| {
            t.truth[ei][ti]
                .sources
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
        };
        let evidenced_rows = (0..nt).filter(|&ti| evidenced(ti)).count();
        let evidenced_matched = m
            .iter()
            .filter_map(|x| match x {
                Some((ti, true)) if evidenced(*ti) => Some(()),
                _ => None,
            })
            .count();
        let evidenced_recall = ratio(evidenced_matched, evidenced_rows);
        let evidenced_f1 = harmonic(precision, evidenced_recall);
        let pairs: Vec<(usize, usize)> = m
            .iter()
            .enumerate()
            .filter_map(|(ri, x)| match x {
                Some((ti, true)) => Some((ri, *ti)),
                _ => None,
            })
            .collect();
        let columns = crate::contract::columns(e)
            .iter()
            .filter(|c| **c != "id")
            .map(|c| {
                let correct = pairs
                    .iter()
                    .filter(|(ri, ti)| t.column_right(e, c, *ri, *ti))
                    .count();
                ColumnScore {
                    column: c.to_string(),
                    compared: pairs.len(),
                    correct,
                    accuracy: ratio(correct, pairs.len()),
                }
            })
            .collect();
        for (ri, r) in t.rec[ei].iter().enumerate() {
            let Some(conf) = r.confidence else { continue };
            let ok = match m[ri] {
                Some((ti, true)) => key_columns(e).iter().all(|c| t.column_right(e, c, ri, ti)),
                _ => false,
            };
            predictions.push((conf, ok));
            if let Some(reasons) = queued.get(&(e.table().to_string(), r.id.clone())) {
                review.queued_rows += 1;
                review.queued_wrong += !ok as usize;
                for reason in reasons {
                    let n = review.by_reason.entry(reason.clone()).or_default();
                    n.0 += 1;
                    n.1 += !ok as usize;
                }
            } else {
                review.unqueued_rows += 1;
                review.unqueued_right += ok as usize;
            }
            let sig = signatures
                .get(&(e.table().to_string(), r.id.clone()))
                .cloned()
                .unwrap_or_else(|| r.sources.clone().unwrap_or_default());
            let g = groups
                .entry((e.table().to_string(), sig, conf.to_bits()))
                .or_default();
            g.0 += 1;
            g.1 += ok as usize;
        }
        tables.push(TableScore {
            table: e.table().to_string(),
            truth_rows: nt,
            recovered_rows: nr,
            matched,
            matched_by_id: by_id,
            matched_by_key: by_key,
            duplicates,
            duplicate_share: if nt == 0 {
                0.0
            } else {
                duplicates as f64 / nt as f64
            },
            phantoms,
            duplicate_examples,
            phantom_examples,
            precision,
            recall,
            f1,
            evidenced_rows,
            evidenced_recall,
            evidenced_f1,
            columns,
        });
    }
    Ok(Evaluation {
        truth: truth.display().to_string(),
        recovered: recovered.display().to_string(),
        tables,
        calibration: calibration(&predictions),
        money: t.money(),
        review: ReviewScore {
            queued_wrong_share: if review.queued_rows == 0 {
                0.0
            } else {
                ratio(review.queued_wrong, review.queued_rows)
            },
            unqueued_right_share: ratio(review.unqueued_right, review.unqueued_rows),
            wrong_caught_share: ratio(
                review.queued_wrong,
                review.queued_wrong + review.unqueued_rows - review.unqueued_right,
            ),
            ..review
        },
        by_evidence: groups
            .into_iter()
            .map(|((table, signature, c), (rows, correct))| EvidenceGroup {
                table,
                signature,
                confidence: f64::from_bits(c),
                rows,
                correct,
            })
            .collect(),
    })
}

/// `row_evidence` of a recovered file, if it has that table (it is an addition to the
/// contract, so other files may not).
fn read_signatures(c: &Connection) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    if let Ok(mut st) = c.prepare("SELECT table_name, row_id, signature FROM row_evidence") {
        if let Ok(rows) = st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?))) {
            out.extend(rows.flatten());
        }
    }
    out
}

/// The rows the review queue names, as (table, row id), with their reasons.
fn read_queued(c: &Connection) -> HashMap<(String, String), std::collections::BTreeSet<String>> {
    let mut out: HashMap<_, std::collections::BTreeSet<String>> = HashMap::new();
    if let Ok(mut st) = c.prepare("SELECT table_name, row_id, reason FROM review_queue") {
        if let Ok(rows) = st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?))) {
            for (k, reason) in rows.flatten() {
                out.entry(k).or_default().insert(reason);
            }
        }
    }
    out
}

/// Reliability table and ECE over 10 equal-width bins.
fn calibration(preds: &[(f64, bool)]) -> Calibration {
    const BINS: usize = 10;
    let mut count = [0usize; BINS];
    let mut conf_sum = [0f64; BINS];
    let mut right = [0usize; BINS];
    for &(c, ok) in preds {
        let c = if c.is_finite() {
            c.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let b = ((c * BINS as f64) as usize).min(BINS - 1);
        count[b] += 1;
        conf_sum[b] += c;
        right[b] += ok as usize;
    }
    let n = preds.len();
    let mut ece = 0.0;
    let bins = (0..BINS)
        .map(|b| {
            let (mean_confidence, accuracy) = if count[b] == 0 {
                (0.0, 0.0)
            } else {
                (
                    conf_sum[b] / count[b] as f64,
                    right[b] as f64 / count[b] as f64,
                )
            };
            if n > 0 {
                ece += count[b] as f64 / n as f64 * (accuracy - mean_confidence).abs();
            }
            ReliabilityBin {
                lo: b as f64 / BINS as f64,
                hi: (b + 1) as f64 / BINS as f64,
                count: count[b],
                mean_confidence,
                accuracy,
            }
        })
        .collect();
    Calibration {
        rule: CALIBRATION_RULE.to_string(),
        predictions: n,
        correct: preds.iter().filter(|p| p.1).count(),
        ece,
        bins,
    }
}

/// A compact table for the terminal.
pub fn render_text(ev: &Evaluation) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "truth:     {}", ev.truth);
    let _ = writeln!(s, "recovered: {}", ev.recovered);
    let _ = writeln!(
        s,
        "\n{:<13} {:>8} {:>9} {:>8} {:>6} {:>6} {:>7} {:>9} {:>7} {:>7} {:>7}",
        "table",
        "truth",
        "recovered",
        "matched",
        "dups",
        "dup%",
        "phantom",
        "precision",
        "recall",
        "F1",
        "evF1"
    );
    for t in &ev.tables {
        let _ = writeln!(
            s,
            "{:<13} {:>8} {:>9} {:>8} {:>6} {:>6.1} {:>7} {:>9.3} {:>7.3} {:>7.3} {:>7.3}",
            t.table,
            t.truth_rows,
            t.recovered_rows,
            t.matched,
            t.duplicates,
            t.duplicate_share * 100.0,
            t.phantoms,
            t.precision,
            t.recall,
            t.f1,
            t.evidenced_f1
        );
    }
    let _ = writeln!(
        s,
        "(evF1: F1 over the truth rows some surviving source holds; the others no rebuild can find)"
    );
    let _ = writeln!(s, "\ncolumn accuracy over matched rows:");
    for t in &ev.tables {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("{} {:.3}", c.column, c.accuracy))
            .collect();
        let _ = writeln!(s, "  {:<13} {}", t.table, cols.join(", "));
    }
    let m = &ev.money;
    let _ = writeln!(
        s,
        "\nmoney exact: {} of {} businesses ({:.1}%)  (Stripe net per business and currency)",
        m.exact,
        m.businesses,
        m.share * 100.0
    );
    let c = &ev.calibration;
    let _ = writeln!(
        s,
        "\ncalibration: {} rows, {} correct, ECE {:.4}",
        c.predictions, c.correct, c.ece
    );
    let _ = writeln!(
        s,
        "  {:<9} {:>8} {:>10} {:>9}",
        "bin", "rows", "mean conf", "accuracy"
    );
    for b in c.bins.iter().filter(|b| b.count > 0) {
        let _ = writeln!(
            s,
            "  {:.1}-{:.1}   {:>8} {:>10.3} {:>9.3}",
            b.lo, b.hi, b.count, b.mean_confidence, b.accuracy
        );
    }
    let _ = writeln!(s, "  (correct = {})", c.rule);
    let r = &ev.review;
    let _ = writeln!(
        s,
        "\nreview queue: holds {} rows, {:.1}% of them wrong; of the {} rows it leaves out, {:.1}% are right; it holds {:.1}% of the wrong rows",
        r.queued_rows,
        r.queued_wrong_share * 100.0,
        r.unqueued_rows,
        r.unqueued_right_share * 100.0,
        r.wrong_caught_share * 100.0
    );
    for (reason, (rows, wrong)) in &r.by_reason {
        let _ = writeln!(
            s,
            "  {reason:<28} {rows:>7} rows  {:>5.1}% wrong",
            *wrong as f64 * 100.0 / (*rows).max(1) as f64
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
CREATE TABLE businesses (id TEXT PRIMARY KEY, name TEXT, email TEXT, stripe_account TEXT,
  confidence REAL NOT NULL, sources TEXT NOT NULL);
CREATE TABLE customers (id TEXT PRIMARY KEY, business_id TEXT NOT NULL, name TEXT, email TEXT,
  phone TEXT, stripe_customer TEXT, created_at TEXT, confidence REAL NOT NULL, sources TEXT NOT NULL);
CREATE TABLE reservations (id TEXT PRIMARY KEY, business_id TEXT NOT NULL, customer_id TEXT,
  reference TEXT, service TEXT, starts_at TEXT, ends_at TEXT, party_size INTEGER,
  status TEXT NOT NULL, amount INTEGER, currency TEXT, created_at TEXT, updated_at TEXT,
  confidence REAL NOT NULL, sources TEXT NOT NULL);
CREATE TABLE payments (id TEXT PRIMARY KEY, business_id TEXT NOT NULL, customer_id TEXT,
  reservation_id TEXT, processor TEXT NOT NULL, processor_id TEXT, amount INTEGER NOT NULL,
  amount_refunded INTEGER NOT NULL DEFAULT 0, currency TEXT NOT NULL, status TEXT NOT NULL,
  created_at TEXT, confidence REAL NOT NULL, sources TEXT NOT NULL);
"#;

    const TRUTH: &str = r#"
INSERT INTO businesses VALUES ('1','Lumen Hair Studio','hello@lumen.com','acct_A',1,'backup');
INSERT INTO businesses VALUES ('2','Trattoria Vela','ciao@vela.it',NULL,1,'backup');
INSERT INTO customers VALUES ('10','1','José Müller','jose@x.org','+15551234567','cus_1','2026-01-01T10:00:00Z',1,'backup');
INSERT INTO customers VALUES ('11','1','Zoë','zoe@x.org',NULL,NULL,'2026-01-02T10:00:00Z',1,'backup');
INSERT INTO customers VALUES ('12','2','山田太郎','taro@x.jp',NULL,NULL,'2026-01-03T10:00:00Z',1,'backup');
INSERT INTO reservations VALUES ('100','1','10','BK-AAAAA','Cut','2026-02-01T10:00:00Z','2026-02-01T11:00:00Z',1,'completed',6500,'usd','2026-01-01T10:00:00Z','2026-02-01T14:00:00Z',1,'backup');
INSERT INTO reservations VALUES ('101','1','11','BK-BBBBB','Cut','2026-02-02T10:00:00Z','2026-02-02T11:00:00Z',1,'cancelled',6500,'usd','2026-01-02T10:00:00Z','2026-01-20T14:00:00Z',1,'backup');
INSERT INTO reservations VALUES ('102','2','12','BK-CCCCC','Dinner','2026-02-03T19:00:00Z','2026-02-03T21:00:00Z',2,'confirmed',3000,'eur','2026-01-03T10:00:00Z','2026-01-03T10:00:00Z',1,'backup');
INSERT INTO payments VALUES ('1000','1','10','100','stripe','ch_1',6500,0,'usd','succeeded','2026-01-01T10:00:05Z',1,'stripe');
INSERT INTO payments VALUES ('1001','1','11','101','stripe','ch_2',6500,6500,'usd','refunded','2026-01-02T10:00:05Z',1,'stripe');
"#;

    fn db(dir: &Path, name: &str, sql: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        let c = Connection::open(&p).unwrap();
        c.execute_batch(SCHEMA).unwrap();
        c.execute_batch(sql).unwrap();
        p
    }

    fn table<'a>(ev: &'a Evaluation, name: &str) -> &'a TableScore {
        ev.tables.iter().find(|t| t.table == name).unwrap()
    }

    fn col(t: &TableScore, name: &str) -> f64 {
        t.columns
            .iter()
            .find(|c| c.column == name)
            .unwrap()
            .accuracy
    }

    #[test]
    fn truth_against_itself_is_perfect() {
        let dir = tempfile::tempdir().unwrap();
        let t = db(dir.path(), "t.sqlite", TRUTH);
        let ev = evaluate(&t, &t).unwrap();
        for ts in &ev.tables {
            assert_eq!(ts.matched, ts.truth_rows);
            assert_eq!((ts.precision, ts.recall, ts.f1), (1.0, 1.0, 1.0));
            assert!(ts.columns.iter().all(|c| c.accuracy == 1.0), "{ts:?}");
        }
        assert_eq!(ev.calibration.predictions, 10);
        assert_eq!(ev.calibration.correct, 10);
        assert!(ev.calibration.ece.abs() < 1e-12);
        assert_eq!((ev.money.businesses, ev.money.exact), (1, 1));
        assert!(ev.tables.iter().all(|t| t.duplicate_share == 0.0));
        assert!(render_text(&ev).contains("reservations"));
    }

    #[test]
    fn matches_by_natural_key_maps_foreign_keys_and_counts_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let t = db(dir.path(), "t.sqlite", TRUTH);
        // Business 1 only known by its Stripe account (synthetic id); business 2 by id.
        // Customer 10 by id; Zoë by (business, email) with upper-case email; a duplicate of
        // Zoë; a phantom customer. Reservation 100 by reference with a wrong status; 102
        // missing. Payment ch_1 by processor id, ch_2 by id with a wrong amount.
        let r = db(
            dir.path(),
            "r.sqlite",
            r#"
INSERT INTO businesses VALUES ('rec_b1','Lumen Hair Studio','HELLO@lumen.com','acct_A',0.9,'stripe');
INSERT INTO businesses VALUES ('2','Trattoria Vela',NULL,NULL,0.8,'backup');
INSERT INTO customers VALUES ('10','rec_b1','José Müller','jose@x.org','+15551234567','cus_1','2026-01-01T10:00:00Z',0.95,'backup');
INSERT INTO customers VALUES ('rec_c1','rec_b1','Zoë','ZOE@x.org',NULL,NULL,'2026-01-02T10:00:00Z',0.85,'email');
INSERT INTO customers VALUES ('rec_c2','rec_b1','Zoe','zoe@X.org',NULL,NULL,NULL,0.35,'email');
INSERT INTO customers VALUES ('rec_c3','2','Ghost','ghost@x.org',NULL,NULL,NULL,0.15,'email');
INSERT INTO reservations VALUES ('rec_r1','rec_b1','10','BK-AAAAA','Cut','2026-02-01T10:00:00Z','2026-02-01T11:00:00Z',1,'confirmed',6500,'usd','2026-01-01T10:00:00Z','2026-01-01T10:00:00Z',0.75,'email');
INSERT INTO reservations VALUES ('101','rec_b1','rec_c1','BK-BBBBB','Cut','2026-02-02T10:00:00Z','2026-02-02T11:00:00Z',1,'cancelled',6500,'usd','2026-01-02T10:00:00Z','2026-01-20T14:00:00Z',0.95,'backup');
INSERT INTO payments VALUES ('rec_p1','rec_b1','10','rec_r1','stripe','ch_1',6500,0,'usd','succeeded','2026-01-01T10:00:05Z',0.92,'stripe');
INSERT INTO payments VALUES ('1001','1','rec_c1','101','stripe','ch_2',6400,6500,'usd','refunded','2026-01-02T10:00:05Z',0.97,'stripe');
"#,
        );
        let ev = evaluate(&t, &r).unwrap();
        let b = table(&ev, "businesses");
        assert_eq!((b.matched, b.matched_by_id, b.matched_by_key), (2, 1, 1));
        assert_eq!(col(b, "email"), 0.5, "NULL email of business 2 is wrong");
        let c = table(&ev, "customers");
        assert_eq!((c.matched, c.duplicates, c.phantoms), (2, 1, 1));
        assert_eq!(c.precision, 0.5);
        assert!((c.recall - 2.0 / 3.0).abs() < 1e-9);
        // business_id rec_b1 maps to 1: right for both matched customers.
        assert_eq!(col(c, "business_id"), 1.0);
        assert_eq!(col(c, "email"), 1.0);
        let res = table(&ev, "reservations");
        assert_eq!((res.matched, res.recovered_rows, res.truth_rows), (2, 2, 3));
        assert_eq!(col(res, "status"), 0.5);
        assert_eq!(col(res, "customer_id"), 1.0, "rec_c1 maps to 11");
        let p = table(&ev, "payments");
        assert_eq!(p.matched, 2);
        assert_eq!(col(p, "amount"), 0.5);
        assert_eq!(col(p, "reservation_id"), 1.0, "rec_r1 maps to 100");
        // Correct: businesses 2/2, customers 10 and rec_c1 (not the duplicate or phantom),
        // reservation 101 (100 has a wrong status), payment ch_1 (ch_2 has a wrong amount).
        let cal = &ev.calibration;
        assert_eq!((cal.predictions, cal.correct), (10, 6));
        let bin9 = &cal.bins[9];
        // 0.9, 0.95, 0.95, 0.92, 0.97: business 1, customer 10, reservation 101 and ch_1
        // right; ch_2 wrong.
        assert_eq!(bin9.count, 5);
        assert!((bin9.accuracy - 0.8).abs() < 1e-9);
        let bin3 = &cal.bins[3];
        assert_eq!((bin3.count, bin3.accuracy), (1, 0.0));
        let expect: f64 = cal
            .bins
            .iter()
            .map(|b| b.count as f64 / 10.0 * (b.accuracy - b.mean_confidence).abs())
            .sum();
        assert!((cal.ece - expect).abs() < 1e-12 && cal.ece > 0.1);
        let text = render_text(&ev);
        assert!(text.contains("ECE"), "{text}");
    }

    #[test]
    fn aliases_make_duplicates_and_a_shared_email_keeps_two_people() {
        let dir = tempfile::tempdir().unwrap();
        // Customer 11 (Zoë) is also known as zoe+spa@x.org and cus_Z2; customer 13 (Max)
        // shares the email of customer 10 (a family).
        let t = db(
            dir.path(),
            "t.sqlite",
            &format!(
                "{TRUTH}
INSERT INTO customers VALUES ('13','1','Max Müller','jose@x.org',NULL,'cus_3','2026-01-04T10:00:00Z',1,'backup');
CREATE TABLE customer_aliases (customer_id TEXT, kind TEXT, value TEXT);
INSERT INTO customer_aliases VALUES ('11','email','Zoe+Spa@x.org');
INSERT INTO customer_aliases VALUES ('11','stripe_customer','cus_Z2');
"
            ),
        );
        // Zoë found under her alias email and under her second Stripe customer: one match,
        // one duplicate. The family kept apart (no ids): two matches. Taro by id.
        let r = db(
            dir.path(),
            "r.sqlite",
            r#"
INSERT INTO businesses VALUES ('1','Lumen Hair Studio','hello@lumen.com','acct_A',1,'backup');
INSERT INTO customers VALUES ('rec_z1','1','Zoë','zoe+spa@x.org',NULL,NULL,NULL,0.9,'stripe');
INSERT INTO customers VALUES ('rec_z2','1','Zoe',NULL,NULL,'cus_Z2',NULL,0.8,'stripe');
INSERT INTO customers VALUES ('rec_j','1','José Müller','jose@x.org',NULL,'cus_1',NULL,0.9,'stripe');
INSERT INTO customers VALUES ('rec_m','1','Max Müller','jose@x.org',NULL,'cus_3',NULL,0.9,'stripe');
INSERT INTO customers VALUES ('12','2','山田太郎','taro@x.jp',NULL,NULL,NULL,1,'backup');
"#,
        );
        let ev = evaluate(&t, &r).unwrap();
        let c = table(&ev, "customers");
        assert_eq!((c.matched, c.duplicates, c.phantoms), (4, 1, 0));
        // Merged into one row, the family is one person found and one lost.
        let r2 = db(
            dir.path(),
            "r2.sqlite",
            r#"
INSERT INTO customers VALUES ('rec_j','1','José Müller','jose@x.org',NULL,'cus_1',NULL,0.9,'stripe');
"#,
        );
        let c = table(&evaluate(&t, &r2).unwrap(), "customers").clone();
        assert_eq!((c.matched, c.duplicates, c.phantoms), (1, 0, 0));
    }

    #[test]
    fn duplicate_with_lower_confidence_is_the_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let t = db(dir.path(), "t.sqlite", TRUTH);
        let r = db(
            dir.path(),
            "r.sqlite",
            r#"
INSERT INTO businesses VALUES ('rec_x','Lumen Hair Studio',NULL,NULL,0.2,'email');
INSERT INTO businesses VALUES ('rec_y','lumen hair studio',NULL,'acct_A',0.9,'stripe');
"#,
        );
        let ev = evaluate(&t, &r).unwrap();
        let b = table(&ev, "businesses");
        assert_eq!((b.matched, b.duplicates), (1, 1));
        // rec_y (0.9) is the match; its name differs in case, so it is not correct.
        assert_eq!(col(b, "name"), 0.0);
        assert_eq!(ev.calibration.correct, 0);
    }

    /// The queue is scored against the truth: what it holds that is wrong, what it leaves
    /// out that is right.
    #[test]
    fn the_review_queue_is_scored() {
        let dir = tempfile::tempdir().unwrap();
        let t = db(dir.path(), "t.sqlite", TRUTH);
        let r = db(
            dir.path(),
            "r.sqlite",
            r#"
INSERT INTO businesses VALUES ('1','Lumen Hair Studio',NULL,NULL,0.9,'backup');
INSERT INTO businesses VALUES ('2','Wrong Name',NULL,NULL,0.9,'backup');
INSERT INTO businesses VALUES ('9','Nobody',NULL,NULL,0.4,'email');
CREATE TABLE review_queue (table_name TEXT, row_id TEXT, reason TEXT, confidence REAL, details TEXT);
INSERT INTO review_queue VALUES ('businesses','9','low_confidence',0.4,NULL);
INSERT INTO review_queue VALUES ('businesses','9','conflict:name',0.4,NULL);
"#,
        );
        let ev = evaluate(&t, &r).unwrap();
        let q = &ev.review;
        assert_eq!((q.queued_rows, q.queued_wrong), (1, 1));
        assert_eq!((q.unqueued_rows, q.unqueued_right), (2, 1));
        assert_eq!(q.queued_wrong_share, 1.0);
        assert_eq!(q.wrong_caught_share, 0.5);
        assert_eq!(q.by_reason["conflict:name"], (1, 1));
        assert!(render_text(&ev).contains("review queue: holds 1 rows"));
    }

    #[test]
    fn generated_truth_against_a_damaged_copy() {
        use crate::samples::{simulate::simulate, truth::truth, world::Flavour};
        let dir = tempfile::tempdir().unwrap();
        let w = simulate(5, 3, Flavour::Tablehop);
        let rec = truth(&w);
        let tp = dir.path().join("truth.sqlite");
        crate::export::sqlite::write(&rec, &tp).unwrap();
        // Lose a customer's id (synthetic instead), drop one reservation, halve confidence.
        let mut damaged = rec.clone();
        let k = damaged
            .customers
            .iter()
            .position(|c| c.text("email").is_some())
            .unwrap();
        let old = damaged.customers[k].id.clone();
        damaged.customers[k].id = "rec_0123456789abcdef".into();
        for r in damaged
            .reservations
            .iter_mut()
            .chain(damaged.payments.iter_mut())
        {
            if r.text("customer_id") == Some(old.as_str()) {
                r.values.insert(
                    "customer_id".into(),
                    crate::claims::Value::text("rec_0123456789abcdef"),
                );
            }
            r.confidence = 0.5;
        }
        damaged.reservations.pop();
        let rp = dir.path().join("rec.sqlite");
        crate::export::sqlite::write(&damaged, &rp).unwrap();
        let ev = evaluate(&tp, &rp).unwrap();
        let c = table(&ev, "customers");
        assert_eq!((c.matched, c.matched_by_key), (c.truth_rows, 1));
        let r = table(&ev, "reservations");
        assert_eq!(r.matched + 1, r.truth_rows);
        assert_eq!(r.precision, 1.0);
        assert_eq!(col(r, "customer_id"), 1.0);
        assert!(ev.calibration.bins[5].count > 0 && ev.calibration.ece > 0.3);
    }

    /// `cargo test --lib evaluate_full_size -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn evaluate_full_size_timing() {
        use crate::samples::{simulate::simulate, truth::truth, world::Flavour};
        let dir = tempfile::tempdir().unwrap();
        let t0 = std::time::Instant::now();
        let w = simulate(1600, 1, Flavour::Bookly);
        let tp = dir.path().join("truth.sqlite");
        crate::export::sqlite::write(&truth(&w), &tp).unwrap();
        let t1 = std::time::Instant::now();
        let ev = evaluate(&tp, &tp).unwrap();
        println!("{}", render_text(&ev));
        println!("generate+write {:?}, evaluate {:?}", t1 - t0, t1.elapsed());
    }

    /// TRUTH plus Stripe money for business 2 (eur) and payments that do not count: a
    /// failed charge and a cash payment.
    const TRUTH_MONEY: &str = r#"
INSERT INTO payments VALUES ('1002','2','12','102','stripe','ch_3',3000,0,'eur','succeeded','2026-01-03T10:00:05Z',1,'stripe');
INSERT INTO payments VALUES ('1003','2','12','102','stripe','ch_4',3000,1000,'eur','partially_refunded','2026-01-03T11:00:05Z',1,'stripe');
INSERT INTO payments VALUES ('1004','2','12','102','stripe','ch_5',3000,0,'eur','failed','2026-01-03T12:00:05Z',1,'stripe');
INSERT INTO payments VALUES ('1005','1','10','100','cash',NULL,2000,0,'usd','succeeded','2026-01-04T12:00:05Z',1,'backup');
"#;

    #[test]
    fn money_per_business_and_a_duplicate_payment_breaks_one() {
        let dir = tempfile::tempdir().unwrap();
        let t = db(dir.path(), "t.sqlite", &format!("{TRUTH}{TRUTH_MONEY}"));
        let ev = evaluate(&t, &t).unwrap();
        assert_eq!((ev.money.businesses, ev.money.exact), (2, 2));
        assert!(ev.money.wrong.is_empty());
        // Business 1 known only by a synthetic id: its payments count for truth business 1
        // through the matching, and a failed charge (a phantom) adds no money. Business 2:
        // ch_3 twice (by id and by processor id), so 3000 eur is counted twice.
        let r = db(
            dir.path(),
            "r.sqlite",
            r#"
INSERT INTO businesses VALUES ('rec_b1','Lumen Hair Studio','hello@lumen.com','acct_A',0.9,'stripe');
INSERT INTO businesses VALUES ('2','Trattoria Vela','ciao@vela.it',NULL,0.9,'backup');
INSERT INTO payments VALUES ('rec_p1','rec_b1',NULL,NULL,'stripe','ch_1',6500,0,'usd','succeeded',NULL,0.9,'stripe');
INSERT INTO payments VALUES ('rec_p2','rec_b1',NULL,NULL,'stripe','ch_2',6500,6500,'usd','refunded',NULL,0.9,'stripe');
INSERT INTO payments VALUES ('rec_p9','rec_b1',NULL,NULL,'stripe','ch_9',9900,0,'usd','failed',NULL,0.2,'stripe');
INSERT INTO payments VALUES ('1002','2',NULL,NULL,'stripe','ch_3',3000,0,'eur','succeeded',NULL,0.9,'stripe');
INSERT INTO payments VALUES ('rec_p3','2',NULL,NULL,'stripe','ch_3',3000,0,'eur','succeeded',NULL,0.5,'email');
INSERT INTO payments VALUES ('1003','2',NULL,NULL,'stripe','ch_4',3000,1000,'eur','partially_refunded',NULL,0.9,'stripe');
"#,
        );
        let ev = evaluate(&t, &r).unwrap();
        let m = &ev.money;
        assert_eq!((m.businesses, m.exact), (2, 1), "{m:?}");
        assert_eq!(m.share, 0.5);
        assert_eq!(m.wrong.len(), 1);
        let w = &m.wrong[0];
        assert_eq!(
            (
                w.business_id.as_str(),
                w.currency.as_str(),
                w.truth,
                w.recovered
            ),
            ("2", "eur", Some(5000), Some(8000))
        );
        let p = table(&ev, "payments");
        assert_eq!(p.duplicates, 1);
        assert!((p.duplicate_share - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(table(&ev, "customers").duplicate_share, 0.0);
        let text = render_text(&ev);
        assert!(
            text.contains("money exact: 1 of 2 businesses (50.0%)"),
            "{text}"
        );
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["money"]["exact"], 1);
        assert_eq!(json["money"]["businesses"], 2);
        assert!(json["tables"][3]["duplicate_share"].is_f64());
    }

    #[test]
    fn money_currency_is_compared_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let t = db(dir.path(), "t.sqlite", TRUTH);
        // The right amounts in 'USD': the contract's codes are lowercase, so a query for
        // 'usd' finds no money for business 1 and 13000 - 6500 in a currency it never had.
        let r = db(
            dir.path(),
            "r.sqlite",
            r#"
INSERT INTO businesses VALUES ('1','Lumen Hair Studio','hello@lumen.com','acct_A',0.9,'backup');
INSERT INTO payments VALUES ('1000','1',NULL,NULL,'stripe','ch_1',6500,0,'USD','succeeded',NULL,0.9,'stripe');
INSERT INTO payments VALUES ('1001','1',NULL,NULL,'stripe','ch_2',6500,6500,'usd','refunded',NULL,0.9,'stripe');
"#,
        );
        let ev = evaluate(&t, &r).unwrap();
        let m = &ev.money;
        assert_eq!((m.businesses, m.exact), (1, 0));
        let got: Vec<_> = m
            .wrong
            .iter()
            .map(|w| (w.currency.as_str(), w.truth, w.recovered))
            .collect();
        assert_eq!(
            got,
            [("USD", Some(0), Some(6500)), ("usd", Some(6500), Some(0))]
        );
        assert!(render_text(&ev).contains("money exact: 0 of 1 businesses (0.0%)"));
        // The same rows in 'usd' are exact.
        let r2 = db(
            dir.path(),
            "r2.sqlite",
            r#"
INSERT INTO businesses VALUES ('1','Lumen Hair Studio','hello@lumen.com','acct_A',0.9,'backup');
INSERT INTO payments VALUES ('1000','1',NULL,NULL,'stripe','ch_1',6500,0,'usd','succeeded',NULL,0.9,'stripe');
INSERT INTO payments VALUES ('1001','1',NULL,NULL,'stripe','ch_2',6500,6500,'usd','refunded',NULL,0.9,'stripe');
"#,
        );
        assert_eq!(evaluate(&t, &r2).unwrap().money.exact, 1);
    }

    #[test]
    fn missing_files_and_tables_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let t = db(dir.path(), "t.sqlite", TRUTH);
        let e = evaluate(&t, &dir.path().join("nope.sqlite"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.sqlite"), "{e}");
        let empty = dir.path().join("empty.sqlite");
        Connection::open(&empty)
            .unwrap()
            .execute_batch("CREATE TABLE x (a)")
            .unwrap();
        let e = evaluate(&t, &empty).unwrap_err().to_string();
        assert!(
            e.contains("businesses") && e.contains("empty.sqlite"),
            "{e}"
        );
    }
}
