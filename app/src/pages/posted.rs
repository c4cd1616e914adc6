//! What a plain form post left in the address of the page it came back to.

use leptos::prelude::*;
use leptos::server::ServerActionError;
use leptos::server_fn::error::ServerFnUrlError;

use crate::error::AppError;

/// The error a post to one of `paths` (server functions' `PATH`s) was refused with.
///
/// A refused post is sent back to its page with the error in the address (server_fn's form
/// redirect, `?__path=…&__err=…`), which the router hands to the page as it renders.
pub fn refusal(paths: &[&str]) -> Option<AppError> {
    use_context::<ServerActionError>()
        .filter(|e| paths.contains(&e.path()))
        .map(|e| ServerFnUrlError::<AppError>::decode_err(e.err()))
}

/// The refusal as every form shows it: an alert beside the form.
pub fn refused(paths: &[&str]) -> impl IntoView {
    refusal(paths).map(crate::error::alert)
}
