//! `migrate status`: the database version, and every migration's state joined with
//! the console's history (applied at, duration, by whom, drift).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::engine::Migrator;
use super::history::{self, Record};
use super::state::{Table, NIL};
use super::MigrateError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Applied,
    Pending,
    Dirty,
    Skipped,
    MissingFile,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub version: u64,
    pub name: String,
    pub state: State,
    pub applied_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub applied_by: Option<String>,
    pub drift: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub version: Option<i64>,
    pub dirty: bool,
    pub latest: Option<u64>,
    pub migrations: Vec<Entry>,
}

impl Status {
    /// golang-migrate's `version` output: `N`, `N (dirty)`, or `no version`.
    pub fn version_line(&self) -> String {
        match (self.version, self.dirty) {
            (None, _) => "no version".to_string(),
            (Some(v), false) => v.to_string(),
            (Some(v), true) => format!("{v} (dirty)"),
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.migrations {
            match e.state {
                State::Skipped => out.push(format!(
                    "Migration {} ({}) is below the current version but was never applied: golang-migrate will never run it. Renumber it above {} or apply its SQL by hand.",
                    e.version,
                    e.name,
                    self.version.unwrap_or(NIL)
                )),
                State::MissingFile => out.push(format!(
                    "The database is at version {} but no migration file has that version: no migration found for version {}. Point HOLOMUSH_MIGRATIONS_DIR at the right folder, or force a known version.",
                    e.version, e.version
                )),
                _ => {}
            }
            if e.drift {
                out.push(format!(
                    "Migration {} ({}) changed after it was applied: its file no longer matches what ran.",
                    e.version, e.name
                ));
            }
        }
        out
    }
}

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
    history
        .iter()
        .any(|r| r.success && r.direction == "up" && r.from_version < version && r.version > version)
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
            && shown.and_then(|r| r.sha256.as_deref()).is_some_and(|sha| m.up.as_ref().is_some_and(|f| f.sha256 != sha));
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
    if version != NIL && u64::try_from(version).ok().and_then(|v| migrator.source.get(v)).is_none() {
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
