//! The on-disk layout of saved Stripe API pages, shared by everything that writes them (the
//! sample renderer now, a live pull later) so that the importer reads what they write.
//!
//! ```text
//! <root>/api/accounts/page-0001.json            GET /v1/accounts (platform key)
//! <root>/api/<acct_id>/<resource>/page-NNNN.json GET /v1/<resource> with Stripe-Account
//! <root>/api/platform/<resource>/page-NNNN.json  the platform's own objects (no Stripe-Account)
//! <root>/exports/<acct_id>/unified_payments.csv  Dashboard exports of that account
//! <root>/pull/<acct_id|platform>/<resource>.state  a pull's checkpoint of that list (JSON)
//! <root>/pull/finished                           the summary of a pull that finished
//! ```
//! Checkpoints end in `.state`, not `.json`, so the importer never takes one for a page; it
//! reads them only to name the lists a pull could not finish ([`Checkpoint`]).
//! A page is Stripe's list envelope, saved as returned:
//! `{"object":"list","url":"/v1/charges","has_more":true,"data":[...]}`, newest first.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The resources a pull saves for every connected account: `(directory, list URL)`.
pub const ACCOUNT_RESOURCES: [(&str, &str); 10] = [
    ("customers", "/v1/customers"),
    ("charges", "/v1/charges"),
    ("payment_intents", "/v1/payment_intents"),
    ("refunds", "/v1/refunds"),
    ("disputes", "/v1/disputes"),
    ("checkout_sessions", "/v1/checkout/sessions"),
    ("invoices", "/v1/invoices"),
    ("invoice_payments", "/v1/invoice_payments"),
    ("balance_transactions", "/v1/balance_transactions"),
    ("events", "/v1/events"),
];

/// The directory name of the platform's own objects (requests without `Stripe-Account`).
pub const PLATFORM: &str = "platform";

/// The list URL of a resource directory name, if it is one a pull knows.
pub fn resource_url(resource: &str) -> Option<&'static str> {
    ACCOUNT_RESOURCES
        .iter()
        .find(|(r, _)| *r == resource)
        .map(|(_, u)| *u)
}

/// Stripe's largest page (`limit=100`).
pub const PAGE_SIZE: usize = 100;

/// Directory of the platform's account list.
pub fn accounts_dir(root: &Path) -> PathBuf {
    root.join("api").join("accounts")
}

/// Directory of one resource of one connected account.
pub fn resource_dir(root: &Path, account: &str, resource: &str) -> PathBuf {
    root.join("api").join(account).join(resource)
}

/// Directory of an account's Dashboard exports.
pub fn exports_dir(root: &Path, account: &str) -> PathBuf {
    root.join("exports").join(account)
}

/// The checkpoint file of one list (`account` None = the platform).
pub fn checkpoint_file(root: &Path, account: Option<&str>, resource: &str) -> PathBuf {
    root.join("pull")
        .join(account.unwrap_or(PLATFORM))
        .join(format!("{resource}.state"))
}

/// Written by a pull that ran every list to its end (its summary, JSON); removed when a
/// pull starts. No extension the importer reads.
pub fn pull_finished_file(root: &Path) -> PathBuf {
    root.join("pull").join("finished")
}

/// Where a pull stands on one list: what it has saved and how to go on. Written after each
/// page is saved, so a pull stopped at any point resumes at the page after the last one
/// recorded (a page saved but not yet recorded is fetched again and overwritten with the
/// same bytes).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// `None` = the platform.
    pub account: Option<String>,
    pub resource: String,
    pub status: PullStatus,
    /// Pages saved so far (page files 1..=pages), over every pass.
    pub pages: usize,
    pub objects: u64,
    pub requests: u64,
    /// The pass in progress pages on from this object (`starting_after`).
    pub cursor: Option<String>,
    /// The pass in progress asks for `created >= since` (an incremental rerun).
    pub since: Option<i64>,
    /// Ids of the pass in progress already saved at `since` (skipped when seen again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub since_ids: Vec<String>,
    /// The newest `created` saved, and the ids saved at that second: a rerun after
    /// completion asks only for `created >= newest` and drops these.
    pub newest: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub newest_ids: Vec<String>,
    /// Why the list is refused or failed: status, Stripe's code and message, request id.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullStatus {
    /// Started, not finished: a rerun continues from `cursor`.
    #[default]
    InProgress,
    /// Every page saved (until a rerun asks for newer objects).
    Complete,
    /// Stripe refused the list (revoked account, missing permission): not retried by
    /// itself, named in the import's skips.
    Refused,
    /// Gave up after retries (server errors, a malformed page, a looping cursor): a rerun
    /// tries again from `cursor`.
    Failed,
}

/// Every checkpoint under `root` (none when it was not pulled), in path order.
pub fn checkpoints(root: &Path) -> Vec<(PathBuf, Checkpoint)> {
    let mut out = Vec::new();
    let pull = root.join("pull");
    if !pull.is_dir() {
        return out;
    }
    // Regular files only (a FIFO named `x.state` is never opened); the importer's own
    // walk of the folder names what is left out.
    let mut w = crate::util::walk::Walker::new();
    for a in w.list(&pull) {
        if a.kind != crate::util::walk::Kind::Dir {
            continue;
        }
        for f in w.list(&a.path) {
            let p = f.path;
            if f.kind == crate::util::walk::Kind::File
                && p.extension().is_some_and(|e| e == "state")
            {
                if let Some(c) = std::fs::read(&p)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok())
                {
                    out.push((p, c));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The `n`th page (from 1) in `dir`.
pub fn page_file(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("page-{n:04}.json"))
}

/// Writes one list page: the envelope and its objects, one object per line.
pub fn write_page(
    w: &mut impl Write,
    url: &str,
    has_more: bool,
    data: &[Value],
) -> std::io::Result<()> {
    write!(
        w,
        "{{\"object\":\"list\",\"url\":{},\"has_more\":{has_more},\"data\":[",
        serde_json::to_string(url)?
    )?;
    for (j, o) in data.iter().enumerate() {
        w.write_all(if j > 0 { b",\n" } else { b"\n" })?;
        serde_json::to_writer(&mut *w, o)?;
    }
    w.write_all(b"\n]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_list_envelope() {
        let mut buf = Vec::new();
        write_page(
            &mut buf,
            "/v1/charges",
            true,
            &[serde_json::json!({"id": "ch_1"})],
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["object"], "list");
        assert_eq!(v["has_more"], true);
        assert_eq!(v["data"][0]["id"], "ch_1");
        assert_eq!(
            page_file(&resource_dir(Path::new("s"), "acct_1", "charges"), 2),
            Path::new("s/api/acct_1/charges/page-0002.json")
        );
    }
}
