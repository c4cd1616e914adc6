//! The backup domain's own types: an archive's kind, its sidecar manifest and what its last
//! check found. Plain data, built without the `engine` feature so that the browser shares
//! them through [`crate::model`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The seed's three kinds of pg_dump archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupKind {
    Full,
    Schema,
    Data,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Full => "full",
            BackupKind::Schema => "schema",
            BackupKind::Data => "data",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(BackupKind::Full),
            "schema" => Some(BackupKind::Schema),
            "data" => Some(BackupKind::Data),
            _ => None,
        }
    }
}

/// What the last check of an archive found. Kept in the manifest as the sentence it has
/// always been ("verified", "verified, restore test passed: …", "failed: …", or empty), so
/// manifests written before this type still read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Verification {
    #[default]
    Never,
    /// The table of contents and every data block read.
    Verified,
    /// Also restored into a scratch database with every table's rows matching; the summary.
    RestoreTested(String),
    /// Why the last check failed.
    Failed(String),
}

impl Verification {
    pub fn is_verified(&self) -> bool {
        matches!(
            self,
            Verification::Verified | Verification::RestoreTested(_)
        )
    }

    /// A word or two for a table cell.
    pub fn label(&self) -> &'static str {
        match self {
            Verification::Never => "not verified",
            Verification::Verified => "verified",
            Verification::RestoreTested(_) => "verified, restore-tested",
            Verification::Failed(_) => "failed",
        }
    }
}

impl From<String> for Verification {
    fn from(s: String) -> Self {
        if s.is_empty() {
            Verification::Never
        } else if s == "verified" {
            Verification::Verified
        } else if let Some(rest) = s.strip_prefix("verified, ") {
            Verification::RestoreTested(rest.to_string())
        } else if let Some(rest) = s.strip_prefix("failed: ") {
            Verification::Failed(rest.to_string())
        } else {
            Verification::Failed(s)
        }
    }
}

impl From<Verification> for String {
    fn from(v: Verification) -> Self {
        v.to_string()
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::Never => Ok(()),
            Verification::Verified => f.write_str("verified"),
            Verification::RestoreTested(summary) => write!(f, "verified, {summary}"),
            Verification::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// The sidecar of an archive (`NAME.dump.json`), or what `pg_restore -l` told of a hand-made one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub file: String,
    pub kind: BackupKind,
    pub size: u64,
    /// Empty for an archive the console did not write and has not verified.
    #[serde(default)]
    pub sha256: String,
    #[serde(default)]
    pub host: String,
    pub database: String,
    #[serde(default)]
    pub server_version: String,
    /// The pg_dump that wrote it, e.g. "15.18": a pg_restore of its major or newer reads
    /// it. Read from the archive's header for one the console did not write; empty in a
    /// manifest written before the console recorded it.
    #[serde(default)]
    pub pg_dump_version: String,
    /// `schema_migrations` when the dump started: version and dirty flag.
    #[serde(default)]
    pub migration_version: Option<i64>,
    #[serde(default)]
    pub migration_dirty: bool,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub verification: Verification,
    /// Taken automatically before a restore in place.
    #[serde(default)]
    pub safety: bool,
    /// False for an archive found in the folder without a sidecar.
    #[serde(default = "yes")]
    pub by_console: bool,
    /// The console's HMAC over the name, size, sha256 and `by_console` (see
    /// `backup::trust::seal_manifest`): the flag alone can be copied or typed, the tag cannot.
    /// Empty in an upload's manifest and in those written before the console tagged them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
}

impl Manifest {
    /// The major of the pg_dump that wrote it ("15.18" → 15, "19beta1" → 19): the oldest
    /// pg_restore that reads the archive.
    pub fn pg_dump_major(&self) -> Option<u32> {
        let digits: String = self
            .pg_dump_version
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_reads_and_writes_the_manifest_sentences_it_always_had() {
        for (text, v) in [
            ("", Verification::Never),
            ("verified", Verification::Verified),
            (
                "verified, restore test passed: 8 tables, 611 rows match the archive",
                Verification::RestoreTested(
                    "restore test passed: 8 tables, 611 rows match the archive".into(),
                ),
            ),
            (
                "failed: x.dump is damaged",
                Verification::Failed("x.dump is damaged".into()),
            ),
        ] {
            let json = serde_json::to_string(text).expect("json");
            let read: Verification = serde_json::from_str(&json).expect("reads");
            assert_eq!(read, v);
            assert_eq!(serde_json::to_string(&read).expect("writes"), json);
        }
        assert!(Verification::RestoreTested(String::new()).is_verified());
        assert!(!Verification::Failed(String::new()).is_verified());
    }
}
