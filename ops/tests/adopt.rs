//! The golang-migrate → goose cutover ("adopt") on real PostgreSQL, branch by branch as
//! HoloMUSH's first goose boot decides, under goose's lock, with its undo, its safety
//! backup, and its rehearsal on a scratch copy.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ops::migrate::goose::lock::{Retry, LOCK_ID};
use ops::migrate::{adopt, MigrateError, Migrator, Op, Source};
use ops::model::{AdoptCode, AdoptState, JobOutput, JobStatus, JobView};
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

/// A goose folder with gaps and a Go migration: versions 1, 2, 3, 5 (Go), 8.
const FILES: &[(&str, &str)] = &[
    (
        "00001_players.sql",
        "-- +goose Up\nCREATE TABLE IF NOT EXISTS players (id int PRIMARY KEY, name text);\n-- +goose Down\nDROP TABLE players;\n",
    ),
    (
        "00002_flags.sql",
        "-- +goose Up\nALTER TABLE players ADD COLUMN IF NOT EXISTS flags int;\n-- +goose Down\nALTER TABLE players DROP COLUMN flags;\n",
    ),
    (
        "00003_items.sql",
        "-- +goose Up\nCREATE TABLE IF NOT EXISTS items (id int);\n-- +goose Down\nDROP TABLE items;\n",
    ),
    (
        "00005_backfill.go",
        "package migrations\n\nfunc init() {}\n",
    ),
    (
        "00008_index.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY players_name ON players (name);\n-- +goose Down\nDROP INDEX CONCURRENTLY players_name;\n",
    ),
];

fn folder(db: &TestDb, extra: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{}-goose", db.name));
    std::fs::create_dir_all(&dir).expect("folder");
    for (name, body) in FILES.iter().chain(extra) {
        std::fs::write(dir.join(name), body).expect("write");
    }
    dir
}

fn migrator(db: &TestDb, dir: &Path) -> Migrator {
    let mut m = Migrator::new(
        Source::folder(dir).expect("source"),
        db.database_url(),
        "test",
    );
    m.goose_lock = Retry {
        period: Duration::from_millis(200),
        retries: 50,
    };
    m
}

async fn connect(db: &TestDb) -> PgConnection {
    PgConnection::connect(&db.url).await.expect("connect")
}

/// A database HoloMUSH migrated with golang-migrate: the tables of versions 1–3 and
/// `schema_migrations` holding `rows`.
async fn golang(db: &TestDb, rows: &[(i64, bool)]) {
    let mut c = connect(db).await;
    c.execute(
        "CREATE TABLE players (id int PRIMARY KEY, name text, flags int);
         CREATE TABLE items (id int);
         INSERT INTO players VALUES (1, 'wizard');
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);",
    )
    .await
    .expect("golang-migrate database");
    for (v, d) in rows {
        sqlx::query("INSERT INTO schema_migrations VALUES ($1, $2)")
            .bind(v)
            .bind(d)
            .execute(&mut c)
            .await
            .expect("row");
    }
}

/// Which ledger tables exist, and goose's rows in id order.
#[derive(Debug, PartialEq)]
struct Ledgers {
    golang: Option<Vec<(i64, bool)>>,
    pre_goose: Option<Vec<(i64, bool)>>,
    goose: Option<Vec<i64>>,
}

async fn ledgers(db: &TestDb) -> Ledgers {
    let mut c = connect(db).await;
    let golang = rows_of(
        &mut c,
        "schema_migrations",
        "SELECT version, dirty FROM schema_migrations ORDER BY version",
    )
    .await;
    let pre_goose = rows_of(
        &mut c,
        "schema_migrations_pre_goose",
        "SELECT version, dirty FROM schema_migrations_pre_goose ORDER BY version",
    )
    .await;
    let goose = rows_of::<(i64,)>(
        &mut c,
        "goose_db_version",
        "SELECT version_id FROM goose_db_version ORDER BY id",
    )
    .await
    .map(|rows| rows.into_iter().map(|(v,)| v).collect());
    Ledgers {
        golang,
        pre_goose,
        goose,
    }
}

/// `select`'s rows when `table` exists, else `None`.
async fn rows_of<T>(c: &mut PgConnection, table: &str, select: &str) -> Option<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(&mut *c)
        .await
        .expect("probe");
    if !exists {
        return None;
    }
    Some(
        sqlx::query_as(select)
            .fetch_all(&mut *c)
            .await
            .expect("rows"),
    )
}

fn quiet() -> impl Fn(String) + Send + Sync {
    |_| {}
}

async fn run(m: &Migrator) -> (ops::model::AdoptPreview, Vec<String>) {
    adopt::run(m, &quiet(), &CancellationToken::new())
        .await
        .expect("adopt runs")
}

#[tokio::test]
async fn a_fresh_database_has_nothing_to_adopt_and_is_left_alone() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    let (found, done) = run(&migrator(&db, &dir)).await;
    assert_eq!(found.state, AdoptState::NothingToDo);
    assert_eq!(
        found.sentence,
        "There is no schema_migrations table, so there is nothing to adopt: goose starts its own ledger."
    );
    assert!(done.is_empty());
    assert_eq!(
        ledgers(&db).await,
        Ledgers {
            golang: None,
            pre_goose: None,
            goose: None
        }
    );
}

#[tokio::test]
async fn goose_rows_above_zero_mean_already_adopted_and_nothing_changes() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(3, false)]).await;
    let mut c = connect(&db).await;
    c.execute(
        "CREATE TABLE goose_db_version (id serial, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true);",
    )
    .await
    .expect("goose rows");
    let (found, done) = run(&migrator(&db, &dir)).await;
    assert_eq!(found.state, AdoptState::AlreadyAdopted);
    assert_eq!(
        found.sentence,
        "Already adopted: goose_db_version records versions up to 1, so HoloMUSH leaves schema_migrations as it is; nothing to do."
    );
    assert!(done.is_empty());
    let l = ledgers(&db).await;
    assert_eq!(l.golang, Some(vec![(3, false)]));
    assert_eq!(l.goose, Some(vec![0, 1]));
    assert_eq!(l.pre_goose, None);
}

#[tokio::test]
async fn a_goose_table_with_only_the_zero_row_is_adopted_without_a_second_zero_row() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(8, false)]).await;
    let m = migrator(&db, &dir);
    // What a read-only goose command leaves: the table and its version-0 row.
    let mut c = connect(&db).await;
    let ledger = ops::migrate::goose::ledger::Ledger::current(&mut c)
        .await
        .expect("ledger");
    ledger.ensure(&mut c).await.expect("zero row");
    let (found, done) = run(&m).await;
    assert_eq!(found.state, AdoptState::Ready);
    assert_eq!(found.recorded_version, Some(8));
    assert_eq!(
        found.seed,
        vec![1, 2, 3, 5, 8],
        "the Go version is seeded too"
    );
    assert_eq!(
        done,
        vec![
            "Inserted goose_db_version's version-0 row (when absent)".to_string(),
            "Seeded 5 versions at or below 8: 1, 2, 3, 5, 8".to_string(),
            "Renamed schema_migrations to schema_migrations_pre_goose".to_string(),
        ]
    );
    assert_eq!(
        ledgers(&db).await,
        Ledgers {
            golang: None,
            pre_goose: Some(vec![(8, false)]),
            goose: Some(vec![0, 1, 2, 3, 5, 8]),
        }
    );
    // goose's own engine now runs on the adopted ledger: nothing is pending.
    let report = m
        .run(Op::Up(None), &quiet(), &CancellationToken::new())
        .await
        .expect("goose up");
    assert!(report.steps.is_empty());
}

#[tokio::test]
async fn refusals_carry_holomushs_codes_and_change_nothing() {
    for (rows, code, message) in [
        (
            vec![],
            AdoptCode::ProbeFailed,
            "schema_migrations has no row, so there is no recorded version to adopt: record the version the schema is at (migrate force with the golang-migrate files, or restore a backup), then adopt; nothing was changed.",
        ),
        (
            vec![(2, false), (3, false)],
            AdoptCode::Ambiguous,
            "schema_migrations has 2 rows (versions 2, 3) where golang-migrate keeps one, so the recorded version is ambiguous: delete the rows that are wrong (or force the right version with the golang-migrate files), then adopt; nothing was changed.",
        ),
        (
            vec![(3, true)],
            AdoptCode::Dirty,
            "schema_migrations is dirty at version 3: repair it first (Troubleshooting → Repair the dirty state, or migrate repair), then adopt; nothing was changed.",
        ),
    ] {
        let db = TestDb::create().await;
        let dir = folder(&db, &[]);
        golang(&db, &rows).await;
        let (found, done) = run(&migrator(&db, &dir)).await;
        assert_eq!(found.state, AdoptState::Refused);
        let refusal = found.refusal.expect("a refusal");
        assert_eq!(refusal.code, code);
        assert_eq!(refusal.message, message);
        assert!(done.is_empty());
        let mut sorted = rows.clone();
        sorted.sort();
        assert_eq!(
            ledgers(&db).await,
            Ledgers {
                golang: Some(sorted),
                pre_goose: None,
                goose: None
            }
        );
    }
}

#[tokio::test]
async fn a_lagging_database_seeds_only_up_to_its_version_and_a_rerun_is_a_no_op() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(3, false)]).await;
    let m = migrator(&db, &dir);
    let (found, done) = run(&m).await;
    assert_eq!(found.seed, vec![1, 2, 3]);
    assert_eq!(
        done,
        vec![
            "Created goose_db_version".to_string(),
            "Inserted goose_db_version's version-0 row (when absent)".to_string(),
            "Seeded 3 versions at or below 3: 1, 2, 3".to_string(),
            "Renamed schema_migrations to schema_migrations_pre_goose".to_string(),
        ]
    );
    let after = ledgers(&db).await;
    assert_eq!(after.goose, Some(vec![0, 1, 2, 3]));
    let (again, done) = run(&m).await;
    assert_eq!(again.state, AdoptState::AlreadyAdopted);
    assert_eq!(
        again.sentence,
        "Already adopted: goose_db_version is the ledger and golang-migrate's record is kept in schema_migrations_pre_goose; nothing to do."
    );
    assert!(done.is_empty());
    assert_eq!(ledgers(&db).await, after);
}

#[tokio::test]
async fn two_consoles_adopting_at_once_seed_once() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(8, false)]).await;
    // Someone holds goose's lock, so both adopts start waiting; it is released soon after.
    let mut holder = connect(&db).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(LOCK_ID)
        .execute(&mut holder)
        .await
        .expect("lock");
    let (a, b) = (migrator(&db, &dir), migrator(&db, &dir));
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = {
        let said = said.clone();
        move |l: String| said.lock().expect("log").push(l)
    };
    let cancel = CancellationToken::new();
    let release = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(LOCK_ID)
            .execute(&mut holder)
            .await
            .expect("unlock");
    };
    let (ra, rb, ()) = tokio::join!(
        adopt::run(&a, &log, &cancel),
        adopt::run(&b, &log, &cancel),
        release
    );
    let mut states = vec![ra.expect("a").0.state, rb.expect("b").0.state];
    states.sort_by_key(|s| s.as_str());
    assert_eq!(states, vec![AdoptState::AlreadyAdopted, AdoptState::Ready]);
    assert!(
        said.lock()
            .expect("log")
            .iter()
            .any(|l| l.starts_with(&format!("Waiting for goose's lock {LOCK_ID}"))),
        "both waited on goose's lock"
    );
    assert_eq!(ledgers(&db).await.goose, Some(vec![0, 1, 2, 3, 5, 8]));
}

async fn job(j: Arc<ops::jobs::Job>) -> JobView {
    j.follow(|_| {}).await
}

#[tokio::test]
async fn the_dry_run_changes_nothing_and_the_job_adopts_then_undo_restores() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(5, false)]).await;
    let console = ops::Console::open(db.config_with(&dir))
        .await
        .expect("console");
    let before = ledgers(&db).await;
    let preview = console.adopt_preview("test").await.expect("preview");
    assert_eq!(preview.state, AdoptState::Ready);
    assert_eq!(preview.seed, vec![1, 2, 3, 5]);
    assert_eq!(
        preview.sentence,
        "Ready: schema_migrations records version 5 (clean, one row); the adopt would give goose_db_version its version-0 row and 4 versions at or below 5 (1, 2, 3, 5), then rename schema_migrations to schema_migrations_pre_goose."
    );
    assert_eq!(ledgers(&db).await, before, "the dry run changed nothing");

    let view = job(console.start_adopt(false, "test").await.expect("starts")).await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    assert_eq!(
        view.result.as_deref(),
        Some("Adopted: goose_db_version holds the version-0 row and 4 seeded versions (up to 5); schema_migrations is kept as schema_migrations_pre_goose.")
    );
    assert!(matches!(view.output, Some(JobOutput::Adopt(ref p)) if p.seed == vec![1, 2, 3, 5]));
    assert_eq!(ledgers(&db).await.goose, Some(vec![0, 1, 2, 3, 5]));

    let view = job(console
        .start_adopt_undo(false, "test")
        .await
        .expect("starts"))
    .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    assert_eq!(
        view.result.as_deref(),
        Some("Undid the adopt: schema_migrations is golang-migrate's ledger again and goose_db_version is gone.")
    );
    assert_eq!(ledgers(&db).await, before);
    // Both jobs left their audit records under their dotted names.
    let actions: Vec<String> = console
        .audit
        .list(&ops::model::AuditFilter {
            action: "migrate.adopt".to_string(),
            limit: 10,
            ..Default::default()
        })
        .expect("audit")
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(
        actions.contains(&"migrate.adopt".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"migrate.adopt.undo".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn undo_is_refused_once_goose_ran_a_newer_version() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(2, false)]).await;
    let m = migrator(&db, &dir);
    run(&m).await;
    m.run(Op::Up(Some(1)), &quiet(), &CancellationToken::new())
        .await
        .expect("goose runs version 3");
    let before = ledgers(&db).await;
    assert_eq!(before.goose, Some(vec![0, 1, 2, 3]));
    let e = adopt::undo(&m, &quiet(), &CancellationToken::new())
        .await
        .expect_err("refused");
    assert_eq!(
        e.to_string(),
        "goose_db_version records 1 version that the adopt did not seed (3): goose ran migrations after the adopt, so undoing it would lose them from the ledger; roll them back first (migrate goto 2 with the goose files), then undo; nothing was changed."
    );
    assert!(matches!(e, MigrateError::Refused(_)));
    assert_eq!(ledgers(&db).await, before);
    // Undo on a database that was never adopted says so.
    let fresh = TestDb::create().await;
    golang(&fresh, &[(2, false)]).await;
    let e = adopt::undo(&migrator(&fresh, &dir), &quiet(), &CancellationToken::new())
        .await
        .expect_err("refused");
    assert_eq!(
        e.to_string(),
        "This database has no schema_migrations_pre_goose: it was never adopted (or the adopt was undone already), so there is nothing to undo; nothing was changed."
    );
}

#[tokio::test]
async fn a_refused_adopt_fails_its_job_with_the_code_and_takes_no_backup() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(3, true)]).await;
    let console = ops::Console::open(db.config_with(&dir))
        .await
        .expect("console");
    let view = job(console.start_adopt(true, "test").await.expect("starts")).await;
    assert_eq!(view.status, JobStatus::Failed);
    assert_eq!(
        view.result.as_deref(),
        Some("MIGRATION_ADOPT_REFUSED_DIRTY: schema_migrations is dirty at version 3: repair it first (Troubleshooting → Repair the dirty state, or migrate repair), then adopt; nothing was changed.")
    );
    let archives = console.backups().await.unwrap_or_default();
    assert!(archives.is_empty(), "no safety backup for a refusal");
}

#[tokio::test]
async fn the_adopt_takes_a_safety_backup_first() {
    let db = TestDb::create().await;
    let dir = folder(&db, &[]);
    golang(&db, &[(3, false)]).await;
    let console = ops::Console::open(db.config_with(&dir))
        .await
        .expect("console");
    let view = job(console.start_adopt(true, "test").await.expect("starts")).await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    let archives = console.backups().await.expect("catalog");
    assert!(
        archives.iter().any(|a| a.safety),
        "a safety archive: {archives:?}"
    );
    assert!(view
        .lines
        .iter()
        .any(|l| l.text == "Taking a safety backup first"));
}

#[tokio::test]
async fn a_rehearsal_of_a_golang_migrate_database_with_goose_files_adopts_then_ups_on_the_copy() {
    let db = TestDb::create().await;
    let dir = folder(
        &db,
        &[(
            "00009_note.sql",
            "-- +goose Up\nALTER TABLE players ADD COLUMN note text;\n-- +goose Down\nALTER TABLE players DROP COLUMN note;\n",
        )],
    );
    golang(&db, &[(5, false)]).await;
    let console = ops::Console::open(db.config_with(&dir))
        .await
        .expect("console");
    let before = ledgers(&db).await;
    let view = console
        .start_rehearsal(None, None, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    let lines: Vec<&str> = view.lines.iter().map(|l| l.text.as_str()).collect();
    for said in [
        "Rehearsing the adopt (golang-migrate → goose) then up from ",
        "Adopt: Ready: schema_migrations records version 5 (clean, one row);",
        "Adopt: Created goose_db_version",
        "Adopt: Seeded 4 versions at or below 5: 1, 2, 3, 5",
        "Adopt: Renamed schema_migrations to schema_migrations_pre_goose",
        "2 migrations pending",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(said)),
            "{said:?} in {lines:#?}"
        );
    }
    let Some(JobOutput::Rehearsal(r)) = view.output else {
        panic!("no rehearsal output");
    };
    let steps: Vec<(u64, bool, Option<&str>)> = r
        .steps
        .iter()
        .map(|s| (s.version, s.ok, s.locks_unknown.as_deref()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                8,
                true,
                Some("The engine runs this file outside a transaction, so its locks could not be read.")
            ),
            (9, true, None),
        ]
    );
    assert_eq!(
        r.steps[1]
            .locks
            .iter()
            .map(|l| (l.relation.as_str(), l.mode.as_str()))
            .collect::<Vec<_>>(),
        vec![("players", "AccessExclusiveLock")]
    );
    assert_eq!(ledgers(&db).await, before, "the live database is unchanged");
}

#[tokio::test]
async fn a_rehearsal_of_an_adopted_database_runs_gooses_up_without_the_adopt() {
    let db = TestDb::create().await;
    let dir = folder(
        &db,
        &[(
            "00009_note.sql",
            "-- +goose Up\nALTER TABLE players ADD COLUMN note text;\n-- +goose Down\nALTER TABLE players DROP COLUMN note;\n",
        )],
    );
    golang(&db, &[(5, false)]).await;
    run(&migrator(&db, &dir)).await;
    let console = ops::Console::open(db.config_with(&dir))
        .await
        .expect("console");
    let before = ledgers(&db).await;
    let view = console
        .start_rehearsal(None, None, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    assert!(view
        .lines
        .iter()
        .any(|l| l.text.starts_with("Rehearsing up from ")));
    assert!(!view.lines.iter().any(|l| l.text.starts_with("Adopt: ")));
    let Some(JobOutput::Rehearsal(r)) = view.output else {
        panic!("no rehearsal output");
    };
    assert_eq!(
        r.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        vec![8, 9]
    );
    assert_eq!(ledgers(&db).await, before, "the live database is unchanged");
}

#[tokio::test]
async fn after_the_cutover_goose_files_are_not_taken_for_changed_golang_migrate_files() {
    let db = TestDb::create().await;
    // The console ran golang-migrate's files 1 and 2 (its history records their sha256)…
    let golang = ops::testing::Folder::new(&[
        (
            "1_players.up.sql",
            "CREATE TABLE players (id int PRIMARY KEY, name text);\n",
        ),
        ("1_players.down.sql", "DROP TABLE players;\n"),
        (
            "2_flags.up.sql",
            "ALTER TABLE players ADD COLUMN flags int;\n",
        ),
        (
            "2_flags.down.sql",
            "ALTER TABLE players DROP COLUMN flags;\n",
        ),
    ]);
    let m = Migrator::new(
        Source::folder(&golang.0).expect("source"),
        db.database_url(),
        "test",
    );
    m.run(Op::Up(None), &quiet(), &CancellationToken::new())
        .await
        .expect("golang-migrate up");
    // …then HoloMUSH moved to goose: the same versions, other files.
    let goose = folder(&db, &[]);
    let (preview, _) = run(&migrator(&db, &goose)).await;
    assert_eq!(preview.state, AdoptState::Ready);
    let status = ops::migrate::status::status(&migrator(&db, &goose))
        .await
        .expect("status");
    assert!(
        status.migrations.iter().all(|e| !e.drift),
        "{:?}",
        status.warnings()
    );
    assert!(
        status
            .warnings()
            .iter()
            .all(|w| !w.contains("changed after it was applied")),
        "{:?}",
        status.warnings()
    );
}
