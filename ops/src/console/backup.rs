//! Backups, their checks, and the archives a person brings or removes: `backup full/schema/data`
//! with retention, `backup verify [--restore-test]`, upload, import and delete.

use std::sync::Arc;

use crate::audit::Entry;
use crate::backup::archive::ArchiveRef;
use crate::jobs::{Job, JobFailure};
use crate::model::{JobKind, JobOutput, Verification};

use super::archives::At;
use super::{Console, ConsoleError};

impl Console {
    /// Deletes an archive of the backup folder and its manifest, with its audit record (the
    /// archive's bare name as the target, however it was named).
    pub async fn delete_backup<'a>(
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
        let deleted = async {
            let found = self.archive(given).await?;
            if let At::Outside(path) = &found.at {
                return Err(ConsoleError::Refused(format!(
                    "{} is outside {}: backup delete only removes archives of the backup folder, so nothing was deleted.",
                    path.display(),
                    self.store.location()
                )));
            }
            Ok(self.store.delete(&found.name).await?)
        };
        match deleted.await {
            Ok(()) => {
                self.record(entry);
                Ok(format!("Deleted {name}."))
            }
            Err(e) => {
                self.record(entry.failed(e.to_string()));
                Err(e)
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
        let result = crate::backup::upload::receive(
            chunks,
            self.store.as_ref(),
            name,
            self.config.upload_limit_bytes,
            actor,
        )
        .await;
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
        let found = self.archive(ArchiveRef::Path(path)).await.map_err(refuse)?;
        let At::Outside(outside) = &found.at else {
            return Err(refuse(ConsoleError::Refused(format!(
                "{} is already in the backup folder: nothing to import (see `holomush-admin backup list`).",
                found.name
            ))));
        };
        // O_NOFOLLOW: the file read is the one `locate` checked, not a link swapped in since.
        let mut open = std::fs::OpenOptions::new();
        std::os::unix::fs::OpenOptionsExt::custom_flags(open.read(true), libc::O_NOFOLLOW);
        let file = open.open(outside).map_err(|e| {
            refuse(ConsoleError::Failed(format!(
                "{} could not be opened: {e}. Nothing was imported.",
                outside.display()
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
                        store: cx.store.as_ref(),
                        kind,
                        by: &cx.by,
                        safety: false,
                        seal: &cx.seal,
                    };
                    let m = crate::backup::dump::dump(req, log, job.cancel_token())
                        .await
                        .map_err(JobFailure::from)?;
                    // Retention runs only after a backup succeeded.
                    if let Ok(all) =
                        crate::backup::catalog::list_trusted(cx.store.as_ref(), &cx.seal).await
                    {
                        for file in
                            crate::backup::retention::plan(&all, retention, chrono::Utc::now())
                        {
                            match cx.store.delete(&file).await {
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
    /// the result is kept in the archive's manifest. A test restore runs the archive's SQL,
    /// so one the console did not make needs the live database's name typed, as a restore
    /// does.
    pub async fn start_verify<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
        check: Check<'_>,
        actor: &str,
    ) -> Result<Arc<Job>, ConsoleError> {
        let given = archive.into();
        let (found, note) = match check {
            Check::Blocks => {
                let found = self.archive(given).await?;
                let note = self.in_place_note(&found);
                (found, note)
            }
            Check::RestoreTest { confirm } => {
                let found = self.archive(given).await?;
                let origin = found.origin(&self.seal);
                let database = self.config.database_url.database();
                if !origin.by_console() && confirm.map(str::trim) != Some(database) {
                    return Err(ConsoleError::Refused(
                        crate::backup::trust::unconfirmed_test(&found.name, database),
                    ));
                }
                let note = self.restore_note(&found, &origin);
                (found, note)
            }
        };
        let restore_test = matches!(check, Check::RestoreTest { .. });
        let restore_as = self.config.restore_as;
        let name = found.name.clone();
        let url = self.config.database_url.clone();
        let seal = self.seal.clone();
        let store = self.store.clone();
        let kind = if restore_test {
            JobKind::BackupRestoreTest
        } else {
            JobKind::BackupVerify
        };
        Ok(self
            .jobs
            .start_noted(kind, actor, &name.clone(), note, move |job| async move {
                let manifest = match &found.at {
                    At::Store(stored) => crate::backup::trust::manifest_of(stored),
                    At::Outside(_) => None,
                };
                let cancel = job.cancel_token();
                // Held from the sha256 check to the last read, as a restore holds it: the
                // verdict is about the bytes that were checked.
                let local = found
                    .local(store.as_ref())
                    .await
                    .and_then(crate::backup::store::LocalCopy::hold)
                    .map_err(JobFailure::from)?;
                let path = local.path();
                if manifest.is_some() {
                    job.log("Checking the archive's sha256 against its manifest");
                }
                let mut result =
                    crate::backup::trust::check_sha256(path, &name, manifest.as_ref(), cancel)
                        .await
                        .map(|()| String::new());
                if result.is_ok() {
                    job.log(format!(
                        "Reading the table of contents and every data block of {}",
                        crate::backup::store::shown(path).display()
                    ));
                    result = crate::backup::verify::verify(path, cancel).await;
                }
                let mut tested = None;
                if restore_test {
                    if let Ok(read) = result {
                        let log: &crate::backup::Log = &*job;
                        result = match crate::backup::verify::restore_test(
                            &url, &seal, path, restore_as, log, cancel,
                        )
                        .await
                        {
                            Ok(said) => {
                                let summary = format!("{read}; {said}");
                                tested = Some(said);
                                Ok(summary)
                            }
                            Err(e) => Err(e),
                        };
                    }
                }
                // A cancelled check found nothing: the manifest keeps what it knew.
                if matches!(result, Err(crate::backup::BackupError::Cancelled(_))) {
                    return result.map_err(JobFailure::from);
                }
                let verdict = match (&result, tested) {
                    (Ok(_), Some(said)) => Verification::RestoreTested(said),
                    (Ok(_), None) => Verification::Verified,
                    (Err(e), _) => Verification::Failed(e.to_string()),
                };
                job.set_output(JobOutput::Verification(verdict.clone()));
                if let Some(mut m) = manifest {
                    m.verification = verdict;
                    if let Err(e) = store.write_manifest(&name, &m).await {
                        job.log(format!(
                            "Warning: the result was not saved in the manifest: {e}"
                        ));
                    }
                }
                result.map_err(JobFailure::from)
            })
            .await?)
    }
}

/// What a verification reads.
#[derive(Clone, Copy, Debug)]
pub enum Check<'a> {
    /// The table of contents and every data block (`pg_restore -f /dev/null`).
    Blocks,
    /// That, then a restore into a scratch database whose rows are counted. `confirm`: the
    /// live database's name, typed for an archive the console did not make.
    RestoreTest { confirm: Option<&'a str> },
}
