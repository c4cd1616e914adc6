//! The golang-migrate → goose adopt as HoloMUSH's first goose boot does it, its preview and its undo.

use std::sync::Arc;

use crate::jobs::{Job, JobFailure};
use crate::model::{AdoptPreview, AdoptState, JobKind, JobOutput};

use super::{Console, ConsoleError};

impl Console {
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
        let cx = self.context(actor);
        Ok(self
            .jobs
            .start(
                JobKind::MigrateAdopt,
                actor,
                &self.target(),
                move |job| async move {
                    job.log(format!("Adopting with the goose files of {}", migrator.source.origin));
                    let mut conn = migrator.connect().await.map_err(JobFailure::from)?;
                    let first = crate::migrate::adopt::probe(&mut conn, &migrator.source).await;
                    sqlx::Connection::close(conn).await.ok();
                    let first = first.map_err(JobFailure::from)?;
                    job.log(first.sentence.clone());
                    if first.state == AdoptState::Ready && safety_backup {
                        cx.safety(&job, "nothing was adopted").await?;
                    }
                    let log_job = job.clone();
                    let log = move |line: String| log_job.log(line);
                    let result = crate::migrate::adopt::run(&migrator, &log, job.cancel_token()).await;
                    cx.status.invalidate().await;
                    let (found, done) = result.map_err(JobFailure::from)?;
                    for line in &done {
                        job.log(line.clone());
                    }
                    job.set_output(JobOutput::Adopt(found.clone()));
                    if let Some(refusal) = &found.refusal {
                        return Err(JobFailure::refused(refusal.to_string()));
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
        let cx = self.context(actor);
        Ok(self
            .jobs
            .start(
                JobKind::MigrateAdoptUndo,
                actor,
                &self.target(),
                move |job| async move {
                    if safety_backup {
                        cx.safety(&job, "the adopt was not undone").await?;
                    }
                    let log_job = job.clone();
                    let log = move |line: String| log_job.log(line);
                    let result =
                        crate::migrate::adopt::undo(&migrator, &log, job.cancel_token()).await;
                    cx.status.invalidate().await;
                    let done = result.map_err(JobFailure::from)?;
                    for line in &done {
                        job.log(line.clone());
                    }
                    Ok("Undid the adopt: schema_migrations is golang-migrate's ledger again and goose_db_version is gone.".to_string())
                },
            )
            .await?)
    }
}
