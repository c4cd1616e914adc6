//! The migrate domain's words the pages share: whose ledger a source follows and which way a
//! file runs. Plain data, built without the `engine` feature so that the browser shares them
//! through [`crate::model`].

use serde::{Deserialize, Serialize};

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
