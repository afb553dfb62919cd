//! What each business needs the morning after: the bookings the evidence supports from a
//! moment on (by default the incident), per business, as CSV and as an iCalendar file it
//! can import, times in the business's own zone, doubtful ones marked.
//!
//! Reads only the exported contract file (`recovered.sqlite`: its tables, `review_queue`
//! and the businesses' `extras`), like any other program that reads the rebuild; it never
//! sees a source.

use crate::error::{Error, Result};
use crate::util::{money, time};
use chrono_tz::Tz;
use rusqlite::params;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What to put in the schedule.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bookings that start at or after this contract time (default: the incident time).
    pub from: Option<String>,
    /// ... and before this many days later (none: every later booking).
    pub days: Option<i64>,
    /// Only these businesses (by id); empty: all.
    pub businesses: Vec<String>,
    /// A booking below this confidence is marked for checking.
    pub min_confidence: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            from: None,
            days: None,
            businesses: Vec::new(),
            min_confidence: 0.8,
        }
    }
}

/// One upcoming booking as a business reads it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Booking {
    pub reservation_id: String,
    pub reference: Option<String>,
    /// Contract (UTC) times.
    pub starts_at: String,
    pub ends_at: Option<String>,
    /// The same in the business's zone, `2026-11-21 09:30`.
    pub starts_local: String,
    pub ends_local: Option<String>,
    pub service: Option<String>,
    pub party_size: Option<i64>,
    pub status: String,
    pub customer: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `paid`, `part paid`, `no payment recorded` (a price, and no payment that moved
    /// money: paid at the desk, or not yet), `nothing to pay`, or `unknown` (no price and
    /// no payment).
    pub paid: &'static str,
    pub price: Option<String>,
    pub paid_amount: Option<String>,
    pub confidence: f64,
    /// Why a person should look before relying on it (empty: nothing to check).
    pub check: Vec<String>,
}

/// The schedule of one business.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BusinessSchedule {
    pub business_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The zone times are shown in (`UTC` when no source gave the business's).
    pub zone: String,
    pub zone_known: bool,
    pub bookings: Vec<Booking>,
    /// Bookings in the window that are cancelled (not in the files, counted).
    pub cancelled: usize,
}

/// The schedules of a recovered file.
#[derive(Debug, Clone)]
pub struct Schedules {
    /// Bookings from this contract time on.
    pub from: String,
    /// When the rebuild was made (run_info `finished_at`, else `from`): the files' DTSTAMP,
    /// so the same rebuild gives the same files and a newer one newer events.
    pub made_at: String,
    pub businesses: Vec<BusinessSchedule>,
}

/// Reads the schedules out of a recovered file.
pub fn build(recovered: &Path, opts: &Options) -> Result<Schedules> {
    let conn = crate::contract::open_recovered(recovered)?;
    let err = |e| Error::sqlite(recovered, e);
    let from = match &opts.from {
        Some(f) => time::normalize(f, None).ok_or_else(|| {
            Error::input(
                recovered,
                format!("--from {f:?} is not a time (e.g. 2026-11-20T14:30:00Z)"),
            )
        })?,
        None => conn
            .query_row(
                "SELECT value FROM run_info WHERE key = 'incident_at'",
                [],
                |r| r.get::<_, String>(0),
            )
            .map_err(|_| {
                Error::input(
                    recovered,
                    "has no incident_at in run_info; give --from (e.g. 2026-11-20T14:30:00Z)",
                )
            })?,
    };
    let until = match opts.days {
        Some(d) => {
            let t = time::parse_any(&from, None)
                .ok_or_else(|| Error::input(recovered, format!("bad time {from:?}")))?;
            time::format_utc(t + chrono::Duration::days(d))
        }
        None => "9999".to_string(),
    };

    // Businesses: name, email, zone (from extras).
    let has_extras = conn
        .prepare("SELECT extras FROM businesses LIMIT 0")
        .is_ok();
    let mut businesses: BTreeMap<String, BusinessSchedule> = BTreeMap::new();
    {
        let sql = format!(
            "SELECT id, name, email, {} FROM businesses",
            if has_extras { "extras" } else { "NULL" }
        );
        let mut st = conn.prepare(&sql).map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let id: String = r.get(0).map_err(err)?;
            if !opts.businesses.is_empty() && !opts.businesses.contains(&id) {
                continue;
            }
            let extras: Option<String> = r.get(3).map_err(err)?;
            let zone = extras
                .and_then(|j| serde_json::from_str::<HashMap<String, String>>(&j).ok())
                .and_then(|m| m.get("timezone").cloned())
                .and_then(|z| time::parse_zone(&z).map(|_| z));
            businesses.insert(
                id.clone(),
                BusinessSchedule {
                    business_id: id,
                    name: r.get(1).map_err(err)?,
                    email: r.get(2).map_err(err)?,
                    zone_known: zone.is_some(),
                    zone: zone.unwrap_or_else(|| "UTC".into()),
                    bookings: Vec::new(),
                    cancelled: 0,
                },
            );
        }
    }
    for b in &opts.businesses {
        if !businesses.contains_key(b) {
            return Err(Error::input(
                recovered,
                format!("no business with id {b:?} in this file"),
            ));
        }
    }

    // Money that moved per reservation of the window.
    let mut paid: HashMap<String, (i64, String)> = HashMap::new();
    {
        let mut st = conn
            .prepare(
                "SELECT p.reservation_id, p.currency,
                        SUM(CASE WHEN p.status IN ('succeeded','partially_refunded','disputed')
                                 THEN p.amount - p.amount_refunded ELSE 0 END)
                 FROM payments p JOIN reservations r ON r.id = p.reservation_id
                 WHERE r.starts_at >= ?1 AND r.starts_at < ?2
                 GROUP BY p.reservation_id, p.currency",
            )
            .map_err(err)?;
        let mut rows = st.query(params![from, until]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let (id, cur, sum): (String, String, i64) = (
                r.get(0).map_err(err)?,
                r.get(1).map_err(err)?,
                r.get::<_, Option<i64>>(2).map_err(err)?.unwrap_or(0),
            );
            let e = paid.entry(id).or_insert((0, cur));
            e.0 += sum;
        }
    }
    // Why a reservation of the window is in the review queue.
    let mut reviewed: HashMap<String, Vec<String>> = HashMap::new();
    {
        let mut st = conn
            .prepare(
                "SELECT DISTINCT q.row_id, q.reason FROM review_queue q
                 JOIN reservations r ON r.id = q.row_id
                 WHERE q.table_name = 'reservations' AND r.starts_at >= ?1 AND r.starts_at < ?2
                 ORDER BY q.row_id, q.reason",
            )
            .map_err(err)?;
        let mut rows = st.query(params![from, until]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            reviewed
                .entry(r.get(0).map_err(err)?)
                .or_default()
                .push(r.get(1).map_err(err)?);
        }
    }

    let mut st = conn
        .prepare(
            "SELECT r.id, r.business_id, r.reference, r.service, r.starts_at, r.ends_at,
                    r.party_size, r.status, r.amount, r.currency, r.confidence,
                    c.name, c.email, c.phone
             FROM reservations r LEFT JOIN customers c ON c.id = r.customer_id
             WHERE r.starts_at >= ?1 AND r.starts_at < ?2
             ORDER BY r.business_id, r.starts_at, r.id",
        )
        .map_err(err)?;
    let mut rows = st.query(params![from, until]).map_err(err)?;
    let mut zones: HashMap<String, Option<Tz>> = HashMap::new();
    while let Some(r) = rows.next().map_err(err)? {
        let business_id: String = r.get(1).map_err(err)?;
        let Some(b) = businesses.get_mut(&business_id) else {
            continue;
        };
        let status: String = r.get(7).map_err(err)?;
        if !matches!(status.as_str(), "confirmed" | "pending") {
            b.cancelled += usize::from(status == "cancelled");
            continue;
        }
        let tz = *zones
            .entry(b.zone.clone())
            .or_insert_with(|| time::parse_zone(&b.zone));
        let local = |t: &str| -> String {
            match (time::parse_any(t, None), tz) {
                (Some(u), Some(z)) => u.with_timezone(&z).format("%Y-%m-%d %H:%M").to_string(),
                (Some(u), None) => u.format("%Y-%m-%d %H:%M").to_string(),
                _ => t.to_string(),
            }
        };
        let id: String = r.get(0).map_err(err)?;
        let starts_at: String = r.get(4).map_err(err)?;
        let ends_at: Option<String> = r.get(5).map_err(err)?;
        let amount: Option<i64> = r.get(8).map_err(err)?;
        let currency: Option<String> = r.get(9).map_err(err)?;
        let confidence: f64 = r.get(10).map_err(err)?;
        let moved = paid.get(&id);
        let paid_state = match (amount, moved) {
            (Some(a), Some((m, _))) if *m >= a && *m > 0 => "paid",
            (None, Some((m, _))) if *m > 0 => "paid",
            (_, Some((m, _))) if *m > 0 => "part paid",
            (Some(a), _) if a > 0 => "no payment recorded",
            (Some(_), _) => "nothing to pay",
            (None, _) => "unknown",
        };
        let mut check = Vec::new();
        if confidence < opts.min_confidence {
            check.push(format!("confidence {confidence:.2}"));
        }
        if status == "pending" {
            check.push("pending: not confirmed".into());
        }
        if let Some(reasons) = reviewed.get(&id) {
            check.extend(reasons.iter().map(|r| format!("review: {r}")));
        }
        b.bookings.push(Booking {
            reservation_id: id,
            reference: r.get(2).map_err(err)?,
            starts_local: local(&starts_at),
            ends_local: ends_at.as_deref().map(local),
            starts_at,
            ends_at,
            service: r.get(3).map_err(err)?,
            party_size: r.get(6).map_err(err)?,
            status,
            customer: r.get(11).map_err(err)?,
            email: r.get(12).map_err(err)?,
            phone: r.get(13).map_err(err)?,
            paid: paid_state,
            price: amount
                .zip(currency.as_deref())
                .map(|(a, c)| money::format_major(a, c)),
            paid_amount: moved.map(|(m, c)| money::format_major(*m, c)),
            confidence,
            check,
        });
    }
    let made_at = conn
        .query_row(
            "SELECT value FROM run_info WHERE key = 'finished_at'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap_or_else(|_| from.clone());
    Ok(Schedules {
        from,
        made_at,
        businesses: businesses.into_values().collect(),
    })
}

/// The file name of a business's schedule: its id, kept to safe characters.
fn file_stem(business_id: &str) -> String {
    let safe: String = business_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("business-{safe}")
}

/// One business's bookings as CSV.
pub fn to_csv(s: &BusinessSchedule) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let head = [
        "starts",
        "ends",
        "zone",
        "customer",
        "email",
        "phone",
        "party",
        "service",
        "reference",
        "status",
        "paid",
        "price",
        "paid_amount",
        "confidence",
        "check",
        "reservation_id",
    ];
    let io = |e: csv::Error| Error::Other(format!("writing a schedule: {e}"));
    w.write_record(head).map_err(io)?;
    for b in &s.bookings {
        w.write_record([
            b.starts_local.as_str(),
            b.ends_local.as_deref().unwrap_or(""),
            s.zone.as_str(),
            b.customer.as_deref().unwrap_or(""),
            b.email.as_deref().unwrap_or(""),
            b.phone.as_deref().unwrap_or(""),
            &b.party_size.map(|p| p.to_string()).unwrap_or_default(),
            b.service.as_deref().unwrap_or(""),
            b.reference.as_deref().unwrap_or(""),
            b.status.as_str(),
            b.paid,
            b.price.as_deref().unwrap_or(""),
            b.paid_amount.as_deref().unwrap_or(""),
            &format!("{:.2}", b.confidence),
            &b.check.join("; "),
            b.reservation_id.as_str(),
        ])
        .map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| Error::Other(format!("writing a schedule: {e}")))
}

/// One business's bookings as an iCalendar file: times in UTC (every calendar shows them
/// in its own zone), a booking to check is TENTATIVE and its title starts with `[check]`.
pub fn to_ics(s: &BusinessSchedule, stamp: chrono::DateTime<chrono::Utc>) -> String {
    use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
    let mut cal = Calendar::new();
    cal.name(&format!(
        "{} (recovered bookings)",
        s.name.as_deref().unwrap_or(&s.business_id)
    ));
    for b in &s.bookings {
        let Some(start) = time::parse_any(&b.starts_at, None) else {
            continue;
        };
        let end = b
            .ends_at
            .as_deref()
            .and_then(|e| time::parse_any(e, None))
            .unwrap_or(start + chrono::Duration::hours(1));
        let who = b.customer.as_deref().or(b.email.as_deref()).unwrap_or("?");
        let what = b.service.as_deref().unwrap_or("booking");
        let party = b.party_size.map(|p| format!(" ({p})")).unwrap_or_default();
        let mark = if b.check.is_empty() { "" } else { "[check] " };
        let mut lines = vec![
            format!("Customer: {who}"),
            format!(
                "Contact: {}",
                [b.email.as_deref(), b.phone.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("Paid: {}", b.paid),
        ];
        if let Some(r) = &b.reference {
            lines.push(format!("Reference: {r}"));
        }
        lines.push(format!(
            "Recovered by Salvage, confidence {:.2}",
            b.confidence
        ));
        if !b.check.is_empty() {
            lines.push(format!("Check: {}", b.check.join("; ")));
        }
        let mut ev = Event::new();
        ev.uid(&format!("{}@salvage.recovered", b.reservation_id))
            .timestamp(stamp)
            .summary(&format!("{mark}{what} – {who}{party}"))
            .description(&lines.join("\n"))
            .starts(start)
            .ends(end)
            .status(if b.check.is_empty() && b.status == "confirmed" {
                EventStatus::Confirmed
            } else {
                EventStatus::Tentative
            });
        cal.push(ev.done());
    }
    cal.done().to_string()
}

/// What [`write`] wrote.
#[derive(Debug, Default)]
pub struct Written {
    pub dir: PathBuf,
    pub businesses: usize,
    pub bookings: usize,
    pub to_check: usize,
    pub zones_unknown: usize,
}

/// Writes `index.csv` and, per business with bookings, `business-<id>.csv` and `.ics` into
/// `dir`, as one set: into a fresh folder beside it, then switched into place.
pub fn write(all: &Schedules, dir: &Path) -> Result<Written> {
    let (from, schedules) = (all.from.as_str(), &all.businesses);
    let stamp = time::parse_any(&all.made_at, None)
        .or_else(|| time::parse_any(from, None))
        .unwrap_or_default();
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".salvage-tmp-schedule-")
        .tempdir_in(parent)
        .map_err(|e| Error::write(parent, e))?;
    let mut out = Written {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    let mut index = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Other(format!("writing the schedule index: {e}"));
    index
        .write_record([
            "business_id",
            "name",
            "email",
            "zone",
            "bookings",
            "to_check",
            "cancelled",
            "from",
            "csv",
            "ics",
        ])
        .map_err(io)?;
    for s in schedules {
        let to_check = s.bookings.iter().filter(|b| !b.check.is_empty()).count();
        let (csv_name, ics_name) = if s.bookings.is_empty() {
            (String::new(), String::new())
        } else {
            let stem = file_stem(&s.business_id);
            let (c, i) = (format!("{stem}.csv"), format!("{stem}.ics"));
            std::fs::write(tmp.path().join(&c), to_csv(s)?)
                .map_err(|e| Error::write(tmp.path().join(&c), e))?;
            std::fs::write(tmp.path().join(&i), to_ics(s, stamp))
                .map_err(|e| Error::write(tmp.path().join(&i), e))?;
            out.businesses += 1;
            (c, i)
        };
        out.bookings += s.bookings.len();
        out.to_check += to_check;
        out.zones_unknown += usize::from(!s.zone_known && !s.bookings.is_empty());
        index
            .write_record([
                s.business_id.as_str(),
                s.name.as_deref().unwrap_or(""),
                s.email.as_deref().unwrap_or(""),
                if s.zone_known {
                    s.zone.as_str()
                } else {
                    "UTC (zone unknown)"
                },
                &s.bookings.len().to_string(),
                &to_check.to_string(),
                &s.cancelled.to_string(),
                from,
                &csv_name,
                &ics_name,
            ])
            .map_err(io)?;
    }
    let bytes = index
        .into_inner()
        .map_err(|e| Error::Other(format!("writing the schedule index: {e}")))?;
    std::fs::write(tmp.path().join("index.csv"), bytes)
        .map_err(|e| Error::write(tmp.path().join("index.csv"), e))?;
    // Switch the set into place: the old folder aside, the new one in, the old one gone.
    let fresh = tmp.keep();
    let old = parent.join(format!(".salvage-old-schedule-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| Error::write(dir, e))?;
    }
    std::fs::rename(&fresh, dir).map_err(|e| Error::write(dir, e))?;
    if old.exists() {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_stem("17"), "business-17");
        assert_eq!(file_stem("../x y"), "business-___x_y");
    }
}
