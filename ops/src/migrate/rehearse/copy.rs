//! Filling the scratch database: the live database streamed through `pg_dump -Fc | pg_restore`
//! (no file is written; the live database is only read), or an archive of the backup folder
//! restored as a restore does.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::backup::{tools, BackupError, Log};
use crate::conninfo::DatabaseUrl;
use crate::pgtools::{self, Needs, Tool};

/// Why the copy did not finish; `Cancelled` says nothing itself (the caller says what it undid).
#[derive(Debug)]
pub enum CopyError {
    Failed(String),
    Cancelled,
}

impl From<BackupError> for CopyError {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::Cancelled(_) => CopyError::Cancelled,
            other => CopyError::Failed(other.to_string()),
        }
    }
}

/// Every line a child writes on its error stream, read on a task of its own so the child
/// never blocks on a full pipe.
fn lines_of(
    stream: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut out = Vec::new();
        if let Some(s) = stream {
            let mut lines = BufReader::new(s).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                out.push(crate::conninfo::mask_text(&l));
            }
        }
        out
    })
}

/// `pg_dump -Fc` of the live database piped straight into `pg_restore` on `scratch`.
pub async fn stream(
    url: &DatabaseUrl,
    scratch: &DatabaseUrl,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<(), CopyError> {
    let major = tools::server_major(url).await?;
    let pg_dump = tools::pg_dump(major, log).await?;
    let pg_restore = pgtools::choose(
        Tool::PgRestore,
        Needs {
            server: Some(major),
            archive: Some(pg_dump.major),
        },
    )
    .await
    .map_err(|e| CopyError::Failed(e.to_string()))?;
    log.line(format!("Using {}", pg_restore.why));
    let mut dump = tools::command(&pg_dump, url, None);
    dump.arg("--format=custom")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut dumping = dump
        .spawn()
        .map_err(|e| CopyError::Failed(format!("pg_dump could not start ({e}).")))?;
    let archive: Stdio = dumping
        .stdout
        .take()
        .and_then(|out| out.try_into().ok())
        .ok_or_else(|| CopyError::Failed("pg_dump gave no output stream.".to_string()))?;
    let mut restore = tools::command(&pg_restore.binary, scratch, None);
    restore
        .args(["--no-owner", "--dbname", scratch.database()])
        .stdin(archive)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut restoring = match restore.spawn() {
        Ok(c) => c,
        Err(e) => {
            tools::terminate(dumping.id());
            let _ = dumping.wait().await;
            return Err(CopyError::Failed(format!(
                "pg_restore could not start ({e})."
            )));
        }
    };
    let (dump_pid, restore_pid) = (dumping.id(), restoring.id());
    let dump_said = lines_of(dumping.stderr.take());
    let restore_said = lines_of(restoring.stderr.take());
    let both = async { (dumping.wait().await, restoring.wait().await) };
    let (dumped, restored) = tokio::select! {
        _ = cancel.cancelled() => {
            tools::terminate(dump_pid);
            tools::terminate(restore_pid);
            return Err(CopyError::Cancelled);
        }
        r = both => r,
    };
    let dump_said = dump_said.await.unwrap_or_default();
    let restore_said = restore_said.await.unwrap_or_default();
    let dumped =
        dumped.map_err(|e| CopyError::Failed(format!("Waiting for pg_dump failed: {e}.")))?;
    if !dumped.success() {
        return Err(CopyError::Failed(format!(
            "pg_dump of the live database failed: {}.",
            said_or(&dump_said, &dumped.to_string())
        )));
    }
    let restored =
        restored.map_err(|e| CopyError::Failed(format!("Waiting for pg_restore failed: {e}.")))?;
    let errors: Vec<&String> = restore_said
        .iter()
        .filter(|l| l.starts_with("pg_restore: error:"))
        .filter(|l| {
            !crate::backup::restore::newer_setting_refused(l, pg_restore.binary.major, major)
        })
        .collect();
    if !errors.is_empty() {
        return Err(CopyError::Failed(format!(
            "The copy into the scratch database had {} error{}: {}.",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors
                .iter()
                .map(|l| l.trim_start_matches("pg_restore: error: "))
                .collect::<Vec<_>>()
                .join(" / ")
        )));
    }
    // Only refusals let through above make pg_restore exit non-zero without a counted error.
    let refused_only = restore_said
        .iter()
        .any(|l| l.starts_with("pg_restore: error:"));
    if !restored.success() && !refused_only {
        return Err(CopyError::Failed(format!(
            "pg_restore into the scratch database failed: {}.",
            said_or(&restore_said, &restored.to_string())
        )));
    }
    Ok(())
}

fn said_or(lines: &[String], status: &str) -> String {
    if lines.is_empty() {
        format!("it exited with {status}")
    } else {
        lines.join(" / ")
    }
}

/// An archive restored into `scratch` (already created, and `scratch` the URL of whoever
/// restores into it), refused for a data-only archive.
pub async fn archive(
    scratch: &DatabaseUrl,
    path: &Path,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<(), CopyError> {
    let toc = crate::backup::contents::toc(path).await?;
    if toc.kind() == crate::model::BackupKind::Data {
        return Err(CopyError::Failed(
            "A data-only archive has no tables to rehearse on: rehearse from a full archive, or without --from-backup. Nothing was changed.".to_string(),
        ));
    }
    let errors = crate::backup::restore::run_pg_restore(
        scratch,
        path,
        scratch.database(),
        1,
        toc.count(),
        log,
        cancel,
    )
    .await?;
    if cancel.is_cancelled() {
        return Err(CopyError::Cancelled);
    }
    if !errors.is_empty() {
        return Err(CopyError::Failed(format!(
            "The archive's restore into the scratch database had {} error{}: {}.",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join(" / ")
        )));
    }
    Ok(())
}
