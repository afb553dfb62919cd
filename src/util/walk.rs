//! Listing source folders safely, the one way every importer lists one.
//!
//! A source folder is whatever survived, and it may hold more than files: symbolic links
//! (followed, to a file or a folder), links that lead nowhere or in a circle, FIFOs,
//! sockets and devices (opening a FIFO for reading blocks until someone writes to it:
//! forever), entries the user may not read. A [`Walker`] returns regular files and
//! folders only, follows symbolic links, enters every folder at most once (so two links
//! that point at each other end, in bounded memory) and keeps every other entry as a
//! [`Skipped`] with its path and reason, which the importer stores as a skip of kind
//! [`UNREADABLE_ENTRY`] of its source. Nothing it skips is ever opened.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Skip kind: a folder entry that is not a regular file or folder (a FIFO, a socket, a
/// device), a symbolic link that leads nowhere or in a loop, a folder reached a second
/// time, or an entry that cannot be read.
pub const UNREADABLE_ENTRY: &str = "unreadable_entry";

/// What a listed entry is (after following symbolic links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

/// A regular file or a folder, at its path as listed (through any symbolic link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    pub kind: Kind,
}

/// An entry left out, and why (for a person: it names no path, the importer does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Lists folders: regular files and folders only, each folder entered once.
#[derive(Debug, Default)]
pub struct Walker {
    entered: HashSet<Identity>,
    skipped: Vec<Skipped>,
}

#[cfg(unix)]
type Identity = (u64, u64);
#[cfg(not(unix))]
type Identity = PathBuf;

#[cfg(unix)]
fn identity(_path: &Path, meta: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(path: &Path, _meta: &std::fs::Metadata) -> Identity {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What a file type is, when it is neither a regular file nor a folder.
pub(crate) fn odd_kind(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    let _ = ft;
    "not a regular file"
}

/// Why `path` cannot be an input when it is not a regular file or folder (`None` when it
/// is one). Follows symbolic links; opens nothing.
pub fn not_a_file_or_folder(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() || m.is_dir() => None,
        Ok(m) => Some(format!(
            "{}, not a file or folder; Salvage reads files (copy what it gives into a file and point the source at that)",
            odd_kind(&m.file_type())
        )),
        Err(e) => Some(link_trouble(path, &e)),
    }
}

fn link_trouble(path: &Path, e: &std::io::Error) -> String {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    // ELOOP: too many levels of symbolic links.
    if is_link && e.raw_os_error() == Some(40) {
        return "a symbolic link that leads back to itself (a loop); not followed".into();
    }
    if is_link && e.kind() == std::io::ErrorKind::NotFound {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        return format!("a symbolic link to {target}, which does not exist; not followed");
    }
    format!("cannot read: {e}")
}

impl Walker {
    pub fn new() -> Walker {
        Walker::default()
    }

    /// Marks `dir` as entered: false (and a skip) when it was entered before, through
    /// another path or a symbolic link that leads back to one of its parents.
    pub fn enter(&mut self, dir: &Path) -> bool {
        match std::fs::metadata(dir) {
            Ok(m) => {
                if self.entered.insert(identity(dir, &m)) {
                    true
                } else {
                    self.skip(
                        dir,
                        "a folder already read through another path (a symbolic link loop, or a second link to it); not read again".into(),
                    );
                    false
                }
            }
            Err(e) => {
                let why = link_trouble(dir, &e);
                self.skip(dir, why);
                false
            }
        }
    }

    /// The regular files and folders in `dir`, sorted by path; symbolic links followed.
    /// Everything else, and a `dir` that cannot be listed, is kept in [`Self::take_skipped`].
    /// Lists only: marks nothing as entered.
    pub fn list(&mut self, dir: &Path) -> Vec<Entry> {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                let why = format!("cannot list this folder: {e}");
                self.skip(dir, why);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for e in rd {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    self.skip(dir, format!("cannot list an entry of this folder: {err}"));
                    continue;
                }
            };
            let path = e.path();
            let ft = match e.file_type() {
                Ok(ft) => ft,
                Err(err) => {
                    self.skip(&path, format!("cannot read: {err}"));
                    continue;
                }
            };
            let ft = if ft.is_symlink() {
                match std::fs::metadata(&path) {
                    Ok(m) => m.file_type(),
                    Err(err) => {
                        let why = link_trouble(&path, &err);
                        self.skip(&path, why);
                        continue;
                    }
                }
            } else {
                ft
            };
            if ft.is_file() {
                out.push(Entry {
                    path,
                    kind: Kind::File,
                });
            } else if ft.is_dir() {
                out.push(Entry {
                    path,
                    kind: Kind::Dir,
                });
            } else {
                let why = format!("{}, not a file; skipped, never opened", odd_kind(&ft));
                self.skip(&path, why);
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Every regular file under `root` (`root` itself when it is a file), depth first in
    /// path order, hidden entries (names starting with `.`) left out when `hidden` is false.
    pub fn files(&mut self, root: &Path, hidden: bool) -> Vec<PathBuf> {
        let mut out = Vec::new();
        match std::fs::metadata(root) {
            Ok(m) if m.is_file() => out.push(root.to_path_buf()),
            Ok(m) if m.is_dir() => self.files_under(root, hidden, &mut out),
            _ => {
                if let Some(why) = not_a_file_or_folder(root) {
                    self.skip(root, why);
                }
            }
        }
        out
    }

    fn files_under(&mut self, dir: &Path, hidden: bool, out: &mut Vec<PathBuf>) {
        if !self.enter(dir) {
            return;
        }
        for e in self.list(dir) {
            if !hidden && is_hidden(&e.path) {
                continue;
            }
            match e.kind {
                Kind::File => out.push(e.path),
                Kind::Dir => self.files_under(&e.path, hidden, out),
            }
        }
    }

    /// Notes an entry left out (and warns, once per path and process: a folder may be
    /// listed by more than one pass of an importer).
    pub fn skip(&mut self, path: &Path, reason: String) {
        if self.skipped.iter().any(|s| s.path == path) {
            return;
        }
        static WARNED: std::sync::Mutex<Option<HashSet<PathBuf>>> = std::sync::Mutex::new(None);
        let first = WARNED
            .lock()
            .map(|mut w| {
                w.get_or_insert_with(HashSet::new)
                    .insert(path.to_path_buf())
            })
            .unwrap_or(true);
        if first {
            tracing::warn!("{}: {reason}", path.display());
        }
        self.skipped.push(Skipped {
            path: path.to_path_buf(),
            reason,
        });
    }

    /// What was left out so far, in the order it was met; each path once.
    pub fn take_skipped(&mut self) -> Vec<Skipped> {
        std::mem::take(&mut self.skipped)
    }
}

/// A name starting with `.` (`.DS_Store`, `.mh_sequences`, a Maildir++ folder).
pub fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mkfifo(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    #[test]
    fn files_links_loops_and_fifos() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("a/deep")).unwrap();
        std::fs::create_dir_all(r.join("b")).unwrap();
        std::fs::write(r.join("a/one.txt"), "1").unwrap();
        std::fs::write(r.join("a/deep/two.txt"), "2").unwrap();
        std::fs::write(r.join("b/three.txt"), "3").unwrap();
        std::fs::write(r.join(".hidden"), "h").unwrap();
        // Two folder links that point at each other's folder: a cycle.
        symlink(r.join("b"), r.join("a/to-b")).unwrap();
        symlink(r.join("a"), r.join("b/to-a")).unwrap();
        symlink(r.join("a/one.txt"), r.join("link.txt")).unwrap();
        symlink(r.join("gone"), r.join("dangling")).unwrap();
        symlink(r.join("self"), r.join("self")).unwrap();
        mkfifo(&r.join("pipe"));
        let mut w = Walker::new();
        let files = w.files(r, false);
        let rel: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(r).unwrap().display().to_string())
            .collect();
        assert_eq!(
            rel,
            [
                "a/deep/two.txt",
                "a/one.txt",
                "a/to-b/three.txt",
                "link.txt"
            ],
            "b/ is read once, through a/to-b; nothing twice"
        );
        let skipped = w.take_skipped();
        let why = |name: &str| {
            skipped
                .iter()
                .find(|s| s.path.ends_with(name))
                .map(|s| s.reason.clone())
                .unwrap_or_else(|| panic!("{name} not skipped: {skipped:?}"))
        };
        assert!(why("pipe").contains("FIFO"));
        assert!(why("dangling").contains("does not exist"));
        assert!(why("self").contains("loop"));
        assert!(why("to-a").contains("already read"));
        assert!(why("b").contains("already read"));
    }

    #[test]
    fn a_fifo_is_not_a_file_or_folder() {
        let d = tempfile::tempdir().unwrap();
        mkfifo(&d.path().join("p"));
        assert!(not_a_file_or_folder(&d.path().join("p"))
            .unwrap()
            .contains("FIFO"));
        assert_eq!(not_a_file_or_folder(d.path()), None);
    }
}
