//! Where migrations come from, in one tool's format: the versions (each a [`Migration`] with
//! its files), the files the tool skips, and where they were read. Which tool's files they are
//! is decided by [`super::tools`]; each tool reads its own names ([`super::driver::Format`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Embedded,
    Folder(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Embedded => f.write_str("the migrations embedded in holomush-admin"),
            Origin::Folder(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    pub file_name: String,
    pub body: String,
    pub sha256: String,
}

/// One version. golang-migrate: an up and a down file. goose: one file holding both
/// sections, given as `up` and `down` alike (its sha256 covers the whole file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    pub version: u64,
    pub name: String,
    pub up: Option<MigrationFile>,
    pub down: Option<MigrationFile>,
    pub kind: MigrationKind,
}

impl Migration {
    /// The file name shown for this version (goose: its one file).
    pub fn file_name(&self) -> Option<&str> {
        self.up
            .as_ref()
            .or(self.down.as_ref())
            .map(|f| f.file_name.as_str())
    }
}

pub use crate::model::{Direction, Ledger, MigrationKind};

#[derive(Clone, Debug)]
pub struct Source {
    pub origin: Origin,
    pub ledger: Ledger,
    migrations: BTreeMap<u64, Migration>,
    /// The folder's other files, skipped as the tool skips them, by name.
    ignored: Vec<String>,
}

impl Source {
    pub fn new(
        origin: Origin,
        ledger: Ledger,
        migrations: BTreeMap<u64, Migration>,
        mut ignored: Vec<String>,
    ) -> Self {
        ignored.sort();
        Self {
            origin,
            ledger,
            migrations,
            ignored,
        }
    }

    /// The files in the source that are not its tool's migrations, skipped, in name order.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// Every version, ascending: what goose's `ListSources` gives (adopt compares it with
    /// `schema_migrations`).
    pub fn versions(&self) -> Vec<u64> {
        self.migrations.keys().copied().collect()
    }

    pub fn get(&self, version: u64) -> Option<&Migration> {
        self.migrations.get(&version)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.migrations.values()
    }

    pub fn first(&self) -> Option<u64> {
        self.migrations.keys().next().copied()
    }

    pub fn latest(&self) -> Option<u64> {
        self.migrations.keys().next_back().copied()
    }

    pub fn next(&self, version: u64) -> Option<u64> {
        self.migrations.range(version + 1..).next().map(|(v, _)| *v)
    }

    pub fn prev(&self, version: u64) -> Option<u64> {
        self.migrations
            .range(..version)
            .next_back()
            .map(|(v, _)| *v)
    }

    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }
}
