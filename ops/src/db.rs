//! The connection pool built from the seed's variables, and database errors told as sentences.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::config::{mask_url, Config, DatabaseUrl};

/// Builds the pool without connecting, so the console starts even while the
/// database is down and can then say why it is unreachable.
pub fn pool(config: &Config) -> PgPool {
    PgPoolOptions::new()
        .max_connections(config.max_conns)
        .min_connections(config.min_conns)
        .max_lifetime(config.max_lifetime)
        // connect_timeout in the URL bounds a connection attempt, as libpq's does.
        .acquire_timeout(
            config
                .database_url
                .connect_timeout()
                .unwrap_or(Duration::from_secs(5)),
        )
        .connect_lazy_with(config.database_url.connect_options())
}

/// One sentence for a database error: what happened and what to do next.
pub fn describe_error(err: &sqlx::Error, url: &DatabaseUrl) -> String {
    let opts = url.connect_options();
    let host = format!("{}:{}", opts.get_host(), opts.get_port());
    let user = opts.get_username().to_string();
    let db = url.database();
    let source = url.name();
    match err {
        sqlx::Error::Database(e) => match e.code().as_deref() {
            Some("28P01") => format!(
                "PostgreSQL at {host} rejected the password for user \"{user}\": correct the password in {source}."
            ),
            Some("28000") => format!(
                "PostgreSQL at {host} refused user \"{user}\" ({}): check pg_hba.conf and the user in {source}.",
                e.message()
            ),
            Some("3D000") => format!(
                "Database \"{db}\" does not exist on {host}: create it with `createdb {db}` or fix the name in {source}."
            ),
            Some("53300") => format!(
                "PostgreSQL at {host} has no free connection slots: lower DB_MAX_CONNS or raise max_connections on the server."
            ),
            Some(code) => format!("PostgreSQL said: {} (SQLSTATE {code}).", e.message()),
            None => format!("PostgreSQL said: {}.", e.message()),
        },
        sqlx::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "Could not connect to {host}: the connection was refused. Check that PostgreSQL is running and that {source} names its host and port."
        ),
        sqlx::Error::Io(e) => format!(
            "Could not reach {host}: {e}. Check that PostgreSQL is running and reachable from this machine."
        ),
        sqlx::Error::PoolTimedOut => format!(
            "No connection to {host} within 5 seconds: the server may be down, unreachable or out of connections."
        ),
        sqlx::Error::Tls(e) => format!(
            "The TLS handshake with {host} failed ({e}): check the sslmode in {source} and the server's SSL settings."
        ),
        other => format!("The database request failed: {}.", mask_url(&other.to_string())),
    }
}

/// An SQL identifier (a database, schema or table name) quoted for PostgreSQL: in double
/// quotes, inner quotes doubled, cut at a NUL (which PostgreSQL cannot hold anyway).
pub fn quote_ident(name: &str) -> String {
    let name = name.split('\0').next().unwrap_or("");
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `ALTER DATABASE … WITH ALLOW_CONNECTIONS …`, the bar a swap puts up and takes down.
pub fn allow_connections_sql(database: &str, allow: bool) -> String {
    format!(
        "ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}",
        quote_ident(database)
    )
}

/// `ALTER DATABASE … RENAME TO …`.
pub fn rename_database_sql(from: &str, to: &str) -> String {
    format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(from),
        quote_ident(to)
    )
}
