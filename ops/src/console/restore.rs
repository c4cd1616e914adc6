//! Restores: into a new database, onto another server, and in place (safety backup, swap).

use std::sync::Arc;

use crate::backup::archive::ArchiveRef;
use crate::jobs::{Job, JobFailure};
use crate::model::JobKind;

use super::archives::Target;
use super::{Console, ConsoleError};

impl Console {
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
        let mut archive = self
            .restorable(archive.into(), Target::New(target), confirm)
            .await?;
        let note = archive.note.take();
        let name = archive.name().to_string();
        let url = self.config.database_url.clone();
        let target = target.to_string();
        let restore_as = self.config.restore_as;
        let seal = self.seal.clone();
        Ok(self
            .jobs
            .start_noted(
                JobKind::RestoreNew,
                actor,
                &format!("{name} into {target}"),
                note,
                move |job| async move {
                    let local = archive.open(job.cancel_token()).await?;
                    let path = local.path();
                    let log: &crate::backup::Log = &*job;
                    let outcome = crate::backup::restore::into_new(
                        &url,
                        &seal,
                        path,
                        &target,
                        restore_as,
                        jobs,
                        log,
                        job.cancel_token(),
                    )
                    .await
                    .map_err(JobFailure::from)?;
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
        // A typed URL reaches this machine only at the managed server or where
        // HOLOMUSH_ADMIN_TARGET_HOSTS allows (issue 19): checked before anything else.
        if let Err(e) = self
            .config
            .typed_url_rules()
            .check(&target, "The target server URL")
            .await
        {
            return Err(ConsoleError::Refused(format!("{e}; nothing was created.")));
        }
        let mut archive = self
            .restorable(archive.into(), Target::New(into), confirm)
            .await?;
        let note = archive.note.take();
        let name = archive.name().to_string();
        let into = into.to_string();
        let restore_as = self.config.restore_as;
        let seal = self.seal.clone();
        Ok(self
            .jobs
            .start_noted(
                JobKind::RestoreToServer,
                actor,
                &format!("{name} into {into} on {}", target.masked()),
                note,
                move |job| async move {
                    let local = archive.open(job.cancel_token()).await?;
                    let path = local.path();
                    let log: &crate::backup::Log = &*job;
                    crate::backup::restore::to_server(
                        &target,
                        &seal,
                        path,
                        &into,
                        restore_as,
                        jobs,
                        log,
                        job.cancel_token(),
                    )
                    .await
                    .map_err(JobFailure::from)
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
        let mut archive = self
            .restorable(archive.into(), Target::Live, confirm)
            .await?;
        let note = archive.note.take();
        let name = archive.name().to_string();
        let cx = self.context(actor);
        let restore_as = self.config.restore_as;
        Ok(self
            .jobs
            .start_noted(
                JobKind::RestoreInPlace,
                actor,
                &format!("{name} over {}", self.target()),
                note,
                move |job| async move {
                    let local = archive.open(job.cancel_token()).await?;
                    let path = local.path();
                    let log: &crate::backup::Log = &*job;
                    let result = crate::backup::restore::in_place(
                        &cx.url,
                        &cx.seal,
                        path,
                        cx.store.as_ref(),
                        &cx.by,
                        restore_as,
                        jobs,
                        log,
                        job.cancel_token(),
                    )
                    .await;
                    cx.status.invalidate().await;
                    result.map_err(JobFailure::from)
                },
            )
            .await?)
    }
}
