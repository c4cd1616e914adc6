//! File routes behind the session: archives stream from disk, never held in memory.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tokio_util::io::ReaderStream;

use ops::audit::Entry;
use ops::auth::Session;

use super::Web;

fn refuse(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

pub async fn download_backup(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    Path(name): Path<String>,
) -> Response {
    let console = &web.console;
    // The store refuses a malformed name, and anything but a regular file of the backup
    // folder (a link planted there is refused, not followed); the kind sets the status.
    let (len, file) = match console.open_backup(&name).await {
        Ok(opened) => opened,
        Err(e) => {
            let e = app::error::AppError::from(e);
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return refuse(status, e.message);
        }
    };
    console.record(Entry::new(
        session.actor.clone(),
        "backup.download",
        name.clone(),
    ));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len)
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                name.replace(['"', '\\'], "_")
            ),
        )
        .body(Body::from_stream(ReaderStream::with_capacity(
            file,
            256 * 1024,
        )))
        .unwrap_or_else(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// A plain form upload (multipart) of one archive, streamed to a temporary file with the
/// size limit enforced as it arrives; only a pg_dump custom archive is kept.
pub async fn upload_backup(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    mut form: axum::extract::Multipart,
) -> Response {
    let console = &web.console;
    let back = |msg: &str, ok: bool| {
        let key = if ok { "uploaded" } else { "upload_error" };
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(key, msg)
            .finish();
        axum::response::Redirect::to(&format!("/backups?{q}")).into_response()
    };
    let field = match form.next_field().await {
        Ok(Some(f)) => f,
        Ok(None) => return back("No file was sent: choose a .dump file first.", false),
        Err(e) => return back(&format!("The upload could not be read: {e}."), false),
    };
    // The name as sent: one with a folder in it is refused by the archive-name rule, not
    // quietly cut down to a name the sender did not give.
    let Some(name) = field.file_name().map(str::to_string) else {
        return back("No file was sent: choose a .dump file first.", false);
    };
    match console.receive_upload(&name, field, &session.actor).await {
        Ok(done) => back(&done, true),
        Err(e) => back(&e.to_string(), false),
    }
}
