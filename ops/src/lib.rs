//! HoloMUSH database operations. Everything that touches PostgreSQL, files or
//! processes lives here; the web console and the CLI are thin callers.
//!
//! Without the `engine` feature only [`model`] is built: plain data types that
//! the browser side shares with the server.

pub mod model;

#[cfg(feature = "engine")]
pub mod audit;
#[cfg(feature = "engine")]
pub mod auth;
#[cfg(feature = "engine")]
pub mod backup;
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
#[cfg(feature = "engine")]
pub mod pgtools;
#[cfg(feature = "engine")]
pub mod process;
#[cfg(feature = "engine")]
pub mod status;
// Test databases and fixtures: built for tests only (the `testing` feature is what the
// integration tests and benches turn on), never shipped in the binary.
#[cfg(all(feature = "engine", any(test, feature = "testing")))]
pub mod testing;

#[cfg(feature = "engine")]
pub use console::Console;
