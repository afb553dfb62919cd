//! Confidence: the probability that a row is real (not a duplicate, not a phantom) and its
//! key fields are right.
//!
//! Each row's evidence is summarised as a *signature* (entity, which kinds of source
//! support it, whether any carries the app's own id, which problems it has). The
//! calibration table `calibration.tsv` beside this file gives, per signature, how many rows
//! of generated incidents with known truth had it and how many were right; the confidence
//! is that rate (Laplace-smoothed). `salvage samples calibrate` measures the table anew. A
//! signature the table has not seen often enough falls back to a prior from the same
//! evidence. The signature is exported (`row_evidence`) so a reviewer sees why a row
//! scored what it did.

use crate::claims::{Entity, SourceKind};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The evidence behind one row.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub kinds: Vec<SourceKind>,
    pub has_app_id: bool,
    /// Problems found while building the row (`conflict:amount`, `status_unknown`, ...).
    pub problems: Vec<String>,
    /// The row is only referred to by other records (a stub).
    pub stub: bool,
}

impl Evidence {
    /// `reservation|email,stripe|noid|status_unknown`: what the calibration is keyed on.
    pub fn signature(&self, e: Entity) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.as_str()).collect();
        let mut problems = self.problems.clone();
        problems.sort();
        problems.dedup();
        format!(
            "{}|{}|{}|{}",
            e.as_str(),
            if self.stub {
                "stub".to_string()
            } else {
                kinds.join(",")
            },
            if self.has_app_id { "id" } else { "noid" },
            if problems.is_empty() {
                "ok".to_string()
            } else {
                problems.join(",")
            }
        )
    }
}

/// A signature needs this many measured rows before its rate replaces the prior.
const MIN_ROWS: u64 = 20;

fn table() -> &'static HashMap<String, (u64, u64)> {
    static T: OnceLock<HashMap<String, (u64, u64)>> = OnceLock::new();
    T.get_or_init(|| parse_table(include_str!("calibration.tsv")))
}

/// Parses `signature<TAB>rows<TAB>correct` lines (`#` comments).
pub fn parse_table(text: &str) -> HashMap<String, (u64, u64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut it = l.split('\t');
            let sig = it.next()?.to_string();
            let rows = it.next()?.trim().parse().ok()?;
            let correct = it.next()?.trim().parse().ok()?;
            Some((sig, (rows, correct)))
        })
        .collect()
}

/// The calibrated confidence of a row with this evidence.
pub fn score(e: Entity, ev: &Evidence) -> f64 {
    score_with(table(), e, ev)
}

/// The confidence a calibration `table` gives this evidence (the shipped table, or one
/// fitted on other data to test how it holds).
pub fn score_with(table: &HashMap<String, (u64, u64)>, e: Entity, ev: &Evidence) -> f64 {
    match table.get(&ev.signature(e)) {
        Some(&(rows, correct)) if rows >= MIN_ROWS => {
            ((correct as f64 + 0.5) / (rows as f64 + 1.0)).clamp(0.01, 0.995)
        }
        _ => prior(e, ev),
    }
}

impl Evidence {
    /// The evidence a signature says (the inverse of [`Evidence::signature`]).
    pub fn from_signature(sig: &str) -> Option<(Entity, Evidence)> {
        let mut it = sig.split('|');
        let e = Entity::parse(it.next()?)?;
        let kinds = it.next()?;
        let id = it.next()?;
        let problems = it.next()?;
        let stub = kinds == "stub";
        Some((
            e,
            Evidence {
                kinds: if stub {
                    Vec::new()
                } else {
                    kinds.split(',').filter_map(SourceKind::parse).collect()
                },
                has_app_id: id == "id",
                problems: match problems {
                    "ok" => Vec::new(),
                    p => p.split(',').map(str::to_string).collect(),
                },
                stub,
            },
        ))
    }
}

/// The score before calibration: more kinds of agreeing source, more trust; no app id or
/// any problem, less.
pub fn prior(e: Entity, ev: &Evidence) -> f64 {
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
    for pr in &ev.problems {
        p *= match pr.as_str() {
            "status_unknown" => 0.3,
            // Nothing says what became of a booking whose slot ended: even odds.
            "slot_ended_unclosed" => 0.5,
            // A state replayed from the app's habit carries the habit's odds, in tenths
            // (`status_inferred:p8`, see merge::closure).
            p => odds_token(p).unwrap_or(0.8),
        };
    }
    p.clamp(0.01, 0.995)
}

/// The odds an evidence token carries in tenths (`status_inferred:p8` -> 0.85).
fn odds_token(problem: &str) -> Option<f64> {
    let (_, tenth) = problem.rsplit_once(":p")?;
    let tenth: u8 = tenth.parse().ok().filter(|t| *t <= 9)?;
    Some((f64::from(tenth) + 0.5) / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replayed_state_carries_its_odds() {
        let ev = |problem: &str| Evidence {
            kinds: vec![SourceKind::Backup],
            has_app_id: true,
            problems: vec![problem.into()],
            stub: false,
        };
        let p9 = prior(Entity::Reservation, &ev("status_inferred:p9"));
        let p2 = prior(Entity::Reservation, &ev("slot_ended_unclosed:p2"));
        assert!((p9 - 0.93 * 0.95).abs() < 1e-9, "{p9}");
        assert!((p2 - 0.93 * 0.25).abs() < 1e-9, "{p2}");
        assert_eq!(odds_token("conflict:amount"), None);
        assert_eq!(odds_token("x:p10"), None);
    }

    #[test]
    fn a_signature_reads_back() {
        let sig = "reservation|email,stripe|noid|conflict:amount,status_unknown";
        let (e, ev) = Evidence::from_signature(sig).unwrap();
        assert_eq!(ev.signature(e), sig);
    }

    #[test]
    fn signatures_are_stable() {
        let ev = Evidence {
            kinds: vec![SourceKind::Email, SourceKind::Stripe],
            has_app_id: false,
            problems: vec!["status_unknown".into(), "conflict:amount".into()],
            stub: false,
        };
        assert_eq!(
            ev.signature(Entity::Reservation),
            "reservation|email,stripe|noid|conflict:amount,status_unknown"
        );
    }

    #[test]
    fn measured_rates_replace_the_prior() {
        let t = parse_table("# c\nx|a|id|ok\t100\t90\ny\t3\t3\n");
        assert_eq!(t["x|a|id|ok"], (100, 90));
        assert_eq!(t.len(), 2);
        let ev = Evidence {
            kinds: vec![SourceKind::Stripe],
            has_app_id: false,
            problems: vec!["status_unknown".into()],
            stub: false,
        };
        assert!(prior(Entity::Reservation, &ev) < 0.5);
    }
}
