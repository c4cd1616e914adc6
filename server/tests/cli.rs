//! The binary as an operator meets it: its help, its start-up errors, `info` and `activity`.

use std::process::{Command, Output};

use ops::testing::TestDb;

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
    assert_eq!(o.status.code(), Some(2));
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
