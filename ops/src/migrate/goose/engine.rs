//! Running goose migrations as goose's Provider does: lock, ensure the ledger, resolve what
//! to run (refusing missing out-of-order versions), parse every SQL file to run before
//! running any, then one transaction per file (statement by statement, plus the ledger row
//! and the console's history) unless the file says `-- +goose NO TRANSACTION`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::{PgConnection, PgDatabaseError};
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

use super::super::engine::{Log, Migrator, Op, RunReport, StepReport};
use super::super::history::{self, Record};
use super::super::source::{Direction, Migration, MigrationKind};
use super::super::state::NIL;
use super::super::{world, MigrateError};
use super::ledger::{self, Ledger};
use super::parser::{self, Parsed};

/// Why `force` is golang-migrate's only.
pub const NO_FORCE: &str = "goose has no force: its ledger lists each applied version and has no dirty flag to clear; use up, down or goto instead (nothing was changed).";

/// pgx's text for a server error (`ERROR: message (SQLSTATE code)`), which goose prints.
pub fn pg_text(e: &sqlx::Error) -> String {
    match e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
    {
        Some(pg) => format!(
            "{}: {} (SQLSTATE {})",
            severity(pg),
            pg.message(),
            pg.code()
        ),
        None => crate::config::mask_url(&e.to_string()),
    }
}

fn severity(pg: &PgDatabaseError) -> &'static str {
    use sqlx::postgres::PgSeverity::*;
    match pg.severity() {
        Panic => "PANIC",
        Fatal => "FATAL",
        Error => "ERROR",
        Warning => "WARNING",
        Notice => "NOTICE",
        Debug => "DEBUG",
        Info => "INFO",
        Log => "LOG",
    }
}

pub async fn run(
    m: &Migrator,
    op: Op,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<RunReport, MigrateError> {
    if let Op::Force(_) = op {
        return Err(MigrateError::Refused(NO_FORCE.to_string()));
    }
    let mut conn = m.connect().await?;
    super::lock::acquire(&mut conn, m.goose_lock, log, cancel).await?;
    let result = run_locked(m, &mut conn, op, log, cancel).await;
    super::lock::release(&mut conn).await;
    conn.close().await.ok();
    result
}

/// What goose would run for `op`, given the ledger's rows (newest id first).
pub fn plan(
    m: &Migrator,
    op: Op,
    rows: &[ledger::LedgerRow],
) -> Result<Vec<(u64, Direction)>, MigrateError> {
    let applied: BTreeSet<i64> = ledger::applied(rows).into_iter().collect();
    let max = ledger::max_version(rows);
    let up_to = |target: i64| -> Result<Vec<(u64, Direction)>, MigrateError> {
        let missing: Vec<u64> = m
            .source
            .versions()
            .into_iter()
            .filter(|v| (*v as i64) < max && !applied.contains(&(*v as i64)))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(u64::to_string).collect();
            return Err(MigrateError::Refused(format!(
                "found {} missing (out-of-order) migration{} lower than current max ({max}): [{}]",
                missing.len(),
                if missing.len() > 1 { "s" } else { "" },
                list.join(",")
            )));
        }
        Ok(m.source
            .versions()
            .into_iter()
            .filter(|v| (*v as i64) > max && (*v as i64) <= target)
            .map(|v| (v, Direction::Up))
            .collect())
    };
    let down_to = |target: i64,
                   limit: Option<u64>|
     -> Result<Vec<(u64, Direction)>, MigrateError> {
        let mut out = Vec::new();
        for r in rows {
            if r.version <= target || limit.is_some_and(|l| out.len() as u64 >= l) {
                break;
            }
            let v = u64::try_from(r.version).unwrap_or(0);
            if m.source.get(v).is_none() {
                return Err(MigrateError::Refused(format!(
                    "version not found: version {v} is recorded in goose_db_version but no migration file has it; point HOLOMUSH_MIGRATIONS_DIR at the folder that does (nothing was changed)."
                )));
            }
            out.push((v, Direction::Down));
        }
        Ok(out)
    };
    match op {
        Op::Up(limit) => {
            let mut steps = up_to(i64::MAX)?;
            if let Some(l) = limit {
                steps.truncate(usize::try_from(l).unwrap_or(usize::MAX));
            }
            Ok(steps)
        }
        Op::Down(n) => down_to(0, Some(n.unwrap_or(1))),
        Op::DownAll => down_to(0, None),
        Op::Goto(target) => {
            let target = i64::try_from(target).unwrap_or(i64::MAX);
            if target > max {
                up_to(target)
            } else {
                down_to(target, None)
            }
        }
        Op::Force(_) => Err(MigrateError::Refused(NO_FORCE.to_string())),
    }
}

async fn run_locked(
    m: &Migrator,
    conn: &mut PgConnection,
    op: Op,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<RunReport, MigrateError> {
    let detected = world::detect(conn).await?;
    if let Some(refusal) = detected.refusal(m.source.ledger, &m.source.origin.to_string()) {
        return Err(MigrateError::Refused(refusal));
    }
    let ledger = Ledger::current(conn).await?;
    ledger.ensure(conn).await?;
    let with_history = match history::ensure(conn).await {
        Ok(()) => true,
        Err(warning) => {
            log(warning);
            false
        }
    };
    let rows = ledger.list(conn).await?;
    if rows.is_empty() {
        return Err(MigrateError::Refused(
            "missing zero version migration: goose_db_version has no rows, not even version 0; run the adopt step, or drop the empty table so goose can create it (nothing was changed).".to_string(),
        ));
    }
    let from = ledger::max_version(&rows);
    let steps = plan(m, op, &rows)?;
    // goose parses every SQL file it is about to run before running any.
    let mut prepared = Vec::new();
    for (version, direction) in &steps {
        let mig = m
            .source
            .get(*version)
            .ok_or(MigrateError::NoMigration(*version as i64))?;
        let parsed = match (mig.kind, mig.up.as_ref()) {
            (MigrationKind::Sql, Some(f)) => Some(
                parser::parse_all(&f.body)
                    .map_err(|e| MigrateError::Source(format!("{}: {e}", f.file_name)))?,
            ),
            _ => None,
        };
        prepared.push((mig, *direction, parsed));
    }
    let mut done = Vec::new();
    let mut current = from;
    for (mig, direction, parsed) in prepared {
        if cancel.is_cancelled() {
            return Err(MigrateError::Cancelled(mig.version.to_string()));
        }
        let Some(parsed) = parsed else {
            let file = mig.file_name().unwrap_or_default().to_string();
            log(format!(
                "Stopped before version {}: a Go migration",
                mig.version
            ));
            return Err(MigrateError::GoMigration {
                version: mig.version,
                file,
            });
        };
        let step = apply(
            m,
            conn,
            &ledger,
            mig,
            direction,
            &parsed,
            current,
            with_history,
            log,
        )
        .await?;
        done.push(step);
        current = ledger::max_version(&ledger.list(conn).await?);
    }
    let show = |v: i64| if v == 0 { NIL } else { v };
    Ok(RunReport {
        from: show(from),
        to: show(current),
        steps: done,
    })
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    m: &Migrator,
    conn: &mut PgConnection,
    ledger: &Ledger,
    mig: &Migration,
    direction: Direction,
    parsed: &Parsed,
    from: i64,
    with_history: bool,
    log: &Log,
) -> Result<StepReport, MigrateError> {
    let file = mig.up.as_ref();
    let file_name = mig.file_name().unwrap_or_default();
    let statements = match direction {
        Direction::Up => &parsed.up,
        Direction::Down => &parsed.down,
    };
    let label = format!("{}/{} {}", mig.version, direction.as_str(), mig.name);
    if statements.is_empty() {
        log(format!(
            "Warning: {label} has no -- +goose {} statements: the ledger moves and no SQL runs",
            if direction == Direction::Up {
                "Up"
            } else {
                "Down"
            }
        ));
    } else {
        log(format!(
            "Applying {label} ({file_name}{})",
            if parsed.use_tx {
                ""
            } else {
                ", no transaction"
            }
        ));
    }
    let started_at = Utc::now();
    let started = Instant::now();
    let ledger_sql = match direction {
        Direction::Up => ledger.insert_sql(mig.version),
        Direction::Down => ledger.delete_sql(mig.version),
    };
    let mut record = Record {
        version: mig.version as i64,
        name: mig.name.clone(),
        direction,
        started_at,
        duration_ms: 0,
        success: true,
        error: None,
        sha256: file.map(|f| f.sha256.clone()),
        actor: m.actor.clone(),
        from_version: if from == 0 { NIL } else { from },
        ledger: crate::model::Ledger::Goose,
    };
    let outcome = run_statements(
        conn,
        statements,
        parsed.use_tx,
        &ledger_sql,
        with_history,
        &mut record,
        started,
    )
    .await;
    let duration = started.elapsed();
    if let Err(e) = outcome {
        let message = format!(
            "partial migration error (type:sql,version:{}): {}",
            mig.version,
            pg_text(&e)
        );
        record.success = false;
        record.error = Some(message.clone());
        record.duration_ms = millis(duration);
        if with_history {
            history::append(conn, &record).await.ok();
        }
        log(format!("Failed {label} after {} ms", duration.as_millis()));
        return Err(MigrateError::Failed {
            message,
            version: mig.version,
            line: None,
            column: None,
        });
    }
    log(format!("Applied {label} in {} ms", duration.as_millis()));
    Ok(StepReport {
        version: mig.version,
        name: mig.name.clone(),
        direction,
        duration,
        empty: statements.is_empty(),
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The statements one by one (as goose's ExecContext), then the ledger row and the history
/// record: all in one transaction, or, for NO TRANSACTION, the statements each on their own
/// and the two writes together after them.
async fn run_statements(
    conn: &mut PgConnection,
    statements: &[String],
    use_tx: bool,
    ledger_sql: &str,
    with_history: bool,
    record: &mut Record,
    started: Instant,
) -> Result<(), sqlx::Error> {
    if use_tx {
        sqlx::Executor::execute(&mut *conn, "BEGIN").await?;
    }
    let result = async {
        for stmt in statements {
            sqlx::Executor::execute(&mut *conn, stmt.as_str()).await?;
        }
        record.duration_ms = millis(started.elapsed());
        let mut writes = ledger_sql.to_string();
        if with_history {
            writes.push_str(&history::insert_sql(record));
        }
        sqlx::Executor::execute(&mut *conn, writes.as_str()).await?;
        if use_tx {
            sqlx::Executor::execute(&mut *conn, "COMMIT").await?;
        }
        Ok(())
    }
    .await;
    if result.is_err() && use_tx {
        sqlx::Executor::execute(&mut *conn, "ROLLBACK").await.ok();
    }
    result
}

/// The rehearsal's seam (see [`crate::migrate::rehearse::plan::Goose`]): one up file's
/// statements one by one, then its ledger row, as [`run`] sends them but without a
/// transaction of its own (the rehearsal holds one around a transactional file) and
/// without the history a real run adds.
pub async fn apply_up_bare(
    conn: &mut PgConnection,
    ledger: &Ledger,
    mig: &Migration,
) -> Result<(), MigrateError> {
    let file = match (mig.kind, mig.up.as_ref()) {
        (MigrationKind::Sql, Some(f)) => f,
        _ => {
            return Err(MigrateError::GoMigration {
                version: mig.version,
                file: mig.file_name().unwrap_or_default().to_string(),
            })
        }
    };
    let parsed = parser::parse_all(&file.body)
        .map_err(|e| MigrateError::Source(format!("{}: {e}", file.file_name)))?;
    let started = Instant::now();
    let mut record = Record {
        version: mig.version as i64,
        name: mig.name.clone(),
        direction: Direction::Up,
        started_at: Utc::now(),
        duration_ms: 0,
        success: true,
        error: None,
        sha256: None,
        actor: String::new(),
        from_version: NIL,
        ledger: crate::model::Ledger::Goose,
    };
    run_statements(
        conn,
        &parsed.up,
        false,
        &ledger.insert_sql(mig.version),
        false,
        &mut record,
        started,
    )
    .await
    .map_err(|e| MigrateError::Failed {
        message: format!(
            "partial migration error (type:sql,version:{}): {}",
            mig.version,
            pg_text(&e)
        ),
        version: mig.version,
        line: None,
        column: None,
    })
}

/// The rehearsal's seam: the versions goose's `up` would run on `conn`'s database, refused
/// as `up` refuses (the other tool's ledger, missing out-of-order versions).
pub async fn pending_up<'m>(
    m: &'m Migrator,
    conn: &mut PgConnection,
) -> Result<Vec<&'m Migration>, MigrateError> {
    let detected = world::detect(conn).await?;
    if let Some(refusal) = detected.refusal(m.source.ledger, &m.source.origin.to_string()) {
        return Err(MigrateError::Refused(refusal));
    }
    let ledger = Ledger::current(conn).await?;
    ledger.ensure(conn).await?;
    let rows = ledger.list(conn).await?;
    plan(m, Op::Up(None), &rows)?
        .into_iter()
        .map(|(v, _)| m.source.get(v).ok_or(MigrateError::NoMigration(v as i64)))
        .collect()
}
