//! goose v3.27.3's contract (pressly/goose, Provider API, postgres dialect): one file per version
//! with `-- +goose Up` / `Down` sections, the `goose_db_version` ledger, its session advisory
//! lock, one transaction per file unless `-- +goose NO TRANSACTION`, and its error texts.
//! Go migrations (`NNN_name.go`) are listed but only the holomush binary runs them.

pub mod engine;
pub mod interpolate;
pub mod ledger;
pub mod lock;
pub mod parser;
pub mod source;
pub mod status;

/// The sentence for a Go migration: what it is and who runs it.
pub fn go_note(version: u64, file: &str) -> String {
    format!(
        "Version {version} ({file}) is a Go migration, which only the holomush binary runs: start holomush (it migrates on start) to apply it, then run the console's migrations again."
    )
}
