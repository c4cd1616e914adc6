//! Checking an archive: its table of contents and every data block (`pg_restore -f
//! /dev/null`), which a truncated archive fails even when its TOC reads; and a test restore
//! into a scratch database whose rows are compared with the archive.

use std::path::Path;

use std::process::Stdio;

use tokio_util::sync::CancellationToken;

use super::contents::{archived_row_counts_until, toc};
use super::counts::compare_counts;
use super::{BackupError, BackupKind};

/// The TOC, then every data block. Returns a one-line summary of what was read. A cancel
/// stops pg_restore at once.
pub async fn verify(path: &Path, cancel: &CancellationToken) -> Result<String, BackupError> {
    let toc = toc(path).await?;
    let binary = super::tools::pg_restore(path, None, None).await?;
    let mut child = super::tools::offline(&binary)
        .args(["-f", "/dev/null"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            BackupError::Tool(format!("{} could not be run ({e}).", binary.path.display()))
        })?;
    let pid = child.id();
    // Read as it comes, so pg_restore never blocks on a full pipe of its messages.
    let drain = drain(child.stderr.take());
    let status = tokio::select! {
        _ = cancel.cancelled() => {
            super::tools::terminate(pid);
            let _ = child.wait().await;
            return Err(BackupError::Cancelled(
                "Cancelled: pg_restore was stopped; the archive and its manifest were not changed.".to_string(),
            ));
        }
        status = child.wait() => status.map_err(|e| BackupError::io("Waiting for pg_restore", e))?,
    };
    let stderr = crate::conninfo::mask_text(drain.await.unwrap_or_default().trim());
    if !status.success() {
        return Err(BackupError::Tool(format!(
            "{} is damaged: its table of contents reads ({} entries) but its data does not: {stderr}",
            super::store::shown(path).display(),
            toc.count()
        )));
    }
    Ok(format!(
        "{} entries read, every data block intact",
        toc.count()
    ))
}

/// Everything a child writes on one stream, read on a task of its own.
pub(super) fn drain(
    stream: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut text = Vec::new();
        if let Some(mut s) = stream {
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut s, &mut text).await;
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

/// A restore into a scratch database, dropped afterwards whatever happens, with each
/// table's row count compared to the rows the archive holds.
pub async fn restore_test(
    url: &crate::conninfo::DatabaseUrl,
    seal: &crate::seal::Seal,
    path: &Path,
    restore_as: super::guest::RestoreAs,
    log: &super::Log,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<String, BackupError> {
    let toc = toc(path).await?;
    if toc.kind() == BackupKind::Data {
        return Err(BackupError::Refused(
            "A data-only archive cannot be restored on its own (it has no tables to load into): test-restore a full archive instead.".to_string(),
        ));
    }
    log.line("Counting the rows the archive holds".to_string());
    let expected = archived_row_counts_until(path, cancel).await?;
    let scratch = format!(
        "holomush_verify_{}",
        crate::auth::random_token().get(..10).unwrap_or("x")
    );
    log.line(format!(
        "Test restore into the scratch database \"{scratch}\""
    ));
    let compared =
        match super::restore::fill_new(url, seal, path, &scratch, restore_as, 1, log, cancel).await
        {
            Ok((outcome, guest)) => {
                // Counted as the job role: the copy's functions run with no more than its powers.
                let counted = if outcome.errors.is_empty() {
                    compare_counts(guest.url(), &scratch, &expected, log).await
                } else {
                    Err(BackupError::Tool(format!(
                        "The test restore completed with {} errors: {}",
                        outcome.errors.len(),
                        outcome.errors.join(" / ")
                    )))
                };
                super::restore::drop_scratch(url, &scratch).await;
                guest.leave().await;
                counted
            }
            Err(e) => {
                super::restore::drop_scratch(url, &scratch).await;
                Err(e)
            }
        };
    log.line(format!("Dropped the scratch database \"{scratch}\""));
    let counted = compared?;
    if !counted.differences.is_empty() {
        return Err(BackupError::Tool(format!(
            "The test restore does not match the archive: {}.",
            counted.differences.join("; ")
        )));
    }
    Ok(format!(
        "restore test passed: {} tables, {} rows match the archive",
        counted.tables, counted.rows
    ))
}
