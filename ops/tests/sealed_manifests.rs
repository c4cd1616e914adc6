//! "Made by this console" is the manifest's tag under the console's key, not its flag: a
//! manifest copied beside other bytes, written by hand, tagged by another console or by
//! none (an older console's) is foreign, so restoring its archive asks for the typed name.

use std::path::Path;

use ops::model::Manifest;
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

fn sidecar(dir: &Path, file: &str) -> Manifest {
    ops::backup::archive::read_manifest(&dir.join(file)).expect("manifest")
}

fn write(dir: &Path, m: &Manifest) {
    ops::backup::archive::write_manifest(&dir.join(&m.file), m).expect("manifest written");
}

#[tokio::test]
async fn a_manifest_claiming_the_console_made_it_without_its_tag_asks_for_the_typed_name() {
    let db = TestDb::create().await;
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g")
        .await
        .expect("seed");
    c.close().await.ok();
    let console = ops::Console::open(db.config()).await.expect("open");
    let dir = console.config.backup_dir.clone();
    let (_, made) = ops::testing::full_backup(&console).await;
    let own = sidecar(&dir, &made);
    assert!(own.by_console);
    assert_eq!(own.tag.len(), 64, "a backup's manifest carries its tag");
    assert_eq!(
        console.restore_warning(made.as_str()).await.expect("found"),
        None
    );

    let other_key = std::env::temp_dir().join(format!("{}-elsewhere", db.name));
    let theirs = ops::seal::Seal::load_or_create(&other_key).expect("their key");
    let _ = std::fs::remove_dir_all(&other_key);
    // The same bytes and manifest under another name: the tag covers the name.
    std::fs::copy(dir.join(&made), dir.join("copied.dump")).expect("copy");
    let copied = Manifest {
        file: "copied.dump".to_string(),
        ..own.clone()
    };
    write(&dir, &copied);
    // Bytes of its own with a hand-written manifest: by_console and no tag (as an older
    // console wrote them), a tag of hex zeros, another console's tag.
    let forged = |file: &str, tag: &dyn Fn(&Manifest) -> String| {
        std::fs::copy(dir.join(&made), dir.join(file)).expect("copy");
        let mut m = Manifest {
            file: file.to_string(),
            tag: String::new(),
            ..own.clone()
        };
        m.tag = tag(&m);
        write(&dir, &m);
    };
    forged("untagged.dump", &|_| String::new());
    forged("zeros.dump", &|_| "0".repeat(64));
    forged("theirs.dump", &|m| {
        ops::backup::trust::seal_manifest(&theirs, m)
    });

    for name in ["copied.dump", "untagged.dump", "zeros.dump", "theirs.dump"] {
        assert!(
            sidecar(&dir, name).by_console,
            "{name} claims the console made it"
        );
        assert_eq!(
            console.restore_warning(name).await.expect("found"),
            Some(format!("{name} was not made by this console's backups (it was uploaded or copied in): restoring it runs the SQL it holds, so restore only an archive you trust.")),
            "{name}"
        );
        let refused = console
            .start_restore_in_place(name, 1, None, "test")
            .await
            .map(|_| ())
            .expect_err("asks for the typed name");
        assert_eq!(
            refused.to_string(),
            format!("{name} was not made by this console's backups and restoring it runs the SQL it holds: type the target database name \"{}\" to confirm. Nothing was changed.", db.name),
            "{name}"
        );
    }
    // Nor does the catalog believe them, so retention never offers one for deletion
    // (it deletes only the console's own archives): with "keep the last 1", only the
    // console's own older archive would go.
    // Archive names are stamped to the second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, newer) = ops::testing::full_backup(&console).await;
    let listed = console.backups().await.expect("catalog");
    let claims = ["copied.dump", "untagged.dump", "zeros.dump", "theirs.dump"];
    for name in claims {
        let row = listed.iter().find(|m| m.file == name).expect("listed");
        assert!(!row.by_console, "{name} is listed as the console's");
    }
    let policy = ops::backup::retention::Policy {
        keep_last: Some(1),
        max_age: None,
    };
    let later = chrono::Utc::now() + chrono::Duration::days(365);
    assert_eq!(
        ops::backup::retention::plan(&listed, policy, later),
        vec![made.clone()],
        "newest kept: {newer}"
    );
    // Its own manifest, rewritten by a verify, keeps its tag and its trust.
    let view = console
        .start_verify(made.as_str(), ops::console::Check::Blocks, "test")
        .await
        .expect("verify starts")
        .follow(|_| {})
        .await;
    assert_eq!(
        view.status,
        ops::model::JobStatus::Succeeded,
        "{:?}",
        view.result
    );
    assert_eq!(sidecar(&dir, &made).tag, own.tag);
    assert_eq!(
        console.restore_warning(made.as_str()).await.expect("found"),
        None
    );
}
