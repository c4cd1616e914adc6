//! `migrate rehearse` on real PostgreSQL: each pending file run on a scratch copy with the
//! locks it took on existing tables, a failing file with its line, the schema difference,
//! the live database unchanged and no scratch database left, whatever the ending.

use std::path::PathBuf;

use ops::migrate::rehearse::catalog;
use ops::migrate::Op;
use ops::model::{Change, CopiedFrom, JobOutput, JobStatus, JobView, LockTaken, Rehearsal};
use ops::testing::TestDb;
use sqlx::{Connection, PgConnection};

/// A migrations folder of the test database's with these up files.
fn migrations(db: &TestDb, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{}-migrations", db.name));
    std::fs::create_dir_all(&dir).expect("folder");
    for (name, body) in files {
        std::fs::write(dir.join(name), body).expect("write");
    }
    dir
}

/// A console on `db` at version 1 (one table, `existing`, with a row).
async fn at_version_1(db: &TestDb, files: &[(&str, &str)]) -> ops::Console {
    let mut all = vec![(
        "000001_existing.up.sql",
        "CREATE TABLE existing (id int);\nINSERT INTO existing VALUES (1);\n",
    )];
    all.extend_from_slice(files);
    let dir = migrations(db, &all);
    let console = ops::Console::open(db.config_with(&dir))
        .await
        .expect("console");
    let view = console
        .start_migration(Op::Up(Some(1)), "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    console
}

async fn connect(db: &TestDb) -> PgConnection {
    PgConnection::connect(&db.url).await.expect("connect")
}

/// The live database as a rehearsal must leave it: its schema and its version.
async fn live(db: &TestDb) -> (catalog::Snapshot, (i64, bool)) {
    let mut c = connect(db).await;
    let snap = catalog::snapshot(&mut c).await.expect("snapshot");
    let version = sqlx::query_as("SELECT version, dirty FROM schema_migrations")
        .fetch_one(&mut c)
        .await
        .expect("version");
    (snap, version)
}

async fn scratches(db: &TestDb) -> Vec<String> {
    let mut c = connect(db).await;
    sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{}\\_rehearse\\_%", db.name))
        .fetch_all(&mut c)
        .await
        .expect("list")
}

async fn rehearse(console: &ops::Console) -> (JobView, Rehearsal) {
    let view = console
        .start_rehearsal(None, None, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    match view.output.clone() {
        Some(JobOutput::Rehearsal(r)) => (view, r),
        other => panic!("no rehearsal output: {other:?} {:?}", view.result),
    }
}

fn lock(relation: &str, mode: &str) -> LockTaken {
    LockTaken {
        relation: relation.to_string(),
        mode: mode.to_string(),
    }
}

#[tokio::test]
async fn a_rehearsal_reports_each_file_its_locks_and_the_schema_changes_and_leaves_no_scratch() {
    let db = TestDb::create().await;
    let console = at_version_1(
        &db,
        &[
            (
                "000002_add_note.up.sql",
                "ALTER TABLE existing ADD COLUMN note text;\n",
            ),
            (
                "000003_fresh.up.sql",
                "CREATE TABLE fresh (id int PRIMARY KEY);\nINSERT INTO existing VALUES (2);\n",
            ),
            (
                "000004_concurrent.up.sql",
                "CREATE INDEX CONCURRENTLY existing_id ON existing (id);\n",
            ),
        ],
    )
    .await;
    let before = live(&db).await;
    let (view, r) = rehearse(&console).await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    assert!(r.ok && r.error.is_none(), "{r:?}");
    assert_eq!(r.copied_from, CopiedFrom::Dump);
    assert!(
        r.scratch.starts_with(&format!("{}_rehearse_", db.name)),
        "{}",
        r.scratch
    );
    let seen: Vec<(u64, &str, bool)> = r
        .steps
        .iter()
        .map(|s| (s.version, s.name.as_str(), s.ok))
        .collect();
    assert_eq!(
        seen,
        vec![
            (2, "add_note", true),
            (3, "fresh", true),
            (4, "concurrent", true)
        ]
    );
    assert_eq!(
        r.steps[0].locks,
        vec![lock("existing", "AccessExclusiveLock")]
    );
    assert_eq!(
        r.steps[1].locks,
        vec![lock("existing", "RowExclusiveLock")],
        "the new table is not an existing one"
    );
    assert_eq!(r.steps[0].locks_unknown, None);
    assert!(r.steps[2].locks.is_empty());
    assert_eq!(
        r.steps[2].locks_unknown.as_deref(),
        Some("The file cannot run inside a transaction (SQLSTATE 25001, e.g. CREATE INDEX CONCURRENTLY), so it ran on its own and its locks could not be read.")
    );
    let changes: Vec<(Change, &str, &str)> = r
        .schema_changes
        .iter()
        .map(|c| (c.change, c.kind.as_str(), c.name.as_str()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (Change::Added, "column", "public.existing.note"),
            (Change::Added, "column", "public.fresh.id"),
            (Change::Added, "constraint", "public.fresh.fresh_pkey"),
            (Change::Added, "index", "public.existing_id"),
            (Change::Added, "index", "public.fresh_pkey"),
            (Change::Added, "table", "public.fresh"),
        ]
    );
    assert_eq!(
        view.result.as_deref(),
        Some(format!(
            "Rehearsed 3 migrations on a scratch copy in {} ms: every file ran, 6 schema changes. The copy \"{}\" was dropped and the live database was not changed.",
            r.total_ms, r.scratch
        ).as_str())
    );
    assert_eq!(live(&db).await, before, "the live database is unchanged");
    assert_eq!(
        scratches(&db).await,
        Vec::<String>::new(),
        "no scratch database is left"
    );
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["copied_from"], "dump");
    assert_eq!(json["steps"][0]["locks"][0]["mode"], "AccessExclusiveLock");
    assert!(json["total_ms"].is_u64() && json["steps"][0]["duration_ms"].is_u64());
}

#[tokio::test]
async fn a_failing_file_is_reported_with_its_line_and_nothing_is_left_or_changed() {
    let db = TestDb::create().await;
    let console = at_version_1(
        &db,
        &[
            ("000002_ok.up.sql", "CREATE TABLE two (id int);\n"),
            (
                "000003_bad.up.sql",
                "CREATE TABLE three (id int);\nCREATE TABLE b (id intt);\n",
            ),
            ("000004_never.up.sql", "CREATE TABLE four (id int);\n"),
        ],
    )
    .await;
    let before = live(&db).await;
    let (view, r) = rehearse(&console).await;
    assert_eq!(view.status, JobStatus::Failed);
    assert!(!r.ok);
    assert_eq!(r.steps.len(), 2, "up stops at the failing file");
    let bad = &r.steps[1];
    assert_eq!(
        (bad.version, bad.ok, bad.line, bad.column),
        (3, false, Some(2), Some(20))
    );
    let error = "migration failed: type \"intt\" does not exist (column 20) in line 2: CREATE TABLE three (id int);\nCREATE TABLE b (id intt);\n (details: ERROR: type \"intt\" does not exist (SQLSTATE 42704))";
    assert_eq!(bad.error.as_deref(), Some(error));
    assert_eq!(
        view.result.as_deref(),
        Some(format!(
            "Rehearsal: version 3 (bad) failed at line 2, column 20: {error} (1 file ran before it). The scratch copy \"{}\" was dropped and the live database was not changed: fix the file before running up.",
            r.scratch
        ).as_str())
    );
    let failure = view.failure.expect("the failing file is shown");
    assert_eq!(
        (failure.file.as_str(), failure.line),
        ("000003_bad.up.sql", Some(2))
    );
    let added: Vec<&str> = r.schema_changes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        added,
        vec!["public.two.id", "public.two"],
        "the failed file left nothing"
    );
    assert_eq!(live(&db).await, before);
    assert_eq!(scratches(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_cancelled_rehearsal_drops_its_scratch_mid_file() {
    let db = TestDb::create().await;
    let console = at_version_1(
        &db,
        &[(
            "000002_slow.up.sql",
            "SELECT pg_sleep(30);\nCREATE TABLE slow (id int);\n",
        )],
    )
    .await;
    let before = live(&db).await;
    let job = console
        .start_rehearsal(None, None, "test")
        .await
        .expect("starts");
    let started = std::time::Instant::now();
    while !job
        .view()
        .lines
        .iter()
        .any(|l| l.text.starts_with("Rehearsing 2"))
    {
        assert!(started.elapsed().as_secs() < 30, "{:?}", job.view().lines);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        scratches(&db).await.len(),
        1,
        "the scratch exists while it runs"
    );
    job.cancel();
    let view = job.follow(|_| {}).await;
    assert!(
        started.elapsed().as_secs() < 20,
        "the sleeping file was cut short"
    );
    assert_eq!(view.status, JobStatus::Cancelled);
    let Some(JobOutput::Rehearsal(r)) = view.output else {
        panic!("no output")
    };
    assert_eq!(
        view.result.as_deref(),
        Some(format!("Cancelled: the rehearsal stopped and its scratch database \"{}\" was dropped; the live database was not changed.", r.scratch).as_str())
    );
    assert_eq!(live(&db).await, before);
    assert_eq!(scratches(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_rehearsal_from_a_backup_restores_the_archive_and_nothing_pending_says_so() {
    let db = TestDb::create().await;
    let console = at_version_1(
        &db,
        &[("000002_two.up.sql", "CREATE TABLE two (id int);\n")],
    )
    .await;
    let (_, archive) = ops::testing::full_backup(&console).await;
    let view = console
        .start_rehearsal(Some((&archive).into()), None, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    let Some(JobOutput::Rehearsal(r)) = view.output else {
        panic!("no output")
    };
    assert_eq!(r.copied_from, CopiedFrom::Archive(archive.clone()));
    assert_eq!(
        r.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(
        serde_json::to_value(&r).expect("json")["copied_from"],
        archive.as_str()
    );
    // Once applied for real, a rehearsal finds nothing to do.
    let up = console
        .start_migration(Op::Up(None), "test")
        .await
        .expect("up")
        .follow(|_| {})
        .await;
    assert_eq!(up.status, JobStatus::Succeeded);
    let (view, r) = rehearse(&console).await;
    assert!(r.steps.is_empty() && r.schema_changes.is_empty() && r.ok);
    assert_eq!(
        view.result.as_deref(),
        Some(format!("Nothing to rehearse: no migration is pending. The scratch copy \"{}\" was dropped and the live database was not changed.", r.scratch).as_str())
    );
    assert_eq!(scratches(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_scratch_left_by_a_gone_process_is_dropped_by_the_next_console() {
    let db = TestDb::create().await;
    let console = at_version_1(&db, &[]).await;
    let gone = {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    };
    let host = ops::joblock::hostname();
    let left = format!("{}_rehearse_20200101_000000", db.name);
    let alive = format!("{}_rehearse_20200101_000001", db.name);
    let mut c = connect(&db).await;
    for (name, pid) in [(&left, gone), (&alive, std::process::id())] {
        sqlx::Executor::execute(&mut c, format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("create");
        // The marker a rehearsal of this console writes (tagged with its key).
        let mark = ops::migrate::rehearse::scratch::Marker {
            of: db.name.clone(),
            pid,
            host: host.clone(),
        }
        .comment_on(console.seal(), name);
        sqlx::Executor::execute(&mut c, mark.as_str())
            .await
            .expect("mark");
    }
    // Only what concerns this database: any console may also sweep job roles that other
    // tests on the same server left.
    let done: Vec<String> = console
        .recover_interrupted_work()
        .await
        .into_iter()
        .filter(|l| l.contains(&db.name))
        .collect();
    assert_eq!(
        done,
        vec![format!("Dropped the scratch database \"{left}\" left by a rehearsal that was stopped (process {gone} is gone).")]
    );
    assert_eq!(
        scratches(&db).await,
        vec![alive.clone()],
        "a running rehearsal's copy stays"
    );
    sqlx::Executor::execute(&mut c, format!("DROP DATABASE \"{alive}\"").as_str())
        .await
        .expect("drop");
}
