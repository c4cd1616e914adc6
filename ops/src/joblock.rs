//! One job per database across processes. The in-process mutex of [`crate::jobs::Jobs`]
//! cannot see a CLI in another shell or a second server, so every job also holds a
//! session-level advisory lock of the console's own on the managed database, on a
//! connection of its own whose `application_name` says who holds it. PostgreSQL releases
//! the lock when that session ends, so a killed process can never leave it behind.

use chrono::{DateTime, Utc};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::conninfo::DatabaseUrl;
use crate::jobs::Busy;
use crate::model::JobKind;

/// The console's key, "HoloJobs" read as a big-endian integer: distinct from golang-migrate's
/// (a crc32 of the database name times a constant) and from goose's (4097083626, and
/// 5887940537704921958 before goose v3.26).
pub const KEY: i64 = i64::from_be_bytes(*b"HoloJobs");

/// The prefix every holder's `application_name` starts with.
const APP: &str = "holomush-admin";

/// Which side of the binary runs the job, as the refusal names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Cli,
    Serve,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Cli => "cli",
            Role::Serve => "serve",
        }
    }
}

/// Takes the console's lock on one database, for one process.
pub struct JobLock {
    url: DatabaseUrl,
    role: Role,
}

/// The lock, held for as long as this value lives (its connection is the lock's session).
pub struct Held {
    conn: PgConnection,
}

impl Held {
    /// Releases the lock, then ends the session. The unlock is answered before this
    /// returns, whereas a closing session lets go of its locks a moment later: the next
    /// job (from any process) must not be refused in that moment.
    pub async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(KEY)
            .execute(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
    }
}

/// Who holds the lock, read back from the holder's session.
#[derive(Debug, PartialEq)]
pub struct Holder {
    pub application: String,
    pub since: DateTime<Utc>,
}

impl Holder {
    /// "migrate.up from holomush-admin serve (pid 4242 on db-host) since 2026-11-29 17:40:02 UTC"
    fn describe(&self) -> String {
        let since = self.since.format("%Y-%m-%d %H:%M:%S UTC");
        match parse_application(&self.application) {
            Some((role, pid, host, kind)) => {
                format!("{kind} from {APP} {role} (pid {pid} on {host}) since {since}")
            }
            None => format!(
                "held by a session named \"{}\" since {since}",
                self.application
            ),
        }
    }
}

/// Splits "holomush-admin ROLE PID@HOST KIND" back into its parts.
fn parse_application(name: &str) -> Option<(&str, &str, &str, &str)> {
    let mut words = name.strip_prefix(APP)?.split_whitespace();
    let role = words.next()?;
    let (pid, host) = words.next()?.split_once('@')?;
    let kind = words.next()?;
    Some((role, pid, host, kind))
}

/// This machine's name, as the holders of locks and restores name it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// The holder's name, within PostgreSQL's 63 bytes: the host is shortened first, since the
/// role, pid and job kind are what a person acts on.
fn application_name(role: Role, pid: u32, host: &str, kind: &JobKind) -> String {
    let head = format!("{APP} {} {pid}@", role.as_str());
    let tail = format!(" {}", kind.as_str());
    let room = 63usize.saturating_sub(head.len() + tail.len());
    let mut host: String = host.chars().filter(|c| !c.is_whitespace()).collect();
    while host.len() > room {
        host.pop();
    }
    format!("{head}{host}{tail}")
}

impl JobLock {
    pub fn new(url: DatabaseUrl, role: Role) -> Self {
        Self { url, role }
    }

    /// Takes the lock for a job of `kind`, or refuses at once naming who holds it. When the
    /// database cannot be reached at all, the job goes ahead under the in-process lock only
    /// (`Ok(None)`): it may be the job that creates the database, and any other job fails
    /// on the same connection error with its own sentence.
    pub async fn acquire(&self, kind: &JobKind) -> Result<Option<Held>, Busy> {
        let name = application_name(self.role, std::process::id(), &hostname(), kind);
        let options = self
            .url
            .connect_options()
            .application_name(&name)
            .disable_statement_logging();
        let mut conn = match PgConnection::connect_with(&options).await {
            Ok(c) => c,
            Err(e) => return no_connection(e, self.url.database()),
        };
        let got: Result<bool, sqlx::Error> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(KEY)
            .fetch_one(&mut conn)
            .await;
        match got {
            Ok(true) => Ok(Some(Held { conn })),
            Ok(false) => {
                let holder = holder(&mut conn).await;
                let _ = conn.close().await;
                Err(Busy(match holder {
                    Some(h) => format!(
                        "Another job is running on this database ({}): wait for it to finish or cancel it there, then try again.",
                        h.describe()
                    ),
                    None => "Another job is running on this database (from another process): wait for it to finish, then try again.".to_string(),
                }))
            }
            Err(e) => {
                tracing::warn!(
                    "The console's lock could not be taken ({e}); relying on this process's own"
                );
                Ok(None)
            }
        }
    }
}

fn no_connection(e: sqlx::Error, database: &str) -> Result<Option<Held>, Busy> {
    // A restore in place bars connections while it swaps the database: that is a job.
    if let Some(db) = e.as_database_error() {
        if db.code().as_deref() == Some("55000") {
            return Err(Busy(format!(
                "The database \"{database}\" is not accepting connections (a restore in place may be swapping it): wait for it to finish, then try again."
            )));
        }
    }
    tracing::info!("The console's lock was not taken, the database is not reachable ({e})");
    Ok(None)
}

/// Reads who holds the console's lock on this database.
pub async fn holder(conn: &mut PgConnection) -> Option<Holder> {
    let bits = KEY as u64;
    let row: Option<(Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT a.application_name, a.backend_start
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::bigint = $1 AND l.objid::bigint = $2
          LIMIT 1",
    )
    .bind((bits >> 32) as i64)
    .bind((bits & 0xffff_ffff) as i64)
    .fetch_optional(conn)
    .await
    .ok()
    .flatten();
    let (application, since) = row?;
    Some(Holder {
        application: application.unwrap_or_default(),
        since: since.unwrap_or_else(Utc::now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_fits_postgres_and_reads_back() {
        let long = "a-very-long-host-name-that-goes-on.example.internal.cluster.local";
        let name = application_name(Role::Serve, 4_194_304, long, &JobKind::RestoreInPlace);
        assert!(name.len() <= 63, "{name} is {} bytes", name.len());
        let (role, pid, host, kind) = parse_application(&name).expect("parses");
        assert_eq!((role, pid, kind), ("serve", "4194304", "restore.in_place"));
        assert!(long.starts_with(host));
        let since = DateTime::parse_from_rfc3339("2026-11-29T17:40:02Z")
            .expect("time")
            .with_timezone(&Utc);
        let h = Holder {
            application: application_name(Role::Cli, 77, "db-host", &JobKind::BackupFull),
            since,
        };
        assert_eq!(
            h.describe(),
            "backup.full from holomush-admin cli (pid 77 on db-host) since 2026-11-29 17:40:02 UTC"
        );
    }
}
