//! golang-migrate's advisory locks. Its CLI and `migrate.New(url)` (what HoloMUSH uses)
//! derive the id from the URL path with its leading slash (`/holomush`); library users
//! with an open connection derive it from `current_database()` (`holomush`). We take
//! both, always in that order, so we exclude either kind of golang-migrate run.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;

use super::super::advisory::holder;
use super::super::MigrateError;

const SALT: u32 = 1_486_364_155;
const POLL: Duration = Duration::from_millis(100);
const REPORT_EVERY: Duration = Duration::from_secs(2);

/// `GenerateAdvisoryLockId(databaseName, schema, table)`: crc32-IEEE of
/// "schema\0table\0database" times the salt, wrapped to 32 bits.
pub fn lock_id(database: &str, schema: &str, table: &str) -> i64 {
    let key = format!("{schema}\0{table}\0{database}");
    i64::from(crc32fast::hash(key.as_bytes()).wrapping_mul(SALT))
}

/// The ids to take, in order: the URL path's (`/holomush`: `pgx5://…/holomush` and
/// `postgres://…/holomush` alike, as the driver's `Open` keeps `purl.Path` whatever the scheme),
/// then `current_database()`'s. A URL without a path names no id of its own: there the driver
/// itself falls back to `current_database()`.
pub fn ids(url_path: &str, current_database: &str, schema: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for database in [url_path, current_database] {
        let id = lock_id(database, schema, super::state::TABLE);
        if !database.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The id of a bare name, as `GenerateAdvisoryLockId(name)` with no extra names.
pub fn lock_id_bare(name: &str) -> i64 {
    i64::from(crc32fast::hash(name.as_bytes()).wrapping_mul(SALT))
}

/// Takes every id in order, polling so that a session blocked behind us (a
/// `CREATE INDEX CONCURRENTLY` waiting for our snapshot, say) cannot deadlock us.
/// On timeout, releases what it took and changes nothing.
pub async fn acquire(
    conn: &mut PgConnection,
    ids: &[i64],
    timeout: Duration,
    log: &(dyn Fn(String) + Send + Sync),
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let mut taken: Vec<i64> = Vec::new();
    for &id in ids {
        let mut last_report: Option<Instant> = None;
        loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(id)
                .fetch_one(&mut *conn)
                .await
                .map_err(MigrateError::db)?;
            if got {
                taken.push(id);
                break;
            }
            let who = holder(conn, id)
                .await
                .unwrap_or_else(|| "another session".to_string());
            if started.elapsed() >= timeout {
                release(conn, &taken).await;
                return Err(MigrateError::LockTimeout {
                    waited: timeout,
                    holder: who,
                });
            }
            if last_report.is_none_or(|t| t.elapsed() >= REPORT_EVERY) {
                log(format!(
                    "Waiting for the migration lock {id}, held by {who}"
                ));
                last_report = Some(Instant::now());
            }
            tokio::time::sleep(POLL).await;
        }
    }
    Ok(())
}

pub async fn release(conn: &mut PgConnection, ids: &[i64]) {
    for &id in ids.iter().rev() {
        if let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(id)
            .execute(&mut *conn)
            .await
        {
            tracing::warn!("could not release advisory lock {id}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_golang_migrate() {
        assert_eq!(lock_id_bare("database_name"), 1764327054);
        assert_eq!(lock_id("/mydb", "public", "schema_migrations"), 616192132);
        assert_eq!(lock_id("mydb", "public", "schema_migrations"), 2103762914);
    }

    #[test]
    fn both_url_forms_and_the_current_database() {
        // `postgres://u@h/mydb` and `pgx5://u@h/mydb` both give the driver `/mydb`.
        assert_eq!(ids("/mydb", "mydb", "public"), [616192132, 2103762914]);
        assert_eq!(
            ids("", "mydb", "public"),
            [2103762914],
            "no path: the driver reads current_database()"
        );
    }
}
