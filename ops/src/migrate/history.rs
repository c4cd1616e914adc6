//! Every run of a migration file, kept in the managed database in its own schema
//! (`holomush_admin`) so it travels with the database's backups. golang-migrate never
//! touches it; versions applied by a HoloMUSH server simply have no record.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::MigrateError;
use crate::model::{Direction, Ledger};

const ENSURE: &str = "CREATE SCHEMA IF NOT EXISTS holomush_admin;
CREATE TABLE IF NOT EXISTS holomush_admin.migration_history (
    id bigserial PRIMARY KEY,
    version bigint NOT NULL,
    name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('up', 'down')),
    started_at timestamptz NOT NULL,
    duration_ms bigint NOT NULL,
    success boolean NOT NULL,
    error text,
    sha256 text,
    actor text NOT NULL,
    from_version bigint NOT NULL,
    ledger text
);";

/// Tables made before goose was known have no `ledger` column; their rows are golang-migrate's.
const ADD_LEDGER: &str =
    "ALTER TABLE holomush_admin.migration_history ADD COLUMN IF NOT EXISTS ledger text";

#[derive(Clone, Debug)]
pub struct Record {
    pub version: i64,
    pub name: String,
    pub direction: Direction,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub success: bool,
    pub error: Option<String>,
    pub sha256: Option<String>,
    pub actor: String,
    /// The database version before this run, to tell a skipped file from one applied elsewhere.
    pub from_version: i64,
    /// Whose file ran: after the cutover, goose's file of a version is not golang-migrate's
    /// file of that version changed, so drift compares a tool's runs with its own files only.
    pub ledger: Ledger,
}

/// Creates the history table; a user without CREATE gets a warning, not a failure.
pub async fn ensure(conn: &mut PgConnection) -> Result<(), String> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('holomush_admin.migration_history') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
    if exists {
        // Best effort: without the column (no ALTER right), rows read as golang-migrate's.
        let _ = sqlx::Executor::execute(&mut *conn, ADD_LEDGER).await;
        return Ok(());
    }
    sqlx::Executor::execute(&mut *conn, ENSURE).await.map(|_| ()).map_err(|e| {
        format!("The migration history (schema holomush_admin) could not be created ({e}); migrations still run, without history.")
    })
}

/// The INSERT for one record as a plain statement, to ride along with the version write.
pub fn insert_sql(r: &Record) -> String {
    let opt = |v: &Option<String>| v.as_deref().map_or("NULL".to_string(), literal);
    format!(
        "INSERT INTO holomush_admin.migration_history \
           (version, name, direction, started_at, duration_ms, success, error, sha256, actor, from_version, ledger) \
         VALUES ({}, {}, {}, {}::timestamptz, {}, {}, {}, {}, {}, {}, {});",
        r.version,
        literal(&r.name),
        literal(r.direction.as_str()),
        literal(&r.started_at.to_rfc3339()),
        r.duration_ms,
        r.success,
        opt(&r.error),
        opt(&r.sha256),
        literal(&r.actor),
        r.from_version,
        literal(r.ledger.as_str())
    )
}

pub async fn append(conn: &mut PgConnection, r: &Record) -> Result<(), MigrateError> {
    sqlx::query(
        "INSERT INTO holomush_admin.migration_history
           (version, name, direction, started_at, duration_ms, success, error, sha256, actor, from_version, ledger)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.version)
    .bind(&r.name)
    .bind(r.direction.as_str())
    .bind(r.started_at)
    .bind(r.duration_ms)
    .bind(r.success)
    .bind(&r.error)
    .bind(&r.sha256)
    .bind(&r.actor)
    .bind(r.from_version)
    .bind(r.ledger.as_str())
    .execute(&mut *conn)
    .await
    .map_err(MigrateError::db)?;
    Ok(())
}

/// The runs of `ledger`'s files, oldest first; empty when there is no history table yet.
pub async fn all(conn: &mut PgConnection, ledger: Ledger) -> Result<Vec<Record>, MigrateError> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('holomush_admin.migration_history') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(MigrateError::db)?;
    if !exists {
        return Ok(Vec::new());
    }
    let has_ledger: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns
          WHERE table_schema = 'holomush_admin' AND table_name = 'migration_history' AND column_name = 'ledger')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(MigrateError::db)?;
    let column = if has_ledger { "ledger" } else { "NULL::text" };
    let rows = sqlx::query(&format!(
        "SELECT version, name, direction, started_at, duration_ms, success, error, sha256, actor, from_version,
                coalesce({column}, 'golang-migrate') AS ledger
           FROM holomush_admin.migration_history ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(MigrateError::db)?;
    rows.iter()
        .map(|row| {
            Ok(Record {
                version: row.try_get("version")?,
                name: row.try_get("name")?,
                // The table's CHECK allows only these two.
                direction: Direction::parse(&row.try_get::<String, _>("direction")?).ok_or_else(
                    || sqlx::Error::Decode("direction is neither up nor down".into()),
                )?,
                started_at: row.try_get("started_at")?,
                duration_ms: row.try_get("duration_ms")?,
                success: row.try_get("success")?,
                error: row.try_get("error")?,
                sha256: row.try_get("sha256")?,
                actor: row.try_get("actor")?,
                from_version: row.try_get("from_version")?,
                ledger: if row.try_get::<String, _>("ledger")? == Ledger::Goose.as_str() {
                    Ledger::Goose
                } else {
                    Ledger::GolangMigrate
                },
            })
        })
        .collect::<Result<Vec<Record>, sqlx::Error>>()
        .map(|all| all.into_iter().filter(|r| r.ledger == ledger).collect())
        .map_err(MigrateError::db)
}

/// A SQL string literal that reads the same whatever standard_conforming_strings says.
pub fn literal(s: &str) -> String {
    format!(
        "E'{}'",
        s.replace('\0', "")
            .replace('\\', "\\\\")
            .replace('\'', "''")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_backslashes_and_nul() {
        assert_eq!(literal("it's"), "E'it''s'");
        assert_eq!(literal(r"a\b"), r"E'a\\b'");
        assert_eq!(literal("x\0y"), "E'xy'");
    }
}
