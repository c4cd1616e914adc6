//! `make bench`: backup and restore through the console against raw `pg_dump -Fc` and
//! `pg_restore` on the same generated database, in the same run, printed as ratios.
//! BENCH_BACKUP_MB sets the database size (default 1024: about 1 GB). Not a test: it prints.

use std::path::Path;
use std::time::{Duration, Instant};

use ops::backup::{dump, restore, tools, BackupKind};
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

const ROUNDS: usize = 3;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn generate(db: &TestDb, mb: u64) -> i64 {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    // Rows of ~230 bytes with hex text that compresses about as much as real data does.
    let rows = mb * 1024 * 1024 / 230;
    c.execute(
        "CREATE TABLE bench_events (id bigint PRIMARY KEY, kind text NOT NULL, payload text NOT NULL, at timestamptz NOT NULL)",
    )
    .await
    .expect("table");
    let chunk = 500_000u64;
    let mut start = 1u64;
    while start <= rows {
        let end = (start + chunk - 1).min(rows);
        c.execute(
            format!(
                "INSERT INTO bench_events SELECT g, 'kind_' || (g % 17), md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text), now() - (g || ' s')::interval FROM generate_series({start}, {end}) g"
            )
            .as_str(),
        )
        .await
        .expect("rows");
        start = end + 1;
    }
    c.execute("CREATE INDEX bench_events_kind ON bench_events (kind)")
        .await
        .expect("index");
    c.execute("VACUUM ANALYZE bench_events")
        .await
        .expect("vacuum");
    sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut c)
        .await
        .expect("size")
}

async fn drop_db(db: &TestDb, name: &str) {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
        .await
        .expect("drop");
}

async fn raw_pg_dump(db: &TestDb, out: &Path) -> Duration {
    let t = Instant::now();
    let mut cmd = tools::command(
        &ops::testing::tool(ops::pgtools::Tool::PgDump).await,
        &db.database_url(),
        None,
    );
    cmd.args(["-Fc", "-f"]).arg(out);
    assert!(cmd.status().await.expect("pg_dump").success());
    t.elapsed()
}

async fn raw_pg_restore(db: &TestDb, archive: &Path, target: &str) -> Duration {
    let t = Instant::now();
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(format!("CREATE DATABASE \"{target}\"").as_str())
        .await
        .expect("createdb");
    let mut cmd = tools::command(
        &ops::testing::tool(ops::pgtools::Tool::PgRestore).await,
        &db.database_url(),
        Some(target),
    );
    cmd.args(["--no-owner", "--dbname", target]).arg(archive);
    assert!(cmd.status().await.expect("pg_restore").success());
    t.elapsed()
}

#[tokio::main]
async fn main() {
    let mb: u64 = std::env::var("BENCH_BACKUP_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let db = TestDb::create().await;
    let dir = std::env::temp_dir().join(format!("{}-bench", db.name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    eprintln!("Generating a database of about {mb} MB…");
    let size = generate(&db, mb).await;
    println!(
        "database: {} ({:.0} MB on the server)",
        db.name,
        size as f64 / 1_048_576.0
    );

    let url = db.database_url();
    let seal = ops::seal::Seal::load_or_create(&db.config().data_dir).expect("the console's key");
    let (mut console, mut raw) = (Vec::new(), Vec::new());
    let mut archive = None;
    for round in 0..ROUNDS {
        let raw_file = dir.join(format!("raw_{round}.dump"));
        raw.push(raw_pg_dump(&db, &raw_file).await);
        let _ = std::fs::remove_file(&raw_file);
        let round_dir = dir.join(format!("console_{round}"));
        let store = ops::backup::store::FolderStore::new(&round_dir);
        let t = Instant::now();
        let m = dump::dump(
            dump::Request {
                url: &url,
                store: &store,
                kind: BackupKind::Full,
                by: "bench",
                safety: false,
                seal: &seal,
            },
            &|_| {},
            &CancellationToken::new(),
        )
        .await
        .expect("console backup");
        console.push(t.elapsed());
        eprintln!(
            "round {round}: pg_dump {:?}, console {:?} ({} MB archive)",
            raw[round],
            console[round],
            m.size / 1_048_576
        );
        if archive.is_none() {
            archive = Some(round_dir.join(&m.file));
        } else {
            let _ = std::fs::remove_dir_all(&round_dir);
        }
    }
    let (c, r) = (median(console), median(raw));
    println!(
        "backup:  console {:>8.2?}  raw pg_dump -Fc {:>8.2?}  ratio {:.3}x (target <= 1.03x)",
        c,
        r,
        c.as_secs_f64() / r.as_secs_f64()
    );

    let archive = archive.expect("an archive");
    let (mut console, mut raw) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let target = format!("{}_raw_{round}", db.name);
        raw.push(raw_pg_restore(&db, &archive, &target).await);
        drop_db(&db, &target).await;
        let target = format!("{}_console_{round}", db.name);
        let t = Instant::now();
        let out = restore::into_new(
            &url,
            &seal,
            &archive,
            &target,
            ops::backup::guest::RestoreAs::JobRole,
            1,
            &|_| {},
            &CancellationToken::new(),
        )
        .await
        .expect("console restore");
        console.push(t.elapsed());
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        drop_db(&db, &target).await;
        eprintln!(
            "round {round}: createdb + pg_restore {:?}, console {:?}",
            raw[round], console[round]
        );
    }
    let (c, r) = (median(console), median(raw));
    println!(
        "restore: console {:>8.2?}  raw pg_restore   {:>8.2?}  ratio {:.3}x (target <= 1.03x)",
        c,
        r,
        c.as_secs_f64() / r.as_secs_f64()
    );
    // The streaming bench wants a real archive of about the database's size: uncompressed.
    if let Ok(out) = std::env::var("BENCH_ARCHIVE_OUT") {
        let mut cmd = tools::command(
            &ops::testing::tool(ops::pgtools::Tool::PgDump).await,
            &db.database_url(),
            None,
        );
        cmd.args(["-Fc", "-Z0", "-f", &out]);
        assert!(cmd.status().await.expect("pg_dump -Z0").success());
        println!("uncompressed archive for the streaming bench: {out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
