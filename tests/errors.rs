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

/// Silence is never success: a template no message fits and a metadata key no object has
/// are named in the summary and the report, and --strict turns them into exit 3 (after
/// everything was written).
#[test]
fn rules_that_match_nothing_are_named_and_strict_fails() {
    let d = Dir::new();
    let demo = root().join("samples/demo");
    let email = std::fs::read_to_string(root().join("mappings/bookly/email.toml")).unwrap();
    // A template (made of the file's shared parts) that no message fits.
    let never = "[[templates]]\nname = \"never_sent\"\nuse = [\"bookly\", \"v2\"]\nevent = \"reservation_created\"\nfrom = '^nobody@nowhere\\.invalid$'\nsubject = '^Never (?&code)$'\n";
    // And a field of a template that matches, which no message gives a value to.
    let reminder = "subject = '^Reminder: your appointment tomorrow [–-] (?&code)$'\n";
    assert!(email.contains(reminder));
    let email = email.replacen(
        reminder,
        &format!("{reminder}[templates.fields]\n\"attr.year\" = {{ text = \"{{subject}}\", type = \"datetime\", formats = [\"%Y\"] }}\n"),
        1,
    );
    assert!(email.contains("attr.year"));
    d.write("m/email.toml", &format!("{email}\n{never}"));
    let stripe = std::fs::read_to_string(root().join("mappings/bookly/stripe.toml")).unwrap();
    d.write(
        "m/stripe.toml",
        &format!(
            "{stripe}\n[[metadata]]\nkey = \"bookign_ref\"\nholds = \"reservation_reference\"\n"
        ),
    );
    let inc = std::fs::read_to_string(demo.join("incident.toml"))
        .unwrap()
        .replace("path = \"", &format!("path = \"{}/", demo.display()))
        .replace(
            "../../mappings/bookly/backup.toml",
            &root()
                .join("mappings/bookly/backup.toml")
                .display()
                .to_string(),
        )
        .replace("../../mappings/bookly/stripe.toml", "m/stripe.toml")
        .replace("../../mappings/bookly/email.toml", "m/email.toml");
    d.write("incident.toml", &inc);
    let mut c = d.cmd();
    c.args(["run", "incident.toml", "--out", "out", "--strict"]);
    let out = c.output().unwrap();
    let text = stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}\n{err}");
    assert!(
        text.contains("mapping rules that matched nothing: 3"),
        "{text}"
    );
    assert!(
        text.contains("templates[") && text.contains("never_sent"),
        "{text}"
    );
    assert!(text.contains("metadata key \"bookign_ref\""), "{text}");
    assert!(
        err.contains("--strict") && err.contains("3 mapping rules"),
        "{err}"
    );
    assert!(
        d.join("out/recovered.sqlite").exists(),
        "written all the same"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("out/report.json")).unwrap()).unwrap();
    let rules: usize = report["unmatched_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["examples"].as_array().unwrap().len())
        .sum();
    assert_eq!(rules, 3);
    assert!(text.contains("field attr.year: gave no value"), "{text}");
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("Mapping rules that matched nothing") && html.contains("bookign_ref"));
    // `salvage mapping check` says the same before any merge, and exits 3.
    let mut c = d.cmd();
    c.args(["mapping", "check", "incident.toml"]);
    let out = c.output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("source stripe:") && text.contains("bookign_ref"),
        "{text}"
    );
    assert!(
        text.contains("never_sent") && text.contains("attr.year"),
        "{text}"
    );
    assert!(
        text.contains("source nightly-backup:")
            && text.contains("every mapping rule matched something"),
        "{text}"
    );
    // Per rule, how much it matched: 0 for the template no message fits.
    assert!(text.contains("matched per rule:"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("0  templates[") && l.contains("never_sent")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("[reservation] table appointments: rows")),
        "{text}"
    );
    // On the demo's own mappings: nothing to say, exit 0.
    let mut c = d.cmd();
    c.args(["mapping", "check"])
        .arg(root().join("samples/demo/incident.toml"));
    ok(c);
}
