//! What every response carries and what every request must name: security headers with a
//! per-request CSP nonce (the only inline script, Leptos's hydration loader, carries it), and
//! a refusal for a Host that is not this console's, so a DNS-rebinding page (whose Origin
//! equals its own Host) cannot reach it either.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use ops::config::PublicUrl;

/// This request's nonce, for Leptos to put on its hydration script.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

pub struct Security {
    listen: SocketAddr,
    public: Option<PublicUrl>,
}

impl Security {
    pub fn new(listen: SocketAddr, public: Option<PublicUrl>) -> Self {
        Self { listen, public }
    }

    /// The listen address (any IP literal when it listens on all of them: a rebinding page
    /// needs a name, never an IP), `localhost` on a loopback listener, or the public URL's.
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        if let Some(public) = &self.public {
            let default_port = if public.https { 443 } else { 80 };
            if host == public.authority || host == format!("{}:{default_port}", public.authority) {
                return true;
            }
        }
        let Ok(authority) = host.parse::<Authority>() else {
            return false;
        };
        if authority.port_u16().unwrap_or(80) != self.listen.port() {
            return false;
        }
        let listen = self.listen.ip();
        let name = authority.host();
        if name == "localhost" {
            return listen.is_loopback() || listen.is_unspecified();
        }
        match name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => {
                let ip = ip.to_canonical();
                listen.is_unspecified()
                    || ip == listen
                    || (ip.is_loopback() && listen.is_loopback())
            }
            Err(_) => false,
        }
    }

    /// A browser's Origin for a page of this console: the public URL's, or http:// and a host
    /// the listen address allows.
    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        if self.public.as_ref().is_some_and(|p| p.origin() == origin) {
            return true;
        }
        origin
            .strip_prefix("http://")
            .is_some_and(|authority| self.host_allowed_without_public(authority))
    }

    fn host_allowed_without_public(&self, host: &str) -> bool {
        Security {
            listen: self.listen,
            public: None,
        }
        .host_allowed(host)
    }

    fn refuse_host(&self, host: &str) -> Response {
        let public = self
            .public
            .as_ref()
            .map_or_else(|| "unset".to_string(), PublicUrl::origin);
        text(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "This request was addressed to \"{host}\", which is neither this console's listen address ({}) nor HOLOMUSH_ADMIN_PUBLIC_URL ({public}): open the console at its own address, or set HOLOMUSH_ADMIN_PUBLIC_URL to the address you use.",
                self.listen
            ),
        )
    }

    /// A mutating request whose Origin (or fetch metadata) names another site.
    fn foreign(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN).map(|v| v.to_str()) {
            Some(Ok(origin)) => !self.origin_allowed(origin),
            Some(Err(_)) => true,
            None => {
                headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site")
            }
        }
    }

    fn refusal(&self, req: &Request) -> Option<Response> {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        if !self.host_allowed(&host) {
            return Some(self.refuse_host(&host));
        }
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe && self.foreign(req.headers()) {
            return Some(text(
                StatusCode::FORBIDDEN,
                "This request came from another site and was refused: use the console's own pages."
                    .to_string(),
            ));
        }
        None
    }

    fn add_headers(&self, headers: &mut HeaderMap, nonce: &str) {
        let csp = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // Not no-referrer: under it Chromium sends `Origin: null` on the console's own form
        // posts, and a plain form (or Leptos's error return) has no page to go back to.
        // same-origin still gives no other site a referrer.
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        // Pages, server functions and downloads; the hashed assets set their own.
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if self.public.as_ref().is_some_and(|p| p.https) {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
    }
}

fn text(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

pub async fn layer(
    State(security): State<Arc<Security>>,
    mut req: Request,
    next: Next,
) -> Response {
    // 128 random bits, as CSP asks of a nonce.
    let nonce: Arc<str> = ops::auth::random_token()
        .get(..32)
        .unwrap_or_default()
        .into();
    let mut resp = match security.refusal(&req) {
        Some(refused) => refused,
        None => {
            req.extensions_mut().insert(CspNonce(nonce.clone()));
            next.run(req).await
        }
    };
    security.add_headers(resp.headers_mut(), &nonce);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(listen: &str, public: Option<&str>) -> Security {
        let public = public.and_then(|p| {
            ops::config::Config::from_lookup(|k| match k {
                "DATABASE_URL" => Some("postgres://h/db".to_string()),
                "HOLOMUSH_ADMIN_PUBLIC_URL" => Some(p.to_string()),
                _ => None,
            })
            .ok()
            .and_then(|c| c.public_url)
        });
        Security::new(listen.parse().expect("an address"), public)
    }

    #[test]
    fn hosts_of_the_listen_address_or_the_public_url_only() {
        let s = security("127.0.0.1:3000", None);
        for ok in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST:3000",
            "[::1]:3000",
        ] {
            assert!(s.host_allowed(ok), "{ok}");
        }
        for refused in [
            "127.0.0.1:3001",
            "evil.example:3000",
            "evil.example",
            "",
            "10.0.0.1:3000",
        ] {
            assert!(!s.host_allowed(refused), "{refused}");
        }
        let all = security("0.0.0.0:8080", Some("https://console.example.org"));
        for ok in [
            "192.0.2.10:8080",
            "console.example.org",
            "console.example.org:443",
            "localhost:8080",
        ] {
            assert!(all.host_allowed(ok), "{ok}");
        }
        for refused in [
            "rebind.example:8080",
            "console.example.org:8080",
            "192.0.2.10:80",
        ] {
            assert!(!all.host_allowed(refused), "{refused}");
        }
        assert!(all.origin_allowed("https://console.example.org"));
        assert!(all.origin_allowed("http://192.0.2.10:8080"));
        assert!(!all.origin_allowed("http://console.example.org"));
        assert!(!all.origin_allowed("http://rebind.example:8080"));
        assert!(!all.origin_allowed("null"));
    }
}
