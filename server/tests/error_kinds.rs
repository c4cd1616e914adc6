//! Each kind of error, end to end through the real binary: the HTTP status and the JSON a
//! server function answers (called as the pages' fetch calls it), the word the page heads the
//! sentence with, and the exit status of the CLI in the same situation.
//!
//! | kind | HTTP | exit |
//! |---|---:|---:|
//! | refused | 400 | 2 |
//! | not found | 404 | 3 |
//! | busy | 423 | 4 |
//! | unavailable | 503 | 5 |
//! | failed | 500 | 1 |
//! | interrupted | 409 | 130 |

mod common;

use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::{stop, text, Web};
use ops::testing::TestDb;
use sqlx::{Connection, PgConnection};

/// A signed-in `serve` on `url`, its files in a folder of its own.
fn serve(url: &str, tag: &str) -> (Web, PathBuf) {
    let data = std::env::temp_dir().join(format!(
        "holomush-kinds-{tag}-{}",
        ops::auth::random_token().get(..8).unwrap_or("x")
    ));
    std::fs::create_dir_all(data.join("backups")).expect("backup folder");
    let mut cmd = common::binary(url, &data);
    cmd.arg("serve");
    (Web::start(cmd, &data, "kinds-pw"), data)
}

/// A server function called as the pages' fetch calls it (a form body, JSON back): the
/// answer's HTTP status and its body.
fn call(web: &Web, endpoint: &str, body: &str) -> (u16, serde_json::Value) {
    let out = web.curl(&[
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-H",
        "Accept: application/json",
        "-w",
        "\n%{http_code}",
        "--data-binary",
        body,
        &format!("{}/api/{endpoint}", web.base),
    ]);
    let (body, status) = out.rsplit_once('\n').unwrap_or((&out, "0"));
    let json = serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.to_string()));
    (status.trim().parse().unwrap_or(0), json)
}

/// The JSON of an error of `kind` saying `message`.
fn error(kind: &str, message: &str) -> serde_json::Value {
    serde_json::json!({ "kind": kind, "message": message })
}

/// The CLI beside the server, with its variables.
fn cli(web: &Web, args: &[&str]) -> Output {
    web.command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("holomush-admin")
}

fn spawn(web: &Web, args: &[&str]) -> Child {
    web.command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("holomush-admin")
}

/// The sentence the CLI ended with, after `error: `.
fn said(o: &Output) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

/// A page's alert for `kind`, as the server renders it, its markers between text nodes
/// taken out.
fn alert(page: &str, kind: &str) -> Option<String> {
    let start = page.find(&format!("data-kind=\"{kind}\""))?;
    let from = &page[start..];
    let end = from.find("</p>")?;
    let inner = &from[from.find('>')? + 1..end];
    let mut plain = inner.replace("<!>", "").replace("<!---->", "");
    for tag in ["<strong class=\"error-kind\">", "</strong>"] {
        plain = plain.replace(tag, "");
    }
    Some(plain.replace("&quot;", "\"").replace("&amp;", "&"))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Polls `check` every 50 ms for up to 120 s (the tests run side by side).
fn until(what: &str, mut check: impl FnMut() -> bool) {
    let t = Instant::now();
    while !check() {
        assert!(t.elapsed() < Duration::from_secs(120), "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn has_partial(data: &std::path::Path) -> bool {
    std::fs::read_dir(data.join("backups"))
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        })
        .unwrap_or(false)
}

/// Enough rows that pg_dump runs for a few seconds (as the fault tests fill it).
async fn fill(url: &str) {
    let mut c = PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(
        "CREATE TABLE bulk (id bigint PRIMARY KEY, body text);
         INSERT INTO bulk SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 500000) g;",
    )
    .execute(&mut c)
    .await
    .expect("fill");
    c.close().await.ok();
}

#[tokio::test]
async fn refused_is_400_on_the_web_and_exit_2_on_the_cli() {
    let db = TestDb::create().await;
    let (web, _data) = serve(&db.url, "refused");
    let made = cli(&web, &["backup", "create", "--json"]);
    assert!(made.status.success(), "{}", text(&made));
    let manifest: serde_json::Value = serde_json::from_slice(&made.stdout).expect("manifest");
    let file = manifest["file"].as_str().expect("file").to_string();
    let sentence = "\"Bad\" is not a usable database name: use lowercase letters, digits and _ (at most 63), starting with a letter, e.g. holomush_restored.";

    let (status, body) = call(&web, "backup_restore", &format!("file={file}&into=Bad"));
    assert_eq!((status, body), (400, error("Refused", sentence)));

    // Without JavaScript the form still comes back to its page, which words the refusal.
    let from = format!("/backups?restore={file}");
    let back = web.post_form(&from, "backup_restore", &format!("file={file}&into=Bad"));
    assert!(back.contains("__err="), "redirected with the error: {back}");
    let page = web.page(back.trim_start_matches(&web.base));
    assert_eq!(
        alert(&page, "Refused").as_deref(),
        Some(format!("Refused: {sentence}").as_str()),
        "{page}"
    );

    let o = cli(&web, &["restore", &file, "--into", "Bad"]);
    assert_eq!(o.status.code(), Some(2), "refused: {}", text(&o));
    assert_eq!(said(&o), sentence);
}

#[tokio::test]
async fn not_found_is_404_on_the_web_and_exit_3_on_the_cli() {
    let db = TestDb::create().await;
    let (web, data) = serve(&db.url, "not-found");
    let sentence = format!(
        "There is no archive named missing.dump in {}: check the name with `holomush-admin backup list`.",
        data.join("backups").display()
    );

    let (status, body) = call(
        &web,
        "backup_verify",
        "file=missing.dump&restore_test=false",
    );
    assert_eq!((status, body), (404, error("NotFound", &sentence)));

    let o = cli(&web, &["backup", "verify", "missing.dump"]);
    assert_eq!(o.status.code(), Some(3), "not found: {}", text(&o));
    assert_eq!(said(&o), sentence);
}

#[tokio::test]
async fn busy_is_423_on_the_web_and_exit_4_on_the_cli() {
    let db = TestDb::create().await;
    fill(&db.url).await;
    let (web, data) = serve(&db.url, "busy");
    // A backup from another shell holds the database while the server is asked for one.
    let holder = spawn(&web, &["backup", "create"]);
    until("the dump is being written", || has_partial(&data));
    let opening = format!(
        "Another job is running on this database (backup.full from holomush-admin cli (pid {} on {}) since ",
        holder.id(),
        hostname()
    );
    let closing = "UTC): wait for it to finish or cancel it there, then try again.";

    let (status, body) = call(&web, "backup_start", "kind=full");
    assert_eq!(
        (status, &body["kind"]),
        (423, &serde_json::json!("Busy")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&opening) && message.ends_with(closing),
        "{message}"
    );

    let o = cli(&web, &["backup", "create"]);
    assert_eq!(o.status.code(), Some(4), "busy: {}", text(&o));
    let sentence = said(&o);
    assert!(
        sentence.starts_with(&opening) && sentence.ends_with(closing),
        "{sentence}"
    );

    let _ = stop(holder, libc::SIGINT, Duration::from_secs(35));
}

#[tokio::test]
async fn unavailable_is_503_on_the_web_and_exit_5_on_the_cli() {
    // Nothing listens on port 1: the console starts, and says the server cannot be reached.
    let (web, _data) = serve("postgres://holomush:pw@127.0.0.1:1/holomush", "unavailable");
    let sentence = "Could not connect to 127.0.0.1:1: the connection was refused. Check that PostgreSQL is running and that DATABASE_URL names its host and port.";

    let (status, body) = call(&web, "migrations", "");
    assert_eq!((status, body), (503, error("Unavailable", sentence)));
    let page = web.page("/migrations");
    assert_eq!(
        alert(&page, "Unavailable").as_deref(),
        Some(format!("Unavailable: {sentence}").as_str()),
        "{page}"
    );

    let o = cli(&web, &["info"]);
    assert_eq!(o.status.code(), Some(5), "unavailable: {}", text(&o));
    assert_eq!(said(&o), sentence);
}

#[tokio::test]
async fn failed_is_500_on_the_web_and_exit_1_on_the_cli() {
    let db = TestDb::create().await;
    let (web, data) = serve(&db.url, "failed");
    // An archive that starts as pg_dump's do and then is not one: pg_restore cannot read it.
    let broken = data.join("backups/broken.dump");
    std::fs::write(
        &broken,
        b"PGDMP\x01\x10\x00garbage, not a table of contents",
    )
    .expect("write");
    let opening = format!(
        "The table of contents of {} could not be read: pg_restore: error: ",
        broken.display()
    );

    let (status, body) = call(&web, "backup_contents", "file=broken.dump");
    assert_eq!(
        (status, &body["kind"]),
        (500, &serde_json::json!("Failed")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with(&opening), "{message}");

    let o = cli(&web, &["backup", "verify", "broken.dump"]);
    assert_eq!(o.status.code(), Some(1), "failed: {}", text(&o));
    assert!(said(&o).starts_with(&opening), "{}", text(&o));
}

#[tokio::test]
async fn interrupted_is_a_cancelled_job_on_the_web_and_exit_130_on_the_cli() {
    let db = TestDb::create().await;
    fill(&db.url).await;
    let (web, data) = serve(&db.url, "interrupted");
    let sentence = "Cancelled: pg_dump was stopped, the partial archive removed and no manifest written; nothing else changed.";

    // On the web a job is what gets interrupted: cancelled, it ends with that kind, and its
    // page heads its sentence with it.
    let (status, id) = call(&web, "backup_start", "kind=full");
    assert_eq!(status, 200, "{id}");
    until("the dump is being written", || has_partial(&data));
    let (status, _) = call(&web, "job_cancel", &format!("id={id}"));
    assert_eq!(status, 200);
    let view = loop {
        let (_, view) = call(&web, "job", &format!("id={id}"));
        if view["status"] != "Running" {
            break view;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (&view["status"], &view["error_kind"], &view["result"]),
        (
            &serde_json::json!("Cancelled"),
            &serde_json::json!("Interrupted"),
            &serde_json::json!(sentence)
        )
    );
    let page = web.page(&format!("/backups?job={id}"));
    assert!(
        page.contains("<strong class=\"error-kind\">Interrupted</strong>"),
        "{page}"
    );

    let backup = spawn(&web, &["backup", "create"]);
    until("the dump is being written", || has_partial(&data));
    let (out, _) = stop(backup, libc::SIGINT, Duration::from_secs(35));
    assert_eq!(out.status.code(), Some(130), "interrupted: {}", text(&out));
    assert_eq!(said(&out), sentence);
}
