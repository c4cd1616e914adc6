//! pg_dump archives: the seed's three kinds, written safely, catalogued, verified and restored.

pub mod archive;
pub mod catalog;
pub mod contents;
pub mod counts;
pub mod dump;
pub mod guest;
pub mod header;
pub mod interrupted;
pub mod manifest;
pub mod moving;
pub mod restore;
pub mod retention;
pub mod store;
pub mod tools;
pub mod trust;
pub mod upload;
pub mod verify;

pub use crate::model::{BackupKind, Manifest, Progress};

/// Where a dump or restore reports: log lines, and progress events for a bar.
pub trait Report: Send + Sync {
    fn line(&self, text: String);
    fn progress(&self, _p: Progress) {}
}

/// A plain closure takes the lines and drops the progress (tests, simple callers).
impl<F: Fn(String) + Send + Sync> Report for F {
    fn line(&self, text: String) {
        self(text)
    }
}

impl Report for crate::jobs::Job {
    fn line(&self, text: String) {
        self.log(text)
    }
    fn progress(&self, p: Progress) {
        crate::jobs::Job::progress(self, p)
    }
}

pub type Log = dyn Report;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Tool(String),
    /// No archive of that name (a page answers 404 to it).
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Io(String),
    /// Stopped on request; the sentence says what was undone.
    #[error("{0}")]
    Cancelled(String),
}

impl BackupError {
    pub fn io(what: &str, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull
            || e.kind() == std::io::ErrorKind::QuotaExceeded
        {
            return BackupError::Io(format!(
                "{what} failed: the disk is full ({e}). Free space in the backup folder (delete old archives, or set HOLOMUSH_BACKUP_DIR to a larger disk), then try again; nothing incomplete was kept."
            ));
        }
        BackupError::Io(format!("{what} failed: {e}."))
    }
}

impl crate::error::Kind for BackupError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            BackupError::Refused(_) => ErrorKind::Refused,
            BackupError::Missing(_) => ErrorKind::NotFound,
            BackupError::Tool(_) | BackupError::Io(_) => ErrorKind::Failed,
            BackupError::Cancelled(_) => ErrorKind::Interrupted,
        }
    }
}
