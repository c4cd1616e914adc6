//! The contract every [`Store`] keeps, as golang-migrate's `database/testing` is every
//! driver's: each case takes a fresh, empty store and asserts exact results and the exact
//! sentences a person reads. `ops/tests/store.rs` runs each case against each store.

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::{Store, Stored};
use crate::backup::{BackupError, BackupKind, Manifest};

const NAME: &str = "holomush_20260101_120000.dump";

/// Names every method refuses, whatever the store.
pub const BAD_NAMES: [&str; 4] = ["../x.dump", "a/b.dump", "x.sql", ".hidden.dump"];

/// Bytes enough to span several reads: 300 KiB of a pattern that no offset repeats early.
pub fn bytes() -> Vec<u8> {
    (0..300 * 1024u32)
        .map(|i| (i % 251) as u8 ^ (i >> 11) as u8)
        .collect()
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A manifest as a backup writes it.
pub fn manifest(name: &str, size: u64) -> Manifest {
    Manifest {
        file: name.to_string(),
        kind: BackupKind::Full,
        size,
        sha256: "ab".repeat(32),
        host: "localhost:5432".to_string(),
        database: "holomush".to_string(),
        server_version: "18.1".to_string(),
        pg_dump_version: "18.1".to_string(),
        migration_version: Some(20260101),
        migration_dirty: false,
        started_at: chrono::Utc::now(),
        duration_ms: 1200,
        by: "suite".to_string(),
        verification: Default::default(),
        safety: false,
        by_console: true,
        tag: String::new(),
    }
}

/// Writes `bytes` as `name` through the store's writer; returns the sha256 it gave.
pub async fn write(store: &dyn Store, name: &str, bytes: &[u8]) -> String {
    let mut w = store.create(name).await.expect("create");
    for chunk in bytes.chunks(64 * 1024) {
        w.write(chunk).await.expect("write");
    }
    assert_eq!(w.size(), bytes.len() as u64);
    w.finish().await.expect("finish")
}

pub async fn read(store: &dyn Store, name: &str) -> Vec<u8> {
    let (size, mut reader) = store.open(name).await.expect("open");
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.expect("read");
    assert_eq!(size, out.len() as u64, "open's size is the bytes' count");
    out
}

/// The store's archive names, sorted (also for the implementations' own tests).
pub async fn names(store: &dyn Store) -> Vec<String> {
    let mut names: Vec<String> = store
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.name)
        .collect();
    names.sort();
    names
}

fn refused(e: BackupError) -> String {
    match e {
        BackupError::Refused(s) => s,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn missing(e: BackupError) -> String {
    match e {
        BackupError::Missing(s) => s,
        other => panic!("expected Missing, got {other:?}"),
    }
}

fn no_archive(store: &dyn Store, name: &str) -> String {
    format!(
        "There is no archive named {name} in {}: check the name with `holomush-admin backup list`.",
        store.place()
    )
}

fn not_a_name(name: &str) -> String {
    format!(
        "\"{name}\" is not an archive name: use letters, digits, '.', '_' and '-' (not first), at most 200 bytes, ending in .dump, e.g. holomush_20260101_120000.dump."
    )
}

/// Written, then listed and found by name with its size, and the sha256 of its bytes.
pub async fn a_written_archive_is_listed_with_its_size_and_sha256(store: &dyn Store) {
    let bytes = bytes();
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    assert_eq!(write(store, NAME, &bytes).await, sha256(&bytes));
    let listed = store.list().await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let Stored {
        name,
        size,
        modified,
        manifest,
    } = listed[0].clone();
    assert_eq!(
        (name.as_str(), size, manifest),
        (NAME, bytes.len() as u64, None)
    );
    assert!(
        modified >= before && modified <= chrono::Utc::now() + chrono::Duration::seconds(5),
        "modified {modified}"
    );
    assert_eq!(store.stat(NAME).await.expect("stat"), listed[0]);
}

/// A writer dropped before it finished leaves nothing: no archive, and the name is free.
pub async fn a_dropped_writer_leaves_nothing(store: &dyn Store) {
    let mut w = store.create(NAME).await.expect("create");
    w.write(b"PGDMP half of it").await.expect("write");
    drop(w);
    assert_eq!(names(store).await, Vec::<String>::new());
    assert_eq!(
        missing(store.stat(NAME).await.expect_err("gone")),
        no_archive(store, NAME)
    );
    assert_eq!(write(store, NAME, b"again").await, sha256(b"again"));
    assert_eq!(read(store, NAME).await, b"again");
}

/// Nothing is left for a sweep after a writer was dropped.
pub async fn a_sweep_after_a_dropped_writer_finds_nothing(store: &dyn Store) {
    let mut w = store.create(NAME).await.expect("create");
    w.write(b"PGDMP").await.expect("write");
    drop(w);
    assert_eq!(store.sweep().await, Vec::<String>::new());
    assert_eq!(names(store).await, Vec::<String>::new());
}

/// A second writer of a name being written is refused; once the first is gone it may start.
pub async fn a_name_being_written_is_refused(store: &dyn Store) {
    let first = store.create(NAME).await.expect("create");
    let err = store.create(NAME).await.err().expect("refused");
    assert_eq!(
        refused(err),
        format!(
            "{} is already being written (another backup or upload of that name is in progress): nothing was overwritten.",
            store.named(NAME)
        )
    );
    assert_eq!(
        names(store).await,
        Vec::<String>::new(),
        "not listed while written"
    );
    drop(first);
    drop(store.create(NAME).await.expect("free again"));
}

/// A name that exists is refused and the archive kept as it was.
pub async fn an_existing_name_is_refused_and_kept(store: &dyn Store) {
    write(store, NAME, b"first").await;
    let err = store.create(NAME).await.err().expect("refused");
    assert_eq!(
        refused(err),
        format!(
            "{} already exists: nothing was overwritten.",
            store.named(NAME)
        )
    );
    assert_eq!(read(store, NAME).await, b"first");
}

/// A writer that finishes after another archive of its name arrived (`arrive` puts one in
/// place, as another process's writer finishing first would) keeps that one.
pub async fn a_writer_finishing_second_keeps_the_first(
    store: &dyn Store,
    arrive: &(dyn Fn(&str, &[u8]) + Sync),
) {
    let mut mine = store.create(NAME).await.expect("create");
    mine.write(b"mine").await.expect("write");
    arrive(NAME, b"theirs");
    let err = mine.finish().await.expect_err("refused");
    assert_eq!(
        refused(err),
        format!(
            "{} was written by someone else meanwhile: theirs was kept and this copy discarded.",
            store.named(NAME)
        )
    );
    assert_eq!(names(store).await, vec![NAME.to_string()]);
    assert_eq!(read(store, NAME).await, b"theirs");
    assert_eq!(store.sweep().await, Vec::<String>::new());
}

/// open gives exactly the bytes written, and their count.
pub async fn open_gives_exactly_the_bytes(store: &dyn Store) {
    let bytes = bytes();
    write(store, NAME, &bytes).await;
    assert_eq!(read(store, NAME).await, bytes);
    write(store, "empty.dump", b"").await;
    assert_eq!(read(store, "empty.dump").await, b"");
}

/// The sidecar written is the one list and stat return, as written.
pub async fn a_written_manifest_is_listed(store: &dyn Store) {
    write(store, NAME, b"PGDMP").await;
    let m = manifest(NAME, 5);
    store.write_manifest(NAME, &m).await.expect("manifest");
    let listed = store.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].manifest.as_ref(), Some(&m));
    assert_eq!(
        store.stat(NAME).await.expect("stat").manifest,
        Some(m.clone())
    );
    // Replaced whole.
    let mut again = m;
    again.by = "someone else".to_string();
    store.write_manifest(NAME, &again).await.expect("manifest");
    assert_eq!(store.stat(NAME).await.expect("stat").manifest, Some(again));
}

/// A sidecar whose archive is gone is never adopted by a new archive of that name.
pub async fn a_stale_manifest_is_not_adopted(store: &dyn Store) {
    store
        .write_manifest(NAME, &manifest(NAME, 5))
        .await
        .expect("manifest");
    assert_eq!(
        names(store).await,
        Vec::<String>::new(),
        "a sidecar is no archive"
    );
    write(store, NAME, b"PGDMP").await;
    assert_eq!(store.stat(NAME).await.expect("stat").manifest, None);
}

/// delete removes the archive and its sidecar; a second delete finds nothing.
pub async fn delete_removes_the_archive_and_its_manifest(store: &dyn Store) {
    write(store, NAME, b"PGDMP").await;
    store
        .write_manifest(NAME, &manifest(NAME, 5))
        .await
        .expect("manifest");
    write(store, "other.dump", b"other").await;
    store.delete(NAME).await.expect("delete");
    assert_eq!(names(store).await, vec!["other.dump".to_string()]);
    assert_eq!(
        missing(store.stat(NAME).await.expect_err("gone")),
        no_archive(store, NAME)
    );
    let err = store.delete(NAME).await.expect_err("second");
    assert_eq!(missing(err), no_archive(store, NAME));
    // The sidecar went with it: an archive of the same name has none.
    let mut w = store.create(NAME).await.expect("create");
    w.write(b"PGDMP").await.expect("write");
    w.finish().await.expect("finish");
    assert_eq!(store.stat(NAME).await.expect("stat").manifest, None);
    assert_eq!(read(store, "other.dump").await, b"other");
}

/// stat, open, delete and local of a name the store does not hold: Missing, with the
/// sentence that says where it looked.
pub async fn an_absent_name_is_missing(store: &dyn Store) {
    let name = "absent.dump";
    let want = no_archive(store, name);
    assert_eq!(missing(store.stat(name).await.expect_err("stat")), want);
    assert_eq!(missing(store.open(name).await.err().expect("open")), want);
    assert_eq!(missing(store.delete(name).await.expect_err("delete")), want);
    assert_eq!(missing(store.local(name).await.expect_err("local")), want);
}

/// A name outside the archive-name rule is refused by every method, before anything else.
pub async fn bad_names_are_refused_by_every_method(store: &dyn Store) {
    let m = manifest("x.dump", 1);
    for bad in BAD_NAMES {
        let want = not_a_name(bad);
        assert_eq!(refused(store.stat(bad).await.expect_err("stat")), want);
        assert_eq!(
            refused(store.create(bad).await.err().expect("create")),
            want
        );
        assert_eq!(refused(store.open(bad).await.err().expect("open")), want);
        assert_eq!(
            refused(store.write_manifest(bad, &m).await.expect_err("manifest")),
            want
        );
        assert_eq!(refused(store.delete(bad).await.expect_err("delete")), want);
        assert_eq!(refused(store.local(bad).await.expect_err("local")), want);
    }
    assert_eq!(names(store).await, Vec::<String>::new());
}

/// local gives a private regular file with the archive's bytes; the archive stays.
pub async fn local_gives_a_file_with_the_bytes(store: &dyn Store) {
    let bytes = bytes();
    write(store, NAME, &bytes).await;
    let copy = store.local(NAME).await.expect("local");
    let meta = std::fs::symlink_metadata(copy.path()).expect("meta");
    assert!(meta.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(std::fs::read(copy.path()).expect("read"), bytes);
    drop(copy);
    assert_eq!(read(store, NAME).await, bytes, "the archive stays");
}

/// staged holds what was written, flushed; writing after it is refused; the archive is not
/// listed until it finishes, then holds the same bytes.
pub async fn staged_holds_what_was_written(store: &dyn Store) {
    let bytes = bytes();
    let mut w = store.create(NAME).await.expect("create");
    w.write(&bytes).await.expect("write");
    let staged = w.staged().await.expect("staged").to_path_buf();
    assert_eq!(std::fs::read(&staged).expect("read staged"), bytes);
    let err = w.write(b"more").await.expect_err("closed");
    assert!(
        matches!(&err, BackupError::Io(s) if s == "The archive was already closed."),
        "{err:?}"
    );
    assert_eq!(w.size(), bytes.len() as u64);
    assert_eq!(names(store).await, Vec::<String>::new());
    assert_eq!(w.finish().await.expect("finish"), sha256(&bytes));
    assert_eq!(read(store, NAME).await, bytes);
    assert!(
        !staged.exists(),
        "the staged file is gone: {}",
        staged.display()
    );
}
