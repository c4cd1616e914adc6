//! Whether an object's effect is visible in the catalog, looked up the way the
//! server resolves names (search_path, case folding).

use sqlx::postgres::PgConnection;

use super::sql::{fold, Object};

/// True when `object`'s effect is visible: a created object exists, a dropped one is gone.
pub async fn effect_visible(conn: &mut PgConnection, object: &Object) -> Result<bool, sqlx::Error> {
    Ok(match object {
        Object::Relation { name, .. } => relation_exists(conn, name).await?,
        Object::DropRelation { name, .. } => !relation_exists(conn, name).await?,
        Object::Column { table, column } => column_exists(conn, table, column).await?,
        Object::DropColumn { table, column } => !column_exists(conn, table, column).await?,
        Object::Constraint { table, name } => constraint_exists(conn, table, name).await?,
        Object::DropConstraint { table, name } => !constraint_exists(conn, table, name).await?,
        Object::Extension(name) => {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)")
                .bind(last_part(name))
                .fetch_one(&mut *conn)
                .await?
        }
        Object::Type(name) => {
            // to_regtype raises on some malformed input, so a bad name reads as absent.
            sqlx::query_scalar::<_, bool>("SELECT to_regtype($1) IS NOT NULL")
                .bind(name)
                .fetch_one(&mut *conn)
                .await
                .or_else(bad_name_is_absent)?
        }
        Object::Function(name) => {
            let parts = fold(name);
            let (schema, func) = match parts.as_slice() {
                [s, f] => (Some(s.clone()), f.clone()),
                _ => (None, last_part(name)),
            };
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE p.proname = $1 AND CASE WHEN $2::text IS NULL THEN pg_function_is_visible(p.oid)
                                                ELSE n.nspname = $2 END)",
            )
            .bind(func)
            .bind(schema)
            .fetch_one(&mut *conn)
            .await?
        }
    })
}

fn last_part(name: &str) -> String {
    fold(name).pop().unwrap_or_default()
}

async fn relation_exists(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .or_else(bad_name_is_absent)
}

async fn column_exists(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute
          WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped)",
    )
    .bind(table)
    .bind(last_part(column))
    .fetch_one(&mut *conn)
    .await
    .or_else(bad_name_is_absent)
}

async fn constraint_exists(
    conn: &mut PgConnection,
    table: &str,
    name: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2)",
    )
    .bind(table)
    .bind(last_part(name))
    .fetch_one(&mut *conn)
    .await
    .or_else(bad_name_is_absent)
}

/// to_regclass and to_regtype raise on names they cannot parse (say, a name our
/// scanner misread); such an object cannot exist, while a lost connection must still fail.
fn bad_name_is_absent(e: sqlx::Error) -> Result<bool, sqlx::Error> {
    match e {
        sqlx::Error::Database(_) => Ok(false),
        other => Err(other),
    }
}
