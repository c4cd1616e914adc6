//! A cap on open event streams: each holds a connection and a task for as long as its job
//! runs, so without one a single session (a script, or tabs left open) could hold as many
//! as it likes. Past the cap the stream is refused with 429; the job page still shows the
//! job, and reloads itself while it runs when scripts are off.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

/// Open streams one session may hold (a few tabs on a running job).
pub const PER_SESSION: usize = 8;
/// Open streams of all sessions together.
pub const OVERALL: usize = 64;

pub const SESSION_FULL: &str = "This session already follows 8 live job logs: close a tab that shows a running job, or reload this page to see the log without live updates.";
pub const ALL_FULL: &str = "The console already serves 64 live job logs: close a tab that shows a running job, or reload this page to see the log without live updates.";

#[derive(Default)]
struct Counts {
    total: usize,
    /// By a keyed hash of the session's cookie, so the token itself is not kept here too.
    per_session: HashMap<u64, usize>,
}

#[derive(Default)]
pub struct Streams {
    counts: Arc<Mutex<Counts>>,
    hasher: RandomState,
}

/// One open stream; its slot is given back when it is dropped (the stream ended or the
/// client went away).
pub struct Slot {
    counts: Arc<Mutex<Counts>>,
    key: u64,
}

impl Streams {
    /// A slot for the session whose cookie is `token`, or the sentence saying which cap is reached.
    pub fn open(&self, token: &str) -> Result<Slot, &'static str> {
        let key = self.hasher.hash_one(token);
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if c.per_session.get(&key).copied().unwrap_or(0) >= PER_SESSION {
            return Err(SESSION_FULL);
        }
        if c.total >= OVERALL {
            return Err(ALL_FULL);
        }
        c.total += 1;
        *c.per_session.entry(key).or_insert(0) += 1;
        Ok(Slot {
            counts: self.counts.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_session.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.per_session.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overall_cap_holds_across_sessions_and_a_closed_stream_frees_its_slot() {
        let streams = Streams::default();
        let mut open = Vec::new();
        for n in 0..OVERALL {
            let session = format!("session-{}", n / PER_SESSION);
            open.push(streams.open(&session).expect("under the caps"));
        }
        assert_eq!(streams.open("one more session").err(), Some(ALL_FULL));
        assert_eq!(streams.open("session-0").err(), Some(SESSION_FULL));
        open.pop();
        assert!(streams.open("one more session").is_ok());
        drop(open);
        assert_eq!(streams.counts.lock().map(|c| c.total).unwrap_or(99), 0);
    }
}
