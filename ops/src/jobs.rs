//! The one runner for every long operation (migrate, backup, restore, verify): an id,
//! a live log, progress, cancel, one audit record at the end, and never two at once on the
//! database. The server keeps a record of each job in the data folder, so a job that was
//! running when the server died shows as failed after the restart instead of vanishing.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::audit::{AuditLog, Entry};
use crate::error::{ErrorKind, Kind};
use crate::joblock::JobLock;
use crate::model::{JobKind, JobLine, JobOutput, JobStatus, JobView, Progress, SqlFailure};
use crate::process::Owner;

/// Jobs kept for the pages to read after they end.
const KEEP: usize = 50;

/// Why a job did not succeed: its sentence, its kind (which the job's view keeps, so a
/// caller decides by the kind and never by the sentence) and, for a SQL file, where it failed.
#[derive(Clone, Debug)]
pub struct JobFailure {
    pub kind: ErrorKind,
    pub message: String,
    pub sql: Option<SqlFailure>,
}

impl JobFailure {
    /// The work itself failed.
    pub fn new(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Failed, message)
    }

    /// The job cannot do what was asked (the database's state, a missing file); it changed
    /// nothing.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Refused, message)
    }

    pub fn of(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            sql: None,
        }
    }
}

/// Any error that knows its kind ends a job with that kind and its sentence.
impl<E: Kind + std::fmt::Display> From<E> for JobFailure {
    fn from(e: E) -> Self {
        Self::of(e.kind(), e.to_string())
    }
}

pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    pub actor: String,
    pub target: String,
    started_at: DateTime<Utc>,
    t0: Instant,
    cancel: CancellationToken,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    record: Option<PathBuf>,
}

struct State {
    status: JobStatus,
    lines: Vec<JobLine>,
    result: Option<String>,
    error_kind: Option<ErrorKind>,
    failure: Option<SqlFailure>,
    progress: Option<Progress>,
    output: Option<JobOutput>,
}

/// What the data folder keeps of a job: its view, and which process ran it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    job: JobView,
    owner: Owner,
}

/// Another job holds the database; the sentence names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Busy(pub String);

impl Kind for Busy {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Busy
    }
}

/// The sentence a job gets when the process running it died.
pub const DIED: &str = "The console stopped (restart or crash) while this job was running, so it did not finish; nothing it was writing was kept.";

impl Job {
    pub fn log(&self, text: impl Into<String>) {
        let text = crate::config::mask_url(&text.into());
        tracing::info!(job = self.id, "{text}");
        let at_ms = u64::try_from(self.t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.lock().lines.push(JobLine { at_ms, text });
        self.changed.send_modify(|n| *n += 1);
    }

    /// What the job produced, for callers that need more than its result sentence.
    pub fn set_output(&self, output: JobOutput) {
        self.lock().output = Some(output);
    }

    /// Replaces the job's progress; pages and the CLI draw it as a bar.
    pub fn progress(&self, p: Progress) {
        self.lock().progress = Some(p);
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    pub fn cancel(&self) {
        self.log("Cancel requested: stopping before the next step");
        self.cancel.cancel();
    }

    pub fn view(&self) -> JobView {
        let s = self.lock();
        JobView {
            id: self.id,
            kind: self.kind.clone(),
            actor: self.actor.clone(),
            target: self.target.clone(),
            started_at: self.started_at,
            status: s.status,
            lines: s.lines.clone(),
            result: s.result.clone(),
            error_kind: s.error_kind,
            failure: s.failure.clone(),
            progress: s.progress.clone(),
            output: s.output.clone(),
        }
    }

    fn save(&self) {
        let Some(path) = &self.record else { return };
        let record = Record {
            job: self.view(),
            owner: Owner::me(),
        };
        if let Err(e) = write_record(path, &record) {
            tracing::warn!("The job record {} was not saved: {e}", path.display());
        }
    }

    pub fn is_done(&self) -> bool {
        self.lock().status != JobStatus::Running
    }

    /// Wakes each time the job logs, moves or ends; read what changed with [`Self::since`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The lines after the first `seen`, the progress now, and whether the job has ended.
    pub fn since(&self, seen: usize) -> (Vec<JobLine>, Option<Progress>, bool) {
        let s = self.lock();
        (
            s.lines
                .get(seen..)
                .map(<[JobLine]>::to_vec)
                .unwrap_or_default(),
            s.progress.clone(),
            s.status != JobStatus::Running,
        )
    }

    /// Calls `on_line` for every line as it arrives, and returns the final view.
    pub async fn follow(&self, on_line: impl FnMut(&JobLine)) -> JobView {
        self.follow_progress(on_line, |_| {}).await
    }

    /// As [`Self::follow`], and calls `on_progress` each time the progress changes.
    pub async fn follow_progress(
        &self,
        mut on_line: impl FnMut(&JobLine),
        mut on_progress: impl FnMut(&Progress),
    ) -> JobView {
        let mut rx = self.changed.subscribe();
        let mut seen = 0;
        let mut last: Option<Progress> = None;
        loop {
            let (lines, progress, done) = self.since(seen);
            seen += lines.len();
            lines.iter().for_each(&mut on_line);
            if let Some(p) = progress.filter(|p| last.as_ref() != Some(p)) {
                on_progress(&p);
                last = Some(p);
            }
            if done {
                return self.view();
            }
            if rx.changed().await.is_err() {
                return self.view();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish(&self, outcome: &Result<String, JobFailure>) {
        let status = match outcome {
            Ok(_) => JobStatus::Succeeded,
            Err(_) if self.cancel.is_cancelled() => JobStatus::Cancelled,
            Err(_) => JobStatus::Failed,
        };
        self.finish_as(status, outcome);
    }

    fn finish_as(&self, status: JobStatus, outcome: &Result<String, JobFailure>) {
        {
            let mut s = self.lock();
            s.status = status;
            match outcome {
                Ok(summary) => s.result = Some(summary.clone()),
                Err(f) => {
                    s.result = Some(f.message.clone());
                    // A cancelled job stopped on request, whatever error the stop surfaced as.
                    s.error_kind = Some(if status == JobStatus::Cancelled {
                        ErrorKind::Interrupted
                    } else {
                        f.kind
                    });
                    s.failure = f.sql.clone();
                }
            }
        }
        self.save();
        self.changed.send_modify(|n| *n += 1);
    }

    /// A job from an earlier run of the server, already ended.
    fn ended(view: JobView) -> Self {
        let (changed, _) = watch::channel(0);
        Self {
            id: view.id,
            kind: view.kind,
            actor: view.actor,
            target: view.target,
            started_at: view.started_at,
            t0: Instant::now(),
            cancel: CancellationToken::new(),
            state: Mutex::new(State {
                status: view.status,
                lines: view.lines,
                result: view.result,
                error_kind: view.error_kind,
                failure: view.failure,
                progress: view.progress,
                output: view.output,
            }),
            changed,
            record: None,
        }
    }
}

/// The message a panic carried, when it carried text.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

fn write_record(path: &Path, record: &Record) -> std::io::Result<()> {
    let body = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    crate::files::write_atomic(path, &body)
}

/// Reads the records in `dir`; a job whose process is gone while it still says running is
/// marked failed (and audited) now, since nobody else will.
fn load_records(dir: &Path, audit: &AuditLog) -> Vec<JobView> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut views = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Some(mut record) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
        else {
            continue;
        };
        if record.job.status == JobStatus::Running && !record.owner.alive() {
            record.job.status = JobStatus::Failed;
            record.job.result = Some(DIED.to_string());
            record.job.error_kind = Some(ErrorKind::Failed);
            record.job.progress = None;
            let entry = Entry::new(
                record.job.actor.clone(),
                record.job.kind.as_str(),
                record.job.target.clone(),
            )
            .failed(DIED);
            if let Err(e) = audit.record(entry) {
                tracing::error!("{e}");
            }
            if let Err(e) = write_record(&path, &record) {
                tracing::warn!("The job record {} was not updated: {e}", path.display());
            }
        }
        views.push(record.job);
    }
    views.sort_by_key(|v| v.id);
    views
}

pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
    // One job at a time on the managed database: migrations, dumps and restores conflict.
    busy: Arc<tokio::sync::Mutex<()>>,
    audit: Arc<AuditLog>,
    records: Option<PathBuf>,
    // Every job is a task of this one set, so a stop can wait for them all.
    tasks: Mutex<JoinSet<()>>,
    // The same rule across processes (another CLI, a second server), when set.
    db_lock: Option<JobLock>,
    // Set once the process is stopping: no new job starts after that.
    stopping: CancellationToken,
}

/// How a stop went: the jobs that were running when it began, as they ended, and which
/// of them had to be cut short at the deadline (none when all reached a safe point).
#[derive(Debug)]
pub struct StopReport {
    pub stopped: Vec<JobView>,
    pub cut_short: Vec<u64>,
}

/// The sentence a job gets when the process stopping cut it short at the deadline.
pub const CUT_SHORT: &str = "The console was stopping and this job did not reach a safe point in time, so it was cut short: check its log, and the database's state, before running it again.";

impl Jobs {
    /// Jobs kept in memory only (the CLI: its jobs end with it, and the audit log has them).
    pub fn new(audit: Arc<AuditLog>) -> Self {
        Self {
            next: AtomicU64::new(1),
            jobs: Mutex::new(BTreeMap::new()),
            busy: Arc::new(tokio::sync::Mutex::new(())),
            audit,
            records: None,
            tasks: Mutex::new(JoinSet::new()),
            db_lock: None,
            stopping: CancellationToken::new(),
        }
    }

    /// Also takes the console's advisory lock on the managed database for every job.
    pub fn with_db_lock(mut self, lock: JobLock) -> Self {
        self.db_lock = Some(lock);
        self
    }

    /// Fires when the process begins to stop; long-lived readers (a job's event stream)
    /// end on it so the server can close.
    pub fn stopping(&self) -> &CancellationToken {
        &self.stopping
    }

    /// Stops the process's jobs: no new job starts, every running one is cancelled (a
    /// migration finishes its current file, a dump or restore stops and cleans up), and
    /// each gets until `grace` to end; what is still running then is cut short, with its
    /// record and audit line finalised here since its task never will.
    pub async fn stop(&self, grace: std::time::Duration) -> StopReport {
        self.stopping.cancel();
        let running = self.all_running();
        for job in &running {
            job.log("The console is stopping: cancelling this job at its next safe point");
            job.cancel.cancel();
        }
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let drained =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        let mut cut_short = Vec::new();
        if drained.is_err() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        for job in self.all_running() {
            job.log("Cut short: the console stopped before this job reached a safe point");
            let entry = Entry::new(job.actor.clone(), job.kind.as_str(), job.target.clone())
                .failed(CUT_SHORT);
            if let Err(e) = self.audit.record(entry) {
                tracing::error!("{e}");
            }
            // Failed, not cancelled: it did not stop at a safe point.
            job.finish_as(
                JobStatus::Failed,
                &Err(JobFailure::of(ErrorKind::Interrupted, CUT_SHORT)),
            );
            cut_short.push(job.id);
        }
        StopReport {
            stopped: running.iter().map(|j| j.view()).collect(),
            cut_short,
        }
    }

    fn all_running(&self) -> Vec<Arc<Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|j| !j.is_done())
            .cloned()
            .collect()
    }

    /// Jobs recorded in `dir` (the server): earlier jobs are loaded, ids continue after them.
    pub fn recorded(audit: Arc<AuditLog>, dir: PathBuf) -> Self {
        if let Err(e) = crate::files::create_private_dir(&dir) {
            tracing::warn!("Job records cannot be kept in {}: {e}", dir.display());
        }
        let past = load_records(&dir, &audit);
        let next = past.last().map_or(1, |v| v.id + 1);
        let mut jobs = BTreeMap::new();
        for view in past.into_iter().rev().take(KEEP) {
            jobs.insert(view.id, Arc::new(Job::ended(view)));
        }
        Self {
            next: AtomicU64::new(next),
            jobs: Mutex::new(jobs),
            busy: Arc::new(tokio::sync::Mutex::new(())),
            audit,
            records: Some(dir),
            tasks: Mutex::new(JoinSet::new()),
            db_lock: None,
            stopping: CancellationToken::new(),
        }
    }

    /// The newest jobs first, ended or not.
    pub fn recent(&self) -> Vec<JobView> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .rev()
            .map(|j| j.view())
            .collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    pub fn running(&self) -> Option<Arc<Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .rev()
            .find(|j| !j.is_done())
            .cloned()
    }

    /// Starts `work` now, or refuses with a sentence when another job holds the database.
    pub async fn start<F, Fut>(
        &self,
        kind: JobKind,
        actor: &str,
        target: &str,
        work: F,
    ) -> Result<Arc<Job>, Busy>
    where
        F: FnOnce(Arc<Job>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, JobFailure>> + Send + 'static,
    {
        self.start_noted(kind, actor, target, None, work).await
    }

    /// As [`Self::start`], the log opening with `note` (what the job works on, said before
    /// it begins) when there is one.
    pub async fn start_noted<F, Fut>(
        &self,
        kind: JobKind,
        actor: &str,
        target: &str,
        note: Option<String>,
        work: F,
    ) -> Result<Arc<Job>, Busy>
    where
        F: FnOnce(Arc<Job>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, JobFailure>> + Send + 'static,
    {
        let guard = self.busy.clone().try_lock_owned().map_err(|_| Busy(match self.running() {
            Some(j) => format!(
                "Another job is running on this database ({} #{}, started by {}): wait for it to finish or cancel it, then try again.",
                j.kind, j.id, j.actor
            ),
            None => "Another job is running on this database: wait for it to finish, then try again.".to_string(),
        }))?;
        if self.stopping.is_cancelled() {
            return Err(Busy(
                "The console is stopping, so no new job starts: run it again once it is back."
                    .to_string(),
            ));
        }
        let held = match &self.db_lock {
            Some(lock) => lock.acquire(&kind).await?,
            None => None,
        };
        let (changed, _) = watch::channel(0);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let job = Arc::new(Job {
            id,
            kind,
            actor: actor.to_string(),
            target: target.to_string(),
            started_at: Utc::now(),
            t0: Instant::now(),
            cancel: CancellationToken::new(),
            state: Mutex::new(State {
                status: JobStatus::Running,
                lines: note
                    .map(|text| JobLine {
                        at_ms: 0,
                        text: crate::config::mask_url(&text),
                    })
                    .into_iter()
                    .collect(),
                result: None,
                error_kind: None,
                failure: None,
                progress: None,
                output: None,
            }),
            changed,
            record: self
                .records
                .as_ref()
                .map(|d| d.join(format!("{id:08}.json"))),
        });
        job.save();
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.insert(job.id, job.clone());
            while jobs.len() > KEEP {
                let Some(oldest) = jobs.keys().next().copied() else {
                    break;
                };
                jobs.remove(&oldest);
                if let Some(dir) = &self.records {
                    let _ = std::fs::remove_file(dir.join(format!("{oldest:08}.json")));
                }
            }
        }
        let audit = self.audit.clone();
        let running = job.clone();
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        // Ended tasks are reaped here, so the set holds only what still runs.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            // A panicking job ends failed, with its audit record, instead of "running" forever.
            let outcome = match AssertUnwindSafe(work(running.clone())).catch_unwind().await {
                Ok(outcome) => outcome,
                Err(panic) => {
                    let why = panic_text(panic.as_ref());
                    tracing::error!(job = running.id, "the job panicked: {why}");
                    running.log(format!("Internal error: {why}"));
                    Err(JobFailure::new(format!(
                        "The job stopped on an internal error ({why}); nothing after that point ran. Check the job log, then try again."
                    )))
                }
            };
            let entry = Entry::new(
                running.actor.clone(),
                running.kind.as_str(),
                running.target.clone(),
            );
            let entry = match &outcome {
                Ok(summary) => entry.detail(summary.clone()),
                Err(f) => entry.failed(f.message.chars().take(2000).collect::<String>()),
            };
            if let Err(e) = audit.record(entry) {
                tracing::error!("{e}");
            }
            // Free the database before anyone watching sees the job end, so the next
            // job they start is not refused as "another job is running".
            if let Some(held) = held {
                held.release().await;
            }
            drop(guard);
            running.finish(&outcome);
        });
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u64, status: JobStatus) -> JobView {
        JobView {
            id,
            kind: JobKind::BackupFull,
            actor: "admin".to_string(),
            target: "postgres://holomush@db/holomush".to_string(),
            started_at: Utc::now(),
            status,
            lines: vec![JobLine {
                at_ms: 1,
                text: "Dumping holomush".to_string(),
            }],
            result: None,
            error_kind: None,
            failure: None,
            progress: None,
            output: None,
        }
    }

    #[test]
    fn a_job_whose_server_died_shows_as_failed_after_the_restart() {
        let dir = std::env::temp_dir().join(format!(
            "holomush-jobs-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        let records = dir.join("jobs");
        std::fs::create_dir_all(&records).expect("dir");
        let audit = Arc::new(AuditLog::open(&dir).expect("audit"));
        let mut child = std::process::Command::new("true").spawn().expect("true");
        let dead = child.id();
        child.wait().expect("wait");
        let died = Record {
            job: view(7, JobStatus::Running),
            owner: Owner {
                pid: dead,
                start: 1,
            },
        };
        write_record(&records.join("00000007.json"), &died).expect("write");
        // A job of a process still alive (another console on this folder) is left alone.
        let live = Record {
            job: view(5, JobStatus::Running),
            owner: Owner::me(),
        };
        write_record(&records.join("00000005.json"), &live).expect("write");

        let jobs = Jobs::recorded(audit, records.clone());
        let v = jobs.get(7).expect("loaded").view();
        assert_eq!(v.status, JobStatus::Failed);
        assert_eq!(v.result.as_deref(), Some(DIED));
        assert_eq!(v.error_kind, Some(ErrorKind::Failed));
        assert_eq!(v.lines.len(), 1, "the log it had is kept");
        assert_eq!(
            jobs.get(5).expect("loaded").view().status,
            JobStatus::Running
        );
        let audit_log = std::fs::read_to_string(dir.join("audit.log")).expect("audit log");
        assert!(audit_log.contains("The console stopped"), "{audit_log}");
        let on_disk = std::fs::read_to_string(records.join("00000007.json")).expect("record");
        assert!(on_disk.contains("Failed"), "the record itself is settled");
        assert_eq!(jobs.recent().first().map(|j| j.id), Some(7));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_panicking_job_ends_failed_with_its_audit_record_and_frees_the_database() {
        let dir = std::env::temp_dir().join(format!(
            "holomush-jobs-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        let audit = Arc::new(AuditLog::open(&dir).expect("audit"));
        let jobs = Jobs::recorded(audit, dir.join("jobs"));
        let job = jobs
            .start(JobKind::BackupFull, "admin", "db", |job| async move {
                job.log("Dumping");
                let parts: Vec<u32> = Vec::new();
                // An index past the end: the kind of bug that must not leave a job running.
                Ok(format!("{}", parts[3]))
            })
            .await
            .expect("starts");
        let view = job.follow(|_| {}).await;
        assert_eq!(view.status, JobStatus::Failed);
        assert_eq!(view.error_kind, Some(ErrorKind::Failed));
        let result = view.result.unwrap_or_default();
        assert!(
            result.starts_with("The job stopped on an internal error (index out of bounds"),
            "{result}"
        );
        assert!(
            result.ends_with("nothing after that point ran. Check the job log, then try again.")
        );
        let audit_log = std::fs::read_to_string(dir.join("audit.log")).expect("audit log");
        assert!(
            audit_log.contains("\"action\":\"backup.full\"")
                && audit_log.contains("The job stopped on an internal error"),
            "{audit_log}"
        );
        let on_disk = std::fs::read_to_string(dir.join("jobs").join(format!("{:08}.json", job.id)))
            .expect("record");
        assert!(on_disk.contains("\"Failed\""), "{on_disk}");
        let next = jobs
            .start(JobKind::BackupSchema, "admin", "db", |_| async {
                Ok("done".to_string())
            })
            .await
            .expect("the database is free again");
        assert_eq!(next.follow(|_| {}).await.status, JobStatus::Succeeded);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
