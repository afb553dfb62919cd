//! Stripe API objects (untyped `serde_json::Value`, every field kept) to records.
//!
//! Which object it is comes from its `object` field. What its metadata and description mean
//! comes from the [`Mapping`]. Nothing here knows a sample app.

use super::mapping::{Holds, Mapping, StripeId, Unsuccessful};
use crate::claims::{Entity, Record, Skip};
use crate::util::time;
use serde_json::{Map, Value as Json};

/// Where an object was found and what applies to it.
pub struct Place<'a> {
    /// The connected account (`acct_...`) the object lives on; `None` = the platform.
    pub account: Option<&'a str>,
    /// `file` or `file:line`, for skips.
    pub location: &'a str,
    /// Appended to the source ref (`@evt_...` for an object seen inside an event).
    pub ref_suffix: &'a str,
    /// When the source saw this state.
    pub observed_at: &'a str,
}

/// A refund or dispute, kept until the end of the import: folded into its charge when the
/// charge was imported, else emitted as a payment record of its own.
#[derive(Debug, Clone)]
pub struct Fold {
    pub account: Option<String>,
    pub charge: String,
    pub object_id: String,
    pub kind: FoldKind,
    pub amount: i64,
    pub currency: Option<String>,
    pub payment_intent: Option<String>,
    pub observed_at: String,
    /// A dispute's status (`won`, `lost`, `needs_response`, ...).
    pub status: Option<String>,
}

impl Fold {
    /// A dispute closed in the business's favour: the money stayed.
    pub fn dispute_won(&self) -> bool {
        self.kind == FoldKind::Dispute
            && matches!(self.status.as_deref(), Some("won" | "warning_closed"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    Refund,
    Dispute,
}

/// What one file gave.
#[derive(Debug, Default)]
pub struct FileOut {
    pub records: Vec<Record>,
    pub skips: Vec<Skip>,
    pub folds: Vec<Fold>,
    /// `(account, charge id)` of every charge turned into a record.
    pub charges: Vec<(Option<String>, String)>,
    /// Charges the app did not make (`platform_charges_only`): an export row of one is
    /// not a payment either.
    pub not_the_apps: Vec<String>,
    /// The file is a Dashboard CSV export (its rows wait for the API objects' verdicts).
    pub from_csv: bool,
    /// Objects read but deliberately not turned into records (kind, count).
    pub ignored: Vec<&'static str>,
    pub bytes: u64,
}

impl FileOut {
    pub fn skip(&mut self, location: &str, kind: &str, reason: impl Into<String>) {
        self.skips.push(Skip {
            location: location.to_string(),
            kind: kind.to_string(),
            reason: reason.into(),
        });
    }
}

/// The largest amount of a refund or dispute read (minor units): Stripe's amounts have at
/// most 12 digits, so the refunds of one charge summed stay far from `i64::MAX`.
pub const MAX_AMOUNT: i64 = 999_999_999_999;

fn s<'a>(o: &'a Map<String, Json>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Json::as_str).filter(|v| !v.is_empty())
}

fn i(o: &Map<String, Json>, k: &str) -> Option<i64> {
    o.get(k).and_then(Json::as_i64)
}

fn b(o: &Map<String, Json>, k: &str) -> bool {
    o.get(k).and_then(Json::as_bool).unwrap_or(false)
}

/// An id field that may be a string or an expanded object.
fn id_of<'a>(o: &'a Map<String, Json>, k: &str) -> Option<&'a str> {
    match o.get(k)? {
        Json::String(v) if !v.is_empty() => Some(v),
        Json::Object(m) => s(m, "id"),
        _ => None,
    }
}

fn obj<'a>(o: &'a Map<String, Json>, k: &str) -> Option<&'a Map<String, Json>> {
    o.get(k).and_then(Json::as_object)
}

fn created(o: &Map<String, Json>) -> Option<String> {
    i(o, "created").and_then(time::from_unix)
}

/// Metadata value getter (Stripe metadata values are strings; numbers tolerated).
fn meta_get<'a>(md: Option<&'a Map<String, Json>>) -> impl Fn(&str) -> Option<&'a str> + Copy {
    move |k| md.and_then(|m| m.get(k)).and_then(Json::as_str)
}

fn source_ref(account: Option<&str>, id: &str, suffix: &str) -> String {
    format!("stripe:{}/{id}{suffix}", account.unwrap_or("platform"))
}

/// The account a platform object belongs to, for destination charges
/// (`transfer_data.destination`, else `on_behalf_of`).
fn destination_account(o: &Map<String, Json>) -> Option<&str> {
    obj(o, "transfer_data")
        .and_then(|t| id_of(t, "destination"))
        .or_else(|| id_of(o, "on_behalf_of"))
        .filter(|a| a.starts_with("acct_"))
}

/// Whether the app made this charge or PaymentIntent (see `platform_charges_only`); when
/// not, it is counted as skipped input.
fn the_apps(
    m: &Mapping,
    place: &Place<'_>,
    o: &Map<String, Json>,
    kind: &str,
    out: &mut FileOut,
) -> bool {
    if !m.platform_charges_only || o.get("application").is_some_and(|a| !a.is_null()) {
        return true;
    }
    out.skip(
        place.location,
        "not_created_by_the_app",
        format!(
            "{kind} {} has no `application`: the business made it itself (its own Dashboard), and the app keeps no row for it ([payments] platform_charges_only)",
            s(o, "id").unwrap_or("?")
        ),
    );
    false
}

/// Converts one object; `out` collects records, skips and folds.
pub fn convert(m: &Mapping, place: &Place<'_>, value: &Json, out: &mut FileOut) {
    let Some(o) = value.as_object() else {
        out.skip(
            place.location,
            "bad_object",
            "a JSON value that is not an object",
        );
        return;
    };
    let kind = s(o, "object").unwrap_or("");
    match kind {
        "list" | "search_result" => match o.get("data").and_then(Json::as_array) {
            Some(items) => {
                for it in items {
                    convert(m, place, it, out);
                }
            }
            None => out.skip(
                place.location,
                "bad_object",
                "a list without a `data` array",
            ),
        },
        "event" => event(m, place, o, out),
        "account" => account(m, place, o, out),
        "customer" => customer(m, place, o, out),
        "charge" => charge(m, place, o, out),
        "payment_intent" => payment_intent(m, place, o, out),
        "refund" | "dispute" => fold(place, o, kind, out),
        "checkout.session" => checkout(m, place, o, out),
        "invoice" => invoice(m, place, o, out),
        "invoice_payment" => invoice_payment(place, o, out),
        "" => out.skip(
            place.location,
            "bad_object",
            "a JSON object without an `object` field: not a Stripe object or list page",
        ),
        _ => out.ignored.push("other_object"),
    }
}

fn event(m: &Mapping, place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let Some(inner) = obj(o, "data").and_then(|d| d.get("object")) else {
        out.skip(place.location, "bad_object", "an event without data.object");
        return;
    };
    let evt = s(o, "id").unwrap_or("evt");
    let suffix = format!("{}@{evt}", place.ref_suffix);
    let observed = created(o).unwrap_or_else(|| place.observed_at.to_string());
    let p = Place {
        account: s(o, "account").or(place.account),
        location: place.location,
        ref_suffix: &suffix,
        observed_at: &observed,
    };
    // Only objects with an id are useful; an event's data.object can be a stub.
    if inner.get("id").and_then(Json::as_str).is_some() {
        convert(m, &p, inner, out);
    } else {
        out.ignored.push("event_without_object");
    }
}

fn account(m: &Mapping, place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let Some(id) = s(o, "id") else {
        out.skip(place.location, "bad_object", "an account without id");
        return;
    };
    let mut r = Record::new(
        Entity::Business,
        source_ref(None, id, place.ref_suffix),
        Some(place.observed_at.to_string()),
    );
    let md = obj(o, "metadata");
    r.set("id", m.lookup(Holds::BusinessId, &meta_get(md)));
    let profile = obj(o, "business_profile");
    let dash = obj(o, "settings").and_then(|st| obj(st, "dashboard"));
    r.set(
        "name",
        profile
            .and_then(|p| s(p, "name"))
            .or_else(|| dash.and_then(|d| s(d, "display_name"))),
    );
    r.set(
        "email",
        s(o, "email").or_else(|| profile.and_then(|p| s(p, "support_email"))),
    );
    r.set("stripe_account", id);
    // Stripe's default for an account that never chose one is Etc/UTC: no evidence of
    // where the business is, so it is not offered as the business's zone.
    r.set(
        "attr.timezone",
        dash.and_then(|d| s(d, "timezone"))
            .filter(|z| !matches!(*z, "Etc/UTC" | "UTC" | "Etc/GMT")),
    );
    r.set("attr.country", s(o, "country"));
    r.set("attr.currency", s(o, "default_currency"));
    if b(o, "deleted") {
        r.set("deleted", 1i64);
    }
    out.records.push(r);
}

fn customer(m: &Mapping, place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let Some(id) = s(o, "id") else {
        out.skip(place.location, "bad_object", "a customer without id");
        return;
    };
    let mut r = Record::new(
        Entity::Customer,
        source_ref(place.account, id, place.ref_suffix),
        Some(place.observed_at.to_string()),
    );
    let md = obj(o, "metadata");
    r.set("id", m.lookup(Holds::CustomerId, &meta_get(md)));
    r.set("business_id", m.lookup(Holds::BusinessId, &meta_get(md)));
    r.set("business.stripe_account", place.account);
    r.set("stripe_customer", id);
    r.set("name", s(o, "name"));
    r.set("email", s(o, "email"));
    r.set("phone", s(o, "phone"));
    r.set("created_at", created(o));
    if b(o, "deleted") {
        r.set("deleted", 1i64);
    }
    out.records.push(r);
}

/// Sets the reservation, customer, business and payment links a metadata map (and the
/// description) give.
pub fn links<'a>(
    m: &Mapping,
    r: &mut Record,
    md: &dyn Fn(&str) -> Option<&'a str>,
    description: Option<&str>,
) {
    let mut res_id = m.lookup(Holds::ReservationId, md);
    let mut res_ref = m.lookup(Holds::ReservationReference, md);
    if res_id.is_none() && res_ref.is_none() {
        if let Some((h, code)) = description.and_then(|d| m.from_description(d)) {
            match h {
                Holds::ReservationId => res_id = Some(code),
                _ => res_ref = Some(code),
            }
        }
    }
    r.set("reservation_id", res_id);
    r.set("reservation.reference", res_ref);
    r.set("customer_id", m.lookup(Holds::CustomerId, md));
    r.set("business_id", m.lookup(Holds::BusinessId, md));
}

/// Contract status of a charge: the base word from its Stripe status, refined by disputes
/// and refunds when it succeeded.
pub fn charge_status(
    m: &Mapping,
    status: Option<&str>,
    amount: i64,
    refunded: i64,
    fully_refunded: bool,
    disputed: bool,
) -> Option<String> {
    let base = m.charge_status.get(status?)?;
    Some(refine(base, amount, refunded, fully_refunded, disputed))
}

/// A "succeeded" payment refined by its dispute and refunds; other words stay.
pub fn refine(
    base: &str,
    amount: i64,
    refunded: i64,
    fully_refunded: bool,
    disputed: bool,
) -> String {
    if base != "succeeded" {
        return base.to_string();
    }
    if disputed {
        "disputed"
    } else if fully_refunded || (amount > 0 && refunded >= amount) {
        "refunded"
    } else if refunded > 0 {
        "partially_refunded"
    } else {
        "succeeded"
    }
    .to_string()
}

fn charge(m: &Mapping, place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let Some(id) = s(o, "id") else {
        out.skip(place.location, "bad_object", "a charge without id");
        return;
    };
    let Some(amount) = i(o, "amount") else {
        out.skip(
            place.location,
            "bad_object",
            format!("charge {id} has no integer amount"),
        );
        return;
    };
    if !the_apps(m, place, o, "charge", out) {
        // Its refunds and disputes go with it (they are not a payment of their own).
        out.charges
            .push((place.account.map(str::to_string), id.to_string()));
        out.not_the_apps.push(id.to_string());
        return;
    }
    let account = place.account.or_else(|| destination_account(o));
    let observed = Some(place.observed_at.to_string());
    let mut r = Record::new(
        Entity::Payment,
        source_ref(place.account, id, place.ref_suffix),
        observed.clone(),
    );
    let refunded = i(o, "amount_refunded").unwrap_or(0);
    let currency = s(o, "currency").map(str::to_ascii_lowercase);
    let status = s(o, "status");
    let pi = id_of(o, "payment_intent");
    if m.charge_status
        .get(status.unwrap_or(""))
        .map(String::as_str)
        == Some("failed")
        && m.unsuccessful == Unsuccessful::None
    {
        out.skip(
            place.location,
            "unsuccessful_payment",
            format!(
                "charge {id} failed{}: the app keeps only payments where money moved ([payments] unsuccessful = \"none\")",
                pi.map(|p| format!(" (an attempt of {p})")).unwrap_or_default()
            ),
        );
        return;
    }
    r.set("processor", "stripe");
    r.set("processor_id", m.charge_processor_id(id, pi));
    r.set("attr.charge", id);
    r.set("attr.balance_transaction", id_of(o, "balance_transaction"));
    r.set("amount", amount);
    r.set("amount_refunded", refunded);
    r.set("currency", currency.clone());
    let st = charge_status(
        m,
        status,
        amount,
        refunded,
        b(o, "refunded"),
        b(o, "disputed"),
    );
    if st.is_none() {
        out.skip(
            place.location,
            "unknown_status",
            format!(
                "charge {id}: status {:?} is not in the mapping's [charge_status]; imported without a status",
                status.unwrap_or("")
            ),
        );
    }
    r.set("status", st);
    r.set("created_at", created(o));
    r.set("business.stripe_account", account);
    let md = obj(o, "metadata");
    let get = meta_get(md);
    let description = s(o, "description");
    links(m, &mut r, &get, description);
    r.set("id", m.lookup(Holds::PaymentId, &get));
    let cus = id_of(o, "customer");
    r.set("customer.stripe_customer", cus);
    let email =
        s(o, "receipt_email").or_else(|| obj(o, "billing_details").and_then(|bd| s(bd, "email")));
    if cus.is_none() && r.get("customer_id").is_none() {
        r.set("customer.email", email);
    }
    r.set("attr.receipt_email", email);
    r.set("attr.payment_intent", pi);
    r.set("attr.receipt_number", s(o, "receipt_number"));
    r.set(
        "attr.card_last4",
        obj(o, "payment_method_details")
            .and_then(|p| obj(p, "card"))
            .and_then(|c| s(c, "last4")),
    );
    out.records.push(r);
    out.charges
        .push((place.account.map(str::to_string), id.to_string()));

    // A reservation the charge names: Stripe saw it even when the backup did not.
    if let Some(rr) = reservation_of(&out.records[out.records.len() - 1]) {
        out.records.push(rr);
    }
    // Refunds embedded in the charge are already in amount_refunded.
}

/// A PaymentIntent is the payment; its charges are attempts. One that has a charge gives
/// the payment's keys and the app's metadata (often set on the intent, not the charge);
/// the charge gives the money. One that never succeeded is a row only if the app keeps
/// such rows (`[payments] unsuccessful`).
fn payment_intent(m: &Mapping, place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let Some(id) = s(o, "id") else {
        out.skip(place.location, "bad_object", "a payment intent without id");
        return;
    };
    if !the_apps(m, place, o, "payment intent", out) {
        return;
    }
    let status = s(o, "status").unwrap_or("");
    let charge = id_of(o, "latest_charge");
    let succeeded = status == "succeeded";
    let keep = match (succeeded, charge.is_some(), m.unsuccessful) {
        (true, _, _) | (_, _, Unsuccessful::Intents) => true,
        // A failed attempt is the charge's row; the intent adds its keys.
        (false, true, Unsuccessful::Attempts) => true,
        _ => false,
    };
    if !keep {
        let kind = if charge.is_some() {
            "unsuccessful_payment"
        } else {
            "payment_intent_without_charge"
        };
        out.skip(
            place.location,
            kind,
            format!(
                "payment intent {id} ({}) never succeeded{}: not a payment of the app ([payments] unsuccessful)",
                if status.is_empty() { "no status" } else { status },
                if charge.is_none() { " and has no charge" } else { "" }
            ),
        );
        return;
    }
    let mut r = Record::new(
        Entity::Payment,
        source_ref(place.account, id, place.ref_suffix),
        Some(place.observed_at.to_string()),
    );
    r.set("processor", "stripe");
    if m.stores(StripeId::PaymentIntent) {
        r.set("processor_id", id);
    }
    r.set("attr.payment_intent", id);
    r.set("attr.charge", charge);
    r.set(
        "business.stripe_account",
        place.account.or_else(|| destination_account(o)),
    );
    let md = obj(o, "metadata");
    let get = meta_get(md);
    links(m, &mut r, &get, s(o, "description"));
    r.set("id", m.lookup(Holds::PaymentId, &get));
    r.set("customer.stripe_customer", id_of(o, "customer"));
    if charge.is_none() {
        // No charge to say what happened: the intent is all there is.
        r.set("amount", i(o, "amount"));
        r.set("currency", s(o, "currency").map(str::to_ascii_lowercase));
        r.set("created_at", created(o));
        r.set(
            "status",
            match status {
                "requires_payment_method" | "canceled" => "failed",
                _ => "pending",
            },
        );
    }
    out.records.push(r);
    if let Some(rr) = reservation_of(&out.records[out.records.len() - 1]) {
        out.records.push(rr);
    }
}

fn fold(place: &Place<'_>, o: &Map<String, Json>, kind: &str, out: &mut FileOut) {
    let (Some(id), Some(charge)) = (s(o, "id"), id_of(o, "charge")) else {
        out.skip(
            place.location,
            "bad_object",
            format!("a {kind} without id or charge"),
        );
        return;
    };
    // Stripe amounts are non-negative and at most 12 digits; anything else is not money,
    // and summing a charge's refunds must not overflow.
    let amount = i(o, "amount").unwrap_or(0);
    if !(0..=MAX_AMOUNT).contains(&amount) {
        out.skip(
            place.location,
            "bad_object",
            format!("{kind} {id}: amount {amount} is not an amount Stripe can hold (0 to {MAX_AMOUNT} minor units)"),
        );
        return;
    }
    let fk = if kind == "refund" {
        // Only money that went back counts.
        if matches!(s(o, "status"), Some("failed" | "canceled")) {
            out.ignored.push("failed_refund");
            return;
        }
        FoldKind::Refund
    } else {
        FoldKind::Dispute
    };
    out.folds.push(Fold {
        account: place.account.map(str::to_string),
        charge: charge.to_string(),
        object_id: id.to_string(),
        kind: fk,
        amount,
        currency: s(o, "currency").map(str::to_ascii_lowercase),
        payment_intent: id_of(o, "payment_intent").map(str::to_string),
        observed_at: place.observed_at.to_string(),
        status: s(o, "status").map(str::to_string),
    });
}

fn checkout(m: &Mapping, place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let Some(id) = s(o, "id") else {
        out.skip(
            place.location,
            "bad_object",
            "a checkout session without id",
        );
        return;
    };
    checkout_payment(m, place, o, id, out);
    let details = obj(o, "customer_details");
    let email = details
        .and_then(|d| s(d, "email"))
        .or_else(|| s(o, "customer_email"));
    let cus = id_of(o, "customer");
    if email.is_none() && cus.is_none() {
        out.ignored.push("anonymous_checkout_session");
        return;
    }
    let md = obj(o, "metadata");
    let mut r = Record::new(
        Entity::Customer,
        source_ref(place.account, id, place.ref_suffix),
        Some(place.observed_at.to_string()),
    );
    r.set("id", m.lookup(Holds::CustomerId, &meta_get(md)));
    r.set("business_id", m.lookup(Holds::BusinessId, &meta_get(md)));
    match (m.client_reference_id, s(o, "client_reference_id")) {
        (Some(Holds::CustomerId), Some(cr)) if r.get("id").is_none() => {
            r.set("id", cr);
        }
        (Some(Holds::BusinessId), Some(cr)) if r.get("business_id").is_none() => {
            r.set("business_id", cr);
        }
        _ => {}
    }
    r.set(
        "business.stripe_account",
        place.account.or_else(|| destination_account(o)),
    );
    r.set("stripe_customer", cus);
    r.set("name", details.and_then(|d| s(d, "name")));
    r.set("email", email);
    r.set("phone", details.and_then(|d| s(d, "phone")));
    out.records.push(r);
    // The reservation the session paid for, when the mapping says what
    // client_reference_id holds (a customer or business id goes on the customer above;
    // a payment id on the payment, in checkout_payment).
    if let (Some(h), Some(cr)) = (m.client_reference_id, s(o, "client_reference_id")) {
        let field = match h {
            Holds::ReservationId => "id",
            Holds::ReservationReference => "reference",
            Holds::CustomerId | Holds::BusinessId | Holds::PaymentId => return,
        };
        let mut rr = Record::new(
            Entity::Reservation,
            format!(
                "{}#reservation",
                source_ref(place.account, id, place.ref_suffix)
            ),
            Some(place.observed_at.to_string()),
        );
        rr.set(field, cr);
        rr.set("business.stripe_account", place.account);
        rr.set("customer.stripe_customer", cus);
        out.records.push(rr);
    }
}

/// A Stripe payment as seen through an object that wraps it (a Checkout Session, an
/// Invoice): `<object ref>#payment`.
fn wrapped_payment(place: &Place<'_>, id: &str) -> Record {
    let mut r = Record::new(
        Entity::Payment,
        format!(
            "{}#payment",
            source_ref(place.account, id, place.ref_suffix)
        ),
        Some(place.observed_at.to_string()),
    );
    r.set("processor", "stripe");
    r
}

/// The payment a Checkout Session wraps: its session id, its PaymentIntent and the
/// reservation `client_reference_id` names. The charge gives the money; a session that
/// was never paid (expired, open) is no payment.
fn checkout_payment(
    m: &Mapping,
    place: &Place<'_>,
    o: &Map<String, Json>,
    id: &str,
    out: &mut FileOut,
) {
    let pi = id_of(o, "payment_intent");
    if s(o, "payment_status") != Some("paid") {
        out.skip(
            place.location,
            "unpaid_checkout_session",
            format!(
                "checkout session {id} ({}) was not paid: no payment",
                s(o, "status").unwrap_or("no status")
            ),
        );
        return;
    }
    let mut r = wrapped_payment(place, id);
    if m.stores(StripeId::CheckoutSession) {
        r.set("processor_id", id);
    } else if m.stores(StripeId::PaymentIntent) {
        r.set("processor_id", pi);
    }
    r.set("attr.checkout_session", id);
    r.set("attr.payment_intent", pi);
    r.set(
        "business.stripe_account",
        place.account.or_else(|| destination_account(o)),
    );
    if pi.is_none() {
        r.set("amount", i(o, "amount_total"));
        r.set("currency", s(o, "currency").map(str::to_ascii_lowercase));
        r.set("created_at", created(o));
    }
    let md = obj(o, "metadata");
    let get = meta_get(md);
    links(m, &mut r, &get, None);
    r.set("id", m.lookup(Holds::PaymentId, &get));
    // What client_reference_id holds, where the metadata did not say it already.
    if let (Some(h), Some(cr)) = (m.client_reference_id, s(o, "client_reference_id")) {
        let field = match h {
            Holds::ReservationId => "reservation_id",
            Holds::ReservationReference => "reservation.reference",
            Holds::PaymentId => "id",
            Holds::CustomerId => "customer_id",
            Holds::BusinessId => "business_id",
        };
        if r.get(field).is_none() {
            r.set(field, cr);
        }
    }
    r.set("customer.stripe_customer", id_of(o, "customer"));
    out.records.push(r);
}

/// A paid invoice (a subscription's period, a one-off bill) is one payment: its id, the
/// PaymentIntent or charge that paid it where the object says (API versions before
/// 2025-03), the app's metadata (on the invoice, or on the subscription it bills). The
/// money comes from the PaymentIntent; an invoice with none known keeps its own.
fn invoice(m: &Mapping, place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let Some(id) = s(o, "id") else {
        out.skip(place.location, "bad_object", "an invoice without id");
        return;
    };
    if s(o, "status") != Some("paid") || i(o, "amount_paid").unwrap_or(0) <= 0 {
        out.skip(
            place.location,
            "unpaid_invoice",
            format!(
                "invoice {id} ({}) moved no money: no payment",
                s(o, "status").unwrap_or("no status")
            ),
        );
        return;
    }
    let mut r = wrapped_payment(place, id);
    r.set("attr.invoice", id);
    let pi = id_of(o, "payment_intent");
    r.set("attr.payment_intent", pi);
    r.set("attr.charge", id_of(o, "charge"));
    r.set(
        "business.stripe_account",
        place.account.or_else(|| destination_account(o)),
    );
    if pi.is_none() && id_of(o, "charge").is_none() {
        r.set("amount", i(o, "amount_paid"));
        r.set("currency", s(o, "currency").map(str::to_ascii_lowercase));
        r.set("created_at", created(o));
    }
    // The app's keys sit on the invoice, or on the subscription it bills (copied into
    // parent.subscription_details.metadata, or subscription_details.metadata before).
    let own = obj(o, "metadata").filter(|md| !md.is_empty());
    let sub = obj(o, "parent")
        .and_then(|p| obj(p, "subscription_details"))
        .or_else(|| obj(o, "subscription_details"))
        .and_then(|d| obj(d, "metadata"));
    let get = meta_get(own.or(sub));
    links(m, &mut r, &get, None);
    r.set("customer.stripe_customer", id_of(o, "customer"));
    out.records.push(r);
}

/// An invoice payment (API 2025-03 and later) says which PaymentIntent or charge paid
/// which invoice: the link between the two ids, no money of its own.
fn invoice_payment(place: &Place<'_>, o: &Map<String, Json>, out: &mut FileOut) {
    let (Some(id), Some(inv)) = (s(o, "id"), id_of(o, "invoice")) else {
        out.skip(
            place.location,
            "bad_object",
            "an invoice payment without id or invoice",
        );
        return;
    };
    if s(o, "status") != Some("paid") {
        out.ignored.push("unpaid_invoice_payment");
        return;
    }
    let pay = obj(o, "payment");
    let pi = pay.and_then(|p| id_of(p, "payment_intent"));
    let ch = pay.and_then(|p| id_of(p, "charge"));
    if pi.is_none() && ch.is_none() {
        out.ignored.push("invoice_payment_out_of_band");
        return;
    }
    let mut r = Record::new(
        Entity::Payment,
        source_ref(place.account, id, place.ref_suffix),
        Some(place.observed_at.to_string()),
    );
    r.set("processor", "stripe");
    r.set("attr.invoice", inv);
    r.set("attr.payment_intent", pi);
    r.set("attr.charge", ch);
    r.set("business.stripe_account", place.account);
    out.records.push(r);
}

/// The reservation a payment record names (by app id or booking code), as a record of its
/// own (`<payment source ref>#reservation`) carrying the payment's business and customer
/// links: a reservation made after the backup is still seen through its payment.
pub fn reservation_of(payment: &Record) -> Option<Record> {
    let id = payment.get("reservation_id").cloned();
    let reference = payment.get("reservation.reference").cloned();
    if id.is_none() && reference.is_none() {
        return None;
    }
    let mut rr = Record::new(
        Entity::Reservation,
        format!("{}#reservation", payment.source_ref),
        payment.observed_at.clone(),
    );
    rr.set("id", id);
    rr.set("reference", reference);
    for f in ["business_id", "business.stripe_account", "customer_id"] {
        rr.set(f, payment.get(f).cloned());
    }
    if payment.get("customer_id").is_none() {
        rr.set(
            "customer.stripe_customer",
            payment.get("customer.stripe_customer").cloned(),
        );
    }
    Some(rr)
}
