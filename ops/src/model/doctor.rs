//! The connection doctor's steps and report.

use serde::{Deserialize, Serialize};

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
