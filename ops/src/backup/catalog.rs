//! The archives of a store, newest first: the console's, with their manifests, and
//! hand-made `pg_dump -Fc` files, described from their table of contents.

use super::store::Store;
use super::{contents, BackupError, Manifest};
use crate::model::Verification;

/// [`list`], with "made by this console" believed only of a manifest tagged under `seal`:
/// what retention and the catalog's column go by, so a hand-written manifest can neither
/// offer an archive to retention nor pass for the console's.
pub async fn list_trusted(
    store: &dyn Store,
    seal: &crate::seal::Seal,
) -> Result<Vec<Manifest>, BackupError> {
    let mut all = list(store).await?;
    for m in &mut all {
        m.by_console = m.by_console && super::trust::sealed(seal, m);
    }
    Ok(all)
}

pub async fn list(store: &dyn Store) -> Result<Vec<Manifest>, BackupError> {
    let mut out = Vec::new();
    for stored in store.list().await? {
        // Only a manifest that describes this very archive: one left by a deleted archive of
        // the same name, or copied with other bytes, is not shown.
        if let Some(mut m) = super::trust::manifest_of(&stored) {
            // A manifest written before the console recorded its pg_dump.
            if m.pg_dump_version.is_empty() {
                if let Ok(local) = store.local(&stored.name).await {
                    m.pg_dump_version = super::header::dump_version(local.path()).await;
                }
            }
            out.push(m);
            continue;
        }
        let local = store.local(&stored.name).await;
        let described = match &local {
            Ok(local) => contents::toc(local.path()).await,
            Err(e) => Err(BackupError::Io(e.to_string())),
        };
        let (kind, database, server_version, verification) = match described {
            Ok(toc) => (
                toc.kind(),
                toc.database,
                toc.server_version,
                Verification::Never,
            ),
            Err(e) => (
                super::BackupKind::Full,
                String::new(),
                String::new(),
                Verification::Failed(e.to_string()),
            ),
        };
        let pg_dump_version = match &local {
            Ok(local) => super::header::dump_version(local.path()).await,
            Err(_) => String::new(),
        };
        out.push(Manifest {
            file: stored.name,
            kind,
            size: stored.size,
            sha256: String::new(),
            host: String::new(),
            database,
            server_version,
            pg_dump_version,
            migration_version: None,
            migration_dirty: false,
            started_at: stored.modified,
            duration_ms: 0,
            by: String::new(),
            verification,
            safety: false,
            by_console: false,
            tag: String::new(),
        });
    }
    out.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.file.cmp(&a.file)));
    Ok(out)
}
