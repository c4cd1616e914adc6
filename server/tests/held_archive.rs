//! The archive a restore checked is the archive it restores: another file renamed over its
//! name after the sha256 check (while the new database is being made) is not what
//! pg_restore reads.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{text, wait_within};
use ops::testing::TestDb;
use sqlx::{Connection, PgConnection};

async fn exec(url: &str, sql: &str) {
    let mut c = PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(sql).execute(&mut c).await.expect(sql);
    c.close().await.ok();
}

fn archives(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("backups")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".dump"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_swapped_after_its_check_is_not_what_the_restore_reads() {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-held", db.name));
    let _ = std::fs::remove_dir_all(&data);
    let backups = data.join("backups");
    let backup = || {
        let o = common::binary(&db.url, &data)
            .args(["backup", "create"])
            .output()
            .expect("backup");
        assert!(o.status.success(), "{}", text(&o));
    };
    exec(
        &db.url,
        "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('checked');",
    )
    .await;
    backup();
    let checked = archives(&backups).pop().expect("the checked archive");
    // Archive names carry the second they were made in.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    exec(&db.url, "UPDATE kept SET v = 'swapped in';").await;
    backup();
    let other = archives(&backups)
        .into_iter()
        .find(|n| *n != checked)
        .expect("the other archive");

    let target = format!("{}_held", db.name);
    // Held for 10 s once the new database is made: the check is done by then.
    let cli = common::binary(&db.url, &data)
        // Two workers: each reopens the archive by the name it was given.
        .args(["restore", &checked, "--into", &target, "--jobs", "2"])
        .env("HOLOMUSH_ADMIN_FAULT_PAUSE", "restore-into")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("restore");
    let t = Instant::now();
    loop {
        let mut c = PgConnection::connect(&db.url).await.expect("connect");
        let made: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
                .bind(&target)
                .fetch_one(&mut c)
                .await
                .expect("pg_database");
        c.close().await.ok();
        if made {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "the target was made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Different bytes under the same name (its manifest still describes the first).
    std::fs::rename(backups.join(&other), backups.join(&checked)).expect("swap");

    let (out, _) = wait_within(cli, Duration::from_secs(120));
    assert!(out.status.success(), "{}", text(&out));
    let mut u = url::Url::parse(&db.url).expect("url");
    u.set_path(&format!("/{target}"));
    let mut c = PgConnection::connect(u.as_str())
        .await
        .expect("connect target");
    let v: String = sqlx::query_scalar("SELECT v FROM kept")
        .fetch_one(&mut c)
        .await
        .expect("kept");
    c.close().await.ok();
    assert_eq!(v, "checked", "the bytes restored are the bytes checked");

    exec(&db.url, &format!("DROP DATABASE \"{target}\"")).await;
    let _ = std::fs::remove_dir_all(&data);
}
