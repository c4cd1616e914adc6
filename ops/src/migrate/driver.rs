//! The two seams every migration tool implements, as golang-migrate splits `source.Driver`
//! from `database.Driver` and goose its file collector from its `database.Store` and
//! `SessionLocker`: a [`Format`] reads the tool's files, a [`Store`] keeps the tool's ledger
//! under the tool's lock. The engine ([`super::tools`]), status, adopt and rehearsal hold them
//! as trait objects and know neither tool concretely; each tool lives in its own module
//! ([`super::golang`], [`super::goose`]), and neither imports the other.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::engine::Migrator;
use super::report::{Log, Op, RunReport};
use super::source::Migration;
use super::MigrateError;
use crate::model::Ledger;

/// A tool's migration files.
pub trait Format: Send + Sync {
    fn ledger(&self) -> Ledger;

    /// Whether the tool reads `file` as one of its migrations; it skips every other file.
    fn names(&self, file: &str) -> bool;

    /// Whether `file` can only be this tool's, so a folder holding it beside the other tool's
    /// migrations mixes the two.
    fn unmistakable(&self, file: &str, body: &[u8]) -> bool;

    /// The versions of the files it names (given in name order), by the tool's own rules and
    /// in its words (a duplicate version, a version out of range).
    fn collect(
        &self,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<BTreeMap<u64, Migration>, MigrateError>;
}

/// What a ledger records, read without writing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The version the tool reports ([`super::report::NIL`] when none).
    pub version: i64,
    pub dirty: bool,
    pub applied: Applied,
}

/// Which versions a ledger holds as applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// One version pointer: every version of the source through it (golang-migrate).
    Through,
    /// Each applied version listed, with when the ledger stamped it (goose).
    Each(BTreeMap<i64, Option<DateTime<Utc>>>),
}

/// A tool's ledger with its lock, on one connection.
#[async_trait]
pub trait Store: Send + Sync {
    fn ledger(&self) -> Ledger;

    /// The tables every step writes: their locks are the tool's, not the file's.
    fn tables(&self) -> Vec<String>;

    /// Takes the tool's lock on `conn`, waiting as the tool waits; nothing is held on error.
    async fn lock(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<(), MigrateError>;

    async fn unlock(&self, m: &Migrator, conn: &mut PgConnection);

    /// Runs `op` on `conn` by the tool's rules, taking its lock as the tool takes it.
    async fn run(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        op: Op,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<RunReport, MigrateError>;

    /// What the ledger records; an absent ledger records nothing.
    async fn recorded(&self, conn: &mut PgConnection) -> Result<Recorded, MigrateError>;

    /// The files `up` would run on `conn`'s database, in order, refused as `up` refuses.
    async fn pending_up(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
    ) -> Result<Vec<Migration>, MigrateError>;

    /// One up file and its ledger write as a run applies them, without the lock, the history
    /// or a transaction of its own (a rehearsal holds one around it when [`Self::transactional`]).
    async fn apply_up(
        &self,
        m: &Migrator,
        conn: &mut PgConnection,
        migration: &Migration,
    ) -> Result<(), MigrateError>;

    /// Whether the file may run inside a transaction someone else opened.
    fn transactional(&self, migration: &Migration) -> Result<bool, MigrateError>;

    /// The statements that create the ledger when `create`, and record `versions` (ascending)
    /// as applied, each with its sentence, the versions' statement last: the adopt's seed,
    /// sent in the adopt's transaction.
    async fn seed(
        &self,
        conn: &mut PgConnection,
        create: bool,
        versions: &[u64],
    ) -> Result<Vec<(String, String)>, MigrateError>;
}
