//! Archive names and paths in the backup folder, sidecar manifests, and a writer that never
//! leaves a complete-looking file behind: temporary name, sha256 while writing, fsync, rename.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Local};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{BackupError, BackupKind, Manifest};

pub const EXT: &str = ".dump";
const PARTIAL: &str = ".partial";

/// The longest archive name the console takes: room for `.json` and a temporary suffix
/// within a file system's 255-byte name limit.
pub const NAME_MAX: usize = 200;

/// Whether `c` may appear in an archive name: `[A-Za-z0-9._-]`, nothing a shell, a URL, a
/// header or SQL would read differently.
fn safe_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// The one rule for archive names, whoever gives them (an upload, a page, a route, the
/// CLI): `[A-Za-z0-9._-]`, not starting with `.` or `-`, ending `.dump`, at most
/// [`NAME_MAX`] bytes.
pub fn check_name(name: &str) -> Result<(), BackupError> {
    let ok = name.len() <= NAME_MAX
        && name.len() > EXT.len()
        && name.ends_with(EXT)
        && !name.starts_with(['.', '-'])
        && name.chars().all(safe_char);
    if ok {
        return Ok(());
    }
    Err(BackupError::Refused(format!(
        "\"{}\" is not an archive name: use letters, digits, '.', '_' and '-' (not first), at most {NAME_MAX} bytes, ending in .dump, e.g. holomush_20260101_120000.dump.",
        shown(name)
    )))
}

/// A name as a sentence may quote it: control characters escaped, at most 80 characters.
pub fn shown(name: &str) -> String {
    let escaped: String = name.chars().flat_map(char::escape_debug).collect();
    match escaped.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &escaped[..i]),
        None => escaped,
    }
}

/// The seed's names: `holomush_YYYYMMDD_HHMMSS.dump`, `holomush_schema_…`, `holomush_data_…`.
/// A database name with characters outside the archive-name set has them replaced by `_`.
pub fn file_name(kind: BackupKind, database: &str, at: DateTime<Local>) -> String {
    let stamp = at.format("%Y%m%d_%H%M%S");
    let database: String = database
        .chars()
        .take(120)
        .map(|c| if safe_char(c) { c } else { '_' })
        .collect();
    let database = database.trim_start_matches(['.', '-']);
    match kind {
        BackupKind::Full => format!("{database}_{stamp}{EXT}"),
        BackupKind::Schema => format!("{database}_schema_{stamp}{EXT}"),
        BackupKind::Data => format!("{database}_data_{stamp}{EXT}"),
    }
}

/// The path of an archive named by a user: a bare, well-formed `NAME.dump` inside the
/// folder, nothing else.
pub fn resolve(dir: &Path, name: &str) -> Result<PathBuf, BackupError> {
    check_name(name)?;
    Ok(dir.join(name))
}

/// How a person named an archive: the pages give bare names of the backup folder; the CLI
/// also takes a path, as the operators' guide writes them (`./backups/holomush_….dump`).
#[derive(Clone, Copy, Debug)]
pub enum ArchiveRef<'a> {
    Name(&'a str),
    Path(&'a Path),
}

impl<'a> ArchiveRef<'a> {
    /// A command-line argument: a path when it holds a folder separator, else a name.
    pub fn from_cli(arg: &'a str) -> Self {
        if arg.contains('/') {
            ArchiveRef::Path(Path::new(arg))
        } else {
            ArchiveRef::Name(arg)
        }
    }
}

impl<'a> From<&'a str> for ArchiveRef<'a> {
    fn from(name: &'a str) -> Self {
        ArchiveRef::Name(name)
    }
}

impl<'a> From<&'a String> for ArchiveRef<'a> {
    fn from(name: &'a String) -> Self {
        ArchiveRef::Name(name)
    }
}

/// An archive found: its path, the name the audit log and pages use, and whether it is one
/// of the backup folder's (else it is read in place, and nothing is written beside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub path: PathBuf,
    pub name: String,
    pub inside: bool,
}

/// Finds the archive a person named: a bare name inside `dir`, or a path to a regular file
/// (never a symbolic link). A path into `dir` is the same archive as its bare name.
pub fn locate(dir: &Path, given: ArchiveRef<'_>) -> Result<Located, BackupError> {
    let missing = |what: &str| {
        BackupError::Missing(format!(
            "There is no archive {what}: check the name with `holomush-admin backup list`."
        ))
    };
    let path = match given {
        ArchiveRef::Name(name) => {
            let path = resolve(dir, name)?;
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(BackupError::Refused(format!(
                        "{name} in {} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).",
                        dir.display()
                    )))
                }
                Ok(m) if m.is_file() => {}
                Ok(_) => {
                    return Err(BackupError::Refused(format!(
                        "{name} in {} is not a regular file (a folder or a device): the console reads only regular files of the backup folder.",
                        dir.display()
                    )))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(missing(&format!("named {name} in {}", dir.display())))
                }
                Err(e) => return Err(BackupError::io(&format!("Reading {}", path.display()), e)),
            }
            return Ok(Located {
                path,
                name: name.to_string(),
                inside: true,
            });
        }
        ArchiveRef::Path(p) => p,
    };
    let shown = path.display();
    let meta = std::fs::symlink_metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => missing(&format!("at {shown}")),
        _ => BackupError::io(&format!("Reading {shown}"), e),
    })?;
    if meta.file_type().is_symlink() {
        return Err(BackupError::Refused(format!(
            "{shown} is a symbolic link: give the archive file itself (links are not followed)."
        )));
    }
    if !meta.is_file() {
        return Err(BackupError::Refused(format!(
            "{shown} is not a file: give a pg_dump -Fc archive."
        )));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            BackupError::Refused(format!(
                "{shown} has no usable file name: rename it to something like holomush_20260101_120000.dump."
            ))
        })?
        .to_string();
    check_name(&name)?;
    let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    let parent = parent
        .canonicalize()
        .map_err(|e| BackupError::io(&format!("Reading the folder of {shown}"), e))?;
    if dir.canonicalize().is_ok_and(|d| d == parent) {
        return Ok(Located {
            path: resolve(dir, &name)?,
            name,
            inside: true,
        });
    }
    Ok(Located {
        path: parent.join(&name),
        name,
        inside: false,
    })
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
    let body = serde_json::to_vec_pretty(m)
        .map_err(|e| BackupError::Io(format!("Writing the manifest failed: {e}.")))?;
    crate::files::write_atomic(&path, &body)
        .map_err(|e| BackupError::io(&format!("Writing {}", path.display()), e))
}

/// Deletes an archive of the backup folder and its manifest; a file outside the folder is
/// refused (the console only removes what is in its care).
pub fn delete<'a>(dir: &Path, given: impl Into<ArchiveRef<'a>>) -> Result<(), BackupError> {
    let found = locate(dir, given.into())?;
    if !found.inside {
        return Err(BackupError::Refused(format!(
            "{} is outside HOLOMUSH_BACKUP_DIR ({}): backup delete only removes archives of the backup folder, so nothing was deleted.",
            found.path.display(),
            dir.display()
        )));
    }
    match std::fs::remove_file(&found.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BackupError::Missing(format!(
                "There is no archive named {} in {}.",
                found.name,
                dir.display()
            )))
        }
        Err(e) => {
            return Err(BackupError::io(
                &format!("Deleting {}", found.path.display()),
                e,
            ))
        }
    }
    let _ = std::fs::remove_file(manifest_path(&found.path));
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
            Some(pid) => !crate::process::pid_alive(pid),
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
            crate::files::create_private_dir(dir)
                .map_err(|e| BackupError::io(&format!("Creating {}", dir.display()), e))?;
        }
        // lstat: a link (even a dangling one) or a folder of that name counts as taken.
        if std::fs::symlink_metadata(final_path).is_ok() {
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
        // Only ours: never an existing file (a second writer of the same name), never a link.
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        let file = opts.open(&tmp).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                BackupError::Refused(format!(
                    "{} is already being written (another backup or upload of that name is in progress): nothing was overwritten.",
                    final_path.display()
                ))
            } else {
                BackupError::io(&format!("Creating {}", tmp.display()), e)
            }
        })?;
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

    /// The archive's final path.
    pub fn path(&self) -> &Path {
        &self.final_path
    }

    /// The temporary file the bytes are in until [`Self::finish`]: readable once
    /// [`Self::sync`] returned, to check what arrived before it takes its name.
    pub fn partial_path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes and fsyncs what was written; writing after this is refused.
    pub async fn sync(&mut self) -> Result<(), BackupError> {
        if let Some(mut file) = self.file.take() {
            file.flush()
                .await
                .map_err(|e| BackupError::io("Flushing the archive", e))?;
            file.sync_all()
                .await
                .map_err(|e| BackupError::io("Syncing the archive to disk", e))?;
        }
        Ok(())
    }

    /// fsync, then give the file its name — never over an existing file (another writer
    /// that finished first keeps its archive); returns the sha256.
    pub async fn finish(mut self) -> Result<String, BackupError> {
        self.sync().await?;
        // A hard link fails when the name is taken, where a rename would replace it.
        match std::fs::hard_link(&self.tmp, &self.final_path) {
            Ok(()) => {
                let _ = std::fs::remove_file(&self.tmp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(BackupError::Refused(format!(
                    "{} was written by someone else meanwhile: theirs was kept and this copy discarded.",
                    self.final_path.display()
                )));
            }
            // A file system without hard links: a rename after a last look.
            Err(_) => {
                if std::fs::symlink_metadata(&self.final_path).is_ok() {
                    return Err(BackupError::Refused(format!(
                        "{} was written by someone else meanwhile: theirs was kept and this copy discarded.",
                        self.final_path.display()
                    )));
                }
                tokio::fs::rename(&self.tmp, &self.final_path)
                    .await
                    .map_err(|e| BackupError::io(&format!("Renaming {}", self.tmp.display()), e))?;
            }
        }
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
            "-x.dump",
            "a b.dump",
            "quote\".dump",
            "nul\0.dump",
            ".dump",
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
        assert!(resolve(dir, &format!("{}.dump", "a".repeat(NAME_MAX - 5))).is_ok());
        assert!(resolve(dir, &format!("{}.dump", "a".repeat(NAME_MAX - 4))).is_err());
    }
}
