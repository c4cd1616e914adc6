//! How a command ends when it does not succeed: one sentence after `error: `, and the exit
//! status, chosen here and nowhere else (as fd keeps its codes in `src/exit_codes.rs`):
//!
//! | status | when |
//! |-------:|------|
//! | 0 | done |
//! | 1 | the work failed (a tool, the database, the disk), or the migration engine said no |
//! | 2 | refused as asked (a name, a confirmation, the database's state), or a bad argument (clap's own status) |
//! | 3 | not found (an archive, a job, a migration version) |
//! | 4 | busy: another job holds the database |
//! | 5 | unavailable: the database server could not be reached |
//! | 130 | interrupted: stopped by Ctrl-C or SIGTERM (or a cancel) |
//!
//! golang-migrate's CLI (`log.fatalErr`, v4.19.1 `internal/cli/log.go`) and goose's
//! (`log.Fatalf`) exit 1 whenever the tool fails, whatever the reason, so every error of the
//! migration engine exits 1 too, kind or not: a dirty version, `file does not exist`, a
//! failed file, the lock not taken, migrations that cannot be read, a database that cannot be
//! reached. What the console itself decides before or around the engine (another job holds
//! the database, a typed confirmation missing, a stop) keeps its kind's status.

use ops::error::{ErrorKind, Kind};
use ops::migrate::MigrateError;

#[derive(Debug)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    /// Said by the migration engine: exits 1 whatever its kind, as the tools do.
    engine: bool,
}

/// The exit status of each kind.
fn status(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Failed => 1,
        ErrorKind::Refused => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Busy => 4,
        ErrorKind::Unavailable => 5,
        // 128 + SIGINT, as a shell reports a command Ctrl-C ended.
        ErrorKind::Interrupted => 130,
    }
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl std::fmt::Display) -> Self {
        Self {
            kind,
            message: message.to_string(),
            engine: false,
        }
    }

    /// The request cannot be done as asked; nothing was changed.
    pub fn refused(message: impl std::fmt::Display) -> Self {
        Self::new(ErrorKind::Refused, message)
    }

    /// The work itself failed.
    pub fn failed(message: impl std::fmt::Display) -> Self {
        Self::new(ErrorKind::Failed, message)
    }

    /// The migration engine refused or failed: golang-migrate's and goose's status, 1.
    pub fn tool(kind: ErrorKind, message: impl std::fmt::Display) -> Self {
        Self {
            engine: true,
            ..Self::new(kind, message)
        }
    }

    /// The job ended without succeeding: its own kind (a cancelled one was interrupted),
    /// and its sentence, or `otherwise` when it has none.
    pub fn of_job(view: &ops::model::JobView, otherwise: &str) -> Self {
        let kind = match view.status {
            ops::model::JobStatus::Cancelled => ErrorKind::Interrupted,
            _ => view.error_kind.unwrap_or(ErrorKind::Failed),
        };
        Self::new(kind, view.result.as_deref().unwrap_or(otherwise))
    }

    /// The process's exit status.
    pub fn code(&self) -> u8 {
        if self.engine {
            1
        } else {
            status(self.kind)
        }
    }
}

impl From<MigrateError> for Failure {
    fn from(e: MigrateError) -> Self {
        Self::tool(e.kind(), e)
    }
}

impl From<ops::console::ConsoleError> for Failure {
    fn from(e: ops::console::ConsoleError) -> Self {
        match e {
            ops::console::ConsoleError::Migrate(e) => e.into(),
            other => Self::new(other.kind(), other),
        }
    }
}

impl From<ops::diagnose::DiagnoseError> for Failure {
    fn from(e: ops::diagnose::DiagnoseError) -> Self {
        match e {
            ops::diagnose::DiagnoseError::Migrate(e) => e.into(),
            other => Self::new(other.kind(), other),
        }
    }
}

impl From<ops::backup::BackupError> for Failure {
    fn from(e: ops::backup::BackupError) -> Self {
        Self::new(e.kind(), e)
    }
}

impl From<ops::audit::AuditError> for Failure {
    fn from(e: ops::audit::AuditError) -> Self {
        Self::new(e.kind(), e)
    }
}

/// A setting that cannot be used is a usage error, as clap's are.
impl From<ops::config::ConfigError> for Failure {
    fn from(e: ops::config::ConfigError) -> Self {
        Self::refused(e)
    }
}

/// Printing JSON failed (stdout closed, say).
impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Self::failed(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_status_and_the_engine_exits_1() {
        let codes: Vec<u8> = [
            ErrorKind::Failed,
            ErrorKind::Refused,
            ErrorKind::NotFound,
            ErrorKind::Busy,
            ErrorKind::Unavailable,
            ErrorKind::Interrupted,
        ]
        .into_iter()
        .map(|k| Failure::new(k, "x").code())
        .collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 130]);
        let dirty = Failure::from(MigrateError::Dirty(7));
        assert_eq!((dirty.kind, dirty.code()), (ErrorKind::Refused, 1));
        let down = Failure::from(MigrateError::Unavailable("down".into()));
        assert_eq!((down.kind, down.code()), (ErrorKind::Unavailable, 1));
    }
}
