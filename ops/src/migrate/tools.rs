//! The one place that knows both tools: which tool a source's files belong to, and which
//! [`Store`] runs a migrator's operations. Neither tool imports this module or the other.

use std::path::Path;

use include_dir::{include_dir, Dir};
use tokio_util::sync::CancellationToken;

use super::driver::{Format, Store};
use super::engine::Migrator;
use super::golang::GolangMigrate;
use super::goose::Goose;
use super::report::{Log, Op, RunReport};
use super::source::{Origin, Source};
use super::{world, MigrateError};
use crate::model::Ledger;

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations");

/// The tool of a ledger, as the [`Store`] that keeps it.
pub fn store(ledger: Ledger) -> &'static dyn Store {
    match ledger {
        Ledger::GolangMigrate => &GolangMigrate,
        Ledger::Goose => &Goose,
    }
}

/// The tool of a ledger, as the [`Format`] that reads its files.
pub fn format(ledger: Ledger) -> &'static dyn Format {
    match ledger {
        Ledger::GolangMigrate => &GolangMigrate,
        Ledger::Goose => &Goose,
    }
}

/// A name either tool may read; the others are never read from disk.
fn is_candidate(name: &str) -> bool {
    [Ledger::GolangMigrate, Ledger::Goose]
        .iter()
        .any(|l| format(*l).names(name))
}

/// Whose files these are: golang-migrate's unless they hold goose names and no golang-migrate
/// name, or refused when golang-migrate names sit beside a file that can only be goose's.
fn decide(origin: &Origin, files: &[(String, Vec<u8>)]) -> Result<Ledger, MigrateError> {
    let (golang, goose) = (format(Ledger::GolangMigrate), format(Ledger::Goose));
    let golang_file = files.iter().find(|(n, _)| golang.names(n));
    let goose_file = files
        .iter()
        .find(|(n, b)| !golang.names(n) && goose.unmistakable(n, b));
    match (golang_file, goose_file) {
        (Some((g, _)), Some((o, _))) => Err(MigrateError::Source(format!(
            "{origin} mixes golang-migrate files ({g}) and goose files ({o}): keep one tool's migrations per folder and point HOLOMUSH_MIGRATIONS_DIR at it."
        ))),
        (None, _) if files.iter().any(|(n, _)| goose.names(n)) => Ok(Ledger::Goose),
        _ => Ok(Ledger::GolangMigrate),
    }
}

impl Source {
    pub fn embedded() -> Result<Self, MigrateError> {
        let files = EMBEDDED
            .files()
            .map(|f| (f.path().display().to_string(), f.contents().to_vec()));
        Self::from_files(Origin::Embedded, files)
    }

    pub fn folder(dir: &Path) -> Result<Self, MigrateError> {
        let read_err = |e: std::io::Error| {
            MigrateError::Source(format!(
                "The migrations folder {} could not be read ({e}): check HOLOMUSH_MIGRATIONS_DIR.",
                dir.display()
            ))
        };
        let mut files = Vec::new();
        let mut others = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            // iofs skips folders (`e.IsDir()`); they are not listed as ignored files either.
            if !entry.file_type().map_err(read_err)?.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            if is_candidate(&name) {
                files.push((name, std::fs::read(entry.path()).map_err(read_err)?));
            } else {
                others.push(name);
            }
        }
        Self::build(Origin::Folder(dir.to_path_buf()), files, others)
    }

    /// The configured source: `HOLOMUSH_MIGRATIONS_DIR` when set, else the embedded set.
    pub fn from_config(dir: Option<&Path>) -> Result<Self, MigrateError> {
        match dir {
            Some(d) => Self::folder(d),
            None => Self::embedded(),
        }
    }

    /// Recognises the tool from the files; files it skips are kept as ignored names.
    pub fn from_files(
        origin: Origin,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<Self, MigrateError> {
        let (files, others): (Vec<_>, Vec<_>) =
            files.into_iter().partition(|(n, _)| is_candidate(n));
        Self::build(origin, files, others.into_iter().map(|(n, _)| n).collect())
    }

    fn build(
        origin: Origin,
        mut files: Vec<(String, Vec<u8>)>,
        mut ignored: Vec<String>,
    ) -> Result<Self, MigrateError> {
        // Both tools read a folder in name order: the same order names the same duplicate.
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let ledger = decide(&origin, &files)?;
        let tool = format(ledger);
        let (mine, theirs): (Vec<_>, Vec<_>) = files.into_iter().partition(|(n, _)| tool.names(n));
        ignored.extend(theirs.into_iter().map(|(n, _)| n));
        Ok(Source::new(origin, ledger, tool.collect(mine)?, ignored))
    }
}

impl Migrator {
    /// The tool whose files the source holds, as the store that runs them.
    pub fn store(&self) -> &'static dyn Store {
        store(self.source.ledger)
    }

    /// Runs `op` on one pinned connection: the database's world is checked first (never the
    /// other tool's ledger), then the tool runs it by its own rules under its own lock.
    pub async fn run(
        &self,
        op: Op,
        log: &Log,
        cancel: &CancellationToken,
    ) -> Result<RunReport, MigrateError> {
        let mut conn = self.connect().await?;
        let result = async {
            world::refuse_other(&mut conn, self.source.ledger, &self.source.origin).await?;
            self.store().run(self, &mut conn, op, log, cancel).await
        }
        .await;
        sqlx::Connection::close(conn).await.ok();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(names: &[&str]) -> Result<Source, MigrateError> {
        Source::from_files(
            Origin::Embedded,
            names.iter().map(|n| (n.to_string(), b"SELECT 1".to_vec())),
        )
    }

    #[test]
    fn stray_files_beside_golang_migrate_files_are_ignored_not_refused() {
        let s = source(&[
            "1_a.up.sql",
            "1_a.down.sql",
            "seed.sql",
            "2_notes.sql",
            "README.md",
            "99999999999999999999_big.up.sql",
        ])
        .expect("a golang-migrate source");
        assert_eq!(s.ledger, Ledger::GolangMigrate);
        assert_eq!(s.versions(), [1]);
        assert_eq!(
            s.ignored(),
            [
                "2_notes.sql",
                "99999999999999999999_big.up.sql",
                "README.md",
                "seed.sql"
            ]
        );
    }

    #[test]
    fn a_goose_annotated_file_beside_golang_migrate_files_is_a_mix() {
        let e = Source::from_files(
            Origin::Embedded,
            [
                ("1_a.up.sql".to_string(), b"SELECT 1".to_vec()),
                ("2_b.sql".to_string(), b"-- +goose Up\nSELECT 1;\n".to_vec()),
            ],
        )
        .expect_err("mixed");
        assert_eq!(e.to_string(), "the migrations embedded in holomush-admin mixes golang-migrate files (1_a.up.sql) and goose files (2_b.sql): keep one tool's migrations per folder and point HOLOMUSH_MIGRATIONS_DIR at it.");
        let e = source(&["1_a.up.sql", "2_b.go"]).expect_err("a Go migration is goose's");
        assert!(e.to_string().contains("goose files (2_b.go)"), "{e}");
    }

    #[test]
    fn a_goose_folder_lists_its_own_strays() {
        let s = source(&["1_a.sql", "notes.txt", "helpers.go"]).expect("goose");
        assert_eq!(s.ledger, Ledger::Goose);
        assert_eq!(s.ignored(), ["helpers.go", "notes.txt"]);
    }

    #[test]
    fn no_migration_file_at_all_is_an_empty_golang_migrate_source() {
        let s = source(&["README.md"]).expect("empty");
        assert_eq!((s.ledger, s.len()), (Ledger::GolangMigrate, 0));
        assert_eq!(s.ignored(), ["README.md"]);
    }

    #[test]
    fn a_version_beyond_bigint_is_refused() {
        let e = source(&["9223372036854775808_a.up.sql"]).expect_err("too big");
        assert_eq!(e.to_string(), "9223372036854775808_a.up.sql: version 9223372036854775808 is above 9223372036854775807, the largest version schema_migrations (bigint) holds; renumber it.");
    }

    #[test]
    fn gaps_and_padding() {
        let s = source(&[
            "001_a.up.sql",
            "010_b.up.sql",
            "10_b.down.sql",
            "30_c.up.sql",
            "notes.txt",
        ])
        .expect("valid");
        assert_eq!(s.len(), 3);
        assert_eq!((s.first(), s.latest()), (Some(1), Some(30)));
        assert_eq!(s.next(1), Some(10));
        assert_eq!(s.next(10), Some(30));
        assert_eq!(s.next(30), None);
        assert_eq!(s.prev(30), Some(10));
        assert_eq!(s.prev(1), None);
        assert_eq!(
            s.next(15),
            Some(30),
            "a version between files still has neighbours"
        );
        assert!(s
            .get(10)
            .is_some_and(|m| m.up.is_some() && m.down.is_some()));
    }

    #[test]
    fn duplicates_are_refused() {
        let e = source(&["1_a.up.sql", "001_b.up.sql"]).expect_err("duplicate");
        assert_eq!(e.to_string(), "duplicate migration file: 1_a.up.sql");
    }

    #[test]
    fn the_embedded_set_is_reversible() {
        let s = Source::embedded().expect("embedded migrations parse");
        assert!(s.len() >= 7, "at least 7 migrations");
        for m in s.iter() {
            assert!(
                m.up.is_some() && m.down.is_some(),
                "{} has both directions",
                m.version
            );
        }
    }
}
