//! What a dirty version left behind, and what to do about it: the analysis behind
//! `migrate repair` and the guided repair page. It only reads; the repair itself is
//! an ordinary force / down run by the caller.

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::catalog::effect_visible;
use super::sql;
use super::DiagnoseError;
use crate::migrate::history;
// Only golang-migrate's ledger has a dirty flag.
use crate::migrate::golang::{engine::Engine, state::Table};
use crate::migrate::Migrator;
use crate::migrate::NIL;
use crate::model::{
    HistoryNote, LockHolder, Recommendation, RepairAction, RepairConclusion, RepairObject,
    RepairReport, RepairTarget,
};

pub async fn analyze(migrator: &Migrator) -> Result<RepairReport, DiagnoseError> {
    let mut conn = migrator.connect().await?;
    let result = analyze_on(migrator, &mut conn).await;
    conn.close().await.ok();
    result
}

async fn analyze_on(
    migrator: &Migrator,
    conn: &mut PgConnection,
) -> Result<RepairReport, DiagnoseError> {
    let db_err =
        |e: sqlx::Error| DiagnoseError::Database(crate::db::describe_error(&e, &migrator.url));
    let table = Table::current(conn).await?;
    let (version, dirty) = table.version(conn).await?;
    let ids = Engine { m: migrator }.lock_ids(conn, &table).await?;
    let lock_holders = lock_holders(conn, &ids).await.map_err(db_err)?;

    let migration = u64::try_from(version)
        .ok()
        .and_then(|v| migrator.source.get(v));
    let up_sql = migration
        .and_then(|m| m.up.as_ref())
        .map(|f| f.body.clone());
    let down_sql = migration
        .and_then(|m| m.down.as_ref())
        .map(|f| f.body.clone());
    let previous_version = u64::try_from(version)
        .ok()
        .and_then(|v| migrator.source.prev(v))
        .map_or(NIL, |p| p as i64);

    let mut objects = Vec::new();
    for o in sql::objects(up_sql.as_deref().unwrap_or("")) {
        let present = effect_visible(conn, &o).await.map_err(db_err)?;
        objects.push(RepairObject {
            kind: o.kind(),
            name: o.name(),
            present,
        });
    }

    let records = history::all(conn, crate::model::Ledger::GolangMigrate).await?;
    let last_history = records
        .iter()
        .rev()
        .find(|r| r.version == version)
        .map(|r| HistoryNote {
            direction: r.direction,
            started_at: r.started_at,
            actor: r.actor.clone(),
            success: r.success,
            error: r.error.clone(),
        });

    let mut notes = Vec::new();
    if dirty && migration.is_none() && version != NIL {
        notes.push(format!(
            "No migration file has version {version} in {}: the analysis cannot read what it did. Point HOLOMUSH_MIGRATIONS_DIR at the folder that holds it.",
            migrator.source.origin
        ));
    }
    // A failed down leaves the version at the target below the file that failed, so the
    // objects of V say little; the newest record tells.
    if let Some(r) = records.last() {
        if dirty
            && !r.success
            && r.direction == crate::model::Direction::Down
            && r.version != version
        {
            notes.push(format!(
                "The last run was a failed down of version {} (to {version}): what is left half-done is {}'s down file, not {version}'s up file.",
                r.version, r.version
            ));
        }
    }

    let effects: Vec<bool> = objects.iter().map(|o| o.present).collect();
    let (conclusion, recommendation, alternatives) =
        conclude(dirty, version, previous_version, &effects);
    let objects_recognised = !objects.is_empty();
    if dirty && !objects_recognised && migration.is_some() {
        notes.push(format!(
            "The up file of version {version} holds no statement the analysis recognises, so nothing could be checked: read its SQL before forcing."
        ));
    }
    let opts = migrator.url.connect_options();
    Ok(RepairReport {
        version,
        dirty,
        target: RepairTarget {
            host: format!("{}:{}", opts.get_host(), opts.get_port()),
            database: migrator.url.database().to_string(),
        },
        lock_holders,
        objects,
        objects_recognised,
        conclusion,
        recommendation,
        alternatives,
        last_history,
        up_sql,
        down_sql,
        previous_version,
        notes,
    })
}

/// The conclusion from which of the file's effects are visible, and the actions for it.
pub fn conclude(
    dirty: bool,
    version: i64,
    previous: i64,
    effects: &[bool],
) -> (RepairConclusion, Recommendation, Vec<Recommendation>) {
    let force = |v: i64, why: String| Recommendation {
        action: RepairAction::Force,
        version: Some(v),
        why,
    };
    let restore = || {
        Recommendation {
        action: RepairAction::Restore,
        version: None,
        why: "Restore the newest backup taken before this migration, then run it again once the file is fixed.".to_string(),
    }
    };
    if !dirty {
        return (
            RepairConclusion::Clean,
            Recommendation {
                action: RepairAction::None,
                version: None,
                why: "The database is not dirty: there is nothing to repair.".to_string(),
            },
            Vec::new(),
        );
    }
    let visible = effects.iter().filter(|e| **e).count();
    if visible == 0 {
        (
            RepairConclusion::NotApplied,
            force(previous, format!(
                "Nothing of version {version} is visible (its SQL ran in one transaction that rolled back): force {previous} to mark it not applied, fix the file, then migrate up."
            )),
            vec![restore()],
        )
    } else if visible == effects.len() {
        (
            RepairConclusion::Applied,
            force(version, format!(
                "Everything version {version} creates is there; only the clean version write was lost: force {version}."
            )),
            vec![
                Recommendation {
                    action: RepairAction::RunDownThenForce,
                    version: Some(previous),
                    why: format!("To run {version} again from scratch: run its down file, force {previous}, then migrate up."),
                },
                restore(),
            ],
        )
    } else {
        (
            RepairConclusion::Partial,
            Recommendation {
                action: RepairAction::RunDownThenForce,
                version: Some(previous),
                why: format!(
                    "Only part of version {version} is there: run its down file to undo that part (a DROP without IF EXISTS may need editing), force {previous}, then migrate up."
                ),
            },
            vec![
                force(version, format!(
                    "Create what is missing by hand from the up file, then force {version}."
                )),
                restore(),
            ],
        )
    }
}

/// Sessions holding any of golang-migrate's advisory locks on this database right now.
async fn lock_holders(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<LockHolder>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT a.pid, coalesce(a.application_name, '') AS app,
                coalesce(a.xact_start, a.backend_start) AS since
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = ANY($1)
          ORDER BY a.pid",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LockHolder {
                pid: r.try_get("pid")?,
                application_name: r.try_get("app")?,
                since: r.try_get("since")?,
            })
        })
        .collect()
}

/// Refuses a repair while a migration holds the lock: forcing under a running
/// migration would hide whatever it is about to write.
pub fn refuse_while_locked(report: &RepairReport) -> Result<(), DiagnoseError> {
    let Some(h) = report.lock_holders.first() else {
        return Ok(());
    };
    let app = if h.application_name.is_empty() {
        "no application name".to_string()
    } else {
        h.application_name.clone()
    };
    let mut holder = format!("pid {} ({app}", h.pid);
    if let Some(since) = h.since {
        holder.push_str(&format!(
            ", since {} UTC",
            since.format("%Y-%m-%d %H:%M:%S")
        ));
    }
    holder.push(')');
    Err(DiagnoseError::Locked {
        holder,
        database: report.target.database.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conclusions_follow_the_visible_effects() {
        let (c, r, _) = conclude(false, 3, 2, &[true]);
        assert_eq!(
            (c, r.action, r.version),
            (RepairConclusion::Clean, RepairAction::None, None)
        );
        let (c, r, alt) = conclude(true, 3, 2, &[false, false]);
        assert_eq!(
            (c, r.action, r.version),
            (RepairConclusion::NotApplied, RepairAction::Force, Some(2))
        );
        assert_eq!(alt[0].action, RepairAction::Restore);
        let (c, r, _) = conclude(true, 3, 2, &[]);
        assert_eq!(
            (c, r.action, r.version),
            (RepairConclusion::NotApplied, RepairAction::Force, Some(2))
        );
        let (c, r, _) = conclude(true, 3, 2, &[true, true]);
        assert_eq!(
            (c, r.action, r.version),
            (RepairConclusion::Applied, RepairAction::Force, Some(3))
        );
        let (c, r, alt) = conclude(true, 1, NIL, &[true, false]);
        assert_eq!(
            (c, r.action, r.version),
            (
                RepairConclusion::Partial,
                RepairAction::RunDownThenForce,
                Some(-1)
            )
        );
        assert_eq!(
            (alt[0].action, alt[0].version),
            (RepairAction::Force, Some(1))
        );
    }
}
