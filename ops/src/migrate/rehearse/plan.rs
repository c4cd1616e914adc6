//! The seam between a rehearsal and a migration engine: which files `up` would run on a
//! database, and how one of them runs on a given connection. Today's engine is
//! golang-migrate's; goose (and goose's `adopt` before its `up`) plug in here with their own
//! [`Plan`], and the rehearsal around them (copy, locks, schema difference, clean-up) stays.

use std::future::Future;

use sqlx::PgConnection;

use crate::migrate::{MigrateError, Migrator};

/// One file a rehearsal runs.
#[derive(Clone, Debug)]
pub struct Step {
    pub version: u64,
    pub name: String,
    /// The file's name, as a failure names it.
    pub file: String,
    /// The SQL, to show the failing line.
    pub body: String,
    /// Whether the file may run inside a transaction the rehearsal opens, so its locks can be
    /// read before it commits (goose's `-- +goose NO TRANSACTION` files may not).
    pub transactional: bool,
}

/// What the rehearsal asks of an engine, on the scratch copy's connection only.
pub trait Plan: Send + Sync {
    /// The engine's bookkeeping tables (its ledger), which every step writes: their locks
    /// are the engine's, not the file's, and are left out of the report.
    fn ledger(&self) -> Vec<String>;

    /// Work before the first file (goose's `adopt` of the golang-migrate ledger goes here);
    /// returns a sentence per thing done, for the job's log.
    fn prepare<'a>(
        &'a self,
        conn: &'a mut PgConnection,
    ) -> impl Future<Output = Result<Vec<String>, MigrateError>> + Send + 'a;

    /// The files `up` would run on this database, in order.
    fn pending<'a>(
        &'a self,
        conn: &'a mut PgConnection,
    ) -> impl Future<Output = Result<Vec<Step>, MigrateError>> + Send + 'a;

    /// Runs one file and its ledger writes as the engine does. It must not end a transaction
    /// the rehearsal opened (the rehearsal commits after reading the locks).
    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        step: &'a Step,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send + 'a;
}

/// golang-migrate's `up`, through the console's own engine ([`Migrator::pending_up`] and
/// [`Migrator::apply_up`]).
pub struct GolangMigrate {
    pub migrator: Migrator,
}

impl Plan for GolangMigrate {
    fn ledger(&self) -> Vec<String> {
        vec![crate::migrate::state::TABLE.to_string()]
    }

    async fn prepare(&self, _conn: &mut PgConnection) -> Result<Vec<String>, MigrateError> {
        Ok(Vec::new())
    }

    async fn pending(&self, conn: &mut PgConnection) -> Result<Vec<Step>, MigrateError> {
        let files = self.migrator.pending_up(conn).await?;
        Ok(files
            .into_iter()
            .map(|m| Step {
                version: m.version,
                file: m.up.as_ref().map_or_else(
                    || format!("{}_{} (no .up.sql file)", m.version, m.name),
                    |f| f.file_name.clone(),
                ),
                body: m.up.map(|f| f.body).unwrap_or_default(),
                name: m.name,
                // golang-migrate sends a file as one statement string: PostgreSQL runs it as
                // one implicit transaction, which an explicit one wraps the same way.
                transactional: true,
            })
            .collect())
    }

    async fn apply(&self, conn: &mut PgConnection, step: &Step) -> Result<(), MigrateError> {
        let m = self
            .migrator
            .source
            .get(step.version)
            .ok_or(MigrateError::NoMigration(step.version as i64))?;
        self.migrator.apply_up(conn, m).await.map(|_| ())
    }
}
