//! goose's contract, rule by rule, against a real PostgreSQL: its files and annotations, its
//! ledger rows, its lock, its transaction rules and error texts; and which ledgers a database
//! holds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ops::migrate::goose::lock::{Retry, LOCK_ID};
use ops::migrate::status::{status, State};
use ops::migrate::{world, MigrateError, Migrator, Op, Source};
use ops::model::{Ledger, MigrationKind, MigrationWorld};
use ops::testing::{Folder, TestDb};
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

/// The engine over a test's folder.
trait Migrate {
    fn migrator(&self, db: &TestDb) -> Migrator;
}

impl Migrate for Folder {
    fn migrator(&self, db: &TestDb) -> Migrator {
        let mut m = Migrator::new(
            Source::folder(&self.0).expect("source"),
            db.database_url(),
            "test",
        );
        m.goose_lock = Retry {
            period: Duration::from_millis(200),
            retries: 50,
        };
        m
    }
}

const PLAYERS: &str = "-- +goose Up
CREATE TABLE players (id int PRIMARY KEY, name text); -- the first table
-- +goose StatementBegin
DO $$
BEGIN
  INSERT INTO players VALUES (1, 'wizard');
  INSERT INTO players VALUES (2, 'bard');
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE players;
";

const FLAGS: &str = "-- +goose Up
ALTER TABLE players ADD COLUMN flags int;

-- +goose Down
ALTER TABLE players DROP COLUMN flags;
";

const INDEX: &str = "-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY players_name ON players (name);

-- +goose Down
DROP INDEX CONCURRENTLY players_name;
";

const ROOMS: &str = "-- +goose Up
CREATE TABLE rooms (id int);
-- +goose Down
DROP TABLE rooms;
";

/// Versions 1, 2, then 30 and 31: HoloMUSH's gap.
fn gapped() -> Folder {
    Folder::new(&[
        ("000001_players.sql", PLAYERS),
        ("000002_flags.sql", FLAGS),
        ("000030_players_name.sql", INDEX),
        ("000031_rooms.sql", ROOMS),
        ("README.md", "not a migration"),
    ])
}

async fn run(m: &Migrator, op: Op) -> Result<ops::migrate::RunReport, MigrateError> {
    m.run(op, &|_| {}, &CancellationToken::new()).await
}

async fn connect(db: &TestDb) -> PgConnection {
    PgConnection::connect(&db.url).await.expect("connect")
}

/// goose_db_version's rows in id order.
async fn ledger(db: &TestDb) -> Vec<(i64, bool)> {
    sqlx::query_as("SELECT version_id, is_applied FROM goose_db_version ORDER BY id")
        .fetch_all(&mut connect(db).await)
        .await
        .expect("ledger")
}

async fn tables(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'goose_db_version' ORDER BY 1")
        .fetch_all(&mut connect(db).await)
        .await
        .expect("tables")
}

async fn has_index(db: &TestDb) -> bool {
    sqlx::query_scalar("SELECT to_regclass('players_name') IS NOT NULL")
        .fetch_one(&mut connect(db).await)
        .await
        .expect("index")
}

fn rows(versions: &[i64]) -> Vec<(i64, bool)> {
    versions.iter().map(|v| (*v, true)).collect()
}

#[tokio::test]
async fn up_down_and_goto_write_the_ledger_as_goose_does() {
    let db = TestDb::create().await;
    let f = gapped();
    let m = f.migrator(&db);
    assert_eq!(m.source.ledger, Ledger::Goose);
    assert_eq!(m.source.versions(), [1, 2, 30, 31]);

    let r = run(&m, Op::Up(Some(2))).await.expect("up 2");
    assert_eq!((r.from, r.to, r.steps.len()), (-1, 2, 2));
    assert_eq!(
        ledger(&db).await,
        rows(&[0, 1, 2]),
        "version 0 on creation, then one row per up"
    );
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM players ORDER BY id")
        .fetch_all(&mut connect(&db).await)
        .await
        .expect("players");
    assert_eq!(
        names,
        ["wizard", "bard"],
        "the DO block ran as one statement"
    );

    let r = run(&m, Op::Up(None)).await.expect("up");
    assert_eq!((r.from, r.to, r.steps.len()), (2, 31, 2));
    assert!(
        has_index(&db).await,
        "CREATE INDEX CONCURRENTLY ran outside a transaction"
    );
    assert_eq!(ledger(&db).await, rows(&[0, 1, 2, 30, 31]));
    let r = run(&m, Op::Up(None)).await.expect("nothing to do");
    assert!(r.steps.is_empty() && r.summary() == "no change: the database is at 31");

    run(&m, Op::Down(None)).await.expect("down");
    assert_eq!(
        ledger(&db).await,
        rows(&[0, 1, 2, 30]),
        "down deletes that version's row"
    );
    run(&m, Op::Down(Some(2))).await.expect("down 2");
    assert_eq!(ledger(&db).await, rows(&[0, 1]));
    assert!(!has_index(&db).await);

    run(&m, Op::Goto(30)).await.expect("goto 30 is up-to");
    assert_eq!(ledger(&db).await, rows(&[0, 1, 2, 30]));
    run(&m, Op::Goto(1)).await.expect("goto 1 is down-to");
    assert_eq!(ledger(&db).await, rows(&[0, 1]));
    assert_eq!(tables(&db).await, ["players"]);

    run(&m, Op::DownAll).await.expect("down --all is down-to 0");
    assert_eq!(ledger(&db).await, rows(&[0]));
    assert!(tables(&db).await.is_empty());
    // goose's `Provider.Down` with only version 0 recorded: `ErrNoNextVersion`.
    let e = run(&m, Op::Down(None))
        .await
        .expect_err("nothing to roll back");
    assert_eq!(e.to_string(), "no next version found");
    assert_eq!(
        ledger(&db).await,
        rows(&[0]),
        "version 0 is never rolled back"
    );

    let e = run(&m, Op::Force(2)).await.expect_err("no force in goose");
    assert_eq!(
        e.to_string(),
        "goose has no force: its ledger lists each applied version and has no dirty flag to clear; use up, down or goto instead (nothing was changed)."
    );
}

#[tokio::test]
async fn a_failing_file_rolls_back_and_says_gooses_words() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("000001_players.sql", PLAYERS),
        (
            "000002_bad.sql",
            "-- +goose Up\nCREATE TABLE half (id int);\nSELECT nope FROM players;\n-- +goose Down\nDROP TABLE half;\n",
        ),
    ]);
    let m = f.migrator(&db);
    let e = run(&m, Op::Up(None)).await.expect_err("fails");
    assert_eq!(
        e.to_string(),
        "partial migration error (type:sql,version:2): ERROR: column \"nope\" does not exist (SQLSTATE 42703)"
    );
    assert_eq!(
        ledger(&db).await,
        rows(&[0, 1]),
        "version 1 stays, 2 is not recorded"
    );
    assert_eq!(
        tables(&db).await,
        ["players"],
        "the file's transaction rolled back"
    );
    let failed: Vec<(i64, bool, Option<String>)> = sqlx::query_as(
        "SELECT version, success, error FROM holomush_admin.migration_history ORDER BY id",
    )
    .fetch_all(&mut connect(&db).await)
    .await
    .expect("history");
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[1].0, 2);
    assert!(!failed[1].1);

    let unparsable = Folder::new(&[
        ("000001_players.sql", PLAYERS),
        (
            "000002_open.sql",
            "-- +goose Up\n-- +goose StatementBegin\nDO $$ BEGIN PERFORM 1; END $$;\n",
        ),
    ]);
    let e = run(&unparsable.migrator(&db), Op::Up(None))
        .await
        .expect_err("parse error");
    assert_eq!(
        e.to_string(),
        "failed to prepare migration (type:sql,version:2): failed to parse 000002_open.sql: failed to parse migration: missing '-- +goose StatementEnd' annotation"
    );
}

#[tokio::test]
async fn go_migrations_are_listed_and_stop_up_with_a_sentence() {
    let db = TestDb::create().await;
    let f = Folder::new(&[
        ("000001_players.sql", PLAYERS),
        ("000002_flags.sql", FLAGS),
        ("000040_backfill.go", "package migrations\n"),
        ("000041_rooms.sql", ROOMS),
    ]);
    let m = f.migrator(&db);
    let sentence = "Version 40 (000040_backfill.go) is a Go migration, which only the holomush binary runs: start holomush (it migrates on start) to apply it, then run the console's migrations again.";
    let e = run(&m, Op::Up(None))
        .await
        .expect_err("stops at the Go file");
    assert_eq!(e.to_string(), sentence);
    assert_eq!(
        ledger(&db).await,
        rows(&[0, 1, 2]),
        "everything before it was applied"
    );

    let s = status(&m).await.expect("status");
    assert_eq!(s.ledger, Ledger::Goose);
    assert_eq!(s.world, Some(MigrationWorld::GooseOnly));
    assert_eq!(s.version, Some(2));
    let go = s
        .migrations
        .iter()
        .find(|e| e.version == 40)
        .expect("40 listed");
    assert_eq!((go.state, go.kind), (State::Pending, MigrationKind::Go));
    assert_eq!(go.note.as_deref(), Some(sentence));
    assert!(s.warnings().contains(&sentence.to_string()));
    let json = serde_json::to_value(&s).expect("json");
    assert_eq!(json["ledger"], "goose");
    assert_eq!(json["world"], "goose-only");
    assert_eq!(json["migrations"][2]["kind"], "go");
    assert_eq!(json["migrations"][2]["state"], "pending");
    assert_eq!(json["migrations"][0]["kind"], "sql");
    assert_eq!(json["migrations"][0]["state"], "applied");
    assert_eq!(json["migrations"][0]["applied_by"], "test");
}

#[tokio::test]
async fn a_missing_lower_version_is_refused_not_run() {
    let db = TestDb::create().await;
    let f = gapped();
    let m = f.migrator(&db);
    run(&m, Op::Up(None)).await.expect("up");
    run(&m, Op::Down(None)).await.expect("down 31");
    // Version 2 vanishes from the ledger, as if another branch's files had been applied.
    connect(&db)
        .await
        .execute("DELETE FROM goose_db_version WHERE version_id = 2")
        .await
        .expect("delete");
    let e = run(&m, Op::Up(None)).await.expect_err("missing");
    assert_eq!(
        e.to_string(),
        "detected 1 missing (out-of-order) migration lower than database version (30): version 2"
    );
    assert_eq!(ledger(&db).await, rows(&[0, 1, 30]), "nothing ran");
    let s = status(&m).await.expect("status");
    let two = s.migrations.iter().find(|e| e.version == 2).expect("2");
    assert_eq!(two.state, State::Skipped);
}

#[tokio::test]
async fn drift_is_found_by_sha256_for_a_goose_file() {
    let db = TestDb::create().await;
    let f = gapped();
    let m = f.migrator(&db);
    run(&m, Op::Up(None)).await.expect("up");
    let s = status(&m).await.expect("status");
    assert!(s.migrations.iter().all(|e| !e.drift));
    std::fs::write(
        f.0.join("000031_rooms.sql"),
        ROOMS.replace("rooms (id int)", "rooms (id bigint)"),
    )
    .expect("edit");
    let s = status(&f.migrator(&db)).await.expect("status");
    let rooms = s.migrations.iter().find(|e| e.version == 31).expect("31");
    assert!(rooms.drift);
    assert!(s.warnings().contains(
        &"Migration 31 (rooms) changed after it was applied: its file no longer matches what ran."
            .to_string()
    ));
}

#[tokio::test]
async fn gooses_lock_makes_us_wait_then_we_proceed() {
    let db = TestDb::create().await;
    let f = gapped();
    let mut holder = connect(&db).await;
    holder
        .execute("SET application_name = 'holomush'")
        .await
        .expect("name");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(LOCK_ID)
        .execute(&mut holder)
        .await
        .expect("lock");

    // A short wait fails with goose's words and changes nothing.
    let mut short = f.migrator(&db);
    short.goose_lock = Retry {
        period: Duration::from_millis(100),
        retries: 2,
    };
    let e = run(&short, Op::Up(None)).await.expect_err("times out");
    let who = ops::migrate::advisory::holder(&mut connect(&db).await, LOCK_ID)
        .await
        .expect("a holder");
    assert_eq!(
        e.to_string(),
        format!("failed to initialize: failed to acquire lock: goose's lock {LOCK_ID} was held by {who} for 0 s; try again when that migration has finished.")
    );
    assert!(tables(&db).await.is_empty());

    let m = f.migrator(&db);
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = lines.clone();
    let task = tokio::spawn(async move {
        let log = move |l: String| seen.lock().expect("lines").push(l);
        m.run(Op::Up(None), &log, &CancellationToken::new()).await
    });
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(!task.is_finished(), "it waits while the lock is held");
    assert!(tables(&db).await.is_empty(), "nothing ran while waiting");
    assert!(
        lines
            .lock()
            .expect("lines")
            .iter()
            .any(|l| l.starts_with(&format!(
                "Waiting for goose's lock {LOCK_ID}, held by {who}"
            ))),
        "{:?}",
        lines.lock().expect("lines")
    );
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LOCK_ID)
        .execute(&mut holder)
        .await
        .expect("unlock");
    let r = task.await.expect("join").expect("proceeds once released");
    assert_eq!(r.to, 31);
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = ($1 & 4294967295)::oid
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(LOCK_ID)
    .fetch_one(&mut holder)
    .await
    .expect("locks");
    assert_eq!(left, 0, "the lock is released after the run");
    drop(holder);
}

const GOLANG_DDL: &str =
    "CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null)";

async fn detect(db: &TestDb) -> MigrationWorld {
    world::detect(&mut connect(db).await)
        .await
        .expect("detect")
        .world
}

#[tokio::test]
async fn each_world_is_detected_and_the_wrong_engine_refused() {
    let db = TestDb::create().await;
    let goose = gapped();
    let golang = Folder::new(&[
        ("000001_a.up.sql", "CREATE TABLE a (id int);"),
        ("000001_a.down.sql", "DROP TABLE a;"),
    ]);
    assert_eq!(detect(&db).await, MigrationWorld::Fresh);

    // golang-migrate only: goose will not start on it.
    let mut c = connect(&db).await;
    c.execute(GOLANG_DDL).await.expect("ddl");
    c.execute("INSERT INTO schema_migrations VALUES (7, false)")
        .await
        .expect("row");
    assert_eq!(detect(&db).await, MigrationWorld::GolangMigrateOnly);
    let e = run(&goose.migrator(&db), Op::Up(None))
        .await
        .expect_err("refused");
    assert_eq!(
        e.to_string(),
        format!("This database's migrations are recorded by golang-migrate (schema_migrations at version 7) and goose has not adopted them, but {} holds goose files: run the adopt step first, or point HOLOMUSH_MIGRATIONS_DIR at the golang-migrate migrations; nothing was changed.", goose.0.display())
    );

    // Both, not adopted: a zero-row goose table beside schema_migrations.
    c.execute(ops::migrate::goose::ledger::create_table_sql("goose_db_version").as_str())
        .await
        .expect("goose ddl");
    assert_eq!(detect(&db).await, MigrationWorld::BothNotAdopted);
    let e = run(&goose.migrator(&db), Op::Up(None))
        .await
        .expect_err("refused");
    assert!(e
        .to_string()
        .starts_with("This database's migrations are recorded by golang-migrate"));
    let s = status(&golang.migrator(&db)).await.expect("status");
    assert_eq!(s.world, Some(MigrationWorld::BothNotAdopted));
    assert_eq!(
        serde_json::to_value(&s).expect("json")["ledger"],
        "golang-migrate"
    );

    // Adopted: versions in goose_db_version, schema_migrations set aside.
    c.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true)")
        .await
        .expect("zero");
    c.execute("ALTER TABLE schema_migrations RENAME TO schema_migrations_pre_goose")
        .await
        .expect("rename");
    assert_eq!(detect(&db).await, MigrationWorld::Adopted);
    let e = run(&golang.migrator(&db), Op::Up(None))
        .await
        .expect_err("refused");
    assert_eq!(
        e.to_string(),
        format!("This database's migrations are recorded by goose (goose_db_version), but {} holds golang-migrate files: point HOLOMUSH_MIGRATIONS_DIR at HoloMUSH's goose migrations; nothing was changed.", golang.0.display())
    );
    run(&goose.migrator(&db), Op::Up(Some(1)))
        .await
        .expect("goose runs on an adopted database");

    // goose only.
    c.execute("DROP TABLE schema_migrations_pre_goose")
        .await
        .expect("drop");
    assert_eq!(detect(&db).await, MigrationWorld::GooseOnly);
    let report = ops::diagnose::doctor::run(&db.url).await;
    let step = report
        .steps
        .iter()
        .find(|s| s.id == ops::model::StepId::Migrations)
        .expect("migrations step");
    assert_eq!(
        step.message,
        "goose only: goose_db_version is the ledger. goose is at version 1."
    );
    drop(c);
}

#[tokio::test]
async fn a_folder_mixing_both_tools_is_refused() {
    let f = Folder::new(&[
        ("000001_a.up.sql", "CREATE TABLE a (id int);"),
        ("000001_a.down.sql", "DROP TABLE a;"),
        ("000002_b.sql", ROOMS),
    ]);
    let e = Source::folder(&f.0).expect_err("mixed");
    assert_eq!(
        e.to_string(),
        format!("{} mixes golang-migrate files (000001_a.down.sql) and goose files (000002_b.sql): keep one tool's migrations per folder and point HOLOMUSH_MIGRATIONS_DIR at it.", f.0.display())
    );
}
