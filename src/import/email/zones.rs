//! A business's time zone, inferred from its mail: apps write the Date header in the
//! business's zone, so the offsets seen over the months (+02:00 in summer, +01:00 in
//! winter) pin down which IANA zones it can be in. A local time written without a zone
//! ("14/07/2026 at 19:30") is then read in that zone rather than at the offset of the day
//! the mail was sent (which is an hour off when a daylight-saving change falls between).

use crate::util::time;
use chrono::{DateTime, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};

/// Date-header offsets seen per business key.
#[derive(Debug, Default)]
pub struct ZoneObserver {
    /// key -> (offset seconds, year*12+month) -> one instant with that offset that month.
    obs: HashMap<String, BTreeMap<(i32, i32), i64>>,
}

impl ZoneObserver {
    pub fn observe(&mut self, key: &str, utc: i64, offset: i32) {
        let Some(t) = DateTime::<Utc>::from_timestamp(utc, 0) else {
            return;
        };
        use chrono::Datelike;
        let month = t.year() * 12 + t.month() as i32;
        let m = match self.obs.get_mut(key) {
            Some(m) => m,
            None => self.obs.entry(key.to_string()).or_default(),
        };
        m.entry((offset, month)).or_insert(utc);
    }

    /// For each key, the zones consistent with every offset seen (None when none is).
    pub fn infer(&self) -> HashMap<String, Vec<Tz>> {
        let mut cache: HashMap<Vec<(i32, i64)>, Vec<Tz>> = HashMap::new();
        let mut out = HashMap::new();
        for (key, m) in &self.obs {
            let obs: Vec<(i32, i64)> = m.iter().map(|((o, _), t)| (*o, *t)).collect();
            let zones = cache
                .entry(obs.clone())
                .or_insert_with(|| consistent_zones(&obs))
                .clone();
            if !zones.is_empty() {
                out.insert(key.clone(), zones);
            }
        }
        out
    }
}

fn offset_at(tz: Tz, utc: i64) -> Option<i32> {
    let t = DateTime::<Utc>::from_timestamp(utc, 0)?;
    Some(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

fn consistent_zones(obs: &[(i32, i64)]) -> Vec<Tz> {
    let Some(&(o0, t0)) = obs.first() else {
        return Vec::new();
    };
    chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .filter(|tz| offset_at(*tz, t0) == Some(o0))
        .filter(|tz| obs.iter().all(|(o, t)| offset_at(*tz, *t) == Some(*o)))
        .collect()
}

/// The instant of a wall-clock time when every candidate zone agrees on it.
pub fn resolve(candidates: &[Tz], local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let mut it = candidates
        .iter()
        .map(|tz| time::local_to_utc(local, Some(*tz)));
    let first = it.next()?;
    it.all(|t| t == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        time::parse_any(s, None).unwrap().timestamp()
    }

    #[test]
    fn summer_and_winter_offsets_pin_the_zone() {
        let mut z = ZoneObserver::default();
        z.observe("b", ts("2026-09-01T08:00:00Z"), 7200);
        z.observe("b", ts("2026-11-10T08:00:00Z"), 3600);
        z.observe("b", ts("2026-09-02T08:00:00Z"), 7200);
        // Only summer seen: Johannesburg (+2 all year) and Berlin disagree about November.
        z.observe("s", ts("2026-09-01T08:00:00Z"), 7200);
        let inf = z.infer();
        let b = &inf["b"];
        assert!(b.contains(&chrono_tz::Europe::Berlin));
        assert!(!b.contains(&chrono_tz::Africa::Johannesburg));
        let local = NaiveDateTime::parse_from_str("2026-11-14 19:30", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(
            time::format_utc(resolve(b, local).unwrap()),
            "2026-11-14T18:30:00Z"
        );
        assert_eq!(resolve(&inf["s"], local), None);
        let summer = NaiveDateTime::parse_from_str("2026-07-14 19:30", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(
            time::format_utc(resolve(&inf["s"], summer).unwrap()),
            "2026-07-14T17:30:00Z"
        );
    }
}
