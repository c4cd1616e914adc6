//! The one runner for every long operation (migrate, backup, restore, verify): an id,
//! a live log, progress, cancel, one audit record at the end, and never two at once on the
//! database. The server keeps a record of each job in the data folder, so a job that was
//! running when the server died shows as failed after the restart instead of vanishing.

use std::path::{Path, PathBuf};
// The unit tests (jobs/tests.rs, `use super::*`) hand the runner an Arc<AuditLog>.
#[cfg(test)]
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::audit::{AuditLog, Entry};
use crate::error::{ErrorKind, Kind};
use crate::model::{JobKind, JobLine, JobOutput, JobStatus, JobView, Progress, SqlFailure};
use crate::process::Owner;

mod log;
mod runner;

pub use log::{left_out_line, HEAD, TAIL};

pub use runner::{Busy, Jobs, StopReport, CUT_SHORT};

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
    log: log::Log,
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

/// The sentence a job gets when the process running it died.
pub const DIED: &str = "The console stopped (restart or crash) while this job was running, so it did not finish; nothing it was writing was kept.";

impl Job {
    pub fn log(&self, text: impl Into<String>) {
        let text = crate::config::mask_url(&text.into());
        tracing::info!(job = self.id, "{text}");
        let at_ms = u64::try_from(self.t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.lock().log.push(JobLine { at_ms, text });
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
            lines: s.log.lines(),
            left_out: s.log.left_out(),
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

    /// The lines after the first `seen` of all it logged, each with its position in the whole
    /// log (lines left out come as one summary line, see `jobs/log.rs`), the progress now,
    /// and whether the job has ended.
    pub fn since(&self, seen: usize) -> (Vec<(usize, JobLine)>, Option<Progress>, bool) {
        let s = self.lock();
        (
            s.log.since(seen),
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
            for (i, line) in &lines {
                on_line(line);
                seen = i + 1;
            }
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
                log: log::Log::restored(view.lines, view.left_out),
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

#[cfg(test)]
mod tests;
