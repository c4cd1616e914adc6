//! How a command ends when it does not succeed: one sentence after `error: `, and the exit
//! status. golang-migrate's CLI (`log.fatalErr`, v4.19.1 `internal/cli/log.go`) and goose's
//! (`log.Fatalf`) exit 1 when the tool fails, so the `migrate` commands do too when the engine
//! refuses or fails: a dirty version, `file does not exist`, a failed file, the lock not taken,
//! migrations that cannot be read, a database that cannot be reached. The console's own
//! refusals, before any tool runs (another job holds the database, a typed confirmation
//! missing, a bad argument), a cancelled command, and every other command's failure exit 2, as
//! clap's own refusals of a bad argument do.

use ops::console::ConsoleError;
use ops::migrate::MigrateError;

#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    /// golang-migrate's and goose's status when the tool fails.
    pub const TOOL: u8 = 1;
    /// The console's own refusal.
    pub const REFUSED: u8 = 2;

    /// The migration engine refused or failed.
    pub fn tool(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            code: Self::TOOL,
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            message,
            code: Self::REFUSED,
        }
    }
}

impl From<MigrateError> for Failure {
    fn from(e: MigrateError) -> Self {
        Self::tool(e)
    }
}

impl From<ConsoleError> for Failure {
    fn from(e: ConsoleError) -> Self {
        match e {
            ConsoleError::Migrate(e) => e.into(),
            other => other.to_string().into(),
        }
    }
}
