//! Archives from elsewhere: an upload gets a manifest of its own (never a stale one of the
//! same name), two uploads of one name cannot mix, an archive the console did not make is
//! restored only with the target's name typed, and an archive whose bytes changed since its
//! manifest was written is neither restored nor verified.

use std::path::Path;

use ops::model::{JobStatus, Verification};
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

async fn seeded() -> TestDb {
    let db = TestDb::create().await;
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g")
        .await
        .expect("seed");
    c.close().await.ok();
    db
}

fn chunks(
    bytes: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin {
    futures_util::stream::iter(
        bytes
            .chunks(64 * 1024)
            .map(|c| Ok(c.to_vec()))
            .collect::<Vec<_>>(),
    )
}

async fn database_exists(url: &str, name: &str) -> bool {
    let mut c = PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut c)
        .await
        .expect("q")
}

fn sidecar(dir: &Path, file: &str) -> ops::model::Manifest {
    ops::backup::archive::read_manifest(&dir.join(file)).expect("manifest")
}

#[tokio::test]
async fn an_upload_never_adopts_a_stale_manifest_and_needs_the_name_typed_to_restore() {
    let db = seeded().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let dir = console.config.backup_dir.clone();
    let (_, made) = ops::testing::full_backup(&console).await;
    let bytes = std::fs::read(dir.join(&made)).expect("archive");
    // An archive of the console's, verified, then deleted by hand: its manifest stays.
    let mut stale = sidecar(&dir, &made);
    stale.file = "incoming.dump".to_string();
    stale.verification = Verification::Verified;
    stale.sha256 = "0".repeat(64);
    ops::backup::archive::write_manifest(&dir.join("incoming.dump"), &stale).expect("stale");

    let done = console
        .receive_upload("incoming.dump", chunks(bytes.clone()), "test")
        .await
        .expect("uploaded");
    assert_eq!(
        done,
        format!("Uploaded incoming.dump ({} bytes, every block read). It was not made by this console, so restoring it asks for the target's name.", bytes.len())
    );
    let m = sidecar(&dir, "incoming.dump");
    assert!(!m.by_console, "an upload is not the console's own");
    assert_ne!(m.sha256, stale.sha256);
    assert_eq!(
        (m.file.as_str(), m.size),
        ("incoming.dump", bytes.len() as u64)
    );
    let listed = ops::backup::catalog::list(&ops::backup::store::FolderStore::new(&dir))
        .await
        .expect("list");
    let row = listed
        .iter()
        .find(|a| a.file == "incoming.dump")
        .expect("listed");
    assert_eq!(row.sha256, m.sha256);

    // Restoring it needs the target's name typed; nothing is created without it.
    let target = format!("{}_up", db.name);
    let _drop = TestDb::named_on(&db.url, &target);
    assert_eq!(
        console.restore_warning("incoming.dump").await.expect("found"),
        Some("incoming.dump was not made by this console's backups (it was uploaded or copied in): restoring it runs the SQL it holds, so restore only an archive you trust.".to_string())
    );
    let refused = console
        .start_restore_into("incoming.dump", &target, 1, Some("wrong"), "test")
        .await
        .map(|_| ())
        .expect_err("refused");
    assert_eq!(
        refused.to_string(),
        format!("incoming.dump was not made by this console's backups and restoring it runs the SQL it holds: type the target database name \"{target}\" to confirm. Nothing was changed.")
    );
    assert!(!database_exists(&db.url, &target).await);
    let view = console
        .start_restore_into("incoming.dump", &target, 1, Some(&target), "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    assert!(
        view.lines[0]
            .text
            .starts_with("Warning: incoming.dump was not made by this console's backups"),
        "{:?}",
        view.lines[0]
    );
    // The console's own archive needs no such confirmation.
    assert_eq!(
        console.restore_warning(made.as_str()).await.expect("found"),
        None
    );
}

#[tokio::test]
async fn two_uploads_of_one_name_cannot_mix() {
    let db = seeded().await;
    let console = std::sync::Arc::new(ops::Console::open(db.config()).await.expect("open"));
    let dir = console.config.backup_dir.clone();
    let (_, made) = ops::testing::full_backup(&console).await;
    let bytes = std::fs::read(dir.join(&made)).expect("archive");
    // The first upload is held open mid-way while the second arrives.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Vec<u8>, std::io::Error>>();
    let rx = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    tx.send(Ok(bytes[..1024].to_vec())).expect("send");
    let first = {
        let console = console.clone();
        tokio::spawn(async move { console.receive_upload("same.dump", rx, "first").await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let second = console
        .receive_upload("same.dump", chunks(bytes.clone()), "second")
        .await
        .expect_err("refused");
    assert_eq!(
        second.to_string(),
        format!("{} is already being written (another backup or upload of that name is in progress): nothing was overwritten.", dir.join("same.dump").display())
    );
    tx.send(Ok(bytes[1024..].to_vec())).expect("send");
    drop(tx);
    first
        .await
        .expect("join")
        .expect("the first upload is kept");
    assert_eq!(std::fs::read(dir.join("same.dump")).expect("kept"), bytes);
    assert_eq!(sidecar(&dir, "same.dump").by, "first");
    // And once it is there, a later upload of that name does not replace it.
    let again = console
        .receive_upload("same.dump", chunks(bytes.clone()), "third")
        .await
        .expect_err("refused");
    assert_eq!(
        again.to_string(),
        format!(
            "{} already exists: nothing was overwritten.",
            dir.join("same.dump").display()
        )
    );
}

#[tokio::test]
async fn an_archive_whose_bytes_changed_is_neither_restored_nor_verified() {
    let db = seeded().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let dir = console.config.backup_dir.clone();
    let (_, made) = ops::testing::full_backup(&console).await;
    let path = dir.join(&made);
    let mut bytes = std::fs::read(&path).expect("archive");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).expect("changed");
    let recorded = sidecar(&dir, &made).sha256;
    let found = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let sentence = format!(
        "{made} is not the archive its manifest describes: its sha256 is {} but the manifest recorded {} when it was written: the file changed since, so it is not used. Use another archive; nothing was changed.",
        &found[..12],
        &recorded[..12]
    );
    let target = format!("{}_changed", db.name);
    let _drop = TestDb::named_on(&db.url, &target);
    let view = console
        .start_restore_into(made.as_str(), &target, 1, None, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Failed);
    assert_eq!(view.result.as_deref(), Some(sentence.as_str()));
    assert!(!database_exists(&db.url, &target).await);
    let view = console
        .start_restore_in_place(made.as_str(), 1, None, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.result.as_deref(), Some(sentence.as_str()));
    let view = console
        .start_verify(made.as_str(), ops::console::Check::Blocks, "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Failed);
    assert_eq!(view.result.as_deref(), Some(sentence.as_str()));
    assert_eq!(
        sidecar(&dir, &made).verification,
        Verification::Failed(sentence.clone())
    );
    // No safety backup was taken, nothing else was written.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// A restore reads the archive through the descriptor it checked (`/proc/PID/fd/N`), and
/// still names the archive in everything a person reads.
#[tokio::test]
async fn a_restore_names_the_archive_not_the_descriptor_it_reads() {
    let db = seeded().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let (_, made) = ops::testing::full_backup(&console).await;
    let target = format!("{}_named", db.name);
    let view = console
        .start_restore_into(made.as_str(), &target, 1, None, "test")
        .await
        .expect("start")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    let lines: Vec<&str> = view.lines.iter().map(|l| l.text.as_str()).collect();
    let archive = console.config.backup_dir.join(&made);
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "Created database \"{target}\"; restoring {} as the role \"holomush_restore_",
            archive.display()
        ))),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("/proc/")), "{lines:?}");
    let view = console
        .start_restore_in_place(made.as_str(), 1, None, "test")
        .await
        .expect("start")
        .follow(|_| {})
        .await;
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.result);
    let said = view.result.unwrap_or_default();
    assert!(
        said.starts_with(&format!("Restored {made} into \"{}\".", db.name)),
        "{said}"
    );
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let _ = c
        .execute(format!("DROP DATABASE IF EXISTS \"{target}\" WITH (FORCE)").as_str())
        .await;
    let previous: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
            .bind(format!(
                "{}_before_restore_%",
                db.name.chars().take(30).collect::<String>()
            ))
            .fetch_all(&mut c)
            .await
            .expect("previous");
    for p in previous {
        let _ = c
            .execute(format!("DROP DATABASE IF EXISTS \"{p}\" WITH (FORCE)").as_str())
            .await;
    }
    c.close().await.ok();
}
