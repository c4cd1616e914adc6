//! Running pg_dump / pg_restore with the connection in their environment, never their arguments.

use std::process::Stdio;

use tokio::process::Command;

use super::BackupError;
use crate::config::DatabaseUrl;

/// A command for `tool` connected to `database` (or the URL's own) with PG* variables and
/// `--no-password`: the password lives in the child's environment, never its arguments.
pub fn command(tool: &str, url: &DatabaseUrl, database: Option<&str>) -> Command {
    let opts = url.connect_options();
    let mut cmd = Command::new(tool);
    cmd.env_remove("PGPASSFILE")
        .env("PGHOST", opts.get_host())
        .env("PGPORT", opts.get_port().to_string())
        .env("PGUSER", opts.get_username())
        .env("PGDATABASE", database.unwrap_or(url.database()))
        .env("PGAPPNAME", "holomush-admin")
        .arg("--no-password")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(pw) = url.password() {
        cmd.env("PGPASSWORD", pw);
    }
    if let Some(mode) = url.ssl_mode() {
        cmd.env("PGSSLMODE", mode);
    }
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
    cmd
}

/// The major version a tool reports, e.g. 15 for "pg_dump (PostgreSQL) 15.18 (Debian …)".
pub async fn major_version(tool: &str) -> Result<u32, BackupError> {
    let out = Command::new(tool).arg("--version").output().await.map_err(|e| {
        BackupError::Tool(format!("{tool} could not be run ({e}): install the PostgreSQL client (postgresql-client-15)."))
    })?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    parse_major(&text).ok_or_else(|| {
        BackupError::Tool(format!(
            "{tool} --version said \"{}\", which names no version.",
            text.trim()
        ))
    })
}

/// The first word that starts with a digit, up to its first dot.
pub fn parse_major(version_text: &str) -> Option<u32> {
    version_text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .and_then(|w| w.split('.').next())
        .and_then(|m| m.parse().ok())
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
