//! Runs the real `salvage` binary in a fresh directory (ripgrep-style test helpers).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }
    pub fn write(&self, p: &str, text: &str) -> PathBuf {
        let f = self.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, text).unwrap();
        f
    }
    /// The binary, with no credentials in its environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_salvage"));
        c.current_dir(self.path());
        c.env_remove("STRIPE_API_KEY").env_remove("RUST_LOG");
        c
    }
}

/// Runs and asserts success, printing everything on failure.
pub fn ok(mut c: Command) -> Output {
    let out = c.output().expect("run salvage");
    if !out.status.success() {
        panic!(
            "{:?} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            c,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Runs and asserts failure; returns stderr.
pub fn fails(mut c: Command) -> String {
    let out = c.output().expect("run salvage");
    assert!(
        !out.status.success(),
        "{:?} should have failed\n--- stdout\n{}",
        c,
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generates an incident into `dir/name` (own pg_dump writer: fast, no PostgreSQL needed).
pub fn generate(dir: &Dir, name: &str, flavour: &str, businesses: usize, seed: u64) -> PathBuf {
    let out = dir.join(name);
    let mut c = dir.cmd();
    c.args([
        "samples",
        "generate",
        "--no-real-pg-dump",
        "--flavour",
        flavour,
    ])
    .args([
        "--businesses",
        &businesses.to_string(),
        "--seed",
        &seed.to_string(),
    ])
    .arg("--out")
    .arg(&out);
    ok(c);
    out
}

pub fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

pub fn count(c: &rusqlite::Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
