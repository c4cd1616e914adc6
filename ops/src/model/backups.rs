//! The Backups page: the archives, an archive's contents, retention and recent jobs.

use serde::{Deserialize, Serialize};

use super::{JobView, Manifest};

/// An archive's table of contents, grouped by object type (TABLE, INDEX, EXTENSION…).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveContents {
    pub file: String,
    pub groups: Vec<(String, Vec<String>)>,
}

/// Everything the Backups page shows at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupsView {
    pub archives: Vec<Manifest>,
    /// HOLOMUSH_BACKUP_DIR as the server sees it.
    pub dir: String,
    pub database: String,
    pub target: String,
    pub running_job: Option<u64>,
    pub upload_limit_mb: u64,
    /// The retention settings in a sentence, and what they would delete now.
    pub retention: String,
    pub would_delete: Vec<String>,
    /// HOLOMUSH_BACKUP_SCHEDULE in a sentence.
    #[serde(default)]
    pub schedule: String,
    /// The latest backup, verify and restore jobs (without their logs), newest first,
    /// including those a server restart cut short.
    #[serde(default)]
    pub recent_jobs: Vec<JobView>,
}
