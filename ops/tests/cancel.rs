//! A cancelled backup, restore or verify stops its tool at once and leaves nothing behind:
//! no partial archive and no manifest, no half-restored database, the live database exactly
//! as it was. Each job is cancelled mid-way (from one of its own log lines, over a table big
//! enough that the tool is still working) and ends Cancelled with the sentence saying so.

use std::path::Path;
use std::sync::Arc;

use ops::jobs::Job;
use ops::model::{JobStatus, JobView, Verification};
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

/// A database with one table of 400 000 rows (about 50 MB): pg_dump and pg_restore take a
/// moment over it.
async fn big() -> TestDb {
    let db = TestDb::create().await;
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) || repeat('x', 100) AS t FROM generate_series(1, 400000) g;
         ALTER TABLE big ADD PRIMARY KEY (id);",
    )
    .await
    .expect("seed");
    c.close().await.ok();
    db
}

/// Follows a job and cancels it at the first line that starts with `at`.
async fn cancel_at(job: Arc<Job>, at: &str) -> JobView {
    let me = job.clone();
    let view = job
        .follow(move |line| {
            if line.text.starts_with(at) {
                me.cancel();
            }
        })
        .await;
    assert!(
        view.lines.iter().any(|l| l.text.starts_with(at)),
        "no line starting {at:?}: {:?}",
        view.lines
    );
    view
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn databases_like(url: &str, pattern: &str) -> Vec<String> {
    let mut c = PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
        .bind(pattern)
        .fetch_all(&mut c)
        .await
        .expect("databases")
}

async fn rows(url: &str) -> i64 {
    let mut c = PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar("SELECT count(*) FROM big")
        .fetch_one(&mut c)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_cancelled_backup_stops_pg_dump_and_leaves_no_file_and_no_manifest() {
    let db = big().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let job = console
        .start_backup(ops::model::BackupKind::Full, "test")
        .await
        .expect("starts");
    let view = cancel_at(job, "Table public.big").await;
    assert_eq!(view.status, JobStatus::Cancelled, "{:?}", view.result);
    assert_eq!(
        view.result.as_deref(),
        Some("Cancelled: pg_dump was stopped, the partial archive removed and no manifest written; nothing else changed.")
    );
    assert_eq!(files(&console.config.backup_dir), Vec::<String>::new());
}

#[tokio::test]
async fn a_cancelled_restore_into_a_new_database_drops_it() {
    let db = big().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let (_, file) = ops::testing::full_backup(&console).await;
    let target = format!("{}_cut", db.name);
    let _dropped = TestDb::named_on(&db.url, &target);
    let job = console
        .start_restore_into(file.as_str(), &target, 1, None, "test")
        .await
        .expect("starts");
    let view = cancel_at(job, "Loading data for").await;
    assert_eq!(view.status, JobStatus::Cancelled, "{:?}", view.result);
    assert_eq!(
        view.result,
        Some(format!("Cancelled: pg_restore was stopped and the half-restored database \"{target}\" was dropped; nothing else changed."))
    );
    assert_eq!(databases_like(&db.url, &target).await, Vec::<String>::new());
    assert_eq!(
        files(&console.config.backup_dir),
        [file.clone(), format!("{file}.json")]
    );
}

#[tokio::test]
async fn a_restore_in_place_cancelled_before_the_swap_leaves_the_database_as_it_was() {
    let db = big().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let (_, file) = ops::testing::full_backup(&console).await;
    // The live database changes after the backup: a restore that went through would undo it.
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute("DELETE FROM big WHERE id > 399000")
        .await
        .expect("delete");
    c.close().await.ok();
    let job = console
        .start_restore_in_place(file.as_str(), 1, None, "test")
        .await
        .expect("starts");
    let view = cancel_at(job, "Loading data for").await;
    assert_eq!(view.status, JobStatus::Cancelled, "{:?}", view.result);
    let fresh = view
        .lines
        .iter()
        .find_map(|l| {
            l.text
                .strip_prefix("Restoring into a fresh database \"")
                .and_then(|r| r.split('"').next())
        })
        .expect("the fresh database's name")
        .to_string();
    let safety = files(&console.config.backup_dir)
        .into_iter()
        .find(|f| f.contains("_safety_") && f.ends_with(".dump"))
        .expect("the safety backup is kept");
    assert_eq!(
        view.result,
        Some(format!(
            "Cancelled before the swap: the copy \"{fresh}\" was dropped and \"{}\" was not changed (safety backup {safety} kept).",
            db.name
        ))
    );
    assert_eq!(rows(&db.url).await, 399_000);
    assert_eq!(
        databases_like(&db.url, &format!("{}%", db.name)).await,
        std::slice::from_ref(&db.name)
    );
}

#[tokio::test]
async fn a_cancelled_verify_stops_pg_restore_and_keeps_the_manifest_as_it_was() {
    let db = big().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let (_, file) = ops::testing::full_backup(&console).await;
    let job = console
        .start_verify(file.as_str(), ops::console::Check::Blocks, "test")
        .await
        .expect("starts");
    let view = cancel_at(job, "Reading the table of contents").await;
    assert_eq!(view.status, JobStatus::Cancelled, "{:?}", view.result);
    assert_eq!(
        view.result.as_deref(),
        Some("Cancelled: pg_restore was stopped; the archive and its manifest were not changed.")
    );
    let m = ops::backup::archive::read_manifest(&console.config.backup_dir.join(&file))
        .expect("manifest");
    assert_eq!(m.verification, Verification::Never);
}
