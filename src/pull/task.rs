//! One list of one account (`GET /v1/charges` as `acct_...`), paged to its end and saved
//! page by page in the importer's layout, with its checkpoint written after every page.
//!
//! A page is saved as the bytes Stripe sent (after checking that it is a list page), so a
//! later mapping change re-derives claims from the same bytes and no field is lost. The
//! only pages rewritten are the first ones of an incremental pass, where objects already
//! saved at the boundary second are dropped (then the kept objects are saved unchanged,
//! one per line).

use super::client::{error_text, Reply, StripeGet};
use super::pace::Pacer;
use crate::import::stripe::layout::{self, Checkpoint, PullStatus};
use rand::Rng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What every list of one pull shares.
pub struct Shared<'a> {
    pub client: &'a StripeGet,
    pub pacer: &'a Pacer,
    pub root: &'a Path,
    /// `created[gte]` / `created[lte]` of every list (the incident's window).
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Retries of a call that failed for a reason a retry can cure (5xx, a dropped
    /// connection, a malformed page); 429s have their own, larger budget.
    pub retries: u32,
    /// Set when the pull must stop (a wrong key, the network gone): every list stops
    /// after its current call, its checkpoint as it was.
    pub stop: &'a AtomicBool,
    pub stats: &'a Stats,
}

#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub objects: AtomicU64,
    pub pages: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
}

/// How a list ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Complete,
    /// Stripe refused it (403, an account that is gone): the reason, with the request id.
    Refused(String),
    /// Gave up on it; a rerun tries again.
    Failed(String),
    /// The whole pull must stop (401, unreachable); the reason.
    Fatal(String),
    /// Stopped because another list was fatal.
    Stopped,
}

/// One list to pull.
#[derive(Debug, Clone)]
pub struct List {
    /// `None` = the platform.
    pub account: Option<String>,
    /// The directory name (`charges`), or `accounts` for the platform's account list.
    pub resource: String,
    pub url: String,
}

impl List {
    pub fn dir(&self, root: &Path) -> PathBuf {
        if self.resource == "accounts" && self.account.is_none() {
            layout::accounts_dir(root)
        } else {
            layout::resource_dir(
                root,
                self.account.as_deref().unwrap_or(layout::PLATFORM),
                &self.resource,
            )
        }
    }
    pub fn name(&self) -> String {
        format!(
            "{}/{}",
            self.account.as_deref().unwrap_or(layout::PLATFORM),
            self.resource
        )
    }
}

/// Pulls `list` from where its checkpoint stands to its end.
pub fn run(sh: &Shared<'_>, list: &List) -> End {
    let ck_path = layout::checkpoint_file(sh.root, list.account.as_deref(), &list.resource);
    let mut ck = std::fs::read(&ck_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok())
        .unwrap_or_else(|| Checkpoint {
            account: list.account.clone(),
            resource: list.resource.clone(),
            since: sh.since,
            ..Checkpoint::default()
        });
    match ck.status {
        // A rerun after completion asks only for what is newer than what it saved.
        PullStatus::Complete => {
            ck.since = match (ck.newest, sh.since) {
                (Some(n), Some(s)) => Some(n.max(s)),
                (n, s) => n.or(s),
            };
            ck.since_ids = ck.newest_ids.clone();
            ck.cursor = None;
        }
        PullStatus::Refused | PullStatus::Failed | PullStatus::InProgress => {}
    }
    ck.status = PullStatus::InProgress;
    ck.error = None;
    let dir = list.dir(sh.root);
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        if sh.stop.load(Ordering::Relaxed) {
            return End::Stopped;
        }
        let mut query: Vec<(&str, String)> = vec![("limit", layout::PAGE_SIZE.to_string())];
        if let Some(c) = &ck.cursor {
            query.push(("starting_after", c.clone()));
        }
        if let Some(s) = ck.since {
            query.push(("created[gte]", s.to_string()));
        }
        if let Some(u) = sh.until {
            query.push(("created[lte]", u.to_string()));
        }
        let (reply, page) = match fetch_page(sh, list, &query) {
            Ok(x) => x,
            Err(end) => {
                return finish(&ck_path, &mut ck, end);
            }
        };
        ck.requests += 1;
        let ids = page.ids;
        if let Some(dup) = ids.iter().find(|(id, _)| seen.contains(id)) {
            let why = format!(
                "the cursor loops: {} came back on a later page (after {} pages); the list was not marked complete",
                dup.0, ck.pages
            );
            return finish(&ck_path, &mut ck, End::Failed(why));
        }
        if page.has_more && ids.is_empty() {
            let why =
                "a page says has_more but holds no objects, so there is no cursor to go on from"
                    .to_string();
            return finish(&ck_path, &mut ck, End::Failed(why));
        }
        seen.extend(ids.iter().map(|(id, _)| id.clone()));
        let drop: HashSet<&str> = ck.since_ids.iter().map(String::as_str).collect();
        let kept: Vec<usize> = (0..ids.len())
            .filter(|&i| !drop.contains(ids[i].0.as_str()))
            .collect();
        if !kept.is_empty() {
            let file = layout::page_file(&dir, ck.pages + 1);
            let bytes = if kept.len() == ids.len() {
                reply.body
            } else {
                let data: Vec<&serde_json::Value> = kept.iter().map(|&i| &page.data[i]).collect();
                let data: Vec<serde_json::Value> = data.into_iter().cloned().collect();
                let mut b = Vec::new();
                let _ = layout::write_page(&mut b, &list.url, page.has_more, &data);
                b
            };
            if let Err(e) = crate::util::fsx::write_atomic(&file, &bytes) {
                return finish(&ck_path, &mut ck, End::Fatal(e.to_string()));
            }
            ck.pages += 1;
            ck.objects += kept.len() as u64;
            sh.stats.pages.fetch_add(1, Ordering::Relaxed);
            sh.stats
                .objects
                .fetch_add(kept.len() as u64, Ordering::Relaxed);
            for &i in &kept {
                let (id, created) = &ids[i];
                let Some(c) = *created else { continue };
                match ck.newest {
                    Some(n) if c < n => {}
                    Some(n) if c == n => {
                        if !ck.newest_ids.contains(id) {
                            ck.newest_ids.push(id.clone());
                        }
                    }
                    _ => {
                        ck.newest = Some(c);
                        ck.newest_ids = vec![id.clone()];
                    }
                }
            }
        }
        ck.cursor = ids.last().map(|(id, _)| id.clone());
        if !page.has_more {
            ck.status = PullStatus::Complete;
            ck.cursor = None;
            ck.since = None;
            ck.since_ids.clear();
        }
        if let Err(e) = save(&ck_path, &ck) {
            return End::Fatal(e);
        }
        if ck.status == PullStatus::Complete {
            return End::Complete;
        }
    }
}

/// Records how a list ended in its checkpoint (a stop leaves it as it was).
fn finish(path: &Path, ck: &mut Checkpoint, end: End) -> End {
    let status = match &end {
        End::Refused(_) => Some(PullStatus::Refused),
        End::Failed(_) => Some(PullStatus::Failed),
        // A fatal stop (a wrong key, no network) is not this list's fault: it stays
        // in progress, to go on from where it stood.
        End::Fatal(_) | End::Stopped | End::Complete => None,
    };
    if let (Some(s), End::Refused(why) | End::Failed(why)) = (status, &end) {
        ck.status = s;
        ck.error = Some(why.clone());
        if let Err(e) = save(path, ck) {
            return End::Fatal(e);
        }
    }
    end
}

fn save(path: &Path, ck: &Checkpoint) -> Result<(), String> {
    let bytes = serde_json::to_vec_pretty(ck).map_err(|e| e.to_string())?;
    crate::util::fsx::write_atomic(path, &bytes).map_err(|e| e.to_string())
}

/// A list page, checked.
struct Page {
    has_more: bool,
    data: Vec<serde_json::Value>,
    /// `(id, created)` of each object, in order.
    ids: Vec<(String, Option<i64>)>,
}

fn parse_page(body: &[u8]) -> Result<Page, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the reply is not JSON ({e}; {} bytes): a truncated or garbled page",
            body.len()
        )
    })?;
    if v.get("object").and_then(|o| o.as_str()) != Some("list") {
        return Err("the reply is JSON but not a list page (no \"object\": \"list\")".into());
    }
    let has_more = v
        .get("has_more")
        .and_then(|h| h.as_bool())
        .ok_or("the list page has no has_more")?;
    let data = match v.get("data") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        _ => return Err("the list page has no data array".into()),
    };
    let mut ids = Vec::with_capacity(data.len());
    for (i, o) in data.iter().enumerate() {
        let id = o
            .get("id")
            .and_then(|x| x.as_str())
            .ok_or_else(|| format!("object {i} of the page has no id"))?;
        ids.push((id.to_string(), o.get("created").and_then(|c| c.as_i64())));
    }
    Ok(Page {
        has_more,
        data,
        ids,
    })
}

/// One page, retried as Stripe's replies allow. `Err` is how the list ends.
fn fetch_page(
    sh: &Shared<'_>,
    list: &List,
    query: &[(&str, String)],
) -> Result<(Reply, Page), End> {
    let who = list.name();
    let mut attempt = 0u32;
    let mut limited = 0u32;
    loop {
        if sh.stop.load(Ordering::Relaxed) {
            return Err(End::Stopped);
        }
        sh.pacer.acquire(&list.resource);
        sh.stats.requests.fetch_add(1, Ordering::Relaxed);
        let reply = match sh.client.get(&list.url, query, list.account.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                if attempt < sh.retries {
                    attempt += 1;
                    let wait = backoff(attempt);
                    tracing::warn!("{who}: {e}; retry {attempt} in {wait:.1?}");
                    sh.stats.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(wait);
                    continue;
                }
                return Err(End::Fatal(format!(
                    "{e} (after {attempt} retries): check api_base and the network; every checkpoint is kept, so a rerun goes on from here"
                )));
            }
        };
        let rid = reply.request_id.as_deref().unwrap_or("no request id");
        let says = || sh.client.key().scrub(&error_text(&reply.body));
        match reply.status {
            200 => match parse_page(&reply.body) {
                Ok(p) => return Ok((reply, p)),
                Err(why) => {
                    if attempt < sh.retries.min(2) {
                        attempt += 1;
                        tracing::warn!("{who}: {why} (request {rid}); retry {attempt}");
                        sh.stats.retries.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(backoff(attempt));
                        continue;
                    }
                    return Err(End::Failed(format!("{why} (request {rid})")));
                }
            },
            401 => {
                return Err(End::Fatal(format!(
                    "Stripe refused the key (401 {}, request {rid}): check the key in the environment variable; nothing was marked complete",
                    says()
                )))
            }
            403 | 404 => {
                return Err(End::Refused(format!(
                    "{} {} (request {rid})",
                    reply.status,
                    says()
                )))
            }
            429 => {
                sh.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                if reply.should_retry == Some(false) || limited >= 12 {
                    return Err(End::Failed(format!(
                        "429 {} (request {rid}), {limited} times",
                        says()
                    )));
                }
                limited += 1;
                let told = reply.retry_after.map(Duration::from_secs_f64);
                let pause = told.unwrap_or_else(|| backoff(limited));
                sh.pacer.rate_limited(told);
                tracing::warn!(
                    "{who}: 429 rate limited (request {rid}); slowing to {:.0}/s, retry in {pause:.1?}",
                    sh.pacer.rate()
                );
                sh.stats.retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(pause);
            }
            s @ (409 | 424 | 500..=599) if reply.should_retry != Some(false) => {
                if attempt < sh.retries {
                    attempt += 1;
                    let wait = backoff(attempt);
                    tracing::warn!("{who}: {s} {} (request {rid}); retry {attempt} in {wait:.1?}", says());
                    sh.stats.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(wait);
                    continue;
                }
                return Err(End::Failed(format!(
                    "{s} {} (request {rid}) after {attempt} retries",
                    says()
                )));
            }
            s => {
                return Err(End::Failed(format!("{s} {} (request {rid})", says())));
            }
        }
    }
}

/// Exponential backoff with jitter: about 0.5 s, 1 s, 2 s, ... (at most 20 s), each
/// between half and one and a half of that, so workers that failed together retry apart.
fn backoff(attempt: u32) -> Duration {
    let base = (0.5 * 2f64.powi(attempt.saturating_sub(1) as i32)).min(20.0);
    Duration::from_secs_f64(base * rand::thread_rng().gen_range(0.5..1.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_checked_before_it_is_saved() {
        assert!(parse_page(br#"{"object":"list","has_more":false,"data":[]}"#).is_ok());
        let e = parse_page(br#"{"object":"list","has_more":tr"#)
            .err()
            .unwrap();
        assert!(e.contains("truncated"), "{e}");
        assert!(parse_page(br#"{"object":"charge"}"#).is_err());
        assert!(parse_page(br#"{"object":"list","has_more":false,"data":[{"x":1}]}"#).is_err());
        let p = parse_page(
            br#"{"object":"list","has_more":true,"data":[{"id":"ch_2","created":5},{"id":"ch_1"}]}"#,
        )
        .unwrap();
        assert_eq!(p.ids, vec![("ch_2".into(), Some(5)), ("ch_1".into(), None)]);
    }

    #[test]
    fn backoff_grows_and_is_jittered() {
        let a: Vec<f64> = (0..50).map(|_| backoff(1).as_secs_f64()).collect();
        assert!(a.iter().all(|x| (0.25..0.75).contains(x)));
        assert!(a.iter().any(|x| (x - a[0]).abs() > 1e-6), "jitter");
        assert!(backoff(4).as_secs_f64() >= 2.0);
        assert!(backoff(30).as_secs_f64() <= 30.0);
    }
}
