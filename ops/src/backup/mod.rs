//! pg_dump archives: the seed's three kinds, written safely, catalogued, verified and restored.

pub mod archive;
pub mod catalog;
pub mod dump;
pub mod restore;
pub mod retention;
pub mod tools;
pub mod verify;

pub use crate::model::{BackupKind, Manifest};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Tool(String),
    #[error("{0}")]
    Io(String),
    #[error("Cancelled: the partial archive was removed and nothing else changed.")]
    Cancelled,
}

impl BackupError {
    pub fn io(what: &str, e: std::io::Error) -> Self {
        BackupError::Io(format!("{what} failed: {e}."))
    }
}
