//! The steps run on the open session (server version, privileges, pg_trgm, migrations),
//! and the pg_trgm fix the page offers.

use std::time::Instant;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::tools::client_tools;
use super::{fail, pass, warn, Outcome, Recorder, CREATE_PG_TRGM};
use crate::config::DatabaseUrl;
use crate::db::describe_error;
use crate::diagnose::DiagnoseError;
use crate::model::{StepId, MIN_SERVER_MAJOR};

/// server_version, privileges, pg_trgm, migrations, client_tools: none stops the others.
pub(super) async fn database_steps(rec: &mut Recorder, url: &DatabaseUrl, mut conn: PgConnection) {
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
