//! The true world of a generated incident: every business, customer, reservation and
//! payment with its full history. The truth file is this world at the incident time; each
//! kind of wreckage (backup, Stripe, mail) is a rendering of it, with the mess of real life.
//!
//! Only `src/samples/` knows about sample apps. Importers and the merge never do.

use crate::util::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Which sample app the wreckage comes from. Each flavour has its own schema, status words,
/// email templates and Stripe metadata keys, and its own mapping files in `mappings/<name>/`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Salon and spa bookings. PostgreSQL schema `shops`, `clients`, `appointments`,
    /// `charges`; an enum `appt_status`; money in major units (numeric); timestamptz;
    /// integer ids; soft delete by `deleted_at`.
    #[default]
    Bookly,
    /// Restaurant tables. Schema `venues`, `guests`, `bookings`, `transactions`; status text
    /// in capitals; money in minor units; naive local timestamps (the venue's zone); soft
    /// delete by `is_deleted boolean`.
    Tablehop,
    /// Dive-centre bookings (docs/trials/brief.md). `businesses` ("shops") with a slug that
    /// never changes and renames without history, demo shops, `customers` ("divers") merged
    /// into a survivor, `bookings` with naive local times and a booking code `KL24-7QX4M`,
    /// `payments` in major units with upper-case currency, by card form (`pi_`), Hosted
    /// Checkout (`cs_`) or by hand; Stripe metadata keys by era.
    Kelpie,
    /// Bike-rental shops (docs/trials/brief-2.md). A Stripe Connect platform with Express
    /// accounts and destination charges on the platform; `businesses` with slugs, archived
    /// shops and sandboxes; `bookings` with a code `PD-7K2QXM`, naive UTC times and minor
    /// units; `payments.stripe_ref` = `ch_` before 2024-03-01, `pi_` after.
    Pedalry,
    /// Group-class studios (docs/trials/brief-3.md). A Connect platform with Custom
    /// accounts and separate charges and transfers; `people` shared by all studios and
    /// `studio_members` per studio (walk-ins, kids on a parent's login, merges); dated class
    /// sessions in yearly partitions; `spots` (uuid) with an archive table; `purchases`
    /// (uuid) in minor units whose Stripe object is a `ch_`, `cs_`, `in_` or `pi_` by era;
    /// a pg_dump directory archive, a Maildir. Its world lives in [`World::zenda`].
    Zenda,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Bookly => "bookly",
            Flavour::Tablehop => "tablehop",
            Flavour::Kelpie => "kelpie",
            Flavour::Pedalry => "pedalry",
            Flavour::Zenda => "zenda",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bookly" => Some(Flavour::Bookly),
            "tablehop" => Some(Flavour::Tablehop),
            "kelpie" => Some(Flavour::Kelpie),
            "pedalry" => Some(Flavour::Pedalry),
            "zenda" => Some(Flavour::Zenda),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// The app's catalogue (kelpie only; the others copy the service name into the booking).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// Zenda's own world (studios, people, members, sessions, spots, purchases): its
    /// generic vectors above hold only the studios as businesses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zenda: Option<Box<super::zenda::Zenda>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A service a business offers (kelpie: trips and courses).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Service {
    pub id: i64,
    pub business_id: i64,
    pub name: String,
    pub duration_min: i64,
    /// Minor units, per diver.
    pub price: i64,
    pub archived_at: Option<Timestamp>,
}

/// A name a business had until a rename.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormerName {
    pub name: String,
    /// Renamed (to the next name) at this time.
    pub until: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Kelpie: the shop's slug (`blue-hole-divers-dahab`), never changed on rename.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub slug: String,
    /// Kelpie: the shop's town (`Dahab`), in mail footers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub town: String,
    /// Kelpie: mail language and number format (`en`, `de`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub locale: String,
    /// Kelpie: the app's status word (`trial`, `active`, `past_due`, `cancelled`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_status: String,
    /// A demo or test shop: nothing of it belongs to the truth.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_demo: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<Timestamp>,
    /// Earlier names, oldest first; `name` is the name at the incident.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_names: Vec<FormerName>,
    /// The Stripe account's `business_profile.name` when the shop never updated it after a
    /// rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_profile_name: Option<String>,
    /// An earlier connected account, used until this time (the app keeps only the new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_account: Option<(String, Timestamp)>,
}

impl Business {
    /// The display name at `t`.
    pub fn name_at(&self, t: Timestamp) -> &str {
        self.former_names
            .iter()
            .find(|f| t < f.until)
            .map(|f| f.name.as_str())
            .unwrap_or(&self.name)
    }
    /// The connected account that held a payment made at `t`.
    pub fn account_at(&self, t: Timestamp) -> Option<&str> {
        match &self.former_account {
            Some((a, until)) if t < *until => Some(a.as_str()),
            _ => self.stripe_account.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Kelpie: a duplicate merged (at `deleted_at`) into this surviving customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<i64>,
    /// Kelpie: GDPR erasure at this time (the row stays as `Erased diver`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<Timestamp>,
    /// Kelpie: the diver's home country (ISO 3166 alpha-2), for phone formats.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home_country: String,
}

/// The name the truth holds for an erased customer.
pub const ERASED_NAME: &str = "Erased diver";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    #[default]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    #[default]
    Created,
    /// Time or party size changed.
    Changed,
    Cancelled,
    /// Set by the app's nightly job after the slot ended.
    Completed,
    NoShow,
    /// Kelpie: only the app's status word changed (held -> booked, booked -> checked_in).
    Status,
    /// Kelpie: the price changed after payment (no mail).
    Repriced,
    /// Kelpie: a `booked` slot ended and nobody closed it; the app counts it as done. No
    /// row changed.
    SlotEnded,
}

/// Kelpie's booking status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppStatus {
    Held,
    Waitlist,
    Booked,
    CheckedIn,
    Done,
    NoShow,
    CancelledDiver,
    CancelledShop,
    CancelledWeather,
}

impl AppStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppStatus::Held => "held",
            AppStatus::Waitlist => "waitlist",
            AppStatus::Booked => "booked",
            AppStatus::CheckedIn => "checked_in",
            AppStatus::Done => "done",
            AppStatus::NoShow => "no_show",
            AppStatus::CancelledDiver => "cancelled_diver",
            AppStatus::CancelledShop => "cancelled_shop",
            AppStatus::CancelledWeather => "cancelled_weather",
        }
    }
}

/// The state of a reservation from `at` until the next version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReservationVersion {
    pub at: Timestamp,
    pub change: Change,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub party_size: i64,
    pub status: ReservationStatus,
    /// Price of the booking in minor units of the business's currency.
    pub amount: i64,
    /// Kelpie: the app's own status word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_status: Option<AppStatus>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Kelpie: the catalogue entry booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<i64>,
}

impl Reservation {
    /// The version in force at `t`, if the reservation existed then.
    pub fn at(&self, t: Timestamp) -> Option<&ReservationVersion> {
        self.versions.iter().rev().find(|v| v.at <= t)
    }
    /// The last version by `t` that changed the app's row (its `updated_at`).
    pub fn row_at(&self, t: Timestamp) -> Option<&ReservationVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.at <= t && v.change != Change::SlotEnded)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    #[default]
    Card,
    Cash,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Refund {
    /// `re_...`
    pub id: String,
    pub at: Timestamp,
    pub amount: i64,
    /// Made in the Stripe Dashboard during a webhook outage: the app never heard of it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_in_app: bool,
    /// Made by staff in the Stripe Dashboard (else by the app).
    #[serde(default, skip_serializing_if = "is_false")]
    pub by_dashboard: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Dispute {
    /// `dp_...`
    pub id: String,
    pub at: Timestamp,
    /// Closed at this time: won (`Some(true)`) or lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<(Timestamp, bool)>,
}

/// How a kelpie payment was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    CardForm,
    Checkout,
    Cash,
    BankTransfer,
    Voucher,
}

impl PayMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PayMethod::CardForm => "card_form",
            PayMethod::Checkout => "checkout",
            PayMethod::Cash => "cash",
            PayMethod::BankTransfer => "bank_transfer",
            PayMethod::Voucher => "voucher",
        }
    }
}

/// A declined charge on a payment intent before the one that succeeded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// `ch_...`
    pub charge_id: String,
    pub at: Timestamp,
    pub decline_code: String,
    pub last4: String,
}

/// Kelpie's details of a payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KelpiePay {
    pub method: PayMethod,
    /// `full`, `deposit`, `balance`, `extra`.
    pub kind: String,
    /// `cs_...` for Hosted Checkout.
    pub checkout_session: Option<String>,
    /// Declined charges on the same intent before success (or all of them, when failed).
    pub attempts: Vec<Attempt>,
    /// The app has no row for it (failed, expired, typed in the Dashboard).
    pub no_row: bool,
    /// Stripe had not issued the receipt number when the webhook came: the row has none.
    pub receipt_pending: bool,
    pub card_brand: Option<String>,
    /// Typed by staff in the Stripe Dashboard with this description.
    pub dashboard: Option<String>,
    /// Stripe metadata `kelpie_booking_id` sent empty (mobile bug of 2023-06).
    pub empty_booking_id: bool,
    /// When the intent (or session) was created.
    pub started_at: Timestamp,
    /// The diver's email on the receipt, as typed at payment time.
    pub receipt_email: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kelpie: Option<Box<KelpiePay>>,
}

impl Payment {
    /// Does the app's database have a row for it?
    pub fn has_row(&self) -> bool {
        self.kelpie.as_ref().is_none_or(|k| !k.no_row)
    }
}

/// A payment's contract status at `t`.
pub fn payment_status(p: &Payment, t: Timestamp) -> &'static str {
    if p.failed {
        return "failed";
    }
    if p.dispute
        .as_ref()
        .is_some_and(|d| d.at <= t && !d.closed.is_some_and(|(at, won)| won && at <= t))
    {
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
        .filter(|r| r.at <= t && !r.not_in_app)
        .map(|r| r.amount)
        .sum()
}
