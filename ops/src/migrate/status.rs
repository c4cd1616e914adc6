//! `migrate status`: the database version, and every migration's state joined with
//! the console's history (applied at, duration, by whom, drift).

use crate::model::{Direction, Ledger, MigrationKind, SqlFailure};

pub use crate::model::{
    MigrationEntry as Entry, MigrationState as State, MigrationStatus as Status,
};

use super::engine::Migrator;
use super::history::{self, Record};
use super::state::{Table, NIL};
use super::MigrateError;

/// The last successful up of `version` not undone by a later successful down.
pub(crate) fn last_applied(history: &[Record], version: i64) -> Option<&Record> {
    let mut applied = None;
    for r in history.iter().filter(|r| r.version == version && r.success) {
        applied = if r.direction == Direction::Up {
            Some(r)
        } else {
            None
        };
    }
    applied
}

/// A file the console stepped over: some recorded up jumped from below it to above it.
fn stepped_over(history: &[Record], version: i64) -> bool {
    history.iter().any(|r| {
        r.success && r.direction == Direction::Up && r.from_version < version && r.version > version
    })
}

pub async fn status(migrator: &Migrator) -> Result<Status, MigrateError> {
    if migrator.source.ledger == Ledger::Goose {
        return super::goose::status::status(migrator).await;
    }
    let mut conn = migrator.connect().await?;
    let detected = super::world::detect(&mut conn).await?;
    let table = Table::current(&mut conn).await?;
    let (version, dirty) = table.version(&mut conn).await?;
    let history = history::all(&mut conn, crate::model::Ledger::GolangMigrate).await?;
    let mut migrations = Vec::new();
    for m in migrator.source.iter() {
        let v = m.version as i64;
        let record = last_applied(&history, v);
        let state = if version != NIL && v == version && dirty {
            State::Dirty
        } else if version != NIL && v <= version {
            if record.is_none() && stepped_over(&history, v) {
                State::Skipped
            } else {
                State::Applied
            }
        } else {
            State::Pending
        };
        let shown = record.filter(|_| state == State::Applied);
        let drift = state == State::Applied
            && shown
                .and_then(|r| r.sha256.as_deref())
                .is_some_and(|sha| m.up.as_ref().is_some_and(|f| f.sha256 != sha));
        migrations.push(Entry {
            version: m.version,
            name: m.name.clone(),
            state,
            applied_at: shown.map(|r| r.started_at),
            duration_ms: shown.map(|r| r.duration_ms),
            applied_by: shown.map(|r| r.actor.clone()),
            drift,
            kind: MigrationKind::Sql,
            note: None,
        });
    }
    if version != NIL
        && u64::try_from(version)
            .ok()
            .and_then(|v| migrator.source.get(v))
            .is_none()
    {
        migrations.push(Entry {
            version: u64::try_from(version).unwrap_or(0),
            name: "(unknown)".to_string(),
            state: State::MissingFile,
            applied_at: None,
            duration_ms: None,
            applied_by: None,
            drift: false,
            kind: MigrationKind::Sql,
            note: None,
        });
        migrations.sort_by_key(|e| e.version);
    }
    let last_failure = if dirty {
        dirty_failure(migrator, &history, version)
    } else {
        None
    };
    Ok(Status {
        last_failure,
        version: (version != NIL || dirty).then_some(version),
        dirty,
        latest: migrator.source.latest(),
        migrations,
        ledger: Ledger::GolangMigrate,
        world: Some(detected.world),
    })
}

/// The last failed run that explains the dirty flag: a failed up of the dirty version,
/// or a failed down of the version after it.
fn dirty_failure(migrator: &Migrator, history: &[Record], version: i64) -> Option<SqlFailure> {
    let r = history.iter().rev().find(|r| !r.success)?;
    let explains = (r.direction == Direction::Up && r.version == version)
        || (r.direction == Direction::Down
            && migrator
                .source
                .prev(u64::try_from(r.version).ok()?)
                .map_or(NIL, |p| p as i64)
                == version);
    if !explains {
        return None;
    }
    let m = migrator.source.get(u64::try_from(r.version).ok()?)?;
    let file = if r.direction == Direction::Up {
        m.up.as_ref()?
    } else {
        m.down.as_ref()?
    };
    let error = r.error.clone().unwrap_or_default();
    let (line, column) = position(&error);
    Some(SqlFailure {
        file: file.file_name.clone(),
        body: file.body.clone(),
        line,
        column,
        error: Some(error),
    })
}

/// Line and column as golang-migrate's text gives them: `(column C) in line L:`. The pgx/v5
/// driver writes `(column 0) in line 1` when PostgreSQL gave no position: that points nowhere.
pub fn position(error: &str) -> (Option<u32>, Option<u32>) {
    let number = |after: &str, end: char| -> Option<u32> {
        let start = error.find(after)? + after.len();
        error[start..].split(end).next()?.trim().parse().ok()
    };
    let line = number(" in line ", ':').filter(|l| *l > 0);
    let column = number("(column ", ')');
    match (line, column) {
        (Some(_), Some(0)) => (None, None),
        found => found,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn positions_read_back_from_golang_migrate_text() {
        let e = "migration failed: syntax error at or near \"x\" (column 3) in line 2: SELECT 1;\nx (details: …)";
        assert_eq!(super::position(e), (Some(2), Some(3)));
        assert_eq!(
            super::position("migration failed: nope in line 0: DROP TABLE t;"),
            (None, None)
        );
        assert_eq!(
            super::position(
                "migration failed: table \"t\" does not exist (column 0) in line 1: DROP TABLE t;"
            ),
            (None, None),
            "no position from PostgreSQL"
        );
    }
}
