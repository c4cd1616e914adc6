//! Backups, their checks, and the archives a person brings or removes: `backup full/schema/data`
//! with retention, `backup verify [--restore-test]`, upload, import and delete.

use std::sync::Arc;

use crate::audit::Entry;
use crate::backup::archive::ArchiveRef;
use crate::jobs::{Job, JobFailure};
use crate::model::{JobKind, JobOutput, Verification};

use super::{Console, ConsoleError};

impl Console {
    /// Deletes an archive of the backup folder and its manifest, with its audit record (the
    /// archive's bare name as the target, however it was named).
    pub fn delete_backup<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        actor: &str,
    ) -> Result<String, ConsoleError> {
        let given = archive.into();
        let name = match given {
            ArchiveRef::Name(n) => n.to_string(),
            ArchiveRef::Path(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
        };
        let entry = Entry::new(actor, "backup.delete", name.clone());
        match crate::backup::archive::delete(&self.config.backup_dir, given) {
            Ok(()) => {
                self.record(entry);
                Ok(format!("Deleted {name}."))
            }
            Err(e) => {
                self.record(entry.failed(e.to_string()));
                Err(e.into())
            }
        }
    }

    /// Receives an uploaded archive into the backup folder under the name it came with
    /// (bare names only), with its audit record (`backup.upload`). See [`crate::backup::upload`].
    pub async fn receive_upload<S, B, E>(
        &self,
        name: &str,
        chunks: S,
        actor: &str,
    ) -> Result<String, ConsoleError>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let entry = Entry::new(actor, "backup.upload", name);
        let result = match crate::backup::archive::resolve(&self.config.backup_dir, name) {
            Ok(path) => {
                crate::backup::upload::receive(chunks, &path, self.config.upload_limit_bytes, actor)
                    .await
            }
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(manifest) => {
                let size = manifest.size;
                self.record(entry.detail(format!("{size} bytes")));
                Ok(format!(
                    "Uploaded {name} ({size} bytes, every block read). It was not made by this console, so restoring it asks for the target's name."
                ))
            }
            Err(e) => {
                self.record(entry.failed(e.clone()));
                Err(ConsoleError::Refused(e))
            }
        }
    }

    /// `backup import FILE`, the CLI's Upload button: an archive outside the backup folder is
    /// received exactly as an upload is (same checks, same `backup.upload` record), so a
    /// person at the server's shell gets what a person at the page gets.
    pub async fn import_backup(
        &self,
        path: &std::path::Path,
        actor: &str,
    ) -> Result<String, ConsoleError> {
        let refuse = |e: ConsoleError| {
            let target = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            self.record(Entry::new(actor, "backup.upload", target).failed(e.to_string()));
            e
        };
        let found = crate::backup::archive::locate(&self.config.backup_dir, ArchiveRef::Path(path))
            .map_err(|e| refuse(e.into()))?;
        if found.inside {
            return Err(refuse(ConsoleError::Refused(format!(
                "{} is already in the backup folder: nothing to import (see `holomush-admin backup list`).",
                found.name
            ))));
        }
        // O_NOFOLLOW: the file read is the one `locate` checked, not a link swapped in since.
        let mut open = std::fs::OpenOptions::new();
        std::os::unix::fs::OpenOptionsExt::custom_flags(open.read(true), libc::O_NOFOLLOW);
        let file = open.open(&found.path).map_err(|e| {
            refuse(ConsoleError::Failed(format!(
                "{} could not be opened: {e}. Nothing was imported.",
                found.path.display()
            )))
        })?;
        let chunks = tokio_util::io::ReaderStream::with_capacity(
            tokio::fs::File::from_std(file),
            256 * 1024,
        );
        self.receive_upload(&found.name, chunks, actor).await
    }

    /// Starts a pg_dump job of the given kind into HOLOMUSH_BACKUP_DIR.
    pub async fn start_backup(
        &self,
        kind: crate::model::BackupKind,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let cx = self.context(actor);
        let retention = self.config.retention;
        Ok(self
            .jobs
            .start(
                JobKind::backup(kind),
                actor,
                &self.target(),
                move |job| async move {
                    let log: &crate::backup::Log = &*job;
                    let req = crate::backup::dump::Request {
                        url: &cx.url,
                        dir: &cx.dir,
                        kind,
                        by: &cx.by,
                        safety: false,
                    };
                    let m = crate::backup::dump::dump(req, log, job.cancel_token())
                        .await
                        .map_err(|e| JobFailure::new(e.to_string()))?;
                    // Retention runs only after a backup succeeded.
                    if let Ok(all) = crate::backup::catalog::list(&cx.dir).await {
                        for file in
                            crate::backup::retention::plan(&all, retention, chrono::Utc::now())
                        {
                            match crate::backup::archive::delete(&cx.dir, &file) {
                                Ok(()) => job.log(format!("Retention: deleted {file}")),
                                Err(e) => {
                                    job.log(format!("Retention: could not delete {file}: {e}"))
                                }
                            }
                        }
                    }
                    let summary = format!("{} ({} bytes, sha256 {})", m.file, m.size, m.sha256);
                    job.set_output(JobOutput::Manifest(m));
                    Ok(summary)
                },
            )
            .await?)
    }

    /// Starts a verification job (and, on request, a test restore into a scratch database);
    /// the result is kept in the archive's manifest.
    pub async fn start_verify<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        restore_test: bool,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let located = self.archive(archive.into())?;
        let note = self.in_place_note(&located);
        let (path, name, inside) = (located.path, located.name.clone(), located.inside);
        let url = self.config.database_url.clone();
        let kind = if restore_test {
            JobKind::BackupRestoreTest
        } else {
            JobKind::BackupVerify
        };
        Ok(self
            .jobs
            .start_noted(kind, actor, &located.name, note, move |job| async move {
                let manifest = if inside {
                    crate::backup::trust::manifest_of(&path, &name)
                } else {
                    None
                };
                let cancel = job.cancel_token();
                if manifest.is_some() {
                    job.log("Checking the archive's sha256 against its manifest");
                }
                let mut result =
                    crate::backup::trust::check_sha256(&path, &name, manifest.as_ref(), cancel)
                        .await
                        .map(|()| String::new());
                if result.is_ok() {
                    job.log(format!(
                        "Reading the table of contents and every data block of {}",
                        path.display()
                    ));
                    result = crate::backup::verify::verify(&path, cancel).await;
                }
                if restore_test {
                    if let Ok(read) = result {
                        let log: &crate::backup::Log = &*job;
                        result = crate::backup::verify::restore_test(&url, &path, log, cancel)
                            .await
                            .map(|tested| format!("{read}; {tested}"));
                    }
                }
                // A cancelled check found nothing: the manifest keeps what it knew.
                if matches!(result, Err(crate::backup::BackupError::Cancelled(_))) {
                    return result.map_err(|e| JobFailure::new(e.to_string()));
                }
                let found = match &result {
                    Ok(summary) if restore_test => Verification::RestoreTested(
                        summary.split("; ").last().unwrap_or_default().to_string(),
                    ),
                    Ok(_) => Verification::Verified,
                    Err(e) => Verification::Failed(e.to_string()),
                };
                job.set_output(JobOutput::Verification(found.clone()));
                if let Some(mut m) = manifest {
                    m.verification = found.clone();
                    if let Err(e) = crate::backup::archive::write_manifest(&path, &m) {
                        job.log(format!(
                            "Warning: the result was not saved in the manifest: {e}"
                        ));
                    }
                }
                result.map_err(|e| JobFailure::new(e.to_string()))
            })
            .await?)
    }
}
