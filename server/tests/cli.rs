//! The binary as an operator meets it: its help, its start-up errors, `info` and `activity`.

mod common;

use std::process::{Command, Output};

use ops::testing::TestDb;
use sqlx::Connection;

fn run(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_holomush-admin"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run holomush-admin")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn help_lists_the_commands() {
    let o = run(&["--help"], &[]);
    assert!(o.status.success());
    let text = stdout(&o);
    for command in ["serve", "info", "activity"] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
}

#[test]
fn without_database_url_it_shows_the_seed_example() {
    let o = run(&["serve"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "error: DATABASE_URL is not set: set it to a PostgreSQL connection URL, for example \
         DATABASE_URL=\"postgres://holomush:secret@localhost:5432/holomush?sslmode=require\"."
    );
}

#[test]
fn a_bad_value_stops_start_up_with_one_sentence() {
    let o = run(
        &["serve"],
        &[
            ("DATABASE_URL", "postgres://u:hunter2@localhost/db"),
            ("DB_MAX_CONNS", "abc"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: DB_MAX_CONNS=\"abc\" is not valid"),
        "{err}"
    );
    let o = run(
        &["info"],
        &[("DATABASE_URL", "mysql://u:hunter2@localhost/db")],
    );
    assert!(
        stderr(&o).contains("mysql://u:****@localhost/db"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("hunter2"));
}

#[test]
fn without_a_password_it_will_not_listen_beyond_loopback() {
    let o = run(
        &["serve"],
        &[
            ("DATABASE_URL", "postgres://u:pw@localhost/db"),
            ("HOLOMUSH_ADMIN_ADDR", "0.0.0.0:0"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a loopback address and HOLOMUSH_ADMIN_PASSWORD is not set"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn info_reports_the_real_server() {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-cli", db.name));
    let data = data.display().to_string();
    let vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", data.as_str()),
    ];
    let o = run(&["info"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await
        .expect("version");
    assert!(
        text.contains(&format!("Server:      PostgreSQL {version}")),
        "{text}"
    );
    assert!(text.contains("Migrations:  no migrations table"), "{text}");
    assert!(text.contains("Last backup: none yet"), "{text}");
    assert!(text.contains("No full backup yet: take one"), "{text}");
    let password = url::Url::parse(&db.url)
        .expect("url")
        .password()
        .unwrap_or("")
        .to_string();
    assert!(
        password.is_empty() || !text.contains(&password),
        "the password is masked"
    );

    let o = run(&["info", "--json"], &vars);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(json["database"], db.name.as_str());
    assert_eq!(json["connection"]["Up"]["server_version"], version.as_str());
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn info_on_a_closed_port_fails_with_a_sentence() {
    let o = run(
        &["info"],
        &[
            ("DATABASE_URL", "postgres://u:pw@127.0.0.1:1/db"),
            ("DB_MIN_CONNS", "0"),
        ],
    );
    assert_eq!(o.status.code(), Some(5), "unavailable: 5");
    assert!(
        stderr(&o).contains("Could not connect to 127.0.0.1:1: the connection was refused."),
        "{}",
        stderr(&o)
    );
}

#[test]
fn activity_lists_the_audit_log() {
    let dir = std::env::temp_dir().join(format!("holomush-cli-activity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = ops::audit::AuditLog::open(&dir).expect("open");
    log.record(ops::audit::Entry::new("admin", "login", "console"))
        .expect("write");
    log.record(
        ops::audit::Entry::new("anonymous", "login.failed", "console")
            .failed("wrong password from 10.0.0.9"),
    )
    .expect("write");
    let d = dir.display().to_string();
    let vars = [
        ("DATABASE_URL", "postgres://u@localhost/db"),
        ("HOLOMUSH_ADMIN_DATA", d.as_str()),
    ];
    let o = run(&["activity", "--failed"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("login.failed") && text.contains("10.0.0.9"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn migrate_commands_work_as_the_seed_writes_them() {
    let db = TestDb::create().await;
    let dir = std::env::temp_dir().join(format!("{}-migrations", db.name));
    std::fs::create_dir_all(&dir).expect("dir");
    for (name, body) in [
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "CREATE TABLE b (id int);"),
        ("2_b.down.sql", "DROP TABLE b;"),
        ("3_c.up.sql", "CREATE TABLE c (id int);"),
        ("3_c.down.sql", "DROP TABLE c;"),
    ] {
        std::fs::write(dir.join(name), body).expect("write");
    }
    let data = std::env::temp_dir()
        .join(format!("{}-cli-migrate", db.name))
        .display()
        .to_string();
    let d = dir.display().to_string();
    let vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", data.as_str()),
        ("HOLOMUSH_MIGRATIONS_DIR", d.as_str()),
    ];

    let o = run(&["migrate", "up"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Applied 3/up c"),
        "progress lines: {}",
        stderr(&o)
    );
    let o = run(&["migrate", "up"], &vars);
    assert!(o.status.success(), "no change is success");
    assert!(stderr(&o).contains("no change"), "{}", stderr(&o));

    let o = run(&["migrate", "status"], &vars);
    assert_eq!(stdout(&o).lines().next(), Some("3"));
    // --migrations-dir works as the variable does.
    let flag_vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", data.as_str()),
    ];
    let o = run(
        &["migrate", "status", "--migrations-dir", d.as_str()],
        &flag_vars,
    );
    assert_eq!(stdout(&o).lines().next(), Some("3"), "{}", stderr(&o));
    assert!(stdout(&o).contains("applied"));
    // ...and wins over it: the variable names a folder that does not exist.
    let missing = dir.join("missing").display().to_string();
    let both_vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", data.as_str()),
        ("HOLOMUSH_MIGRATIONS_DIR", missing.as_str()),
    ];
    let o = run(&["migrate", "status"], &both_vars);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!(
            "error: The migrations folder {missing} could not be read ("
        )) && stderr(&o).ends_with("): check HOLOMUSH_MIGRATIONS_DIR.\n"),
        "{}",
        stderr(&o)
    );
    let o = run(
        &["--migrations-dir", d.as_str(), "migrate", "status"],
        &both_vars,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().next(), Some("3"));

    let o = run(&["migrate", "down"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["migrate", "status", "--json"], &vars);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(json["version"], 2);
    assert_eq!(json["dirty"], false);
    assert_eq!(json["latest"], 3);
    assert_eq!(json["migrations"][2]["state"], "pending");
    assert_eq!(json["migrations"][0]["applied_by"], "cli");

    let o = run(&["migrate", "force", "-1"], &vars);
    assert!(
        o.status.success(),
        "force -1 works as written: {}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&run(&["migrate", "status"], &vars)).lines().next(),
        Some("no version")
    );
    let o = run(&["migrate", "force", "-2"], &vars);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("version must be >= -1"),
        "{}",
        stderr(&o)
    );
    run(&["migrate", "force", "2"], &vars);

    let o = run(&["migrate", "create", "../escape"], &vars);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a valid migration name"));
    let o = run(&["migrate", "create", "add_flags"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        dir.join("000004_add_flags.up.sql").exists()
            && dir.join("000004_add_flags.down.sql").exists()
    );
    // `migrate create` needs no database, and the flag wins there too.
    let o = run(
        &[
            "migrate",
            "create",
            "--migrations-dir",
            d.as_str(),
            "add_more",
        ],
        &both_vars[1..],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("000005_add_more.up.sql").exists());

    let o = run(&["migrate", "down", "--all"], &vars);
    assert_eq!(
        o.status.code(),
        Some(2),
        "not confirmed without a typed name"
    );
    assert!(
        stderr(&o).contains("Not confirmed: nothing was changed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&run(&["migrate", "status"], &vars)).lines().next(),
        Some("2")
    );
    let o = run(&["migrate", "down", "--all", "--yes"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&run(&["migrate", "status"], &vars)).lines().next(),
        Some("no version")
    );

    let actions: Vec<String> = common::audit_records(std::path::Path::new(&data))
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(
        actions.iter().any(|a| a == "migrate.up") && actions.iter().any(|a| a == "migrate.force"),
        "{actions:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn backup_and_restore_commands() {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-cli-backup", db.name));
    let backups = data.join("backups");
    let (d, b) = (data.display().to_string(), backups.display().to_string());
    let vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", d.as_str()),
        ("HOLOMUSH_BACKUP_DIR", b.as_str()),
    ];
    assert!(run(&["migrate", "up"], &vars).status.success());

    let o = run(&["backup", "create", "--json"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).expect("manifest JSON");
    let file = manifest["file"].as_str().expect("file").to_string();
    assert_eq!(manifest["kind"], "full");
    assert_eq!(manifest["migration_version"], 9);
    assert!(backups.join(&file).exists());

    let o = run(&["backup", "list"], &vars);
    assert!(stdout(&o).contains(&file), "{}", stdout(&o));
    let o = run(&["backup", "verify", &file], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("every data block intact"),
        "{}",
        stderr(&o)
    );
    let o = run(&["backup", "verify", &file, "--restore-test"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rows match the archive"),
        "{}",
        stderr(&o)
    );
    let listed = run(&["backup", "list", "--json"], &vars);
    assert!(
        stdout(&listed).contains("verified, restore test passed"),
        "{}",
        stdout(&listed)
    );
    // The CLI takes paths (the guide's commands pass them); a path to nothing says so.
    let o = run(&["backup", "verify", "../../etc/passwd.dump"], &vars);
    assert_eq!(o.status.code(), Some(3), "not found: 3");
    assert_eq!(
        stderr(&o).trim(),
        "error: There is no archive at ../../etc/passwd.dump: check the name with `holomush-admin backup list`."
    );

    let target = format!("{}_restored", db.name);
    let o = run(&["restore", &file, "--into", &target], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("Restored into database \"{target}\"")),
        "{}",
        stderr(&o)
    );
    let o = run(&["restore", &file, "--into", &target], &vars);
    assert_eq!(o.status.code(), Some(2), "an existing database is refused");
    assert!(stderr(&o).contains("already exists"));

    let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{target}'"
    ))
    .fetch_one(&mut c)
    .await
    .expect("q");
    assert_eq!(n, 1);
    sqlx::Executor::execute(
        &mut c,
        format!("DROP DATABASE \"{target}\" WITH (FORCE)").as_str(),
    )
    .await
    .expect("drop");

    let o = run(&["backup", "delete", &file], &vars);
    assert_eq!(
        o.status.code(),
        Some(2),
        "not deleted without the name typed"
    );
    assert!(backups.join(&file).exists());
    let o = run(&["backup", "delete", &file, "--yes"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!backups.join(&file).exists() && !backups.join(format!("{file}.json")).exists());
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn doctor_on_a_closed_port_fails_at_tcp_and_skips_the_rest() {
    let port = common::free_port();
    let url = format!("postgres://holomush:s3cret-pw@127.0.0.1:{port}/holomush");
    let o = run(&["doctor", "--json"], &[("DATABASE_URL", url.as_str())]);
    assert!(!o.status.success(), "a failing step fails the command");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(json["ok"], false);
    let steps = json["steps"].as_array().expect("steps");
    let status = |id: &str| {
        steps
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| s["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(status("parse").as_deref(), Some("pass"));
    assert_eq!(status("tcp").as_deref(), Some("fail"));
    assert_eq!(status("auth").as_deref(), Some("skip"));
    assert_eq!(status("client_tools").as_deref(), Some("skip"));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("s3cret-pw"), "{all}");
}

#[tokio::test]
async fn migrate_repair_explains_then_applies() {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-cli-repair", db.name));
    let dir = data.join("migrations");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("000001_a.up.sql"), "CREATE TABLE a (id int);").expect("write");
    std::fs::write(dir.join("000001_a.down.sql"), "DROP TABLE a;").expect("write");
    std::fs::write(
        dir.join("000002_b.up.sql"),
        "CREATE TABLE b (id int);\nSELECT * FROM nowhere;",
    )
    .expect("write");
    std::fs::write(dir.join("000002_b.down.sql"), "DROP TABLE b;").expect("write");
    let (d, m) = (data.display().to_string(), dir.display().to_string());
    let vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", d.as_str()),
        ("HOLOMUSH_MIGRATIONS_DIR", m.as_str()),
        ("HOLOMUSH_BACKUP_DIR", d.as_str()),
    ];
    assert!(!run(&["migrate", "up"], &vars).status.success());
    let o = run(&["migrate", "repair", "--json"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(r["version"], 2);
    assert_eq!(r["dirty"], true);
    assert_eq!(r["conclusion"], "not_applied");
    assert_eq!(r["recommendation"]["action"], "force");
    assert_eq!(r["recommendation"]["version"], 1);
    assert_eq!(r["lock_holders"].as_array().map(Vec::len), Some(0));
    let text = run(&["migrate", "repair"], &vars);
    assert!(stdout(&text).contains("3. What to do"), "{}", stdout(&text));
    assert!(stdout(&text).contains("--apply 1"), "{}", stdout(&text));

    let o = run(&["migrate", "repair", "--apply", "1"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Forced version 1"), "{}", stdout(&o));
    assert!(stderr(&o).contains("Safety backup"), "{}", stderr(&o));
    let o = run(&["migrate", "repair", "--json"], &vars);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(
        (r["conclusion"].clone(), r["version"].clone()),
        ("clean".into(), 1.into())
    );
    let again = run(&["migrate", "repair", "--apply", "1"], &vars);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("not dirty"), "{}", stderr(&again));
    let _ = std::fs::remove_dir_all(&data);
}

/// Runs the binary with `input` on its standard input.
fn run_with_stdin(args: &[&str], vars: &[(&str, &str)], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_holomush-admin"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run holomush-admin");
    // A command that fails before reading stdin closes it: a failed write is no error here.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    child.wait_with_output().expect("wait for holomush-admin")
}

#[tokio::test]
async fn restore_into_another_server_reads_its_url_from_stdin() {
    // The 14 server's backup restored into the 18 one when the matrix runs; else one server.
    let (db, via) = match (ops::testing::server_url(14), ops::testing::server_url(18)) {
        (Some(from), Some(to)) => (TestDb::create_on(&from).await, TestDb::create_on(&to).await),
        _ => {
            let db = TestDb::create().await;
            let via = TestDb::create_on(&db.url).await;
            (db, via)
        }
    };
    let data = std::env::temp_dir().join(format!("{}-cli-move", db.name));
    let backups = data.join("backups");
    let (d, b) = (data.display().to_string(), backups.display().to_string());
    let vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", d.as_str()),
        ("HOLOMUSH_BACKUP_DIR", b.as_str()),
        // With the matrix, the other server listens on this machine too.
        ("HOLOMUSH_ADMIN_TARGET_HOSTS", "127.0.0.1,localhost,::1"),
    ];
    assert!(run(&["migrate", "up"], &vars).status.success());
    let o = run(&["backup", "create", "--json"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).expect("manifest JSON");
    let file = manifest["file"].as_str().expect("file").to_string();

    let target = ops::config::DatabaseUrl::parse(&via.url).expect("url");
    let password = target
        .password()
        .expect("the test server's URL has a password");
    let into = format!("{}_moved", db.name);
    let moved = TestDb::named_on(&via.url, &into);
    let o = run_with_stdin(
        &["restore", &file, "--into", &into, "--target-url", "-"],
        &vars,
        &format!("{}\n", via.url),
    );
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{err}");
    let server = format!("{}:{}", target.host().as_libpq(), target.port());
    assert!(
        err.contains(&format!(
            "Restored into \"{into}\" on {server} ({}): ",
            target.masked()
        )) && err.contains(" rows match the archive."),
        "{err}"
    );
    assert!(
        !out.contains(&password) && !err.contains(&password),
        "the password was printed"
    );
    let mut c = sqlx::PgConnection::connect(&moved.url)
        .await
        .expect("connect");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM schema_migrations WHERE version = 9")
        .fetch_one(&mut c)
        .await
        .expect("the restored database has the migrations table");
    assert_eq!(n, 1);
    c.close().await.ok();

    // A URL that does not parse: one sentence, the password masked, nothing created.
    let o = run_with_stdin(
        &[
            "restore",
            &file,
            "--into",
            "holomush_never",
            "--target-url",
            "-",
        ],
        &vars,
        "mysql://holo:Sekr3tPass@db.example.com/postgres\n",
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: The target server URL cannot be used: ")
            && !err.contains("Sekr3tPass"),
        "{err}"
    );

    // --target-url is for --into only: clap refuses it without, before reading stdin.
    let o = run_with_stdin(&["restore", &file, "--target-url", "-"], &vars, "");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("required arguments were not provided")
            && stderr(&o).contains("--into"),
        "{}",
        stderr(&o)
    );
    let o = run_with_stdin(
        &["restore", &file, "--in-place", "--target-url", "-"],
        &vars,
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&data);
}

/// A goose folder from the command line: status says whose ledger, a Go migration stops
/// `up` with its sentence and a non-zero exit, `force` is refused, `create` writes goose's file.
#[tokio::test]
async fn goose_migrations_from_the_command_line() {
    let db = TestDb::create().await;
    let dir = std::env::temp_dir().join(format!("{}-goose", db.name));
    std::fs::create_dir_all(&dir).expect("dir");
    for (name, body) in [
        (
            "000001_a.sql",
            "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
        ),
        ("000030_backfill.go", "package migrations\n"),
        (
            "000031_b.sql",
            "-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n",
        ),
    ] {
        std::fs::write(dir.join(name), body).expect("write");
    }
    let data = std::env::temp_dir()
        .join(format!("{}-cli-goose", db.name))
        .display()
        .to_string();
    let d = dir.display().to_string();
    let vars = [
        ("DATABASE_URL", db.url.as_str()),
        ("HOLOMUSH_ADMIN_DATA", data.as_str()),
        ("HOLOMUSH_MIGRATIONS_DIR", d.as_str()),
    ];
    let sentence = "Version 30 (000030_backfill.go) is a Go migration, which only the holomush binary runs: start holomush (it migrates on start) to apply it, then run the console's migrations again.";

    let o = run(&["migrate", "up"], &vars);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("Applied 1/up a"), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).lines().last(),
        Some(format!("error: {sentence}").as_str())
    );

    let o = run(&["migrate", "status"], &vars);
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("1"));
    assert_eq!(lines.next(), Some("ledger: goose"));
    assert_eq!(
        lines.next(),
        Some("database: goose only: goose_db_version is the ledger.")
    );
    assert!(
        text.contains("GO: only the holomush binary runs it"),
        "{text}"
    );
    assert!(stderr(&o).contains(&format!("warning: {sentence}")));

    let o = run(&["migrate", "status", "--json"], &vars);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(json["ledger"], "goose");
    assert_eq!(json["version"], 1);
    assert_eq!(json["migrations"][1]["kind"], "go");
    assert_eq!(json["migrations"][1]["state"], "pending");
    assert_eq!(json["migrations"][1]["note"], sentence);
    assert_eq!(json["migrations"][0]["kind"], "sql");

    let o = run(&["migrate", "force", "1"], &vars);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "error: goose has no force: its ledger lists each applied version and has no dirty flag to clear; use up, down or goto instead (nothing was changed)."
    );

    let o = run(&["migrate", "create", "add_rooms"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        format!("Created {}", dir.join("000032_add_rooms.sql").display())
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&data);
}
