//! A database the console is in the middle of making (a restore's fresh copy, a rehearsal's
//! scratch copy) carries a marker in its database comment: what it is for and which process
//! makes it. It is the journal of that work, kept where the databases are, so the next
//! console can tell an abandoned one from one still being made.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;

use crate::db::quote_ident;

/// `COMMENT ON DATABASE` with `prefix` and the marker as JSON.
pub fn comment_sql(prefix: &str, database: &str, marker: &impl Serialize) -> String {
    let text = format!(
        "{prefix}{}",
        serde_json::to_string(marker).unwrap_or_default()
    );
    format!(
        "COMMENT ON DATABASE {} IS '{}'",
        quote_ident(database),
        text.replace('\'', "''")
    )
}

/// The marker in a database comment, when the comment is one of ours with this prefix.
pub fn parse<T: DeserializeOwned>(prefix: &str, comment: &str) -> Option<T> {
    serde_json::from_str(comment.strip_prefix(prefix)?).ok()
}

/// The process that made it is gone; only a process on this machine can be asked, so a
/// marker from another host is never taken for abandoned.
pub fn maker_gone(pid: u32, host: &str) -> bool {
    host == crate::joblock::hostname() && !crate::process::pid_alive(pid)
}

/// The databases of the server whose comment starts with `prefix`, with that comment.
pub async fn marked(c: &mut PgConnection, prefix: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database
          WHERE shobj_description(oid, 'pg_database') LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .fetch_all(c)
    .await
    .unwrap_or_default()
}
