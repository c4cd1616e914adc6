//! The one way the console replaces a small file (a manifest, a job record, the sessions):
//! written whole under a random temporary name beside it, opened `O_CREAT|O_EXCL|O_NOFOLLOW`
//! with mode 0600, synced, then renamed over the old one, and the folder synced, so a crash
//! leaves the old file or the new one and never half of either.

use std::io::Write;
use std::path::{Path, PathBuf};

pub fn write_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(
        ".{name}.{}.tmp",
        crate::auth::random_token().get(..12).unwrap_or("tmp")
    ));
    let written = create_private(&tmp).and_then(|mut f| {
        f.write_all(body)?;
        f.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `dir` and any missing parents with mode 0700: archives, the audit log and job
/// records are for the console's user alone. A folder that was already there is brought to
/// 0700 too when the console's user owns it (said in one log line), and refused when it is
/// open to others and belongs to someone else: made by hand or by an older version, its
/// mode would otherwise let any local user read the archives and the audit log.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    #[cfg(unix)]
    make_private(dir)?;
    Ok(())
}

/// A folder open to others that the console's user does not own. Carried inside the
/// `io::Error` of [`create_private_dir`] so a caller can give this sentence on its own
/// (see [`not_private`]) rather than wrapped in its "could not open" one.
#[derive(Clone, Debug, thiserror::Error)]
#[error("The folder {dir} is open to other users (mode {mode:04o}) and belongs to another user, so the console cannot make it private: run `chmod 700 {dir}` as its owner, or choose another folder.")]
pub struct NotPrivate {
    pub dir: String,
    pub mode: u32,
}

/// The refusal inside an error of [`create_private_dir`], if that is what it was.
pub fn not_private(e: &std::io::Error) -> Option<&NotPrivate> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<NotPrivate>())
}

#[cfg(unix)]
fn make_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // Followed if `dir` is a link: the folder the operator named is the one made private.
    let meta = std::fs::metadata(dir)?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    // Not even as root: another user's folder is theirs to change, not the console's.
    if meta.uid() != me {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            NotPrivate {
                dir: dir.display().to_string(),
                mode,
            },
        ));
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    tracing::warn!(
        "The folder {} was open to other users (mode {mode:04o}): it is now 0700, for the console's user alone.",
        dir.display()
    );
    Ok(())
}

/// Files the process creates are its user's alone, whatever the umask it was started with:
/// the archives pg_dump writes, the audit log, job records. Called once at start-up.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-mode creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// A new file only its owner can read; refuses an existing name or a symlink in its place.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_existing_open_folder_is_made_0700_and_another_users_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!(
            "holomush-private-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        let mine = root.join("mine");
        std::fs::create_dir_all(&mine).expect("dir");
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_private_dir(&mine).expect("made private");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o7777;
        assert_eq!(mode(&mine), 0o700);

        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            let theirs = root.join("theirs");
            std::fs::create_dir_all(&theirs).expect("dir");
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown nobody");
            let e = create_private_dir(&theirs).expect_err("refused");
            assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
            assert!(not_private(&e).is_some());
            assert_eq!(
                e.to_string(),
                format!(
                    "The folder {0} is open to other users (mode 0755) and belongs to another user, so the console cannot make it private: run `chmod 700 {0}` as its owner, or choose another folder.",
                    theirs.display()
                )
            );
            assert_eq!(mode(&theirs), 0o755, "left as it was");
            // Once its owner made it private, it is used as it is.
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700))
                .expect("chmod");
            create_private_dir(&theirs).expect("private now");
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_file_is_replaced_whole_private_and_nothing_else_is_left() {
        let dir = std::env::temp_dir().join(format!(
            "holomush-files-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("record.json");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second").expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("record.json")]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
