//! Data shared by the server and the browser: what the console shows, one file per area.
//! Built without the `engine` feature (for wasm). The backup and migrate domains keep their
//! own types ([`crate::backup::manifest`], [`crate::migrate::kinds`]); they are re-exported
//! here so that every `model::X` path names one place.

mod adopt;
mod audit;
mod backups;
mod doctor;
mod format;
mod jobs;
mod migrations;
mod rehearsal;
mod repair;
mod settings;
mod status;
mod trouble;

pub use crate::backup::manifest::{BackupKind, Manifest, Verification};
pub use crate::migrate::kinds::{Direction, Ledger};

pub use adopt::*;
pub use audit::*;
pub use backups::*;
pub use doctor::*;
pub use format::*;
pub use jobs::*;
pub use migrations::*;
pub use rehearsal::*;
pub use repair::*;
pub use settings::*;
pub use status::*;
pub use trouble::*;
