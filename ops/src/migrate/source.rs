//! Where migrations come from: the set embedded in the binary or a folder, in one tool's
//! format. golang-migrate's names: `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, base-10 u64 versions;
//! any other file is skipped as its `iofs` source skips it (and listed as ignored), duplicates
//! refused. goose's names (`NNN_name.sql`, `NNN_name.go`) are read by
//! [`super::goose::source`]. A folder is golang-migrate's when it holds golang-migrate names
//! and nothing that is plainly goose's (a `.go` migration, a `.sql` with `-- +goose`
//! annotations); a folder holding both tools' files is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};

use super::MigrateError;

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations");

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Embedded,
    Folder(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Embedded => f.write_str("the migrations embedded in holomush-admin"),
            Origin::Folder(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    pub file_name: String,
    pub body: String,
    pub sha256: String,
}

/// One version. golang-migrate: an up and a down file. goose: one file holding both
/// sections, given as `up` and `down` alike (its sha256 covers the whole file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    pub version: u64,
    pub name: String,
    pub up: Option<MigrationFile>,
    pub down: Option<MigrationFile>,
    pub kind: MigrationKind,
}

impl Migration {
    /// The file name shown for this version (goose: its one file).
    pub fn file_name(&self) -> Option<&str> {
        self.up
            .as_ref()
            .or(self.down.as_ref())
            .map(|f| f.file_name.as_str())
    }
}

pub use crate::model::{Direction, Ledger, MigrationKind};

#[derive(Clone, Debug)]
pub struct Source {
    pub origin: Origin,
    pub ledger: Ledger,
    migrations: BTreeMap<u64, Migration>,
    /// The folder's other files, skipped as the tool skips them, by name.
    ignored: Vec<String>,
}

/// golang-migrate's `os.ErrNotExist` answers, in the words its CLI prints after `error: `.
/// Its `file` source reads the folder as the `iofs` path `.`, hence the `.` in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotExist {
    /// `up N` at the last version, `down N` with no version: `readUp` and `readDown` send
    /// `os.ErrNotExist` itself.
    #[error("file does not exist")]
    NoMore,
    /// No migration file at all: `First()`'s `*fs.PathError`.
    #[error("first .: file does not exist")]
    First,
    /// A version the source has no file for (the database's, or `goto`'s target):
    /// `versionExists`, which wraps the error of `ReadDown`, its last try.
    #[error(
        "no migration found for version {0}: read down for version {0} .: file does not exist"
    )]
    Version(u64),
}

/// The largest version `schema_migrations.version` (bigint) holds.
const MAX_VERSION: u64 = i64::MAX as u64;

/// Splits a file name as golang-migrate's `source.Parse` does: (version, name, direction), or
/// `None` for a file it skips, a version beyond u64 included (`ParseUint` fails there).
pub fn parse_file_name(name: &str) -> Option<(u64, &str, Direction)> {
    let (digits, rest) = name.split_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Go's `.` stops at a newline and the pattern is anchored at both ends.
    if rest.contains('\n') {
        return None;
    }
    // The name group is greedy: the direction is the last `.up.` or `.down.`.
    let up = rest.rfind(".up.").map(|i| (i, Direction::Up));
    let down = rest.rfind(".down.").map(|i| (i, Direction::Down));
    let (at, direction) = match (up, down) {
        (Some(u), Some(d)) => {
            if u.0 > d.0 {
                u
            } else {
                d
            }
        }
        (Some(u), None) => u,
        (None, Some(d)) => d,
        (None, None) => return None,
    };
    let version = digits.parse::<u64>().ok()?;
    Some((version, &rest[..at], direction))
}

/// A file that is plainly goose's: a `.go` migration, or a goose-named `.sql` holding an
/// annotation line as goose's parser finds them (a `--` comment containing `+goose`).
fn is_goose_file(name: &str, body: &[u8]) -> bool {
    match super::goose::source::parse_file_name(name) {
        Some((_, _, MigrationKind::Go)) => true,
        Some((_, _, MigrationKind::Sql)) => String::from_utf8_lossy(body)
            .lines()
            .any(|l| l.trim_start().starts_with("--") && l.contains("+goose")),
        None => false,
    }
}

/// A name either tool may read; the others are never read from disk.
fn is_candidate(name: &str) -> bool {
    parse_file_name(name).is_some() || super::goose::source::parse_file_name(name).is_some()
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

    /// Recognises the format from the files (see the module's note); files of neither
    /// tool are kept as ignored names.
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
        others: Vec<String>,
    ) -> Result<Self, MigrateError> {
        // iofs reads a folder in name order: the same order names the same duplicate.
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let golang = files
            .iter()
            .find(|(n, _)| parse_file_name(n).is_some())
            .map(|(n, _)| n.clone());
        let goose = files
            .iter()
            .find(|(n, b)| parse_file_name(n).is_none() && is_goose_file(n, b))
            .map(|(n, _)| n.clone());
        let has_goose_names = files
            .iter()
            .any(|(n, _)| super::goose::source::parse_file_name(n).is_some());
        match (golang, goose) {
            (Some(g), Some(o)) => Err(MigrateError::Source(format!(
                "{origin} mixes golang-migrate files ({g}) and goose files ({o}): keep one tool's migrations per folder and point HOLOMUSH_MIGRATIONS_DIR at it."
            ))),
            (None, _) if has_goose_names => {
                let mut ignored = others;
                ignored.extend(
                    files
                        .iter()
                        .filter(|(n, _)| super::goose::source::parse_file_name(n).is_none())
                        .map(|(n, _)| n.clone()),
                );
                Ok(Self {
                    migrations: super::goose::source::collect(files)?,
                    origin,
                    ledger: Ledger::Goose,
                    ignored: sorted(ignored),
                })
            }
            _ => Self::golang_migrate(origin, files, others),
        }
    }

    fn golang_migrate(
        origin: Origin,
        files: Vec<(String, Vec<u8>)>,
        mut ignored: Vec<String>,
    ) -> Result<Self, MigrateError> {
        let mut migrations: BTreeMap<u64, Migration> = BTreeMap::new();
        for (name, bytes) in files {
            let Some((version, label, direction)) = parse_file_name(&name) else {
                ignored.push(name);
                continue;
            };
            // golang-migrate would take it and write a negative version (Go's int(uint)).
            if version > MAX_VERSION {
                return Err(MigrateError::Source(format!(
                    "{name}: version {version} is above {MAX_VERSION}, the largest version schema_migrations (bigint) holds; renumber it."
                )));
            }
            let body = String::from_utf8(bytes).map_err(|_| {
                MigrateError::Source(format!("migration file {name} is not UTF-8 text"))
            })?;
            let sha256 = hex::encode(Sha256::digest(body.as_bytes()));
            let file = MigrationFile {
                file_name: name.clone(),
                body,
                sha256,
            };
            let entry = migrations.entry(version).or_insert_with(|| Migration {
                version,
                name: label.to_string(),
                up: None,
                down: None,
                kind: MigrationKind::Sql,
            });
            let slot = match direction {
                Direction::Up => &mut entry.up,
                Direction::Down => &mut entry.down,
            };
            if slot.is_some() {
                return Err(MigrateError::Source(format!(
                    "duplicate migration file: {name}"
                )));
            }
            *slot = Some(file);
        }
        Ok(Self {
            origin,
            ledger: Ledger::GolangMigrate,
            migrations,
            ignored: sorted(ignored),
        })
    }

    /// The files in the source that are not its tool's migrations, skipped, in name order.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// Every version, ascending: what goose's `ListSources` gives (adopt compares it with
    /// `schema_migrations`).
    pub fn versions(&self) -> Vec<u64> {
        self.migrations.keys().copied().collect()
    }

    pub fn get(&self, version: u64) -> Option<&Migration> {
        self.migrations.get(&version)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.migrations.values()
    }

    pub fn first(&self) -> Option<u64> {
        self.migrations.keys().next().copied()
    }

    pub fn latest(&self) -> Option<u64> {
        self.migrations.keys().next_back().copied()
    }

    pub fn next(&self, version: u64) -> Option<u64> {
        self.migrations.range(version + 1..).next().map(|(v, _)| *v)
    }

    pub fn prev(&self, version: u64) -> Option<u64> {
        self.migrations
            .range(..version)
            .next_back()
            .map(|(v, _)| *v)
    }

    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
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

    /// golang-migrate v4.19.1 `source/parse_test.go` `TestParse`, row by row: the name, then
    /// (version, identifier, direction) or `None` for `ErrParse`.
    #[test]
    fn names_parse_as_golang_migrates_parse_test_table() {
        type Row = (&'static str, Option<(u64, &'static str, Direction)>);
        let table: [Row; 11] = [
            ("1_foobar.up.sql", Some((1, "foobar", Direction::Up))),
            ("1_foobar.down.sql", Some((1, "foobar", Direction::Down))),
            ("1_f-o_ob+ar.up.sql", Some((1, "f-o_ob+ar", Direction::Up))),
            (
                "1485385885_foobar.up.sql",
                Some((1485385885, "foobar", Direction::Up)),
            ),
            (
                "20170412214116_date_foobar.up.sql",
                Some((20170412214116, "date_foobar", Direction::Up)),
            ),
            ("-1_foobar.up.sql", None),
            ("foobar.up.sql", None),
            ("1.up.sql", None),
            ("1_foobar.sql", None),
            ("1_foobar.up", None),
            ("1_foobar.down", None),
        ];
        for (name, expected) in table {
            assert_eq!(parse_file_name(name), expected, "{name}");
        }
    }

    /// What the regular expression implies beyond that table: the greedy name group, any
    /// extension, no newline, and a version `ParseUint` cannot read (skipped, not refused).
    #[test]
    fn names_parse_like_golang_migrates_regex() {
        assert_eq!(
            parse_file_name("000020_add_x.down.sql"),
            Some((20, "add_x", Direction::Down))
        );
        assert_eq!(
            parse_file_name("3_a.up.b.down.sql"),
            Some((3, "a.up.b", Direction::Down))
        );
        assert_eq!(
            parse_file_name("3_a.down.b.up.txt"),
            Some((3, "a.down.b", Direction::Up))
        );
        assert_eq!(parse_file_name("4_.up."), Some((4, "", Direction::Up)));
        assert_eq!(parse_file_name("5_a\nb.up.sql"), None);
        assert_eq!(parse_file_name("99999999999999999999_big.up.sql"), None);
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("x_init.up.sql"), None);
        assert_eq!(parse_file_name("1_init.sql"), None);
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
