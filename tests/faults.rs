//! Faults and hostile inputs (issue 18): a closed stdout, odd entries in source folders,
//! failing sources under `--keep-going`, killed runs, and error messages, each through the
//! real binary.

use crate::util::*;
use std::process::Stdio;

/// `salvage run` on the bundled demo into `out`, with stdout (and stderr when `both`)
/// closed before the binary writes anything: the reader of `salvage run | head -1` gone.
fn run_with_closed_output(d: &Dir, out: &str, both: bool) -> std::process::Output {
    let mut c = d.cmd();
    c.arg("-v")
        .arg("run")
        .arg(root().join("samples/demo/incident.toml"))
        .args(["--out", out])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn salvage");
    drop(child.stdout.take());
    if both {
        drop(child.stderr.take());
    }
    child.wait_with_output().expect("wait for salvage")
}

#[test]
fn closed_stdout_finishes_the_run() {
    let d = Dir::new();
    let o = run_with_closed_output(&d, "out", false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{:?}\n{err}", o.status);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
    // Every output of the run was written, not only what came before the first line.
    let db = sqlite(&d.join("out/recovered.sqlite"));
    assert!(count(&db, "SELECT count(*) FROM reservations") > 1000);
    assert!(d.join("out/report.json").is_file());
    assert!(d.join("out/schedule/index.csv").is_file());
}

#[test]
fn closed_stdout_and_stderr_finish_the_run() {
    let d = Dir::new();
    let o = run_with_closed_output(&d, "out", true);
    assert_eq!(o.status.code(), Some(0), "{:?}", o.status);
    assert!(d.join("out/report.html").is_file());
}

#[test]
fn head_of_the_summary_is_quiet() {
    // The shell's own pipe, as a person types it.
    let d = Dir::new();
    let bin = env!("CARGO_BIN_EXE_salvage");
    let script = format!(
        "set -o pipefail; '{bin}' run '{}' --out out | head -1",
        root().join("samples/demo/incident.toml").display()
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(d.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{:?}\n{err}", o.status);
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(&o).starts_with("imported "), "{}", stdout(&o));
    assert!(d.join("out/recovered.sqlite").is_file());
}

/// Every line the binary prints goes through the writer that survives a closed stdout.
#[test]
fn the_binary_prints_only_through_the_safe_writer() {
    let mut files = vec![root().join("src/main.rs")];
    for e in std::fs::read_dir(root().join("src/cli")).unwrap() {
        files.push(e.unwrap().path());
    }
    let raw = ["println!(", "print!(", "eprintln!(", "eprint!("];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for r in raw {
                let hit = code.match_indices(r).any(|(i, _)| {
                    // `eprintln!(` contains `println!(`; only a macro name's start counts.
                    i == 0 || !code.as_bytes()[i - 1].is_ascii_alphanumeric()
                });
                assert!(
                    !hit,
                    "{}:{}: {r} panics on a closed pipe; use outln!/out!/errln!",
                    f.display(),
                    n + 1
                );
            }
        }
    }
}

/// Runs `c` to its end, or kills it and fails after `secs` (a FIFO opened for reading
/// would block forever: the test must say so rather than hang).
fn run_within(mut c: std::process::Command, secs: u64) -> std::process::Output {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn salvage");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "{c:?} still running after {secs} s (hung?)\n--- stderr\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A copy of the bundled demo incident in `d/name`, its mapping paths made absolute.
fn demo_copy(d: &Dir, name: &str) -> std::path::PathBuf {
    let dst = d.join(name);
    let st = std::process::Command::new("cp")
        .arg("-r")
        .arg(root().join("samples/demo"))
        .arg(&dst)
        .status()
        .unwrap();
    assert!(st.success());
    let inc = dst.join("incident.toml");
    let text = std::fs::read_to_string(&inc).unwrap().replace(
        "\"../../mappings/",
        &format!("\"{}/mappings/", root().display()),
    );
    std::fs::write(&inc, text).unwrap();
    inc
}

#[cfg(unix)]
fn mkfifo(p: &std::path::Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo {}", p.display());
}

fn report_json(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// (count, example locations) of the skips of `kind` in `source`, from report.json.
fn skips_of(report: &serde_json::Value, source: &str, kind: &str) -> (u64, Vec<String>) {
    for g in report["skipped"].as_array().unwrap() {
        if g["source"] == source && g["kind"] == kind {
            let locs = g["examples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| format!("{} {}", e["location"], e["reason"]))
                .collect();
            return (g["count"].as_u64().unwrap(), locs);
        }
    }
    (0, Vec::new())
}

fn table_counts(db: &std::path::Path) -> Vec<i64> {
    let c = sqlite(db);
    ["businesses", "customers", "reservations", "payments"]
        .iter()
        .map(|t| count(&c, &format!("SELECT count(*) FROM {t}")))
        .collect()
}

#[cfg(unix)]
#[test]
fn hostile_entries_in_source_folders_are_skipped_and_named() {
    use std::os::unix::fs::symlink;
    let d = Dir::new();
    let clean = demo_copy(&d, "clean");
    let mut c = d.cmd();
    c.arg("run").arg(&clean).args(["--out", "clean-out"]);
    ok(c);

    let inc = demo_copy(&d, "hostile");
    let base = inc.parent().unwrap().to_path_buf();
    // Mail: a FIFO that looks like an mbox, a dangling link, a link to itself, and two
    // folders whose links point at each other.
    let mail = base.join("mail");
    mkfifo(&mail.join("pipe.mbox"));
    symlink(base.join("nowhere.mbox"), mail.join("gone.mbox")).unwrap();
    symlink(mail.join("me"), mail.join("me")).unwrap();
    std::fs::create_dir_all(mail.join("loop-a")).unwrap();
    std::fs::create_dir_all(mail.join("loop-b")).unwrap();
    symlink(mail.join("loop-b"), mail.join("loop-a/to-b")).unwrap();
    symlink(mail.join("loop-a"), mail.join("loop-b/to-a")).unwrap();
    // Stripe: a FIFO page, a dangling page, a link back up to the source's root.
    let stripe = base.join("stripe");
    mkfifo(&stripe.join("api/pipe.json"));
    symlink(base.join("nowhere.json"), stripe.join("gone.json")).unwrap();
    symlink(&stripe, stripe.join("api/up")).unwrap();

    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    let o = run_within(c, 300);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{:?}\n{err}", o.status);
    assert!(err.contains("pipe.mbox") && err.contains("FIFO"), "{err}");

    // Nothing else changed: the same rows as the clean copy.
    assert_eq!(
        table_counts(&d.join("out/recovered.sqlite")),
        table_counts(&d.join("clean-out/recovered.sqlite"))
    );
    let r = report_json(&d.join("out"));
    let (n, ex) = skips_of(&r, "mail-archive", "unreadable_entry");
    let all = ex.join("\n");
    assert!(n >= 4, "mail skips: {n}\n{all}");
    for want in ["pipe.mbox", "gone.mbox", "FIFO", "does not exist"] {
        assert!(all.contains(want), "{want} missing from\n{all}");
    }
    let (n, ex) = skips_of(&r, "stripe", "unreadable_entry");
    let all = ex.join("\n");
    assert!(n >= 3, "stripe skips: {n}\n{all}");
    for want in ["pipe.json", "gone.json", "already read"] {
        assert!(all.contains(want), "{want} missing from\n{all}");
    }
    // The clean copy has none.
    let r = report_json(&d.join("clean-out"));
    assert_eq!(skips_of(&r, "mail-archive", "unreadable_entry").0, 0);
}

#[cfg(unix)]
#[test]
fn a_fifo_as_the_source_path_is_refused_in_one_line() {
    let d = Dir::new();
    mkfifo(&d.join("backup.sql"));
    let f = d.write(
        "incident.toml",
        "incident_at = '2026-11-20T14:30:00Z'\n[[sources]]\nname = 'nightly'\nkind = 'backup'\npath = 'backup.sql'\n",
    );
    let mut c = d.cmd();
    c.arg("run").arg(&f).args(["--out", "out"]);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        err.contains("backup.sql") && err.contains("FIFO") && err.contains("nightly"),
        "{err}"
    );
    assert!(!d.join("out").exists());
}

/// Rows of `table` an email source supports, and provenance entries from email.
fn email_support(db: &std::path::Path) -> (i64, i64) {
    let c = sqlite(db);
    (
        count(
            &c,
            "SELECT count(*) FROM reservations WHERE ','||sources||',' LIKE '%,email,%'",
        ),
        count(&c, "SELECT count(*) FROM provenance WHERE source='email'"),
    )
}

#[test]
fn keep_going_drops_a_failed_source_entirely_and_says_so() {
    let d = Dir::new();
    let inc = demo_copy(&d, "demo");
    let mail = inc.parent().unwrap().join("mail");
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    ok(c);
    let (rows, prov) = email_support(&d.join("out/recovered.sqlite"));
    assert!(rows > 500 && prov > 1000, "{rows} {prov}");

    // The mail archive is gone this time: the source fails as a whole.
    std::fs::rename(&mail, d.join("mail-away")).unwrap();
    std::fs::create_dir(&mail).unwrap();
    let mut c = d.cmd();
    c.arg("run")
        .arg(&inc)
        .args(["--out", "out", "--keep-going"]);
    let o = c.output().unwrap();
    let (out, err) = (stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        o.status.code(),
        Some(2),
        "partial run: exit 2\n{out}\n{err}"
    );
    assert!(
        err.contains("source mail-archive") && err.contains("no mail files"),
        "{err}"
    );
    assert!(
        out.contains("partial rebuild") && out.contains("mail-archive"),
        "{out}"
    );
    // Nothing of it is used, not even what the first run imported.
    assert_eq!(email_support(&d.join("out/recovered.sqlite")), (0, 0));
    let db = sqlite(&d.join("out/recovered.sqlite"));
    let why: String = db
        .query_row(
            "SELECT value FROM run_info WHERE key='source.mail-archive.failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(why.contains("no mail files"), "{why}");
    let r = report_json(&d.join("out"));
    let failed = r["failed_sources"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["name"], "mail-archive");
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .contains("no mail files"));
    assert!(!r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "mail-archive"));
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("Sources that failed") && html.contains("mail-archive"));
    // The other sources are there as before.
    assert!(count(&db, "SELECT count(*) FROM payments") > 500);

    // Back again: read again (its fingerprint was cleared), whole again.
    std::fs::remove_dir(&mail).unwrap();
    std::fs::rename(d.join("mail-away"), &mail).unwrap();
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    let o = ok(c);
    assert!(!stdout(&o).contains("partial"), "{}", stdout(&o));
    assert_eq!(email_support(&d.join("out/recovered.sqlite")), (rows, prov));
    let r = report_json(&d.join("out"));
    assert!(r["failed_sources"].as_array().unwrap().is_empty());
}

/// The output files of a run are one set: `current` names it, the fixed names lead into
/// it, its manifest lists every file with its SHA-256 and the run id that recovered.sqlite
/// and report.json carry too.
#[cfg(unix)]
#[test]
fn outputs_are_one_set_and_leftovers_of_a_killed_run_go() {
    let d = Dir::new();
    let run = || {
        let mut c = d.cmd();
        c.arg("run")
            .arg(root().join("samples/demo/incident.toml"))
            .args(["--out", "out", "--quiet"]);
        ok(c);
    };
    run();
    let out = d.join("out");
    let set1 = std::fs::read_link(out.join("current")).unwrap();
    assert!(set1.starts_with("sets"), "{set1:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let run_id = manifest["run_id"].as_str().unwrap().to_string();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for want in [
        "recovered.sqlite",
        "report.html",
        "report.json",
        "schedule/index.csv",
    ] {
        assert!(listed.contains(&want), "{want} not in {listed:?}");
    }
    let db = sqlite(&out.join("recovered.sqlite"));
    let rid: String = db
        .query_row("SELECT value FROM run_info WHERE key='run_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    drop(db);
    assert_eq!(rid, run_id);
    assert_eq!(report_json(&out)["incident"]["run_id"], run_id.as_str());

    // What a run killed halfway leaves: its set folder, temp files beside the outputs
    // and in the workspace.
    std::fs::create_dir_all(out.join("sets/19700101T000000.000Z-1")).unwrap();
    std::fs::write(
        out.join("sets/19700101T000000.000Z-1/recovered.sqlite"),
        "half",
    )
    .unwrap();
    std::fs::write(out.join(".salvage-tmp-AbC123"), "half").unwrap();
    std::fs::write(out.join("workspace/.salvage-tmp-x"), "half").unwrap();
    run();
    let set2 = std::fs::read_link(out.join("current")).unwrap();
    assert_ne!(set1, set2);
    let sets: Vec<_> = std::fs::read_dir(out.join("sets"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        sets,
        [set2.file_name().unwrap()],
        "only the current set is kept"
    );
    assert!(!out.join(".salvage-tmp-AbC123").exists());
    assert!(!out.join("workspace/.salvage-tmp-x").exists());
    assert!(
        count(
            &sqlite(&out.join("recovered.sqlite")),
            "SELECT count(*) FROM payments"
        ) > 500
    );
}

/// tests/torture.sh, short: SIGKILL at random points of `salvage run`, the set checked
/// after every kill, and a final run compared with a clean one.
#[cfg(unix)]
#[test]
fn killed_runs_never_leave_a_mixed_output_set() {
    let has = |p: &str| {
        std::process::Command::new(p)
            .arg("--version")
            .output()
            .is_ok()
    };
    if !has("python3") || !has("bash") {
        eprintln!("python3 or bash not available: skipped");
        return;
    }
    let o = std::process::Command::new("bash")
        .arg(root().join("tests/torture.sh"))
        .arg("5")
        .env("SALVAGE", env!("CARGO_BIN_EXE_salvage"))
        .env("SEED", "18")
        .output()
        .unwrap();
    let (out, err) = (stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("kills: 5") && out.contains("matches a clean one"),
        "{out}"
    );
}

/// One error, one line: what failed, the file, what to do; nothing said twice.
fn one_line(err: &str, must: &[&str], must_not: &[&str]) {
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got:\n{err}");
    assert!(lines[0].starts_with("salvage: error: "), "{err}");
    for m in must {
        assert!(err.contains(m), "{m:?} missing from: {err}");
    }
    for m in must_not {
        assert!(!err.contains(m), "{m:?} should not be in: {err}");
    }
}

#[test]
fn the_os_error_is_said_once() {
    let d = Dir::new();
    let mut c = d.cmd();
    c.args(["run", "nope.toml", "--out", "out"]);
    let err = fails(c);
    one_line(&err, &["nope.toml", "cannot read", "Check the path"], &[]);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn a_file_that_is_not_a_recovered_sqlite_is_named_as_itself() {
    let d = Dir::new();
    d.write(
        "recovered.sqlite",
        "not a database at all, but long enough to look at",
    );
    for args in [
        &["schedule", "--recovered", "recovered.sqlite", "--out", "s"][..],
        &[
            "explain",
            "customers",
            "1",
            "--recovered",
            "recovered.sqlite",
        ][..],
    ] {
        let mut c = d.cmd();
        c.args(args);
        let err = fails(c);
        one_line(
            &err,
            &[
                "recovered.sqlite: not a SQLite file",
                "give the recovered.sqlite",
            ],
            &["workspace", "run_info"],
        );
    }
}

/// An incident of one source of `kind` at `path` with `mapping`.
fn one_source(d: &Dir, kind: &str, path: &str, mapping: &str, extra: &str) -> std::path::PathBuf {
    d.write(
        "incident.toml",
        &format!(
            "incident_at = '2026-11-20T14:30:00Z'\n[[sources]]\nname = 'src'\nkind = '{kind}'\npath = '{path}'\nmapping = '{mapping}'\n{extra}"
        ),
    )
}

fn bookly(file: &str) -> String {
    root()
        .join("mappings/bookly")
        .join(file)
        .display()
        .to_string()
}

#[test]
fn an_empty_dump_says_the_dump_is_empty() {
    let d = Dir::new();
    d.write("app.sql", "");
    let inc = one_source(
        &d,
        "backup",
        "app.sql",
        &bookly("backup.toml"),
        "snapshot_at = '2026-08-22T03:00:00Z'\n",
    );
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    let err = fails(c);
    one_line(
        &err,
        &["source src", "app.sql: the dump is empty", "--keep-going"],
        // Not the mapping's table name: the mapping is not what is wrong.
        &["shops", "backup.toml"],
    );
}

#[test]
fn an_empty_stripe_folder_and_an_empty_mapping_are_named() {
    let d = Dir::new();
    std::fs::create_dir(d.join("stripe")).unwrap();
    let inc = one_source(&d, "stripe", "stripe", &bookly("stripe.toml"), "");
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    one_line(&fails(c), &["stripe: no Stripe pages or exports here"], &[]);

    d.write("empty.toml", "# to be written\n\n");
    let inc = one_source(
        &d,
        "stripe",
        &root().join("samples/demo/stripe").display().to_string(),
        "empty.toml",
        "",
    );
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    one_line(&fails(c), &["empty.toml: the mapping file is empty"], &[]);
}

#[test]
fn an_empty_mbox_is_named() {
    let d = Dir::new();
    d.write("mail.mbox", "");
    let inc = one_source(&d, "email", "mail.mbox", &bookly("email.toml"), "");
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    let o = ok(c);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mail.mbox: the file is empty"), "{err}");
    assert!(
        stdout(&o).contains("source src gave no record: check its path")
            && stdout(&o).contains("mail.mbox"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn api_base_beside_a_folder_of_saved_pages_contradicts() {
    let d = Dir::new();
    d.write("stripe/charges.json", "{}");
    let inc = one_source(
        &d,
        "stripe",
        "stripe",
        &bookly("stripe.toml"),
        "api_base = 'https://api.stripe.com'\napi_key_env = 'STRIPE_KEY'\n",
    );
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    one_line(
        &fails(c),
        &[
            "incident.toml",
            "sources[0] (src)",
            "`path`",
            "`api_base`",
            "contradict",
        ],
        &[],
    );
    assert!(!d.join("out").exists(), "nothing may be written");
}

#[test]
fn a_nul_byte_in_a_currency_never_reaches_the_export() {
    let d = Dir::new();
    let inc = demo_copy(&d, "demo");
    let page = inc
        .parent()
        .unwrap()
        .join("stripe/api/acct_Be8k1GQcdcRCt6y8/charges/page-0001.json");
    let text = std::fs::read_to_string(&page).unwrap();
    assert!(text.contains("\"currency\":\"gbp\""));
    std::fs::write(
        &page,
        text.replace("\"currency\":\"gbp\"", "\"currency\":\"gbp\\u0000\""),
    )
    .unwrap();
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out", "--quiet"]);
    ok(c);
    let db = sqlite(&d.join("out/recovered.sqlite"));
    let with_nul = |sql: &str| -> usize {
        let mut st = db.prepare(sql).unwrap();
        st.query_map([], |r| r.get::<_, Option<Vec<u8>>>(0))
            .unwrap()
            .filter(|v| v.as_ref().unwrap().as_ref().is_some_and(|b| b.contains(&0)))
            .count()
    };
    assert_eq!(with_nul("SELECT CAST(value AS BLOB) FROM provenance"), 0);
    assert_eq!(with_nul("SELECT CAST(currency AS BLOB) FROM payments"), 0);
    assert_eq!(
        with_nul("SELECT CAST(details AS BLOB) FROM review_queue"),
        0
    );
    // The value is kept where a person sees it, marked, and reviewed.
    assert!(
        count(
            &db,
            "SELECT count(*) FROM provenance WHERE column_name='currency' AND value = 'gbp' || char(65533)"
        ) > 0
    );
    assert!(
        count(
            &db,
            "SELECT count(*) FROM review_queue WHERE reason='invalid:currency'"
        ) > 0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM payments WHERE instr(currency, char(65533)) > 0"
        ),
        0,
        "an invalid currency is never chosen"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_as_the_mapping_is_refused_in_one_line() {
    let d = Dir::new();
    d.write("app.sql", "CREATE TABLE t (a int);\n");
    mkfifo(&d.join("backup.toml"));
    let inc = one_source(&d, "backup", "app.sql", "backup.toml", "");
    let mut c = d.cmd();
    c.arg("run").arg(&inc).args(["--out", "out"]);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(1));
    one_line(
        &String::from_utf8_lossy(&o.stderr),
        &["incident.toml", "mapping", "backup.toml", "FIFO"],
        &["does not exist"],
    );
}

/// A second run into the same output folder while one is writing there is refused (it
/// would remove the first one's set as a leftover), and says what to do.
#[cfg(unix)]
#[test]
fn one_run_at_a_time_per_output_folder() {
    if std::process::Command::new("flock")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("flock(1) not available: skipped");
        return;
    }
    let d = Dir::new();
    std::fs::create_dir(d.join("out")).unwrap();
    // Another writer holds the lock, as a running salvage does.
    // (`cat` holds it until its stdin closes: no process outlives the test.)
    let mut holder = std::process::Command::new("flock")
        .arg(d.join("out/.salvage-lock"))
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut c = d.cmd();
    c.arg("run")
        .arg(root().join("samples/demo/incident.toml"))
        .args(["--out", "out"]);
    let err = fails(c);
    drop(holder.stdin.take());
    let _ = holder.wait();
    one_line(&err, &["out", "another salvage run", "another --out"], &[]);
    assert!(!d.join("out/current").exists());
}

/// An unreadable folder in the mail and an unreadable Stripe page are skips of their
/// source, named with their path; the run goes on. (As root, permissions do not stop a
/// read, so the binary runs as `nobody` through setpriv(1), or the test skips.)
#[cfg(unix)]
#[test]
fn unreadable_entries_are_skips_not_the_end() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    let root_user = unsafe { libc::geteuid() } == 0;
    let has_setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok();
    if root_user && !has_setpriv {
        eprintln!("running as root without setpriv(1): skipped");
        return;
    }
    let d = Dir::new();
    let inc = demo_copy(&d, "demo");
    let base = inc.parent().unwrap().to_path_buf();
    // The mapping files, inside the folder `nobody` may read.
    let maps = d.join("mappings");
    let st = std::process::Command::new("cp")
        .arg("-r")
        .arg(root().join("mappings"))
        .arg(&maps)
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(&inc).unwrap().replace(
        &format!("\"{}/mappings/", root().display()),
        &format!("\"{}/", maps.display()),
    );
    std::fs::write(&inc, text).unwrap();
    let bin = d.join("salvage");
    std::fs::copy(env!("CARGO_BIN_EXE_salvage"), &bin).unwrap();
    let st = std::process::Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(d.path())
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::create_dir(base.join("mail/locked")).unwrap();
    std::fs::write(base.join("mail/locked/more.mbox"), "From x\n\nhi\n").unwrap();
    std::fs::set_permissions(
        base.join("mail/locked"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let page = base.join("stripe/api/acct_Be8k1GQcdcRCt6y8/charges/page-0002.json");
    std::fs::set_permissions(&page, std::fs::Permissions::from_mode(0o000)).unwrap();

    let mut c = if root_user {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    c.current_dir(d.path())
        .arg("run")
        .arg(&inc)
        .args(["--out", "out", "--quiet"]);
    let o = run_within(c, 300);
    // Let the temp dir be removed.
    std::fs::set_permissions(
        base.join("mail/locked"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{:?}\n{err}", o.status);
    let r = report_json(&d.join("out"));
    let (n, ex) = skips_of(&r, "mail-archive", "unreadable_entry");
    assert_eq!(n, 1, "{ex:?}");
    assert!(
        ex[0].contains("locked") && ex[0].contains("ermission denied"),
        "{ex:?}"
    );
    let (n, ex) = skips_of(&r, "stripe", "unreadable");
    assert_eq!(n, 1, "{ex:?}");
    assert!(ex[0].contains("page-0002.json"), "{ex:?}");
    // The rest of both sources is there.
    assert!(
        count(
            &sqlite(&d.join("out/recovered.sqlite")),
            "SELECT count(*) FROM reservations"
        ) > 1000
    );
}
