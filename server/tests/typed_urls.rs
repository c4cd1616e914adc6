//! A URL a person types (the doctor's, restore's --target-url, the pages' fields) carries
//! only what was typed: the console's own PGPASSWORD, PGSSLCERT, PGUSER… never reach the
//! server it names, it must name a host, and this machine's sockets and other ports need
//! HOLOMUSH_ADMIN_TARGET_HOSTS. A fake server records every byte it receives.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ops::testing::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the console process holds in its environment and must never send anywhere typed.
const SECRET: &str = "EnvOnlyPgPassword-7f3Q";

/// One connection as the fake server saw it.
#[derive(Clone, Debug, Default)]
struct Seen {
    bytes: Vec<u8>,
    startup: Vec<(String, String)>,
    password: Option<String>,
}

impl Seen {
    fn param(&self, name: &str) -> Option<&str> {
        self.startup
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A PostgreSQL server that asks for a cleartext password, records it and refuses.
struct Fake {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Fake {
    async fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let slot = {
                        let mut all = record.lock().expect("lock");
                        all.push(Seen::default());
                        all.len() - 1
                    };
                    let _ =
                        tokio::time::timeout(Duration::from_secs(20), serve(stream, &record, slot))
                            .await;
                });
            }
        });
        Fake { port, seen, task }
    }

    fn connections(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Every byte every connection sent.
    fn all_bytes(&self) -> Vec<u8> {
        self.connections()
            .into_iter()
            .flat_map(|s| s.bytes)
            .collect()
    }

    /// The connection that logged in (sent a startup message).
    fn login(&self) -> Seen {
        self.connections()
            .into_iter()
            .find(|s| !s.startup.is_empty())
            .expect("a connection sent a startup message")
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_exact(
    s: &mut TcpStream,
    n: usize,
    record: &Mutex<Vec<Seen>>,
    slot: usize,
) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).await.ok()?;
    record.lock().ok()?[slot].bytes.extend_from_slice(&buf);
    Some(buf)
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

async fn serve(mut s: TcpStream, record: &Mutex<Vec<Seen>>, slot: usize) -> Option<()> {
    // SSLRequest and GSSENCRequest are declined; then the startup message.
    let body = loop {
        let len = be32(&read_exact(&mut s, 4, record, slot).await?);
        let body = read_exact(&mut s, len.checked_sub(4)?, record, slot).await?;
        match be32(&body[..4]) {
            80877103 | 80877104 => s.write_all(b"N").await.ok()?,
            _ => break body,
        }
    };
    let words: Vec<String> = body[4..]
        .split(|b| *b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let startup: Vec<(String, String)> = words
        .chunks(2)
        .filter(|c| c.len() == 2 && !c[0].is_empty())
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect();
    let user = startup
        .iter()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    record.lock().ok()?[slot].startup = startup;
    // AuthenticationCleartextPassword.
    s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).await.ok()?;
    let kind = read_exact(&mut s, 1, record, slot).await?;
    let len = be32(&read_exact(&mut s, 4, record, slot).await?);
    let body = read_exact(&mut s, len.checked_sub(4)?, record, slot).await?;
    if kind == b"p" {
        let pw = body.split(|b| *b == 0).next().unwrap_or_default();
        record.lock().ok()?[slot].password = Some(String::from_utf8_lossy(pw).into_owned());
    }
    let mut fields = Vec::new();
    for (code, text) in [
        (b'S', "FATAL".to_string()),
        (b'V', "FATAL".to_string()),
        (b'C', "28P01".to_string()),
        (
            b'M',
            format!("password authentication failed for user \"{user}\""),
        ),
    ] {
        fields.push(code);
        fields.extend_from_slice(text.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut msg = vec![b'E'];
    msg.extend_from_slice(&u32::try_from(fields.len() + 4).ok()?.to_be_bytes());
    msg.extend_from_slice(&fields);
    s.write_all(&msg).await.ok()?;
    s.shutdown().await.ok()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A client certificate and key the console holds for its own server.
fn client_files(data: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(data).expect("data folder");
    let (cert, key) = (data.join("console.crt"), data.join("console.key"));
    std::fs::write(&cert, "not a real certificate").expect("cert");
    std::fs::write(&key, "not a real key").expect("key");
    (cert, key)
}

/// The binary on a clean environment, with the console's own libpq variables set: a
/// password, a client certificate, a user, a database and options of its own.
fn console(db_url: &str, data: &Path) -> Command {
    let (cert, key) = client_files(data);
    let mut cmd = common::binary(db_url, data);
    cmd.env("PGPASSWORD", SECRET)
        .env("PGSSLCERT", &cert)
        .env("PGSSLKEY", &key)
        .env("PGUSER", "env_user_leak")
        .env("PGDATABASE", "env_db_leak")
        .env("PGOPTIONS", "-c search_path=env_options_leak")
        .env("PGAPPNAME", "env_app_leak");
    cmd
}

fn with_stdin(mut cmd: Command, input: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn holomush-admin");
    // A command that fails before reading stdin closes it: a failed write is no error here.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    child.wait_with_output().expect("wait for holomush-admin")
}

async fn run(cmd: Command, input: String) -> Output {
    tokio::task::spawn_blocking(move || with_stdin(cmd, &input))
        .await
        .expect("the command ran")
}

/// What the fake server got, checked: nothing of the console's environment, only the
/// URL's user and database, and `password` as the only password.
fn only_what_was_typed(fake: &Fake, user: &str, database: &str, password: &str) {
    let bytes = fake.all_bytes();
    for leak in [
        SECRET,
        "env_user_leak",
        "env_db_leak",
        "env_options_leak",
        "env_app_leak",
    ] {
        assert!(
            !contains(&bytes, leak),
            "{leak} reached the server: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let login = fake.login();
    assert_eq!(login.param("user"), Some(user), "{login:?}");
    assert_eq!(login.param("database"), Some(database), "{login:?}");
    assert_eq!(login.param("options"), None, "{login:?}");
    assert_eq!(login.password.as_deref(), Some(password), "{login:?}");
}

fn data_folder(db: &TestDb, what: &str) -> PathBuf {
    let data = std::env::temp_dir().join(format!("{}-{what}", db.name));
    let _ = std::fs::remove_dir_all(&data);
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_sends_a_typed_url_only_what_was_typed() {
    let db = TestDb::create().await;
    let data = data_folder(&db, "typed-doctor");
    let fake = Fake::start().await;
    let allow = format!("127.0.0.1:{}", fake.port);

    // No password typed: none is sent, though PGPASSWORD is the console's.
    let mut cmd = console(&db.url, &data);
    cmd.env("HOLOMUSH_ADMIN_TARGET_HOSTS", &allow)
        .args(["doctor", "--url", "-"]);
    let url = format!("postgres://typed_user@127.0.0.1:{}/typed_db", fake.port);
    let o = run(cmd, format!("{url}\n")).await;
    let out = common::text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.starts_with(&format!("pass  parse DATABASE_URL parses: {url}. (")),
        "{out}"
    );
    assert!(
        out.contains(&format!("FAIL  auth PostgreSQL at 127.0.0.1:{} rejected the password for user \"typed_user\": correct the password in DATABASE_URL. (", fake.port)),
        "{out}"
    );
    assert!(!out.contains(SECRET), "{out}");
    only_what_was_typed(&fake, "typed_user", "typed_db", "");

    // A password typed is the one sent (the fake server records what it receives).
    let fake = Fake::start().await;
    let mut cmd = console(&db.url, &data);
    cmd.env(
        "HOLOMUSH_ADMIN_TARGET_HOSTS",
        format!("127.0.0.1:{}", fake.port),
    )
    .args(["doctor", "--url", "-"]);
    let url = format!(
        "postgres://typed_user:TypedPw-91@127.0.0.1:{}/typed_db",
        fake.port
    );
    let o = run(cmd, format!("{url}\n")).await;
    assert_eq!(o.status.code(), Some(1), "{}", common::text(&o));
    only_what_was_typed(&fake, "typed_user", "typed_db", "TypedPw-91");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_refuses_no_host_and_this_machine_unless_allowed() {
    let db = TestDb::create().await;
    let data = data_folder(&db, "typed-doctor-rules");
    let fake = Fake::start().await;

    let doctor = |url: String| {
        let mut cmd = console(&db.url, &data);
        cmd.args(["doctor", "--url", "-"]);
        run(cmd, format!("{url}\n"))
    };
    let o = doctor("postgresql:///postgres".to_string()).await;
    let out = common::text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("FAIL  parse The URL names no host: give the server's host name or address, as in postgres://user:password@db.example.com:5432/postgres (with none, libpq would use this machine's Unix socket as the console's own operating-system user). ("), "{out}");
    assert!(
        out.contains("fix: Write the server's host name or address after the @."),
        "{out}"
    );
    assert!(
        out.contains("skip  dns Skipped because the parse step failed."),
        "{out}"
    );

    let o = doctor(format!("postgres://u:typedpw@127.0.0.1:{}/db", fake.port)).await;
    let out = common::text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let port = fake.port;
    assert!(out.starts_with(&format!("FAIL  parse The URL points at this machine (127.0.0.1:{port}), which a typed URL may reach only when HOLOMUSH_ADMIN_TARGET_HOSTS lists it (e.g. HOLOMUSH_ADMIN_TARGET_HOSTS=127.0.0.1:{port}). (")), "{out}");
    assert!(out.contains(&format!("fix: Use the server's network address, or set HOLOMUSH_ADMIN_TARGET_HOSTS=127.0.0.1:{port} where the console runs and restart it.")), "{out}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.connections().len(), 0, "the fake server was contacted");

    // The managed server itself, at its own host and port, needs no setting.
    let o = doctor(db.url.clone()).await;
    let out = common::text(&o);
    assert!(out.contains("pass  auth "), "{out}");
    assert!(!out.contains("HOLOMUSH_ADMIN_TARGET_HOSTS"), "{out}");
    let _ = std::fs::remove_dir_all(&data);
}

/// A console with a full backup: its data folder and the archive's name.
async fn with_backup(db: &TestDb, what: &str) -> (PathBuf, String) {
    let data = data_folder(db, what);
    let mut up = common::binary(&db.url, &data);
    up.args(["migrate", "up"]);
    let o = run(up, String::new()).await;
    assert!(o.status.success(), "{}", common::text(&o));
    let mut create = common::binary(&db.url, &data);
    create.args(["backup", "create", "--json"]);
    let o = run(create, String::new()).await;
    assert!(o.status.success(), "{}", common::text(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).expect("manifest JSON");
    let file = manifest["file"].as_str().expect("file").to_string();
    (data, file)
}

async fn database_exists(db: &TestDb, name: &str) -> bool {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut c)
        .await
        .expect("pg_database");
    c.close().await.ok();
    n > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_to_a_typed_server_sends_only_what_was_typed() {
    let db = TestDb::create().await;
    let (data, file) = with_backup(&db, "typed-target").await;
    let fake = Fake::start().await;
    let into = format!("{}_moved", db.name);

    let restore = |url: String, allow: Option<String>| {
        let mut cmd = console(&db.url, &data);
        if let Some(allow) = allow {
            cmd.env("HOLOMUSH_ADMIN_TARGET_HOSTS", allow);
        }
        cmd.args(["restore", &file, "--into", &into, "--target-url", "-"]);
        run(cmd, format!("{url}\n"))
    };

    // Allowed, no password typed: the fake server asks for one and gets none of the console's.
    let url = format!("postgres://typed_user@127.0.0.1:{}/typed_db", fake.port);
    let o = restore(url, Some(format!("127.0.0.1:{}", fake.port))).await;
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err.lines().last(),
        Some(format!("error: PostgreSQL at 127.0.0.1:{} rejected the password for user \"typed_user\": correct the password in the target server URL.", fake.port).as_str()),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");
    only_what_was_typed(&fake, "typed_user", "typed_db", "");

    // No host: refused before anything is contacted or created.
    let o = restore("postgresql:///postgres".to_string(), None).await;
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        "error: The target server URL names no host: give the server's host name or address, as in postgres://user:password@db.example.com:5432/postgres (with none, libpq would use this machine's Unix socket as the console's own operating-system user); nothing was created."
    );
    assert!(!database_exists(&db, &into).await, "{into} was created");

    // This machine at another port, not allowed: refused, and the server never contacted.
    let other = Fake::start().await;
    let port = other.port;
    let o = restore(
        format!("postgres://u:typedpw@127.0.0.1:{port}/postgres"),
        None,
    )
    .await;
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!("error: The target server URL points at this machine (127.0.0.1:{port}), which a typed URL may reach only when HOLOMUSH_ADMIN_TARGET_HOSTS lists it (e.g. HOLOMUSH_ADMIN_TARGET_HOSTS=127.0.0.1:{port}); nothing was created.")
    );
    // A socket folder likewise.
    let o = restore(
        "postgresql://u@%2Fvar%2Frun%2Fpostgresql:5432/postgres".to_string(),
        Some(format!("127.0.0.1:{port}")),
    )
    .await;
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        err.trim(),
        "error: The target server URL points at the Unix socket in /var/run/postgresql, which a typed URL may reach only when HOLOMUSH_ADMIN_TARGET_HOSTS lists that folder (e.g. HOLOMUSH_ADMIN_TARGET_HOSTS=/var/run/postgresql); nothing was created."
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        other.connections().len(),
        0,
        "the fake server was contacted"
    );
    assert!(!database_exists(&db, &into).await, "{into} was created");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_apply_the_same_rules() {
    let db = TestDb::create().await;
    let (data, file) = with_backup(&db, "typed-web").await;
    let fake = Fake::start().await;
    let mut cmd = console(&db.url, &data);
    cmd.env(
        "HOLOMUSH_ADMIN_TARGET_HOSTS",
        format!("127.0.0.1:{}", fake.port),
    )
    .arg("serve");
    let web = common::Web::start(cmd, &data, "typed-urls-test-pw");
    let doctor = |url: &str| {
        web.curl(&[
            "-H",
            "Content-Type: application/json",
            "-H",
            "Accept: application/json",
            "--data-binary",
            &serde_json::json!({ "url": url }).to_string(),
            &format!("{}/api/doctor", web.base),
        ])
    };

    let said = doctor(&format!(
        "postgres://typed_user@127.0.0.1:{}/typed_db",
        fake.port
    ));
    assert!(
        said.contains(&format!(
            "PostgreSQL at 127.0.0.1:{} rejected the password for user \\\"typed_user\\\"",
            fake.port
        )),
        "{said}"
    );
    only_what_was_typed(&fake, "typed_user", "typed_db", "");

    let said = doctor("postgresql:///postgres");
    assert!(
        said.contains("The URL names no host: give the server's host name or address"),
        "{said}"
    );
    let other = common::free_port();
    let said = doctor(&format!("postgres://u@localhost:{other}/postgres"));
    assert!(said.contains(&format!("The URL points at this machine (localhost:{other}), which a typed URL may reach only when HOLOMUSH_ADMIN_TARGET_HOSTS lists it")), "{said}");

    let into = format!("{}_web", db.name);
    let said = web.call(
        "backup_restore_to_server",
        &format!("file={file}&into={into}&target_url=postgresql%3A%2F%2F%2Fpostgres"),
    );
    assert!(
        said.contains("The target server URL names no host"),
        "{said}"
    );
    let said = web.call(
        "backup_restore_to_server",
        &format!("file={file}&into={into}&target_url=postgres%3A%2F%2Fu%40127.0.0.1%3A{other}%2Fpostgres"),
    );
    assert!(
        said.contains(&format!(
            "The target server URL points at this machine (127.0.0.1:{other})"
        )),
        "{said}"
    );
    assert!(!database_exists(&db, &into).await, "{into} was created");
    drop(web);
    let _ = std::fs::remove_dir_all(&data);
}
