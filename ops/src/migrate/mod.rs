//! Migration engines with the tools' own contracts: golang-migrate v4 (same files, same
//! `schema_migrations` table, same dirty rules, same advisory locks, same error text) and
//! goose v3 ([`goose`]). They share the source, the history, the status shape and the job;
//! the source's files decide which tool's rules run, and [`world`] tells which ledgers a
//! database holds.

pub mod adopt;
pub mod bootstrap;
pub mod create;
pub mod engine;
pub mod goose;
pub mod history;
pub mod lock;
pub mod rehearse;
pub mod source;
pub mod state;
pub mod status;
pub mod world;

use std::time::Duration;

pub use engine::{Migrator, Op, RunReport};
pub use source::{Direction, Migration, Source};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// golang-migrate's own words.
    #[error("Dirty database version {0}. Fix and force version.")]
    Dirty(i64),
    #[error("no migration found for version {0}")]
    NoMigration(i64),
    /// golang-migrate's `file does not exist` answers.
    #[error(transparent)]
    NotExist(#[from] source::NotExist),
    #[error("no change")]
    NoChange,
    #[error("limit {0} short")]
    ShortLimit(u64),
    #[error("version must be >= -1")]
    InvalidVersion,
    #[error("timeout: can't acquire database lock: waited {}s for {holder}. Try again when that migration has finished.", waited.as_secs())]
    LockTimeout { waited: Duration, holder: String },
    /// A migration file failed: golang-migrate's `migration failed: …` text.
    #[error("{message}")]
    Failed {
        message: String,
        version: u64,
        line: Option<u32>,
        column: Option<u32>,
    },
    #[error("{0}")]
    Source(String),
    #[error("{0}")]
    Database(String),
    #[error("{0}")]
    Refused(String),
    /// goose: a Go migration is next; only the holomush binary runs those.
    #[error("{}", goose::go_note(*version, file))]
    GoMigration { version: u64, file: String },
    #[error("Cancelled before version {0}: the migrations before it were applied and the database is clean.")]
    Cancelled(String),
}

impl MigrateError {
    pub fn db(e: sqlx::Error) -> Self {
        MigrateError::Database(format!(
            "The database request failed: {}",
            crate::config::mask_url(&e.to_string())
        ))
    }
}
