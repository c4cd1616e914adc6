//! golang-migrate's contract, rule by rule, against a real PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ops::migrate::golang::lock;
use ops::migrate::status::{status, State};
use ops::migrate::{MigrateError, Migrator, Op, Source};
use ops::testing::{Folder, TestDb};
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

/// The engine over a test's folder.
trait Migrate {
    fn migrator(&self, db: &TestDb) -> Migrator;
}

impl Migrate for Folder {
    fn migrator(&self, db: &TestDb) -> Migrator {
        Migrator::new(
            Source::folder(&self.0).expect("source"),
            db.database_url(),
            "test",
        )
    }
}

async fn run(m: &Migrator, op: Op) -> Result<ops::migrate::RunReport, MigrateError> {
    m.run(op, &|_| {}, &CancellationToken::new()).await
}

async fn version(db: &TestDb) -> Vec<(i64, bool)> {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query_as("SELECT version, dirty FROM schema_migrations")
        .fetch_all(&mut c)
        .await
        .expect("read")
}

async fn tables(db: &TestDb) -> Vec<String> {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1")
        .fetch_all(&mut c)
        .await
        .expect("tables")
}

fn gapped() -> Folder {
    Folder::new(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "20_b.up.sql",
            "CREATE TABLE b (id int);\nCREATE TABLE b2 (id int);",
        ),
        ("20_b.down.sql", "DROP TABLE b2; DROP TABLE b;"),
        ("30_c.up.sql", "CREATE TABLE c (id int);"),
        ("30_c.down.sql", "DROP TABLE c;"),
        ("notes.txt", "ignored"),
    ])
}

#[tokio::test]
async fn gaps_up_down_goto_and_no_change() {
    let db = TestDb::create().await;
    let f = gapped();
    let m = f.migrator(&db);
    let r = run(&m, Op::Up(None)).await.expect("up");
    assert_eq!((r.from, r.to, r.steps.len()), (-1, 30, 3));
    assert_eq!(version(&db).await, [(30, false)]);
    assert_eq!(tables(&db).await, ["a", "b", "b2", "c"]);
    let r = run(&m, Op::Up(None)).await.expect("no change is success");
    assert!(r.steps.is_empty() && r.summary().starts_with("no change"));

    run(&m, Op::Down(None)).await.expect("down one");
    assert_eq!(version(&db).await, [(20, false)]);
    run(&m, Op::Goto(1)).await.expect("goto 1");
    assert_eq!(version(&db).await, [(1, false)]);
    assert_eq!(tables(&db).await, ["a"]);
    run(&m, Op::Up(Some(1))).await.expect("up 1");
    assert_eq!(version(&db).await, [(20, false)]);
    let e = run(&m, Op::Up(Some(5))).await.expect_err("short");
    assert_eq!(e.to_string(), "limit 4 short");
    assert_eq!(version(&db).await, [(30, false)]);
    run(&m, Op::DownAll).await.expect("down all");
    assert_eq!(
        version(&db).await,
        Vec::<(i64, bool)>::new(),
        "nil version, clean: the table is empty"
    );
    assert!(tables(&db).await.is_empty());
    let e = run(&m, Op::Goto(25)).await.expect_err("no such version");
    assert_eq!(
        e.to_string(),
        "no migration found for version 25: read down for version 25 .: file does not exist"
    );
}

#[tokio::test]
async fn a_failed_up_leaves_the_version_dirty_and_everything_refuses() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_bad.up.sql",
            "CREATE TABLE ok (id int);\nSELECT * FROM nope;",
        ),
        ("2_bad.down.sql", "DROP TABLE ok;"),
    ]);
    let m = f.migrator(&db);
    let e = run(&m, Op::Up(None)).await.expect_err("fails");
    let body = "CREATE TABLE ok (id int);\nSELECT * FROM nope;";
    assert_eq!(
        e.to_string(),
        format!(
            "migration failed: relation \"nope\" does not exist (column 15) in line 2: {body} \
             (details: ERROR: relation \"nope\" does not exist (SQLSTATE 42P01))"
        )
    );
    assert!(matches!(
        e,
        MigrateError::Failed {
            version: 2,
            line: Some(2),
            column: Some(15),
            ..
        }
    ));
    assert_eq!(version(&db).await, [(2, true)]);
    assert_eq!(
        tables(&db).await,
        ["a"],
        "the file ran as one transaction: nothing of it stayed"
    );
    for op in [Op::Up(None), Op::Down(None), Op::Goto(1), Op::Up(Some(1))] {
        assert_eq!(
            run(&m, op).await.expect_err("dirty").to_string(),
            "Dirty database version 2. Fix and force version."
        );
    }
    run(&m, Op::Force(1)).await.expect("force");
    assert_eq!(version(&db).await, [(1, false)]);
    run(&m, Op::Force(-1)).await.expect("force -1");
    assert_eq!(
        version(&db).await,
        Vec::<(i64, bool)>::new(),
        "force -1 empties the table"
    );
    assert_eq!(
        run(&m, Op::Force(-2))
            .await
            .expect_err("invalid")
            .to_string(),
        "version must be >= -1"
    );
}

#[tokio::test]
async fn a_failed_down_leaves_the_previous_version_dirty() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("5_b.up.sql", "CREATE TABLE b (id int);"),
        ("5_b.down.sql", "DROP TABLE nope;"),
    ]);
    let m = f.migrator(&db);
    run(&m, Op::Up(None)).await.expect("up");
    let e = run(&m, Op::Down(None)).await.expect_err("down fails");
    // PostgreSQL gives no position here: the pgx/v5 driver says column 0 of line 1.
    assert_eq!(
        e.to_string(),
        "migration failed: table \"nope\" does not exist (column 0) in line 1: DROP TABLE nope; \
         (details: ERROR: table \"nope\" does not exist (SQLSTATE 42P01))"
    );
    assert!(matches!(
        e,
        MigrateError::Failed {
            line: None,
            column: None,
            ..
        }
    ));
    assert_eq!(version(&db).await, [(1, true)]);
}

#[tokio::test]
async fn a_failed_down_of_the_first_migration_writes_nil_dirty() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE nope;"),
    ]);
    let m = f.migrator(&db);
    run(&m, Op::Up(None)).await.expect("up");
    run(&m, Op::Down(None)).await.expect_err("fails");
    assert_eq!(version(&db).await, [(-1, true)]);
    assert_eq!(
        run(&m, Op::Up(None)).await.expect_err("dirty").to_string(),
        "Dirty database version -1. Fix and force version."
    );
}

#[tokio::test]
async fn a_missing_direction_is_an_empty_migration() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("2_b.up.sql", "CREATE TABLE b (id int);"),
    ]);
    let m = f.migrator(&db);
    run(&m, Op::Up(None)).await.expect("up");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let log = move |l: String| sink.lock().expect("lock").push(l);
    let r = m
        .run(Op::Down(None), &log, &CancellationToken::new())
        .await
        .expect("down");
    assert!(r.steps[0].empty);
    assert_eq!(version(&db).await, [(1, false)], "the version moved");
    assert_eq!(tables(&db).await, ["a", "b"], "no SQL ran");
    assert!(lines
        .lock()
        .expect("lock")
        .iter()
        .any(|l| l.contains("has no .down.sql file")));
}

#[tokio::test]
async fn an_unknown_database_version_is_reported() {
    let db = TestDb::create().await;
    let f = gapped();
    let m = f.migrator(&db);
    run(&m, Op::Force(99)).await.expect("force");
    assert_eq!(
        run(&m, Op::Up(None))
            .await
            .expect_err("unknown")
            .to_string(),
        "no migration found for version 99: read down for version 99 .: file does not exist"
    );
    let s = status(&m).await.expect("status");
    assert_eq!(
        s.migrations.last().map(|e| e.state),
        Some(State::MissingFile)
    );
}

#[tokio::test]
async fn create_index_concurrently_alone_in_its_file_works() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("1_t.up.sql", "CREATE TABLE t (id int);"),
        ("2_idx.up.sql", "CREATE INDEX CONCURRENTLY t_id ON t (id);"),
    ]);
    run(&f.migrator(&db), Op::Up(None)).await.expect("up");
    assert_eq!(version(&db).await, [(2, false)]);
}

#[tokio::test]
async fn two_runs_at_once_apply_each_file_exactly_once() {
    let db = TestDb::create().await;
    let mut files = vec![(
        "0_log.up.sql".to_string(),
        "CREATE TABLE applied (version int);".to_string(),
    )];
    for v in 1..=12 {
        files.push((
            format!("{v}_m.up.sql"),
            format!("INSERT INTO applied VALUES ({v}); SELECT pg_sleep(0.02);"),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let f = Folder::new(&refs);
    let (a, b) = (f.migrator(&db), f.migrator(&db));
    let (ra, rb) = tokio::join!(run(&a, Op::Up(None)), run(&b, Op::Up(None)));
    ra.expect("first run");
    rb.expect("second run");
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let counts: Vec<(i32, i64)> =
        sqlx::query_as("SELECT version, count(*) FROM applied GROUP BY version ORDER BY version")
            .fetch_all(&mut c)
            .await
            .expect("read");
    assert_eq!(counts.len(), 12);
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
    assert_eq!(version(&db).await, [(12, false)]);
}

#[tokio::test]
async fn a_golang_migrate_lock_holder_makes_us_wait_then_fail_cleanly() {
    let db = TestDb::create().await;
    let f = gapped();
    let name = db.name.clone();
    for database in [format!("/{name}"), name.clone()] {
        let mut holder = PgConnection::connect(&db.url).await.expect("connect");
        let id = lock::lock_id(&database, "public", "schema_migrations");
        holder
            .execute("SET application_name = 'holomush-server'")
            .await
            .expect("name");
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(id)
            .execute(&mut holder)
            .await
            .expect("lock");
        let mut m = f.migrator(&db);
        m.lock_timeout = Duration::from_millis(1500);
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let log = move |l: String| sink.lock().expect("lock").push(l);
        let e = m
            .run(Op::Up(None), &log, &CancellationToken::new())
            .await
            .expect_err("times out");
        let text = e.to_string();
        assert!(
            text.starts_with("timeout: can't acquire database lock"),
            "{text}"
        );
        assert!(
            text.contains("holomush-server"),
            "says who holds it: {text}"
        );
        assert!(lines
            .lock()
            .expect("lock")
            .iter()
            .any(|l| l.starts_with("Waiting for the migration lock")));
        assert!(tables(&db).await.is_empty(), "nothing changed");
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(id)
            .execute(&mut holder)
            .await
            .expect("unlock");
        drop(holder);
    }
    // With the holder gone, the same run goes through and leaves no lock behind.
    run(&f.migrator(&db), Op::Up(None)).await.expect("up");
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    // This database's locks only: other tests run beside this one on the same server.
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&mut c)
    .await
    .expect("locks");
    assert_eq!(held, 0);
}

#[tokio::test]
async fn status_joins_history_and_flags_skipped_and_drift() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("3_c.up.sql", "CREATE TABLE c (id int);"),
    ]);
    run(&f.migrator(&db), Op::Up(None)).await.expect("up");
    std::fs::write(f.0.join("2_b.up.sql"), "CREATE TABLE b (id int);").expect("late file");
    std::fs::write(f.0.join("1_a.up.sql"), "CREATE TABLE a (id bigint);").expect("edit");
    std::fs::write(f.0.join("4_d.up.sql"), "CREATE TABLE d (id int);").expect("new");
    let s = status(&f.migrator(&db)).await.expect("status");
    assert_eq!((s.version, s.dirty, s.latest), (Some(3), false, Some(4)));
    let states: Vec<_> = s
        .migrations
        .iter()
        .map(|e| (e.version, e.state, e.drift))
        .collect();
    assert_eq!(
        states,
        [
            (1, State::Applied, true),
            (2, State::Skipped, false),
            (3, State::Applied, false),
            (4, State::Pending, false)
        ]
    );
    assert_eq!(s.migrations[0].applied_by.as_deref(), Some("test"));
    assert!(s.migrations[2].applied_at.is_some() && s.migrations[2].duration_ms.is_some());
    assert_eq!(s.version_line(), "3");
    let json = serde_json::to_value(&s).expect("json");
    assert_eq!(json["migrations"][1]["state"], "skipped");
    assert_eq!(json["version"], 3);
    assert!(s
        .warnings()
        .iter()
        .any(|w| w.contains("golang-migrate will never run it")));
}

#[tokio::test]
async fn versions_applied_elsewhere_show_as_applied_without_a_record() {
    let db = TestDb::create().await;
    let f = gapped();
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute("CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (20, false);")
        .await
        .expect("as a HoloMUSH server leaves it");
    let s = status(&f.migrator(&db)).await.expect("status");
    let states: Vec<_> = s
        .migrations
        .iter()
        .map(|e| (e.version, e.state, e.applied_by.clone()))
        .collect();
    assert_eq!(
        states,
        [
            (1, State::Applied, None),
            (20, State::Applied, None),
            (30, State::Pending, None)
        ]
    );
}

#[tokio::test]
async fn the_embedded_migrations_go_up_and_all_the_way_down() {
    let db = TestDb::create().await;
    let m = Migrator::new(
        Source::embedded().expect("embedded"),
        db.database_url(),
        "test",
    );
    let r = run(&m, Op::Up(None)).await.expect("up");
    assert_eq!(r.to, m.source.latest().map_or(-1, |v| v as i64));
    run(&m, Op::DownAll).await.expect("down");
    assert!(tables(&db).await.is_empty());
    run(&m, Op::Up(None)).await.expect("up again");
}

#[tokio::test]
async fn bootstrap_checks_the_objects_then_marks_the_latest_version() {
    let db = TestDb::create().await;
    let source = Source::embedded().expect("embedded");
    let latest = source.latest().expect("migrations") as i64;
    let m = Migrator::new(source.clone(), db.database_url(), "test");
    let e = ops::migrate::bootstrap::bootstrap(&m)
        .await
        .expect_err("an empty database is refused");
    assert!(
        e.to_string().starts_with("bootstrap aborted: these objects of the HoloMUSH schema are missing: extension pg_trgm, table players"),
        "{e}"
    );
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut c)
        .await
        .expect("q");
    assert!(!exists, "nothing was changed");

    // An older HoloMUSH built the schema without golang-migrate.
    for mig in source.iter() {
        c.execute(mig.up.as_ref().expect("up").body.as_str())
            .await
            .expect("old-style schema");
    }
    let report = ops::migrate::bootstrap::bootstrap(&m)
        .await
        .expect("bootstrap");
    assert_eq!(report.version, latest);
    assert!(
        report.checked.len() >= 10 && report.checked[0] == "extension pg_trgm",
        "{:?}",
        report.checked
    );
    assert_eq!(version(&db).await, [(latest, false)]);
    assert!(run(&m, Op::Up(None))
        .await
        .expect("nothing pending")
        .steps
        .is_empty());
}

#[tokio::test]
async fn a_dirty_status_carries_the_failure_that_caused_it() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("2_bad.up.sql", "SELECT 1;\nSELECT * FROM nope;"),
    ]);
    let m = f.migrator(&db);
    run(&m, Op::Up(None)).await.expect_err("fails");
    let s = status(&m).await.expect("status");
    let failure = s.last_failure.expect("the cause of the dirty flag");
    assert_eq!(
        (failure.file.as_str(), failure.line, failure.column),
        ("2_bad.up.sql", Some(2), Some(15))
    );
    assert!(failure
        .error
        .unwrap_or_default()
        .starts_with("migration failed: relation \"nope\" does not exist"));
    run(&m, Op::Force(1)).await.expect("force");
    assert!(
        status(&m).await.expect("status").last_failure.is_none(),
        "clean again: no cause shown"
    );
}

/// golang-migrate v4.19.1 `migrate.go`: `readDown` sends `os.ErrNotExist` for `down N` at no
/// version, `readUp` for `up N` at the last one, and `First()` its `*fs.PathError` when the
/// source has no migration; `Steps(0)` is `ErrNoChange` even on a dirty database.
#[tokio::test]
async fn file_does_not_exist_where_golang_migrate_says_it() {
    let db = TestDb::create().await;
    let f = gapped();
    let m = f.migrator(&db);
    for op in [Op::Down(None), Op::Down(Some(2))] {
        let e = run(&m, op).await.expect_err("nothing to roll back");
        assert!(matches!(e, MigrateError::NotExist(_)), "{e:?}");
        assert_eq!(e.to_string(), "file does not exist");
    }
    let r = run(&m, Op::DownAll).await.expect("down all at no version");
    assert!(r.steps.is_empty(), "no change");
    run(&m, Op::Up(None)).await.expect("up");
    let e = run(&m, Op::Up(Some(1)))
        .await
        .expect_err("at the last version");
    assert_eq!(e.to_string(), "file does not exist");
    assert_eq!(version(&db).await, [(30, false)]);
    let r = run(&m, Op::Up(None)).await.expect("no change");
    assert!(r.steps.is_empty());

    let empty = ops::testing::Folder::new(&[("README.md", "not a migration")]);
    let m = empty.migrator(&db);
    let e = run(&m, Op::Up(None))
        .await
        .expect_err("the database's version has no file");
    assert_eq!(
        e.to_string(),
        "no migration found for version 30: read down for version 30 .: file does not exist"
    );
    run(&m, Op::Force(-1)).await.expect("force -1");
    let e = run(&m, Op::Up(None))
        .await
        .expect_err("no migration at all");
    assert_eq!(e.to_string(), "first .: file does not exist");

    run(&m, Op::Force(3)).await.expect("force");
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute("UPDATE schema_migrations SET dirty = true")
        .await
        .expect("dirty");
    let r = run(&f.migrator(&db), Op::Up(Some(0)))
        .await
        .expect("Steps(0) is no change");
    assert!(r.steps.is_empty());
}
