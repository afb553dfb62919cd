//! The review queue as a work list: each item with its business, the money at stake, and
//! the decision it needs; grouped by reason, the reason with the most money at stake
//! first, and within a reason the largest amount first.

use crate::claims::Entity;
use crate::merge::{Recovered, Row};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkItem {
    pub table: String,
    pub row_id: String,
    pub reason: String,
    pub business_id: Option<String>,
    /// The row's amount (a payment's, a booking's price) in minor units, and its currency.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub confidence: Option<f64>,
    /// What a person has to decide, in words.
    pub decision: String,
    /// The evidence the merge recorded (values that disagreed, records joined, weights).
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonGroup {
    pub reason: String,
    pub items: usize,
    /// Money at stake per currency, minor units.
    pub at_stake: BTreeMap<String, i64>,
    pub decision: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkList {
    pub groups: Vec<ReasonGroup>,
    /// Every item, in work order (group by group).
    pub items: Vec<WorkItem>,
}

/// The decision a reason asks for.
pub fn decision(reason: &str) -> String {
    let (head, col) = reason.split_once(':').unwrap_or((reason, ""));
    match head {
        "conflict" => format!("sources disagree on {col}: keep the table's value or choose another"),
        "low_confidence" => "accept the row or reject it".into(),
        "orphan_payment" => "link the payment to its booking or customer, or accept it alone".into(),
        "dangling" => format!("the {col} names a row that does not exist: link it to the right one or clear it"),
        "ambiguous_business" | "ambiguous_customer" => "choose which of the candidates it belongs to".into(),
        "unlinked_record" => "place the record with its business, or reject it".into(),
        "referenced_only" => "a row only other rows refer to: accept it as a stub or reject it".into(),
        "id_conflict" => "two rows claim one id: say whether they are one (merge) or two".into(),
        "earlier_stripe_account" => "confirm the business's earlier Stripe account".into(),
        "status_unknown" => "set the status: no source says it in the app's words".into(),
        "after_snapshot" => format!("the backup's {col} is later than its snapshot: check the clock, keep or replace the value"),
        "parent_created_later" => format!("the {col} row was created after this one: check the link"),
        _ => "look at the row and accept, reject or correct it".into(),
    }
}

pub fn build(rec: &Recovered) -> WorkList {
    let mut rows: HashMap<(Entity, &str), &Row> = HashMap::new();
    for e in Entity::ALL {
        for r in rec.rows(e) {
            rows.insert((e, r.id.as_str()), r);
        }
    }
    let mut items: Vec<WorkItem> = rec
        .review
        .iter()
        .map(|q| {
            let row = rows.get(&(q.entity, q.row_id.as_str())).copied();
            let business_id = if q.entity == Entity::Business {
                Some(q.row_id.clone())
            } else {
                row.and_then(|r| r.text("business_id")).map(str::to_string)
            };
            WorkItem {
                table: q.entity.table().into(),
                row_id: q.row_id.clone(),
                reason: q.reason.clone(),
                business_id,
                amount: row.and_then(|r| r.get("amount")).and_then(|v| v.as_int()),
                currency: row.and_then(|r| r.text("currency")).map(str::to_string),
                confidence: q.confidence,
                decision: decision(&q.reason),
                details: q.details.clone(),
            }
        })
        .collect();
    let mut groups: BTreeMap<String, ReasonGroup> = BTreeMap::new();
    for i in &items {
        let g = groups
            .entry(i.reason.clone())
            .or_insert_with(|| ReasonGroup {
                reason: i.reason.clone(),
                items: 0,
                at_stake: BTreeMap::new(),
                decision: decision(&i.reason),
            });
        g.items += 1;
        if let (Some(a), Some(c)) = (i.amount, &i.currency) {
            *g.at_stake.entry(c.clone()).or_insert(0) += a.abs();
        }
    }
    // Reasons by money at stake (all currencies summed: an order, not a total), then by
    // how many items they hold.
    let stake = |g: &ReasonGroup| g.at_stake.values().sum::<i64>();
    let mut groups: Vec<ReasonGroup> = groups.into_values().collect();
    groups.sort_by(|a, b| {
        stake(b)
            .cmp(&stake(a))
            .then(b.items.cmp(&a.items))
            .then(a.reason.cmp(&b.reason))
    });
    let order: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.reason.as_str(), i))
        .collect();
    items.sort_by(|a, b| {
        order[a.reason.as_str()]
            .cmp(&order[b.reason.as_str()])
            .then(
                b.amount
                    .unwrap_or(0)
                    .abs()
                    .cmp(&a.amount.unwrap_or(0).abs()),
            )
            .then((a.table.as_str(), a.row_id.as_str()).cmp(&(b.table.as_str(), b.row_id.as_str())))
    });
    WorkList { groups, items }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Value;
    use crate::merge::ReviewItem;

    fn pay(id: &str, amount: i64) -> Row {
        let vals = [
            ("business_id", Value::text("b1")),
            ("amount", Value::Int(amount)),
            ("currency", Value::text("usd")),
        ];
        Row::for_test(id, &vals, 0.5, &[])
    }

    fn item(e: Entity, id: &str, reason: &str) -> ReviewItem {
        ReviewItem::for_test(e, id, reason, Some(0.5))
    }

    #[test]
    fn the_reason_with_most_money_first_and_the_largest_item_first() {
        let rec = Recovered {
            payments: vec![pay("p1", 100), pay("p2", 9000), pay("p3", 500)],
            review: vec![
                item(Entity::Payment, "p1", "low_confidence"),
                item(Entity::Payment, "p3", "low_confidence"),
                item(Entity::Payment, "p2", "conflict:amount"),
                item(Entity::Customer, "c9", "low_confidence"),
            ],
            ..Default::default()
        };
        let w = build(&rec);
        let reasons: Vec<&str> = w.groups.iter().map(|g| g.reason.as_str()).collect();
        assert_eq!(reasons, ["conflict:amount", "low_confidence"]);
        let ids: Vec<&str> = w.items.iter().map(|i| i.row_id.as_str()).collect();
        assert_eq!(ids, ["p2", "p3", "p1", "c9"]);
        assert_eq!(w.items[0].business_id.as_deref(), Some("b1"));
        assert!(w.items[0].decision.contains("amount"));
        assert_eq!(w.groups[1].at_stake["usd"], 600);
        assert_eq!(
            w.items[3].business_id, None,
            "a row that was not exported has no business"
        );
    }
}
