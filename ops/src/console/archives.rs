//! Which archive a person named, and whether the console may restore it: the lookup every
//! action on an archive starts with, the typed consent a foreign archive needs, the local
//! file the tools read, and the sha256 check a restore job starts with.

use std::path::PathBuf;
use std::sync::Arc;

use crate::backup::archive::ArchiveRef;
use crate::backup::store::{LocalCopy, Store, Stored};
use crate::backup::trust::Origin;
use crate::backup::BackupError;
use crate::jobs::JobFailure;
use crate::model::Manifest;

use super::{Console, ConsoleError};

/// An archive a person named: one of the store's, or (on the CLI) a file outside it that is
/// read in place, with nothing copied and nothing written beside it.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub name: String,
    pub at: At,
}

#[derive(Clone, Debug)]
pub(crate) enum At {
    Store(Box<Stored>),
    Outside(PathBuf),
}

impl Found {
    /// Where it came from; "this console" only with a manifest tagged under `seal`.
    pub fn origin(&self, seal: &crate::seal::Seal) -> Origin {
        match &self.at {
            At::Store(stored) => crate::backup::trust::origin(Some(stored), seal),
            At::Outside(_) => crate::backup::trust::origin(None, seal),
        }
    }

    /// The file pg_restore reads: the store's local copy, or the outside file itself. Held
    /// for as long as the tools read it (a temporary copy goes when it drops).
    pub async fn local(&self, store: &dyn Store) -> Result<LocalCopy, BackupError> {
        match &self.at {
            At::Store(stored) => store.local(&stored.name).await,
            At::Outside(path) => Ok(LocalCopy::own(path.clone())),
        }
    }
}

impl Console {
    /// The archive a person named (a bare name of the store, or on the CLI a path), or the
    /// sentence saying why it cannot be used. A path into the backup folder is the same
    /// archive as its bare name.
    pub(crate) async fn archive(&self, given: ArchiveRef<'_>) -> Result<Found, ConsoleError> {
        let name = match given {
            ArchiveRef::Name(name) => name.to_string(),
            ArchiveRef::Path(_) => {
                let located = crate::backup::archive::locate(&self.config.backup_dir, given)?;
                if !located.inside {
                    return Ok(Found {
                        name: located.name,
                        at: At::Outside(located.path),
                    });
                }
                located.name
            }
        };
        let stored = self.store.stat(&name).await?;
        Ok(Found {
            name,
            at: At::Store(Box::new(stored)),
        })
    }

    /// The line a job's log starts with for an archive outside the backup folder.
    pub(super) fn in_place_note(&self, found: &Found) -> Option<String> {
        match &found.at {
            At::Outside(path) => Some(format!(
                "Reading {} in place: it is outside {}, so nothing is copied and nothing is written beside it",
                path.display(),
                self.store.location()
            )),
            At::Store(_) => None,
        }
    }

    /// Restoring runs an archive's SQL with the console's role: one the console did not make
    /// goes ahead only with the target database's name typed (`confirm`).
    fn consent(
        &self,
        found: &Found,
        target: &str,
        confirm: Option<&str>,
    ) -> Result<Origin, ConsoleError> {
        let origin = found.origin(&self.seal);
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
    pub(super) fn restore_note(&self, found: &Found, origin: &Origin) -> Option<String> {
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

    /// An archive a restore (or a rehearsal) into `target` may read: found, `target` a
    /// usable name when it is a database to be made (`Target::New`), and consented to when
    /// the console did not make the archive; the job then opens it ([`Restorable::open`]).
    pub(super) async fn restorable(
        &self,
        given: ArchiveRef<'_>,
        target: Target<'_>,
        confirm: Option<&str>,
    ) -> Result<Restorable, ConsoleError> {
        let found = self.archive(given).await?;
        let target = match target {
            Target::New(name) => {
                crate::backup::restore::validate_name(name)?;
                name
            }
            Target::Live => self.config.database_url.database(),
        };
        let origin = self.consent(&found, target, confirm)?;
        Ok(Restorable {
            note: self.restore_note(&found, &origin),
            checked: Checked::new(&found, &origin),
            found,
            store: self.store.clone(),
        })
    }

    /// The warning a person must read before restoring an archive the console did not make
    /// (uploaded, copied in, or outside the folder); `None` for the console's own backups.
    pub async fn restore_warning<'a>(
        &self,
        archive: impl Into<ArchiveRef<'a>>,
    ) -> Result<Option<String>, ConsoleError> {
        let found = self.archive(archive.into()).await?;
        Ok((!found.origin(&self.seal).by_console())
            .then(|| crate::backup::trust::foreign_warning(&found.name)))
    }
}

/// The database a restore writes: a new one of that name, or the live one (in place, or a
/// rehearsal's copy of it).
#[derive(Clone, Copy)]
pub(super) enum Target<'a> {
    New(&'a str),
    Live,
}

/// An archive a job may restore, and the lines its log starts with (taken by the job runner).
pub(super) struct Restorable {
    pub note: Option<String>,
    found: Found,
    checked: Checked,
    store: Arc<dyn Store>,
}

impl Restorable {
    pub fn name(&self) -> &str {
        &self.found.name
    }

    /// The local file the tools read, once its sha256 matched its manifest's; held while
    /// they read it. Opened once before the check and named by its descriptor from then on
    /// ([`LocalCopy::hold`]), so the bytes restored are the bytes checked, whatever is put
    /// at the archive's name meanwhile.
    pub async fn open(
        &self,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<LocalCopy, JobFailure> {
        let local = self.found.local(self.store.as_ref()).await?.hold()?;
        self.checked.check(local.path(), cancel).await?;
        Ok(local)
    }
}

/// An archive a restore job will read, and the manifest that describes it (none for an
/// archive that has none): checked against its sha256 before anything is restored.
struct Checked {
    pub name: String,
    pub manifest: Option<Manifest>,
}

impl Checked {
    pub fn new(found: &Found, origin: &Origin) -> Self {
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
            .map_err(JobFailure::from)
    }
}
