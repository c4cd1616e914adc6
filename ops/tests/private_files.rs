//! What the console writes is its user's alone: folders 0700, files 0600, whatever the
//! umask; a temporary archive is never an existing file or a link, so two writers of one
//! name cannot mix.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ops::testing::TestDb;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn archives_manifests_audit_log_and_job_records_are_private() {
    let db = TestDb::create().await;
    let console = ops::Console::open_server(db.config()).await.expect("open");
    let (_, file) = ops::testing::full_backup(&console).await;
    let data = &console.config.data_dir;
    let backups = &console.config.backup_dir;
    assert_eq!(mode(data), 0o700, "the data folder");
    assert_eq!(mode(backups), 0o700, "the backup folder");
    assert_eq!(mode(&data.join("jobs")), 0o700, "the job records folder");
    assert_eq!(mode(&backups.join(&file)), 0o600, "the archive");
    assert_eq!(
        mode(&backups.join(format!("{file}.json"))),
        0o600,
        "its manifest"
    );
    assert_eq!(mode(&data.join("audit.log")), 0o600, "the audit log");
    for record in std::fs::read_dir(data.join("jobs"))
        .expect("records")
        .flatten()
    {
        assert_eq!(mode(&record.path()), 0o600, "{}", record.path().display());
    }
}

#[tokio::test]
async fn a_second_writer_of_the_same_archive_name_is_refused_and_a_link_is_not_followed() {
    let dir = std::env::temp_dir().join(format!(
        "holomush-private-{}",
        ops::auth::random_token().get(..10).unwrap_or("x")
    ));
    let path = dir.join("holomush_20260101_120000.dump");
    let first = ops::backup::archive::Writer::create(&path)
        .await
        .expect("the first writer");
    let second = ops::backup::archive::Writer::create(&path).await;
    let Err(e) = second else {
        panic!("a second writer of the same name was let in")
    };
    assert_eq!(
        e.to_string(),
        format!(
            "{} is already being written (another backup or upload of that name is in progress): nothing was overwritten.",
            path.display()
        )
    );
    drop(first);
    // A link planted where the temporary file will be is not written through.
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"keep me").expect("victim");
    let tmp = std::fs::read_dir(&dir).expect("list").flatten().count();
    assert_eq!(tmp, 1, "the first writer's temporary file went with it");
    let planted = dir.join(format!(
        "holomush_20260101_120000.dump.{}.partial",
        std::process::id()
    ));
    std::os::unix::fs::symlink(&victim, &planted).expect("plant");
    assert!(ops::backup::archive::Writer::create(&path).await.is_err());
    assert_eq!(std::fs::read(&victim).expect("victim"), b"keep me");
    let _ = std::fs::remove_dir_all(&dir);
}
