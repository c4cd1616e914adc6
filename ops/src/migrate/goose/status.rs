//! `migrate status` for a goose source: goose_db_version's versions joined with the files and
//! the console's history; Go migrations are listed with who runs them.

use std::collections::BTreeSet;

use super::super::engine::Migrator;
use super::super::history;
use super::super::status::{last_applied, Entry, State, Status};
use super::super::{world, MigrateError};
use super::ledger::{self, Ledger};
use crate::model::{Ledger as LedgerKind, MigrationKind};

pub async fn status(m: &Migrator) -> Result<Status, MigrateError> {
    let mut conn = m.connect().await?;
    let detected = world::detect(&mut conn).await?;
    let ledger = Ledger::current(&mut conn).await?;
    // Read only: status never creates the table goose's own Status would.
    let rows = ledger.list_existing(&mut conn).await?.unwrap_or_default();
    let stamps = ledger.applied_at(&mut conn).await?;
    let history = history::all(&mut conn, crate::model::Ledger::Goose).await?;
    let applied: BTreeSet<i64> = ledger::applied(&rows).into_iter().collect();
    let max = ledger::max_version(&rows);
    let mut migrations = Vec::new();
    for mig in m.source.iter() {
        let v = mig.version as i64;
        let state = if applied.contains(&v) {
            State::Applied
        } else if v < max {
            State::Skipped
        } else {
            State::Pending
        };
        let shown = last_applied(&history, v).filter(|_| state == State::Applied);
        let stamped = stamps.iter().find(|(sv, _)| *sv == v).map(|(_, at)| *at);
        let drift = state == State::Applied
            && shown
                .and_then(|r| r.sha256.as_deref())
                .is_some_and(|sha| mig.up.as_ref().is_some_and(|f| f.sha256 != sha));
        let note = (mig.kind == MigrationKind::Go && state != State::Applied)
            .then(|| super::go_note(mig.version, mig.file_name().unwrap_or_default()));
        migrations.push(Entry {
            version: mig.version,
            name: mig.name.clone(),
            state,
            applied_at: shown.map(|r| r.started_at).or(stamped),
            duration_ms: shown.map(|r| r.duration_ms),
            applied_by: shown.map(|r| r.actor.clone()),
            drift,
            kind: mig.kind,
            note,
        });
    }
    for v in &applied {
        let Some(version) = u64::try_from(*v)
            .ok()
            .filter(|u| m.source.get(*u).is_none())
        else {
            continue;
        };
        migrations.push(Entry {
            version,
            name: "(unknown)".to_string(),
            state: State::MissingFile,
            applied_at: stamps.iter().find(|(sv, _)| sv == v).map(|(_, at)| *at),
            duration_ms: None,
            applied_by: None,
            drift: false,
            kind: MigrationKind::Sql,
            note: None,
        });
    }
    migrations.sort_by_key(|e| e.version);
    Ok(Status {
        version: (max > 0).then_some(max),
        dirty: false,
        latest: m.source.latest(),
        migrations,
        last_failure: None,
        ledger: LedgerKind::Goose,
        world: Some(detected.world),
    })
}
