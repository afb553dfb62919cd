//! File system rules of Salvage: inputs are opened read-only; outputs are written to a
//! temporary file in the destination directory and renamed into place only when complete,
//! so a failed run never leaves a half-written file.

use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Opens an input file read-only, with an error that names it. Only a regular file (or a
/// symbolic link to one) opens: a FIFO, a socket or a device is refused, and opened
/// non-blocking to find out, so a FIFO with no writer cannot hang the run.
pub fn open_input(path: &Path) -> Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    let f = o.open(path).map_err(|e| Error::read(path, e))?;
    let meta = f.metadata().map_err(|e| Error::read(path, e))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            crate::util::walk::odd_kind(&meta.file_type())
        };
        return Err(Error::input(
            path,
            format!("{what}, not a file; point the incident (or mapping) at a regular file"),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // Back to blocking reads (it changes nothing for a regular file, but say so).
        // SAFETY: fcntl on a descriptor this function owns.
        unsafe {
            let fd = f.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok(f)
}

/// Reads a whole (small) input file as text.
pub fn read_text(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut text = String::new();
    open_input(path)?
        .read_to_string(&mut text)
        .map_err(|e| Error::read(path, e))?;
    Ok(text)
}

/// An output file being written: a temp file beside `dest`, renamed onto it by [`commit`].
/// Dropping it without committing removes the temp file.
///
/// [`commit`]: AtomicFile::commit
pub struct AtomicFile {
    dest: PathBuf,
    tmp: tempfile::NamedTempFile,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::Write {
            path: dir.to_path_buf(),
            cause: e,
        })?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".salvage-tmp-");
        // Output files get ordinary permissions (0644 less the umask), not a temp
        // file's 0600: the people who review them are often not the ones who ran Salvage.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let tmp = builder.tempfile_in(dir).map_err(|e| Error::Write {
            path: dest.to_path_buf(),
            cause: e,
        })?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            tmp,
        })
    }
    /// The temp file's path (for libraries that open by path, e.g. SQLite).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }
    /// Flushes to disk and renames onto the destination.
    pub fn commit(self) -> Result<PathBuf> {
        self.tmp.as_file().sync_all().map_err(|e| Error::Write {
            path: self.dest.clone(),
            cause: e,
        })?;
        self.tmp.persist(&self.dest).map_err(|e| Error::Write {
            path: self.dest.clone(),
            cause: e.error,
        })?;
        Ok(self.dest)
    }
}

/// Writes `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = AtomicFile::create(dest)?;
    f.file().write_all(bytes).map_err(|e| Error::Write {
        path: dest.to_path_buf(),
        cause: e,
    })?;
    f.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            use std::io::Write;
            f.file().write_all(b"half").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic(&dest, b"whole").unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "whole");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(mode & 0o044, 0o044, "readable by others: {mode:o}");
        }
    }
}
