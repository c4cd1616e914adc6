//! Server functions: each requires the session, calls `ops`, and maps the error.

use leptos::prelude::*;
use ops::model::{AuditFilter, AuditRecord, StatusSnapshot};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod guard {
    use std::sync::Arc;

    use leptos::prelude::*;

    use crate::error::AppError;

    /// Who is calling, as the auth layer found them.
    pub struct Caller {
        pub actor: String,
        pub console: Arc<ops::Console>,
    }

    /// Every server function starts here. The auth layer already turned away
    /// requests without a session; this is the second lock on the same door.
    pub fn require_session() -> Result<Caller, AppError> {
        let parts = use_context::<http::request::Parts>()
            .ok_or_else(|| AppError::new("No request is in progress."))?;
        let session = parts
            .extensions
            .get::<ops::auth::Session>()
            .ok_or_else(|| {
                AppError::new("You are not signed in: sign in at /login and try again.")
            })?;
        let console = use_context::<Arc<ops::Console>>()
            .ok_or_else(|| AppError::new("The console is not set up for this request."))?;
        Ok(Caller {
            actor: session.actor.clone(),
            console,
        })
    }
}

#[server(prefix = "/api", endpoint = "status")]
pub async fn get_status() -> Result<StatusSnapshot, AppError> {
    let caller = guard::require_session()?;
    Ok((*caller.console.status.get().await).clone())
}

#[server(prefix = "/api", endpoint = "activity")]
pub async fn list_activity(filter: AuditFilter) -> Result<Vec<AuditRecord>, AppError> {
    let caller = guard::require_session()?;
    caller
        .console
        .audit
        .list(&filter)
        .map_err(|e| AppError::new(e.to_string()))
}
