//! A person's review decisions, applied to the merge result: accept a row (its review
//! items are answered), reject it (it is left out, its provenance kept with the
//! decision beside it, and what referred to it is cleared by the integrity pass after
//! this one), keep a value for a column, or say that two rows
//! are one (the other is folded into this one: its references point here, its values
//! stay as provenance). Each decision is recorded in provenance as its own source
//! (`review`), so the file says why a value is what it is; a decision whose row no longer
//! exists is counted and named, never silently dropped. The decisions file's format is
//! `crate::review`'s; this sees only [`Decision`]s.

use super::model::{ProvenanceRef, Recovered};
use crate::claims::{Entity, SourceKind, Value};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Accept,
    Reject,
    /// Keep `value` for `column` (a conflict decided).
    Keep {
        column: String,
        value: String,
    },
    /// This row and `other` are one: `other` is folded into this row.
    Same {
        other: String,
    },
    /// These are two: the source record `record` (a source ref, as `salvage explain`
    /// lists a row's records) is not this row's; it is linked apart from it (see
    /// [`apart_records`]), and becomes a row of its own.
    Apart {
        record: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub entity: Entity,
    pub row_id: String,
    /// The review reason it answers; none answers every item of the row.
    pub reason: Option<String>,
    pub action: Action,
    /// Where it was written (`decisions.csv:12`): its provenance ref.
    pub at: String,
}

/// What applying the decisions did (run_info `review.decisions`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Applied {
    pub accepted: usize,
    pub rejected: usize,
    pub kept: usize,
    pub folded: usize,
    /// Records linked apart from the row they had joined ("these are two").
    pub split: usize,
    pub review_items_answered: usize,
    /// Decisions that found no row (or no such column, or no other row): where and why.
    pub unmatched: Vec<(String, String)>,
}

const INT_COLUMNS: [&str; 3] = ["amount", "amount_refunded", "party_size"];

/// The records that "these are two" decisions take out of their rows: record index ->
/// the exclusive id the linkage gives it, so no key can join it to that row again. A
/// decision naming no record, or a record that carries the app's own id (it is the row),
/// is unmatched.
pub(super) fn apart_records(
    records: &[crate::claims::store::StoredRecord],
    decisions: &[Decision],
    applied: &mut Applied,
) -> HashMap<usize, String> {
    let mut out = HashMap::new();
    // The records named, found in one pass over all of them.
    let named: HashSet<(Entity, &str)> = decisions
        .iter()
        .filter_map(|d| match &d.action {
            Action::Apart { record } => Some((d.entity, record.as_str())),
            _ => None,
        })
        .collect();
    if named.is_empty() {
        return out;
    }
    let at: HashMap<(Entity, &str), usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| named.contains(&(r.record.entity, r.record.source_ref.as_str())))
        .map(|(i, r)| ((r.record.entity, r.record.source_ref.as_str()), i))
        .collect();
    for d in decisions {
        let Action::Apart { record } = &d.action else {
            continue;
        };
        let found = at.get(&(d.entity, record.as_str())).copied();
        match found {
            Some(ri) if records[ri].record.get("id").is_some() => applied.unmatched.push((
                d.at.clone(),
                format!("{record} carries the app's own id: it is the row; name one of the row's other records"),
            )),
            Some(ri) => {
                out.insert(ri, format!("apart:{record}"));
                applied.split += 1;
            }
            None => applied
                .unmatched
                .push((d.at.clone(), format!("no {} record {record}", d.entity.table()))),
        }
    }
    out
}

pub(super) fn apply(out: &mut Recovered, decisions: &[Decision], mut applied: Applied) -> Applied {
    if decisions.is_empty() {
        return applied;
    }
    let mut answered: HashSet<(Entity, String, Option<String>)> = HashSet::new();
    let mut rejected: HashSet<(Entity, String)> = HashSet::new();
    let mut redirect: HashMap<(Entity, String), String> = HashMap::new();
    // Where each row is (rows are only removed after every decision is applied).
    let index: HashMap<(Entity, String), usize> = Entity::ALL
        .iter()
        .flat_map(|&e| {
            out.rows(e)
                .iter()
                .enumerate()
                .map(move |(i, r)| ((e, r.id.clone()), i))
        })
        .collect();
    let exists = |e: Entity, id: &str| index.contains_key(&(e, id.to_string()));
    // The columns a decision sets: their values from the sources are no longer chosen
    // (marked before the decisions' own entries are added).
    let kept: HashSet<(Entity, &str, &str)> = decisions
        .iter()
        .filter_map(|d| match &d.action {
            Action::Keep { column, .. } => Some((d.entity, d.row_id.as_str(), column.as_str())),
            _ => None,
        })
        .filter(|(e, id, _)| exists(*e, id))
        .collect();
    if !kept.is_empty() {
        out.provenance
            .unchoose_where(|p| kept.contains(&(p.entity, p.row_id, p.column)));
    }
    for d in decisions {
        let table = d.entity.table();
        let Some(&ri) = index.get(&(d.entity, d.row_id.clone())) else {
            applied
                .unmatched
                .push((d.at.clone(), format!("no {table} row {}", d.row_id)));
            continue;
        };
        let note = |out: &mut Recovered, column: &str, value: &str, chosen: bool| {
            out.provenance.push(ProvenanceRef {
                entity: d.entity,
                row_id: &d.row_id,
                column,
                value: Some(value),
                source: SourceKind::Review,
                source_ref: &format!("review:{}", d.at),
                observed_at: None,
                chosen,
            });
        };
        match &d.action {
            Action::Accept => {
                applied.accepted += 1;
                note(out, "review", "accept", true);
            }
            Action::Reject => {
                applied.rejected += 1;
                rejected.insert((d.entity, d.row_id.clone()));
                // The row is left out; its sources' values stay in provenance with the
                // decision beside them, so the file says why it is missing.
                note(out, "review", "reject", true);
            }
            Action::Keep { column, value } => {
                if !d.entity.columns().contains(&column.as_str()) || column == "id" {
                    applied.unmatched.push((
                        d.at.clone(),
                        format!("{table} has no column {column} a decision can set"),
                    ));
                    continue;
                }
                let statuses = d.entity.statuses();
                if column == "status" && !statuses.contains(&value.as_str()) {
                    applied.unmatched.push((
                        d.at.clone(),
                        format!(
                            "{value:?} is not a {table} status; use one of {}",
                            statuses.join(", ")
                        ),
                    ));
                    continue;
                }
                let v = if INT_COLUMNS.contains(&column.as_str()) {
                    match value.trim().parse::<i64>() {
                        Ok(i) => Value::Int(i),
                        Err(_) => {
                            applied.unmatched.push((
                                d.at.clone(),
                                format!(
                                    "{column} takes a whole number (minor units), not {value:?}"
                                ),
                            ));
                            continue;
                        }
                    }
                } else {
                    Value::text(value.clone())
                };
                out.rows_mut(d.entity)[ri].values.insert(column.clone(), v);
                note(out, column, value, true);
                applied.kept += 1;
            }
            Action::Apart { .. } => {
                // Applied in the linkage (apart_records); it answers the row's items
                // only when it names the reason it answers.
                if d.reason.is_none() {
                    continue;
                }
            }
            Action::Same { other } => {
                if other == &d.row_id || !exists(d.entity, other) {
                    applied
                        .unmatched
                        .push((d.at.clone(), format!("no other {table} row {other}")));
                    continue;
                }
                redirect.insert((d.entity, other.clone()), d.row_id.clone());
                rejected.insert((d.entity, other.clone()));
                note(out, "review", &format!("same as {other}"), true);
                applied.folded += 1;
            }
        }
        answered.insert((d.entity, d.row_id.clone(), d.reason.clone()));
    }
    // References to a folded row now name the row it was folded into.
    if !redirect.is_empty() {
        for e in Entity::ALL {
            for row in out.rows_mut(e).iter_mut() {
                for (col, target) in [
                    ("business_id", Entity::Business),
                    ("customer_id", Entity::Customer),
                    ("reservation_id", Entity::Reservation),
                ] {
                    let Some(id) = row.text(col) else { continue };
                    if let Some(to) = redirect.get(&(target, id.to_string())) {
                        row.values.insert(col.into(), Value::text(to.clone()));
                    }
                }
            }
        }
    }
    for e in Entity::ALL {
        out.rows_mut(e)
            .retain(|r| !rejected.contains(&(e, r.id.clone())));
    }
    let before = out.review.len();
    out.review.retain(|q| {
        let row = (q.entity, q.row_id.clone());
        !(rejected.contains(&row)
            || answered.contains(&(q.entity, q.row_id.clone(), None))
            || answered.contains(&(q.entity, q.row_id.clone(), Some(q.reason.clone()))))
    });
    applied.review_items_answered = before - out.review.len();
    for (at, why) in &applied.unmatched {
        tracing::warn!("review decision at {at} was not applied: {why}");
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::{Provenance, ReviewItem, Row};

    fn row(id: &str, vals: &[(&str, Value)]) -> Row {
        Row::for_test(id, vals, 0.5, &[SourceKind::Email])
    }

    fn item(e: Entity, id: &str, reason: &str) -> ReviewItem {
        ReviewItem::for_test(e, id, reason, None)
    }

    fn decide(e: Entity, id: &str, reason: Option<&str>, action: Action, line: usize) -> Decision {
        Decision {
            entity: e,
            row_id: id.into(),
            reason: reason.map(str::to_string),
            action,
            at: format!("decisions.csv:{line}"),
        }
    }

    #[test]
    fn each_decision_answers_its_items_and_is_its_own_provenance() {
        use Entity::*;
        let mut out = Recovered {
            customers: vec![row("c1", &[]), row("c2", &[])],
            reservations: vec![row("r1", &[("customer_id", Value::text("c2"))])],
            payments: vec![row("p1", &[("amount", Value::Int(1000))]), row("p2", &[])],
            provenance: [Provenance {
                entity: Payment,
                row_id: "p1".into(),
                column: "amount".into(),
                value: Some("1000".into()),
                source: SourceKind::Email,
                source_ref: "email:<m1>".into(),
                observed_at: None,
                chosen: true,
            }]
            .into_iter()
            .collect(),
            review: vec![
                item(Payment, "p1", "conflict:amount"),
                item(Payment, "p1", "low_confidence"),
                item(Payment, "p2", "orphan_payment"),
                item(Customer, "c2", "low_confidence"),
            ],
            ..Default::default()
        };
        let decisions = [
            decide(
                Payment,
                "p1",
                Some("conflict:amount"),
                Action::Keep {
                    column: "amount".into(),
                    value: "1200".into(),
                },
                2,
            ),
            decide(Payment, "p2", None, Action::Reject, 3),
            decide(Customer, "c1", None, Action::Same { other: "c2".into() }, 4),
            decide(Payment, "p9", None, Action::Accept, 5),
        ];
        let a = apply(&mut out, &decisions, Applied::default());
        assert_eq!((a.kept, a.rejected, a.folded, a.accepted), (1, 1, 1, 0));
        assert_eq!(
            a.unmatched,
            vec![("decisions.csv:5".into(), "no payments row p9".into())]
        );
        assert_eq!(out.payments[0].values["amount"], Value::Int(1200));
        assert_eq!(out.payments.len(), 1, "p2 rejected");
        assert_eq!(out.customers.len(), 1, "c2 folded into c1");
        assert_eq!(out.reservations[0].text("customer_id"), Some("c1"));
        // Only the answered item is gone: p1's low confidence still waits.
        let left: Vec<(&str, &str)> = out
            .review
            .iter()
            .map(|q| (q.row_id.as_str(), q.reason.as_str()))
            .collect();
        assert_eq!(left, [("p1", "low_confidence")]);
        let amount: Vec<(String, bool, String)> = out
            .provenance
            .iter()
            .filter(|p| p.row_id == "p1" && p.column == "amount")
            .map(|p| {
                (
                    p.value.unwrap().to_string(),
                    p.chosen,
                    p.source.as_str().to_string(),
                )
            })
            .collect();
        assert_eq!(
            amount,
            [
                ("1000".into(), false, "email".into()),
                ("1200".into(), true, "review".into())
            ]
        );
    }

    #[test]
    fn a_decision_that_cannot_be_applied_says_why() {
        let mut out = Recovered {
            payments: vec![row("p1", &[])],
            ..Default::default()
        };
        let keep = |column: &str, value: &str| Action::Keep {
            column: column.into(),
            value: value.into(),
        };
        let a = apply(
            &mut out,
            &[
                decide(Entity::Payment, "p1", None, keep("colour", "red"), 2),
                decide(Entity::Payment, "p1", None, keep("amount", "12.50"), 3),
                decide(
                    Entity::Payment,
                    "p1",
                    None,
                    Action::Same { other: "p1".into() },
                    4,
                ),
                decide(Entity::Payment, "p1", None, keep("status", "cancelled"), 5),
            ],
            Applied::default(),
        );
        assert_eq!(a.unmatched.len(), 4, "{:?}", a.unmatched);
        assert!(a.unmatched[1].1.contains("whole number"));
        assert!(a.unmatched[3].1.contains("not a payments status"));
    }
}
