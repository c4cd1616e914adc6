//! goose v3.27.3's postgres session lock (`lock.NewPostgresSessionLocker()` with no options,
//! as HoloMUSH calls it): `pg_try_advisory_lock(4097083626)` (crc32-IEEE of "goose", the
//! `DefaultLockID` since v3.26.0), tried at once and then every 5 s up to 60 more times
//! (`retry.WithMaxRetries(60, retry.NewConstant(5s))`); released with `pg_advisory_unlock`.
//!
//! We also take the id goose used before v3.26.0 (crc64-ECMA of "goose"), so a database still
//! migrated by an older goose is excluded as well. The ids are always taken in the same order
//! and each goose takes one only, so two consoles and a goose can never wait on each other in
//! a circle. The console's wait reports who holds a lock and stops on cancel.

use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::super::MigrateError;

/// goose v3.26.0 and later: `lock.DefaultLockID`, what a HoloMUSH server on v3.27.3 holds.
pub const LOCK_ID: i64 = 4_097_083_626;
/// goose before v3.26.0: the former `lock.DefaultLockID`.
pub const LEGACY_LOCK_ID: i64 = 5_887_940_537_704_921_958;
/// Every id the console takes, in the order it takes them.
pub const LOCK_IDS: [i64; 2] = [LOCK_ID, LEGACY_LOCK_ID];

/// How goose retries its lock: every 5 s, 60 more times by default.
pub use super::super::engine::Retry;

/// Takes every id of [`LOCK_IDS`] on `conn`, or none: on timeout or cancel the ids already
/// taken are released again.
pub async fn acquire(
    conn: &mut PgConnection,
    retry: Retry,
    log: &(dyn Fn(String) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<(), MigrateError> {
    let mut held = 0usize;
    let mut tries = 0u32;
    loop {
        while held < LOCK_IDS.len() {
            match try_lock(conn, LOCK_IDS[held]).await {
                Ok(true) => held += 1,
                Ok(false) => break,
                Err(e) => {
                    unlock(conn, &LOCK_IDS[..held]).await;
                    return Err(e);
                }
            }
        }
        if held == LOCK_IDS.len() {
            return Ok(());
        }
        let id = LOCK_IDS[held];
        let who = super::super::advisory::holder(conn, id)
            .await
            .unwrap_or_else(|| "another session".to_string());
        if tries >= retry.retries {
            unlock(conn, &LOCK_IDS[..held]).await;
            let waited = retry.period * retry.retries;
            return Err(MigrateError::Refused(format!(
                "failed to initialize: failed to acquire lock: goose's lock {id} was held by {who} for {} s; try again when that migration has finished.",
                waited.as_secs()
            )));
        }
        tries += 1;
        log(format!(
            "Waiting for goose's lock {id}, held by {who} (try {tries} of {}, every {} s)",
            retry.retries,
            retry.period.as_secs_f64()
        ));
        tokio::select! {
            _ = tokio::time::sleep(retry.period) => {}
            _ = cancel.cancelled() => {
                unlock(conn, &LOCK_IDS[..held]).await;
                return Err(MigrateError::Refused(format!(
                    "Cancelled while waiting for goose's lock {id} (held by {who}): nothing was changed."
                )));
            }
        }
    }
}

async fn try_lock(conn: &mut PgConnection, id: i64) -> Result<bool, MigrateError> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| {
            MigrateError::Database(format!(
                "failed to initialize: failed to execute pg_try_advisory_lock: {}",
                super::super::pgerror::pg_text(&e)
            ))
        })
}

/// Releases every id [`acquire`] took.
pub async fn release(conn: &mut PgConnection) {
    unlock(conn, &LOCK_IDS).await;
}

async fn unlock(conn: &mut PgConnection, ids: &[i64]) {
    // Newest-taken first, the reverse of acquire's order.
    for id in ids.iter().rev() {
        if let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(*id)
            .execute(&mut *conn)
            .await
        {
            tracing::warn!("could not release goose's advisory lock {id}: {e}");
        }
    }
}
