//! Replay of what no source saw: how this app closes a booking once its slot has passed,
//! learned from the app's own backup.
//!
//! A booking whose slot ended before the incident, still `confirmed` in every surviving
//! source and closed by no rule of the incident file, ended somehow: the app's nightly job
//! or the business marked it completed or a no-show, or nothing ever does and it stays
//! `confirmed`. Which of these is the app's habit the backup shows: of its bookings whose
//! slot had ended when the snapshot was taken, how many were still open, completed or
//! no-shows, by how long ago the slot ended (a business may close bookings days late).
//! The habit is measured per business and shrunk towards the whole app's, so a business
//! with a handful of past bookings borrows the app's odds.
//!
//! The merge then gives such a booking the habit's likeliest state, and its confidence
//! carries the habit's odds (see [`Estimate::token`]): nothing here is hand-set, and an
//! incident whose backup holds too few past bookings to tell keeps the old behaviour
//! (`confirmed`, flagged `slot_ended_unclosed`).

use crate::claims::store::StoredRecord;
use crate::claims::{Entity, SourceKind, Value};
use crate::util::time::parse_any;
use std::collections::HashMap;

const DAY: i64 = 86_400;

/// Past bookings the app-wide habit needs in an age band before it is trusted.
const MIN_APP: u32 = 20;

/// Weight of the app-wide habit against one business's own bookings (pseudo-bookings).
const SHRINK: f64 = 10.0;

/// The age bands of a slot's end at the time of observation: 1-3 days, 3-14, older.
fn band(age_secs: i64) -> Option<usize> {
    match age_secs {
        a if a < DAY => None,
        a if a < 3 * DAY => Some(0),
        a if a < 14 * DAY => Some(1),
        _ => Some(2),
    }
}

/// Past bookings by state: still open (`confirmed`), `completed`, `no_show`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Tally {
    open: u32,
    completed: u32,
    no_show: u32,
}

impl Tally {
    fn total(&self) -> u32 {
        self.open + self.completed + self.no_show
    }
}

/// The habit, per business and app-wide, per age band.
#[derive(Debug, Default, Clone)]
pub(super) struct ClosureHabit {
    app: [Tally; 3],
    by_business: HashMap<String, [Tally; 3]>,
}

/// What the habit says of one booking: the probability of each state, and the past
/// bookings (app-wide, in its age band) it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Estimate {
    pub open: f64,
    pub completed: f64,
    pub no_show: f64,
    pub app_bookings: u32,
    pub business_bookings: u32,
}

impl Estimate {
    /// The odds for a booking already seen still open at an age whose habit is `seen`:
    /// it is one of the bookings the app had not closed by then, so its chance to be open
    /// now is the share open now among those open then (the habit closes, never reopens).
    pub fn given_open(&self, seen: &Estimate) -> Estimate {
        if seen.open <= 0.0 {
            return *self;
        }
        let open = (self.open / seen.open).min(1.0);
        let closed = self.completed + self.no_show;
        let (completed, no_show) = if closed > 0.0 {
            (
                (1.0 - open) * self.completed / closed,
                (1.0 - open) * self.no_show / closed,
            )
        } else {
            (0.0, 0.0)
        };
        Estimate {
            open,
            completed,
            no_show,
            ..*self
        }
    }

    /// The likeliest state: `None` when it is to stay open (`confirmed`).
    pub fn closed_as(&self) -> Option<&'static str> {
        if self.open >= self.completed && self.open >= self.no_show {
            None
        } else if self.completed >= self.no_show {
            Some("completed")
        } else {
            Some("no_show")
        }
    }

    /// The probability that the likeliest state is right.
    pub fn odds(&self) -> f64 {
        self.open.max(self.completed).max(self.no_show)
    }

    /// The evidence token that carries these odds into the row's signature, in tenths
    /// (`status_inferred:p8` = right 80-90% of the time by the habit;
    /// `slot_ended_unclosed:p3` = still open in 30-40% of past bookings): the calibration
    /// learns each token like any other evidence, and where it has not, the odds
    /// themselves are the prior.
    pub fn token(&self) -> String {
        let tenth = ((self.odds() * 10.0).floor() as u32).min(9);
        match self.closed_as() {
            Some(_) => format!("status_inferred:p{tenth}"),
            None => format!("slot_ended_unclosed:p{tenth}"),
        }
    }

    /// Where the inferred state comes from, for provenance and the review queue.
    pub fn basis(&self, band_of: &str) -> String {
        format!(
            "backup: past bookings {band_of} after their slot, {:.0}% still open, {:.0}% completed, {:.0}% no-show, of {} in the app ({} of this business)",
            self.open * 100.0,
            self.completed * 100.0,
            self.no_show * 100.0,
            self.app_bookings,
            self.business_bookings
        )
    }
}

/// The age band's words, for [`Estimate::basis`].
pub(super) fn band_words(age_secs: i64) -> &'static str {
    match band(age_secs) {
        Some(0) => "1-3 days",
        Some(1) => "3-14 days",
        _ => "14+ days",
    }
}

impl ClosureHabit {
    /// Measures the habit on the backup's reservation records (deleted ones left out):
    /// each with a slot that had ended at least a day before its snapshot.
    pub fn learn(records: &[StoredRecord]) -> Self {
        let mut h = ClosureHabit::default();
        for r in records
            .iter()
            .filter(|r| r.kind == SourceKind::Backup && r.record.entity == Entity::Reservation)
        {
            let rec = &r.record;
            if rec.get("deleted").is_some_and(|v| !v.is_null()) {
                continue;
            }
            let Some(seen) = rec.observed_at.as_deref().and_then(|t| parse_any(t, None)) else {
                continue;
            };
            let end = ["ends_at", "starts_at"]
                .iter()
                .find_map(|c| match rec.get(c) {
                    Some(Value::Text(t)) => parse_any(t, None),
                    _ => None,
                });
            let Some(b) = end.and_then(|end| band((seen - end).num_seconds())) else {
                continue;
            };
            let slot = |t: &mut Tally| match rec.get("status") {
                Some(Value::Text(s)) if s == "confirmed" => t.open += 1,
                Some(Value::Text(s)) if s == "completed" => t.completed += 1,
                Some(Value::Text(s)) if s == "no_show" => t.no_show += 1,
                _ => {}
            };
            slot(&mut h.app[b]);
            if let Some(biz) = rec.get("business_id").and_then(Value::render) {
                slot(&mut h.by_business.entry(biz).or_default()[b]);
            }
        }
        h
    }

    /// The app-wide habit per age band, as run_info shows it: past bookings still open,
    /// completed and no-show at the snapshot.
    pub fn summary(&self) -> serde_json::Value {
        let band = |t: &Tally| serde_json::json!([t.open, t.completed, t.no_show]);
        serde_json::json!({
            "open_completed_no_show": {
                "1-3 days": band(&self.app[0]),
                "3-14 days": band(&self.app[1]),
                "14+ days": band(&self.app[2]),
            },
            "businesses": self.by_business.len(),
        })
    }

    /// The habit for a booking of `business` whose slot ended `age_secs` before the
    /// incident, or `None` when the backup holds too few past bookings of that age.
    pub fn estimate(&self, business: Option<&str>, age_secs: i64) -> Option<Estimate> {
        let b = band(age_secs)?;
        let app = self.app[b];
        if app.total() < MIN_APP {
            return None;
        }
        let own = business
            .and_then(|id| self.by_business.get(id))
            .map_or(Tally::default(), |t| t[b]);
        let n = own.total() as f64 + SHRINK;
        let p =
            |own: u32, app_n: u32| (own as f64 + SHRINK * app_n as f64 / app.total() as f64) / n;
        Some(Estimate {
            open: p(own.open, app.open),
            completed: p(own.completed, app.completed),
            no_show: p(own.no_show, app.no_show),
            app_bookings: app.total(),
            business_bookings: own.total(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Record;

    fn booking(biz: &str, ends: &str, status: &str) -> StoredRecord {
        let mut r = Record::new(
            Entity::Reservation,
            format!("backup:bookings#{biz}-{ends}-{status}"),
            Some("2026-08-22T03:00:00Z".into()),
        );
        r.set("business_id", Value::text(biz));
        r.set("ends_at", Value::text(ends));
        r.set("status", Value::text(status));
        StoredRecord::new("backup", SourceKind::Backup, r)
    }

    #[test]
    fn the_backup_shows_how_past_bookings_end() {
        let mut recs = Vec::new();
        for i in 0..40 {
            // Business 1 closes every booking; business 2 never does.
            let status = if i % 10 == 0 { "no_show" } else { "completed" };
            recs.push(booking("1", "2026-06-01T10:00:00Z", status));
            if i < 8 {
                recs.push(booking("2", "2026-06-01T10:00:00Z", "confirmed"));
            }
        }
        // Future slots and slots that ended within the day say nothing of the habit.
        recs.push(booking("1", "2026-09-01T10:00:00Z", "confirmed"));
        recs.push(booking("1", "2026-08-21T20:00:00Z", "confirmed"));
        let h = ClosureHabit::learn(&recs);
        let month = 30 * DAY;
        let one = h.estimate(Some("1"), month).unwrap();
        assert_eq!(one.closed_as(), Some("completed"));
        assert!(
            one.completed > 0.8 && one.odds() == one.completed,
            "{one:?}"
        );
        assert_eq!(one.token(), "status_inferred:p8");
        // Business 2's own eight open bookings outweigh the app's habit.
        let two = h.estimate(Some("2"), month).unwrap();
        assert_eq!(two.closed_as(), None, "{two:?}");
        assert!(two.token().starts_with("slot_ended_unclosed:p"));
        // A business the backup does not know gets the app's odds.
        let new = h.estimate(Some("9"), month).unwrap();
        assert!((new.completed - 36.0 / 48.0).abs() < 1e-9, "{new:?}");
        // A booking seen still open three weeks after its slot is one the habit left open.
        let seen = h.estimate(Some("1"), 21 * DAY).unwrap();
        let later = one.given_open(&seen);
        assert_eq!(later.closed_as(), None, "{later:?}");
        assert_eq!(later.open, 1.0);
        // No past bookings of that age: nothing to say.
        assert_eq!(h.estimate(Some("1"), 2 * DAY), None);
        assert_eq!(h.estimate(Some("1"), 3600), None);
    }
}
