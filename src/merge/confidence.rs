//! Confidence: the probability that a row is real (not a duplicate, not a phantom) and its
//! key fields are right. Derived from the evidence (which kinds of source support the row,
//! whether it carries the app's own id, conflicts), then mapped through a calibration
//! table measured on generated incidents with known truth (`salvage evaluate` reports the
//! calibration error).

use crate::claims::{Entity, SourceKind};

/// The evidence behind one row.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub kinds: Vec<SourceKind>,
    pub has_app_id: bool,
    pub conflicts: usize,
    /// Records in the cluster (more agreeing records, more support).
    pub records: usize,
    /// The row is only referred to by other records (a stub).
    pub stub: bool,
}

/// The raw score before calibration, in (0, 1).
pub fn score(e: Entity, ev: &Evidence) -> f64 {
    if ev.stub {
        return 0.5;
    }
    let has = |k| ev.kinds.contains(&k);
    let mut p: f64 = match ev.kinds.len() {
        0 => 0.3,
        1 if has(SourceKind::Backup) => 0.93,
        1 if has(SourceKind::Stripe) => 0.92,
        1 => 0.85,
        2 => 0.97,
        _ => 0.99,
    };
    if !ev.has_app_id && e != Entity::Payment {
        p -= 0.04;
    }
    for _ in 0..ev.conflicts {
        p *= 0.8;
    }
    p.clamp(0.01, 0.995)
}
