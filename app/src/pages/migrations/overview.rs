//! The state of the migrations: the version, what is pending, why it is dirty, the list.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use ops::model::{
    Ledger, MigrateAction, MigrationEntry, MigrationKind, MigrationState, MigrationWorld,
    MigrationsView,
};

use super::super::job::FailedSql;
use super::forms::CreateForm;
use super::sql::SqlPanel;
use super::timeline::Timeline;
use crate::api::StartMigration;

#[component]
pub fn Overview(v: MigrationsView, shown_sql: Option<u64>) -> impl IntoView {
    let can_create = v.can_create;
    let version = v.status.version_line();
    let dirty = v.status.dirty;
    let pending = v
        .status
        .migrations
        .iter()
        .filter(|m| m.state == MigrationState::Pending)
        .count();
    let timeline = Timeline(v.status.migrations.clone());
    let ignored = Ignored(v.status.ledger, v.ignored.clone());
    view! {
        <p class="muted small" data-testid="target">"Database " <strong>{v.database.clone()}</strong> " · " <code>{v.target.clone()}</code> " · source: " {v.source.clone()} " (" <span data-testid="ledger">{v.status.ledger.as_str()}</span> " files)"</p>
        {v.status.world.map(|w| view! { <p class="muted small" data-testid="world">{w.describe()}</p> })}
        <div class="grid">
            <section class=if dirty { "card bad" } else { "card good" }>
                <h2>"Version"</h2>
                <p class="big" data-testid="schema-version">{version}</p>
                {dirty.then(|| view! { <p class="warning">"A migration failed part-way. Fix the schema by hand, then force the version."</p> })}
            </section>
            <section class="card">
                <h2>"Pending"</h2>
                <p class="big" data-testid="pending">{pending}</p>
                <p class="muted">"latest " {v.status.latest.map_or("none".to_string(), |l| l.to_string())}</p>
            </section>
        </div>
        {v.status.last_failure.clone().map(|f| view! {
            <section class="card bad" data-testid="dirty-cause">
                <h2>"Why the database is dirty"</h2>
                <p class="error">{f.error.clone().unwrap_or_default()}</p>
                <FailedSql message=f.error.clone().unwrap_or_default() f/>
                <p class="muted small">"The file ran as one transaction, so none of it stayed. Fix the file (or the schema), then force the version it should be at: the one before it to retry, or this one if you applied its change by hand."</p>
            </section>
        })}
        {(v.status.ledger == Ledger::Goose).then(|| {
            let golang = matches!(v.status.world, Some(MigrationWorld::GolangMigrateOnly | MigrationWorld::BothNotAdopted));
            view! {
                <section class="card" data-testid="adopt-card">
                    <h2>"goose"</h2>
                    <p class="small">{if golang {
                        "The source holds goose files but this database is still recorded by golang-migrate: HoloMUSH adopts it on its first goose boot. Preview and run that adopt here."
                    } else {
                        "The source holds goose files. The adopt wizard previews what HoloMUSH's first goose boot does with this database, and undoes an adopt while goose has run nothing else."
                    }}</p>
                    <a class=if golang { "button primary" } else { "button" } href="/migrations?wizard=adopt">"Cross to goose (adopt)"</a>
                </section>
            }
        })}
        {(!v.warnings.is_empty()).then(|| view! {
            <ul class="warnings" data-testid="warnings">{v.warnings.iter().map(|w| view! { <li class="warning">{w.clone()}</li> }).collect_view()}</ul>
        })}
        <table class="records" data-testid="migrations">
            <thead><tr><th>"Version"</th><th>"Name"</th><th>"State"</th><th>"Applied at (UTC)"</th><th>"Took"</th><th>"By"</th><th></th></tr></thead>
            <tbody>
                {
                    let mut pending_so_far = 0u64;
                    v.status.migrations.into_iter().map(|m| {
                        // "Apply up to this one" is `migrate up N`: never a step down, so no confirmation.
                        let steps = (m.state == MigrationState::Pending).then(|| { pending_so_far += 1; pending_so_far });
                        view! { <Row m steps shown_sql/> }
                    }).collect_view()
                }
            </tbody>
        </table>
        {ignored}
        {timeline}
        {shown_sql.map(|version| view! { <SqlPanel version/> })}
        <CreateForm can_create/>
    }
}

#[component]
fn Row(m: MigrationEntry, steps: Option<u64>, shown_sql: Option<u64>) -> impl IntoView {
    let version = m.version;
    let state = m.state.as_str();
    view! {
        <tr class=format!("state-{state}") data-version=version>
            <td>{version}</td>
            <td>{m.name.clone()} {m.drift.then(|| view! { <span class="badge bad" title="The file changed after it was applied">"drift"</span> })}
                {(m.kind == MigrationKind::Go).then(|| view! { <span class="badge warn" title=m.note.clone().unwrap_or_default()>"Go"</span> })}</td>
            <td><span class=format!("badge {state}")>{state}</span></td>
            <td>{m.applied_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()}</td>
            <td>{m.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()}</td>
            <td>{m.applied_by.clone().unwrap_or_default()}</td>
            <td class="row-actions">
                // The link of the version shown closes it.
                <a class="link" href=if shown_sql == Some(version) { "/migrations".to_string() } else { format!("/migrations?sql={version}") }>"SQL"</a>
                {steps.map(|n| view! {
                    <form method="post" action=StartMigration::PATH class="inline">
                        <input type="hidden" name="action" value=MigrateAction::Up.as_str()/>
                        <input type="hidden" name="steps" value=n.to_string()/>
                        <button type="submit" class="link">"Apply up to this one"</button>
                    </form>
                })}
            </td>
        </tr>
    }
}

/// The source's other files, listed so a misnamed migration is seen rather than silently
/// skipped (the tools skip them without a word).
#[allow(non_snake_case)]
fn Ignored(ledger: Ledger, files: Vec<String>) -> Option<impl IntoView> {
    (!files.is_empty()).then(|| {
        let tool = ledger.as_str();
        view! {
            <section class="card" data-testid="ignored">
                <h2>"Ignored files"</h2>
                <p class="muted small">{format!("Not {tool} migration file names, so {tool} skips them, and so does the console:")}</p>
                <ul>{files.into_iter().map(|f| view! { <li><code>{f}</code></li> }).collect_view()}</ul>
            </section>
        }
    })
}
