//! `holomush-admin migrate rehearse`, the real binary: killed with -9 mid-file, its scratch
//! copy is dropped by the next console that starts; run to the end, it prints the JSON
//! and leaves nothing behind.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ops::testing::TestDb;
use sqlx::{Connection, PgConnection};

fn command(db: &TestDb, args: &[&str]) -> Command {
    let data = std::env::temp_dir().join(format!("{}-rehearse", db.name));
    let migrations = data.join("migrations");
    std::fs::create_dir_all(&migrations).expect("folder");
    std::fs::write(
        migrations.join("000001_slow.up.sql"),
        "SELECT pg_sleep(3);\nCREATE TABLE slow (id int);\n",
    )
    .expect("up file");
    let mut cmd = common::binary(&db.url, &data);
    cmd.args(args).env("HOLOMUSH_MIGRATIONS_DIR", &migrations);
    cmd
}

async fn scratches(db: &TestDb) -> Vec<String> {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{}\\_rehearse\\_%", db.name))
        .fetch_all(&mut c)
        .await
        .expect("list")
}

/// Until a session on the scratch copy runs the sleeping file.
async fn until_sleeping(db: &TestDb) -> String {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let started = Instant::now();
    loop {
        let on: Option<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_stat_activity WHERE datname LIKE $1 AND query LIKE '%pg_sleep%'",
        )
        .bind(format!("{}\\_rehearse\\_%", db.name))
        .fetch_optional(&mut c)
        .await
        .expect("activity");
        if let Some(name) = on {
            return name;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the file never ran"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_rehearsal_killed_mid_file_leaves_a_copy_that_the_next_start_drops() {
    let db = TestDb::create().await;
    let mut child = command(&db, &["migrate", "rehearse"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let scratch = until_sleeping(&db).await;
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    assert_eq!(
        scratches(&db).await,
        vec![scratch.clone()],
        "kill -9 leaves the copy"
    );

    let status = command(&db, &["migrate", "status"]).output().expect("run");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let said = String::from_utf8_lossy(&status.stderr);
    assert!(
        said.contains(&format!(
            "Dropped the scratch database \"{scratch}\" left by a rehearsal that was stopped (process {} is gone).",
            child.id()
        )),
        "{said}"
    );
    assert_eq!(scratches(&db).await, Vec::<String>::new());

    // Run to the end: the JSON of the issue, and nothing left.
    let out = command(&db, &["migrate", "rehearse", "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["ok"], true);
    assert_eq!(json["copied_from"], "dump");
    assert_eq!(json["steps"][0]["version"], 1);
    assert_eq!(json["steps"][0]["name"], "slow");
    assert!(json["steps"][0]["duration_ms"]
        .as_u64()
        .is_some_and(|ms| ms >= 3000));
    let added = json["schema_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .any(|c| {
            c["change"] == "added"
                && c["kind"] == "table"
                && c["name"] == "public.schema_migrations"
        });
    assert!(added, "{}", json["schema_changes"]);
    assert_eq!(scratches(&db).await, Vec::<String>::new());
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let live: Option<String> = sqlx::query_scalar("SELECT to_regclass('slow')::text")
        .fetch_one(&mut c)
        .await
        .expect("read");
    assert_eq!(live, None, "the live database never ran the file");
}

#[tokio::test]
async fn a_failing_rehearsal_exits_non_zero_with_its_sentence() {
    let db = TestDb::create().await;
    let mut cmd = command(&db, &["migrate", "rehearse"]);
    let data = std::env::temp_dir().join(format!("{}-rehearse", db.name));
    std::fs::write(
        data.join("migrations/000002_bad.up.sql"),
        "CREATE TABLE b (id intt);\n",
    )
    .expect("bad file");
    let out = cmd.output().expect("run");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("       2  bad                          FAILED"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\nerror: Rehearsal: version 2 (bad) failed at line 1, column 20: migration failed: type \"intt\" does not exist (column 20) in line 1: CREATE TABLE b (id intt);\n (details: ERROR: type \"intt\" does not exist (SQLSTATE 42704)) (1 file ran before it). The scratch copy \""),
        "{stderr}"
    );
    assert_eq!(scratches(&db).await, Vec::<String>::new());
}

/// The Migrations page: the Rehearse button posted as a plain form (no JavaScript) comes
/// back to the page with `?job=N`, which shows the report with a bar per file once it ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rehearse_button_works_as_a_plain_form_and_the_page_shows_a_bar_per_file() {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-rehearse-web", db.name));
    let web = common::Web::start(command(&db, &["serve"]), &data, "rehearse-pw");
    let page = web.page("/migrations");
    assert!(page.contains(">Rehearse</button>"), "{page}");
    let location = web.post_form("/migrations", "migrate_rehearse", "");
    let id = location
        .split("?job=")
        .nth(1)
        .unwrap_or_else(|| panic!("no ?job= in {location:?}"))
        .to_string();
    let t = Instant::now();
    let page = loop {
        let page = web.page(&format!("/migrations?job={id}"));
        if page.contains("data-testid=\"rehearsal\"") {
            break page;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no report: {page}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(page.contains("Rehearsal: every file ran"), "{page}");
    assert!(
        page.contains("<rect x=\"0\" y=\"0\" width=\"100.0\""),
        "the only file has the full bar: {page}"
    );
    assert!(page.contains("public.schema_migrations"), "{page}");
    drop(web);
    assert_eq!(scratches(&db).await, Vec::<String>::new());
}
