//! The one error a server function returns: a sentence for the person at the screen, and
//! its kind (as leptos' `server_fns_axum` example keeps an error enum's kind across the
//! server-function boundary). The kind sets the answer's HTTP status (see
//! [`AppError::status`]) and the word the pages head the sentence with (see [`alert`]).

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use ops::error::{ErrorKind, Kind};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
}

impl AppError {
    /// The request cannot be done as asked (a confirmation, a choice, a form value);
    /// nothing was changed.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Refused, message)
    }

    /// What was named (a job, a migration version) does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::NotFound, message)
    }

    /// Something the console needs (the database, the server itself) could not be reached.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Unavailable, message)
    }

    /// The work itself failed.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Failed, message)
    }

    pub fn of(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The HTTP status a server function answers with when it fails with this error:
    /// each kind its own, so a script (or the browser's network panel) tells a refusal from
    /// a failure without reading the sentence. A refusal is 400 (the request, as sent,
    /// cannot be done; sending it again will not help), a busy database 423 Locked (another
    /// job holds the database's lock; it may work once that job ends), and work stopped on
    /// request 409 (the request met a cancel or the console's stop).
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::Refused => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::Interrupted => 409,
            ErrorKind::Busy => 423,
            ErrorKind::Failed => 500,
            ErrorKind::Unavailable => 503,
        }
    }
}

/// Every error of the console's own (a `ConsoleError`, a `BackupError`, a `MigrateError`…)
/// becomes the page's error with its kind, so a server function says `?` and nothing else.
impl<E: Kind + std::fmt::Display> From<E> for AppError {
    fn from(e: E) -> Self {
        Self::of(e.kind(), e.to_string())
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(e) => Self::unavailable(format!(
                "The console did not answer ({e}): check that holomush-admin is still running."
            )),
            ServerFnErrorErr::ServerError(e) => Self::failed(e),
            // A form value the function cannot take (a word where a number goes, a kind
            // that does not exist): the pages never send one, so it was typed by hand.
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::MissingArg(e) => Self::refused(format!(
                "The form sent a value the console cannot read ({e}): use the page's own fields and try again; nothing was changed."
            )),
            other => Self::failed(format!("The request failed: {other}.")),
        }
    }

    /// The error as it leaves the server: this is the one place every server function's
    /// error passes on its way out (those of the function's body and those of reading its
    /// arguments alike), so its HTTP status is set here.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        crate::api::guard::answer_status(self.status());
        use leptos::server_fn::Encodes;
        JsonEncoding::encode(self).unwrap_or_else(|e| {
            JsonEncoding::encode(&Self::failed(format!(
                "The error could not be encoded ({e})."
            )))
            .unwrap_or_default()
        })
    }
}

/// An error as every page shows it: the kind's word, then the sentence, in an alert.
pub fn alert(error: AppError) -> impl IntoView {
    view! {
        <p class="error" role="alert" data-kind=format!("{:?}", error.kind)>
            <strong class="error-kind">{error.kind.label()}</strong>
            ": "
            {error.message}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_answers_with_its_own_status() {
        let statuses: Vec<(ErrorKind, u16)> = [
            ErrorKind::Refused,
            ErrorKind::NotFound,
            ErrorKind::Busy,
            ErrorKind::Unavailable,
            ErrorKind::Failed,
            ErrorKind::Interrupted,
        ]
        .into_iter()
        .map(|k| (k, AppError::of(k, "x").status()))
        .collect();
        assert_eq!(
            statuses,
            [
                (ErrorKind::Refused, 400),
                (ErrorKind::NotFound, 404),
                (ErrorKind::Busy, 423),
                (ErrorKind::Unavailable, 503),
                (ErrorKind::Failed, 500),
                (ErrorKind::Interrupted, 409),
            ]
        );
    }

    #[test]
    fn the_kind_crosses_the_boundary_as_json() {
        let e = AppError::not_found("Job 7 is not known.");
        let back = AppError::de(e.ser());
        assert_eq!(back, e);
    }
}
