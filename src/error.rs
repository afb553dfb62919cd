//! The library's error type. Every variant names the file (and key or position) and says
//! what to do next; the CLI prints it as one line and exits non-zero.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

// The OS or SQLite error is part of the message and deliberately not the `source()`:
// the CLI prints the whole chain (`{:#}`), which would say it twice.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {cause}. Check the path in the incident file and that the file is readable.")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{path}: cannot write: {cause}. Check that the folder is writable and the disk has room."
    )]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A configuration file (incident or mapping) is wrong.
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    /// An input is unusable as a whole (not a single bad row: those are skips).
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    /// A SQLite file (the workspace, recovered.sqlite, a backup, a truth file) named by
    /// its own path.
    #[error("{path}: SQLite: {cause}. Check that it is the file meant, that the disk has room and that no other program is writing it.")]
    Sqlite {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn config(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Config {
            path: path.into(),
            message: message.into(),
        }
    }
    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            message: message.into(),
        }
    }
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Read {
            path: path.into(),
            cause: source,
        }
    }
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Write {
            path: path.into(),
            cause: source,
        }
    }
    pub fn sqlite(path: impl Into<PathBuf>, source: rusqlite::Error) -> Self {
        Error::Sqlite {
            path: path.into(),
            cause: source,
        }
    }
}
