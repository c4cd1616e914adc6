//! Which ledgers a database holds, in its current schema: golang-migrate's
//! `schema_migrations`, goose's `goose_db_version`, and `schema_migrations_pre_goose` (what
//! the adopt step leaves). Each engine refuses a world whose ledger is the other tool's.

use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::source::Origin;
use super::MigrateError;
use crate::model::{Ledger, MigrationWorld};

/// golang-migrate's ledger.
pub const GOLANG_TABLE: &str = "schema_migrations";
/// goose's ledger.
pub const GOOSE_TABLE: &str = "goose_db_version";
/// golang-migrate's ledger once the adopt has set it aside.
pub const PRE_GOOSE_TABLE: &str = "schema_migrations_pre_goose";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detected {
    pub world: MigrationWorld,
    /// `schema_migrations`' row (version, dirty), when it has one.
    pub golang_version: Option<(i64, bool)>,
    /// Rows in `goose_db_version`, when it exists.
    pub goose_rows: Option<i64>,
    /// goose's version: the highest `version_id` (0 when only the version-0 row).
    pub goose_version: Option<i64>,
}

pub async fn detect(conn: &mut PgConnection) -> Result<Detected, MigrateError> {
    let row = sqlx::query(
        "SELECT coalesce(to_regclass(quote_ident(s) || '.schema_migrations') IS NOT NULL, false) AS sm,
                coalesce(to_regclass(quote_ident(s) || '.goose_db_version') IS NOT NULL, false) AS goose,
                coalesce(to_regclass(quote_ident(s) || '.schema_migrations_pre_goose') IS NOT NULL, false) AS pre,
                s AS schema
           FROM (SELECT current_schema() AS s) AS x",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(MigrateError::db)?;
    let get = |name: &str| row.try_get::<bool, _>(name).map_err(MigrateError::db);
    let (sm, goose, pre) = (get("sm")?, get("goose")?, get("pre")?);
    // No current schema (an empty search_path) finds neither table.
    let schema: Option<String> = row.try_get("schema").map_err(MigrateError::db)?;
    let schema = schema.unwrap_or_default();
    let qualified = |table: &str| {
        format!(
            "{}.{}",
            crate::db::quote_ident(&schema),
            crate::db::quote_ident(table)
        )
    };
    let golang_version = if sm {
        // golang-migrate keeps one row; an empty table is no version.
        sqlx::query_as::<_, (i64, bool)>(&format!(
            "SELECT version, dirty FROM {} LIMIT 1",
            qualified(GOLANG_TABLE)
        ))
        .fetch_optional(&mut *conn)
        .await
        .map_err(MigrateError::db)?
        .filter(|v| *v != (super::NIL, false))
    } else {
        None
    };
    let (goose_rows, goose_version) = if goose {
        let counted = sqlx::query(&format!(
            "SELECT count(*) AS n, coalesce(max(version_id), 0) AS v FROM {}",
            qualified(GOOSE_TABLE)
        ))
        .fetch_one(&mut *conn)
        .await
        .map_err(MigrateError::db)?;
        (
            Some(counted.try_get::<i64, _>("n").map_err(MigrateError::db)?),
            Some(counted.try_get::<i64, _>("v").map_err(MigrateError::db)?),
        )
    } else {
        (None, None)
    };
    let world = match (sm, goose_rows, pre) {
        (_, Some(_), true) => MigrationWorld::Adopted,
        (true, Some(0), false) => MigrationWorld::BothNotAdopted,
        (true, Some(_), false) if golang_version.is_some() => MigrationWorld::BothInUse,
        (_, Some(_), false) => MigrationWorld::GooseOnly,
        (true, None, _) => MigrationWorld::GolangMigrateOnly,
        (false, None, _) => MigrationWorld::Fresh,
    };
    Ok(Detected {
        world,
        golang_version,
        goose_rows,
        goose_version,
    })
}

impl Detected {
    /// Whether an engine of `ledger` may write this database; the refusal is one sentence.
    pub fn refusal(&self, ledger: Ledger, origin: &str) -> Option<String> {
        let golang = self
            .golang_version
            .map_or("no version".to_string(), |(v, d)| {
                if d {
                    format!("version {v}, dirty")
                } else {
                    format!("version {v}")
                }
            });
        match (ledger, self.world) {
            (Ledger::Goose, MigrationWorld::GolangMigrateOnly | MigrationWorld::BothNotAdopted)
                if self.golang_version.is_some() =>
            {
                Some(format!(
                    "This database's migrations are recorded by golang-migrate (schema_migrations at {golang}) and goose has not adopted them, but {origin} holds goose files: run the adopt step first, or point HOLOMUSH_MIGRATIONS_DIR at the golang-migrate migrations; nothing was changed."
                ))
            }
            (Ledger::Goose, MigrationWorld::BothNotAdopted) => Some(
                "This database has an empty goose_db_version beside schema_migrations (the adopt step has not run), so goose cannot start on it: run the adopt step first, or drop the empty goose_db_version; nothing was changed.".to_string()
            ),
            (_, MigrationWorld::BothInUse) => Some(format!(
                "This database has both ledgers in use (schema_migrations at {golang} and versions in goose_db_version) and was never adopted: settle which ledger is right by hand before migrating; nothing was changed."
            )),
            (Ledger::GolangMigrate, MigrationWorld::GooseOnly | MigrationWorld::Adopted) => {
                Some(format!(
                    "This database's migrations are recorded by goose (goose_db_version), but {origin} holds golang-migrate files: point HOLOMUSH_MIGRATIONS_DIR at HoloMUSH's goose migrations; nothing was changed."
                ))
            }
            _ => None,
        }
    }
}

/// Refuses, in one sentence, a database whose ledger is the other tool's than `ledger`.
pub async fn refuse_other(
    conn: &mut PgConnection,
    ledger: Ledger,
    origin: &Origin,
) -> Result<(), MigrateError> {
    match detect(conn).await?.refusal(ledger, &origin.to_string()) {
        Some(refusal) => Err(MigrateError::Refused(refusal)),
        None => Ok(()),
    }
}

/// The current schema, where both tools' unqualified ledger names resolve, and `table`
/// quoted in it.
pub async fn in_current_schema(
    conn: &mut PgConnection,
    table: &str,
) -> Result<(String, String), MigrateError> {
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut *conn)
        .await
        .map_err(MigrateError::db)?;
    let schema = schema.ok_or_else(|| MigrateError::Refused(
        "No schema is current (search_path is empty): set search_path for this user, e.g. ALTER ROLE … SET search_path = public.".to_string(),
    ))?;
    let qualified = format!(
        "{}.{}",
        crate::db::quote_ident(&schema),
        crate::db::quote_ident(table)
    );
    Ok((schema, qualified))
}
