//! The guided repair of a dirty database: what the failed file left, and what to do.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Direction;

/// The database a repair would touch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairTarget {
    pub host: String,
    pub database: String,
}

/// A session holding one of golang-migrate's advisory locks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: i32,
    pub application_name: String,
    /// Its transaction start, else its connection start.
    pub since: Option<DateTime<Utc>>,
}

/// One object the dirty version's up file creates, alters or drops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairObject {
    /// table, index, column, constraint, extension, function, type, sequence, view,
    /// drop table, drop index, drop column, drop constraint.
    pub kind: String,
    /// As written in the file; `table.column` for columns and constraints.
    pub name: String,
    /// The file's effect is visible: created objects exist, dropped ones are gone.
    pub present: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairConclusion {
    /// Nothing of the file's effect is visible.
    NotApplied,
    /// All of it is visible: only the version write was lost.
    Applied,
    Partial,
    /// The database is not dirty.
    Clean,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairAction {
    Force,
    RunDownThenForce,
    Restore,
    None,
}

impl RepairAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RepairAction::Force => "force",
            RepairAction::RunDownThenForce => "run_down_then_force",
            RepairAction::Restore => "restore",
            RepairAction::None => "none",
        }
    }

    /// A repair option as a form posts it, `ACTION:VERSION` (e.g. `force:7`).
    pub fn choice(self, version: i64) -> String {
        format!("{}:{version}", self.as_str())
    }

    pub fn parse_choice(text: &str) -> Option<(RepairAction, i64)> {
        let (action, version) = text.trim().split_once(':')?;
        let action = match action {
            "force" => RepairAction::Force,
            "run_down_then_force" => RepairAction::RunDownThenForce,
            "restore" => RepairAction::Restore,
            "none" => RepairAction::None,
            _ => return None,
        };
        Some((action, version.parse().ok()?))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub action: RepairAction,
    /// The version to force (after the down file for run_down_then_force); null for restore and none.
    pub version: Option<i64>,
    /// One sentence: why this action fits.
    pub why: String,
}

/// The newest history record of the dirty version, when the console ran it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryNote {
    pub direction: Direction,
    pub started_at: DateTime<Utc>,
    pub actor: String,
    pub success: bool,
    pub error: Option<String>,
}

/// The analysis behind `migrate repair` and the guided repair page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairReport {
    /// schema_migrations' version; -1 for none.
    pub version: i64,
    pub dirty: bool,
    pub target: RepairTarget,
    pub lock_holders: Vec<LockHolder>,
    pub objects: Vec<RepairObject>,
    /// False when the up file holds no statement the analysis recognises: then the
    /// conclusion is not_applied only because nothing could be checked.
    pub objects_recognised: bool,
    pub conclusion: RepairConclusion,
    pub recommendation: Recommendation,
    pub alternatives: Vec<Recommendation>,
    pub last_history: Option<HistoryNote>,
    pub up_sql: Option<String>,
    pub down_sql: Option<String>,
    /// The version before this one in the source; -1 (golang-migrate's nil version) when none.
    pub previous_version: i64,
    /// Sentences the page should show beside the recommendation.
    pub notes: Vec<String>,
}

/// The repair analysis with what the page adds: the newest archive taken before the failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairView {
    pub report: RepairReport,
    pub newest_backup: Option<String>,
}
