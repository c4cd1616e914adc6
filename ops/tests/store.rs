//! The store contract (`ops::backup::store::suite`) run against every store, one test per
//! case per store, as golang-migrate runs `database/testing` against each driver; then what
//! only the folder has: links, folders and stray files in it, half-written files, modes.

use std::path::{Path, PathBuf};

use ops::backup::store::suite::{self, names};
use ops::backup::store::{FolderStore, MemoryStore, Store};
use ops::backup::BackupError;

/// A backup folder for one test, removed after it; not created, as a fresh install's isn't.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!(
            "holomush-store-{}",
            ops::auth::random_token().get(..10).unwrap_or("x")
        )))
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn folder() -> (Dir, FolderStore) {
    let dir = Dir::new();
    let store = FolderStore::new(dir.0.clone());
    (dir, store)
}

fn memory() -> ((), MemoryStore) {
    ((), MemoryStore::new())
}

/// One `#[tokio::test]` per suite case, in a module per store; `$fresh` gives whatever the
/// store needs kept alive and an empty store.
macro_rules! conformance {
    ($store:ident, $fresh:expr) => {
        mod $store {
            use super::*;
            conformance!(@cases $fresh;
                a_written_archive_is_listed_with_its_size_and_sha256,
                a_dropped_writer_leaves_nothing,
                a_sweep_after_a_dropped_writer_finds_nothing,
                a_name_being_written_is_refused,
                an_existing_name_is_refused_and_kept,
                open_gives_exactly_the_bytes,
                a_written_manifest_is_listed,
                a_stale_manifest_is_not_adopted,
                delete_removes_the_archive_and_its_manifest,
                an_absent_name_is_missing,
                bad_names_are_refused_by_every_method,
                local_gives_a_file_with_the_bytes,
                staged_holds_what_was_written,
            );
        }
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (_kept, store) = $fresh;
                suite::$case(&store).await;
            }
        )*
    };
}

conformance!(folder_store, folder());
conformance!(memory_store, memory());

// The race needs a second writer from outside: another process's, for the folder (its
// writers in one process already refuse each other by name); `put` for memory.

#[tokio::test]
async fn folder_store_a_writer_finishing_second_keeps_the_first() {
    let (dir, store) = folder();
    let arrive =
        |name: &str, bytes: &[u8]| std::fs::write(dir.0.join(name), bytes).expect("arrive");
    suite::a_writer_finishing_second_keeps_the_first(&store, &arrive).await;
}

#[tokio::test]
async fn memory_store_a_writer_finishing_second_keeps_the_first() {
    let store = MemoryStore::new();
    let arrive = |name: &str, bytes: &[u8]| store.put(name, bytes).expect("arrive");
    suite::a_writer_finishing_second_keeps_the_first(&store, &arrive).await;
}

fn refused(e: BackupError) -> String {
    match e {
        BackupError::Refused(s) => s,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_folder_names_itself_and_lists_nothing_before_it_exists() {
    let (dir, store) = folder();
    assert_eq!(
        store.location(),
        format!("HOLOMUSH_BACKUP_DIR ({})", dir.0.display())
    );
    assert_eq!(store.place(), dir.0.display().to_string());
    assert_eq!(
        store.named("x.dump"),
        dir.0.join("x.dump").display().to_string()
    );
    assert!(!dir.0.exists());
    assert_eq!(names(&store).await, Vec::<String>::new());
    let memory = MemoryStore::new();
    assert_eq!(
        (memory.location(), memory.place(), memory.named("x.dump")),
        (
            "memory".to_string(),
            "memory".to_string(),
            "x.dump in memory".to_string()
        )
    );
}

/// A link or a folder named like an archive is not one: not listed, and refused by name
/// with the sentences `archive::locate` has always given.
#[cfg(unix)]
#[tokio::test]
async fn links_and_folders_in_the_folder_are_not_archives() {
    let (dir, store) = folder();
    suite::write(&store, "real.dump", b"PGDMP").await;
    let elsewhere = Dir::new();
    std::fs::create_dir_all(&elsewhere.0).expect("elsewhere");
    std::fs::write(elsewhere.0.join("target.dump"), b"PGDMP secret").expect("target");
    std::os::unix::fs::symlink(elsewhere.0.join("target.dump"), dir.0.join("link.dump"))
        .expect("link");
    std::fs::create_dir(dir.0.join("folder.dump")).expect("folder");
    // Files the name rule refuses are not listed either.
    for stray in ["notes.txt", "has space.dump", "-dash.dump"] {
        std::fs::write(dir.0.join(stray), b"PGDMP").expect("stray");
    }
    assert_eq!(names(&store).await, vec!["real.dump".to_string()]);

    let link = format!(
        "link.dump in {} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).",
        dir.0.display()
    );
    let folder = format!(
        "folder.dump in {} is not a regular file (a folder or a device): the console reads only regular files of the backup folder.",
        dir.0.display()
    );
    assert_eq!(
        refused(store.stat("link.dump").await.expect_err("stat")),
        link
    );
    assert_eq!(
        refused(store.open("link.dump").await.err().expect("open")),
        link
    );
    assert_eq!(
        refused(store.local("link.dump").await.expect_err("local")),
        link
    );
    assert_eq!(
        refused(store.delete("link.dump").await.expect_err("delete")),
        link
    );
    assert_eq!(
        refused(store.stat("folder.dump").await.expect_err("stat")),
        folder
    );
    assert_eq!(
        refused(store.open("folder.dump").await.err().expect("open")),
        folder
    );
    // Taken names, though not archives: nothing is written over them.
    for name in ["link.dump", "folder.dump"] {
        assert_eq!(
            refused(store.create(name).await.err().expect("create")),
            format!(
                "{} already exists: nothing was overwritten.",
                dir.0.join(name).display()
            )
        );
    }
    assert_eq!(
        std::fs::read(elsewhere.0.join("target.dump")).expect("target"),
        b"PGDMP secret"
    );
}

/// Archives, their sidecars and files being written are the console's user's alone.
#[cfg(unix)]
#[tokio::test]
async fn the_folder_s_files_are_private() {
    let (dir, store) = folder();
    let mut w = store.create("a.dump").await.expect("create");
    w.write(b"PGDMP").await.expect("write");
    let staged = w.staged().await.expect("staged").to_path_buf();
    assert_eq!(
        staged,
        PathBuf::from(format!(
            "{}.{}.partial",
            dir.0.join("a.dump").display(),
            std::process::id()
        ))
    );
    assert_eq!(mode(&staged), 0o600);
    assert_eq!(mode(&dir.0), 0o700);
    w.finish().await.expect("finish");
    store
        .write_manifest("a.dump", &suite::manifest("a.dump", 5))
        .await
        .expect("manifest");
    assert_eq!(mode(&dir.0.join("a.dump")), 0o600);
    assert_eq!(mode(&dir.0.join("a.dump.json")), 0o600);
    let copy = store.local("a.dump").await.expect("local");
    assert_eq!(
        copy.path(),
        dir.0.join("a.dump"),
        "the folder copies nothing"
    );
}

/// A killed writer's half-written file is swept; one this process is still writing is not;
/// neither is ever listed.
#[tokio::test]
async fn the_folder_sweeps_only_what_dead_writers_left() {
    let (dir, store) = folder();
    let mut w = store.create("live.dump").await.expect("create");
    w.write(b"PGDMP").await.expect("write");
    let orphan = "dead.dump.4000000000.partial";
    std::fs::write(dir.0.join(orphan), b"PGDMP half").expect("orphan");
    assert_eq!(names(&store).await, Vec::<String>::new());
    assert_eq!(store.sweep().await, vec![orphan.to_string()]);
    assert!(!dir.0.join(orphan).exists());
    assert_eq!(store.sweep().await, Vec::<String>::new());
    w.finish().await.expect("the live writer was left alone");
    assert_eq!(names(&store).await, vec!["live.dump".to_string()]);
}

/// The memory store's copies are temporary files, removed when their holder drops.
#[tokio::test]
async fn memory_copies_are_removed_when_dropped() {
    let store = MemoryStore::new();
    suite::write(&store, "a.dump", b"PGDMP").await;
    let copy = store.local("a.dump").await.expect("local");
    let path = copy.path().to_path_buf();
    assert!(path.starts_with(std::env::temp_dir()));
    drop(copy);
    assert!(!path.exists());
    let mut w = store.create("b.dump").await.expect("create");
    w.write(b"PGDMP").await.expect("write");
    let staged = w.staged().await.expect("staged").to_path_buf();
    assert!(staged.exists());
    drop(w);
    assert!(!staged.exists());
    assert_eq!(names(&store).await, vec!["a.dump".to_string()]);
}
