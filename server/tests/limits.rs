//! What one client can make the running console hold: a request body is read only up to
//! 64 KiB (server functions and forms; the upload has its own limit).

mod common;

use std::path::{Path, PathBuf};

use common::Web;
use ops::testing::TestDb;

const TOO_LARGE: &str = "The request is larger than the console accepts (64 KiB): server functions and forms take a few fields; send archives with the upload on the Backups page.";

fn data_dir(db: &TestDb, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{}-{name}", db.name));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn start(db: &TestDb, data: &Path, password: &str, extra: &[(&str, String)]) -> Web {
    let mut cmd = common::binary(&db.url, data);
    cmd.arg("serve")
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())));
    Web::listening(cmd, data, password)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_function_or_form_body_over_64_kib_gets_413_and_a_sentence() {
    let db = TestDb::create().await;
    let data = data_dir(&db, "body-limit");
    let server = start(&db, &data, "limit-pw", &[]);
    let jar = data.join("jar");
    let jar_s = jar.display().to_string();
    assert_eq!(server.sign_in_as(&jar, "limit-pw", &[]).status, 303);
    let mib = format!("x={}", "a".repeat(1024 * 1024));
    // No `Expect: 100-continue`: the reply is read as the first status line.
    let json = [
        "-b",
        jar_s.as_str(),
        "-H",
        "Accept: application/json",
        "-H",
        "Expect:",
    ];

    // Declared with its length: refused before it is read.
    let r = server.request("/api/status", &json, Some(&mib));
    assert_eq!(r.status, 413, "{}", r.body);
    let answer: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(answer["message"], TOO_LARGE);

    // Chunked, with no length to go by: refused once 64 KiB have arrived.
    let mut chunked = json.to_vec();
    chunked.extend(["-H", "Transfer-Encoding: chunked"]);
    let r = server.request("/api/status", &chunked, Some(&mib));
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains(TOO_LARGE), "{}", r.body);

    // The sign-in form is limited too, signed in or not.
    let r = server.request(
        "/login",
        &["-H", "Expect:"],
        Some(&format!("password={}", "p".repeat(100_000))),
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.body, TOO_LARGE);

    // Ordinary calls go through as before.
    let r = server.request("/api/status", &json, Some("x=1"));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server.request(
        "/api/status",
        &json,
        Some(&format!("x={}", "a".repeat(60_000))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(server.sign_in_as(&jar, "limit-pw", &[]).status, 303);
    let _ = std::fs::remove_dir_all(&data);
}
