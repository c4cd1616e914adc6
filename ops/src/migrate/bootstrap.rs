//! Bootstrap of a database that already has HoloMUSH's schema (the seed's section): the
//! same SQL as `psql -d holomush -f scripts/bootstrap-migrations.sql`, run under the
//! migration locks, so the check and the version write are one and the same.

use sqlx::Connection;

use super::engine::Migrator;
use super::tools;
use super::MigrateError;
use crate::model::Ledger;

pub const SCRIPT: &str = include_str!("../../../scripts/bootstrap-migrations.sql");

#[derive(Clone, Debug)]
pub struct BootstrapReport {
    pub version: i64,
    /// Every object the script checked, e.g. "table players".
    pub checked: Vec<String>,
}

pub async fn bootstrap(m: &Migrator) -> Result<BootstrapReport, MigrateError> {
    // The script writes golang-migrate's schema_migrations, under golang-migrate's locks.
    let golang = tools::store(Ledger::GolangMigrate);
    let mut conn = m.connect().await?;
    golang
        .lock(
            m,
            &mut conn,
            &|_| {},
            &tokio_util::sync::CancellationToken::new(),
        )
        .await?;
    // psql meta-commands (`\set ON_ERROR_STOP on`) are psql's, not SQL.
    let sql: String = SCRIPT
        .lines()
        .filter(|l| !l.trim_start().starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n");
    let ran = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
    let result = match ran {
        Err(e) => Err(match e.as_database_error() {
            Some(d) => MigrateError::Refused(d.message().to_string()),
            None => MigrateError::db(e),
        }),
        Ok(_) => {
            // The script leaves the list of what it checked in a temporary table.
            let checked: Vec<String> = sqlx::query_scalar(
                "SELECT kind || ' ' || name FROM pg_temp.bootstrap_checked ORDER BY ord",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
            let version = golang.recorded(&mut conn).await?.version;
            Ok(BootstrapReport { version, checked })
        }
    };
    golang.unlock(m, &mut conn).await;
    conn.close().await.ok();
    result
}
