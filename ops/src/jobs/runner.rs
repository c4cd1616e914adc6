//! The runner: each job a task of one set, one at a time on the database (and across
//! processes with the advisory lock), the recent ones kept, all of them stopped together.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{load_records, log, Job, JobFailure, State};
use crate::audit::{AuditLog, Entry};
use crate::error::{ErrorKind, Kind};
use crate::joblock::JobLock;
use crate::model::{JobKind, JobLine, JobStatus, JobView};

/// Jobs kept for the pages to read after they end.
const KEEP: usize = 50;

/// Another job holds the database; the sentence names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Busy(pub String);

impl Kind for Busy {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Busy
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
                log: log::Log::restored(
                    note.map(|text| JobLine {
                        at_ms: 0,
                        text: crate::config::mask_url(&text),
                    })
                    .into_iter()
                    .collect(),
                    0,
                ),
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
