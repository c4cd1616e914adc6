//! `schema_migrations`, read and written exactly as golang-migrate's postgres drivers do.

use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::super::MigrateError;

pub const TABLE: &str = "schema_migrations";
/// golang-migrate's NilVersion.
pub use super::super::report::NIL;

pub struct Table {
    pub schema: String,
    qualified: String,
}

impl Table {
    pub async fn current(conn: &mut PgConnection) -> Result<Self, MigrateError> {
        let (schema, qualified) = super::super::world::in_current_schema(conn, TABLE).await?;
        Ok(Self { schema, qualified })
    }

    /// Creates the table only when `information_schema` does not show it, so a user
    /// without CREATE can still read the version.
    pub async fn ensure(&self, conn: &mut PgConnection) -> Result<(), MigrateError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(1) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2 LIMIT 1",
        )
        .bind(&self.schema)
        .bind(TABLE)
        .fetch_one(&mut *conn)
        .await
        .map_err(MigrateError::db)?;
        if count == 1 {
            return Ok(());
        }
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} (version bigint not null primary key, dirty boolean not null)",
            self.qualified
        );
        sqlx::Executor::execute(&mut *conn, create.as_str())
            .await
            .map_err(MigrateError::db)?;
        Ok(())
    }

    /// (version, dirty); (-1, false) when the table is empty or missing.
    pub async fn version(&self, conn: &mut PgConnection) -> Result<(i64, bool), MigrateError> {
        let res = sqlx::query(&format!(
            "SELECT version, dirty FROM {} LIMIT 1",
            self.qualified
        ))
        .fetch_optional(&mut *conn)
        .await;
        match res {
            Ok(Some(row)) => Ok((
                row.try_get("version").map_err(MigrateError::db)?,
                row.try_get("dirty").map_err(MigrateError::db)?,
            )),
            Ok(None) => Ok((NIL, false)),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {
                Ok((NIL, false))
            }
            Err(e) => Err(MigrateError::db(e)),
        }
    }

    /// TRUNCATE then INSERT in one transaction; nil and clean leaves the table empty.
    pub async fn set_version(
        &self,
        conn: &mut PgConnection,
        version: i64,
        dirty: bool,
    ) -> Result<(), MigrateError> {
        self.set_version_with(conn, version, dirty, "").await
    }

    /// The version write plus `extra` statements, sent as one simple-protocol string so
    /// PostgreSQL runs them as one implicit transaction in one round trip.
    pub async fn set_version_with(
        &self,
        conn: &mut PgConnection,
        version: i64,
        dirty: bool,
        extra: &str,
    ) -> Result<(), MigrateError> {
        let mut sql = format!("TRUNCATE {};", self.qualified);
        if version >= 0 || (version == NIL && dirty) {
            sql.push_str(&format!(
                "INSERT INTO {} (version, dirty) VALUES ({version}, {dirty});",
                self.qualified
            ));
        }
        sql.push_str(extra);
        sqlx::Executor::execute(&mut *conn, sql.as_str())
            .await
            .map_err(MigrateError::db)?;
        Ok(())
    }
}
