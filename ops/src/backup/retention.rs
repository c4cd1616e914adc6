//! Which archives retention removes: beyond the last N and/or older than an age, but never
//! the newest verified archive, a safety backup younger than a day, or a file the console
//! did not write.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Manifest;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub keep_last: Option<usize>,
    pub max_age: Option<Duration>,
}

impl Policy {
    pub fn is_active(&self) -> bool {
        self.keep_last.is_some() || self.max_age.is_some()
    }

    pub fn describe(&self) -> String {
        match (self.keep_last, self.max_age) {
            (None, None) => "Retention is off: every archive is kept (set HOLOMUSH_BACKUP_KEEP and/or HOLOMUSH_BACKUP_MAX_AGE).".to_string(),
            (Some(n), None) => format!("Keeps the last {n} archives (HOLOMUSH_BACKUP_KEEP)."),
            (None, Some(a)) => format!("Keeps archives younger than {} (HOLOMUSH_BACKUP_MAX_AGE).", humantime::format_duration(a)),
            (Some(n), Some(a)) => format!(
                "Keeps the last {n} archives and anything younger than {} (HOLOMUSH_BACKUP_KEEP, HOLOMUSH_BACKUP_MAX_AGE).",
                humantime::format_duration(a)
            ),
        }
    }
}

const SAFETY_GRACE: Duration = Duration::from_secs(24 * 3600);

/// The files to delete, given the catalog (any order).
pub fn plan(archives: &[Manifest], policy: Policy, now: DateTime<Utc>) -> Vec<String> {
    if !policy.is_active() {
        return Vec::new();
    }
    let mut mine: Vec<&Manifest> = archives.iter().filter(|m| m.by_console).collect();
    mine.sort_by_key(|m| std::cmp::Reverse(m.started_at));
    let newest_verified = mine
        .iter()
        .find(|m| m.verification.is_verified())
        .map(|m| m.file.clone());
    let age = |m: &Manifest| {
        now.signed_duration_since(m.started_at)
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    mine.iter()
        .enumerate()
        .filter(|(i, m)| {
            let beyond_count = policy.keep_last.is_some_and(|n| *i >= n);
            let too_old = policy.max_age.is_some_and(|a| age(m) > a);
            let expired = match (policy.keep_last, policy.max_age) {
                (Some(_), Some(_)) => beyond_count && too_old,
                (Some(_), None) => beyond_count,
                (None, Some(_)) => too_old,
                (None, None) => false,
            };
            let protected =
                Some(&m.file) == newest_verified.as_ref() || (m.safety && age(m) < SAFETY_GRACE);
            expired && !protected
        })
        .map(|(_, m)| m.file.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BackupKind;

    fn m(file: &str, hours_ago: i64, verified: bool, safety: bool) -> Manifest {
        Manifest {
            file: file.into(),
            kind: BackupKind::Full,
            size: 1,
            sha256: String::new(),
            host: String::new(),
            database: "holomush".into(),
            server_version: String::new(),
            pg_dump_version: String::new(),
            migration_version: None,
            migration_dirty: false,
            started_at: Utc::now() - chrono::Duration::hours(hours_ago),
            duration_ms: 0,
            by: "admin".into(),
            verification: if verified {
                crate::model::Verification::Verified
            } else {
                crate::model::Verification::Never
            },
            safety,
            by_console: true,
            tag: String::new(),
        }
    }

    #[test]
    fn keeps_the_last_n_and_the_protected() {
        let all = [
            m("a", 1, false, false),
            m("b", 2, false, false),
            m("c", 3, true, false),
            m("d", 4, false, false),
            m("s", 5, false, true),
        ];
        let p = Policy {
            keep_last: Some(2),
            max_age: None,
        };
        assert_eq!(
            plan(&all, p, Utc::now()),
            ["d"],
            "c is the newest verified, s a young safety backup"
        );
        let p = Policy {
            keep_last: None,
            max_age: Some(Duration::from_secs(150 * 60)),
        };
        assert_eq!(plan(&all, p, Utc::now()), ["d"]);
        let p = Policy {
            keep_last: Some(1),
            max_age: Some(Duration::from_secs(90 * 60)),
        };
        assert_eq!(
            plan(&all, p, Utc::now()),
            ["b", "d"],
            "beyond the last one AND older than 90 minutes"
        );
        assert!(plan(&all, Policy::default(), Utc::now()).is_empty());
        let mut hand = m("x", 100, false, false);
        hand.by_console = false;
        assert!(
            plan(
                &[hand],
                Policy {
                    keep_last: Some(0),
                    max_age: None
                },
                Utc::now()
            )
            .is_empty(),
            "hand-made files stay"
        );
    }
}
