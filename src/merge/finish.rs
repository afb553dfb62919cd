//! Stage 4 and 5: finishing the rows: survivorship (replay for state), the app's rules,
//! provenance, review items and confidence.

use super::build::{chosen_ref, derive, Building, Ctx, IdMaps, Offer, Origin};
use super::model::{Recovered, ReviewItem, Row};
use super::survive::Candidate;
use super::{confidence, normalize, survive};
use crate::claims::{Entity, SourceKind, Value};
use std::collections::{BTreeMap, HashMap};

/// What the records of a deleted row say about its deletion.
fn deleted_row(ctx: &Ctx<'_>, e: Entity, b: &Building) -> crate::merge::DeletedRow {
    let says_deleted = |r: &crate::claims::store::LoadedRecord| {
        r.get("deleted").and_then(|v| v.as_int()) == Some(1) || r.get("merged_into").is_some()
    };
    let mut said_by = Vec::new();
    let mut deleted_at: Option<String> = None;
    let mut alive_in_backup = false;
    for &ri in &b.recs {
        let sr = &ctx.records[ri];
        if says_deleted(&sr.record) {
            said_by.push(sr.record.source_ref.clone());
            if let Some(t) = &sr.record.observed_at {
                if deleted_at.as_ref().is_none_or(|d| t > d) {
                    deleted_at = Some(t.clone());
                }
            }
        } else if sr.kind == crate::claims::SourceKind::Backup {
            alive_in_backup = true;
        }
    }
    crate::merge::DeletedRow {
        entity: e,
        row_id: b.row.id.clone(),
        said_by,
        deleted_at,
        alive_in_backup,
    }
}

/// Finishes the built rows of one entity, in order, into `out`.
pub(super) fn finish_rows(
    ctx: &mut Ctx<'_>,
    e: Entity,
    rows: Vec<Building>,
    ids: &IdMaps,
    out: &mut Recovered,
    res_customer: &mut HashMap<String, Option<Value>>,
) {
    for mut b in rows {
        if b.deleted {
            ctx.deleted.insert((e, b.row.id.clone()));
            out.deleted.push(deleted_row(ctx, e, &b));
            continue;
        }
        finish_row(ctx, e, &mut b, ids, out, res_customer);
        if e == Entity::Reservation {
            res_customer.insert(b.row.id.clone(), b.row.values.get("customer_id").cloned());
        }
        if !b.row.values.contains_key("business_id") && e != Entity::Business {
            out.review.push(ReviewItem {
                entity: e,
                row_id: b.row.id.clone(),
                reason: "unlinked_record".into(),
                confidence: None,
                details: serde_json::json!({
                    "why": "no source says which business this belongs to",
                    "sources": ctx.refs_json(&b.recs),
                }),
            });
            continue;
        }
        if e == Entity::Payment
            && (b.row.get("amount").is_none() || b.row.get("currency").is_none())
        {
            // The contract cannot hold a payment without an amount: it stays in the
            // review queue (missing_amount) with its sources, and out of the table.
            continue;
        }
        out.rows_mut(e).push(b.row);
    }
}

pub(super) fn finish_row(
    ctx: &mut Ctx<'_>,
    e: Entity,
    b: &mut Building,
    ids: &IdMaps,
    out: &mut Recovered,
    res_customer: &HashMap<String, Option<Value>>,
) {
    // Foreign keys: the target most records point at (ties: the first).
    let mut fk_cands: BTreeMap<&'static str, (Vec<Candidate>, Vec<usize>)> = BTreeMap::new();
    for &(col, root, ri) in &b.fks {
        let id = match col {
            "business_id" => ids.business.get(&root).map(|x| x.0.clone()),
            "customer_id" => ids.customer.get(&root).cloned(),
            _ => ids.reservation.get(&root).cloned(),
        };
        if let Some(id) = id {
            let (cs, from) = fk_cands.entry(col).or_default();
            cs.push(ctx.candidate(ri, Value::Text(id)));
            from.push(ri);
        }
    }
    for (col, ri, v) in &b.raw_fks {
        if !fk_cands.contains_key(col) {
            let (cs, from) = fk_cands.entry(col).or_default();
            cs.push(ctx.candidate(*ri, v.clone()));
            from.push(*ri);
        }
    }
    for (col, (cs, from)) in fk_cands {
        let choice = survive::choose(e, col, &cs);
        for (c, ri) in cs.into_iter().zip(from) {
            b.provenance.push(Offer {
                from: Origin::Record(ri),
                column: col,
                chosen: c.value == choice.value,
                value: c.value.render().map(String::into_boxed_str),
            });
        }
        b.row.values.insert(col.to_string(), choice.value);
    }
    let biz = b
        .row
        .text("business_id")
        .and_then(|id| ids.business_by_id.get(id))
        .cloned();
    match e {
        Entity::Customer => {
            if let Some(Value::Text(p)) = b.row.values.get("phone").cloned() {
                let country = biz.as_ref().and_then(|x| x.0.as_deref());
                b.row
                    .values
                    .insert("phone".into(), Value::Text(normalize::phone(&p, country)));
            }
        }
        Entity::Reservation => {
            currency_from_elsewhere(ctx, b, biz.as_ref());
            if let Some((rule, value, basis_col)) = apply_rules(ctx, &b.row) {
                let basis = chosen_ref(ctx, b, basis_col);
                derive(ctx, b, "status", Value::text(value), rule, basis);
            } else if let Some(rule) = rule_cannot_run(ctx, &b.row) {
                *ctx.rules_unevaluable.entry(rule).or_default() += 1;
            }
            if b.row.get("status").is_none() {
                derive(
                    ctx,
                    b,
                    "status",
                    Value::text("confirmed"),
                    "default:status_unknown",
                    None,
                );
                b.conflicts.push(("status_unknown".into(), Vec::new()));
            }
        }
        Entity::Payment => {
            if b.row.get("customer_id").is_none() {
                if let Some(Some(c)) = b
                    .row
                    .text("reservation_id")
                    .and_then(|r| res_customer.get(r))
                {
                    b.row.values.insert("customer_id".into(), c.clone());
                }
            }
            // The id the app itself stored wins: when the app's own rows keep it in a
            // column of its own (a Checkout Session id beside an empty PaymentIntent
            // column) rather than in processor_id.
            let app_offered = b.provenance.iter().any(|o| {
                o.column == "processor_id"
                    && matches!(o.from, Origin::Record(ri) if ctx.records[ri].kind == SourceKind::Backup)
            });
            if !app_offered {
                let stored = b
                    .recs
                    .iter()
                    .filter(|&&ri| ctx.records[ri].kind == SourceKind::Backup)
                    .flat_map(|&ri| {
                        let r = &ctx.records[ri].record;
                        [
                            "attr.checkout_session",
                            "attr.payment_intent",
                            "attr.charge",
                        ]
                        .into_iter()
                        .filter_map(move |k| Some((k, r.get(k)?.render()?, r.source_ref.clone())))
                    })
                    .next();
                if let Some((_, id, basis)) = stored {
                    if b.row.text("processor_id") != Some(id.as_str()) {
                        derive(
                            ctx,
                            b,
                            "processor_id",
                            Value::Text(id),
                            "derived:processor_id_the_app_stored",
                            Some(basis),
                        );
                    }
                }
            }
            if b.row.get("processor_id").is_none() {
                // No source offered the id the app stored: the PaymentIntent, else the charge.
                let known = [
                    "attr.payment_intent",
                    "attr.charge",
                    "attr.checkout_session",
                ]
                .iter()
                .find_map(|k| b.attrs.get(*k).cloned());
                if let Some(id) = known {
                    derive(
                        ctx,
                        b,
                        "processor_id",
                        Value::Text(id),
                        "derived:processor_id_from_stripe_ids",
                        None,
                    );
                }
            }
            if b.row.get("processor").is_none() {
                let p = if b.row.get("processor_id").is_some()
                    || b.attrs.contains_key("attr.receipt_number")
                {
                    "stripe"
                } else {
                    "unknown"
                };
                derive(
                    ctx,
                    b,
                    "processor",
                    Value::text(p),
                    "derived:processor_from_ids",
                    None,
                );
            }
            if b.row.get("amount_refunded").is_none() {
                derive(
                    ctx,
                    b,
                    "amount_refunded",
                    Value::Int(0),
                    "default:no_refund_seen",
                    None,
                );
            }
            if b.row.get("status").is_none() {
                derive(
                    ctx,
                    b,
                    "status",
                    Value::text("succeeded"),
                    "default:payment_seen",
                    None,
                );
            }
            if b.row.get("amount").is_some() {
                currency_from_elsewhere(ctx, b, biz.as_ref());
            }
            if b.row.get("amount").is_none() || b.row.get("currency").is_none() {
                b.conflicts.push(("missing_amount".into(), Vec::new()));
            }
        }
        Entity::Business => {}
    }
    b.evidence.problems = b
        .conflicts
        .iter()
        .map(|(col, cs)| {
            if cs.is_empty() || col.starts_with("invalid:") {
                col.clone()
            } else {
                format!("conflict:{col}")
            }
        })
        .collect();
    if e == Entity::Reservation {
        replay_closure(ctx, b);
    }
    let conf = confidence::score(e, &b.evidence);
    b.row.evidence = Some(b.evidence.signature(e));
    b.row.confidence = (conf * 1000.0).round() / 1000.0;
    let id = b.row.id.clone();
    for (col, cs) in &b.conflicts {
        if cs.is_empty() {
            let why = match col.as_str() {
                "status_unknown" => "no source says this booking's status; 'confirmed' is assumed",
                "missing_amount" => "no source gives this payment's amount and currency",
                _ => "see the row's provenance",
            };
            out.review.push(ReviewItem {
                entity: e,
                row_id: id.clone(),
                reason: col.clone(),
                confidence: Some(b.row.confidence),
                details: serde_json::json!({ "why": why, "sources": ctx.refs_json(&b.recs) }),
            });
            continue;
        }
        let reason = if col.starts_with("invalid:") {
            col.clone()
        } else {
            format!("conflict:{col}")
        };
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason,
            confidence: Some(b.row.confidence),
            details: serde_json::json!({
                "chosen": b.row.values.get(col.as_str()).and_then(|v| v.render()),
                "offered": cs.iter().map(|c| serde_json::json!({
                    "value": c.value.render(), "source": c.kind.as_str(),
                    "source_ref": c.source_ref, "observed_at": c.observed_at,
                })).collect::<Vec<_>>(),
            }),
        });
    }
    if e == Entity::Payment
        && b.row.get("reservation_id").is_none()
        && b.row.text("processor") == Some("stripe")
    {
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason: "orphan_payment".into(),
            confidence: Some(b.row.confidence),
            details: serde_json::json!({"why": "no source links this payment to a reservation", "sources": ctx.refs_json(&b.recs)}),
        });
    }
    if b.evidence.stub {
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason: "referenced_only".into(),
            confidence: Some(b.row.confidence),
            details: serde_json::json!({"why": "other records name this id, but no source describes it"}),
        });
    } else if b.row.confidence < 0.6 {
        out.review.push(ReviewItem {
            entity: e,
            row_id: id.clone(),
            reason: "low_confidence".into(),
            confidence: Some(b.row.confidence),
            details: serde_json::json!({"sources": ctx.refs_json(&b.recs)}),
        });
    }
    let row_id = out.provenance.intern(&id);
    for o in std::mem::take(&mut b.provenance) {
        let column = out.provenance.intern(o.column);
        ctx.log(out, e, row_id, column, o);
    }
}

/// The app's rules at the incident time: the status a rule gives the row, the rule's name
/// and the column it was read from, or `None` when no rule applies.
pub(super) fn apply_rules(
    ctx: &Ctx<'_>,
    row: &Row,
) -> Option<(&'static str, &'static str, &'static str)> {
    let now = crate::util::time::parse_any(&ctx.settings.incident_at, None)?;
    let rules = &ctx.settings.rules;
    let at = |col: &str| {
        row.text(col)
            .and_then(|t| crate::util::time::parse_any(t, None))
    };
    match row.text("status") {
        Some("confirmed") => {
            let h = rules.completed_hours_after_end?;
            // Without an end time (some templates only say when it starts), the start is
            // the best lower bound of the end.
            let (end, col) = match at("ends_at") {
                Some(t) => (t, "ends_at"),
                None => (at("starts_at")?, "starts_at"),
            };
            (end + chrono::Duration::hours(h) < now).then_some((
                "rule:completed_hours_after_end",
                "completed",
                col,
            ))
        }
        Some("pending") => {
            let h = rules.pending_expires_after_hours?;
            (at("created_at")? + chrono::Duration::hours(h) < now).then_some((
                "rule:pending_expires_after_hours",
                "cancelled",
                "created_at",
            ))
        }
        _ => None,
    }
}

/// The app's rule that applies to this booking but cannot be evaluated, for want of the
/// time it reads (a confirmed booking with no start or end, a pending one with no
/// created_at): its status is kept as the sources give it, and run_info counts it.
fn rule_cannot_run(ctx: &Ctx<'_>, row: &Row) -> Option<&'static str> {
    let rules = &ctx.settings.rules;
    match row.text("status") {
        Some("confirmed") if rules.completed_hours_after_end.is_some() => {
            (row.get("ends_at").is_none() && row.get("starts_at").is_none())
                .then_some("completed_hours_after_end")
        }
        Some("pending") if rules.pending_expires_after_hours.is_some() => row
            .get("created_at")
            .is_none()
            .then_some("pending_expires_after_hours"),
        _ => None,
    }
}

/// A booking still `confirmed` although its slot ended at least a day before the
/// incident, with no rule of the app to close it: how long ago it ended, in seconds.
/// What became of it (completed, no-show) no surviving source says.
pub(super) fn slot_ended_unclosed(ctx: &Ctx<'_>, row: &Row) -> Option<i64> {
    if row.text("status") != Some("confirmed") {
        return None;
    }
    let now = crate::util::time::parse_any(&ctx.settings.incident_at, None)?;
    let age = (now - slot_end(row)?).num_seconds();
    (age > 24 * 3600).then_some(age)
}

/// When a booking's slot ended (its start where no end is known).
fn slot_end(row: &Row) -> Option<crate::util::time::Timestamp> {
    ["ends_at", "starts_at"].iter().find_map(|c| {
        row.text(c)
            .and_then(|t| crate::util::time::parse_any(t, None))
    })
}

/// Replays the app's closing habit (see [`super::closure`]) on a booking whose slot ended
/// unclosed: it takes the state the backup shows such bookings end in, with the habit's
/// odds in its evidence (provenance `derived:closure_habit`). Where the
/// backup cannot tell, it stays `confirmed`, flagged `slot_ended_unclosed`.
fn replay_closure(ctx: &mut Ctx<'_>, b: &mut Building) {
    let Some(age) = slot_ended_unclosed(ctx, &b.row) else {
        return;
    };
    let business = b.row.text("business_id");
    let Some(mut est) = ctx.closure.estimate(business, age) else {
        b.evidence.problems.push("slot_ended_unclosed".into());
        return;
    };
    // A source that saw it still open after its slot had ended (a backup taken weeks
    // later) says it is one of the bookings the app leaves open that long.
    let seen_age = b
        .provenance
        .iter()
        .find(|p| p.column == "status" && p.chosen)
        .and_then(|p| ctx.origin(p).2)
        .and_then(|t| crate::util::time::parse_any(t, None))
        .zip(slot_end(&b.row))
        .map(|(seen, end)| (seen - end).num_seconds());
    if let Some(seen) = seen_age.and_then(|a| ctx.closure.estimate(business, a)) {
        est = est.given_open(&seen);
    }
    b.evidence.problems.push(est.token());
    let Some(state) = est.closed_as() else {
        return;
    };
    let basis = est.basis(super::closure::band_words(age));
    derive(
        ctx,
        b,
        "status",
        Value::text(state),
        "derived:closure_habit",
        Some(basis),
    );
    // Counted for run_info, not queued: the odds are in the row's confidence, and a
    // booking the habit is unsure of is queued as low_confidence like any other row.
    *ctx.closed_by_habit.entry(state).or_default() += 1;
}

/// A row with no currency from any source (mail that wrote only "$", a backup without a
/// currency column) takes its business's; failing that, the usual currency of the symbol
/// its mail showed (`attr.currency_guess`). Not when a source offered a currency the
/// contract cannot hold: that one is reviewed, not papered over.
fn currency_from_elsewhere(
    ctx: &mut Ctx<'_>,
    b: &mut Building,
    biz: Option<&super::build::BizFacts>,
) {
    if b.row.get("currency").is_some() || b.conflicts.iter().any(|(c, _)| c == "invalid:currency") {
        return;
    }
    let valid = |c: &str| {
        let c = c.trim().to_lowercase();
        crate::util::money::is_iso_currency(&c).then_some(c)
    };
    if let Some(cur) = biz.and_then(|x| x.1.as_deref()).and_then(valid) {
        let basis = b
            .row
            .text("business_id")
            .map(|id| format!("businesses#{id}"));
        derive(
            ctx,
            b,
            "currency",
            Value::Text(cur),
            "derived:business_currency",
            basis,
        );
    } else if let Some(cur) = b.attrs.get("attr.currency_guess").and_then(|c| valid(c)) {
        derive(
            ctx,
            b,
            "currency",
            Value::Text(cur),
            "derived:currency_symbol",
            None,
        );
    }
}
