//! Session advisory locks as both tools use them: who holds one, in one line, for the waits
//! and refusals that name the holder.

use sqlx::postgres::PgConnection;
use sqlx::Row;

/// Who holds an advisory lock, told in one line.
pub async fn holder(conn: &mut PgConnection, id: i64) -> Option<String> {
    // Advisory locks belong to one database: a holder of the same id elsewhere on the
    // server (another game, another test) is not in our way.
    let row = sqlx::query(
        "SELECT a.pid, coalesce(nullif(a.application_name, ''), 'no application name') AS app,
                coalesce(host(a.client_addr), 'local socket') AS client,
                to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS since,
                coalesce(left(a.query, 80), '') AS query
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::bigint = ($1 >> 32) AND l.objid::bigint = ($1 & 4294967295) AND l.objsubid = 1
          LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .ok()??;
    let pid: i32 = row.try_get("pid").ok()?;
    let app: String = row.try_get("app").ok()?;
    let client: String = row.try_get("client").ok()?;
    let since: String = row.try_get("since").ok()?;
    Some(format!(
        "pid {pid} ({app}, from {client}, connected since {since} UTC)"
    ))
}
