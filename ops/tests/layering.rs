//! The shape issue 17 asked for, held: each migration tool is its own module behind the two
//! driver traits, neither tool imports the other, and the engine, status, adopt and
//! rehearsal reach the tools only through `tools` (the one module that knows both).

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The lines of `file` that are code (comments are free to name anything).
fn code(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .expect("read the file")
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .map(str::to_string)
        .collect()
}

fn offending(files: &[PathBuf], names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        for line in code(f) {
            if names.iter().any(|n| line.contains(n)) {
                found.push(format!("{}: {line}", f.display()));
            }
        }
    }
    found
}

fn migrate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/migrate")
}

#[test]
fn golang_migrate_does_not_import_goose() {
    let files = sources(&migrate().join("golang"));
    assert!(!files.is_empty());
    assert_eq!(
        offending(&files, &["goose::", "tools::", "world::detect"]),
        Vec::<String>::new()
    );
}

#[test]
fn goose_does_not_import_golang_migrate() {
    let files = sources(&migrate().join("goose"));
    assert!(!files.is_empty());
    assert_eq!(
        offending(&files, &["golang::", "tools::", "world::detect"]),
        Vec::<String>::new()
    );
}

#[test]
fn the_engine_status_adopt_and_rehearsal_know_neither_tool() {
    let mut files: Vec<PathBuf> = [
        "engine.rs",
        "status.rs",
        "adopt.rs",
        "bootstrap.rs",
        "source.rs",
        "world.rs",
        "driver.rs",
        "report.rs",
        "history.rs",
    ]
    .iter()
    .map(|f| migrate().join(f))
    .collect();
    files.extend(sources(&migrate().join("rehearse")));
    assert_eq!(
        offending(&files, &["goose::", "golang::"]),
        Vec::<String>::new()
    );
}
