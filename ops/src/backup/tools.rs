//! Running pg_dump / pg_restore: the binary that fits (see [`crate::pgtools`]), the
//! connection in its environment, never its arguments, and a way to stop it.

use std::path::Path;

use sqlx::Connection;
use tokio::process::Command;

use super::{BackupError, Log};
use crate::conninfo::DatabaseUrl;
use crate::pgtools::{self, Binary, Needs, Tool};

/// A command for `binary` connected to `database` (or the URL's own) through libpq's
/// environment, with `--no-password`, in a process group of its own.
pub fn command(binary: &Binary, url: &DatabaseUrl, database: Option<&str>) -> Command {
    let mut cmd = pgtools::command(binary, url, database);
    guard(&mut cmd);
    cmd
}

/// A command for `binary` that reads an archive and connects to nothing.
pub fn offline(binary: &Binary) -> Command {
    let mut cmd = pgtools::bare(binary);
    guard(&mut cmd);
    cmd
}

fn guard(cmd: &mut Command) {
    // Its own process group, so a cancel reaches anything it starts.
    #[cfg(unix)]
    cmd.process_group(0);
    // A server killed mid-dump must not leave pg_dump / pg_restore running on: the child
    // gets SIGTERM when the thread that started it (the job's) goes away.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

/// The server's major version (e.g. 18).
pub async fn server_major(url: &DatabaseUrl) -> Result<u32, BackupError> {
    let mut conn = sqlx::PgConnection::connect_with(&url.connect_options())
        .await
        .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, url)))?;
    let n: String = sqlx::query_scalar("SELECT current_setting('server_version_num')")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, url)))?;
    conn.close().await.ok();
    n.parse::<u32>().map(|n| n / 10_000).map_err(|_| {
        BackupError::Tool(format!(
            "The server reported version number \"{n}\", which is not a number."
        ))
    })
}

/// The pg_dump for a server of `server_major` (its own major when installed, so that
/// major's pg_restore reads the archive), its choice told in the log.
pub async fn pg_dump(server_major: u32, log: &Log) -> Result<Binary, BackupError> {
    let choice = pgtools::choose(Tool::PgDump, Needs::server(server_major))
        .await
        .map_err(|e| BackupError::Refused(e.to_string()))?;
    log.line(format!("Using {}", choice.why));
    Ok(choice.binary)
}

/// The pg_restore that can read `archive` (and load it into a server of `server_major`).
pub async fn pg_restore(
    archive: &Path,
    server_major: Option<u32>,
    log: Option<&Log>,
) -> Result<Binary, BackupError> {
    let header = super::header::read(archive)
        .await
        .map_err(|e| BackupError::io(&format!("Reading {}", archive.display()), e))?;
    let needs = Needs {
        server: server_major,
        archive: header.as_ref().and_then(|h| h.dump_major()),
    };
    let choice = pgtools::choose(Tool::PgRestore, needs)
        .await
        .map_err(|e| BackupError::Refused(e.to_string()))?;
    if let Some(log) = log {
        log.line(format!("Using {}", choice.why));
    }
    Ok(choice.binary)
}

/// Sends SIGTERM to the whole process group of a child started by [`command`].
pub fn terminate(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGTERM);
        }
    }
}
