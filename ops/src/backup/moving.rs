//! Moving to another server: a typed URL for the new server, and a restore into a new
//! database there that ends with every table's rows compared with the archive.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::restore::{fill_new, validate_name};
use super::{BackupError, Log};
use crate::conninfo::DatabaseUrl;

/// A target server's URL as typed (`--target-url`, the page's field), or one sentence
/// saying why it cannot be used, its password masked. It carries only what was typed
/// (nothing from the console's environment) and must name a host; where it may point on
/// this machine is checked when the restore starts (`Console::start_restore_to_server`).
pub fn target_url(text: &str) -> Result<DatabaseUrl, BackupError> {
    let url = DatabaseUrl::parse(text.trim()).map(|u| u.named("the target server URL")).map_err(|e| {
        BackupError::Refused(crate::conninfo::mask_text(&format!(
            "The target server URL cannot be used: {e}; give the new server's postgres:// URL (nothing was created)."
        )))
    })?;
    crate::config::require_host(&url, "The target server URL")
        .map_err(|e| BackupError::Refused(format!("{e}; nothing was created.")))?;
    Ok(url)
}

/// `host:port` of a URL, as the summary names the server.
fn server_of(url: &DatabaseUrl) -> String {
    match url.host() {
        crate::conninfo::Host::Tcp(h) if h.contains(':') => format!("[{h}]:{}", url.port()),
        host => format!("{}:{}", host.as_libpq(), url.port()),
    }
}

/// Moving to another server: the archive restored into a new database `into` on the
/// server of `target` (with [`into_new`]'s checks), then each table's rows compared with
/// the archive, as the restore test does. The URL's own database is only the one
/// connected to while creating `into` (`postgres` when it names `into` itself).
#[allow(clippy::too_many_arguments)] // each is a separate choice of the caller
pub async fn to_server(
    target: &DatabaseUrl,
    seal: &crate::seal::Seal,
    archive: &Path,
    into: &str,
    restore_as: super::guest::RestoreAs,
    jobs: u32,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<String, BackupError> {
    validate_name(into)?;
    let via = if target.database() == into {
        target
            .with_database("postgres")
            .map_err(|e| BackupError::Tool(e.to_string()))?
    } else {
        target.clone()
    };
    let server = server_of(target);
    let toc = super::contents::toc(archive).await?;
    if toc.kind() == super::BackupKind::Data {
        return Err(BackupError::Refused(
            "A data-only archive cannot be restored on its own (it has no tables to load into): move with a full archive (holomush-admin backup create). Nothing was created.".to_string(),
        ));
    }
    log.line(format!(
        "Restoring into a new database \"{into}\" on {server} ({})",
        target.masked()
    ));
    log.line("Counting the rows the archive holds".to_string());
    let expected = super::contents::archived_row_counts_until(archive, cancel).await?;
    let (outcome, guest) =
        fill_new(&via, seal, archive, into, restore_as, jobs, log, cancel).await?;
    if !outcome.errors.is_empty() {
        guest.keep().await?;
        return Err(BackupError::Tool(format!(
            "{} (on {server}; database \"{into}\" was left for inspection)",
            outcome.summary()
        )));
    }
    let counted = super::counts::compare_counts(guest.url(), into, &expected, log).await;
    guest.keep().await?;
    let counted = counted?;
    if !counted.differences.is_empty() {
        return Err(BackupError::Tool(format!(
            "Restored into \"{into}\" on {server} ({}), but {} of {} tables differ from the archive: {}. Database \"{into}\" was left for inspection.",
            target.masked(),
            counted.differences.len(),
            counted.tables,
            counted.differences.join("; ")
        )));
    }
    Ok(format!(
        "Restored into \"{into}\" on {server} ({}): {} tables, {} rows match the archive.",
        target.masked(),
        counted.tables,
        counted.rows
    ))
}
