//! Where migrations come from: the set embedded in the binary or a folder, in one tool's
//! format. golang-migrate's names: `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, base-10 u64 versions,
//! other files ignored, duplicates refused. goose's names (`NNN_name.sql`, `NNN_name.go`) are
//! read by [`super::goose::source`]; a folder holding both kinds is refused.

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
}

/// Splits a file name as golang-migrate's regular expression does; `None` for other files.
pub fn parse_file_name(name: &str) -> Option<(&str, &str, Direction)> {
    let (digits, rest) = name.split_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
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
    if rest.contains('\n') {
        return None;
    }
    Some((digits, &rest[..at], direction))
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
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            if !entry.file_type().map_err(read_err)?.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            if parse_file_name(&name).is_none()
                && super::goose::source::parse_file_name(&name).is_none()
            {
                continue;
            }
            files.push((name, std::fs::read(entry.path()).map_err(read_err)?));
        }
        Self::from_files(Origin::Folder(dir.to_path_buf()), files)
    }

    /// The configured source: `HOLOMUSH_MIGRATIONS_DIR` when set, else the embedded set.
    pub fn from_config(dir: Option<&Path>) -> Result<Self, MigrateError> {
        match dir {
            Some(d) => Self::folder(d),
            None => Self::embedded(),
        }
    }

    /// Recognises the format from the file names: golang-migrate pairs or goose files,
    /// never both in one folder.
    pub fn from_files(
        origin: Origin,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<Self, MigrateError> {
        let mut files: Vec<(String, Vec<u8>)> = files.into_iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let golang = files
            .iter()
            .find(|(n, _)| parse_file_name(n).is_some())
            .map(|(n, _)| n.clone());
        let goose = files
            .iter()
            .find(|(n, _)| {
                parse_file_name(n).is_none() && super::goose::source::parse_file_name(n).is_some()
            })
            .map(|(n, _)| n.clone());
        match (golang, goose) {
            (Some(g), Some(o)) => Err(MigrateError::Source(format!(
                "{origin} mixes golang-migrate files ({g}) and goose files ({o}): keep one tool's migrations per folder and point HOLOMUSH_MIGRATIONS_DIR at it."
            ))),
            (None, Some(_)) => Ok(Self {
                migrations: super::goose::source::collect(files)?,
                origin,
                ledger: Ledger::Goose,
            }),
            _ => Self::golang_migrate(origin, files),
        }
    }

    fn golang_migrate(origin: Origin, files: Vec<(String, Vec<u8>)>) -> Result<Self, MigrateError> {
        let mut migrations: BTreeMap<u64, Migration> = BTreeMap::new();
        for (name, bytes) in files {
            let Some((digits, label, direction)) = parse_file_name(&name) else {
                continue;
            };
            let version: u64 = digits.parse().map_err(|_| {
                MigrateError::Source(format!(
                    "failed to parse version of {name}: {digits} is not a 64-bit number"
                ))
            })?;
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
        })
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
    fn names_parse_like_golang_migrate() {
        assert_eq!(
            parse_file_name("1_init.up.sql"),
            Some(("1", "init", Direction::Up))
        );
        assert_eq!(
            parse_file_name("000020_add_x.down.sql"),
            Some(("000020", "add_x", Direction::Down))
        );
        assert_eq!(
            parse_file_name("3_a.up.b.down.sql"),
            Some(("3", "a.up.b", Direction::Down))
        );
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("x_init.up.sql"), None);
        assert_eq!(parse_file_name("1_init.sql"), None);
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
