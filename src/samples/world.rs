//! The true world of a generated incident: every business, customer, reservation and
//! payment with its full history. The truth file is this world at the incident time; each
//! kind of wreckage (backup, Stripe, mail) is a rendering of it, with the mess of real life.
//!
//! Only `src/samples/` knows about sample apps. Importers and the merge never do.

use crate::util::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Which sample app the wreckage comes from. Each flavour has its own schema, status words,
/// email templates and Stripe metadata keys, and its own mapping files in `mappings/<name>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Salon and spa bookings. PostgreSQL schema `shops`, `clients`, `appointments`,
    /// `charges`; an enum `appt_status`; money in major units (numeric); timestamptz;
    /// integer ids; soft delete by `deleted_at`.
    Bookly,
    /// Restaurant tables. Schema `venues`, `guests`, `bookings`, `transactions`; status text
    /// in capitals; money in minor units; naive local timestamps (the venue's zone); soft
    /// delete by `is_deleted boolean`.
    Tablehop,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Bookly => "bookly",
            Flavour::Tablehop => "tablehop",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bookly" => Some(Flavour::Bookly),
            "tablehop" => Some(Flavour::Tablehop),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    pub seed: u64,
    pub flavour: Flavour,
    pub incident_at: Timestamp,
    /// When the stale backup was taken (about 90 days before the incident).
    pub backup_at: Timestamp,
    pub businesses: Vec<Business>,
    pub customers: Vec<Customer>,
    pub reservations: Vec<Reservation>,
    pub payments: Vec<Payment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Business {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// IANA zone name (`Europe/Berlin`).
    pub timezone: String,
    /// Lowercase ISO 4217 (`usd`, `eur`, `jpy`...).
    pub currency: String,
    /// ISO 3166 alpha-2, for phone numbers.
    pub country: String,
    /// `acct_...`; `None` for a business that takes cash only.
    pub stripe_account: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub business_id: i64,
    pub name: String,
    /// Lowercase, as the truth holds it. Renderings may change case or add typos.
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// `cus_...` when the customer ever paid by card.
    pub stripe_customer: Option<String>,
    /// Extra Stripe customer objects created for the same person (a real-life duplicate).
    pub stripe_duplicates: Vec<String>,
    pub created_at: Timestamp,
    /// Soft-deleted in the app at this time: absent from the truth if before the incident.
    pub deleted_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Pending,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
}

impl ReservationStatus {
    /// The contract's word.
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Pending => "pending",
            ReservationStatus::Confirmed => "confirmed",
            ReservationStatus::Cancelled => "cancelled",
            ReservationStatus::Completed => "completed",
            ReservationStatus::NoShow => "no_show",
        }
    }
}

/// Why a reservation version exists: what happened at `at`. Email templates follow this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    /// Time or party size changed.
    Changed,
    Cancelled,
    /// Set by the app's nightly job after the slot ended.
    Completed,
    NoShow,
}

/// The state of a reservation from `at` until the next version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReservationVersion {
    pub at: Timestamp,
    pub change: Change,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub party_size: i64,
    pub status: ReservationStatus,
    /// Price of the booking in minor units of the business's currency.
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reservation {
    pub id: i64,
    pub business_id: i64,
    pub customer_id: i64,
    /// The booking code customers see (`BK-7Q2X9`); its shape is the flavour's.
    pub reference: String,
    pub service: String,
    pub created_at: Timestamp,
    /// Sorted by `at`; the first is `Change::Created` at `created_at`.
    pub versions: Vec<ReservationVersion>,
    pub deleted_at: Option<Timestamp>,
}

impl Reservation {
    /// The version in force at `t`, if the reservation existed then.
    pub fn at(&self, t: Timestamp) -> Option<&ReservationVersion> {
        self.versions.iter().rev().find(|v| v.at <= t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Card,
    Cash,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refund {
    /// `re_...`
    pub id: String,
    pub at: Timestamp,
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dispute {
    /// `dp_...`
    pub id: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    pub id: i64,
    pub business_id: i64,
    pub customer_id: Option<i64>,
    pub reservation_id: Option<i64>,
    pub method: Method,
    /// `ch_...` for card payments.
    pub charge_id: Option<String>,
    /// `pi_...` for card payments.
    pub payment_intent: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub created_at: Timestamp,
    pub failed: bool,
    pub refunds: Vec<Refund>,
    pub dispute: Option<Dispute>,
    /// Stripe receipt number (`1234-5678`) when a receipt email was sent.
    pub receipt_number: Option<String>,
    pub card_last4: Option<String>,
    /// The app forgot to set Stripe metadata on this charge (real-life mess).
    pub metadata_missing: bool,
}

/// A payment's contract status at `t`.
pub fn payment_status(p: &Payment, t: Timestamp) -> &'static str {
    if p.failed {
        return "failed";
    }
    if p.dispute.as_ref().is_some_and(|d| d.at <= t) {
        return "disputed";
    }
    let refunded = amount_refunded(p, t);
    if refunded >= p.amount && p.amount > 0 {
        "refunded"
    } else if refunded > 0 {
        "partially_refunded"
    } else {
        "succeeded"
    }
}

/// Sum of refunds made by `t`.
pub fn amount_refunded(p: &Payment, t: Timestamp) -> i64 {
    p.refunds
        .iter()
        .filter(|r| r.at <= t)
        .map(|r| r.amount)
        .sum()
}
