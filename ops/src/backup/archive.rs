//! Archive names and paths in the backup folder, sidecar manifests, and a writer that never
//! leaves a complete-looking file behind: temporary name, sha256 while writing, fsync, rename.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Local};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{BackupError, BackupKind, Manifest};

pub const EXT: &str = ".dump";
const PARTIAL: &str = ".partial";

/// The seed's names: `holomush_YYYYMMDD_HHMMSS.dump`, `holomush_schema_…`, `holomush_data_…`.
pub fn file_name(kind: BackupKind, database: &str, at: DateTime<Local>) -> String {
    let stamp = at.format("%Y%m%d_%H%M%S");
    match kind {
        BackupKind::Full => format!("{database}_{stamp}{EXT}"),
        BackupKind::Schema => format!("{database}_schema_{stamp}{EXT}"),
        BackupKind::Data => format!("{database}_data_{stamp}{EXT}"),
    }
}

/// The path of an archive named by a user: a bare `NAME.dump` inside the folder, nothing else.
pub fn resolve(dir: &Path, name: &str) -> Result<PathBuf, BackupError> {
    let bad = name.is_empty()
        || name.contains('/')
        || name.contains('\\')
        || name.contains("..")
        || name.starts_with('.')
        || name.contains('\0')
        || !name.ends_with(EXT);
    if bad {
        return Err(BackupError::Refused(format!(
            "\"{name}\" is not an archive name: give the bare file name of a .dump in the backup folder, e.g. holomush_20260101_120000.dump (no folders, no \"..\")."
        )));
    }
    Ok(dir.join(name))
}

pub fn manifest_path(archive: &Path) -> PathBuf {
    let mut p = archive.as_os_str().to_owned();
    p.push(".json");
    PathBuf::from(p)
}

pub fn read_manifest(archive: &Path) -> Option<Manifest> {
    std::fs::read(manifest_path(archive))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

pub fn write_manifest(archive: &Path, m: &Manifest) -> Result<(), BackupError> {
    let path = manifest_path(archive);
    let tmp = PathBuf::from(format!("{}{PARTIAL}", path.display()));
    let body = serde_json::to_vec_pretty(m)
        .map_err(|e| BackupError::Io(format!("Writing the manifest failed: {e}.")))?;
    std::fs::write(&tmp, body)
        .and_then(|_| std::fs::File::open(&tmp).and_then(|f| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| BackupError::io(&format!("Writing {}", path.display()), e))
}

/// Removes an archive and its manifest.
pub fn delete(dir: &Path, name: &str) -> Result<(), BackupError> {
    let path = resolve(dir, name)?;
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BackupError::Refused(format!(
                "There is no archive named {name} in {}.",
                dir.display()
            )))
        }
        Err(e) => return Err(BackupError::io(&format!("Deleting {}", path.display()), e)),
    }
    let _ = std::fs::remove_file(manifest_path(&path));
    Ok(())
}

/// Removes what a killed writer left in `dir`: `*.PID.partial` files whose process is gone.
/// Returns the names removed.
pub fn sweep_partials(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(PARTIAL) else {
            continue;
        };
        let pid = stem
            .rsplit_once('.')
            .and_then(|(_, p)| p.parse::<u32>().ok());
        let orphan = match pid {
            Some(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
            None => false,
        };
        if orphan && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(name);
        }
    }
    removed
}

/// Bytes on their way to `final_path`. Dropped before [`Self::finish`], it removes itself.
pub struct Writer {
    final_path: PathBuf,
    tmp: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    pub size: u64,
}

impl Writer {
    pub async fn create(final_path: &Path) -> Result<Self, BackupError> {
        if let Some(dir) = final_path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| BackupError::io(&format!("Creating {}", dir.display()), e))?;
        }
        if final_path.exists() {
            return Err(BackupError::Refused(format!(
                "{} already exists: nothing was overwritten.",
                final_path.display()
            )));
        }
        // The pid in the name lets a later start tell an orphan from a file still being written.
        let tmp = PathBuf::from(format!(
            "{}.{}{PARTIAL}",
            final_path.display(),
            std::process::id()
        ));
        let file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| BackupError::io(&format!("Creating {}", tmp.display()), e))?;
        Ok(Self {
            final_path: final_path.to_path_buf(),
            tmp,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BackupError> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| BackupError::Io("The archive was already closed.".to_string()))?;
        file.write_all(chunk)
            .await
            .map_err(|e| BackupError::io(&format!("Writing {}", self.tmp.display()), e))?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// The first bytes written, to check what kind of file is arriving.
    pub fn path(&self) -> &Path {
        &self.final_path
    }

    /// fsync, then rename into place; returns the sha256.
    pub async fn finish(mut self) -> Result<String, BackupError> {
        if let Some(mut file) = self.file.take() {
            file.flush()
                .await
                .map_err(|e| BackupError::io("Flushing the archive", e))?;
            file.sync_all()
                .await
                .map_err(|e| BackupError::io("Syncing the archive to disk", e))?;
        }
        tokio::fs::rename(&self.tmp, &self.final_path)
            .await
            .map_err(|e| BackupError::io(&format!("Renaming {}", self.tmp.display()), e))?;
        if let Some(dir) = self.final_path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let digest = hex::encode(std::mem::take(&mut self.hasher).finalize());
        self.tmp = PathBuf::new();
        Ok(digest)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seed() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Local, 2026, 11, 28, 20, 15, 2)
            .single()
            .expect("time");
        assert_eq!(
            file_name(BackupKind::Full, "holomush", at),
            "holomush_20261128_201502.dump"
        );
        assert_eq!(
            file_name(BackupKind::Schema, "holomush", at),
            "holomush_schema_20261128_201502.dump"
        );
        assert_eq!(
            file_name(BackupKind::Data, "game", at),
            "game_data_20261128_201502.dump"
        );
    }

    #[test]
    fn only_bare_archive_names_resolve() {
        let dir = Path::new("/srv/backups");
        assert_eq!(
            resolve(dir, "holomush_1.dump").expect("ok"),
            dir.join("holomush_1.dump")
        );
        for bad in [
            "../etc/passwd.dump",
            "/etc/x.dump",
            "a/b.dump",
            "x.sql",
            "",
            ".hidden.dump",
            "..dump",
        ] {
            assert!(resolve(dir, bad).is_err(), "{bad} refused");
        }
    }
}
