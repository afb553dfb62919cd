//! The reconciliation report: what was rebuilt, from what, how sure we are, what was
//! skipped and why, and what a person must review before anything goes back into
//! production. Built from the merge result and the workspace's bookkeeping; written as
//! JSON (for programs) and HTML (for people).

pub mod changes;
pub mod html;
pub mod money;
pub mod offers;
pub mod svg;
pub mod worklist;

use crate::claims::store::{SourceInfo, StoredSkip};
use crate::claims::Entity;
use crate::error::Result;
use crate::merge::Recovered;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub incident: BTreeMap<String, String>,
    pub tables: Vec<TableSummary>,
    pub sources: Vec<SourceInfo>,
    /// Sources that failed as a whole in the import this rebuild read (`--keep-going`):
    /// nothing of them is in it, not even what an earlier run had imported.
    #[serde(default)]
    pub failed_sources: Vec<FailedSource>,
    pub skipped: Vec<SkipGroup>,
    /// Mapping rules that matched nothing in their source (kind `unused_rule`): a template
    /// no message fits, a metadata key no object has, a mapped table with no rows. Kept
    /// apart from `skipped` (no input was dropped) but never silent.
    pub unmatched_rules: Vec<SkipGroup>,
    /// Input that was kept with a caveat (read in a fallback zone, kept without a status
    /// the mapping does not know): never silent, not counted as skipped.
    #[serde(default)]
    pub notices: Vec<SkipGroup>,
    /// Mail no template matched, grouped by sender and subject shape (digits as 9), most
    /// first: each group is a template the mapping may be missing.
    #[serde(default)]
    pub unmatched_mail: Vec<UnmatchedMail>,
    pub review: ReviewSummary,
    pub by_business: Vec<BusinessSummary>,
    pub by_month: Vec<MonthSummary>,
    /// Money per business, currency and month: Stripe against the rebuild and the backup.
    pub money: money::Reconciliation,
    /// What changed since the backup's snapshot, and what no source could recover.
    pub since_backup: changes::Changes,
    /// The review queue in work order, each item with its business, money and decision.
    pub worklist: worklist::WorkList,
    /// Reservations and payments per day created, by the kind of source supporting them:
    /// a lost stretch of mail or a deploy that dropped Stripe metadata shows as a hole.
    pub timeline: Vec<TimelineDay>,
    /// Confidence against measured accuracy, when the report was made with a truth
    /// (`salvage report --truth`, on generated incidents and trials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
}

/// A source that failed as a whole, and why.
#[derive(Debug, Clone, Serialize)]
pub struct FailedSource {
    pub name: String,
    pub error: String,
}

/// The reliability diagram's data: per confidence bin, rows, mean confidence, accuracy.
#[derive(Debug, Clone, Serialize)]
pub struct Reliability {
    pub truth: String,
    pub ece: f64,
    /// (bin low, bin high, rows, mean confidence, accuracy)
    pub bins: Vec<(f64, f64, usize, f64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    pub table: String,
    pub rows: usize,
    /// Rows per combination of supporting kinds of source (`backup,stripe` -> 120).
    pub by_sources: BTreeMap<String, usize>,
    /// Rows supported by each kind of source.
    pub by_kind: BTreeMap<String, usize>,
    pub mean_confidence: f64,
    /// Rows per confidence decile (`0.9-1.0` -> 812).
    pub confidence_histogram: Vec<usize>,
    /// The same deciles over the rows each kind of source supports.
    pub confidence_by_kind: BTreeMap<String, Vec<usize>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkipGroup {
    pub source: String,
    pub kind: String,
    pub count: usize,
    /// A few examples with their file and position.
    pub examples: Vec<StoredSkip>,
}

/// One kind of mail no template matched: its sender and subject shape, how many, and
/// where one of them is.
#[derive(Debug, Clone, Serialize)]
pub struct UnmatchedMail {
    pub source: String,
    /// `from news@mail.example.app, subject "9 ways to fill your quiet Tuesdays"`.
    pub shape: String,
    pub count: usize,
    pub example: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewSummary {
    pub total: usize,
    pub by_reason: BTreeMap<String, usize>,
    /// The first items of each reason, for the HTML page.
    pub examples: Vec<ReviewExample>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewExample {
    pub table: String,
    pub row_id: String,
    pub reason: String,
    pub confidence: Option<f64>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct BusinessSummary {
    pub business_id: String,
    pub name: Option<String>,
    pub confidence: f64,
    pub customers: usize,
    pub reservations: usize,
    pub payments: usize,
    /// Succeeded-or-refunded payment volume per currency, minor units.
    pub payment_volume: BTreeMap<String, i64>,
    pub review_items: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthSummary {
    pub month: String,
    pub reservations: usize,
    pub payments: usize,
    pub reservations_by_sources: BTreeMap<String, usize>,
}

/// One day of the evidence timeline: rows created that day that each kind of source
/// supports (a row two kinds support counts for both).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimelineDay {
    pub day: String,
    pub backup: usize,
    pub stripe: usize,
    pub email: usize,
}

fn timeline(rec: &Recovered) -> Vec<TimelineDay> {
    let mut days: BTreeMap<&str, TimelineDay> = BTreeMap::new();
    for r in rec.reservations.iter().chain(&rec.payments) {
        let Some(day) = r
            .text("created_at")
            .filter(|t| t.len() >= 10)
            .map(|t| &t[..10])
        else {
            continue;
        };
        let d = days.entry(day).or_insert_with(|| TimelineDay {
            day: day.to_string(),
            ..Default::default()
        });
        for k in &r.sources {
            match k {
                crate::claims::SourceKind::Backup => d.backup += 1,
                crate::claims::SourceKind::Stripe => d.stripe += 1,
                crate::claims::SourceKind::Email => d.email += 1,
                crate::claims::SourceKind::Review => {}
            }
        }
    }
    days.into_values().collect()
}

const EXAMPLES_PER_GROUP: usize = 5;
const REVIEW_EXAMPLES_PER_REASON: usize = 20;

pub fn build(rec: &Recovered, sources: Vec<SourceInfo>, skips: &[StoredSkip]) -> Report {
    let mut tables = Vec::new();
    for e in Entity::ALL {
        let rows = rec.rows(e);
        let mut by_sources = BTreeMap::new();
        let mut by_kind = BTreeMap::new();
        let mut hist = vec![0usize; 10];
        let mut by_kind_hist: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut sum = 0.0;
        for r in rows {
            let decile = ((r.confidence * 10.0) as usize).min(9);
            *by_sources.entry(r.sources_text()).or_insert(0) += 1;
            for k in &r.sources {
                *by_kind.entry(k.as_str().to_string()).or_insert(0) += 1;
                by_kind_hist
                    .entry(k.as_str().to_string())
                    .or_insert_with(|| vec![0; 10])[decile] += 1;
            }
            hist[decile] += 1;
            sum += r.confidence;
        }
        tables.push(TableSummary {
            table: e.table().into(),
            rows: rows.len(),
            by_sources,
            by_kind,
            mean_confidence: if rows.is_empty() {
                0.0
            } else {
                (sum / rows.len() as f64 * 1000.0).round() / 1000.0
            },
            confidence_histogram: hist,
            confidence_by_kind: by_kind_hist,
        });
    }

    let mut unmatched: BTreeMap<(String, String), UnmatchedMail> = BTreeMap::new();
    let mut groups: BTreeMap<(String, String), SkipGroup> = BTreeMap::new();
    for s in skips {
        if s.kind == "unmatched_email" {
            let shape = s
                .reason
                .strip_prefix("no template matches: ")
                .unwrap_or(&s.reason)
                .to_string();
            unmatched
                .entry((s.source.clone(), shape.clone()))
                .or_insert_with(|| UnmatchedMail {
                    source: s.source.clone(),
                    shape,
                    count: 0,
                    example: s.location.clone(),
                })
                .count += 1;
        }
        let g = groups
            .entry((s.source.clone(), s.kind.clone()))
            .or_insert_with(|| SkipGroup {
                source: s.source.clone(),
                kind: s.kind.clone(),
                count: 0,
                examples: Vec::new(),
            });
        g.count += 1;
        // Every unmatched rule is listed; of a skipped input's kind, a few examples.
        let cap = if s.kind == crate::import::UNUSED_RULE {
            1000
        } else {
            EXAMPLES_PER_GROUP
        };
        if g.examples.len() < cap {
            g.examples.push(s.clone());
        }
    }

    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples = Vec::new();
    for r in &rec.review {
        let n = by_reason.entry(r.reason.clone()).or_insert(0);
        *n += 1;
        if *n <= REVIEW_EXAMPLES_PER_REASON {
            examples.push(ReviewExample {
                table: r.entity.table().into(),
                row_id: r.row_id.clone(),
                reason: r.reason.clone(),
                confidence: r.confidence,
                details: r.details.clone(),
            });
        }
    }

    // Aggregates by business and by month: one pass over each table.
    let mut biz: BTreeMap<String, BusinessSummary> = BTreeMap::new();
    for b in &rec.businesses {
        biz.insert(
            b.id.clone(),
            BusinessSummary {
                business_id: b.id.clone(),
                name: b.text("name").map(str::to_string),
                confidence: b.confidence,
                customers: 0,
                reservations: 0,
                payments: 0,
                payment_volume: BTreeMap::new(),
                review_items: 0,
            },
        );
    }
    let mut row_business: BTreeMap<(Entity, &str), &str> = BTreeMap::new();
    let mut months: BTreeMap<String, MonthSummary> = BTreeMap::new();
    let month_of = |r: &crate::merge::Row| {
        r.text("created_at")
            .filter(|t| t.len() >= 7)
            .map(|t| t[..7].to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    for e in [Entity::Customer, Entity::Reservation, Entity::Payment] {
        for r in rec.rows(e) {
            let Some(bid) = r.text("business_id") else {
                continue;
            };
            row_business.insert((e, r.id.as_str()), bid);
            if let Some(s) = biz.get_mut(bid) {
                match e {
                    Entity::Customer => s.customers += 1,
                    Entity::Reservation => s.reservations += 1,
                    _ => {
                        s.payments += 1;
                        let ok = matches!(
                            r.text("status"),
                            Some("succeeded" | "refunded" | "partially_refunded" | "disputed")
                        );
                        if let (true, Some(cur), Some(a)) = (
                            ok,
                            r.text("currency"),
                            r.get("amount").and_then(|v| v.as_int()),
                        ) {
                            *s.payment_volume.entry(cur.to_string()).or_insert(0) += a;
                        }
                    }
                }
            }
            if e != Entity::Customer {
                let m = months.entry(month_of(r)).or_insert_with(|| MonthSummary {
                    month: month_of(r),
                    reservations: 0,
                    payments: 0,
                    reservations_by_sources: BTreeMap::new(),
                });
                if e == Entity::Reservation {
                    m.reservations += 1;
                    *m.reservations_by_sources
                        .entry(r.sources_text())
                        .or_insert(0) += 1;
                } else {
                    m.payments += 1;
                }
            }
        }
    }
    for r in &rec.review {
        let bid = if r.entity == Entity::Business {
            Some(r.row_id.as_str())
        } else {
            row_business.get(&(r.entity, r.row_id.as_str())).copied()
        };
        if let Some(s) = bid.and_then(|b| biz.get_mut(b)) {
            s.review_items += 1;
        }
    }
    let mut by_business: Vec<BusinessSummary> = biz.into_values().collect();
    by_business.sort_by(|a, b| {
        b.review_items.cmp(&a.review_items).then_with(|| {
            (a.business_id.len(), &a.business_id).cmp(&(b.business_id.len(), &b.business_id))
        })
    });

    // The sources' offers the money and the changes compare, in one pass.
    let mut wants: Vec<(Entity, &[&str])> = changes::ENTITIES
        .iter()
        .map(|&e| (e, changes::watched(e)))
        .collect();
    wants.push((Entity::Payment, &money::COLUMNS));
    let mut offers = offers::collect_many(rec, &wants);
    let pay = offers.pop().expect("payments' offers");
    let money = money::reconcile_with(rec, &pay);
    let since_backup = changes::since_backup_with(rec, &offers);
    drop((pay, offers));
    let failed_sources = rec
        .run_info
        .iter()
        .filter_map(|(k, v)| {
            let name = k
                .strip_prefix("source.")?
                .strip_suffix(&format!(".{}", crate::claims::store::FAILED))?;
            Some(FailedSource {
                name: name.to_string(),
                error: v.clone(),
            })
        })
        .collect();
    Report {
        incident: rec.run_info.clone(),
        tables,
        sources,
        failed_sources,
        unmatched_rules: groups
            .values()
            .filter(|g| g.kind == crate::import::UNUSED_RULE)
            .cloned()
            .collect(),
        unmatched_mail: {
            let mut u: Vec<UnmatchedMail> = unmatched.into_values().collect();
            u.sort_by(|a, b| b.count.cmp(&a.count).then(a.shape.cmp(&b.shape)));
            u
        },
        notices: groups
            .values()
            .filter(|g| g.kind != crate::import::UNUSED_RULE && crate::import::is_notice(&g.kind))
            .cloned()
            .collect(),
        skipped: groups
            .into_values()
            .filter(|g| !crate::import::is_notice(&g.kind))
            .collect(),
        review: ReviewSummary {
            total: rec.review.len(),
            by_reason,
            examples,
        },
        by_business,
        by_month: months.into_values().collect(),
        money,
        since_backup,
        worklist: worklist::build(rec),
        timeline: timeline(rec),
        reliability: None,
    }
}

/// Writes `report.json` and `report.html` into `dir`, each atomically.
pub fn write(report: &Report, dir: &Path) -> Result<()> {
    let json = serde_json::to_vec_pretty(report).map_err(|e| crate::Error::Other(e.to_string()))?;
    crate::util::fsx::write_atomic(&dir.join("report.json"), &json)?;
    crate::util::fsx::write_atomic(&dir.join("report.html"), html::render(report).as_bytes())?;
    Ok(())
}
