//! golang-migrate v4.19.1 with its pgx/v5 driver, the tool HoloMUSH migrated with before goose:
//! its file names ([`source`]), `schema_migrations` ([`state`]), its two advisory locks
//! ([`lock`]) and migrate.go's rules with the driver's texts ([`engine`]).

pub mod engine;
pub mod lock;
pub mod source;
pub mod state;

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::driver::{Applied, Format, Recorded, Store};
use super::engine::Migrator;
use super::report::{Log, Op, RunReport};
use super::source::Migration;
use super::MigrateError;
use crate::db::quote_ident;
use crate::model::Ledger;
use engine::Engine;
use state::Table;

/// golang-migrate, as a [`Format`] and a [`Store`].
pub struct GolangMigrate;

impl Format for GolangMigrate {
    fn ledger(&self) -> Ledger {
        Ledger::GolangMigrate
    }

    fn names(&self, file: &str) -> bool {
        source::parse_file_name(file).is_some()
    }

    fn unmistakable(&self, file: &str, _body: &[u8]) -> bool {
        self.names(file)
    }

    fn collect(
        &self,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<BTreeMap<u64, Migration>, MigrateError> {
        source::collect(files)
    }
}

#[async_trait]
impl Store for GolangMigrate {
    fn ledger(&self) -> Ledger {
        Ledger::GolangMigrate
    }

    fn tables(&self) -> Vec<String> {
        vec![state::TABLE.to_string()]
    }

    async fn lock(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        log: &Log,
        _cancel: &CancellationToken,
    ) -> Result<(), MigrateError> {
        let table = Table::current(conn).await?;
        let ids = Engine { m }.lock_ids(conn, &table).await?;
        lock::acquire(conn, &ids, m.lock_timeout, log).await
    }

    async fn unlock(&self, m: &Migrator, conn: &mut PgConnection) {
        let ids = match Table::current(conn).await {
            Ok(table) => Engine { m }.lock_ids(conn, &table).await,
            Err(e) => Err(e),
        };
        match ids {
            Ok(ids) => lock::release(conn, &ids).await,
            // The session's end releases them all the same.
            Err(e) => tracing::warn!("could not name golang-migrate's lock ids to release: {e}"),
        }
    }

    async fn run(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        op: Op,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<RunReport, MigrateError> {
        Engine { m }.run(conn, op, log, cancel).await
    }

    async fn recorded(&self, conn: &mut PgConnection) -> Result<Recorded, MigrateError> {
        let (version, dirty) = Table::current(conn).await?.version(conn).await?;
        Ok(Recorded {
            version,
            dirty,
            applied: Applied::Through,
        })
    }

    async fn pending_up(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
    ) -> Result<Vec<Migration>, MigrateError> {
        Engine { m }.pending_up(conn).await
    }

    async fn apply_up(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        migration: &Migration,
    ) -> Result<(), MigrateError> {
        Engine { m }.apply_up(conn, migration).await.map(|_| ())
    }

    /// golang-migrate sends a file as one statement string: PostgreSQL runs it as one
    /// implicit transaction, which an explicit one wraps the same way.
    fn transactional(&self, _migration: &Migration) -> Result<bool, MigrateError> {
        Ok(true)
    }

    async fn seed(
        &self,
        conn: &mut PgConnection,
        create: bool,
        versions: &[u64],
    ) -> Result<Vec<(String, String)>, MigrateError> {
        let table = Table::current(conn).await?;
        let qualified = format!(
            "{}.{}",
            quote_ident(&table.schema),
            quote_ident(state::TABLE)
        );
        let mut out = Vec::new();
        if create {
            out.push((
                format!("CREATE TABLE IF NOT EXISTS {qualified} (version bigint not null primary key, dirty boolean not null)"),
                "Created schema_migrations".to_string(),
            ));
        }
        // One version pointer: the highest of them, clean.
        if let Some(last) = versions.iter().max() {
            out.push((
                format!("TRUNCATE {qualified}; INSERT INTO {qualified} (version, dirty) VALUES ({last}, false)"),
                format!("Recorded version {last} in schema_migrations"),
            ));
        }
        Ok(out)
    }
}
