//! The data and backup folders are the console's user's alone: one that already exists
//! with an open mode is brought to 0700 (and said so), and one that belongs to another user
//! is refused with the `chmod` to run.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::text;
use ops::testing::TestDb;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("meta").permissions().mode() & 0o7777
}

fn open_to_all(p: &Path) {
    std::fs::create_dir_all(p).expect("dir");
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_open_folders_become_0700_and_another_users_is_refused() {
    let db = TestDb::create().await;
    let root = std::env::temp_dir().join(format!("{}-folders", db.name));
    let _ = std::fs::remove_dir_all(&root);
    let data = root.join("data");
    let backups = data.join("backups");
    open_to_all(&data);
    open_to_all(&backups);

    let o = common::binary(&db.url, &data)
        .args(["backup", "list"])
        .output()
        .expect("backup list");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&backups), 0o700);
    let said = text(&o);
    for dir in [&data, &backups] {
        assert!(
            said.contains(&format!(
                "The folder {} was open to other users (mode 0755): it is now 0700, for the console's user alone.",
                dir.display()
            )),
            "{said}"
        );
    }

    // Another user's folder, open to all: left alone, and the command refused.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let theirs = root.join("theirs");
    open_to_all(&theirs);
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown nobody");
    let o = common::binary(&db.url, &theirs)
        .env("HOLOMUSH_BACKUP_DIR", &backups)
        .arg("activity")
        .output()
        .expect("activity");
    assert!(!o.status.success());
    let sentence = format!(
        "The folder {0} is open to other users (mode 0755) and belongs to another user, so the console cannot make it private: run `chmod 700 {0}` as its owner, or choose another folder.",
        theirs.display()
    );
    assert_eq!(text(&o).trim(), format!("error: {sentence}"));
    assert_eq!(mode(&theirs), 0o755);
    assert!(
        std::fs::read_dir(&theirs).expect("list").next().is_none(),
        "nothing written"
    );
    let _ = std::fs::remove_dir_all(&root);
}
