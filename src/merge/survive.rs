//! Survivorship: which offered value of a field wins, and which disagreements matter.
//!
//! Two policies, chosen per field:
//! * **latest** (state that changes: a booking's status and time, a payment's refunds):
//!   the value observed last wins; this is the replay of what happened after the backup.
//! * **trust** (facts that do not change: names, emails, amounts): the most trusted kind
//!   of source for that field wins; then agreement (how many sources say it); then recency.

use crate::claims::{Entity, SourceKind, Value};

/// One value one record offered for a column.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub value: Value,
    pub kind: SourceKind,
    pub source_ref: String,
    pub observed_at: Option<String>,
    /// The record carries the app's own id (its values come from the app's own data).
    pub has_app_id: bool,
}

/// Fields whose value is the state at a time: the latest observation wins.
pub fn is_state_field(e: Entity, col: &str) -> bool {
    match e {
        Entity::Reservation => matches!(
            col,
            "status" | "starts_at" | "ends_at" | "party_size" | "service" | "amount" | "updated_at"
        ),
        Entity::Payment => matches!(col, "status" | "amount_refunded"),
        // People fix a mistyped email: the newest address wins.
        Entity::Customer => col == "email",
        _ => false,
    }
}

/// How much a kind of source is trusted for a field (higher wins).
pub fn trust(e: Entity, col: &str, kind: SourceKind) -> u8 {
    use SourceKind::*;
    let order: [SourceKind; 3] = match (e, col) {
        // The id the app itself stored is the one to export.
        (Entity::Payment, "processor_id") => [Backup, Stripe, Email],
        (Entity::Payment, _) => [Stripe, Backup, Email],
        (Entity::Customer, "stripe_customer") => [Backup, Stripe, Email],
        (Entity::Customer, "phone") => [Backup, Stripe, Email],
        (Entity::Customer, _) => [Backup, Email, Stripe],
        (Entity::Business, _) => [Backup, Stripe, Email],
        (Entity::Reservation, _) => [Backup, Email, Stripe],
    };
    3 - order.iter().position(|k| *k == kind).unwrap_or(3) as u8
}

/// Among values of equal trust, which kind of value is preferred (higher wins): a
/// payment's Stripe id is its Checkout Session, else its PaymentIntent, else its charge
/// (an importer offers only the kinds the app stores).
fn rank(e: Entity, col: &str, v: &Value) -> u8 {
    match (e, col, v) {
        // States only move forward: at one moment, the source that shows the later state
        // of the lifecycle knows more (a Dashboard export still says succeeded while the
        // API's charge is disputed).
        (Entity::Payment, "status", Value::Text(s)) => match s.as_str() {
            "pending" => 0,
            "failed" | "succeeded" => 1,
            "partially_refunded" => 2,
            "refunded" => 3,
            "disputed" => 4,
            _ => 0,
        },
        (Entity::Reservation, "status", Value::Text(s)) => match s.as_str() {
            "pending" => 0,
            "confirmed" => 1,
            "cancelled" | "completed" | "no_show" => 2,
            _ => 0,
        },
        (Entity::Payment, "processor_id", Value::Text(id)) => {
            match super::identity::stripe_kind(id) {
                Some("checkout_session") => 3,
                Some("payment_intent") => 2,
                Some("charge") => 1,
                _ => 0,
            }
        }
        _ => 0,
    }
}

/// Disagreements a person must see (`conflict:<column>` in the review queue).
pub fn conflict_matters(e: Entity, col: &str) -> bool {
    matches!(
        (e, col),
        (Entity::Payment, "amount")
            | (Entity::Payment, "currency")
            | (Entity::Payment, "status")
            | (Entity::Reservation, "amount")
            | (Entity::Reservation, "status")
            | (Entity::Customer, "email")
    )
}

/// The outcome for one column.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: Value,
    /// Distinct values among the candidates that competed on equal footing.
    pub conflict: bool,
}

/// Picks the winning value among `cands` (non-empty). Deterministic.
pub fn choose(e: Entity, col: &str, cands: &[Candidate]) -> Choice {
    let state = is_state_field(e, col);
    // Votes per distinct value: (best trust, number of distinct kinds, latest observed, app id).
    type Tally = (Value, u8, Vec<SourceKind>, Option<String>, bool);
    let mut tally: Vec<Tally> = Vec::new();
    for c in cands {
        let t = trust(e, col, c.kind);
        match tally.iter_mut().find(|x| x.0 == c.value) {
            Some(x) => {
                x.1 = x.1.max(t);
                if !x.2.contains(&c.kind) {
                    x.2.push(c.kind);
                }
                if c.observed_at > x.3 {
                    x.3 = c.observed_at.clone();
                }
                x.4 |= c.has_app_id;
            }
            None => tally.push((
                c.value.clone(),
                t,
                vec![c.kind],
                c.observed_at.clone(),
                c.has_app_id,
            )),
        }
    }
    let key = |x: &Tally| {
        if state {
            (x.3.clone(), x.1, rank(e, col, &x.0), x.4, x.2.len())
        } else {
            (Some(String::new()), x.1, rank(e, col, &x.0), x.4, x.2.len())
        }
    };
    tally.sort_by(|a, b| {
        key(b)
            .cmp(&key(a))
            .then_with(|| b.3.cmp(&a.3))
            .then_with(|| a.0.cmp(&b.0))
    });
    let winner = &tally[0];
    let conflict = if tally.len() < 2 {
        false
    } else if state {
        // Two different values observed at the same latest moment.
        tally[1].3 == winner.3
    } else {
        // A fact on which sources disagree.
        true
    };
    Choice {
        value: winner.0.clone(),
        conflict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: &str, kind: SourceKind, at: &str) -> Candidate {
        Candidate {
            value: Value::text(v),
            kind,
            source_ref: format!("{kind}:{v}"),
            observed_at: Some(at.into()),
            has_app_id: kind == SourceKind::Backup,
        }
    }

    #[test]
    fn later_email_replays_over_backup() {
        let cands = [
            c("confirmed", SourceKind::Backup, "2026-08-22T03:00:00Z"),
            c("cancelled", SourceKind::Email, "2026-09-01T10:00:00Z"),
            c("confirmed", SourceKind::Email, "2026-05-01T10:00:00Z"),
        ];
        let ch = choose(Entity::Reservation, "status", &cands);
        assert_eq!(ch.value, Value::text("cancelled"));
        assert!(!ch.conflict);
    }

    #[test]
    fn at_one_moment_the_later_state_wins_and_is_a_conflict() {
        // The Dashboard export (with the app's id in its metadata) still says succeeded;
        // the API's charge, read at the same moment, is disputed.
        let mut export = c("succeeded", SourceKind::Stripe, "2026-11-20T14:30:00Z");
        export.has_app_id = true;
        let api = c("disputed", SourceKind::Stripe, "2026-11-20T14:30:00Z");
        let ch = choose(Entity::Payment, "status", &[export, api]);
        assert_eq!(ch.value, Value::text("disputed"));
        assert!(ch.conflict);
    }

    #[test]
    fn trusted_source_wins_static_fields() {
        let cands = [
            c("Jose Muller", SourceKind::Stripe, "2026-11-20T00:00:00Z"),
            c("José Müller", SourceKind::Backup, "2026-08-22T03:00:00Z"),
        ];
        let ch = choose(Entity::Customer, "name", &cands);
        assert_eq!(ch.value, Value::text("José Müller"));
        let amounts = [
            c("100", SourceKind::Stripe, "2026-11-20T00:00:00Z"),
            c("120", SourceKind::Backup, "2026-08-22T03:00:00Z"),
        ];
        let ch = choose(Entity::Payment, "amount", &amounts);
        assert_eq!(ch.value, Value::text("100"));
        assert!(ch.conflict, "Stripe and the backup disagree on an amount");
    }
}
