//! Whether an archive is one the console made, and whether it is still the bytes its
//! manifest describes: restoring runs the SQL an archive holds with the console's role, so
//! an archive from elsewhere (uploaded, copied in, outside the folder) needs a person's
//! typed consent, and any archive whose sha256 changed is not restored at all.
//!
//! "Made by this console" is the manifest's tag, an HMAC under the console's key over what
//! decides trust (the archive's name, size, sha256 and the flag): a manifest copied from
//! elsewhere, written by hand, or written before the console tagged them is foreign.

use std::path::Path;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use super::store::Stored;
use super::{BackupError, Manifest};
use crate::seal::Seal;

/// What a manifest's tag is made for.
const CONTEXT: &str = "holomush-admin manifest";

/// Where an archive came from, as far as the console can tell.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A backup job of this console wrote it (its manifest says so, names it, has its size and
    /// carries the console's tag over all that).
    Console(Manifest),
    /// Uploaded (the upload writes a manifest marked not by the console), copied into the
    /// folder by hand, or read from outside the folder. The manifest, when there is one that
    /// describes this file, still carries a sha256 to check.
    Elsewhere(Option<Manifest>),
}

impl Origin {
    pub fn manifest(&self) -> Option<&Manifest> {
        match self {
            Origin::Console(m) => Some(m),
            Origin::Elsewhere(m) => m.as_ref(),
        }
    }

    pub fn by_console(&self) -> bool {
        matches!(self, Origin::Console(_))
    }
}

/// The manifest stored beside an archive, when it describes this very archive (its name and
/// size); a manifest left by an archive deleted since, or copied with other bytes, is not.
pub fn manifest_of(stored: &Stored) -> Option<Manifest> {
    let m = stored.manifest.clone()?;
    (m.file == stored.name && m.size == stored.size).then_some(m)
}

/// An archive of the store (`Some`), or one read in place from outside it (`None`).
pub fn origin(stored: Option<&Stored>, seal: &Seal) -> Origin {
    let Some(stored) = stored else {
        return Origin::Elsewhere(None);
    };
    match manifest_of(stored) {
        Some(m) if m.by_console && !m.sha256.is_empty() && sealed(seal, &m) => Origin::Console(m),
        other => Origin::Elsewhere(other),
    }
}

/// What a manifest's tag covers, each field length-prefixed.
fn covered(m: &Manifest) -> Vec<u8> {
    crate::seal::fields(&[
        &m.file,
        &m.size.to_string(),
        &m.sha256,
        if m.by_console { "by_console" } else { "" },
    ])
}

/// The tag a manifest this console writes carries.
pub fn seal_manifest(seal: &Seal, m: &Manifest) -> String {
    seal.tag(CONTEXT, &covered(m))
}

/// The manifest's tag is this console's over its own name, size, sha256 and flag.
pub fn sealed(seal: &Seal, m: &Manifest) -> bool {
    !m.tag.is_empty() && seal.verify(CONTEXT, &covered(m), &m.tag)
}

/// What a person is told before restoring an archive the console did not make.
pub fn foreign_warning(name: &str) -> String {
    format!(
        "{name} was not made by this console's backups (it was uploaded or copied in): restoring it runs the SQL it holds, so restore only an archive you trust."
    )
}

/// The sentence for a restore of such an archive without the typed name.
pub fn unconfirmed(name: &str, target: &str) -> String {
    format!(
        "{name} was not made by this console's backups and restoring it runs the SQL it holds: type the target database name \"{target}\" to confirm. Nothing was changed."
    )
}

/// The sentence for a test restore of such an archive without the database's name typed.
pub fn unconfirmed_test(name: &str, database: &str) -> String {
    format!(
        "{name} was not made by this console's backups and a test restore runs the SQL it holds: type the database name \"{database}\" to confirm (on the page: Restore… then Test restore; on the command line: --confirm-name {database}). Nothing was changed."
    )
}

/// Reads the archive once and compares its sha256 with the manifest's; no manifest (or
/// one without a sha256) has nothing to compare. Stops when cancelled.
pub async fn check_sha256(
    path: &Path,
    name: &str,
    manifest: Option<&Manifest>,
    cancel: &CancellationToken,
) -> Result<(), BackupError> {
    let Some(expected) = manifest
        .map(|m| m.sha256.as_str())
        .filter(|s| !s.is_empty())
    else {
        return Ok(());
    };
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| BackupError::io(&format!("Reading {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = tokio::select! {
            _ = cancel.cancelled() => {
                return Err(BackupError::Cancelled(
                    "Cancelled while checking the archive's sha256: nothing was changed.".to_string(),
                ))
            }
            n = file.read(&mut buf) => n.map_err(|e| BackupError::io(&format!("Reading {}", path.display()), e))?,
        };
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let found = hex::encode(hasher.finalize());
    if found == expected {
        return Ok(());
    }
    Err(BackupError::Refused(format!(
        "{name} is not the archive its manifest describes: its sha256 is {} but the manifest recorded {} when it was written: the file changed since, so it is not used. Use another archive; nothing was changed.",
        &found[..12],
        &expected[..expected.len().min(12)]
    )))
}
