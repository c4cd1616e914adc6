//! The steps up to a working session: dns, tcp, tls, auth and select1.

use std::net::SocketAddr;
use std::time::Instant;

use sqlx::postgres::PgConnection;
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{fail, pass, skip, warn, Outcome, Recorder, DNS_TIMEOUT, LOGIN_TIMEOUT, TCP_TIMEOUT};
use crate::config::DatabaseUrl;
use crate::db::describe_error;
use crate::diagnose::target::{effective_ssl_mode, is_loopback, ssl_mode_may_be_plain};
use crate::model::StepId;

/// dns, tcp, tls, auth and select1; the open session when the rest can run.
pub(super) async fn network_steps(rec: &mut Recorder, url: &DatabaseUrl) -> Option<PgConnection> {
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
