//! The dashboard's reading of the managed database: connection, server, schema, pool, backups.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BackupKind, MigrationWorld, Verification};

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

/// The newest backup, the newest full one, and a sentence when a full backup is overdue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFreshness {
    pub newest: Option<LastBackup>,
    pub newest_full: Option<LastBackup>,
    pub warning: Option<String>,
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
