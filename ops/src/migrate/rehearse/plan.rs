//! The seam between a rehearsal and a migration engine: which files `up` would run on a
//! database, and how one of them runs on a given connection: the tool's `up` through its store,
//! or goose's `adopt` then `up` ([`Chosen`] picks one), each behind one [`Plan`]; the
//! rehearsal around them (copy, locks, schema difference, clean-up) is the same.

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

/// The tool's `up`, through its [`crate::migrate::driver::Store`]: the files it would run, each
/// applied as a run applies it; a file the tool runs outside a transaction (goose's
/// `-- +goose NO TRANSACTION`) runs outside the rehearsal's.
pub struct Up {
    pub migrator: Migrator,
}

impl Plan for Up {
    fn ledger(&self) -> Vec<String> {
        self.migrator.store().tables()
    }

    async fn prepare(&self, _conn: &mut PgConnection) -> Result<Vec<String>, MigrateError> {
        Ok(Vec::new())
    }

    async fn pending(&self, conn: &mut PgConnection) -> Result<Vec<Step>, MigrateError> {
        let m = &self.migrator;
        crate::migrate::world::refuse_other(conn, m.source.ledger, &m.source.origin).await?;
        let store = m.store();
        let files = store.pending_up(m, conn).await?;
        let mut steps = Vec::new();
        for file in files {
            // Each tool reads every file it is about to run before running any.
            let transactional = store.transactional(&file)?;
            steps.push(Step {
                version: file.version,
                file: file.up.as_ref().map_or_else(
                    || format!("{}_{} (no .up.sql file)", file.version, file.name),
                    |f| f.file_name.clone(),
                ),
                body: file.up.as_ref().map(|f| f.body.clone()).unwrap_or_default(),
                name: file.name,
                transactional,
            });
        }
        Ok(steps)
    }

    async fn apply(&self, conn: &mut PgConnection, step: &Step) -> Result<(), MigrateError> {
        let m = &self.migrator;
        let file = m
            .source
            .get(step.version)
            .ok_or(MigrateError::NoMigration(step.version as i64))?;
        m.store().apply_up(m, conn, file).await
    }
}

/// A database still on golang-migrate, rehearsed with a goose source: the adopt
/// transaction first (as HoloMUSH's first goose boot runs it), then goose's `up`.
pub struct AdoptThenUp {
    pub goose: Up,
}

impl Plan for AdoptThenUp {
    fn ledger(&self) -> Vec<String> {
        self.goose.ledger()
    }

    async fn prepare(&self, conn: &mut PgConnection) -> Result<Vec<String>, MigrateError> {
        let (preview, done) =
            crate::migrate::adopt::perform(conn, &self.goose.migrator.source).await?;
        if let Some(refusal) = preview.refusal {
            return Err(MigrateError::Refused(format!(
                "The adopt refused on the copy, as HoloMUSH would on the database: {refusal}"
            )));
        }
        let mut said = vec![format!("Adopt: {}", preview.sentence)];
        said.extend(done.into_iter().map(|d| format!("Adopt: {d}")));
        Ok(said)
    }

    async fn pending(&self, conn: &mut PgConnection) -> Result<Vec<Step>, MigrateError> {
        self.goose.pending(conn).await
    }

    async fn apply(&self, conn: &mut PgConnection, step: &Step) -> Result<(), MigrateError> {
        self.goose.apply(conn, step).await
    }
}

/// The plan [`crate::Console::start_rehearsal`] picks for a source and a database.
pub enum Chosen {
    Up(Up),
    AdoptThenUp(AdoptThenUp),
}

impl Chosen {
    /// The source's tool's `up`; goose files on a database still golang-migrate's, the adopt
    /// first.
    pub fn pick(migrator: Migrator, world: crate::model::MigrationWorld) -> Self {
        use crate::model::{Ledger, MigrationWorld};
        match (migrator.source.ledger, world) {
            (Ledger::Goose, MigrationWorld::GolangMigrateOnly | MigrationWorld::BothNotAdopted) => {
                Chosen::AdoptThenUp(AdoptThenUp {
                    goose: Up { migrator },
                })
            }
            _ => Chosen::Up(Up { migrator }),
        }
    }

    pub fn migrator(&self) -> &Migrator {
        match self {
            Chosen::Up(p) => &p.migrator,
            Chosen::AdoptThenUp(p) => &p.goose.migrator,
        }
    }

    /// What the job's log says it rehearses.
    pub fn what(&self) -> &'static str {
        match self {
            Chosen::AdoptThenUp(_) => "the adopt (golang-migrate → goose) then up",
            Chosen::Up(_) => "up",
        }
    }
}

impl Plan for Chosen {
    fn ledger(&self) -> Vec<String> {
        match self {
            Chosen::Up(p) => p.ledger(),
            Chosen::AdoptThenUp(p) => p.ledger(),
        }
    }

    async fn prepare(&self, conn: &mut PgConnection) -> Result<Vec<String>, MigrateError> {
        match self {
            Chosen::Up(p) => p.prepare(conn).await,
            Chosen::AdoptThenUp(p) => p.prepare(conn).await,
        }
    }

    async fn pending(&self, conn: &mut PgConnection) -> Result<Vec<Step>, MigrateError> {
        match self {
            Chosen::Up(p) => p.pending(conn).await,
            Chosen::AdoptThenUp(p) => p.pending(conn).await,
        }
    }

    async fn apply(&self, conn: &mut PgConnection, step: &Step) -> Result<(), MigrateError> {
        match self {
            Chosen::Up(p) => p.apply(conn, step).await,
            Chosen::AdoptThenUp(p) => p.apply(conn, step).await,
        }
    }
}
