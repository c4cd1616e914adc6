//! The one error a server function returns: a sentence for the person at the screen.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub message: String,
}

impl AppError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
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
        let message = match value {
            ServerFnErrorErr::Request(e) => {
                format!(
                    "The console did not answer ({e}): check that holomush-admin is still running."
                )
            }
            ServerFnErrorErr::ServerError(e) => e,
            // A form value the function cannot take (a word where a number goes, a kind
            // that does not exist): the pages never send one, so it was typed by hand.
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::MissingArg(e) => format!(
                "The form sent a value the console cannot read ({e}): use the page's own fields and try again; nothing was changed."
            ),
            other => format!("The request failed: {other}."),
        };
        Self { message }
    }
}
