//! Stripe Dashboard CSV exports: payments (`unified_payments.csv` and older layouts) and
//! customers (`unified_customers.csv`). Columns are matched by name, never by position;
//! metadata columns are named `<key> (metadata)`. Amounts are major units.

use super::mapping::{Holds, Mapping, Unsuccessful};
use super::objects::{links, refine, FileOut};
use crate::claims::{Entity, Record};
use crate::util::{money, time};
use std::collections::HashMap;
use std::io::Read;

/// What a CSV file holds, decided by its header (and name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvKind {
    Payments,
    Customers,
}

/// Column positions by name, and the metadata columns.
pub struct Header {
    cols: HashMap<String, usize>,
    meta: HashMap<String, usize>,
}

impl Header {
    pub fn new(names: &csv::StringRecord) -> Header {
        let mut cols = HashMap::new();
        let mut meta = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            let n = n.trim().trim_start_matches('\u{feff}').trim();
            if let Some(k) = n.strip_suffix("(metadata)") {
                meta.entry(k.trim().to_string()).or_insert(i);
            } else {
                cols.entry(n.to_ascii_lowercase()).or_insert(i);
            }
        }
        Header { cols, meta }
    }
    pub fn has(&self, name: &str) -> bool {
        self.cols.contains_key(&name.to_ascii_lowercase())
    }
    /// The row's non-empty value in the first of `names` the header has.
    pub fn get<'r>(&self, row: &'r csv::StringRecord, names: &[&str]) -> Option<&'r str> {
        names.iter().find_map(|n| {
            self.cols
                .get(&n.to_ascii_lowercase())
                .and_then(|&i| row.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        })
    }
    fn meta<'r>(&self, row: &'r csv::StringRecord, key: &str) -> Option<&'r str> {
        self.meta.get(key).and_then(|&i| row.get(i))
    }
    pub fn kind(&self, file_name: &str) -> Option<CsvKind> {
        let created = self.has(CREATED[0]) || self.has(CREATED[1]);
        if self.has("id") && self.has("Amount") && created {
            Some(CsvKind::Payments)
        } else if self.has("id")
            && (self.has("Email") || self.has("Name"))
            && (file_name.contains("customers") || self.has("Created (UTC)"))
        {
            Some(CsvKind::Customers)
        } else {
            None
        }
    }
}

/// Why a row gave no record: a skip kind and a reason.
struct RowSkip(&'static str, String);

impl From<String> for RowSkip {
    fn from(reason: String) -> Self {
        RowSkip("bad_row", reason)
    }
}

impl From<&str> for RowSkip {
    fn from(reason: &str) -> Self {
        RowSkip("bad_row", reason.to_string())
    }
}

const CREATED: [&str; 2] = ["Created date (UTC)", "Created (UTC)"];

/// Reads one CSV export. `location` names the file for skips; `source` is the path relative
/// to the source root, used in source refs.
pub fn read_csv(
    m: &Mapping,
    input: impl Read,
    file_name: &str,
    location: &str,
    account: Option<&str>,
    observed_at: &str,
    out: &mut FileOut,
) {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let header = match rdr.headers() {
        Ok(h) => Header::new(h),
        Err(e) => {
            out.skip(
                location,
                "bad_file",
                format!("cannot read the CSV header: {e}"),
            );
            return;
        }
    };
    let Some(kind) = header.kind(file_name) else {
        out.skip(
            location,
            "unknown_csv",
            "not a Stripe Dashboard payments or customers export (payments need id, Amount and Created date (UTC) columns)",
        );
        return;
    };
    let mut row = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        match rdr.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                let line = row.position().map(|p| p.line()).unwrap_or(line);
                let loc = format!("{location}:{line}");
                let res = match kind {
                    CsvKind::Payments => payment_row(m, &header, &row, account, observed_at, &loc),
                    CsvKind::Customers => {
                        customer_row(m, &header, &row, account, observed_at, &loc)
                    }
                };
                match res {
                    Ok(r) => {
                        // A status word the mapping does not know: the payment is kept,
                        // without a status, and that is said (never silent).
                        if let (CsvKind::Payments, None, Some(st)) =
                            (kind, r.get("status"), header.get(&row, &["Status"]))
                        {
                            out.skip(
                                &loc,
                                crate::import::UNKNOWN_STATUS_KEPT,
                                format!(
                                    "Status {st:?} is not in [payments].csv_status; the payment is kept without a status (add `{} = \"<contract status>\"` to csv_status in the Stripe mapping)",
                                    st.to_ascii_lowercase()
                                ),
                            );
                        }
                        let rr = super::objects::reservation_of(&r);
                        out.records.push(r);
                        out.records.extend(rr);
                    }
                    Err(RowSkip(kind, reason)) => out.skip(&loc, kind, reason),
                }
            }
            Err(e) => {
                let loc = format!(
                    "{location}:{}",
                    e.position().map(|p| p.line()).unwrap_or(line)
                );
                out.skip(&loc, "bad_row", format!("unreadable CSV row: {e}"));
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    // An I/O error or a broken quote: the rest is not trustworthy.
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                }
            }
        }
    }
}

fn payment_row(
    m: &Mapping,
    h: &Header,
    row: &csv::StringRecord,
    account: Option<&str>,
    observed_at: &str,
    loc: &str,
) -> Result<Record, RowSkip> {
    let id = h.get(row, &["id"]);
    let pi = h.get(row, &["PaymentIntent ID"]);
    let key = id.or(pi).ok_or("neither id nor PaymentIntent ID is set")?;
    let currency = h
        .get(row, &["Currency"])
        .ok_or("no Currency")?
        .to_ascii_lowercase();
    let amount_text = h.get(row, &["Amount"]).ok_or("no Amount")?;
    let amount = money::major_to_minor(amount_text, &currency)
        .ok_or_else(|| format!("Amount {amount_text:?} is not an amount in {currency}"))?;
    let refunded = match h.get(row, &["Amount Refunded"]) {
        None => 0,
        Some(t) => money::major_to_minor(t, &currency)
            .ok_or_else(|| format!("Amount Refunded {t:?} is not an amount in {currency}"))?,
    };
    let created = match h.get(row, &CREATED) {
        None => None,
        Some(t) => Some(
            time::normalize(t, None)
                .ok_or_else(|| format!("created date {t:?} is not a timestamp"))?,
        ),
    };
    let mut r = Record::new(
        Entity::Payment,
        format!("stripe:{}/{key}@{loc}", account.unwrap_or("platform")),
        Some(observed_at.to_string()),
    );
    r.set("processor", "stripe");
    r.set("amount", amount);
    r.set("amount_refunded", refunded);
    r.set("currency", currency.clone());
    let disputed = h
        .get(row, &["Disputed Amount"])
        .and_then(|t| money::major_to_minor(t, &currency))
        .is_some_and(|v| v > 0)
        || h.get(row, &["Dispute Status"]).is_some();
    let status = h.get(row, &["Status"]).and_then(|st| {
        let base = m.csv_status.get(&st.to_ascii_lowercase())?;
        Some(refine(base, amount, refunded, false, disputed))
    });
    // A row without a charge id is a PaymentIntent that never got a charge: unless its
    // status says money moved, it is an abandoned attempt, not a payment (as for API
    // payment intents without a charge).
    if id.is_none() && !matches!(status.as_deref(), Some(s) if s != "failed" && s != "pending") {
        return Err(RowSkip(
            "payment_intent_without_charge",
            format!(
                "payment intent {key} ({}) has no charge: no money moved",
                h.get(row, &["Status"]).unwrap_or("no status")
            ),
        ));
    }
    if status.as_deref() == Some("failed") && m.unsuccessful == Unsuccessful::None {
        return Err(RowSkip(
            "unsuccessful_payment",
            format!(
                "payment {key} failed: the app keeps only payments where money moved ([payments] unsuccessful = \"none\")"
            ),
        ));
    }
    if let Some(ch) = id {
        r.set("processor_id", m.charge_processor_id(ch, pi));
        r.set("attr.charge", ch);
    }
    r.set("status", status);
    r.set("created_at", created);
    r.set(
        "business.stripe_account",
        account.or(h.get(row, &["Destination"])),
    );
    let get = |k: &str| h.meta(row, k);
    links(m, &mut r, &get, h.get(row, &["Description"]));
    r.set("id", m.lookup(Holds::PaymentId, &get));
    let cus = h.get(row, &["Customer ID"]);
    r.set("customer.stripe_customer", cus);
    let email = h.get(row, &["Customer Email"]);
    if cus.is_none() && r.get("customer_id").is_none() {
        r.set("customer.email", email);
    }
    r.set("attr.receipt_email", email);
    r.set("attr.payment_intent", pi);
    r.set("attr.card_last4", h.get(row, &["Card Last4"]));
    Ok(r)
}

fn customer_row(
    m: &Mapping,
    h: &Header,
    row: &csv::StringRecord,
    account: Option<&str>,
    observed_at: &str,
    loc: &str,
) -> Result<Record, RowSkip> {
    let id = h.get(row, &["id"]);
    let email = h.get(row, &["Email"]);
    let name = h.get(row, &["Name"]);
    if id.is_none() && email.is_none() && name.is_none() {
        return Err("no id, Email or Name".into());
    }
    let created = match h.get(row, &["Created (UTC)", "Created date (UTC)"]) {
        None => None,
        Some(t) => Some(
            time::normalize(t, None)
                .ok_or_else(|| format!("Created (UTC) {t:?} is not a timestamp"))?,
        ),
    };
    let mut r = Record::new(
        Entity::Customer,
        format!(
            "stripe:{}/{}@{loc}",
            account.unwrap_or("platform"),
            id.unwrap_or("guest")
        ),
        Some(observed_at.to_string()),
    );
    let get = |k: &str| h.meta(row, k);
    r.set("id", m.lookup(Holds::CustomerId, &get));
    r.set("business_id", m.lookup(Holds::BusinessId, &get));
    r.set("business.stripe_account", account);
    r.set("stripe_customer", id);
    r.set("name", name);
    r.set("email", email);
    r.set("phone", h.get(row, &["Phone", "Customer Phone"]));
    r.set("created_at", created);
    Ok(r)
}
