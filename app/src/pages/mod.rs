//! The console's pages, in Leptos' islands mode.
//!
//! **The rule.** Only an `#[island]` runs in the browser; every other `#[component]` is
//! rendered on the server once and never hydrated, so code in it that waits for the browser
//! (a signal, an `Effect`, an `on:` handler, `prop:` values, an `ActionForm` or
//! `ServerAction::dispatch`, a resource that reloads when a signal changes) never runs.
//!
//! - Islands carry the signals, effects and handlers: the job panel following its job
//!   (`JobIsland`), the dashboard's live status, the connection doctor, the upload
//!   progress. Keep them small: their props cross to the browser and their code is the wasm.
//! - Server components read their data with a resource awaited as the page renders (every
//!   route is `SsrMode::Async`), read the address once (`use_query_map().read_untracked()`),
//!   and post plain forms.
//!
//! **Adding a form** to a server component:
//!
//! 1. `<form method="post" action=MyServerFn::PATH>` with one named input per argument of
//!    the server function (several buttons may post to other functions with `formaction`).
//! 2. The server function ends with `guard::done(sentence)` or `guard::started(job)`: a plain
//!    post then comes back to its page with `?notice=…` (shown by the layout) or `?job=N`
//!    (followed by the job island).
//! 3. A refused post comes back with its error in the address; show it beside the form with
//!    `posted::refused(&[MyServerFn::PATH])`.
//!
//! A panel opens from a link (`?restore=FILE`, `?wizard=adopt`), not a click handler, so it
//! opens the same with JavaScript off and a form posted from it comes back to it.

mod activity;
mod backups;
mod dashboard;
mod doctor;
mod job;
mod login;
mod migrations;
mod posted;
mod rehearsal;
mod settings;
mod troubleshooting;

pub use activity::ActivityPage;
pub use backups::BackupsPage;
pub use dashboard::DashboardPage;
pub use job::JobPage;
pub use login::LoginPage;
pub use migrations::MigrationsPage;
pub use settings::SettingsPage;
pub use troubleshooting::TroubleshootingPage;
