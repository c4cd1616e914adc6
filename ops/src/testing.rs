//! Test support: every test gets its own freshly created database, dropped when
//! the test ends (even by a panic), so tests run in parallel without seeing each other.
//!
//! The server comes from `TEST_DATABASE_URL` when set, otherwise from the private
//! development cluster that `scripts/dev-postgres.sh` starts (the one `make run` uses).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

use crate::config::{Config, DatabaseUrl};

fn base_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            if !url.trim().is_empty() {
                return url;
            }
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/dev-postgres.sh");
        let out = std::process::Command::new("bash")
            .arg(&script)
            .arg("url")
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed; set TEST_DATABASE_URL to a server to test against",
            script.display()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
}

pub struct TestDb {
    pub name: String,
    pub url: String,
    admin: PgConnectOptions,
}

/// Another server of the test matrix, by major: `TEST_DATABASE_URL_<major>` when set
/// (`scripts/test-matrix.sh` sets one for every major it runs).
pub fn server_url(major: u32) -> Option<String> {
    std::env::var(format!("TEST_DATABASE_URL_{major}"))
        .ok()
        .filter(|u| !u.trim().is_empty())
}

impl TestDb {
    /// A fresh database on the server under test.
    pub async fn create() -> Self {
        Self::create_on(base_url()).await
    }

    /// A fresh database on the server of `base` (e.g. [`server_url`]), dropped at the end.
    pub async fn create_on(base: &str) -> Self {
        let db = Self::named_on(
            base,
            &format!(
                "holomush_test_{}",
                crate::auth::random_token().get(..12).unwrap_or("x")
            ),
        );
        let mut conn = db
            .admin
            .connect()
            .await
            .expect("connect to the test server");
        conn.execute(format!("CREATE DATABASE \"{}\"", db.name).as_str())
            .await
            .expect("create the test database");
        conn.close().await.ok();
        db
    }

    /// A database `name` on the server of `base` that the code under test creates: nothing
    /// is created now, and it is dropped (if it exists) at the end like any test database.
    pub fn named_on(base: &str, name: &str) -> Self {
        let admin = PgConnectOptions::from_str(base).expect("the test server URL parses");
        let mut url = url::Url::parse(base).expect("the test server URL parses");
        url.set_path(&format!("/{name}"));
        Self {
            name: name.to_string(),
            url: url.to_string(),
            admin,
        }
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("test URL parses")
    }

    /// A configuration pointing at this database, with data in a fresh temporary folder.
    pub fn config(&self) -> Config {
        self.config_for(None)
    }

    /// As [`Self::config`], with the migrations of `dir` (HOLOMUSH_MIGRATIONS_DIR).
    pub fn config_with(&self, dir: &std::path::Path) -> Config {
        self.config_for(Some(dir))
    }

    fn config_for(&self, migrations: Option<&std::path::Path>) -> Config {
        let data = std::env::temp_dir().join(format!("{}-data", self.name));
        let url = self.url.clone();
        let migrations = migrations.map(|d| d.display().to_string());
        Config::from_lookup(move |k| match k {
            "DATABASE_URL" => Some(url.clone()),
            "HOLOMUSH_ADMIN_DATA" => Some(data.display().to_string()),
            "HOLOMUSH_BACKUP_DIR" => Some(data.join("backups").display().to_string()),
            "HOLOMUSH_MIGRATIONS_DIR" => migrations.clone(),
            "DB_MIN_CONNS" => Some("0".to_string()),
            // The matrix's other test servers listen on this machine too.
            "HOLOMUSH_ADMIN_TARGET_HOSTS" => Some("127.0.0.1,localhost,::1".to_string()),
            _ => None,
        })
        .expect("test configuration is valid")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = self.admin.clone();
        // Drop runs outside any runtime guarantee, so the cleanup gets its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = admin.connect().await {
                    let _ = conn
                        .execute(
                            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                        )
                        .await;
                }
            });
        })
        .join();
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("{}-data", self.name)));
    }
}

/// The client tool the console would choose, for tests that run one by hand.
pub async fn tool(tool: crate::pgtools::Tool) -> crate::pgtools::Binary {
    crate::pgtools::choose(tool, crate::pgtools::Needs::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .binary
}

/// A login role with a chosen password and an empty database it may use, on the test
/// server (the test role needs CREATEROLE, which scripts/dev-postgres.sh grants).
pub struct RoleDb {
    pub role: String,
    pub database: String,
    /// The URL with the password as `written` (how a person puts it in a URL).
    pub url: String,
    admin: PgConnectOptions,
}

impl RoleDb {
    pub async fn create(base: &TestDb, suffix: &str, password: &str, written: &str) -> Self {
        let role = format!("{}_r{suffix}", base.name);
        let database = format!("{}_d{suffix}", base.name);
        let base_url = base.database_url();
        let mut admin = base
            .admin
            .connect()
            .await
            .expect("connect as the test role");
        // The password reaches the server as a literal quoted by PostgreSQL itself.
        let create: String = sqlx::query_scalar(
            "SELECT format('CREATE ROLE %I LOGIN CREATEDB CREATEROLE PASSWORD %L', $1::text, $2::text)",
        )
        .bind(&role)
        .bind(password)
        .fetch_one(&mut admin)
        .await
        .expect("format");
        admin.execute(create.as_str()).await.unwrap_or_else(|e| {
            panic!("creating a role failed ({e}): the test role needs CREATEROLE (scripts/dev-postgres.sh grants it)")
        });
        admin
            .execute(format!("CREATE DATABASE \"{database}\"").as_str())
            .await
            .expect("create database");
        admin
            .execute(format!("GRANT ALL ON DATABASE \"{database}\" TO \"{role}\"").as_str())
            .await
            .expect("grant");
        admin.close().await.ok();
        let on_db = base_url.with_database(&database).expect("url");
        if let Ok(mut c) = on_db.connect_options().connect().await {
            // PostgreSQL 15+ keeps public's CREATE for its owner; 14 gives it to everyone.
            let _ = c
                .execute(format!("GRANT ALL ON SCHEMA public TO \"{role}\"").as_str())
                .await;
            c.close().await.ok();
        }
        let url = format!(
            "postgres://{role}:{written}@{}:{}/{database}",
            base_url.host().as_libpq(),
            base_url.port()
        );
        Self {
            role,
            database,
            url,
            admin: base.admin.clone(),
        }
    }

    /// Drops what the role owns (as the role), its database and the role.
    pub async fn drop_all(self, owned: &[&str]) {
        if let Ok(url) = DatabaseUrl::parse(&self.url) {
            if let Ok(mut c) = url.connect_options().connect().await {
                for d in owned {
                    let _ = c
                        .execute(format!("DROP DATABASE IF EXISTS \"{d}\" WITH (FORCE)").as_str())
                        .await;
                }
                c.close().await.ok();
            }
        }
        let Ok(mut admin) = self.admin.connect().await else {
            return;
        };
        // The role's sessions end on their own; the test role may not end them for it.
        for _ in 0..50 {
            if admin
                .execute(format!("DROP DATABASE IF EXISTS \"{}\"", self.database).as_str())
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = admin
            .execute(format!("DROP ROLE IF EXISTS \"{}\"", self.role).as_str())
            .await;
        admin.close().await.ok();
    }
}

/// A full backup through the console's job runner, which must succeed: its view and the
/// archive's file name.
pub async fn full_backup(console: &crate::Console) -> (crate::model::JobView, String) {
    let view = console
        .start_backup(crate::model::BackupKind::Full, "test")
        .await
        .unwrap_or_else(|e| panic!("the backup did not start: {e}"))
        .follow(|_| {})
        .await;
    assert_eq!(
        view.status,
        crate::model::JobStatus::Succeeded,
        "{:?}",
        view.result
    );
    let file = match &view.output {
        Some(crate::model::JobOutput::Manifest(m)) => m.file.clone(),
        other => panic!("the backup handed back no manifest: {other:?}"),
    };
    (view, file)
}

/// A folder of migration files written for one test (golang-migrate pairs or goose files).
pub struct Folder(pub std::path::PathBuf);

impl Folder {
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "holomush-migrations-{}",
            crate::auth::random_token().get(..10).unwrap_or("x")
        ));
        std::fs::create_dir_all(&dir).expect("migrations folder");
        for (name, body) in files {
            std::fs::write(dir.join(name), body).expect("migration file");
        }
        Self(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
