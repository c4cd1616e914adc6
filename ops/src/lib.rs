//! HoloMUSH database operations. Everything that touches PostgreSQL, files or
//! processes lives here; the web console and the CLI are thin callers.
//!
//! Without the `engine` feature only [`model`] is built: plain data types that
//! the browser side shares with the server (with the backup and migrate types it
//! re-exports: `backup::manifest`, `migrate::kinds`).

pub mod error;
pub mod model;

#[cfg(feature = "engine")]
pub mod audit;
#[cfg(feature = "engine")]
pub mod auth;
#[cfg(feature = "engine")]
pub mod backup;
// `model` re-exports the backup domain's plain types, so a build without the engine (wasm)
// still needs that one file.
#[cfg(not(feature = "engine"))]
pub mod backup {
    pub mod manifest;
}
#[cfg(feature = "engine")]
pub mod config;
#[cfg(feature = "engine")]
pub mod conninfo;
#[cfg(feature = "engine")]
pub mod console;
#[cfg(feature = "engine")]
pub mod db;
#[cfg(feature = "engine")]
pub mod dbmark;
#[cfg(feature = "engine")]
pub mod diagnose;
#[cfg(feature = "engine")]
pub mod files;
#[cfg(feature = "engine")]
pub mod joblock;
#[cfg(feature = "engine")]
pub mod jobs;
#[cfg(feature = "engine")]
pub mod migrate;
// `model` re-exports the migrate domain's plain types, so a build without the engine (wasm)
// still needs that one file.
#[cfg(not(feature = "engine"))]
pub mod migrate {
    pub mod kinds;
}
#[cfg(feature = "engine")]
pub mod pgtools;
#[cfg(feature = "engine")]
pub mod process;
#[cfg(feature = "engine")]
pub mod seal;
#[cfg(feature = "engine")]
pub mod status;
// Test databases and fixtures: built for tests only (the `testing` feature is what the
// integration tests and benches turn on), never shipped in the binary.
#[cfg(all(feature = "engine", any(test, feature = "testing")))]
pub mod testing;

#[cfg(feature = "engine")]
pub use console::Console;
