//! The outputs of a run as one set, switched into place together.
//!
//! `salvage run --out OUT` writes `recovered.sqlite`, `report.json`, `report.html` and
//! `schedule/` into a fresh folder `OUT/sets/<run id>/`, then `manifest.json` (the run id
//! and every file with its size and SHA-256), and only then switches the symbolic link
//! `OUT/current` to it with one `rename(2)`. `OUT/recovered.sqlite`, `OUT/report.json`, ...
//! are fixed links to `current/<name>`, so whoever opens them gets the files of one run,
//! all of them; the folder of the run before is removed after the switch. A run killed at
//! any point leaves `current` on the last complete set; what it left behind (its set
//! folder, `.salvage-tmp-*` files) is removed when the next run starts. One run writes to
//! an output folder at a time (`OUT/.salvage-lock`, an `flock` the kernel lets go of when
//! the process dies, however it dies).
//!
//! A reader that opens several files and must not straddle a switch resolves `current`
//! once and reads under it, or checks that `manifest.json`'s `run_id` is the `run_id` in
//! `recovered.sqlite`'s `run_info` and in `report.json`.
//!
//! On a file system without symbolic links (FAT, some network shares) the set is renamed
//! into `OUT` file by file, `manifest.json` last, with a warning: there a reader checks the
//! manifest. The per-stage commands (`salvage report`, `export`, `schedule`) write one
//! output where they are told; into a run's output folder, their file replaces that
//! name's link (`current/` keeps the run's whole set), until the next `salvage run`.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The folder of complete and in-progress sets, under the output folder.
pub const SETS: &str = "sets";
/// The symbolic link to the set in use.
pub const CURRENT: &str = "current";
/// The manifest in every set, written last.
pub const MANIFEST: &str = "manifest.json";
/// The lock file of an output folder.
pub const LOCK: &str = ".salvage-lock";
/// The prefix of temporary files and folders (see [`crate::util::fsx::AtomicFile`]).
pub const TMP_PREFIX: &str = ".salvage-tmp-";

/// One file of a set, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    /// Relative to the set (`schedule/index.csv`).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`: which run wrote the set, and everything in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub files: Vec<FileEntry>,
}

/// A set being written. Dropped without [`OutputSet::commit`], its folder is removed
/// and `current` is left as it was.
pub struct OutputSet {
    out: PathBuf,
    id: String,
    dir: PathBuf,
    committed: bool,
    /// The output folder's file system has symbolic links (most do; FAT and some network
    /// shares do not: there the files are renamed into place one by one, manifest last).
    links: bool,
    _lock: File,
}

fn write_err(path: &Path, e: std::io::Error) -> Error {
    Error::write(path, e)
}

impl OutputSet {
    /// Locks `out` (creating it), removes what a killed run left there, and makes the
    /// folder of a new set with a fresh run id.
    pub fn begin(out: &Path) -> Result<OutputSet> {
        std::fs::create_dir_all(out).map_err(|e| write_err(out, e))?;
        let lock = lock(out)?;
        let removed = clean_leftovers(out)?;
        if !removed.is_empty() {
            tracing::info!(
                "removed what an interrupted run left in {}: {}",
                out.display(),
                removed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let sets = out.join(SETS);
        std::fs::create_dir_all(&sets).map_err(|e| write_err(&sets, e))?;
        let links = has_symlinks(out);
        if !links {
            tracing::warn!(
                "{}: this file system has no symbolic links, so the outputs are renamed into place one by one (manifest.json last): while a run finishes, a reader may see a new file beside an old one; check manifest.json",
                out.display()
            );
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let mut n = 0;
        loop {
            let id = match n {
                0 => format!("{stamp}-{}", std::process::id()),
                _ => format!("{stamp}-{}-{n}", std::process::id()),
            };
            let dir = sets.join(&id);
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    return Ok(OutputSet {
                        out: out.to_path_buf(),
                        id,
                        dir,
                        committed: false,
                        links,
                        _lock: lock,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(write_err(&dir, e)),
            }
        }
    }

    /// The run id: the set's folder name, also in `run_info` and the manifest.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where this run writes its files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path readers use for `name` (`OUT/recovered.sqlite`, a link into `current`).
    pub fn public(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// Writes the manifest, links each top-level name of the set from `OUT`, switches
    /// `current` to this set (one rename) and removes the sets before it.
    pub fn commit(mut self) -> Result<Manifest> {
        let mut files = Vec::new();
        list_files(&self.dir, &self.dir, &mut files)?;
        files.retain(|f| f.path != MANIFEST);
        let manifest = Manifest {
            run_id: self.id.clone(),
            files,
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Other(format!("the manifest: {e}")))?;
        crate::util::fsx::write_atomic(&self.dir.join(MANIFEST), &json)?;
        sync_dir(&self.dir);
        if !self.links {
            self.move_into_place()?;
            return Ok(manifest);
        }
        // The fixed links first (dangling until the first switch), so that once
        // `current` is there, everything is reachable through it.
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(|e| Error::read(&self.dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        for name in &names {
            link_into_place(
                &self.out,
                name,
                &Path::new(CURRENT).join(name),
                self.dir.join(name).is_dir(),
            )?;
        }
        let target = Path::new(SETS).join(&self.id);
        link_into_place(&self.out, CURRENT, &target, true)?;
        sync_dir(&self.out);
        self.committed = true;
        // Older sets: nobody finds them any more (a reader that has one open keeps it).
        let sets = self.out.join(SETS);
        if let Ok(rd) = std::fs::read_dir(&sets) {
            for e in rd.flatten() {
                if e.file_name() != self.id.as_str() {
                    let _ = remove_any(&e.path());
                }
            }
        }
        Ok(manifest)
    }
}

impl OutputSet {
    /// Without symbolic links: each top-level file or folder of the set renamed into `out`
    /// (a folder swapped: the old one aside, the new one in, the old one gone), the
    /// manifest last, then the set's folder removed.
    fn move_into_place(&mut self) -> Result<()> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(|e| Error::read(&self.dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && n != MANIFEST)
            .collect();
        names.sort();
        names.push(MANIFEST.to_string());
        for name in &names {
            let (from, dest) = (self.dir.join(name), self.out.join(name));
            if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) {
                let old = self
                    .out
                    .join(format!(".salvage-old-{name}-{}", std::process::id()));
                std::fs::rename(&dest, &old).map_err(|e| write_err(&dest, e))?;
                std::fs::rename(&from, &dest).map_err(|e| write_err(&dest, e))?;
                let _ = std::fs::remove_dir_all(&old);
            } else {
                std::fs::rename(&from, &dest).map_err(|e| write_err(&dest, e))?;
            }
        }
        sync_dir(&self.out);
        self.committed = true;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

/// Whether symbolic links can be made in `dir` (tried, then removed).
fn has_symlinks(dir: &Path) -> bool {
    let probe = dir.join(format!("{TMP_PREFIX}probe-{}", std::process::id()));
    let _ = std::fs::remove_file(&probe);
    let ok = symlink(Path::new(SETS), &probe, true).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Takes the output folder's lock, or says who holds it.
fn lock(out: &Path) -> Result<File> {
    let path = out.join(LOCK);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| write_err(&path, e))?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor owned by `f`, which lives as long as the lock.
        let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            return Err(Error::input(
                out,
                "another salvage run is writing to this output folder; wait for it to finish, or give another --out",
            ));
        }
    }
    Ok(f)
}

/// The set `current` points at, if any.
pub fn current(out: &Path) -> Option<PathBuf> {
    let t = std::fs::read_link(out.join(CURRENT)).ok()?;
    Some(out.join(t))
}

/// Removes what an interrupted run left in `out`: sets that `current` does not point at,
/// and `.salvage-tmp-*` / `.salvage-old-*` entries in `out`, its set folder and its
/// workspace. Call it only with the lock held. Returns what it removed.
pub fn clean_leftovers(out: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let keep = current(out).and_then(|c| c.file_name().map(|n| n.to_os_string()));
    let sets = out.join(SETS);
    for dir in [out.to_path_buf(), out.join("workspace"), sets.clone()] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let n = name.to_string_lossy();
            let stale = n.starts_with(TMP_PREFIX)
                || n.starts_with(".salvage-old-")
                || (dir == sets && Some(&name) != keep.as_ref());
            if stale {
                let p = e.path();
                remove_any(&p).map_err(|err| write_err(&p, err))?;
                removed.push(p);
            }
        }
    }
    Ok(removed)
}

/// Checks the set `current` points at against its manifest: every file there with its
/// size and SHA-256, nothing else. The manifest, or an error naming what is wrong.
pub fn verify(out: &Path) -> Result<Manifest> {
    let dir = current(out).ok_or_else(|| {
        Error::input(
            out,
            "no complete output set here (no `current` link); run `salvage run` to make one",
        )
    })?;
    let mpath = dir.join(MANIFEST);
    let text = crate::util::fsx::read_text(&mpath)?;
    let m: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::input(&mpath, format!("not a manifest ({e})")))?;
    let mut files = Vec::new();
    list_files(&dir, &dir, &mut files)?;
    files.retain(|f| f.path != MANIFEST);
    if files != m.files {
        return Err(Error::input(
            &dir,
            "the files differ from manifest.json; run `salvage run` again to write a whole set",
        ));
    }
    Ok(m)
}

/// Every file under `dir` with its size and SHA-256, sorted by path.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<FileEntry>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::read(dir, e))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let ft = e.file_type().map_err(|err| Error::read(&p, err))?;
        if ft.is_dir() {
            list_files(root, &p, out)?;
        } else if ft.is_file() {
            let (bytes, sha256) = sha256_file(&p)?;
            out.push(FileEntry {
                path: p
                    .strip_prefix(root)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/"),
                bytes,
                sha256,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(())
}

fn sha256_file(p: &Path) -> Result<(u64, String)> {
    let mut f = File::open(p).map_err(|e| Error::read(p, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| Error::read(p, e))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((n, hex::encode(h.finalize())))
}

/// Makes `out/name` a symbolic link to `target` (relative to `out`), replacing whatever is
/// there in one rename (a real folder of an older version is moved aside first).
fn link_into_place(out: &Path, name: &str, target: &Path, is_dir: bool) -> Result<()> {
    let dest = out.join(name);
    if std::fs::read_link(&dest).is_ok_and(|t| t == target) {
        return Ok(());
    }
    let tmp = out.join(format!("{TMP_PREFIX}link-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    symlink(target, &tmp, is_dir).map_err(|e| write_err(&tmp, e))?;
    // rename(2) replaces a file or a link, not a folder: an output folder written by an
    // older Salvage (or by `salvage schedule --out` here) goes aside, then away.
    let real_dir = std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir());
    if real_dir {
        let old = out.join(format!(".salvage-old-{name}-{}", std::process::id()));
        std::fs::rename(&dest, &old).map_err(|e| write_err(&dest, e))?;
        std::fs::rename(&tmp, &dest).map_err(|e| write_err(&dest, e))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&tmp, &dest).map_err(|e| write_err(&dest, e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path, _is_dir: bool) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path, is_dir: bool) -> std::io::Result<()> {
    if is_dir {
        std::os::windows::fs::symlink_dir(target, link)
    } else {
        std::os::windows::fs::symlink_file(target, link)
    }
}

/// Removes a file, a link or a folder (not what a link points at).
fn remove_any(p: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Flushes a folder's entries to disk (a rename survives a power cut, not only a kill).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn write_set(out: &Path, text: &str) -> Manifest {
        let set = OutputSet::begin(out).unwrap();
        std::fs::write(set.dir().join("a.txt"), text).unwrap();
        std::fs::create_dir(set.dir().join("sub")).unwrap();
        std::fs::write(set.dir().join("sub/b.txt"), "b").unwrap();
        set.commit().unwrap()
    }

    #[test]
    fn sets_switch_whole_and_leftovers_go() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let m1 = write_set(&out, "one");
        assert_eq!(verify(&out).unwrap(), m1);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "one");
        // A killed run: a set folder and temp files, never switched to.
        std::fs::create_dir_all(out.join("sets/killed")).unwrap();
        std::fs::write(out.join("sets/killed/a.txt"), "half").unwrap();
        std::fs::write(out.join(".salvage-tmp-x"), "half").unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "one");
        let m2 = write_set(&out, "two");
        assert_ne!(m1.run_id, m2.run_id);
        assert_eq!(verify(&out).unwrap().run_id, m2.run_id);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "two");
        assert_eq!(std::fs::read_to_string(out.join("sub/b.txt")).unwrap(), "b");
        let sets: Vec<_> = std::fs::read_dir(out.join("sets")).unwrap().collect();
        assert_eq!(sets.len(), 1, "only the current set is kept");
        assert!(!out.join(".salvage-tmp-x").exists());
        // A file changed after the switch is found out.
        std::fs::write(out.join("a.txt"), "tampered").unwrap();
        assert!(verify(&out).is_err());
    }

    #[test]
    fn an_unfinished_set_leaves_current_alone() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let m1 = write_set(&out, "one");
        {
            let set = OutputSet::begin(&out).unwrap();
            std::fs::write(set.dir().join("a.txt"), "two").unwrap();
            // Dropped: an error in the run.
        }
        assert_eq!(verify(&out).unwrap(), m1);
        assert_eq!(std::fs::read_dir(out.join("sets")).unwrap().count(), 1);
    }

    #[test]
    fn without_symbolic_links_files_are_renamed_in_manifest_last() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        std::fs::create_dir_all(out.join("sub")).unwrap();
        std::fs::write(out.join("sub/old.txt"), "old").unwrap();
        let mut set = OutputSet::begin(&out).unwrap();
        set.links = false;
        std::fs::write(set.dir().join("a.txt"), "new").unwrap();
        std::fs::create_dir(set.dir().join("sub")).unwrap();
        std::fs::write(set.dir().join("sub/b.txt"), "b").unwrap();
        let id = set.id().to_string();
        let m = set.commit().unwrap();
        assert_eq!(m.run_id, id);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "new");
        assert!(!out.join("sub/old.txt").exists());
        assert!(out.join("sub/b.txt").is_file());
        let listed: Manifest =
            serde_json::from_slice(&std::fs::read(out.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(listed, m);
        assert_eq!(std::fs::read_dir(out.join("sets")).unwrap().count(), 0);
    }

    #[test]
    fn one_writer_at_a_time() {
        let d = tempfile::tempdir().unwrap();
        let _first = OutputSet::begin(d.path()).unwrap();
        let e = OutputSet::begin(d.path()).err().unwrap().to_string();
        assert!(e.contains("another salvage run"), "{e}");
    }

    #[test]
    fn an_older_output_folder_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        std::fs::create_dir_all(out.join("sub")).unwrap();
        std::fs::write(out.join("a.txt"), "old").unwrap();
        std::fs::write(out.join("sub/b.txt"), "old").unwrap();
        write_set(&out, "new");
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(out.join("sub/b.txt")).unwrap(), "b");
        assert!(std::fs::symlink_metadata(out.join("sub"))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
