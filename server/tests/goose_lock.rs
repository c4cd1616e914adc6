//! goose v3.27.3's session lock against the real binary: while another session (a HoloMUSH
//! server migrating) holds goose's advisory lock, `holomush-admin migrate up` waits and applies
//! nothing, then applies everything once the lock is released. The current id (4097083626,
//! goose v3.26.0 and later) and the pre-3.26 one (5887940537704921958) alike.

mod common;

use std::process::Stdio;
use std::time::Duration;

use ops::migrate::goose::lock::{LEGACY_LOCK_ID, LOCK_ID};
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

async fn tables(db: &TestDb) -> Vec<String> {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables")
}

async fn up_waits_while_held(id: i64) {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-goose-lock", db.name));
    let migrations = data.join("migrations");
    std::fs::create_dir_all(&migrations).expect("folder");
    for (name, table) in [
        ("00001_players.sql", "players"),
        ("00002_rooms.sql", "rooms"),
        ("00003_exits.sql", "exits"),
    ] {
        std::fs::write(
            migrations.join(name),
            format!("-- +goose Up\nCREATE TABLE {table} (id int);\n-- +goose Down\nDROP TABLE {table};\n"),
        )
        .expect("file");
    }

    // The HoloMUSH server's session, mid-migration.
    let mut server = PgConnection::connect(&db.url).await.expect("connect");
    server
        .execute("SET application_name = 'holomush'")
        .await
        .expect("name");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut server)
        .await
        .expect("pid");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(id)
        .execute(&mut server)
        .await
        .expect("lock");

    let mut cli = common::binary(&db.url, &data);
    cli.args(["migrate", "up"])
        .env("HOLOMUSH_MIGRATIONS_DIR", &migrations)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cli.spawn().expect("run holomush-admin");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        child.try_wait().expect("status").is_none(),
        "migrate up must wait while goose's lock {id} is held"
    );
    assert_eq!(tables(&db).await, Vec::<String>::new(), "nothing applied");

    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(id)
        .execute(&mut server)
        .await
        .expect("unlock");
    // goose retries every 5 s.
    let (out, _) = common::wait_within(child, Duration::from_secs(20));
    let printed = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains(&format!(
            "Waiting for goose's lock {id}, held by pid {pid} (holomush, from "
        )),
        "{printed}"
    );
    assert_eq!(
        tables(&db).await,
        vec!["exits", "goose_db_version", "players", "rooms"]
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&mut server)
    .await
    .expect("locks");
    assert_eq!(left, 0, "both goose ids are released after the run");
}

#[tokio::test]
async fn migrate_up_waits_for_gooses_lock_4097083626() {
    assert_eq!(LOCK_ID, 4_097_083_626);
    up_waits_while_held(LOCK_ID).await;
}

#[tokio::test]
async fn migrate_up_waits_for_the_lock_of_goose_before_v3_26() {
    assert_eq!(LEGACY_LOCK_ID, 5_887_940_537_704_921_958);
    up_waits_while_held(LEGACY_LOCK_ID).await;
}
