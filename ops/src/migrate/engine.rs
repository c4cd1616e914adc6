//! The migrator: a source, the database it migrates, how long to wait for a tool's lock, and
//! who runs it. Which tool runs an operation is [`super::tools`]' choice.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use super::source::Source;
use super::MigrateError;
use crate::config::DatabaseUrl;

/// A lock wait by retries: a constant period, a number of retries after the first try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    pub period: Duration,
    pub retries: u32,
}

impl Default for Retry {
    /// goose's session locker: every 5 s, 60 more times.
    fn default() -> Self {
        Self {
            period: Duration::from_secs(5),
            retries: 60,
        }
    }
}

pub struct Migrator {
    pub source: Source,
    pub url: DatabaseUrl,
    /// golang-migrate's lock wait.
    pub lock_timeout: Duration,
    /// goose's lock retries.
    pub goose_lock: Retry,
    pub actor: String,
}

/// golang-migrate's default lock timeout (its CLI's `-lock-timeout`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(15);

impl Migrator {
    pub fn new(source: Source, url: DatabaseUrl, actor: impl Into<String>) -> Self {
        Self {
            source,
            url,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            goose_lock: Retry::default(),
            actor: actor.into(),
        }
    }

    pub async fn connect(&self) -> Result<PgConnection, MigrateError> {
        PgConnection::connect_with(&self.url.connect_options())
            .await
            .map_err(|e| MigrateError::Unavailable(crate::db::describe_error(&e, &self.url)))
    }
}
