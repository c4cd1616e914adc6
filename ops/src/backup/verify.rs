//! Checking an archive: its table of contents and every data block (`pg_restore -f
//! /dev/null`), which a truncated archive fails even when its TOC reads; and a test restore
//! into a scratch database whose rows are compared with the archive.

use std::path::Path;

use super::contents::{archived_row_counts, pg_restore, toc};
use super::counts::compare_counts;
use super::{BackupError, BackupKind};

/// The TOC, then every data block. Returns a one-line summary of what was read.
pub async fn verify(path: &Path) -> Result<String, BackupError> {
    let toc = toc(path).await?;
    let (ok, _, stderr) = pg_restore(&["-f", "/dev/null"], path).await?;
    if !ok {
        return Err(BackupError::Tool(format!(
            "{} is damaged: its table of contents reads ({} entries) but its data does not: {stderr}",
            path.display(),
            toc.count()
        )));
    }
    Ok(format!(
        "{} entries read, every data block intact",
        toc.count()
    ))
}

/// A restore into a scratch database, dropped afterwards whatever happens, with each
/// table's row count compared to the rows the archive holds.
pub async fn restore_test(
    url: &crate::conninfo::DatabaseUrl,
    path: &Path,
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
    let expected = archived_row_counts(path).await?;
    let scratch = format!(
        "holomush_verify_{}",
        crate::auth::random_token().get(..10).unwrap_or("x")
    );
    log.line(format!(
        "Test restore into the scratch database \"{scratch}\""
    ));
    let restored = super::restore::into_new(url, path, &scratch, 1, log, cancel).await;
    let compared = match restored {
        Ok(outcome) if !outcome.errors.is_empty() => Err(BackupError::Tool(format!(
            "The test restore completed with {} errors: {}",
            outcome.errors.len(),
            outcome.errors.join(" / ")
        ))),
        Ok(_) => compare_counts(url, &scratch, &expected, log).await,
        Err(e) => Err(e),
    };
    super::restore::drop_scratch(url, &scratch).await;
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
