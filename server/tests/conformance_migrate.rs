//! Conformance with golang-migrate v4.19.1 and its pgx/v5 driver, case by case from the
//! peer's own tests, run through the real binary on the PostgreSQL under test. Each case says
//! what golang-migrate's CLI does (its exit status, the line it ends with, `schema_migrations`,
//! and what the files did) and names the peer file it comes from.
//!
//! golang-migrate's CLI ends a failure with `error: …` and exit 1 (`internal/cli/log.go`
//! `fatalErr`), and `ErrNoChange` with `no change` and exit 0 (`internal/cli/commands.go`);
//! the console ends the same ways, its no-change sentence saying where the database is.
//! The step tables' files (`conformance/migrate/stub`) are `migrate_test.go`'s stub source,
//! `| 1: u d | 3: u | 4: u d | 5: d | 7: u d |`, each file logging its stub body (`CREATE 1`,
//! `DROP 5`…) into a `seq` table, so the sequence the stub database records is read back.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ops::migrate::golang::lock;
use ops::testing::{Folder, TestDb};
use sqlx::{Connection, Executor, PgConnection};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/migrate")
        .join(name)
}

/// How golang-migrate's CLI ends.
#[derive(Clone, Debug)]
enum Said {
    /// Exit 0 after running migrations (its per-file lines are its own).
    Ran,
    /// Exit 0, `ErrNoChange`: the console's sentence, with where the database is.
    NoChange(&'static str),
    /// Exit 1, `error: …`.
    Error(String),
}

use Said::{NoChange, Ran};

fn error(text: &str) -> Said {
    Said::Error(text.to_string())
}

/// `versionExists`' error for a version the source has no file for.
fn no_migration(v: u64) -> Said {
    Said::Error(format!(
        "no migration found for version {v}: read down for version {v} .: file does not exist"
    ))
}

const FILE_DOES_NOT_EXIST: &str = "file does not exist";

/// A database and a migrations folder, driven through the binary, read through one
/// connection (a debug build's SCRAM handshake is most of a connect's cost).
struct Case {
    // Closed before the database is dropped.
    conn: tokio::sync::Mutex<PgConnection>,
    db: TestDb,
    data: PathBuf,
    dir: PathBuf,
}

impl Case {
    async fn new(dir: PathBuf) -> Self {
        let db = TestDb::create().await;
        let data = std::env::temp_dir().join(format!("{}-conformance", db.name));
        let conn = tokio::sync::Mutex::new(PgConnection::connect(&db.url).await.expect("connect"));
        let case = Self {
            db,
            data,
            dir,
            conn,
        };
        case.sql("CREATE TABLE seq (n serial PRIMARY KEY, body text NOT NULL)")
            .await;
        case
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = common::binary(&self.db.url, &self.data);
        cmd.env("HOLOMUSH_MIGRATIONS_DIR", &self.dir)
            .env("HOLOMUSH_LOG", "warn")
            .args(["migrate"])
            .args(args);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Output {
        tokio::process::Command::from(self.command(args))
            .output()
            .await
            .expect("run holomush-admin")
    }

    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.db.url).await.expect("connect")
    }

    async fn sql(&self, sql: &str) {
        self.conn.lock().await.execute(sql).await.expect(sql);
    }

    /// `schema_migrations`' rows; none at golang-migrate's nil version (or no table yet).
    async fn version(&self) -> Vec<(i64, bool)> {
        let mut c = self.conn.lock().await;
        let exists: bool =
            sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
                .fetch_one(&mut *c)
                .await
                .expect("probe");
        if !exists {
            return Vec::new();
        }
        sqlx::query_as("SELECT version, dirty FROM schema_migrations")
            .fetch_all(&mut *c)
            .await
            .expect("version")
    }

    /// What the files ran, in order: the stub database's migration sequence.
    async fn seq(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT body FROM seq ORDER BY n")
            .fetch_all(&mut *self.conn.lock().await)
            .await
            .expect("seq")
    }

    async fn table_exists(&self, name: &str) -> bool {
        sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(name)
            .fetch_one(&mut *self.conn.lock().await)
            .await
            .expect("probe")
    }

    /// Runs `step` and checks the end, the version and the sequence so far.
    async fn step(&self, step: &Step, what: &str) {
        let o = self.run(step.args).await;
        let what = format!("{what}: migrate {}", step.args.join(" "));
        check(&o, &step.said, &what);
        assert_eq!(self.version().await, step.version, "version, {what}");
        assert_eq!(self.seq().await, step.seq, "sequence, {what}");
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// The exit status and the last thing said, as `said` wants them.
fn check(o: &Output, said: &Said, what: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let end = stderr.trim_end();
    match said {
        Said::Ran => {
            assert_eq!(o.status.code(), Some(0), "{what}: {stderr}");
            assert!(!end.contains("error: "), "{what}: {stderr}");
        }
        Said::NoChange(at) => {
            assert_eq!(o.status.code(), Some(0), "{what}: {stderr}");
            // The job's last line, after its `  0.012s  ` time.
            let last = end.lines().last().unwrap_or_default();
            let sentence = last.trim_start().split_once("s  ").map_or(last, |(_, s)| s);
            assert_eq!(
                sentence,
                format!("no change: the database is at {at}"),
                "{what}"
            );
        }
        Said::Error(text) => {
            assert_eq!(o.status.code(), Some(1), "{what}: {stderr}");
            // A file's text may span lines: everything after the last `error: ` line start.
            let said = end
                .rsplit_once("\nerror: ")
                .map(|(_, e)| e)
                .or_else(|| end.strip_prefix("error: "))
                .unwrap_or(end);
            assert_eq!(said, text, "{what}");
        }
    }
}

/// One command, and what golang-migrate's CLI leaves: how it ends, `schema_migrations`' rows
/// and the sequence the files logged since the chain began.
struct Step {
    args: &'static [&'static str],
    said: Said,
    version: &'static [(i64, bool)],
    seq: &'static [&'static str],
}

fn step(
    args: &'static [&'static str],
    said: Said,
    version: &'static [(i64, bool)],
    seq: &'static [&'static str],
) -> Step {
    Step {
        args,
        said,
        version,
        seq,
    }
}

/// Steps run in order on a fresh database set up by `setup`; `what` names the peer's case.
struct Chain {
    what: &'static str,
    dir: PathBuf,
    setup: String,
    steps: Vec<Step>,
}

/// At most this many chains at once across the suite: each run holds a few connections on a
/// server other tests share, and two cores gain nothing from more.
static LANES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(6);

async fn run_chain(chain: Chain) -> Case {
    let _lane = LANES.acquire().await.expect("lanes");
    let case = Case::new(chain.dir).await;
    if !chain.setup.is_empty() {
        case.sql(&chain.setup).await;
    }
    for s in &chain.steps {
        case.step(s, chain.what).await;
    }
    case
}

/// Independent chains run side by side; the cases come back for further checks.
async fn run_all(chains: Vec<Chain>) -> Vec<Case> {
    futures_util::future::join_all(chains.into_iter().map(run_chain)).await
}

const NIL: &[(i64, bool)] = &[];

/// `schema_migrations` as golang-migrate's driver creates it, at `version`.
fn at(version: i64, dirty: bool) -> String {
    format!("CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES ({version}, {dirty});")
}

/// One chain on the stub source, from `from` (`None`: the nil version, no table).
fn stub(what: &'static str, from: Option<i64>, steps: Vec<Step>) -> Chain {
    Chain {
        what,
        dir: fixture("stub"),
        setup: from.map_or(String::new(), |v| at(v, false)),
        steps,
    }
}

/// `migrate_test.go` `TestSteps` (`up N` is `Steps(N)`, `down N` is `Steps(-N)`), each row
/// from the version the table reaches it at, with `TestReadUp`/`TestReadDown` rows for the
/// same rules. (Every row of `TestRead`, `TestReadUp` and `TestReadDown` is checked on the
/// engine's plan in `ops/src/migrate/engine.rs`.)
#[tokio::test]
async fn steps() {
    run_all(vec![
        stub(
            "TestSteps: step must be != 0",
            None,
            vec![step(&["up", "0"], NoChange("no version"), NIL, &[])],
        ),
        stub(
            "TestSteps: can't go Down if ErrNilVersion",
            None,
            vec![step(&["down", "1"], error(FILE_DOES_NOT_EXIST), NIL, &[])],
        ),
        stub(
            "TestSteps: migrate Up in bigger step",
            None,
            vec![step(
                &["up", "4"],
                Ran,
                &[(5, false)],
                &["CREATE 1", "CREATE 3", "CREATE 4"],
            )],
        ),
        stub(
            "TestSteps: up 1 at the last version",
            Some(7),
            vec![step(
                &["up", "1"],
                error(FILE_DOES_NOT_EXIST),
                &[(7, false)],
                &[],
            )],
        ),
        stub(
            "TestSteps: apply one migration, then reaches out of boundary (up)",
            Some(5),
            vec![step(
                &["up", "2"],
                error("limit 1 short"),
                &[(7, false)],
                &["CREATE 7"],
            )],
        ),
        stub(
            "TestSteps: migrate Down in bigger step",
            Some(7),
            vec![step(
                &["down", "4"],
                Ran,
                &[(1, false)],
                &["DROP 7", "DROP 5", "DROP 4"],
            )],
        ),
        stub(
            "TestSteps: apply one migration, then reaches out of boundary (down)",
            Some(1),
            vec![step(
                &["down", "2"],
                error("limit 1 short"),
                NIL,
                &["DROP 1"],
            )],
        ),
        stub(
            "TestSteps: migrate all the way Down, 3 has no down",
            Some(4),
            vec![
                step(&["down", "1"], Ran, &[(3, false)], &["DROP 4"]),
                step(&["down", "1"], Ran, &[(1, false)], &["DROP 4"]),
            ],
        ),
        stub(
            "TestReadUp: from 2, a version without a file",
            Some(2),
            vec![step(&["up"], no_migration(2), &[(2, false)], &[])],
        ),
        stub(
            "TestReadDown: from 6, a version without a file",
            Some(6),
            vec![step(&["down", "1"], no_migration(6), &[(6, false)], &[])],
        ),
    ])
    .await;
}

/// `migrate_test.go` `TestMigrate` (`goto V` is `Migrate(V)`) and `TestRead` rows.
#[tokio::test]
async fn goto() {
    run_all(vec![
        stub(
            "TestMigrate: goto 0 from nil",
            None,
            vec![step(&["goto", "0"], no_migration(0), NIL, &[])],
        ),
        stub(
            "TestMigrate: goto 2 from 1",
            Some(1),
            vec![step(&["goto", "2"], no_migration(2), &[(1, false)], &[])],
        ),
        stub(
            "TestRead: from nil to 5, 5 has no up migration",
            None,
            vec![step(
                &["goto", "5"],
                Ran,
                &[(5, false)],
                &["CREATE 1", "CREATE 3", "CREATE 4"],
            )],
        ),
        stub(
            "TestMigrate: migrate all the way Up in one step",
            Some(1),
            vec![step(
                &["goto", "7"],
                Ran,
                &[(7, false)],
                &["CREATE 3", "CREATE 4", "CREATE 7"],
            )],
        ),
        stub(
            "TestMigrate: migrate all the way Down in one step",
            Some(7),
            vec![step(
                &["goto", "1"],
                Ran,
                &[(1, false)],
                &["DROP 7", "DROP 5", "DROP 4"],
            )],
        ),
        stub(
            "TestMigrate: can't migrate the same version twice",
            Some(1),
            vec![step(&["goto", "1"], NoChange("1"), &[(1, false)], &[])],
        ),
        stub(
            "TestMigrate: goto 6 from 7",
            Some(7),
            vec![step(&["goto", "6"], no_migration(6), &[(7, false)], &[])],
        ),
        stub(
            "TestRead: from 8, a version without a file",
            Some(8),
            vec![step(&["goto", "7"], no_migration(8), &[(8, false)], &[])],
        ),
    ])
    .await;
}

/// `migrate_test.go` `TestUpAndDown` (`up` is `Up()`, `down --all` is `Down()`), with
/// `ErrNoChange` at either end (`readUp` with nothing next, `readDown` at the nil version).
#[tokio::test]
async fn up_and_down() {
    run_all(vec![stub(
        "TestUpAndDown",
        None,
        vec![
            step(
                &["up"],
                Ran,
                &[(7, false)],
                &["CREATE 1", "CREATE 3", "CREATE 4", "CREATE 7"],
            ),
            step(
                &["up"],
                NoChange("7"),
                &[(7, false)],
                &["CREATE 1", "CREATE 3", "CREATE 4", "CREATE 7"],
            ),
            step(
                &["down", "--all", "--yes"],
                Ran,
                NIL,
                &[
                    "CREATE 1", "CREATE 3", "CREATE 4", "CREATE 7", "DROP 7", "DROP 5", "DROP 4",
                    "DROP 1",
                ],
            ),
            step(
                &["down", "--all", "--yes"],
                NoChange("no version"),
                NIL,
                &[
                    "CREATE 1", "CREATE 3", "CREATE 4", "CREATE 7", "DROP 7", "DROP 5", "DROP 4",
                    "DROP 1",
                ],
            ),
        ],
    )])
    .await;
}

/// `migrate_test.go` `TestMigrateDirty`, `TestStepsDirty`, `TestUpDirty`, `TestDownDirty`
/// (version 0, dirty), `Steps(0)` (which answers before it reads the version: `migrate.go`
/// `Steps`), and `TestForce`.
#[tokio::test]
async fn dirty_refuses_until_forced() {
    // A refusal changes nothing, so one database serves them all, in the peer's order.
    let dirty = || error("Dirty database version 0. Fix and force version.");
    run_all(vec![Chain {
        what: "dirty at version 0",
        dir: fixture("stub"),
        setup: at(0, true),
        steps: vec![
            // TestMigrateDirty
            step(&["goto", "1"], dirty(), &[(0, true)], &[]),
            // TestStepsDirty
            step(&["up", "1"], dirty(), &[(0, true)], &[]),
            // TestUpDirty
            step(&["up"], dirty(), &[(0, true)], &[]),
            // TestDownDirty
            step(&["down", "--all", "--yes"], dirty(), &[(0, true)], &[]),
            // Steps(0)
            step(&["up", "0"], NoChange("0"), &[(0, true)], &[]),
            // TestForce
            step(&["force", "7"], Ran, &[(7, false)], &[]),
        ],
    }])
    .await;
}

/// `migrate.go` on a source with no migration, as issue 17 lists them: `readUp`'s
/// `First()` (`source/iofs/iofs.go`: `first .: file does not exist`), `readDown`'s
/// `os.ErrNotExist` for `down 1` and `ErrNoChange` for `down --all`, `read`'s
/// `versionExists` for `goto`. `status` lists the folder's one file as ignored.
#[tokio::test]
async fn a_folder_without_migrations() {
    // Nothing here changes the database, so one database serves every command.
    let cases = run_all(vec![Chain {
        what: "no migration file",
        dir: fixture("empty"),
        setup: String::new(),
        steps: vec![
            step(&["up"], error("first .: file does not exist"), NIL, &[]),
            step(&["down", "1"], error(FILE_DOES_NOT_EXIST), NIL, &[]),
            step(
                &["down", "--all", "--yes"],
                NoChange("no version"),
                NIL,
                &[],
            ),
            step(&["goto", "1"], no_migration(1), NIL, &[]),
        ],
    }])
    .await;
    let o = cases[0].run(&["status"]).await;
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "no version\nledger: golang-migrate\ndatabase: golang-migrate only: schema_migrations is the ledger.\nignored: README.md (not a golang-migrate migration file name: golang-migrate skips it)\n"
    );
}

/// `source/iofs/iofs.go` `Init` skips a file `source.Parse` refuses; the names are
/// `source/parse_test.go`'s `ErrParse` rows, beside its valid ones. None of the skipped files
/// is read (each would fail as SQL).
#[tokio::test]
async fn files_outside_the_pattern_are_skipped() {
    let cases = run_all(vec![Chain {
        what: "iofs",
        dir: fixture("iofs"),
        setup: String::new(),
        steps: vec![step(&["up"], Ran, &[(20170412214116, false)], &[])],
    }])
    .await;
    let case = &cases[0];
    for table in ["foobar", "unix_time", "date_foobar"] {
        assert!(case.table_exists(table).await, "{table}");
    }
    let (o, json) = tokio::join!(case.run(&["status"]), case.run(&["status", "--json"]));
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let ignored: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ignored: "))
        .collect();
    let why = "(not a golang-migrate migration file name: golang-migrate skips it)";
    assert_eq!(
        ignored,
        [
            "-1_foobar.up.sql",
            "1.up.sql",
            "1_foobar.down",
            "1_foobar.sql",
            "1_foobar.up",
            "README.md",
            "foobar.up.sql",
        ]
        .map(|n| format!("{n} {why}"))
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(json["ignored"][0], "-1_foobar.up.sql");
    assert_eq!(json["ignored"].as_array().map(Vec::len), Some(7));
    assert_eq!(json["version"], 20170412214116_i64);

    // The Migrations page lists them too.
    let mut serve = common::binary(&case.db.url, &case.data);
    serve.env("HOLOMUSH_MIGRATIONS_DIR", &case.dir).arg("serve");
    let web = common::Web::start(serve, &case.data, "conformance-pw");
    let page = web.page("/migrations");
    let card = page
        .split_once(r#"data-testid="ignored""#)
        .map(|(_, card)| card.split_once("</section>").map_or(card, |(c, _)| c))
        .unwrap_or_default();
    assert!(
        card.contains("Not golang-migrate migration file names, so golang-migrate skips them, and so does the console:"),
        "{page}"
    );
    let listed: Vec<&str> = card
        .split("<code>")
        .skip(1)
        .filter_map(|c| c.split_once("</code>").map(|(name, _)| name))
        .collect();
    assert_eq!(
        listed,
        [
            "-1_foobar.up.sql",
            "1.up.sql",
            "1_foobar.down",
            "1_foobar.sql",
            "1_foobar.up",
            "README.md",
            "foobar.up.sql",
        ]
    );
}

/// `source/iofs/iofs.go` `Init` (`ms.Append` refuses a second up of a version:
/// `source/errors.go` `duplicate migration file: NAME`, NAME the later file in name order);
/// `migrate.New` fails, so every command does, exit 1, and nothing is written.
#[tokio::test]
async fn a_duplicate_version_is_refused() {
    let cases = run_all(vec![Chain {
        what: "duplicate",
        dir: fixture("duplicate"),
        setup: String::new(),
        steps: vec![step(
            &["up"],
            error("duplicate migration file: 1_foobar.up.sql"),
            NIL,
            &[],
        )],
    }])
    .await;
    assert!(!cases[0].table_exists("schema_migrations").await);
}

/// `database/pgx/v5/pgx_test.go` `TestMultipleStatements`: a file is one statement string,
/// both tables made.
#[tokio::test]
async fn multiple_statements_in_one_file() {
    let folder = Folder::new(&[(
        "1_case.up.sql",
        "CREATE TABLE foo (foo text); CREATE TABLE bar (bar text);",
    )]);
    let cases = run_all(vec![Chain {
        what: "TestMultipleStatements",
        dir: folder.0.clone(),
        setup: String::new(),
        steps: vec![step(&["up"], Ran, &[(1, false)], &[])],
    }])
    .await;
    assert!(cases[0].table_exists("foo").await && cases[0].table_exists("bar").await);
}

/// The pgx/v5 driver's failures (`database/pgx/v5/pgx.go` `runStatement` and
/// `computeLineFromPos`): `migration failed: MSG (column C)[, DETAIL] in line L: BODY
/// (details: SEVERITY: MSG (SQLSTATE CODE))`, the version left dirty, nothing of the file kept
/// (the string runs as one implicit transaction).
#[tokio::test]
async fn failures_in_the_pgx_v5_drivers_words() {
    let cases: [(&str, &str, &str); 7] = [
        // pgx_test.go `TestErrorParsing`, word for word.
        (
            "CREATE TABLE foo (foo text); CREATE TABLEE bar (bar text);",
            r#"migration failed: syntax error at or near "TABLEE" (column 37) in line 1: CREATE TABLE foo (foo text); CREATE TABLEE bar (bar text); (details: ERROR: syntax error at or near "TABLEE" (SQLSTATE 42601))"#,
            "foo",
        ),
        // pgx.go: PostgreSQL gives no position (pgconn's `Position` is 0), which
        // `computeLineFromPos` reads as line 1, column 0.
        (
            "CREATE TABLE kept (id int); DROP TABLE nope;",
            r#"migration failed: table "nope" does not exist (column 0) in line 1: CREATE TABLE kept (id int); DROP TABLE nope; (details: ERROR: table "nope" does not exist (SQLSTATE 42P01))"#,
            "kept",
        ),
        // pgx.go: a detail follows the column, before ` in line`.
        (
            "CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (1), (1);",
            r#"migration failed: duplicate key value violates unique constraint "kept_pkey" (column 0), Key (id)=(1) already exists. in line 1: CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (1), (1); (details: ERROR: duplicate key value violates unique constraint "kept_pkey" (SQLSTATE 23505))"#,
            "kept",
        ),
        // pgx_test.go `Test_computeLineFromPos` row 0 (position 15: line 2, column 6).
        (
            "CREATE TABLE kept (id int);\nSELECT *\nFROM foo",
            "migration failed: relation \"foo\" does not exist (column 6) in line 3: CREATE TABLE kept (id int);\nSELECT *\nFROM foo (details: ERROR: relation \"foo\" does not exist (SQLSTATE 42P01))",
            "kept",
        ),
        // Row 5 (an empty line between: line 3, column 1).
        (
            "SELECT *\n\nFROMM foo",
            "migration failed: syntax error at or near \"FROMM\" (column 1) in line 3: SELECT *\n\nFROMM foo (details: ERROR: syntax error at or near \"FROMM\" (SQLSTATE 42601))",
            "foo",
        ),
        // Row 0 with non-ASCII before the position: positions count characters, not bytes
        // (position 20: line 2, column 6).
        (
            "SELECT 'é', *\nFROM foo",
            "migration failed: relation \"foo\" does not exist (column 6) in line 2: SELECT 'é', *\nFROM foo (details: ERROR: relation \"foo\" does not exist (SQLSTATE 42P01))",
            "foo",
        ),
        // Row 0 with CRLF: PostgreSQL counts the `\r` (position 16) but the driver reads the
        // text with CRLF turned to LF, so golang-migrate says column 7.
        (
            "SELECT *\r\nFROM foo",
            "migration failed: relation \"foo\" does not exist (column 7) in line 2: SELECT *\r\nFROM foo (details: ERROR: relation \"foo\" does not exist (SQLSTATE 42P01))",
            "foo",
        ),
    ];
    let folders: Vec<Folder> = cases
        .iter()
        .map(|(body, _, _)| Folder::new(&[("1_case.up.sql", body)]))
        .collect();
    let chains = cases
        .iter()
        .zip(&folders)
        .map(|((_, said, _), f)| Chain {
            what: "pgx/v5 failure",
            dir: f.0.clone(),
            setup: String::new(),
            steps: vec![step(&["up"], error(said), &[(1, true)], &[])],
        })
        .collect();
    let done = run_all(chains).await;
    for ((body, _, not_kept), case) in cases.iter().zip(&done) {
        assert!(!case.table_exists(not_kept).await, "{body}");
    }
}

/// `database/pgx/v5/pgx.go` `Lock` (`pg_advisory_lock` of `GenerateAdvisoryLockId(
/// DatabaseName, schema, table)`): `Open` gives it the URL's path (`/db`, the same for
/// `postgres://` and `pgx5://` URLs), `WithInstance` without one `current_database()`. A
/// holder of either id makes `up` wait, nothing applied, until it lets go.
#[tokio::test]
async fn either_golang_migrate_lock_holds_up_back() {
    let (a, b) = tokio::join!(Case::new(fixture("stub")), Case::new(fixture("stub")));
    let path = format!("/{}", a.db.name);
    let current = b.db.name.clone();
    tokio::join!(held_back(&a, &path), held_back(&b, &current));
}

async fn held_back(case: &Case, database: &str) {
    let id = lock::lock_id(database, "public", "schema_migrations");
    let mut holder = case.connect().await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(id)
        .execute(&mut holder)
        .await
        .expect("lock");
    let mut cmd = tokio::process::Command::from(case.command(&["up"]));
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(case.version().await, NIL, "{database}: waiting");
    assert_eq!(
        case.seq().await,
        Vec::<String>::new(),
        "{database}: waiting"
    );
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(id)
        .execute(&mut holder)
        .await
        .expect("unlock");
    let o = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("up ends once the lock is free")
        .expect("output");
    check(&o, &Ran, database);
    assert_eq!(case.version().await, [(7, false)]);
    assert_eq!(
        case.seq().await,
        ["CREATE 1", "CREATE 3", "CREATE 4", "CREATE 7"]
    );
}
