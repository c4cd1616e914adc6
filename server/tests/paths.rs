//! The CLI as a person types it: `migrate create` without a database, and archives named
//! by path as the operators' guide writes them (`./backups/holomush_….dump`).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use ops::model::Outcome;
use ops::testing::TestDb;

fn run_in(dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_holomush-admin"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run holomush-admin")
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The audit records' (action, target, outcome).
fn audit(data: &Path) -> Vec<(String, String, Outcome)> {
    common::audit_records(data)
        .into_iter()
        .map(|r| (r.action, r.target, r.outcome))
        .collect()
}

#[test]
fn migrate_create_needs_no_database() {
    let root = std::env::temp_dir().join(format!(
        "holomush-create-{}",
        ops::auth::random_token().get(..10).unwrap_or("x")
    ));
    let migrations = root.join("migrations");
    std::fs::create_dir_all(&migrations).expect("folder");
    let vars = [
        ("HOLOMUSH_MIGRATIONS_DIR", migrations.display().to_string()),
        (
            "HOLOMUSH_ADMIN_DATA",
            root.join("data").display().to_string(),
        ),
    ];
    let o = run_in(&root, &["migrate", "create", "add_thing"], &vars);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o),
        format!(
            "Created {0}/000001_add_thing.up.sql and {0}/000001_add_thing.down.sql",
            migrations.display()
        )
    );
    assert!(migrations.join("000001_add_thing.down.sql").is_file());
    assert_eq!(
        audit(&root.join("data")),
        [(
            "migrate.create".to_string(),
            migrations.display().to_string(),
            Outcome::Ok
        )]
    );
    // Without a folder to write into: one sentence, nothing written.
    let o = run_in(
        &root,
        &["migrate", "create", "other"],
        &[(
            "HOLOMUSH_ADMIN_DATA",
            root.join("data").display().to_string(),
        )],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "error: The migrations are the set embedded in holomush-admin: set HOLOMUSH_MIGRATIONS_DIR (or --migrations-dir) to the folder to create them in."
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn archives_are_named_by_path_inside_and_outside_the_backup_folder() {
    let db = TestDb::create().await;
    let root = std::env::temp_dir().join(format!("{}-paths", db.name));
    let backups = root.join("backups");
    let data = root.join("data");
    std::fs::create_dir_all(root.join("elsewhere")).expect("folders");
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("HOLOMUSH_ADMIN_DATA", data.display().to_string()),
        // Relative, as the seed's default is: the commands run from `root`.
        ("HOLOMUSH_BACKUP_DIR", "./backups".to_string()),
    ];
    let o = run_in(&root, &["backup", "create", "--json"], &vars);
    assert!(o.status.success(), "{}", err(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).expect("manifest");
    let name = manifest["file"].as_str().expect("file").to_string();

    // A path into the folder is the same archive as its bare name: the same audit record,
    // and the manifest keeps the result.
    let o = run_in(
        &root,
        &["backup", "verify", &format!("./backups/{name}")],
        &vars,
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = run_in(&root, &["backup", "verify", &name], &vars);
    assert!(o.status.success(), "{}", err(&o));
    let verifies: Vec<_> = audit(&data)
        .into_iter()
        .filter(|(a, _, _)| a == "backup.verify")
        .collect();
    assert_eq!(verifies.len(), 2);
    assert_eq!(verifies[0], verifies[1]);
    assert_eq!(verifies[0].1, name);
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(backups.join(format!("{name}.json"))).expect("manifest file"),
    )
    .expect("json");
    assert_eq!(m["verification"], "verified");
    let o = run_in(&root, &["info"], &vars);
    assert!(
        out(&o).contains(&format!("Last backup: {name} (full backup, "))
            && out(&o).contains(" ago, verified)"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains("No full backup yet"), "{}", out(&o));

    // Outside the folder: read in place, and the job says so; nothing is written beside it.
    let outside = root.join("elsewhere").join("copy.dump");
    std::fs::copy(backups.join(&name), &outside).expect("copy");
    let o = run_in(
        &root,
        &["backup", "verify", &outside.display().to_string()],
        &vars,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains(&format!(
            "Reading {} in place: it is outside HOLOMUSH_BACKUP_DIR (./backups), so nothing is copied and nothing is written beside it",
            outside.display()
        )),
        "{}",
        err(&o)
    );
    assert!(!root.join("elsewhere/copy.dump.json").exists());
    let restored = format!("{}_from_path", db.name);
    let _cleanup = TestDb::named_on(&db.url, &restored);
    let o = run_in(
        &root,
        &["restore", "elsewhere/copy.dump", "--into", &restored],
        &vars,
    );
    // Not the console's own (it is outside the folder): the target's name must be given.
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let o = run_in(
        &root,
        &[
            "restore",
            "elsewhere/copy.dump",
            "--into",
            &restored,
            "--confirm-name",
            &restored,
        ],
        &vars,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("Warning: copy.dump was not made by this console's backups"),
        "{}",
        err(&o)
    );
    assert!(
        err(&o).contains("in place: it is outside HOLOMUSH_BACKUP_DIR"),
        "{}",
        err(&o)
    );
    assert!(
        err(&o).contains(&format!("Restored into database \"{restored}\"")),
        "{}",
        err(&o)
    );

    // Delete: only inside the folder.
    let o = run_in(
        &root,
        &["backup", "delete", "elsewhere/copy.dump", "--yes"],
        &vars,
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        format!(
            "error: {} is outside HOLOMUSH_BACKUP_DIR (./backups): backup delete only removes archives of the backup folder, so nothing was deleted.",
            outside.display()
        )
    );
    assert!(outside.is_file());

    // A link is never followed, by name or by path.
    std::os::unix::fs::symlink(&outside, backups.join("link.dump")).expect("symlink");
    for given in ["link.dump", "./backups/link.dump"] {
        let o = run_in(&root, &["backup", "verify", given], &vars);
        assert_eq!(o.status.code(), Some(2), "{given}");
        assert!(err(&o).contains("symbolic link"), "{given}: {}", err(&o));
    }

    // Import (the page's Upload) takes a path too: never a link, never the folder's own.
    let link = root.join("elsewhere").join("link.dump");
    std::os::unix::fs::symlink(&outside, &link).expect("symlink");
    let o = run_in(&root, &["backup", "import", "elsewhere/link.dump"], &vars);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "error: elsewhere/link.dump is a symbolic link: give the archive file itself (links are not followed)."
    );
    let o = run_in(
        &root,
        &["backup", "import", &format!("./backups/{name}")],
        &vars,
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        format!("error: {name} is already in the backup folder: nothing to import (see `holomush-admin backup list`).")
    );
    let o = run_in(&root, &["backup", "import", "elsewhere/copy.dump"], &vars);
    assert!(o.status.success(), "{}", err(&o));
    assert!(backups.join("copy.dump").is_file() && backups.join("copy.dump.json").is_file());
    assert!(outside.is_file());
    let o = run_in(&root, &["backup", "import", "elsewhere/copy.dump"], &vars);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err(&o),
        "error: ./backups/copy.dump already exists: nothing was overwritten."
    );

    let o = run_in(
        &root,
        &["backup", "delete", &format!("./backups/{name}"), "--yes"],
        &vars,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), format!("Deleted {name}."));
    assert!(!backups.join(&name).exists() && !backups.join(format!("{name}.json")).exists());
    assert!(audit(&data).contains(&("backup.delete".to_string(), name.clone(), Outcome::Ok)));
    let _ = std::fs::remove_dir_all(&root);
}
