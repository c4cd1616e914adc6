//! Is a process still alive: the one answer for job records (a process told apart from a
//! later one that reuses its pid, by its start time) and for half-written archives.

/// A process, told apart from a later one that reuses its pid by its start time.
#[derive(serde::Serialize, serde::Deserialize, PartialEq, Clone, Copy, Debug)]
pub struct Owner {
    pub pid: u32,
    pub start: u64,
}

impl Owner {
    /// The process `pid` as it is now, if there is one.
    pub fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Field 22 (starttime) counted after the ")" that ends the command name.
        let rest = stat.rsplit_once(')')?.1;
        let start = rest.split_whitespace().nth(19)?.parse().ok()?;
        Some(Self { pid, start })
    }

    pub fn me() -> Self {
        Self::of(std::process::id()).unwrap_or(Self {
            pid: std::process::id(),
            start: 0,
        })
    }

    /// The very process this was, not another that took its pid since.
    pub fn alive(&self) -> bool {
        Self::of(self.pid) == Some(*self)
    }
}

/// Some process has this pid (all a file name that carries only the pid can ask).
pub fn pid_alive(pid: u32) -> bool {
    Owner::of(pid).is_some()
}
