//! Identity: which keys name an entity, and which of them a record carries.
//!
//! Most keys are a record field as it stands (`id`, `stripe_account`, `email`,
//! `reference`). A payment is different: Stripe names one payment by several ids — the
//! PaymentIntent (`pi_`) is the payment, its Charges (`ch_`, `py_`) are attempts, a
//! Checkout Session (`cs_`) wraps the PaymentIntent, an Invoice (`in_`) is paid by one (a
//! subscription's monthly payment), the receipt number and the balance
//! transaction belong to the charge — and an app stores whichever it had, in
//! `processor_id` or in several columns. A payment's identity is the set of these ids;
//! any one links. `processor_id` is read by its Stripe prefix; the `attr.payment_intent`,
//! `attr.charge`, `attr.checkout_session`, `attr.invoice`, `attr.receipt_number` and
//! `attr.balance_transaction` fields name the others (any importer may set them).
//!
//! Only the PaymentIntent is exclusive (a payment has one): two charges of one
//! PaymentIntent are one payment, two PaymentIntents never are.

use super::link::KeySpec;
use super::normalize;
use crate::claims::store::LoadedRecord;
use crate::claims::{Entity, Value};

const fn k(field: &'static str, per_business: bool, exclusive: bool) -> KeySpec {
    KeySpec {
        field,
        per_business,
        exclusive,
        lookup_only: false,
    }
}

/// A key that finds but never joins (see [`KeySpec::lookup_only`]).
const fn lookup(field: &'static str, per_business: bool) -> KeySpec {
    KeySpec {
        field,
        per_business,
        exclusive: false,
        lookup_only: true,
    }
}

/// Identity keys per entity, strongest first. A customer's email finds a customer but
/// does not make two records one person (families share one): the linkage engine does. A business's name and email are not among
/// them: several businesses share them, and names change (they place a record only when
/// one business shows them; see `WEAK_BUSINESS_KEYS` in `merge`).
pub fn keys(e: Entity) -> &'static [KeySpec] {
    const BUSINESS: &[KeySpec] = &[k("id", false, true), k("stripe_account", false, true)];
    const CUSTOMER: &[KeySpec] = &[
        k("id", false, true),
        k("stripe_customer", false, false),
        lookup("email", true),
    ];
    const RESERVATION: &[KeySpec] = &[k("id", false, true), k("reference", false, true)];
    const PAYMENT: &[KeySpec] = &[
        k("id", false, true),
        k("payment_intent", false, true),
        k("charge", false, false),
        k("checkout_session", false, false),
        k("invoice", false, false),
        k("receipt_number", false, false),
        k("balance_transaction", false, false),
        // An id of another processor (or of a Stripe object we do not know): as exclusive
        // as the id it is.
        k("processor_id", false, true),
    ];
    match e {
        Entity::Business => BUSINESS,
        Entity::Customer => CUSTOMER,
        Entity::Reservation => RESERVATION,
        Entity::Payment => PAYMENT,
    }
}

/// The kind of Stripe object an id names, from its prefix (Stripe's own convention).
pub fn stripe_kind(id: &str) -> Option<&'static str> {
    let (prefix, rest) = id.split_once('_')?;
    if rest.is_empty() {
        return None;
    }
    Some(match prefix {
        "pi" => "payment_intent",
        "ch" | "py" => "charge",
        "cs" => "checkout_session",
        "in" => "invoice",
        "txn" => "balance_transaction",
        _ => return None,
    })
}

/// A key value as compared (emails and names case-folded, receipt numbers without `#`).
pub fn key_value(field: &str, v: &Value) -> Option<String> {
    let s = v.render()?;
    let s = match field {
        "email" => normalize::email(&s),
        "name" => normalize::name_key(&s),
        "receipt_number" => s.trim().trim_start_matches('#').trim().to_string(),
        _ => s.trim().to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// The value of identity key `spec` that record `rec` of entity `e` carries.
pub fn key_of(e: Entity, spec: &KeySpec, rec: &LoadedRecord) -> Option<String> {
    if e != Entity::Payment || spec.field == "id" {
        return rec.get(spec.field).and_then(|v| key_value(spec.field, v));
    }
    let processor_id = rec
        .get("processor_id")
        .and_then(|v| key_value("processor_id", v));
    let by_prefix = processor_id
        .as_deref()
        .filter(|p| stripe_kind(p) == Some(spec.field));
    match spec.field {
        "processor_id" => processor_id.filter(|p| stripe_kind(p).is_none()),
        f => rec
            .get(&format!("attr.{f}"))
            .and_then(|v| key_value(f, v))
            .or_else(|| by_prefix.map(str::to_string)),
    }
}

/// Every identity key a record carries: (index into [`keys`], value).
pub fn keys_of(e: Entity, rec: &LoadedRecord) -> Vec<(usize, String)> {
    keys(e)
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| key_of(e, spec, rec).map(|v| (i, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Record;

    fn payment(fields: &[(&str, &str)]) -> LoadedRecord {
        let mut r = Record::new(Entity::Payment, "t", None);
        for (f, v) in fields {
            r.set(*f, *v);
        }
        r.into()
    }

    fn named(rec: &LoadedRecord) -> Vec<(&'static str, String)> {
        keys_of(Entity::Payment, rec)
            .into_iter()
            .map(|(i, v)| (keys(Entity::Payment)[i].field, v))
            .collect()
    }

    #[test]
    fn processor_id_is_read_by_its_stripe_prefix() {
        let pi = payment(&[("processor_id", "pi_1")]);
        assert_eq!(named(&pi), [("payment_intent", "pi_1".to_string())]);
        let cs = payment(&[("processor_id", "cs_live_9")]);
        let inv = payment(&[("processor_id", "in_1")]);
        assert_eq!(named(&inv), [("invoice", "in_1".to_string())]);
        assert_eq!(named(&cs), [("checkout_session", "cs_live_9".to_string())]);
        let ch = payment(&[("processor_id", "ch_1"), ("attr.payment_intent", "pi_1")]);
        assert_eq!(
            named(&ch),
            [
                ("payment_intent", "pi_1".to_string()),
                ("charge", "ch_1".to_string())
            ]
        );
        // Another processor's id is an exclusive key of its own.
        let sq = payment(&[
            ("processor_id", "sq_77"),
            ("attr.receipt_number", "#1234-5678"),
        ]);
        assert_eq!(
            named(&sq),
            [
                ("receipt_number", "1234-5678".to_string()),
                ("processor_id", "sq_77".to_string())
            ]
        );
    }
}
