//! The console's own key: 32 random bytes in its data folder, readable by its user alone.
//! What the console writes where others can write too — a marker in a database comment (any
//! session of its role can set one), a manifest beside an archive (anyone who can copy a
//! file into the folder) — carries an HMAC-SHA256 tag under this key, so the console acts
//! only on what it wrote itself. Each console holds its own [`Seal`]: tests run many
//! consoles with different data folders in one process, so there is no global.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key's file in the data folder.
pub const FILE_NAME: &str = "seal.key";

const KEY_LEN: usize = 32;

/// Why the key could not be used or made, as one sentence.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A key is there but is not one the console may trust; nothing was changed.
    #[error("{0}")]
    Unsafe(String),
    /// The data folder could not be read or written.
    #[error("The console's key {} could not be {what} ({source}): check that HOLOMUSH_ADMIN_DATA names a writable folder.", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
}

impl crate::error::Kind for SealError {
    /// The console cannot start without its key: the folder or the file needs a person.
    fn kind(&self) -> crate::error::ErrorKind {
        crate::error::ErrorKind::Failed
    }
}

/// The key, and the tags made with it.
#[derive(Clone)]
pub struct Seal {
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl Seal {
    /// The key of `data_dir`, made the first time it is needed. Two processes starting at
    /// once end with the same key: each writes its own temporary file and links it to the
    /// key's name, which only the first can do; the other reads the winner's.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, SealError> {
        let path = data_dir.join(FILE_NAME);
        // A link can fail with "exists" only because another process made the key, so the
        // second read finds it; three rounds only guard against a key removed in between.
        for _ in 0..3 {
            if let Some(seal) = read(&path)? {
                return Ok(seal);
            }
            create(data_dir, &path)?;
        }
        Err(SealError::Unsafe(format!(
            "The console's key {} disappears as soon as it is made: check what else writes to {}.",
            path.display(),
            data_dir.display()
        )))
    }

    /// The hex HMAC-SHA256 of `bytes` for `context` (what the bytes are, so a tag made for
    /// one kind of thing never verifies as another).
    pub fn tag(&self, context: &str, bytes: &[u8]) -> String {
        hex::encode(self.mac(context, bytes).finalize().into_bytes())
    }

    /// Whether `tag` is this key's for `context` and `bytes`, compared in constant time.
    pub fn verify(&self, context: &str, bytes: &[u8], tag: &str) -> bool {
        let Ok(given) = hex::decode(tag) else {
            return false;
        };
        self.mac(context, bytes).verify_slice(&given).is_ok()
    }

    fn mac(&self, context: &str, bytes: &[u8]) -> Hmac<Sha256> {
        // HMAC pads a short key with zeros to the hash's block: the same MAC as the 32
        // bytes alone, with no length to get wrong.
        let mut block = [0u8; 64];
        block[..KEY_LEN].copy_from_slice(&self.key);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        mac.update(&(context.len() as u64).to_be_bytes());
        mac.update(context.as_bytes());
        mac.update(bytes);
        mac
    }
}

/// Fields joined so that no two different lists give the same bytes (each is length-prefixed).
pub fn fields(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u64).to_be_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    out
}

/// The key at `path`, `None` when there is none yet; refused when it is a link, not a plain
/// file, not the console's user's alone, or not 32 bytes.
fn read(path: &Path) -> Result<Option<Seal>, SealError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW);
    }
    let shown = path.display();
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is a link all the same.
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(link(path));
            }
            return Ok(None);
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(link(path)),
        Err(source) => {
            return Err(SealError::Io {
                path: path.to_path_buf(),
                what: "read",
                source,
            })
        }
    };
    let io = |source| SealError::Io {
        path: path.to_path_buf(),
        what: "read",
        source,
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(SealError::Unsafe(format!(
            "The console's key {shown} is not a plain file: remove it and start again, and a new key is made."
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SealError::Unsafe(format!(
                "The console's key {shown} has mode {mode:04o}, so others may read it: make it the console's user's alone (chmod 600 {shown}), or remove it if someone else may have read it."
            )));
        }
        // SAFETY: geteuid only reads the process's effective user id; it cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(SealError::Unsafe(format!(
                "The console's key {shown} belongs to user {} and the console runs as {me}: only the console's user may own it; remove it and start again.",
                meta.uid()
            )));
        }
    }
    let mut key = Vec::with_capacity(KEY_LEN + 1);
    Read::by_ref(&mut file)
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut key)
        .map_err(io)?;
    let Ok(key) = <[u8; KEY_LEN]>::try_from(key.as_slice()) else {
        return Err(SealError::Unsafe(format!(
            "The console's key {shown} is {} bytes, not {KEY_LEN}: it is damaged; remove it and start again, and a new key is made.",
            if key.len() > KEY_LEN { format!("over {KEY_LEN}") } else { key.len().to_string() }
        )));
    };
    Ok(Some(Seal { key }))
}

fn link(path: &Path) -> SealError {
    SealError::Unsafe(format!(
        "The console's key {} is a symbolic link: it must be a plain file in the data folder; remove the link and start again, and a new key is made.",
        path.display()
    ))
}

/// Writes a new key whole under a temporary name (0600) and links it to `path`; when
/// another process linked its key first, ours is thrown away.
fn create(dir: &Path, path: &Path) -> Result<(), SealError> {
    let io = |what, source| SealError::Io {
        path: path.to_path_buf(),
        what,
        source,
    };
    crate::files::create_private_dir(dir).map_err(|e| io("made", e))?;
    let mut key = [0u8; KEY_LEN];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let tmp = dir.join(format!(
        ".{FILE_NAME}.{}.tmp",
        crate::auth::random_token().get(..12).unwrap_or("tmp")
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(&key)?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io("made", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "holomush-seal-{name}-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn tags_verify_only_for_their_key_context_and_bytes() {
        let a = Seal { key: [1; KEY_LEN] };
        let b = Seal { key: [2; KEY_LEN] };
        let t = a.tag("marker", b"db");
        assert_eq!(t.len(), 64);
        assert!(a.verify("marker", b"db", &t));
        assert!(!b.verify("marker", b"db", &t), "another console's key");
        assert!(!a.verify("manifest", b"db", &t), "another kind of thing");
        assert!(!a.verify("marker", b"db2", &t), "other bytes");
        assert!(!a.verify("marker", b"db", "not hex"));
        assert!(!a.verify("marker", b"db", ""));
        assert_ne!(fields(&["ab", "c"]), fields(&["a", "bc"]));
        assert_eq!(format!("{a:?}"), "Seal(..)", "the key is never printed");
    }

    #[test]
    fn racing_processes_end_with_one_key() {
        let dir = temp_dir("race");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || Seal::load_or_create(&dir).map(|s| s.key))
            })
            .collect();
        let keys: Vec<[u8; KEY_LEN]> = threads
            .into_iter()
            .map(|t| t.join().expect("thread").expect("key"))
            .collect();
        assert!(keys.iter().all(|k| *k == keys[0]), "one key for all");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from(FILE_NAME)],
            "no temporary left"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_is_made_0600_and_an_unsafe_one_is_refused_with_its_sentence() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("modes");
        let made = Seal::load_or_create(&dir).expect("made");
        let path = dir.join(FILE_NAME);
        let meta = std::fs::metadata(&path).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 32);
        let again = Seal::load_or_create(&dir).expect("read back");
        assert_eq!(made.key, again.key, "the same key on the next start");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = Seal::load_or_create(&dir).expect_err("refused");
        let shown = path.display();
        assert_eq!(
            e.to_string(),
            format!("The console's key {shown} has mode 0644, so others may read it: make it the console's user's alone (chmod 600 {shown}), or remove it if someone else may have read it.")
        );
        assert_eq!(
            std::fs::read(&path).expect("kept"),
            made.key,
            "a refused key is not replaced"
        );

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::write(&path, b"short").expect("damage");
        let e = Seal::load_or_create(&dir).expect_err("refused");
        assert_eq!(
            e.to_string(),
            format!("The console's key {shown} is 5 bytes, not 32: it is damaged; remove it and start again, and a new key is made.")
        );

        std::fs::remove_file(&path).expect("rm");
        let elsewhere = dir.join("elsewhere.key");
        std::fs::write(&elsewhere, [7u8; 32]).expect("write");
        std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        std::os::unix::fs::symlink(&elsewhere, &path).expect("link");
        let e = Seal::load_or_create(&dir).expect_err("refused");
        assert_eq!(
            e.to_string(),
            format!("The console's key {shown} is a symbolic link: it must be a plain file in the data folder; remove the link and start again, and a new key is made.")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
