//! The Settings page: the effective configuration, the URL taken apart, the pool.

use serde::{Deserialize, Serialize};

use super::ToolCheck;

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
