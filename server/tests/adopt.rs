//! `holomush-admin migrate adopt`, the real binary: the dry run's JSON and exit codes, the
//! typed-name prompt, the adopt and its undo.

mod common;

use std::process::{Command, Output, Stdio};

use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

fn command(db: &TestDb, args: &[&str]) -> Command {
    let data = std::env::temp_dir().join(format!("{}-adopt", db.name));
    let migrations = data.join("migrations");
    std::fs::create_dir_all(&migrations).expect("folder");
    // Private, as the console makes its data folder (an open one is made 0700 with a warning).
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("0700");
    for (name, body) in [
        ("00001_players.sql", "-- +goose Up\nCREATE TABLE IF NOT EXISTS players (id int);\n-- +goose Down\nDROP TABLE players;\n"),
        ("00003_items.sql", "-- +goose Up\nCREATE TABLE IF NOT EXISTS items (id int);\n-- +goose Down\nDROP TABLE items;\n"),
        ("00004_backfill.go", "package migrations\n"),
        ("00007_later.sql", "-- +goose Up\nCREATE TABLE later (id int);\n-- +goose Down\nDROP TABLE later;\n"),
    ] {
        std::fs::write(migrations.join(name), body).expect("file");
    }
    let mut cmd = common::binary(&db.url, &data);
    cmd.args(args)
        .env("HOLOMUSH_MIGRATIONS_DIR", &migrations)
        .stdin(Stdio::null());
    cmd
}

fn run(db: &TestDb, args: &[&str]) -> Output {
    command(db, args).output().expect("run holomush-admin")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

async fn golang(db: &TestDb, version: i64, dirty: bool) {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(
        "CREATE TABLE players (id int); CREATE TABLE items (id int);
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);",
    )
    .await
    .expect("schema");
    sqlx::query("INSERT INTO schema_migrations VALUES ($1, $2)")
        .bind(version)
        .bind(dirty)
        .execute(&mut c)
        .await
        .expect("row");
}

async fn tables(db: &TestDb) -> Vec<String> {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables")
}

#[tokio::test]
async fn the_dry_run_prints_the_json_shape_and_exits_by_what_holomush_would_do() {
    let db = TestDb::create().await;
    golang(&db, 4, false).await;
    let o = run(&db, &["migrate", "adopt", "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        json(&o),
        serde_json::json!({
            "state": "ready",
            "recorded_version": 4,
            "dirty": false,
            "seed": [1, 3, 4],
            "refusal": null,
        })
    );
    assert_eq!(
        tables(&db).await,
        vec!["items", "players", "schema_migrations"],
        "the dry run changed nothing"
    );

    let dirty = TestDb::create().await;
    golang(&dirty, 3, true).await;
    let o = run(&dirty, &["migrate", "adopt", "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let message = "schema_migrations is dirty at version 3: repair it first (Troubleshooting → Repair the dirty state, or migrate repair), then adopt; nothing was changed.";
    assert_eq!(
        json(&o),
        serde_json::json!({
            "state": "refused",
            "recorded_version": 3,
            "dirty": true,
            "seed": [],
            "refusal": { "code": "MIGRATION_ADOPT_REFUSED_DIRTY", "message": message },
        })
    );
    assert_eq!(
        stderr(&o),
        format!("error: MIGRATION_ADOPT_REFUSED_DIRTY: {message}")
    );

    let fresh = TestDb::create().await;
    let o = run(&fresh, &["migrate", "adopt", "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json(&o)["state"], "nothing-to-do");
}

#[tokio::test]
async fn adopt_asks_for_the_name_then_adopts_and_undo_puts_it_back() {
    let db = TestDb::create().await;
    golang(&db, 3, false).await;
    let o = run(&db, &["migrate", "adopt", "--no-safety-backup"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).ends_with(&format!(
            "error: Not confirmed: nothing was changed. Type \"{}\" exactly, or pass --yes.",
            db.name
        )),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        tables(&db).await,
        vec!["items", "players", "schema_migrations"]
    );

    let o = run(&db, &["migrate", "adopt", "--yes", "--no-safety-backup"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).ends_with("Adopted: goose_db_version holds the version-0 row and 2 seeded versions (up to 3); schema_migrations is kept as schema_migrations_pre_goose."),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        tables(&db).await,
        vec![
            "goose_db_version",
            "items",
            "players",
            "schema_migrations_pre_goose"
        ]
    );
    let o = run(&db, &["migrate", "adopt", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "Already adopted: goose_db_version is the ledger and golang-migrate's record is kept in schema_migrations_pre_goose; nothing to do."
    );

    let o = run(
        &db,
        &["migrate", "adopt", "--undo", "--yes", "--no-safety-backup"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        tables(&db).await,
        vec!["items", "players", "schema_migrations"]
    );
}

/// The Migrations page's adopt wizard, posted as plain forms (no JavaScript): the preview
/// with the versions it would seed, a wrong name refused, the right one adopting with a
/// safety backup, and the page then showing goose's ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adopt_wizard_works_as_plain_forms() {
    use std::time::{Duration, Instant};
    let db = TestDb::create().await;
    golang(&db, 3, false).await;
    let data = std::env::temp_dir().join(format!("{}-adopt-web", db.name));
    let web = common::Web::start(command(&db, &["serve"]), &data, "adopt-pw");
    let page = web.page("/migrations");
    assert!(
        page.contains("href=\"/migrations?wizard=adopt\""),
        "the goose card links to the wizard: {page}"
    );
    let wizard = "/migrations?wizard=adopt";
    let page = web.page(wizard);
    assert!(
        page.contains("data-testid=\"adopt-seed\">0, 1, 3</td>"),
        "{page}"
    );
    assert!(
        page.contains("data-testid=\"adopt-state\">ready</td>"),
        "{page}"
    );
    let post = |confirm: &str| {
        web.post_form(
            wizard,
            "adopt_start",
            &format!("confirm={confirm}&safety_backup=on"),
        )
    };
    let refused = post("nope");
    assert!(
        !refused.contains("job="),
        "a wrong name starts nothing: {refused}"
    );
    assert_eq!(
        tables(&db).await,
        vec!["items", "players", "schema_migrations"]
    );
    let location = post(&db.name);
    assert!(location.contains("wizard=adopt"), "{location}");
    let id = location
        .split("job=")
        .nth(1)
        .unwrap_or_else(|| panic!("no job= in {location:?}"))
        .to_string();
    let t = Instant::now();
    let page = loop {
        let page = web.page(&format!("{wizard}&job={id}"));
        if page.contains("data-testid=\"job-result\"") {
            break page;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no result: {page}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        page.contains(
            "Adopted: goose_db_version holds the version-0 row and 2 seeded versions (up to 3)"
        ),
        "{page}"
    );
    assert!(page.contains("Safety backup"), "{page}");
    assert!(
        page.contains("data-testid=\"adopt-state\">already-adopted</td>"),
        "{page}"
    );
    assert!(page.contains("data-testid=\"adopt-undo\""), "{page}");
    let page = web.page("/migrations");
    assert!(
        page.contains("Adopted: goose_db_version is the ledger"),
        "{page}"
    );
}
