//! The page's plain forms below the list: a new migration file, and the seed's bootstrap.
//! What each did comes back as the page's notice; a refusal, beside its form.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::super::posted::refused;
use crate::api::{CreateMigration, RunBootstrap};

#[component]
pub fn CreateForm(can_create: bool) -> impl IntoView {
    if !can_create {
        return view! {
            <p class="muted small">"New migrations are written into a folder: set HOLOMUSH_MIGRATIONS_DIR to create them here (the embedded set is read-only)."</p>
        }
        .into_any();
    }
    view! {
        <section class="card">
            <h2>"Create a migration"</h2>
            <form method="post" action=CreateMigration::PATH class="row">
                <input name="name" placeholder="descriptive_name" aria-label="Migration name"/>
                <button type="submit">"Create"</button>
            </form>
            {refused(&[CreateMigration::PATH])}
        </section>
    }
    .into_any()
}

/// The seed's bootstrap of an existing database; the notice it comes back with names the
/// objects it checked.
#[component]
pub fn BootstrapForm() -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Bootstrap an existing database"</h2>
            <p class="muted small">
                "For a database built by an older HoloMUSH without migrations: checks that every object of the embedded migrations exists, "
                "then marks the latest version applied without running any. Same as "
                <code>"psql -d holomush -f scripts/bootstrap-migrations.sql"</code>
                "."
            </p>
            <form method="post" action=RunBootstrap::PATH class="row">
                <label>"Type the database name to confirm " <input name="confirm" aria-label="Database name for bootstrap"/></label>
                <button type="submit">"Check and bootstrap"</button>
            </form>
            {refused(&[RunBootstrap::PATH])}
        </section>
    }
}
