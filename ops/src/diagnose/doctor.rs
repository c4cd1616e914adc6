//! The connection doctor: every step between a DATABASE_URL and a database HoloMUSH
//! can use, in order, each with what it found and what to do about it.

use std::time::{Duration, Instant};

use crate::config::DatabaseUrl;
use crate::model::{DoctorReport, DoctorStep, StepId, StepStatus};

mod database;
mod network;
mod tools;

pub use database::enable_pg_trgm;
pub use tools::tool_checks;

use database::database_steps;
use network::network_steps;

/// Every step, in the order it runs.
pub const STEPS: [StepId; 11] = StepId::ALL;

const DNS_TIMEOUT: Duration = Duration::from_secs(5);
const TCP_TIMEOUT: Duration = Duration::from_secs(3);
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);
pub const CREATE_PG_TRGM: &str = "CREATE EXTENSION IF NOT EXISTS pg_trgm;";

struct Outcome {
    status: StepStatus,
    message: String,
    fix: Option<String>,
}

fn pass(message: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Pass,
        message: message.into(),
        fix: None,
    }
}

fn warn(message: impl Into<String>, fix: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Warn,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

fn fail(message: impl Into<String>, fix: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Fail,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

fn skip(message: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Skip,
        message: message.into(),
        fix: None,
    }
}

/// Collects the steps; after a hard failure the rest are skipped with the reason.
struct Recorder {
    steps: Vec<DoctorStep>,
    stopped_by: Option<StepId>,
}

impl Recorder {
    /// Records a step; false when it was a hard failure and nothing further can run.
    fn record(&mut self, id: StepId, started: Instant, o: Outcome, hard: bool) -> bool {
        let failed = o.status == StepStatus::Fail;
        self.steps.push(DoctorStep {
            id,
            status: o.status,
            message: o.message,
            fix: o.fix,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        if failed && hard {
            self.stopped_by = Some(id);
        }
        !(failed && hard)
    }

    fn finish(mut self, password: Option<String>) -> DoctorReport {
        for id in STEPS.iter().skip(self.steps.len()) {
            let why = match self.stopped_by {
                Some(by) => format!("Skipped because the {by} step failed."),
                None => "Skipped.".to_string(),
            };
            let o = skip(why);
            self.steps.push(DoctorStep {
                id: *id,
                status: o.status,
                message: o.message,
                fix: None,
                duration_ms: 0,
            });
        }
        // Every message is built from masked parts; this is the net under that rule,
        // for text a server or library put together. Very short passwords cannot be
        // told from ordinary words, so they are left to the construction alone.
        if let Some(pw) = password.filter(|p| p.len() >= 4) {
            for s in &mut self.steps {
                s.message = s.message.replace(&pw, "****");
                s.fix = s.fix.take().map(|f| f.replace(&pw, "****"));
            }
        }
        DoctorReport {
            ok: self.steps.iter().all(|s| s.status != StepStatus::Fail),
            steps: self.steps,
        }
    }
}

/// How many doctor runs go at once in this process: every page load of Troubleshooting runs
/// one, and each opens connections and starts client tools.
pub const AT_ONCE: usize = 2;

static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);

/// The doctor's steps on `url_text`, parsed as typed (nothing from the environment). Beyond
/// [`AT_ONCE`] runs, a caller waits its turn (first come, first served) and then gets a fresh
/// report of its own. Where the URL may point is the caller's to check ([`run_typed`]).
pub async fn run(url_text: &str) -> DoctorReport {
    // The semaphore is never closed, so acquiring fails never; were it to, run unbounded.
    let _turn = RUNNING.acquire().await.ok();
    run_now(url_text, None).await
}

/// The doctor on a URL a person typed: besides parsing, it must name a host, and a socket
/// or an address of this machine must be the managed server or allowed by `rules`; else
/// the parse step fails with that sentence and nothing is contacted.
pub async fn run_typed(url_text: &str, rules: &crate::config::TypedUrlRules) -> DoctorReport {
    let _turn = RUNNING.acquire().await.ok();
    run_now(url_text, Some(rules)).await
}

/// The doctor on the console's own URL, as the configuration parsed it (with the libpq
/// variables the operator set for it).
pub async fn run_url(url: &DatabaseUrl) -> DoctorReport {
    let _turn = RUNNING.acquire().await.ok();
    let mut rec = Recorder {
        steps: Vec::new(),
        stopped_by: None,
    };
    rec.record(
        StepId::Parse,
        Instant::now(),
        pass(format!("DATABASE_URL parses: {}.", url.masked())),
        true,
    );
    run_parsed(rec, url).await
}

/// How many doctor runs are going now (at most [`AT_ONCE`]).
pub fn running() -> usize {
    AT_ONCE - RUNNING.available_permits()
}

async fn run_now(url_text: &str, rules: Option<&crate::config::TypedUrlRules>) -> DoctorReport {
    let mut rec = Recorder {
        steps: Vec::new(),
        stopped_by: None,
    };
    let t = Instant::now();
    let url = match DatabaseUrl::parse(url_text.trim()) {
        Ok(u) => u,
        Err(e) => {
            rec.record(
                StepId::Parse,
                t,
                fail(
                    format!(
                        "DATABASE_URL=\"{}\" is not valid: {e}.",
                        crate::config::mask_url(url_text.trim())
                    ),
                    "Write DATABASE_URL as postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require (percent-encode special characters in the password).",
                ),
                true,
            );
            return rec.finish(None);
        }
    };
    if let Some(rules) = rules {
        if let Err(e) = rules.check(&url, "The URL").await {
            rec.record(StepId::Parse, t, fail(format!("{e}."), e.fix()), true);
            return rec.finish(url.password());
        }
    }
    rec.record(
        StepId::Parse,
        t,
        pass(format!("DATABASE_URL parses: {}.", url.masked())),
        true,
    );
    run_parsed(rec, &url).await
}

async fn run_parsed(mut rec: Recorder, url: &DatabaseUrl) -> DoctorReport {
    let password = url.password();
    if let Some(conn) = network_steps(&mut rec, url).await {
        database_steps(&mut rec, url, conn).await;
    }
    rec.finish(password)
}

#[cfg(test)]
mod bound_tests;
