use leptos::prelude::*;
use leptos_meta::Title;
use ops::model::{
    AdoptCode, AdoptState, AdoptView, Ledger, MigrateAction, MigrationEntry, MigrationKind,
    MigrationState, MigrationWorld, MigrationsView,
};

use super::job::{FailedSql, JobIsland};
use crate::api::{
    adopt_view, migration_sql, migrations_view, CreateMigration, RunBootstrap, StartAdopt,
    StartAdoptUndo, StartMigration, StartRehearsal,
};
use crate::SchemaChanged;

#[component]
pub fn MigrationsPage() -> impl IntoView {
    let refresh = RwSignal::new(0u64);
    let view_res = Resource::new(move || refresh.get(), |_| migrations_view());
    let query = leptos_router::hooks::use_query_map();
    let start = ServerAction::<StartMigration>::new();
    let rehearse = ServerAction::<StartRehearsal>::new();
    // A migration's SQL opens from its link (?sql=N), rendered by the server.
    let shown_sql = Memo::new(move |_| query.read().get("sql").and_then(|v| v.parse::<u64>().ok()));
    // The adopt wizard opens from its link (?wizard=adopt), so it works without JavaScript and
    // a form posted from it comes back to it.
    let adopting = Memo::new(move |_| query.read().get("wizard").as_deref() == Some("adopt"));
    // Owned here, not by the form: the form is redrawn when the list is read again.
    let create = ServerAction::<CreateMigration>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            refresh.update(|r| *r += 1);
        }
    });

    view! {
        <Title text="Migrations"/>
        <header class="page-head">
            <h1>"Migrations"</h1>
            <p class="muted">"The migrations as HoloMUSH's servers run them, by the same rules, ledger and locks: golang-migrate's schema_migrations, or goose's goose_db_version once HoloMUSH moved to goose (which one is said below)."</p>
        </header>
        <section class="card actions" aria-label="Actions">
            <h2>"Actions"</h2>
            <ActionForm action=start>
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
            </ActionForm>
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
            <ActionForm action=rehearse attr:class="row">
                <button type="submit" data-testid="rehearse">"Rehearse"</button>
                <span class="muted small">"Runs what “Apply all pending” would run on a scratch copy of the database (dropped afterwards): each file's time and the locks it takes, then the schema changes. The live database is not changed."</span>
            </ActionForm>
            {move || rehearse.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
        </section>
        {move || adopting.get().then(|| view! { <AdoptWizard/> })}
        <Transition fallback=|| view! { <p class="muted">"Reading schema_migrations…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(v) => {
                        let job = query
                            .read_untracked()
                            .get("job")
                            .and_then(|j| j.parse::<u64>().ok())
                            .or(v.running_job)
                            // The adopt wizard follows its own job.
                            .filter(|_| !adopting.get_untracked());
                        view! {
                            {job.map(|id| view! { <JobIsland id/> })}
                            <Overview v=v shown_sql start create/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <BootstrapForm refresh/>
    }
}

#[component]
fn Overview(
    v: MigrationsView,
    shown_sql: Memo<Option<u64>>,
    start: ServerAction<StartMigration>,
    create: ServerAction<CreateMigration>,
) -> impl IntoView {
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
                        view! { <Row m steps shown_sql start/> }
                    }).collect_view()
                }
            </tbody>
        </table>
        {ignored}
        {timeline}
        <SqlPanel shown_sql/>
        <CreateForm can_create create/>
    }
}

#[component]
fn Row(
    m: MigrationEntry,
    steps: Option<u64>,
    shown_sql: Memo<Option<u64>>,
    start: ServerAction<StartMigration>,
) -> impl IntoView {
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
                <a class="link" href=move || if shown_sql.get() == Some(version) { "/migrations".to_string() } else { format!("/migrations?sql={version}") }>"SQL"</a>
                {steps.map(|n| view! {
                    <ActionForm action=start attr:class="inline">
                        <input type="hidden" name="action" value=MigrateAction::Up.as_str()/>
                        <input type="hidden" name="steps" value=n.to_string()/>
                        <button type="submit" class="link">"Apply up to this one"</button>
                    </ActionForm>
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

#[component]
fn SqlPanel(shown_sql: Memo<Option<u64>>) -> impl IntoView {
    let sql = Resource::new(
        move || shown_sql.get(),
        |v| async move {
            match v {
                Some(v) => migration_sql(v).await.map(|s| Some((v, s))),
                None => Ok(None),
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match sql.await {
                    Ok(Some((v, s))) => view! {
                        <section class="card sql" data-testid="sql">
                            <h2>{format!("Version {v}")}</h2>
                            {[("up", s.up), ("down", s.down)].into_iter().map(|(dir, f)| match f {
                                Some(f) => view! { <h3>{f.file}</h3><pre>{f.body}</pre> }.into_any(),
                                None => view! { <p class="warning">{format!("No .{dir}.sql file: going {dir} through this version runs no SQL.")}</p> }.into_any(),
                            }).collect_view()}
                        </section>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// When each applied migration ran, as dots on a line.
#[allow(non_snake_case)]
fn Timeline(entries: Vec<MigrationEntry>) -> impl IntoView {
    let points: Vec<(u64, i64)> = entries
        .iter()
        .filter_map(|e| e.applied_at.map(|t| (e.version, t.timestamp_millis())))
        .collect();
    if points.is_empty() {
        return view! { <p class="muted small">"The timeline fills in as the console applies migrations (versions applied by HoloMUSH itself have no record)."</p> }.into_any();
    }
    let min = points.iter().map(|p| p.1).min().unwrap_or(0);
    let max = points.iter().map(|p| p.1).max().unwrap_or(0);
    let span = (max - min).max(1) as f64;
    let first = entries
        .iter()
        .filter_map(|e| e.applied_at)
        .min()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let last = entries
        .iter()
        .filter_map(|e| e.applied_at)
        .max()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    view! {
        <section class="card" data-testid="timeline">
            <h2>"Timeline"</h2>
            <svg viewBox="0 0 1000 70" class="timeline" role="img" aria-label="When migrations were applied">
                <line x1="20" y1="35" x2="980" y2="35" class="axis"/>
                {
                    let mut last_label = [f64::MIN, f64::MIN];
                    points.into_iter().enumerate().map(|(i, (v, t))| {
                        let x = 20.0 + 960.0 * (t - min) as f64 / span;
                        let row = i % 2;
                        // Migrations applied together sit on one spot: label only where there is room.
                        let label = (x - last_label[row] >= 30.0).then(|| {
                            last_label[row] = x;
                            view! { <text x=x y=if row == 0 { 22.0 } else { 58.0 } text-anchor="middle">{v}</text> }
                        });
                        view! {
                            <g>
                                <circle cx=x cy="35" r="6" class="dot-applied"><title>{format!("version {v}")}</title></circle>
                                {label}
                            </g>
                        }
                    }).collect_view()
                }
            </svg>
            <p class="muted small">{first} " … " {last}</p>
        </section>
    }
    .into_any()
}

#[component]
fn CreateForm(can_create: bool, create: ServerAction<CreateMigration>) -> impl IntoView {
    view! {
        <Show when=move || can_create fallback=|| view! {
            <p class="muted small">"New migrations are written into a folder: set HOLOMUSH_MIGRATIONS_DIR to create them here (the embedded set is read-only)."</p>
        }>
            <section class="card">
                <h2>"Create a migration"</h2>
                <ActionForm action=create attr:class="row">
                    <input name="name" placeholder="descriptive_name" aria-label="Migration name"/>
                    <button type="submit">"Create"</button>
                </ActionForm>
                {move || create.value().get().map(|r| match r {
                    Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </section>
        </Show>
    }
}

/// The seed's bootstrap of an existing database, with the objects it checked.
#[component]
fn BootstrapForm(refresh: RwSignal<u64>) -> impl IntoView {
    let boot = ServerAction::<RunBootstrap>::new();
    let schema_changed = use_context::<SchemaChanged>();
    Effect::new(move |_| {
        if let Some(Ok(_)) = boot.value().get() {
            refresh.update(|r| *r += 1);
            if let Some(s) = schema_changed {
                s.0.update(|n| *n += 1);
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Bootstrap an existing database"</h2>
            <p class="muted small">
                "For a database built by an older HoloMUSH without migrations: checks that every object of the embedded migrations exists, "
                "then marks the latest version applied without running any. Same as "
                <code>"psql -d holomush -f scripts/bootstrap-migrations.sql"</code>
                "."
            </p>
            <ActionForm action=boot attr:class="row">
                <label>"Type the database name to confirm " <input name="confirm" aria-label="Database name for bootstrap"/></label>
                <button type="submit">"Check and bootstrap"</button>
            </ActionForm>
            {move || boot.value().get().map(|r| match r {
                Ok(b) => view! {
                    <div data-testid="bootstrap-result">
                        <p class="notice" role="status">{b.result} " Checked:"</p>
                        <ul>{b.checked.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}</ul>
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </section>
    }
}

/// The cutover to goose: the preview, a safety backup, the database name typed, the job.
#[component]
fn AdoptWizard() -> impl IntoView {
    let preview = Resource::new(|| (), |_| adopt_view());
    let start = ServerAction::<StartAdopt>::new();
    let undo = ServerAction::<StartAdoptUndo>::new();
    // The job started from this wizard comes back as ?job=N.
    let query = leptos_router::hooks::use_query_map();
    let job = query
        .read_untracked()
        .get("job")
        .and_then(|j| j.parse::<u64>().ok());
    view! {
        <section class="card wizard" data-testid="adopt-wizard">
            <h2>"Cross to goose (adopt)"</h2>
            <p class="muted small">
                "What HoloMUSH does on its first goose boot, under goose's lock and in one transaction: goose_db_version gets its version-0 row and a row for every goose version at or below the one schema_migrations records, and schema_migrations is kept as schema_migrations_pre_goose."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Reading the ledgers…"</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                        Ok(v) => view! { <AdoptSteps v start undo/> }.into_any(),
                    }
                })}
            </Transition>
            // An error of a post made before the page was hydrated comes back in the address.
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
            {move || undo.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
            {job.map(|id| view! { <JobIsland id/> })}
            <p class="small"><a href="/migrations">"Close"</a></p>
        </section>
    }
}

#[component]
fn AdoptSteps(
    v: AdoptView,
    start: ServerAction<StartAdopt>,
    undo: ServerAction<StartAdoptUndo>,
) -> impl IntoView {
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
                    <ActionForm action=start>
                        <p><label><input type="checkbox" name="safety_backup" checked=true/>" Take a safety backup first (a full pg_dump, kept and labelled safety)"</label></p>
                        <p><label>{format!("Type the database name ({}) to confirm ", v.database)}<input name="confirm" aria-label="Database name for adopt"/></label></p>
                        <button type="submit" class="danger">"Adopt"</button>
                    </ActionForm>
                </li>
            })}
            {v.can_undo.then(|| view! {
                <li data-testid="adopt-undo">
                    <h3>"Undo the adopt"</h3>
                    <p class="small">"Renames schema_migrations_pre_goose back to schema_migrations and drops goose_db_version, in one transaction; refused once goose has applied anything the adopt did not seed."</p>
                    <ActionForm action=undo>
                        <p><label><input type="checkbox" name="safety_backup" checked=true/>" Take a safety backup first"</label></p>
                        <p><label>{format!("Type the database name ({database}) to confirm ")}<input name="confirm" aria-label="Database name for undo"/></label></p>
                        <button type="submit" class="danger">"Undo the adopt"</button>
                    </ActionForm>
                </li>
            })}
        </ol>
    }
}
