//! Client tools that do not fit: one sentence naming the version needed and how to get it,
//! and nothing written. HOLOMUSH_PG_BIN points the console at Debian's PostgreSQL 15 tools,
//! or at the newest only, so that no pg_dump of an older server's own major is found.

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
    // The newest pg_dump (18, from the toolchain) writes the archive: on PostgreSQL 15 the
    // console would take Debian's pg_dump 15, so HOLOMUSH_PG_BIN hides it.
    let newest = newest_pg_dump().await;
    let mut only_newest = vars.to_vec();
    only_newest.push(("HOLOMUSH_PG_BIN", newest.dir.clone()));
    let o = run(&["backup", "create", "--json"], &only_newest);
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

/// The newest pg_dump installed, and its folder.
struct Newest {
    version: String,
    major: u32,
    dir: String,
}

async fn newest_pg_dump() -> Newest {
    let c = ops::pgtools::choose(ops::pgtools::Tool::PgDump, ops::pgtools::Needs::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Newest {
        version: c.binary.version.clone(),
        major: c.binary.major,
        dir: c
            .binary
            .path
            .parent()
            .expect("a folder")
            .display()
            .to_string(),
    }
}

/// A database on a server older than `major`: the server under test when it is, else the
/// oldest of the matrix's other servers (TEST_DATABASE_URL_<major>).
async fn older_than(major: u32) -> Option<(TestDb, u32)> {
    let db = TestDb::create().await;
    let own = server_major(&db).await;
    if own < major {
        return Some((db, own));
    }
    for m in 14..major {
        if let Some(url) = ops::testing::server_url(m) {
            let db = TestDb::create_on(&url).await;
            let got = server_major(&db).await;
            return Some((db, got));
        }
    }
    None
}

#[tokio::test]
async fn without_the_servers_own_pg_dump_the_newest_writes_and_says_what_reads_it() {
    let newest = newest_pg_dump().await;
    let Some((db, major)) = older_than(newest.major).await else {
        eprintln!(
            "skipped: no server older than pg_dump {} here (set TEST_DATABASE_URL_15, as scripts/test-matrix.sh does)",
            newest.major
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("{}-fallback", db.name));
    // Only the newest tools' folder is searched: no pg_dump of the server's major is found.
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("HOLOMUSH_ADMIN_DATA", dir.display().to_string()),
        (
            "HOLOMUSH_BACKUP_DIR",
            dir.join("backups").display().to_string(),
        ),
        ("HOLOMUSH_PG_BIN", newest.dir.clone()),
    ];
    let why = format!(
        "pg_dump {} (HOLOMUSH_PG_BIN), the newest installed: no pg_dump {major} was found, so the archives need pg_restore {} or newer.",
        newest.version, newest.major
    );
    let o = run(&["backup", "create", "--json"], &vars);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
    assert!(
        log.lines().any(|l| l.ends_with(&format!("  Using {why}"))),
        "{why}\n{log}"
    );
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).expect("manifest");
    assert_eq!(manifest["pg_dump_version"], newest.version.as_str());
    let file = manifest["file"].as_str().expect("file").to_string();
    let o = run(&["backup", "list"], &vars);
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&file) && l.contains(&format!(" pg_dump {} ", newest.version))),
        "{listed}"
    );

    // The doctor's client_tools step says the same, after the binaries it names.
    let o = run(&["doctor"], &vars);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let d = &newest.dir;
    let v = &newest.version;
    let step = format!(
        "Using pg_dump {v} ({d}/pg_dump), pg_restore {v} ({d}/pg_restore), psql {v} ({d}/psql), not older than the server's {major}. {why}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("pass  client_tools") && l.contains(&step)),
        "{step}\n{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
