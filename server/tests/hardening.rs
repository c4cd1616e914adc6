//! The running server's defences, over HTTP as a browser or a proxy speaks it: security
//! headers on pages, server functions and downloads; a Host that is not the console's
//! refused (DNS rebinding); HOLOMUSH_ADMIN_PUBLIC_URL's Secure cookie and HSTS;
//! X-Forwarded-For believed only from a trusted proxy; sign out everywhere; a session from
//! before a password change refused.

mod common;

use std::path::{Path, PathBuf};

use common::{audit_records, Reply, Web};
use ops::testing::TestDb;

/// `holomush-admin serve` on a free loopback port, with `data` as its data folder, not
/// signed in.
fn start(db: &TestDb, data: &Path, password: &str, extra: &[(&str, &str)]) -> Web {
    let mut cmd = common::binary(&db.url, data);
    cmd.arg("serve").envs(extra.iter().copied());
    Web::listening(cmd, data, password)
}

fn data_dir(db: &TestDb, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{}-{name}", db.name));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The headers every response of the console carries.
fn assert_security_headers(what: &str, r: &Reply) {
    let csp = r.header("content-security-policy").unwrap_or_default();
    for part in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{what}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{what}");
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
}

/// The nonce of a response's CSP.
fn nonce(r: &Reply) -> String {
    let csp = r.header("content-security-policy").unwrap_or_default();
    csp.split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_server_functions_and_downloads_carry_the_security_headers() {
    let db = TestDb::create().await;
    let data = data_dir(&db, "headers");
    let server = start(&db, &data, "headers-pw", &[]);
    let jar = data.join("jar");
    let jar_s = jar.display().to_string();
    assert_eq!(server.sign_in_as(&jar, "headers-pw", &[]).status, 303);

    for path in ["/login", "/", "/settings"] {
        let page = server.request(path, &["-b", &jar_s], None);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_security_headers(path, &page);
        let nonce = nonce(&page);
        assert_eq!(nonce.len(), 32, "{path}");
        // Every inline script carries this response's nonce; nothing else may run.
        let scripts: Vec<&str> = page.body.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "{path}: the hydration script");
        for s in scripts {
            assert!(
                s.starts_with(&format!(" type=\"module\" nonce=\"{nonce}\""))
                    || s.starts_with(&format!(" nonce=\"{nonce}\"")),
                "{path}: <script{}",
                s.get(..80).unwrap_or(s)
            );
        }
    }
    let again = server.request("/login", &[], None);
    assert_ne!(
        nonce(&again),
        nonce(&server.request("/login", &[], None)),
        "a new nonce for each response"
    );

    let server_fn = server.request(
        "/api/status",
        &["-b", &jar_s, "-H", "Accept: application/json", "-X", "POST"],
        None,
    );
    assert_eq!(server_fn.status, 200, "{}", server_fn.body);
    assert_security_headers("a server function", &server_fn);

    let backups = data.join("backups");
    std::fs::create_dir_all(&backups).expect("backups");
    std::fs::write(backups.join("holomush_20260101_120000.dump"), "PGDMP").expect("archive");
    let download = server.request(
        "/files/backups/holomush_20260101_120000.dump",
        &["-b", &jar_s],
        None,
    );
    assert_eq!(download.status, 200, "{}", download.body);
    assert_eq!(download.body, "PGDMP");
    assert_security_headers("a download", &download);
    // Not over plain http on a loopback address: no HSTS, no Secure cookie.
    assert!(download.header("strict-transport-security").is_none());

    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_is_not_the_consoles_is_refused_even_when_origin_matches_it() {
    let db = TestDb::create().await;
    let data = data_dir(&db, "rebind");
    let server = start(&db, &data, "rebind-pw", &[]);
    let port = server.port;
    let host = format!("rebind.example:{port}");
    let sentence = format!(
        "This request was addressed to \"{host}\", which is neither this console's listen address (127.0.0.1:{port}) nor HOLOMUSH_ADMIN_PUBLIC_URL (unset): open the console at its own address, or set HOLOMUSH_ADMIN_PUBLIC_URL to the address you use."
    );
    // A DNS-rebinding page: its name now points at 127.0.0.1, and its Origin is its own Host.
    let jar = data.join("jar");
    let post = server.sign_in_as(
        &jar,
        "rebind-pw",
        &[
            "-H",
            &format!("Host: {host}"),
            "-H",
            &format!("Origin: http://{host}"),
        ],
    );
    assert_eq!(post.status, 421);
    assert_eq!(post.body, sentence);
    assert!(post.header("set-cookie").is_none(), "no session");
    let get = server.request("/", &["-H", &format!("Host: {host}")], None);
    assert_eq!((get.status, get.body.as_str()), (421, sentence.as_str()));
    assert_security_headers("a refusal", &get);
    // The console's own names pass.
    for ok in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let r = server.request("/login", &["-H", &format!("Host: {ok}")], None);
        assert_eq!(r.status, 200, "{ok}");
    }
    // An Origin of another site on the right Host is refused as before.
    let foreign = server.sign_in_as(&jar, "rebind-pw", &["-H", "Origin: http://evil.example"]);
    assert_eq!(foreign.status, 403);
    assert_eq!(
        foreign.body,
        "This request came from another site and was refused: use the console's own pages."
    );
    // With no proxy trusted, X-Forwarded-For is the client's own say and is ignored.
    let wrong = server.sign_in_as(&jar, "not-it", &["-H", "X-Forwarded-For: 203.0.113.7"]);
    assert_eq!(wrong.header("location"), Some("/login?error=wrong"));
    let failed: Vec<String> = audit_records(&data)
        .into_iter()
        .filter(|r| r.action == "login.failed")
        .map(|r| r.detail)
        .collect();
    assert_eq!(failed, ["wrong password from 127.0.0.1"]);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_tls_proxy_the_cookie_is_secure_and_clients_are_told_apart() {
    let db = TestDb::create().await;
    let data = data_dir(&db, "proxy");
    let server = start(
        &db,
        &data,
        "proxy-pw",
        &[
            ("HOLOMUSH_ADMIN_PUBLIC_URL", "https://console.example.org"),
            ("HOLOMUSH_ADMIN_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    );
    let port = server.port;
    let jar = data.join("jar");
    let proxied = |client: &str| {
        vec![
            "-H".to_string(),
            "Host: console.example.org".to_string(),
            "-H".to_string(),
            "Origin: https://console.example.org".to_string(),
            "-H".to_string(),
            format!("X-Forwarded-For: {client}"),
        ]
    };

    // One client guesses until it is throttled...
    let attacker = proxied("198.51.100.1");
    for _ in 0..ops::auth::FREE_FAILURES {
        let r = server.sign_in_as(&jar, "guess", &args(&attacker));
        assert_eq!(r.header("location"), Some("/login?error=wrong"));
    }
    for _ in 0..20 {
        let r = server.sign_in_as(&jar, "guess", &args(&attacker));
        assert!(
            r.header("location")
                .is_some_and(|l| l.starts_with("/login?error=throttled")),
            "{:?}",
            r.headers
        );
    }
    // ...and the operator behind the same proxy still signs in.
    let operator = server.sign_in_as(&jar, "proxy-pw", &args(&proxied("203.0.113.7")));
    assert_eq!(operator.header("location"), Some("/"));
    let cookie = operator.header("set-cookie").unwrap_or_default();
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Max-Age=43200; Secure"),
        "{cookie}"
    );
    assert_eq!(
        operator.header("strict-transport-security"),
        Some("max-age=31536000")
    );

    let all = audit_records(&data);
    let details = |action: &str| -> Vec<String> {
        all.iter()
            .filter(|r| r.action == action)
            .map(|r| r.detail.clone())
            .collect()
    };
    assert_eq!(
        details("login.failed"),
        vec!["wrong password from 198.51.100.1"; ops::auth::FREE_FAILURES as usize]
    );
    assert_eq!(
        details("login.throttled"),
        ["1 sign-in attempt from 198.51.100.1 refused without checking the password: too many failed sign-ins from this address"],
        "one summary, not one record per refused attempt"
    );
    assert_eq!(details("login"), ["password from 203.0.113.7"]);

    // Another Host is refused, naming the public URL.
    let other = server.request("/login", &["-H", "Host: other.example"], None);
    assert_eq!(other.status, 421);
    assert_eq!(
        other.body,
        format!("This request was addressed to \"other.example\", which is neither this console's listen address (127.0.0.1:{port}) nor HOLOMUSH_ADMIN_PUBLIC_URL (https://console.example.org): open the console at its own address, or set HOLOMUSH_ADMIN_PUBLIC_URL to the address you use.")
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_everywhere_and_a_password_change_end_sessions() {
    let db = TestDb::create().await;
    let data = data_dir(&db, "sessions");
    let (one, two, three) = (data.join("one"), data.join("two"), data.join("three"));
    let api = |server: &Web, jar: &Path| {
        server
            .request(
                "/api/status",
                &["-b", &jar.display().to_string(), "-X", "POST"],
                None,
            )
            .status
    };
    {
        let server = start(&db, &data, "first-pw", &[]);
        server.sign_in_as(&one, "first-pw", &[]);
        server.sign_in_as(&two, "first-pw", &[]);
        assert_eq!((api(&server, &one), api(&server, &two)), (200, 200));
        let out = server.request(
            "/logout/all",
            &["-b", &one.display().to_string(), "-X", "POST"],
            None,
        );
        assert_eq!(out.header("location"), Some("/login?signed_out=all"));
        assert_eq!(
            (api(&server, &one), api(&server, &two)),
            (401, 401),
            "the other browser's session ended too"
        );
        let ended = audit_records(&data)
            .into_iter()
            .find(|r| r.action == "logout.all")
            .map(|r| r.detail);
        assert_eq!(ended.as_deref(), Some("sessions ended: 2"));
        server.sign_in_as(&three, "first-pw", &[]);
        assert_eq!(api(&server, &three), 200);
    }
    // Same password after a restart: the session lives on.
    {
        let server = start(&db, &data, "first-pw", &[]);
        assert_eq!(api(&server, &three), 200);
    }
    // A new password: the session from before it is refused.
    let server = start(&db, &data, "second-pw", &[]);
    assert_eq!(api(&server, &three), 401);
    let page = server.request("/", &["-b", &three.display().to_string()], None);
    assert_eq!(page.header("location"), Some("/login?error=expired"));
    let changed = audit_records(&data)
        .into_iter()
        .find(|r| r.action == "logout.password_changed")
        .map(|r| r.detail);
    assert_eq!(
        changed.as_deref(),
        Some("sessions opened with the former console password ended: 1")
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
