//! The cutover from golang-migrate to goose: what the adopt would do, and the wizard that runs it.

use serde::{Deserialize, Serialize};

/// The Migrations page's adopt wizard: the preview, and what to type to confirm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptView {
    pub preview: AdoptPreview,
    /// `schema_migrations_pre_goose` is there and the adopt can be undone (when goose has
    /// run nothing else: the undo itself checks).
    pub can_undo: bool,
    pub database: String,
    pub target: String,
    pub source: String,
}

/// What HoloMUSH's first goose boot would do with this database (see
/// [`crate::migrate::adopt`]), in the order it decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdoptState {
    /// No `schema_migrations`: goose starts its own ledger.
    NothingToDo,
    /// goose already records versions (or the adopt has run): nothing to do.
    AlreadyAdopted,
    /// The adopt would seed `goose_db_version` and set `schema_migrations` aside.
    Ready,
    /// HoloMUSH refuses to start: see the refusal's code.
    Refused,
}

impl AdoptState {
    pub fn as_str(self) -> &'static str {
        match self {
            AdoptState::NothingToDo => "nothing-to-do",
            AdoptState::AlreadyAdopted => "already-adopted",
            AdoptState::Ready => "ready",
            AdoptState::Refused => "refused",
        }
    }
}

/// HoloMUSH's error codes for an adopt it refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdoptCode {
    #[serde(rename = "MIGRATION_ADOPT_PROBE_FAILED")]
    ProbeFailed,
    #[serde(rename = "MIGRATION_ADOPT_REFUSED_AMBIGUOUS_LEDGER")]
    Ambiguous,
    #[serde(rename = "MIGRATION_ADOPT_REFUSED_DIRTY")]
    Dirty,
}

impl AdoptCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AdoptCode::ProbeFailed => "MIGRATION_ADOPT_PROBE_FAILED",
            AdoptCode::Ambiguous => "MIGRATION_ADOPT_REFUSED_AMBIGUOUS_LEDGER",
            AdoptCode::Dirty => "MIGRATION_ADOPT_REFUSED_DIRTY",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptRefusal {
    pub code: AdoptCode,
    pub message: String,
}

impl std::fmt::Display for AdoptRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// The adopt's preview (`migrate adopt --dry-run`) and, for a job, what it found under the lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptPreview {
    pub state: AdoptState,
    /// `schema_migrations`' version, when it has exactly one row.
    pub recorded_version: Option<i64>,
    pub dirty: Option<bool>,
    /// Rows in `schema_migrations` (None: no table).
    pub rows: Option<i64>,
    /// The goose source's versions at or below the recorded one, ascending: the rows seeded
    /// after the version-0 row.
    pub seed: Vec<u64>,
    pub refusal: Option<AdoptRefusal>,
    /// The state in one sentence.
    pub sentence: String,
}
