//! The console over the in-memory store: a backup, its listing, a verify, a restore into a
//! new database, a download's bytes, an upload refused and a delete all go through the store
//! the console holds, and nothing is written to the backup folder. The next store (a
//! bucket) is one more implementation of the same trait.

use std::sync::Arc;

use ops::backup::store::{MemoryStore, Store};
use ops::model::{JobOutput, JobStatus, Verification};
use ops::testing::TestDb;
use sha2::Digest;
use sqlx::Connection;
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn every_archive_action_goes_through_the_store_the_console_holds() {
    let db = TestDb::create().await;
    let config = db.config();
    let folder = config.backup_dir.clone();
    let store = Arc::new(MemoryStore::new());
    let console = ops::Console::with_store(config, store.clone()).expect("console");
    let up = console
        .start_migration(ops::migrate::Op::Up(None), "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(up.status, JobStatus::Succeeded, "{:?}", up.result);

    // A backup lands in the store, listed with its manifest, and not on disk.
    let (_, file) = ops::testing::full_backup(&console).await;
    let listed = console.backups().await.expect("list");
    assert_eq!(listed.len(), 1);
    let m = &listed[0];
    assert_eq!(m.file, file);
    assert!(m.by_console);
    assert_eq!(store.stat(&file).await.expect("stored").size, m.size);
    assert!(
        !folder.join(&file).exists(),
        "nothing is written to HOLOMUSH_BACKUP_DIR"
    );

    // A download streams the stored bytes, which are the ones the manifest hashed.
    let (len, mut reader) = console.open_backup(&file).await.expect("opens");
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).await.expect("reads");
    assert_eq!(len, bytes.len() as u64);
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), m.sha256);

    // A verify reads the archive through a local copy and keeps its verdict in the store.
    let verify = console
        .start_verify(file.as_str(), ops::console::Check::Blocks, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(
        verify.output,
        Some(JobOutput::Verification(Verification::Verified))
    );
    let listed = console.backups().await.expect("list");
    assert_eq!(listed[0].verification, Verification::Verified);

    // A restore into a new database reads it too.
    let target = format!("{}_copy", db.name);
    let restored = console
        .start_restore_into(file.as_str(), &target, 1, None, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(
        restored.status,
        JobStatus::Succeeded,
        "{:?}",
        restored.result
    );
    let mut admin = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let copied: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&target)
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(copied, 1);
    sqlx::query(&format!("DROP DATABASE \"{target}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop the copy");

    // An upload that is not an archive is refused and leaves the store as it was.
    let refused = console
        .receive_upload(
            "notes.dump",
            futures_util::stream::iter(vec![Ok::<_, String>(b"SELECT 1;".to_vec())]),
            "test",
        )
        .await
        .expect_err("refused");
    assert_eq!(
        refused.to_string(),
        "That file is not a pg_dump custom-format archive (it does not start with PGDMP): upload a file made with pg_dump -Fc."
    );
    assert_eq!(console.backups().await.expect("list").len(), 1);

    // A delete removes it from the store; a second one names what is missing.
    assert_eq!(
        console
            .delete_backup(file.as_str(), "test")
            .await
            .expect("deleted"),
        format!("Deleted {file}.")
    );
    assert!(console.backups().await.expect("list").is_empty());
    let again = console
        .delete_backup(file.as_str(), "test")
        .await
        .expect_err("missing");
    assert_eq!(
        ops::error::Kind::kind(&again),
        ops::error::ErrorKind::NotFound
    );
    assert_eq!(
        again.to_string(),
        format!("There is no archive named {file} in memory: check the name with `holomush-admin backup list`.")
    );
}
