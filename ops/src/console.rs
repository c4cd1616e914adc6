//! Everything one running console (web or CLI) works with, opened once.

use sqlx::PgPool;

use crate::audit::{AuditError, AuditLog, Entry};
use crate::config::Config;
use crate::status::StatusCache;

pub struct Console {
    pub config: Config,
    pub pool: PgPool,
    pub status: StatusCache,
    pub audit: AuditLog,
}

impl Console {
    pub fn open(config: Config) -> Result<Self, AuditError> {
        let pool = crate::db::pool(&config);
        let audit = AuditLog::open(&config.data_dir)?;
        let status = StatusCache::new(pool.clone(), config.clone());
        Ok(Self {
            config,
            pool,
            status,
            audit,
        })
    }

    /// Records an action; a failure to write the audit log is logged, never hidden.
    pub fn record(&self, entry: Entry) {
        if let Err(e) = self.audit.record(entry) {
            tracing::error!("{e}");
        }
    }
}
