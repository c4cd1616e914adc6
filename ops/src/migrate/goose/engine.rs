//! Running goose migrations as goose v3.27.3's `Provider` runs them with HoloMUSH's options
//! (postgres store, session locker, no out-of-order migrations), call by call:
//!
//! - `up` is `Provider.Up`; `up N` is `UpByOne` N times; `down` is `Down`, `down N` is `Down`
//!   N times; `down --all` is `DownTo(0)`; `goto V` is `UpTo(V)` above the current version and
//!   `DownTo(V)` at or below it. `force` is golang-migrate's only.
//! - The up calls first ask `HasPending` without the lock, so a missing (out-of-order) version
//!   is refused, and nothing pending returns, without waiting for a migrating server. (goose
//!   creates `goose_db_version` at that point; the console creates it under the lock, so a
//!   waiting console leaves nothing behind.)
//! - Under goose's lock: the table ensured, the rows listed (none at all: `missing zero version
//!   migration`), what to run resolved, every SQL file of it parsed before any runs, then one
//!   transaction per file (statements one by one, the ledger row, the console's history)
//!   unless the file says `-- +goose NO TRANSACTION`.
//!
//! The console adds: the other tool's ledger refused first (by [`super::super::tools`]), its history, cancel between files,
//! and Go migrations, which only the holomush binary runs, stopping the run with a sentence.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::super::engine::Migrator;
use super::super::history::{self, Record};
pub use super::super::pgerror::pg_text;
use super::super::report::{Log, Op, RunReport, StepReport, NIL};
use super::super::source::{Direction, Migration, MigrationKind};
use super::super::MigrateError;
use super::ledger::{self, Ledger};
use super::parser::{self, Parsed};

/// Why `force` is golang-migrate's only.
pub const NO_FORCE: &str = "goose has no force: its ledger lists each applied version and has no dirty flag to clear; use up, down or goto instead (nothing was changed).";

/// goose's `ErrNoNextVersion`: `UpByOne` with nothing pending, `Down` with nothing applied.
pub const NO_NEXT_VERSION: &str = "no next version found";
/// goose's `ErrVersionNotFound`: a version to roll back has no migration file.
pub const VERSION_NOT_FOUND: &str = "version not found";
/// goose's `errMissingZeroVersion`: `goose_db_version` exists but holds no row at all.
pub const MISSING_ZERO_VERSION: &str = "missing zero version migration";

/// `gooseutil.UpVersions` with `allowMissing` false: the versions to apply up to `target`, or
/// goose's error when a version below the database's highest was never applied.
pub fn up_versions(fs: &[i64], db: &[i64], target: i64) -> Result<Vec<i64>, String> {
    let applied: BTreeSet<i64> = db.iter().copied().collect();
    let max = db.iter().copied().fold(0, i64::max);
    let mut fs = fs.to_vec();
    fs.sort_unstable();
    let missing: Vec<i64> = fs
        .iter()
        .copied()
        .filter(|v| !applied.contains(v) && *v < max && *v <= target)
        .collect();
    if !missing.is_empty() {
        return Err(missing_error(&missing, max, target));
    }
    Ok(fs
        .into_iter()
        .filter(|v| !applied.contains(v) && *v > max && *v <= target)
        .collect())
}

/// `gooseutil.newMissingError`.
fn missing_error(missing: &[i64], max: i64, target: i64) -> String {
    let list: Vec<String> = missing.iter().map(i64::to_string).collect();
    let (noun, versions) = if list.len() > 1 {
        ("migrations", format!("versions {}", list.join(",")))
    } else {
        ("migration", format!("version {}", list.join(",")))
    };
    let mut desired = format!("database version ({max})");
    if target != i64::MAX {
        desired.push_str(&format!(", with target version ({target})"));
    }
    format!(
        "detected {} missing (out-of-order) {noun} lower than {desired}: {versions}",
        missing.len()
    )
}

/// `prepareMigration` for one file: a SQL file parsed in both directions (goose's wording when
/// it does not parse); `None` for a Go migration.
pub fn prepare(mig: &Migration) -> Result<Option<Parsed>, MigrateError> {
    match (mig.kind, mig.up.as_ref()) {
        (MigrationKind::Sql, Some(f)) => parser::parse_all(&f.body).map(Some).map_err(|e| {
            MigrateError::Source(format!(
                "failed to prepare migration (type:sql,version:{}): failed to parse {}: {e}",
                mig.version, f.file_name
            ))
        }),
        _ => Ok(None),
    }
}

/// `op` on `conn` as HoloMUSH's `Provider` runs it, each call taking goose's lock.
pub async fn run(
    m: &Migrator,
    conn: &mut PgConnection,
    op: Op,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<RunReport, MigrateError> {
    if let Op::Force(_) = op {
        return Err(MigrateError::Refused(NO_FORCE.to_string()));
    }
    run_on(m, conn, op, log, cancel).await
}

async fn run_on(
    m: &Migrator,
    conn: &mut PgConnection,
    op: Op,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<RunReport, MigrateError> {
    let mut provider = Provider {
        m,
        ledger: Ledger::current(conn).await?,
        log,
        cancel,
        history: None,
        steps: Vec::new(),
    };
    let from = provider.current(conn).await?;
    match op {
        Op::Up(None) => {
            provider.up(conn, i64::MAX, false).await?;
        }
        Op::Up(Some(n)) => {
            for _ in 0..n {
                if provider.up(conn, i64::MAX, true).await? == 0 {
                    return Err(MigrateError::Refused(NO_NEXT_VERSION.to_string()));
                }
            }
        }
        Op::Down(n) => {
            for _ in 0..n.unwrap_or(1) {
                if provider.down(conn, 0, true).await? == 0 {
                    return Err(MigrateError::Refused(NO_NEXT_VERSION.to_string()));
                }
            }
        }
        Op::DownAll => {
            provider.down(conn, 0, false).await?;
        }
        Op::Goto(v) => {
            let target = i64::try_from(v).unwrap_or(i64::MAX);
            if target > from {
                provider.up(conn, target, false).await?;
            } else {
                provider.down(conn, target, false).await?;
            }
        }
        Op::Force(_) => return Err(MigrateError::Refused(NO_FORCE.to_string())),
    }
    let to = provider.current(conn).await?;
    let show = |v: i64| if v == 0 { NIL } else { v };
    Ok(RunReport {
        from: show(from),
        to: show(to),
        steps: provider.steps,
    })
}

/// One run's calls into goose's `Provider`, and what they applied.
struct Provider<'a> {
    m: &'a Migrator,
    ledger: Ledger,
    log: &'a Log,
    cancel: &'a CancellationToken,
    /// Whether the console's history table is there to write to; known once locked.
    history: Option<bool>,
    steps: Vec<StepReport>,
}

impl<'a> Provider<'a> {
    fn versions(&self) -> Vec<i64> {
        self.m
            .source
            .versions()
            .into_iter()
            .filter_map(|v| i64::try_from(v).ok())
            .collect()
    }

    fn migration(&self, version: i64) -> Result<&'a Migration, MigrateError> {
        u64::try_from(version)
            .ok()
            .and_then(|v| self.m.source.get(v))
            .ok_or_else(|| MigrateError::Refused(VERSION_NOT_FOUND.to_string()))
    }

    /// The highest version recorded, 0 when none (or no table yet).
    async fn current(&self, conn: &mut PgConnection) -> Result<i64, MigrateError> {
        Ok(self
            .ledger
            .list_existing(conn)
            .await?
            .map_or(0, |rows| ledger::max_version(&rows)))
    }

    /// `Up` (`by_one` false) / `UpTo(target)` / `UpByOne` (`by_one` true): how many it applied.
    async fn up(
        &mut self,
        conn: &mut PgConnection,
        target: i64,
        by_one: bool,
    ) -> Result<usize, MigrateError> {
        // `HasPending`, without the lock, over every version (target or not).
        let rows = self.ledger.list_existing(conn).await?.unwrap_or_default();
        let db: Vec<i64> = rows.iter().map(|r| r.version).collect();
        if up_versions(&self.versions(), &db, i64::MAX)
            .map_err(MigrateError::Refused)?
            .is_empty()
        {
            return Ok(0);
        }
        super::lock::acquire(conn, self.m.goose_lock, self.log, self.cancel).await?;
        let result = async {
            let rows = self.initialize(conn).await?;
            let db: Vec<i64> = rows.iter().map(|r| r.version).collect();
            let mut apply =
                up_versions(&self.versions(), &db, target).map_err(MigrateError::Refused)?;
            if by_one {
                apply.truncate(1);
            }
            self.run_migrations(conn, &apply, Direction::Up).await
        }
        .await;
        super::lock::release(conn).await;
        result
    }

    /// `Down` (`by_one` true) / `DownTo(target)`: how many it rolled back.
    async fn down(
        &mut self,
        conn: &mut PgConnection,
        target: i64,
        by_one: bool,
    ) -> Result<usize, MigrateError> {
        super::lock::acquire(conn, self.m.goose_lock, self.log, self.cancel).await?;
        let result = async {
            let rows = self.initialize(conn).await?;
            // goose never migrates the zero version down.
            if rows.first().is_some_and(|r| r.version == 0) {
                return Ok(0);
            }
            let mut apply = Vec::new();
            for row in rows.iter().take_while(|r| r.version > target) {
                self.migration(row.version)?;
                apply.push(row.version);
            }
            if by_one {
                apply.truncate(1);
            }
            self.run_migrations(conn, &apply, Direction::Down).await
        }
        .await;
        super::lock::release(conn).await;
        result
    }

    /// Under the lock: the table (and the console's history) ensured, the rows listed.
    async fn initialize(
        &mut self,
        conn: &mut PgConnection,
    ) -> Result<Vec<ledger::LedgerRow>, MigrateError> {
        self.ledger.ensure(conn).await?;
        if self.history.is_none() {
            self.history = Some(match history::ensure(conn).await {
                Ok(()) => true,
                Err(warning) => {
                    (self.log)(warning);
                    false
                }
            });
        }
        let rows = self.ledger.list(conn).await?;
        if rows.is_empty() {
            return Err(MigrateError::Refused(MISSING_ZERO_VERSION.to_string()));
        }
        Ok(rows)
    }

    /// `runMigrations`: every file parsed first, then each run on its own.
    async fn run_migrations(
        &mut self,
        conn: &mut PgConnection,
        versions: &[i64],
        direction: Direction,
    ) -> Result<usize, MigrateError> {
        let mut prepared = Vec::new();
        for v in versions {
            let mig = self.migration(*v)?;
            prepared.push((mig, prepare(mig)?));
        }
        for (mig, parsed) in &prepared {
            if self.cancel.is_cancelled() {
                return Err(MigrateError::Cancelled(mig.version.to_string()));
            }
            let Some(parsed) = parsed else {
                (self.log)(format!(
                    "Stopped before version {}: a Go migration",
                    mig.version
                ));
                return Err(MigrateError::GoMigration {
                    version: mig.version,
                    file: mig.file_name().unwrap_or_default().to_string(),
                });
            };
            let from = self.current(conn).await?;
            let step = self.apply(conn, mig, direction, parsed, from).await?;
            self.steps.push(step);
        }
        Ok(prepared.len())
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        mig: &Migration,
        direction: Direction,
        parsed: &Parsed,
        from: i64,
    ) -> Result<StepReport, MigrateError> {
        let file_name = mig.file_name().unwrap_or_default();
        let statements = match direction {
            Direction::Up => &parsed.up,
            Direction::Down => &parsed.down,
        };
        let label = format!("{}/{} {}", mig.version, direction.as_str(), mig.name);
        if statements.is_empty() {
            (self.log)(format!(
                "Warning: {label} has no -- +goose {} statements: the ledger moves and no SQL runs",
                if direction == Direction::Up {
                    "Up"
                } else {
                    "Down"
                }
            ));
        } else {
            (self.log)(format!(
                "Applying {label} ({file_name}{})",
                if parsed.use_tx {
                    ""
                } else {
                    ", no transaction"
                }
            ));
        }
        let started = Instant::now();
        let mut record = Record {
            version: mig.version as i64,
            name: mig.name.clone(),
            direction,
            started_at: Utc::now(),
            duration_ms: 0,
            success: true,
            error: None,
            sha256: mig.up.as_ref().map(|f| f.sha256.clone()),
            actor: self.m.actor.clone(),
            from_version: if from == 0 { NIL } else { from },
            ledger: crate::model::Ledger::Goose,
        };
        let history = self.history.unwrap_or(false);
        let outcome = run_individually(
            conn,
            &self.ledger,
            mig.version as i64,
            direction,
            statements,
            parsed.use_tx,
            history.then_some(&mut record),
            started,
        )
        .await;
        let duration = started.elapsed();
        if let Err(e) = outcome {
            let message = partial_error(mig.version, &e);
            record.success = false;
            record.error = Some(message.clone());
            record.duration_ms = millis(duration);
            if history {
                history::append(conn, &record).await.ok();
            }
            (self.log)(format!("Failed {label} after {} ms", duration.as_millis()));
            return Err(MigrateError::Failed {
                message,
                version: mig.version,
                line: None,
                column: None,
            });
        }
        (self.log)(format!("Applied {label} in {} ms", duration.as_millis()));
        Ok(StepReport {
            version: mig.version,
            name: mig.name.clone(),
            direction,
            duration,
            empty: statements.is_empty(),
        })
    }
}

/// goose's `PartialError` text.
fn partial_error(version: u64, err: &str) -> String {
    format!("partial migration error (type:sql,version:{version}): {err}")
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `runIndividually` for a SQL file: in a transaction, the statements one by one (each one
/// simple-protocol exec, as pgx sends a query without arguments), then the ledger's insert or
/// delete and the console's history record; outside one (NO TRANSACTION), the same in order
/// with nothing to roll back. The error is the text goose wraps in its `PartialError`.
#[allow(clippy::too_many_arguments)]
async fn run_individually(
    conn: &mut PgConnection,
    ledger: &Ledger,
    version: i64,
    direction: Direction,
    statements: &[String],
    use_tx: bool,
    record: Option<&mut Record>,
    started: Instant,
) -> Result<(), String> {
    if use_tx {
        sqlx::Executor::execute(&mut *conn, "BEGIN")
            .await
            .map_err(|e| pg_text(&e))?;
    }
    let result = async {
        for stmt in statements {
            sqlx::Executor::execute(&mut *conn, stmt.as_str())
                .await
                .map_err(|e| pg_text(&e))?;
        }
        match direction {
            Direction::Up => ledger.insert(conn, version).await?,
            Direction::Down => ledger.delete(conn, version).await?,
        }
        if let Some(record) = record {
            record.duration_ms = millis(started.elapsed());
            sqlx::Executor::execute(&mut *conn, history::insert_sql(record).as_str())
                .await
                .map_err(|e| pg_text(&e))?;
        }
        if use_tx {
            sqlx::Executor::execute(&mut *conn, "COMMIT")
                .await
                .map_err(|e| pg_text(&e))?;
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
    let Some(parsed) = prepare(mig)? else {
        return Err(MigrateError::GoMigration {
            version: mig.version,
            file: mig.file_name().unwrap_or_default().to_string(),
        });
    };
    run_individually(
        conn,
        ledger,
        mig.version as i64,
        Direction::Up,
        &parsed.up,
        false,
        None,
        Instant::now(),
    )
    .await
    .map_err(|e| MigrateError::Failed {
        message: partial_error(mig.version, &e),
        version: mig.version,
        line: None,
        column: None,
    })
}

/// The rehearsal's seam: the versions goose's `up` would run on `conn`'s database, refused
/// as `up` refuses (missing out-of-order versions, no zero row).
pub async fn pending_up<'m>(
    m: &'m Migrator,
    conn: &mut PgConnection,
) -> Result<Vec<&'m Migration>, MigrateError> {
    let ledger = Ledger::current(conn).await?;
    ledger.ensure(conn).await?;
    let rows = ledger.list(conn).await?;
    if rows.is_empty() {
        return Err(MigrateError::Refused(MISSING_ZERO_VERSION.to_string()));
    }
    let db: Vec<i64> = rows.iter().map(|r| r.version).collect();
    let fs: Vec<i64> = m
        .source
        .versions()
        .into_iter()
        .filter_map(|v| i64::try_from(v).ok())
        .collect();
    up_versions(&fs, &db, i64::MAX)
        .map_err(MigrateError::Refused)?
        .into_iter()
        .map(|v| {
            u64::try_from(v)
                .ok()
                .and_then(|u| m.source.get(u))
                .ok_or_else(|| MigrateError::Refused(VERSION_NOT_FOUND.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: i64 = i64::MAX;

    /// internal/gooseutil/resolve_test.go, `not_allow_missing`.
    #[test]
    fn up_versions_as_goose_resolves_them() {
        assert_eq!(up_versions(&[], &[], MAX), Ok(vec![]));
        assert_eq!(up_versions(&[1, 2, 3], &[1, 2, 3], MAX), Ok(vec![]));
        assert_eq!(up_versions(&[1, 2, 3], &[], MAX), Ok(vec![1, 2, 3]));
        assert_eq!(up_versions(&[3], &[3], MAX), Ok(vec![]));
        assert_eq!(up_versions(&[3, 4], &[3], MAX), Ok(vec![4]));
        assert_eq!(up_versions(&[1, 2, 3, 4, 5], &[1, 2], 4), Ok(vec![3, 4]));
        assert_eq!(up_versions(&[1, 2, 3, 4, 5], &[1, 2], 0), Ok(vec![]));
        assert_eq!(
            up_versions(&[1, 2, 3, 4], &[1, 3], MAX),
            Err("detected 1 missing (out-of-order) migration lower than database version (3): version 2".to_string())
        );
        assert_eq!(
            up_versions(&[1, 2, 3, 4, 5], &[2, 4, 5], MAX),
            Err("detected 2 missing (out-of-order) migrations lower than database version (5): versions 1,3".to_string())
        );
        assert_eq!(up_versions(&[1, 2, 3], &[1, 3], 1), Ok(vec![]));
        assert_eq!(
            up_versions(&[1, 2, 3], &[1, 3], 2),
            Err("detected 1 missing (out-of-order) migration lower than database version (3), with target version (2): version 2".to_string())
        );
        assert_eq!(
            up_versions(&[1, 2, 3], &[1, 3], 3),
            Err("detected 1 missing (out-of-order) migration lower than database version (3), with target version (3): version 2".to_string())
        );
        assert_eq!(
            up_versions(&[1, 2, 3, 4, 5, 6], &[1, 3, 4, 6], 4),
            Err("detected 1 missing (out-of-order) migration lower than database version (6), with target version (4): version 2".to_string())
        );
        assert_eq!(
            up_versions(&[1, 2, 3, 4, 5, 6], &[1, 3, 4, 6], 6),
            Err("detected 2 missing (out-of-order) migrations lower than database version (6), with target version (6): versions 2,5".to_string())
        );
    }
}
