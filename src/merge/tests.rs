use super::*;
use crate::claims::{Record, SourceKind};

fn rec(kind: SourceKind, e: Entity, r: &str, at: &str, fields: &[(&str, Value)]) -> StoredRecord {
    let mut record = Record::new(e, r, Some(at.to_string()));
    for (f, v) in fields {
        record.set(*f, v.clone());
    }
    StoredRecord::new(kind.as_str(), kind, record)
}
fn t(s: &str) -> Value {
    Value::text(s)
}

fn incident() -> Vec<StoredRecord> {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-08-22T03:00:00Z";
    let s = "2026-11-20T14:30:00Z";
    vec![
        rec(
            Backup,
            Business,
            "backup:shops#1",
            b,
            &[
                ("id", t("1")),
                ("name", t("Lumen")),
                ("stripe_account", t("acct_1")),
                ("attr.country", t("US")),
                ("attr.currency", t("usd")),
            ],
        ),
        rec(
            Stripe,
            Business,
            "stripe:acct_1",
            s,
            &[("stripe_account", t("acct_1")), ("name", t("Lumen Studio"))],
        ),
        rec(
            Backup,
            Customer,
            "backup:clients#7",
            b,
            &[
                ("id", t("7")),
                ("business_id", t("1")),
                ("name", t("José Müller")),
                ("email", t("jose@x.org")),
                ("phone", t("(415) 555-0134")),
                ("stripe_customer", t("cus_A")),
            ],
        ),
        // Stripe: the real customer (case differs) and a duplicate object with the same email.
        rec(
            Stripe,
            Customer,
            "stripe:acct_1/cus_A",
            s,
            &[
                ("business.stripe_account", t("acct_1")),
                ("stripe_customer", t("cus_A")),
                ("email", t("Jose@X.org")),
                ("name", t("Jose Muller")),
            ],
        ),
        rec(
            Stripe,
            Customer,
            "stripe:acct_1/cus_B",
            s,
            &[
                ("business.stripe_account", t("acct_1")),
                ("stripe_customer", t("cus_B")),
                ("email", t("JOSE@x.org")),
            ],
        ),
        // A family member sharing the email but with another app id stays apart.
        rec(
            Backup,
            Customer,
            "backup:clients#8",
            b,
            &[
                ("id", t("8")),
                ("business_id", t("1")),
                ("name", t("Ana Müller")),
                ("email", t("jose@x.org")),
            ],
        ),
        rec(
            Backup,
            Reservation,
            "backup:appointments#100",
            b,
            &[
                ("id", t("100")),
                ("business_id", t("1")),
                ("customer_id", t("7")),
                ("reference", t("BK-1")),
                ("status", t("confirmed")),
                ("starts_at", t("2026-09-10T10:00:00Z")),
                ("ends_at", t("2026-09-10T11:00:00Z")),
                ("amount", Value::Int(4500)),
            ],
        ),
        rec(
            Email,
            Reservation,
            "email:<c1@x>",
            "2026-09-01T10:00:00Z",
            &[
                ("reference", t("BK-1")),
                ("status", t("cancelled")),
                ("customer.email", t("jose@x.org")),
                ("business.stripe_account", t("acct_1")),
            ],
        ),
        // A booking made after the backup, seen only in an email.
        rec(
            Email,
            Reservation,
            "email:<c2@x>",
            "2026-10-01T10:00:00Z",
            &[
                ("reference", t("BK-2")),
                ("status", t("confirmed")),
                ("starts_at", t("2026-10-05T10:00:00Z")),
                ("ends_at", t("2026-10-05T11:00:00Z")),
                ("customer.email", t("JOSE@x.org")),
                ("business.stripe_account", t("acct_1")),
            ],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/ch_1",
            s,
            &[
                ("processor", t("stripe")),
                ("processor_id", t("ch_1")),
                ("amount", Value::Int(4500)),
                ("amount_refunded", Value::Int(4500)),
                ("currency", t("usd")),
                ("status", t("refunded")),
                ("business.stripe_account", t("acct_1")),
                ("customer.stripe_customer", t("cus_A")),
                ("reservation.reference", t("BK-1")),
                ("attr.receipt_number", t("1111-2222")),
            ],
        ),
        rec(
            Email,
            Payment,
            "email:<r1@x>",
            "2026-08-01T10:00:00Z",
            &[
                ("amount", Value::Int(4500)),
                ("currency", t("usd")),
                ("status", t("succeeded")),
                ("attr.receipt_number", t("1111-2222")),
                ("business.stripe_account", t("acct_1")),
            ],
        ),
        rec(
            Backup,
            Payment,
            "backup:charges#5",
            b,
            &[
                ("id", t("5")),
                ("business_id", t("1")),
                ("processor", t("cash")),
                ("amount", Value::Int(2000)),
                ("currency", t("usd")),
                ("status", t("succeeded")),
                ("reservation_id", t("100")),
            ],
        ),
    ]
}

fn settings() -> Settings {
    Settings {
        incident_at: "2026-11-20T14:30:00Z".into(),
        rules: Rules {
            completed_hours_after_end: Some(4),
            pending_expires_after_hours: None,
        },
        customer_linkage: crate::linkage::Settings::people(),
        decisions: Vec::new(),
    }
}

#[test]
fn links_replays_and_keeps_provenance() {
    let out = merge(&incident(), &settings());
    assert_eq!(out.businesses.len(), 1);
    let b = &out.businesses[0];
    assert_eq!(b.id, "1");
    assert_eq!(b.text("name"), Some("Lumen"), "backup wins a business name");
    assert_eq!(b.sources_text(), "backup,stripe");

    // Customer 7 absorbs its Stripe object; customer 8 (same email) stays apart; the
    // Stripe object that shows only the shared email fits both equally: it joins
    // neither and is reviewed.
    let ids: Vec<&str> = out.customers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        3,
        "{ids:?} {:?}",
        out.run_info.get("linkage.customer")
    );
    assert_eq!(&ids[..2], ["7", "8"]);
    assert!(out
        .review
        .iter()
        .any(|r| r.reason == "ambiguous_customer" && r.row_id == ids[2]));
    let c7 = &out.customers[0];
    assert_eq!(c7.text("email"), Some("jose@x.org"));
    assert_eq!(c7.text("phone"), Some("+14155550134"));
    assert_eq!(c7.text("stripe_customer"), Some("cus_A"));
    assert_eq!(c7.text("name"), Some("José Müller"));

    let r100 = out.reservations.iter().find(|r| r.id == "100").unwrap();
    assert_eq!(
        r100.text("status"),
        Some("cancelled"),
        "the later email replays"
    );
    assert_eq!(r100.text("currency"), Some("usd"));
    let r2 = out
        .reservations
        .iter()
        .find(|r| r.text("reference") == Some("BK-2"))
        .unwrap();
    assert!(r2.id.starts_with("rec_"));
    assert_eq!(
        r2.text("status"),
        Some("completed"),
        "slot ended: the app's rule"
    );
    assert_eq!(r2.sources_text(), "email");
    assert!(r2.confidence < r100.confidence);

    // The Stripe charge and its receipt email are one payment; the cash payment stays.
    assert_eq!(out.payments.len(), 2);
    let ch = out
        .payments
        .iter()
        .find(|p| p.text("processor_id") == Some("ch_1"))
        .unwrap();
    assert_eq!(ch.sources_text(), "email,stripe");
    assert_eq!(ch.text("status"), Some("refunded"));
    assert_eq!(ch.text("reservation_id"), Some("100"));
    assert_eq!(ch.text("customer_id"), Some("7"));
    let cash = out.payments.iter().find(|p| p.id == "5").unwrap();
    assert_eq!(cash.text("processor"), Some("cash"));

    // Every offered value is in provenance, the chosen one marked.
    let status: Vec<_> = out
        .provenance
        .iter()
        .filter(|p| p.row_id == "100" && p.column == "status")
        .collect();
    assert_eq!(status.len(), 2);
    assert!(status
        .iter()
        .any(|p| p.chosen && p.value == Some("cancelled")));
    assert!(status
        .iter()
        .any(|p| !p.chosen && p.value == Some("confirmed")));
}

#[test]
fn same_records_same_result_in_any_order() {
    let a = merge(&incident(), &settings());
    let mut shuffled = incident();
    shuffled.reverse();
    let b = merge(&shuffled, &settings());
    assert_eq!(a.businesses, b.businesses);
    assert_eq!(a.customers, b.customers);
    assert_eq!(a.payments, b.payments);
    assert_eq!(
        a.reservations.iter().map(|r| &r.id).collect::<Vec<_>>(),
        b.reservations.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
}

#[test]
fn a_record_naming_two_keys_joins_them() {
    use Entity::*;
    use SourceKind::*;
    let s = "2026-11-20T14:30:00Z";
    // An account without the app's id in its metadata, and charges on it that carry
    // the id; plus a second business known only by an id and a third only by an account.
    let recs = vec![
        rec(
            Stripe,
            Business,
            "stripe:acct_9",
            s,
            &[("stripe_account", t("acct_9")), ("name", t("Vela"))],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_9/ch_1",
            s,
            &[
                ("processor_id", t("ch_1")),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("business_id", t("9")),
                ("business.stripe_account", t("acct_9")),
            ],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_9/ch_2",
            s,
            &[
                ("processor_id", t("ch_2")),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("business_id", t("9")),
                ("business.stripe_account", t("acct_9")),
            ],
        ),
        rec(
            Backup,
            Payment,
            "backup:charges#3",
            s,
            &[
                ("id", t("3")),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("business_id", t("11")),
            ],
        ),
        rec(
            Email,
            Payment,
            "email:<r@x>",
            s,
            &[
                ("attr.receipt_number", t("1-2")),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("business.stripe_account", t("acct_12")),
            ],
        ),
        rec(
            Email,
            Payment,
            "email:<s@x>",
            s,
            &[
                ("attr.receipt_number", t("1-3")),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("business.stripe_account", t("acct_13")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    let ids: Vec<&str> = out.businesses.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(out.businesses.len(), 4, "{ids:?}");
    let vela = out
        .businesses
        .iter()
        .find(|b| b.id == "9")
        .expect("id learnt from charges");
    assert_eq!(vela.text("stripe_account"), Some("acct_9"));
    assert_eq!(vela.text("name"), Some("Vela"));
    // Businesses only referred to keep the key they were named by, and distinct ids.
    let a12 = out
        .businesses
        .iter()
        .find(|b| b.text("stripe_account") == Some("acct_12"))
        .unwrap();
    let a13 = out
        .businesses
        .iter()
        .find(|b| b.text("stripe_account") == Some("acct_13"))
        .unwrap();
    assert_ne!(a12.id, a13.id);
    assert_eq!(a12.sources_text(), "email");
    assert!(out.businesses.iter().any(|b| b.id == "11"));
    let mut seen = std::collections::HashSet::new();
    assert!(out.businesses.iter().all(|b| seen.insert(b.id.clone())));
}

fn biz(id: &str, name: &str) -> StoredRecord {
    rec(
        SourceKind::Backup,
        Entity::Business,
        &format!("backup:shops#{id}"),
        "2026-01-24T03:00:00Z",
        &[
            ("id", t(id)),
            ("name", t(name)),
            ("attr.currency", t("EUR")),
        ],
    )
}

#[test]
fn a_payment_is_its_payment_intent_and_failed_attempts_are_facts_on_it() {
    use Entity::*;
    use SourceKind::*;
    let s = "2026-04-25T10:00:00Z";
    let recs = vec![
        biz("1", "Reef"),
        // The app stored the PaymentIntent; Stripe has a declined charge and the retry.
        rec(
            Backup,
            Payment,
            "backup:payments#7",
            "2026-01-24T03:00:00Z",
            &[
                ("id", t("7")),
                ("business_id", t("1")),
                ("processor_id", t("pi_1")),
                ("amount", Value::Int(5000)),
                ("currency", t("EUR")),
                ("status", t("succeeded")),
            ],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/ch_fail",
            s,
            &[
                ("processor_id", t("pi_1")),
                ("attr.charge", t("ch_fail")),
                ("attr.payment_intent", t("pi_1")),
                ("amount", Value::Int(5000)),
                ("currency", t("eur")),
                ("status", t("failed")),
                ("created_at", t("2024-09-02T10:00:00Z")),
            ],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/ch_ok",
            s,
            &[
                ("processor_id", t("pi_1")),
                ("attr.charge", t("ch_ok")),
                ("attr.payment_intent", t("pi_1")),
                ("attr.receipt_number", t("1834-2210")),
                ("amount", Value::Int(5000)),
                ("amount_refunded", Value::Int(2000)),
                ("currency", t("eur")),
                ("status", t("partially_refunded")),
                ("created_at", t("2024-09-02T10:05:00Z")),
            ],
        ),
        // Its receipt mail shows only the receipt number, and joins by it.
        rec(
            Email,
            Payment,
            "email:<paid.1@x>",
            "2024-09-02T10:06:00Z",
            &[
                ("attr.receipt_number", t("#1834-2210")),
                ("amount", Value::Int(5000)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
                ("business_id", t("1")),
            ],
        ),
        // A legacy charge with no PaymentIntent is a payment of its own.
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/ch_legacy",
            s,
            &[
                ("processor_id", t("ch_legacy")),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
                ("business_id", t("1")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    assert_eq!(out.payments.len(), 2, "{:?}", out.payments);
    let p = out.payments.iter().find(|p| p.id == "7").unwrap();
    assert_eq!(
        p.text("processor_id"),
        Some("pi_1"),
        "the id the app stored"
    );
    assert_eq!(p.text("status"), Some("partially_refunded"));
    assert_eq!(p.get("amount_refunded"), Some(&Value::Int(2000)));
    assert_eq!(p.text("currency"), Some("eur"));
    assert_eq!(p.text("created_at"), Some("2024-09-02T10:05:00Z"));
    assert_eq!(p.sources_text(), "backup,email,stripe");
    // The failed attempt's status is in provenance, not chosen.
    assert!(out.provenance.iter().any(|x| x.row_id == "7"
        && x.column == "status"
        && x.value == Some("failed")
        && !x.chosen
        && x.source_ref == "stripe:acct_1/ch_fail"));
    assert!(!out.review.iter().any(|r| r.reason == "conflict:status"));
    let legacy = out.payments.iter().find(|p| p.id != "7").unwrap();
    assert_eq!(legacy.text("processor_id"), Some("ch_legacy"));
}

#[test]
fn a_checkout_payment_keeps_its_session_id_and_others_their_intent() {
    use Entity::*;
    use SourceKind::*;
    let s = "2026-04-25T10:00:00Z";
    let charge = |pi: &str, ch: &str| {
        rec(
            Stripe,
            Payment,
            &format!("stripe:acct_1/{ch}"),
            s,
            &[
                ("processor_id", t(pi)),
                ("attr.charge", t(ch)),
                ("amount", Value::Int(900)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
                ("business_id", t("1")),
            ],
        )
    };
    let recs = vec![
        biz("1", "Reef"),
        charge("pi_a", "ch_a"),
        charge("pi_b", "ch_b"),
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/cs_a#payment",
            s,
            &[
                ("processor_id", t("cs_a")),
                ("attr.payment_intent", t("pi_a")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    let mut ids: Vec<&str> = out
        .payments
        .iter()
        .filter_map(|p| p.text("processor_id"))
        .collect();
    ids.sort();
    assert_eq!(ids, ["cs_a", "pi_b"]);
}

#[test]
fn a_booking_named_by_id_in_one_place_and_by_code_in_another_is_one() {
    use Entity::*;
    use SourceKind::*;
    let s = "2026-04-25T10:00:00Z";
    let recs = vec![
        biz("1", "Reef"),
        // The charge's metadata names booking 52 by id; its receipt mail by code.
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/ch_1",
            s,
            &[
                ("processor_id", t("pi_1")),
                ("attr.receipt_number", t("1111-2222")),
                ("amount", Value::Int(900)),
                ("currency", t("eur")),
                ("business_id", t("1")),
                ("reservation_id", t("52")),
            ],
        ),
        rec(
            Stripe,
            Reservation,
            "stripe:acct_1/ch_1#reservation",
            s,
            &[("id", t("52")), ("business_id", t("1"))],
        ),
        rec(
            Email,
            Payment,
            "email:<paid@x>",
            s,
            &[
                ("attr.receipt_number", t("1111-2222")),
                ("reservation.reference", t("KL24-7QX4M")),
                ("business_id", t("1")),
            ],
        ),
        rec(
            Email,
            Reservation,
            "email:<confirm@x>",
            s,
            &[
                ("reference", t("KL24-7QX4M")),
                ("status", t("confirmed")),
                ("starts_at", t("2026-05-01T08:30:00Z")),
                ("business_id", t("1")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    assert_eq!(out.reservations.len(), 1, "{:?}", out.reservations);
    let r = &out.reservations[0];
    assert_eq!(r.id, "52");
    assert_eq!(r.text("reference"), Some("KL24-7QX4M"));
    assert_eq!(out.payments[0].text("reservation_id"), Some("52"));
}

#[test]
fn a_shared_business_name_is_not_an_identity() {
    use Entity::*;
    use SourceKind::*;
    let m = "2026-03-01T10:00:00Z";
    let mail_res = |r: &str, code: &str, email: &str| {
        rec(
            Email,
            Reservation,
            r,
            m,
            &[
                ("reference", t(code)),
                ("status", t("confirmed")),
                ("business.name", t("Blue Hole Divers")),
                ("customer.email", t(email)),
            ],
        )
    };
    let recs = vec![
        biz("1", "Blue Hole Divers"),
        biz("2", "Blue Hole Divers"),
        biz("3", "Kings Dive Dahab"),
        rec(
            Backup,
            Customer,
            "backup:customers#9",
            "2026-01-24T03:00:00Z",
            &[
                ("id", t("9")),
                ("business_id", t("2")),
                ("email", t("anna@x.org")),
            ],
        ),
        // The mail's own business record, named by the shared name only.
        rec(
            Email,
            Business,
            "email:<a@x>#business",
            m,
            &[("name", t("Blue Hole Divers"))],
        ),
        // Placed where its customer is known; the other cannot be placed.
        mail_res("email:<a@x>", "KL-1", "Anna@x.org"),
        mail_res("email:<b@x>", "KL-2", "bob@y.org"),
        // A name only one business shows is enough.
        rec(
            Email,
            Reservation,
            "email:<c@x>",
            m,
            &[
                ("reference", t("KL-3")),
                ("status", t("confirmed")),
                ("business.name", t("Kings Dive Dahab")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    assert_eq!(out.businesses.len(), 3, "no business from a shared name");
    let placed: Vec<(&str, &str)> = out
        .reservations
        .iter()
        .map(|r| (r.text("reference").unwrap(), r.text("business_id").unwrap()))
        .collect();
    assert!(placed.contains(&("KL-1", "2")), "{placed:?}");
    assert!(placed.contains(&("KL-3", "3")), "{placed:?}");
    assert!(!placed.iter().any(|(c, _)| *c == "KL-2"), "{placed:?}");
    assert!(out.review.iter().any(|r| r.reason == "ambiguous_business"));
    assert!(out.review.iter().any(|r| r.reason == "unlinked_record"));
}

#[test]
fn a_deleted_business_takes_its_rows_and_a_merged_customer_follows_its_survivor() {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-01-24T03:00:00Z";
    let mut demo = biz("9", "Demo Dive Co");
    let mut r = Record::new(Business, "backup:shops#9", Some(b.into()));
    for (f, v) in demo.record.fields.iter() {
        r.set(f.to_string(), v.clone());
    }
    r.set("deleted", Value::Int(1));
    demo = StoredRecord::new("backup", Backup, r);
    let recs = vec![
        biz("1", "Reef"),
        demo,
        rec(
            Backup,
            Customer,
            "backup:customers#90",
            b,
            &[("id", t("90")), ("business_id", t("9"))],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_9/ch_9",
            b,
            &[
                ("processor_id", t("pi_9")),
                ("amount", Value::Int(100)),
                ("currency", t("eur")),
                ("business_id", t("9")),
                ("customer_id", t("90")),
            ],
        ),
        rec(
            Backup,
            Customer,
            "backup:customers#5",
            b,
            &[
                ("id", t("5")),
                ("business_id", t("1")),
                ("email", t("ann@x.org")),
            ],
        ),
        rec(
            Backup,
            Customer,
            "backup:customers#6",
            b,
            &[
                ("id", t("6")),
                ("business_id", t("1")),
                ("email", t("ann@gmial.com")),
                ("merged_into", t("5")),
                ("deleted", Value::Int(1)),
            ],
        ),
        rec(
            Backup,
            Payment,
            "backup:payments#3",
            b,
            &[
                ("id", t("3")),
                ("business_id", t("1")),
                ("customer_id", t("6")),
                ("processor_id", t("pi_3")),
                ("amount", Value::Int(100)),
                ("currency", t("EUR")),
                ("status", t("succeeded")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    let ids = |rows: &[Row]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&out.businesses), ["1"]);
    assert_eq!(ids(&out.customers), ["5"]);
    assert_eq!(ids(&out.payments), ["3"]);
    assert_eq!(
        out.payments[0].text("customer_id"),
        Some("5"),
        "follows the survivor"
    );
    // Nothing exported names a row that is not exported.
    let biz_ids = ids(&out.businesses);
    for e in [Customer, Reservation, Payment] {
        for r in out.rows(e) {
            assert!(biz_ids.contains(&r.text("business_id").unwrap().to_string()));
        }
    }
    let gone: Vec<&str> = out
        .review
        .iter()
        .filter(|r| r.reason == "deleted_parent:business_id")
        .map(|r| r.row_id.as_str())
        .collect();
    assert_eq!(
        gone.len(),
        2,
        "the demo shop's customer and payment: {gone:?}"
    );
}

#[test]
fn values_the_contract_cannot_hold_go_to_review() {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-01-24T03:00:00Z";
    let pay = |id: &str, cur: &str, amount: i64, status: &str| {
        rec(
            Backup,
            Payment,
            &format!("backup:payments#{id}"),
            b,
            &[
                ("id", t(id)),
                ("business_id", t("1")),
                ("amount", Value::Int(amount)),
                ("currency", t(cur)),
                ("status", t(status)),
                ("processor", t("cash")),
            ],
        )
    };
    let recs = vec![
        biz("1", "Reef"),
        pay("1", " USD ", 100, "succeeded"),
        pay("2", "XQZ", 100, "succeeded"),
        pay("3", "eur", -5, "succeeded"),
        pay("4", "eur", 100, "captured"),
    ];
    let out = merge(&recs, &settings());
    let p1 = out.payments.iter().find(|p| p.id == "1").unwrap();
    assert_eq!(p1.text("currency"), Some("usd"));
    let reasons: Vec<(&str, &str)> = out
        .review
        .iter()
        .map(|r| (r.row_id.as_str(), r.reason.as_str()))
        .collect();
    assert!(reasons.contains(&("2", "invalid:currency")), "{reasons:?}");
    assert!(reasons.contains(&("3", "invalid:amount")), "{reasons:?}");
    assert!(reasons.contains(&("4", "invalid:status")), "{reasons:?}");
    // No unchecked value reaches the table: the ones without a valid amount or
    // currency stay out; the bad status is replaced by the default and reviewed.
    assert!(!out.payments.iter().any(|p| p.id == "2" || p.id == "3"));
    for p in &out.payments {
        assert!(Entity::Payment
            .statuses()
            .contains(&p.text("status").unwrap()));
    }
}

#[test]
fn a_receipt_without_a_receipt_number_joins_its_charge() {
    use Entity::*;
    use SourceKind::*;
    let s = "2026-04-25T10:00:00Z";
    let charge = |ch: &str, code: &str, at: &str| {
        rec(
            Stripe,
            Payment,
            &format!("stripe:acct_1/{ch}"),
            s,
            &[
                ("processor_id", t(&ch.replace("ch_", "pi_"))),
                ("amount", Value::Int(5000)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
                ("created_at", t(at)),
                ("business_id", t("1")),
                ("reservation.reference", t(code)),
            ],
        )
    };
    let mail = |r: &str, code: &str, at: &str| {
        rec(
            Email,
            Payment,
            r,
            at,
            &[
                ("amount", Value::Int(5000)),
                ("currency", t("eur")),
                ("created_at", t(at)),
                ("business_id", t("1")),
                ("reservation.reference", t(code)),
            ],
        )
    };
    let recs = vec![
        biz("1", "Reef"),
        charge("ch_a", "KL-A", "2026-03-02T10:00:00Z"),
        charge("ch_b", "KL-B", "2026-03-02T11:00:00Z"),
        // Same amount, same day: the booking code tells which.
        mail("email:<paid.a@x>", "KL-A", "2026-03-02T10:01:00Z"),
        // A cash payment only the mail knows stays a payment of its own.
        mail("email:<paid.c@x>", "KL-C", "2026-03-09T10:01:00Z"),
        // A declined attempt on its own PaymentIntent, same booking, amount and day:
        // the receipt is not about it.
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/pi_declined",
            s,
            &[
                ("processor_id", t("pi_declined")),
                ("amount", Value::Int(5000)),
                ("currency", t("eur")),
                ("status", t("failed")),
                ("created_at", t("2026-03-02T09:58:00Z")),
                ("business_id", t("1")),
                ("reservation.reference", t("KL-A")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    assert_eq!(out.payments.len(), 4, "{:?}", out.payments);
    let a = out
        .payments
        .iter()
        .find(|p| p.text("processor_id") == Some("pi_a"))
        .unwrap();
    assert_eq!(a.sources_text(), "email,stripe");
}

#[test]
fn the_id_the_app_stored_wins_and_a_cash_mail_joins_its_row() {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-01-24T03:00:00Z";
    let s = "2026-04-25T10:00:00Z";
    let recs = vec![
        biz("1", "Reef"),
        // The app keeps a Checkout payment's session id in a column of its own.
        rec(
            Backup,
            Payment,
            "backup:payments#8",
            b,
            &[
                ("id", t("8")),
                ("business_id", t("1")),
                ("attr.checkout_session", t("cs_b")),
                ("amount", Value::Int(900)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
            ],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/cs_b#payment",
            s,
            &[
                ("attr.checkout_session", t("cs_b")),
                ("attr.payment_intent", t("pi_b")),
            ],
        ),
        rec(
            Stripe,
            Payment,
            "stripe:acct_1/ch_b",
            s,
            &[
                ("processor_id", t("pi_b")),
                ("amount", Value::Int(900)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
            ],
        ),
        // A payment taken on site, and the app's mail about it.
        rec(
            Backup,
            Payment,
            "backup:payments#9",
            b,
            &[
                ("id", t("9")),
                ("business_id", t("1")),
                ("processor", t("cash")),
                ("amount", Value::Int(4000)),
                ("currency", t("eur")),
                ("status", t("succeeded")),
                ("created_at", t("2025-12-01T10:00:00Z")),
                ("reservation_id", t("52")),
            ],
        ),
        rec(
            Email,
            Payment,
            "email:<paid.9@x>",
            "2025-12-01T10:02:00Z",
            &[
                ("processor", t("cash")),
                ("amount", Value::Int(4000)),
                ("currency", t("eur")),
                ("created_at", t("2025-12-01T10:02:00Z")),
                ("business_id", t("1")),
                ("reservation.reference", t("KL-52")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    let ids: Vec<(&str, Option<&str>)> = out
        .payments
        .iter()
        .map(|p| (p.id.as_str(), p.text("processor_id")))
        .collect();
    assert_eq!(ids, [("8", Some("cs_b")), ("9", None)]);
    assert_eq!(out.payments[1].sources_text(), "backup,email");
}

#[test]
fn an_earlier_stripe_account_of_a_business_is_that_business() {
    use Entity::*;
    use SourceKind::*;
    let s = "2026-04-25T10:00:00Z";
    let charge = |ch: &str, fields: &[(&str, Value)]| {
        let mut f = vec![
            ("processor_id", t(&ch.replace("ch_", "pi_"))),
            ("amount", Value::Int(100)),
            ("currency", t("eur")),
            ("status", t("succeeded")),
            ("business.stripe_account", t("acct_old")),
        ];
        f.extend(fields.iter().cloned());
        rec(Stripe, Payment, &format!("stripe:acct_old/{ch}"), s, &f)
    };
    let mut b = biz("1", "Reef");
    let mut r = Record::new(Business, "backup:shops#1", None);
    for (f, v) in b.record.fields.iter() {
        r.set(f.to_string(), v.clone());
    }
    r.set("stripe_account", "acct_new");
    b = StoredRecord::new("backup", Backup, r);
    let recs = vec![
        b,
        rec(
            Stripe,
            Business,
            "stripe:acct_old",
            s,
            &[("stripe_account", t("acct_old")), ("name", t("Reef"))],
        ),
        charge("ch_1", &[("business_id", t("1"))]),
        charge("ch_2", &[]),
    ];
    let out = merge(&recs, &settings());
    assert_eq!(out.businesses.len(), 1, "{:?}", out.businesses);
    assert_eq!(out.businesses[0].text("stripe_account"), Some("acct_new"));
    assert_eq!(out.payments.len(), 2);
    assert!(out
        .payments
        .iter()
        .all(|p| p.text("business_id") == Some("1")));
    assert!(out
        .review
        .iter()
        .any(|r| r.reason == "earlier_stripe_account"));

    // Older charges name only the booking code: its booking's business is the owner.
    let mut recs = recs;
    recs.truncate(2);
    recs.push(rec(
        Backup,
        Reservation,
        "backup:bookings#5",
        s,
        &[
            ("id", t("5")),
            ("business_id", t("1")),
            ("reference", t("KL-5")),
            ("status", t("completed")),
        ],
    ));
    recs.push(charge("ch_3", &[("reservation.reference", t("KL-5"))]));
    let out = merge(&recs, &settings());
    assert_eq!(out.businesses.len(), 1, "{:?}", out.businesses);
    assert_eq!(out.payments[0].text("business_id"), Some("1"));
    assert_eq!(out.payments[0].text("reservation_id"), Some("5"));
}

#[test]
fn a_shared_business_email_is_not_an_identity_either() {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-01-24T03:00:00Z";
    let shop = |id: &str, name: &str| {
        rec(
            Backup,
            Business,
            &format!("backup:shops#{id}"),
            b,
            &[
                ("id", t(id)),
                ("name", t(name)),
                ("email", t("rentals@chain.example")),
            ],
        )
    };
    let recs = vec![
        shop("1", "E-Ride Rentals"),
        shop("2", "Wheelhouse Lagos"),
        rec(
            Email,
            Reservation,
            "email:<r@x>",
            b,
            &[
                ("reference", t("PD-1")),
                ("status", t("confirmed")),
                ("business.email", t("rentals@chain.example")),
                ("business.name", t("Wheelhouse Lagos")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    assert_eq!(out.businesses.len(), 2);
    assert_eq!(out.reservations[0].text("business_id"), Some("2"));
}

#[test]
fn amount_disagreement_goes_to_review() {
    let mut recs = incident();
    recs.push(rec(
        SourceKind::Backup,
        Entity::Payment,
        "backup:charges#6",
        "2026-08-22T03:00:00Z",
        &[
            ("id", t("6")),
            ("business_id", t("1")),
            ("processor_id", t("ch_1")),
            ("amount", Value::Int(5000)),
            ("currency", t("usd")),
        ],
    ));
    let out = merge(&recs, &settings());
    let p = out.payments.iter().find(|p| p.id == "6").unwrap();
    assert_eq!(
        p.get("amount"),
        Some(&Value::Int(4500)),
        "Stripe is trusted for amounts"
    );
    assert!(out
        .review
        .iter()
        .any(|r| r.row_id == "6" && r.reason == "conflict:amount"));
}

#[test]
fn a_stripe_customer_is_the_app_customer_whose_booking_it_paid() {
    use Entity::*;
    use SourceKind::*;
    let s = "2026-11-20T14:30:00Z";
    let mut records = incident();
    // José came back under a new address: a second Stripe customer on the platform (no
    // business, no app id), whose charge paid booking BK-1 (customer 7's).
    records.push(rec(
        Stripe,
        Customer,
        "stripe:platform/cus_NEW",
        s,
        &[
            ("stripe_customer", t("cus_NEW")),
            ("email", t("jose.muller@newmail.example")),
            ("name", t("Jose Muller")),
        ],
    ));
    records.push(rec(
        Stripe,
        Payment,
        "stripe:acct_1/ch_9",
        s,
        &[
            ("processor_id", t("ch_9")),
            ("amount", Value::Int(1000)),
            ("currency", t("usd")),
            ("status", t("succeeded")),
            ("business.stripe_account", t("acct_1")),
            ("customer.stripe_customer", t("cus_NEW")),
            ("reservation.reference", t("BK-1")),
        ],
    ));
    let out = merge(&records, &settings());
    assert!(
        out.customers
            .iter()
            .all(|c| c.text("stripe_customer") != Some("cus_NEW") || c.id == "7"),
        "cus_NEW is customer 7: {:?}",
        out.customers
            .iter()
            .map(|c| (&c.id, c.text("stripe_customer")))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        out.run_info
            .get("linkage.customer.through_bookings")
            .map(String::as_str),
        Some("1")
    );
}

/// With no rule to close bookings, a booking whose slot ended after the backup takes the
/// state the backup shows such bookings end in, and says so in provenance and run_info.
#[test]
fn a_past_booking_takes_the_apps_closing_habit_from_the_backup() {
    use Entity::*;
    use SourceKind::*;
    let snap = "2026-08-22T03:00:00Z";
    let mut recs = vec![rec(
        Backup,
        Business,
        "backup:shops#1",
        snap,
        &[("id", t("1")), ("name", t("Lumen"))],
    )];
    for i in 0..30 {
        let status = if i < 27 { "completed" } else { "confirmed" };
        recs.push(rec(
            Backup,
            Reservation,
            &format!("backup:bookings#{i}"),
            snap,
            &[
                ("id", t(&i.to_string())),
                ("business_id", t("1")),
                ("starts_at", t("2026-07-01T10:00:00Z")),
                ("ends_at", t("2026-07-01T11:00:00Z")),
                ("status", t(status)),
            ],
        ));
    }
    // After the backup, only a confirmation mail: the slot ended weeks before the incident.
    recs.push(rec(
        Email,
        Reservation,
        "email:<new@x>",
        "2026-10-01T09:00:00Z",
        &[
            ("id", t("99")),
            ("business_id", t("1")),
            ("starts_at", t("2026-10-20T10:00:00Z")),
            ("ends_at", t("2026-10-20T11:00:00Z")),
            ("status", t("confirmed")),
        ],
    ));
    let mut s = settings();
    s.rules.completed_hours_after_end = None;
    let out = merge(&recs, &s);
    let r = out.reservations.iter().find(|r| r.id == "99").unwrap();
    assert_eq!(r.text("status"), Some("completed"));
    assert!(
        r.evidence
            .as_deref()
            .unwrap()
            .contains("status_inferred:p9"),
        "{r:?}"
    );
    assert!(out.provenance.iter().any(|p| p.row_id == "99"
        && p.column == "status"
        && p.chosen
        && p.source_ref
            .starts_with("derived:closure_habit(backup: past bookings 14+ days")));
    // A booking the backup saw still open seven weeks after its slot is one the app
    // leaves open: it stays confirmed.
    let open = out.reservations.iter().find(|r| r.id == "28").unwrap();
    assert_eq!(open.text("status"), Some("confirmed"));
    assert!(open
        .evidence
        .as_deref()
        .unwrap()
        .contains("slot_ended_unclosed:p9"));
    assert!(out.run_info["replay.closure_habit"].contains("\"completed\":"));
}

/// A Stripe customer that names an app id the backup gives another business (metadata
/// written wrong for a while) does not join that business's customer: its email and
/// Stripe id stay off the row, and run_info counts the dropped id.
#[test]
fn an_app_id_claimed_from_another_business_is_not_that_customer() {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-08-22T03:00:00Z";
    let s = "2026-11-20T14:30:00Z";
    let shop = |id: &str, acct: &str| {
        rec(
            Backup,
            Business,
            &format!("backup:shops#{id}"),
            b,
            &[
                ("id", t(id)),
                ("name", t(&format!("Shop {id}"))),
                ("stripe_account", t(acct)),
            ],
        )
    };
    let recs = vec![
        shop("1", "acct_1"),
        shop("2", "acct_2"),
        rec(
            Backup,
            Customer,
            "backup:members#7",
            b,
            &[
                ("id", t("7")),
                ("business_id", t("1")),
                ("name", t("Joanna Nowak")),
            ],
        ),
        rec(
            Stripe,
            Customer,
            "stripe:acct_2/cus_L",
            s,
            &[
                ("id", t("7")),
                ("business.stripe_account", t("acct_2")),
                ("name", t("Lucie Sedláčková")),
                ("email", t("lucie@x.cz")),
                ("stripe_customer", t("cus_L")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    let joanna = out.customers.iter().find(|c| c.id == "7").unwrap();
    assert_eq!(joanna.text("business_id"), Some("1"));
    assert_eq!(joanna.text("email"), None, "{joanna:?}");
    assert!(out
        .customers
        .iter()
        .any(|c| c.text("email") == Some("lucie@x.cz") && c.text("business_id") == Some("2")));
    assert_eq!(out.run_info["linkage.customer.foreign_ids_dropped"], "1");
}

#[test]
fn review_items_of_rows_not_exported_say_so() {
    let mut out = Recovered::default();
    out.payments.push(Row {
        id: "p1".into(),
        values: BTreeMap::new(),
        confidence: 0.9,
        sources: vec![],
        evidence: None,
        extras: BTreeMap::new(),
    });
    for (id, reason) in [("p1", "low_confidence"), ("p2", "missing_amount")] {
        out.review.push(ReviewItem {
            entity: Entity::Payment,
            row_id: id.into(),
            reason: reason.into(),
            confidence: None,
            details: serde_json::json!({"why": "x"}),
        });
    }
    super::mark_unexported_reviews(&mut out);
    assert!(out.review[0].details.get("row_exported").is_none());
    assert_eq!(out.review[1].details["row_exported"], false);
    assert_eq!(out.review[1].details["why"], "x", "the old details stay");
    assert!(out.review[1].details["not_exported_because"]
        .as_str()
        .unwrap()
        .contains("no amount"));
}

#[test]
fn a_dollar_amount_takes_its_business_currency_then_the_symbols() {
    use Entity::*;
    use SourceKind::*;
    let at = "2026-01-24T03:00:00Z";
    let biz = |id: &str, cur: Option<&str>| {
        let mut f = vec![("id", t(id)), ("name", t("Shop"))];
        if let Some(c) = cur {
            f.push(("attr.currency", t(c)));
        }
        rec(Backup, Business, &format!("backup:shops#{id}"), at, &f)
    };
    let mail = |id: &str, b: &str| {
        rec(
            Email,
            Payment,
            &format!("email:{id}"),
            at,
            &[
                ("id", t(id)),
                ("business_id", t(b)),
                ("amount", Value::Int(4500)),
                ("attr.currency_guess", t("usd")),
                ("status", t("succeeded")),
            ],
        )
    };
    let recs = vec![
        biz("1", Some("cad")),
        biz("2", None),
        mail("p1", "1"),
        mail("p2", "2"),
    ];
    let out = merge(&recs, &settings());
    let cur = |id: &str| {
        out.payments
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| p.text("currency"))
            .map(str::to_string)
    };
    assert_eq!(cur("p1").as_deref(), Some("cad"), "the business's dollars");
    assert_eq!(
        cur("p2").as_deref(),
        Some("usd"),
        "the symbol's usual currency, last"
    );
}

#[test]
fn a_backup_date_after_the_snapshot_is_reviewed() {
    use Entity::*;
    use SourceKind::*;
    let snap = "2026-01-24T03:00:00Z";
    let cust = |id: &str, created: &str| {
        rec(
            Backup,
            Customer,
            &format!("backup:clients#{id}"),
            snap,
            &[
                ("id", t(id)),
                ("business_id", t("1")),
                ("name", t("Ann Lee")),
                ("created_at", t(created)),
            ],
        )
    };
    let recs = vec![
        rec(
            Backup,
            Business,
            "backup:shops#1",
            snap,
            &[("id", t("1")), ("name", t("Reef"))],
        ),
        cust("1", "2025-12-01T10:00:00Z"),
        cust("2", "2026-02-03T10:00:00Z"),
    ];
    let out = merge(&recs, &settings());
    let flagged: Vec<(&str, &str)> = out
        .review
        .iter()
        .filter(|r| r.reason.starts_with("after_snapshot"))
        .map(|r| (r.row_id.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(flagged, vec![("2", "after_snapshot:created_at")]);
}

/// A wall-clock time a mail wrote without a zone (`local:starts_at`) is read in the zone
/// another source gives its business (the backup's `attr.timezone`); where no source
/// knows the zone, the mail's own reading stays, and run_info counts both.
#[test]
fn wall_clock_times_are_read_in_the_business_zone() {
    use Entity::*;
    use SourceKind::*;
    let snap = "2026-03-01T03:00:00Z";
    let mail = |code: &str, shop: &str| {
        rec(
            Email,
            Reservation,
            &format!("email:<{code}@app>"),
            "2026-04-01T08:00:00Z",
            &[
                ("reference", t(code)),
                ("business_id", t(shop)),
                ("status", t("confirmed")),
                // As read at the Date header's offset (UTC) ...
                ("starts_at", t("2026-04-14T18:30:00Z")),
                // ... and the wall clock itself.
                ("local:starts_at", t("2026-04-14T18:30:00")),
            ],
        )
    };
    let recs = vec![
        rec(
            Backup,
            Business,
            "backup:studios#1",
            snap,
            &[
                ("id", t("1")),
                ("name", t("Mantra")),
                ("attr.timezone", t("Europe/Warsaw")),
            ],
        ),
        rec(
            Backup,
            Business,
            "backup:studios#2",
            snap,
            &[("id", t("2")), ("name", t("Nowhere"))],
        ),
        mail("R-1", "1"),
        mail("R-2", "2"),
    ];
    let out = merge(&recs, &settings());
    let starts = |code: &str| {
        out.reservations
            .iter()
            .find(|r| r.text("reference") == Some(code))
            .and_then(|r| r.text("starts_at"))
            .map(str::to_string)
    };
    // Warsaw is UTC+2 in April.
    assert_eq!(starts("R-1").as_deref(), Some("2026-04-14T16:30:00Z"));
    assert_eq!(starts("R-2").as_deref(), Some("2026-04-14T18:30:00Z"));
    let info: serde_json::Value = serde_json::from_str(&out.run_info["local_times"]).unwrap();
    assert_eq!(info["read_in_business_zone"], 1);
    assert_eq!(info["no_zone_known"], 1);
}

/// Never silent in the merge: a customer merged into one no source shows, a booking the
/// app's rule applies to but has no time to read it on, and a blocking rule that found no
/// pair are counted in run_info.
#[test]
fn what_the_merge_could_not_do_is_counted() {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-08-22T03:00:00Z";
    let recs = vec![
        rec(
            Backup,
            Business,
            "backup:shops#1",
            b,
            &[("id", t("1")), ("name", t("Reef"))],
        ),
        rec(
            Backup,
            Customer,
            "backup:customers#6",
            b,
            &[
                ("id", t("6")),
                ("business_id", t("1")),
                ("merged_into", t("99")),
            ],
        ),
        rec(
            Backup,
            Reservation,
            "backup:bookings#1",
            b,
            &[
                ("id", t("1")),
                ("business_id", t("1")),
                ("reference", t("R-1")),
                ("status", t("confirmed")),
            ],
        ),
    ];
    let out = merge(&recs, &settings());
    assert_eq!(out.run_info["customers.merged_into_unknown"], "1");
    let rules: serde_json::Value =
        serde_json::from_str(&out.run_info["rules.not_evaluable"]).unwrap();
    assert_eq!(rules["completed_hours_after_end"], 1, "{rules}");
    let linkage: serde_json::Value =
        serde_json::from_str(&out.run_info["linkage.customer"]).unwrap();
    assert!(linkage["rules_without_pairs"].is_array(), "{linkage}");
}

/// A booking made a day or more before its customer existed is flagged
/// `parent_created_later:customer_id`; one made in the same request is not.
#[test]
fn a_row_made_before_its_parent_is_flagged() {
    use Entity::*;
    use SourceKind::*;
    let b = "2026-08-22T03:00:00Z";
    let cust = |id: &str, created: &str| {
        rec(
            Backup,
            Customer,
            &format!("backup:clients#{id}"),
            b,
            &[
                ("id", t(id)),
                ("business_id", t("1")),
                ("created_at", t(created)),
            ],
        )
    };
    let booking = |id: &str, customer: &str| {
        rec(
            Backup,
            Reservation,
            &format!("backup:bookings#{id}"),
            b,
            &[
                ("id", t(id)),
                ("business_id", t("1")),
                ("customer_id", t(customer)),
                ("reference", t(&format!("R-{id}"))),
                ("status", t("cancelled")),
                ("created_at", t("2026-05-01T10:00:00Z")),
            ],
        )
    };
    let recs = vec![
        rec(Backup, Business, "backup:shops#1", b, &[("id", t("1"))]),
        cust("7", "2026-05-01T10:00:05Z"),
        cust("8", "2026-06-20T10:00:00Z"),
        booking("1", "7"),
        booking("2", "8"),
    ];
    let out = merge(&recs, &settings());
    let flagged: Vec<(&str, &str)> = out
        .review
        .iter()
        .filter(|r| r.reason.starts_with("parent_created_later"))
        .map(|r| (r.row_id.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(flagged, vec![("2", "parent_created_later:customer_id")]);
}

/// "These are two": a record a person names is linked apart from the row it had joined
/// (here by a shared email), and becomes a row of its own; naming the row's own record
/// (it carries the app id) is refused and said.
#[test]
fn a_record_a_person_says_is_not_this_row_is_linked_apart() {
    use Entity::*;
    use SourceKind::*;
    let at = "2026-08-01T10:00:00Z";
    let records = vec![
        rec(
            Backup,
            Business,
            "backup:shops#1",
            at,
            &[("id", t("1")), ("name", t("Hair"))],
        ),
        rec(
            Backup,
            Customer,
            "backup:clients#7",
            at,
            &[
                ("id", t("7")),
                ("business_id", t("1")),
                ("name", t("Ann Lee")),
                ("email", t("lee@x.com")),
            ],
        ),
        rec(
            Email,
            Customer,
            "email:<m1@x>",
            at,
            &[
                ("business_id", t("1")),
                ("name", t("Ann Lee")),
                ("email", t("lee@x.com")),
            ],
        ),
    ];
    let mut s = settings();
    assert_eq!(
        merge(&records, &s).customers.len(),
        1,
        "one row before the decision"
    );
    let decide = |record: &str| crate::merge::decisions::Decision {
        entity: Customer,
        row_id: "7".into(),
        reason: None,
        action: crate::merge::decisions::Action::Apart {
            record: record.into(),
        },
        at: "decisions.csv:2".into(),
    };
    s.decisions = vec![decide("email:<m1@x>")];
    let out = merge(&records, &s);
    assert_eq!(out.customers.len(), 2, "{:?}", out.customers);
    assert!(out.customers.iter().any(|c| c.id == "7"));
    let said = &out.run_info["review.decisions"];
    assert!(said.contains("\"split\":1"), "{said}");
    s.decisions = vec![decide("backup:clients#7"), decide("email:<nope>")];
    let out = merge(&records, &s);
    assert_eq!(out.customers.len(), 1);
    let said = &out.run_info["review.decisions"];
    assert!(
        said.contains("carries the app's own id")
            && said.contains("no customers record email:<nope>"),
        "{said}"
    );
}
