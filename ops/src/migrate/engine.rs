//! Running migrations: one pinned connection per run, both golang-migrate locks,
//! each file one simple-protocol statement string between a dirty and a clean version write.

use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition, PgSeverity};
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

use super::history::{self, Record};
use super::lock;
use super::source::{Direction, Ledger, Migration, Source};
use super::state::{Table, NIL, TABLE};
use super::MigrateError;
use crate::config::DatabaseUrl;

pub type Log = dyn Fn(String) + Send + Sync;

pub use crate::model::MigrateOp as Op;

#[derive(Clone, Debug)]
pub struct StepReport {
    pub version: u64,
    pub name: String,
    pub direction: Direction,
    pub duration: Duration,
    /// No file for this direction: the version moved, no SQL ran.
    pub empty: bool,
}

#[derive(Clone, Debug)]
pub struct RunReport {
    pub from: i64,
    pub to: i64,
    pub steps: Vec<StepReport>,
}

impl RunReport {
    pub fn summary(&self) -> String {
        let show = |v: i64| {
            if v == NIL {
                "no version".to_string()
            } else {
                v.to_string()
            }
        };
        if self.steps.is_empty() && self.from == self.to {
            return format!("no change: the database is at {}", show(self.to));
        }
        let total: Duration = self.steps.iter().map(|s| s.duration).sum();
        format!(
            "{} → {} ({} migration{} in {} ms)",
            show(self.from),
            show(self.to),
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" },
            total.as_millis()
        )
    }
}

pub struct Migrator {
    pub source: Source,
    pub url: DatabaseUrl,
    /// golang-migrate's lock wait.
    pub lock_timeout: Duration,
    /// goose's lock retries.
    pub goose_lock: super::goose::lock::Retry,
    pub actor: String,
}

struct Plan {
    steps: Vec<(u64, Direction, i64)>,
    short: u64,
}

impl Migrator {
    pub fn new(source: Source, url: DatabaseUrl, actor: impl Into<String>) -> Self {
        Self {
            source,
            url,
            lock_timeout: lock::DEFAULT_TIMEOUT,
            goose_lock: super::goose::lock::Retry::default(),
            actor: actor.into(),
        }
    }

    pub async fn connect(&self) -> Result<PgConnection, MigrateError> {
        PgConnection::connect_with(&self.url.connect_options())
            .await
            .map_err(|e| MigrateError::Database(crate::db::describe_error(&e, &self.url)))
    }

    /// The two golang-migrate lock ids for this database, in the order we take them.
    pub async fn lock_ids(
        &self,
        conn: &mut PgConnection,
        table: &Table,
    ) -> Result<Vec<i64>, MigrateError> {
        let current: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut *conn)
            .await
            .map_err(MigrateError::db)?;
        let mut ids = vec![lock::lock_id(&self.url.url_path(), &table.schema, TABLE)];
        let second = lock::lock_id(&current, &table.schema, TABLE);
        if !ids.contains(&second) {
            ids.push(second);
        }
        Ok(ids)
    }

    pub async fn run(
        &self,
        op: Op,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<RunReport, MigrateError> {
        if self.source.ledger == Ledger::Goose {
            return super::goose::engine::run(self, op, log, cancel).await;
        }
        let mut conn = self.connect().await?;
        let table = Table::current(&mut conn).await?;
        let ids = self.lock_ids(&mut conn, &table).await?;
        lock::acquire(&mut conn, &ids, self.lock_timeout, log).await?;
        let result = self.run_locked(&mut conn, &table, op, log, cancel).await;
        lock::release(&mut conn, &ids).await;
        conn.close().await.ok();
        result
    }

    async fn run_locked(
        &self,
        conn: &mut PgConnection,
        table: &Table,
        op: Op,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<RunReport, MigrateError> {
        let detected = super::world::detect(conn).await?;
        if let Some(refusal) =
            detected.refusal(Ledger::GolangMigrate, &self.source.origin.to_string())
        {
            return Err(MigrateError::Refused(refusal));
        }
        table.ensure(conn).await?;
        let with_history = match history::ensure(conn).await {
            Ok(()) => true,
            Err(warning) => {
                log(warning);
                false
            }
        };
        let (from, dirty) = table.version(conn).await?;
        if let Op::Force(v) = op {
            if v < NIL {
                return Err(MigrateError::InvalidVersion);
            }
            table.set_version(conn, v, false).await?;
            log(format!("Forced the version to {v} (clean); no SQL ran"));
            return Ok(RunReport {
                from,
                to: v,
                steps: Vec::new(),
            });
        }
        if dirty {
            return Err(MigrateError::Dirty(from));
        }
        let plan = self.plan(op, from)?;
        let mut steps = Vec::new();
        let mut current = from;
        for (version, direction, target) in plan.steps {
            if cancel.is_cancelled() {
                return Err(MigrateError::Cancelled(version.to_string()));
            }
            let Some(m) = self.source.get(version) else {
                return Err(MigrateError::NoMigration(version as i64));
            };
            let step = self
                .apply(
                    conn,
                    table,
                    m,
                    direction,
                    target,
                    current,
                    with_history,
                    log,
                )
                .await?;
            steps.push(step);
            current = target;
        }
        if plan.short > 0 {
            return Err(MigrateError::ShortLimit(plan.short));
        }
        Ok(RunReport {
            from,
            to: current,
            steps,
        })
    }

    /// The rehearsal's seam (see [`super::rehearse::plan`]): the files `up` would run on
    /// `conn`'s database, in order, refused as `up` refuses (dirty, unknown version).
    pub async fn pending_up(
        &self,
        conn: &mut PgConnection,
    ) -> Result<Vec<Migration>, MigrateError> {
        let table = Table::current(conn).await?;
        table.ensure(conn).await?;
        let (from, dirty) = table.version(conn).await?;
        if dirty {
            return Err(MigrateError::Dirty(from));
        }
        let plan = self.plan(Op::Up(None), from)?;
        Ok(plan
            .steps
            .iter()
            .filter_map(|(v, _, _)| self.source.get(*v).cloned())
            .collect())
    }

    /// The rehearsal's seam: one up file applied on `conn` exactly as [`Self::run`] applies
    /// it (dirty version, the file as one statement string, clean version), without the
    /// advisory locks and the history a real run adds.
    pub async fn apply_up(
        &self,
        conn: &mut PgConnection,
        m: &Migration,
    ) -> Result<Duration, MigrateError> {
        let table = Table::current(conn).await?;
        let quiet = |_: String| {};
        // No history is written, so the version before this file is not needed.
        self.apply(
            conn,
            &table,
            m,
            Direction::Up,
            m.version as i64,
            NIL,
            false,
            &quiet,
        )
        .await
        .map(|s| s.duration)
    }

    fn exists(&self, version: i64) -> Result<u64, MigrateError> {
        u64::try_from(version)
            .ok()
            .filter(|v| self.source.get(*v).is_some())
            .ok_or(MigrateError::NoMigration(version))
    }

    fn plan(&self, op: Op, from: i64) -> Result<Plan, MigrateError> {
        let mut steps = Vec::new();
        let mut short = 0;
        match op {
            Op::Up(limit) => {
                let mut next = if from == NIL {
                    self.source.first()
                } else {
                    self.source.next(self.exists(from)?)
                };
                while let Some(v) = next {
                    if limit.is_some_and(|l| steps.len() as u64 >= l) {
                        break;
                    }
                    steps.push((v, Direction::Up, v as i64));
                    next = self.source.next(v);
                }
                if let Some(l) = limit {
                    if !steps.is_empty() && (steps.len() as u64) < l {
                        short = l - steps.len() as u64;
                    }
                }
            }
            Op::Down(_) | Op::DownAll => {
                let limit = match op {
                    Op::Down(n) => Some(n.unwrap_or(1)),
                    _ => None,
                };
                if from != NIL {
                    let mut v = Some(self.exists(from)?);
                    while let Some(cur) = v {
                        if limit.is_some_and(|l| steps.len() as u64 >= l) {
                            break;
                        }
                        let prev = self.source.prev(cur);
                        steps.push((cur, Direction::Down, prev.map_or(NIL, |p| p as i64)));
                        v = prev;
                    }
                }
                if let Some(l) = limit {
                    if !steps.is_empty() && (steps.len() as u64) < l {
                        short = l - steps.len() as u64;
                    }
                }
            }
            Op::Goto(target) => {
                let target = self.exists(target as i64)?;
                let target_i = target as i64;
                if from == NIL || target_i > from {
                    let mut next = if from == NIL {
                        self.source.first()
                    } else {
                        self.source.next(self.exists(from)?)
                    };
                    while let Some(v) = next.filter(|v| *v <= target) {
                        steps.push((v, Direction::Up, v as i64));
                        next = self.source.next(v);
                    }
                } else if target_i < from {
                    let mut v = self.exists(from)?;
                    while v > target {
                        let prev = self.source.prev(v);
                        steps.push((v, Direction::Down, prev.map_or(NIL, |p| p as i64)));
                        match prev {
                            Some(p) => v = p,
                            None => break,
                        }
                    }
                }
            }
            Op::Force(_) => {}
        }
        Ok(Plan { steps, short })
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        conn: &mut PgConnection,
        table: &Table,
        m: &Migration,
        direction: Direction,
        target: i64,
        from: i64,
        with_history: bool,
        log: &Log,
    ) -> Result<StepReport, MigrateError> {
        let file = match direction {
            Direction::Up => m.up.as_ref(),
            Direction::Down => m.down.as_ref(),
        };
        let label = format!("{}/{} {}", m.version, direction.as_str(), m.name);
        match file {
            Some(f) => log(format!("Applying {label} ({})", f.file_name)),
            None => log(format!(
                "Warning: {label} has no .{}.sql file: an empty migration, the version moves and no SQL runs",
                direction.as_str()
            )),
        }
        table.set_version(conn, target, true).await?;
        let started_at = Utc::now();
        let started = Instant::now();
        let outcome = match file {
            Some(f) if !f.body.trim().is_empty() => {
                sqlx::Executor::execute(&mut *conn, f.body.as_str())
                    .await
                    .map(|_| ())
            }
            _ => Ok(()),
        };
        let duration = started.elapsed();
        let mut record = Record {
            version: m.version as i64,
            name: m.name.clone(),
            direction,
            started_at,
            duration_ms: i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
            success: outcome.is_ok(),
            error: None,
            sha256: file.map(|f| f.sha256.clone()),
            actor: self.actor.clone(),
            from_version: from,
            ledger: crate::model::Ledger::GolangMigrate,
        };
        if let Err(e) = outcome {
            let failure = failure(&e, file.map_or("", |f| f.body.as_str()), m.version);
            record.error = Some(failure.to_string());
            if with_history {
                history::append(conn, &record).await.ok();
            }
            log(format!("Failed {label} after {} ms", duration.as_millis()));
            return Err(failure);
        }
        // The clean version and its history record commit together, in one round trip.
        let extra = if with_history {
            history::insert_sql(&record)
        } else {
            String::new()
        };
        table.set_version_with(conn, target, false, &extra).await?;
        log(format!("Applied {label} in {} ms", duration.as_millis()));
        Ok(StepReport {
            version: m.version,
            name: m.name.clone(),
            direction,
            duration,
            empty: file.is_none(),
        })
    }
}

/// golang-migrate's text: `migration failed: MSG (column C), DETAIL in line L: BODY (details: SEVERITY: MSG (SQLSTATE CODE))`.
pub fn failure(err: &sqlx::Error, body: &str, version: u64) -> MigrateError {
    let Some(pg) = err
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
    else {
        return MigrateError::Failed {
            message: format!(
                "migration failed in line 0: {body} (details: {})",
                crate::config::mask_url(&err.to_string())
            ),
            version,
            line: None,
            column: None,
        };
    };
    let position = match pg.position() {
        Some(PgErrorPosition::Original(p)) => line_column(body, p),
        _ => None,
    };
    let mut message = format!("migration failed: {}", pg.message());
    if let Some((_, column)) = position {
        message.push_str(&format!(" (column {column})"));
    }
    if let Some(detail) = pg.detail() {
        message.push_str(&format!(", {detail}"));
    }
    let line = position.map_or(0, |(l, _)| l);
    let severity = match pg.severity() {
        PgSeverity::Panic => "PANIC",
        PgSeverity::Fatal => "FATAL",
        PgSeverity::Error => "ERROR",
        PgSeverity::Warning => "WARNING",
        PgSeverity::Notice => "NOTICE",
        PgSeverity::Debug => "DEBUG",
        PgSeverity::Info => "INFO",
        PgSeverity::Log => "LOG",
    };
    MigrateError::Failed {
        message: format!(
            "{message} in line {line}: {body} (details: {severity}: {} (SQLSTATE {}))",
            pg.message(),
            pg.code()
        ),
        version,
        line: position.map(|(l, _)| l),
        column: position.map(|(_, c)| c),
    }
}

/// 1-based line and column of a 1-based character position, as golang-migrate computes them.
pub fn line_column(body: &str, pos: usize) -> Option<(u32, u32)> {
    let text = body.replace("\r\n", "\n");
    let chars: Vec<char> = text.chars().collect();
    if pos == 0 || pos > chars.len() {
        return None;
    }
    let sel = &chars[..pos];
    let line = sel.iter().filter(|c| **c == '\n').count() + 1;
    let last_nl = sel
        .iter()
        .rposition(|c| *c == '\n')
        .map_or(-1, |i| i as i64);
    let col = pos as i64 - 1 - last_nl;
    Some((
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let body = "CREATE TABLE a (id int);\nCREATE TABLE b (id intt);";
        let pos = body.find("intt").expect("found") + 1;
        assert_eq!(line_column(body, pos), Some((2, 20)));
        assert_eq!(
            line_column("é\nxx", 4),
            Some((2, 2)),
            "characters, not bytes"
        );
        assert_eq!(line_column("abc", 9), None);
    }
}
