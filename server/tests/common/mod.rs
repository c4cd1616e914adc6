//! A release-shaped `serve` for the integration tests that drive pages as plain forms: a
//! stand-in site folder, a free port, a password, curl with a cookie jar (the password on
//! curl's command line is the test's own throwaway one).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Web {
    pub base: String,
    jar: PathBuf,
    server: Child,
}

impl Web {
    /// Starts `serve` from `cmd` (its database variables already set), with its files in
    /// `data`, and signs in.
    pub fn start(mut cmd: Command, data: &std::path::Path, password: &str) -> Self {
        let site = data.join("site");
        std::fs::create_dir_all(site.join("pkg")).expect("site");
        std::fs::write(site.join("pkg/holomush-admin.js"), "").expect("site marker");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let server = cmd
            .env("HOLOMUSH_ADMIN_ADDR", format!("127.0.0.1:{port}"))
            .env("HOLOMUSH_ADMIN_PASSWORD", password)
            .env("HOLOMUSH_DB_AUTO_MIGRATE", "false")
            .env("LEPTOS_SITE_ROOT", &site)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let web = Self {
            base: format!("http://127.0.0.1:{port}"),
            jar: data.join("cookies"),
            server,
        };
        web.curl(&[
            "-o",
            "/dev/null",
            "--data-binary",
            &format!("password={password}"),
            &format!("{}/login", web.base),
        ]);
        web
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
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
