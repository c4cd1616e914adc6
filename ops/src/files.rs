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

/// Creates `dir` and any missing parents with mode 0700 (folders that already exist keep
/// theirs): archives, the audit log and job records are for the console's user alone.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
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
