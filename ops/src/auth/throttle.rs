//! The brake on guessing. A failure is counted per address (IPv6 by its /64, which one
//! client rotates through freely) and over all addresses; each attempt is charged before the
//! password is checked, so a burst cannot slip past the count, and refunded when it was right.
//! Refused attempts are not recorded one by one: they are reported once a minute per address,
//! and past [`REPORT_CAP`] addresses a minute the rest are summed into one line a minute, so a
//! flood from many addresses cannot rotate older evidence out of the audit log.
//! The global brake holds back only addresses that have failed themselves: a clean address
//! always has its password checked, so guessing from everywhere cannot lock the operator out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Failures from one address before each further try has to wait.
pub const FREE_FAILURES: u32 = 5;
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// Failures older than this are forgotten.
pub const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// Failures from all addresses together within [`GLOBAL_WINDOW`] before every address that
/// has failed within [`FAILURE_MEMORY`] waits: what many addresses guessing together can try.
pub const GLOBAL_FAILURES: usize = 30;
pub const GLOBAL_WINDOW: Duration = Duration::from_secs(60);
/// At most one report of refused attempts per address this often.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);
/// Addresses reported one by one within [`REPORT_EVERY`]; the rest share one line.
pub const REPORT_CAP: usize = 20;

/// How long an address must wait after `count` failures in a row.
pub fn wait_after(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doubling = (count - FREE_FAILURES).min(16);
    Duration::from_secs(1u64 << doubling).min(MAX_WAIT)
}

/// Addresses counted as one: an IPv4 address, or the /64 network of an IPv6 one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddrGroup {
    V4(Ipv4Addr),
    V6Net64(Ipv6Addr),
}

impl From<IpAddr> for AddrGroup {
    fn from(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => AddrGroup::V4(v4),
            IpAddr::V6(v6) => {
                AddrGroup::V6Net64(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1)))
            }
        }
    }
}

impl std::fmt::Display for AddrGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddrGroup::V4(ip) => write!(f, "{ip}"),
            AddrGroup::V6Net64(net) => write!(f, "{net}/64"),
        }
    }
}

/// Why an attempt was refused before its password was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    ThisAddress,
    AllAddresses,
}

/// Refused attempts since the last report: from one address, or summed over the addresses
/// past [`REPORT_CAP`] in a minute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThrottleReport {
    Address {
        from: AddrGroup,
        refused: u32,
        reason: Reason,
    },
    Folded {
        addresses: usize,
        refused: u64,
    },
    /// Wrong passwords past [`REPORT_CAP`] in a minute, not written one by one.
    FoldedFailures {
        addresses: usize,
        failed: u64,
    },
}

impl ThrottleReport {
    /// The attempts this report counts.
    pub fn refused(&self) -> u64 {
        match self {
            ThrottleReport::Address { refused, .. } => u64::from(*refused),
            ThrottleReport::Folded { refused, .. } => *refused,
            ThrottleReport::FoldedFailures { failed, .. } => *failed,
        }
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

impl std::fmt::Display for ThrottleReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let attempts = plural(self.refused(), "attempt", "attempts");
        match self {
            ThrottleReport::Address {
                from,
                refused,
                reason,
            } => {
                let why = match reason {
                    Reason::ThisAddress => "too many failed sign-ins from this address",
                    Reason::AllAddresses => {
                        "too many failed sign-ins from all addresses in the last minute"
                    }
                };
                write!(
                    f,
                    "{refused} sign-in {attempts} from {from} refused without checking the password: {why}"
                )
            }
            ThrottleReport::Folded { addresses, refused } => {
                let n = u64::try_from(*addresses).unwrap_or(u64::MAX);
                write!(
                    f,
                    "{refused} sign-in {attempts} from {addresses} further {} refused without checking the password: more than {REPORT_CAP} addresses were refused within a minute, so the rest are counted together",
                    plural(n, "address", "addresses")
                )
            }
            ThrottleReport::FoldedFailures { addresses, failed } => {
                let n = u64::try_from(*addresses).unwrap_or(u64::MAX);
                write!(
                    f,
                    "{failed} wrong {} from {addresses} {}: more than {REPORT_CAP} failed sign-ins were recorded within a minute, so the rest are counted together",
                    plural(*failed, "password", "passwords"),
                    plural(n, "address", "addresses")
                )
            }
        }
    }
}

/// An attempt let through and already counted as a failure; [`Throttle::succeeded`] takes it back.
#[derive(Debug)]
pub struct Charge {
    group: AddrGroup,
    at: Instant,
}

#[derive(Default)]
pub struct Throttle {
    failures: HashMap<AddrGroup, (u32, Instant)>,
    /// Every counted failure of the last [`GLOBAL_WINDOW`], oldest first.
    recent: VecDeque<Instant>,
    refusals: HashMap<AddrGroup, Refusals>,
    /// When each address was last reported one by one, within the last [`REPORT_EVERY`].
    reported_one_by_one: VecDeque<Instant>,
    folded: Option<Folded>,
    /// When each failed sign-in was written one by one, within the last [`REPORT_EVERY`].
    failed_one_by_one: VecDeque<Instant>,
    folded_failures: Option<Folded>,
}

/// Addresses past the cap, summed until their minute is up.
struct Folded {
    since: Instant,
    addresses: HashSet<AddrGroup>,
    refused: u64,
}

struct Refusals {
    count: u32,
    reason: Reason,
    reported: Option<Instant>,
}

impl Throttle {
    /// Lets an attempt through (charged as a failure) or says how long to wait.
    pub fn admit(&mut self, from: IpAddr, now: Instant) -> Result<Charge, Duration> {
        self.forget(now);
        let group = AddrGroup::from(from);
        if let Some((wait, reason)) = self.wait(group, now) {
            let r = self.refusals.entry(group).or_insert(Refusals {
                count: 0,
                reason,
                reported: None,
            });
            r.count += 1;
            r.reason = reason;
            return Err(wait);
        }
        let entry = self.failures.entry(group).or_insert((0, now));
        entry.0 += 1;
        entry.1 = now;
        self.recent.push_back(now);
        Ok(Charge { group, at: now })
    }

    /// The password was right: the address starts afresh and the charge leaves the global count.
    pub fn succeeded(&mut self, charge: Charge) {
        self.failures.remove(&charge.group);
        if let Some(i) = self.recent.iter().position(|t| *t == charge.at) {
            self.recent.remove(i);
        }
    }

    fn wait(&self, group: AddrGroup, now: Instant) -> Option<(Duration, Reason)> {
        // An address with no failure within FAILURE_MEMORY is never held back: the operator
        // signing in from a clean address gets through whatever others are guessing.
        let (count, last) = self.failures.get(&group)?;
        let wait = wait_after(*count);
        let since = now.duration_since(*last);
        if since < wait {
            return Some((wait - since, Reason::ThisAddress));
        }
        if self.recent.len() >= GLOBAL_FAILURES {
            let oldest = self.recent.front().copied().unwrap_or(now);
            let wait = GLOBAL_WINDOW.saturating_sub(now.duration_since(oldest));
            return Some((wait.max(Duration::from_secs(1)), Reason::AllAddresses));
        }
        None
    }

    fn forget(&mut self, now: Instant) {
        self.failures
            .retain(|_, (_, last)| now.duration_since(*last) < FAILURE_MEMORY);
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= GLOBAL_WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// Whether a wrong password from `from` is written to the audit log on its own: at most
    /// [`REPORT_CAP`] a minute, since a clean address gets one checked try whatever the
    /// global count and addresses are plentiful; past that it is summed into one line,
    /// reported by [`Self::take_reports`] when its minute is up.
    pub fn record_failure(&mut self, from: IpAddr, now: Instant) -> bool {
        while self
            .failed_one_by_one
            .front()
            .is_some_and(|t| now.duration_since(*t) >= REPORT_EVERY)
        {
            self.failed_one_by_one.pop_front();
        }
        if self.failed_one_by_one.len() < REPORT_CAP {
            self.failed_one_by_one.push_back(now);
            return true;
        }
        let folded = self.folded_failures.get_or_insert_with(|| Folded {
            since: now,
            addresses: HashSet::new(),
            refused: 0,
        });
        folded.addresses.insert(AddrGroup::from(from));
        folded.refused += 1;
        false
    }

    /// Reports of refused attempts that are due: the first refusal from an address at once,
    /// then at most one per address per [`REPORT_EVERY`] with the count since the last. Past
    /// [`REPORT_CAP`] addresses within [`REPORT_EVERY`], the rest are summed into one line,
    /// written when its minute is up.
    pub fn take_reports(&mut self, now: Instant) -> Vec<ThrottleReport> {
        let mut due = Vec::new();
        for (group, r) in &mut self.refusals {
            let time_for_one = r
                .reported
                .is_none_or(|t| now.duration_since(t) >= REPORT_EVERY);
            if r.count > 0 && time_for_one {
                due.push((*group, r.count, r.reason));
                r.count = 0;
                r.reported = Some(now);
            }
        }
        self.refusals.retain(|_, r| {
            r.count > 0
                || r.reported
                    .is_some_and(|t| now.duration_since(t) < REPORT_EVERY)
        });
        due.sort_by_key(|(from, _, _)| *from);
        while self
            .reported_one_by_one
            .front()
            .is_some_and(|t| now.duration_since(*t) >= REPORT_EVERY)
        {
            self.reported_one_by_one.pop_front();
        }
        let mut reports = Vec::new();
        for (from, refused, reason) in due {
            if self.reported_one_by_one.len() < REPORT_CAP {
                self.reported_one_by_one.push_back(now);
                reports.push(ThrottleReport::Address {
                    from,
                    refused,
                    reason,
                });
            } else {
                let folded = self.folded.get_or_insert_with(|| Folded {
                    since: now,
                    addresses: HashSet::new(),
                    refused: 0,
                });
                folded.addresses.insert(from);
                folded.refused += u64::from(refused);
            }
        }
        if let Some(f) = self
            .folded
            .take_if(|f| now.duration_since(f.since) >= REPORT_EVERY)
        {
            reports.push(ThrottleReport::Folded {
                addresses: f.addresses.len(),
                refused: f.refused,
            });
        }
        if let Some(f) = self
            .folded_failures
            .take_if(|f| now.duration_since(f.since) >= REPORT_EVERY)
        {
            reports.push(ThrottleReport::FoldedFailures {
                addresses: f.addresses.len(),
                failed: f.refused,
            });
        }
        reports
    }
}

#[cfg(test)]
mod tests;
