//! goose's file names: `NUMBER_anything.sql` or `.go` (not `_test.go`), the version being the
//! digits before the first `_`, greater than zero; other files are ignored, as goose's provider
//! ignores them; a version given twice is refused with goose's words.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::super::source::{Migration, MigrationFile, MigrationKind};
use super::super::MigrateError;

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
    let (digits, name) = stem.split_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // goose parses an int64 and wants it above zero.
    let version: i64 = digits.parse().ok()?;
    if version <= 0 || file.contains('/') {
        return None;
    }
    Some((u64::try_from(version).ok()?, name, kind))
}

/// The versions of a goose folder; files that are not goose migrations are skipped.
pub fn collect(
    mut files: Vec<(String, Vec<u8>)>,
) -> Result<BTreeMap<u64, Migration>, MigrateError> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: BTreeMap<u64, Migration> = BTreeMap::new();
    for (file_name, bytes) in files {
        let Some((version, name, kind)) = parse_file_name(&file_name) else {
            continue;
        };
        if let Some(existing) = out.get(&version) {
            return Err(MigrateError::Source(format!(
                "found duplicate migration version {version}: existing {}, current {file_name}; keep one file per version.",
                existing.file_name().unwrap_or_default()
            )));
        }
        let body = String::from_utf8(bytes).map_err(|_| {
            MigrateError::Source(format!("migration file {file_name} is not UTF-8 text"))
        })?;
        let file = MigrationFile {
            sha256: hex::encode(Sha256::digest(body.as_bytes())),
            file_name: file_name.clone(),
            body,
        };
        out.insert(
            version,
            Migration {
                version,
                name: name.to_string(),
                up: Some(file.clone()),
                down: Some(file),
                kind,
            },
        );
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
        assert_eq!(parse_file_name("000040_backfill_test.go"), None);
        assert_eq!(parse_file_name("helpers.go"), None);
        assert_eq!(parse_file_name("0_zero.sql"), None, "ids start at 1");
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("1.sql"), None, "no separator");
    }

    #[test]
    fn duplicates_are_refused_with_gooses_words() {
        let e = collect(vec![
            ("1_a.sql".to_string(), b"-- +goose Up\n".to_vec()),
            ("001_b.sql".to_string(), b"-- +goose Up\n".to_vec()),
        ])
        .expect_err("duplicate");
        assert_eq!(
            e.to_string(),
            "found duplicate migration version 1: existing 001_b.sql, current 1_a.sql; keep one file per version."
        );
    }
}
