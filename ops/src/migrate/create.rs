//! `migrate create NAME`: in a golang-migrate folder the next `NNNNNN_name.up.sql` /
//! `.down.sql` pair; in a goose folder the next `NNNNNN_name.sql` from goose's template.

use std::path::{Path, PathBuf};

use super::source::{Ledger, Source};

/// goose's `sqlMigrationTemplate`, byte for byte.
pub const GOOSE_TEMPLATE: &str = "-- +goose Up
-- +goose StatementBegin
SELECT 'up SQL query';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
SELECT 'down SQL query';
-- +goose StatementEnd
";
use super::MigrateError;

pub fn validate_name(name: &str) -> Result<(), MigrateError> {
    if name.is_empty() {
        return Err(MigrateError::Refused(
            "A migration needs a name, e.g. `migrate create add_player_flags`.".to_string(),
        ));
    }
    if name.contains('/') || name.contains('\\') || name.contains("..") {
        return Err(MigrateError::Refused(format!(
            "\"{name}\" is not a valid migration name: it contains a path separator; use only a-z, 0-9 and _."
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(MigrateError::Refused(format!(
            "\"{name}\" is not a valid migration name: use only lowercase letters a-z, digits 0-9 and _."
        )));
    }
    Ok(())
}

/// Writes the next version's file(s) into `dir`, in the folder's format, and returns their
/// paths. Never overwrites a file.
pub fn create(dir: &Path, name: &str) -> Result<Vec<PathBuf>, MigrateError> {
    validate_name(name)?;
    let source = Source::folder(dir)?;
    let next = source.latest().map_or(1, |v| v + 1);
    let write = |path: &Path, body: &str| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, body.as_bytes()))
            .map_err(|e| MigrateError::Source(format!("Could not write {} ({e}).", path.display())))
    };
    if source.ledger == Ledger::Goose {
        let file = dir.join(format!("{next:06}_{name}.sql"));
        write(&file, GOOSE_TEMPLATE)?;
        return Ok(vec![file]);
    }
    let up = dir.join(format!("{next:06}_{name}.up.sql"));
    let down = dir.join(format!("{next:06}_{name}.down.sql"));
    write(
        &up,
        &format!("-- {name}: the change. Runs as one transaction; no BEGIN/COMMIT.\n"),
    )?;
    write(
        &down,
        &format!("-- {name}: undo exactly what the up file does.\n"),
    )?;
    Ok(vec![up, down])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_numbers_follow_the_last() {
        let dir = std::env::temp_dir().join(format!("holomush-create-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("000007_seven.up.sql"), "SELECT 1").expect("seed");
        let files = create(&dir, "add_flags").expect("create");
        let [up, down] = files.as_slice() else {
            panic!("a pair")
        };
        assert!(up.ends_with("000008_add_flags.up.sql") && up.exists());
        assert!(down.ends_with("000008_add_flags.down.sql") && down.exists());
        for bad in ["../evil", "a/b", "Add", "has space", ""] {
            assert!(create(&dir, bad).is_err(), "{bad} refused");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_goose_folder_gets_gooses_template() {
        let dir =
            std::env::temp_dir().join(format!("holomush-create-goose-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("000031_x.sql"), "-- +goose Up\nSELECT 1;\n").expect("seed");
        let files = create(&dir, "add_flags").expect("create");
        assert_eq!(files, vec![dir.join("000032_add_flags.sql")]);
        assert_eq!(
            std::fs::read_to_string(&files[0]).expect("read"),
            "-- +goose Up\n-- +goose StatementBegin\nSELECT 'up SQL query';\n-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\nSELECT 'down SQL query';\n-- +goose StatementEnd\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
