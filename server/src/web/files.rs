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
    // The one lookup every use of an archive goes through: a well-formed name, and only a
    // regular file of the backup folder (a link planted there is refused, not followed).
    let path = match ops::backup::archive::locate(
        &console.config.backup_dir,
        ops::backup::archive::ArchiveRef::Name(&name),
    ) {
        Ok(found) => found.path,
        Err(e @ ops::backup::BackupError::Missing(_)) => {
            return refuse(StatusCode::NOT_FOUND, e.to_string())
        }
        Err(e @ ops::backup::BackupError::Io(_)) => {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let mut open = tokio::fs::OpenOptions::new();
    // O_NOFOLLOW: the file opened is the one checked, not a link swapped in since.
    open.read(true).custom_flags(libc::O_NOFOLLOW);
    let file = match open.open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return refuse(
                StatusCode::NOT_FOUND,
                format!("There is no archive named {name} in the backup folder."),
            )
        }
        Err(e) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{name} could not be opened: {e}."),
            )
        }
    };
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(e) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{name} could not be read: {e}."),
            )
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
