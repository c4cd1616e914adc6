//! The guided repair of a dirty golang-migrate database: force, or run the down SQL then force.

use std::sync::Arc;

use crate::jobs::{Job, JobFailure};
use crate::migrate::Op;
use crate::model::JobKind;

use super::{Console, ConsoleError};

impl Console {
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
        let cx = self.context(actor);
        Ok(self.jobs.start(JobKind::MigrateRepair, actor, &self.target(), move |job| async move {
            let report = crate::diagnose::dirty::analyze(&migrator)
                .await
                .map_err(JobFailure::from)?;
            crate::diagnose::dirty::refuse_while_locked(&report)
                .map_err(JobFailure::from)?;
            if !report.dirty {
                return Err(JobFailure::refused(format!(
                    "The database is not dirty (version {}): nothing was changed.",
                    report.version
                )));
            }
            job.log(format!("Dirty at version {}; the analysis says {:?}", report.version, report.conclusion));
            if safety_backup {
                cx.safety(&job, "nothing was repaired").await?;
            }
            if action == RepairAction::RunDownThenForce {
                let down = report.down_sql.clone().ok_or_else(|| {
                    JobFailure::refused(format!(
                        "Version {} has no down file to run: repair by hand, then force.",
                        report.version
                    ))
                })?;
                job.log(format!("Running version {}'s down SQL", report.version));
                let mut conn = migrator.connect().await.map_err(JobFailure::from)?;
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
            cx.status.invalidate().await;
            result.map_err(JobFailure::from)?;
            Ok(format!(
                "Forced version {version}: schema_migrations is clean at {version}. Migrations run again."
            ))
        }).await?)
    }
}
