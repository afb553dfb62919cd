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
