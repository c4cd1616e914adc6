//! A Unix-socket URL with peer authentication, as an operator on the database host writes
//! it (`postgresql:///holomush?host=/var/run/postgresql`), run as the `postgres` OS user:
//! the pool, `info`, migrations and pg_dump all reach the same socket with no password.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::text;
use ops::pgtools::{choose, Needs, Tool};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn as_postgres(program: &Path, args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--", "env", "-i"]);
    cmd.arg(format!(
        "PATH={}",
        std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
    ));
    for (k, v) in vars {
        cmd.arg(format!("{k}={v}"));
    }
    cmd.arg(program).args(args).current_dir("/");
    cmd.output().expect("runuser")
}

struct Cluster {
    root: PathBuf,
    bin: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                &self.root.join("data").display().to_string(),
                "-m",
                "immediate",
                "stop",
            ],
            &[],
        );
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[tokio::test]
async fn a_socket_url_with_peer_authentication_works_as_the_postgres_user() {
    if !is_root() {
        eprintln!("skipped: only root can run commands as the postgres OS user");
        return;
    }
    // The server binaries beside the newest client tools (PostgreSQL 18 from the toolchain).
    let pg_dump = choose(Tool::PgDump, Needs::default())
        .await
        .expect("client tools installed");
    let bin = pg_dump
        .binary
        .path
        .parent()
        .map(Path::to_path_buf)
        .filter(|d| d.join("initdb").is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
    let root = std::env::temp_dir().join(format!(
        "holomush-socket-{}",
        ops::auth::random_token().get(..10).unwrap_or("x")
    ));
    for d in ["", "data", "sock", "console", "backups"] {
        std::fs::create_dir_all(root.join(d)).expect("folders");
    }
    let cluster = Cluster {
        root: root.clone(),
        bin: bin.clone(),
    };
    let chown = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(&root)
        .status()
        .expect("chown");
    assert!(chown.success());
    let data = root.join("data").display().to_string();
    let sock = root.join("sock").display().to_string();
    let init = as_postgres(
        &bin.join("initdb"),
        &[
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth-local=peer",
            "--auth-host=reject",
            "-E",
            "UTF8",
        ],
        &[],
    );
    assert!(init.status.success(), "initdb: {}", text(&init));
    let port = 40000 + (std::process::id() % 20000);
    let opts =
        format!("-c listen_addresses='' -c unix_socket_directories={sock} -p {port} -c fsync=off");
    let start = as_postgres(
        &bin.join("pg_ctl"),
        &[
            "-D",
            &data,
            "-l",
            &format!("{data}/log"),
            "-w",
            "-o",
            &opts,
            "start",
        ],
        &[],
    );
    assert!(start.status.success(), "pg_ctl start: {}", text(&start));
    let created = as_postgres(
        &bin.join("createdb"),
        &["-h", &sock, "-p", &port.to_string(), "holomush"],
        &[],
    );
    assert!(created.status.success(), "createdb: {}", text(&created));

    // The binary where the postgres user may run it.
    let exe = root.join("holomush-admin");
    std::fs::copy(env!("CARGO_BIN_EXE_holomush-admin"), &exe).expect("copy the binary");
    let url = format!("postgresql:///holomush?host={sock}&port={port}");
    let vars = [
        ("DATABASE_URL", url.clone()),
        (
            "HOLOMUSH_ADMIN_DATA",
            root.join("console").display().to_string(),
        ),
        (
            "HOLOMUSH_BACKUP_DIR",
            root.join("backups").display().to_string(),
        ),
    ];

    let info = as_postgres(&exe, &["info"], &vars);
    assert!(info.status.success(), "info: {}", text(&info));
    assert!(
        text(&info).contains(&sock),
        "info names the socket folder: {}",
        text(&info)
    );

    let up = as_postgres(&exe, &["migrate", "up"], &vars);
    assert!(up.status.success(), "migrate up: {}", text(&up));
    let status = as_postgres(&exe, &["migrate", "status"], &vars);
    assert!(
        text(&status)
            .lines()
            .next()
            .is_some_and(|l| l.trim() == "9"),
        "migrate status: {}",
        text(&status)
    );

    let backup = as_postgres(&exe, &["backup", "create", "--json"], &vars);
    assert!(backup.status.success(), "backup create: {}", text(&backup));
    let manifest: serde_json::Value =
        serde_json::from_slice(&backup.stdout).expect("backup create --json prints the manifest");
    let file = manifest["file"].as_str().expect("file").to_string();
    assert!(
        file.starts_with("holomush_") && file.ends_with(".dump"),
        "{file}"
    );
    assert!(root.join("backups").join(&file).is_file());

    let verify = as_postgres(&exe, &["backup", "verify", &file], &vars);
    assert!(verify.status.success(), "verify: {}", text(&verify));

    let doctor = as_postgres(&exe, &["doctor"], &vars);
    assert!(doctor.status.success(), "doctor: {}", text(&doctor));
    drop(cluster);
}
