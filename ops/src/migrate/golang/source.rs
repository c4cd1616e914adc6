//! golang-migrate's file names (`source.Parse`): `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, base-10
//! u64 versions; any other file is skipped as its `iofs` source skips it; a second file for
//! one version and direction is refused.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::super::source::{Direction, Migration, MigrationFile, MigrationKind};
use super::super::MigrateError;

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

pub fn collect(files: Vec<(String, Vec<u8>)>) -> Result<BTreeMap<u64, Migration>, MigrateError> {
    let mut migrations: BTreeMap<u64, Migration> = BTreeMap::new();
    for (name, bytes) in files {
        let Some((version, label, direction)) = parse_file_name(&name) else {
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
    Ok(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
