//! The one runner for every long operation (migrate, backup, restore, verify): an id,
//! a live log, cancel, one audit record at the end, and never two at once on the database.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::audit::{AuditLog, Entry};
use crate::model::{JobLine, JobStatus, JobView, SqlFailure};

/// Jobs kept for the pages to read after they end.
const KEEP: usize = 50;

#[derive(Clone, Debug)]
pub struct JobFailure {
    pub message: String,
    pub sql: Option<SqlFailure>,
}

impl JobFailure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            sql: None,
        }
    }
}

pub struct Job {
    pub id: u64,
    pub kind: String,
    pub actor: String,
    pub target: String,
    started_at: DateTime<Utc>,
    t0: Instant,
    cancel: CancellationToken,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

struct State {
    status: JobStatus,
    lines: Vec<JobLine>,
    result: Option<String>,
    failure: Option<SqlFailure>,
}

impl Job {
    pub fn log(&self, text: impl Into<String>) {
        let text = crate::config::mask_url(&text.into());
        tracing::info!(job = self.id, "{text}");
        let at_ms = u64::try_from(self.t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.lock().lines.push(JobLine { at_ms, text });
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
            failure: s.failure.clone(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.lock().status != JobStatus::Running
    }

    /// Calls `on_line` for every line as it arrives, and returns the final view.
    pub async fn follow(&self, mut on_line: impl FnMut(&JobLine)) -> JobView {
        let mut rx = self.changed.subscribe();
        let mut seen = 0;
        loop {
            let (lines, done) = {
                let s = self.lock();
                (s.lines[seen..].to_vec(), s.status != JobStatus::Running)
            };
            seen += lines.len();
            lines.iter().for_each(&mut on_line);
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
        {
            let mut s = self.lock();
            match outcome {
                Ok(summary) => {
                    s.status = JobStatus::Succeeded;
                    s.result = Some(summary.clone());
                }
                Err(f) => {
                    s.status = if self.cancel.is_cancelled() {
                        JobStatus::Cancelled
                    } else {
                        JobStatus::Failed
                    };
                    s.result = Some(f.message.clone());
                    s.failure = f.sql.clone();
                }
            }
        }
        self.changed.send_modify(|n| *n += 1);
    }
}

pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
    // One job at a time on the managed database: migrations, dumps and restores conflict.
    busy: Arc<tokio::sync::Mutex<()>>,
    audit: Arc<AuditLog>,
}

impl Jobs {
    pub fn new(audit: Arc<AuditLog>) -> Self {
        Self {
            next: AtomicU64::new(1),
            jobs: Mutex::new(BTreeMap::new()),
            busy: Arc::new(tokio::sync::Mutex::new(())),
            audit,
        }
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
    pub fn start<F, Fut>(
        &self,
        kind: &str,
        actor: &str,
        target: &str,
        work: F,
    ) -> Result<Arc<Job>, String>
    where
        F: FnOnce(Arc<Job>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, JobFailure>> + 'static,
    {
        let guard = self.busy.clone().try_lock_owned().map_err(|_| match self.running() {
            Some(j) => format!(
                "Another job is running on this database ({} #{}, started by {}): wait for it to finish or cancel it, then try again.",
                j.kind, j.id, j.actor
            ),
            None => "Another job is running on this database: wait for it to finish, then try again.".to_string(),
        })?;
        let (changed, _) = watch::channel(0);
        let job = Arc::new(Job {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            kind: kind.to_string(),
            actor: actor.to_string(),
            target: target.to_string(),
            started_at: Utc::now(),
            t0: Instant::now(),
            cancel: CancellationToken::new(),
            state: Mutex::new(State {
                status: JobStatus::Running,
                lines: Vec::new(),
                result: None,
                failure: None,
            }),
            changed,
        });
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.insert(job.id, job.clone());
            while jobs.len() > KEEP {
                let Some(oldest) = jobs.keys().next().copied() else {
                    break;
                };
                jobs.remove(&oldest);
            }
        }
        let audit = self.audit.clone();
        let running = job.clone();
        // Each job runs on a thread of its own with its own runtime: the work need not be
        // Send (sqlx's executor bounds make long engine futures fail that check), and a
        // long migration never occupies a worker of the web server.
        let spawned = std::thread::Builder::new()
            .name(format!("job-{}", job.id))
            .spawn(move || {
                let _guard = guard;
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        running.finish(&Err(JobFailure::new(format!(
                            "The job could not start: {e}"
                        ))));
                        return;
                    }
                };
                let outcome = runtime.block_on(work(running.clone()));
                let entry = Entry::new(
                    running.actor.clone(),
                    running.kind.clone(),
                    running.target.clone(),
                );
                let entry = match &outcome {
                    Ok(summary) => entry.detail(summary.clone()),
                    Err(f) => entry.failed(f.message.chars().take(2000).collect::<String>()),
                };
                if let Err(e) = audit.record(entry) {
                    tracing::error!("{e}");
                }
                running.finish(&outcome);
            });
        spawned.map_err(|e| format!("The job could not start: {e}"))?;
        Ok(job)
    }
}
