//! goose v3.27.3's file names (`collectFilesystemSources`, `NumericComponent`): `*.sql` then
//! `*.go` (not `_test.go`), each in name order; the version is what precedes the first `_`,
//! parsed as Go's `strconv.ParseInt` does (a leading `+` is allowed) and greater than zero;
//! any other file is skipped, as goose's provider skips it. A version given twice is refused
//! with goose's words, the first file found being the "existing" one.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::super::source::{Migration, MigrationFile, MigrationKind};
use super::super::MigrateError;

/// goose's `ErrNoMigrations`: a provider with no migration at all.
pub const NO_MIGRATIONS: &str = "no migrations found";

/// (version, name, kind) of a goose migration file; `None` for any other file.
pub fn parse_file_name(file: &str) -> Option<(u64, &str, MigrationKind)> {
    let (stem, kind) = if let Some(stem) = file.strip_suffix(".sql") {
        (stem, MigrationKind::Sql)
    } else if let Some(stem) = file.strip_suffix(".go") {
        if file.ends_with("_test.go") {
            return None;
        }
        (stem, MigrationKind::Go)
    } else {
        return None;
    };
    if file.contains('/') {
        return None;
    }
    let (digits, name) = stem.split_once('_')?;
    // `strconv.ParseInt(s, 10, 64)`: an optional sign, then decimal digits, within int64;
    // Rust's `i64::from_str` takes exactly that.
    let version: i64 = digits.parse().ok()?;
    if version < 1 {
        return None;
    }
    Some((u64::try_from(version).ok()?, name, kind))
}

/// The versions of a goose folder; files that are not goose migrations are skipped.
pub fn collect(files: Vec<(String, Vec<u8>)>) -> Result<BTreeMap<u64, Migration>, MigrateError> {
    // goose globs `*.sql`, then `*.go`, each sorted by name.
    let mut named: Vec<(u64, String, MigrationKind, Vec<u8>)> = files
        .into_iter()
        .filter_map(|(file, bytes)| {
            let (version, _, kind) = parse_file_name(&file)?;
            Some((version, file, kind, bytes))
        })
        .collect();
    named.sort_by(|a, b| (a.2 == MigrationKind::Go, &a.1).cmp(&(b.2 == MigrationKind::Go, &b.1)));
    let mut out: BTreeMap<u64, Migration> = BTreeMap::new();
    for (version, file_name, kind, bytes) in named {
        if let Some(existing) = out.get(&version) {
            return Err(MigrateError::Source(format!(
                "found duplicate migration version {version}:\n\texisting:{}\n\tcurrent:{file_name}",
                existing.file_name().unwrap_or_default()
            )));
        }
        let name = parse_file_name(&file_name)
            .map(|(_, n, _)| n.to_string())
            .unwrap_or_default();
        let body = String::from_utf8(bytes).map_err(|_| {
            MigrateError::Source(format!("migration file {file_name} is not UTF-8 text"))
        })?;
        let file = MigrationFile {
            sha256: hex::encode(Sha256::digest(body.as_bytes())),
            file_name,
            body,
        };
        out.insert(
            version,
            Migration {
                version,
                name,
                up: Some(file.clone()),
                down: Some(file),
                kind,
            },
        );
    }
    if out.is_empty() {
        return Err(MigrateError::Source(NO_MIGRATIONS.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_like_goose() {
        assert_eq!(
            parse_file_name("000030_add_x.sql"),
            Some((30, "add_x", MigrationKind::Sql))
        );
        assert_eq!(
            parse_file_name("000040_backfill.go"),
            Some((40, "backfill", MigrationKind::Go))
        );
        assert_eq!(
            parse_file_name("+7_signed.sql"),
            Some((7, "signed", MigrationKind::Sql))
        );
        assert_eq!(parse_file_name("1_.sql"), Some((1, "", MigrationKind::Sql)));
        assert_eq!(parse_file_name("000040_backfill_test.go"), None);
        assert_eq!(parse_file_name("helpers.go"), None);
        assert_eq!(parse_file_name("0_zero.sql"), None, "ids start at 1");
        assert_eq!(parse_file_name("-1_negative.sql"), None);
        assert_eq!(parse_file_name("99999999999999999999_big.sql"), None);
        assert_eq!(parse_file_name("no_a_real_migration.sql"), None);
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("1.sql"), None, "no separator");
        assert_eq!(parse_file_name("1_a.SQL"), None, "goose globs *.sql");
    }

    #[test]
    fn duplicates_are_refused_with_gooses_words() {
        // provider_collect_test.go `duplicate_versions`.
        let e = collect(vec![
            ("01_bar.sql".to_string(), b"-- +goose Up\n".to_vec()),
            ("001_foo.sql".to_string(), b"-- +goose Up\n".to_vec()),
        ])
        .expect_err("duplicate");
        assert_eq!(
            e.to_string(),
            "found duplicate migration version 1:\n\texisting:001_foo.sql\n\tcurrent:01_bar.sql"
        );
        // `*.sql` is globbed before `*.go`.
        let e = collect(vec![
            ("1_a.go".to_string(), b"package migrations\n".to_vec()),
            ("1_b.sql".to_string(), b"-- +goose Up\n".to_vec()),
        ])
        .expect_err("duplicate");
        assert_eq!(
            e.to_string(),
            "found duplicate migration version 1:\n\texisting:1_b.sql\n\tcurrent:1_a.go"
        );
    }

    #[test]
    fn a_folder_without_migrations_is_gooses_error() {
        let e = collect(vec![("README.md".to_string(), b"# README".to_vec())]).expect_err("none");
        assert_eq!(e.to_string(), "no migrations found");
    }
}
