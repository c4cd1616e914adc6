//! Diagnosis: the connection doctor, the effective settings, and the analysis
//! behind the guided repair of a dirty migration version.

pub mod catalog;
pub mod dirty;
pub mod doctor;
pub mod settings;
pub mod sql;
pub mod target;

use crate::migrate::MigrateError;

#[derive(Debug, thiserror::Error)]
pub enum DiagnoseError {
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// Already a sentence; never holds a password.
    #[error("{0}")]
    Database(String),
    #[error("A migration is running: {holder} holds golang-migrate's lock on database \"{database}\". Wait for it to finish (or end that session) before repairing.")]
    Locked { holder: String, database: String },
    #[error("{0}")]
    Permission(String),
    /// The database could not be connected to; already a sentence.
    #[error("{0}")]
    Unavailable(String),
}

impl crate::error::Kind for DiagnoseError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            DiagnoseError::Migrate(e) => e.kind(),
            DiagnoseError::Database(_) => ErrorKind::Failed,
            DiagnoseError::Locked { .. } => ErrorKind::Busy,
            DiagnoseError::Permission(_) => ErrorKind::Refused,
            DiagnoseError::Unavailable(_) => ErrorKind::Unavailable,
        }
    }
}
