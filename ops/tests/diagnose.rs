//! The doctor and the dirty-state analysis against a real PostgreSQL.

use std::path::PathBuf;

use ops::diagnose::{dirty, doctor};
use ops::migrate::golang::lock;
use ops::migrate::source::Origin;
use ops::migrate::{Migrator, Op, Source};
use ops::model::{DoctorReport, RepairAction, RepairConclusion, StepStatus};
use ops::testing::TestDb;
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

fn migrator(db: &TestDb, files: &[(&str, &str)]) -> Migrator {
    let source = Source::from_files(
        Origin::Folder(PathBuf::from("test")),
        files
            .iter()
            .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec())),
    )
    .expect("source");
    Migrator::new(source, db.database_url(), "test")
}

async fn up(m: &Migrator, op: Op) -> Result<ops::migrate::RunReport, ops::migrate::MigrateError> {
    m.run(op, &|_| {}, &CancellationToken::new()).await
}

async fn exec(db: &TestDb, sql: &str) {
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::raw_sql(sql).execute(&mut c).await.expect("exec");
    c.close().await.ok();
}

fn step<'a>(r: &'a DoctorReport, id: &str) -> &'a ops::model::DoctorStep {
    r.steps
        .iter()
        .find(|s| s.id.as_str() == id)
        .expect("step present")
}

fn statuses(r: &DoctorReport) -> Vec<(String, StepStatus)> {
    r.steps
        .iter()
        .map(|s| (s.id.as_str().to_string(), s.status))
        .collect()
}

const FIRST: (&str, &str) = (
    "1_rooms.up.sql",
    "CREATE TABLE rooms (id bigint PRIMARY KEY, name text);",
);
const FIRST_DOWN: (&str, &str) = ("1_rooms.down.sql", "DROP TABLE rooms;");

#[tokio::test]
async fn a_failed_migration_is_not_applied_and_forces_the_previous_version() {
    let db = TestDb::create().await;
    let m = migrator(
        &db,
        &[
            FIRST,
            FIRST_DOWN,
            (
                "2_bad.up.sql",
                "CREATE TABLE exits (id int);\nSELECT * FROM nope;",
            ),
            ("2_bad.down.sql", "DROP TABLE exits;"),
        ],
    );
    up(&m, Op::Up(None)).await.expect_err("version 2 fails");
    let r = dirty::analyze(&m).await.expect("analysis");
    assert_eq!((r.version, r.dirty), (2, true));
    assert_eq!(r.conclusion, RepairConclusion::NotApplied);
    assert!(r.objects_recognised);
    assert_eq!(r.objects.len(), 1);
    assert_eq!(
        (
            r.objects[0].kind.as_str(),
            r.objects[0].name.as_str(),
            r.objects[0].present
        ),
        ("table", "exits", false)
    );
    assert_eq!(
        (r.recommendation.action, r.recommendation.version),
        (RepairAction::Force, Some(1))
    );
    assert_eq!(r.alternatives[0].action, RepairAction::Restore);
    assert_eq!(r.previous_version, 1);
    assert_eq!(r.target.database, db.name);
    assert!(r.lock_holders.is_empty());
    assert!(r.up_sql.as_deref().is_some_and(|s| s.contains("nope")));
    assert_eq!(r.down_sql.as_deref(), Some("DROP TABLE exits;"));
    let h = r
        .last_history
        .as_ref()
        .expect("the console recorded the failure");
    assert!(!h.success);
    assert!(h
        .error
        .as_deref()
        .is_some_and(|e| e.contains("relation \"nope\" does not exist")));
    dirty::refuse_while_locked(&r).expect("nobody holds the lock");

    // The JSON shape `migrate repair --json` promises.
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["conclusion"], "not_applied");
    assert_eq!(json["recommendation"]["action"], "force");
    assert_eq!(json["recommendation"]["version"], 1);
    assert_eq!(json["objects"][0]["present"], false);
    assert!(json["target"]["host"].is_string() && json["target"]["database"].is_string());
}

#[tokio::test]
async fn killed_between_sql_and_version_write_is_applied_and_forces_v() {
    let db = TestDb::create().await;
    let v2 = "CREATE TABLE characters (id bigint PRIMARY KEY);\n\
              ALTER TABLE characters ADD COLUMN name text;\n\
              CREATE INDEX characters_name_idx ON characters (name);";
    let m = migrator(
        &db,
        &[
            FIRST,
            FIRST_DOWN,
            ("2_characters.up.sql", v2),
            ("2_characters.down.sql", "DROP TABLE characters;"),
        ],
    );
    up(&m, Op::Up(Some(1))).await.expect("version 1");
    exec(&db, v2).await;
    exec(
        &db,
        "TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES (2, true);",
    )
    .await;
    let r = dirty::analyze(&m).await.expect("analysis");
    assert_eq!(r.conclusion, RepairConclusion::Applied, "{:?}", r.objects);
    let names: Vec<&str> = r.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["characters", "characters.name", "characters_name_idx"]
    );
    assert!(r.objects.iter().all(|o| o.present));
    assert_eq!(
        (r.recommendation.action, r.recommendation.version),
        (RepairAction::Force, Some(2))
    );
    assert!(
        r.last_history.is_none(),
        "no console run of version 2 was recorded"
    );
}

#[tokio::test]
async fn a_half_done_concurrent_index_migration_is_partial() {
    let db = TestDb::create().await;
    let v2 = "CREATE INDEX CONCURRENTLY rooms_name_idx ON rooms (name);\n\
              ALTER TABLE rooms ADD COLUMN topic text;\n\
              ALTER TABLE rooms ADD CONSTRAINT rooms_topic_check CHECK (topic <> '');";
    let m = migrator(
        &db,
        &[
            FIRST,
            FIRST_DOWN,
            ("2_rooms_name.up.sql", v2),
            (
                "2_rooms_name.down.sql",
                "DROP INDEX IF EXISTS rooms_name_idx;",
            ),
        ],
    );
    up(&m, Op::Up(Some(1))).await.expect("version 1");
    exec(
        &db,
        "CREATE INDEX CONCURRENTLY rooms_name_idx ON rooms (name)",
    )
    .await;
    exec(
        &db,
        "TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES (2, true);",
    )
    .await;
    let r = dirty::analyze(&m).await.expect("analysis");
    let seen: Vec<(&str, &str, bool)> = r
        .objects
        .iter()
        .map(|o| (o.kind.as_str(), o.name.as_str(), o.present))
        .collect();
    assert_eq!(
        seen,
        [
            ("index", "rooms_name_idx", true),
            ("column", "rooms.topic", false),
            ("constraint", "rooms.rooms_topic_check", false),
        ]
    );
    assert_eq!(r.conclusion, RepairConclusion::Partial);
    assert_eq!(
        (r.recommendation.action, r.recommendation.version),
        (RepairAction::RunDownThenForce, Some(1))
    );
    let alts: Vec<(RepairAction, Option<i64>)> = r
        .alternatives
        .iter()
        .map(|a| (a.action, a.version))
        .collect();
    assert_eq!(
        alts,
        [
            (RepairAction::Force, Some(2)),
            (RepairAction::Restore, None)
        ]
    );
    assert_eq!(
        serde_json::to_value(&r).expect("json")["recommendation"]["action"],
        "run_down_then_force"
    );
}

#[tokio::test]
async fn a_file_with_nothing_recognisable_says_so() {
    let db = TestDb::create().await;
    let m = migrator(
        &db,
        &[FIRST, ("2_data.up.sql", "UPDATE rooms SET name = 'x';")],
    );
    up(&m, Op::Up(Some(1))).await.expect("version 1");
    exec(
        &db,
        "TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES (2, true);",
    )
    .await;
    let r = dirty::analyze(&m).await.expect("analysis");
    assert!(!r.objects_recognised);
    assert_eq!(r.conclusion, RepairConclusion::NotApplied);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("no statement the analysis recognises")),
        "{:?}",
        r.notes
    );

    // Clean: nothing to do.
    exec(
        &db,
        "TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES (1, false);",
    )
    .await;
    let r = dirty::analyze(&m).await.expect("analysis");
    assert_eq!(
        (r.conclusion, r.recommendation.action),
        (RepairConclusion::Clean, RepairAction::None)
    );
    assert_eq!(
        r.previous_version, -1,
        "version 1 has no predecessor: golang-migrate's nil version"
    );
}

#[tokio::test]
async fn a_session_holding_the_migration_lock_is_named_and_refused() {
    let db = TestDb::create().await;
    let m = migrator(&db, &[FIRST, FIRST_DOWN]);
    up(&m, Op::Up(None)).await.expect("up");
    let mut other = PgConnection::connect(&format!("{}?application_name=other-migrator", db.url))
        .await
        .expect("connect");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut other)
        .await
        .expect("pid");
    let id = lock::lock_id(&format!("/{}", db.name), "public", "schema_migrations");
    other
        .execute(format!("SELECT pg_advisory_lock({id})").as_str())
        .await
        .expect("lock");
    let r = dirty::analyze(&m).await.expect("analysis");
    assert_eq!(r.lock_holders.len(), 1, "{:?}", r.lock_holders);
    assert_eq!(r.lock_holders[0].pid, pid);
    assert_eq!(r.lock_holders[0].application_name, "other-migrator");
    assert!(r.lock_holders[0].since.is_some());
    let e = dirty::refuse_while_locked(&r)
        .expect_err("refused")
        .to_string();
    assert!(e.starts_with("A migration is running:"), "{e}");
    assert!(e.contains(&format!("pid {pid} (other-migrator")), "{e}");

    // The other id (current_database() without the slash) counts too.
    other
        .execute(format!("SELECT pg_advisory_unlock({id})").as_str())
        .await
        .expect("unlock");
    let id2 = lock::lock_id(&db.name, "public", "schema_migrations");
    other
        .execute(format!("SELECT pg_advisory_lock({id2})").as_str())
        .await
        .expect("lock");
    let r = dirty::analyze(&m).await.expect("analysis");
    assert_eq!(
        r.lock_holders.iter().map(|h| h.pid).collect::<Vec<_>>(),
        [pid]
    );
    other.close().await.ok();
    let r = dirty::analyze(&m).await.expect("analysis");
    assert!(r.lock_holders.is_empty());
}

fn with_password(url: &str, password: &str) -> String {
    let mut u = url::Url::parse(url).expect("url");
    u.set_password(Some(password)).expect("password");
    u.to_string()
}

#[tokio::test]
async fn doctor_closed_port_fails_tcp_and_skips_the_rest() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = doctor::run(&format!(
        "postgres://u:pw-secret-1@127.0.0.1:{port}/db?sslmode=disable"
    ))
    .await;
    assert!(!r.ok);
    let s = statuses(&r);
    let ids: Vec<&str> = s.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(ids, doctor::STEPS.map(|s| s.as_str()));
    assert_eq!(
        &s[..3],
        &[
            ("parse".into(), StepStatus::Pass),
            ("dns".into(), StepStatus::Pass),
            ("tcp".into(), StepStatus::Fail)
        ]
    );
    assert!(
        s[3..].iter().all(|(_, st)| *st == StepStatus::Skip),
        "{s:?}"
    );
    assert!(step(&r, "tcp").message.contains("refused"));
    assert!(step(&r, "auth").message.contains("tcp step failed"));
    assert!(!serde_json::to_string(&r)
        .expect("json")
        .contains("pw-secret-1"));
}

#[tokio::test]
async fn doctor_wrong_password_fails_auth_without_showing_it() {
    let db = TestDb::create().await;
    let wrong = "Wr0ng-Passw0rd-xyz";
    let r = doctor::run(&with_password(&db.url, wrong)).await;
    let auth = step(&r, "auth");
    assert_eq!(auth.status, StepStatus::Fail, "{r:?}");
    let fix = auth.fix.as_deref().unwrap_or("");
    assert!(
        fix.contains("pg_hba.conf") && fix.contains("password"),
        "{fix}"
    );
    assert!(step(&r, "select1").status == StepStatus::Skip);
    let json = serde_json::to_string(&r).expect("json");
    assert!(!json.contains(wrong), "{json}");
    let real = url::Url::parse(&db.url)
        .expect("url")
        .password()
        .unwrap_or("")
        .to_string();
    assert!(real.is_empty() || !json.contains(&real));
}

#[tokio::test]
async fn doctor_missing_database_suggests_createdb() {
    let db = TestDb::create().await;
    let mut u = url::Url::parse(&db.url).expect("url");
    u.set_path("/holomush_no_such_database");
    let r = doctor::run(u.as_str()).await;
    let auth = step(&r, "auth");
    assert_eq!(auth.status, StepStatus::Fail);
    assert!(auth.message.contains("does not exist"), "{}", auth.message);
    assert!(
        auth.fix.as_deref().is_some_and(|f| f.contains("createdb")),
        "{auth:?}"
    );
}

#[tokio::test]
async fn doctor_malformed_url_fails_parse() {
    let r = doctor::run("postgres://u:pw-secret-2@localhost:notaport/db").await;
    assert_eq!(step(&r, "parse").status, StepStatus::Fail);
    assert!(step(&r, "parse").message.contains("is not valid"));
    assert!(r.steps[1..].iter().all(|s| s.status == StepStatus::Skip));
    assert!(!serde_json::to_string(&r)
        .expect("json")
        .contains("pw-secret-2"));
    let r = doctor::run("mysql://u@h/db").await;
    assert!(step(&r, "parse").message.contains("not postgres://"));
}

#[tokio::test]
async fn doctor_pg_trgm_then_enable_then_healthy() {
    let db = TestDb::create().await;
    let r = doctor::run(&db.url).await;
    let t = step(&r, "pg_trgm");
    assert_eq!(t.status, StepStatus::Fail);
    assert_eq!(
        t.fix.as_deref(),
        Some("CREATE EXTENSION IF NOT EXISTS pg_trgm;")
    );
    assert_eq!(
        step(&r, "migrations").status,
        StepStatus::Warn,
        "no schema_migrations yet"
    );

    let said = doctor::enable_pg_trgm(&db.database_url())
        .await
        .expect("enable");
    assert!(said.starts_with("pg_trgm "), "{said}");
    let m = migrator(&db, &[FIRST, FIRST_DOWN]);
    up(&m, Op::Up(None)).await.expect("up");

    let r = doctor::run(&db.url).await;
    assert!(r.ok, "{r:#?}");
    assert!(
        r.steps
            .iter()
            .all(|s| matches!(s.status, StepStatus::Pass | StepStatus::Warn)),
        "{r:#?}"
    );
    assert_eq!(step(&r, "pg_trgm").status, StepStatus::Pass);
    assert!(step(&r, "select1").message.contains(" ms"));
    assert!(step(&r, "migrations").message.contains("version 1"));
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["steps"][0]["status"], "pass");

    exec(&db, "UPDATE schema_migrations SET dirty = true").await;
    let r = doctor::run(&db.url).await;
    let mig = step(&r, "migrations");
    assert_eq!(mig.status, StepStatus::Fail);
    assert!(mig
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("holomush-admin migrate repair")));
}

#[tokio::test]
async fn doctor_sslmode_require_against_a_server_without_ssl_fails_tls() {
    let db = TestDb::create().await;
    let mut c = PgConnection::connect(&db.url).await.expect("connect");
    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut c)
        .await
        .expect("ssl");
    c.close().await.ok();
    if ssl != "off" {
        return; // Only meaningful against a server without SSL, like the dev cluster.
    }
    let r = doctor::run(&format!("{}?sslmode=require", db.url)).await;
    let tls = step(&r, "tls");
    assert_eq!(tls.status, StepStatus::Fail, "{r:#?}");
    assert!(
        tls.message.contains("does not offer SSL"),
        "{}",
        tls.message
    );
    assert_eq!(step(&r, "auth").status, StepStatus::Skip);
}
