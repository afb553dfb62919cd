//! The on-disk layout of saved Stripe API pages, shared by everything that writes them (the
//! sample renderer now, a live pull later) so that the importer reads what they write.
//!
//! ```text
//! <root>/api/accounts/page-0001.json            GET /v1/accounts (platform key)
//! <root>/api/<acct_id>/<resource>/page-NNNN.json GET /v1/<resource> with Stripe-Account
//! <root>/exports/<acct_id>/unified_payments.csv  Dashboard exports of that account
//! ```
//! A page is Stripe's list envelope, saved as returned:
//! `{"object":"list","url":"/v1/charges","has_more":true,"data":[...]}`, newest first.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The resources a pull saves for every connected account: `(directory, list URL)`.
pub const ACCOUNT_RESOURCES: [(&str, &str); 6] = [
    ("customers", "/v1/customers"),
    ("charges", "/v1/charges"),
    ("payment_intents", "/v1/payment_intents"),
    ("refunds", "/v1/refunds"),
    ("disputes", "/v1/disputes"),
    ("checkout_sessions", "/v1/checkout/sessions"),
];

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
