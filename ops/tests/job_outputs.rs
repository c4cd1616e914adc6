//! What a job produced is handed back typed (a manifest, a verification, a migration run),
//! not as text for the caller to parse out of its result sentence or its log.

use ops::migrate::Op;
use ops::model::{JobOutput, JobStatus, Verification};
use ops::testing::TestDb;

#[tokio::test]
async fn backup_verify_and_migrate_jobs_hand_back_typed_outputs() {
    let db = TestDb::create().await;
    let console = ops::Console::open(db.config()).await.expect("open");

    let up = console
        .start_migration(Op::Up(None), "test")
        .await
        .expect("starts")
        .follow(|_| {})
        .await;
    assert_eq!(up.status, JobStatus::Succeeded, "{:?}", up.result);
    let Some(JobOutput::Migration { from, to, ran }) = up.output else {
        panic!("no migration output: {:?}", up.output)
    };
    assert_eq!(from, -1);
    assert!(to > 0 && ran.last() == Some(&(to as u64)), "{to} {ran:?}");
    assert_eq!(
        ran.len(),
        console.migrator("test").expect("m").source.iter().count()
    );

    let (backup, file) = ops::testing::full_backup(&console).await;
    let Some(JobOutput::Manifest(m)) = backup.output else {
        panic!("no manifest: {:?}", backup.output)
    };
    assert_eq!(m.file, file);
    assert_eq!(m.migration_version, Some(to));
    let on_disk = ops::backup::archive::read_manifest(&console.config.backup_dir.join(&file))
        .expect("sidecar");
    assert_eq!(on_disk.sha256, m.sha256);

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
    let on_disk = ops::backup::archive::read_manifest(&console.config.backup_dir.join(&file))
        .expect("sidecar");
    assert_eq!(on_disk.verification, Verification::Verified);
}
