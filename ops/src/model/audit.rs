//! The audit log as the Activity page and `activity` list it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

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
