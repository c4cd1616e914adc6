//! The binary with every password a person may choose in DATABASE_URL: `info`, the
//! start-up banner, `backup create`, `doctor --url -` and a start-up error work (or fail
//! with their sentence) and never print it; the audit log never holds it either.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use ops::conninfo::HARD_PASSWORDS;
use ops::testing::{RoleDb, TestDb};

fn command(vars: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_holomush-admin"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

fn all(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn hidden(what: &str, text: &str, password: &str, written: &str) {
    assert!(
        !text.contains(password),
        "{password:?} shows in {what}: {text}"
    );
    assert!(
        !text.contains(written),
        "{written:?} shows in {what}: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_works_with_every_password_and_never_prints_it() {
    let base = TestDb::create().await;
    let site = std::env::temp_dir().join(format!("{}-site", base.name));
    std::fs::create_dir_all(site.join("pkg")).expect("site");
    std::fs::write(site.join("pkg/holomush-admin.js"), "").expect("site marker");
    for (i, (password, written)) in HARD_PASSWORDS.iter().enumerate() {
        let rdb = RoleDb::create(&base, &format!("c{i}"), password, written).await;
        let data = std::env::temp_dir().join(format!("{}-data", rdb.database));
        let vars = vec![
            ("DATABASE_URL", rdb.url.clone()),
            ("HOLOMUSH_ADMIN_DATA", data.display().to_string()),
            (
                "HOLOMUSH_BACKUP_DIR",
                data.join("backups").display().to_string(),
            ),
            ("DB_MIN_CONNS", "0".to_string()),
        ];

        let info = command(&vars).args(["info"]).output().expect("info");
        assert!(info.status.success(), "{written}: {}", all(&info));
        assert!(
            all(&info).contains(&format!("{}:****@", rdb.role)),
            "{}",
            all(&info)
        );
        hidden("info", &all(&info), password, written);

        let up = command(&vars)
            .args(["migrate", "up"])
            .output()
            .expect("migrate");
        assert!(up.status.success(), "{written}: {}", all(&up));
        let backup = command(&vars)
            .args(["backup", "create"])
            .output()
            .expect("backup");
        assert!(backup.status.success(), "{written}: {}", all(&backup));
        hidden("backup create", &all(&backup), password, written);

        // The URL through stdin: nothing in the process list.
        let mut doctor = command(&vars)
            .args(["doctor", "--url", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("doctor");
        doctor
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{}\n", rdb.url).as_bytes())
            .expect("write the URL");
        let doctor = doctor.wait_with_output().expect("doctor");
        assert!(doctor.status.success(), "{written}: {}", all(&doctor));
        hidden("doctor", &all(&doctor), password, written);

        let bad = command(&[
            ("DATABASE_URL", rdb.url.clone()),
            ("DB_MAX_CONNS", "abc".to_string()),
        ])
        .args(["info"])
        .output()
        .expect("info");
        assert_eq!(bad.status.code(), Some(2));
        hidden("a start-up error", &all(&bad), password, written);

        // The start-up banner: the first lines `serve` prints.
        let mut serve_vars = vars.clone();
        serve_vars.extend([
            ("HOLOMUSH_ADMIN_ADDR", "127.0.0.1:0".to_string()),
            ("HOLOMUSH_DB_AUTO_MIGRATE", "false".to_string()),
            ("LEPTOS_SITE_ROOT", site.display().to_string()),
        ]);
        let mut serve = command(&serve_vars)
            .args(["serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut banner = String::new();
        {
            let out = serve.stdout.take().expect("stdout");
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                banner.push_str(&line);
                banner.push('\n');
                if line.starts_with("Sign in") {
                    break;
                }
            }
        }
        let _ = serve.kill();
        let _ = serve.wait();
        assert!(banner.contains("Database: postgres://"), "{banner}");
        hidden("the start-up banner", &banner, password, written);

        let audit = std::fs::read_to_string(data.join("audit.jsonl")).unwrap_or_default()
            + &std::fs::read_dir(&data)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect::<String>();
        assert!(audit.contains("backup"), "the audit log was found: {audit}");
        hidden("the audit log", &audit, password, written);

        rdb.drop_all(&[]).await;
        let _ = std::fs::remove_dir_all(&data);
    }
    let _ = std::fs::remove_dir_all(&site);
}

/// Passwords libpq splits when written unencoded (at `/`, `@`, `:`, `?`), with the pieces
/// that must never print: `info`, the doctor, `serve`'s start and the audit log show none.
const UNENCODED: [(&str, &[&str]); 5] = [
    ("Abc123SECRET/tail9", &["Abc123SECRET", "tail9"]),
    ("Pa55word@Secret9", &["Pa55word", "Secret9"]),
    ("Sl4sh/Half@Other7", &["Sl4sh", "Half", "Other7"]),
    ("Col0n:Half?Qmark7", &["Col0n", "Half", "Qmark7"]),
    ("Qm4rk?Half/Sl4sh7", &["Qm4rk", "Half", "Sl4sh7"]),
];

#[test]
fn the_cli_never_prints_a_piece_of_an_unencoded_password() {
    let site = std::env::temp_dir().join(format!("unencoded-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).expect("site");
    std::fs::write(site.join("pkg/holomush-admin.js"), "").expect("site marker");
    for (i, (password, pieces)) in UNENCODED.iter().enumerate() {
        // Port 9 on loopback: nothing listens, so whatever connects fails fast.
        let url = format!("postgres://holo:{password}@127.0.0.1:9/game");
        let data = std::env::temp_dir().join(format!("unencoded-{}-{i}", std::process::id()));
        let vars = vec![
            ("DATABASE_URL", url.clone()),
            ("HOLOMUSH_ADMIN_DATA", data.display().to_string()),
            (
                "HOLOMUSH_BACKUP_DIR",
                data.join("backups").display().to_string(),
            ),
            ("HOLOMUSH_ADMIN_ADDR", "127.0.0.1:0".to_string()),
            ("HOLOMUSH_DB_AUTO_MIGRATE", "false".to_string()),
            ("LEPTOS_SITE_ROOT", site.display().to_string()),
        ];
        let info = command(&vars).args(["info"]).output().expect("info");
        assert!(!info.status.success(), "{password}: {}", all(&info));

        let mut doctor = command(&vars)
            .args(["doctor", "--url", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("doctor");
        doctor
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{url}\n").as_bytes())
            .expect("write the URL");
        let doctor = doctor.wait_with_output().expect("doctor");
        assert!(!doctor.status.success(), "{password}: {}", all(&doctor));

        let mut serve = command(&vars)
            .args(["serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve");
        let mut started = String::new();
        if let Some(out) = serve.stdout.take() {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                started.push_str(&line);
                started.push('\n');
                if line.starts_with("Sign in") {
                    break;
                }
            }
        }
        let _ = serve.kill();
        let serve = serve.wait_with_output().expect("serve");
        started.push_str(&String::from_utf8_lossy(&serve.stderr));

        let audit = std::fs::read_to_string(data.join("audit.log")).unwrap_or_default();
        assert!(audit.contains("doctor"), "the audit log was found: {audit}");
        for (what, text) in [
            ("info", all(&info)),
            ("the doctor", all(&doctor)),
            ("serve's start", started),
            ("the audit log", audit),
        ] {
            for piece in *pieces {
                assert!(
                    !text.contains(piece),
                    "{piece:?} of {password:?} shows in {what}: {text}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&data);
    }
    let _ = std::fs::remove_dir_all(&site);
}
