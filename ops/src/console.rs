//! Everything one running console (web or CLI) works with, opened once.

use std::sync::Arc;

use sqlx::PgPool;

use crate::audit::{AuditError, AuditLog, Entry};
use crate::backup::archive::{ArchiveRef, Located};
use crate::backup::trust::Origin;
use crate::config::Config;
use crate::jobs::{Job, JobFailure, Jobs};
use crate::migrate::{MigrateError, Migrator, Op, Source};
use crate::model::{AdoptPreview, AdoptState, JobKind, JobOutput, SqlFailure, Verification};
use crate::status::StatusCache;

/// Why a Console action did not happen (or did not finish), as one sentence each; the web
/// and the CLI show the sentence, and may tell the kinds apart.
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
    /// The work itself failed (a tool, the database, the disk).
    #[error("{0}")]
    Failed(String),
}

impl From<ConsoleError> for String {
    fn from(e: ConsoleError) -> Self {
        e.to_string()
    }
}

pub struct Console {
    pub config: Config,
    pub pool: PgPool,
    pub status: Arc<StatusCache>,
    pub audit: Arc<AuditLog>,
    pub jobs: Jobs,
}

impl Console {
    /// For the CLI: its jobs live as long as the command.
    pub fn open(config: Config) -> Result<Self, AuditError> {
        let console = Self::build(config, false)?;
        // A CLI killed mid-dump leaves its temporary file; the next command settles it.
        for name in crate::backup::archive::sweep_partials(&console.config.backup_dir) {
            tracing::info!("Removed {name}, left by a backup that did not finish");
        }
        Ok(console)
    }

    /// For the server: jobs are recorded in the data folder, and what a killed server left
    /// (a running job, a half-written archive) is settled now.
    pub fn open_server(config: Config) -> Result<Self, AuditError> {
        let console = Self::build(config, true)?;
        for name in crate::backup::archive::sweep_partials(&console.config.backup_dir) {
            tracing::warn!("Removed {name}, left by a backup that did not finish");
        }
        Ok(console)
    }

    fn build(config: Config, recorded: bool) -> Result<Self, AuditError> {
        let pool = crate::db::pool(&config);
        let audit = Arc::new(AuditLog::open(&config.data_dir)?);
        let status = Arc::new(StatusCache::new(pool.clone(), config.clone()));
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
        })
    }

    /// Finishes or undoes a restore in place that a killed console left half done (see
    /// [`crate::backup::interrupted`]), with an audit record for each; returns what it did.
    ///
    /// It also drops the new databases that killed restores into them left half-filled
    /// (recorded as `restore.new`), and the scratch copies that killed rehearsals left (see
    /// [`crate::migrate::rehearse::scratch`]), recorded as `migrate.rehearse`.
    pub async fn recover_interrupted_work(&self) -> Vec<String> {
        let mut done = crate::backup::interrupted::recover(&self.config.database_url).await;
        for what in &done {
            self.record(
                Entry::new("system", JobKind::RestoreInPlace.as_str(), self.target())
                    .detail(what.clone()),
            );
        }
        let half = crate::backup::interrupted::sweep_new(&self.config.database_url).await;
        for what in &half {
            self.record(
                Entry::new("system", JobKind::RestoreNew.as_str(), self.target())
                    .detail(what.clone()),
            );
        }
        done.extend(half);
        let swept = crate::migrate::rehearse::scratch::sweep(&self.config.database_url).await;
        for what in &swept {
            self.record(
                Entry::new("system", JobKind::MigrateRehearse.as_str(), self.target())
                    .detail(what.clone()),
            );
        }
        done.extend(swept);
        done
    }

    /// Records an action; a failure to write the audit log is logged, never hidden.
    pub fn record(&self, entry: Entry) {
        if let Err(e) = self.audit.record(entry) {
            tracing::error!("{e}");
        }
    }

    /// The archive a person named (a bare name, or on the CLI a path), or the sentence
    /// saying why it cannot be used.
    fn archive(&self, given: ArchiveRef<'_>) -> Result<Located, ConsoleError> {
        crate::backup::archive::locate(&self.config.backup_dir, given)
            .map_err(|e| ConsoleError::Refused(e.to_string()))
    }

    /// The line a job's log starts with for an archive outside the backup folder.
    fn in_place_note(&self, a: &Located) -> Option<String> {
        (!a.inside).then(|| {
            format!(
                "Reading {} in place: it is outside HOLOMUSH_BACKUP_DIR ({}), so nothing is copied and nothing is written beside it",
                a.path.display(),
                self.config.backup_dir.display()
            )
        })
    }

    /// Restoring runs an archive's SQL with the console's role: one the console did not make
    /// goes ahead only with the target database's name typed (`confirm`).
    fn consent(
        &self,
        found: &Located,
        target: &str,
        confirm: Option<&str>,
    ) -> Result<Origin, ConsoleError> {
        let origin = crate::backup::trust::origin(found);
        if origin.by_console() || confirm.map(str::trim) == Some(target) {
            return Ok(origin);
        }
        Err(ConsoleError::Refused(crate::backup::trust::unconfirmed(
            &found.name,
            target,
        )))
    }

    /// The lines a restore job's log starts with: where the archive is read, and whether
    /// the console made it.
    fn restore_note(&self, found: &Located, origin: &Origin) -> Option<String> {
        let foreign = (!origin.by_console()).then(|| {
            format!(
                "Warning: {}",
                crate::backup::trust::foreign_warning(&found.name)
            )
        });
        match (self.in_place_note(found), foreign) {
            (Some(a), Some(b)) => Some(format!("{a}. {b}")),
            (a, b) => a.or(b),
        }
    }

    /// The warning a person must read before restoring an archive the console did not make
    /// (uploaded, copied in, or outside the folder); `None` for the console's own backups.
    pub fn restore_warning<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
    ) -> Result<Option<String>, ConsoleError> {
        let found = self.archive(archive.into())?;
        Ok((!crate::backup::trust::origin(&found).by_console())
            .then(|| crate::backup::trust::foreign_warning(&found.name)))
    }

    /// Deletes an archive of the backup folder and its manifest, with its audit record (the
    /// archive's bare name as the target, however it was named).
    pub fn delete_backup<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        actor: &str,
    ) -> Result<String, ConsoleError> {
        let given = archive.into();
        let name = match given {
            ArchiveRef::Name(n) => n.to_string(),
            ArchiveRef::Path(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
        };
        let entry = Entry::new(actor, "backup.delete", name.clone());
        match crate::backup::archive::delete(&self.config.backup_dir, given) {
            Ok(()) => {
                self.record(entry);
                Ok(format!("Deleted {name}."))
            }
            Err(e) => {
                self.record(entry.failed(e.to_string()));
                Err(ConsoleError::Refused(e.to_string()))
            }
        }
    }

    /// Receives an uploaded archive into the backup folder under the name it came with
    /// (bare names only), with its audit record (`backup.upload`). See [`crate::backup::upload`].
    pub async fn receive_upload<S, B, E>(
        &self,
        name: &str,
        chunks: S,
        actor: &str,
    ) -> Result<String, ConsoleError>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let entry = Entry::new(actor, "backup.upload", name);
        let result = match crate::backup::archive::resolve(&self.config.backup_dir, name) {
            Ok(path) => {
                crate::backup::upload::receive(chunks, &path, self.config.upload_limit_bytes, actor)
                    .await
            }
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(manifest) => {
                let size = manifest.size;
                self.record(entry.detail(format!("{size} bytes")));
                Ok(format!(
                    "Uploaded {name} ({size} bytes, every block read). It was not made by this console, so restoring it asks for the target's name."
                ))
            }
            Err(e) => {
                self.record(entry.failed(e.clone()));
                Err(ConsoleError::Refused(e))
            }
        }
    }

    /// `backup import FILE`, the CLI's Upload button: an archive outside the backup folder is
    /// received exactly as an upload is (same checks, same `backup.upload` record), so a
    /// person at the server's shell gets what a person at the page gets.
    pub async fn import_backup(
        &self,
        path: &std::path::Path,
        actor: &str,
    ) -> Result<String, ConsoleError> {
        let refuse = |message: String| {
            let target = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            self.record(Entry::new(actor, "backup.upload", target).failed(message.clone()));
            ConsoleError::Refused(message)
        };
        let found = crate::backup::archive::locate(&self.config.backup_dir, ArchiveRef::Path(path))
            .map_err(|e| refuse(e.to_string()))?;
        if found.inside {
            return Err(refuse(format!(
                "{} is already in the backup folder: nothing to import (see `holomush-admin backup list`).",
                found.name
            )));
        }
        // O_NOFOLLOW: the file read is the one `locate` checked, not a link swapped in since.
        let mut open = std::fs::OpenOptions::new();
        std::os::unix::fs::OpenOptionsExt::custom_flags(open.read(true), libc::O_NOFOLLOW);
        let file = open.open(&found.path).map_err(|e| {
            refuse(format!(
                "{} could not be opened: {e}. Nothing was imported.",
                found.path.display()
            ))
        })?;
        let chunks = tokio_util::io::ReaderStream::with_capacity(
            tokio::fs::File::from_std(file),
            256 * 1024,
        );
        self.receive_upload(&found.name, chunks, actor).await
    }

    /// `migrate create` from the pages: see [`create_migration`].
    pub fn create_migration(&self, name: &str, actor: &str) -> Result<String, ConsoleError> {
        create_migration(
            &self.audit,
            self.config.migrations_dir.as_deref(),
            name,
            actor,
        )
    }

    /// The connection doctor on the console's database, or on a URL a person typed (used
    /// for this run only), recorded as `doctor`.
    pub async fn doctor(&self, typed: Option<&str>, actor: &str) -> crate::model::DoctorReport {
        match typed.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => doctor(&self.audit, url, actor).await,
            None => doctor(&self.audit, self.config.database_url.expose(), actor).await,
        }
    }

    /// Installs pg_trgm on the console's database, recorded as `doctor.fix_pg_trgm`.
    pub async fn enable_pg_trgm(&self, actor: &str) -> Result<String, ConsoleError> {
        let result = enable_pg_trgm(&self.audit, &self.config.database_url, actor).await;
        self.status.invalidate().await;
        result
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

    /// Starts a pg_dump job of the given kind into HOLOMUSH_BACKUP_DIR.
    pub async fn start_backup(
        &self,
        kind: crate::model::BackupKind,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let url = self.config.database_url.clone();
        let dir = self.config.backup_dir.clone();
        let by = actor.to_string();
        let retention = self.config.retention;
        Ok(self
            .jobs
            .start(
                JobKind::backup(kind),
                actor,
                &self.target(),
                move |job| async move {
                    let log: &crate::backup::Log = &*job;
                    let req = crate::backup::dump::Request {
                        url: &url,
                        dir: &dir,
                        kind,
                        by: &by,
                        safety: false,
                    };
                    let m = crate::backup::dump::dump(req, log, job.cancel_token())
                        .await
                        .map_err(|e| JobFailure::new(e.to_string()))?;
                    // Retention runs only after a backup succeeded.
                    if let Ok(all) = crate::backup::catalog::list(&dir).await {
                        for file in
                            crate::backup::retention::plan(&all, retention, chrono::Utc::now())
                        {
                            match crate::backup::archive::delete(&dir, &file) {
                                Ok(()) => job.log(format!("Retention: deleted {file}")),
                                Err(e) => {
                                    job.log(format!("Retention: could not delete {file}: {e}"))
                                }
                            }
                        }
                    }
                    let summary = format!("{} ({} bytes, sha256 {})", m.file, m.size, m.sha256);
                    job.set_output(JobOutput::Manifest(m));
                    Ok(summary)
                },
            )
            .await?)
    }

    /// Starts a verification job (and, on request, a test restore into a scratch database);
    /// the result is kept in the archive's manifest.
    pub async fn start_verify<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        restore_test: bool,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let located = self.archive(archive.into())?;
        let note = self.in_place_note(&located);
        let (path, name, inside) = (located.path, located.name.clone(), located.inside);
        let url = self.config.database_url.clone();
        let kind = if restore_test {
            JobKind::BackupRestoreTest
        } else {
            JobKind::BackupVerify
        };
        Ok(self
            .jobs
            .start_noted(kind, actor, &located.name, note, move |job| async move {
                let manifest = if inside {
                    crate::backup::trust::manifest_of(&path, &name)
                } else {
                    None
                };
                let cancel = job.cancel_token();
                if manifest.is_some() {
                    job.log("Checking the archive's sha256 against its manifest");
                }
                let mut result =
                    crate::backup::trust::check_sha256(&path, &name, manifest.as_ref(), cancel)
                        .await
                        .map(|()| String::new());
                if result.is_ok() {
                    job.log(format!(
                        "Reading the table of contents and every data block of {}",
                        path.display()
                    ));
                    result = crate::backup::verify::verify(&path, cancel).await;
                }
                if restore_test {
                    if let Ok(read) = result {
                        let log: &crate::backup::Log = &*job;
                        result = crate::backup::verify::restore_test(&url, &path, log, cancel)
                            .await
                            .map(|tested| format!("{read}; {tested}"));
                    }
                }
                // A cancelled check found nothing: the manifest keeps what it knew.
                if matches!(result, Err(crate::backup::BackupError::Cancelled(_))) {
                    return result.map_err(|e| JobFailure::new(e.to_string()));
                }
                let found = match &result {
                    Ok(summary) if restore_test => Verification::RestoreTested(
                        summary.split("; ").last().unwrap_or_default().to_string(),
                    ),
                    Ok(_) => Verification::Verified,
                    Err(e) => Verification::Failed(e.to_string()),
                };
                job.set_output(JobOutput::Verification(found.clone()));
                if let Some(mut m) = manifest {
                    m.verification = found.clone();
                    if let Err(e) = crate::backup::archive::write_manifest(&path, &m) {
                        job.log(format!(
                            "Warning: the result was not saved in the manifest: {e}"
                        ));
                    }
                }
                result.map_err(|e| JobFailure::new(e.to_string()))
            })
            .await?)
    }

    /// Starts a restore into a new database; the current database is never touched. An
    /// archive the console did not make needs `confirm` = `target` (see [`Self::consent`]);
    /// every archive with a manifest is checked against its sha256 first.
    pub async fn start_restore_into<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        target: &str,
        jobs: u32,
        confirm: Option<&str>,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let located = self.archive(archive.into())?;
        crate::backup::restore::validate_name(target)
            .map_err(|e| ConsoleError::Refused(e.to_string()))?;
        let origin = self.consent(&located, target, confirm)?;
        let note = self.restore_note(&located, &origin);
        let (path, name) = (located.path, located.name.as_str());
        let checked = (name.to_string(), origin.manifest().cloned());
        let url = self.config.database_url.clone();
        let target = target.to_string();
        Ok(self
            .jobs
            .start_noted(
                JobKind::RestoreNew,
                actor,
                &format!("{name} into {target}"),
                note,
                move |job| async move {
                    checked.check(&path, job.cancel_token()).await?;
                    let log: &crate::backup::Log = &*job;
                    let outcome = crate::backup::restore::into_new(
                        &url,
                        &path,
                        &target,
                        jobs,
                        log,
                        job.cancel_token(),
                    )
                    .await
                    .map_err(|e| JobFailure::new(e.to_string()))?;
                    if outcome.errors.is_empty() {
                        Ok(outcome.summary())
                    } else {
                        Err(JobFailure::new(outcome.summary()))
                    }
                },
            )
            .await?)
    }

    /// Starts a restore into a new database on another server (moving to a new PostgreSQL):
    /// the checks of [`Self::start_restore_into`], then every table's rows compared with the
    /// archive. `target` is used by this job only; the job and its audit record name it with
    /// its password masked.
    ///
    /// It holds the runner's one-job-at-a-time guard like every job, although it does not
    /// touch the console's own database: it reads an archive of the backup folder that a
    /// concurrent backup's retention could delete, and a backup or migration that ran during
    /// the move would be one the new server does not have.
    pub async fn start_restore_to_server<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        into: &str,
        target: crate::config::DatabaseUrl,
        jobs: u32,
        confirm: Option<&str>,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let located = self.archive(archive.into())?;
        crate::backup::restore::validate_name(into)
            .map_err(|e| ConsoleError::Refused(e.to_string()))?;
        let origin = self.consent(&located, into, confirm)?;
        let note = self.restore_note(&located, &origin);
        let (path, name) = (located.path, located.name.as_str());
        let checked = (name.to_string(), origin.manifest().cloned());
        let into = into.to_string();
        Ok(self
            .jobs
            .start_noted(
                JobKind::RestoreToServer,
                actor,
                &format!("{name} into {into} on {}", target.masked()),
                note,
                move |job| async move {
                    checked.check(&path, job.cancel_token()).await?;
                    let log: &crate::backup::Log = &*job;
                    crate::backup::restore::to_server(
                        &target,
                        &path,
                        &into,
                        jobs,
                        log,
                        job.cancel_token(),
                    )
                    .await
                    .map_err(|e| JobFailure::new(e.to_string()))
                },
            )
            .await?)
    }

    /// Starts a restore in place: safety backup, restore into a fresh database, swap by
    /// rename. An archive the console did not make needs `confirm` = the database's name.
    pub async fn start_restore_in_place<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        jobs: u32,
        confirm: Option<&str>,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let located = self.archive(archive.into())?;
        let origin = self.consent(&located, self.config.database_url.database(), confirm)?;
        let note = self.restore_note(&located, &origin);
        let (path, name) = (located.path, located.name.as_str());
        let checked = (name.to_string(), origin.manifest().cloned());
        let url = self.config.database_url.clone();
        let dir = self.config.backup_dir.clone();
        let by = actor.to_string();
        let status = self.status.clone();
        Ok(self
            .jobs
            .start_noted(
                JobKind::RestoreInPlace,
                actor,
                &format!("{name} over {}", self.target()),
                note,
                move |job| async move {
                    checked.check(&path, job.cancel_token()).await?;
                    let log: &crate::backup::Log = &*job;
                    let result = crate::backup::restore::in_place(
                        &url,
                        &path,
                        &dir,
                        &by,
                        jobs,
                        log,
                        job.cancel_token(),
                    )
                    .await;
                    status.invalidate().await;
                    result.map_err(|e| JobFailure::new(e.to_string()))
                },
            )
            .await?)
    }

    /// The guided repair's last step as one job: refuse while a migration holds the lock or
    /// when nothing is dirty, take a safety backup (on request), run the dirty version's down
    /// SQL (for run_down_then_force), then force `version`.
    pub async fn start_repair(
        &self,
        action: crate::model::RepairAction,
        version: i64,
        safety_backup: bool,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        use crate::model::RepairAction;
        if !matches!(action, RepairAction::Force | RepairAction::RunDownThenForce) {
            return Err(ConsoleError::Refused("Only force and run-down-then-force are done here: restore an archive from Backups (restore in place).".to_string()));
        }
        let migrator = self.migrator(actor)?;
        let status = self.status.clone();
        let url = self.config.database_url.clone();
        let dir = self.config.backup_dir.clone();
        let by = actor.to_string();
        Ok(self.jobs.start(JobKind::MigrateRepair, actor, &self.target(), move |job| async move {
            let report = crate::diagnose::dirty::analyze(&migrator)
                .await
                .map_err(|e| JobFailure::new(e.to_string()))?;
            crate::diagnose::dirty::refuse_while_locked(&report)
                .map_err(|e| JobFailure::new(e.to_string()))?;
            if !report.dirty {
                return Err(JobFailure::new(format!(
                    "The database is not dirty (version {}): nothing was changed.",
                    report.version
                )));
            }
            job.log(format!("Dirty at version {}; the analysis says {:?}", report.version, report.conclusion));
            if safety_backup {
                job.log("Taking a safety backup first".to_string());
                let log: &crate::backup::Log = &*job;
                let req = crate::backup::dump::Request {
                    url: &url,
                    dir: &dir,
                    kind: crate::model::BackupKind::Full,
                    by: &by,
                    safety: true,
                };
                let m = crate::backup::dump::dump(req, log, job.cancel_token())
                    .await
                    .map_err(|e| JobFailure::new(format!("The safety backup failed, so nothing was repaired: {e}")))?;
                job.log(format!("Safety backup {}", m.file));
            }
            if action == RepairAction::RunDownThenForce {
                let down = report.down_sql.clone().ok_or_else(|| {
                    JobFailure::new(format!(
                        "Version {} has no down file to run: repair by hand, then force.",
                        report.version
                    ))
                })?;
                job.log(format!("Running version {}'s down SQL", report.version));
                let mut conn = migrator.connect().await.map_err(|e| JobFailure::new(e.to_string()))?;
                if let Err(e) = sqlx::Executor::execute(&mut conn, down.as_str()).await {
                    return Err(JobFailure::new(format!(
                        "Version {}'s down SQL failed: {e}. The database is still dirty at {}; nothing was forced.",
                        report.version, report.version
                    )));
                }
            }
            let log_job = job.clone();
            let log = move |line: String| log_job.log(line);
            let result = migrator
                .run(Op::Force(version), &log, job.cancel_token())
                .await;
            status.invalidate().await;
            result.map_err(|e| JobFailure::new(e.to_string()))?;
            Ok(format!(
                "Forced version {version}: schema_migrations is clean at {version}. Migrations run again."
            ))
        }).await?)
    }

    /// Starts a rehearsal: the pending migrations run on a scratch copy of the database
    /// (a streamed dump, or `from_backup`), reported per file with its locks, then the
    /// schema difference; the copy is dropped whatever happens and the live database is
    /// only read. An archive the console did not make needs `confirm` = the database's name.
    pub async fn start_rehearsal<'a>(
        &self,
        from_backup: Option<ArchiveRef<'a>>,
        confirm: Option<&str>,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        use crate::migrate::rehearse::{self, plan::Chosen};
        let migrator = self.migrator(actor)?;
        // Which engine `up` would be is decided by the source and the live database's ledger.
        let world = {
            let mut conn = migrator.connect().await?;
            let detected = crate::migrate::world::detect(&mut conn).await;
            sqlx::Connection::close(conn).await.ok();
            detected?.world
        };
        let plan = Chosen::pick(migrator, world);
        let (from, note, checked) = match from_backup {
            None => (rehearse::From::Dump, None, None),
            Some(given) => {
                let found = self.archive(given)?;
                let origin = self.consent(&found, self.config.database_url.database(), confirm)?;
                let note = self.restore_note(&found, &origin);
                let checked = (found.name.clone(), origin.manifest().cloned());
                (
                    rehearse::From::Archive {
                        path: found.path,
                        name: found.name,
                    },
                    note,
                    Some(checked),
                )
            }
        };
        let url = self.config.database_url.clone();
        Ok(self
            .jobs
            .start_noted(
                JobKind::MigrateRehearse,
                actor,
                &self.target(),
                note,
                move |job| async move {
                    if let (Some(checked), rehearse::From::Archive { path, .. }) = (&checked, &from)
                    {
                        checked.check(path, job.cancel_token()).await?;
                    }
                    job.log(format!(
                        "Rehearsing {} from {}",
                        plan.what(),
                        plan.migrator().source.origin
                    ));
                    let log: &crate::backup::Log = &*job;
                    let outcome =
                        rehearse::rehearse(&url, &plan, from, log, job.cancel_token()).await;
                    let summary = outcome.summary();
                    let ok = outcome.report.ok;
                    job.set_output(JobOutput::Rehearsal(outcome.report));
                    if ok {
                        Ok(summary)
                    } else {
                        Err(JobFailure {
                            message: summary,
                            sql: outcome.failed,
                        })
                    }
                },
            )
            .await?)
    }

    /// What HoloMUSH's first goose boot would do with the database (`migrate adopt
    /// --dry-run`): read only, nothing is written or locked.
    pub async fn adopt_preview(&self, actor: &str) -> Result<AdoptPreview, ConsoleError> {
        let migrator = self.migrator(actor)?;
        let mut conn = migrator.connect().await?;
        let preview = crate::migrate::adopt::probe(&mut conn, &migrator.source).await;
        sqlx::Connection::close(conn).await.ok();
        Ok(preview?)
    }

    /// Starts the adopt (golang-migrate → goose) as HoloMUSH's first goose boot does it,
    /// under goose's lock, after a safety backup (when asked and there is work to do). A
    /// database with nothing to adopt ends at once, changed in nothing; a refusal fails the
    /// job with HoloMUSH's code.
    pub async fn start_adopt(
        &self,
        safety_backup: bool,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let migrator = self.migrator(actor)?;
        let status = self.status.clone();
        let url = self.config.database_url.clone();
        let dir = self.config.backup_dir.clone();
        let by = actor.to_string();
        Ok(self
            .jobs
            .start(
                JobKind::MigrateAdopt,
                actor,
                &self.target(),
                move |job| async move {
                    job.log(format!("Adopting with the goose files of {}", migrator.source.origin));
                    let fail = |e: MigrateError| JobFailure::new(e.to_string());
                    let mut conn = migrator.connect().await.map_err(fail)?;
                    let first = crate::migrate::adopt::probe(&mut conn, &migrator.source).await;
                    sqlx::Connection::close(conn).await.ok();
                    let first = first.map_err(fail)?;
                    job.log(first.sentence.clone());
                    if first.state == AdoptState::Ready && safety_backup {
                        safety(&job, &url, &dir, &by, "nothing was adopted").await?;
                    }
                    let log_job = job.clone();
                    let log = move |line: String| log_job.log(line);
                    let result = crate::migrate::adopt::run(&migrator, &log, job.cancel_token()).await;
                    status.invalidate().await;
                    let (found, done) = result.map_err(fail)?;
                    for line in &done {
                        job.log(line.clone());
                    }
                    job.set_output(JobOutput::Adopt(found.clone()));
                    if let Some(refusal) = &found.refusal {
                        return Err(JobFailure::new(refusal.to_string()));
                    }
                    Ok(match found.state {
                        AdoptState::Ready => format!(
                            "Adopted: goose_db_version holds the version-0 row and {} seeded version{} (up to {}); schema_migrations is kept as schema_migrations_pre_goose.",
                            found.seed.len(),
                            if found.seed.len() == 1 { "" } else { "s" },
                            found.recorded_version.unwrap_or_default()
                        ),
                        _ => found.sentence,
                    })
                },
            )
            .await?)
    }

    /// Starts the adopt's undo: `schema_migrations_pre_goose` renamed back and
    /// `goose_db_version` dropped in one transaction under goose's lock, refused once goose
    /// has run anything the adopt did not seed; after a safety backup when asked.
    pub async fn start_adopt_undo(
        &self,
        safety_backup: bool,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let migrator = self.migrator(actor)?;
        let status = self.status.clone();
        let url = self.config.database_url.clone();
        let dir = self.config.backup_dir.clone();
        let by = actor.to_string();
        Ok(self
            .jobs
            .start(
                JobKind::MigrateAdoptUndo,
                actor,
                &self.target(),
                move |job| async move {
                    if safety_backup {
                        safety(&job, &url, &dir, &by, "the adopt was not undone").await?;
                    }
                    let log_job = job.clone();
                    let log = move |line: String| log_job.log(line);
                    let result =
                        crate::migrate::adopt::undo(&migrator, &log, job.cancel_token()).await;
                    status.invalidate().await;
                    let done = result.map_err(|e| JobFailure::new(e.to_string()))?;
                    for line in &done {
                        job.log(line.clone());
                    }
                    Ok("Undid the adopt: schema_migrations is golang-migrate's ledger again and goose_db_version is gone.".to_string())
                },
            )
            .await?)
    }

    /// Starts a bootstrap job; its output names each object checked.
    pub async fn start_bootstrap(&self, actor: &str) -> Result<Arc<Job>, ConsoleError> {
        let migrator = self.migrator(actor)?;
        if migrator.source.ledger == crate::model::Ledger::Goose {
            return Err(ConsoleError::Refused(format!(
                "Bootstrap marks golang-migrate's schema_migrations, but {} holds goose files: bootstrap with the golang-migrate migrations, then adopt.",
                migrator.source.origin
            )));
        }
        let status = self.status.clone();
        Ok(self.jobs.start(JobKind::MigrateBootstrap, actor, &self.target(), move |job| async move {
            job.log("Checking the objects of the embedded migrations (scripts/bootstrap-migrations.sql)");
            let result = crate::migrate::bootstrap::bootstrap(&migrator).await;
            status.invalidate().await;
            let report = result.map_err(|e| JobFailure::new(e.to_string()))?;
            for o in &report.checked {
                job.log(format!("Checked {o}"));
            }
            let result = format!("Marked version {} as applied (clean) without running any migration.", report.version);
            job.set_output(JobOutput::Bootstrap(crate::model::BootstrapView {
                result: result.clone(),
                checked: report.checked.iter().map(|o| o.to_string()).collect(),
            }));
            Ok(result)
        }).await?)
    }

    /// Starts a migration job; its log, cancel and audit record come from the job runner.
    pub async fn start_migration(&self, op: Op, actor: &str) -> Result<Arc<Job>, ConsoleError> {
        let migrator = self.migrator(actor)?;
        if matches!(op, Op::Force(_)) && migrator.source.ledger == crate::model::Ledger::Goose {
            return Err(ConsoleError::Refused(
                crate::migrate::goose::engine::NO_FORCE.to_string(),
            ));
        }
        let status = self.status.clone();
        Ok(self
            .jobs
            .start(
                JobKind::migrate(op),
                actor,
                &self.target(),
                move |job| async move {
                    let log_job = job.clone();
                    let log = move |line: String| log_job.log(line);
                    job.log(format!("{op} from {}", migrator.source.origin));
                    let result = migrator.run(op, &log, job.cancel_token()).await;
                    status.invalidate().await;
                    match result {
                        Ok(report) => {
                            job.log(report.summary());
                            job.set_output(JobOutput::Migration {
                                from: report.from,
                                to: report.to,
                                ran: report.steps.iter().map(|s| s.version).collect(),
                            });
                            Ok(report.summary())
                        }
                        Err(e) => {
                            let sql = match &e {
                                MigrateError::Failed {
                                    version,
                                    line,
                                    column,
                                    ..
                                } => {
                                    let file =
                                        migrator.source.get(*version).and_then(|m| match op {
                                            Op::Up(_) => m.up.clone(),
                                            Op::Goto(_) => m.up.clone().or(m.down.clone()),
                                            _ => m.down.clone(),
                                        });
                                    file.map(|f| SqlFailure {
                                        file: f.file_name,
                                        body: f.body,
                                        line: *line,
                                        column: *column,
                                        error: None,
                                    })
                                }
                                _ => None,
                            };
                            Err(JobFailure {
                                message: e.to_string(),
                                sql,
                            })
                        }
                    }
                },
            )
            .await?)
    }
}

/// The next migration in the migrations folder (a golang-migrate pair or a goose file), with its audit
/// record. Needs no database (golang-migrate's `create` does not), so the CLI calls it
/// without a Console.
pub fn create_migration(
    audit: &AuditLog,
    migrations_dir: Option<&std::path::Path>,
    name: &str,
    actor: &str,
) -> Result<String, ConsoleError> {
    let dir = migrations_dir.ok_or_else(|| {
        ConsoleError::Refused("The migrations are the set embedded in holomush-admin: set HOLOMUSH_MIGRATIONS_DIR (or --migrations-dir) to the folder to create them in.".to_string())
    })?;
    let entry = Entry::new(actor, "migrate.create", dir.display().to_string());
    let recorded = |entry: Entry| {
        if let Err(e) = audit.record(entry) {
            tracing::error!("{e}");
        }
    };
    match crate::migrate::create::create(dir, name) {
        Ok(files) => {
            let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            recorded(entry.detail(shown.first().cloned().unwrap_or_default()));
            Ok(format!("Created {}", shown.join(" and ")))
        }
        Err(e) => {
            recorded(entry.failed(e.to_string()));
            Err(ConsoleError::Refused(e.to_string()))
        }
    }
}

/// How the audit log names a database URL a person gave: parsed and masked the one way, so
/// the same URL reads the same from the pages and the CLI, even when it does not parse.
fn named_target(url: &str) -> String {
    match crate::config::DatabaseUrl::parse(url.trim()) {
        Ok(parsed) => parsed.masked().to_string(),
        Err(_) => crate::config::mask_url(url.trim()),
    }
}

/// The connection doctor on `url`, with its audit record (`doctor`, the URL masked). Needs
/// no Console: the CLI runs it when the configuration itself is what is broken.
pub async fn doctor(audit: &AuditLog, url: &str, actor: &str) -> crate::model::DoctorReport {
    let report = crate::diagnose::doctor::run(url).await;
    let entry = Entry::new(actor, "doctor", named_target(url));
    let entry = if report.ok {
        entry.detail("every step passed")
    } else {
        let failed: Vec<&str> = report
            .steps
            .iter()
            .filter(|s| s.status == crate::model::StepStatus::Fail)
            .map(|s| s.id.as_str())
            .collect();
        entry.failed(format!("failed: {}", failed.join(", ")))
    };
    if let Err(e) = audit.record(entry) {
        tracing::error!("{e}");
    }
    report
}

/// The doctor's one fix, `CREATE EXTENSION IF NOT EXISTS pg_trgm`, with its audit record
/// (`doctor.fix_pg_trgm`).
pub async fn enable_pg_trgm(
    audit: &AuditLog,
    url: &crate::config::DatabaseUrl,
    actor: &str,
) -> Result<String, ConsoleError> {
    let entry = Entry::new(actor, "doctor.fix_pg_trgm", url.masked().to_string());
    let result = crate::diagnose::doctor::enable_pg_trgm(url)
        .await
        .map_err(|e| e.to_string());
    let entry = match &result {
        Ok(m) => entry.detail(m.clone()),
        Err(e) => entry.failed(e.clone()),
    };
    if let Err(e) = audit.record(entry) {
        tracing::error!("{e}");
    }
    result.map_err(ConsoleError::Failed)
}

/// A safety backup (a full pg_dump labelled safety) before a change; when it fails, the
/// change does not happen (`instead` says what did not).
async fn safety(
    job: &Job,
    url: &crate::config::DatabaseUrl,
    dir: &std::path::Path,
    by: &str,
    instead: &str,
) -> Result<(), JobFailure> {
    job.log("Taking a safety backup first".to_string());
    let req = crate::backup::dump::Request {
        url,
        dir,
        kind: crate::model::BackupKind::Full,
        by,
        safety: true,
    };
    let m = crate::backup::dump::dump(req, job, job.cancel_token())
        .await
        .map_err(|e| JobFailure::new(format!("The safety backup failed, so {instead}: {e}")))?;
    job.log(format!("Safety backup {}", m.file));
    Ok(())
}

/// The sha256 check a restore job starts with: the archive's name and the manifest that
/// describes it (none for an archive that has none).
trait CheckArchive {
    async fn check(
        &self,
        path: &std::path::Path,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(), JobFailure>;
}

impl CheckArchive for (String, Option<crate::model::Manifest>) {
    async fn check(
        &self,
        path: &std::path::Path,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(), JobFailure> {
        crate::backup::trust::check_sha256(path, &self.0, self.1.as_ref(), cancel)
            .await
            .map_err(|e| JobFailure::new(e.to_string()))
    }
}
