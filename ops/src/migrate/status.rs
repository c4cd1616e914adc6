//! `migrate status`: the database version, and every migration's state joined with
//! the console's history (applied at, duration, by whom, drift).

pub use crate::model::{
    MigrationEntry as Entry, MigrationState as State, MigrationStatus as Status,
};

use super::engine::Migrator;
use super::history::{self, Record};
use super::state::{Table, NIL};
use super::MigrateError;

/// The last successful up of `version` not undone by a later successful down.
fn last_applied(history: &[Record], version: i64) -> Option<&Record> {
    let mut applied = None;
    for r in history.iter().filter(|r| r.version == version && r.success) {
        applied = if r.direction == "up" { Some(r) } else { None };
    }
    applied
}

/// A file the console stepped over: some recorded up jumped from below it to above it.
fn stepped_over(history: &[Record], version: i64) -> bool {
    history.iter().any(|r| {
        r.success && r.direction == "up" && r.from_version < version && r.version > version
    })
}

pub async fn status(migrator: &Migrator) -> Result<Status, MigrateError> {
    let mut conn = migrator.connect().await?;
    let table = Table::current(&mut conn).await?;
    let (version, dirty) = table.version(&mut conn).await?;
    let history = history::all(&mut conn).await?;
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
        let shown = record.filter(|_| state == State::Applied || state == State::Dirty);
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
        });
        migrations.sort_by_key(|e| e.version);
    }
    Ok(Status {
        version: (version != NIL || dirty).then_some(version),
        dirty,
        latest: migrator.source.latest(),
        migrations,
    })
}
