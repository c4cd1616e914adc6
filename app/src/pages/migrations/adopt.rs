//! The cutover to goose, opened from its link (`?wizard=adopt`).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use ops::model::{AdoptCode, AdoptState, AdoptView};

use super::super::job::JobIsland;
use super::super::posted::refused;
use crate::api::{adopt_view, StartAdopt, StartAdoptUndo};

/// The cutover to goose: the preview, a safety backup, the database name typed, the job.
#[component]
pub fn AdoptWizard(
    /// The job started from this wizard, which comes back as ?job=N.
    job: Option<u64>,
) -> impl IntoView {
    let preview = Resource::new(|| (), |_| adopt_view());
    view! {
        <section class="card wizard" data-testid="adopt-wizard">
            <h2>"Cross to goose (adopt)"</h2>
            <p class="muted small">
                "What HoloMUSH does on its first goose boot, under goose's lock and in one transaction: goose_db_version gets its version-0 row and a row for every goose version at or below the one schema_migrations records, and schema_migrations is kept as schema_migrations_pre_goose."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Reading the ledgers…"</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Err(e) => crate::error::alert(e).into_any(),
                        Ok(v) => view! { <AdoptSteps v/> }.into_any(),
                    }
                })}
            </Transition>
            // A refused post comes back with its error in the address.
            {refused(&[StartAdopt::PATH])}
            {refused(&[StartAdoptUndo::PATH])}
            {job.map(|id| view! { <JobIsland id/> })}
            <p class="small"><a href="/migrations">"Close"</a></p>
        </section>
    }
}

#[component]
fn AdoptSteps(v: AdoptView) -> impl IntoView {
    let p = v.preview;
    let shown = |x: Option<String>| x.unwrap_or_else(|| "—".to_string());
    let ready = p.state == AdoptState::Ready;
    let dirty = p
        .refusal
        .as_ref()
        .is_some_and(|r| r.code == AdoptCode::Dirty);
    let seed = if ready {
        let mut all = vec!["0".to_string()];
        all.extend(p.seed.iter().map(u64::to_string));
        all.join(", ")
    } else {
        "—".to_string()
    };
    let database = v.database.clone();
    view! {
        <ol class="steps">
            <li data-testid="adopt-preview">
                <h3>"1. Preview"</h3>
                <p data-testid="adopt-sentence">{p.sentence.clone()}</p>
                <table class="records small">
                    <tbody>
                        <tr><th>"State"</th><td data-testid="adopt-state">{p.state.as_str()}</td></tr>
                        <tr><th>"Recorded version"</th><td data-testid="adopt-recorded">{shown(p.recorded_version.map(|v| v.to_string()))}</td></tr>
                        <tr><th>"Dirty"</th><td>{shown(p.dirty.map(|d| d.to_string()))}</td></tr>
                        <tr><th>"Rows in schema_migrations"</th><td>{shown(p.rows.map(|r| r.to_string()))}</td></tr>
                        <tr><th>"goose_db_version rows it would write"</th><td data-testid="adopt-seed">{seed}</td></tr>
                    </tbody>
                </table>
                {p.refusal.clone().map(|r| view! {
                    <p class="error" data-testid="adopt-refusal"><code>{r.code.as_str()}</code> " " {r.message}</p>
                })}
                {dirty.then(|| view! {
                    <a class="button primary" href="/troubleshooting?wizard=dirty" data-testid="adopt-repair">"Repair the dirty state first"</a>
                })}
            </li>
            {ready.then(|| view! {
                <li data-testid="adopt-do">
                    <h3>"2. Do it"</h3>
                    <form method="post" action=StartAdopt::PATH>
                        <p><label><input type="checkbox" name="safety_backup" checked=true/>" Take a safety backup first (a full pg_dump, kept and labelled safety)"</label></p>
                        <p><label>{format!("Type the database name ({}) to confirm ", v.database)}<input name="confirm" aria-label="Database name for adopt"/></label></p>
                        <button type="submit" class="danger">"Adopt"</button>
                    </form>
                </li>
            })}
            {v.can_undo.then(|| view! {
                <li data-testid="adopt-undo">
                    <h3>"Undo the adopt"</h3>
                    <p class="small">"Renames schema_migrations_pre_goose back to schema_migrations and drops goose_db_version, in one transaction; refused once goose has applied anything the adopt did not seed."</p>
                    <form method="post" action=StartAdoptUndo::PATH>
                        <p><label><input type="checkbox" name="safety_backup" checked=true/>" Take a safety backup first"</label></p>
                        <p><label>{format!("Type the database name ({database}) to confirm ")}<input name="confirm" aria-label="Database name for undo"/></label></p>
                        <button type="submit" class="danger">"Undo the adopt"</button>
                    </form>
                </li>
            })}
        </ol>
    }
}
