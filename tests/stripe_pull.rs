//! `salvage stripe pull` and `salvage run` against the fake Stripe server: the real binary,
//! the real wire format, every request recorded.

use crate::util::{self, Dir};
use salvage::samples::stripe_server::{FakeConfig, FakeStripe, LoggedRequest, World};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "rk_test_pulltest0123456789";
const KEY_ENV: &str = "SALVAGE_PULL_TEST_KEY";

fn demo_world() -> World {
    World::from_dir(&util::root().join("samples/demo/stripe")).expect("demo world")
}

fn start(config: FakeConfig) -> FakeStripe {
    start_world(demo_world(), KEY, config)
}

fn start_world(world: World, key: &str, config: FakeConfig) -> FakeStripe {
    FakeStripe::start(
        world,
        FakeConfig {
            key: key.into(),
            ..config
        },
    )
    .expect("fake Stripe")
}

/// An incident with one Stripe API source at `base`.
fn incident(dir: &Dir, base: &str, extra: &str) -> PathBuf {
    let mapping = util::root().join("mappings/bookly/stripe.toml");
    dir.write(
        "incident.toml",
        &format!(
            "name = \"pull\"\nincident_at = \"2026-11-20T14:30:00Z\"\n\n[[sources]]\nname = \"stripe\"\nkind = \"stripe\"\napi_base = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\nmapping = {:?}\n{extra}",
            mapping.display().to_string()
        ),
    )
}

fn pull_cmd(dir: &Dir, args: &[&str]) -> std::process::Command {
    let mut c = dir.cmd();
    c.env(KEY_ENV, KEY)
        .args(["stripe", "pull", "incident.toml", "--out", "out"])
        .args(args);
    c
}

/// Object ids in every saved page under `root/api`, with how often each was saved.
fn saved_ids(root: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in files(&root.join("api")) {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let objs = match v.get("data") {
            Some(d) => d.as_array().unwrap().clone(),
            None => vec![v],
        };
        for o in objs {
            *out.entry(o["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn world_ids(w: &World) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for ids in w.object_ids().values() {
        for id in ids {
            *out.entry(id.clone()).or_default() += 1;
        }
    }
    out
}

fn assert_only_gets(log: &[LoggedRequest]) {
    assert!(!log.is_empty());
    for r in log {
        assert_eq!(r.method, "GET", "{r:?}");
    }
}

/// No file under `root` and no output line holds the key.
fn assert_key_nowhere(root: &Path, outputs: &[&str]) {
    for f in files(root) {
        let b = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&b).contains(KEY),
            "{} holds the key",
            f.display()
        );
    }
    for o in outputs {
        assert!(!o.contains(KEY), "the key was printed: {o}");
    }
}

#[test]
fn a_pull_gets_every_object_exactly_once_with_gets_only() {
    let fake = start(FakeConfig::default());
    let dir = Dir::new();
    incident(&dir, &fake.base_url(), "");
    let out = util::ok(pull_cmd(&dir, &["--rate", "400"]));
    let text = util::stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let log = fake.requests();
    assert_only_gets(&log);
    assert!(log.iter().all(|r| r.authorized));
    // Connected accounts' lists carry Stripe-Account; the account list does not.
    assert!(log
        .iter()
        .filter(|r| r.path == "/v1/accounts")
        .all(|r| r.account.is_none()));
    assert!(log
        .iter()
        .any(|r| r.path == "/v1/charges"
            && r.account.as_deref().is_some_and(|a| a.starts_with("acct_"))));
    let pulled = dir.join("out/pulls/stripe");
    assert_eq!(
        saved_ids(&pulled),
        world_ids(&demo_world()),
        "every object once"
    );
    assert!(text.contains("0 refused, 0 failed"), "{text}");
    assert_key_nowhere(&dir.join("out"), &[&text, &err]);
    // Every list is checkpointed complete, and the pull says it finished.
    assert!(pulled.join("pull/finished").is_file());
    for f in files(&pulled.join("pull"))
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "state"))
    {
        let ck: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        assert_eq!(ck["status"], "complete", "{}", f.display());
    }

    // A rerun after completion asks only for what is newer, and saves nothing new.
    let before = files(&pulled.join("api"));
    let n = log.len();
    let again = util::stdout(&util::ok(pull_cmd(&dir, &["--rate", "400"])));
    let log = fake.requests();
    let (first, rerun) = log.split_at(n);
    // A list that held objects is asked only from its newest; an empty one is asked again.
    let held: std::collections::BTreeSet<(String, Option<String>)> = first
        .iter()
        .filter(|r| !r.ids.is_empty())
        .map(|r| (r.path.clone(), r.account.clone()))
        .collect();
    let asked_newer = |r: &&LoggedRequest| {
        r.query.contains("created%5Bgte%5D") || r.query.contains("created[gte]")
    };
    // One request per list: nothing newer, so no second page.
    let lists = |v: &[LoggedRequest]| -> std::collections::BTreeSet<(String, Option<String>)> {
        v.iter()
            .map(|r| (r.path.clone(), r.account.clone()))
            .collect()
    };
    assert_eq!(lists(rerun), lists(first));
    assert!(rerun.iter().all(|r| !r.query.contains("starting_after")));
    assert!(
        rerun
            .iter()
            .filter(|r| held.contains(&(r.path.clone(), r.account.clone())))
            .all(|r| asked_newer(&r)),
        "{rerun:?}"
    );
    assert!(again.contains(" 0 new objects"), "{again}");
    assert_eq!(files(&pulled.join("api")), before);
    assert_eq!(saved_ids(&pulled), world_ids(&demo_world()));
}

#[test]
fn retries_429s_and_500s_and_names_refused_lists() {
    let acct = demo_world().accounts()[0].clone();
    let fake = start(FakeConfig {
        rate_limit: Some(40),
        fail_every: Some(9),
        refuse: vec![(acct.clone(), "charges".into())],
        ..FakeConfig::default()
    });
    let dir = Dir::new();
    incident(&dir, &fake.base_url(), "");
    // Asks for more than the fake allows: 429s come, the pull slows and retries.
    let out = util::ok(pull_cmd(&dir, &["--rate", "120", "--retries", "8"]));
    let text = util::stdout(&out);
    let log = fake.requests();
    assert_only_gets(&log);
    assert!(log.iter().any(|r| r.status == 429), "the limit was hit");
    assert!(log.iter().any(|r| r.status == 500));
    assert!(text.contains("1 refused, 0 failed"), "{text}");
    assert!(text.contains(&format!("{acct}/charges")), "{text}");
    assert!(text.contains("not verified against Stripe"), "{text}");
    // Everything but the refused list arrived once.
    let mut want = world_ids(&demo_world());
    for id in &demo_world().object_ids()[&(Some(acct.clone()), "charges".to_string())] {
        want.remove(id);
    }
    assert_eq!(saved_ids(&dir.join("out/pulls/stripe")), want);

    // The run imports the pull and names the refused list among the skips.
    let mut c = dir.cmd();
    c.env_remove(KEY_ENV)
        .args(["run", "incident.toml", "--out", "out"]);
    let run = util::stdout(&util::ok(c));
    assert!(run.contains("stripe_list_refused"), "{run}");
    let n = fake.requests().len();
    assert_eq!(n, log.len(), "a finished pull is not pulled again by run");
}

#[test]
fn a_wrong_key_stops_with_one_line_and_marks_nothing_complete() {
    let fake = start(FakeConfig::default());
    let dir = Dir::new();
    incident(&dir, &fake.base_url(), "");
    let mut c = dir.cmd();
    c.env(KEY_ENV, "rk_test_wrongwrongwrong42").args([
        "stripe",
        "pull",
        "incident.toml",
        "--out",
        "out",
    ]);
    let err = util::fails(c);
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("refused the key"), "{err}");
    assert!(
        !err.contains("wrongwrongwrong"),
        "the key was printed: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for f in files(&dir.join("out")) {
        let t = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!t.contains("\"complete\""), "{}", f.display());
    }
    // No key at all: says which variable to set.
    let mut c = dir.cmd();
    c.env_remove(KEY_ENV)
        .args(["stripe", "pull", "incident.toml", "--out", "out"]);
    let err = util::fails(c);
    assert!(err.contains(KEY_ENV) && err.contains("not set"), "{err}");
}

#[test]
fn an_unreachable_base_stops_with_one_line() {
    let dir = Dir::new();
    incident(&dir, "http://127.0.0.1:9", "");
    let err = util::fails(pull_cmd(&dir, &["--retries", "1"]));
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(err.contains("rerun"), "{err}");
    assert!(!err.contains(KEY));
}

#[test]
fn a_malformed_page_and_a_looping_cursor_fail_their_lists_only() {
    let w = demo_world();
    let accts = w.accounts();
    let fake = start(FakeConfig {
        malformed: vec![(accts[0].clone(), "customers".into())],
        loop_cursor: vec![(accts[1].clone(), "charges".into())],
        ..FakeConfig::default()
    });
    let dir = Dir::new();
    incident(&dir, &fake.base_url(), "");
    let mut c = pull_cmd(&dir, &["--rate", "400", "--retries", "1"]);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "failed lists exit 2");
    let text = util::stdout(&out);
    assert!(text.contains("2 failed"), "{text}");
    assert!(text.contains(&format!("{}/customers", accts[0])), "{text}");
    assert!(text.contains("not JSON"), "{text}");
    assert!(text.contains("loops"), "{text}");
    let ck = |a: &str, r: &str| -> serde_json::Value {
        let p = dir.join(&format!("out/pulls/stripe/pull/{a}/{r}.state"));
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    assert_eq!(ck(&accts[0], "customers")["status"], "failed");
    assert_eq!(ck(&accts[1], "charges")["status"], "failed");
    assert_eq!(ck(&accts[1], "customers")["status"], "complete");
}

#[test]
fn a_pull_killed_halfway_resumes_to_the_same_pages() {
    // Slow enough to be killed in the middle: 25 requests/s.
    let fake = start(FakeConfig {
        latency: Duration::from_millis(5),
        ..FakeConfig::default()
    });
    let whole = Dir::new();
    incident(&whole, &fake.base_url(), "");
    util::ok(pull_cmd(&whole, &["--rate", "400"]));

    let dir = Dir::new();
    incident(&dir, &fake.base_url(), "");
    let mut child = pull_cmd(&dir, &["--rate", "25", "--concurrency", "4"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let api = dir.join("out/pulls/stripe/api");
    let t = std::time::Instant::now();
    while files(&api).len() < 12 && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to tidy up
    child.wait().unwrap();
    let half = files(&api).len();
    assert!(half >= 12, "pages saved before the kill: {half}");
    assert!(
        half < files(&whole.join("out/pulls/stripe/api")).len(),
        "killed before the end"
    );
    // Killed: not finished, so `salvage run` would pull again (and go on from here).
    let finished = dir.join("out/pulls/stripe/pull/finished");
    assert!(!finished.exists());
    util::ok(pull_cmd(&dir, &["--rate", "400"]));
    assert!(finished.exists());
    let a = files(&whole.join("out/pulls/stripe/api"));
    let b = files(&api);
    let rel = |v: &[PathBuf], base: &Path| -> Vec<PathBuf> {
        v.iter()
            .map(|p| p.strip_prefix(base).unwrap().to_path_buf())
            .collect()
    };
    assert_eq!(
        rel(&a, &whole.join("out/pulls/stripe/api")),
        rel(&b, &api),
        "the same pages"
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{}",
            y.display()
        );
    }
    assert_eq!(
        saved_ids(&dir.join("out/pulls/stripe")),
        world_ids(&demo_world())
    );
}

#[test]
fn a_world_of_stripes_own_example_objects_arrives_whole() {
    // Stripe's example object of each resource (../shared/fixtures/stripe), 120 per list:
    // two pages each, the second after a starting_after cursor.
    let fixtures = util::root().join("../shared/fixtures/stripe/fixtures3.json");
    if !fixtures.exists() {
        eprintln!("skipped: {} is not here", fixtures.display());
        return;
    }
    let world = || World::synthetic(&fixtures, 3, 120, 5).unwrap();
    let fake = start_world(world(), KEY, FakeConfig::default());
    let dir = Dir::new();
    incident(&dir, &fake.base_url(), "");
    util::ok(pull_cmd(&dir, &["--rate", "400"]));
    let log = fake.requests();
    assert_only_gets(&log);
    assert!(log.iter().any(|r| r.query.contains("starting_after")));
    assert_eq!(
        saved_ids(&dir.join("out/pulls/stripe")),
        world_ids(&world())
    );
    // The platform's ten (empty) lists are asked once each beyond what the world needs.
    assert_eq!(log.len() as u64, world().request_count_needed(100) + 10);
}

#[test]
fn the_incident_narrows_a_pull_to_accounts_lists_and_dates() {
    let w = demo_world();
    let acct = w.accounts()[2].clone();
    let fake = start(FakeConfig::default());
    let dir = Dir::new();
    incident(
        &dir,
        &fake.base_url(),
        &format!(
            "accounts = [\"{acct}\"]\nresources = [\"charges\", \"customers\"]\nplatform = false\ncreated_since = \"2026-09-01T00:00:00Z\"\n"
        ),
    );
    util::ok(pull_cmd(&dir, &["--rate", "400"]));
    let log = fake.requests();
    assert_only_gets(&log);
    let mut paths: Vec<String> = log.iter().map(|r| r.path.clone()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths,
        vec![
            format!("/v1/accounts/{acct}"),
            "/v1/charges".into(),
            "/v1/customers".into()
        ]
    );
    let since = 1_788_220_800; // 2026-09-01T00:00:00Z
    for r in log
        .iter()
        .filter(|r| r.path != format!("/v1/accounts/{acct}"))
    {
        assert_eq!(r.account.as_deref(), Some(acct.as_str()));
        assert!(
            r.query.contains(&format!("created%5Bgte%5D={since}")),
            "{r:?}"
        );
    }
    let saved = saved_ids(&dir.join("out/pulls/stripe"));
    let lists = w.object_ids();
    let mut want = 1; // the account itself
    for r in ["charges", "customers"] {
        want += lists
            .get(&(Some(acct.clone()), r.to_string()))
            .map(|ids| ids.len())
            .unwrap_or(0);
    }
    assert!(saved.len() < want, "only objects created since the date");
    assert!(saved.contains_key(&acct));
    assert!(saved.values().all(|&n| n == 1));
}

#[test]
fn a_secret_key_works_with_a_loud_warning() {
    let secret = "sk_test_secretsecret987";
    let fake = start_world(demo_world(), secret, FakeConfig::default());
    let dir = Dir::new();
    incident(&dir, &fake.base_url(), "");
    let mut c = dir.cmd();
    c.env(KEY_ENV, secret).args([
        "stripe",
        "pull",
        "incident.toml",
        "--out",
        "out",
        "--rate",
        "400",
    ]);
    let out = util::ok(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("secret key (sk_)") && err.contains("restricted read-only key (rk_)"),
        "{err}"
    );
    assert!(!err.contains(secret) && !util::stdout(&out).contains(secret));
}
