//! Conformance with goose v3.27.3 (pressly/goose), the goose HoloMUSH pins, from goose's own
//! tests and test data (copied under `tests/conformance/goose/`, see its README). Each case
//! names the peer file it comes from and states goose's outcome: the statements its parser
//! gives, or, through the real binary on PostgreSQL, the objects applied, the `goose_db_version`
//! rows, the exit status and the error text goose's `Provider` gives (HoloMUSH's options: the
//! postgres store, the session locker, no out-of-order migrations).
//!
//! goose's CLI and HoloMUSH end with status 1 when the tool fails (`log.Fatalf`); so does
//! `holomush-admin migrate`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use ops::migrate::goose::parser::{parse, parse_all_with, Parsed};
use ops::model::Direction;
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

/// goose's exit status when the tool fails.
const FAILED: i32 = 1;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/goose")
}

fn fixture(rel: &str) -> String {
    let path = fixtures().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn no_env(_: &str) -> Option<String> {
    None
}

// ---------------------------------------------------------------------------------------
// The parser (internal/sqlparser/parser_test.go and testdata/): no database needed.

/// Each golden file `NN.{up|down}.golden.sql` is statement NN, as `compareStatements` reads them.
fn assert_golden(dir: &str, statements: &[String], direction: &str) {
    let mut golden: Vec<(usize, String)> = std::fs::read_dir(fixtures().join(dir))
        .expect("golden dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(&format!(".{direction}.golden.sql")))
        .map(|n| {
            let index: usize = n
                .split('.')
                .next()
                .and_then(|i| i.parse().ok())
                .expect("NN");
            (index, fixture(&format!("{dir}/{n}")))
        })
        .collect();
    golden.sort();
    assert_eq!(
        statements.len(),
        golden.len(),
        "{dir} {direction}: {statements:#?}"
    );
    for (index, want) in golden {
        assert_eq!(statements[index - 1], want, "{dir} {index}.{direction}");
    }
}

/// parser_test.go `TestValidUp`: testdata/valid-up/test01…test09, statement counts and goldens.
#[test]
fn valid_up_golden_statements() {
    for (name, count) in [
        ("test01", 3),
        ("test02", 1),
        ("test03", 1),
        ("test04", 3),
        ("test05", 2),
        ("test06", 5),
        ("test07", 1),
        ("test08", 6),
        ("test09", 1),
    ] {
        let dir = format!("sqlparser/valid-up/{name}");
        let (stmts, _) = parse(
            &fixture(&format!("{dir}/input.sql")),
            Direction::Up,
            &no_env,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stmts.len(), count, "{name}");
        assert_golden(&dir, &stmts, "up");
    }
}

/// parser_test.go `TestEnvsub`: testdata/envsub/test01…test03 with goose's three variables.
#[test]
fn envsub_golden_statements() {
    let env = |k: &str| match k {
        "GOOSE_ENV_REGION" => Some("us_east_".to_string()),
        "GOOSE_ENV_SET_BUT_EMPTY_VALUE" => Some(String::new()),
        "GOOSE_ENV_NAME" => Some("foo".to_string()),
        _ => None,
    };
    for (name, up, down) in [("test01", 4, 1), ("test02", 3, 0), ("test03", 1, 0)] {
        let dir = format!("sqlparser/envsub/{name}");
        let p = parse_all_with(&fixture(&format!("{dir}/input.sql")), &env)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((p.up.len(), p.down.len()), (up, down), "{name}");
        assert_golden(&dir, &p.up, "up");
        assert_golden(&dir, &p.down, "down");
    }
}

/// parser_test.go `TestEnvsubError`: a required variable that is not set.
const ENVSUB_ERROR: &str = "
-- +goose ENVSUB ON
-- +goose Up
CREATE TABLE post (
	id int NOT NULL,
	title text,
	${SOME_UNSET_VAR?required env var not set} text,
	PRIMARY KEY(id)
);
";

#[test]
fn envsub_error_names_the_variable_and_the_line() {
    assert_eq!(
        parse(ENVSUB_ERROR, Direction::Up, &no_env).expect_err("unset"),
        "variable substitution failed: $SOME_UNSET_VAR: required env var not set:\n\t${SOME_UNSET_VAR?required env var not set} text,"
    );
}

/// parser_test.go `TestSplitStatements`: the string literals (sqlparser/inline/), up and
/// down statement counts.
#[test]
fn split_statements_counts() {
    for (name, up, down) in [
        ("multilineSQL", 4, 1),
        ("emptySQL", 0, 0),
        ("emptySQL2", 0, 0),
        ("functxt", 2, 2),
        ("mysqlChangeDelimiter", 4, 0),
        ("copyFromStdin", 1, 0),
        ("plpgsqlSyntax", 2, 2),
        ("plpgsqlSyntaxMixedStatements", 2, 2),
    ] {
        let p: Parsed = parse_all_with(&fixture(&format!("sqlparser/inline/{name}.sql")), &no_env)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((p.up.len(), p.down.len()), (up, down), "{name}");
    }
}

const SEE: &str = "see https://github.com/pressly/goose#sql-migrations";

/// parser_test.go `TestParsingErrors` (the literals) and `TestInvalidUp` (testdata/invalid/up),
/// each with the text parser.go builds for it, parsing up.
#[test]
fn parsing_errors_in_gooses_words() {
    let unfinished_bar = "failed to parse migration: state 1, direction: up: unexpected unfinished SQL query: \"SELECT * FROM bar\": missing semicolon?".to_string();
    for (file, want) in [
        (
            "inline/statementBeginNoStatementEnd.sql",
            format!("must start with '-- +goose Up' annotation, stateMachine=2, {SEE}"),
        ),
        (
            "inline/unfinishedSQL.sql",
            "failed to parse migration: state 1, direction: up: unexpected unfinished SQL query: \"ALTER TABLE post\": missing semicolon?".to_string(),
        ),
        (
            "inline/noUpDownAnnotations.sql",
            format!("failed to parse migration: unexpected state 0 on line \"CREATE TABLE post (\", {SEE}"),
        ),
        (
            "inline/multiUpDown.sql",
            format!("duplicate '-- +goose Up' annotations; stateMachine=4, {SEE}"),
        ),
        (
            "inline/downFirst.sql",
            format!("must start with '-- +goose Up' annotation, stateMachine=0, {SEE}"),
        ),
        ("invalid/up/a.sql", unfinished_bar.clone()),
        ("invalid/up/b.sql", unfinished_bar.clone()),
        ("invalid/up/c.sql", unfinished_bar.clone()),
        ("invalid/up/d.sql", unfinished_bar),
    ] {
        let got = parse(&fixture(&format!("sqlparser/{file}")), Direction::Up, &no_env)
            .expect_err(file);
        assert_eq!(got, want, "{file}");
    }
}

/// parser_test.go `TestUseTransactions`: testdata/valid-txn.
#[test]
fn use_transactions() {
    for (file, use_tx) in [
        ("00001_create_users_table.sql", true),
        ("00002_rename_root.sql", true),
        ("00003_no_transaction.sql", false),
    ] {
        let (_, tx) = parse(
            &fixture(&format!("sqlparser/valid-txn/{file}")),
            Direction::Up,
            &no_env,
        )
        .expect(file);
        assert_eq!(tx, use_tx, "{file}");
    }
}

// ---------------------------------------------------------------------------------------
// Migrations through the binary, on PostgreSQL: one database and one migrations folder per
// group of cases.

struct Goose {
    db: TestDb,
    data: PathBuf,
    dir: PathBuf,
}

impl Goose {
    async fn new(group: &str) -> Self {
        let db = TestDb::create().await;
        let data = std::env::temp_dir().join(format!("{}-conformance-goose-{group}", db.name));
        let dir = data.join("migrations");
        std::fs::create_dir_all(&dir).expect("folder");
        Self { db, data, dir }
    }

    fn write(&self, name: &str, body: &str) {
        std::fs::write(self.dir.join(name), body).expect("write");
    }

    /// Copies fixture files (`from`: a folder under tests/conformance/goose) into the folder.
    fn copy(&self, from: &str, names: &[&str]) {
        for name in names {
            self.write(name, &fixture(&format!("{from}/{name}")));
        }
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.dir.join(name)).expect("remove");
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = common::binary(&self.db.url, &self.data);
        cmd.arg("migrate")
            .args(args)
            .env("HOLOMUSH_MIGRATIONS_DIR", &self.dir)
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run holomush-admin")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs and expects success.
    fn ok(&self, args: &[&str]) {
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", common::text(&o));
    }

    /// Runs and expects goose's failure: status 1 and exactly `text` after `error: `.
    fn fails(&self, args: &[&str], text: &str) {
        fails(&self.run(args), args, text);
    }

    async fn conn(&self) -> PgConnection {
        PgConnection::connect(&self.db.url).await.expect("connect")
    }

    /// `goose_db_version`'s versions in id order, each checked to be `is_applied`.
    async fn ledger(&self) -> Vec<i64> {
        let rows: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version_id, is_applied FROM goose_db_version ORDER BY id")
                .fetch_all(&mut self.conn().await)
                .await
                .expect("ledger");
        assert!(rows.iter().all(|(_, applied)| *applied), "{rows:?}");
        rows.into_iter().map(|(v, _)| v).collect()
    }

    async fn exists(&self, probe: &str) -> bool {
        sqlx::query_scalar(&format!("SELECT {probe} IS NOT NULL"))
            .fetch_one(&mut self.conn().await)
            .await
            .expect(probe)
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut self.conn().await)
            .await
            .expect(table)
    }
}

/// The text after the last `error: ` that starts a line of stderr (it may run over lines).
fn error_text(o: &Output) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr);
    let at = stderr
        .rmatch_indices("error: ")
        .map(|(i, _)| i)
        .find(|i| *i == 0 || stderr.as_bytes()[i - 1] == b'\n')
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    stderr[at + "error: ".len()..].trim_end().to_string()
}

fn fails(o: &Output, args: &[&str], text: &str) {
    assert_eq!(
        (o.status.code(), error_text(o).as_str()),
        (Some(FAILED), text),
        "{args:?}: {}",
        common::text(o)
    );
}

fn versions(to: i64) -> Vec<i64> {
    (0..=to).collect()
}

const INTEGRATION: [&str; 6] = [
    "00001_table.sql",
    "00002_insert.sql",
    "00003_alter.sql",
    "00004_empty.sql",
    "00005_no_tx.sql",
    "00006_complex.sql",
];

const PROVIDER: [&str; 7] = [
    "00001_users_table.sql",
    "00002_posts_table.sql",
    "00003_comments_table.sql",
    "00004_insert_data.sql",
    "00005_posts_view.sql",
    "00006_empty_up.sql",
    "00007_empty_up_down.sql",
];

/// internal/testing/integration/integration.go `testDatabase` with database_test.go
/// `TestPostgres` (testdata/migrations/postgres: `-- +goose up` in lower case, a StatementBegin
/// block of several statements, an empty file, `NO TRANSACTION` with `CREATE INDEX
/// CONCURRENTLY`): `Up` applies all six, `DownTo(0)` rolls all back, `UpByOne` six times
/// applies them again; then provider_run_test.go `up_and_down_by_one`: a seventh `UpByOne` is
/// `no next version found`. The table and its rows as dialects/postgres.go writes them.
#[tokio::test]
async fn integration_postgres_up_down_to_zero_and_up_by_one() {
    let g = Goose::new("integration").await;
    g.copy("integration/postgres", &INTEGRATION);

    g.ok(&["up"]);
    assert_eq!(g.ledger().await, versions(6));
    assert_eq!(g.count("owners").await, 4);
    assert_eq!(g.count("repos").await, 2);
    assert!(g.exists("to_regtype('owner_type')").await);
    assert!(g.exists("to_regclass('owners_owner_name_idx')").await);
    assert!(
        g.exists("to_regprocedure('insert_repository(text,text,owner_type)')")
            .await
    );
    assert_eq!(
        g.count("information_schema.columns WHERE table_name = 'repos' AND column_name IN ('homepage_url', 'is_private')")
            .await,
        2
    );

    // dialects/postgres.go `CreateTable`, `InsertVersion`: the columns, the key, the rows.
    let columns: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_nullable::text, coalesce(column_default, '')::text,
                is_identity::text, coalesce(identity_generation, '')::text
           FROM information_schema.columns WHERE table_name = 'goose_db_version' ORDER BY ordinal_position",
    )
    .fetch_all(&mut g.conn().await)
    .await
    .expect("columns");
    let col = |n: &str, t: &str, d: &str, i: &str, gen: &str| {
        (
            n.to_string(),
            t.to_string(),
            "NO".to_string(),
            d.to_string(),
            i.to_string(),
            gen.to_string(),
        )
    };
    assert_eq!(
        columns,
        vec![
            col("id", "integer", "", "YES", "BY DEFAULT"),
            col("version_id", "bigint", "", "NO", ""),
            col("is_applied", "boolean", "", "NO", ""),
            col("tstamp", "timestamp without time zone", "now()", "NO", ""),
        ]
    );
    let key: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
          WHERE i.indrelid = 'goose_db_version'::regclass AND i.indisprimary",
    )
    .fetch_all(&mut g.conn().await)
    .await
    .expect("key");
    assert_eq!(key, ["id"]);

    g.ok(&["down", "--all", "--yes"]);
    assert_eq!(g.ledger().await, [0]);
    assert!(!g.exists("to_regclass('owners')").await);
    assert!(!g.exists("to_regtype('owner_type')").await);
    // (to_regprocedure errors on PostgreSQL 15 once the argument's type is gone.)
    assert_eq!(
        g.count("pg_proc WHERE proname = 'insert_repository'").await,
        0
    );
    // provider.go `Down` with only version 0 recorded: `ErrNoNextVersion`.
    g.fails(&["down"], "no next version found");

    for v in 1..=6 {
        g.ok(&["up", "1"]);
        assert_eq!(g.ledger().await, versions(v));
    }
    g.fails(&["up", "1"], "no next version found");
    assert_eq!(g.ledger().await, versions(6));
}

/// provider_run_test.go `up_to`, `up_and_down_all`, `up_and_down_by_one` (newFsys, as
/// provider/): `UpTo(2)`, `Up` (6 and 7 empty: the version moves, no SQL runs), `Down` seven
/// times and an eighth that is `no next version found`. provider.go `HasPending`: with nothing
/// pending, `Up` returns at once, without waiting for the lock a migrating server holds.
#[tokio::test]
async fn provider_up_to_up_and_down_by_one() {
    let g = Goose::new("provider").await;
    g.copy("provider", &PROVIDER);

    g.ok(&["goto", "2"]);
    assert_eq!(g.ledger().await, versions(2));
    assert!(g.exists("to_regclass('posts')").await);
    assert!(!g.exists("to_regclass('comments')").await);

    g.ok(&["up"]);
    assert_eq!(g.ledger().await, versions(7));
    assert_eq!(g.count("users").await, 3);
    assert!(g.exists("to_regclass('posts_view')").await);

    let mut server = g.conn().await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(ops::migrate::goose::lock::LOCK_ID)
        .execute(&mut server)
        .await
        .expect("lock");
    let t = Instant::now();
    g.ok(&["up"]);
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "nothing pending: no wait for the lock (goose retries every 5 s)"
    );
    drop(server);

    g.ok(&["down", "7"]);
    assert_eq!(g.ledger().await, [0]);
    assert!(!g.exists("to_regclass('users')").await);
    g.fails(&["down"], "no next version found");
    assert_eq!(g.ledger().await, [0]);
}

/// provider_run_test.go `tx_partial_errors`, on PostgreSQL: the second file fails, its
/// transaction rolls back, the first stays applied, the third never runs.
#[tokio::test]
async fn partial_error_rolls_back_the_failing_file() {
    let g = Goose::new("partial").await;
    g.write(
        "00001_users_table.sql",
        "\n-- +goose Up\nCREATE TABLE owners ( owner_name TEXT NOT NULL );\n",
    );
    g.write(
        "00002_partial_error.sql",
        "\n-- +goose Up\nINSERT INTO invalid_table (invalid_table) VALUES ('invalid_value');\n",
    );
    g.write(
        "00003_insert_data.sql",
        "\n-- +goose Up\nINSERT INTO owners (owner_name) VALUES ('seed-user-1');\nINSERT INTO owners (owner_name) VALUES ('seed-user-2');\nINSERT INTO owners (owner_name) VALUES ('seed-user-3');\n",
    );
    g.fails(
        &["up"],
        "partial migration error (type:sql,version:2): ERROR: relation \"invalid_table\" does not exist (SQLSTATE 42P01)",
    );
    assert_eq!(g.ledger().await, [0, 1]);
    assert_eq!(g.count("owners").await, 0);
    let o = g.run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status json");
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| m["state"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(states, ["applied", "pending", "pending"]);
}

/// provider_run_test.go `TestAllowMissing/missing_now_allowed` (1,2,3 then 5 applied, 4 added
/// later) and gooseutil/resolve.go's text: `Up`, `UpByOne` and `UpTo` all refuse, changing
/// nothing. The refusal comes from `HasPending`, which takes no lock: it is immediate even
/// while a server holds goose's lock.
#[tokio::test]
async fn a_missing_migration_is_refused_by_up_up_by_one_and_up_to() {
    let g = Goose::new("missing").await;
    g.copy(
        "provider",
        &[PROVIDER[0], PROVIDER[1], PROVIDER[2], PROVIDER[4]],
    );
    g.ok(&["up"]);
    assert_eq!(g.ledger().await, [0, 1, 2, 3, 5]);

    g.copy("provider", &[PROVIDER[3]]);
    let mut server = g.conn().await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(ops::migrate::goose::lock::LOCK_ID)
        .execute(&mut server)
        .await
        .expect("lock");
    let missing =
        "detected 1 missing (out-of-order) migration lower than database version (5): version 4";
    let t = Instant::now();
    g.fails(&["up"], missing);
    g.fails(&["up", "1"], missing);
    g.fails(&["goto", "7"], missing);
    assert!(t.elapsed() < Duration::from_secs(4), "no wait for the lock");
    drop(server);
    assert_eq!(g.ledger().await, [0, 1, 2, 3, 5]);
    assert_eq!(g.count("users").await, 0, "4 never ran");
}

/// provider_run_test.go `TestPending/disallow_out_of_order/latest_version`: 1 and the latest
/// (7) applied, five missing between them.
#[tokio::test]
async fn several_missing_migrations_are_listed() {
    let g = Goose::new("pending").await;
    g.copy("provider", &[PROVIDER[0], PROVIDER[6]]);
    g.ok(&["up"]);
    assert_eq!(g.ledger().await, [0, 1, 7]);
    g.copy("provider", &PROVIDER);
    g.fails(
        &["up"],
        "detected 5 missing (out-of-order) migrations lower than database version (7): versions 2,3,4,5,6",
    );
    assert_eq!(g.ledger().await, [0, 1, 7]);
}

/// provider_run.go `runMigrations`: every SQL file to run is parsed before any runs, and a
/// parse error is `failed to prepare migration (type:sql,version:N): failed to parse FILE: …`
/// (parse.go); testdata/invalid/up/a.sql and parser.go's annotation errors (`-- +goose
/// ENVSUBST ON`, the console's old spelling, is not an annotation goose knows). `UpByOne`
/// parses only the one file it runs.
#[tokio::test]
async fn parse_errors_stop_before_anything_runs() {
    let g = Goose::new("parse").await;
    g.copy("provider", &[PROVIDER[0]]);
    g.write("00002_a.sql", &fixture("sqlparser/invalid/up/a.sql"));
    g.fails(
        &["up"],
        "failed to prepare migration (type:sql,version:2): failed to parse 00002_a.sql: failed to parse migration: state 1, direction: up: unexpected unfinished SQL query: \"SELECT * FROM bar\": missing semicolon?",
    );
    assert_eq!(g.ledger().await, [0], "the table is made, nothing runs");
    assert!(!g.exists("to_regclass('users')").await);

    g.remove("00002_a.sql");
    g.write(
        "00002_bad.sql",
        "-- +goose Up\n-- +goose unsupported\nSELECT 1;\n",
    );
    g.ok(&["up", "1"]);
    assert_eq!(g.ledger().await, [0, 1]);
    g.fails(
        &["up"],
        "failed to prepare migration (type:sql,version:2): failed to parse 00002_bad.sql: failed to parse annotation line \"-- +goose unsupported\": \"unsupported\" not supported: invalid annotation",
    );
    g.write(
        "00002_bad.sql",
        "-- +goose ENVSUBST ON\n-- +goose Up\nSELECT 1;\n",
    );
    g.fails(
        &["up"],
        "failed to prepare migration (type:sql,version:2): failed to parse 00002_bad.sql: failed to parse annotation line \"-- +goose ENVSUBST ON\": \"ENVSUBST ON\" not supported: invalid annotation",
    );
    assert_eq!(g.ledger().await, [0, 1]);
}

/// testdata/envsub/test01/input.sql as a migration, and parser_test.go `TestEnvsubError`:
/// `-- +goose ENVSUB ON` expands from the environment the console was started with (goose reads
/// `os.LookupEnv`); an unset `${VAR}` is empty; an unset `${VAR?message}` stops the run.
#[tokio::test]
async fn envsub_reads_the_consoles_environment() {
    let g = Goose::new("envsub").await;
    g.write(
        "00001_post.sql",
        &fixture("sqlparser/envsub/test01/input.sql"),
    );
    let region = [("GOOSE_ENV_REGION", "us_east_")];
    let o = g.run_with(&["up"], &region);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    assert!(g.exists("to_regclass('us_east_post')").await);
    let o = g.run_with(&["down"], &region);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    assert!(!g.exists("to_regclass('us_east_post')").await);

    g.ok(&["up"]);
    assert!(g.exists("to_regclass('post')").await, "unset: empty");
    assert_eq!(g.ledger().await, [0, 1]);

    g.write("00002_required.sql", ENVSUB_ERROR);
    g.fails(
        &["up"],
        "failed to prepare migration (type:sql,version:2): failed to parse 00002_required.sql: variable substitution failed: $SOME_UNSET_VAR: required env var not set:\n\t${SOME_UNSET_VAR?required env var not set} text,",
    );
    assert_eq!(g.ledger().await, [0, 1]);
}

/// testdata/valid-txn (examples/sql-migrations) and testdata/valid-up/test01 (`-- +goose UP`,
/// `-- +goose statementBegin`) as migrations; then provider.go `down`: every applied version
/// to roll back must have its file, or `version not found` (2's file is gone, though 4, the
/// one to roll back, is there).
#[tokio::test]
async fn transactions_case_and_a_missing_file_on_down() {
    let g = Goose::new("txn").await;
    g.copy(
        "sqlparser/valid-txn",
        &[
            "00001_create_users_table.sql",
            "00002_rename_root.sql",
            "00003_no_transaction.sql",
        ],
    );
    g.write(
        "00004_emp.sql",
        &fixture("sqlparser/valid-up/test01/input.sql"),
    );
    g.ok(&["up"]);
    assert_eq!(g.ledger().await, versions(4));
    let root: String = sqlx::query_scalar("SELECT username FROM users WHERE id = 0")
        .fetch_one(&mut g.conn().await)
        .await
        .expect("user 0");
    assert_eq!(root, "admin");
    assert!(g.exists("to_regclass('post')").await);
    assert!(g.exists("to_regprocedure('emp_stamp()')").await);
    let triggers = g
        .count("pg_trigger WHERE tgname = 'emp_stamp' AND NOT tgisinternal")
        .await;
    assert_eq!(triggers, 1);

    g.remove("00002_rename_root.sql");
    g.fails(&["down"], "version not found");
    assert_eq!(g.ledger().await, versions(4));
}

/// provider_run.go `up`/`down`: a `goose_db_version` that exists with no row at all (not even
/// version 0) is `missing zero version migration`; goose does not create it again.
#[tokio::test]
async fn an_empty_ledger_is_missing_its_zero_version() {
    let g = Goose::new("zero").await;
    g.copy("provider", &[PROVIDER[0]]);
    g.conn()
        .await
        .execute(ops::migrate::goose::ledger::create_table_sql("goose_db_version").as_str())
        .await
        .expect("empty ledger");
    g.fails(&["up"], "missing zero version migration");
    g.fails(&["down"], "missing zero version migration");
    assert!(g.ledger().await.is_empty());
    assert!(!g.exists("to_regclass('users')").await);
}

/// provider_collect_test.go `duplicate_versions` (the text provider_collect.go builds) and
/// `skip_random_files`: only `NUMBER_name.sql` / `.go` files are migrations.
#[tokio::test]
async fn file_names_as_goose_collects_them() {
    let g = Goose::new("collect").await;
    let sql = "-- +goose Up\nSELECT 1;\n";
    g.write("1_foo.sql", sql);
    g.write("4_something.go", "package goose");
    g.write("5_qux.sql", sql);
    g.write("README.md", "# README");
    g.write("LICENSE", "MIT");
    g.write("no_a_real_migration.sql", "SELECT 1;");
    let o = g.run(&["status", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status json");
    let listed: Vec<(u64, String)> = status["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| {
            (
                m["version"].as_u64().unwrap_or_default(),
                m["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (1, "sql".to_string()),
            (4, "go".to_string()),
            (5, "sql".to_string())
        ]
    );

    let dup = Goose::new("duplicate").await;
    dup.write("001_foo.sql", sql);
    dup.write("01_bar.sql", sql);
    dup.fails(
        &["up"],
        "found duplicate migration version 1:\n\texisting:001_foo.sql\n\tcurrent:01_bar.sql",
    );
}
