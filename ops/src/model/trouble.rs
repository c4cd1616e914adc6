//! The Troubleshooting page: the client tools checked against the server.

use serde::{Deserialize, Serialize};

use super::StatusSnapshot;

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
