//! Migrations with the tools' own contracts: golang-migrate v4.19.1 with its pgx/v5 driver
//! ([`golang`]: same files, same `schema_migrations` table, same dirty rules, same advisory
//! locks, same error text) and goose v3.27.3 ([`goose`]). Each tool is a [`driver::Format`]
//! and a [`driver::Store`]; [`tools`] picks one by the source's files, and the engine, status,
//! adopt and rehearsal work through the two traits. They share the source, the history, the
//! report and the job; [`world`] tells which ledgers a database holds.

pub mod adopt;
pub mod advisory;
pub mod bootstrap;
pub mod create;
pub mod driver;
pub mod engine;
pub mod golang;
pub mod goose;
pub mod history;
pub mod kinds;
pub mod pgerror;
pub mod rehearse;
pub mod report;
pub mod source;
pub mod status;
pub mod tools;
pub mod world;

use std::time::Duration;

pub use engine::{Migrator, Retry};
pub use report::{Log, Op, RunReport, StepReport, NIL};
pub use source::{Direction, Migration, Source};

/// golang-migrate's `os.ErrNotExist` answers, in the words its CLI prints after `error: `.
/// Its `file` source reads the folder as the `iofs` path `.`, hence the `.` in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotExist {
    /// `up N` at the last version, `down N` with no version: `readUp` and `readDown` send
    /// `os.ErrNotExist` itself.
    #[error("file does not exist")]
    NoMore,
    /// No migration file at all: `First()`'s `*fs.PathError`.
    #[error("first .: file does not exist")]
    First,
    /// A version the source has no file for (the database's, or `goto`'s target):
    /// `versionExists`, which wraps the error of `ReadDown`, its last try.
    #[error(
        "no migration found for version {0}: read down for version {0} .: file does not exist"
    )]
    Version(u64),
}

/// The sentence for a Go migration: what it is and who runs it.
pub fn go_note(version: u64, file: &str) -> String {
    format!(
        "Version {version} ({file}) is a Go migration, which only the holomush binary runs: start holomush (it migrates on start) to apply it, then run the console's migrations again."
    )
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// golang-migrate's own words.
    #[error("Dirty database version {0}. Fix and force version.")]
    Dirty(i64),
    #[error("no migration found for version {0}")]
    NoMigration(i64),
    /// golang-migrate's `file does not exist` answers.
    #[error(transparent)]
    NotExist(#[from] NotExist),
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
    /// The database could not be connected to (down, refused, wrong password).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Refused(String),
    /// goose: a Go migration is next; only the holomush binary runs those.
    #[error("{}", go_note(*version, file))]
    GoMigration { version: u64, file: String },
    #[error("Cancelled before version {0}: the migrations before it were applied and the database is clean.")]
    Cancelled(String),
}

impl crate::error::Kind for MigrateError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            MigrateError::Dirty(_)
            | MigrateError::ShortLimit(_)
            | MigrateError::InvalidVersion
            | MigrateError::Refused(_)
            | MigrateError::GoMigration { .. } => ErrorKind::Refused,
            MigrateError::NoMigration(_) | MigrateError::NotExist(_) => ErrorKind::NotFound,
            MigrateError::LockTimeout { .. } => ErrorKind::Busy,
            MigrateError::Unavailable(_) => ErrorKind::Unavailable,
            MigrateError::NoChange
            | MigrateError::Failed { .. }
            | MigrateError::Source(_)
            | MigrateError::Database(_) => ErrorKind::Failed,
            MigrateError::Cancelled(_) => ErrorKind::Interrupted,
        }
    }
}

impl MigrateError {
    pub fn db(e: sqlx::Error) -> Self {
        MigrateError::Database(format!(
            "The database request failed: {}",
            crate::config::mask_url(&e.to_string())
        ))
    }
}
