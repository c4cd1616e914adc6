//! Signing in and out, and the layer that turns away every request without a session.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;

use ops::audit::Entry;
use ops::auth::{client_address, LoginResult, Session, SESSION_COOKIE, SESSION_TTL};

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
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let from = client(&web, peer, &headers);
    sign_in(&web, from, &form.password, "password").await
}

pub async fn login_link(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LinkQuery>,
) -> Response {
    if web.auth.uses_password() {
        return Redirect::to("/login?error=link").into_response();
    }
    let from = client(&web, peer, &headers);
    sign_in(&web, from, &q.token, "link").await
}

/// The client's address: X-Forwarded-For is believed only from HOLOMUSH_ADMIN_TRUSTED_PROXIES.
fn client(web: &Web, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    client_address(
        peer.ip(),
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
        &web.console.config.trusted_proxies,
    )
}

/// Refused sign-ins, summed per address, at most once a minute each.
pub fn record_throttling(web: &Web) {
    for report in web.auth.take_reports() {
        let action = match report {
            ops::auth::ThrottleReport::FoldedFailures { .. } => "login.failed",
            _ => "login.throttled",
        };
        web.console
            .record(Entry::new("anonymous", action, "console").failed(report.to_string()));
    }
}

/// `; Secure` when the console is reached over HTTPS (HOLOMUSH_ADMIN_PUBLIC_URL).
fn secure(web: &Web) -> &'static str {
    if web
        .console
        .config
        .public_url
        .as_ref()
        .is_some_and(|p| p.https)
    {
        "; Secure"
    } else {
        ""
    }
}

async fn sign_in(web: &Web, from: IpAddr, secret: &str, how: &str) -> Response {
    let target = "console";
    let result = web.auth.login(from, secret).await;
    record_throttling(web);
    match result {
        LoginResult::Ok => match web.sessions.create(ACTOR, from) {
            Ok(token) => {
                web.console.record(
                    Entry::new(ACTOR, "login", target).detail(format!("{how} from {from}")),
                );
                let mut resp = Redirect::to("/").into_response();
                set_cookie(
                    &mut resp,
                    &format!(
                        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                        SESSION_TTL.as_secs(),
                        secure(web)
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
            // Past a cap a minute they are summed by record_throttling instead: addresses
            // are plentiful, and each clean one gets a checked try.
            if web.auth.record_failure(from) {
                web.console.record(
                    Entry::new("anonymous", "login.failed", target)
                        .failed(format!("wrong {how} from {from}")),
                );
            }
            let error = match (how, web.auth.uses_password()) {
                ("link", _) => "link",
                (_, false) => "nopassword",
                _ => "wrong",
            };
            Redirect::to(&format!("/login?error={error}")).into_response()
        }
        LoginResult::Throttled(wait) => {
            // Not recorded one by one: record_throttling sums them per address and minute.
            let secs = wait.as_secs().max(1);
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
    signed_out(&web, "/login?signed_out=1")
}

/// "Sign out everywhere": every session ends, this one too.
pub async fn logout_all(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
) -> Response {
    match web.sessions.remove_all() {
        Ok(n) => web.console.record(
            Entry::new(session.actor, "logout.all", "console")
                .detail(format!("sessions ended: {n}")),
        ),
        Err(e) => {
            tracing::error!("could not save the sessions: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR, format!(
                "The sessions could not be ended in the data folder ({e}): check that HOLOMUSH_ADMIN_DATA is writable, then try again."
            ))
                .into_response();
        }
    }
    signed_out(&web, "/login?signed_out=all")
}

fn signed_out(web: &Web, to: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    set_cookie(
        &mut resp,
        &format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            secure(web)
        ),
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

pub async fn guard(State(web): State<Arc<Web>>, mut req: Request, next: Next) -> Response {
    // Host and Origin were checked by the security layer in front of this one.
    let method = req.method().clone();
    let path = req.uri().path().to_string();
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
