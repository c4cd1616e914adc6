//! One job per database across processes (the console's own advisory lock), and a stop
//! that lets a migration finish its current file and leaves the database clean.

use std::sync::Arc;
use std::time::Duration;

use ops::console::ConsoleError;
use ops::migrate::Op;
use ops::model::{JobKind, JobStatus};
use ops::testing::TestDb;
use sqlx::{Connection, PgConnection};

/// Three migrations whose up files each take `seconds`, in a folder of the test database's.
fn slow_migrations(db: &TestDb, seconds: f64) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{}-migrations", db.name));
    std::fs::create_dir_all(&dir).expect("folder");
    for v in 1..=3 {
        std::fs::write(
            dir.join(format!("{v:06}_step{v}.up.sql")),
            format!("SELECT pg_sleep({seconds});\nCREATE TABLE step{v} (id int);\n"),
        )
        .expect("write");
        std::fs::write(
            dir.join(format!("{v:06}_step{v}.down.sql")),
            format!("DROP TABLE step{v};\n"),
        )
        .expect("write");
    }
    dir
}

async fn ledger(db: &TestDb) -> (i64, bool) {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let row = sqlx::query_as("SELECT version, dirty FROM schema_migrations")
        .fetch_one(&mut c)
        .await
        .expect("ledger");
    c.close().await.ok();
    row
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_second_process_is_refused_with_who_holds_the_database() {
    let db = TestDb::create().await;
    // Two consoles on one database, as a server and a CLI in another shell would be: each
    // has its own in-process lock, so only the database can tell them apart.
    let server = ops::Console::open_server(db.config()).await.expect("open");
    let cli = ops::Console::open(db.config()).await.expect("open");
    let (release, hold) = tokio::sync::oneshot::channel::<()>();
    let held = server
        .jobs
        .start(JobKind::BackupFull, "admin", "db", |_| async move {
            let _ = hold.await;
            Ok("done".to_string())
        })
        .await
        .expect("the first job starts");

    let refused = cli
        .start_migration(Op::Up(None), "cli")
        .await
        .err()
        .expect("the second job is refused");
    assert!(matches!(refused, ConsoleError::Busy(_)));
    let said = refused.to_string();
    let expected_start = format!(
        "Another job is running on this database (backup.full from holomush-admin serve (pid {} on {}) since ",
        std::process::id(),
        hostname()
    );
    assert!(said.starts_with(&expected_start), "{said}");
    assert!(
        said.ends_with(" UTC): wait for it to finish or cancel it there, then try again."),
        "{said}"
    );
    // Nothing ran: the refused migration did not even create its ledger.
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let ledger: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('schema_migrations')::text")
            .fetch_one(&mut c)
            .await
            .expect("query");
    assert_eq!(ledger, None);

    release.send(()).expect("release");
    assert_eq!(held.follow(|_| {}).await.status, JobStatus::Succeeded);
    let up = cli
        .start_migration(Op::Up(None), "cli")
        .await
        .expect("free once the first job ended")
        .follow(|_| {})
        .await;
    assert_eq!(up.status, JobStatus::Succeeded, "{:?}", up.result);
    // The lock went with its job's session: nobody holds it now.
    assert_eq!(ops::joblock::holder(&mut c).await, None);
    c.close().await.ok();
}

#[tokio::test]
async fn a_stop_lets_the_running_migration_file_finish_and_leaves_the_database_clean() {
    let db = TestDb::create().await;
    let files = slow_migrations(&db, 1.5);
    let console = ops::Console::open_server(db.config_with(&files))
        .await
        .expect("open");
    let job = console
        .start_migration(Op::Up(None), "auto")
        .await
        .expect("starts");
    // Stop while the first file runs.
    while !job.view().lines.iter().any(|l| l.text.contains("000001")) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = console.jobs.stop(Duration::from_secs(30)).await;
    assert!(report.cut_short.is_empty(), "{report:?}");
    let view = job.view();
    assert_eq!(view.status, JobStatus::Cancelled);
    assert_eq!(
        view.result.as_deref(),
        Some("Cancelled before version 2: the migrations before it were applied and the database is clean.")
    );
    assert_eq!(ledger(&db).await, (1, false));
    let audit = std::fs::read_to_string(console.audit.path()).expect("audit");
    assert!(audit.contains("Cancelled before version 2"), "{audit}");
    // Once stopping, nothing new starts.
    let refused = console
        .start_backup(ops::model::BackupKind::Full, "schedule")
        .await
        .err()
        .expect("refused");
    assert_eq!(
        refused.to_string(),
        "The console is stopping, so no new job starts: run it again once it is back."
    );
}

#[tokio::test]
async fn a_stop_cuts_short_what_does_not_reach_a_safe_point_in_time_and_says_so() {
    let db = TestDb::create().await;
    let files = slow_migrations(&db, 5.0);
    let console = Arc::new(
        ops::Console::open_server(db.config_with(&files))
            .await
            .expect("open"),
    );
    let job = console
        .start_migration(Op::Up(None), "cli")
        .await
        .expect("starts");
    while !job.view().lines.iter().any(|l| l.text.contains("000001")) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = console.jobs.stop(Duration::from_millis(300)).await;
    assert_eq!(report.cut_short, vec![job.id]);
    let view = job.view();
    assert_eq!(view.status, JobStatus::Failed);
    assert_eq!(view.result.as_deref(), Some(ops::jobs::CUT_SHORT));
    // Cut mid-file, the ledger is where golang-migrate leaves a killed run: the file's
    // version, dirty, for `migrate force` to settle; the file's own work rolled back.
    assert_eq!(ledger(&db).await, (1, true));
    let record = std::fs::read_to_string(
        console
            .config
            .data_dir
            .join("jobs")
            .join(format!("{:08}.json", job.id)),
    )
    .expect("job record");
    assert!(record.contains("cut short"), "{record}");
}
