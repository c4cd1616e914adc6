//! What one client can make the running console hold: a request body is read only up to
//! 64 KiB (server functions and forms; the upload has its own limit), and a session holds at
//! most 8 of a job's event streams open.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{Reply, Web};
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

const SESSION_FULL: &str = "This session already follows 8 live job logs: close a tab that shows a running job, or reload this page to see the log without live updates.";

/// A job's event stream held open by curl, its headers written to `headers`.
fn follow(web: &Web, jar: &Path, id: &str, headers: &Path) -> Child {
    Command::new("curl")
        .args(["-s", "-N", "-o", "/dev/null", "-D"])
        .arg(headers)
        .arg("-b")
        .arg(jar)
        .arg(format!("{}/jobs/{id}/events", web.base))
        .spawn()
        .expect("curl")
}

/// The status of a stream opened for at most two seconds (an open one is cut by curl).
fn stream_status(web: &Web, jar: &Path, id: &str) -> Reply {
    let jar = jar.display().to_string();
    web.request(
        &format!("/jobs/{id}/events"),
        &["-b", &jar, "-N", "--max-time", "2"],
        None,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ninth_event_stream_of_one_session_gets_429_until_one_closes() {
    let db = TestDb::create().await;
    let data = data_dir(&db, "streams");
    let migrations = data.join("migrations");
    std::fs::create_dir_all(&migrations).expect("migrations folder");
    std::fs::write(
        migrations.join("000001_slow.up.sql"),
        "SELECT pg_sleep(120);\n",
    )
    .expect("up file");
    std::fs::write(migrations.join("000001_slow.down.sql"), "SELECT 1;\n").expect("down file");
    let server = start(
        &db,
        &data,
        "streams-pw",
        &[("HOLOMUSH_MIGRATIONS_DIR", migrations.display().to_string())],
    );
    let jar = data.join("jar");
    let jar_s = jar.display().to_string();
    assert_eq!(server.sign_in_as(&jar, "streams-pw", &[]).status, 303);
    let json = ["-b", jar_s.as_str(), "-H", "Accept: application/json"];
    let started = server.request("/api/migrate", &json, Some("action=up"));
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.body.trim().to_string();

    let mut open: Vec<Child> = Vec::new();
    for n in 0..8 {
        let headers = data.join(format!("headers-{n}"));
        open.push(follow(&server, &jar, &id, &headers));
        let t = Instant::now();
        while !std::fs::read_to_string(&headers)
            .unwrap_or_default()
            .starts_with("HTTP/1.1 200")
        {
            assert!(t.elapsed() < Duration::from_secs(30), "stream {n} opened");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let ninth = stream_status(&server, &jar, &id);
    assert_eq!(ninth.status, 429, "{}", ninth.body);
    assert_eq!(ninth.body, SESSION_FULL);
    // Another session is not held back by this one's streams.
    let other = data.join("other-jar");
    assert_eq!(server.sign_in_as(&other, "streams-pw", &[]).status, 303);
    assert_eq!(stream_status(&server, &other, &id).status, 200);
    // The page itself still shows the job, reloading itself while it runs.
    let page = server.request(&format!("/jobs/{id}"), &["-b", &jar_s], None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"http-equiv="refresh""#),
        "{}",
        page.body
    );

    // Closing one stream gives its slot back.
    let mut closed = open.pop().expect("a stream");
    let _ = closed.kill();
    let _ = closed.wait();
    let t = Instant::now();
    loop {
        let r = stream_status(&server, &jar, &id);
        if r.status == 200 {
            break;
        }
        assert_eq!(r.body, SESSION_FULL);
        assert!(
            t.elapsed() < Duration::from_secs(40),
            "the closed stream's slot came back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for mut c in open {
        let _ = c.kill();
        let _ = c.wait();
    }
    server.request("/api/job_cancel", &json, Some(&format!("id={id}")));
    let _ = std::fs::remove_dir_all(&data);
}
