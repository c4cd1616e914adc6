//! Restoring an archive into a new database (the seed's `createdb holomush_restored` +
//! `pg_restore -d holomush_restored`): the current database is never touched.

use std::path::Path;
use std::process::Stdio;

use sqlx::{Connection, Executor, PgConnection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use super::{tools, BackupError, Log};
use crate::conninfo::DatabaseUrl;
use crate::db::quote_ident;

pub use super::moving::{target_url, to_server};

/// A name `createdb` would take without quoting: lowercase letters, digits and _, 63 at most.
pub fn validate_name(name: &str) -> Result<(), BackupError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(BackupError::Refused(format!(
            "\"{}\" is not a usable database name: use lowercase letters, digits and _ (at most 63), starting with a letter, e.g. holomush_restored.",
            super::archive::shown(name)
        )))
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub database: String,
    /// pg_restore's errors when it went on past them: "completed with N errors".
    pub errors: Vec<String>,
}

impl Outcome {
    pub fn summary(&self) -> String {
        if self.errors.is_empty() {
            format!("Restored into database \"{}\".", self.database)
        } else {
            format!(
                "Restore into \"{}\" completed with {} errors: {}",
                self.database,
                self.errors.len(),
                self.errors.join(" / ")
            )
        }
    }
}

/// pg_restore into an existing, empty database, with progress; errors it went past are returned.
pub(crate) async fn run_pg_restore(
    url: &DatabaseUrl,
    archive: &Path,
    target: &str,
    jobs: u32,
    total: usize,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<Vec<String>, BackupError> {
    let started = std::time::Instant::now();
    let mut done = 0u64;
    let mut stage = "Restoring";
    let report = |stage: &str, done: u64| {
        log.progress(super::Progress {
            stage: stage.to_string(),
            done,
            total: u64::try_from(total).unwrap_or(u64::MAX).max(done),
            bytes: 0,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    };
    let server = {
        let target_url = url
            .with_database(target)
            .map_err(|e| BackupError::Tool(e.to_string()))?;
        tools::server_major(&target_url).await?
    };
    let pg_restore = tools::pg_restore(archive, Some(server), Some(log)).await?;
    let mut cmd = tools::command(&pg_restore, url, Some(target));
    cmd.args(["--verbose", "--no-owner", "--dbname", target]);
    if jobs > 1 {
        cmd.arg(format!("--jobs={jobs}"));
    }
    cmd.arg(archive)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| BackupError::Tool(format!("pg_restore could not start ({e}).")))?;
    let pid = child.id();
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| BackupError::Tool("pg_restore gave no error stream.".to_string()))?;
    let mut lines = BufReader::new(stderr).lines();
    let mut errors = Vec::new();
    let mut ignored = 0u32;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                tools::terminate(pid);
                let _ = child.wait().await;
                // The caller says what it undid.
                return Err(BackupError::Cancelled(String::new()));
            }
            line = lines.next_line() => match line.map_err(|e| BackupError::io("Reading pg_restore's messages", e))? {
                None => break,
                Some(l) => {
                    if let Some(what) = l.strip_prefix("pg_restore: creating ") {
                        done += 1;
                        stage = if what.starts_with("INDEX") || what.contains("CONSTRAINT") { "Building indexes and constraints" } else { "Creating objects" };
                        report(stage, done);
                        log.line(format!("Creating {what}"));
                    } else if let Some(what) = l.strip_prefix("pg_restore: processing data for table ") {
                        done += 1;
                        stage = "Loading data";
                        report(stage, done);
                        log.line(format!("Loading data for {}", what.trim_matches('"')));
                    } else if l.starts_with("pg_restore: processing item")
                        || l.starts_with("pg_restore: executing SEQUENCE SET")
                    {
                        done += 1;
                        report(stage, done);
                    } else if l.starts_with("pg_restore: error:") {
                        if newer_setting_refused(&l, pg_restore.major, server) {
                            ignored += 1;
                        } else {
                            errors.push(crate::conninfo::mask_text(l.trim_start_matches("pg_restore: error: ")));
                        }
                    }
                }
            }
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| BackupError::io("Waiting for pg_restore", e))?;
    if ignored > 0 {
        log.line(format!(
            "pg_restore {} sets transaction_timeout on each of its connections, which PostgreSQL {server} does not have: that refusal ({ignored}×) changes nothing restored and was not counted as an error",
            pg_restore.version
        ));
    }
    if !status.success() && errors.is_empty() && ignored == 0 {
        return Err(BackupError::Tool(format!("pg_restore failed ({status}).")));
    }
    Ok(errors)
}

/// pg_restore 17 and newer open each connection with `SET transaction_timeout = 0`, a
/// setting older servers do not know; they refuse it, and pg_restore goes on and counts
/// it. Only that refusal, only from a newer pg_restore than the server, is let through.
pub(crate) fn newer_setting_refused(line: &str, tool_major: u32, server_major: u32) -> bool {
    tool_major > server_major
        && server_major < 17
        && line.contains("unrecognized configuration parameter \"transaction_timeout\"")
}

async fn connect(url: &DatabaseUrl, database: &str) -> Result<PgConnection, BackupError> {
    let target = url
        .with_database(database)
        .map_err(|e| BackupError::Tool(e.to_string()))?;
    PgConnection::connect_with(&target.connect_options())
        .await
        .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, &target)))
}

async fn drop_database(url: &DatabaseUrl, via: &str, name: &str) {
    if let Ok(mut c) = connect(url, via).await {
        let _ = c
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name)).as_str())
            .await;
    }
}

/// Drops a scratch database made by a test restore, connecting through the URL's own.
pub async fn drop_scratch(url: &DatabaseUrl, name: &str) {
    drop_database(url, url.database(), name).await;
}

/// Ends every other session on `database` after barring new ones; returns who was ended.
async fn clear_sessions(
    c: &mut PgConnection,
    database: &str,
    log: &Log,
) -> Result<(), sqlx::Error> {
    c.execute(crate::db::allow_connections_sql(database, false).as_str())
        .await?;
    let others: Vec<(i32, String)> = sqlx::query_as(
        "SELECT pid, coalesce(nullif(application_name, ''), 'no application name') FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    )
    .bind(database)
    .fetch_all(&mut *c)
    .await?;
    for (pid, app) in &others {
        log.line(format!("Ending session {pid} ({app}) on \"{database}\""));
    }
    // Client sessions only: an autovacuum worker (busy after a large load) cannot be ended
    // by a role without pg_signal_backend, and the rename stops it by itself.
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        .bind(database)
        .execute(&mut *c)
        .await?;
    // Terminated backends take a moment to leave, and a rename fails while any remain.
    for _ in 0..50 {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'")
                .bind(database)
                .fetch_one(&mut *c)
                .await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The seed's `pg_restore -d holomush`, made safe: a safety backup first, then a restore
/// into a fresh database that is swapped in by rename only when it completed without
/// errors. The previous database is kept under another name.
#[allow(clippy::too_many_arguments)] // each is a separate choice of the caller
pub async fn in_place(
    url: &DatabaseUrl,
    seal: &crate::seal::Seal,
    archive: &Path,
    store: &dyn super::store::Store,
    by: &str,
    restore_as: super::guest::RestoreAs,
    jobs: u32,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<String, BackupError> {
    let toc = super::contents::toc(archive).await?;
    let current = url.database().to_string();
    log.line(format!("Taking a safety backup of \"{current}\" first"));
    let req = super::dump::Request {
        url,
        store,
        kind: super::BackupKind::Full,
        by,
        safety: true,
        seal,
    };
    let safety = super::dump::dump(req, log, cancel)
        .await
        .map_err(|e| match e {
            BackupError::Cancelled(_) => BackupError::Cancelled(format!(
                "Cancelled during the safety backup: its partial archive was removed and \"{current}\" was not changed."
            )),
            other => other,
        })?;
    let cancelled_before_swap = |fresh: &str| {
        BackupError::Cancelled(format!(
            "Cancelled before the swap: the copy \"{fresh}\" was dropped and \"{current}\" was not changed (safety backup {} kept).",
            safety.file
        ))
    };
    if cancel.is_cancelled() {
        return Err(BackupError::Cancelled(format!(
            "Cancelled after the safety backup: \"{current}\" was not changed (safety backup {} kept).",
            safety.file
        )));
    }
    let stamp = chrono::Local::now().format("%Y%m%d_%H%M%S").to_string();
    let stem: String = current.chars().take(30).collect();
    let fresh = format!("{stem}_restoring_{stamp}");
    let previous = format!("{stem}_before_restore_{stamp}");
    let mut conn = connect(url, &current).await?;
    conn.execute(format!("CREATE DATABASE {}", quote_ident(&fresh)).as_str())
        .await
        .map_err(|e| {
            BackupError::Tool(format!(
                "Could not create the restore database \"{fresh}\": {e}."
            ))
        })?;
    // The journal of this swap, for the console that starts after this one is killed.
    let marked = conn
        .execute(
            super::interrupted::Marker::new(&current, &previous)
                .comment_on(seal, &fresh)
                .as_str(),
        )
        .await;
    conn.close().await.ok();
    if let Err(e) = marked {
        drop_database(url, &current, &fresh).await;
        return Err(BackupError::Tool(format!(
            "Could not mark the restore database \"{fresh}\" ({e}); it was dropped and \"{current}\" was not changed."
        )));
    }
    let unchanged = format!(
        "the current database was not changed (safety backup {})",
        safety.file
    );
    let guest = match super::guest::Guest::admit(url, &fresh, restore_as).await {
        Ok(g) => g,
        Err(e) => {
            drop_database(url, &current, &fresh).await;
            return Err(match e {
                BackupError::Refused(m) => BackupError::Refused(format!(
                    "{} The fresh copy was dropped and {unchanged}.",
                    m.trim_end_matches(" Nothing was restored.")
                )),
                other => other,
            });
        }
    };
    log.line(format!(
        "Restoring into a fresh database \"{fresh}\" as {}; \"{current}\" stays as it is until the swap",
        guest.who()
    ));
    let restored =
        run_pg_restore(guest.url(), archive, &fresh, jobs, toc.count(), log, cancel).await;
    let abandon = |guest: super::guest::Guest| {
        let (current, fresh) = (current.clone(), fresh.clone());
        async move {
            drop_database(url, &current, &fresh).await;
            guest.leave().await;
        }
    };
    match restored {
        Err(BackupError::Cancelled(_)) => {
            abandon(guest).await;
            return Err(cancelled_before_swap(&fresh));
        }
        Err(e) => {
            abandon(guest).await;
            return Err(BackupError::Tool(format!(
                "{e} The restore was abandoned and {unchanged}."
            )));
        }
        Ok(errors) if !errors.is_empty() => {
            abandon(guest).await;
            return Err(BackupError::Tool(format!(
                "The restore completed with {} errors, so it was not swapped in and {unchanged}: {}",
                errors.len(),
                errors.join(" / ")
            )));
        }
        Ok(_) => {}
    }
    // The last point a cancel is honoured: past it the swap runs to its end.
    if cancel.is_cancelled() {
        abandon(guest).await;
        return Err(cancelled_before_swap(&fresh));
    }
    // The copy becomes the live database: the console's role takes it back first.
    if let Err(e) = guest.keep().await {
        drop_database(url, &current, &fresh).await;
        return Err(BackupError::Tool(format!(
            "{e} The fresh copy was dropped and {unchanged}."
        )));
    }
    // Rename the current database from inside the fresh one (one cannot rename the database one is in).
    let mut c = connect(url, &fresh).await?;
    let moved = async {
        clear_sessions(&mut c, &current, log).await?;
        c.execute(crate::db::rename_database_sql(&current, &previous).as_str())
            .await?;
        // Nobody looks for the old database under its new name; we need to enter it next.
        c.execute(crate::db::allow_connections_sql(&previous, true).as_str())
            .await?;
        Ok::<_, sqlx::Error>(())
    }
    .await;
    if let Err(e) = moved {
        let _ = c
            .execute(crate::db::allow_connections_sql(&current, true).as_str())
            .await;
        c.close().await.ok();
        drop_database(url, &current, &fresh).await;
        return Err(BackupError::Tool(format!(
            "The swap failed ({e}); {unchanged}."
        )));
    }
    c.close().await.ok();
    pause_for_a_fault_test("swap");
    // …then the fresh one from inside the previous one.
    let renamed = async {
        let mut c = connect(url, &previous).await.map_err(|e| e.to_string())?;
        c.execute(crate::db::rename_database_sql(&fresh, &current).as_str())
            .await
            .map_err(|e| e.to_string())?;
        // Best effort: a marker left behind names a finished swap, which recovery ignores
        // while the database is present and its maker's process is alive or elsewhere.
        let _ = c
            .execute(super::interrupted::clear_on(&current).as_str())
            .await;
        c.close().await.ok();
        Ok::<_, String>(())
    }
    .await;
    if let Err(e) = renamed {
        return Err(BackupError::Tool(format!(
            "The restored database could not take the name \"{current}\" ({e}): it is \"{fresh}\", and the previous one is \"{previous}\". Rename them by hand."
        )));
    }
    Ok(format!(
        "Restored {} into \"{current}\". The previous database is kept as \"{previous}\" (drop it when satisfied); safety backup {}.",
        super::store::shown(archive).file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
        safety.file
    ))
}

/// Restores `archive` into a new database `target` on `url`'s server, the archive's SQL
/// run as `restore_as` says; the database is handed back to `url`'s role when done.
#[allow(clippy::too_many_arguments)] // each is a separate choice of the caller
pub async fn into_new(
    url: &DatabaseUrl,
    seal: &crate::seal::Seal,
    archive: &Path,
    target: &str,
    restore_as: super::guest::RestoreAs,
    jobs: u32,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<Outcome, BackupError> {
    let (outcome, guest) =
        fill_new(url, seal, archive, target, restore_as, jobs, log, cancel).await?;
    guest.keep().await?;
    Ok(outcome)
}

/// [`into_new`] without the hand-back: the job role still owns `target`, so whatever reads
/// it next (a row count) does so with no more powers than the archive had. The caller
/// keeps or leaves the guest.
#[allow(clippy::too_many_arguments)] // each is a separate choice of the caller
pub(crate) async fn fill_new(
    url: &DatabaseUrl,
    seal: &crate::seal::Seal,
    archive: &Path,
    target: &str,
    restore_as: super::guest::RestoreAs,
    jobs: u32,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<(Outcome, super::guest::Guest), BackupError> {
    validate_name(target)?;
    let toc = super::contents::toc(archive).await?;
    let mut conn = PgConnection::connect_with(&url.connect_options())
        .await
        .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, url)))?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(target)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| BackupError::Tool(e.to_string()))?;
    if exists {
        return Err(BackupError::Refused(format!(
            "Database \"{target}\" already exists: choose a new name (nothing was changed)."
        )));
    }
    conn.execute(format!("CREATE DATABASE {}", quote_ident(target)).as_str())
        .await
        .map_err(|e| BackupError::Tool(format!("Could not create database \"{target}\": {e}.")))?;
    let marker = super::interrupted::NewMarker::mine(url.database()).comment_on(seal, target);
    if let Err(e) = conn.execute(marker.as_str()).await {
        drop_database(url, url.database(), target).await;
        return Err(BackupError::Tool(format!(
            "Database \"{target}\" could not be marked as being restored ({e}), so it was dropped again: nothing was changed."
        )));
    }
    conn.close().await.ok();
    let guest = match super::guest::Guest::admit(url, target, restore_as).await {
        Ok(g) => g,
        Err(e) => {
            drop_database(url, url.database(), target).await;
            return Err(e);
        }
    };
    pause_for_a_fault_test("restore-into");
    log.line(format!(
        "Created database \"{target}\"; restoring {} as {}",
        super::store::shown(archive).display(),
        guest.who()
    ));

    let restored =
        run_pg_restore(guest.url(), archive, target, jobs, toc.count(), log, cancel).await;
    if matches!(restored, Err(BackupError::Cancelled(_))) || cancel.is_cancelled() {
        drop_database(url, url.database(), target).await;
        guest.leave().await;
        return Err(BackupError::Cancelled(format!(
            "Cancelled: pg_restore was stopped and the half-restored database \"{target}\" was dropped; nothing else changed."
        )));
    }
    // pg_restore is done with it (whole, or with errors left for inspection): no longer in
    // progress, so no later console drops it.
    if let Ok(mut c) = connect(url, url.database()).await {
        if let Err(e) = c
            .execute(super::interrupted::clear_on(target).as_str())
            .await
        {
            log.line(format!(
                "Warning: database \"{target}\" still says it is being restored ({e}); clear it with COMMENT ON DATABASE \"{target}\" IS NULL."
            ));
        }
        c.close().await.ok();
    }
    let errors = match restored {
        Ok(errors) => errors,
        Err(BackupError::Tool(m)) => {
            guest.keep().await?;
            return Err(BackupError::Tool(format!(
                "{m} Database \"{target}\" was left for inspection."
            )));
        }
        Err(other) => {
            guest.keep().await?;
            return Err(other);
        }
    };
    Ok((
        Outcome {
            database: target.to_string(),
            errors,
        },
        guest,
    ))
}

/// Debug builds only: `HOLOMUSH_ADMIN_FAULT_PAUSE=<point>` holds the job at that point for
/// ten seconds, so the fault tests can kill the process exactly there (`swap`: between the
/// two renames of a swap; `restore-into`: a new database made and marked, not yet filled).
/// A release build ignores the variable.
fn pause_for_a_fault_test(point: &str) {
    if cfg!(debug_assertions)
        && std::env::var("HOLOMUSH_ADMIN_FAULT_PAUSE").is_ok_and(|p| p == point)
    {
        std::thread::sleep(std::time::Duration::from_secs(10));
    }
}
