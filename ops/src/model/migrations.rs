//! The Migrations page and `migrate status`: each migration's state, the ledgers a database
//! holds, and the operations the page starts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Ledger, SqlFailure};

/// One migration as `migrate status` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationState {
    Applied,
    Pending,
    Dirty,
    Skipped,
    MissingFile,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigrationEntry {
    pub version: u64,
    pub name: String,
    pub state: MigrationState,
    pub applied_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub applied_by: Option<String>,
    pub drift: bool,
    #[serde(default)]
    pub kind: MigrationKind,
    /// Why this migration needs something the console cannot do (a Go migration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigrationStatus {
    pub version: Option<i64>,
    pub dirty: bool,
    pub latest: Option<u64>,
    pub migrations: Vec<MigrationEntry>,
    /// While dirty: the recorded failure that left it so, when the console saw it happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<SqlFailure>,
    /// Whose ledger the migration source writes: its files decide.
    #[serde(default)]
    pub ledger: Ledger,
    /// Which ledgers the database holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<MigrationWorld>,
}

/// A migration the console runs (SQL), or one only the holomush binary runs (Go).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationKind {
    #[default]
    Sql,
    Go,
}

/// Which migration ledgers a database holds: HoloMUSH moved from golang-migrate to goose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationWorld {
    /// Neither ledger exists yet.
    Fresh,
    /// `schema_migrations` only.
    GolangMigrateOnly,
    /// `goose_db_version` only.
    GooseOnly,
    /// An empty `goose_db_version` beside `schema_migrations`: goose is there, adopt has not run.
    BothNotAdopted,
    /// `goose_db_version` plus `schema_migrations_pre_goose`: adopt has run.
    Adopted,
    /// Both ledgers hold versions and `schema_migrations` was not set aside.
    BothInUse,
}

impl MigrationWorld {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationWorld::Fresh => "fresh",
            MigrationWorld::GolangMigrateOnly => "golang-migrate-only",
            MigrationWorld::GooseOnly => "goose-only",
            MigrationWorld::BothNotAdopted => "both-not-adopted",
            MigrationWorld::Adopted => "adopted",
            MigrationWorld::BothInUse => "both-in-use",
        }
    }

    /// The world in one sentence, for the dashboard, the Migrations page, status and the doctor.
    pub fn describe(self) -> &'static str {
        match self {
            MigrationWorld::Fresh => "No migration ledger yet: neither schema_migrations nor goose_db_version exists.",
            MigrationWorld::GolangMigrateOnly => "golang-migrate only: schema_migrations is the ledger.",
            MigrationWorld::GooseOnly => "goose only: goose_db_version is the ledger.",
            MigrationWorld::BothNotAdopted => "Both ledgers, not adopted: an empty goose_db_version sits beside schema_migrations, which is still the ledger.",
            MigrationWorld::Adopted => "Adopted: goose_db_version is the ledger; golang-migrate's history is kept in schema_migrations_pre_goose.",
            MigrationWorld::BothInUse => "Both ledgers hold versions: goose_db_version has rows and schema_migrations was not set aside as schema_migrations_pre_goose.",
        }
    }

    /// The ledger that decides what is applied, when there is exactly one.
    pub fn active(self) -> Option<Ledger> {
        match self {
            MigrationWorld::GolangMigrateOnly | MigrationWorld::BothNotAdopted => {
                Some(Ledger::GolangMigrate)
            }
            MigrationWorld::GooseOnly | MigrationWorld::Adopted => Some(Ledger::Goose),
            MigrationWorld::Fresh | MigrationWorld::BothInUse => None,
        }
    }
}

impl MigrationState {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::Dirty => "dirty",
            MigrationState::Skipped => "skipped",
            MigrationState::MissingFile => "missing-file",
        }
    }
}

impl MigrationStatus {
    /// golang-migrate's `version` output: `N`, `N (dirty)`, or `no version`.
    pub fn version_line(&self) -> String {
        match (self.version, self.dirty) {
            (None, _) => "no version".to_string(),
            (Some(v), false) => v.to_string(),
            (Some(v), true) => format!("{v} (dirty)"),
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(world) = self.world {
            match world.active() {
                Some(active) if active != self.ledger => out.push(format!(
                    "The migration source holds {} files but this database's ledger is {}: {} The console will not migrate it with these files.",
                    self.ledger.as_str(),
                    active.as_str(),
                    world.describe()
                )),
                None if world == MigrationWorld::BothInUse => out.push(format!(
                    "{} The console will not migrate it until one ledger is settled.",
                    world.describe()
                )),
                _ => {}
            }
        }
        for e in &self.migrations {
            if let Some(note) = &e.note {
                out.push(note.clone());
            }
            match e.state {
                MigrationState::Skipped if self.ledger == Ledger::Goose => out.push(format!(
                    "Migration {} ({}) is below the highest applied version {} but was never applied: goose refuses to migrate up (a missing, out-of-order migration). Renumber it above {} or apply its SQL by hand.",
                    e.version,
                    e.name,
                    self.version.unwrap_or(0),
                    self.version.unwrap_or(0)
                )),
                MigrationState::Skipped => out.push(format!(
                    "Migration {} ({}) is below the current version but was never applied: golang-migrate will never run it. Renumber it above {} or apply its SQL by hand.",
                    e.version,
                    e.name,
                    self.version.unwrap_or(-1)
                )),
                MigrationState::MissingFile => out.push(format!(
                    "The database is at version {} but no migration file has that version: no migration found for version {}. Point HOLOMUSH_MIGRATIONS_DIR at the right folder, or force a known version.",
                    e.version, e.version
                )),
                _ => {}
            }
            if e.drift {
                out.push(format!(
                    "Migration {} ({}) changed after it was applied: its file no longer matches what ran.",
                    e.version, e.name
                ));
            }
        }
        out
    }
}

/// Everything the Migrations page shows at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigrationsView {
    pub status: MigrationStatus,
    pub warnings: Vec<String>,
    /// The database name, to be typed to confirm destructive actions.
    pub database: String,
    /// The connection URL, password masked.
    pub target: String,
    /// Where the migrations come from.
    pub source: String,
    /// `create` only writes into a folder, never into the embedded set.
    pub can_create: bool,
    pub running_job: Option<u64>,
    /// The source's files that are not its tool's migrations, skipped as the tool skips them.
    #[serde(default)]
    pub ignored: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationSql {
    pub up: Option<SqlFile>,
    pub down: Option<SqlFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlFile {
    pub file: String,
    pub body: String,
}

/// What a bootstrap checked and wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapView {
    /// One sentence: the version marked.
    pub result: String,
    pub checked: Vec<String>,
}

/// What the Migrations page starts: golang-migrate's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MigrateOp {
    /// All pending, or at most N.
    Up(Option<u64>),
    /// One (the seed's `task migrate:down`), or N.
    Down(Option<u64>),
    DownAll,
    Goto(u64),
    Force(i64),
}

/// The Migrations page's buttons, as its form posts them (`action=goto&version=7`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrateAction {
    Up,
    Down,
    DownAll,
    Goto,
    Force,
}

impl MigrateAction {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrateAction::Up => "up",
            MigrateAction::Down => "down",
            MigrateAction::DownAll => "down_all",
            MigrateAction::Goto => "goto",
            MigrateAction::Force => "force",
        }
    }

    /// The operation, with `steps` (up or down N) and the typed `version` (goto, force).
    pub fn op(self, steps: Option<u64>, version: &str) -> Result<MigrateOp, String> {
        let version = version.trim();
        Ok(match self {
            MigrateAction::Up => MigrateOp::Up(steps),
            MigrateAction::Down => MigrateOp::Down(steps),
            MigrateAction::DownAll => MigrateOp::DownAll,
            MigrateAction::Goto => MigrateOp::Goto(version.parse().map_err(|_| {
                "Type the version to go to (a number from the list), then press Go to version.".to_string()
            })?),
            MigrateAction::Force => MigrateOp::Force(version.parse().map_err(|_| {
                "Type the version to force (a number, or -1 for no version), then press Force version.".to_string()
            })?),
        })
    }
}

impl MigrateOp {
    /// Operations that can lose data or hide a failure: they need the database name typed.
    pub fn is_destructive(self) -> bool {
        !matches!(self, MigrateOp::Up(_))
    }
}

impl std::fmt::Display for MigrateOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateOp::Up(None) => f.write_str("migrate up"),
            MigrateOp::Up(Some(n)) => write!(f, "migrate up {n}"),
            MigrateOp::Down(None) => f.write_str("migrate down"),
            MigrateOp::Down(Some(n)) => write!(f, "migrate down {n}"),
            MigrateOp::DownAll => f.write_str("migrate down --all"),
            MigrateOp::Goto(v) => write!(f, "migrate goto {v}"),
            MigrateOp::Force(v) => write!(f, "migrate force {v}"),
        }
    }
}
