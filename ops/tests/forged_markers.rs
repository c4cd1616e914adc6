//! Markers and manifests that cannot be forged: a database comment or a manifest counts as
//! this console's only with a tag under the key in its data folder (and, for a marker, its
//! kind of name and an owner that is the console's role or a restore role of its). Anything
//! else is reported and left alone, or asks for the typed confirmation a foreign archive
//! needs. Every case here was acted on before the tags.

use ops::backup::interrupted::NewMarker;
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};

const RESTORE: &str = "holomush-admin restore in progress: ";
const INTO: &str = "holomush-admin restore into a new database in progress: ";
const REHEARSAL: &str = "holomush-admin rehearsal scratch copy: ";

/// A process id that was alive a moment ago and is gone now.
fn gone_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.expect("connect")
}

async fn exists(url: &str, name: &str) -> bool {
    let mut c = connect(url).await;
    let found = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut c)
        .await
        .expect("query");
    c.close().await.ok();
    found
}

async fn comment_of(url: &str, name: &str) -> Option<String> {
    let mut c = connect(url).await;
    let text = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_one(&mut c)
    .await
    .expect("comment");
    c.close().await.ok();
    text
}

/// Creates `name` (by the test's session, which has the console's role) with `comment` on
/// it, written by hand as anyone with that role could; dropped when the guard goes.
async fn marked(db: &TestDb, name: &str, comment: &str) -> TestDb {
    let guard = TestDb::named_on(&db.url, name);
    let mut c = connect(&db.url).await;
    c.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create");
    c.execute(
        format!(
            "COMMENT ON DATABASE \"{name}\" IS '{}'",
            comment.replace('\'', "''")
        )
        .as_str(),
    )
    .await
    .expect("comment");
    c.close().await.ok();
    guard
}

/// What the console said about this test's databases, sorted: other tests' consoles on the
/// same server leave job roles behind that any console may sweep and report.
fn about(db: &TestDb, done: Vec<String>) -> Vec<String> {
    let mut v: Vec<String> = done.into_iter().filter(|l| l.contains(&db.name)).collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn forged_markers_naming_a_dead_process_are_reported_and_their_databases_kept() {
    let db = TestDb::create().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let (pid, host) = (gone_pid(), ops::joblock::hostname());
    let live = &db.name;
    // The right shape, the right names, a dead process of this host: what the console used to
    // drop WITH (FORCE).
    let copy = format!("{live}_restoring_20200101_000000");
    let into = format!("{live}_forged_into");
    let scratch = format!("{live}_rehearse_20200101_000000");
    let other_key = format!("{live}_other_key");
    let _guards = [
        marked(&db, &copy, &format!("{RESTORE}{{\"current\":\"{live}\",\"previous\":\"{live}_before_restore_20200101_000000\",\"pid\":{pid},\"host\":\"{host}\"}}")).await,
        marked(&db, &into, &format!("{INTO}{{\"of\":\"{live}\",\"pid\":{pid},\"host\":\"{host}\"}}")).await,
        marked(&db, &scratch, &format!("{REHEARSAL}{}{{\"of\":\"{live}\",\"pid\":{pid},\"host\":\"{host}\"}}", "ab".repeat(32) + " ")).await,
    ];
    // A marker tagged with another console's key (another data folder).
    let elsewhere = std::env::temp_dir().join(format!("{live}-elsewhere"));
    let theirs = ops::seal::Seal::load_or_create(&elsewhere).expect("their key");
    let _other = TestDb::named_on(&db.url, &other_key);
    let mut c = connect(&db.url).await;
    c.execute(format!("CREATE DATABASE \"{other_key}\"").as_str())
        .await
        .expect("create");
    let sql = NewMarker {
        of: live.clone(),
        pid,
        host: host.clone(),
    }
    .comment_on(&theirs, &other_key);
    c.execute(sql.as_str()).await.expect("mark");
    c.close().await.ok();
    let _ = std::fs::remove_dir_all(&elsewhere);

    let done = console.recover_interrupted_work().await;
    assert_eq!(
        about(&db, done),
        sorted(vec![
            format!("Database \"{copy}\" carries a restore marker this console did not write (it carries no tag: written by hand or by an older console): it was left alone; drop it by hand if it is not yours."),
            format!("Database \"{into}\" carries a restore marker this console did not write (it carries no tag: written by hand or by an older console): it was left alone; drop it by hand if it is not yours."),
            format!("Database \"{scratch}\" carries a rehearsal marker this console did not write (its tag was not made with this console's key for this database): it was left alone; drop it by hand if it is not yours."),
            format!("Database \"{other_key}\" carries a restore marker this console did not write (its tag was not made with this console's key for this database): it was left alone; drop it by hand if it is not yours."),
        ])
    );
    for name in [&copy, &into, &scratch, &other_key] {
        assert!(exists(&db.url, name).await, "{name} was dropped");
    }
    // The audit log says it too.
    let said = console
        .audit
        .list(&ops::model::AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .expect("audit");
    assert!(
        said.iter().any(|r| r
            .detail
            .starts_with(&format!("Database \"{into}\" carries"))),
        "{said:?}"
    );
}

#[tokio::test]
async fn a_real_marker_copied_onto_another_database_counts_only_where_it_was_written() {
    let db = TestDb::create().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let (pid, host) = (gone_pid(), ops::joblock::hostname());
    let real = format!("{}_real", db.name);
    let copied = format!("{}_copied", db.name);
    let _real = TestDb::named_on(&db.url, &real);
    let mut c = connect(&db.url).await;
    c.execute(format!("CREATE DATABASE \"{real}\"").as_str())
        .await
        .expect("create");
    // The marker a restore into `real` by this console writes, its process since killed.
    let sql = NewMarker {
        of: db.name.clone(),
        pid,
        host,
    }
    .comment_on(console.seal(), &real);
    c.execute(sql.as_str()).await.expect("mark");
    c.close().await.ok();
    let text = comment_of(&db.url, &real).await.expect("marked");
    let _copied = marked(&db, &copied, &text).await;

    let done = console.recover_interrupted_work().await;
    assert_eq!(
        about(&db, done),
        sorted(vec![
            format!("A restore into \"{real}\" was interrupted (process {pid} is gone): dropped the half-restored database; run the restore again."),
            format!("Database \"{copied}\" carries a restore marker this console did not write (its tag was not made with this console's key for this database): it was left alone; drop it by hand if it is not yours."),
        ])
    );
    assert!(!exists(&db.url, &real).await, "the real one is dropped");
    assert!(exists(&db.url, &copied).await, "the copy is left alone");
}

/// A role for one test, and the console's role made a member of it (as a restore makes it
/// of its job role); dropped at the end.
async fn role(c: &mut PgConnection, name: &str) {
    c.execute(format!("CREATE ROLE \"{name}\" NOLOGIN").as_str())
        .await
        .expect("role");
    c.execute(format!("GRANT \"{name}\" TO CURRENT_USER").as_str())
        .await
        .expect("grant");
}

#[tokio::test]
async fn a_sealed_marker_counts_only_on_a_database_owned_by_the_console_or_its_restore_role() {
    let db = TestDb::create().await;
    let console = ops::Console::open(db.config()).await.expect("open");
    let (pid, host) = (gone_pid(), ops::joblock::hostname());
    let suffix = &db.name["holomush_test_".len()..];
    let stranger = format!("holomush_test_owner_{suffix}");
    let restorer = format!("holomush_restore_test_{suffix}");
    let by_stranger = format!("{}_stranger", db.name);
    let by_restorer = format!("{}_restorer", db.name);
    let _guards = [
        TestDb::named_on(&db.url, &by_stranger),
        TestDb::named_on(&db.url, &by_restorer),
    ];
    let mut c = connect(&db.url).await;
    let me: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut c)
        .await
        .expect("me");
    for (owner, name) in [(&stranger, &by_stranger), (&restorer, &by_restorer)] {
        role(&mut c, owner).await;
        c.execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("create");
        let sql = NewMarker {
            of: db.name.clone(),
            pid,
            host: host.clone(),
        }
        .comment_on(console.seal(), name);
        c.execute(sql.as_str()).await.expect("mark");
        c.execute(format!("ALTER DATABASE \"{name}\" OWNER TO \"{owner}\"").as_str())
            .await
            .expect("owner");
    }

    let done = console.recover_interrupted_work().await;
    assert_eq!(
        about(&db, done),
        sorted(vec![
            format!("A restore into \"{by_restorer}\" was interrupted (process {pid} is gone): dropped the half-restored database; run the restore again."),
            format!("Database \"{by_stranger}\" carries a restore marker of this console's, but it is owned by \"{stranger}\", not by the console's role \"{me}\" or a restore role of its: it was left alone; drop it by hand if it is not yours."),
        ])
    );
    assert!(exists(&db.url, &by_stranger).await);
    assert!(!exists(&db.url, &by_restorer).await);

    c.execute(format!("DROP DATABASE \"{by_stranger}\"").as_str())
        .await
        .expect("drop");
    for owner in [&stranger, &restorer] {
        c.execute(format!("DROP ROLE \"{owner}\"").as_str())
            .await
            .expect("drop role");
    }
    c.close().await.ok();
}

#[tokio::test]
async fn a_forged_marker_is_not_renamed_into_a_missing_live_database() {
    let db = TestDb::create().await;
    // The console's database is missing, as between the two renames of a swap.
    let live = TestDb::named_on(&db.url, &format!("{}_gone", db.name));
    let console = ops::Console::open(live.config()).await.expect("open");
    let stem: String = live.name.chars().take(30).collect();
    let copy = format!("{stem}_restoring_20200101_000000");
    // Its maker alive or not, a copy named for the missing database used to take its name.
    let _copy = marked(
        &db,
        &copy,
        &format!(
            "{RESTORE}{{\"current\":\"{}\",\"previous\":\"{stem}_before_restore_20200101_000000\",\"pid\":{},\"host\":\"{}\"}}",
            live.name,
            std::process::id(),
            ops::joblock::hostname()
        ),
    )
    .await;

    let done = console.recover_interrupted_work().await;
    assert_eq!(
        about(&db, done),
        vec![format!("Database \"{copy}\" carries a restore marker this console did not write (it carries no tag: written by hand or by an older console): it was left alone; drop it by hand if it is not yours.")]
    );
    assert!(exists(&db.url, &copy).await, "the copy keeps its name");
    assert!(
        !exists(&db.url, &live.name).await,
        "nothing took the live name"
    );
}

#[tokio::test]
async fn a_console_makes_its_key_0600_and_refuses_one_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::create().await;
    let config = db.config();
    let key = config.data_dir.join(ops::seal::FILE_NAME);
    let console = ops::Console::open(config.clone()).await.expect("open");
    let meta = std::fs::symlink_metadata(&key).expect("made on first open");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);
    drop(console);

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let refused = ops::Console::open(config)
        .await
        .map(|_| ())
        .expect_err("refused");
    let shown = key.display();
    assert_eq!(
        refused.to_string(),
        format!("The console's key {shown} has mode 0644, so others may read it: make it the console's user's alone (chmod 600 {shown}), or remove it if someone else may have read it.")
    );
}
