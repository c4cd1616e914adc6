//! pg_dump archives against a real PostgreSQL and the real pg_dump / pg_restore.

use std::path::{Path, PathBuf};

use ops::backup::{archive, catalog, contents, dump, restore, tools, verify, BackupKind};
use ops::migrate::{Migrator, Op, Source};
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

struct Scratch {
    dir: PathBuf,
    admin_url: String,
    databases: Vec<String>,
}

impl Scratch {
    fn new(db: &TestDb) -> Self {
        let dir = std::env::temp_dir().join(format!("{}-backups", db.name));
        let _ = std::fs::remove_dir_all(&dir);
        Self {
            dir,
            admin_url: db.url.clone(),
            databases: Vec::new(),
        }
    }

    fn target(&mut self, db: &TestDb, suffix: &str) -> String {
        let name = format!("{}_{suffix}", db.name);
        self.databases.push(name.clone());
        name
    }

    async fn cleanup(&self) {
        if let Ok(mut c) = PgConnection::connect(&self.admin_url).await {
            for d in &self.databases {
                let _ = c
                    .execute(format!("DROP DATABASE IF EXISTS \"{d}\" WITH (FORCE)").as_str())
                    .await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn seeded() -> TestDb {
    let db = TestDb::create().await;
    let m = Migrator::new(
        Source::embedded().expect("embedded"),
        db.database_url(),
        "test",
    );
    m.run(Op::Up(None), &|_| {}, &CancellationToken::new())
        .await
        .expect("migrate");
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(
        "INSERT INTO players (username, password_hash) SELECT 'p' || g, 'x' FROM generate_series(1, 300) g;
         INSERT INTO characters (player_id, name) SELECT id, 'c' || id FROM players;",
    )
    .await
    .expect("seed");
    db
}

async fn counts(url: &str) -> Vec<(String, i64)> {
    let mut c = PgConnection::connect(url).await.expect("connect");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables");
    let mut out = Vec::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{t}\""))
            .fetch_one(&mut c)
            .await
            .expect("count");
        out.push((t, n));
    }
    out
}

/// The console's key in the test database's data folder (what a console of it would hold).
fn seal(db: &TestDb) -> ops::seal::Seal {
    ops::seal::Seal::load_or_create(&db.config().data_dir).expect("the console's key")
}

fn url_for(db: &TestDb, name: &str) -> String {
    let mut u = url::Url::parse(&db.url).expect("url");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

async fn backup(db: &TestDb, dir: &Path, kind: BackupKind) -> ops::backup::Manifest {
    let url = db.database_url();
    let store = ops::backup::store::FolderStore::new(dir);
    let req = dump::Request {
        url: &url,
        store: &store,
        kind,
        by: "test",
        safety: false,
        seal: &seal(db),
    };
    let m = dump::dump(req, &|_| {}, &CancellationToken::new())
        .await
        .expect("backup");
    // Two backups of one kind in the same second would share a name.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    m
}

#[tokio::test]
async fn every_kind_round_trips_through_a_new_database() {
    let db = seeded().await;
    let mut s = Scratch::new(&db);
    let url = db.database_url();
    let full = backup(&db, &s.dir, BackupKind::Full).await;
    let schema = backup(&db, &s.dir, BackupKind::Schema).await;
    let data = backup(&db, &s.dir, BackupKind::Data).await;
    assert!(full.file.starts_with(&format!("{}_", db.name)) && full.file.ends_with(".dump"));
    assert!(schema.file.starts_with(&format!("{}_schema_", db.name)));
    assert!(data.file.starts_with(&format!("{}_data_", db.name)));
    assert_eq!(full.migration_version, Some(9));
    let on_disk = std::fs::read(s.dir.join(&full.file)).expect("archive");
    assert_eq!(on_disk.len() as u64, full.size);
    assert_eq!(full.sha256, sha256(&on_disk));
    assert!(!s.dir.join(format!("{}.partial", full.file)).exists());

    let original = counts(&db.url).await;
    let t = s.target(&db, "full");
    let out = restore::into_new(
        &url,
        &seal(&db),
        &s.dir.join(&full.file),
        &t,
        ops::backup::guest::RestoreAs::JobRole,
        2,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect("restore");
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(counts(&url_for(&db, &t)).await, original);

    let t = s.target(&db, "schema");
    restore::into_new(
        &url,
        &seal(&db),
        &s.dir.join(&schema.file),
        &t,
        ops::backup::guest::RestoreAs::JobRole,
        1,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect("schema");
    let restored = counts(&url_for(&db, &t)).await;
    assert_eq!(
        restored.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        original.iter().map(|r| r.0.clone()).collect::<Vec<_>>()
    );
    assert!(
        restored.iter().all(|(_, n)| *n == 0),
        "schema only: no rows"
    );
    // The data archive fills the schema-only copy back to the original counts.
    let mut cmd = tools::command(
        &ops::testing::tool(ops::pgtools::Tool::PgRestore).await,
        &url,
        Some(&t),
    );
    cmd.args(["--data-only", "--dbname", &t])
        .arg(s.dir.join(&data.file));
    let out = cmd.output().await.expect("pg_restore");
    // pg_restore 17+ sets transaction_timeout, which a 14–16 server refuses; nothing else may fail.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("pg_restore: error:") && !l.contains("\"transaction_timeout\""))
        .collect();
    assert!(errors.is_empty(), "{stderr}");
    assert_eq!(counts(&url_for(&db, &t)).await, original);

    let listed = catalog::list(&ops::backup::store::FolderStore::new(&s.dir))
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|m| m.kind).collect::<Vec<_>>(),
        [BackupKind::Data, BackupKind::Schema, BackupKind::Full],
        "newest first"
    );
    s.cleanup().await;
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_hand_made_archive_is_catalogued_verified_and_restored() {
    let db = seeded().await;
    let mut s = Scratch::new(&db);
    std::fs::create_dir_all(&s.dir).expect("dir");
    let url = db.database_url();
    let path = s.dir.join("by_hand.dump");
    let mut cmd = tools::command(
        &ops::testing::tool(ops::pgtools::Tool::PgDump).await,
        &url,
        None,
    );
    cmd.args(["-Fc", "-f"]).arg(&path);
    assert!(cmd.status().await.expect("pg_dump").success());
    let listed = catalog::list(&ops::backup::store::FolderStore::new(&s.dir))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].kind,
            listed[0].database.as_str(),
            listed[0].by_console
        ),
        (BackupKind::Full, db.name.as_str(), false)
    );
    assert!(verify::verify(&path, &Default::default())
        .await
        .expect("verify")
        .contains("every data block intact"));
    let t = s.target(&db, "hand");
    restore::into_new(
        &url,
        &seal(&db),
        &path,
        &t,
        ops::backup::guest::RestoreAs::JobRole,
        1,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect("restore");
    assert_eq!(counts(&url_for(&db, &t)).await, counts(&db.url).await);
    s.cleanup().await;
}

#[tokio::test]
async fn a_truncated_archive_fails_verification_and_restore_leaves_nothing_half_made() {
    let db = seeded().await;
    let mut s = Scratch::new(&db);
    let full = backup(&db, &s.dir, BackupKind::Full).await;
    let bytes = std::fs::read(s.dir.join(&full.file)).expect("read");
    let cut = s.dir.join("cut.dump");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("truncate");
    let e = verify::verify(&cut, &Default::default())
        .await
        .expect_err("damaged");
    assert!(e.to_string().contains("cut.dump"), "{e}");
    let junk = s.dir.join("junk.dump");
    std::fs::write(&junk, b"SELECT 1;").expect("junk");
    let e = verify::verify(&junk, &Default::default())
        .await
        .expect_err("not an archive");
    assert!(
        e.to_string()
            .contains("is not a pg_dump custom-format archive"),
        "{e}"
    );
    let t = s.target(&db, "junk");
    let e = restore::into_new(
        &db.database_url(),
        &seal(&db),
        &junk,
        &t,
        ops::backup::guest::RestoreAs::JobRole,
        1,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect_err("refused");
    assert!(e
        .to_string()
        .contains("not a pg_dump custom-format archive"));
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let made: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&t)
            .fetch_one(&mut c)
            .await
            .expect("q");
    assert!(
        !made,
        "nothing was created for an archive that does not read"
    );
    s.cleanup().await;
}

#[tokio::test]
async fn restore_refuses_existing_and_bad_names() {
    let db = seeded().await;
    let s = Scratch::new(&db);
    let full = backup(&db, &s.dir, BackupKind::Full).await;
    let e = restore::into_new(
        &db.database_url(),
        &seal(&db),
        &s.dir.join(&full.file),
        &db.name,
        ops::backup::guest::RestoreAs::JobRole,
        1,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect_err("exists");
    assert!(e.to_string().contains("already exists"), "{e}");
    for bad in ["Holo", "a-b", "../x", "", "1abc"] {
        assert!(restore::validate_name(bad).is_err(), "{bad}");
    }
    assert!(archive::resolve(&s.dir, "../../etc/passwd.dump").is_err());
    s.cleanup().await;
}

#[tokio::test]
async fn pg_dump_never_gets_the_password_in_its_arguments() {
    let db = seeded().await;
    let url = db.database_url();
    let password = url.password().expect("the test server uses a password");
    // Hold a lock so pg_dump waits while we read its command line.
    let mut holder = PgConnection::connect(&db.url).await.expect("connect");
    holder
        .execute("BEGIN; LOCK TABLE players IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let mut cmd = tools::command(
        &ops::testing::tool(ops::pgtools::Tool::PgDump).await,
        &url,
        None,
    );
    cmd.args(["-Fc", "--no-sync", "-f", "/dev/null"]);
    let mut child = cmd.spawn().expect("pg_dump");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let pid = child.id().expect("running");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains("pg_dump") && cmdline.contains("--no-password"),
        "{cmdline}"
    );
    assert!(
        !cmdline.contains(&password),
        "the password is not in the arguments"
    );
    holder.execute("COMMIT").await.expect("unlock");
    assert!(child.wait().await.expect("wait").success());
}

#[tokio::test]
async fn restore_in_place_swaps_in_a_complete_copy_or_changes_nothing() {
    let db = seeded().await;
    let s = Scratch::new(&db);
    let url = db.database_url();
    let full = backup(&db, &s.dir, BackupKind::Full).await;
    let archive = s.dir.join(&full.file);
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute("INSERT INTO players (username, password_hash) VALUES ('late', 'x')")
        .await
        .expect("insert");
    c.close().await.ok();

    // A damaged archive: nothing changes, nothing is left behind.
    let bytes = std::fs::read(&archive).expect("read");
    let cut = s.dir.join("cut.dump");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("truncate");
    let e = restore::in_place(
        &url,
        &seal(&db),
        &cut,
        &ops::backup::store::FolderStore::new(&s.dir),
        "test",
        ops::backup::guest::RestoreAs::JobRole,
        1,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect_err("damaged");
    assert!(
        e.to_string().contains("not changed") || e.to_string().contains("cut.dump"),
        "{e}"
    );
    let players = |u: String| async move {
        let mut c = PgConnection::connect(&u).await.expect("connect");
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM players")
            .fetch_one(&mut c)
            .await
            .expect("count")
    };
    assert_eq!(
        players(db.url.clone()).await,
        301,
        "the current database was not changed"
    );

    // A good archive: a safety backup, then the restored copy under the same name.
    let msg = restore::in_place(
        &url,
        &seal(&db),
        &archive,
        &ops::backup::store::FolderStore::new(&s.dir),
        "test",
        ops::backup::guest::RestoreAs::JobRole,
        1,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect("restore");
    assert!(
        msg.starts_with(&format!("Restored {} into \"{}\"", full.file, db.name)),
        "{msg}"
    );
    assert_eq!(
        players(db.url.clone()).await,
        300,
        "the late row is gone: the archive's state"
    );
    let listed = catalog::list(&ops::backup::store::FolderStore::new(&s.dir))
        .await
        .expect("list");
    assert!(
        listed
            .iter()
            .any(|m| m.safety && m.file.starts_with(&format!("{}_safety_", db.name))),
        "a safety backup was kept"
    );
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let left: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1 || '\\_%'")
            .bind(&db.name)
            .fetch_all(&mut c)
            .await
            .expect("databases");
    assert_eq!(
        left.len(),
        1,
        "only the previous database is kept: {left:?}"
    );
    assert!(left[0].contains("_before_restore_"));
    let _ = c
        .execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", left[0]).as_str())
        .await;
    s.cleanup().await;
}

#[tokio::test]
async fn a_restore_test_compares_row_counts_and_drops_its_scratch_database() {
    let db = seeded().await;
    let s = Scratch::new(&db);
    let url = db.database_url();
    let full = backup(&db, &s.dir, BackupKind::Full).await;
    let path = s.dir.join(&full.file);
    let held = contents::archived_row_counts(&path).await.expect("counts");
    assert_eq!(held.get("public.players"), Some(&300));
    assert_eq!(held.get("public.characters"), Some(&300));

    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let log = move |l: String| sink.lock().expect("lines").push(l);
    let summary = verify::restore_test(
        &url,
        &seal(&db),
        &path,
        ops::backup::guest::RestoreAs::JobRole,
        &log,
        &CancellationToken::new(),
    )
    .await
    .expect("the test restore passes");
    assert!(summary.contains("rows match the archive"), "{summary}");
    let lines = lines.lock().expect("lines").clone();
    assert!(lines
        .iter()
        .any(|l| l == "public.players: 300 rows (archive: 300)"));
    let scratch = lines
        .iter()
        .find_map(|l| l.strip_prefix("Test restore into the scratch database \""))
        .map(|l| l.trim_end_matches('"').to_string())
        .expect("scratch named");
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let left: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&scratch)
            .fetch_one(&mut c)
            .await
            .expect("query");
    assert!(!left, "the scratch database {scratch} was dropped");

    let data = backup(&db, &s.dir, BackupKind::Data).await;
    let refused = verify::restore_test(
        &url,
        &seal(&db),
        &s.dir.join(&data.file),
        ops::backup::guest::RestoreAs::JobRole,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect_err("a data-only archive cannot be test-restored alone");
    assert!(refused.to_string().contains("data-only"), "{refused}");

    // A truncated archive fails before any scratch database is made.
    let bytes = std::fs::read(&path).expect("read");
    let cut = s.dir.join("cut.dump");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let err = verify::restore_test(
        &url,
        &seal(&db),
        &cut,
        ops::backup::guest::RestoreAs::JobRole,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect_err("truncated");
    assert!(
        err.to_string().contains("damaged") || err.to_string().contains("could not"),
        "{err}"
    );
    s.cleanup().await;
}
