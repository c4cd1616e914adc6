//! The cutover from golang-migrate to goose ("adopt"), decided and done exactly as HoloMUSH's
//! first goose boot does it, under goose's advisory lock: no `schema_migrations` → nothing to
//! do; `goose_db_version` with a version above 0 → already adopted; otherwise
//! `schema_migrations` must hold one clean row, and one transaction creates the goose ledger
//! (if missing), its version-0 row (if absent), a row for every version of the goose source at
//! or below the recorded one (ascending), and renames `schema_migrations` to
//! `schema_migrations_pre_goose`. [`undo`] reverses it while goose has run nothing else.

use std::collections::BTreeSet;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use tokio_util::sync::CancellationToken;

use super::engine::Migrator;
use super::report::Log;
use super::source::Source;
use super::tools;
use super::world::{GOOSE_TABLE, PRE_GOOSE_TABLE};
use super::MigrateError;
use crate::db::quote_ident;
use crate::model::{AdoptCode, AdoptPreview, AdoptRefusal, AdoptState, Ledger as LedgerKind};

use super::world::GOLANG_TABLE;

/// Which of the three tables exist in the current schema.
struct Tables {
    schema: String,
    golang: bool,
    goose: bool,
    pre_goose: bool,
}

impl Tables {
    async fn read(conn: &mut PgConnection) -> Result<Self, MigrateError> {
        let row = sqlx::query(
            "SELECT s AS schema,
                    to_regclass(quote_ident(s) || '.schema_migrations') IS NOT NULL AS golang,
                    to_regclass(quote_ident(s) || '.goose_db_version') IS NOT NULL AS goose,
                    to_regclass(quote_ident(s) || '.schema_migrations_pre_goose') IS NOT NULL AS pre
               FROM (SELECT current_schema() AS s) AS x",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(MigrateError::db)?;
        let schema: Option<String> = row.try_get("schema").map_err(MigrateError::db)?;
        let schema = schema.ok_or_else(|| MigrateError::Refused(
            "No schema is current (search_path is empty): set search_path for this user, e.g. ALTER ROLE … SET search_path = public.".to_string(),
        ))?;
        let get = |name: &str| {
            row.try_get::<Option<bool>, _>(name)
                .map(|b| b.unwrap_or(false))
                .map_err(MigrateError::db)
        };
        Ok(Self {
            golang: get("golang")?,
            goose: get("goose")?,
            pre_goose: get("pre")?,
            schema,
        })
    }

    fn qualified(&self, table: &str) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(table))
    }
}

/// The goose source an adopt seeds from; golang-migrate files cannot say which versions
/// goose's ledger should list.
fn goose_source(source: &Source) -> Result<(), MigrateError> {
    if source.ledger == LedgerKind::Goose {
        return Ok(());
    }
    Err(MigrateError::Refused(format!(
        "The adopt seeds goose_db_version from goose's migration files, but {} holds golang-migrate files: point HOLOMUSH_MIGRATIONS_DIR at HoloMUSH's goose migrations; nothing was changed.",
        source.origin
    )))
}

fn list(versions: &[u64]) -> String {
    versions
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn refused(
    code: AdoptCode,
    message: String,
    rows: i64,
    recorded: Option<(i64, bool)>,
) -> AdoptPreview {
    AdoptPreview {
        state: AdoptState::Refused,
        recorded_version: recorded.map(|r| r.0),
        dirty: recorded.map(|r| r.1),
        rows: Some(rows),
        seed: Vec::new(),
        sentence: format!("{}: {message}", code.as_str()),
        refusal: Some(AdoptRefusal { code, message }),
    }
}

/// What HoloMUSH's first goose boot would do, read without changing anything.
pub async fn probe(conn: &mut PgConnection, source: &Source) -> Result<AdoptPreview, MigrateError> {
    goose_source(source)?;
    let tables = Tables::read(conn).await?;
    let empty = |state, sentence: String| AdoptPreview {
        state,
        recorded_version: None,
        dirty: None,
        rows: None,
        seed: Vec::new(),
        refusal: None,
        sentence,
    };
    if !tables.golang {
        // HoloMUSH stops here either way; the sentence tells an adopted database from a new one.
        return Ok(if tables.pre_goose {
            empty(
                AdoptState::AlreadyAdopted,
                "Already adopted: goose_db_version is the ledger and golang-migrate's record is kept in schema_migrations_pre_goose; nothing to do.".to_string(),
            )
        } else {
            empty(
                AdoptState::NothingToDo,
                "There is no schema_migrations table, so there is nothing to adopt: goose starts its own ledger.".to_string(),
            )
        });
    }
    if tables.goose {
        let max: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT max(version_id) FROM {} WHERE version_id > 0",
            tables.qualified(GOOSE_TABLE)
        ))
        .fetch_one(&mut *conn)
        .await
        .map_err(MigrateError::db)?;
        if let Some(max) = max {
            return Ok(empty(
                AdoptState::AlreadyAdopted,
                format!("Already adopted: goose_db_version records versions up to {max}, so HoloMUSH leaves schema_migrations as it is; nothing to do."),
            ));
        }
    }
    let rows: Vec<(i64, bool)> = sqlx::query_as(&format!(
        "SELECT version, dirty FROM {} ORDER BY version",
        tables.qualified(GOLANG_TABLE)
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(MigrateError::db)?;
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let (version, dirty) = match rows.as_slice() {
        [] => return Ok(refused(
            AdoptCode::ProbeFailed,
            "schema_migrations has no row, so there is no recorded version to adopt: record the version the schema is at (migrate force with the golang-migrate files, or restore a backup), then adopt; nothing was changed.".to_string(),
            0,
            None,
        )),
        [one] => *one,
        many => return Ok(refused(
            AdoptCode::Ambiguous,
            format!(
                "schema_migrations has {} rows (versions {}) where golang-migrate keeps one, so the recorded version is ambiguous: delete the rows that are wrong (or force the right version with the golang-migrate files), then adopt; nothing was changed.",
                many.len(),
                many.iter().map(|r| r.0.to_string()).collect::<Vec<_>>().join(", ")
            ),
            count,
            None,
        )),
    };
    if dirty {
        return Ok(refused(
            AdoptCode::Dirty,
            format!("schema_migrations is dirty at version {version}: repair it first (Troubleshooting → Repair the dirty state, or migrate repair), then adopt; nothing was changed."),
            count,
            Some((version, dirty)),
        ));
    }
    let seed: Vec<u64> = source
        .versions()
        .into_iter()
        .filter(|v| i64::try_from(*v).is_ok_and(|v| v <= version))
        .collect();
    let sentence = format!(
        "Ready: schema_migrations records version {version} (clean, one row); the adopt would give goose_db_version its version-0 row and {} at or below {version}{}, then rename schema_migrations to {PRE_GOOSE_TABLE}.",
        plural(seed.len(), "version", "versions"),
        if seed.is_empty() { String::new() } else { format!(" ({})", list(&seed)) },
    );
    Ok(AdoptPreview {
        state: AdoptState::Ready,
        recorded_version: Some(version),
        dirty: Some(false),
        rows: Some(count),
        seed,
        refusal: None,
        sentence,
    })
}

/// The adopt transaction's statements for a `ready` preview, each with its sentence.
async fn statements(
    conn: &mut PgConnection,
    preview: &AdoptPreview,
) -> Result<Vec<(String, String)>, MigrateError> {
    let tables = Tables::read(conn).await?;
    let mut out = tools::store(LedgerKind::Goose)
        .seed(conn, !tables.goose, &preview.seed)
        .await?;
    if !preview.seed.is_empty() {
        if let Some(last) = out.last_mut() {
            last.1 = format!(
                "Seeded {} at or below {}: {}",
                plural(preview.seed.len(), "version", "versions"),
                preview.recorded_version.unwrap_or_default(),
                list(&preview.seed)
            );
        }
    }
    out.push((
        format!(
            "ALTER TABLE {} RENAME TO {}",
            tables.qualified(GOLANG_TABLE),
            quote_ident(PRE_GOOSE_TABLE)
        ),
        format!("Renamed schema_migrations to {PRE_GOOSE_TABLE}"),
    ));
    Ok(out)
}

/// Probes and, when `ready`, adopts: all in one transaction on `conn` (the caller holds
/// goose's lock, or owns the database). Returns what the probe found and a sentence per
/// thing done (none unless `ready`).
pub async fn perform(
    conn: &mut PgConnection,
    source: &Source,
) -> Result<(AdoptPreview, Vec<String>), MigrateError> {
    goose_source(source)?;
    let mut tx = conn.begin().await.map_err(MigrateError::db)?;
    let preview = probe(&mut tx, source).await?;
    if preview.state != AdoptState::Ready {
        tx.rollback().await.map_err(MigrateError::db)?;
        return Ok((preview, Vec::new()));
    }
    let mut done = Vec::new();
    for (sql, said) in statements(&mut tx, &preview).await? {
        if let Err(e) = sqlx::Executor::execute(&mut *tx, sql.as_str()).await {
            tx.rollback().await.ok();
            return Err(MigrateError::Database(format!(
                "The adopt transaction failed and was rolled back ({}): nothing was changed.",
                super::pgerror::pg_text(&e)
            )));
        }
        done.push(said);
    }
    tx.commit().await.map_err(MigrateError::db)?;
    Ok((preview, done))
}

/// Runs `work` on a fresh connection while holding goose's advisory lock, as HoloMUSH does.
async fn locked<T>(
    m: &Migrator,
    log: &Log,
    cancel: &CancellationToken,
    work: impl for<'c> FnOnce(
        &'c mut PgConnection,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<T, MigrateError>> + Send + 'c>,
    >,
) -> Result<T, MigrateError> {
    let mut conn = m.connect().await?;
    let goose = tools::store(LedgerKind::Goose);
    goose.lock(m, &mut conn, log, cancel).await?;
    let result = work(&mut conn).await;
    goose.unlock(m, &mut conn).await;
    conn.close().await.ok();
    result
}

/// The adopt under goose's lock: the probe is read again once the lock is held, so a
/// second console that waited sees the first one's work and does nothing.
pub async fn run(
    m: &Migrator,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<(AdoptPreview, Vec<String>), MigrateError> {
    goose_source(&m.source)?;
    let source = m.source.clone();
    locked(m, log, cancel, move |conn| {
        Box::pin(async move { perform(conn, &source).await })
    })
    .await
}

/// Rolls the adopt back (rename `schema_migrations_pre_goose` back, drop `goose_db_version`,
/// in one transaction under goose's lock) while goose_db_version lists only what the adopt
/// seeded. Returns a sentence per thing done.
pub async fn undo(
    m: &Migrator,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<Vec<String>, MigrateError> {
    let source = m.source.clone();
    locked(m, log, cancel, move |conn| {
        Box::pin(async move { undo_locked(conn, &source).await })
    })
    .await
}

async fn undo_locked(
    conn: &mut PgConnection,
    source: &Source,
) -> Result<Vec<String>, MigrateError> {
    let mut tx = conn.begin().await.map_err(MigrateError::db)?;
    let tables = Tables::read(&mut tx).await?;
    if !tables.pre_goose {
        return Err(MigrateError::Refused(format!(
            "This database has no {PRE_GOOSE_TABLE}: it was never adopted (or the adopt was undone already), so there is nothing to undo; nothing was changed."
        )));
    }
    if tables.golang {
        return Err(MigrateError::Refused(format!(
            "schema_migrations exists beside {PRE_GOOSE_TABLE}, so renaming it back would collide: settle by hand which of the two records the schema; nothing was changed."
        )));
    }
    let recorded: Vec<(i64, bool)> = sqlx::query_as(&format!(
        "SELECT version, dirty FROM {}",
        tables.qualified(PRE_GOOSE_TABLE)
    ))
    .fetch_all(&mut *tx)
    .await
    .map_err(MigrateError::db)?;
    let &[(recorded, _)] = recorded.as_slice() else {
        return Err(MigrateError::Refused(format!(
            "{PRE_GOOSE_TABLE} has {} rows where the adopt left one, so the version to go back to is unknown: settle it by hand; nothing was changed.",
            recorded.len()
        )));
    };
    let mut done = Vec::new();
    if tables.goose {
        let applied: BTreeSet<i64> = sqlx::query_scalar(&format!(
            "SELECT version_id FROM {} WHERE version_id > 0",
            tables.qualified(GOOSE_TABLE)
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(MigrateError::db)?
        .into_iter()
        .collect();
        // The adopt seeded the goose source's versions at or below the recorded one; with
        // golang-migrate files configured, only "at or below" can be checked.
        let seeded = |v: i64| {
            v <= recorded
                && (source.ledger != LedgerKind::Goose
                    || u64::try_from(v).is_ok_and(|u| source.get(u).is_some()))
        };
        let beyond: Vec<u64> = applied
            .iter()
            .filter(|v| !seeded(**v))
            .filter_map(|v| u64::try_from(*v).ok())
            .collect();
        if !beyond.is_empty() {
            return Err(MigrateError::Refused(format!(
                "goose_db_version records {} that the adopt did not seed ({}): goose ran migrations after the adopt, so undoing it would lose them from the ledger; roll them back first (migrate goto {recorded} with the goose files), then undo; nothing was changed.",
                plural(beyond.len(), "version", "versions"),
                list(&beyond)
            )));
        }
        let drop = format!("DROP TABLE {}", tables.qualified(GOOSE_TABLE));
        sqlx::Executor::execute(&mut *tx, drop.as_str())
            .await
            .map_err(MigrateError::db)?;
        done.push(format!(
            "Dropped goose_db_version ({})",
            plural(applied.len(), "seeded version", "seeded versions")
        ));
    }
    let rename = format!(
        "ALTER TABLE {} RENAME TO {}",
        tables.qualified(PRE_GOOSE_TABLE),
        quote_ident(GOLANG_TABLE)
    );
    sqlx::Executor::execute(&mut *tx, rename.as_str())
        .await
        .map_err(MigrateError::db)?;
    done.push(format!(
        "Renamed {PRE_GOOSE_TABLE} back to schema_migrations (version {recorded})"
    ));
    tx.commit().await.map_err(MigrateError::db)?;
    Ok(done)
}
