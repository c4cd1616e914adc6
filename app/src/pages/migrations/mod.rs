//! The Migrations page: the actions, the list with its history, the SQL of a version,
//! new files, the seed's bootstrap and the adopt wizard.

mod adopt;
mod forms;
mod overview;
mod sql;
mod timeline;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use ops::model::MigrateAction;

use super::job::JobIsland;
use super::posted::refused;
use crate::api::{migrations_view, StartMigration, StartRehearsal};
use adopt::AdoptWizard;
use forms::BootstrapForm;
use overview::Overview;

#[component]
pub fn MigrationsPage() -> impl IntoView {
    // Read once as the page renders: every form on it posts and loads the page again.
    let view_res = Resource::new(|| (), |_| migrations_view());
    let query = use_query_map().get_untracked();
    // A migration's SQL opens from its link (?sql=N), rendered by the server.
    let shown_sql = query.get("sql").and_then(|v| v.parse::<u64>().ok());
    // The adopt wizard opens from its link (?wizard=adopt), so it works without JavaScript and
    // a form posted from it comes back to it.
    let adopting = query.get("wizard").as_deref() == Some("adopt");
    let job = query.get("job").and_then(|j| j.parse::<u64>().ok());
    view! {
        <Title text="Migrations"/>
        <header class="page-head">
            <h1>"Migrations"</h1>
            <p class="muted">"The migrations as HoloMUSH's servers run them, by the same rules, ledger and locks: golang-migrate's schema_migrations, or goose's goose_db_version once HoloMUSH moved to goose (which one is said below)."</p>
        </header>
        <section class="card actions" aria-label="Actions">
            <h2>"Actions"</h2>
            <form method="post" action=StartMigration::PATH>
                <div class="row">
                    <button type="submit" name="action" value=MigrateAction::Up.as_str() class="primary">"Apply all pending"</button>
                    <button type="submit" name="action" value=MigrateAction::Down.as_str()>"Roll back last"</button>
                    <button type="submit" name="action" value=MigrateAction::DownAll.as_str() class="danger">"Roll back all"</button>
                    <label>"Version " <input name="version" class="narrow" placeholder="e.g. 7" aria-label="Version"/></label>
                    <button type="submit" name="action" value=MigrateAction::Goto.as_str()>"Go to version"</button>
                    <button type="submit" name="action" value=MigrateAction::Force.as_str() class="danger">"Force version"</button>
                </div>
                <p class="muted small">
                    "Roll back, go to and force change the database named below: type its name to confirm. "
                    "Force sets the version and clears the dirty flag without running any SQL."
                </p>
                <label>"Type the database name to confirm " <input name="confirm" aria-label="Confirm database name"/></label>
            </form>
            // Also the refusal of a row's "Apply up to this one", which posts the same function.
            {refused(&[StartMigration::PATH])}
            <form method="post" action=StartRehearsal::PATH class="row">
                <button type="submit" data-testid="rehearse">"Rehearse"</button>
                <span class="muted small">"Runs what “Apply all pending” would run on a scratch copy of the database (dropped afterwards): each file's time and the locks it takes, then the schema changes. The live database is not changed."</span>
            </form>
            {refused(&[StartRehearsal::PATH])}
        </section>
        {adopting.then(|| view! { <AdoptWizard job/> })}
        <Transition fallback=|| view! { <p class="muted">"Reading schema_migrations…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Err(e) => crate::error::alert(e).into_any(),
                    Ok(v) => {
                        // The adopt wizard follows its own job.
                        let job = job.or(v.running_job).filter(|_| !adopting);
                        view! {
                            {job.map(|id| view! { <JobIsland id/> })}
                            <Overview v=v shown_sql/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <BootstrapForm/>
    }
}
