//! Zenda, the group-class studio sample app (docs/trials/brief-3.md): its true world and, in
//! the submodules, its wreckage (`backup`: the pg_dump directory archive of 2025-10-30
//! 01:15:07 UTC; `stripe`: the platform account's objects with Custom accounts, separate
//! charges and transfers, Checkout sessions, Billing invoices, Terminal and off-session
//! intents, and Finance's monthly exports; `mail`: the Maildir of the BCC archive
//! `archive@zenda.fit`, rendered by Postmark and later Amazon SES, in four languages).
//!
//! The world keeps the full history from 2021-03-15 to the incident (2026-02-03 08:40 UTC):
//! studios (renamed, closed, internal, two onboarded after the backup, a few with a new
//! Custom account after a change of legal entity), people shared by all studios and one
//! member row per studio (walk-ins without a login, kids on a parent's login, walk-ins
//! merged into their later app row, duplicate logins, GDPR anonymisation), class types
//! renamed in place, dated sessions (rescheduled, cancelled), spots with the app's states
//! (moved between sessions, waitlisted, removed), purchases by era (`ch_` legacy card
//! form, `cs_` Checkout, `in_` membership invoices, `pi_` Terminal and fees, cash, bank
//! transfer, studio credit), refunds (admin, Dashboard, cash), disputes, passes,
//! memberships and credits. The generic vectors of [`World`] hold only the studios as
//! businesses; everything else is in [`Zenda`], and the truth is computed here
//! ([`truth`]).
//!
//! Volumes at up to 200 studios are the brief's (per studio ~150–400 members, ~1,200–2,500
//! spots, ~600–1,200 purchases); above 200 studios each studio is a tenth as busy, so that
//! 1,600 studios generate in minutes.
//!
//! What the generator simplifies or leaves out (see also each renderer's doc):
//! * one world, no replay of the app's code: the nightly `spots_archive` job, merges,
//!   Stripe's Smart Retries (+3, +8, +14 days), Checkout expiry (24 h), the nightly
//!   transfers (net of refunds and disputes, no platform fee withheld) and the monthly
//!   exports (as of the 3rd of the next month) follow fixed rules computed from the events;
//! * sessions exist only where someone booked them, plus three weeks of empty future ones
//!   (a real timetable has many empty past sessions); a spot's pass entry is taken at
//!   booking (or promotion), passes hold 10 entries for 90 days, prices are fixed per
//!   class and currency;
//! * `audit_log` is dumped without data (as the brief's `--exclude-table-data`);
//!   `passes`, `memberships` and `member_credits` carry the columns the brief names plus a
//!   few obvious ones; dump ids, OIDs and the row order (creation order, no MVCC
//!   reshuffling) are invented; `-j 4` changes nothing in the files;
//! * a merge re-points `spots` and `purchases` without touching `updated_at`; a staff edit
//!   of a member's last name (married names) leaves `people.full_name` as registered;
//!   logins shared by siblings at one studio are never erased (both rows would become
//!   `Anonymised` under the brief's UNIQUE (studio_id, person_id, first_name));
//! * the truth's `reservations.service` is the class type's name at the incident (not a
//!   session's `title_override`), `reference` is NULL (Zenda has no booking code),
//!   `processor` is `cash` or `bank_transfer` for money Stripe never saw, an erased
//!   person's members come back as `Anonymised` with no email or phone, and `sources` is
//!   approximate;
//! * Stripe: only the platform's live objects; the Custom accounts' own copies of
//!   transfers (`py_`) and payouts, and everything in test mode, are left out; accounts
//!   carry no metadata (the brief names none) but the studio's URL; a Checkout intent is
//!   created 30 s after its session;
//! * mail: Gmail's labels are three folders (`[Gmail].All Mail`, `INBOX`, `Receipts`); no
//!   bounces, newsletters or Stripe mails (Stripe receipts went to buyers, not the BCC);
//!   the HTML part is one simple layout;
//! * the rates are the brief's only roughly (e.g. walk-in signups ~5 % of members, stale
//!   Stripe addresses ~2 %); at most six internal tenants whatever the size.
//!
//! Deterministic: one `ChaCha8Rng` from the seed, consumed in a fixed order.

pub mod backup;
pub mod mail;
pub(crate) mod names;
mod sim;
pub mod stripe;

pub use sim::{simulate, simulate_at};

use super::world::{Dispute, FormerName, World};
use crate::claims::{SourceKind, Value};
use crate::merge::{Recovered, Row};
use crate::util::time::{format_utc, local_to_utc, Timestamp};
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// The incident: `DROP SCHEMA public CASCADE` at 2026-02-03 08:40 UTC.
pub fn incident_at() -> Timestamp {
    utc(2026, 2, 3, 8, 40)
}
/// The last good pg_dump: 2025-10-30 01:15:07 UTC (96 days before the incident).
pub fn backup_at() -> Timestamp {
    Utc.with_ymd_and_hms(2025, 10, 30, 1, 15, 7).unwrap()
}
/// Zenda's first day (Era L begins).
pub fn history_start() -> Timestamp {
    utc(2021, 3, 15, 0, 0)
}
/// Era C1 (Checkout) from this time; before it, Era L (legacy card form, `ch_`).
pub fn era_c1() -> Timestamp {
    utc(2023, 5, 8, 10, 0)
}
/// Era C2 (the four keys also in `payment_intent_data.metadata`).
pub fn era_c2() -> Timestamp {
    utc(2024, 6, 18, 12, 0)
}
/// Memberships (Billing subscriptions) and the first Stripe customers.
pub fn memberships_since() -> Timestamp {
    utc(2022, 1, 10, 0, 0)
}
/// Terminal (card-present) at the desk.
pub fn terminal_since() -> Timestamp {
    utc(2023, 10, 2, 0, 0)
}
/// Late-cancellation and no-show fees (off-session intents).
pub fn fees_since() -> Timestamp {
    utc(2024, 2, 5, 0, 0)
}
/// "+1 friend" (guests).
pub fn guests_since() -> Timestamp {
    utc(2024, 3, 11, 0, 0)
}
/// Stripe customers re-synced on email change from this time on.
pub fn resync_since() -> Timestamp {
    utc(2024, 1, 15, 0, 0)
}
/// Dashboard refunds reach the app (webhook) from this time on.
pub fn refund_webhook_since() -> Timestamp {
    utc(2024, 4, 15, 0, 0)
}
/// Dispute outcomes reach the app from this time on (before, `in_dispute` stays).
pub fn dispute_outcome_since() -> Timestamp {
    utc(2023, 1, 16, 0, 0)
}
/// "Link account" merges of walk-ins began.
pub fn merges_since() -> Timestamp {
    utc(2022, 6, 1, 0, 0)
}
/// Amazon SES instead of Postmark from this time on.
pub fn ses_since() -> Timestamp {
    utc(2024, 9, 10, 0, 0)
}
/// BCC not set up on SES: nothing archived in this window.
pub fn bcc_gap() -> (Timestamp, Timestamp) {
    (utc(2024, 9, 10, 0, 0), utc(2024, 9, 21, 0, 0))
}
/// `zenda_member_id` held the person's id (session and intent metadata).
pub fn member_id_bug() -> (Timestamp, Timestamp) {
    (utc(2025, 3, 3, 9, 12), utc(2025, 3, 20, 16, 40))
}
/// `zenda_spot_id` was `""`.
pub fn empty_spot_bug() -> (Timestamp, Timestamp) {
    (utc(2025, 12, 1, 7, 30), utc(2025, 12, 12, 18, 0))
}
/// Spots of sessions older than this are moved to `spots_archive` nightly.
pub const ARCHIVE_AFTER_DAYS: i64 = 540;
/// The archive job's first night.
pub fn archive_job_since() -> Timestamp {
    utc(2023, 9, 4, 1, 30)
}

/// A small stable hash (FNV-1a, finalised), for per-row decisions shared by renderers.
pub(crate) fn hash(s: &str) -> u64 {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut z = h ^ (h >> 33);
    z = z.wrapping_mul(0xff51_afd7_ed55_8ccd);
    z ^ (z >> 33)
}

pub(crate) fn zone(tz: &str) -> Tz {
    crate::util::time::parse_zone(tz).unwrap_or(chrono_tz::UTC)
}

/// A studio (tenant).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Studio {
    pub id: i64,
    /// `studio-mantra-krakow`; never changes.
    pub slug: String,
    /// Display name at the incident (overwritten on rename).
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_names: Vec<FormerName>,
    /// The company (the Custom account's `business_profile.name`), at the incident.
    pub legal_name: String,
    /// `yoga`, `pilates`, `dance`, `kids`.
    pub category: String,
    pub country: String,
    pub locale: String,
    pub tz: String,
    /// Upper case.
    pub currency: String,
    pub contact_email: String,
    /// `ul. Krupnicza 14, Kraków`
    pub address: String,
    pub town: String,
    /// The current Custom account (none for internal tenants: test mode).
    pub stripe_account: Option<String>,
    /// An earlier account (and its legal name), used until this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_account: Option<(String, String, Timestamp)>,
    /// `starter`, `pro`, `internal`.
    pub plan: String,
    pub closed_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Studio {
    pub fn name_at(&self, t: Timestamp) -> &str {
        self.former_names
            .iter()
            .find(|f| t < f.until)
            .map(|f| f.name.as_str())
            .unwrap_or(&self.name)
    }
    pub fn account_at(&self, t: Timestamp) -> Option<&str> {
        match &self.former_account {
            Some((a, _, until)) if t < *until => Some(a.as_str()),
            _ => self.stripe_account.as_deref(),
        }
    }
    pub fn internal(&self) -> bool {
        self.plan == "internal"
    }
    pub fn tz(&self) -> Tz {
        zone(&self.tz)
    }
    /// Lower case, as the contract writes currencies.
    pub fn cur(&self) -> String {
        self.currency.to_lowercase()
    }
    /// `https://studio-mantra-krakow.zenda.fit`
    pub fn url(&self) -> String {
        format!("https://{}.zenda.fit", self.slug)
    }
}

/// A login (`people`), shared by every studio the person books at.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    /// Addresses as typed, each from its time; the first at `created_at`.
    pub emails: Vec<(String, Timestamp)>,
    pub full_name: String,
    /// As typed.
    pub phone: Option<String>,
    /// The phone in E.164.
    pub phone_e164: Option<String>,
    pub created_at: Timestamp,
    /// GDPR erasure.
    pub deleted_at: Option<Timestamp>,
    /// The platform's `cus_` and when it was made.
    pub stripe_customer: Option<(String, Timestamp)>,
    /// The customer's `invoice_prefix`.
    pub invoice_prefix: String,
}

impl Person {
    /// The address the app held at `t` (as typed; the placeholder once erased).
    pub fn email_at(&self, t: Timestamp) -> String {
        if self.deleted_at.is_some_and(|d| d <= t) {
            return format!("deleted-{}@users.zenda.invalid", self.id);
        }
        self.live_email_at(t)
    }
    /// The real address in use at `t` (ignoring erasure).
    pub fn live_email_at(&self, t: Timestamp) -> String {
        self.emails
            .iter()
            .rev()
            .find(|(_, since)| *since <= t)
            .or(self.emails.first())
            .map(|(e, _)| e.clone())
            .unwrap_or_default()
    }
    /// The email the Stripe customer shows at `t`: the address at its creation, re-synced
    /// on changes only from 2024-01-15 on.
    pub fn stripe_email_at(&self, t: Timestamp) -> Option<String> {
        let (_, made) = self.stripe_customer.as_ref()?;
        let mut e = self.live_email_at(*made);
        for (addr, since) in &self.emails {
            if *since > *made && *since <= t && *since >= resync_since() {
                e = addr.clone();
            }
        }
        Some(e)
    }
    pub fn erased_by(&self, t: Timestamp) -> bool {
        self.deleted_at.is_some_and(|d| d <= t)
    }
}

/// A studio's customer (`studio_members`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Member {
    pub id: i64,
    pub studio_id: i64,
    /// `None`: a front-desk walk-in without a login.
    pub person_id: Option<i64>,
    pub first_name: String,
    pub last_name: String,
    /// A staff edit of the last name (married name), from this time on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed: Option<(String, Timestamp)>,
    /// Walk-ins: as staff typed it. App members: a stale copy or none.
    pub email: Option<String>,
    /// As typed.
    pub phone: Option<String>,
    /// The phone in E.164 (the truth's).
    pub phone_e164: Option<String>,
    pub archived_at: Option<Timestamp>,
    /// Linked into this app member at this time (the walk-in row is archived then).
    pub merged_into: Option<(i64, Timestamp)>,
    pub anonymised_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// A child booked by a parent (the person is the parent's).
    pub kid: bool,
    /// Opted in to reminder mails.
    pub reminders: bool,
}

/// The placeholder first name of an anonymised member.
pub const ANONYMISED: &str = "Anonymised";

impl Member {
    /// (first, last) as the row held them at `t`.
    pub fn name_at(&self, t: Timestamp) -> (String, String) {
        if self.anonymised_at.is_some_and(|a| a <= t) {
            return (ANONYMISED.into(), String::new());
        }
        let last = match &self.renamed {
            Some((l, at)) if *at <= t => l.clone(),
            _ => self.last_name.clone(),
        };
        (self.first_name.clone(), last)
    }
    pub fn merged_by(&self, t: Timestamp) -> Option<i64> {
        self.merged_into.filter(|(_, at)| *at <= t).map(|(m, _)| m)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClassType {
    pub id: i64,
    pub studio_id: i64,
    /// At the incident.
    pub name: String,
    /// The name it had until a rename in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former: Option<(String, Timestamp)>,
    pub created_at: Timestamp,
}

impl ClassType {
    pub fn name_at(&self, t: Timestamp) -> &str {
        match &self.former {
            Some((n, until)) if t < *until => n,
            _ => &self.name,
        }
    }
}

/// A dated session of a class type, on the studio's local wall clock.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Session {
    pub id: i64,
    pub studio_id: i64,
    pub class_type_id: i64,
    pub title_override: Option<String>,
    pub instructor: String,
    /// At the incident.
    pub on_date: NaiveDate,
    pub start_time: NaiveTime,
    /// Rescheduled at this time, from this date and time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<(NaiveDate, NaiveTime, Timestamp)>,
    pub duration_min: i64,
    /// Minor units.
    pub drop_in_price: Option<i64>,
    pub cancelled: Option<(Timestamp, String)>,
    pub created_at: Timestamp,
}

impl Session {
    /// Date and time as the row held them at `t`.
    pub fn when_at(&self, t: Timestamp) -> (NaiveDate, NaiveTime) {
        match self.moved {
            Some((d, tm, at)) if t < at => (d, tm),
            _ => (self.on_date, self.start_time),
        }
    }
    pub fn start_at(&self, t: Timestamp, tz: Tz) -> Timestamp {
        let (d, tm) = self.when_at(t);
        local_to_utc(d.and_time(tm), Some(tz))
    }
    pub fn start(&self, tz: Tz) -> Timestamp {
        local_to_utc(self.on_date.and_time(self.start_time), Some(tz))
    }
    pub fn end(&self, tz: Tz) -> Timestamp {
        self.start(tz) + Duration::minutes(self.duration_min)
    }
    pub fn cancelled_by(&self, t: Timestamp) -> bool {
        self.cancelled.as_ref().is_some_and(|(at, _)| *at <= t)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpotState {
    #[default]
    Reserved,
    Waitlisted,
    Attended,
    Cancelled,
    LateCancel,
    NoShow,
    ClassCancelled,
    Removed,
}

impl SpotState {
    pub fn as_str(self) -> &'static str {
        match self {
            SpotState::Reserved => "reserved",
            SpotState::Waitlisted => "waitlisted",
            SpotState::Attended => "attended",
            SpotState::Cancelled => "cancelled",
            SpotState::LateCancel => "late_cancel",
            SpotState::NoShow => "no_show",
            SpotState::ClassCancelled => "class_cancelled",
            SpotState::Removed => "removed",
        }
    }
    pub const ALL: [SpotState; 8] = [
        SpotState::Reserved,
        SpotState::Waitlisted,
        SpotState::Attended,
        SpotState::Cancelled,
        SpotState::LateCancel,
        SpotState::NoShow,
        SpotState::ClassCancelled,
        SpotState::Removed,
    ];
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidWith {
    #[default]
    DropIn,
    Pass,
    Membership,
    BenefitCard,
    Intro,
    Comp,
    PayAtStudio,
}

impl PaidWith {
    pub fn as_str(self) -> &'static str {
        match self {
            PaidWith::DropIn => "drop_in",
            PaidWith::Pass => "pass",
            PaidWith::Membership => "membership",
            PaidWith::BenefitCard => "benefit_card",
            PaidWith::Intro => "intro",
            PaidWith::Comp => "comp",
            PaidWith::PayAtStudio => "pay_at_studio",
        }
    }
}

/// What happened to a spot at a version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpotEv {
    #[default]
    Booked,
    Waitlisted,
    Promoted,
    Moved,
    Guests,
    Cancelled,
    LateCancel,
    ClassCancelled,
    CheckedIn,
    NoShow,
    Removed,
}

/// A spot row from `at` until the next version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SpotV {
    pub at: Timestamp,
    pub ev: SpotEv,
    pub session_id: i64,
    pub state: SpotState,
    pub paid_with: PaidWith,
    /// `price_gross`, minor units.
    pub price: i64,
    pub guests: i64,
    pub checked_in_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
}

/// A booking (`spots`, later `spots_archive`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Spot {
    /// v4 uuid.
    pub id: String,
    /// The member who booked (a walk-in merged later keeps it here).
    pub member_id: i64,
    pub created_at: Timestamp,
    /// Sorted by `at`; the first at `created_at`.
    pub versions: Vec<SpotV>,
    /// Moved to `spots_archive` at this time.
    pub archived_at: Option<Timestamp>,
    /// The pass it used and the entries left after it (for mail).
    pub pass: Option<(i64, i64)>,
    /// The drop-in purchase that paid for it online (for mail and refunds).
    pub purchase: Option<String>,
}

impl Spot {
    pub fn at(&self, t: Timestamp) -> Option<&SpotV> {
        self.versions.iter().rev().find(|v| v.at <= t)
    }
    /// Archived by `t`?
    pub fn archived_by(&self, t: Timestamp) -> bool {
        self.archived_at.is_some_and(|a| a <= t)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PKind {
    #[default]
    DropIn,
    Pass,
    Membership,
    LateCancelFee,
    NoShowFee,
    Retail,
}

impl PKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PKind::DropIn => "drop_in",
            PKind::Pass => "pass",
            PKind::Membership => "membership",
            PKind::LateCancelFee => "late_cancel_fee",
            PKind::NoShowFee => "no_show_fee",
            PKind::Retail => "retail",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PMethod {
    #[default]
    OnlineCard,
    Terminal,
    Cash,
    BankTransfer,
    CreditBalance,
}

impl PMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PMethod::OnlineCard => "online_card",
            PMethod::Terminal => "terminal",
            PMethod::Cash => "cash",
            PMethod::BankTransfer => "bank_transfer",
            PMethod::CreditBalance => "credit_balance",
        }
    }
}

/// How Stripe saw a purchase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// No Stripe object (cash, bank transfer, credit).
    #[default]
    None,
    /// Era L: a `ch_` from a Stripe.js token, no intent, no customer.
    Legacy,
    /// Era C: a Checkout Session (`cs_`) and its intent.
    Checkout,
    /// A membership invoice (`in_`) of a Billing subscription.
    Invoice,
    /// A card-present intent at the desk (`pi_`).
    Terminal,
    /// An off-session intent on the saved card (fees, `pi_`).
    OffSession,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still awaiting payment.
    #[default]
    Open,
    Paid(Timestamp),
    Expired(Timestamp),
    Void(Timestamp),
    Failed(Timestamp),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ZRefund {
    /// `re_` (none for cash).
    pub id: Option<String>,
    pub at: Timestamp,
    pub amount: i64,
    pub cash: bool,
    /// Made by support in the Stripe Dashboard.
    pub dashboard: bool,
    /// The app has a `purchase_refunds` row (and mailed it).
    pub in_app: bool,
}

/// A declined card attempt before success (or all of them, when none succeeded).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Decline {
    pub charge: String,
    pub at: Timestamp,
    pub code: String,
    pub last4: String,
}

/// A membership invoice's details.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Inv {
    pub membership_id: i64,
    /// `<invoice_prefix>-0007`, numbered per person.
    pub number: String,
    /// Period covered (local dates, inclusive).
    pub period: (NaiveDate, NaiveDate),
    pub first: bool,
}

/// A payment attempt or sale (`purchases`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Purchase {
    /// v4 uuid.
    pub id: String,
    pub studio_id: i64,
    /// `None`: anonymous POS sale.
    pub member_id: Option<i64>,
    pub kind: PKind,
    pub spot: Option<String>,
    pub label: String,
    pub method: PMethod,
    pub channel: Channel,
    pub stripe_object: Option<String>,
    pub amount: i64,
    pub created_at: Timestamp,
    pub outcome: Outcome,
    /// `2025/00421`, set when paid.
    pub doc_no: Option<String>,
    pub refunds: Vec<ZRefund>,
    pub dispute: Option<Dispute>,
    /// Live mode (internal tenants use test mode, but for QA charges).
    pub live: bool,
    /// The intent (Checkout, Invoice, Terminal, fees).
    pub intent: Option<String>,
    /// The successful charge.
    pub charge: Option<String>,
    pub declines: Vec<Decline>,
    pub brand: String,
    pub last4: String,
    /// The person's `cus_` used (none for Era L, walk-ins, Terminal).
    pub customer: Option<String>,
    /// What `member` / `zenda_member_id` holds (`None`: the key is missing).
    pub md_member: Option<String>,
    /// Cash: staff ticked "email receipt".
    pub email_receipt: bool,
    pub invoice: Option<Box<Inv>>,
    /// Fees: the spot the fee is for.
    pub fee_for: Option<String>,
    /// When the Checkout session (or intent) started; `created_at` for most.
    pub started_at: Timestamp,
}

impl Purchase {
    /// The app's `purchases.status` at `t` (`None` before the row existed).
    pub fn status_at(&self, t: Timestamp) -> Option<&'static str> {
        if t < self.created_at {
            return None;
        }
        Some(match self.outcome {
            Outcome::Open => "awaiting_payment",
            Outcome::Expired(at) if at <= t => "expired",
            Outcome::Void(at) if at <= t => "void",
            Outcome::Failed(at) if at <= t => "failed",
            Outcome::Paid(at) if at <= t => {
                if let Some(d) = self.dispute.as_ref().filter(|d| d.at <= t) {
                    return Some(match d.closed {
                        Some((c, won)) if c <= t && c >= dispute_outcome_since() => {
                            if won {
                                "dispute_won"
                            } else {
                                "dispute_lost"
                            }
                        }
                        _ => "in_dispute",
                    });
                }
                let r = self.refunded_at(t);
                if r >= self.amount && self.amount > 0 {
                    "refunded"
                } else if r > 0 {
                    "refunded_partial"
                } else {
                    "paid"
                }
            }
            _ => "awaiting_payment",
        })
    }
    /// `refunded_minor` at `t`: refunds the app knows of.
    pub fn refunded_at(&self, t: Timestamp) -> i64 {
        self.refunds
            .iter()
            .filter(|r| r.in_app && r.at <= t)
            .map(|r| r.amount)
            .sum()
    }
    pub fn paid_at(&self) -> Option<Timestamp> {
        match self.outcome {
            Outcome::Paid(at) => Some(at),
            _ => None,
        }
    }
    /// When the row last changed by `t`.
    pub fn updated_at(&self, t: Timestamp) -> Timestamp {
        let mut u = self.created_at;
        match self.outcome {
            Outcome::Paid(a) | Outcome::Expired(a) | Outcome::Void(a) | Outcome::Failed(a)
                if a <= t =>
            {
                u = u.max(a)
            }
            _ => {}
        }
        for r in self.refunds.iter().filter(|r| r.in_app && r.at <= t) {
            u = u.max(r.at);
        }
        if let Some(d) = &self.dispute {
            if d.at <= t {
                u = u.max(d.at);
            }
            if let Some((c, _)) = d.closed {
                if c <= t && c >= dispute_outcome_since() {
                    u = u.max(c);
                }
            }
        }
        u
    }
    /// The mail `Reference`: the first 8 hex digits of the uuid, upper case.
    pub fn reference(&self) -> String {
        self.id[..8].to_uppercase()
    }
    /// Money moved (the contract's payment), whatever its status.
    pub fn is_payment_method(&self) -> bool {
        self.method != PMethod::CreditBalance
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pass {
    pub id: i64,
    pub studio_id: i64,
    pub member_id: i64,
    pub purchase: String,
    pub entries: i64,
    pub created_at: Timestamp,
    pub valid_until: NaiveDate,
    /// Entries used (+1) and returned (-1), with their times.
    pub uses: Vec<(Timestamp, i64)>,
}

impl Pass {
    pub fn left_at(&self, t: Timestamp) -> i64 {
        self.entries
            - self
                .uses
                .iter()
                .filter(|(at, _)| *at <= t)
                .map(|(_, d)| d)
                .sum::<i64>()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Membership {
    pub id: i64,
    pub studio_id: i64,
    pub member_id: i64,
    /// `sub_` (none for SEPA standing orders).
    pub subscription: Option<String>,
    pub price: i64,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub bank_transfer: bool,
    /// Ended by failed payment (dunning) rather than by the member.
    pub failed: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credit {
    pub id: i64,
    pub studio_id: i64,
    pub member_id: i64,
    /// Signed, minor units.
    pub amount: i64,
    /// `cancelled_in_time`, `class_cancelled`, `used`.
    pub reason: String,
    pub spot: Option<String>,
    pub purchase: Option<String>,
    pub at: Timestamp,
}

/// A declined Era L token charge that left no row (Stripe only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LegacyDecline {
    pub studio_id: i64,
    pub member_id: i64,
    pub charge: String,
    pub at: Timestamp,
    pub amount: i64,
    pub description: String,
    pub spot: Option<String>,
    pub email: String,
    pub code: String,
    pub last4: String,
    pub brand: String,
}

/// Zenda's whole world.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Zenda {
    pub studios: Vec<Studio>,
    /// By id (`people[id - 1]`), as are members, class types and sessions.
    pub people: Vec<Person>,
    pub members: Vec<Member>,
    pub class_types: Vec<ClassType>,
    pub sessions: Vec<Session>,
    pub spots: Vec<Spot>,
    pub purchases: Vec<Purchase>,
    pub passes: Vec<Pass>,
    pub memberships: Vec<Membership>,
    pub credits: Vec<Credit>,
    pub legacy_declines: Vec<LegacyDecline>,
}

impl Zenda {
    pub fn studio(&self, id: i64) -> &Studio {
        &self.studios[(id - 1) as usize]
    }
    pub fn person(&self, id: i64) -> &Person {
        &self.people[(id - 1) as usize]
    }
    pub fn member(&self, id: i64) -> &Member {
        &self.members[(id - 1) as usize]
    }
    pub fn session(&self, id: i64) -> &Session {
        &self.sessions[(id - 1) as usize]
    }
    pub fn class_type(&self, id: i64) -> &ClassType {
        &self.class_types[(id - 1) as usize]
    }
    /// The member that owns a row of `m` at `t` (its merge survivor, once merged).
    pub fn owner_at(&self, m: i64, t: Timestamp) -> i64 {
        let mut id = m;
        for _ in 0..4 {
            match self.member(id).merged_by(t) {
                Some(s) => id = s,
                None => break,
            }
        }
        id
    }
    /// The address mail to member `m` goes to at `t` (the parent's for kids; a walk-in's
    /// as staff typed it), if any.
    pub fn mail_to(&self, m: i64, t: Timestamp) -> Option<String> {
        let mb = self.member(m);
        match mb.person_id {
            Some(p) => {
                let p = self.person(p);
                (!p.erased_by(t)).then(|| p.live_email_at(t))
            }
            None => mb.email.clone().filter(|e| !e.trim().is_empty()),
        }
    }
    /// The session title a mail or a label shows at `t`.
    pub fn title_at(&self, s: &Session, t: Timestamp) -> String {
        s.title_override
            .clone()
            .unwrap_or_else(|| self.class_type(s.class_type_id).name_at(t).to_string())
    }
}

/// Era L's charge description: `Vinyasa Flow 14.04.2022 18:30 – Studio Mantra` for a
/// drop-in (`label` = `Drop-in: Vinyasa Flow, 14.04.2022 18:30`), `Karnet 10 wejść – Studio
/// Mantra` for a pass.
pub fn legacy_description(label: &str, studio_name: &str) -> String {
    let item = match label.strip_prefix("Drop-in: ") {
        Some(rest) => match rest.rsplit_once(", ") {
            Some((title, when)) => format!("{title} {when}"),
            None => rest.to_string(),
        },
        None => label.to_string(),
    };
    format!("{item} – {studio_name}")
}

/// The `app_status`-free projection of a studio as a generic business (for summaries).
pub(crate) fn business_of(s: &Studio) -> super::world::Business {
    super::world::Business {
        id: s.id,
        name: s.name.clone(),
        email: s.contact_email.clone(),
        timezone: s.tz.clone(),
        currency: s.cur(),
        country: s.country.clone(),
        stripe_account: s.stripe_account.clone(),
        created_at: s.created_at,
        slug: s.slug.clone(),
        town: s.town.clone(),
        locale: s.locale.clone(),
        app_status: s.plan.clone(),
        is_demo: s.internal(),
        cancelled_at: s.closed_at,
        former_names: s.former_names.clone(),
        stripe_profile_name: Some(s.legal_name.clone()),
        former_account: s
            .former_account
            .as_ref()
            .map(|(a, _, until)| (a.clone(), *until)),
        ..Default::default()
    }
}

/// The contract's reservation status of a spot at `t` (`None`: not restored).
pub fn spot_status(v: &SpotV, session_end: Timestamp, t: Timestamp) -> Option<&'static str> {
    Some(match v.state {
        SpotState::Reserved if session_end < t => "completed",
        SpotState::Reserved => "confirmed",
        SpotState::Waitlisted if session_end < t => "cancelled",
        SpotState::Waitlisted => "pending",
        SpotState::Attended => "completed",
        SpotState::Cancelled | SpotState::LateCancel | SpotState::ClassCancelled => "cancelled",
        SpotState::NoShow => "no_show",
        SpotState::Removed => return None,
    })
}

/// The contract's payment status of a purchase at `t` (`None`: not a payment).
pub fn purchase_status(p: &Purchase, t: Timestamp) -> Option<&'static str> {
    if !p.is_payment_method() {
        return None;
    }
    Some(match p.status_at(t)? {
        "awaiting_payment" => "pending",
        "expired" | "void" => return None,
        "failed" => "failed",
        "refunded" => "refunded",
        "refunded_partial" => "partially_refunded",
        "in_dispute" | "dispute_lost" => "disputed",
        _ => "succeeded",
    })
}

fn row(id: String, values: Vec<(&str, Value)>, sources: BTreeSet<SourceKind>) -> Row {
    Row {
        id,
        values: values
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        confidence: 1.0,
        sources: sources.into_iter().collect(),
        evidence: None,
        extras: Default::default(),
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn opt(s: Option<String>) -> Value {
    s.map(Value::Text).unwrap_or(Value::Null)
}

/// The zenda world of `w` (every zenda world has one).
pub(crate) fn of(w: &World) -> &Zenda {
    static EMPTY: std::sync::OnceLock<Zenda> = std::sync::OnceLock::new();
    w.zenda
        .as_deref()
        .unwrap_or_else(|| EMPTY.get_or_init(Zenda::default))
}

/// The truth: what the lost database held at the incident, in the contract's terms.
///
/// * businesses: every studio but the internal tenants (closed ones too);
/// * customers: members not merged into another by the incident; an anonymised member is
///   `Anonymised` without email or phone; an app member's email is its person's (a kid's
///   the parent's), a walk-in's the one staff typed (trimmed, lower case);
/// * reservations: spots (live or archived) but `removed` ones, with the session's time at
///   the incident, the status of [`spot_status`], `amount` = `price_gross`, party size
///   1 + guests; a merged walk-in's spots belong to its survivor;
/// * payments: purchases but `expired`, `void` and studio-credit ones; `processor_id` is the
///   row's `stripe_object`.
pub fn truth(w: &World) -> Recovered {
    let z = of(w);
    let t = w.incident_at;
    let backup = w.backup_at;
    let mut rec = Recovered::default();
    let internal: BTreeSet<i64> = z
        .studios
        .iter()
        .filter(|s| s.internal())
        .map(|s| s.id)
        .collect();
    let live_member = |m: &Member| {
        m.created_at <= t && m.merged_by(t).is_none() && !internal.contains(&m.studio_id)
    };
    // Which members and studios were mailed or paid by card (approximate `sources`).
    let mut stripe_members: BTreeSet<i64> = BTreeSet::new();
    let mut stripe_spots: BTreeSet<&str> = BTreeSet::new();
    for p in &z.purchases {
        if p.channel != Channel::None && p.live && p.created_at <= t {
            if let Some(m) = p.member_id {
                stripe_members.insert(z.owner_at(m, t));
            }
            if let Some(s) = &p.spot {
                stripe_spots.insert(s);
            }
            if let Some(s) = &p.fee_for {
                stripe_spots.insert(s);
            }
        }
    }
    for s in &z.studios {
        if s.internal() || s.created_at > t {
            continue;
        }
        let mut src = BTreeSet::new();
        if s.created_at <= backup {
            src.insert(SourceKind::Backup);
        }
        if s.stripe_account.is_some() {
            src.insert(SourceKind::Stripe);
        }
        src.insert(SourceKind::Email);
        rec.businesses.push(row(
            s.id.to_string(),
            vec![
                ("name", text(&s.name)),
                ("email", text(&s.contact_email)),
                ("stripe_account", opt(s.stripe_account.clone())),
            ],
            src,
        ));
    }
    for m in &z.members {
        if !live_member(m) {
            continue;
        }
        let person = m.person_id.map(|p| z.person(p));
        let anonymised = m.anonymised_at.is_some_and(|a| a <= t);
        let (first, last) = m.name_at(t);
        let name = format!("{first} {last}").trim().to_string();
        let email = if anonymised {
            None
        } else {
            match person {
                Some(p) if !p.erased_by(t) => Some(p.live_email_at(t)),
                Some(_) => None,
                None => m.email.clone(),
            }
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
        };
        let phone = if anonymised {
            None
        } else {
            m.phone_e164.clone()
        };
        let cus = person
            .and_then(|p| p.stripe_customer.as_ref())
            .filter(|(_, at)| *at <= t)
            .map(|(c, _)| c.clone());
        let mut src = BTreeSet::new();
        if m.created_at <= backup {
            src.insert(SourceKind::Backup);
        }
        if cus.is_some() || stripe_members.contains(&m.id) {
            src.insert(SourceKind::Stripe);
        }
        if email.is_some() {
            src.insert(SourceKind::Email);
        }
        rec.customers.push(row(
            m.id.to_string(),
            vec![
                ("business_id", text(m.studio_id.to_string())),
                ("name", text(name)),
                ("email", opt(email)),
                ("phone", opt(phone)),
                ("stripe_customer", opt(cus)),
                ("created_at", text(format_utc(m.created_at))),
            ],
            src,
        ));
    }
    let live_customers: BTreeSet<i64> = z
        .members
        .iter()
        .filter(|m| live_member(m))
        .map(|m| m.id)
        .collect();
    let mut live_spots: BTreeSet<&str> = BTreeSet::new();
    for sp in &z.spots {
        let Some(v) = sp.at(t) else { continue };
        let m = z.member(sp.member_id);
        if internal.contains(&m.studio_id) {
            continue;
        }
        let studio = z.studio(m.studio_id);
        let tz = studio.tz();
        let session = z.session(v.session_id);
        let Some(status) = spot_status(v, session.end(tz), t) else {
            continue;
        };
        live_spots.insert(&sp.id);
        let owner = z.owner_at(sp.member_id, t);
        let mut src = BTreeSet::new();
        if sp.created_at <= backup {
            src.insert(SourceKind::Backup);
        }
        if stripe_spots.contains(sp.id.as_str()) {
            src.insert(SourceKind::Stripe);
        }
        if z.mail_to(sp.member_id, sp.created_at).is_some() {
            src.insert(SourceKind::Email);
        }
        rec.reservations.push(row(
            sp.id.clone(),
            vec![
                ("business_id", text(m.studio_id.to_string())),
                (
                    "customer_id",
                    if live_customers.contains(&owner) {
                        text(owner.to_string())
                    } else {
                        Value::Null
                    },
                ),
                ("reference", Value::Null),
                (
                    "service",
                    text(z.class_type(session.class_type_id).name.clone()),
                ),
                ("starts_at", text(format_utc(session.start(tz)))),
                ("ends_at", text(format_utc(session.end(tz)))),
                ("party_size", Value::Int(1 + v.guests)),
                ("status", text(status)),
                ("amount", Value::Int(v.price)),
                ("currency", text(studio.cur())),
                ("created_at", text(format_utc(sp.created_at))),
                ("updated_at", text(format_utc(v.at))),
            ],
            src,
        ));
    }
    for p in &z.purchases {
        if internal.contains(&p.studio_id) {
            continue;
        }
        let Some(status) = purchase_status(p, t) else {
            continue;
        };
        let studio = z.studio(p.studio_id);
        let mut src = BTreeSet::new();
        if p.created_at <= backup {
            src.insert(SourceKind::Backup);
        }
        if p.channel != Channel::None {
            src.insert(SourceKind::Stripe);
        }
        let mailed = p.paid_at().is_some()
            && p.member_id
                .is_some_and(|m| z.mail_to(m, p.created_at).is_some())
            && (p.method != PMethod::Cash || p.email_receipt);
        if mailed {
            src.insert(SourceKind::Email);
        }
        let customer = p
            .member_id
            .map(|m| z.owner_at(m, t))
            .filter(|m| live_customers.contains(m))
            .map(|m| m.to_string());
        let reservation = p
            .spot
            .as_ref()
            .filter(|s| live_spots.contains(s.as_str()))
            .cloned();
        let processor = match p.method {
            PMethod::Cash => "cash",
            PMethod::BankTransfer => "bank_transfer",
            _ => "stripe",
        };
        rec.payments.push(row(
            p.id.clone(),
            vec![
                ("business_id", text(p.studio_id.to_string())),
                ("customer_id", opt(customer)),
                ("reservation_id", opt(reservation)),
                ("processor", text(processor)),
                ("processor_id", opt(p.stripe_object.clone())),
                ("amount", Value::Int(p.amount)),
                ("amount_refunded", Value::Int(p.refunded_at(t))),
                ("currency", text(studio.cur())),
                ("status", text(status)),
                ("created_at", text(format_utc(p.created_at))),
            ],
            src,
        ));
    }
    rec.run_info.insert("incident_at".into(), format_utc(t));
    rec.run_info.insert(
        "generator".into(),
        format!("salvage samples {} seed {}", w.flavour.name(), w.seed),
    );
    rec
}

/// Other identifiers under which the sources show a truth customer: old addresses of its
/// person (mail sent before a change), the Stripe customer's stale address, and the
/// address of a walk-in merged into it.
pub fn aliases(w: &World) -> BTreeMap<i64, Vec<(&'static str, String)>> {
    let z = of(w);
    let t = w.incident_at;
    let mut out: BTreeMap<i64, Vec<(&'static str, String)>> = BTreeMap::new();
    let own_email: HashMap<i64, Option<String>> = z
        .members
        .iter()
        .map(|m| {
            let e = match m.person_id {
                Some(p) => Some(z.person(p).live_email_at(t)),
                None => m.email.clone(),
            };
            (m.id, e.map(|e| e.trim().to_lowercase()))
        })
        .collect();
    for m in &z.members {
        let live = m.created_at <= t
            && m.merged_by(t).is_none()
            && m.anonymised_at.is_none_or(|a| a > t)
            && !z.studio(m.studio_id).internal();
        if !live {
            continue;
        }
        let mut v: Vec<(&'static str, String)> = Vec::new();
        if let Some(p) = m.person_id.map(|p| z.person(p)) {
            for (e, since) in &p.emails {
                if *since <= t {
                    v.push(("email", e.trim().to_lowercase()));
                }
            }
            if let Some(e) = p.stripe_email_at(t) {
                v.push(("email", e.trim().to_lowercase()));
            }
        }
        for d in &z.members {
            if d.merged_by(t) == Some(m.id) {
                if let Some(e) = &d.email {
                    v.push(("email", e.trim().to_lowercase()));
                }
            }
        }
        let own = own_email.get(&m.id).cloned().flatten();
        v.retain(|(_, x)| Some(x) != own.as_ref() && !x.is_empty());
        v.sort();
        v.dedup();
        if !v.is_empty() {
            out.insert(m.id, v);
        }
    }
    out
}

#[cfg(test)]
mod tests;
