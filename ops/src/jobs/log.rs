//! A job's log, bounded: the first [`HEAD`] lines (what the job set out to do) and the last
//! [`TAIL`] (how it ended) are kept, the lines between are counted and shown as one line.
//! A restore of a large archive or a chatty migration logs a line per object; kept whole,
//! that log grows without limit in memory, in the job's record and in every page that
//! shows it.
//!
//! Lines keep their position in the whole log (the "logical" index: the n-th line ever
//! logged), so a reader that follows the job by position (the event stream, the CLI) neither
//! repeats nor skips a line when the middle is dropped under it: it gets the summary line
//! once, in place of what it had not read yet.

use std::collections::VecDeque;

use crate::model::JobLine;

/// Lines kept from the start of the job.
pub const HEAD: usize = 200;
/// Lines kept from the end of the job.
pub const TAIL: usize = 800;

/// The line standing for the `n` lines left out.
pub fn left_out_line(n: u64) -> String {
    format!("… {n} lines left out here (a job keeps its first {HEAD} and its last {TAIL} lines) …")
}

#[derive(Default)]
pub(super) struct Log {
    head: Vec<JobLine>,
    tail: VecDeque<JobLine>,
    left_out: u64,
    /// When the newest line left out was logged: the summary line's time.
    left_out_at: u64,
}

impl Log {
    /// A log read back from a job's record (already bounded, its summary line in place).
    pub(super) fn restored(lines: Vec<JobLine>, left_out: u64) -> Self {
        let mut log = Self::default();
        if left_out > 0 && lines.len() > HEAD {
            let mut lines = lines.into_iter();
            log.head = lines.by_ref().take(HEAD).collect();
            if let Some(summary) = lines.next() {
                log.left_out_at = summary.at_ms;
            }
            log.tail = lines.collect();
            log.left_out = left_out;
        } else {
            lines.into_iter().for_each(|l| log.push(l));
        }
        log
    }

    pub(super) fn push(&mut self, line: JobLine) {
        if self.head.len() < HEAD {
            self.head.push(line);
            return;
        }
        self.tail.push_back(line);
        if self.tail.len() > TAIL {
            if let Some(dropped) = self.tail.pop_front() {
                self.left_out += 1;
                self.left_out_at = dropped.at_ms;
            }
        }
    }

    /// How many lines were ever logged.
    pub(super) fn total(&self) -> usize {
        self.head.len() + usize::try_from(self.left_out).unwrap_or(usize::MAX) + self.tail.len()
    }

    pub(super) fn left_out(&self) -> u64 {
        self.left_out
    }

    fn summary(&self) -> JobLine {
        JobLine {
            at_ms: self.left_out_at,
            text: left_out_line(self.left_out),
        }
    }

    /// The kept lines in order, the summary line between head and tail when lines were left out.
    pub(super) fn lines(&self) -> Vec<JobLine> {
        let mut all = Vec::with_capacity(self.head.len() + 1 + self.tail.len());
        all.extend(self.head.iter().cloned());
        if self.left_out > 0 {
            all.push(self.summary());
        }
        all.extend(self.tail.iter().cloned());
        all
    }

    /// The lines from logical index `seen` on, each with its index; lines left out that the
    /// reader had not read come as the summary line, indexed as the last of them.
    pub(super) fn since(&self, seen: usize) -> Vec<(usize, JobLine)> {
        let mut out = Vec::new();
        for (i, line) in self.head.iter().enumerate().skip(seen) {
            out.push((i, line.clone()));
        }
        let tail_start = self.total() - self.tail.len();
        if self.left_out > 0 && seen < tail_start {
            out.push((tail_start - 1, self.summary()));
        }
        for (j, line) in self.tail.iter().enumerate() {
            let i = tail_start + j;
            if i >= seen {
                out.push((i, line.clone()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize) -> JobLine {
        JobLine {
            at_ms: n as u64,
            text: format!("line {n}"),
        }
    }

    #[test]
    fn ten_thousand_lines_keep_the_first_200_and_the_last_800_and_say_so() {
        let mut log = Log::default();
        let mut read = Vec::new();
        let mut seen = 0;
        for n in 0..10_000 {
            log.push(line(n));
            // A reader following along now and then never sees a line twice.
            if n % 997 == 0 {
                for (i, l) in log.since(seen) {
                    read.push(l.text);
                    seen = i + 1;
                }
            }
        }
        for (i, l) in log.since(seen) {
            read.push(l.text);
            seen = i + 1;
        }
        assert_eq!(seen, 10_000);
        assert_eq!(log.total(), 10_000);
        let lines = log.lines();
        assert_eq!(lines.len(), 1001);
        assert_eq!(lines[0].text, "line 0");
        assert_eq!(lines[199].text, "line 199");
        assert_eq!(
            lines[200].text,
            "… 9000 lines left out here (a job keeps its first 200 and its last 800 lines) …"
        );
        assert_eq!(lines[201].text, "line 9200");
        assert_eq!(lines[1000].text, "line 9999");
        let unique: std::collections::HashSet<&String> = read.iter().collect();
        assert_eq!(unique.len(), read.len(), "no line read twice");

        let back = Log::restored(lines.clone(), log.left_out());
        assert_eq!(back.lines(), lines);
        assert_eq!(back.total(), 10_000);
    }
}
