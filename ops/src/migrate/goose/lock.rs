//! goose's postgres session lock: `pg_try_advisory_lock(5887940537704921958)` (crc64-ECMA of
//! "goose"), tried at once and then every 5 s up to 60 more times; released with
//! `pg_advisory_unlock`. The console's wait reports who holds it and stops on cancel.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::super::MigrateError;

/// goose's `lock.DefaultLockID`.
pub const LOCK_ID: i64 = 5_887_940_537_704_921_958;

/// How goose retries: a constant period, a number of retries after the first try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    pub period: Duration,
    pub retries: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            period: Duration::from_secs(5),
            retries: 60,
        }
    }
}

pub async fn acquire(
    conn: &mut PgConnection,
    retry: Retry,
    log: &(dyn Fn(String) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<(), MigrateError> {
    let mut tries = 0u32;
    loop {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LOCK_ID)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| {
                MigrateError::Database(format!(
                    "failed to initialize: failed to execute pg_try_advisory_lock: {}",
                    super::engine::pg_text(&e)
                ))
            })?;
        if got {
            return Ok(());
        }
        let who = super::super::lock::holder(conn, LOCK_ID)
            .await
            .unwrap_or_else(|| "another session".to_string());
        if tries >= retry.retries {
            let waited = retry.period * retry.retries;
            return Err(MigrateError::Refused(format!(
                "failed to initialize: failed to acquire lock: goose's lock {LOCK_ID} was held by {who} for {} s; try again when that migration has finished.",
                waited.as_secs()
            )));
        }
        tries += 1;
        log(format!(
            "Waiting for goose's lock {LOCK_ID}, held by {who} (try {tries} of {}, every {} s)",
            retry.retries,
            retry.period.as_secs_f64()
        ));
        tokio::select! {
            _ = tokio::time::sleep(retry.period) => {}
            _ = cancel.cancelled() => {
                return Err(MigrateError::Refused(format!(
                    "Cancelled while waiting for goose's lock {LOCK_ID} (held by {who}): nothing was changed."
                )));
            }
        }
    }
}

pub async fn release(conn: &mut PgConnection) {
    if let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LOCK_ID)
        .execute(&mut *conn)
        .await
    {
        tracing::warn!("could not release goose's advisory lock {LOCK_ID}: {e}");
    }
}
