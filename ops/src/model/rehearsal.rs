//! `migrate rehearse`: pending migrations run on a scratch copy, their locks and the schema difference.

use serde::{Deserialize, Serialize};

/// What `migrate rehearse` found running the pending migrations on a scratch copy of the
/// database (the live one is never touched). Its JSON is the CLI's `--json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rehearsal {
    /// Every file ran without error (and the copy and the clean-up worked).
    pub ok: bool,
    /// The scratch database's name (dropped when the rehearsal ended).
    pub scratch: String,
    pub copied_from: CopiedFrom,
    pub steps: Vec<RehearsalStep>,
    pub schema_changes: Vec<SchemaChange>,
    pub total_ms: u64,
    /// What stopped the rehearsal outside a file (the copy, a cancel, the clean-up), if anything.
    #[serde(default)]
    pub error: Option<String>,
}

/// Where the scratch copy came from: a fresh `pg_dump` of the live database (`"dump"`), or
/// the named archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum CopiedFrom {
    Dump,
    Archive(String),
}

impl From<String> for CopiedFrom {
    fn from(s: String) -> Self {
        if s == "dump" {
            CopiedFrom::Dump
        } else {
            CopiedFrom::Archive(s)
        }
    }
}

impl From<CopiedFrom> for String {
    fn from(c: CopiedFrom) -> Self {
        match c {
            CopiedFrom::Dump => "dump".to_string(),
            CopiedFrom::Archive(name) => name,
        }
    }
}

/// One file as the rehearsal ran it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RehearsalStep {
    pub version: u64,
    pub name: String,
    pub ok: bool,
    pub duration_ms: u64,
    /// The engine's error text (golang-migrate's, with `in line L`).
    pub error: Option<String>,
    /// The failing line and column of the file, when PostgreSQL gave a position.
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub column: Option<u32>,
    /// Locks the file held on tables that existed before it, strongest first per table.
    pub locks: Vec<LockTaken>,
    /// Why `locks` is empty without meaning "none" (a file that cannot run in a transaction).
    #[serde(default)]
    pub locks_unknown: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockTaken {
    pub relation: String,
    /// PostgreSQL's name, e.g. `AccessExclusiveLock`.
    pub mode: String,
}

/// How an object differs between the copy before the first file and after the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Changed,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaChange {
    pub change: Change,
    /// `table`, `column`, `index`, `constraint`, `function`, `extension`, `view`…
    pub kind: String,
    pub name: String,
    /// The definition before (changed, removed) and after (added, changed).
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}
