//! `salvage stripe pull`: every list of the platform and of each connected account, saved
//! read-only into the layout the Stripe importer reads ([`crate::import::stripe::layout`]).
//!
//! ```text
//! accounts list (GET /v1/accounts, or the incident's `accounts`)
//!     -> one list per (account, resource): customers, charges, payment intents, refunds,
//!        disputes, checkout sessions, invoices, invoice payments, balance transactions,
//!        events (and the same for the platform itself)
//!     -> workers (up to `concurrency`) take lists in account order (so the lists in
//!        flight are of different resources) and page each to its end; every request
//!        waits for its slot in the [`pace::Pacer`]
//!     -> each page saved as Stripe sent it, then the list's checkpoint
//! ```
//! A pull stopped anywhere (Ctrl-C, kill -9, the network gone) goes on from its
//! checkpoints; a rerun after completion asks only for objects newer than those saved.
//! A list Stripe refuses (a revoked account, a key without that permission) is recorded as
//! refused and skipped; the importer names it, so the report says which money is not
//! verified against Stripe. A wrong key or an unreachable base stops the whole pull with
//! one line and nothing marked complete that was not.

pub mod client;
pub mod pace;
pub mod task;

use crate::error::{Error, Result};
use crate::import::stripe::layout;
use client::{KeyKind, Mode, Secret, StripeGet};
use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use task::{End, List};

/// What to pull: from the incident's Stripe source.
#[derive(Debug, Clone)]
pub struct Plan {
    pub base: String,
    /// The *name* of the environment variable holding the key.
    pub key_env: String,
    /// Only these connected accounts (None: every account `GET /v1/accounts` lists).
    pub accounts: Option<Vec<String>>,
    /// Resource directory names (see [`layout::ACCOUNT_RESOURCES`]).
    pub resources: Vec<String>,
    /// The platform's own lists too (destination charges live there).
    pub platform: bool,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// How fast, how wide.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests per second in all (default: Stripe's read limit for the key's mode: live
    /// 100, test 25).
    pub rate: Option<f64>,
    /// Requests per second to any one resource (Stripe: 25 per endpoint).
    pub per_resource: f64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// `Stripe-Version` to pin (None: each account's default).
    pub version: Option<String>,
    pub retries: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rate: None,
            per_resource: 25.0,
            concurrency: 32,
            version: Some(STRIPE_VERSION.to_string()),
            retries: 5,
        }
    }
}

/// The API version a pull asks for: one shape for every account's objects (the version
/// async-stripe 1.0 was generated from).
pub const STRIPE_VERSION: &str = "2026-09-30.endive";

/// What a pull did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub accounts: usize,
    pub lists: usize,
    pub complete: usize,
    /// `(list, why)`.
    pub refused: Vec<(String, String)>,
    pub failed: Vec<(String, String)>,
    /// Set when the pull stopped as a whole.
    pub fatal: Option<String>,
    pub requests: u64,
    pub pages: u64,
    pub objects: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub seconds: f64,
    pub rate: f64,
    /// Warnings about the key (a secret key, an unknown kind).
    pub warnings: Vec<String>,
}

impl Summary {
    /// Every list saved to its end (refused ones are reported, not retried).
    pub fn finished(&self) -> bool {
        self.fatal.is_none() && self.failed.is_empty()
    }
}

/// True when `root` holds a finished pull: the last pull into it ran every list to its
/// end (or had it refused). A pull stopped after the account list, before any other list
/// had a checkpoint, is not finished. `salvage run` pulls only when this is false.
pub fn is_finished(root: &Path) -> bool {
    layout::pull_finished_file(root).is_file()
}

/// Pulls `plan` into `root`.
pub fn pull(
    plan: &Plan,
    root: &Path,
    opts: &Options,
    progress: &indicatif::ProgressBar,
) -> Result<Summary> {
    let started = Instant::now();
    let key = Secret::from_env(&plan.key_env).map_err(Error::Other)?;
    let mut summary = Summary::default();
    let kind = key.kind();
    match kind {
        KeyKind::Restricted(_) => {}
        KeyKind::Secret(_) => summary.warnings.push(format!(
            "the key in {} is a secret key (sk_): it can change and refund payments. Salvage only reads, but use a restricted read-only key (rk_) for a recovery",
            plan.key_env
        )),
        KeyKind::Unknown => summary.warnings.push(format!(
            "the key in {} is neither a restricted (rk_) nor a secret (sk_) key; Stripe will likely refuse it",
            plan.key_env
        )),
    }
    for w in &summary.warnings {
        tracing::warn!("{w}");
    }
    let rate = opts.rate.unwrap_or(match kind.mode() {
        Mode::Live => 100.0,
        Mode::Test => 25.0,
    });
    summary.rate = rate;
    let client = StripeGet::new(&plan.base, key, opts.version.clone(), opts.concurrency)
        .map_err(Error::Other)?;
    let pacer = pace::Pacer::new(rate, opts.per_resource);
    let stop = AtomicBool::new(false);
    let stats = task::Stats::default();
    let sh = task::Shared {
        client: &client,
        pacer: &pacer,
        root,
        since: plan.since,
        until: plan.until,
        retries: opts.retries,
        stop: &stop,
        stats: &stats,
    };
    std::fs::create_dir_all(root).map_err(|e| Error::Write {
        path: root.to_path_buf(),
        cause: e,
    })?;

    // A kill -9 can leave a temp file of a page or checkpoint half written: it was never
    // renamed into place, so it is only litter (the importer skips dot files anyway).
    remove_temp_files(root);
    // Not finished until this pull says so at its end.
    let finished = layout::pull_finished_file(root);
    if let Err(e) = std::fs::remove_file(&finished) {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(Error::Write {
                path: finished,
                cause: e,
            });
        }
    }

    // The accounts first: they say which lists there are.
    let mut ends: Vec<(List, End)> = Vec::new();
    let accounts: Vec<String> = match &plan.accounts {
        Some(ids) => {
            for id in ids {
                if let Some(e) = retrieve_account(&sh, id) {
                    ends.push((
                        List {
                            account: Some(id.clone()),
                            resource: "account".into(),
                            url: format!("/v1/accounts/{id}"),
                        },
                        e,
                    ));
                }
            }
            ids.clone()
        }
        None => {
            let list = List {
                account: None,
                resource: "accounts".into(),
                url: "/v1/accounts".into(),
            };
            let end = task::run(&sh, &list);
            ends.push((list, end));
            saved_accounts(root)
        }
    };
    summary.accounts = accounts.len();

    let mut lists: Vec<List> = Vec::new();
    let owners: Vec<Option<String>> = plan
        .platform
        .then_some(None)
        .into_iter()
        .chain(accounts.iter().cloned().map(Some))
        .collect();
    for owner in &owners {
        for r in &plan.resources {
            let url = layout::resource_url(r)
                .ok_or_else(|| Error::Other(format!("{r} is not a Stripe list Salvage knows")))?;
            lists.push(List {
                account: owner.clone(),
                resource: r.clone(),
                url: url.into(),
            });
        }
    }
    progress.set_length(owners.len() as u64);
    progress.set_position(0);
    let fatal_before = ends.iter().any(|(_, e)| matches!(e, End::Fatal(_)));
    if !fatal_before {
        ends.extend(run_lists(
            &sh,
            &lists,
            owners.len(),
            progress,
            opts.concurrency,
        ));
    }
    progress.finish_and_clear();

    summary.lists = ends.len();
    for (list, end) in ends {
        match end {
            End::Complete => summary.complete += 1,
            End::Refused(why) => summary.refused.push((list.name(), why)),
            End::Failed(why) => summary.failed.push((list.name(), why)),
            End::Fatal(why) => {
                summary.fatal.get_or_insert(why);
            }
            End::Stopped => {}
        }
    }
    summary.requests = stats.requests.load(Ordering::Relaxed);
    summary.pages = stats.pages.load(Ordering::Relaxed);
    summary.objects = stats.objects.load(Ordering::Relaxed);
    summary.retries = stats.retries.load(Ordering::Relaxed);
    summary.rate_limited = stats.rate_limited.load(Ordering::Relaxed);
    summary.seconds = started.elapsed().as_secs_f64();
    if summary.finished() {
        let text = serde_json::to_vec_pretty(&summary).unwrap_or_default();
        crate::util::fsx::write_atomic(&layout::pull_finished_file(root), &text)?;
    }
    Ok(summary)
}

/// Runs `lists` on `workers` threads; an owner's lists are adjacent, so the progress bar
/// counts owners (accounts) whose lists are all done.
fn run_lists(
    sh: &task::Shared<'_>,
    lists: &[List],
    owners: usize,
    progress: &indicatif::ProgressBar,
    workers: usize,
) -> Vec<(List, End)> {
    let per_owner = lists.len().checked_div(owners).unwrap_or(0).max(1);
    let left: Vec<AtomicUsize> = (0..owners).map(|_| AtomicUsize::new(per_owner)).collect();
    // In owner order, so the lists in flight at any moment are of different resources
    // (each resource has its own rate): one account's ten lists, then the next account's.
    let queue = Mutex::new((0..lists.len()).collect::<VecDeque<usize>>());
    let out = Mutex::new(Vec::with_capacity(lists.len()));
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, lists.len().max(1)) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                let Some(i) = next else { break };
                let end = task::run(sh, &lists[i]);
                if let End::Fatal(_) = &end {
                    sh.stop.store(true, Ordering::Relaxed);
                }
                if left[i / per_owner].fetch_sub(1, Ordering::Relaxed) == 1 {
                    progress.inc(1);
                }
                progress.set_message(format!(
                    "accounts · {} requests · {} objects · {:.0}/s",
                    sh.stats.requests.load(Ordering::Relaxed),
                    sh.stats.objects.load(Ordering::Relaxed),
                    sh.pacer.rate()
                ));
                out.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((lists[i].clone(), end));
            });
        }
    });
    out.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// `GET /v1/accounts/{id}` into `api/accounts/{id}.json`, once. None when already saved.
fn retrieve_account(sh: &task::Shared<'_>, id: &str) -> Option<End> {
    let file = layout::accounts_dir(sh.root).join(format!("{id}.json"));
    if file.exists() {
        return None;
    }
    sh.pacer.acquire("accounts");
    sh.stats.requests.fetch_add(1, Ordering::Relaxed);
    let reply = match sh.client.get(&format!("/v1/accounts/{id}"), &[], None) {
        Ok(r) => r,
        Err(e) => return Some(End::Fatal(e)),
    };
    let rid = reply.request_id.clone().unwrap_or_default();
    Some(match reply.status {
        200 if serde_json::from_slice::<serde_json::Value>(&reply.body).is_ok() => {
            match crate::util::fsx::write_atomic(&file, &reply.body) {
                Ok(()) => End::Complete,
                Err(e) => End::Fatal(e.to_string()),
            }
        }
        401 => End::Fatal(format!(
            "Stripe refused the key (401, request {rid}): check the key in the environment variable"
        )),
        s => End::Refused(format!(
            "{s} {} (request {rid})",
            sh.client.key().scrub(&client::error_text(&reply.body))
        )),
    })
}

fn remove_temp_files(root: &Path) {
    let mut stack = vec![root.join("api"), root.join("pull")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if e.file_name().to_string_lossy().starts_with(".salvage-tmp-") {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

/// The account ids in every saved page of the account list, in order, once each.
pub fn saved_accounts(root: &Path) -> Vec<String> {
    let dir = layout::accounts_dir(root);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in files {
        let Some(v) = std::fs::read(&f)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        else {
            continue;
        };
        let objs: Vec<&serde_json::Value> = match v.get("data").and_then(|d| d.as_array()) {
            Some(a) => a.iter().collect(),
            None => vec![&v],
        };
        for o in objs {
            if let Some(id) = o.get("id").and_then(|i| i.as_str()) {
                if id.starts_with("acct_") && seen.insert(id.to_string()) {
                    out.push(id.to_string());
                }
            }
        }
    }
    out
}
