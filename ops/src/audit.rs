//! The append-only audit log, kept in the console's data directory (not in the
//! managed database, which a restore may replace). One JSON line per action,
//! flushed to disk before the action is reported done.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;

use crate::model::{AuditFilter, AuditRecord, Outcome};

pub const FILE_NAME: &str = "audit.log";
pub const DEFAULT_LIMIT: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("The audit log {path} could not be opened ({source}): check that HOLOMUSH_ADMIN_DATA names a writable folder.")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("The audit log {path} could not be written ({source}): check free disk space and permissions.")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("The audit log {path} could not be read ({source}).")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a caller records; the log adds the id and the time.
#[derive(Clone, Debug)]
pub struct Entry {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl Entry {
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        target: impl Into<String>,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            outcome: Outcome::Ok,
            detail: String::new(),
        }
    }

    pub fn failed(mut self, detail: impl Into<String>) -> Self {
        self.outcome = Outcome::Failed;
        self.detail = detail.into();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

pub struct AuditLog {
    path: PathBuf,
    state: Mutex<State>,
}

struct State {
    file: File,
    next_id: u64,
}

impl AuditLog {
    pub fn open(data_dir: &Path) -> Result<Self, AuditError> {
        let path = data_dir.join(FILE_NAME);
        let open_err = |source| AuditError::Open {
            path: path.clone(),
            source,
        };
        crate::files::create_private_dir(data_dir).map_err(open_err)?;
        let mut opts = OpenOptions::new();
        opts.create(true).read(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let mut file = opts.open(&path).map_err(open_err)?;
        let mut next_id = 1;
        let mut ends_with_newline = true;
        {
            let reader = BufReader::new(&file);
            for line in reader.lines() {
                let line = line.map_err(open_err)?;
                if let Ok(r) = serde_json::from_str::<AuditRecord>(&line) {
                    next_id = next_id.max(r.id + 1);
                }
            }
        }
        let len = file.metadata().map_err(open_err)?.len();
        if len > 0 {
            file.seek(SeekFrom::End(-1)).map_err(open_err)?;
            let mut last = [0u8; 1];
            file.read_exact(&mut last).map_err(open_err)?;
            ends_with_newline = last[0] == b'\n';
        }
        if !ends_with_newline {
            // A crash mid-write left half a line; end it so the next record stands alone.
            file.write_all(b"\n").map_err(open_err)?;
            file.sync_data().map_err(open_err)?;
        }
        Ok(Self {
            path,
            state: Mutex::new(State { file, next_id }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and waits until it is on disk.
    pub fn record(&self, entry: Entry) -> Result<AuditRecord, AuditError> {
        let write_err = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let record = AuditRecord {
            id: state.next_id,
            time: Utc::now(),
            actor: entry.actor,
            action: entry.action,
            target: crate::config::mask_url(&entry.target),
            outcome: entry.outcome,
            detail: crate::config::mask_url(&entry.detail),
        };
        let mut line =
            serde_json::to_string(&record).map_err(|e| write_err(std::io::Error::other(e)))?;
        line.push('\n');
        state.file.write_all(line.as_bytes()).map_err(write_err)?;
        state.file.sync_data().map_err(write_err)?;
        state.next_id += 1;
        Ok(record)
    }

    /// Newest first, at most `filter.limit` (or [`DEFAULT_LIMIT`]) records.
    pub fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        let file = File::open(&self.path).map_err(|source| AuditError::Read {
            path: self.path.clone(),
            source,
        })?;
        let limit = if filter.limit == 0 {
            DEFAULT_LIMIT
        } else {
            filter.limit
        };
        let mut matched: Vec<AuditRecord> = BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<AuditRecord>(&line).ok())
            .filter(|r| filter.matches(r))
            .collect();
        matched.reverse();
        matched.truncate(limit);
        Ok(matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("holomush-audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn records_survive_a_restart_and_list_newest_first() {
        let dir = temp_dir("restart");
        {
            let log = AuditLog::open(&dir).expect("open");
            log.record(Entry::new("admin", "login", "console").detail("from 127.0.0.1"))
                .expect("write");
            log.record(Entry::new("anonymous", "login.failed", "console").failed("wrong password"))
                .expect("write");
        }
        let log = AuditLog::open(&dir).expect("reopen");
        let third = log
            .record(Entry::new("admin", "logout", "console"))
            .expect("write");
        assert_eq!(third.id, 3, "ids continue after a restart");
        let all = log.list(&AuditFilter::default()).expect("list");
        let actions: Vec<_> = all.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["logout", "login.failed", "login"]);
        let failed = log
            .list(&AuditFilter {
                outcome: Some(Outcome::Failed),
                ..Default::default()
            })
            .expect("list");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].detail, "wrong password");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_log_goes_on() {
        let dir = temp_dir("torn");
        {
            let log = AuditLog::open(&dir).expect("open");
            log.record(Entry::new("admin", "login", "console"))
                .expect("write");
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join(FILE_NAME))
            .expect("open raw");
        f.write_all(br#"{"id":2,"time":"2026-"#).expect("tear");
        drop(f);
        let log = AuditLog::open(&dir).expect("reopen");
        log.record(Entry::new("admin", "logout", "console"))
            .expect("write");
        let all = log.list(&AuditFilter::default()).expect("list");
        assert_eq!(
            all.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
            ["logout", "login"]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn secrets_in_targets_are_masked() {
        let dir = temp_dir("mask");
        let log = AuditLog::open(&dir).expect("open");
        let r = log
            .record(Entry::new(
                "admin",
                "settings.test",
                "postgres://holomush:hunter2@db/holomush",
            ))
            .expect("write");
        assert_eq!(r.target, "postgres://holomush:****@db/holomush");
        let raw = std::fs::read_to_string(dir.join(FILE_NAME)).expect("read");
        assert!(!raw.contains("hunter2"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
