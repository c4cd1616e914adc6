//! One file on the scratch copy, inside a transaction the rehearsal holds open until it has
//! read, from `pg_locks`, the locks the file took on tables that existed before it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::postgres::types::Oid;
use sqlx::{Executor, PgConnection};

use super::plan::{Plan, Step};
use crate::migrate::MigrateError;
use crate::model::LockTaken;

/// What running one file found.
pub struct Ran {
    pub duration: Duration,
    pub outcome: Result<(), MigrateError>,
    pub locks: Vec<LockTaken>,
    pub locks_unknown: Option<String>,
}

const OUTSIDE: &str = "The file cannot run inside a transaction (SQLSTATE 25001, e.g. CREATE INDEX CONCURRENTLY), so it ran on its own and its locks could not be read.";
const OWN_COMMIT: &str = "The file ends its own transaction (COMMIT), so its locks were released before they could be read.";
const NOT_TRANSACTIONAL: &str =
    "The engine runs this file outside a transaction, so its locks could not be read.";

/// PostgreSQL's table lock modes, weakest first.
const MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

fn strength(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).unwrap_or(0)
}

/// The tables (and views) that exist now, but the engine's ledger: oid → name as shown.
async fn existing(
    conn: &mut PgConnection,
    ledger: &[String],
) -> Result<HashMap<Oid, String>, sqlx::Error> {
    let rows: Vec<(Oid, String)> = sqlx::query_as(
        "SELECT c.oid, c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'm', 'v', 'f')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
            AND c.oid NOT IN (SELECT coalesce(to_regclass(l)::oid, 0) FROM unnest($1::text[]) l)",
    )
    .bind(ledger)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The locks this session holds on `existing` relations, strongest first per relation.
async fn held(
    conn: &mut PgConnection,
    existing: &HashMap<Oid, String>,
) -> Result<Vec<LockTaken>, sqlx::Error> {
    let rows: Vec<(Oid, String)> = sqlx::query_as(
        "SELECT relation, mode FROM pg_locks
          WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted AND relation IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut locks: Vec<LockTaken> = rows
        .into_iter()
        .filter_map(|(oid, mode)| {
            existing.get(&oid).map(|name| LockTaken {
                relation: name.clone(),
                mode,
            })
        })
        .collect();
    locks.sort_by(|a, b| {
        a.relation
            .cmp(&b.relation)
            .then(strength(&b.mode).cmp(&strength(&a.mode)))
    });
    locks.dedup();
    Ok(locks)
}

fn not_in_transaction(e: &MigrateError) -> bool {
    // golang-migrate's failure text ends with the SQLSTATE (see `engine::failure`).
    matches!(e, MigrateError::Failed { message, .. } if message.ends_with("(SQLSTATE 25001))"))
}

async fn timed<P: Plan>(
    plan: &P,
    conn: &mut PgConnection,
    step: &Step,
) -> (Duration, Result<(), MigrateError>) {
    let started = Instant::now();
    let outcome = plan.apply(conn, step).await;
    (started.elapsed(), outcome)
}

/// Runs `step` on the scratch copy and reads the locks it took on tables that existed
/// before it. `Err` only when the scratch connection itself failed.
pub async fn run<P: Plan>(
    plan: &P,
    conn: &mut PgConnection,
    step: &Step,
) -> Result<Ran, sqlx::Error> {
    if !step.transactional {
        let (duration, outcome) = timed(plan, conn, step).await;
        return Ok(Ran {
            duration,
            outcome,
            locks: Vec::new(),
            locks_unknown: Some(NOT_TRANSACTIONAL.to_string()),
        });
    }
    let before = existing(conn, &plan.ledger()).await?;
    conn.execute("BEGIN").await?;
    let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
        .fetch_one(&mut *conn)
        .await?;
    let (duration, outcome) = timed(plan, conn, step).await;
    match outcome {
        Ok(()) => {
            let still: Option<String> =
                sqlx::query_scalar("SELECT pg_current_xact_id_if_assigned()::text")
                    .fetch_one(&mut *conn)
                    .await?;
            if still.as_deref() != Some(xid.as_str()) {
                return Ok(Ran {
                    duration,
                    outcome: Ok(()),
                    locks: Vec::new(),
                    locks_unknown: Some(OWN_COMMIT.to_string()),
                });
            }
            let locks = held(conn, &before).await?;
            conn.execute("COMMIT").await?;
            Ok(Ran {
                duration,
                outcome: Ok(()),
                locks,
                locks_unknown: None,
            })
        }
        Err(e) if not_in_transaction(&e) => {
            conn.execute("ROLLBACK").await?;
            let (duration, outcome) = timed(plan, conn, step).await;
            Ok(Ran {
                duration,
                outcome,
                locks: Vec::new(),
                locks_unknown: Some(OUTSIDE.to_string()),
            })
        }
        Err(e) => {
            // A failed file may have ended the transaction itself: ROLLBACK then only warns.
            conn.execute("ROLLBACK").await?;
            Ok(Ran {
                duration,
                outcome: Err(e),
                locks: Vec::new(),
                locks_unknown: None,
            })
        }
    }
}
