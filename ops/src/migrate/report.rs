//! What a run is asked and what it answers, in words shared by every tool: the operation, the
//! log line sink, and the report of the files it ran.

use std::time::Duration;

use crate::model::Direction;
pub use crate::model::MigrateOp as Op;

/// Where a run says what it is doing, line by line (the job's log).
pub type Log = dyn Fn(String) + Send + Sync;

/// "No version": golang-migrate's `NilVersion`; goose's version 0 is shown as this too.
pub const NIL: i64 = -1;

#[derive(Clone, Debug)]
pub struct StepReport {
    pub version: u64,
    pub name: String,
    pub direction: Direction,
    pub duration: Duration,
    /// No file (or no statements) for this direction: the ledger moved, no SQL ran.
    pub empty: bool,
}

#[derive(Clone, Debug)]
pub struct RunReport {
    pub from: i64,
    pub to: i64,
    pub steps: Vec<StepReport>,
}

impl RunReport {
    pub fn summary(&self) -> String {
        let show = |v: i64| {
            if v == NIL {
                "no version".to_string()
            } else {
                v.to_string()
            }
        };
        if self.steps.is_empty() && self.from == self.to {
            return format!("no change: the database is at {}", show(self.to));
        }
        let total: Duration = self.steps.iter().map(|s| s.duration).sum();
        format!(
            "{} → {} ({} migration{} in {} ms)",
            show(self.from),
            show(self.to),
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" },
            total.as_millis()
        )
    }
}
