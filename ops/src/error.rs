//! What kind of "no" an error is. Every error the console gives a person has one kind; the
//! web turns it into an HTTP status and the CLI into an exit code, each in one place, and
//! nothing anywhere reads an error's text to tell the kinds apart.

use serde::{Deserialize, Serialize};

/// The kinds, shared with the browser so a page can word each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The request cannot be done as asked (a name, a confirmation, the database's state);
    /// nothing was changed.
    Refused,
    /// What was named (an archive, a job, a migration version) does not exist.
    NotFound,
    /// Another job holds the database; trying again later may work.
    Busy,
    /// Something the console needs (the database server, a tool) could not be reached.
    Unavailable,
    /// The work itself failed (a tool, the database, the disk).
    Failed,
    /// Stopped on request (a cancel, a signal); the sentence says what was undone.
    Interrupted,
}

impl ErrorKind {
    /// A short word for the kind, as the pages head an error with it.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Refused => "Refused",
            ErrorKind::NotFound => "Not found",
            ErrorKind::Busy => "Busy",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Failed => "Failed",
            ErrorKind::Interrupted => "Interrupted",
        }
    }
}

/// An error that knows its kind.
pub trait Kind {
    fn kind(&self) -> ErrorKind;
}
