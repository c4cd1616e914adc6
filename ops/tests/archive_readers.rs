//! Archives every server's own tools read: a backup is written by the pg_dump of the
//! server's own major when one is installed, so that major's pg_restore (Debian's
//! `/usr/lib/postgresql/15/bin/pg_restore`, the one in a `postgres:15` container) reads it,
//! and the console's own restore (the newest pg_restore) still does. The other test names
//! the pg_dump a backup of the server under test uses, in its manifest and in Settings.

use std::path::Path;

use ops::backup::{header, tools};
use ops::model::{JobOutput, JobStatus, JobView, Manifest};
use ops::pgtools::{self, Binary, Needs, Tool};
use ops::testing::{server_url, TestDb};
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

/// Where Debian's postgresql-client-15 puts its tools (not on PATH).
const DEBIAN_15: &str = "/usr/lib/postgresql/15/bin";

/// `db` migrated to the end and holding 300 players.
async fn seeded(db: TestDb) -> TestDb {
    ops::migrate::Migrator::new(
        ops::migrate::Source::embedded().expect("embedded"),
        db.database_url(),
        "test",
    )
    .run(
        ops::migrate::Op::Up(None),
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect("migrate");
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(
        "INSERT INTO players (username, password_hash) SELECT 'p' || g, 'x' FROM generate_series(1, 300) g;
         INSERT INTO characters (player_id, name) SELECT id, 'c' || id FROM players;",
    )
    .await
    .expect("seed");
    c.close().await.ok();
    db
}

/// Every table of the schemas the console writes, with its rows.
async fn counts(url: &str) -> Vec<(String, i64)> {
    let mut c = PgConnection::connect(url).await.expect("connect");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables
          WHERE table_schema IN ('public', 'holomush_admin') AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables");
    let mut out = Vec::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
            .fetch_one(&mut c)
            .await
            .expect("count");
        out.push((t, n));
    }
    c.close().await.ok();
    out
}

async fn installed(tool: Tool, major: u32) -> Option<Binary> {
    pgtools::installed(tool)
        .await
        .into_iter()
        .find(|b| b.major == major)
}

/// Debian's PostgreSQL 15 `tool`, as the console finds it.
async fn debian_15(tool: Tool) -> Binary {
    let path = Path::new(DEBIAN_15).join(tool.name());
    pgtools::installed(tool)
        .await
        .into_iter()
        .find(|b| b.path == path)
        .unwrap_or_else(|| {
            panic!(
                "{} is not installed (scripts/install-toolchain.sh installs postgresql-15)",
                path.display()
            )
        })
}

fn manifest_of(view: &JobView) -> Manifest {
    match &view.output {
        Some(JobOutput::Manifest(m)) => m.clone(),
        other => panic!("the backup left no manifest: {other:?}"),
    }
}

/// `pg_restore` of `binary` (not the console's) loading `archive` into `database` on the
/// server of `db`, as an operator would on the server's host.
async fn restore_by_hand(binary: &Binary, db: &TestDb, database: &str, archive: &Path) {
    let out = tools::command(binary, &db.database_url(), Some(database))
        .args(["--no-owner", "--exit-on-error", "--dbname", database])
        .arg(archive)
        .output()
        .await
        .expect("run pg_restore");
    assert!(
        out.status.success(),
        "{} into {database}: {}",
        binary.path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn create_database(db: &TestDb, name: &str) -> TestDb {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create database");
    c.close().await.ok();
    TestDb::named_on(&db.url, name)
}

fn finished(view: &JobView) -> String {
    let result = view.result.clone().unwrap_or_default();
    assert_eq!(view.status, JobStatus::Succeeded, "{result}");
    result
}

#[tokio::test]
async fn a_backup_of_postgresql_15_is_read_by_15s_own_pg_restore_and_by_the_newest() {
    let Some(url_15) = server_url(15) else {
        eprintln!(
            "skipped: TEST_DATABASE_URL_15 is not set (scripts/test-matrix.sh sets it; or PG_MAJOR=15 scripts/dev-postgres.sh url)"
        );
        return;
    };
    let url_18 = server_url(18);
    let source = seeded(TestDb::create_on(&url_15).await).await;
    let before = counts(&source.url).await;
    assert!(before
        .iter()
        .any(|(t, n)| t == "public.players" && *n == 300));

    let console = ops::Console::open(source.config()).await.expect("open");
    let (view, file) = ops::testing::full_backup(&console).await;
    let archive = console.config.backup_dir.join(&file);
    let dump_15 = debian_15(Tool::PgDump).await;
    let restore_15 = debian_15(Tool::PgRestore).await;

    // The server's own pg_dump wrote it, said so in the job's log and in the manifest.
    let said = format!(
        "Using pg_dump {} (a system PostgreSQL), the server's own major, so PostgreSQL 15's pg_restore can read the archives.",
        dump_15.version
    );
    assert!(
        view.lines.iter().any(|l| l.text == said),
        "{said}\n{:#?}",
        view.lines
    );
    let manifest = manifest_of(&view);
    assert_eq!(manifest.pg_dump_version, dump_15.version);
    let h = header::read(&archive)
        .await
        .expect("read")
        .expect("a pg_dump archive");
    println!(
        "archive_readers: PostgreSQL 15 backup written by pg_dump {}, archive format {}.{}",
        dump_15.version, h.format.0, h.format.1
    );
    assert_eq!(h.format, (1, 14, 0));
    assert_eq!(header::dump_version(&archive).await, dump_15.version);

    // PostgreSQL 15's own pg_restore lists it…
    let listed = tools::offline(&restore_15)
        .arg("-l")
        .arg(&archive)
        .output()
        .await
        .expect("pg_restore -l");
    let toc = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(toc.contains("TABLE DATA public players"), "{toc}");

    // …and restores it into the 15 server and into the 18 server.
    let by_hand = create_database(&source, &format!("{}_by15", source.name)).await;
    restore_by_hand(&restore_15, &source, &by_hand.name, &archive).await;
    assert_eq!(counts(&by_hand.url).await, before);
    let on_18 = match &url_18 {
        Some(u) => Some(TestDb::create_on(u).await),
        None => {
            eprintln!(
                "TEST_DATABASE_URL_18 is not set: the restores into PostgreSQL 18 are skipped"
            );
            None
        }
    };
    if let Some(on_18) = &on_18 {
        let by_hand_18 = create_database(on_18, &format!("{}_by15", on_18.name)).await;
        restore_by_hand(&restore_15, on_18, &by_hand_18.name, &archive).await;
        assert_eq!(counts(&by_hand_18.url).await, before);
    }

    // The console's own restore runs the newest pg_restore, into 15 and into 18.
    let newest = pgtools::choose(Tool::PgRestore, Needs::default())
        .await
        .expect("a pg_restore");
    let into = format!("{}_console", source.name);
    let restored = TestDb::named_on(&source.url, &into);
    let view = console
        .start_restore_into(&file, &into, 2, None, "test")
        .await
        .expect("the restore starts")
        .follow(|_| {})
        .await;
    finished(&view);
    assert!(
        view.lines.iter().any(|l| l
            .text
            .starts_with(&format!("Using pg_restore {} (", newest.binary.version))),
        "{:#?}",
        view.lines
    );
    assert_eq!(counts(&restored.url).await, before);
    if let Some(on_18) = &on_18 {
        let target = ops::backup::restore::target_url(&on_18.url).expect("the URL parses");
        let into = format!("{}_console", on_18.name);
        let moved = TestDb::named_on(&on_18.url, &into);
        let view = console
            .start_restore_to_server(&file, &into, target, 2, None, "test")
            .await
            .expect("the restore starts")
            .follow(|_| {})
            .await;
        let result = finished(&view);
        assert!(result.ends_with(" rows match the archive."), "{result}");
        assert_eq!(counts(&moved.url).await, before);
    }
}

/// The sentence Settings, the doctor and a backup's log give for the server of `major`.
fn expected_why(major: u32, found: &[Binary]) -> (String, String) {
    let describe = |b: &Binary| b.origin.describe();
    if let Some(own) = found.iter().find(|b| b.major == major) {
        return (
            own.version.clone(),
            format!(
                "pg_dump {} ({}), the server's own major, so PostgreSQL {major}'s pg_restore can read the archives.",
                own.version,
                describe(own)
            ),
        );
    }
    let newest = found
        .iter()
        .enumerate()
        .max_by_key(|(i, b)| (b.major, std::cmp::Reverse(*i)))
        .map(|(_, b)| b)
        .expect("a pg_dump is installed");
    (
        newest.version.clone(),
        format!(
            "pg_dump {} ({}), the newest installed: no pg_dump {major} was found, so the archives need pg_restore {} or newer.",
            newest.version,
            describe(newest),
            newest.major
        ),
    )
}

#[tokio::test]
async fn the_manifest_and_settings_name_the_servers_own_pg_dump_when_installed() {
    let db = seeded(TestDb::create().await).await;
    let major = tools::server_major(&db.database_url())
        .await
        .expect("server version");
    let found = pgtools::installed(Tool::PgDump).await;
    let (version, why) = expected_why(major, &found);
    // Where the matrix installs a pg_dump of this major (15 from Debian, 18 from PyPI),
    // that is the one.
    if [15, 18].contains(&major) {
        assert_eq!(
            installed(Tool::PgDump, major).await.map(|b| b.version),
            Some(version.clone()),
            "PostgreSQL {major}'s pg_dump is installed by make setup"
        );
    }
    println!("archive_readers: PostgreSQL {major}: {why}");

    let console = ops::Console::open(db.config()).await.expect("open");
    let (view, file) = ops::testing::full_backup(&console).await;
    assert!(
        view.lines.iter().any(|l| l.text == format!("Using {why}")),
        "{why}\n{:#?}",
        view.lines
    );
    let manifest = manifest_of(&view);
    assert_eq!(manifest.pg_dump_version, version);
    let listed = console.backups().await.expect("list");
    assert_eq!(
        listed
            .iter()
            .find(|m| m.file == file)
            .map(|m| m.pg_dump_version.as_str()),
        Some(version.as_str())
    );
    let h = header::read(&console.config.backup_dir.join(&file))
        .await
        .expect("read")
        .expect("a pg_dump archive");
    assert_eq!(
        header::dump_version(&console.config.backup_dir.join(&file)).await,
        version
    );
    println!(
        "archive_readers: PostgreSQL {major}: pg_dump {version} wrote archive format {}.{}",
        h.format.0, h.format.1
    );

    // Settings' client tools say the same.
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    let settings = ops::diagnose::settings::view(&db.config(), &pool).await;
    pool.close().await;
    let dump = settings
        .tools
        .iter()
        .find(|t| t.name == "pg_dump")
        .expect("pg_dump listed");
    assert_eq!(dump.message, why);
    assert_eq!(dump.version, version);
    assert!(dump.ok);

    // So does the doctor's client_tools step, after the binaries it names.
    let report = ops::diagnose::doctor::run(&db.url).await;
    let step = report
        .steps
        .iter()
        .find(|s| s.id == ops::model::StepId::ClientTools)
        .expect("a client_tools step");
    assert!(
        step.message
            .ends_with(&format!(", not older than the server's {major}. {why}")),
        "{}",
        step.message
    );
}
