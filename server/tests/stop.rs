//! A stop is graceful: SIGTERM to `serve` during its start-up migration, or Ctrl-C to
//! `migrate up`, lets the running file finish and leaves the database clean at its version.
//! And a job from a second process is refused with who holds the database.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ops::testing::TestDb;
use sqlx::{Connection, PgConnection};

const EXE: &str = env!("CARGO_BIN_EXE_holomush-admin");

struct Env {
    vars: Vec<(&'static str, String)>,
    data: std::path::PathBuf,
}

/// Three migrations of two seconds each, and the variables of a console on `db`.
fn env(db: &TestDb, tag: &str) -> Env {
    let data = std::env::temp_dir().join(format!("{}-{tag}", db.name));
    let migrations = data.join("migrations");
    std::fs::create_dir_all(&migrations).expect("migrations folder");
    for v in 1..=3 {
        std::fs::write(
            migrations.join(format!("{v:06}_slow{v}.up.sql")),
            format!("SELECT pg_sleep(2);\nCREATE TABLE slow{v} (id int);\n"),
        )
        .expect("up file");
        std::fs::write(
            migrations.join(format!("{v:06}_slow{v}.down.sql")),
            format!("DROP TABLE slow{v};\n"),
        )
        .expect("down file");
    }
    let site = data.join("site");
    std::fs::create_dir_all(site.join("pkg")).expect("site");
    std::fs::write(site.join("pkg/holomush-admin.js"), "").expect("site marker");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let vars = vec![
        ("DATABASE_URL", db.url.clone()),
        ("HOLOMUSH_ADMIN_DATA", data.display().to_string()),
        (
            "HOLOMUSH_BACKUP_DIR",
            data.join("backups").display().to_string(),
        ),
        ("HOLOMUSH_MIGRATIONS_DIR", migrations.display().to_string()),
        ("HOLOMUSH_ADMIN_ADDR", format!("127.0.0.1:{port}")),
        ("HOLOMUSH_ADMIN_PASSWORD", "stop-pw".to_string()),
        ("LEPTOS_SITE_ROOT", site.display().to_string()),
        ("DB_MIN_CONNS", "0".to_string()),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
    ];
    Env { vars, data }
}

impl Env {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(EXE);
        cmd.env_clear().args(args);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn holomush-admin")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

async fn ledger(db: &TestDb) -> Option<(i64, bool)> {
    let mut c = PgConnection::connect(&db.url).await.ok()?;
    let row = sqlx::query_as("SELECT version, dirty FROM schema_migrations")
        .fetch_optional(&mut c)
        .await
        .ok()
        .flatten();
    c.close().await.ok();
    row
}

/// Waits until the first file is running (its version recorded dirty, as golang-migrate does).
async fn until_first_file_runs(db: &TestDb) {
    let t = Instant::now();
    while ledger(db).await != Some((1, true)) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the migration never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) with a pid this test spawned and a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill");
}

/// Waits for the child to exit, at most `limit`, and returns what it printed.
fn wait_within(child: Child, limit: Duration) -> (Output, Duration) {
    let t = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(limit)
        .expect("the process exited in time")
        .expect("output");
    (out, t.elapsed())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn sigterm_during_the_start_up_migration_finishes_the_file_and_exits_0_clean() {
    let db = TestDb::create().await;
    let env = env(&db, "sigterm");
    let server = env.spawn(&["serve"]);
    until_first_file_runs(&db).await;

    // Meanwhile a CLI in another shell is refused, told who holds the database.
    let o = env.command(&["backup", "create"]).output().expect("cli");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stderr).to_string();
    let expected = format!(
        "error: Another job is running on this database (migrate.up from holomush-admin serve (pid {} on {}) since ",
        server.id(),
        hostname()
    );
    assert!(said.starts_with(&expected), "{said}");
    assert!(
        said.trim_end()
            .ends_with("UTC): wait for it to finish or cancel it there, then try again."),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(env.data.join("backups"))
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "the refused backup wrote nothing"
    );

    signal(&server, libc::SIGTERM);
    let (out, took) = wait_within(server, Duration::from_secs(35));
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(
        printed.contains("Job #1 (migrate.up): Cancelled before version 2: the migrations before it were applied and the database is clean."),
        "{printed}"
    );
    assert!(printed.contains("Stopped."), "{printed}");
    assert_eq!(ledger(&db).await, Some((1, false)));
    let audit = std::fs::read_to_string(env.data.join("audit.log")).expect("audit");
    assert!(audit.contains("\"action\":\"console.stop\""), "{audit}");
    let record =
        std::fs::read_to_string(env.data.join("jobs").join("00000001.json")).expect("job record");
    assert!(record.contains("\"Cancelled\""), "{record}");
}

#[tokio::test]
async fn ctrl_c_during_migrate_up_finishes_the_file_and_leaves_the_database_clean() {
    let db = TestDb::create().await;
    let env = env(&db, "sigint");
    let cli = env.spawn(&["migrate", "up"]);
    until_first_file_runs(&db).await;
    signal(&cli, libc::SIGINT);
    let (out, _) = wait_within(cli, Duration::from_secs(35));
    let printed = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{printed}");
    assert!(
        printed.contains(
            "Stopping job #1 (migrate.up) at its next safe point; press Ctrl-C again to leave at once."
        ),
        "{printed}"
    );
    assert!(
        printed.trim_end().ends_with(
            "error: Cancelled before version 2: the migrations before it were applied and the database is clean."
        ),
        "{printed}"
    );
    assert_eq!(ledger(&db).await, Some((1, false)));
}
