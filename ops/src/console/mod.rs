//! Everything one running console (web or CLI) works with, opened once, and the actions it
//! offers, one file per capability: archives and their trust (`archives`), backups, verify,
//! upload and delete (`backup`), restores (`restore`), migrations and create (`migrate`), the
//! guided repair (`repair`), rehearsals (`rehearse`), the goose adopt (`adopt`) and the
//! doctor (`doctor`). Each is its own `impl Console`.

mod adopt;
mod archives;
mod backup;
mod catalog;
mod doctor;
mod migrate;
mod rehearse;
mod repair;
mod restore;

use std::sync::Arc;

use sqlx::PgPool;

use crate::audit::{AuditError, AuditLog, Entry};
use crate::backup::store::{FolderStore, Store};
use crate::backup::BackupError;
use crate::config::{Config, DatabaseUrl};
use crate::error::{ErrorKind, Kind};
use crate::jobs::{Job, JobFailure, Jobs};
use crate::migrate::{MigrateError, Migrator, Source};
use crate::model::JobKind;
use crate::seal::Seal;
use crate::status::StatusCache;

pub use backup::Check;
pub use doctor::{doctor, doctor_typed, enable_pg_trgm, typed_doctor_url};
pub use migrate::create_migration;

/// Why a Console action did not happen (or did not finish), as one sentence each, with its
/// [`ErrorKind`]: the web answers with the kind's HTTP status and the CLI exits with its code.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Another job holds the database.
    #[error(transparent)]
    Busy(#[from] crate::jobs::Busy),
    /// The request cannot be done as asked (a name, a path, a confirmation); nothing changed.
    #[error("{0}")]
    Refused(String),
    /// The migrations could not be read or the engine refused.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// An archive could not be found, read or written.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// The doctor's fix or the repair's analysis did not happen.
    #[error(transparent)]
    Diagnose(#[from] crate::diagnose::DiagnoseError),
    /// The work itself failed (a tool, the database, the disk).
    #[error("{0}")]
    Failed(String),
    /// The audit log could not be opened (when the console opens).
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The console's key could not be read or made (when the console opens).
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
}

impl Kind for ConsoleError {
    fn kind(&self) -> ErrorKind {
        match self {
            ConsoleError::Busy(_) => ErrorKind::Busy,
            ConsoleError::Refused(_) => ErrorKind::Refused,
            ConsoleError::Migrate(e) => e.kind(),
            ConsoleError::Backup(e) => e.kind(),
            ConsoleError::Diagnose(e) => e.kind(),
            ConsoleError::Failed(_) => ErrorKind::Failed,
            ConsoleError::Audit(e) => e.kind(),
            ConsoleError::Seal(e) => e.kind(),
        }
    }
}

pub struct Console {
    pub config: Config,
    pub pool: PgPool,
    pub status: Arc<StatusCache>,
    pub audit: Arc<AuditLog>,
    pub jobs: Jobs,
    /// Where the backup sets live: every read and write of an archive goes through it.
    pub store: Arc<dyn Store>,
    /// This console's key (in its data folder): the tags on its markers and manifests.
    seal: Seal,
}

impl Console {
    /// For the CLI: its jobs live as long as the command.
    pub async fn open(config: Config) -> Result<Self, ConsoleError> {
        let store = Arc::new(FolderStore::new(config.backup_dir.clone()));
        let console = Self::build(config, store, false)?;
        // A CLI killed mid-dump leaves its temporary file; the next command settles it.
        for name in console.store.sweep().await {
            tracing::info!("Removed {name}, left by a backup that did not finish");
        }
        Ok(console)
    }

    /// For the server: jobs are recorded in the data folder, and what a killed server left
    /// (a running job, a half-written archive) is settled now.
    pub async fn open_server(config: Config) -> Result<Self, ConsoleError> {
        let store = Arc::new(FolderStore::new(config.backup_dir.clone()));
        let console = Self::build(config, store, true)?;
        for name in console.store.sweep().await {
            tracing::warn!("Removed {name}, left by a backup that did not finish");
        }
        Ok(console)
    }

    /// For tests: a CLI console whose archives live in `store` (e.g. a
    /// [`crate::backup::store::MemoryStore`]) instead of HOLOMUSH_BACKUP_DIR.
    pub fn with_store(config: Config, store: Arc<dyn Store>) -> Result<Self, ConsoleError> {
        Self::build(config, store, false)
    }

    fn build(config: Config, store: Arc<dyn Store>, recorded: bool) -> Result<Self, ConsoleError> {
        let pool = crate::db::pool(&config);
        let audit = Arc::new(AuditLog::open(&config.data_dir)?);
        let seal = Seal::load_or_create(&config.data_dir)?;
        let status = Arc::new(StatusCache::new(
            pool.clone(),
            config.clone(),
            store.clone(),
        ));
        let (jobs, role) = if recorded {
            (
                Jobs::recorded(audit.clone(), config.data_dir.join("jobs")),
                crate::joblock::Role::Serve,
            )
        } else {
            (Jobs::new(audit.clone()), crate::joblock::Role::Cli)
        };
        let jobs = jobs.with_db_lock(crate::joblock::JobLock::new(
            config.database_url.clone(),
            role,
        ));
        Ok(Self {
            config,
            pool,
            status,
            audit,
            jobs,
            store,
            seal,
        })
    }

    /// This console's key, for what writes or reads its markers and manifests.
    pub fn seal(&self) -> &Seal {
        &self.seal
    }

    /// Finishes or undoes a restore in place that a killed console left half done (see
    /// [`crate::backup::interrupted`]), with an audit record for each; returns what it did.
    ///
    /// It also drops the new databases that killed restores into them left half-filled
    /// (recorded as `restore.new`), and the scratch copies that killed rehearsals left (see
    /// [`crate::migrate::rehearse::scratch`]), recorded as `migrate.rehearse`. A database
    /// whose marker this console cannot vouch for (see [`crate::dbmark`]) is left alone, and
    /// the sentence saying so is recorded and returned like the others.
    pub async fn recover_interrupted_work(&self) -> Vec<String> {
        let mut done =
            crate::backup::interrupted::recover(&self.config.database_url, &self.seal).await;
        for what in &done {
            self.record(
                Entry::new("system", JobKind::RestoreInPlace.as_str(), self.target())
                    .detail(what.clone()),
            );
        }
        let half =
            crate::backup::interrupted::sweep_new(&self.config.database_url, &self.seal).await;
        for what in &half {
            self.record(
                Entry::new("system", JobKind::RestoreNew.as_str(), self.target())
                    .detail(what.clone()),
            );
        }
        done.extend(half);
        let swept =
            crate::migrate::rehearse::scratch::sweep(&self.config.database_url, &self.seal).await;
        for what in &swept {
            self.record(
                Entry::new("system", JobKind::MigrateRehearse.as_str(), self.target())
                    .detail(what.clone()),
            );
        }
        done.extend(swept);
        // After the databases: a job role still owning one cannot be dropped.
        done.extend(crate::backup::guest::sweep(&self.config.database_url).await);
        done
    }

    /// Records an action; a failure to write the audit log is logged, never hidden.
    pub fn record(&self, entry: Entry) {
        if let Err(e) = self.audit.record(entry) {
            tracing::error!("{e}");
        }
    }

    /// The database as named in the audit log and on the pages (no password).
    pub fn target(&self) -> String {
        self.config.database_url.masked().to_string()
    }

    pub fn migrator(&self, actor: &str) -> Result<Migrator, MigrateError> {
        let source = Source::from_config(self.config.migrations_dir.as_deref())?;
        Ok(Migrator::new(
            source,
            self.config.database_url.clone(),
            actor,
        ))
    }

    /// The copies a job's body works with (see [`JobContext`]).
    pub(crate) fn context(&self, actor: &str) -> JobContext {
        JobContext {
            url: self.config.database_url.clone(),
            store: self.store.clone(),
            by: actor.to_string(),
            status: self.status.clone(),
            seal: self.seal.clone(),
        }
    }
}

/// What a job's body needs of the console, taken once when the job starts: the body runs
/// after the call returns, so it owns copies rather than borrowing the console.
#[derive(Clone)]
pub(crate) struct JobContext {
    pub url: DatabaseUrl,
    pub store: Arc<dyn Store>,
    pub by: String,
    pub status: Arc<StatusCache>,
    pub seal: Seal,
}

impl JobContext {
    /// A safety backup (a full pg_dump labelled safety) before a change; when it fails, the
    /// change does not happen (`instead` says what did not).
    pub async fn safety(&self, job: &Job, instead: &str) -> Result<(), JobFailure> {
        job.log("Taking a safety backup first".to_string());
        let req = crate::backup::dump::Request {
            url: &self.url,
            store: self.store.as_ref(),
            kind: crate::model::BackupKind::Full,
            by: &self.by,
            safety: true,
            seal: &self.seal,
        };
        let m = crate::backup::dump::dump(req, job, job.cancel_token())
            .await
            .map_err(|e| {
                JobFailure::of(
                    e.kind(),
                    format!("The safety backup failed, so {instead}: {e}"),
                )
            })?;
        job.log(format!("Safety backup {}", m.file));
        Ok(())
    }
}
