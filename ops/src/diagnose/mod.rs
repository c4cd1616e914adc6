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
}
