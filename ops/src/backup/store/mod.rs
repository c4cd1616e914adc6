//! Where backup sets live, behind one trait: today's folder (HOLOMUSH_BACKUP_DIR), an
//! in-memory store for unit tests, and next a bucket. The console holds one
//! `Arc<dyn Store>`, as crates.io's storage holds one `Arc<dyn ObjectStore>`, so pages, the
//! CLI, file routes, retention, verify and restore never name a folder; each implementation
//! passes the same [`suite`], as every golang-migrate driver passes `database/testing`.
//!
//! A store keeps archives by bare name (the one rule is [`super::archive::check_name`]) and,
//! beside each, the raw sidecar manifest; whether a manifest describes the archive beside it
//! is the caller's question ([`super::trust`]), not the store's.

use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncRead, AsyncWriteExt};

use super::{BackupError, Manifest};

mod folder;
mod memory;
#[cfg(any(test, feature = "testing"))]
pub mod suite;

pub use folder::FolderStore;
pub use memory::MemoryStore;

/// An archive's bytes as they are read from a store (a download streams them).
pub type Reader = Pin<Box<dyn AsyncRead + Send>>;

/// An archive as a store holds it. The manifest is the raw sidecar, if any: callers decide
/// whether it describes this archive (its `file` and `size`).
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub name: String,
    pub size: u64,
    pub modified: DateTime<Utc>,
    pub manifest: Option<Manifest>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The store as a sentence to an operator names it: "HOLOMUSH_BACKUP_DIR (/srv/backups)",
    /// "memory".
    fn location(&self) -> String;

    /// What follows "in" when a sentence places an archive: "/srv/backups" ("There is no
    /// archive named x.dump in /srv/backups"), "memory".
    fn place(&self) -> String;

    /// One archive as a sentence names it: "/srv/backups/x.dump" ("… already exists"),
    /// "x.dump in memory".
    fn named(&self, name: &str) -> String;

    /// Every complete archive: never one being written, nor a link or a non-file, nor a name
    /// `check_name` refuses. In no particular order; a folder not created yet holds none.
    async fn list(&self) -> Result<Vec<Stored>, BackupError>;

    /// One archive by bare name: `Refused` for a bad name, a symbolic link or a non-regular
    /// file; `Missing` when there is none.
    async fn stat(&self, name: &str) -> Result<Stored, BackupError>;

    /// Starts writing `name`, exclusively: refuses a name that exists or is being written.
    /// A stale sidecar of that name (its archive gone) is removed, so it is never adopted.
    async fn create(&self, name: &str) -> Result<Box<dyn SetWriter>, BackupError>;

    /// The archive's bytes and their count. The folder opens it `O_NOFOLLOW`, so the file
    /// read is the one checked, not a link swapped in since.
    async fn open(&self, name: &str) -> Result<(u64, Reader), BackupError>;

    /// Writes (or replaces) the sidecar manifest of `name`.
    async fn write_manifest(&self, name: &str, m: &Manifest) -> Result<(), BackupError>;

    /// Removes the archive and its manifest; `Missing` when there is no archive.
    async fn delete(&self, name: &str) -> Result<(), BackupError>;

    /// A local, seekable file of the archive, as `pg_restore -j` needs: the folder gives its
    /// own path (nothing copied); other stores copy into a private temporary file that is
    /// removed when the [`LocalCopy`] drops.
    async fn local(&self, name: &str) -> Result<LocalCopy, BackupError>;

    /// Removes what writers killed mid-way left; returns the names removed.
    async fn sweep(&self) -> Vec<String>;
}

/// An archive being written. Dropped before [`SetWriter::finish`], it leaves nothing.
#[async_trait]
pub trait SetWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BackupError>;

    /// Bytes written so far.
    fn size(&self) -> u64;

    /// A local file holding everything written, flushed to disk, so an upload can be read
    /// whole by pg_restore before it takes its name. Writing after this is refused.
    async fn staged(&mut self) -> Result<&Path, BackupError>;

    /// Gives the archive its name, never over an existing one (whoever finished first keeps
    /// theirs); returns the sha256 of the bytes, in hex.
    async fn finish(self: Box<Self>) -> Result<String, BackupError>;
}

/// A local file of an archive; a temporary copy is removed when this drops.
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    _temp: Option<TempFile>,
    /// The file opened once, when [`LocalCopy::hold`] named it by its descriptor.
    _held: Option<std::fs::File>,
}

impl LocalCopy {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store's own file: nothing to remove afterwards.
    pub(crate) fn own(path: PathBuf) -> Self {
        Self {
            path,
            _temp: None,
            _held: None,
        }
    }

    pub(crate) fn temporary(temp: TempFile) -> Self {
        Self {
            path: temp.path.clone(),
            _temp: Some(temp),
            _held: None,
        }
    }

    /// The file opened once, now (`O_NOFOLLOW`: a link at its name is refused, never
    /// followed; and it must be a regular file), and from here on named by this process's
    /// descriptor, `/proc/PID/fd/N`. Every later open of that name (the sha256 check, the
    /// table of contents, pg_restore and each of its `-j` workers, which reopen the archive
    /// by name) reaches this very file, whatever is renamed over or linked at the archive's
    /// name meanwhile: so the bytes restored are the bytes checked.
    ///
    /// Chosen over copying the archive into a private file while hashing it, which would do
    /// as well without `/proc` but needs a second archive's room in the temporary folder and
    /// a full extra write before every restore (measured for 100 MB: 0.35 s to hash, 0.51 s
    /// to hash and copy, on a fast disk with the file cached; a multi-GB archive on a full
    /// disk would fail). `/proc` is there wherever the console runs (its process checks read
    /// it too), and the file stays open until this drops.
    pub fn hold(mut self) -> Result<Self, BackupError> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        use std::os::unix::io::AsRawFd;
        let shown = self.path.display().to_string();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => BackupError::Refused(format!(
                    "{shown} is a symbolic link: only a regular file is read, so it is not used. Nothing was changed."
                )),
                _ => BackupError::io(&format!("Opening {shown}"), e),
            })?;
        let meta = file
            .metadata()
            .map_err(|e| BackupError::io(&format!("Reading {shown}"), e))?;
        if !meta.is_file() {
            return Err(BackupError::Refused(format!(
                "{shown} is not a regular file, so it is not used. Nothing was changed."
            )));
        }
        let by_fd = PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            file.as_raw_fd()
        ));
        // The name must reach this file, or the tools would read something else.
        let same =
            std::fs::metadata(&by_fd).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino());
        if !same {
            return Err(BackupError::Io(format!(
                "{shown} could not be held open for the restore ({} does not lead to it: is /proc mounted?). Nothing was changed.",
                by_fd.display()
            )));
        }
        held_names().insert(by_fd.clone(), self.path.clone());
        Ok(Self {
            path: by_fd,
            _temp: self._temp.take(),
            _held: Some(file),
        })
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self._held.is_some() {
            held_names().remove(&self.path);
        }
    }
}

/// What a held archive's `/proc/PID/fd/N` stands for, while it is held.
fn held_names() -> std::sync::MutexGuard<'static, std::collections::HashMap<PathBuf, PathBuf>> {
    static NAMES: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<PathBuf, PathBuf>>,
    > = std::sync::OnceLock::new();
    NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The path a person knows an archive by: a held archive's own path rather than the
/// descriptor the tools read it through.
pub fn shown(path: &Path) -> PathBuf {
    held_names()
        .get(path)
        .cloned()
        .unwrap_or_else(|| path.to_path_buf())
}

/// A private (0600) file under the system's temporary folder, removed on drop: the local
/// copies of stores that hold no files of their own.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// A new file holding `bytes`, synced.
    pub(crate) async fn holding(bytes: &[u8]) -> Result<Self, BackupError> {
        let path = std::env::temp_dir().join(format!(
            "holomush-archive-{}.dump",
            crate::auth::random_token().get(..16).unwrap_or("copy")
        ));
        // Only ours: never an existing file, never a link planted under the name.
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        let mut file = opts
            .open(&path)
            .await
            .map_err(|e| BackupError::io(&format!("Creating {}", path.display()), e))?;
        // From here on a failure removes the file.
        let temp = Self { path };
        let written = async {
            file.write_all(bytes).await?;
            file.flush().await?;
            file.sync_all().await
        };
        written
            .await
            .map_err(|e| BackupError::io(&format!("Writing {}", temp.path.display()), e))?;
        Ok(temp)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

// The folder's sentences, for stores that have no folder: the folder's own come from
// `archive` (`locate`, `Writer`), and the suite holds every store to the same words.

pub(crate) fn missing(name: &str, place: &str) -> BackupError {
    BackupError::Missing(format!(
        "There is no archive named {name} in {place}: check the name with `holomush-admin backup list`."
    ))
}

pub(crate) fn taken(named: &str) -> BackupError {
    BackupError::Refused(format!("{named} already exists: nothing was overwritten."))
}

pub(crate) fn busy(named: &str) -> BackupError {
    BackupError::Refused(format!(
        "{named} is already being written (another backup or upload of that name is in progress): nothing was overwritten."
    ))
}

pub(crate) fn raced(named: &str) -> BackupError {
    BackupError::Refused(format!(
        "{named} was written by someone else meanwhile: theirs was kept and this copy discarded."
    ))
}

pub(crate) fn closed() -> BackupError {
    BackupError::Io("The archive was already closed.".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_archive_is_the_file_opened_whatever_is_put_at_its_name_since() {
        let dir = std::env::temp_dir().join(format!(
            "holomush-held-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let name = dir.join("a.dump");
        std::fs::write(&name, b"PGDMP checked").expect("archive");
        let held = LocalCopy::own(name.clone()).hold().expect("held");
        assert!(
            held.path().starts_with("/proc/"),
            "{}",
            held.path().display()
        );

        // Another file renamed over the name: the held name still reads the first.
        let other = dir.join("other.dump");
        std::fs::write(&other, b"PGDMP swapped in").expect("other");
        std::fs::rename(&other, &name).expect("swap");
        assert_eq!(std::fs::read(held.path()).expect("read"), b"PGDMP checked");
        assert_eq!(std::fs::read(&name).expect("read"), b"PGDMP swapped in");
        drop(held);

        // A link at the name is refused, not followed.
        let link = dir.join("link.dump");
        std::os::unix::fs::symlink(&name, &link).expect("link");
        let e = LocalCopy::own(link.clone()).hold().expect_err("refused");
        assert_eq!(
            e.to_string(),
            format!(
                "{} is a symbolic link: only a regular file is read, so it is not used. Nothing was changed.",
                link.display()
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
