//! The Stripe mapping file (`mappings/<flavour>/stripe.toml`): what the app wrote into
//! Stripe and what it means. Stripe's own field names are fixed by Stripe and known to the
//! importer; what a company stores in `metadata` and `description` is not, so it lives here.
//!
//! ```toml
//! # Metadata keys, each with what it holds. Keys holding the same thing are tried in the
//! # order written (put the newest era first); the first key present with a value wins.
//! [[metadata]]
//! key = "order_ref"
//! holds = "reservation_reference"   # business_id | customer_id | reservation_id |
//!                                    # reservation_reference | payment_id
//! era = "2025-03 onwards"           # optional note for people, not used
//!
//! # Fallback when a charge has no reservation key in its metadata: regular expressions over
//! # the charge's `description`, each with a named group `code`.
//! [[description]]
//! pattern = '\b(?P<code>R-[0-9]{6})\b'
//! holds = "reservation_reference"   # optional; reservation_reference (default) | reservation_id
//!
//! # Optional overrides: a charge's Stripe `status` -> contract word (before refunds and
//! # disputes refine "succeeded"), and the Dashboard CSV's `Status` words.
//! [charge_status]
//! pending = "pending"
//! [csv_status]
//! Paid = "succeeded"
//!
//! # Optional: what a Checkout Session's `client_reference_id` holds.
//! [checkout]
//! client_reference_id = "reservation_reference"
//!
//! # Optional: how the app keeps payments.
//! [payments]
//! # The Stripe ids the app stores as a payment's id, in order of preference: a Checkout
//! # payment is stored by its session if "checkout_session" is listed, else by its
//! # PaymentIntent if "payment_intent" is, else by its charge. Default ["payment_intent"].
//! processor_id = ["checkout_session", "payment_intent"]
//! # Which payments where no money moved the app keeps a row for:
//! #   "none"     (default) only money that moved: failed charges and PaymentIntents that
//! #              never succeeded are counted as skipped input (unsuccessful_payment)
//! #   "attempts" a row per failed charge; a PaymentIntent with no charge is not a row
//! #   "intents"  a row per PaymentIntent it created, whatever became of it
//! unsuccessful = "none"
//! # Direct charges on connected (Standard) accounts: the app creates its payments through
//! # the platform, so a charge without `application` was made by the business itself (in
//! # its own Dashboard) and is no row of the app. Counted as skipped input. Default false.
//! platform_charges_only = true
//! ```
//! Unknown keys are errors; so are patterns without a `code` group and status words the
//! contract does not know.

use crate::claims::Entity;
use crate::error::{Error, Result};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a metadata value (or a description match) tells about the app's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holds {
    /// The app's business id (e.g. on the connected account, or on a charge).
    BusinessId,
    /// The app's customer id.
    CustomerId,
    /// The app's reservation id.
    ReservationId,
    /// The booking code customers see.
    ReservationReference,
    /// The app's own payment id.
    PaymentId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    metadata: Vec<RawMetaKey>,
    #[serde(default)]
    description: Vec<RawPattern>,
    #[serde(default)]
    charge_status: BTreeMap<String, String>,
    #[serde(default)]
    csv_status: BTreeMap<String, String>,
    #[serde(default)]
    checkout: Option<RawCheckout>,
    #[serde(default)]
    payments: Option<RawPayments>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayments {
    #[serde(default)]
    processor_id: Option<Vec<StripeId>>,
    #[serde(default)]
    unsuccessful: Option<Unsuccessful>,
    #[serde(default)]
    platform_charges_only: bool,
}

/// A kind of Stripe id an app may store as a payment's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StripeId {
    CheckoutSession,
    PaymentIntent,
    Charge,
}

/// Which payments where no money moved the app keeps a row for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unsuccessful {
    /// Only money that moved.
    #[default]
    None,
    /// A row per failed charge attempt (a PaymentIntent without a charge is no row).
    Attempts,
    /// A row per PaymentIntent, whatever became of it.
    Intents,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetaKey {
    key: String,
    holds: Holds,
    #[serde(default)]
    #[allow(dead_code)]
    era: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    pattern: String,
    #[serde(default)]
    holds: Option<Holds>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckout {
    #[serde(default)]
    client_reference_id: Option<Holds>,
}

/// A validated mapping, ready to use from many threads.
#[derive(Debug)]
pub struct Mapping {
    /// `(key, holds)` in the file's order.
    pub metadata: Vec<(String, Holds)>,
    /// Description patterns with a `code` group, in the file's order.
    pub description: Vec<(Regex, Holds)>,
    /// Stripe charge `status` -> contract payment word.
    pub charge_status: BTreeMap<String, String>,
    /// Dashboard CSV `Status` (compared case-insensitively) -> contract payment word.
    pub csv_status: BTreeMap<String, String>,
    /// What a Checkout Session's `client_reference_id` holds, if anything.
    pub client_reference_id: Option<Holds>,
    /// The Stripe ids the app stores as a payment's id, in order of preference.
    pub processor_id: Vec<StripeId>,
    /// Which payments where no money moved are rows of the app.
    pub unsuccessful: Unsuccessful,
    /// Charges and PaymentIntents without `application` are not the app's.
    pub platform_charges_only: bool,
    /// How often each metadata key / description pattern gave a value (to warn about keys
    /// that never match: a typo, or a key of another app).
    metadata_hits: Vec<AtomicU64>,
    description_hits: Vec<AtomicU64>,
    /// The file it was read from (named in the notices of rules that matched nothing).
    pub file: std::path::PathBuf,
}

/// Stripe's charge statuses, as the API documents them.
fn default_charge_status() -> BTreeMap<String, String> {
    [
        ("succeeded", "succeeded"),
        ("pending", "pending"),
        ("failed", "failed"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

/// The Dashboard export's `Status` words and the raw PaymentIntent statuses it shows on rows
/// without a charge. Keys lowercase.
fn default_csv_status() -> BTreeMap<String, String> {
    [
        ("paid", "succeeded"),
        ("succeeded", "succeeded"),
        ("failed", "failed"),
        ("refunded", "refunded"),
        ("partially refunded", "partially_refunded"),
        ("partially_refunded", "partially_refunded"),
        ("disputed", "disputed"),
        ("pending", "pending"),
        ("uncaptured", "pending"),
        ("processing", "pending"),
        ("requires_action", "pending"),
        ("requires_capture", "pending"),
        ("requires_confirmation", "pending"),
        ("requires_payment_method", "failed"),
        ("canceled", "failed"),
        ("incomplete", "pending"),
        ("blocked", "failed"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping> {
        let text =
            crate::util::toml_file::read_mapping(path, "the stripe.toml files under mappings/")?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Mapping> {
        let raw: RawMapping =
            crate::util::toml_file::parse(text, path, "the stripe.toml files under mappings/")?;
        let mut metadata = Vec::new();
        for (i, m) in raw.metadata.into_iter().enumerate() {
            if m.key.trim().is_empty() {
                return Err(Error::config(
                    path,
                    format!("metadata[{i}].key is empty; write the metadata key the app set"),
                ));
            }
            metadata.push((m.key, m.holds));
        }
        let mut description = Vec::new();
        for (i, p) in raw.description.into_iter().enumerate() {
            let re = Regex::new(&p.pattern).map_err(|e| {
                Error::config(
                    path,
                    format!("description[{i}].pattern is not a valid regular expression: {e}"),
                )
            })?;
            if !re.capture_names().any(|n| n == Some("code")) {
                return Err(Error::config(
                    path,
                    format!(
                        "description[{i}].pattern {:?} has no named group `code`; write it like '(?P<code>R-[0-9]{{6}})'",
                        p.pattern
                    ),
                ));
            }
            let holds = p.holds.unwrap_or(Holds::ReservationReference);
            if !matches!(holds, Holds::ReservationReference | Holds::ReservationId) {
                return Err(Error::config(
                    path,
                    format!(
                        "description[{i}].holds must be reservation_reference or reservation_id"
                    ),
                ));
            }
            description.push((re, holds));
        }
        let check = |table: &str, m: &BTreeMap<String, String>| -> Result<()> {
            for (k, v) in m {
                if !Entity::Payment.statuses().contains(&v.as_str()) {
                    return Err(Error::config(
                        path,
                        format!(
                            "{table}.{k} = {v:?} is not a payment status; use one of {}",
                            Entity::Payment.statuses().join(", ")
                        ),
                    ));
                }
            }
            Ok(())
        };
        check("charge_status", &raw.charge_status)?;
        check("csv_status", &raw.csv_status)?;
        let mut charge_status = default_charge_status();
        charge_status.extend(raw.charge_status);
        let mut csv_status = default_csv_status();
        csv_status.extend(
            raw.csv_status
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v)),
        );
        Ok(Mapping {
            file: path.to_path_buf(),
            metadata_hits: metadata.iter().map(|_| AtomicU64::new(0)).collect(),
            description_hits: description.iter().map(|_| AtomicU64::new(0)).collect(),
            metadata,
            description,
            charge_status,
            csv_status,
            client_reference_id: raw.checkout.and_then(|c| c.client_reference_id),
            processor_id: raw
                .payments
                .as_ref()
                .and_then(|p| p.processor_id.clone())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| vec![StripeId::PaymentIntent]),
            platform_charges_only: raw
                .payments
                .as_ref()
                .is_some_and(|p| p.platform_charges_only),
            unsuccessful: raw
                .payments
                .and_then(|p| p.unsuccessful)
                .unwrap_or_default(),
        })
    }

    /// The id the app stores for a charge (`ch`) of PaymentIntent `pi`: its PaymentIntent
    /// when the app stores those, else the charge. (A Checkout payment's session id comes
    /// from the session object, which the charge does not name.)
    pub fn charge_processor_id<'a>(&self, ch: &'a str, pi: Option<&'a str>) -> &'a str {
        let pos = |k| self.processor_id.iter().position(|x| *x == k);
        match (pi, pos(StripeId::PaymentIntent), pos(StripeId::Charge)) {
            (Some(pi), Some(a), Some(b)) if a < b => pi,
            (Some(pi), Some(_), None) => pi,
            _ => ch,
        }
    }

    /// Whether the app stores this kind of id as a payment's id.
    pub fn stores(&self, k: StripeId) -> bool {
        self.processor_id.contains(&k)
    }

    /// The first key holding `what` that `get` finds with a non-empty value.
    pub fn lookup<'a>(&self, what: Holds, get: &dyn Fn(&str) -> Option<&'a str>) -> Option<String> {
        self.metadata
            .iter()
            .enumerate()
            .filter(|(_, (_, h))| *h == what)
            .find_map(|(i, (k, _))| {
                let v = get(k)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)?;
                self.metadata_hits[i].fetch_add(1, Ordering::Relaxed);
                Some(v)
            })
    }

    /// Metadata keys and description patterns that never gave a value so far.
    /// Each metadata key and description pattern with how many objects it gave a value in.
    pub fn hits(&self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for ((k, _), n) in self.metadata.iter().zip(&self.metadata_hits) {
            out.push((format!("metadata key {k:?}"), n.load(Ordering::Relaxed)));
        }
        for ((re, _), n) in self.description.iter().zip(&self.description_hits) {
            out.push((
                format!("description pattern {:?}", re.as_str()),
                n.load(Ordering::Relaxed),
            ));
        }
        out
    }

    pub fn unused(&self) -> Vec<String> {
        let mut out = Vec::new();
        for ((k, _), n) in self.metadata.iter().zip(&self.metadata_hits) {
            if n.load(Ordering::Relaxed) == 0 {
                out.push(format!("metadata key {k:?}"));
            }
        }
        for ((re, _), n) in self.description.iter().zip(&self.description_hits) {
            if n.load(Ordering::Relaxed) == 0 {
                out.push(format!("description pattern {:?}", re.as_str()));
            }
        }
        out
    }

    /// A booking code or reservation id found in a free-text description.
    pub fn from_description(&self, text: &str) -> Option<(Holds, String)> {
        self.description
            .iter()
            .zip(&self.description_hits)
            .find_map(|((re, h), n)| {
                let m = re.captures(text)?.name("code")?;
                n.fetch_add(1, Ordering::Relaxed);
                Some((*h, m.as_str().to_string()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_mappings() {
        let p = Path::new("stripe.toml");
        let e = Mapping::parse("[[description]]\npattern = 'BK-\\d+'\n", p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("description[0]") && e.contains("code"), "{e}");
        let e = Mapping::parse("[[metadata]]\nkey='a'\nholds='shop'\n", p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stripe.toml"), "{e}");
        let e = Mapping::parse("[charge_status]\npending = 'waiting'\n", p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("charge_status.pending"), "{e}");
        let e = Mapping::parse("metadta = []\n", p).unwrap_err().to_string();
        assert!(e.contains("metadta"), "{e}");
    }

    #[test]
    fn keys_are_tried_in_order() {
        let m = Mapping::parse(
            "[[metadata]]\nkey='new'\nholds='reservation_reference'\n[[metadata]]\nkey='old'\nholds='reservation_reference'\n",
            Path::new("m.toml"),
        )
        .unwrap();
        let md = [("old", "A"), ("new", "B")];
        let get = |k: &str| md.iter().find(|(a, _)| *a == k).map(|(_, v)| *v);
        assert_eq!(
            m.lookup(Holds::ReservationReference, &get).as_deref(),
            Some("B")
        );
        let md2 = [("old", "A"), ("new", " ")];
        let get2 = |k: &str| md2.iter().find(|(a, _)| *a == k).map(|(_, v)| *v);
        assert_eq!(
            m.lookup(Holds::ReservationReference, &get2).as_deref(),
            Some("A")
        );
        assert_eq!(m.lookup(Holds::CustomerId, &get2), None);
        assert!(m.unused().is_empty());
        let m = Mapping::parse(
            "[[metadata]]\nkey='x'\nholds='customer_id'\n[[description]]\npattern='(?P<code>Z\\d+)'\n",
            Path::new("m.toml"),
        )
        .unwrap();
        assert_eq!(m.unused().len(), 2);
        assert_eq!(
            m.from_description("paid Z12"),
            Some((Holds::ReservationReference, "Z12".into()))
        );
        assert_eq!(m.unused(), vec!["metadata key \"x\"".to_string()]);
    }
}
