//! The real binary for the integration tests: the CLI on a clean environment, and `serve`
//! release-shaped (a stand-in site folder, a free port, a password) driven with curl, as a
//! browser's plain forms, a script's JSON calls or raw HTTP with its headers (the password on
//! curl's stdin is the test's own throwaway one).

// Each test file is its own crate and uses only part of this harness.
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ops::model::AuditRecord;

pub const EXE: &str = env!("CARGO_BIN_EXE_holomush-admin");

/// The binary on a clean environment (PATH kept) with a database and a data folder, its
/// backups in `data/backups`, and no idle connections held.
pub fn binary(database_url: &str, data: &Path) -> Command {
    let mut cmd = Command::new(EXE);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("HOLOMUSH_ADMIN_DATA", data)
        .env("HOLOMUSH_BACKUP_DIR", data.join("backups"))
        .env("DB_MIN_CONNS", "0");
    cmd
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// What a process printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The records of the audit log in the data folder `data`.
pub fn audit_records(data: &Path) -> Vec<AuditRecord> {
    std::fs::read_to_string(data.join("audit.log"))
        .expect("audit log")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits for the child to exit, at most `limit`: what it printed and how long it took.
pub fn wait_within(child: Child, limit: Duration) -> (Output, Duration) {
    let t = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(limit)
        .expect("the process exited in time")
        .expect("output");
    (out, t.elapsed())
}

/// Sends `sig` to the child and waits at most `limit` for it to exit: what it printed and
/// how long it took.
pub fn stop(child: Child, sig: i32, limit: Duration) -> (Output, Duration) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on a pid this test spawned, with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill");
    wait_within(child, limit)
}

/// An HTTP answer as curl -i read it.
pub struct Reply {
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn parse(raw: &str) -> Self {
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Self {
            status,
            headers,
            body: body.to_string(),
        }
    }
}

/// A running `serve`, ended when dropped.
pub struct Web {
    pub base: String,
    pub port: u16,
    /// The session's cookie jar, as [`Web::sign_in`] fills it.
    jar: PathBuf,
    password: String,
    /// The program and variables `serve` was started with, for the CLI beside it.
    program: OsString,
    vars: Vec<(OsString, Option<OsString>)>,
    server: Option<Child>,
}

impl Web {
    /// Starts `cmd` (`serve` with its database variables set, on a clean environment, as
    /// [`binary`] gives it), its files in `data`, without start-up migrations; signs in.
    pub fn start(cmd: Command, data: &Path, password: &str) -> Self {
        let web = Self::listening(cmd, data, password);
        web.sign_in();
        web
    }

    /// As [`Web::start`], but not signed in.
    pub fn listening(mut cmd: Command, data: &Path, password: &str) -> Self {
        cmd.env("HOLOMUSH_DB_AUTO_MIGRATE", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let web = Self::spawn(cmd, data, password);
        web.until_listening();
        web
    }

    /// Spawns `serve` from `cmd` as it is (start-up migrations as its variables say), its
    /// output kept for [`Web::stop`], and does not wait for it to listen.
    pub fn launch(mut cmd: Command, data: &Path, password: &str) -> Self {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        Self::spawn(cmd, data, password)
    }

    fn spawn(mut cmd: Command, data: &Path, password: &str) -> Self {
        let site = data.join("site");
        std::fs::create_dir_all(site.join("pkg")).expect("site");
        std::fs::write(site.join("pkg/holomush-admin.js"), "").expect("site marker");
        let port = free_port();
        cmd.env("HOLOMUSH_ADMIN_ADDR", format!("127.0.0.1:{port}"))
            .env("HOLOMUSH_ADMIN_PASSWORD", password)
            .env("LEPTOS_SITE_ROOT", &site);
        let vars = cmd
            .get_envs()
            .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
            .collect();
        let server = cmd.spawn().expect("serve");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            port,
            jar: data.join("cookies"),
            password: password.to_string(),
            program: cmd.get_program().to_owned(),
            vars,
            server: Some(server),
        }
    }

    /// Until the server answers on its port (a start-up migration may come first, and the
    /// tests run side by side).
    pub fn until_listening(&self) {
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Signs in with the password into the session's cookie jar; it must succeed.
    pub fn sign_in(&self) {
        let r = self.sign_in_as(&self.jar, &self.password, &[]);
        assert_eq!(r.header("location"), Some("/"), "signed in: {}", r.body);
    }

    /// Signs in as the login form posts it, the session into `jar`, with curl's `args`
    /// before the URL (headers, say); the reply (a redirect).
    pub fn sign_in_as(&self, jar: &Path, password: &str, args: &[&str]) -> Reply {
        let jar = jar.display().to_string();
        let mut all = vec!["-c", jar.as_str()];
        all.extend_from_slice(args);
        self.request("/login", &all, Some(&format!("password={password}")))
    }

    /// curl -i without the session's cookies: `args` before the URL, `body` posted from
    /// stdin when given.
    pub fn request(&self, path: &str, args: &[&str], body: Option<&str>) -> Reply {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-i"])
            .args(args)
            .arg(format!("{}{path}", self.base))
            .stdout(Stdio::piped());
        if body.is_some() {
            cmd.args(["--data-binary", "@-"]).stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().expect("curl");
        if let Some(body) = body {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(body.as_bytes())
                .expect("body");
        }
        let out = child.wait_with_output().expect("curl");
        Reply::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// curl with the session's cookie jar; what it printed.
    pub fn curl(&self, args: &[&str]) -> String {
        let o = Command::new("curl")
            .args(["-s", "-b"])
            .arg(&self.jar)
            .arg("-c")
            .arg(&self.jar)
            .args(args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    /// A page's HTML.
    pub fn page(&self, path: &str) -> String {
        self.curl(&[&format!("{}{path}", self.base)])
    }

    /// A server function posted as the page `from`'s plain form; where it sends the browser.
    pub fn post_form(&self, from: &str, endpoint: &str, body: &str) -> String {
        self.curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            "-H",
            "Accept: text/html",
            "-H",
            &format!("Referer: {}{from}", self.base),
            "-H",
            &format!("Origin: {}", self.base),
            "--data-binary",
            body,
            &format!("{}/api/{endpoint}", self.base),
        ])
    }

    /// A server function called as a script calls it: a form body, its JSON answer.
    pub fn call(&self, endpoint: &str, body: &str) -> String {
        self.curl(&[
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "-H",
            "Accept: application/json",
            "--data-binary",
            body,
            &format!("{}/api/{endpoint}", self.base),
        ])
    }

    /// The binary with `serve`'s own variables, for a CLI command beside the server.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.env_clear();
        for (k, v) in &self.vars {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    pub fn pid(&self) -> u32 {
        self.server.as_ref().map(Child::id).unwrap_or_default()
    }

    /// Sends `sig` to the server and waits at most `limit` for it to exit: what it printed
    /// (when [`Web::launch`] kept it) and how long it took.
    pub fn stop(mut self, sig: i32, limit: Duration) -> (Output, Duration) {
        stop(self.server.take().expect("a running server"), sig, limit)
    }

    /// Ends the server now (kill -9).
    pub fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        self.kill();
    }
}
