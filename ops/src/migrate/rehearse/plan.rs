//! The seam between a rehearsal and a migration engine: which files `up` would run on a
//! database, and how one of them runs on a given connection: golang-migrate's `up`, goose's
//! `up`, and goose's `adopt` then `up` ([`Chosen`] picks one), each behind one [`Plan`]; the
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

/// goose's `up` of a goose source, through the console's goose engine: a file marked
/// `-- +goose NO TRANSACTION` runs outside the rehearsal's transaction, as goose runs it.
pub struct Goose {
    pub migrator: Migrator,
}

impl Plan for Goose {
    fn ledger(&self) -> Vec<String> {
        vec![crate::migrate::goose::ledger::TABLE.to_string()]
    }

    async fn prepare(&self, _conn: &mut PgConnection) -> Result<Vec<String>, MigrateError> {
        Ok(Vec::new())
    }

    async fn pending(&self, conn: &mut PgConnection) -> Result<Vec<Step>, MigrateError> {
        use crate::migrate::goose::{engine, parser};
        let files = engine::pending_up(&self.migrator, conn).await?;
        let mut steps = Vec::new();
        for m in files {
            let file = m.up.as_ref();
            // goose parses every file it is about to run before running any.
            let transactional = match (m.kind, file) {
                (crate::model::MigrationKind::Sql, Some(f)) => {
                    parser::parse_all(&f.body)
                        .map_err(|e| MigrateError::Source(format!("{}: {e}", f.file_name)))?
                        .use_tx
                }
                _ => true,
            };
            steps.push(Step {
                version: m.version,
                name: m.name.clone(),
                file: m.file_name().unwrap_or_default().to_string(),
                body: file.map(|f| f.body.clone()).unwrap_or_default(),
                transactional,
            });
        }
        Ok(steps)
    }

    async fn apply(&self, conn: &mut PgConnection, step: &Step) -> Result<(), MigrateError> {
        let m = self
            .migrator
            .source
            .get(step.version)
            .ok_or(MigrateError::NoMigration(step.version as i64))?;
        let ledger = crate::migrate::goose::ledger::Ledger::current(conn).await?;
        crate::migrate::goose::engine::apply_up_bare(conn, &ledger, m).await
    }
}

/// A database still on golang-migrate, rehearsed with a goose source: the adopt
/// transaction first (as HoloMUSH's first goose boot runs it), then goose's `up`.
pub struct AdoptThenUp {
    pub goose: Goose,
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
    GolangMigrate(GolangMigrate),
    Goose(Goose),
    AdoptThenUp(AdoptThenUp),
}

impl Chosen {
    /// golang-migrate files → their `up`; goose files → goose's `up`, after the adopt when
    /// the database is still golang-migrate's.
    pub fn pick(migrator: Migrator, world: crate::model::MigrationWorld) -> Self {
        use crate::model::{Ledger, MigrationWorld};
        match (migrator.source.ledger, world) {
            (Ledger::GolangMigrate, _) => Chosen::GolangMigrate(GolangMigrate { migrator }),
            (Ledger::Goose, MigrationWorld::GolangMigrateOnly | MigrationWorld::BothNotAdopted) => {
                Chosen::AdoptThenUp(AdoptThenUp {
                    goose: Goose { migrator },
                })
            }
            (Ledger::Goose, _) => Chosen::Goose(Goose { migrator }),
        }
    }

    pub fn migrator(&self) -> &Migrator {
        match self {
            Chosen::GolangMigrate(p) => &p.migrator,
            Chosen::Goose(p) => &p.migrator,
            Chosen::AdoptThenUp(p) => &p.goose.migrator,
        }
    }

    /// What the job's log says it rehearses.
    pub fn what(&self) -> &'static str {
        match self {
            Chosen::AdoptThenUp(_) => "the adopt (golang-migrate → goose) then up",
            _ => "up",
        }
    }
}

impl Plan for Chosen {
    fn ledger(&self) -> Vec<String> {
        match self {
            Chosen::GolangMigrate(p) => p.ledger(),
            Chosen::Goose(p) => p.ledger(),
            Chosen::AdoptThenUp(p) => p.ledger(),
        }
    }

    async fn prepare(&self, conn: &mut PgConnection) -> Result<Vec<String>, MigrateError> {
        match self {
            Chosen::GolangMigrate(p) => p.prepare(conn).await,
            Chosen::Goose(p) => p.prepare(conn).await,
            Chosen::AdoptThenUp(p) => p.prepare(conn).await,
        }
    }

    async fn pending(&self, conn: &mut PgConnection) -> Result<Vec<Step>, MigrateError> {
        match self {
            Chosen::GolangMigrate(p) => p.pending(conn).await,
            Chosen::Goose(p) => p.pending(conn).await,
            Chosen::AdoptThenUp(p) => p.pending(conn).await,
        }
    }

    async fn apply(&self, conn: &mut PgConnection, step: &Step) -> Result<(), MigrateError> {
        match self {
            Chosen::GolangMigrate(p) => p.apply(conn, step).await,
            Chosen::Goose(p) => p.apply(conn, step).await,
            Chosen::AdoptThenUp(p) => p.apply(conn, step).await,
        }
    }
}
