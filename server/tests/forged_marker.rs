//! The real binary and a database comment written by hand: `backup list` (which settles what
//! killed restores left before it lists) used to drop, WITH (FORCE), a database carrying a
//! marker-shaped comment naming a dead process. Now it says so and leaves it; and a key in
//! the data folder that others can read stops the command with its sentence.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::text;
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

#[tokio::test]
async fn backup_list_leaves_a_database_with_a_forged_marker_alone_and_says_so() {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-forged", db.name));
    let victim = format!("{}_not_the_consoles", db.name);
    let _victim = TestDb::named_on(&db.url, &victim);
    let pid = {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    };
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    c.execute(format!("CREATE DATABASE \"{victim}\"").as_str())
        .await
        .expect("create");
    c.execute(
        format!(
            "COMMENT ON DATABASE \"{victim}\" IS 'holomush-admin restore into a new database in progress: {{\"of\":\"{}\",\"pid\":{pid},\"host\":\"{}\"}}'",
            db.name,
            ops::joblock::hostname()
        )
        .as_str(),
    )
    .await
    .expect("forge");

    let o = common::binary(&db.url, &data)
        .args(["backup", "list"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!(
            "Database \"{victim}\" carries a restore marker this console did not write (it carries no tag: written by hand or by an older console): it was left alone; drop it by hand if it is not yours."
        )),
        "{}",
        text(&o)
    );
    let kept: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&victim)
            .fetch_one(&mut c)
            .await
            .expect("query");
    assert!(kept, "the database was dropped");
    c.close().await.ok();

    // The key made on that first run, then opened to others: refused before anything runs.
    let key = data.join(ops::seal::FILE_NAME);
    assert_eq!(
        std::fs::metadata(&key).expect("key").permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = common::binary(&db.url, &data)
        .args(["backup", "list"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let shown = key.display();
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim_end(),
        format!("error: The console's key {shown} has mode 0644, so others may read it: make it the console's user's alone (chmod 600 {shown}), or remove it if someone else may have read it.")
    );
    let _ = std::fs::remove_dir_all(&data);
}
