//! A user's mistake gives one clear line, a non-zero exit and no output files.

use crate::util::*;

fn assert_one_clear_line(err: &str, must: &[&str]) {
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got:\n{err}");
    assert!(lines[0].starts_with("salvage: error:"), "{err}");
    for m in must {
        assert!(err.contains(m), "{m:?} missing from: {err}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn typo_in_a_kind() {
    let d = Dir::new();
    d.write("a.sql", "");
    let f = d.write(
        "incident.toml",
        "incident_at = '2026-11-20T14:30:00Z'\n[[sources]]\nkind = 'bakcup'\npath = 'a.sql'\n",
    );
    let mut c = d.cmd();
    c.arg("run").arg(&f).args(["--out", "out"]);
    let err = fails(c);
    assert_one_clear_line(&err, &["incident.toml", "bakcup", "backup, stripe, email"]);
    assert!(!d.join("out").exists(), "nothing may be written");
}

#[test]
fn unknown_key() {
    let d = Dir::new();
    d.write("a.sql", "");
    let f = d.write(
        "incident.toml",
        "incident_at = '2026-11-20T14:30:00Z'\n[[sources]]\nkind = 'backup'\npath = 'a.sql'\nsnapshot = '2026-08-01'\n",
    );
    let mut c = d.cmd();
    c.arg("run").arg(&f).args(["--out", "out"]);
    let err = fails(c);
    assert_one_clear_line(&err, &["incident.toml", "snapshot"]);
    assert!(!d.join("out").exists());
}

#[test]
fn missing_source_file() {
    let d = Dir::new();
    let f = d.write(
        "incident.toml",
        "incident_at = '2026-11-20T14:30:00Z'\n[[sources]]\nname = 'nightly'\nkind = 'backup'\npath = 'gone.sql'\n",
    );
    let mut c = d.cmd();
    c.arg("run").arg(&f).args(["--out", "out"]);
    let err = fails(c);
    assert_one_clear_line(
        &err,
        &["incident.toml", "nightly", "gone.sql", "does not exist"],
    );
    assert!(!d.join("out").exists());
}

#[test]
fn missing_incident_file() {
    let d = Dir::new();
    let mut c = d.cmd();
    c.args(["run", "nope.toml", "--out", "out"]);
    let err = fails(c);
    assert_one_clear_line(&err, &["nope.toml", "cannot read"]);
}

#[test]
fn merge_without_import_says_what_to_do() {
    let d = Dir::new();
    let mut c = d.cmd();
    c.args(["merge", "--workspace", "ws"]);
    let err = fails(c);
    assert_one_clear_line(&err, &["salvage import"]);
}

/// A mapping that names a column the backup lacks: the error names the mapping file, the
/// key and the column, and no recovered file or report is written.
#[test]
fn mapping_names_a_missing_column() {
    let d = Dir::new();
    let demo = root().join("samples/demo");
    let mapping = std::fs::read_to_string(root().join("mappings/bookly/backup.toml"))
        .unwrap()
        .replace("phone = \"mobile\"", "phone = \"mobile_phone\"");
    let m = d.write("backup.toml", &mapping);
    let f = d.write(
        "incident.toml",
        &format!(
            "incident_at = '2026-11-20T14:30:00Z'\n[[sources]]\nname = 'nightly'\nkind = 'backup'\npath = '{}'\nmapping = '{}'\nsnapshot_at = '2026-08-22T03:00:00Z'\n",
            demo.join("backup/app.sql").display(),
            m.display()
        ),
    );
    let mut c = d.cmd();
    c.arg("run").arg(&f).args(["--out", "out", "--quiet"]);
    let err = fails(c);
    assert!(err.contains("backup.toml"), "{err}");
    assert!(err.contains("mobile_phone"), "{err}");
    assert!(err.contains("phone"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!d.join("out/recovered.sqlite").exists());
    assert!(!d.join("out/report.html").exists());
}
