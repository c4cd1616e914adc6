//! A bound on every request body but the upload's: server functions and the sign-in and
//! sign-out forms take a few fields, and Leptos reads a server function's body whole into
//! memory with no limit of its own, so a signed-in client (or anyone, for /login) could
//! otherwise make the console hold as much as it cares to send.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

/// Far above any form of the console (the largest, a migration's SQL view, sends an id).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The sentence a too-large body gets.
pub const TOO_LARGE: &str = "The request is larger than the console accepts (64 KiB): server functions and forms take a few fields; send archives with the upload on the Backups page.";

/// The upload streams to disk under HOLOMUSH_UPLOAD_LIMIT_MB (see `files::upload_backup`).
fn exempt(req: &Request) -> bool {
    req.method() == Method::POST && req.uri().path() == "/files/backups"
}

fn refuse(path: &str, status: StatusCode, sentence: &str) -> Response {
    // Server functions answer JSON errors ({"message": …}), as the sign-in guard does.
    if path.starts_with("/api/") {
        let body = serde_json::json!({ "message": sentence }).to_string();
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        sentence.to_string(),
    )
        .into_response()
}

/// Refuses a declared Content-Length over the limit before reading anything, and reads any
/// other body (chunked ones too) only up to the limit, so no more than 64 KiB is ever held.
pub async fn layer(req: Request, next: Next) -> Response {
    if exempt(&req) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return refuse(&path, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
    }
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut held: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) if held.len() + bytes.len() > BODY_LIMIT => {
                return refuse(&path, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
            }
            Ok(bytes) => held.extend_from_slice(&bytes),
            Err(e) => {
                return refuse(
                    &path,
                    StatusCode::BAD_REQUEST,
                    &format!("The request's body could not be read ({e}): send it again."),
                );
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(held))).await
}
