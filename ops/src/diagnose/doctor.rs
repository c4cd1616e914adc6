//! The connection doctor: every step between a DATABASE_URL and a database HoloMUSH
//! can use, in order, each with what it found and what to do about it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::target::{effective_ssl_mode, is_loopback, ssl_mode_may_be_plain};
use super::DiagnoseError;
use crate::config::DatabaseUrl;
use crate::db::describe_error;
use crate::model::{DoctorReport, DoctorStep, StepId, StepStatus, MIN_SERVER_MAJOR};

/// Every step, in the order it runs.
pub const STEPS: [StepId; 11] = StepId::ALL;

const DNS_TIMEOUT: Duration = Duration::from_secs(5);
const TCP_TIMEOUT: Duration = Duration::from_secs(3);
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);
pub const CREATE_PG_TRGM: &str = "CREATE EXTENSION IF NOT EXISTS pg_trgm;";

struct Outcome {
    status: StepStatus,
    message: String,
    fix: Option<String>,
}

fn pass(message: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Pass,
        message: message.into(),
        fix: None,
    }
}

fn warn(message: impl Into<String>, fix: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Warn,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

fn fail(message: impl Into<String>, fix: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Fail,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

fn skip(message: impl Into<String>) -> Outcome {
    Outcome {
        status: StepStatus::Skip,
        message: message.into(),
        fix: None,
    }
}

/// Collects the steps; after a hard failure the rest are skipped with the reason.
struct Recorder {
    steps: Vec<DoctorStep>,
    stopped_by: Option<StepId>,
}

impl Recorder {
    /// Records a step; false when it was a hard failure and nothing further can run.
    fn record(&mut self, id: StepId, started: Instant, o: Outcome, hard: bool) -> bool {
        let failed = o.status == StepStatus::Fail;
        self.steps.push(DoctorStep {
            id,
            status: o.status,
            message: o.message,
            fix: o.fix,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        if failed && hard {
            self.stopped_by = Some(id);
        }
        !(failed && hard)
    }

    fn finish(mut self, password: Option<String>) -> DoctorReport {
        for id in STEPS.iter().skip(self.steps.len()) {
            let why = match self.stopped_by {
                Some(by) => format!("Skipped because the {by} step failed."),
                None => "Skipped.".to_string(),
            };
            let o = skip(why);
            self.steps.push(DoctorStep {
                id: *id,
                status: o.status,
                message: o.message,
                fix: None,
                duration_ms: 0,
            });
        }
        // Every message is built from masked parts; this is the net under that rule,
        // for text a server or library put together. Very short passwords cannot be
        // told from ordinary words, so they are left to the construction alone.
        if let Some(pw) = password.filter(|p| p.len() >= 4) {
            for s in &mut self.steps {
                s.message = s.message.replace(&pw, "****");
                s.fix = s.fix.take().map(|f| f.replace(&pw, "****"));
            }
        }
        DoctorReport {
            ok: self.steps.iter().all(|s| s.status != StepStatus::Fail),
            steps: self.steps,
        }
    }
}

/// How many doctor runs go at once in this process: every page load of Troubleshooting runs
/// one, and each opens connections and starts client tools.
pub const AT_ONCE: usize = 2;

static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);

/// The doctor's steps on `url_text`. Beyond [`AT_ONCE`] runs, a caller waits its turn (first
/// come, first served) and then gets a fresh report of its own.
pub async fn run(url_text: &str) -> DoctorReport {
    // The semaphore is never closed, so acquiring fails never; were it to, run unbounded.
    let _turn = RUNNING.acquire().await.ok();
    run_now(url_text).await
}

/// How many doctor runs are going now (at most [`AT_ONCE`]).
pub fn running() -> usize {
    AT_ONCE - RUNNING.available_permits()
}

async fn run_now(url_text: &str) -> DoctorReport {
    let mut rec = Recorder {
        steps: Vec::new(),
        stopped_by: None,
    };
    let t = Instant::now();
    let url = match DatabaseUrl::parse(url_text.trim()) {
        Ok(u) => u,
        Err(e) => {
            rec.record(
                StepId::Parse,
                t,
                fail(
                    format!(
                        "DATABASE_URL=\"{}\" is not valid: {e}.",
                        crate::config::mask_url(url_text.trim())
                    ),
                    "Write DATABASE_URL as postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require (percent-encode special characters in the password).",
                ),
                true,
            );
            return rec.finish(None);
        }
    };
    rec.record(
        StepId::Parse,
        t,
        pass(format!("DATABASE_URL parses: {}.", url.masked())),
        true,
    );
    let password = url.password();
    if let Some(conn) = network_steps(&mut rec, &url).await {
        database_steps(&mut rec, &url, conn).await;
    }
    rec.finish(password)
}

/// dns, tcp, tls, auth and select1; the open session when the rest can run.
async fn network_steps(rec: &mut Recorder, url: &DatabaseUrl) -> Option<PgConnection> {
    let opts = url.connect_options();
    let host = opts.get_host().to_string();
    let port = opts.get_port();
    let hostport = format!("{host}:{port}");

    let socket = opts.get_socket().map(|p| p.display().to_string());
    let mut server_offers_tls = None;
    if let Some(dir) = &socket {
        let why = format!(
            "DATABASE_URL connects through the Unix socket in {dir}: no network step applies."
        );
        for id in [StepId::Dns, StepId::Tcp, StepId::Tls] {
            rec.record(id, Instant::now(), skip(why.clone()), true);
        }
    } else {
        let t = Instant::now();
        let addrs = match tokio::time::timeout(
            DNS_TIMEOUT,
            tokio::net::lookup_host((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(a)) => a.collect::<Vec<SocketAddr>>(),
            Ok(Err(e)) => {
                rec.record(StepId::Dns, t, fail(
                    format!("The host name \"{host}\" does not resolve ({e})."),
                    "Correct the host in DATABASE_URL, or check this machine's DNS (/etc/resolv.conf, /etc/hosts).",
                ), true);
                return None;
            }
            Err(_) => Vec::new(),
        };
        if addrs.is_empty() {
            rec.record(StepId::Dns, t, fail(
                format!("The host name \"{host}\" gave no address within {} seconds.", DNS_TIMEOUT.as_secs()),
                "Correct the host in DATABASE_URL, or check this machine's DNS (/etc/resolv.conf, /etc/hosts).",
            ), true);
            return None;
        }
        let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        rec.record(
            StepId::Dns,
            t,
            pass(format!("{host} resolves to {}.", shown.join(", "))),
            true,
        );

        let t = Instant::now();
        let addr = match tcp_connect(&addrs).await {
            Ok(a) => a,
            Err(o) => {
                let o = Outcome {
                    message: o.message.replace("{hostport}", &hostport),
                    ..o
                };
                rec.record(StepId::Tcp, t, o, true);
                return None;
            }
        };
        rec.record(
            StepId::Tcp,
            t,
            pass(if addr.ip().to_string() == host {
                format!("{hostport} accepts TCP connections.")
            } else {
                format!("{hostport} ({addr}) accepts TCP connections.")
            }),
            true,
        );
        server_offers_tls = probe_tls(addr).await;
    }

    let t = Instant::now();
    let login = tokio::time::timeout(LOGIN_TIMEOUT, PgConnection::connect_with(&opts)).await;
    let mode = effective_ssl_mode(url);
    if socket.is_none() {
        let tls = tls_outcome(&mode, &host, &hostport, server_offers_tls, &login);
        if !rec.record(StepId::Tls, t, tls, true) {
            return None;
        }
    }

    let mut conn = match login {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            rec.record(StepId::Auth, t, auth_failure(&e, url), true);
            return None;
        }
        Err(_) => {
            rec.record(StepId::Auth, t, fail(
                format!("{hostport} accepted the connection but did not complete the login within {} seconds.", LOGIN_TIMEOUT.as_secs()),
                "Check the server's log: it may be overloaded, out of connection slots, or waiting on a slow authentication method.",
            ), true);
            return None;
        }
    };
    rec.record(
        StepId::Auth,
        t,
        pass(format!(
            "PostgreSQL accepted user \"{}\" for database \"{}\".",
            opts.get_username(),
            url.database()
        )),
        true,
    );

    let t = Instant::now();
    let select = sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&mut conn)
        .await;
    let elapsed = t.elapsed();
    let ok = match select {
        Ok(_) => rec.record(
            StepId::Select1,
            t,
            pass(format!(
                "SELECT 1 answered in {:.2} ms.",
                elapsed.as_secs_f64() * 1000.0
            )),
            true,
        ),
        Err(e) => rec.record(
            StepId::Select1,
            t,
            fail(
                describe_error(&e, url),
                "Check the server's log: the session opened but cannot run a query.",
            ),
            true,
        ),
    };
    if ok {
        Some(conn)
    } else {
        conn.close().await.ok();
        None
    }
}

async fn tcp_connect(addrs: &[SocketAddr]) -> Result<SocketAddr, Outcome> {
    let mut last = None;
    for &addr in addrs {
        match tokio::time::timeout(TCP_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(_)) => return Ok(addr),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = Some(fail(
                    "Nothing is listening on {hostport}: the connection was refused.",
                    "Start PostgreSQL, or correct the host and port in DATABASE_URL (the server's port is `port` in postgresql.conf).",
                ));
            }
            Ok(Err(e)) => {
                last = Some(fail(
                    format!("{{hostport}} could not be reached ({e})."),
                    "Check the network route and firewall between this machine and the server.",
                ));
            }
            Err(_) => {
                last = Some(fail(
                    format!("{{hostport}} did not answer within {} seconds.", TCP_TIMEOUT.as_secs()),
                    "Check that the server is up, that a firewall does not drop the port, and that listen_addresses in postgresql.conf includes this address.",
                ));
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        fail(
            "{hostport} has no address to connect to.",
            "Correct the host in DATABASE_URL.",
        )
    }))
}

/// Asks the server whether it offers SSL, as libpq's SSLRequest does: one byte, S or N.
async fn probe_tls(addr: SocketAddr) -> Option<bool> {
    let probe = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
            .await
            .ok()?;
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.ok()?;
        match b[0] {
            b'S' => Some(true),
            b'N' => Some(false),
            _ => None,
        }
    };
    tokio::time::timeout(TCP_TIMEOUT, probe)
        .await
        .ok()
        .flatten()
}

fn tls_outcome(
    mode: &str,
    host: &str,
    hostport: &str,
    server_offers: Option<bool>,
    login: &Result<Result<PgConnection, sqlx::Error>, tokio::time::error::Elapsed>,
) -> Outcome {
    if let Ok(Err(sqlx::Error::Tls(e))) = login {
        return if server_offers == Some(false) {
            fail(
                format!("DATABASE_URL asks for sslmode={mode}, but the server at {hostport} does not offer SSL."),
                "Turn SSL on in postgresql.conf (ssl = on, with a certificate), or, on a trusted network only, set sslmode=prefer in DATABASE_URL.",
            )
        } else {
            fail(
                format!("The TLS handshake with {hostport} failed under sslmode={mode} ({e})."),
                "Check the server's certificate (and sslrootcert for verify-ca / verify-full), or the sslmode in DATABASE_URL.",
            )
        };
    }
    let plain_fix = "Set sslmode=require (or verify-full) in DATABASE_URL, and turn SSL on at the server if it is off.";
    if !ssl_mode_may_be_plain(mode) {
        return pass(format!(
            "TLS is negotiated with {hostport}, as sslmode={mode} asks."
        ));
    }
    let uses_tls = mode == "prefer" && server_offers == Some(true);
    if uses_tls {
        return pass(format!(
            "TLS is used with {hostport}: sslmode=prefer and the server offers it."
        ));
    }
    let why = match (mode, server_offers) {
        ("disable", _) => "sslmode=disable".to_string(),
        ("allow", _) => "sslmode=allow does not ask for it".to_string(),
        (_, Some(false)) => "the server does not offer SSL".to_string(),
        _ => "the server did not say whether it offers SSL".to_string(),
    };
    if is_loopback(host) {
        pass(format!(
            "The connection to {hostport} is not encrypted ({why}); that is fine on this machine's loopback."
        ))
    } else {
        warn(
            format!("The connection to {hostport} is not encrypted ({why}): the password and data cross the network in clear text."),
            plain_fix,
        )
    }
}

fn auth_failure(e: &sqlx::Error, url: &DatabaseUrl) -> Outcome {
    let opts = url.connect_options();
    let user = opts.get_username();
    let db = url.database();
    let host = opts.get_host();
    let port = opts.get_port();
    let message = describe_error(e, url);
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    let fix = match code.as_deref() {
        Some("28P01") => format!(
            "Check the password for role \"{user}\" in DATABASE_URL (a superuser can reset it with ALTER ROLE \"{user}\" PASSWORD '…'), and that pg_hba.conf has a line letting user {user} reach database {db} from this host by password (scram-sha-256)."
        ),
        Some("28000") => format!(
            "Add or correct the pg_hba.conf line for user {user}, database {db} and this host, reload PostgreSQL (SELECT pg_reload_conf()), and check that role \"{user}\" exists and may log in."
        ),
        Some("3D000") => format!(
            "Create the database with `createdb -h {host} -p {port} -U {user} {db}` (or CREATE DATABASE \"{db}\" OWNER \"{user}\";), or correct its name in DATABASE_URL."
        ),
        Some("53300") => "Close idle sessions, lower DB_MAX_CONNS in the applications sharing this server, or raise max_connections.".to_string(),
        _ => format!(
            "Check the user, password and database in DATABASE_URL, pg_hba.conf for user {user}, and the server's log."
        ),
    };
    fail(message, fix)
}

/// server_version, privileges, pg_trgm, migrations, client_tools: none stops the others.
async fn database_steps(rec: &mut Recorder, url: &DatabaseUrl, mut conn: PgConnection) {
    let t = Instant::now();
    let (o, server_major) = server_version(&mut conn, url).await;
    rec.record(StepId::ServerVersion, t, o, false);
    let t = Instant::now();
    let o = privileges(&mut conn, url).await;
    rec.record(StepId::Privileges, t, o, false);
    let t = Instant::now();
    let o = pg_trgm(&mut conn, url).await;
    rec.record(StepId::PgTrgm, t, o, false);
    let t = Instant::now();
    let o = migrations(&mut conn, url).await;
    rec.record(StepId::Migrations, t, o, false);
    conn.close().await.ok();
    let t = Instant::now();
    let o = client_tools(server_major).await;
    rec.record(StepId::ClientTools, t, o, false);
}

async fn server_version(conn: &mut PgConnection, url: &DatabaseUrl) -> (Outcome, Option<u32>) {
    let row = sqlx::query(
        "SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS text",
    )
    .fetch_one(&mut *conn)
    .await;
    let row = match row {
        Ok(r) => r,
        Err(e) => {
            return (
                fail(describe_error(&e, url), "Check the server's log."),
                None,
            )
        }
    };
    let num: i32 = row.try_get("num").unwrap_or(0);
    let text: String = row.try_get("text").unwrap_or_default();
    let major = u32::try_from(num / 10_000).unwrap_or(0);
    if major < MIN_SERVER_MAJOR {
        (
            fail(
                format!("PostgreSQL {text} is older than {MIN_SERVER_MAJOR}, the oldest HoloMUSH supports."),
                format!("Upgrade the server to PostgreSQL {MIN_SERVER_MAJOR} or newer (pg_upgrade, or dump and restore)."),
            ),
            Some(major),
        )
    } else {
        (
            pass(format!(
                "PostgreSQL {text} (at least {MIN_SERVER_MAJOR} is needed)."
            )),
            Some(major),
        )
    }
}

async fn privileges(conn: &mut PgConnection, url: &DatabaseUrl) -> Outcome {
    let row = sqlx::query(
        "SELECT has_database_privilege(current_database(), 'CONNECT') AS can_connect,
                has_database_privilege(current_database(), 'CREATE') AS can_create,
                coalesce(has_schema_privilege(current_schema(), 'CREATE'), false) AS schema_create,
                current_schema() AS schema, current_user::text AS role",
    )
    .fetch_one(&mut *conn)
    .await;
    let row = match row {
        Ok(r) => r,
        Err(e) => return fail(describe_error(&e, url), "Check the server's log."),
    };
    let get = |c: &str| row.try_get::<bool, _>(c).unwrap_or(false);
    let schema: Option<String> = row.try_get("schema").unwrap_or(None);
    let role: String = row.try_get("role").unwrap_or_default();
    let db = url.database();
    let ident = crate::db::quote_ident;
    let mut missing = Vec::new();
    let mut grants = Vec::new();
    if !get("can_connect") {
        missing.push(format!("CONNECT on database {db}"));
        grants.push(format!(
            "GRANT CONNECT ON DATABASE {} TO {};",
            ident(db),
            ident(&role)
        ));
    }
    if !get("can_create") {
        missing.push(format!("CREATE on database {db}"));
        grants.push(format!(
            "GRANT CREATE ON DATABASE {} TO {};",
            ident(db),
            ident(&role)
        ));
    }
    match &schema {
        Some(s) if !get("schema_create") => {
            missing.push(format!("CREATE on schema {s}"));
            grants.push(format!(
                "GRANT CREATE ON SCHEMA {} TO {};",
                ident(s),
                ident(&role)
            ));
        }
        None => missing.push("a current schema (search_path is empty)".to_string()),
        _ => {}
    }
    if missing.is_empty() {
        return pass(format!(
            "Role \"{role}\" has CONNECT and CREATE on database {db} and CREATE on schema {}.",
            schema.unwrap_or_default()
        ));
    }
    let mut fix = String::from("As the database owner or a superuser, run: ");
    fix.push_str(&grants.join(" "));
    if schema.is_none() {
        fix.push_str(&format!(
            " Set a search_path: ALTER ROLE {} SET search_path = public;",
            ident(&role)
        ));
    }
    fail(
        format!(
            "Role \"{role}\" lacks {}: migrations cannot create their tables.",
            missing.join(" and ")
        ),
        fix,
    )
}

async fn pg_trgm(conn: &mut PgConnection, url: &DatabaseUrl) -> Outcome {
    let row = sqlx::query(
        "SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'pg_trgm'",
    )
    .fetch_optional(&mut *conn)
    .await;
    match row {
        Err(e) => fail(describe_error(&e, url), "Check the server's log."),
        Ok(None) => fail(
            "The pg_trgm extension is not available on the server (HoloMUSH's text search needs it).",
            "Install postgresql-contrib (the package that ships pg_trgm for this server's version) on the database server, then run CREATE EXTENSION IF NOT EXISTS pg_trgm;",
        ),
        Ok(Some(r)) => match r.try_get::<Option<String>, _>("installed_version").unwrap_or(None) {
            Some(v) => pass(format!("pg_trgm {v} is installed.")),
            None => fail(
                format!("pg_trgm is available but not installed in database {}.", url.database()),
                CREATE_PG_TRGM,
            ),
        },
    }
}

async fn migrations(conn: &mut PgConnection, url: &DatabaseUrl) -> Outcome {
    use crate::model::MigrationWorld as W;
    let detected = match crate::migrate::world::detect(conn).await {
        Ok(d) => d,
        Err(e) => {
            return fail(
                crate::config::mask_url(&e.to_string()),
                "Check the server's log.",
            )
        }
    };
    let _ = url;
    let world = detected.world;
    match world {
        W::Fresh => warn(
            "There is no schema_migrations table: no migration has run on this database yet.",
            "Run `holomush-admin migrate up` (or start HoloMUSH with HOLOMUSH_DB_AUTO_MIGRATE=true).",
        ),
        W::GooseOnly | W::Adopted => match detected.goose_version {
            Some(v) if v > 0 => pass(format!("{} goose is at version {v}.", world.describe())),
            _ => pass(format!("{} No goose migration has been applied yet.", world.describe())),
        },
        W::BothInUse => fail(
            world.describe(),
            "Decide which ledger is right (compare both with `holomush-admin migrate status`), then set the other aside; neither tool migrates this database until then.",
        ),
        W::GolangMigrateOnly | W::BothNotAdopted => {
            let prefix = if world == W::BothNotAdopted {
                format!("{} ", world.describe())
            } else {
                String::new()
            };
            match detected.golang_version {
                None => pass(format!("{prefix}schema_migrations exists; no migration has been applied yet.")),
                Some((v, true)) => fail(
                    format!("{prefix}The database is dirty at version {v}: a migration failed or was interrupted, and golang-migrate refuses to run until it is repaired."),
                    "Run `holomush-admin migrate repair` to see what version left behind and how to fix it.",
                ),
                Some((v, false)) => pass(format!("{prefix}schema_migrations is at version {v}, clean.")),
            }
        }
    }
}

async fn client_tools(server_major: Option<u32>) -> Outcome {
    let checks = tool_checks(server_major).await;
    if checks.iter().all(|c| c.ok) {
        let found: Vec<String> = checks
            .iter()
            .map(|c| format!("{} {} ({})", c.name, c.version, c.path))
            .collect();
        let against = server_major.map_or(String::new(), |s| {
            format!(", not older than the server's {s}")
        });
        // Which pg_dump writes the archives decides which pg_restore can read them: say why.
        let dump = checks
            .iter()
            .find(|c| c.name == crate::pgtools::Tool::PgDump.name())
            .map_or(String::new(), |c| format!(" {}", c.message));
        pass(format!("Using {}{against}.{dump}", found.join(", ")))
    } else {
        let problems: Vec<&str> = checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.message.trim_end_matches('.'))
            .collect();
        let hint =
            crate::pgtools::install_hint(server_major.unwrap_or(crate::pgtools::PYPI_MAJOR)).await;
        let mut fix = hint;
        if let Some(first) = fix.get(..1) {
            fix = format!("{}{}.", first.to_uppercase(), &fix[1..]);
        }
        fail(format!("Backups cannot run: {}.", problems.join("; ")), fix)
    }
}

/// pg_dump, pg_restore and psql one by one: which binary the console runs and why, for the
/// doctor, Settings and the Troubleshooting page's badge. pg_dump's is the one a backup of
/// this server would use: the server's own major when installed.
pub async fn tool_checks(server_major: Option<u32>) -> Vec<crate::model::ToolCheck> {
    use crate::pgtools::{choose, Needs, Tool};
    let needs = Needs {
        server: server_major,
        archive: None,
    };
    let mut out = Vec::new();
    for tool in [Tool::PgDump, Tool::PgRestore, Tool::Psql] {
        out.push(match choose(tool, needs).await {
            Ok(c) => crate::model::ToolCheck {
                name: tool.name().to_string(),
                major: Some(c.binary.major),
                ok: true,
                message: c.why,
                path: c.binary.path.display().to_string(),
                version: c.binary.version,
            },
            Err(e) => crate::model::ToolCheck {
                name: tool.name().to_string(),
                major: None,
                ok: false,
                message: e.to_string(),
                path: String::new(),
                version: String::new(),
            },
        });
    }
    out
}

/// Installs pg_trgm in the URL's database; the page's answer to a failed pg_trgm step.
pub async fn enable_pg_trgm(url: &DatabaseUrl) -> Result<String, DiagnoseError> {
    let mut conn = PgConnection::connect_with(&url.connect_options())
        .await
        .map_err(|e| DiagnoseError::Unavailable(describe_error(&e, url)))?;
    let result = sqlx::Executor::execute(&mut conn, CREATE_PG_TRGM).await;
    let outcome = match result {
        Ok(_) => {
            let v: Option<String> =
                sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'")
                    .fetch_optional(&mut conn)
                    .await
                    .ok()
                    .flatten();
            Ok(format!(
                "pg_trgm {} is installed in database {}.",
                v.unwrap_or_default(),
                url.database()
            ))
        }
        Err(e) => {
            let code = e
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.into_owned());
            let role = url.connect_options().get_username().to_string();
            Err(match code.as_deref() {
                Some("42501") => DiagnoseError::Permission(format!(
                    "Role \"{role}\" may not create extensions in database {}: a superuser (or the database owner, for a trusted extension) must run {CREATE_PG_TRGM}",
                    url.database()
                )),
                Some("0A000") | Some("58P01") => DiagnoseError::Database(
                    "The pg_trgm extension is not available on the server: install postgresql-contrib on the database server, then try again.".to_string(),
                ),
                _ => DiagnoseError::Database(describe_error(&e, url)),
            })
        }
    };
    conn.close().await.ok();
    outcome
}

#[cfg(test)]
mod bound_tests {
    use super::*;

    #[tokio::test]
    async fn at_most_two_doctors_run_at_once_and_the_rest_wait_their_turn() {
        // A server that accepts and never answers keeps each run busy for seconds.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                open.push(s);
            }
        });
        let url = format!("postgres://u:p@127.0.0.1:{port}/db");
        let runs: Vec<_> = (0..5)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { run(&url).await })
            })
            .collect();
        let mut most = 0;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            most = most.max(running());
        }
        assert_eq!(most, AT_ONCE);
        for r in runs {
            r.abort();
        }
        held.abort();
    }
}
