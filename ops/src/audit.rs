//! The append-only audit log, kept in the console's data directory (not in the
//! managed database, which a restore may replace). One JSON line per action,
//! flushed to disk before the action is reported done; rotated by size.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;

use crate::model::{AuditFilter, AuditRecord, Outcome};

mod escape;

pub use escape::escape_controls;

pub const FILE_NAME: &str = "audit.log";
pub const DEFAULT_LIMIT: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("The audit log {path} could not be opened ({source}): check that HOLOMUSH_ADMIN_DATA names a writable folder.")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The data folder is open to others and not the console's user's to change.
    #[error(transparent)]
    NotPrivate(crate::files::NotPrivate),
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

impl crate::error::Kind for AuditError {
    /// The log's own file failed (the disk or the folder's permissions), or the folder is
    /// refused until its owner makes it private.
    fn kind(&self) -> crate::error::ErrorKind {
        match self {
            Self::NotPrivate(_) => crate::error::ErrorKind::Refused,
            _ => crate::error::ErrorKind::Failed,
        }
    }
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

/// When the log is rotated and how many rotated files are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// `audit.log` is renamed to `audit.log.1` before a record would go past this size.
    pub max_bytes: u64,
    /// `audit.log.1` … `audit.log.N`; the oldest beyond N is deleted.
    pub keep: usize,
}

impl Default for Rotation {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_ROTATE_BYTES,
            keep: DEFAULT_KEEP_ROTATED,
        }
    }
}

pub const DEFAULT_ROTATE_BYTES: u64 = 10 * 1024 * 1024;
pub const DEFAULT_KEEP_ROTATED: usize = 5;
/// Held (flock) by whichever process appends or rotates; never renamed itself.
pub const LOCK_FILE_NAME: &str = "audit.lock";

/// The server and any CLI command may write one log at once: each record is appended under
/// an exclusive `flock` on [`LOCK_FILE_NAME`], and its id is one more than the last record in
/// the file, so ids stay unique and increasing across processes.
pub struct AuditLog {
    dir: PathBuf,
    path: PathBuf,
    rotation: Rotation,
    lock: File,
    /// flock excludes other open files, not other threads using this one.
    threads: Mutex<()>,
}

impl AuditLog {
    pub fn open(data_dir: &Path) -> Result<Self, AuditError> {
        Self::open_with(data_dir, Rotation::default())
    }

    pub fn open_with(data_dir: &Path, rotation: Rotation) -> Result<Self, AuditError> {
        let path = data_dir.join(FILE_NAME);
        let open_err = |source| AuditError::Open {
            path: path.clone(),
            source,
        };
        crate::files::create_private_dir(data_dir).map_err(
            |e| match crate::files::not_private(&e) {
                Some(refused) => AuditError::NotPrivate(refused.clone()),
                None => open_err(e),
            },
        )?;
        // Opened once here so a folder that cannot hold the log is reported at start-up.
        open_append(&path).map_err(open_err)?;
        let lock = open_append(&data_dir.join(LOCK_FILE_NAME)).map_err(open_err)?;
        Ok(Self {
            dir: data_dir.to_path_buf(),
            path,
            rotation,
            lock,
            threads: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `audit.log.n`: 1 is the newest rotated file.
    fn rotated(&self, n: usize) -> PathBuf {
        self.dir.join(format!("{FILE_NAME}.{n}"))
    }

    /// Appends one record and waits until it is on disk.
    pub fn record(&self, entry: Entry) -> Result<AuditRecord, AuditError> {
        let write_err = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        let _threads = self
            .threads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.lock.lock().map_err(write_err)?;
        let written = self.append(entry);
        let _ = self.lock.unlock();
        written.map_err(write_err)
    }

    /// Called with the lock held.
    fn append(&self, entry: Entry) -> std::io::Result<AuditRecord> {
        // Opened anew each time: another process may have rotated the file since.
        let mut file = open_append(&self.path)?;
        let mut len = file.metadata()?.len();
        if len >= self.rotation.max_bytes {
            self.rotate()?;
            file = open_append(&self.path)?;
            len = 0;
        }
        let last_id = match last_record(&file)? {
            Some(r) => r.id,
            // Just rotated (or a new log): the last id is in the newest rotated file.
            None => match File::open(self.rotated(1)) {
                Ok(f) => last_record(&f)?.map_or(0, |r| r.id),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
                Err(e) => return Err(e),
            },
        };
        let record = AuditRecord {
            id: last_id + 1,
            time: Utc::now(),
            // One record a line, read as written: see audit/escape.rs.
            actor: escape_controls(&entry.actor).into_owned(),
            action: escape_controls(&entry.action).into_owned(),
            target: escape_controls(&crate::config::mask_url(&entry.target)).into_owned(),
            outcome: entry.outcome,
            detail: escape_controls(&crate::config::mask_url(&entry.detail)).into_owned(),
        };
        let mut line = String::new();
        if len > 0 && !ends_with_newline(&file, len)? {
            // A crash mid-write left half a line; end it so this record stands alone.
            line.push('\n');
        }
        line.push_str(&serde_json::to_string(&record).map_err(std::io::Error::other)?);
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        Ok(record)
    }

    /// audit.log.(N-1) → audit.log.N … audit.log → audit.log.1; the oldest goes.
    fn rotate(&self) -> std::io::Result<()> {
        let keep = self.rotation.keep.max(1);
        match std::fs::remove_file(self.rotated(keep)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        for n in (1..keep).rev() {
            match std::fs::rename(self.rotated(n), self.rotated(n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, self.rotated(1))?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Newest first, at most `filter.limit` (or [`DEFAULT_LIMIT`]) records, read backwards
    /// from the end of the log and then of each rotated file: never a whole file in memory.
    pub fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AuditError> {
        let read_err = |source| AuditError::Read {
            path: self.path.clone(),
            source,
        };
        let limit = if filter.limit == 0 {
            DEFAULT_LIMIT
        } else {
            filter.limit
        };
        // Every file is opened under the lock, so a rotation cannot shift them mid-read.
        let files = {
            let _threads = self
                .threads
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            self.lock.lock_shared().map_err(read_err)?;
            let opened: std::io::Result<Vec<File>> = std::iter::once(self.path.clone())
                .chain((1..=self.rotation.keep.max(1)).map(|n| self.rotated(n)))
                .filter_map(|p| match File::open(&p) {
                    Ok(f) => Some(Ok(f)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => Some(Err(e)),
                })
                .collect();
            let _ = self.lock.unlock();
            opened.map_err(read_err)?
        };
        let mut matched = Vec::new();
        for file in files {
            for line in RevLines::new(file).map_err(read_err)? {
                let line = line.map_err(read_err)?;
                let Ok(record) = serde_json::from_slice::<AuditRecord>(&line) else {
                    continue;
                };
                if filter.matches(&record) {
                    matched.push(record);
                    if matched.len() >= limit {
                        return Ok(matched);
                    }
                }
            }
        }
        Ok(matched)
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).read(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    opts.open(path)
}

fn ends_with_newline(file: &File, len: u64) -> std::io::Result<bool> {
    let mut last = [0u8; 1];
    read_at(file, &mut last, len - 1)?;
    Ok(last[0] == b'\n')
}

fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

/// The last whole record of a file (a torn or foreign last line is passed over).
fn last_record(file: &File) -> std::io::Result<Option<AuditRecord>> {
    let file = file.try_clone()?;
    for line in RevLines::new(file)? {
        if let Ok(r) = serde_json::from_slice::<AuditRecord>(&line?) {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// A file's lines from the last to the first, read in chunks from the end.
struct RevLines {
    file: File,
    /// Where the bytes not yet read end.
    pos: u64,
    /// Bytes read but not yet returned (the tail of the unread part).
    pending: Vec<u8>,
}

const CHUNK: u64 = 64 * 1024;
/// A "line" longer than this is not a record: it is dropped rather than held.
const MAX_LINE: usize = 1024 * 1024;

impl RevLines {
    fn new(file: File) -> std::io::Result<Self> {
        let pos = file.metadata()?.len();
        Ok(Self {
            file,
            pos,
            pending: Vec::new(),
        })
    }
}

impl Iterator for RevLines {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(i) = self.pending.iter().rposition(|&b| b == b'\n') {
                let line = self.pending.split_off(i + 1);
                self.pending.truncate(i);
                if line.is_empty() {
                    continue;
                }
                return Some(Ok(line));
            }
            if self.pos == 0 {
                return (!self.pending.is_empty()).then(|| Ok(std::mem::take(&mut self.pending)));
            }
            if self.pending.len() > MAX_LINE {
                self.pending.clear();
            }
            let n = CHUNK.min(self.pos);
            self.pos -= n;
            let mut chunk = vec![0u8; n as usize];
            if let Err(e) = read_at(&self.file, &mut chunk, self.pos) {
                self.pos = 0;
                self.pending.clear();
                return Some(Err(e));
            }
            chunk.extend_from_slice(&self.pending);
            self.pending = chunk;
        }
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

    #[test]
    fn two_handles_on_one_log_from_two_threads_never_share_an_id() {
        let dir = temp_dir("two-writers");
        let a = AuditLog::open(&dir).expect("open a");
        let b = AuditLog::open(&dir).expect("open b");
        std::thread::scope(|s| {
            for (log, actor) in [(&a, "server"), (&b, "cli")] {
                s.spawn(move || {
                    for i in 0..100 {
                        log.record(Entry::new(actor, "test", format!("{i}")))
                            .expect("write");
                    }
                });
            }
        });
        let all = a
            .list(&AuditFilter {
                limit: 1000,
                ..Default::default()
            })
            .expect("list");
        let ids: Vec<u64> = all.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            (1..=200).rev().collect::<Vec<u64>>(),
            "unique, newest first"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_log_rotates_by_size_and_lists_across_files_newest_first() {
        let dir = temp_dir("rotate");
        let rotation = Rotation {
            max_bytes: 2000,
            keep: 3,
        };
        let log = AuditLog::open_with(&dir, rotation).expect("open");
        for i in 1..=100 {
            log.record(Entry::new("admin", "test", format!("record {i}")))
                .expect("write");
        }
        for f in [FILE_NAME, "audit.log.1", "audit.log.2", "audit.log.3"] {
            let len = std::fs::metadata(dir.join(f)).expect(f).len();
            assert!(len <= 2000 + 200, "{f} is {len} bytes");
        }
        assert!(
            !dir.join("audit.log.4").exists(),
            "only three rotated files are kept"
        );
        let newest = log
            .list(&AuditFilter {
                limit: 30,
                ..Default::default()
            })
            .expect("list");
        let ids: Vec<u64> = newest.iter().map(|r| r.id).collect();
        assert_eq!(ids, (71..=100).rev().collect::<Vec<u64>>());
        // Everything kept, across the current and the rotated files, in order.
        let kept = log
            .list(&AuditFilter {
                limit: 1000,
                ..Default::default()
            })
            .expect("list");
        assert!(kept.windows(2).all(|w| w[0].id == w[1].id + 1));
        assert_eq!(kept.first().map(|r| r.id), Some(100));
        assert!(kept.len() < 100, "the oldest file was dropped");
        // A filter reads on until it has its limit.
        let one = log
            .list(&AuditFilter {
                text: "record 75".to_string(),
                ..Default::default()
            })
            .expect("list");
        assert_eq!(one.iter().map(|r| r.id).collect::<Vec<_>>(), [75]);
        // Ids continue after a rotation left the current file empty, and in a new handle.
        let again = AuditLog::open_with(&dir, rotation)
            .expect("reopen")
            .record(Entry::new("admin", "test", "after"))
            .expect("write");
        assert_eq!(again.id, 101);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lines_are_read_backwards_across_chunk_boundaries() {
        let dir = temp_dir("rev");
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("lines");
        let lines: Vec<String> = (0..5000)
            .map(|i| format!("line {i} {}", "x".repeat(i % 97)))
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let back: Vec<String> = RevLines::new(File::open(&path).expect("open"))
            .expect("rev")
            .map(|l| String::from_utf8(l.expect("read")).expect("utf8"))
            .collect();
        let mut expected = lines.clone();
        expected.reverse();
        assert_eq!(back, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
