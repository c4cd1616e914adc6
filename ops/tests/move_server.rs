//! Moving to another server (e.g. PostgreSQL 15 → 18): a full backup of one server restored
//! into a new database on another, every table's rows compared with the archive. With
//! `TEST_DATABASE_URL_14` and `TEST_DATABASE_URL_18` set (scripts/test-matrix.sh) the dump
//! comes from 14 and the restore goes into 18; otherwise both are the server under test,
//! through a URL of its own.

use ops::backup::{contents, restore, tools};
use ops::model::{JobStatus, JobView};
use ops::testing::{server_url, TestDb};
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

/// The source database (seeded) and a database on the target server that the target URL names.
async fn pair() -> (TestDb, TestDb) {
    let (source, target_base) = match (server_url(14), server_url(18)) {
        (Some(from), Some(to)) => (TestDb::create_on(&from).await, Some(to)),
        _ => (TestDb::create().await, None),
    };
    let base = target_base.unwrap_or_else(|| source.url.clone());
    let via = TestDb::create_on(&base).await;
    let m = ops::migrate::Migrator::new(
        ops::migrate::Source::embedded().expect("embedded"),
        source.database_url(),
        "test",
    );
    m.run(
        ops::migrate::Op::Up(None),
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .expect("migrate");
    let mut c = PgConnection::connect(&source.url).await.expect("connect");
    c.execute(
        "INSERT INTO players (username, password_hash) SELECT 'p' || g, 'x' FROM generate_series(1, 300) g;
         INSERT INTO characters (player_id, name) SELECT id, 'c' || id FROM players;",
    )
    .await
    .expect("seed");
    c.close().await.ok();
    let from = tools::server_major(&source.database_url())
        .await
        .expect("major");
    let to = tools::server_major(&via.database_url())
        .await
        .expect("major");
    println!("move_server: dumped from PostgreSQL {from}, restored into PostgreSQL {to}");
    (source, via)
}

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
    out
}

async fn finished(job: std::sync::Arc<ops::jobs::Job>) -> JobView {
    job.follow(|_| {}).await
}

#[tokio::test]
async fn a_full_backup_moves_to_another_server_and_every_table_matches() {
    let (source, via) = pair().await;
    let console = ops::Console::open(source.config()).await.expect("open");
    let (_, file) = ops::testing::full_backup(&console).await;
    let archive = console.config.backup_dir.join(&file);
    let held = contents::archived_row_counts(&archive)
        .await
        .expect("archive counts");

    let target = restore::target_url(&via.url).expect("the target URL parses");
    let password = target.password();
    let into = format!("{}_moved", source.name);
    let moved = TestDb::named_on(&via.url, &into);
    let view = finished(
        console
            .start_restore_to_server(&file, &into, target.clone(), 2, None, "test")
            .await
            .expect("the restore starts"),
    )
    .await;
    let result = view.result.clone().unwrap_or_default();
    println!("move_server: {result}");
    assert_eq!(view.status, JobStatus::Succeeded, "{result}");
    let server = format!("{}:{}", target.host().as_libpq(), target.port());
    assert!(
        result.starts_with(&format!(
            "Restored into \"{into}\" on {server} ({}): ",
            target.masked()
        )),
        "{result}"
    );
    let rows: u64 = held.values().sum();
    assert!(
        result.ends_with(&format!(
            ": {} tables, {rows} rows match the archive.",
            held.len()
        )),
        "{result}"
    );
    assert_eq!(held.get("public.players"), Some(&300));

    // The target holds what the source held, table by table.
    let before = counts(&source.url).await;
    assert!(before
        .iter()
        .any(|(t, n)| t == "public.players" && *n == 300));
    assert_eq!(counts(&moved.url).await, before);

    // The password of the target URL is in no job line, job field or audit record.
    let pw = password.expect("the test server's URL has a password");
    for line in &view.lines {
        assert!(
            !line.text.contains(&pw),
            "a job line holds the password: {}",
            line.text
        );
    }
    assert!(!view.target.contains(&pw) && !result.contains(&pw));
    assert!(view.target.contains("****"), "{}", view.target);
    let audit = std::fs::read_to_string(console.audit.path()).expect("audit log");
    assert!(!audit.contains(&pw), "the audit log holds the password");
    let record = console
        .audit
        .list(&Default::default())
        .expect("audit")
        .into_iter()
        .find(|r| r.action == "restore.to_server")
        .expect("a restore record");
    assert_eq!(
        record.target,
        format!("{file} into {into} on {}", target.masked())
    );
    assert_eq!(record.detail, result);
}

#[tokio::test]
async fn an_existing_target_database_and_an_unusable_url_are_refused() {
    let (source, via) = pair().await;
    let console = ops::Console::open(source.config()).await.expect("open");
    let (_, file) = ops::testing::full_backup(&console).await;

    // The URL names the database to restore into, which exists: refused, nothing changed.
    let target = restore::target_url(&via.url).expect("the target URL parses");
    let view = finished(
        console
            .start_restore_to_server(&file, &via.name, target, 1, None, "test")
            .await
            .expect("the restore starts"),
    )
    .await;
    assert_eq!(view.status, JobStatus::Failed);
    assert_eq!(
        view.result.as_deref(),
        Some(
            format!(
                "Database \"{}\" already exists: choose a new name (nothing was changed).",
                via.name
            )
            .as_str()
        )
    );
    assert_eq!(
        counts(&via.url).await,
        Vec::new(),
        "the existing database is untouched"
    );

    // A URL that does not parse: one sentence, its password masked, no job.
    for bad in [
        "postgres://holo:Sekr3tPass@db.example.com:notaport/postgres",
        "mysql://holo:Sekr3tPass@db.example.com/postgres",
        "host=db.example.com password=Sekr3tPass",
    ] {
        let e = restore::target_url(bad).expect_err("refused").to_string();
        assert!(
            e.starts_with("The target server URL cannot be used: ")
                && e.ends_with("(nothing was created)."),
            "{e}"
        );
        assert!(!e.contains("Sekr3tPass"), "{e}");
    }
    // A bad database name is refused before any job starts.
    let target = restore::target_url(&via.url).expect("parses");
    let e = console
        .start_restore_to_server(&file, "Bad-Name", target, 1, None, "test")
        .await
        .err()
        .expect("refused");
    assert_eq!(
        ops::error::Kind::kind(&e),
        ops::error::ErrorKind::Refused,
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "\"Bad-Name\" is not a usable database name: use lowercase letters, digits and _ (at most 63), starting with a letter, e.g. holomush_restored."
    );

    // A server that does not answer: the sentence names the URL the user typed, not
    // DATABASE_URL, and its password shows nowhere.
    let target =
        restore::target_url("postgres://holo:it's Sekr3t@127.0.0.1:1/postgres").expect("parses");
    let view = finished(
        console
            .start_restore_to_server(&file, "holomush_moved", target, 1, None, "test")
            .await
            .expect("the restore starts"),
    )
    .await;
    assert_eq!(view.status, JobStatus::Failed);
    assert_eq!(
        view.result.as_deref(),
        Some("Could not connect to 127.0.0.1:1: the connection was refused. Check that PostgreSQL is running and that the target server URL names its host and port.")
    );
    assert!(!serde_json::to_string(&view)
        .expect("json")
        .contains("Sekr3t"));
}
