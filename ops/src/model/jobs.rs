//! Long runs (backups, restores, migrations) as the job page follows them, and what they produce.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    AdoptPreview, BackupKind, BootstrapView, Manifest, MigrateOp, Rehearsal, Verification,
};

/// What a job does. Its dotted name is also its audit action, so `activity --action backup`
/// finds every backup job and `--action migrate` every migration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum JobKind {
    MigrateUp,
    MigrateDown,
    MigrateGoto,
    MigrateForce,
    MigrateBootstrap,
    MigrateRepair,
    MigrateRehearse,
    MigrateAdopt,
    MigrateAdoptUndo,
    BackupFull,
    BackupSchema,
    BackupData,
    BackupVerify,
    BackupRestoreTest,
    RestoreNew,
    RestoreInPlace,
    RestoreToServer,
    /// A name this version does not know (a record of another version of the console).
    Other(String),
}

const JOB_KINDS: [(JobKind, &str); 17] = [
    (JobKind::MigrateUp, "migrate.up"),
    (JobKind::MigrateDown, "migrate.down"),
    (JobKind::MigrateGoto, "migrate.goto"),
    (JobKind::MigrateForce, "migrate.force"),
    (JobKind::MigrateBootstrap, "migrate.bootstrap"),
    (JobKind::MigrateRepair, "migrate.repair"),
    (JobKind::MigrateRehearse, "migrate.rehearse"),
    (JobKind::MigrateAdopt, "migrate.adopt"),
    (JobKind::MigrateAdoptUndo, "migrate.adopt.undo"),
    (JobKind::BackupFull, "backup.full"),
    (JobKind::BackupSchema, "backup.schema"),
    (JobKind::BackupData, "backup.data"),
    (JobKind::BackupVerify, "backup.verify"),
    (JobKind::BackupRestoreTest, "backup.verify.restore_test"),
    (JobKind::RestoreNew, "restore.new"),
    (JobKind::RestoreInPlace, "restore.in_place"),
    (JobKind::RestoreToServer, "restore.to_server"),
];

impl JobKind {
    pub fn as_str(&self) -> &str {
        match self {
            JobKind::Other(s) => s,
            known => JOB_KINDS
                .iter()
                .find(|(k, _)| k == known)
                .map_or("job", |(_, name)| name),
        }
    }

    pub fn backup(kind: BackupKind) -> Self {
        match kind {
            BackupKind::Full => JobKind::BackupFull,
            BackupKind::Schema => JobKind::BackupSchema,
            BackupKind::Data => JobKind::BackupData,
        }
    }

    pub fn migrate(op: MigrateOp) -> Self {
        match op {
            MigrateOp::Up(_) => JobKind::MigrateUp,
            MigrateOp::Down(_) | MigrateOp::DownAll => JobKind::MigrateDown,
            MigrateOp::Goto(_) => JobKind::MigrateGoto,
            MigrateOp::Force(_) => JobKind::MigrateForce,
        }
    }

    /// Backups, verifications and restores: what the Backups page lists.
    pub fn is_archive_work(&self) -> bool {
        let name = self.as_str();
        name.starts_with("backup.") || name.starts_with("restore.")
    }
}

impl From<String> for JobKind {
    fn from(name: String) -> Self {
        if let Some((k, _)) = JOB_KINDS.iter().find(|(_, n)| *n == name) {
            return k.clone();
        }
        // Records written before the names were dotted.
        let legacy = match name.as_str() {
            "backup full" => Some(JobKind::BackupFull),
            "backup schema" => Some(JobKind::BackupSchema),
            "backup data" => Some(JobKind::BackupData),
            "backup verify" => Some(JobKind::BackupVerify),
            "backup verify --restore-test" => Some(JobKind::BackupRestoreTest),
            "restore" => Some(JobKind::RestoreNew),
            "restore in place" => Some(JobKind::RestoreInPlace),
            "migrate bootstrap" => Some(JobKind::MigrateBootstrap),
            n if n.starts_with("migrate repair") => Some(JobKind::MigrateRepair),
            n if n.starts_with("migrate up") => Some(JobKind::MigrateUp),
            n if n.starts_with("migrate down") => Some(JobKind::MigrateDown),
            n if n.starts_with("migrate goto") => Some(JobKind::MigrateGoto),
            n if n.starts_with("migrate force") => Some(JobKind::MigrateForce),
            _ => None,
        };
        legacy.unwrap_or(JobKind::Other(name))
    }
}

impl From<JobKind> for String {
    fn from(kind: JobKind) -> Self {
        kind.as_str().to_string()
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobLine {
    /// Milliseconds since the job started.
    pub at_ms: u64,
    pub text: String,
}

/// Where a SQL file failed, so a page can show the failing line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlFailure {
    pub file: String,
    pub body: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// golang-migrate's error text, when it is not shown beside it already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: u64,
    pub kind: JobKind,
    pub actor: String,
    pub target: String,
    pub started_at: DateTime<Utc>,
    pub status: JobStatus,
    /// The first and last lines the job logged (see `ops::jobs::HEAD`, `TAIL`); when lines
    /// were left out between them, one line in their place says how many.
    pub lines: Vec<JobLine>,
    /// How many lines were left out of `lines` (0: it holds every line logged).
    #[serde(default)]
    pub left_out: u64,
    /// The one-line result on success, the error sentence on failure.
    pub result: Option<String>,
    /// What kind of failure it was (none while running or after a success): callers decide
    /// by it, never by the sentence.
    #[serde(default)]
    pub error_kind: Option<crate::error::ErrorKind>,
    pub failure: Option<SqlFailure>,
    /// The latest progress event of a dump or restore.
    #[serde(default)]
    pub progress: Option<Progress>,
    /// What a successful job produced, typed, for callers that need more than its sentence.
    #[serde(default)]
    pub output: Option<JobOutput>,
}

impl JobView {
    /// How many lines the job has logged: where a reader of its event stream carries on.
    pub fn lines_logged(&self) -> usize {
        match self.left_out {
            0 => self.lines.len(),
            n => self
                .lines
                .len()
                .saturating_sub(1)
                .saturating_add(usize::try_from(n).unwrap_or(usize::MAX)),
        }
    }
}

/// A finished job's product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JobOutput {
    /// A backup: the new archive's manifest.
    Manifest(Manifest),
    /// A verify: what it found (also kept in the archive's manifest).
    Verification(Verification),
    /// A migration run: the version before and after (-1: no version), and the versions run.
    Migration { from: i64, to: i64, ran: Vec<u64> },
    /// A bootstrap: the version marked and the objects checked.
    Bootstrap(BootstrapView),
    /// A rehearsal on a scratch copy: each file's outcome and locks, the schema difference.
    Rehearsal(Rehearsal),
    /// The cutover to goose: what was found under goose's lock (and done when `ready`).
    Adopt(AdoptPreview),
}

/// Where a long tool run stands, read from its `--verbose` lines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// e.g. "Dumping data", "Restoring data", "Creating indexes".
    pub stage: String,
    /// Objects (tables or archive entries) done, of `total` read from the catalog.
    pub done: u64,
    pub total: u64,
    pub bytes: u64,
    pub elapsed_ms: u64,
}

impl Progress {
    /// 0.0 ..= 1.0 for a progress bar.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuditFilter, AuditRecord, Outcome};

    #[test]
    fn job_kinds_are_dotted_audit_actions_and_read_old_records() {
        let backup = AuditFilter {
            action: "backup".into(),
            ..Default::default()
        };
        for kind in [
            JobKind::BackupFull,
            JobKind::BackupSchema,
            JobKind::BackupData,
            JobKind::BackupVerify,
            JobKind::BackupRestoreTest,
        ] {
            let r = AuditRecord {
                id: 1,
                time: Utc::now(),
                actor: "cli".into(),
                action: kind.to_string(),
                target: "x".into(),
                outcome: Outcome::Ok,
                detail: String::new(),
            };
            assert!(backup.matches(&r), "{kind}");
            // The name reads back as the same kind.
            assert_eq!(JobKind::from(kind.to_string()), kind);
        }
        assert_eq!(
            JobKind::migrate(MigrateOp::DownAll).as_str(),
            "migrate.down"
        );
        assert_eq!(
            JobKind::from("backup full".to_string()),
            JobKind::BackupFull
        );
        assert_eq!(
            JobKind::from("migrate repair: force 7".to_string()),
            JobKind::MigrateRepair
        );
        let v: JobKind = serde_json::from_str("\"restore in place\"").expect("json");
        assert_eq!(v, JobKind::RestoreInPlace);
        assert_eq!(
            serde_json::to_string(&v).expect("json"),
            "\"restore.in_place\""
        );
        assert_eq!(
            JobKind::from("something new".to_string()).as_str(),
            "something new"
        );
        assert!(
            JobKind::RestoreToServer.is_archive_work() && !JobKind::MigrateUp.is_archive_work()
        );
    }
}
