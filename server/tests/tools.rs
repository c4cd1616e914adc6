//! Client tools that do not fit: one sentence naming the version needed and how to get it,
//! and nothing written. HOLOMUSH_PG_BIN points the console at Debian's PostgreSQL 15 tools.

use std::process::{Command, Output};

use ops::testing::TestDb;

const DEBIAN_15: &str = "/usr/lib/postgresql/15/bin";

fn run(args: &[&str], vars: &[(&str, String)]) -> Output {
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
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

fn version_15() -> String {
    let out = Command::new(format!("{DEBIAN_15}/pg_dump"))
        .arg("--version")
        .output()
        .expect("Debian's pg_dump 15");
    ops::pgtools::parse_version(&String::from_utf8_lossy(&out.stdout)).expect("a version")
}

async fn server_major(db: &TestDb) -> u32 {
    ops::backup::tools::server_major(&db.database_url())
        .await
        .expect("server version")
}

#[tokio::test]
async fn a_pg_dump_older_than_the_server_is_refused_with_the_way_out() {
    let db = TestDb::create().await;
    let major = server_major(&db).await;
    if major <= 15 {
        eprintln!("skipped on PostgreSQL {major}: no client older than this server is installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("{}-tools", db.name));
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("HOLOMUSH_ADMIN_DATA", dir.display().to_string()),
        (
            "HOLOMUSH_BACKUP_DIR",
            dir.join("backups").display().to_string(),
        ),
        ("HOLOMUSH_PG_BIN", DEBIAN_15.to_string()),
    ];
    let o = run(&["backup", "create"], &vars);
    assert!(!o.status.success());
    let v = version_15();
    assert!(
        stderr(&o).ends_with(&format!(
            "pg_dump {v} ({DEBIAN_15}/pg_dump) is the newest found, but the server is PostgreSQL {major} (pg_dump cannot dump a newer server) and needs pg_dump {major} or newer: point HOLOMUSH_PG_BIN at a folder holding PostgreSQL {major} (or newer) client tools, or unset it so the console searches for them"
        )),
        "{}",
        stderr(&o)
    );
    let written: Vec<_> = std::fs::read_dir(dir.join("backups"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(written.is_empty(), "nothing written: {written:?}");

    // The doctor says the same, as its client_tools step.
    let o = run(&["doctor"], &vars);
    assert!(!o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("client_tools"), "{out}");
    assert!(
        out.contains(&format!("needs pg_dump {major} or newer")),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_archive_of_a_newer_pg_dump_needs_a_pg_restore_as_new() {
    let db = TestDb::create().await;
    let dir = std::env::temp_dir().join(format!("{}-archive", db.name));
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("HOLOMUSH_ADMIN_DATA", dir.display().to_string()),
        (
            "HOLOMUSH_BACKUP_DIR",
            dir.join("backups").display().to_string(),
        ),
    ];
    // The newest pg_dump (18, from the toolchain) writes the archive.
    let o = run(&["backup", "create", "--json"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).expect("manifest");
    let file = manifest["file"].as_str().expect("file").to_string();
    let header = ops::backup::header::read(&dir.join("backups").join(&file))
        .await
        .expect("read")
        .expect("a pg_dump archive header");
    let dump_major = header.dump_major().expect("the pg_dump version");
    assert!(dump_major >= 18, "{header:?}");
    assert_eq!(header.database.as_deref(), Some(db.name.as_str()));

    let mut with_15 = vars.to_vec();
    with_15.push(("HOLOMUSH_PG_BIN", DEBIAN_15.to_string()));
    let o = run(&["backup", "verify", &file], &with_15);
    assert!(!o.status.success());
    let v = version_15();
    assert!(
        stderr(&o).ends_with(&format!(
            "pg_restore {v} ({DEBIAN_15}/pg_restore) is the newest found, but the archive was written by pg_dump {dump_major} and needs pg_restore {dump_major} or newer: point HOLOMUSH_PG_BIN at a folder holding PostgreSQL {dump_major} (or newer) client tools, or unset it so the console searches for them"
        )),
        "{}",
        stderr(&o)
    );
    // Without the override the console finds a pg_restore that reads it.
    let o = run(&["backup", "verify", &file], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
