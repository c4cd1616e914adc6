//! Signing in and out, and the layer that turns away every request without a session.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use ops::audit::Entry;
use ops::auth::{LoginResult, SESSION_COOKIE, SESSION_TTL};

use super::Web;

/// The actor name of whoever signs in with the console password or link.
const ACTOR: &str = "admin";

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

pub async fn login(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> Response {
    sign_in(&web, peer, &form.password, "password")
}

pub async fn login_link(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LinkQuery>,
) -> Response {
    if web.auth.uses_password() {
        return Redirect::to("/login?error=link").into_response();
    }
    sign_in(&web, peer, &q.token, "link")
}

fn sign_in(web: &Web, peer: SocketAddr, secret: &str, how: &str) -> Response {
    let from = peer.ip();
    let target = "console";
    match web.auth.login(from, secret) {
        LoginResult::Ok => match web.sessions.create(ACTOR, from) {
            Ok(token) => {
                web.console.record(
                    Entry::new(ACTOR, "login", target).detail(format!("{how} from {from}")),
                );
                let mut resp = Redirect::to("/").into_response();
                set_cookie(
                    &mut resp,
                    &format!(
                        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                        SESSION_TTL.as_secs()
                    ),
                );
                resp
            }
            Err(e) => {
                tracing::error!("could not save the session: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, format!(
                    "The session could not be saved in the data folder ({e}): check that HOLOMUSH_ADMIN_DATA is writable."
                ))
                    .into_response()
            }
        },
        LoginResult::Wrong => {
            web.console.record(
                Entry::new("anonymous", "login.failed", target)
                    .failed(format!("wrong {how} from {from}")),
            );
            let error = match (how, web.auth.uses_password()) {
                ("link", _) => "link",
                (_, false) => "nopassword",
                _ => "wrong",
            };
            Redirect::to(&format!("/login?error={error}")).into_response()
        }
        LoginResult::Throttled(wait) => {
            let secs = wait.as_secs().max(1);
            web.console.record(
                Entry::new("anonymous", "login.throttled", target).failed(format!(
                    "{how} from {from} refused: wait {secs} s after repeated failures"
                )),
            );
            Redirect::to(&format!("/login?error=throttled&wait={secs}")).into_response()
        }
    }
}

pub async fn logout(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        match web.sessions.remove(&token) {
            Ok(Some(s)) => web.console.record(Entry::new(s.actor, "logout", "console")),
            Ok(None) => {}
            Err(e) => tracing::error!("could not save the sessions: {e}"),
        }
    }
    let mut resp = Redirect::to("/login?signed_out=1").into_response();
    set_cookie(
        &mut resp,
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    resp
}

fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// Paths anyone may fetch: the health check, the sign-in page and its code and style.
fn is_public(method: &Method, path: &str) -> bool {
    path == "/healthz"
        || path == "/login"
        || path == "/login/link"
        || path.starts_with("/pkg/")
        || path == "/favicon.ico"
        || (method == Method::POST && path == "/logout")
}

/// A mutating request whose Origin (or fetch metadata) names another site.
fn foreign_origin(headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(origin);
        return origin == "null" || !origin_host.eq_ignore_ascii_case(host);
    }
    headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site")
}

pub async fn guard(State(web): State<Arc<Web>>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && foreign_origin(req.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "This request came from another site and was refused: use the console's own pages.",
        )
            .into_response();
    }
    if is_public(&method, &path) {
        return next.run(req).await;
    }
    let session = session_token(req.headers()).and_then(|t| web.sessions.get(&t));
    match session {
        Some(s) => {
            req.extensions_mut().insert(s);
            next.run(req).await
        }
        None if path.starts_with("/api/") || path.starts_with("/files/") => (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"message":"You are not signed in, or your session has ended: sign in at /login and try again."}"#,
        )
            .into_response(),
        None => {
            let had_cookie = session_token(req.headers()).is_some();
            Redirect::to(if had_cookie { "/login?error=expired" } else { "/login" }).into_response()
        }
    }
}
