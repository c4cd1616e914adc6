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
mod tests {
    use super::super::super::source::Source;
    use super::*;
    use crate::config::DatabaseUrl;

    /// golang-migrate v4.19.1 `database/pgx/v5/pgx_test.go` `Test_computeLineFromPos`: each
    /// row with LF and CRLF, ASCII and `FRÖM`.
    #[test]
    fn line_and_column_as_the_pgx_v5_driver_computes_them() {
        type Row = (usize, Option<(u32, u32)>, &'static str);
        let table: [Row; 8] = [
            (15, Some((2, 6)), "SELECT *\nFROM foo"),
            (16, Some((3, 6)), "SELECT *\n\nFROM foo"),
            (25, Some((3, 7)), "SELECT *\nFROM foo\nWHERE x"),
            (27, Some((5, 7)), "SELECT *\n\nFROM foo\n\nWHERE x"),
            (10, Some((2, 1)), "SELECT *\nFROMM foo"),
            (11, Some((3, 1)), "SELECT *\n\nFROMM foo"),
            (17, Some((2, 8)), "SELECT *\nFROM foo"),
            (18, None, "SELECT *\nFROM foo"),
        ];
        for (pos, expected, input) in table {
            for crlf in [false, true] {
                for non_ascii in [false, true] {
                    let mut text = input.to_string();
                    if crlf {
                        text = text.replace('\n', "\r\n");
                    }
                    if non_ascii {
                        text = text.replace("FROM", "FRÖM");
                    }
                    assert_eq!(line_column(&text, pos), expected, "{pos} in {text:?}");
                }
            }
        }
    }

    /// golang-migrate v4.19.1 `migrate_test.go`'s stub source:
    /// `| 1: u d | 3: u | 4: u d | 5: d | 7: u d |`.
    fn stub() -> Migrator {
        let names = [
            "1_a.up.sql",
            "1_a.down.sql",
            "3_a.up.sql",
            "4_a.up.sql",
            "4_a.down.sql",
            "5_a.down.sql",
            "7_a.up.sql",
            "7_a.down.sql",
        ];
        let source = Source::from_files(
            super::super::super::source::Origin::Embedded,
            names.iter().map(|n| (n.to_string(), b"SELECT 1".to_vec())),
        )
        .expect("stub source");
        let url = DatabaseUrl::parse("postgres://u@localhost/db").expect("url");
        Migrator::new(source, url, "test")
    }

    /// What golang-migrate's channel carries: (version, target) pairs, then `Ok` for the end,
    /// `no change`, `limit N short`, or the `file does not exist` family.
    type Read = (Vec<(u64, i64)>, &'static str);

    fn read(m: &Migrator, op: Op, from: i64) -> Read {
        match (Engine { m }).plan(op, from) {
            Ok(p) => {
                let steps: Vec<(u64, i64)> = p.steps.iter().map(|(v, _, t)| (*v, *t)).collect();
                let end = match (p.short, steps.is_empty()) {
                    (1, _) => "limit 1 short",
                    (0, true) => "no change",
                    (0, false) => "ok",
                    _ => "short",
                };
                (steps, end)
            }
            Err(MigrateError::NotExist(_)) => (Vec::new(), "not exist"),
            Err(e) => panic!("{e}"),
        }
    }

    /// `TestReadUp`, every row (limit -1 is `up`, N is `up N`).
    #[test]
    fn read_up_as_golang_migrates_table() {
        let m = stub();
        let ok = |s: &[(u64, i64)]| (s.to_vec(), "ok");
        let none = (Vec::new(), "no change");
        let gone = (Vec::new(), "not exist");
        let table: Vec<(i64, i64, Read)> = vec![
            (-1, -1, ok(&[(1, 1), (3, 3), (4, 4), (5, 5), (7, 7)])),
            (-1, 0, none.clone()),
            (-1, 1, ok(&[(1, 1)])),
            (-1, 2, ok(&[(1, 1), (3, 3)])),
            (0, -1, gone.clone()),
            (0, 0, gone.clone()),
            (0, 1, gone.clone()),
            (0, 2, gone.clone()),
            (1, -1, ok(&[(3, 3), (4, 4), (5, 5), (7, 7)])),
            (1, 0, none.clone()),
            (1, 1, ok(&[(3, 3)])),
            (1, 2, ok(&[(3, 3), (4, 4)])),
            (2, -1, gone.clone()),
            (2, 0, gone.clone()),
            (2, 1, gone.clone()),
            (2, 2, gone.clone()),
            (3, -1, ok(&[(4, 4), (5, 5), (7, 7)])),
            (3, 0, none.clone()),
            (3, 1, ok(&[(4, 4)])),
            (3, 2, ok(&[(4, 4), (5, 5)])),
            (4, -1, ok(&[(5, 5), (7, 7)])),
            (4, 0, none.clone()),
            (4, 1, ok(&[(5, 5)])),
            (4, 2, ok(&[(5, 5), (7, 7)])),
            (5, -1, ok(&[(7, 7)])),
            (5, 0, none.clone()),
            (5, 1, ok(&[(7, 7)])),
            (5, 2, (vec![(7, 7)], "limit 1 short")),
            (6, -1, gone.clone()),
            (6, 0, gone.clone()),
            (6, 1, gone.clone()),
            (6, 2, gone.clone()),
            (7, -1, none.clone()),
            (7, 0, none.clone()),
            (7, 1, gone.clone()),
            (7, 2, gone.clone()),
            (8, -1, gone.clone()),
            (8, 0, gone.clone()),
            (8, 1, gone.clone()),
            (8, 2, gone.clone()),
        ];
        for (from, limit, expected) in table {
            let op = Op::Up(u64::try_from(limit).ok());
            assert_eq!(read(&m, op, from), expected, "readUp({from}, {limit})");
        }
    }

    /// `TestReadDown`, every row (limit -1 is `down --all`, N is `down N`).
    #[test]
    fn read_down_as_golang_migrates_table() {
        let m = stub();
        let ok = |s: &[(u64, i64)]| (s.to_vec(), "ok");
        let none = (Vec::new(), "no change");
        let gone = (Vec::new(), "not exist");
        let table: Vec<(i64, i64, Read)> = vec![
            (-1, -1, none.clone()),
            (-1, 0, none.clone()),
            (-1, 1, gone.clone()),
            (-1, 2, gone.clone()),
            (0, -1, gone.clone()),
            (0, 0, gone.clone()),
            (0, 1, gone.clone()),
            (0, 2, gone.clone()),
            (1, -1, ok(&[(1, -1)])),
            (1, 0, none.clone()),
            (1, 1, ok(&[(1, -1)])),
            (1, 2, (vec![(1, -1)], "limit 1 short")),
            (2, -1, gone.clone()),
            (2, 0, gone.clone()),
            (2, 1, gone.clone()),
            (2, 2, gone.clone()),
            (3, -1, ok(&[(3, 1), (1, -1)])),
            (3, 0, none.clone()),
            (3, 1, ok(&[(3, 1)])),
            (3, 2, ok(&[(3, 1), (1, -1)])),
            (4, -1, ok(&[(4, 3), (3, 1), (1, -1)])),
            (4, 0, none.clone()),
            (4, 1, ok(&[(4, 3)])),
            (4, 2, ok(&[(4, 3), (3, 1)])),
            (5, -1, ok(&[(5, 4), (4, 3), (3, 1), (1, -1)])),
            (5, 0, none.clone()),
            (5, 1, ok(&[(5, 4)])),
            (5, 2, ok(&[(5, 4), (4, 3)])),
            (6, -1, gone.clone()),
            (6, 0, gone.clone()),
            (6, 1, gone.clone()),
            (6, 2, gone.clone()),
            (7, -1, ok(&[(7, 5), (5, 4), (4, 3), (3, 1), (1, -1)])),
            (7, 0, none.clone()),
            (7, 1, ok(&[(7, 5)])),
            (7, 2, ok(&[(7, 5), (5, 4)])),
            (8, -1, gone.clone()),
            (8, 0, gone.clone()),
            (8, 1, gone.clone()),
            (8, 2, gone.clone()),
        ];
        for (from, limit, expected) in table {
            let op = match u64::try_from(limit) {
                Ok(n) => Op::Down(Some(n)),
                Err(_) => Op::DownAll,
            };
            assert_eq!(read(&m, op, from), expected, "readDown({from}, {limit})");
        }
    }

    /// `TestRead` (goto), every row whose target a `goto V` can name (V >= 0).
    #[test]
    fn read_goto_as_golang_migrates_table() {
        let m = stub();
        let ok = |s: &[(u64, i64)]| (s.to_vec(), "ok");
        let none = (Vec::new(), "no change");
        let gone = (Vec::new(), "not exist");
        let mut table: Vec<(i64, u64, Read)> = vec![
            (-1, 0, gone.clone()),
            (-1, 1, ok(&[(1, 1)])),
            (-1, 2, gone.clone()),
            (-1, 3, ok(&[(1, 1), (3, 3)])),
            (-1, 4, ok(&[(1, 1), (3, 3), (4, 4)])),
            (-1, 5, ok(&[(1, 1), (3, 3), (4, 4), (5, 5)])),
            (-1, 6, gone.clone()),
            (-1, 7, ok(&[(1, 1), (3, 3), (4, 4), (5, 5), (7, 7)])),
            (-1, 8, gone.clone()),
            (1, 0, gone.clone()),
            (1, 1, none.clone()),
            (1, 2, gone.clone()),
            (1, 3, ok(&[(3, 3)])),
            (1, 4, ok(&[(3, 3), (4, 4)])),
            (1, 5, ok(&[(3, 3), (4, 4), (5, 5)])),
            (1, 6, gone.clone()),
            (1, 7, ok(&[(3, 3), (4, 4), (5, 5), (7, 7)])),
            (1, 8, gone.clone()),
            (3, 0, gone.clone()),
            (3, 1, ok(&[(3, 1)])),
            (3, 2, gone.clone()),
            (3, 3, none.clone()),
            (3, 4, ok(&[(4, 4)])),
            (3, 5, ok(&[(4, 4), (5, 5)])),
            (3, 6, gone.clone()),
            (3, 7, ok(&[(4, 4), (5, 5), (7, 7)])),
            (3, 8, gone.clone()),
            (4, 0, gone.clone()),
            (4, 1, ok(&[(4, 3), (3, 1)])),
            (4, 2, gone.clone()),
            (4, 3, ok(&[(4, 3)])),
            (4, 4, none.clone()),
            (4, 5, ok(&[(5, 5)])),
            (4, 6, gone.clone()),
            (4, 7, ok(&[(5, 5), (7, 7)])),
            (4, 8, gone.clone()),
            (5, 0, gone.clone()),
            (5, 1, ok(&[(5, 4), (4, 3), (3, 1)])),
            (5, 2, gone.clone()),
            (5, 3, ok(&[(5, 4), (4, 3)])),
            (5, 4, ok(&[(5, 4)])),
            (5, 5, none.clone()),
            (5, 6, gone.clone()),
            (5, 7, ok(&[(7, 7)])),
            (5, 8, gone.clone()),
            (7, 0, gone.clone()),
            (7, 1, ok(&[(7, 5), (5, 4), (4, 3), (3, 1)])),
            (7, 2, gone.clone()),
            (7, 3, ok(&[(7, 5), (5, 4), (4, 3)])),
            (7, 4, ok(&[(7, 5), (5, 4)])),
            (7, 5, ok(&[(7, 5)])),
            (7, 6, gone.clone()),
            (7, 7, none.clone()),
            (7, 8, gone.clone()),
        ];
        // From a version the source lacks (0, 2, 6, 8), every target is refused.
        for from in [0, 2, 6, 8] {
            for to in 0..=8 {
                table.push((from, to, gone.clone()));
            }
        }
        for (from, to, expected) in table {
            assert_eq!(read(&m, Op::Goto(to), from), expected, "read({from}, {to})");
        }
    }

    #[test]
    fn no_position_is_line_1_column_0() {
        assert_eq!(line_column("DROP TABLE nope;", 0), Some((1, 0)));
        assert_eq!(line_column("", 0), Some((1, 0)));
        assert_eq!(line_column("abc", 9), None);
    }
}
