//! The dashboard's reading of the managed database, refreshed at most once a
//! second however many browsers ask for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, PgPool, Row};
use tokio::sync::Mutex;

use crate::config::Config;
use crate::db::describe_error;
use crate::model::{Connection, Extension, PoolStats, SchemaVersion, ServerFacts, StatusSnapshot};

pub const MAX_AGE: Duration = Duration::from_secs(1);

pub struct StatusCache {
    pool: PgPool,
    config: Config,
    // A tokio mutex held across the refresh: concurrent callers wait for the one reading.
    last: Mutex<Option<(Instant, Arc<StatusSnapshot>)>>,
    refreshes: AtomicU64,
}

impl StatusCache {
    pub fn new(pool: PgPool, config: Config) -> Self {
        Self {
            pool,
            config,
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
        let snap = Arc::new(read(&self.pool, &self.config).await);
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
pub async fn read(pool: &PgPool, config: &Config) -> StatusSnapshot {
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
    Ok(ServerFacts {
        latency_ms,
        server_version: row.try_get("version")?,
        server_version_num: u32::try_from(row.try_get::<i32, _>("version_num")?).unwrap_or(0),
        database_size_bytes: row.try_get("size")?,
        pg_trgm,
        migration,
    })
}
