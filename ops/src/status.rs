//! The dashboard's reading of the managed database, refreshed at most once a
//! second however many browsers ask for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, PgPool, Row};
use tokio::sync::Mutex;

use crate::backup::store::Store;
use crate::config::Config;
use crate::db::describe_error;
use crate::model::{
    BackupFreshness, Connection, Extension, LastBackup, PoolStats, SchemaVersion, ServerFacts,
    StatusSnapshot,
};

pub const MAX_AGE: Duration = Duration::from_secs(1);

pub struct StatusCache {
    pool: PgPool,
    config: Config,
    store: Arc<dyn Store>,
    // A tokio mutex held across the refresh: concurrent callers wait for the one reading.
    last: Mutex<Option<(Instant, Arc<StatusSnapshot>)>>,
    refreshes: AtomicU64,
}

impl StatusCache {
    pub fn new(pool: PgPool, config: Config, store: Arc<dyn Store>) -> Self {
        Self {
            pool,
            config,
            store,
            last: Mutex::new(None),
            refreshes: AtomicU64::new(0),
        }
    }

    pub async fn get(&self) -> Arc<StatusSnapshot> {
        let mut last = self.last.lock().await;
        if let Some((at, snap)) = last.as_ref() {
            if at.elapsed() < MAX_AGE {
                return snap.clone();
            }
        }
        let snap = Arc::new(read(&self.pool, &self.config, self.store.as_ref()).await);
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        *last = Some((Instant::now(), snap.clone()));
        snap
    }

    /// Forgets the last reading: the next caller reads the database, e.g. right after a migration.
    pub async fn invalidate(&self) {
        *self.last.lock().await = None;
    }

    /// How many times the database has actually been read.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }
}

/// Reads the database once. Never fails: a failure is part of the reading.
pub async fn read(pool: &PgPool, config: &Config, store: &dyn Store) -> StatusSnapshot {
    let connection = match tokio::time::timeout(Duration::from_secs(8), facts(pool, config)).await {
        Ok(Ok(facts)) => Connection::Up(facts),
        Ok(Err(e)) => Connection::Down(describe_error(&e, &config.database_url)),
        Err(_) => Connection::Down(
            "The database did not answer within 8 seconds: it may be overloaded or unreachable."
                .to_string(),
        ),
    };
    StatusSnapshot {
        taken_at: Utc::now(),
        target: config.database_url.masked().to_string(),
        database: config.database_url.database().to_string(),
        connection,
        pool: PoolStats {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: config.max_conns,
            min: config.min_conns,
        },
        backups: match crate::backup::catalog::list(store).await {
            Ok(all) => freshness(&all, Utc::now(), config.backup_schedule),
            Err(e) => BackupFreshness {
                warning: Some(format!("The backup folder could not be read: {e}")),
                ..Default::default()
            },
        },
    }
}

/// The newest archive and the newest full one of `all` (newest first, as the catalog lists
/// them), with a warning when no full backup is younger than the schedule (a day without one).
pub fn freshness(
    all: &[crate::model::Manifest],
    now: chrono::DateTime<Utc>,
    schedule: Option<Duration>,
) -> BackupFreshness {
    let last = |m: &crate::model::Manifest| LastBackup {
        file: m.file.clone(),
        kind: m.kind,
        started_at: m.started_at,
        verification: m.verification.clone(),
    };
    let newest = all.first().map(last);
    let newest_full = all
        .iter()
        .find(|m| m.kind == crate::model::BackupKind::Full)
        .map(last);
    let (limit, named) = match schedule {
        Some(every) => (
            every,
            format!(
                "the schedule (HOLOMUSH_BACKUP_SCHEDULE={})",
                humantime::format_duration(every)
            ),
        ),
        None => (Duration::from_secs(86_400), "a day".to_string()),
    };
    let warning = match &newest_full {
        None => Some(
            "No full backup yet: take one on the Backups page (or `holomush-admin backup create`)."
                .to_string(),
        ),
        Some(f) => {
            let age = (now - f.started_at).num_seconds();
            (age > i64::try_from(limit.as_secs()).unwrap_or(i64::MAX)).then(|| {
                format!(
                    "The newest full backup ({}) is {} old, older than {named}: take one now.",
                    f.file,
                    crate::model::format_age(age)
                )
            })
        }
    };
    BackupFreshness {
        newest,
        newest_full,
        warning,
    }
}

async fn facts(pool: &PgPool, config: &Config) -> Result<ServerFacts, sqlx::Error> {
    if pool.size() == 0 {
        // The pool retries a failing connect until its timeout and then reports only
        // the timeout; one direct attempt keeps the real cause (refused, bad password…).
        let probe = PgConnection::connect_with(&config.database_url.connect_options()).await?;
        probe.close().await.ok();
    }
    let mut conn = pool.acquire().await?;
    let started = Instant::now();
    sqlx::query("SELECT 1").execute(&mut *conn).await?;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;

    let row = sqlx::query(
        "SELECT current_setting('server_version') AS version,
                current_setting('server_version_num')::int AS version_num,
                pg_database_size(current_database()) AS size,
                EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS trgm_available,
                (SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm') AS trgm_installed,
                to_regclass('schema_migrations') IS NOT NULL AS has_migrations",
    )
    .fetch_one(&mut *conn)
    .await?;
    let pg_trgm = match row.try_get::<Option<String>, _>("trgm_installed")? {
        Some(v) => Extension::Installed(v),
        None if row.try_get::<bool, _>("trgm_available")? => Extension::Available,
        None => Extension::NotAvailable,
    };
    let migration = if row.try_get::<bool, _>("has_migrations")? {
        // golang-migrate keeps at most one row; read it the way it does.
        match sqlx::query("SELECT version, dirty FROM schema_migrations LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?
        {
            Some(r) => SchemaVersion::At {
                version: r.try_get("version")?,
                dirty: r.try_get("dirty")?,
            },
            None => SchemaVersion::NoVersion,
        }
    } else {
        SchemaVersion::NoTable
    };
    // A reading that fails here should not hide the rest of the dashboard.
    let detected = crate::migrate::world::detect(&mut conn).await.ok();
    Ok(ServerFacts {
        world: detected.map(|d| d.world),
        goose_version: detected.and_then(|d| d.goose_version),
        latency_ms,
        server_version: row.try_get("version")?,
        server_version_num: u32::try_from(row.try_get::<i32, _>("version_num")?).unwrap_or(0),
        database_size_bytes: row.try_get("size")?,
        pg_trgm,
        migration,
    })
}

#[cfg(test)]
mod freshness_tests {
    use super::*;
    use crate::model::Manifest;

    fn archive(file: &str, kind: &str, hours_ago: i64, now: chrono::DateTime<Utc>) -> Manifest {
        serde_json::from_value(serde_json::json!({
            "file": file,
            "kind": kind,
            "size": 1,
            "database": "holomush",
            "started_at": now - chrono::Duration::hours(hours_ago),
            "verification": if kind == "full" { "verified" } else { "" },
        }))
        .expect("a manifest")
    }

    #[test]
    fn a_full_backup_older_than_the_schedule_or_a_day_is_overdue() {
        let now = Utc::now();
        let none = freshness(&[], now, None);
        assert_eq!(
            none.warning.as_deref(),
            Some("No full backup yet: take one on the Backups page (or `holomush-admin backup create`).")
        );
        let all = [
            archive("holomush_schema_b.dump", "schema", 1, now),
            archive("holomush_a.dump", "full", 30, now),
        ];
        let f = freshness(&all, now, None);
        assert_eq!(
            f.newest.as_ref().map(|n| n.file.as_str()),
            Some("holomush_schema_b.dump")
        );
        assert!(!f.newest.as_ref().is_some_and(LastBackup::verified));
        assert!(f.newest_full.as_ref().is_some_and(LastBackup::verified));
        assert_eq!(
            f.warning.as_deref(),
            Some("The newest full backup (holomush_a.dump) is 30 h old, older than a day: take one now.")
        );
        let f = freshness(&all, now, Some(Duration::from_secs(48 * 3600)));
        assert_eq!(f.warning, None);
        let f = freshness(&all, now, Some(Duration::from_secs(6 * 3600)));
        assert_eq!(
            f.warning.as_deref(),
            Some("The newest full backup (holomush_a.dump) is 30 h old, older than the schedule (HOLOMUSH_BACKUP_SCHEDULE=6h): take one now.")
        );
    }
}
