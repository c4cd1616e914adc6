//! Running golang-migrate migrations: one pinned connection per run, both golang-migrate locks,
//! each file one simple-protocol statement string between a dirty and a clean version write.

use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition};
use tokio_util::sync::CancellationToken;

use super::super::engine::Migrator;
use super::super::history::{self, Record};
use super::super::report::{Log, Op, RunReport, StepReport, NIL};
use super::super::source::{Direction, Migration};
use super::super::{MigrateError, NotExist};
use super::lock;
use super::state::Table;

struct Plan {
    steps: Vec<(u64, Direction, i64)>,
    short: u64,
}

/// One golang-migrate run of a migrator: migrate.go's rules over the pgx/v5 driver.
pub struct Engine<'a> {
    pub m: &'a Migrator,
}

impl Engine<'_> {
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
        Ok(lock::ids(&self.m.url.url_path(), &current, &table.schema))
    }

    /// Both lock ids taken for the whole run, as the driver's `Lock` is held by `migrate.go`.
    pub async fn run(
        &self,
        conn: &mut PgConnection,
        op: Op,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<RunReport, MigrateError> {
        let table = Table::current(conn).await?;
        let ids = self.lock_ids(conn, &table).await?;
        lock::acquire(conn, &ids, self.m.lock_timeout, log).await?;
        let result = self.run_locked(conn, &table, op, log, cancel).await;
        lock::release(conn, &ids).await;
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
        // `Steps(0)` answers `ErrNoChange` before it looks at the database, dirty or not.
        if matches!(op, Op::Up(Some(0)) | Op::Down(Some(0))) {
            return Ok(RunReport {
                from,
                to: from,
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
            let Some(m) = self.m.source.get(version) else {
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
            .filter_map(|(v, _, _)| self.m.source.get(*v).cloned())
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

    /// `versionExists`: the source has an up or a down file for `version`.
    fn exists(&self, version: i64) -> Result<u64, MigrateError> {
        let v = u64::try_from(version).map_err(|_| MigrateError::NoMigration(version))?;
        match self.m.source.get(v) {
            Some(_) => Ok(v),
            None => Err(NotExist::Version(v).into()),
        }
    }

    /// `First()`, or its `first .: file does not exist`.
    fn first(&self) -> Result<u64, MigrateError> {
        self.m.source.first().ok_or(NotExist::First.into())
    }

    /// The steps golang-migrate's `readUp`, `readDown` and `read` (goto) send, rule by rule,
    /// with the error it sends after them (`ErrShortLimit`). An error it sends before any
    /// step is returned as is; no steps and no error is its `ErrNoChange`.
    fn plan(&self, op: Op, from: i64) -> Result<Plan, MigrateError> {
        // Below nil is no version golang-migrate could have written (its `suint` panics).
        if from < NIL {
            return Err(MigrateError::NoMigration(from));
        }
        let mut steps = Vec::new();
        let mut short = 0;
        match op {
            Op::Up(limit) => {
                if from >= 0 {
                    self.exists(from)?;
                }
                let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
                let mut at = from;
                while limit == -1 || (steps.len() as i64) < limit {
                    let next = if at == NIL {
                        Some(self.first()?)
                    } else {
                        self.m.source.next(at as u64)
                    };
                    let Some(v) = next else {
                        let count = steps.len() as i64;
                        if limit > 0 && count == 0 {
                            return Err(NotExist::NoMore.into());
                        }
                        if limit > 0 && count < limit {
                            short = (limit - count) as u64;
                        }
                        break;
                    };
                    steps.push((v, Direction::Up, v as i64));
                    at = v as i64;
                }
            }
            Op::Down(_) | Op::DownAll => {
                if from >= 0 {
                    self.exists(from)?;
                }
                let limit = match op {
                    Op::Down(n) => i64::try_from(n.unwrap_or(1)).unwrap_or(i64::MAX),
                    _ => -1,
                };
                if from == NIL && limit > 0 {
                    return Err(NotExist::NoMore.into());
                }
                let mut at = from;
                while at != NIL && (limit == -1 || (steps.len() as i64) < limit) {
                    let cur = at as u64;
                    let prev = self.m.source.prev(cur);
                    steps.push((cur, Direction::Down, prev.map_or(NIL, |p| p as i64)));
                    at = prev.map_or(NIL, |p| p as i64);
                }
                let count = steps.len() as i64;
                if at == NIL && limit > 0 && count < limit {
                    short = (limit - count) as u64;
                }
            }
            Op::Goto(target) => {
                if from >= 0 {
                    self.exists(from)?;
                }
                let target = self.exists(i64::try_from(target).unwrap_or(i64::MAX))?;
                let to = target as i64;
                if from < to {
                    let mut at = if from == NIL {
                        let first = self.first()?;
                        steps.push((first, Direction::Up, first as i64));
                        first
                    } else {
                        from as u64
                    };
                    while at < target {
                        let Some(v) = self.m.source.next(at) else {
                            break;
                        };
                        steps.push((v, Direction::Up, v as i64));
                        at = v;
                    }
                } else {
                    let mut at = from;
                    while at > to {
                        let prev = self.m.source.prev(at as u64);
                        steps.push((at as u64, Direction::Down, prev.map_or(NIL, |p| p as i64)));
                        at = prev.map_or(NIL, |p| p as i64);
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
            actor: self.m.actor.clone(),
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

/// golang-migrate's pgx/v5 driver's text (`runStatement`): `migration failed: MSG (column C),
/// DETAIL in line L: BODY (details: SEVERITY: MSG (SQLSTATE CODE))`; `migration failed in line
/// 0: BODY (details: …)` for an error that is not PostgreSQL's.
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
    // pgconn's `Position` is the `P` field, 0 when PostgreSQL sent none (an internal query's
    // position is another field): the driver computes from 0 all the same.
    let given = match pg.position() {
        Some(PgErrorPosition::Original(p)) => Some(p),
        _ => None,
    };
    let position = line_column(body, given.unwrap_or(0));
    let mut message = format!("migration failed: {}", pg.message());
    if let Some((_, column)) = position {
        message.push_str(&format!(" (column {column})"));
    }
    if let Some(detail) = pg.detail().filter(|d| !d.is_empty()) {
        message.push_str(&format!(", {detail}"));
    }
    let line = position.map_or(0, |(l, _)| l);
    let severity = super::super::pgerror::severity(pg);
    // Only a position PostgreSQL gave points at a line worth showing on the page.
    let shown = given.and(position);
    MigrateError::Failed {
        message: format!(
            "{message} in line {line}: {body} (details: {severity}: {} (SQLSTATE {}))",
            pg.message(),
            pg.code()
        ),
        version,
        line: shown.map(|(l, _)| l),
        column: shown.map(|(_, c)| c),
    }
}

/// The pgx/v5 driver's `computeLineFromPos`: the 1-based line and the column of a 1-based
/// character position, CRLF read as LF; position 0 is line 1, column 0; `None` past the end.
pub fn line_column(body: &str, pos: usize) -> Option<(u32, u32)> {
    let text = body.replace("\r\n", "\n");
    let chars: Vec<char> = text.chars().collect();
    if pos > chars.len() {
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
mod tests;
