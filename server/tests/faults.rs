//! The README's fault table, row by row: the real binary killed or stopped at each stage of
//! a job, PostgreSQL restarted and the connection cut under one, a full backup folder, and
//! many processes racing. Each test asserts what the user sees, and what is left on disk and
//! in the database: nothing dirty that golang-migrate would not leave dirty, no archive
//! that looks complete and is not, no live database changed by a failed restore.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{audit_records, stop, text, wait_within, Web};
use ops::testing::TestDb;
use sqlx::{Connection, PgConnection};

const CLEAN_AT_1: &str =
    "Cancelled before version 2: the migrations before it were applied and the database is clean.";

/// A console's folders and variables on one database, with three migrations of `seconds` each.
struct Env {
    url: String,
    data: PathBuf,
    /// Over the binary's own: the migrations folder and what a test sets.
    vars: Vec<(&'static str, String)>,
}

fn env(db: &TestDb, tag: &str, seconds: f64) -> Env {
    env_on(&db.url, &db.name, tag, seconds)
}

fn env_on(url: &str, name: &str, tag: &str, seconds: f64) -> Env {
    let data = std::env::temp_dir().join(format!("{name}-{tag}"));
    let migrations = data.join("migrations");
    std::fs::create_dir_all(&migrations).expect("migrations folder");
    for v in 1..=3 {
        std::fs::write(
            migrations.join(format!("{v:06}_slow{v}.up.sql")),
            format!("SELECT pg_sleep({seconds});\nCREATE TABLE slow{v} (id int);\n"),
        )
        .expect("up file");
        std::fs::write(
            migrations.join(format!("{v:06}_slow{v}.down.sql")),
            format!("DROP TABLE slow{v};\n"),
        )
        .expect("down file");
    }
    let vars = vec![("HOLOMUSH_MIGRATIONS_DIR", migrations.display().to_string())];
    Env {
        url: url.to_string(),
        data,
        vars,
    }
}

impl Env {
    fn set(&mut self, key: &'static str, value: &str) {
        self.vars.retain(|(k, _)| *k != key);
        self.vars.push((key, value.to_string()));
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = common::binary(&self.url, &self.data);
        cmd.args(args).envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn holomush-admin")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run holomush-admin")
    }

    /// `serve`, its output kept for its end; not waited for.
    fn serve(&self) -> Web {
        Web::launch(self.command(&["serve"]), &self.data, "fault-pw")
    }

    fn backups(&self) -> PathBuf {
        self.data.join("backups")
    }

    /// Every name in the backup folder, partial files included.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.backups())
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.expect("connect")
}

async fn ledger(url: &str) -> Option<(i64, bool)> {
    let mut c = PgConnection::connect(url).await.ok()?;
    let row = sqlx::query_as("SELECT version, dirty FROM schema_migrations")
        .fetch_optional(&mut c)
        .await
        .ok()
        .flatten();
    c.close().await.ok();
    row
}

async fn exists(url: &str, relation: &str) -> bool {
    let mut c = connect(url).await;
    let found: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(relation)
        .fetch_one(&mut c)
        .await
        .expect("to_regclass");
    c.close().await.ok();
    found.is_some()
}

/// The databases of `url`'s server named LIKE `like`, read through `postgres` (the
/// database of `url` may be the one missing).
async fn databases(url: &str, like: &str) -> Vec<String> {
    let mut u = url::Url::parse(url).expect("url");
    u.set_path("/postgres");
    let mut c = connect(u.as_str()).await;
    let names =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1")
            .bind(like)
            .fetch_all(&mut c)
            .await
            .expect("databases");
    c.close().await.ok();
    names
}

/// Polls `check` every 50 ms for up to 120 s (the tests of this file run side by side).
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while !check().await {
        assert!(t.elapsed() < Duration::from_secs(120), "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Until the first file runs (its version recorded dirty first, as golang-migrate does).
async fn until_first_file_runs(url: &str) {
    until("the first migration file runs", || async {
        ledger(url).await == Some((1, true))
    })
    .await;
}

fn last_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Enough rows that pg_dump and pg_restore run for a few seconds.
async fn fill(url: &str) {
    let mut c = connect(url).await;
    sqlx::raw_sql(
        "CREATE TABLE bulk (id bigint PRIMARY KEY, body text);
         INSERT INTO bulk SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 500000) g;",
    )
    .execute(&mut c)
    .await
    .expect("fill");
    c.close().await.ok();
}

async fn rows(url: &str) -> i64 {
    let mut c = connect(url).await;
    let n = sqlx::query_scalar("SELECT count(*) FROM bulk")
        .fetch_one(&mut c)
        .await
        .expect("count");
    c.close().await.ok();
    n
}

fn has_partial(env: &Env) -> bool {
    env.files().iter().any(|n| n.ends_with(".partial"))
}

// ---- migrate up ----------------------------------------------------------------------

#[tokio::test]
async fn migrate_up_serve_sigterm_at_start_up_finishes_the_file_and_exits_0_clean() {
    let db = TestDb::create().await;
    let env = env(&db, "sigterm", 2.0);
    let server = env.serve();
    until_first_file_runs(&db.url).await;

    // Meanwhile a CLI in another shell is refused, told who holds the database.
    let o = env.run(&["backup", "create"]);
    assert_eq!(o.status.code(), Some(4), "busy: {}", text(&o));
    let said = last_line(&o);
    let expected = format!(
        "error: Another job is running on this database (migrate.up from holomush-admin serve (pid {} on {}) since ",
        server.pid(),
        hostname()
    );
    assert!(said.starts_with(&expected), "{said}");
    assert!(
        said.ends_with("UTC): wait for it to finish or cancel it there, then try again."),
        "{said}"
    );
    assert_eq!(
        env.files(),
        Vec::<String>::new(),
        "the refused backup wrote nothing"
    );

    let (out, took) = server.stop(libc::SIGTERM, Duration::from_secs(35));
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(
        printed.contains(&format!("Job #1 (migrate.up): {CLEAN_AT_1}")),
        "{printed}"
    );
    assert!(printed.contains("Stopped."), "{printed}");
    assert_eq!(ledger(&db.url).await, Some((1, false)));
    assert!(exists(&db.url, "slow1").await && !exists(&db.url, "slow2").await);
    let actions: Vec<String> = audit_records(&env.data)
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(actions.iter().any(|a| a == "console.stop"), "{actions:?}");
    let record =
        std::fs::read_to_string(env.data.join("jobs").join("00000001.json")).expect("job record");
    assert!(record.contains("\"Cancelled\""), "{record}");
}

#[tokio::test]
async fn migrate_up_cli_ctrl_c_finishes_the_file_and_leaves_the_database_clean() {
    let db = TestDb::create().await;
    let env = env(&db, "sigint", 2.0);
    let cli = env.spawn(&["migrate", "up"]);
    until_first_file_runs(&db.url).await;
    let (out, _) = stop(cli, libc::SIGINT, Duration::from_secs(35));
    let printed = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "interrupted: {printed}");
    assert!(
        printed.contains(
            "Stopping job #1 (migrate.up) at its next safe point; press Ctrl-C again to leave at once."
        ),
        "{printed}"
    );
    assert_eq!(last_line(&out), format!("error: {CLEAN_AT_1}"));
    assert_eq!(ledger(&db.url).await, Some((1, false)));
}

#[tokio::test]
async fn migrate_up_cli_kill_9_mid_file_leaves_it_dirty_as_golang_migrate_does() {
    let db = TestDb::create().await;
    let env = env(&db, "kill9cli", 2.0);
    let cli = env.spawn(&["migrate", "up"]);
    until_first_file_runs(&db.url).await;
    let _ = stop(cli, libc::SIGKILL, Duration::from_secs(10));
    // The file's statements ran in one implicit transaction; the server may still be
    // finishing it, so wait for its session to go before reading what it left.
    until("the killed session ends", || async {
        let mut c = connect(&db.url).await;
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut c)
        .await
        .expect("activity");
        n == 0
    })
    .await;
    assert_eq!(ledger(&db.url).await, Some((1, true)));
    let o = env.run(&["migrate", "up"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        last_line(&o),
        "error: Dirty database version 1. Fix and force version."
    );
    let status = env.run(&["migrate", "status"]);
    assert!(text(&status).contains("1 (dirty)"), "{}", text(&status));
}

#[tokio::test]
async fn migrate_up_serve_kill_9_then_restart_shows_the_job_failed_and_the_version_dirty() {
    let db = TestDb::create().await;
    let env = env(&db, "kill9serve", 2.0);
    let server = env.serve();
    until_first_file_runs(&db.url).await;
    let _ = server.stop(libc::SIGKILL, Duration::from_secs(10));
    tokio::time::sleep(Duration::from_secs(3)).await;

    let again = env.serve();
    again.until_listening();
    let record = env.data.join("jobs").join("00000001.json");
    let r = std::fs::read_to_string(&record).expect("record");
    assert!(
        r.contains("The console stopped (restart or crash) while this job was running"),
        "{r}"
    );
    let (out, _) = again.stop(libc::SIGTERM, Duration::from_secs(35));
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains(
            "Migrations: not applied on start-up: Dirty database version 1. Fix and force version."
        ),
        "{printed}"
    );
    assert_eq!(ledger(&db.url).await, Some((1, true)));
}

#[tokio::test]
async fn twenty_clis_and_a_server_racing_migrate_up_apply_each_file_once() {
    let db = TestDb::create().await;
    let env = env(&db, "race", 0.3);
    let server = env.serve();
    let clis: Vec<Child> = (0..20).map(|_| env.spawn(&["migrate", "up"])).collect();
    let mut ran = 0;
    for cli in clis {
        let (out, _) = wait_within(cli, Duration::from_secs(60));
        let said = last_line(&out);
        if out.status.success() {
            ran += 1;
        } else {
            // The only other answer is the refusal that names the holder.
            assert!(
                said.starts_with("error: Another job is running on this database (migrate.up from holomush-admin "),
                "{}",
                text(&out)
            );
        }
    }
    // The server listens once its start-up migration ended (or was refused as busy).
    server.until_listening();
    let _ = server.stop(libc::SIGTERM, Duration::from_secs(35));
    assert_eq!(ledger(&db.url).await, Some((3, false)));
    let mut c = connect(&db.url).await;
    let applied: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, count(*) FROM holomush_admin.migration_history WHERE direction = 'up' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .expect("history");
    assert_eq!(applied, vec![(1, 1), (2, 1), (3, 1)], "{ran} CLIs ran");
}

// ---- PostgreSQL and the network under a job -------------------------------------------

/// A private cluster of the major under test, so restarting it disturbs no other test.
struct Private {
    data: PathBuf,
    url: String,
}

impl Private {
    fn start(tag: &str) -> Self {
        let data =
            std::env::temp_dir().join(format!("holomush-fault-pg-{tag}-{}", std::process::id()));
        let out = Self::script(&data, "url");
        assert!(out.status.success(), "{}", text(&out));
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Self { data, url }
    }

    fn script(data: &Path, command: &str) -> Output {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Command::new("bash")
            .arg(root.join("scripts/dev-postgres.sh"))
            .arg(command)
            .env("HOLOMUSH_ADMIN_DATA", data)
            .env(
                "PG_MAJOR",
                std::env::var("TEST_PG_MAJOR").unwrap_or_else(|_| "18".to_string()),
            )
            .output()
            .expect("dev-postgres.sh")
    }

    fn restart(&self) {
        let out = Self::script(&self.data, "restart");
        assert!(out.status.success(), "{}", text(&out));
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = Self::script(&self.data, "stop");
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[tokio::test]
async fn migrate_up_postgres_restarted_mid_file_fails_with_a_sentence_and_leaves_it_dirty() {
    let pg = Private::start("restart");
    let env = env_on(&pg.url, "pgrestart", "restart", 3.0);
    let cli = env.spawn(&["migrate", "up"]);
    until_first_file_runs(&pg.url).await;
    pg.restart();
    let (out, _) = wait_within(cli, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // golang-migrate's own words for a file that failed, which the repair wizard reads (the
    // pgx/v5 driver's: PostgreSQL gave no position, so column 0 of line 1).
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        said.contains("error: migration failed: terminating connection due to administrator command (column 0) in line 1: SELECT pg_sleep(3);\nCREATE TABLE slow1 (id int);\n (details: FATAL: terminating connection due to administrator command (SQLSTATE 57P01))"),
        "{said}"
    );
    assert_eq!(ledger(&pg.url).await, Some((1, true)));
    assert!(
        !exists(&pg.url, "slow1").await,
        "the file's work was rolled back"
    );
}

// ---- backup create -------------------------------------------------------------------

const BACKUP_CANCELLED: &str =
    "Cancelled: pg_dump was stopped, the partial archive removed and no manifest written; nothing else changed.";

#[tokio::test]
async fn backup_create_cli_ctrl_c_mid_dump_removes_the_partial_archive() {
    let db = TestDb::create().await;
    fill(&db.url).await;
    let env = env(&db, "bk-int", 0.0);
    let cli = env.spawn(&["backup", "create"]);
    until("the dump is being written", || async { has_partial(&env) }).await;
    let (out, _) = stop(cli, libc::SIGINT, Duration::from_secs(35));
    assert_eq!(out.status.code(), Some(130), "interrupted: {}", text(&out));
    assert_eq!(last_line(&out), format!("error: {BACKUP_CANCELLED}"));
    assert_eq!(env.files(), Vec::<String>::new());
}

#[tokio::test]
async fn backup_create_cli_kill_9_leaves_a_partial_that_is_never_listed_and_is_swept() {
    let db = TestDb::create().await;
    fill(&db.url).await;
    let env = env(&db, "bk-kill", 0.0);
    let cli = env.spawn(&["backup", "create"]);
    until("the dump is being written", || async { has_partial(&env) }).await;
    let _ = stop(cli, libc::SIGKILL, Duration::from_secs(10));
    let left = env.files();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(".partial"), "{left:?}");
    // No archive looks complete: the next command lists none, and removes the leftover.
    let list = env.run(&["backup", "list", "--json"]);
    assert!(list.status.success(), "{}", text(&list));
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "[]");
    assert_eq!(env.files(), Vec::<String>::new());
}

#[tokio::test]
async fn backup_create_serve_sigterm_mid_dump_cancels_it_and_exits_0() {
    let db = TestDb::create().await;
    fill(&db.url).await;
    let mut env = env(&db, "bk-term", 0.0);
    env.set("HOLOMUSH_DB_AUTO_MIGRATE", "false");
    let server = env.serve();
    server.until_listening();
    server.sign_in();
    let id = server.call("backup_start", "kind=full").trim().to_string();
    until("the dump is being written", || async { has_partial(&env) }).await;
    let (out, took) = server.stop(libc::SIGTERM, Duration::from_secs(35));
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(
        printed.contains(&format!("Job #{id} (backup.full): {BACKUP_CANCELLED}")),
        "{printed}"
    );
    assert_eq!(env.files(), Vec::<String>::new());
}

/// A TCP proxy to PostgreSQL that can cut every connection at once, as a network would.
struct Proxy {
    port: u16,
    cut: tokio_util::sync::CancellationToken,
}

impl Proxy {
    async fn to(url: &str) -> Self {
        let target = url::Url::parse(url).expect("url");
        let upstream = format!(
            "{}:{}",
            target.host_str().unwrap_or("127.0.0.1"),
            target.port().unwrap_or(5432)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut = tokio_util::sync::CancellationToken::new();
        let stop = cut.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = stop.cancelled() => {}
                    }
                });
            }
        });
        Self { port, cut }
    }

    fn url(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).expect("url");
        u.set_port(Some(self.port)).expect("port");
        u.to_string()
    }
}

// The proxy runs on the test's runtime while the test thread waits: it needs its own worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_create_connection_cut_mid_dump_fails_and_leaves_no_archive() {
    let db = TestDb::create().await;
    fill(&db.url).await;
    let proxy = Proxy::to(&db.url).await;
    let through = proxy.url(&db.url);
    let env = env_on(&through, &db.name, "bk-cut", 0.0);
    let cli = env.spawn(&["backup", "create"]);
    until("the dump is being written", || async { has_partial(&env) }).await;
    proxy.cut.cancel();
    let (out, _) = wait_within(cli, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "failed: {}", text(&out));
    let said = last_line(&out);
    assert!(
        said.starts_with("error: pg_dump failed: pg_dump: error: ")
            && said.contains("server closed the connection unexpectedly")
            && said.ends_with("No archive was kept."),
        "{said}"
    );
    assert_eq!(env.files(), Vec::<String>::new());
}

#[tokio::test]
async fn backup_create_into_a_full_folder_fails_and_leaves_no_archive() {
    let db = TestDb::create().await;
    fill(&db.url).await;
    let env = env(&db, "bk-full", 0.0);
    std::fs::create_dir_all(env.backups()).expect("folder");
    // A 1 MiB tmpfs for the backup folder: the dump is far larger.
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m,mode=0700", "holomush-full"])
        .arg(env.backups())
        .status()
        .expect("mount");
    assert!(
        mounted.success(),
        "this test mounts a tmpfs: run it as root"
    );
    let out = env.run(&["backup", "create"]);
    let files = env.files();
    let _ = Command::new("umount").arg(env.backups()).status();
    assert_eq!(out.status.code(), Some(1), "failed: {}", text(&out));
    let said = last_line(&out);
    assert!(
        said.starts_with("error: Writing ")
            && said.ends_with(".partial failed: the disk is full (No space left on device (os error 28)). Free space in the backup folder (delete old archives, or set HOLOMUSH_BACKUP_DIR to a larger disk), then try again; nothing incomplete was kept."),
        "{said}"
    );
    assert_eq!(files, Vec::<String>::new());
    assert_eq!(rows(&db.url).await, 500_000, "the database is as it was");
}

// ---- restore --into and --in-place ---------------------------------------------------

/// A filled database with one full backup of it; the live database then changes (a table
/// `after_backup`), so the tests can tell the live database from a restored one.
async fn backed_up(db: &TestDb, env: &Env) -> String {
    fill(&db.url).await;
    let o = env.run(&["backup", "create", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = env
        .files()
        .into_iter()
        .find(|f| f.ends_with(".dump"))
        .expect("an archive");
    let mut c = connect(&db.url).await;
    sqlx::raw_sql("CREATE TABLE after_backup (id int); DELETE FROM bulk WHERE id <= 10;")
        .execute(&mut c)
        .await
        .expect("change");
    c.close().await.ok();
    file
}

/// The live database is exactly as it was after [`backed_up`] changed it.
async fn live_unchanged(db: &TestDb) {
    assert!(
        exists(&db.url, "after_backup").await,
        "the live database was replaced"
    );
    assert_eq!(rows(&db.url).await, 500_000 - 10);
}

fn db_url(db: &TestDb, name: &str) -> String {
    let mut u = url::Url::parse(&db.url).expect("url");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// A backup, then `restore --into` it while pg_restore is filling the new database: the
/// archive, the target's name and the running CLI.
async fn restore_into_under_way(db: &TestDb, env: &Env) -> (String, String, Child) {
    let file = backed_up(db, env).await;
    let target = format!("{}_into", db.name);
    let cli = env.spawn(&["restore", &file, "--into", &target]);
    until("pg_restore is filling the target", || async {
        !databases(&db.url, &target).await.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    (file, target, cli)
}

#[tokio::test]
async fn restore_into_cli_ctrl_c_drops_the_half_made_database() {
    let db = TestDb::create().await;
    let env = env(&db, "ri-int", 0.0);
    let (_, target, cli) = restore_into_under_way(&db, &env).await;
    let (out, _) = stop(cli, libc::SIGINT, Duration::from_secs(35));
    assert_eq!(out.status.code(), Some(130), "interrupted: {}", text(&out));
    assert_eq!(
        last_line(&out),
        format!("error: Cancelled: pg_restore was stopped and the half-restored database \"{target}\" was dropped; nothing else changed.")
    );
    assert_eq!(databases(&db.url, &target).await, Vec::<String>::new());
    live_unchanged(&db).await;
}

#[tokio::test]
async fn restore_into_kill_9_mid_restore_is_dropped_by_the_next_command() {
    let db = TestDb::create().await;
    let mut env = env(&db, "ri-kill", 0.0);
    // Held with the new database made and marked, so the kill lands before pg_restore is
    // done however fast this machine restores (a kill mid-pg_restore leaves the same state;
    // pg_restore itself dies with its parent, as the Ctrl-C test shows).
    env.set("HOLOMUSH_ADMIN_FAULT_PAUSE", "restore-into");
    let (file, target, cli) = restore_into_under_way(&db, &env).await;
    env.set("HOLOMUSH_ADMIN_FAULT_PAUSE", "none");
    let pid = cli.id();
    let _ = stop(cli, libc::SIGKILL, Duration::from_secs(10));
    // Left by the kill, and saying it is not complete.
    assert_eq!(databases(&db.url, &target).await, vec![target.clone()]);
    let mut c = connect(&db.url).await;
    let comment: Option<String> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(&target)
    .fetch_one(&mut c)
    .await
    .expect("comment");
    c.close().await.ok();
    assert!(
        comment.as_deref().is_some_and(
            |t| t.starts_with("holomush-admin restore into a new database in progress: ")
        ),
        "{comment:?}"
    );

    let o = env.run(&["info"]);
    let said = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        said.contains(&format!(
            "A restore into \"{target}\" was interrupted (process {pid} is gone): dropped the half-restored database; run the restore again."
        )),
        "{said}"
    );
    assert_eq!(databases(&db.url, &target).await, Vec::<String>::new());
    live_unchanged(&db).await;

    // A restore that finishes clears the mark, so the next command keeps its database.
    let o = env.run(&["restore", &file, "--into", &target]);
    assert!(o.status.success(), "{}", text(&o));
    let o = env.run(&["info"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(databases(&db.url, &target).await, vec![target.clone()]);
    let mut c = connect(&db.url).await;
    sqlx::query(&format!("DROP DATABASE \"{target}\""))
        .execute(&mut c)
        .await
        .expect("drop");
    c.close().await.ok();
}

#[tokio::test]
async fn restore_in_place_cli_ctrl_c_before_the_swap_drops_the_copy_and_keeps_the_live_database() {
    let db = TestDb::create().await;
    let env = env(&db, "rp-int", 0.0);
    let file = backed_up(&db, &env).await;
    let copies = format!("{}_restoring_%", &db.name[..db.name.len().min(30)]);
    let cli = env.spawn(&["restore", &file, "--in-place", "--yes"]);
    until("pg_restore is filling the copy", || async {
        !databases(&db.url, &copies).await.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (out, _) = stop(cli, libc::SIGINT, Duration::from_secs(35));
    assert_eq!(out.status.code(), Some(130), "interrupted: {}", text(&out));
    let said = last_line(&out);
    assert!(
        said.starts_with("error: Cancelled before the swap: the copy \"")
            && said.contains(&format!(
                "\" was dropped and \"{}\" was not changed (safety backup ",
                db.name
            )),
        "{said}"
    );
    assert_eq!(databases(&db.url, &copies).await, Vec::<String>::new());
    live_unchanged(&db).await;
    // The safety backup is complete: listed, with its manifest.
    let list = env.run(&["backup", "list", "--json"]);
    let listed: Vec<serde_json::Value> =
        serde_json::from_slice(&list.stdout).expect("backup list --json");
    let safety: Vec<&serde_json::Value> = listed
        .iter()
        .filter(|a| a["safety"] == serde_json::Value::Bool(true))
        .collect();
    assert_eq!(safety.len(), 1, "{}", text(&list));
    assert!(!has_partial(&env));
}

#[tokio::test]
async fn restore_in_place_kill_9_before_the_swap_is_undone_by_the_next_command() {
    let db = TestDb::create().await;
    let env = env(&db, "rp-kill", 0.0);
    let file = backed_up(&db, &env).await;
    let copies = format!("{}_restoring_%", &db.name[..db.name.len().min(30)]);
    let cli = env.spawn(&["restore", &file, "--in-place", "--yes"]);
    until("pg_restore is filling the copy", || async {
        !databases(&db.url, &copies).await.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = cli.id();
    let _ = stop(cli, libc::SIGKILL, Duration::from_secs(10));
    let left = databases(&db.url, &copies).await;
    assert_eq!(left.len(), 1, "the copy is left by a kill -9");
    live_unchanged(&db).await;

    let o = env.run(&["info"]);
    let said = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        said.contains(&format!(
            "A restore in place was interrupted before its swap (process {pid} is gone): dropped its copy \"{}\"; \"{}\" was not changed.",
            left[0], db.name
        )),
        "{said}"
    );
    assert_eq!(databases(&db.url, &copies).await, Vec::<String>::new());
    live_unchanged(&db).await;
}

#[tokio::test]
async fn restore_in_place_kill_9_during_the_swap_is_finished_by_the_next_command() {
    let db = TestDb::create().await;
    let mut env = env(&db, "rp-swap", 0.0);
    let file = backed_up(&db, &env).await;
    env.set("HOLOMUSH_ADMIN_FAULT_PAUSE", "swap");
    let previous = format!("{}_before_restore_%", &db.name[..db.name.len().min(30)]);
    let cli = env.spawn(&["restore", &file, "--in-place", "--yes"]);
    // Between the two renames: the live database has its "before" name, the copy not yet its own.
    until("the swap is half done", || async {
        !databases(&db.url, &previous).await.is_empty()
            && databases(&db.url, &db.name).await.is_empty()
    })
    .await;
    let _ = stop(cli, libc::SIGKILL, Duration::from_secs(10));
    assert_eq!(databases(&db.url, &db.name).await, Vec::<String>::new());

    let o = env.run(&["info"]);
    let before = databases(&db.url, &previous).await;
    assert_eq!(before.len(), 1);
    let said = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        said.contains(&format!(
            "A restore in place was interrupted during its swap: finished it, so \"{}\" is the restored database and the one before it is \"{}\".",
            db.name, before[0]
        )),
        "{said}"
    );
    // The restored database has the archive's rows, not the later change; the one before
    // it is kept and can be entered.
    assert!(!exists(&db.url, "after_backup").await);
    assert_eq!(rows(&db.url).await, 500_000);
    assert!(exists(&db_url(&db, &before[0]), "after_backup").await);
}

#[test]
fn the_readme_fault_table_names_only_tests_of_this_file() {
    let readme = include_str!("../../README.md");
    let me = include_str!("faults.rs");
    let table = readme
        .split("<!-- fault-table:")
        .nth(1)
        .expect("the README has the fault table");
    let rows: Vec<&str> = table
        .lines()
        .skip(3)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(rows.len() >= 15, "{} rows", rows.len());
    for row in rows {
        let test = row
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('`');
        assert!(me.contains(&format!("fn {test}(")), "no test {test}");
    }
}
