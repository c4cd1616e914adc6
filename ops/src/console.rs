//! Everything one running console (web or CLI) works with, opened once.

use std::sync::Arc;

use sqlx::PgPool;

use crate::audit::{AuditError, AuditLog, Entry};
use crate::config::Config;
use crate::jobs::{Job, JobFailure, Jobs};
use crate::migrate::{MigrateError, Migrator, Op, Source};
use crate::model::SqlFailure;
use crate::status::StatusCache;

/// How a bootstrap job's log names each object it found.
pub const CHECKED: &str = "Checked ";

pub struct Console {
    pub config: Config,
    pub pool: PgPool,
    pub status: Arc<StatusCache>,
    pub audit: Arc<AuditLog>,
    pub jobs: Jobs,
}

impl Console {
    pub fn open(config: Config) -> Result<Self, AuditError> {
        let pool = crate::db::pool(&config);
        let audit = Arc::new(AuditLog::open(&config.data_dir)?);
        let status = Arc::new(StatusCache::new(pool.clone(), config.clone()));
        let jobs = Jobs::new(audit.clone());
        Ok(Self {
            config,
            pool,
            status,
            audit,
            jobs,
        })
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

    /// Starts a bootstrap job: each object checked is a log line `Checked <kind> <name>`.
    pub fn start_bootstrap(&self, actor: &str) -> Result<Arc<Job>, String> {
        let migrator = self.migrator(actor).map_err(|e| e.to_string())?;
        let status = self.status.clone();
        self.jobs.start("migrate bootstrap", actor, &self.target(), move |job| async move {
            job.log("Checking the objects of the embedded migrations (scripts/bootstrap-migrations.sql)");
            let result = crate::migrate::bootstrap::bootstrap(&migrator).await;
            status.invalidate().await;
            let report = result.map_err(|e| JobFailure::new(e.to_string()))?;
            for o in &report.checked {
                job.log(format!("{CHECKED}{o}"));
            }
            Ok(format!("Marked version {} as applied (clean) without running any migration.", report.version))
        })
    }

    /// Starts a migration job; its log, cancel and audit record come from the job runner.
    pub fn start_migration(&self, op: Op, actor: &str) -> Result<Arc<Job>, String> {
        let migrator = self.migrator(actor).map_err(|e| e.to_string())?;
        let status = self.status.clone();
        self.jobs.start(
            &op.to_string(),
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
                                let file = migrator.source.get(*version).and_then(|m| match op {
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
    }
}
