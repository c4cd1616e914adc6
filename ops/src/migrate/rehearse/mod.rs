//! `migrate rehearse`: what `up` would do, done first on a scratch copy of the database on
//! the same server. The copy is made (a streamed dump of the live database, or an archive),
//! each pending file runs on it in a transaction whose locks are read before it commits,
//! the schema before and after is compared, and the copy is dropped whatever happens. The
//! live database is only read (by pg_dump), never written.

pub mod catalog;
pub mod copy;
pub mod plan;
pub mod scratch;
pub mod step;

use std::path::PathBuf;
use std::time::Instant;

use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::backup::Log;
use crate::conninfo::DatabaseUrl;
use crate::migrate::MigrateError;
use crate::model::{CopiedFrom, Rehearsal, RehearsalStep, SchemaChange, SqlFailure};
use copy::CopyError;
use plan::Plan;

/// Where the scratch copy comes from.
#[derive(Clone, Debug)]
pub enum From {
    /// `pg_dump -Fc | pg_restore` of the live database.
    Dump,
    /// An archive, already located and checked against its manifest.
    Archive { path: PathBuf, name: String },
}

/// A rehearsal's report, and the failing file (with its SQL) when one failed.
pub struct Outcome {
    pub report: Rehearsal,
    pub failed: Option<SqlFailure>,
    pub cancelled: bool,
}

impl Outcome {
    /// The job's one sentence.
    pub fn summary(&self) -> String {
        let r = &self.report;
        let db = &r.scratch;
        if let Some(e) = &r.error {
            return e.clone();
        }
        if let Some(bad) = r.steps.iter().find(|s| !s.ok) {
            let at = match (bad.line, bad.column) {
                (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
                (Some(l), None) => format!(" at line {l}"),
                _ => String::new(),
            };
            return format!(
                "Rehearsal: version {} ({}) failed{at}: {} ({} file{} ran before it). The scratch copy \"{db}\" was dropped and the live database was not changed: fix the file before running up.",
                bad.version,
                bad.name,
                bad.error.clone().unwrap_or_default(),
                r.steps.len() - 1,
                if r.steps.len() == 2 { "" } else { "s" },
            );
        }
        if r.steps.is_empty() {
            return format!(
                "Nothing to rehearse: no migration is pending. The scratch copy \"{db}\" was dropped and the live database was not changed."
            );
        }
        format!(
            "Rehearsed {} migration{} on a scratch copy in {} ms: every file ran, {} schema change{}. The copy \"{db}\" was dropped and the live database was not changed.",
            r.steps.len(),
            if r.steps.len() == 1 { "" } else { "s" },
            r.total_ms,
            r.schema_changes.len(),
            if r.schema_changes.len() == 1 { "" } else { "s" },
        )
    }
}

/// What happened on the scratch copy before it was dropped.
#[derive(Default)]
struct OnCopy {
    steps: Vec<RehearsalStep>,
    changes: Vec<SchemaChange>,
    error: Option<String>,
    failed: Option<SqlFailure>,
    cancelled: bool,
}

/// Runs the rehearsal of `plan` on a scratch copy of `url`'s database.
pub async fn rehearse<P: Plan>(
    url: &DatabaseUrl,
    seal: &crate::seal::Seal,
    plan: &P,
    from: From,
    restore_as: crate::backup::guest::RestoreAs,
    log: &Log,
    cancel: &CancellationToken,
) -> Outcome {
    let started = Instant::now();
    for line in scratch::sweep(url, seal).await {
        log.line(line);
    }
    let name = scratch::name_for(url.database());
    let copied_from = match &from {
        From::Dump => CopiedFrom::Dump,
        From::Archive { name, .. } => CopiedFrom::Archive(name.clone()),
    };
    let report = |on: OnCopy| Rehearsal {
        ok: on.error.is_none() && on.steps.iter().all(|s| s.ok),
        scratch: name.clone(),
        copied_from: copied_from.clone(),
        steps: on.steps,
        schema_changes: on.changes,
        total_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        error: on.error,
    };
    if let Err(e) = scratch::create(url, seal, &name).await {
        return Outcome {
            report: report(OnCopy {
                error: Some(e),
                ..OnCopy::default()
            }),
            failed: None,
            cancelled: false,
        };
    }
    // The copy's SQL (an archive's, or the live database's own functions) and the
    // migrations run as a role that owns only the copy.
    let guest = match crate::backup::guest::Guest::admit(url, &name, restore_as).await {
        Ok(g) => g,
        Err(e) => {
            let dropped = scratch::drop(url, &name).await.err();
            return Outcome {
                report: report(OnCopy {
                    error: Some(
                        [Some(e.to_string()), dropped]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    ..OnCopy::default()
                }),
                failed: None,
                cancelled: false,
            };
        }
    };
    log.line(format!(
        "Created the scratch database \"{name}\" on the same server; it is filled and migrated as {}",
        guest.who()
    ));
    let mut on = on_copy(url, guest.url(), plan, &from, &name, log, cancel).await;
    let dropped = scratch::drop(url, &name).await;
    guest.leave().await;
    match &dropped {
        Ok(()) => log.line(format!("Dropped the scratch database \"{name}\"")),
        Err(e) => log.line(e.clone()),
    }
    if on.cancelled {
        on.error = Some(format!(
            "Cancelled: the rehearsal stopped and its scratch database \"{name}\" was dropped; the live database was not changed."
        ));
    }
    if let Err(e) = dropped {
        on.error = Some(match on.error.take() {
            Some(first) => format!("{first} {e}"),
            None => e,
        });
    }
    let (failed, cancelled) = (on.failed.take(), on.cancelled);
    Outcome {
        report: report(on),
        failed,
        cancelled,
    }
}

/// Everything done on the scratch copy; the caller drops it afterwards.
async fn on_copy<P: Plan>(
    url: &DatabaseUrl,
    target: &DatabaseUrl,
    plan: &P,
    from: &From,
    name: &str,
    log: &Log,
    cancel: &CancellationToken,
) -> OnCopy {
    let mut on = OnCopy::default();
    let copied = match from {
        From::Dump => {
            log.line(format!(
                "Copying \"{}\" into it (pg_dump -Fc | pg_restore)",
                url.database()
            ));
            copy::stream(url, target, log, cancel).await
        }
        From::Archive { path, .. } => {
            log.line(format!(
                "Restoring {} into it",
                crate::backup::store::shown(path).display()
            ));
            copy::archive(target, path, log, cancel).await
        }
    };
    match copied {
        Ok(()) => {}
        Err(CopyError::Cancelled) => {
            on.cancelled = true;
            return on;
        }
        Err(CopyError::Failed(e)) => {
            on.error = Some(format!(
                "{e} The rehearsal did not run; its scratch database \"{name}\" was dropped and the live database was not changed."
            ));
            return on;
        }
    }
    let mut conn = match PgConnection::connect_with(&target.connect_options()).await {
        Ok(c) => c,
        Err(e) => {
            on.error = Some(format!(
                "The scratch database could not be reached: {}",
                crate::db::describe_error(&e, target)
            ));
            return on;
        }
    };
    let ran = tokio::select! {
        _ = cancel.cancelled() => None,
        ran = steps(plan, &mut conn, log, cancel, &mut on) => Some(ran),
    };
    let Some(ran) = ran else {
        // Stopped mid-file: the connection may be mid-query, so it is dropped, not closed.
        on.cancelled = true;
        return on;
    };
    if let Err(e) = ran {
        on.error = Some(format!(
            "The rehearsal stopped: {e}. Its scratch database \"{name}\" was dropped and the live database was not changed."
        ));
    }
    conn.close().await.ok();
    on
}

/// Snapshot, the pending files one by one (stopping at the first that fails, as `up`
/// does), snapshot again.
async fn steps<P: Plan>(
    plan: &P,
    conn: &mut PgConnection,
    log: &Log,
    cancel: &CancellationToken,
    on: &mut OnCopy,
) -> Result<(), String> {
    let db = |e: sqlx::Error| MigrateError::db(e).to_string();
    let before = catalog::snapshot(conn).await.map_err(db)?;
    for line in plan.prepare(conn).await.map_err(|e| e.to_string())? {
        log.line(line);
    }
    let pending = plan.pending(conn).await.map_err(|e| e.to_string())?;
    log.line(match pending.len() {
        0 => "No migration is pending".to_string(),
        n => format!("{n} migration{} pending", if n == 1 { "" } else { "s" }),
    });
    for s in &pending {
        if cancel.is_cancelled() {
            on.cancelled = true;
            return Ok(());
        }
        log.line(format!("Rehearsing {} ({})", s.version, s.file));
        let ran = step::run(plan, conn, s).await.map_err(db)?;
        let duration_ms = u64::try_from(ran.duration.as_millis()).unwrap_or(u64::MAX);
        let (error, line, column) = match &ran.outcome {
            Ok(()) => (None, None, None),
            Err(MigrateError::Failed {
                message,
                line,
                column,
                ..
            }) => (Some(message.clone()), *line, *column),
            Err(e) => (Some(e.to_string()), None, None),
        };
        match &error {
            None => log.line(format!(
                "Ran {} in {duration_ms} ms; locks on existing tables: {}",
                s.version,
                if let Some(why) = &ran.locks_unknown {
                    why.clone()
                } else if ran.locks.is_empty() {
                    "none".to_string()
                } else {
                    ran.locks
                        .iter()
                        .map(|l| format!("{} {}", l.relation, l.mode))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
            Some(e) => log.line(format!("Failed {} after {duration_ms} ms: {e}", s.version)),
        }
        if error.is_some() {
            on.failed = Some(SqlFailure {
                file: s.file.clone(),
                body: s.body.clone(),
                line,
                column,
                error: None,
            });
        }
        let stop = error.is_some();
        on.steps.push(RehearsalStep {
            version: s.version,
            name: s.name.clone(),
            ok: !stop,
            duration_ms,
            error,
            line,
            column,
            locks: ran.locks,
            locks_unknown: ran.locks_unknown,
        });
        if stop {
            break;
        }
    }
    let after = catalog::snapshot(conn).await.map_err(db)?;
    on.changes = catalog::diff(&before, &after);
    Ok(())
}
