//! The libpq variables of the console's own environment (`PGPASSWORD`, `PGSSLCERT`…), taken
//! out of the process at start-up so that only the console's own DATABASE_URL can use them.
//!
//! sqlx's `PgConnectOptions` has no constructor that ignores the environment: every one
//! starts from `PGPASSWORD`, `PGSSLCERT`, `PGSSLKEY`, `PGHOST`… of the process. A URL a
//! person types (the target server, the doctor's) must carry only what was typed, so the
//! binary removes these variables before any thread starts and keeps them here, where the
//! configuration applies them to DATABASE_URL alone, explicitly, part by part.

use std::sync::OnceLock;

/// Every variable libpq reads for a connection (PostgreSQL's "Environment Variables" page,
/// 14 to 18): all of them leave the process, whichever the console uses.
pub const LIBPQ_VARS: [&str; 40] = [
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGREQUIREAUTH",
    "PGCHANNELBINDING",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGSSLMODE",
    "PGREQUIRESSL",
    "PGSSLNEGOTIATION",
    "PGSSLCOMPRESSION",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLCERTMODE",
    "PGSSLROOTCERT",
    "PGSSLCRL",
    "PGSSLCRLDIR",
    "PGSSLSNI",
    "PGREQUIREPEER",
    "PGSSLMINPROTOCOLVERSION",
    "PGSSLMAXPROTOCOLVERSION",
    "PGMINPROTOCOLVERSION",
    "PGMAXPROTOCOLVERSION",
    "PGGSSENCMODE",
    "PGKRBSRVNAME",
    "PGGSSLIB",
    "PGGSSDELEGATION",
    "PGCONNECT_TIMEOUT",
    "PGCLIENTENCODING",
    "PGTARGETSESSIONATTRS",
    "PGLOADBALANCEHOSTS",
    "PGDATESTYLE",
    "PGTZ",
];

static TAKEN: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();

/// Moves the libpq variables out of the process environment into a snapshot only
/// [`libpq_var`] reads. Call it first thing in `main`, before any thread exists (the
/// environment is not safe to change while another thread reads it). A second call keeps
/// the first snapshot and removes whatever has appeared since.
pub fn take_libpq_env() {
    let mut seen = Vec::new();
    for name in LIBPQ_VARS {
        if let Some(value) = std::env::var_os(name) {
            if let Some(value) = value.to_str() {
                seen.push((name, value.to_string()));
            }
            std::env::remove_var(name);
        }
    }
    if TAKEN.set(seen).is_err() {
        tracing::debug!("the libpq environment was already taken");
    }
    // The operating-system user is libpq's default user name: read it now, while nothing
    // in the environment can stand in for it.
    crate::conninfo::os_user();
}

/// True once [`take_libpq_env`] ran: the process environment holds no libpq variable.
pub fn libpq_env_taken() -> bool {
    TAKEN.get().is_some()
}

/// A libpq variable as the console's own configuration sees it: from the snapshot once it
/// was taken, else (a library user, a test) from the process environment. Empty is unset.
pub fn libpq_var(name: &str) -> Option<String> {
    let value = match TAKEN.get() {
        Some(taken) => taken
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone()),
        None => std::env::var(name).ok(),
    };
    value.filter(|v| !v.is_empty())
}

/// A variable of the process environment as the configuration reads it: the libpq ones
/// through [`libpq_var`], every other one as it is.
pub fn env_var(name: &str) -> Option<String> {
    if LIBPQ_VARS.contains(&name) {
        libpq_var(name)
    } else {
        std::env::var(name).ok()
    }
}
