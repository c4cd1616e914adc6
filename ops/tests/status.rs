//! The dashboard's reading, against a real PostgreSQL.

use std::sync::Arc;

use ops::model::{Connection, Extension, SchemaVersion};
use ops::testing::TestDb;

#[tokio::test]
async fn reads_the_real_server() {
    let db = TestDb::create().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let snap = console.status.get().await;
    let Connection::Up(facts) = &snap.connection else {
        panic!("expected a connection, got {:?}", snap.connection)
    };
    assert_eq!(snap.database, db.name);
    if let Some(pw) = url::Url::parse(&db.url).expect("url").password() {
        assert!(!snap.target.contains(pw), "the password is masked");
    }
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&console.pool)
        .await
        .expect("version");
    assert_eq!(facts.server_version, version);
    assert!(facts.major_version() >= 14 && !facts.version_too_old());
    assert!(
        facts.database_size_bytes > 1_000_000,
        "a fresh database is several MiB"
    );
    assert_eq!(facts.pg_trgm, Extension::Available);
    assert_eq!(facts.migration, SchemaVersion::NoTable);
    assert!(facts.latency_ms > 0.0 && facts.latency_ms < 1000.0);
    assert_eq!(snap.pool.max, 25);
}

#[tokio::test]
async fn reads_the_migration_version_like_golang_migrate() {
    let db = TestDb::create().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    sqlx::query("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
        .execute(&console.pool)
        .await
        .expect("create");
    sqlx::query("CREATE EXTENSION pg_trgm")
        .execute(&console.pool)
        .await
        .expect("extension");
    let snap = ops::status::read(&console.pool, &console.config, console.store.as_ref()).await;
    let Connection::Up(facts) = &snap.connection else {
        panic!("{:?}", snap.connection)
    };
    assert_eq!(facts.migration, SchemaVersion::NoVersion);
    assert!(matches!(facts.pg_trgm, Extension::Installed(_)));
    sqlx::query("INSERT INTO schema_migrations VALUES (7, true)")
        .execute(&console.pool)
        .await
        .expect("insert");
    let snap = ops::status::read(&console.pool, &console.config, console.store.as_ref()).await;
    let Connection::Up(facts) = &snap.connection else {
        panic!("{:?}", snap.connection)
    };
    assert_eq!(
        facts.migration,
        SchemaVersion::At {
            version: 7,
            dirty: true
        }
    );
}

#[tokio::test]
async fn many_pollers_share_one_reading_a_second() {
    let db = TestDb::create().await;
    let console = Arc::new(ops::Console::open(db.config()).await.expect("open"));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = console.clone();
            tokio::spawn(async move { c.status.get().await })
        })
        .collect();
    let mut taken = Vec::new();
    for t in tasks {
        taken.push(t.await.expect("join").taken_at);
    }
    assert_eq!(
        console.status.refreshes(),
        1,
        "50 concurrent polls read the database once"
    );
    assert!(taken.iter().all(|t| *t == taken[0]));
    tokio::time::sleep(ops::status::MAX_AGE).await;
    console.status.get().await;
    assert_eq!(
        console.status.refreshes(),
        2,
        "a reading older than a second is refreshed"
    );
}

#[tokio::test]
async fn a_wrong_password_is_a_sentence_not_a_crash() {
    let db = TestDb::create().await;
    let mut url = url::Url::parse(&db.url).expect("url");
    url.set_password(Some("definitely-wrong"))
        .expect("password");
    let config = ops::config::Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(url.to_string()),
        "DB_MIN_CONNS" => Some("0".into()),
        "HOLOMUSH_ADMIN_DATA" => Some(
            std::env::temp_dir()
                .join(format!("{}-wrongpw", db.name))
                .display()
                .to_string(),
        ),
        _ => None,
    })
    .expect("config");
    let pool = ops::db::pool(&config);
    let snap = ops::status::read(&pool, &config, &ops::backup::store::MemoryStore::new()).await;
    let Connection::Down(msg) = &snap.connection else {
        panic!("expected failure, got {:?}", snap.connection)
    };
    assert!(msg.contains("rejected the password for user"), "{msg}");
    assert!(!msg.contains("definitely-wrong") && !snap.target.contains("definitely-wrong"));
}

#[tokio::test]
async fn a_closed_port_is_a_sentence_not_a_crash() {
    let config = ops::config::Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some("postgres://holomush:pw@127.0.0.1:1/holomush".into()),
        "DB_MIN_CONNS" => Some("0".into()),
        _ => None,
    })
    .expect("config");
    let pool = ops::db::pool(&config);
    let snap = ops::status::read(&pool, &config, &ops::backup::store::MemoryStore::new()).await;
    assert_eq!(
        snap.connection,
        Connection::Down("Could not connect to 127.0.0.1:1: the connection was refused. Check that PostgreSQL is running and that DATABASE_URL names its host and port.".into())
    );
}
