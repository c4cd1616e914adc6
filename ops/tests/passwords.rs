//! Every password a person may choose works end to end — migrate, back up, restore — and
//! shows nowhere: not in a job's log or result, a job record, the audit log, a manifest,
//! the status, Settings or the doctor. One role per password on the server under test.

use std::path::Path;

use ops::config::{Config, DatabaseUrl};
use ops::conninfo::HARD_PASSWORDS;
use ops::migrate::Op;
use ops::model::JobStatus;
use ops::testing::{RoleDb, TestDb};
use ops::Console;
use sqlx::{Connection, PgConnection};

/// Every file under `dir`, read as text (lossy): what a person with the folder sees.
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&all_text(&p));
        } else if p.extension().is_none_or(|x| x != "dump") {
            out.push_str(&String::from_utf8_lossy(
                &std::fs::read(&p).unwrap_or_default(),
            ));
        }
    }
    out
}

fn assert_hidden(what: &str, text: &str, password: &str, written: &str) {
    assert!(
        !text.contains(password),
        "the password {password:?} shows in {what}: {text}"
    );
    assert!(
        !text.contains(written),
        "the password as written ({written:?}) shows in {what}: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_password_character_backs_up_and_never_shows() {
    let base = TestDb::create().await;
    for (i, (password, written)) in HARD_PASSWORDS.iter().enumerate() {
        let rdb = RoleDb::create(&base, &i.to_string(), password, written).await;
        let raw = rdb.url.clone();
        let db = rdb.database.clone();
        let url = DatabaseUrl::parse(&raw).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(url.password().as_deref(), Some(*password));
        let data = std::env::temp_dir().join(format!("{db}-data"));
        let _ = std::fs::remove_dir_all(&data);
        let config = {
            let data = data.clone();
            let raw = raw.clone();
            Config::from_lookup(move |k| match k {
                "DATABASE_URL" => Some(raw.clone()),
                "HOLOMUSH_ADMIN_DATA" => Some(data.display().to_string()),
                "HOLOMUSH_BACKUP_DIR" => Some(data.join("backups").display().to_string()),
                "DB_MIN_CONNS" => Some("0".to_string()),
                _ => None,
            })
            .expect("config")
        };
        let console = Console::open_server(config).await.expect("console");
        let migrated = console
            .start_migration(Op::Up(None), "test")
            .await
            .expect("start migrate")
            .follow(|_| {})
            .await;
        assert_eq!(
            migrated.status,
            JobStatus::Succeeded,
            "{written}: {migrated:?}"
        );
        let (backup, file) = ops::testing::full_backup(&console).await;
        let restored_db = format!("{db}_restored");
        let restore = console
            .start_restore_into(&file, &restored_db, 1, None, "test")
            .await
            .expect("start restore")
            .follow(|_| {})
            .await;
        assert_eq!(
            restore.status,
            JobStatus::Succeeded,
            "{written}: {restore:?}"
        );
        let players: i64 = {
            let mut c = PgConnection::connect_with(
                &url.with_database(&restored_db)
                    .expect("url")
                    .connect_options(),
            )
            .await
            .expect("connect to the restored database as the role");
            sqlx::query_scalar("SELECT count(*) FROM schema_migrations")
                .fetch_one(&mut c)
                .await
                .expect("restored schema_migrations")
        };
        assert_eq!(
            players, 1,
            "{written}: the restored copy has its migration version"
        );

        let status = console.status.get().await;
        let settings = ops::diagnose::settings::view(&console.config, &console.pool).await;
        let doctor = ops::diagnose::doctor::run(&raw).await;
        assert!(doctor.ok, "{written}: {doctor:?}");
        let shown = [
            ("the console's target", console.target()),
            ("the URL's Display", format!("{url} {url:?}")),
            (
                "the job views",
                serde_json::to_string(&[&migrated, &backup, &restore]).expect("json"),
            ),
            ("the status", serde_json::to_string(&*status).expect("json")),
            ("Settings", serde_json::to_string(&settings).expect("json")),
            ("the doctor", serde_json::to_string(&doctor).expect("json")),
            ("the data folder (audit log, job records)", all_text(&data)),
            (
                "the backup folder (manifests)",
                all_text(&data.join("backups")),
            ),
        ];
        for (what, text) in &shown {
            assert_hidden(what, text, password, written);
        }
        assert!(all_text(&data).contains("backup"), "the audit log was read");

        console.pool.close().await;
        rdb.drop_all(&[&restored_db]).await;
        let _ = std::fs::remove_dir_all(&data);
    }
}

/// A bad DATABASE_URL holding any of these passwords is refused with a sentence that
/// does not hold it.
#[test]
fn a_bad_url_never_prints_its_password() {
    for (password, written) in HARD_PASSWORDS {
        for raw in [
            format!("postgres://u:{written}@h:notaport/db"),
            format!("mysql://u:{written}@h/db"),
            format!("postgres://u:{written}@h/db?sslmode=sometimes"),
        ] {
            let e = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| raw.clone()))
                .map(|_| ())
                .expect_err(&raw)
                .to_string();
            assert_hidden("the configuration error", &e, password, written);
            assert!(e.starts_with("DATABASE_URL=\""), "{e}");
        }
    }
}

/// Passwords libpq splits when they are written unencoded — at a `/`, an `@`, a `:` or a
/// `?` — each with the pieces that must never show: the URL is refused or read wrong, and
/// no piece of the password shows in any sentence, display or record.
const UNENCODED: [(&str, &[&str]); 5] = [
    ("Abc123SECRET/tail9", &["Abc123SECRET", "tail9"]),
    ("Pa55word@Secret9", &["Pa55word", "Secret9"]),
    ("Sl4sh/Half@Other7", &["Sl4sh", "Half", "Other7"]),
    ("Col0n:Half?Qmark7", &["Col0n", "Half", "Qmark7"]),
    ("Qm4rk?Half/Sl4sh7", &["Qm4rk", "Half", "Sl4sh7"]),
];

const HINT: &str =
    "if the password holds /, @, :, ? or #, percent-encode them (%2F, %40, %3A, %3F, %23)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unencoded_passwords_never_show() {
    for (i, (password, pieces)) in UNENCODED.iter().enumerate() {
        // Port 9 on loopback: nothing listens, so the doctor fails fast wherever it connects.
        let raw = format!("postgres://holo:{password}@127.0.0.1:9/game");
        let data = std::env::temp_dir().join(format!("unencoded-{}-{i}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let mut shown: Vec<(&str, String)> = Vec::new();
        match Config::from_lookup(|k| (k == "DATABASE_URL").then(|| raw.clone())) {
            Ok(config) => {
                let u = &config.database_url;
                shown.push(("the URL's displays", format!("{} {u} {u:?}", u.masked())));
            }
            Err(e) => shown.push(("the configuration error", e.to_string())),
        }
        shown.push((
            "the target server URL",
            match ops::backup::restore::target_url(&raw) {
                Ok(u) => u.masked(),
                Err(e) => e.to_string(),
            },
        ));
        let audit = ops::audit::AuditLog::open(&data).expect("audit log");
        let doctor = ops::console::doctor(&audit, &raw, "test").await;
        shown.push(("the doctor", serde_json::to_string(&doctor).expect("json")));
        shown.push(("the data folder (audit log)", all_text(&data)));
        assert!(all_text(&data).contains("doctor"), "the audit log was read");
        for (what, text) in &shown {
            for piece in *pieces {
                assert!(
                    !text.contains(piece),
                    "{piece:?} of {password:?} shows in {what}: {text}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&data);
    }
    // The sentence a user reads for an unencoded '/': what is wrong and how to write it.
    let e = Config::from_lookup(|k| {
        (k == "DATABASE_URL").then(|| "postgres://u:Abc123SECRET/tail@h/db".to_string())
    })
    .map(|_| ())
    .expect_err("a port that is not a number")
    .to_string();
    assert_eq!(
        e,
        format!("DATABASE_URL=\"postgres://u:****@h/db\" is not valid: the port is not a number from 1 to 65535; {HINT}; expected a PostgreSQL URL such as postgres://holomush:secret@localhost:5432/holomush?sslmode=require.")
    );
}

/// A signed-in user may type any number of URLs (the doctor, a target server): the
/// configuration's own password stays masked in free text after all of them.
#[test]
fn typed_urls_never_evict_the_database_url_password() {
    let config = Config::from_lookup(|k| {
        (k == "DATABASE_URL")
            .then(|| "postgres://holo:TheManagedDatabaseSecret-7f3a9c@h/db".to_string())
    })
    .expect("config");
    assert_eq!(
        config.database_url.password().as_deref(),
        Some("TheManagedDatabaseSecret-7f3a9c")
    );
    for i in 0..100 {
        let _ = DatabaseUrl::parse(&format!("postgres://u:typed{i:03}@h/db")).expect("typed");
    }
    assert_eq!(
        ops::config::mask_url("FATAL: TheManagedDatabaseSecret-7f3a9c was refused"),
        "FATAL: **** was refused"
    );
}
