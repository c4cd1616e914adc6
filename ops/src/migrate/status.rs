//! `migrate status`: the database version, and every migration's state joined with
//! the console's history (applied at, duration, by whom, drift).

use crate::model::{Direction, MigrationKind, SqlFailure};

pub use crate::model::{
    MigrationEntry as Entry, MigrationState as State, MigrationStatus as Status,
};

use super::driver::Applied;
use super::engine::Migrator;
use super::history::{self, Record};
use super::report::NIL;
use super::{go_note, world, MigrateError};

/// The last successful up of `version` not undone by a later successful down.
fn last_applied(history: &[Record], version: i64) -> Option<&Record> {
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

/// What the tool's ledger records, joined with the files and the console's history: the same
/// for both tools, whose ledgers differ only in how they hold the applied versions.
pub async fn status(migrator: &Migrator) -> Result<Status, MigrateError> {
    let ledger = migrator.source.ledger;
    let mut conn = migrator.connect().await?;
    let detected = world::detect(&mut conn).await?;
    let recorded = migrator.store().recorded(&mut conn).await?;
    let history = history::all(&mut conn, ledger).await?;
    sqlx::Connection::close(conn).await.ok();
    let (version, dirty) = (recorded.version, recorded.dirty);
    // Some(stamp) when the ledger holds `v` as applied (the stamp when it keeps one).
    let applied = |v: i64| match &recorded.applied {
        Applied::Through => (version != NIL && v <= version).then_some(None),
        Applied::Each(each) => each.get(&v).copied(),
    };
    let mut migrations = Vec::new();
    for m in migrator.source.iter() {
        let v = m.version as i64;
        let record = last_applied(&history, v);
        let stamp = applied(v);
        let state = if dirty && v == version {
            State::Dirty
        } else if stamp.is_some() {
            // A pointer ledger cannot tell a file it stepped over; the history can.
            if recorded.applied == Applied::Through && record.is_none() && stepped_over(&history, v)
            {
                State::Skipped
            } else {
                State::Applied
            }
        } else if matches!(recorded.applied, Applied::Each(_)) && v < version {
            State::Skipped
        } else {
            State::Pending
        };
        let shown = record.filter(|_| state == State::Applied);
        let drift = state == State::Applied
            && shown
                .and_then(|r| r.sha256.as_deref())
                .is_some_and(|sha| m.up.as_ref().is_some_and(|f| f.sha256 != sha));
        let note = (m.kind == MigrationKind::Go && state != State::Applied)
            .then(|| go_note(m.version, m.file_name().unwrap_or_default()));
        migrations.push(Entry {
            version: m.version,
            name: m.name.clone(),
            state,
            applied_at: shown
                .map(|r| r.started_at)
                .or(stamp.flatten().filter(|_| state == State::Applied)),
            duration_ms: shown.map(|r| r.duration_ms),
            applied_by: shown.map(|r| r.actor.clone()),
            drift,
            kind: m.kind,
            note,
        });
    }
    // Versions the ledger holds that no file has.
    let recorded_versions: Vec<(i64, Option<chrono::DateTime<chrono::Utc>>)> =
        match &recorded.applied {
            Applied::Through => (version != NIL)
                .then_some((version, None))
                .into_iter()
                .collect(),
            Applied::Each(each) => each.iter().map(|(v, at)| (*v, *at)).collect(),
        };
    for (v, at) in recorded_versions {
        let Some(version) = u64::try_from(v)
            .ok()
            .filter(|u| migrator.source.get(*u).is_none())
        else {
            continue;
        };
        migrations.push(Entry {
            version,
            name: "(unknown)".to_string(),
            state: State::MissingFile,
            applied_at: at,
            duration_ms: None,
            applied_by: None,
            drift: false,
            kind: MigrationKind::Sql,
            note: None,
        });
    }
    migrations.sort_by_key(|e| e.version);
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
        ledger,
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
