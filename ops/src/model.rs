//! Data shared by the server and the browser: what the console shows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The oldest PostgreSQL major version HoloMUSH supports (the seed's prerequisite).
pub const MIN_SERVER_MAJOR: u32 = 14;

/// What the dashboard shows: one reading of the managed database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusSnapshot {
    pub taken_at: DateTime<Utc>,
    /// The connection URL with its password masked.
    pub target: String,
    pub database: String,
    pub connection: Connection,
    pub pool: PoolStats,
    /// The newest archives of HOLOMUSH_BACKUP_DIR, and whether a full one is overdue.
    #[serde(default)]
    pub backups: BackupFreshness,
}

/// An archive as the dashboard names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastBackup {
    pub file: String,
    pub kind: BackupKind,
    pub started_at: DateTime<Utc>,
    pub verification: Verification,
}

impl LastBackup {
    pub fn verified(&self) -> bool {
        self.verification.is_verified()
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

/// The newest backup, the newest full one, and a sentence when a full backup is overdue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFreshness {
    pub newest: Option<LastBackup>,
    pub newest_full: Option<LastBackup>,
    pub warning: Option<String>,
}

/// "42 s", "5 min", "3 h", "2 days": how long ago, for a person.
pub fn format_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7_199 => format!("{} min", s / 60),
        7_200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

impl StatusSnapshot {
    /// The version `schema_migrations` is dirty at, if connected and dirty.
    pub fn dirty_version(&self) -> Option<i64> {
        match &self.connection {
            Connection::Up(f) => match f.migration {
                SchemaVersion::At {
                    version,
                    dirty: true,
                } => Some(version),
                _ => None,
            },
            Connection::Down(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Connection {
    Up(ServerFacts),
    /// One sentence: what went wrong and what to do.
    Down(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerFacts {
    pub latency_ms: f64,
    /// `server_version`, e.g. "15.18 (Debian 15.18-0+deb12u1)".
    pub server_version: String,
    /// `server_version_num`, e.g. 150018.
    pub server_version_num: u32,
    pub database_size_bytes: i64,
    pub pg_trgm: Extension,
    pub migration: SchemaVersion,
    /// Which ledgers the database holds (golang-migrate, goose, both, adopted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<MigrationWorld>,
    /// goose_db_version's highest version, when that table exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goose_version: Option<i64>,
}

impl ServerFacts {
    pub fn major_version(&self) -> u32 {
        self.server_version_num / 10_000
    }

    pub fn version_too_old(&self) -> bool {
        self.major_version() < MIN_SERVER_MAJOR
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Extension {
    NotAvailable,
    Available,
    Installed(String),
}

/// What `schema_migrations` says, read exactly as golang-migrate reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchemaVersion {
    NoTable,
    /// The table exists but holds no row: no migration has been applied.
    NoVersion,
    At {
        version: i64,
        dirty: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
    pub min: u32,
}

/// One action recorded in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: u64,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    /// Free text; never holds a secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }
}

/// Which audit records to list. Empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Matches the action itself or any action below it (`login` matches `login.failed`).
    pub action: String,
    pub actor: String,
    pub outcome: Option<Outcome>,
    /// Case-insensitive text anywhere in target or detail.
    pub text: String,
    pub limit: usize,
}

impl AuditFilter {
    pub fn matches(&self, r: &AuditRecord) -> bool {
        let action = self.action.trim();
        let action_ok =
            action.is_empty() || r.action == action || r.action.starts_with(&format!("{action}."));
        let actor_ok = self.actor.trim().is_empty() || r.actor == self.actor.trim();
        let outcome_ok = self.outcome.is_none_or(|o| o == r.outcome);
        let text = self.text.trim().to_lowercase();
        let text_ok = text.is_empty()
            || r.target.to_lowercase().contains(&text)
            || r.detail.to_lowercase().contains(&text)
            || r.action.to_lowercase().contains(&text);
        action_ok && actor_ok && outcome_ok && text_ok
    }
}

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

/// The tool whose files and ledger a migration source follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ledger {
    /// `NNN_name.up.sql` / `.down.sql` pairs, `schema_migrations`.
    #[default]
    GolangMigrate,
    /// `NNN_name.sql` with `-- +goose Up` / `Down` sections (or `.go`), `goose_db_version`.
    Goose,
}

impl Ledger {
    pub fn as_str(self) -> &'static str {
        match self {
            Ledger::GolangMigrate => "golang-migrate",
            Ledger::Goose => "goose",
        }
    }
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

fn yes() -> bool {
    true
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
    pub lines: Vec<JobLine>,
    /// The one-line result on success, the error sentence on failure.
    pub result: Option<String>,
    pub failure: Option<SqlFailure>,
    /// The latest progress event of a dump or restore.
    #[serde(default)]
    pub progress: Option<Progress>,
    /// What a successful job produced, typed, for callers that need more than its sentence.
    #[serde(default)]
    pub output: Option<JobOutput>,
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

/// One step of the connection doctor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pass,
    Warn,
    Fail,
    Skip,
}

/// The doctor's steps, in the order they run; their names are the seed's and the JSON's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    Parse,
    Dns,
    Tcp,
    Tls,
    Auth,
    Select1,
    ServerVersion,
    Privileges,
    PgTrgm,
    Migrations,
    ClientTools,
}

impl StepId {
    pub const ALL: [StepId; 11] = [
        StepId::Parse,
        StepId::Dns,
        StepId::Tcp,
        StepId::Tls,
        StepId::Auth,
        StepId::Select1,
        StepId::ServerVersion,
        StepId::Privileges,
        StepId::PgTrgm,
        StepId::Migrations,
        StepId::ClientTools,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepId::Parse => "parse",
            StepId::Dns => "dns",
            StepId::Tcp => "tcp",
            StepId::Tls => "tls",
            StepId::Auth => "auth",
            StepId::Select1 => "select1",
            StepId::ServerVersion => "server_version",
            StepId::Privileges => "privileges",
            StepId::PgTrgm => "pg_trgm",
            StepId::Migrations => "migrations",
            StepId::ClientTools => "client_tools",
        }
    }
}

impl std::fmt::Display for StepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorStep {
    pub id: StepId,
    pub status: StepStatus,
    /// One sentence: what the step found.
    pub message: String,
    /// What to do about a warning or failure.
    pub fix: Option<String>,
    pub duration_ms: u64,
}

/// What `holomush-admin doctor` and the Troubleshooting page show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorReport {
    /// No step failed (warnings allowed).
    pub ok: bool,
    pub steps: Vec<DoctorStep>,
}

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingSource {
    Environment,
    Default,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingEntry {
    /// The environment variable, e.g. DB_MAX_CONNS.
    pub name: String,
    /// The effective value; never a password.
    pub value: String,
    pub source: SettingSource,
}

/// DATABASE_URL taken apart; the password only as "is there one".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlParts {
    pub scheme: String,
    pub user: String,
    pub password_set: bool,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub sslmode: Option<String>,
    /// Query parameters other than sslmode and password, in order.
    pub params: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolView {
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
    pub min: u32,
}

/// Everything the Settings page shows at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub settings: Vec<SettingEntry>,
    pub url: UrlParts,
    pub pool: PoolView,
    /// The server's max_connections, when it answered.
    pub server_max_connections: Option<u32>,
    pub warnings: Vec<String>,
    /// `.env` lines to paste, the password replaced by CHANGE_ME.
    pub env_lines: String,
    /// pg_dump, pg_restore and psql as the console would run them against this server.
    #[serde(default)]
    pub tools: Vec<ToolCheck>,
    /// The server's major version, when it answered.
    #[serde(default)]
    pub server_major: Option<u32>,
}

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

/// Which way a migration file runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "up" => Some(Direction::Up),
            "down" => Some(Direction::Down),
            _ => None,
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

/// A client tool the console runs, checked against the server's major version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCheck {
    pub name: String,
    pub major: Option<u32>,
    pub ok: bool,
    /// One sentence: why this binary, or what is wrong and the fix.
    pub message: String,
    /// The binary the console runs (empty when none fits).
    #[serde(default)]
    pub path: String,
    /// The version it reports, e.g. "18.6".
    #[serde(default)]
    pub version: String,
}

/// What the Troubleshooting page's badges read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TroubleView {
    pub status: StatusSnapshot,
    pub tools: Vec<ToolCheck>,
}

/// Human form of a byte count, e.g. "7.6 MiB".
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_a_person_writes_them() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(7_969_177), "7.6 MiB");
    }

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

    #[test]
    fn action_filter_matches_children() {
        let r = AuditRecord {
            id: 1,
            time: Utc::now(),
            actor: "admin".into(),
            action: "login.failed".into(),
            target: "console".into(),
            outcome: Outcome::Failed,
            detail: "from 127.0.0.1".into(),
        };
        let f = |action: &str| AuditFilter {
            action: action.into(),
            ..Default::default()
        };
        assert!(f("login").matches(&r));
        assert!(f("login.failed").matches(&r));
        assert!(!f("log").matches(&r));
        assert!(AuditFilter {
            text: "127.0".into(),
            ..Default::default()
        }
        .matches(&r));
    }
}
