//! A fake Stripe API server: a **test double**, read-only, on 127.0.0.1.
//!
//! It serves list endpoints (`GET /v1/customers`, `/v1/charges`, ..., `/v1/accounts`) the way
//! Stripe does (list envelopes, newest first, `limit` / `starting_after` / `ending_before` /
//! `created[...]`, `Stripe-Account` scoping, `Request-Id`, Stripe-shaped errors), from a
//! [`World`] held in memory. It is what the demo walk-through pulls from (`salvage samples
//! serve-stripe samples/demo/stripe`), what the pull's tests run against, and the far end of
//! the pull bench. It never changes anything: any method but GET gets a 405.
//!
//! Faults can be switched on in [`FakeConfig`] (rate limits, latency, 500s, refused or
//! malformed lists, a cursor that loops) so a client's handling of each can be tested; every
//! request is recorded as a [`LoggedRequest`].
//!
//! The wire is HTTP/1.1 with keep-alive on std's `TcpListener`, a thread per connection
//! ([`serve_connection`]). It was tiny_http 0.12 first, whose connection pool can leave a
//! new connection queued behind kept-alive ones until one of them closes (a client saw
//! it as an 80 s timeout on a few requests in ten pulls) and which drops a handler's
//! `Connection: close`; a fake that stalls would make the client look slow.

use anyhow::{anyhow, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The key the demo walk-through uses, and the default of [`FakeConfig::key`].
pub const DEMO_KEY: &str = "rk_test_salvage_demo";

/// Synthetic objects are `created` in the 90 days before 2026-11-20T00:00:00Z.
const SYNTHETIC_END: i64 = 1_795_132_800;
const SYNTHETIC_SPAN: i64 = 90 * 86_400;

/// One list resource: its name (as in directory layouts and fault lists), its URL path, its
/// key in Stripe's fixtures and the id prefix of synthetic objects.
struct Resource {
    name: &'static str,
    path: &'static str,
    fixture: &'static str,
    prefix: &'static str,
}

const fn res(
    name: &'static str,
    path: &'static str,
    fixture: &'static str,
    prefix: &'static str,
) -> Resource {
    Resource {
        name,
        path,
        fixture,
        prefix,
    }
}

/// The ten per-account resources, in an order where every link points at one made before.
const RESOURCES: [Resource; 10] = [
    res("customers", "/v1/customers", "customer", "cus_"),
    res(
        "payment_intents",
        "/v1/payment_intents",
        "payment_intent",
        "pi_",
    ),
    res("charges", "/v1/charges", "charge", "ch_"),
    res("refunds", "/v1/refunds", "refund", "re_"),
    res("disputes", "/v1/disputes", "dispute", "dp_"),
    res("invoices", "/v1/invoices", "invoice", "in_"),
    res(
        "invoice_payments",
        "/v1/invoice_payments",
        "invoice_payment",
        "inpay_",
    ),
    res(
        "checkout_sessions",
        "/v1/checkout/sessions",
        "checkout.session",
        "cs_",
    ),
    res(
        "balance_transactions",
        "/v1/balance_transactions",
        "balance_transaction",
        "txn_",
    ),
    res("events", "/v1/events", "event", "evt_"),
];

/// Which fields of a synthetic object point at which resource of the same account.
fn links(resource: &str) -> &'static [(&'static str, &'static str)] {
    const CUSTOMER: (&str, &str) = ("customer", "customers");
    const INTENT: (&str, &str) = ("payment_intent", "payment_intents");
    match resource {
        "payment_intents" | "invoices" => &[CUSTOMER],
        "charges" | "checkout_sessions" => &[CUSTOMER, INTENT],
        "refunds" | "disputes" => &[("charge", "charges")],
        "invoice_payments" => &[("invoice", "invoices")],
        "balance_transactions" => &[("source", "charges")],
        _ => &[],
    }
}

/// The platform's own list of its connected accounts (`GET /v1/accounts`).
const ACCOUNTS: &str = "accounts";

/// One stored object: its id and `created` (for order, cursors and filters) and its JSON.
#[derive(Debug, Clone)]
struct Obj {
    id: String,
    created: i64,
    json: String,
}

impl Obj {
    fn new(v: &Value) -> anyhow::Result<Obj> {
        let id = v.get("id").and_then(Value::as_str);
        let id = id.ok_or_else(|| anyhow!("an object without a string \"id\""))?;
        Ok(Obj {
            id: id.to_string(),
            created: v.get("created").and_then(Value::as_i64).unwrap_or(0),
            json: serde_json::to_string(v)?,
        })
    }
}

/// What the fake serves: the objects of each (account, resource), `None` being the platform,
/// each list newest first (`created` descending, ties by `id` descending). The platform's
/// account list is kept under `(None, "accounts")`.
#[derive(Debug, Clone)]
pub struct World {
    lists: BTreeMap<(Option<String>, String), Vec<Obj>>,
    /// Connected accounts a `Stripe-Account` header may name.
    known: BTreeSet<String>,
}

impl World {
    fn new(mut lists: BTreeMap<(Option<String>, String), Vec<Obj>>) -> World {
        lists.entry((None, ACCOUNTS.to_string())).or_default();
        for objs in lists.values_mut() {
            objs.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
        }
        let listed = lists[&(None, ACCOUNTS.to_string())]
            .iter()
            .map(|o| o.id.clone());
        let scoped = lists.keys().filter_map(|(a, _)| a.clone());
        let known = listed.chain(scoped).collect();
        World { lists, known }
    }

    /// Reads API pages laid out as `samples generate` writes them under `stripe/`:
    /// `<root>/api/accounts/page-NNNN.json` (the account list), `<root>/api/<acct_id>/<resource>/
    /// page-NNNN.json` and `<root>/api/platform/<resource>/page-NNNN.json`, each a list
    /// envelope. Anything else under `root` (`exports/`, ...) is ignored.
    pub fn from_dir(root: &Path) -> anyhow::Result<World> {
        let api = root.join("api");
        let mut lists = BTreeMap::new();
        for (name, path) in subdirs(&api)? {
            if name == ACCOUNTS {
                lists.insert((None, name), read_pages(&path)?);
                continue;
            }
            let account = match name.as_str() {
                "platform" => None,
                a if a.starts_with("acct_") => Some(name.clone()),
                _ => {
                    tracing::warn!("{}: not an account directory, ignored", path.display());
                    continue;
                }
            };
            for (res, dir) in subdirs(&path)? {
                if RESOURCES.iter().any(|r| r.name == res) {
                    lists.insert((account.clone(), res), read_pages(&dir)?);
                } else {
                    tracing::warn!("{}: not a list resource, ignored", dir.display());
                }
            }
        }
        Ok(World::new(lists))
    }

    /// A world of `accounts` connected accounts, each with `per_resource` objects of every
    /// resource, cloned from Stripe's example objects (`{"resources": {"charge": {...}, ...}}`)
    /// with fresh ids, `created` in the 90 days before 2026-11-20, and links kept plausible
    /// (a charge's customer is one of its account's customers, a refund's charge one of its
    /// charges, ...). The same seed gives the same world.
    pub fn synthetic(
        fixtures: &Path,
        accounts: usize,
        per_resource: usize,
        seed: u64,
    ) -> anyhow::Result<World> {
        let text = std::fs::read_to_string(fixtures)
            .with_context(|| format!("reading {}", fixtures.display()))?;
        let all: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", fixtures.display()))?;
        let fixture = |key: &str| {
            all.pointer(&format!("/resources/{key}"))
                .filter(|o| o.is_object())
                .cloned()
                .ok_or_else(|| anyhow!("{}: no {key:?} example object", fixtures.display()))
        };
        let mut gen = Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            used: HashSet::new(),
        };
        let mut lists = BTreeMap::new();
        let account_fixture = fixture("account")?;
        let mut account_list = Vec::new();
        for _ in 0..accounts {
            let acct = gen.id("acct_", 16);
            let mut o = account_fixture.clone();
            o["id"] = json!(acct);
            o["created"] = json!(gen.created());
            account_list.push(Obj::new(&o)?);
            // Objects made so far for this account, by resource, to link to.
            let mut made: HashMap<&str, Vec<Value>> = HashMap::new();
            for r in &RESOURCES {
                let template = fixture(r.fixture)?;
                let mut objs = Vec::with_capacity(per_resource);
                for _ in 0..per_resource {
                    let mut o = template.clone();
                    o["id"] = json!(gen.id(r.prefix, if r.prefix == "cus_" { 14 } else { 24 }));
                    o["created"] = json!(gen.created());
                    for (field, target) in links(r.name) {
                        let targets = made.get(target).map(Vec::as_slice).unwrap_or_default();
                        if o.get(field).is_none() || targets.is_empty() {
                            continue;
                        }
                        let t = &targets[gen.rng.gen_range(0..targets.len())];
                        o[*field] = t["id"].clone();
                        // Whatever links to a charge has that charge's customer and intent.
                        if *target == "charges" {
                            for f in ["customer", "payment_intent"] {
                                if o.get(f).is_some() {
                                    o[f] = t[f].clone();
                                }
                            }
                        }
                    }
                    objs.push(o);
                }
                let stored = objs.iter().map(Obj::new).collect::<anyhow::Result<_>>()?;
                lists.insert((Some(acct.clone()), r.name.to_string()), stored);
                made.insert(r.name, objs);
            }
        }
        lists.insert((None, ACCOUNTS.to_string()), account_list);
        Ok(World::new(lists))
    }

    /// The ids of every list, newest first, by (account, resource); the account list is
    /// `(None, "accounts")`. A client that pulled everything got exactly these.
    pub fn object_ids(&self) -> BTreeMap<(Option<String>, String), Vec<String>> {
        let ids = |objs: &[Obj]| objs.iter().map(|o| o.id.clone()).collect();
        self.lists
            .iter()
            .map(|(k, v)| (k.clone(), ids(v)))
            .collect()
    }

    /// Every object served, the account objects included.
    pub fn object_count(&self) -> usize {
        self.lists.values().map(Vec::len).sum()
    }

    /// The connected accounts a `Stripe-Account` header may name.
    pub fn accounts(&self) -> Vec<String> {
        self.known.iter().cloned().collect()
    }

    /// The list requests a perfect client needs for the whole world at `page_size`: for the
    /// account list and for each of the ten resources of every connected account (and of the
    /// platform, when it holds any object), `max(1, ceil(n / page_size))`.
    pub fn request_count_needed(&self, page_size: usize) -> u64 {
        let pages = |n: usize| n.div_ceil(page_size.max(1)).max(1) as u64;
        let platform = self
            .lists
            .iter()
            .any(|((a, r), v)| a.is_none() && r != ACCOUNTS && !v.is_empty());
        let scopes = self
            .known
            .iter()
            .map(|a| Some(a.clone()))
            .chain(platform.then_some(None));
        let mut total = pages(self.list(None, ACCOUNTS).len());
        for scope in scopes {
            for r in &RESOURCES {
                total += pages(self.list(scope.as_deref(), r.name).len());
            }
        }
        total
    }

    fn list(&self, account: Option<&str>, resource: &str) -> &[Obj] {
        let key = (account.map(str::to_string), resource.to_string());
        self.lists.get(&key).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Fresh ids and times for [`World::synthetic`].
struct Gen {
    rng: ChaCha8Rng,
    used: HashSet<String>,
}

impl Gen {
    fn id(&mut self, prefix: &str, len: usize) -> String {
        const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        loop {
            let tail: String = (0..len)
                .map(|_| ALNUM[self.rng.gen_range(0..ALNUM.len())] as char)
                .collect();
            let id = format!("{prefix}{tail}");
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }

    fn created(&mut self) -> i64 {
        SYNTHETIC_END - self.rng.gen_range(1..=SYNTHETIC_SPAN)
    }
}

/// The subdirectories of `dir` as (name, path), by name.
fn subdirs(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e?;
        if e.file_type()?.is_dir() {
            out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The objects of every `page-*.json` list envelope in `dir`.
fn read_pages(dir: &Path) -> anyhow::Result<Vec<Obj>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("page-") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    let mut objs = Vec::new();
    for f in files {
        let page: Value = serde_json::from_slice(&std::fs::read(&f)?)
            .with_context(|| format!("{} is not JSON", f.display()))?;
        let data = page.get("data").and_then(Value::as_array);
        let data = data.ok_or_else(|| anyhow!("{}: not a list envelope", f.display()))?;
        for o in data {
            objs.push(Obj::new(o).with_context(|| f.display().to_string())?);
        }
    }
    Ok(objs)
}

/// How the fake behaves. Every fault is off by default. In the (account, resource) lists,
/// the account is an `acct_` id or `"platform"`, the resource a name like `"charges"` or
/// `"checkout_sessions"` (or `"accounts"` for the platform's account list).
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The one API key accepted (`Authorization: Bearer <key>`).
    pub key: String,
    /// 0 = any free port on 127.0.0.1.
    pub port: u16,
    /// At most this many requests admitted per sliding second (all requests); beyond: 429.
    pub rate_limit: Option<u32>,
    /// The same, per resource path, across accounts.
    pub per_resource_limit: Option<u32>,
    /// Slept before answering each request.
    pub latency: Duration,
    /// Every Nth request (by arrival count) gets a 500.
    pub fail_every: Option<u64>,
    /// These lists answer 403: the key lacks the permission on that account.
    pub refuse: Vec<(String, String)>,
    /// These lists answer 200 with a truncated JSON body, on every page.
    pub malformed: Vec<(String, String)>,
    /// These lists answer the first page with `has_more: true` whatever the cursor.
    pub loop_cursor: Vec<(String, String)>,
    /// Append each [`LoggedRequest`] to this file as one JSON line, as it happens.
    pub log_file: Option<PathBuf>,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            key: DEMO_KEY.to_string(),
            port: 0,
            rate_limit: None,
            per_resource_limit: None,
            latency: Duration::ZERO,
            fail_every: None,
            refuse: Vec::new(),
            malformed: Vec::new(),
            loop_cursor: Vec::new(),
            log_file: None,
        }
    }
}

/// One request as the fake saw and answered it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string (still percent-encoded).
    pub query: String,
    /// The `Stripe-Account` header.
    pub account: Option<String>,
    pub status: u16,
    /// The request carried the configured key.
    pub authorized: bool,
    /// Ids of the objects in the page returned (none when the body was not readable JSON).
    pub ids: Vec<String>,
    /// Milliseconds since the server started, at arrival.
    pub at_ms: u64,
}

/// A running fake: threads answering on 127.0.0.1 until [`FakeStripe::stop`] or drop.
pub struct FakeStripe {
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl FakeStripe {
    /// Binds, spawns the workers and returns once listening.
    pub fn start(world: World, config: FakeConfig) -> anyhow::Result<FakeStripe> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).map_err(|e| {
            anyhow!(
                "fake Stripe: cannot listen on 127.0.0.1:{}: {e}",
                config.port
            )
        })?;
        let addr = listener.local_addr().context("fake Stripe: no address")?;
        let open = |p: &PathBuf| {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p);
            f.map(Mutex::new)
                .with_context(|| format!("opening {}", p.display()))
        };
        let log_file = config.log_file.as_ref().map(open).transpose()?;
        let shared = Arc::new(Shared {
            world,
            config,
            started: Instant::now(),
            arrivals: AtomicU64::new(0),
            limits: Mutex::new(Limits::default()),
            log: Mutex::new(Vec::new()),
            log_file,
            stop: AtomicBool::new(false),
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("fake-stripe-accept".into())
                .spawn(move || {
                    for conn in listener.incoming() {
                        if shared.stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = conn else { continue };
                        let shared = shared.clone();
                        let spawned = std::thread::Builder::new()
                            .name("fake-stripe-conn".into())
                            .spawn(move || serve_connection(stream, &shared));
                        if let Err(e) = spawned {
                            tracing::warn!("fake Stripe: no thread for a connection: {e}");
                        }
                    }
                })?
        };
        Ok(FakeStripe {
            shared,
            acceptor: Some(acceptor),
            addr,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request answered so far, in the order they were answered.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Stops serving and joins the workers (dropping does the same).
    pub fn stop(self) {}
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor out of accept(); connection threads end when their clients
        // hang up, or answer 503 to a request that comes after the stop.
        let _ = TcpStream::connect(self.addr);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

/// The state the workers share.
struct Shared {
    world: World,
    config: FakeConfig,
    started: Instant,
    arrivals: AtomicU64,
    limits: Mutex<Limits>,
    log: Mutex<Vec<LoggedRequest>>,
    log_file: Option<Mutex<std::fs::File>>,
    stop: AtomicBool,
}

/// Arrival times of the requests admitted in the last second, in all and per path.
#[derive(Default)]
struct Limits {
    all: VecDeque<Instant>,
    per_path: HashMap<String, VecDeque<Instant>>,
}

/// A reply before it is written: status, body, whether to say `Stripe-Should-Retry: true`,
/// and the ids of the objects it carries.
struct Answer {
    status: u16,
    body: Vec<u8>,
    retry: bool,
    ids: Vec<String>,
}

impl Answer {
    /// A Stripe error: `api_error` for a 500, else `invalid_request_error`; `code` and
    /// `param` are left out when empty.
    fn error(status: u16, code: &str, param: &str, message: &str) -> Answer {
        let kind = if status == 500 {
            "api_error"
        } else {
            "invalid_request_error"
        };
        let mut e = json!({"type": kind, "message": message});
        for (k, v) in [("code", code), ("param", param)] {
            if !v.is_empty() {
                e[k] = json!(v);
            }
        }
        let body = json!({ "error": e }).to_string().into_bytes();
        Answer {
            status,
            body,
            retry: false,
            ids: Vec::new(),
        }
    }
}

/// `rk_test_****abcd`: a known prefix and the last 4 characters, never the whole key.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 4 {
        return "****".into();
    }
    let last4: String = chars[chars.len() - 4..].iter().collect();
    let prefix = ["sk_", "rk_", "pk_"]
        .iter()
        .flat_map(|p| [format!("{p}test_"), format!("{p}live_")])
        .find(|p| key.starts_with(p.as_str()) && chars.len() >= p.len() + 8)
        .unwrap_or_default();
    format!("{prefix}****{last4}")
}

/// Decodes `%XX` and `+` in a query component.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| (c as char).to_digit(16));
    let (mut out, mut i) = (Vec::with_capacity(b.len()), 0);
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 2;
            }
            (b'+', ..) => out.push(b' '),
            (c, ..) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parameters of a list request.
#[derive(Default)]
struct ListQuery {
    limit: usize,
    starting_after: Option<String>,
    ending_before: Option<String>,
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl ListQuery {
    fn parse(query: &str) -> Result<ListQuery, Answer> {
        let mut q = ListQuery {
            limit: 10,
            ..Default::default()
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (percent_decode(k), percent_decode(v));
            let invalid = || Answer::error(400, "", &k, &format!("Invalid integer: {v}"));
            let ts = || v.parse::<i64>().map_err(|_| invalid());
            match k.as_str() {
                "limit" => match v.parse::<usize>().map_err(|_| invalid())? {
                    n @ 1..=100 => q.limit = n,
                    _ => return Err(Answer::error(400, "", "limit", "Limit must be 1 to 100.")),
                },
                "starting_after" => q.starting_after = Some(v.clone()),
                "ending_before" => q.ending_before = Some(v.clone()),
                "created" => (q.gte, q.lte) = (Some(ts()?), Some(ts()?)),
                "created[gt]" => q.gt = Some(ts()?),
                "created[gte]" => q.gte = Some(ts()?),
                "created[lt]" => q.lt = Some(ts()?),
                "created[lte]" => q.lte = Some(ts()?),
                k if k.starts_with("expand[") => {}
                k => {
                    let msg = format!("Received unknown parameter: {k}");
                    return Err(Answer::error(400, "parameter_unknown", k, &msg));
                }
            }
        }
        if q.starting_after.is_some() && q.ending_before.is_some() {
            let msg =
                "You may only specify one of these parameters: starting_after, ending_before.";
            return Err(Answer::error(400, "", "ending_before", msg));
        }
        Ok(q)
    }

    fn keeps(&self, o: &Obj) -> bool {
        let c = o.created;
        self.gt.is_none_or(|t| c > t)
            && self.gte.is_none_or(|t| c >= t)
            && self.lt.is_none_or(|t| c < t)
            && self.lte.is_none_or(|t| c <= t)
    }

    /// The page of `objs` (newest first) this query asks for, and whether more follow in
    /// its direction; a 400 when a cursor's id is not in the list.
    fn page<'a>(&self, objs: &'a [Obj]) -> Result<(Vec<&'a Obj>, bool), Answer> {
        let at = |param: &str, id: &String| {
            let msg = format!("No such object: '{id}'");
            let missing = || Answer::error(400, "resource_missing", param, &msg);
            objs.iter().position(|o| &o.id == id).ok_or_else(missing)
        };
        if let Some(id) = &self.ending_before {
            let end = at("ending_before", id)?;
            let before: Vec<&Obj> = objs[..end].iter().filter(|o| self.keeps(o)).collect();
            let start = before.len().saturating_sub(self.limit);
            return Ok((before[start..].to_vec(), start > 0));
        }
        let from = match &self.starting_after {
            Some(id) => at("starting_after", id)? + 1,
            None => 0,
        };
        let mut rest = objs[from..].iter().filter(|o| self.keeps(o));
        let page: Vec<&Obj> = rest.by_ref().take(self.limit).collect();
        Ok((page, rest.next().is_some()))
    }
}

/// What [`Shared::answer`] needs of a request.
struct Req {
    n: u64,
    arrived: Instant,
    method: String,
    path: String,
    query: String,
    account: Option<String>,
    /// The key after `Bearer `.
    key: Option<String>,
}

/// One request as read off the wire.
struct HttpRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    close: bool,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves one connection: requests in turn until the client closes or asks to.
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let rq = match read_request(&mut reader) {
            Ok(Some(rq)) => rq,
            Ok(None) => return,
            Err(e) => {
                let body = format!(
                    "{{\"error\":{{\"type\":\"invalid_request_error\",\"message\":{}}}}}",
                    json!(e)
                );
                let _ = write!(
                    writer,
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                return;
            }
        };
        let reply = if shared.stop.load(Ordering::SeqCst) {
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec()
        } else {
            shared.handle(&rq)
        };
        if writer
            .write_all(&reply)
            .and_then(|_| writer.flush())
            .is_err()
            || rq.close
        {
            return;
        }
    }
}

/// Reads a request line and headers (and skips a body); `None` when the client closed.
fn read_request(r: &mut impl BufRead) -> Result<Option<HttpRequest>, String> {
    let mut line = String::new();
    if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(url), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("not an HTTP request line: {:?}", line.trim_end()));
    };
    let (method, url, http10) = (method.to_string(), url.to_string(), version == "HTTP/1.0");
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).map_err(|e| e.to_string())? == 0 {
            return Ok(None);
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut rq = HttpRequest {
        method,
        url,
        headers,
        close: http10,
    };
    if let Some(c) = rq.header("Connection") {
        rq.close = c.eq_ignore_ascii_case("close");
    }
    let body_len: u64 = rq
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    std::io::copy(&mut r.take(body_len), &mut std::io::sink()).map_err(|e| e.to_string())?;
    Ok(Some(rq))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Error",
    }
}

impl Shared {
    /// Answers one request: the status line, headers and body to write.
    fn handle(&self, rq: &HttpRequest) -> Vec<u8> {
        let header = |name: &str| rq.header(name).map(str::to_string);
        let (path, query) = rq.url.split_once('?').unwrap_or((&rq.url, ""));
        let auth = header("Authorization");
        let r = Req {
            n: self.arrivals.fetch_add(1, Ordering::SeqCst) + 1,
            arrived: Instant::now(),
            method: rq.method.clone(),
            path: path.to_string(),
            query: query.to_string(),
            account: header("Stripe-Account"),
            key: auth.and_then(|a| a.strip_prefix("Bearer ").map(|k| k.trim().to_string())),
        };
        let ans = self.answer(&r).unwrap_or_else(|e| e);
        std::thread::sleep(self.config.latency);
        tracing::debug!(
            "fake Stripe: {} {}?{} {}",
            r.method,
            r.path,
            r.query,
            ans.status
        );
        // Logged before the reply is written, so a client that has its reply finds it here.
        let logged = LoggedRequest {
            authorized: r.key.as_deref() == Some(self.config.key.as_str()),
            at_ms: r.arrived.duration_since(self.started).as_millis() as u64,
            method: r.method,
            path: r.path,
            query: r.query,
            account: r.account,
            status: ans.status,
            ids: ans.ids,
        };
        if let Some(f) = &self.log_file {
            let line = serde_json::to_string(&logged).unwrap_or_default() + "\n";
            if let Err(e) = f.lock().unwrap().write_all(line.as_bytes()) {
                tracing::warn!("fake Stripe: writing the request log: {e}");
            }
        }
        self.log.lock().unwrap().push(logged);

        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRequest-Id: req_{:014}\r\n",
            ans.status,
            reason(ans.status),
            ans.body.len(),
            r.n
        );
        if ans.retry {
            head.push_str("Stripe-Should-Retry: true\r\n");
        }
        if ans.status == 405 {
            head.push_str("Allow: GET\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&ans.body);
        out
    }

    /// Admits a request under the rate limits (and counts it), or says no.
    fn admit(&self, path: &str, now: Instant) -> bool {
        let (all_max, path_max) = (self.config.rate_limit, self.config.per_resource_limit);
        if all_max.is_none() && path_max.is_none() {
            return true;
        }
        let mut l = self.limits.lock().unwrap();
        let l = &mut *l;
        let per = l.per_path.entry(path.to_string()).or_default();
        for q in [&mut l.all, &mut *per] {
            while q
                .front()
                .is_some_and(|t| now - *t >= Duration::from_secs(1))
            {
                q.pop_front();
            }
        }
        let full = |q: &VecDeque<Instant>, m: Option<u32>| m.is_some_and(|m| q.len() >= m as usize);
        if full(&l.all, all_max) || full(per, path_max) {
            return false;
        }
        l.all.push_back(now);
        per.push_back(now);
        true
    }

    /// The reply to one request; `Err` is an error reply.
    fn answer(&self, r: &Req) -> Result<Answer, Answer> {
        let (c, path) = (&self.config, r.path.as_str());
        if r.method != "GET" {
            tracing::warn!("fake Stripe: refused {} {path} (it is read-only)", r.method);
            let msg = format!(
                "This fake Stripe is read-only: {} {path} is not allowed.",
                r.method
            );
            return Err(Answer::error(405, "", "", &msg));
        }
        if !self.admit(path, r.arrived) {
            let msg = "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.";
            let mut a = Answer::error(429, "rate_limit", "", msg);
            a.retry = true;
            return Err(a);
        }
        if c.fail_every.is_some_and(|k| k > 0 && r.n % k == 0) {
            let msg = "An unknown error occurred (the fake's fail_every).";
            return Err(Answer::error(500, "", "", msg));
        }
        match r.key.as_deref() {
            None => {
                let msg = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";
                return Err(Answer::error(401, "", "", msg));
            }
            Some(k) if k != c.key => {
                let msg = format!("Invalid API Key provided: {}", mask(k));
                return Err(Answer::error(401, "", "", &msg));
            }
            Some(_) => {}
        }
        // Retrieve one connected account (`GET /v1/accounts/acct_...`).
        if let Some(id) = path.strip_prefix("/v1/accounts/") {
            let found = self.world.list(None, ACCOUNTS).iter().find(|o| o.id == id);
            return match found {
                Some(o) => Ok(Answer {
                    status: 200,
                    body: o.json.clone().into_bytes(),
                    retry: false,
                    ids: vec![o.id.clone()],
                }),
                None => {
                    let msg = format!("No such account: '{id}'");
                    Err(Answer::error(404, "resource_missing", "id", &msg))
                }
            };
        }
        let resource = match RESOURCES.iter().find(|r| r.path == path) {
            Some(r) => r.name,
            None if path == "/v1/accounts" => ACCOUNTS,
            None => {
                let msg = format!("Unrecognized request URL (GET: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.");
                return Err(Answer::error(404, "", "", &msg));
            }
        };
        let mut q = ListQuery::parse(&r.query)?;
        let account = r.account.as_deref();
        match account {
            Some(_) if resource == ACCOUNTS => {
                let msg = "The account list is the platform's: call it without Stripe-Account.";
                return Err(Answer::error(400, "", "Stripe-Account", msg));
            }
            Some(a) if !self.world.known.contains(a) => {
                let msg = format!("The provided key '{}' does not have access to account '{a}' (or that account does not exist). Application access may have been revoked.", mask(&c.key));
                return Err(Answer::error(403, "account_invalid", "", &msg));
            }
            _ => {}
        }
        let scope = (
            account.unwrap_or("platform").to_string(),
            resource.to_string(),
        );
        if c.refuse.contains(&scope) {
            let msg = format!("The provided key '{}' does not have the required permissions for this endpoint on account '{}'.", mask(&c.key), scope.0);
            return Err(Answer::error(403, "", "", &msg));
        }
        let looping = c.loop_cursor.contains(&scope);
        if looping {
            (q.starting_after, q.ending_before) = (None, None);
        }
        let (page, has_more) = q.page(self.world.list(account, resource))?;
        let data: Vec<&str> = page.iter().map(|o| o.json.as_str()).collect();
        let (url, has_more, data) = (json!(path), has_more || looping, data.join(","));
        let body =
            format!(r#"{{"object":"list","url":{url},"has_more":{has_more},"data":[{data}]}}"#);
        let mut body = body.into_bytes();
        let mut ids: Vec<String> = page.iter().map(|o| o.id.clone()).collect();
        if c.malformed.contains(&scope) {
            body.truncate(body.len() / 2);
            ids.clear();
        }
        Ok(Answer {
            status: 200,
            body,
            retry: false,
            ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "rk_test_unit_key_9f3c";

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/stripe/fixtures3.json")
    }

    fn world() -> World {
        World::synthetic(&fixtures(), 2, 23, 7).unwrap()
    }

    /// A fake over [`world`], its two accounts, and a client.
    struct T {
        f: FakeStripe,
        w: World,
        a: String,
        b: String,
        agent: ureq::Agent,
    }

    fn start(config: FakeConfig) -> T {
        let w = world();
        let f = FakeStripe::start(
            w.clone(),
            FakeConfig {
                key: KEY.into(),
                ..config
            },
        )
        .unwrap();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let (a, b) = (w.accounts()[0].clone(), w.accounts()[1].clone());
        T { f, w, a, b, agent }
    }

    /// A reply: status, headers, body.
    struct Got(u16, ureq::http::HeaderMap, String);

    impl Got {
        fn json(&self) -> Value {
            serde_json::from_str(&self.2).unwrap_or_else(|e| panic!("{e}: {}", self.2))
        }
        fn ids(&self) -> Vec<String> {
            let v = self.json();
            let data = v["data"].as_array().unwrap().iter();
            data.map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        }
        fn more(&self) -> bool {
            self.json()["has_more"].as_bool().unwrap()
        }
        fn error(&self, field: &str) -> String {
            self.json()["error"][field]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
        fn header(&self, name: &str) -> Option<&str> {
            self.1.get(name).and_then(|v| v.to_str().ok())
        }
    }

    impl T {
        /// `GET path_query` as `account` ("" = the platform) with `key`.
        fn get_as(&self, path_query: &str, account: &str, key: &str) -> Got {
            let url = format!("{}{path_query}", self.f.base_url());
            let mut req = self
                .agent
                .get(url)
                .header("Authorization", &format!("Bearer {key}"));
            if !account.is_empty() {
                req = req.header("Stripe-Account", account);
            }
            let mut resp = req.call().unwrap();
            let body = resp.body_mut().read_to_string().unwrap();
            Got(resp.status().as_u16(), resp.headers().clone(), body)
        }
        fn get(&self, path_query: &str, account: &str) -> Got {
            self.get_as(path_query, account, KEY)
        }
        /// Pages through one list with starting_after: every id received, in order.
        fn pull(&self, path: &str, account: &str, limit: usize) -> Vec<String> {
            let mut ids: Vec<String> = Vec::new();
            loop {
                let after = ids.last().map(|c| format!("&starting_after={c}"));
                let g = self.get(
                    &format!("{path}?limit={limit}{}", after.unwrap_or_default()),
                    account,
                );
                let v = g.json();
                assert_eq!(
                    (g.0, &v["object"], &v["url"]),
                    (200, &json!("list"), &json!(path))
                );
                let created = v["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["created"].as_i64());
                let created: Vec<i64> = created.map(Option::unwrap).collect();
                assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");
                ids.extend(g.ids());
                if !g.more() {
                    return ids;
                }
            }
        }
        fn ids(&self, account: &str, resource: &str) -> Vec<String> {
            let account = Some(account.to_string()).filter(|a| !a.is_empty());
            self.w.object_ids()[&(account, resource.to_string())].clone()
        }
    }

    #[test]
    fn stripe_server_pages_reach_every_object_once_newest_first() {
        let t = start(FakeConfig::default());
        let accounts = t.pull("/v1/accounts", "", 1);
        assert_eq!(accounts, t.ids("", "accounts"));
        for a in &accounts {
            for r in &RESOURCES {
                let got = t.pull(r.path, a, 5);
                assert_eq!(got, t.ids(a, r.name), "{a} {}", r.name);
                assert_eq!(got.iter().collect::<HashSet<_>>().len(), 23);
            }
        }
        // As a perfect client at limit 5, but for the account list at limit 1 (2 pages).
        assert_eq!(t.f.requests().len() as u64, t.w.request_count_needed(5) + 1);
        assert!(t
            .f
            .requests()
            .iter()
            .all(|r| r.status == 200 && r.authorized));

        let ids = t.ids(&t.a, "charges");
        let g = t.get(
            &format!("/v1/charges?limit=5&ending_before={}", ids[5]),
            &t.a,
        );
        assert_eq!((g.ids(), g.more()), (ids[..5].to_vec(), false));
        let g = t.get(
            &format!("/v1/charges?limit=2&ending_before={}", ids[5]),
            &t.a,
        );
        assert_eq!((g.ids(), g.more()), (ids[3..5].to_vec(), true));
        let g = t.get("/v1/charges?starting_after=ch_nope", &t.a);
        assert_eq!(
            (g.0, g.error("code"), g.error("param")),
            (400, "resource_missing".into(), "starting_after".into())
        );
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "colour=red",
            "created[gt]=soon",
        ] {
            assert_eq!(t.get(&format!("/v1/charges?{bad}"), "").0, 400, "{bad}");
        }
        assert_eq!(
            t.get("/v1/charges", "").ids().len(),
            0,
            "the platform holds none"
        );
    }

    #[test]
    fn stripe_server_filters_by_created() {
        let t = start(FakeConfig::default());
        let objs = t.w.list(Some(&t.a), "customers");
        let c = objs[10].created;
        let old = c - 20 * 86_400;
        let cases: [(String, &dyn Fn(i64) -> bool); 6] = [
            (format!("created%5Bgte%5D={c}"), &|x| x >= c),
            (format!("created[gt]={c}"), &|x| x > c),
            (format!("created%5Blte%5D={c}"), &|x| x <= c),
            (format!("created[lt]={c}"), &|x| x < c),
            (format!("created={c}"), &|x| x == c),
            (
                format!("created%5Bgte%5D={old}&created%5Blt%5D={c}"),
                &|x| x >= old && x < c,
            ),
        ];
        for (param, keep) in cases {
            let want: Vec<String> = objs
                .iter()
                .filter(|o| keep(o.created))
                .map(|o| o.id.clone())
                .collect();
            assert_eq!(
                t.get(&format!("/v1/customers?limit=100&{param}"), &t.a)
                    .ids(),
                want,
                "{param}"
            );
        }
        // Through ureq's own query encoding, as the pull sends it.
        let url = format!("{}/v1/customers", t.f.base_url());
        let req = t
            .agent
            .get(url)
            .header("Authorization", &format!("Bearer {KEY}"));
        let req = req.header("Stripe-Account", &t.a).query("limit", "100");
        let mut resp = req.query("created[gte]", c.to_string()).call().unwrap();
        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        let n = objs.iter().filter(|o| o.created >= c).count();
        assert_eq!(v["data"].as_array().unwrap().len(), n);
    }

    #[test]
    fn stripe_server_scopes_by_account_and_answers_like_stripe() {
        let t = start(FakeConfig::default());
        let (ga, gb) = (
            t.get("/v1/charges?limit=100", &t.a),
            t.get("/v1/charges?limit=100", &t.b),
        );
        assert_eq!(
            (ga.ids(), gb.ids()),
            (t.ids(&t.a, "charges"), t.ids(&t.b, "charges"))
        );
        assert!(ga.ids().iter().all(|id| !gb.ids().contains(id)));
        assert!(ga
            .2
            .starts_with(r#"{"object":"list","url":"/v1/charges","has_more":false,"data":[{"#));

        let g = t.get("/v1/charges", "acct_0000000000000000");
        assert_eq!((g.0, g.error("code")), (403, "account_invalid".into()));
        assert_eq!(t.get("/v1/accounts", &t.a).0, 400);
        let g = t.get("/v1/x?limit=3", "");
        assert_eq!(g.0, 404);
        assert!(g
            .error("message")
            .starts_with("Unrecognized request URL (GET: /v1/x)"));
        let rid = g.header("request-id").unwrap();
        assert!(rid.starts_with("req_") && rid.len() == 18, "{rid}");
        for g in [ga, g] {
            assert_eq!(g.header("content-type"), Some("application/json"));
        }
        let log = t.f.requests();
        assert_eq!(
            (log[0].account.as_deref(), log[0].ids.len()),
            (Some(t.a.as_str()), 23)
        );
    }

    #[test]
    fn stripe_server_wrong_key_is_401_with_the_key_masked() {
        let t = start(FakeConfig::default());
        let wrong = "rk_test_somebody_elses_abcd";
        let g = t.get_as("/v1/customers", &t.a, wrong);
        assert_eq!(
            (g.0, g.error("message")),
            (401, "Invalid API Key provided: rk_test_****abcd".into())
        );
        assert!(!g.2.contains(wrong) && !g.2.contains(KEY) && g.header("request-id").is_some());
        let r = &t.f.requests()[0];
        assert_eq!((r.status, r.authorized), (401, false));
        assert_eq!(
            (mask("abc").as_str(), mask("sk_live_12").as_str()),
            ("****", "****e_12")
        );
    }

    #[test]
    fn stripe_server_refuses_a_list_with_403() {
        let b = world().accounts()[1].clone();
        let t = start(FakeConfig {
            refuse: vec![(b, "refunds".into())],
            ..Default::default()
        });
        let g = t.get("/v1/refunds", &t.b);
        let msg = g.error("message");
        assert_eq!(g.0, 403);
        assert!(
            msg.contains("does not have the required permissions") && msg.contains(&t.b),
            "{msg}"
        );
        assert!(!g.2.contains(KEY), "{msg}");
        assert_eq!(
            (t.get("/v1/charges", &t.b).0, t.get("/v1/refunds", &t.a).0),
            (200, 200)
        );
    }

    #[test]
    fn stripe_server_rate_limits_with_429_and_fails_every_nth() {
        let t = start(FakeConfig {
            rate_limit: Some(3),
            ..Default::default()
        });
        let got: Vec<Got> = (0..6).map(|_| t.get("/v1/customers", &t.a)).collect();
        let limited: Vec<&Got> = got.iter().filter(|g| g.0 == 429).collect();
        assert!(
            limited.len() >= 2,
            "{:?}",
            got.iter().map(|g| g.0).collect::<Vec<_>>()
        );
        assert_eq!(limited[0].header("stripe-should-retry"), Some("true"));
        assert_eq!(limited[0].error("code"), "rate_limit");
        assert_eq!(
            t.f.requests().iter().filter(|r| r.status == 429).count(),
            limited.len()
        );

        let t = start(FakeConfig {
            per_resource_limit: Some(1),
            ..Default::default()
        });
        let paths = ["/v1/customers", "/v1/charges", "/v1/customers"];
        let statuses: Vec<u16> = paths.iter().map(|p| t.get(p, &t.a).0).collect();
        assert_eq!(statuses, [200, 200, 429]);

        let t = start(FakeConfig {
            fail_every: Some(3),
            ..Default::default()
        });
        let got: Vec<Got> = (0..6).map(|_| t.get("/v1/customers", &t.a)).collect();
        assert_eq!(
            got.iter().map(|g| g.0).collect::<Vec<_>>(),
            [200, 200, 500, 200, 200, 500]
        );
        assert_eq!(got[2].error("type"), "api_error");
        assert_eq!(got[2].header("stripe-should-retry"), None);
    }

    #[test]
    fn stripe_server_refuses_post_with_405_and_logs_it() {
        let t = start(FakeConfig::default());
        let req = t.agent.post(format!("{}/v1/refunds", t.f.base_url()));
        let resp = req
            .header("Authorization", &format!("Bearer {KEY}"))
            .send("charge=ch_1")
            .unwrap();
        assert_eq!(resp.status().as_u16(), 405);
        assert!(resp.headers().get("request-id").is_some());
        let r = &t.f.requests()[0];
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.status),
            ("POST", "/v1/refunds", 405)
        );
    }

    #[test]
    fn stripe_server_malformed_and_looping_lists() {
        let a = world().accounts()[0].clone();
        let t = start(FakeConfig {
            malformed: vec![(a.clone(), "invoices".into())],
            loop_cursor: vec![(a, "events".into())],
            ..Default::default()
        });
        let g = t.get("/v1/invoices", &t.a);
        assert_eq!(g.0, 200);
        assert!(serde_json::from_str::<Value>(&g.2).is_err(), "{}", g.2);
        assert!(t.f.requests()[0].ids.is_empty());
        assert_eq!(t.get("/v1/invoices", &t.b).ids().len(), 10);

        let first = t.get("/v1/events?limit=5", &t.a);
        let next = t.get(
            &format!("/v1/events?limit=5&starting_after={}", first.ids()[4]),
            &t.a,
        );
        assert_eq!((next.ids(), next.more()), (first.ids(), true));
        let all = t.get("/v1/events?limit=100", &t.a);
        assert_eq!((all.ids().len(), all.more()), (23, true));
    }

    #[test]
    fn stripe_server_serves_concurrently_and_writes_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let t = start(FakeConfig {
            latency: Duration::from_millis(20),
            log_file: Some(log.clone()),
            ..Default::default()
        });
        std::thread::scope(|s| {
            for r in &RESOURCES[..8] {
                let t = &t;
                s.spawn(move || assert_eq!(t.get(r.path, &t.a).0, 200));
            }
        });
        t.f.stop();
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 8);
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["ids"].as_array().unwrap().len(), 10);
    }

    #[test]
    fn stripe_server_reads_the_demo_pages() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo/stripe");
        let w = World::from_dir(&root).unwrap();
        let (mut in_files, mut dirs) = (0, vec![root.join("api")]);
        while let Some(d) = dirs.pop() {
            for p in std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()) {
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                    in_files += v["data"].as_array().unwrap().len();
                }
            }
        }
        assert!(in_files > 0);
        assert_eq!(w.object_count(), in_files);
        assert_eq!(w.accounts().len(), w.list(None, ACCOUNTS).len());
        for objs in w.lists.values() {
            assert!(objs
                .windows(2)
                .all(|p| (p[0].created, &p[0].id) > (p[1].created, &p[1].id)));
        }
    }

    #[test]
    fn stripe_server_synthetic_is_deterministic_and_linked() {
        let (a, b, c) = (
            world(),
            world(),
            World::synthetic(&fixtures(), 2, 23, 8).unwrap(),
        );
        let json = |w: &World| {
            w.lists
                .values()
                .flatten()
                .map(|o| o.json.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(json(&a), json(&b));
        assert_ne!(a.object_ids(), c.object_ids());
        assert_eq!(a.object_count(), 2 + 2 * 10 * 23);
        assert_eq!(a.request_count_needed(10), 1 + 2 * 10 * 3);
        for acct in a.accounts() {
            assert!(acct.len() == 21 && acct[5..].chars().all(|c| c.is_ascii_alphanumeric()));
            for r in &RESOURCES {
                for o in a.list(Some(&acct), r.name) {
                    assert!(o.id.starts_with(r.prefix), "{}", o.id);
                    assert!((SYNTHETIC_END - SYNTHETIC_SPAN..SYNTHETIC_END).contains(&o.created));
                }
            }
            let linked = |from: &str, field: &str, to: &str| {
                let to: Vec<&str> = a
                    .list(Some(&acct), to)
                    .iter()
                    .map(|o| o.id.as_str())
                    .collect();
                a.list(Some(&acct), from).iter().all(|o| {
                    let v: Value = serde_json::from_str(&o.json).unwrap();
                    v[field].as_str().is_some_and(|id| to.contains(&id))
                })
            };
            assert!(linked("charges", "customer", "customers"));
            assert!(linked("refunds", "charge", "charges"));
            assert!(linked("invoice_payments", "invoice", "invoices"));
        }
    }
}
