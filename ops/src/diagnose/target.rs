//! Facts about where DATABASE_URL points, shared by the doctor and the settings page.

use std::net::IpAddr;

use crate::config::DatabaseUrl;
use crate::model::UrlParts;

/// True for a host whose traffic never leaves this machine: loopback names and
/// addresses, and Unix socket directories.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.starts_with('/') || host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The sslmode the connection will use: the URL's, else libpq's and sqlx's default.
pub fn effective_ssl_mode(url: &DatabaseUrl) -> String {
    url.ssl_mode()
        .map(|m| m.to_ascii_lowercase())
        .unwrap_or_else(|| "prefer".to_string())
}

/// Modes under which the connection may travel unencrypted.
pub fn ssl_mode_may_be_plain(mode: &str) -> bool {
    matches!(mode, "disable" | "allow" | "prefer")
}

pub fn parts(url: &DatabaseUrl) -> UrlParts {
    UrlParts {
        scheme: url.scheme().to_string(),
        user: url.user().to_string(),
        password_set: url.password().is_some_and(|p| !p.is_empty()),
        host: url.host().as_libpq(),
        port: url.port(),
        database: url.database().to_string(),
        sslmode: url.ssl_mode(),
        params: url
            .params()
            .iter()
            .filter(|(k, _)| k != "sslmode")
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "127.0.0.1",
            "::1",
            "[::1]",
            "/var/run/postgresql",
            "",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["db.example.com", "10.0.0.5", "192.168.1.2"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn parts_never_hold_the_password() {
        let u = DatabaseUrl::parse(
            "postgresql://alice:s3cret@db.example.com:6543/game?sslmode=require&connect_timeout=5",
        )
        .expect("valid");
        let p = parts(&u);
        assert_eq!(p.scheme, "postgresql");
        assert_eq!(p.user, "alice");
        assert!(p.password_set);
        assert_eq!((p.host.as_str(), p.port), ("db.example.com", 6543));
        assert_eq!(p.database, "game");
        assert_eq!(p.sslmode.as_deref(), Some("require"));
        assert_eq!(p.params, [("connect_timeout".to_string(), "5".to_string())]);
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
