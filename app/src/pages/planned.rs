//! Pages whose features arrive with later issues: each says what it will hold.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn Planned(title: &'static str, what: &'static str, cli: &'static str) -> impl IntoView {
    view! {
        <Title text=title/>
        <header class="page-head"><h1>{title}</h1></header>
        <section class="card">
            <p>{what}</p>
            <p class="muted">"Command line: " <code>{cli}</code></p>
            <p class="muted">"Not built yet."</p>
        </section>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Planned
            title="Settings"
            what="The connection settings (DATABASE_URL, DB_MAX_CONNS, DB_MIN_CONNS, DB_MAX_LIFETIME, HOLOMUSH_DB_AUTO_MIGRATE) and a connection test."
            cli="holomush-admin doctor"
        />
    }
}

#[component]
pub fn TroubleshootingPage() -> impl IntoView {
    view! {
        <Planned
            title="Troubleshooting"
            what="Guided repair of a dirty migration state, the connection doctor, and the pg_trgm check."
            cli="holomush-admin doctor"
        />
    }
}
