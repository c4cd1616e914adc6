//! A restored database counted, table by table, against the rows its archive holds: the
//! proof a test restore or a move to another server ends with.

use std::collections::BTreeMap;

use super::BackupError;

/// Each table of a restored database counted against the rows the archive holds.
pub(crate) struct Counted {
    pub tables: usize,
    pub rows: u64,
    /// One "table: N rows restored, M in the archive" (or "missing") per table that differs.
    pub differences: Vec<String>,
}

/// Counts each table of `expected` in `database` (on the server of `url`).
pub(crate) async fn compare_counts(
    url: &crate::conninfo::DatabaseUrl,
    database: &str,
    expected: &BTreeMap<String, u64>,
    log: &super::Log,
) -> Result<Counted, BackupError> {
    use sqlx::Connection;
    let target = url
        .with_database(database)
        .map_err(|e| BackupError::Tool(e.to_string()))?;
    let mut conn = sqlx::PgConnection::connect_with(&target.connect_options())
        .await
        .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, &target)))?;
    let mut wrong = Vec::new();
    let mut rows = 0;
    for (table, want) in expected {
        // The name comes from the archive: let the catalog quote it rather than trusting it.
        let quoted: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| BackupError::Tool(e.to_string()))?;
        let Some(quoted) = quoted else {
            wrong.push(format!("{table}: missing after the restore"));
            continue;
        };
        let got: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {quoted}"))
            .fetch_one(&mut conn)
            .await
            .map_err(|e| BackupError::Tool(format!("Counting {table} failed: {e}.")))?;
        let got = u64::try_from(got).unwrap_or(0);
        rows += got;
        log.line(format!("{table}: {got} rows (archive: {want})"));
        if got != *want {
            wrong.push(format!(
                "{table}: {got} rows restored, {want} in the archive"
            ));
        }
    }
    conn.close().await.ok();
    Ok(Counted {
        tables: expected.len(),
        rows,
        differences: wrong,
    })
}
