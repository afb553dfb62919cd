//! Every mail layout Python's `mailbox` knows, read by Salvage and by Python: the same
//! number of messages (or, where Python is wrong about a file, the difference is the point
//! of the test and is said). Each archive is built here, in a temporary directory; without
//! python3 the comparison is skipped with a note, and Salvage's own count is still checked.

use salvage::claims::VecSink;
use salvage::import::email::{self, mapping::Mapping, ReadOptions, Tally};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A message with its own Message-ID (none is a duplicate of another).
fn msg(n: usize, body: &str) -> String {
    format!(
        "From: shop{n}@example.com\nTo: guest{n}@example.org\nSubject: Booking {n}\nDate: Tue, 14 Jul 2026 16:{:02}:00 +0200\nMessage-ID: <m{n}@example.com>\n\n{body}",
        n % 60
    )
}

fn separator(n: usize) -> String {
    format!(
        "From shop{n}@example.com Tue Jul 14 16:{:02}:00 2026\n",
        n % 60
    )
}

/// Salvage's count, and a check that every message is accounted for.
fn salvage(path: &Path, cap: Option<u64>) -> (Tally, VecSink) {
    let mapping = Mapping::load(None).unwrap();
    let mut sink = VecSink::default();
    let opts = ReadOptions {
        max_message: cap.unwrap_or(ReadOptions::default().max_message),
    };
    let t = email::import_path_with(path, &mapping, &mut sink, &opts).unwrap();
    assert_eq!(
        t.read,
        t.extracted + t.skipped_total(),
        "{}: {t:?}",
        path.display()
    );
    let undelivered = sink
        .skips
        .iter()
        .filter(|s| s.kind == email::UNDELIVERED)
        .count() as u64;
    assert_eq!(undelivered, t.undelivered);
    assert_eq!(
        sink.skips.len() as u64,
        t.skipped_total() + t.undelivered,
        "{}: {:?}",
        path.display(),
        sink.skips
    );
    (t, sink)
}

const PY: &str = r#"
import mailbox, sys
kind, path = sys.argv[1], sys.argv[2]
def tree(box):
    n = len(box.keys())
    for f in box.list_folders():
        n += tree(box.get_folder(f))
    return n
if kind == "mbox":
    n = len(mailbox.mbox(path, create=False).keys())
elif kind == "mmdf":
    n = len(mailbox.MMDF(path, create=False).keys())
elif kind == "babyl":
    n = len(mailbox.Babyl(path, create=False).keys())
elif kind == "maildir":
    n = tree(mailbox.Maildir(path, factory=None, create=False))
elif kind == "mh":
    n = tree(mailbox.MH(path, create=False))
elif kind == "mboxes":
    import glob, os
    n = sum(len(mailbox.mbox(p, create=False).keys()) for p in sorted(glob.glob(os.path.join(path, "*.mbox"))))
print(n)
"#;

/// Python's count of `path` read as `kind`; None (with a note) without python3.
fn python(kind: &str, path: &Path) -> Option<u64> {
    let out = Command::new("python3")
        .args(["-c", PY, kind])
        .arg(path)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            Some(String::from_utf8_lossy(&o.stdout).trim().parse().unwrap())
        }
        Ok(o) => panic!(
            "python3 mailbox failed on {}: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => {
            eprintln!("python3 not available: the comparison with Python's mailbox is skipped");
            None
        }
    }
}

/// Salvage reads `want` messages, and Python `want + python_extra`.
fn check(kind: &str, path: &Path, plain: &Path, want: u64, python_extra: u64) -> Tally {
    let (t, _) = salvage(path, None);
    assert_eq!(t.read, want, "{}: {t:?}", path.display());
    if let Some(py) = python(kind, plain) {
        assert_eq!(
            py,
            want + python_extra,
            "Python's count of {}",
            plain.display()
        );
    }
    t
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

/// An mbox of `n` messages, each after a blank line (mboxrd quoting).
fn mbox(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&separator(i));
        s.push_str(&msg(i, "Thanks for booking.\n>From the team\n"));
        s.push('\n');
    }
    s
}

#[test]
fn mbox_without_blank_lines_before_separators() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for i in 0..5 {
        s.push_str(&separator(i));
        s.push_str(&msg(i, "no blank line after this body\n"));
    }
    let p = write(d.path(), "a.mbox", s.as_bytes());
    check("mbox", &p, &p, 5, 0);
}

#[test]
fn mbox_with_dateless_separators() {
    // "From sender" and no date, as some exporters write: after a blank line and before a
    // header, a separator.
    let d = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for i in 0..4 {
        s.push_str(&format!("From shop{i}@example.com\n"));
        s.push_str(&msg(i, "hi\n"));
        s.push('\n');
    }
    let p = write(d.path(), "dateless.mbox", s.as_bytes());
    check("mbox", &p, &p, 4, 0);
}

#[test]
fn mboxrd_with_quoted_from_lines() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for i in 0..4 {
        s.push_str(&separator(i));
        s.push_str(&msg(i, ">From the team\n>>From a quote\n\nbye\n"));
        s.push('\n');
    }
    let p = write(d.path(), "rd.mbox", s.as_bytes());
    let (t, _) = salvage(&p, None);
    assert_eq!(t.read, 4);
    if let Some(py) = python("mbox", &p) {
        assert_eq!(py, 4);
    }
    // Prose "From " lines in a file that never quotes: body text for Salvage; Python splits
    // at every "From " line and reads one message per prose line more.
    let mut s = String::new();
    for i in 0..3 {
        s.push_str(&separator(i));
        s.push_str(&msg(i, "Hello\n\nFrom the team at the shop\n"));
        s.push('\n');
    }
    let p = write(d.path(), "prose.mbox", s.as_bytes());
    check("mbox", &p, &p, 3, 3);
}

#[test]
fn mboxcl2_content_length_covers_a_from_line_in_the_body() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for i in 0..3 {
        let body = format!("Hi\n{}bye\n", separator(90 + i));
        let m = msg(i, &body);
        let (head, _) = m.split_once("\n\n").unwrap();
        s.push_str(&separator(i));
        s.push_str(&format!(
            "{head}\nContent-Length: {}\n\n{body}\n",
            body.len()
        ));
    }
    let p = write(d.path(), "cl2.mbox", s.as_bytes());
    // Python ignores Content-Length and splits at the separator-shaped body line of each
    // message: 3 more. Salvage trusts the header, which points at the next From line.
    let t = check("mbox", &p, &p, 3, 3);
    assert_eq!(t.skipped_total(), 3, "{t:?}");
    // The same without such lines: the same count as Python.
    let mut s = String::new();
    for i in 0..3 {
        let body = "Hi\nbye\n";
        let m = msg(i, body);
        let (head, _) = m.split_once("\n\n").unwrap();
        s.push_str(&separator(i));
        s.push_str(&format!(
            "{head}\nContent-Length: {}\n\n{body}\n",
            body.len()
        ));
    }
    let p = write(d.path(), "cl.mbox", s.as_bytes());
    check("mbox", &p, &p, 3, 0);
}

#[test]
fn mmdf() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for i in 0..4 {
        s.push_str("\x01\x01\x01\x01\n");
        s.push_str(&msg(i, "From the team\n"));
        s.push_str("\x01\x01\x01\x01\n");
    }
    // An empty entry.
    s.push_str("\x01\x01\x01\x01\n\x01\x01\x01\x01\n");
    let p = write(d.path(), "box.mmdf", s.as_bytes());
    let t = check("mmdf", &p, &p, 5, 0);
    assert_eq!(t.skipped.get(email::EMPTY), Some(&1), "{t:?}");
}

#[test]
fn babyl() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::from("BABYL OPTIONS: -*- rmail -*-\nVersion: 5\nLabels:\n");
    for i in 0..3 {
        let m = msg(i, "From the team\n");
        let (head, body) = m.split_once("\n\n").unwrap();
        s.push_str(&format!(
            "\x1f\x0c\n1,, unseen,\n{head}\n\n*** EOOH ***\n{head}\n\n{body}"
        ));
    }
    s.push_str("\x1f\x0c\n1,,\n\x1f");
    let p = write(d.path(), "RMAIL", s.as_bytes());
    let t = check("babyl", &p, &p, 4, 0);
    assert_eq!(t.skipped.get(email::EMPTY), Some(&1), "{t:?}");
}

#[test]
fn mh_folder() {
    let d = tempfile::tempdir().unwrap();
    let mh = d.path().join("inbox");
    for i in [1usize, 2, 10, 11] {
        write(&mh, &i.to_string(), msg(i, "hi\n").as_bytes());
    }
    write(&mh, ".mh_sequences", b"unseen: 10-11\n");
    write(&mh, "sub/3", msg(3, "hi\n").as_bytes());
    let (t, sink) = salvage(&mh, None);
    assert_eq!(t.read, 5);
    // In their numbers' order.
    let locs: Vec<&str> = sink.skips.iter().map(|s| s.location.as_str()).collect();
    assert_eq!(locs, ["1@0", "2@0", "10@0", "11@0", "sub/3@0"]);
    if let Some(py) = python("mh", &mh) {
        assert_eq!(py, 5);
    }
}

#[test]
fn maildir_with_maildir_plus_plus_folders_and_tmp() {
    let d = tempfile::tempdir().unwrap();
    let md = d.path().join("Maildir");
    // A file that starts with an envelope line and holds a separator-shaped line: in a
    // Maildir, one message all the same.
    write(
        &md,
        "cur/1.host:2,S",
        format!(
            "{}{}",
            separator(1),
            msg(1, &format!("hi\n\n{}", separator(8)))
        )
        .as_bytes(),
    );
    write(&md, "new/2.host", msg(2, "hi\n").as_bytes());
    write(&md, "tmp/3.host", msg(3, "hi\n").as_bytes());
    write(&md, ".Sent/cur/4.host:2,S", msg(4, "hi\n").as_bytes());
    write(&md, ".Sent/maildirfolder", b"");
    write(&md, ".Archive.2024/new/5.host", msg(5, "hi\n").as_bytes());
    write(
        &md,
        ".Archive.2024/cur/6.host:2,",
        msg(6, "hi\n").as_bytes(),
    );
    write(&md, ".Archive.2024/tmp/7.host", msg(7, "hi\n").as_bytes());
    // Python wants cur/, new/ and tmp/ in each (a real Maildir has all three).
    for f in ["", ".Sent", ".Archive.2024", ".Drafts"] {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(md.join(f).join(sub)).unwrap();
        }
    }
    let t = check("maildir", &md, &md, 5, 0);
    assert_eq!(t.undelivered, 2, "{t:?}");
}

#[test]
fn compressed_mboxes() {
    let d = tempfile::tempdir().unwrap();
    let plain = mbox(6);
    let p = write(d.path(), "plain.mbox", plain.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(plain.as_bytes()).unwrap();
    let g = write(d.path(), "x.mbox.gz", &gz.finish().unwrap());
    let z = write(
        d.path(),
        "x.mbox.zst",
        &zstd::encode_all(plain.as_bytes(), 3).unwrap(),
    );
    // No telling extension: the first bytes say it.
    let z2 = write(
        d.path(),
        "archive",
        &zstd::encode_all(plain.as_bytes(), 3).unwrap(),
    );
    for f in [&g, &z, &z2] {
        check("mbox", f, &p, 6, 0);
    }
}

#[test]
fn google_takeout_folder() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("takeout-20260101");
    write(&root, "Takeout/archive_browser.html", b"<html></html>");
    write(
        &root,
        "Takeout/Mail/All mail Including Spam and Trash.mbox",
        mbox(4).as_bytes(),
    );
    write(&root, "Takeout/Mail/Sent.mbox", mbox(2).as_bytes());
    write(
        &root,
        "Takeout/Mail/User Settings/Filters.xml",
        b"<feed></feed>",
    );
    write(&root, "Takeout/Drive/notes.txt", b"not mail\n");
    // Takeout's separators: an id and a zone before the year.
    let mail = root.join("Takeout/Mail");
    let (t, sink) = salvage(&root, None);
    assert_eq!(t.read, 6, "{:?}", sink.skips);
    assert!(sink.skips.iter().all(|s| s.location.contains(".mbox@")));
    if let Some(py) = python("mboxes", &mail) {
        assert_eq!(py, 6);
    }
    // Takeout/Mail itself: the same.
    let (t, _) = salvage(&mail, None);
    assert_eq!(t.read, 6, "{t:?}");
    let mut s = String::new();
    for i in 0..3 {
        s.push_str(&format!(
            "From 17812345678901234{i:02}@xxx Sat Jan 01 00:00:00 +0000 2022\nX-GM-THRID: 1\n"
        ));
        s.push_str(&msg(i, "hi\n"));
    }
    let p = write(d.path(), "gmail.mbox", s.as_bytes());
    check("mbox", &p, &p, 3, 0);
}

#[test]
fn empty_entries_are_counted() {
    let d = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for i in 0..4 {
        s.push_str(&separator(i));
        if i % 2 == 1 {
            s.push_str(&msg(i, "hi\n"));
        }
        s.push('\n');
    }
    let p = write(d.path(), "e.mbox", s.as_bytes());
    let t = check("mbox", &p, &p, 4, 0);
    assert_eq!(t.skipped.get(email::EMPTY), Some(&2), "{t:?}");
    // Many in a row (more than a batch), messages between: all counted, in archive order.
    let mut s = String::new();
    for i in 0..2600 {
        s.push_str(&separator(i));
        if i % 1000 == 999 {
            s.push_str(&msg(i, "hi\n"));
        }
        s.push('\n');
    }
    let p = write(d.path(), "many.mbox", s.as_bytes());
    let (t, sink) = salvage(&p, None);
    assert_eq!(t.read, 2600);
    assert_eq!(t.skipped.get(email::EMPTY), Some(&2598), "{t:?}");
    let offsets: Vec<u64> = sink
        .skips
        .iter()
        .map(|s| s.location.rsplit('@').next().unwrap().parse().unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "out of order");
    if let Some(py) = python("mbox", &p) {
        assert_eq!(py, 2600);
    }
}

#[test]
fn a_message_over_the_cap_is_skipped_as_too_big() {
    let d = tempfile::tempdir().unwrap();
    let big = "x".repeat(999) + "\n";
    let mut s = String::new();
    for i in 0..3 {
        s.push_str(&separator(i));
        let body = if i == 1 {
            big.repeat(20)
        } else {
            "hi\n".into()
        };
        s.push_str(&msg(i, &body));
        s.push('\n');
    }
    let p = write(d.path(), "big.mbox", s.as_bytes());
    let (t, sink) = salvage(&p, Some(10_000));
    assert_eq!(t.read, 3);
    assert_eq!(t.skipped.get(email::TOO_BIG), Some(&1), "{t:?}");
    let skip = sink
        .skips
        .iter()
        .find(|s| s.kind == email::TOO_BIG)
        .unwrap();
    assert_eq!(
        skip.location,
        format!("big.mbox@{}", s.find(&separator(1)).unwrap())
    );
    assert!(skip.reason.starts_with("too big"), "{skip:?}");
    if let Some(py) = python("mbox", &p) {
        assert_eq!(py, 3);
    }
    // One file that is one message.
    let e = write(d.path(), "big.eml", msg(1, &big.repeat(20)).as_bytes());
    let (t, _) = salvage(&e, Some(10_000));
    assert_eq!(t.skipped.get(email::TOO_BIG), Some(&1), "{t:?}");
}

/// The bundled demo: Python's count, its empty entries among the skips, and the binary's
/// log line with the count, the cap set from the incident.
#[test]
fn demo_archive_and_the_log_line() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = root.join("samples/demo/mail/app.mbox");
    let (t, _) = salvage(&p, None);
    if let Some(py) = python("mbox", &p) {
        assert_eq!(t.read, py, "{t:?}");
    }
    assert!(t.skipped.get(email::EMPTY).is_some_and(|n| *n > 0), "{t:?}");

    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "mail/big.mbox",
        {
            let mut s = mbox(2);
            s.push_str(&separator(7));
            s.push_str(&msg(7, &"y".repeat(3 << 20)));
            s.push('\n');
            s
        }
        .as_bytes(),
    );
    write(
        d.path(),
        "incident.toml",
        b"incident_at = '2026-11-20T14:30:00Z'\n[[sources]]\nname = 'mail-archive'\nkind = 'email'\npath = 'mail'\nmax_message_mb = 2\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_salvage"))
        .current_dir(d.path())
        .env_remove("RUST_LOG")
        .args(["-v", "import", "incident.toml", "--workspace", "ws"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("mail-archive: 3 messages read: 0 extracted, 3 skipped (1 too_big_email, 2 unmatched_email)"),
        "{err}"
    );
    // Stored with the source.
    let db = rusqlite::Connection::open(d.path().join("ws/workspace.sqlite")).unwrap();
    let counts: String = db
        .query_row(
            "SELECT value FROM meta WHERE key = 'counts.mail-archive'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&counts).unwrap();
    assert_eq!(v["read"], 3, "{v}");
    assert_eq!(v["skipped"]["too_big_email"], 1, "{v}");
}

/// Many generated mboxes mixing every separator shape, with and without blank lines before
/// them, CRLF, empty entries, quoted body lines and true Content-Length headers: Salvage's
/// count is Python's on each.
#[test]
fn generated_mboxes_match_python() {
    use rand::{Rng, SeedableRng};
    let d = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let mut files = Vec::new();
    for f in 0..60 {
        let crlf = rng.gen_bool(0.2);
        let mut s = String::new();
        let n = rng.gen_range(1..12);
        for i in 0..n {
            let blank_before = i == 0 || rng.gen_bool(0.6);
            if !blank_before && s.ends_with("\n\n") {
                s.pop();
            }
            let sep = match rng.gen_range(0..4) {
                0 => separator(i),
                1 => format!("From - Mon Jan {:>2} 0{}:00:00 2024\n", i + 1, i % 10),
                2 => format!("From 17812345678{i:08}@xxx Sat Jan 01 00:00:00 +0000 2022\n"),
                // Dateless: only after a blank line, before a header (as generated).
                _ if blank_before => format!("From shop{i}@example.com\n"),
                _ => separator(i),
            };
            s.push_str(&sep);
            if rng.gen_bool(0.1) {
                // An empty entry.
                s.push('\n');
                continue;
            }
            let mut body = String::from("Hello\n");
            if rng.gen_bool(0.3) {
                body.push_str(">From the team\n>>From a quote\n");
            }
            if rng.gen_bool(0.2) {
                body.push_str("\nFrom: not a separator\n");
            }
            let m = msg(f * 100 + i, &body);
            if rng.gen_bool(0.3) {
                let (head, body) = m.split_once("\n\n").unwrap();
                let len = if crlf {
                    body.len() + body.matches('\n').count()
                } else {
                    body.len()
                };
                s.push_str(&format!("{head}\nContent-Length: {len}\n\n{body}"));
            } else {
                s.push_str(&m);
            }
            s.push('\n');
        }
        let text = if crlf { s.replace('\n', "\r\n") } else { s };
        files.push(write(d.path(), &format!("{f}.mbox"), text.as_bytes()));
    }
    let ours: Vec<u64> = files.iter().map(|p| salvage(p, None).0.read).collect();
    let out = Command::new("python3")
        .args([
            "-c",
            "import mailbox, sys\nfor p in sys.argv[1:]: print(len(mailbox.mbox(p, create=False).keys()))",
        ])
        .args(&files)
        .output();
    let Ok(out) = out else {
        eprintln!("python3 not available: the comparison with Python's mailbox is skipped");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    for (i, (a, b)) in ours.iter().zip(&py).enumerate() {
        assert_eq!(a, b, "{}: Salvage {a}, Python {b}", files[i].display());
    }
    assert_eq!(ours.len(), py.len());
    eprintln!(
        "{} mboxes, {} messages: the same counts as Python",
        py.len(),
        py.iter().sum::<u64>()
    );
}

/// Archives written by Python's own `mailbox` (mbox, MMDF, Babyl, Maildir with a folder,
/// MH with a folder and sequences), from messages with `From ` lines in their bodies, CRLF
/// and an attachment: Salvage reads as many messages from each as Python does.
#[test]
fn archives_written_by_python_read_as_many() {
    const WRITE: &str = r#"
import mailbox, os, sys, email.message
root = sys.argv[1]
def msgs():
    out = []
    for i in range(7):
        m = email.message.EmailMessage()
        m["From"] = f"shop{i}@example.com"
        m["To"] = f"guest{i}@example.org"
        m["Subject"] = f"Booking {i}"
        m["Date"] = "Tue, 14 Jul 2026 16:30:00 +0200"
        m["Message-ID"] = f"<py{i}@example.com>"
        body = "Hello\n\nFrom the team\nFrom shop@example.com Tue Jul 14 16:30:00 2026\n>From quoted\n"
        if i % 3 == 1:
            body = body.replace("\n", "\r\n")
        m.set_content(body)
        if i % 3 == 2:
            m.add_attachment(os.urandom(3000), maintype="application", subtype="octet-stream", filename="a.bin")
        out.append(m)
    return out
counts = {}
for kind, cls in [("mbox", mailbox.mbox), ("mmdf", mailbox.MMDF), ("babyl", mailbox.Babyl)]:
    p = os.path.join(root, kind)
    box = cls(p)
    for m in msgs():
        box.add(m)
    box.flush(); box.close()
    counts[kind] = len(cls(p).keys())
md = mailbox.Maildir(os.path.join(root, "Maildir"))
for m in msgs()[:4]:
    md.add(m)
sent = md.add_folder("Sent")
for m in msgs()[4:]:
    sent.add(m)
counts["Maildir"] = len(md.keys()) + len(sent.keys())
mh = mailbox.MH(os.path.join(root, "mh"))
for m in msgs()[:5]:
    mh.add(m)
mh.set_sequences({"unseen": [1, 2]})
sub = mh.add_folder("archive")
for m in msgs()[5:]:
    sub.add(m)
counts["mh"] = len(mh.keys()) + len(sub.keys())
# CPython's email test corpus (malformed mail among it), when this Python has it.
try:
    import glob, test.test_email
    data = os.path.join(os.path.dirname(test.test_email.__file__), "data")
    corpus = [open(f, "rb").read() for f in sorted(glob.glob(os.path.join(data, "msg_*.txt")))]
except Exception:
    corpus = []
if corpus:
    for kind, cls in [("corpus.mbox", mailbox.mbox), ("corpus.mmdf", mailbox.MMDF), ("corpus.babyl", mailbox.Babyl)]:
        p = os.path.join(root, kind)
        box = cls(p)
        for b in corpus:
            box.add(b)
        box.flush(); box.close()
        counts[kind] = len(cls(p).keys())
for k, n in counts.items():
    print(k, n)
"#;
    let d = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .args(["-c", WRITE])
        .arg(d.path())
        .output();
    let Ok(out) = out else {
        eprintln!("python3 not available: archives written by Python's mailbox are not tried");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for line in text.lines() {
        let (name, n) = line.split_once(' ').unwrap();
        let n: u64 = n.parse().unwrap();
        let (t, sink) = salvage(&d.path().join(name), None);
        assert_eq!(t.read, n, "{name}: {t:?} {:?}", sink.skips);
        if !name.starts_with("corpus") {
            // Every one read as a message (no template matches: unmatched).
            assert_eq!(t.skipped.get("unmatched_email"), Some(&n), "{name}: {t:?}");
        }
    }
    assert!(text.lines().count() >= 5, "{text}");
}
