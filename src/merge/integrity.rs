//! After the rows are built: unique ids, no orphans, no dangling references.

use super::model::{Recovered, ReviewItem, Row};
use crate::claims::Entity;

/// Two clusters that claim the same app id but could not be joined (another exclusive key
/// disagrees: e.g. one id with two Stripe accounts) keep the id on the better-supported
/// row; the other gets a synthetic id and goes to review, so no row is lost.
pub(super) fn resolve_id_collisions(out: &mut Recovered) {
    let mut review = Vec::new();
    for e in Entity::ALL {
        let rows = out.rows_mut(e);
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| {
            rows[a]
                .id
                .cmp(&rows[b].id)
                .then(rows[b].sources.len().cmp(&rows[a].sources.len()))
                .then(rows[b].confidence.total_cmp(&rows[a].confidence))
                .then(a.cmp(&b))
        });
        // The first row of each run of equal ids keeps the id (compare with it, not with
        // the row before, which may already have been renamed).
        let mut kept: Option<String> = None;
        for &cur in &order {
            if kept.as_deref() != Some(rows[cur].id.as_str()) && !rows[cur].id.is_empty() {
                kept = Some(rows[cur].id.clone());
            } else {
                let old = rows[cur].id.clone();
                let new = crate::util::ids::synthetic_id(&[
                    e.as_str(),
                    "collision",
                    &old,
                    &cur.to_string(),
                ]);
                rows[cur].id = new.clone();
                rows[cur].confidence = (rows[cur].confidence * 0.5).max(0.01);
                review.push(ReviewItem {
                    entity: e,
                    row_id: new,
                    reason: "id_conflict".into(),
                    confidence: Some(rows[cur].confidence),
                    details: serde_json::json!({
                        "why": "another row claims the same id but disagrees on a key that cannot differ",
                        "claimed_id": old,
                    }),
                });
            }
        }
    }
    out.review.extend(review);
}

/// Referential integrity, an invariant of the merge: a row whose business is not exported
/// (deleted in the app, e.g. a demo tenant, with everything under it; or never described)
/// is not exported either. It goes to the review queue with the parent's id and why.
pub(super) fn drop_orphans(
    out: &mut Recovered,
    deleted: &std::collections::HashSet<(Entity, String)>,
) {
    use std::collections::HashSet;
    let businesses: HashSet<String> = out.businesses.iter().map(|r| r.id.clone()).collect();
    let mut review = Vec::new();
    for e in [Entity::Customer, Entity::Reservation, Entity::Payment] {
        out.rows_mut(e).retain(|r| {
            let parent = r.text("business_id").unwrap_or_default();
            if businesses.contains(parent) {
                return true;
            }
            let was_deleted = deleted.contains(&(Entity::Business, parent.to_string()));
            review.push(ReviewItem {
                entity: e,
                row_id: r.id.clone(),
                reason: if was_deleted {
                    "deleted_parent:business_id".into()
                } else {
                    "missing_parent:business_id".into()
                },
                confidence: Some(r.confidence),
                details: serde_json::json!({
                    "why": if was_deleted {
                        "its business was deleted in the app: the row goes with it"
                    } else {
                        "its business is not in the result"
                    },
                    "parent": parent,
                }),
            });
            false
        });
    }
    out.review.extend(review);
}

/// A reference to a row that is not in the result (e.g. a customer deleted in the app) is
/// cleared, so the file keeps its foreign keys; the value stays in provenance and the row
/// goes to review.
pub(super) fn drop_dangling_references(out: &mut Recovered) {
    use std::collections::HashSet;
    let ids = |rows: &[Row]| rows.iter().map(|r| r.id.clone()).collect::<HashSet<_>>();
    let customers = ids(&out.customers);
    let reservations = ids(&out.reservations);
    let mut review = Vec::new();
    for (e, rows) in [
        (Entity::Reservation, &mut out.reservations),
        (Entity::Payment, &mut out.payments),
    ] {
        for r in rows.iter_mut() {
            for (col, known) in [
                ("customer_id", &customers),
                ("reservation_id", &reservations),
            ] {
                let Some(id) = r.text(col).map(str::to_string) else {
                    continue;
                };
                if !known.contains(&id) {
                    r.values.remove(col);
                    review.push(ReviewItem {
                        entity: e,
                        row_id: r.id.clone(),
                        reason: format!("dangling:{col}"),
                        confidence: Some(r.confidence),
                        details: serde_json::json!({
                            "why": "the referenced row is not in the result (deleted in the app, or no source describes it)",
                            "value": id,
                        }),
                    });
                }
            }
        }
    }
    out.review.extend(review);
}

/// A row made before its parent existed (a booking created a day or more before its
/// customer, a payment before its booking) is a wrong clock, a wrong zone or a wrong join
/// somewhere: each is a review item `parent_created_later:<column>`, with both times.
/// (A parent made in the same request, seconds after, is no sign of anything.)
pub(super) fn flag_parents_created_later(out: &mut Recovered) {
    use crate::util::time::parse_any;
    let slack = chrono::Duration::days(1);
    let created = |e: Entity| -> std::collections::HashMap<&str, &str> {
        out.rows(e)
            .iter()
            .filter_map(|r| Some((r.id.as_str(), r.text("created_at")?)))
            .collect()
    };
    let customers = created(Entity::Customer);
    let reservations = created(Entity::Reservation);
    let mut items = Vec::new();
    for (e, refs) in [
        (Entity::Reservation, vec![("customer_id", &customers)]),
        (
            Entity::Payment,
            vec![
                ("customer_id", &customers),
                ("reservation_id", &reservations),
            ],
        ),
    ] {
        for row in out.rows(e) {
            let Some(own) = row.text("created_at") else {
                continue;
            };
            for (col, parents) in &refs {
                let Some(parent) = row.text(col) else {
                    continue;
                };
                let Some(&at) = parents.get(parent) else {
                    continue;
                };
                let (Some(a), Some(b)) = (parse_any(own, None), parse_any(at, None)) else {
                    continue;
                };
                if b > a + slack {
                    items.push(ReviewItem {
                        entity: e,
                        row_id: row.id.clone(),
                        reason: format!("parent_created_later:{col}"),
                        confidence: Some(row.confidence),
                        details: serde_json::json!({
                            "created_at": own,
                            "parent": parent,
                            "parent_created_at": at,
                            "why": "the row says it was made before the row it belongs to existed: a server clock, a time zone, a column mapped as the wrong time, or a wrong join",
                        }),
                    });
                }
            }
        }
    }
    out.review.extend(items);
}
