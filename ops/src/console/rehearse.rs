//! Rehearsals: the pending migrations on a scratch copy, reported per file.

use std::sync::Arc;

use crate::backup::archive::ArchiveRef;
use crate::jobs::{Job, JobFailure};
use crate::model::{JobKind, JobOutput};

use super::archives::Target;
use super::{Console, ConsoleError};

impl Console {
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
        let mut archive = match from_backup {
            None => None,
            Some(given) => Some(self.restorable(given, Target::Live, confirm).await?),
        };
        let note = archive.as_mut().and_then(|a| a.note.take());
        let url = self.config.database_url.clone();
        let restore_as = self.config.restore_as;
        let seal = self.seal.clone();
        Ok(self
            .jobs
            .start_noted(
                JobKind::MigrateRehearse,
                actor,
                &self.target(),
                note,
                move |job| async move {
                    // The local copy lives until the rehearsal has read it.
                    let (from, _local) = match archive {
                        None => (rehearse::From::Dump, None),
                        Some(archive) => {
                            let local = archive.open(job.cancel_token()).await?;
                            let from = rehearse::From::Archive {
                                path: local.path().to_path_buf(),
                                name: archive.name().to_string(),
                            };
                            (from, Some(local))
                        }
                    };
                    job.log(format!(
                        "Rehearsing {} from {}",
                        plan.what(),
                        plan.migrator().source.origin
                    ));
                    let log: &crate::backup::Log = &*job;
                    let outcome = rehearse::rehearse(
                        &url,
                        &seal,
                        &plan,
                        from,
                        restore_as,
                        log,
                        job.cancel_token(),
                    )
                    .await;
                    let summary = outcome.summary();
                    let ok = outcome.report.ok;
                    job.set_output(JobOutput::Rehearsal(outcome.report));
                    if ok {
                        Ok(summary)
                    } else {
                        Err(JobFailure {
                            sql: outcome.failed,
                            ..JobFailure::new(summary)
                        })
                    }
                },
            )
            .await?)
    }
}
