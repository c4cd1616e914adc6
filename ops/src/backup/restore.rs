//! Restoring an archive into a new database (the seed's `createdb holomush_restored` +
//! `pg_restore -d holomush_restored`): the current database is never touched.

use std::path::Path;
use std::process::Stdio;

use sqlx::{Connection, Executor, PgConnection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use super::{tools, BackupError};
use crate::config::DatabaseUrl;

pub type Log = dyn Fn(String) + Send + Sync;

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
            "\"{name}\" is not a usable database name: use lowercase letters, digits and _ (at most 63), starting with a letter, e.g. holomush_restored."
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

pub async fn into_new(
    url: &DatabaseUrl,
    archive: &Path,
    target: &str,
    jobs: u32,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<Outcome, BackupError> {
    validate_name(target)?;
    super::verify::toc(archive).await?;
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
    conn.execute(format!("CREATE DATABASE \"{target}\"").as_str())
        .await
        .map_err(|e| BackupError::Tool(format!("Could not create database \"{target}\": {e}.")))?;
    conn.close().await.ok();
    log(format!(
        "Created database \"{target}\"; restoring {}",
        archive.display()
    ));

    let mut cmd = tools::command("pg_restore", url, Some(target));
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
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                tools::terminate(pid);
                let _ = child.wait().await;
                return Err(BackupError::Cancelled);
            }
            line = lines.next_line() => match line.map_err(|e| BackupError::io("Reading pg_restore's messages", e))? {
                None => break,
                Some(l) => {
                    if let Some(what) = l.strip_prefix("pg_restore: creating ") {
                        log(format!("Creating {what}"));
                    } else if let Some(what) = l.strip_prefix("pg_restore: processing data for table ") {
                        log(format!("Loading data for {}", what.trim_matches('"')));
                    } else if l.starts_with("pg_restore: error:") {
                        errors.push(crate::config::mask_url(l.trim_start_matches("pg_restore: error: ")));
                    }
                }
            }
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| BackupError::io("Waiting for pg_restore", e))?;
    if !status.success() && errors.is_empty() {
        return Err(BackupError::Tool(format!(
            "pg_restore failed ({status}); database \"{target}\" was left for inspection."
        )));
    }
    Ok(Outcome {
        database: target.to_string(),
        errors,
    })
}
