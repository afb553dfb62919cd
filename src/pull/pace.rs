//! Pacing: Stripe's read limits as a schedule, so a pull runs at the limit without
//! provoking 429s.
//!
//! Each request takes the next free slot of the global schedule (`rate` per second) and of
//! its resource's (`per_resource` per second), both evenly spaced (a generic cell rate
//! algorithm: no bursts, so a server counting requests per second never sees more than the
//! rate). A 429 slows the whole pull: the rate drops by a sixth (at most once per half
//! second, however many workers saw one), and the schedule pauses only when Stripe says
//! how long (`Retry-After`); every quarter second without a 429 gives back a twentieth of
//! the configured rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The schedule runs this far under the limits: requests sent evenly arrive unevenly
/// (threads wake late, packets queue), and a server counting a sliding second would see
/// the odd second over the limit.
const HEADROOM: f64 = 0.98;

pub struct Pacer {
    max_rate: f64,
    per_resource: f64,
    state: Mutex<State>,
}

struct State {
    rate: f64,
    next: Instant,
    next_by_resource: HashMap<String, Instant>,
    last_slowdown: Instant,
    last_recovery: Instant,
}

impl Pacer {
    /// `rate` requests per second in all, `per_resource` per second for any one resource.
    pub fn new(rate: f64, per_resource: f64) -> Pacer {
        let now = Instant::now();
        let (rate, per_resource) = (rate * HEADROOM, per_resource * HEADROOM);
        Pacer {
            max_rate: rate.max(0.1),
            per_resource: per_resource.max(0.1),
            state: Mutex::new(State {
                rate: rate.max(0.1),
                next: now,
                next_by_resource: HashMap::new(),
                last_slowdown: now.checked_sub(Duration::from_secs(1)).unwrap_or(now),
                last_recovery: now,
            }),
        }
    }

    /// Waits for this request's slot.
    pub fn acquire(&self, resource: &str) {
        let at = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if s.rate < self.max_rate
                && now.duration_since(s.last_recovery) >= Duration::from_millis(250)
            {
                s.rate = (s.rate + self.max_rate / 20.0).min(self.max_rate);
                s.last_recovery = now;
            }
            let global = s.next.max(now);
            let own = s
                .next_by_resource
                .get(resource)
                .copied()
                .unwrap_or(now)
                .max(now);
            let at = global.max(own);
            s.next = global + Duration::from_secs_f64(1.0 / s.rate);
            s.next_by_resource.insert(
                resource.to_string(),
                at + Duration::from_secs_f64(1.0 / self.per_resource),
            );
            at
        };
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
    }

    /// A 429 arrived: slow down, and pause the whole schedule for `pause` when the
    /// server said how long (`Retry-After`).
    pub fn rate_limited(&self, pause: Option<Duration>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if now.duration_since(s.last_slowdown) >= Duration::from_millis(500) {
            s.rate = (s.rate * 5.0 / 6.0).max(self.max_rate / 20.0);
            s.last_slowdown = now;
        }
        s.last_recovery = now;
        if let Some(p) = pause {
            s.next = s.next.max(now + p);
        }
    }

    /// The rate in force now.
    pub fn rate(&self) -> f64 {
        self.state.lock().map(|s| s.rate).unwrap_or(self.max_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_spaced_at_the_rate() {
        let p = Pacer::new(200.0, 200.0);
        let t = Instant::now();
        for _ in 0..41 {
            p.acquire("charges");
        }
        let e = t.elapsed().as_secs_f64();
        // 40 gaps of 5 ms.
        // Never faster than the rate (a loaded machine may be slower).
        assert!(e >= 0.2, "{e}");
    }

    #[test]
    fn one_resource_is_held_to_its_own_rate() {
        let p = Pacer::new(1000.0, 100.0);
        let t = Instant::now();
        for _ in 0..11 {
            p.acquire("charges");
        }
        assert!(t.elapsed() >= Duration::from_millis(95));
    }

    #[test]
    fn a_429_slows_the_pull_and_it_recovers() {
        let p = Pacer::new(90.0 / HEADROOM, 90.0);
        p.rate_limited(None);
        assert!((p.rate() - 75.0).abs() < 1e-9);
        p.rate_limited(Some(Duration::from_millis(1)));
        assert!((p.rate() - 75.0).abs() < 1e-9, "once per half second");
        std::thread::sleep(Duration::from_millis(260));
        p.acquire("x");
        assert!(p.rate() > 75.0);
    }
}
