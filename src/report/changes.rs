//! What changed since the backup: rows no backup row shows, rows whose status, time,
//! amount or owner differ from what the backup said, cancellations, refunds and disputes,
//! each counted by the kind of source that says so; and an estimate of what no source
//! could recover (bookings after the snapshot that nothing but the lost database saw).

use super::offers;
use crate::claims::{Entity, SourceKind};
use crate::merge::{Recovered, Row};
use serde::Serialize;
use std::collections::BTreeMap;

const EXAMPLES: usize = 20;

/// One kind of change: how many rows, by the source the new value came from, and a few.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Change {
    pub table: String,
    /// `new`, `changed:<column>`, `cancelled`, `refunded`, `disputed`.
    pub kind: String,
    pub rows: usize,
    pub by_source: BTreeMap<String, usize>,
    /// (row id, what the backup said, what the table holds), the first few.
    pub examples: Vec<(String, Option<String>, Option<String>)>,
}

/// The estimate of bookings no source witnessed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gaps {
    /// Reservations the backup holds that were created in the 90 days before its
    /// snapshot, and how many of those no other source shows.
    pub backup_recent: usize,
    pub backup_only: usize,
    /// Reservations created after the snapshot that a source shows.
    pub found_after: usize,
    /// found_after * share / (1 - share): as many again as the backup's own unwitnessed
    /// share says were likely made and seen by no surviving source.
    pub estimated_missing: usize,
    pub explanation: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub snapshot_at: Option<String>,
    pub changes: Vec<Change>,
    pub gaps: Gaps,
}

/// Columns whose change since the backup a person wants to see, per table.
pub fn watched(e: Entity) -> &'static [&'static str] {
    match e {
        Entity::Customer => &["email", "phone", "name"],
        Entity::Reservation => &["status", "starts_at", "amount", "customer_id", "party_size"],
        Entity::Payment => &["status", "amount", "amount_refunded", "customer_id"],
        Entity::Business => &[],
    }
}

/// The entities whose changes are counted, in order.
pub const ENTITIES: [Entity; 3] = [Entity::Customer, Entity::Reservation, Entity::Payment];

pub fn since_backup(rec: &Recovered) -> Changes {
    let wants: Vec<(Entity, &[&str])> = ENTITIES.iter().map(|&e| (e, watched(e))).collect();
    since_backup_with(rec, &offers::collect_many(rec, &wants))
}

/// As [`since_backup`], with each of [`ENTITIES`]' offers of its [`watched`] columns
/// already collected (in that order).
pub fn since_backup_with(rec: &Recovered, all: &[offers::Offers<'_>]) -> Changes {
    let snapshot = rec.run_info.get("backup_snapshot_at").cloned();
    let mut changes = Vec::new();
    for (e, offers) in ENTITIES.into_iter().zip(all) {
        let cols = watched(e);
        let mut by_kind: BTreeMap<String, Change> = BTreeMap::new();
        let mut note = |kind: &str,
                        row: &Row,
                        src: Option<SourceKind>,
                        was: Option<&str>,
                        now: Option<&str>| {
            let c = by_kind.entry(kind.to_string()).or_insert_with(|| Change {
                table: e.table().into(),
                kind: kind.into(),
                ..Default::default()
            });
            c.rows += 1;
            let src = src
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| row.sources_text());
            *c.by_source.entry(src).or_insert(0) += 1;
            if c.examples.len() < EXAMPLES {
                c.examples.push((
                    row.id.clone(),
                    was.map(str::to_string),
                    now.map(str::to_string),
                ));
            }
        };
        for row in rec.rows(e) {
            if !row.sources.contains(&SourceKind::Backup) {
                note("new", row, None, None, row.text("created_at"));
                continue;
            }
            let Some(o) = offers.get(row.id.as_str()) else {
                continue;
            };
            for (i, col) in cols.iter().enumerate() {
                let (Some(was), Some((now, src))) = (o[i].backup, o[i].chosen) else {
                    continue;
                };
                if was == now || src == SourceKind::Backup {
                    continue;
                }
                note(
                    &format!("changed:{col}"),
                    row,
                    Some(src),
                    Some(was),
                    Some(now),
                );
                if *col == "status" {
                    let kind = match (e, now) {
                        (Entity::Reservation, "cancelled") => Some("cancelled"),
                        (Entity::Payment, "refunded" | "partially_refunded") => Some("refunded"),
                        (Entity::Payment, "disputed") => Some("disputed"),
                        _ => None,
                    };
                    if let Some(k) = kind {
                        note(k, row, Some(src), Some(was), Some(now));
                    }
                }
            }
        }
        changes.extend(by_kind.into_values());
    }
    Changes {
        gaps: gaps(rec, snapshot.as_deref()),
        snapshot_at: snapshot,
        changes,
    }
}

fn gaps(rec: &Recovered, snapshot: Option<&str>) -> Gaps {
    let Some(snap) = snapshot.and_then(|s| crate::util::time::parse_any(s, None)) else {
        return Gaps {
            explanation: "no backup snapshot time is known, so nothing is estimated".into(),
            ..Default::default()
        };
    };
    let since = crate::util::time::format_utc(snap - chrono::Duration::days(90));
    let snap_text = crate::util::time::format_utc(snap);
    let mut g = Gaps::default();
    for r in &rec.reservations {
        let Some(created) = r.text("created_at") else {
            continue;
        };
        if created > snap_text.as_str() {
            g.found_after += 1;
        } else if created >= since.as_str() && r.sources.contains(&SourceKind::Backup) {
            g.backup_recent += 1;
            if r.sources == [SourceKind::Backup] {
                g.backup_only += 1;
            }
        }
    }
    if g.backup_recent == 0 || g.backup_only >= g.backup_recent {
        g.explanation = "the backup holds no recent booking another source also shows, so the share no source witnesses cannot be measured".into();
        return g;
    }
    let share = g.backup_only as f64 / g.backup_recent as f64;
    g.estimated_missing = (g.found_after as f64 * share / (1.0 - share)).round() as usize;
    g.explanation = format!(
        "of the {} bookings the backup holds from its last 90 days, {} ({:.1}%) appear in no other source: bookings such as cash ones leave no trace outside the app. At that share, the {} bookings found after the snapshot suggest about {} more that no surviving source shows",
        g.backup_recent,
        g.backup_only,
        share * 100.0,
        g.found_after,
        g.estimated_missing
    );
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Value;
    use crate::merge::{Provenance, ProvenanceLog};

    fn resv(id: &str, created: &str, status: &str, sources: &[SourceKind]) -> Row {
        let vals = [
            ("created_at", Value::text(created)),
            ("status", Value::text(status)),
        ];
        Row::for_test(id, &vals, 0.9, sources)
    }

    fn offered(row: &str, v: &str, src: SourceKind, chosen: bool) -> Provenance {
        Provenance::offered(Entity::Reservation, row, "status", v, src, None, chosen)
    }

    #[test]
    fn new_rows_cancellations_and_the_gap_estimate() {
        use SourceKind::*;
        let mut rec = Recovered::default();
        rec.run_info
            .insert("backup_snapshot_at".into(), "2026-08-01T00:00:00Z".into());
        rec.reservations = vec![
            resv("r1", "2026-07-01T00:00:00Z", "cancelled", &[Backup, Email]),
            resv("r2", "2026-07-02T00:00:00Z", "confirmed", &[Backup]),
            resv("r3", "2026-07-03T00:00:00Z", "confirmed", &[Backup, Stripe]),
            resv("r4", "2026-07-04T00:00:00Z", "confirmed", &[Backup, Stripe]),
            resv("r5", "2026-09-01T00:00:00Z", "confirmed", &[Email]),
            resv("r6", "2026-09-02T00:00:00Z", "confirmed", &[Email, Stripe]),
            resv("r7", "2026-09-03T00:00:00Z", "confirmed", &[Stripe]),
        ];
        rec.provenance = ProvenanceLog::from_iter([
            offered("r1", "confirmed", Backup, false),
            offered("r1", "cancelled", Email, true),
            offered("r2", "confirmed", Backup, true),
        ]);
        let c = since_backup(&rec);
        let kind = |k: &str| {
            c.changes
                .iter()
                .find(|x| x.kind == k)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(kind("new").rows, 3);
        assert_eq!(
            kind("new").by_source,
            BTreeMap::from([
                ("email".into(), 1),
                ("email,stripe".into(), 1),
                ("stripe".into(), 1)
            ])
        );
        assert_eq!(kind("changed:status").rows, 1);
        assert_eq!(
            kind("cancelled").examples,
            vec![(
                "r1".into(),
                Some("confirmed".into()),
                Some("cancelled".into())
            )]
        );
        // 1 of 4 recent backup bookings was seen by the backup alone: 3 found after
        // suggest 1 unseen.
        assert_eq!(
            (c.gaps.backup_recent, c.gaps.backup_only, c.gaps.found_after),
            (4, 1, 3)
        );
        assert_eq!(c.gaps.estimated_missing, 1);
    }

    #[test]
    fn no_snapshot_no_estimate() {
        let c = since_backup(&Recovered::default());
        assert_eq!(c.gaps.estimated_missing, 0);
        assert!(c.gaps.explanation.contains("no backup snapshot"));
    }
}
