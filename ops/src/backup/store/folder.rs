//! The backup folder (HOLOMUSH_BACKUP_DIR) as a store: a thin layer over [`archive`], whose
//! writer, lookups and sentences stay the one place the folder's rules live.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{LocalCopy, Reader, SetWriter, Store, Stored};
use crate::backup::archive::{self, ArchiveRef, Writer};
use crate::backup::{BackupError, Manifest};

#[derive(Clone, Debug)]
pub struct FolderStore {
    dir: PathBuf,
}

impl FolderStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A regular file of the folder by bare name: `archive::locate`'s refusals and its
    /// missing sentence.
    fn find(&self, name: &str) -> Result<PathBuf, BackupError> {
        Ok(archive::locate(&self.dir, ArchiveRef::Name(name))?.path)
    }
}

fn stored(name: String, meta: &std::fs::Metadata, path: &Path) -> Stored {
    Stored {
        name,
        size: meta.len(),
        modified: meta
            .modified()
            .map(DateTime::<Utc>::from)
            .unwrap_or_else(|_| Utc::now()),
        manifest: archive::read_manifest(path),
    }
}

#[async_trait]
impl Store for FolderStore {
    fn location(&self) -> String {
        format!("HOLOMUSH_BACKUP_DIR ({})", self.dir.display())
    }

    fn place(&self) -> String {
        self.dir.display().to_string()
    }

    fn named(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    async fn list(&self) -> Result<Vec<Stored>, BackupError> {
        let mut out = Vec::new();
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => {
                return Err(BackupError::io(
                    &format!("Reading the backup folder {}", self.dir.display()),
                    e,
                ))
            }
        };
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| BackupError::io("Reading the backup folder", e))?
        {
            // Partial files, sidecars and write_atomic's temporaries all fail the name rule.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if archive::check_name(&name).is_err() {
                continue;
            }
            // A directory entry's metadata is the link's own, so a link is not a file here.
            match entry.metadata().await {
                Ok(meta) if meta.is_file() => out.push(stored(name, &meta, &entry.path())),
                _ => continue,
            }
        }
        Ok(out)
    }

    async fn stat(&self, name: &str) -> Result<Stored, BackupError> {
        let path = self.find(name)?;
        let meta = std::fs::symlink_metadata(&path).map_err(|e| match e.kind() {
            // Deleted since `locate` looked: the same answer as if it had been gone then.
            std::io::ErrorKind::NotFound => self
                .find(name)
                .err()
                .unwrap_or_else(|| BackupError::io(&format!("Reading {}", path.display()), e)),
            _ => BackupError::io(&format!("Reading {}", path.display()), e),
        })?;
        Ok(stored(name.to_string(), &meta, &path))
    }

    async fn create(&self, name: &str) -> Result<Box<dyn SetWriter>, BackupError> {
        let path = archive::resolve(&self.dir, name)?;
        let inner = Writer::create(&path).await?;
        // No archive has this name now, so a sidecar beside it describes bytes that are gone.
        let _ = std::fs::remove_file(archive::manifest_path(&path));
        Ok(Box::new(FolderWriter { inner }))
    }

    async fn open(&self, name: &str) -> Result<(u64, Reader), BackupError> {
        let path = self.find(name)?;
        let mut opts = tokio::fs::OpenOptions::new();
        opts.read(true);
        #[cfg(unix)]
        opts.custom_flags(libc::O_NOFOLLOW);
        let file = match opts.open(&path).await {
            Ok(f) => f,
            // Removed or replaced by a link since `locate` looked: its answer for what is
            // there now.
            Err(e) => {
                return Err(self
                    .find(name)
                    .err()
                    .unwrap_or_else(|| BackupError::io(&format!("Opening {}", path.display()), e)))
            }
        };
        let size = file
            .metadata()
            .await
            .map_err(|e| BackupError::io(&format!("Reading {}", path.display()), e))?
            .len();
        Ok((size, Box::pin(file)))
    }

    async fn write_manifest(&self, name: &str, m: &Manifest) -> Result<(), BackupError> {
        let path = archive::resolve(&self.dir, name)?;
        // As the writer does: the folder may not exist yet on a fresh install.
        crate::files::create_private_dir(&self.dir)
            .map_err(|e| BackupError::io(&format!("Creating {}", self.dir.display()), e))?;
        archive::write_manifest(&path, m)
    }

    async fn delete(&self, name: &str) -> Result<(), BackupError> {
        archive::delete(&self.dir, ArchiveRef::Name(name))
    }

    async fn local(&self, name: &str) -> Result<LocalCopy, BackupError> {
        Ok(LocalCopy::own(self.find(name)?))
    }

    async fn sweep(&self) -> Vec<String> {
        // Run as every console opens: a folder that was already there (made by hand, or by
        // an older version) is brought to 0700 now, not at the next backup. One that cannot
        // be is said here, and refused when an archive is written into it.
        if self.dir.is_dir() {
            if let Err(e) = crate::files::create_private_dir(&self.dir) {
                tracing::warn!("HOLOMUSH_BACKUP_DIR: {e}");
            }
        }
        archive::sweep_partials(&self.dir)
    }
}

/// [`Writer`]: a `NAME.PID.partial` file, 0600, hard-linked to its name when finished.
struct FolderWriter {
    inner: Writer,
}

#[async_trait]
impl SetWriter for FolderWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BackupError> {
        self.inner.write(chunk).await
    }

    fn size(&self) -> u64 {
        self.inner.size
    }

    async fn staged(&mut self) -> Result<&Path, BackupError> {
        self.inner.sync().await?;
        Ok(self.inner.partial_path())
    }

    async fn finish(self: Box<Self>) -> Result<String, BackupError> {
        self.inner.finish().await
    }
}
