//! The archives in the backup folder, newest first: the console's, with their manifests,
//! and hand-made `pg_dump -Fc` files, described from their table of contents.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::archive::EXT;
use super::{contents, BackupError, Manifest};
use crate::model::Verification;

pub async fn list(dir: &Path) -> Result<Vec<Manifest>, BackupError> {
    let mut out = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(BackupError::io(
                &format!("Reading the backup folder {}", dir.display()),
                e,
            ))
        }
    };
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| BackupError::io("Reading the backup folder", e))?
    {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(EXT) || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = match entry.metadata().await {
            Ok(m) if m.is_file() => m,
            _ => continue,
        };
        // Only a manifest that describes this very file: one left by a deleted archive of
        // the same name, or copied with other bytes, is not shown.
        if let Some(mut m) = super::trust::manifest_of(&path, &name) {
            // A manifest written before the console recorded its pg_dump.
            if m.pg_dump_version.is_empty() {
                m.pg_dump_version = super::header::dump_version(&path).await;
            }
            out.push(m);
            continue;
        }
        let modified: DateTime<Utc> = meta
            .modified()
            .map(DateTime::<Utc>::from)
            .unwrap_or_else(|_| Utc::now());
        let described = contents::toc(&path).await;
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
        out.push(Manifest {
            file: name,
            kind,
            size: meta.len(),
            sha256: String::new(),
            host: String::new(),
            database,
            server_version,
            pg_dump_version: super::header::dump_version(&path).await,
            migration_version: None,
            migration_dirty: false,
            started_at: modified,
            duration_ms: 0,
            by: String::new(),
            verification,
            safety: false,
            by_console: false,
        });
    }
    out.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.file.cmp(&a.file)));
    Ok(out)
}
