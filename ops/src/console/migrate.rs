//! Migrations: `migrate up/down/goto/force`, bootstrap, and `migrate create`.

use std::sync::Arc;

use crate::audit::{AuditLog, Entry};
use crate::jobs::{Job, JobFailure};
use crate::migrate::{MigrateError, Op};
use crate::model::{JobKind, JobOutput, SqlFailure};

use super::{Console, ConsoleError};

impl Console {
    /// `migrate create` from the pages: see [`create_migration`].
    pub fn create_migration(&self, name: &str, actor: &str) -> Result<String, ConsoleError> {
        create_migration(
            &self.audit,
            self.config.migrations_dir.as_deref(),
            name,
            actor,
        )
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
            let report = result.map_err(JobFailure::from)?;
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
                                sql,
                                ..JobFailure::from(e)
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
