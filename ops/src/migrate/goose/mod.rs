//! goose v3.27.3's contract (pressly/goose, Provider API, postgres dialect): one file per version
//! with `-- +goose Up` / `Down` sections, the `goose_db_version` ledger, its session advisory
//! lock, one transaction per file unless `-- +goose NO TRANSACTION`, and its error texts.
//! Go migrations (`NNN_name.go`) are listed but only the holomush binary runs them.

pub mod engine;
pub mod interpolate;
pub mod ledger;
pub mod lock;
pub mod parser;
pub mod source;

pub use super::go_note;

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::driver::{Applied, Format, Recorded, Store};
use super::engine::Migrator;
use super::report::{Log, Op, RunReport, NIL};
use super::source::{Migration, MigrationKind};
use super::MigrateError;
use crate::model::Ledger as LedgerKind;
use ledger::Ledger;

/// goose, as a [`Format`] and a [`Store`].
pub struct Goose;

impl Format for Goose {
    fn ledger(&self) -> LedgerKind {
        LedgerKind::Goose
    }

    fn names(&self, file: &str) -> bool {
        source::parse_file_name(file).is_some()
    }

    /// A `.go` migration, or a goose-named `.sql` holding an annotation line as goose's parser
    /// finds them (a `--` comment containing `+goose`).
    fn unmistakable(&self, file: &str, body: &[u8]) -> bool {
        match source::parse_file_name(file) {
            Some((_, _, MigrationKind::Go)) => true,
            Some((_, _, MigrationKind::Sql)) => String::from_utf8_lossy(body)
                .lines()
                .any(|l| l.trim_start().starts_with("--") && l.contains("+goose")),
            None => false,
        }
    }

    fn collect(
        &self,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<BTreeMap<u64, Migration>, MigrateError> {
        source::collect(files)
    }
}

#[async_trait]
impl Store for Goose {
    fn ledger(&self) -> LedgerKind {
        LedgerKind::Goose
    }

    fn tables(&self) -> Vec<String> {
        vec![ledger::TABLE.to_string()]
    }

    async fn lock(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<(), MigrateError> {
        lock::acquire(conn, m.goose_lock, log, cancel).await
    }

    async fn unlock(&self, _m: &Migrator, conn: &mut PgConnection) {
        lock::release(conn).await;
    }

    async fn run(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        op: Op,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<RunReport, MigrateError> {
        engine::run(m, conn, op, log, cancel).await
    }

    /// Read only: status never creates the table goose's own `Status` would.
    async fn recorded(&self, conn: &mut PgConnection) -> Result<Recorded, MigrateError> {
        let ledger = Ledger::current(conn).await?;
        let rows = ledger.list_existing(conn).await?.unwrap_or_default();
        let stamps: BTreeMap<i64, _> = ledger.applied_at(conn).await?.into_iter().collect();
        let max = ledger::max_version(&rows);
        Ok(Recorded {
            version: if max > 0 { max } else { NIL },
            dirty: false,
            applied: Applied::Each(
                ledger::applied(&rows)
                    .into_iter()
                    .map(|v| (v, stamps.get(&v).copied()))
                    .collect(),
            ),
        })
    }

    async fn pending_up(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
    ) -> Result<Vec<Migration>, MigrateError> {
        Ok(engine::pending_up(m, conn)
            .await?
            .into_iter()
            .cloned()
            .collect())
    }

    async fn apply_up(
        &self,
        _m: &Migrator,
        conn: &mut PgConnection,
        migration: &Migration,
    ) -> Result<(), MigrateError> {
        let ledger = Ledger::current(conn).await?;
        engine::apply_up_bare(conn, &ledger, migration).await
    }

    /// A file marked `-- +goose NO TRANSACTION` runs outside any transaction, as goose runs it.
    fn transactional(&self, migration: &Migration) -> Result<bool, MigrateError> {
        Ok(engine::prepare(migration)?.is_none_or(|p| p.use_tx))
    }

    async fn seed(
        &self,
        conn: &mut PgConnection,
        create: bool,
        versions: &[u64],
    ) -> Result<Vec<(String, String)>, MigrateError> {
        let goose = Ledger::current(conn).await?;
        let mut out = Vec::new();
        if create {
            out.push((
                ledger::create_table_sql(&goose.qualified),
                "Created goose_db_version".to_string(),
            ));
        }
        out.push((
            format!(
                "INSERT INTO {q} (version_id, is_applied) SELECT 0, true WHERE NOT EXISTS (SELECT 1 FROM {q} WHERE version_id = 0)",
                q = goose.qualified
            ),
            "Inserted goose_db_version's version-0 row (when absent)".to_string(),
        ));
        if !versions.is_empty() {
            let values: Vec<String> = versions.iter().map(|v| format!("({v}, true)")).collect();
            out.push((
                format!(
                    "INSERT INTO {} (version_id, is_applied) VALUES {}",
                    goose.qualified,
                    values.join(", ")
                ),
                format!("Recorded {} versions in goose_db_version", versions.len()),
            ));
        }
        Ok(out)
    }
}
