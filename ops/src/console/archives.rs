//! Which archive a person named, and whether the console may restore it: the lookup every
//! action on an archive starts with, the typed consent a foreign archive needs, and the
//! sha256 check a restore job starts with.

use crate::backup::archive::{ArchiveRef, Located};
use crate::backup::trust::Origin;
use crate::jobs::JobFailure;
use crate::model::Manifest;

use super::{Console, ConsoleError};

impl Console {
    /// The archive a person named (a bare name, or on the CLI a path), or the sentence
    /// saying why it cannot be used.
    pub(super) fn archive(&self, given: ArchiveRef<'_>) -> Result<Located, ConsoleError> {
        Ok(crate::backup::archive::locate(
            &self.config.backup_dir,
            given,
        )?)
    }

    /// The line a job's log starts with for an archive outside the backup folder.
    pub(super) fn in_place_note(&self, a: &Located) -> Option<String> {
        (!a.inside).then(|| {
            format!(
                "Reading {} in place: it is outside HOLOMUSH_BACKUP_DIR ({}), so nothing is copied and nothing is written beside it",
                a.path.display(),
                self.config.backup_dir.display()
            )
        })
    }

    /// Restoring runs an archive's SQL with the console's role: one the console did not make
    /// goes ahead only with the target database's name typed (`confirm`).
    pub(super) fn consent(
        &self,
        found: &Located,
        target: &str,
        confirm: Option<&str>,
    ) -> Result<Origin, ConsoleError> {
        let origin = crate::backup::trust::origin(found);
        if origin.by_console() || confirm.map(str::trim) == Some(target) {
            return Ok(origin);
        }
        Err(ConsoleError::Refused(crate::backup::trust::unconfirmed(
            &found.name,
            target,
        )))
    }

    /// The lines a restore job's log starts with: where the archive is read, and whether
    /// the console made it.
    pub(super) fn restore_note(&self, found: &Located, origin: &Origin) -> Option<String> {
        let foreign = (!origin.by_console()).then(|| {
            format!(
                "Warning: {}",
                crate::backup::trust::foreign_warning(&found.name)
            )
        });
        match (self.in_place_note(found), foreign) {
            (Some(a), Some(b)) => Some(format!("{a}. {b}")),
            (a, b) => a.or(b),
        }
    }

    /// The warning a person must read before restoring an archive the console did not make
    /// (uploaded, copied in, or outside the folder); `None` for the console's own backups.
    pub fn restore_warning<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
    ) -> Result<Option<String>, ConsoleError> {
        let found = self.archive(archive.into())?;
        Ok((!crate::backup::trust::origin(&found).by_console())
            .then(|| crate::backup::trust::foreign_warning(&found.name)))
    }
}

/// An archive a restore job will read, and the manifest that describes it (none for an
/// archive that has none): checked against its sha256 before anything is restored.
pub(super) struct Checked {
    pub name: String,
    pub manifest: Option<Manifest>,
}

impl Checked {
    pub fn new(found: &Located, origin: &Origin) -> Self {
        Self {
            name: found.name.clone(),
            manifest: origin.manifest().cloned(),
        }
    }

    pub async fn check(
        &self,
        path: &std::path::Path,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(), JobFailure> {
        crate::backup::trust::check_sha256(path, &self.name, self.manifest.as_ref(), cancel)
            .await
            .map_err(|e| JobFailure::new(e.to_string()))
    }
}
