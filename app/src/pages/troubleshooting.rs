//! The Troubleshooting page: a badge per wizard (dirty state, connection, pg_trgm,
//! client tools), and the guided repair of a dirty migration version.

use leptos::prelude::*;
use leptos_meta::Title;
use ops::model::{
    Connection, Extension, RepairAction, RepairConclusion, RepairView, SchemaVersion, TroubleView,
};

use super::doctor::DoctorPanel;
use super::job::JobIsland;
use crate::api::{repair_view, troubleshooting_view, EnablePgTrgm, StartRepair};

#[derive(Clone, Copy, PartialEq)]
enum Wizard {
    Dirty,
    Connection,
}

#[component]
pub fn TroubleshootingPage() -> impl IntoView {
    // Read as the page is rendered; every action on it loads the page again.
    let badges = Resource::new(|| (), |_| troubleshooting_view());
    // A wizard opens from a link (?wizard=dirty), so it opens without JavaScript too and a
    // form posted from it comes back to it.
    let query = leptos_router::hooks::use_query_map();
    let open = Memo::new(move |_| match query.read().get("wizard").as_deref() {
        Some("dirty") => Some(Wizard::Dirty),
        Some("connection") => Some(Wizard::Connection),
        _ => None,
    });
    let enable = ServerAction::<EnablePgTrgm>::new();
    view! {
        <Title text="Troubleshooting"/>
        <header class="page-head">
            <h1>"Troubleshooting"</h1>
            <p class="muted">"Each check is read as the page loads. Open a wizard to see what is wrong, why, and how to fix it."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
            {move || Suspend::new(async move {
                match badges.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(t) => view! { <Badges t enable/> }.into_any(),
                }
            })}
        </Transition>
        {move || match open.get() {
            Some(Wizard::Dirty) => view! { <RepairWizard/> }.into_any(),
            Some(Wizard::Connection) => view! {
                <section class="card" data-testid="connection-wizard">
                    <h2>"Connection doctor"</h2>
                    <p class="muted small">"Runs every step from parsing DATABASE_URL to the client tools, in order; a hard failure skips the rest."</p>
                    <DoctorPanel allow_url=false/>
                </section>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

fn badge(ok: bool, bad: bool) -> &'static str {
    if bad {
        "badge bad"
    } else if ok {
        "badge applied"
    } else {
        "badge"
    }
}

#[component]
fn Badges(t: TroubleView, enable: ServerAction<EnablePgTrgm>) -> impl IntoView {
    let (up, down_why) = match &t.status.connection {
        Connection::Up(_) => (true, None),
        Connection::Down(why) => (false, Some(why.clone())),
    };
    let facts = match &t.status.connection {
        Connection::Up(f) => Some(f.clone()),
        Connection::Down(_) => None,
    };
    let dirty = t.status.dirty_version();
    let migration_text = match facts.as_ref().map(|f| &f.migration) {
        Some(SchemaVersion::At {
            version,
            dirty: true,
        }) => format!("dirty at version {version}"),
        Some(SchemaVersion::At { version, .. }) => format!("clean at version {version}"),
        Some(SchemaVersion::NoTable) => "no migrations table".to_string(),
        Some(SchemaVersion::NoVersion) => "no version yet".to_string(),
        None => "unknown (not connected)".to_string(),
    };
    let trgm = facts.as_ref().map(|f| f.pg_trgm.clone());
    let trgm_text = match &trgm {
        Some(Extension::Installed(v)) => format!("installed ({v})"),
        Some(Extension::Available) => "available, not installed".to_string(),
        Some(Extension::NotAvailable) => "not available on the server".to_string(),
        None => "unknown (not connected)".to_string(),
    };
    let trgm_ok = matches!(trgm, Some(Extension::Installed(_)));
    let tools_ok = t.tools.iter().all(|c| c.ok);
    let enable_msg = move || {
        enable.value().get().map(|r| match r {
            Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
        })
    };
    view! {
        <div class="grid" data-testid="wizards">
            <section class="card" data-testid="wizard-dirty">
                <h2>"Dirty migration state"</h2>
                <p><span class=badge(dirty.is_none() && up, dirty.is_some()) data-testid="badge-dirty">{migration_text}</span></p>
                {match dirty {
                    Some(v) => view! {
                        <p>{format!("Version {v} failed part-way. Migrations are refused until the state is repaired.")}</p>
                        <a class="button primary" href="/troubleshooting?wizard=dirty">"Repair the dirty state"</a>
                    }.into_any(),
                    None => view! { <p class="muted small">"golang-migrate marks a version dirty when its file fails; nothing to repair now."</p> }.into_any(),
                }}
            </section>
            <section class="card" data-testid="wizard-connection">
                <h2>"Connection"</h2>
                <p><span class=badge(up, !up) data-testid="badge-connection">{if up { "connected" } else { "not connected" }}</span></p>
                {down_why.map(|w| view! { <p class="error small">{w}</p> })}
                <a class="button" href="/troubleshooting?wizard=connection">"Run the connection doctor"</a>
            </section>
            <section class="card" data-testid="wizard-pg_trgm">
                <h2>"pg_trgm extension"</h2>
                <p><span class=badge(trgm_ok, !trgm_ok) data-testid="badge-pg_trgm">{trgm_text}</span></p>
                {(!trgm_ok).then(|| view! {
                    <p class="small">"HoloMUSH's name searches need it. The fix: " <code>"CREATE EXTENSION IF NOT EXISTS pg_trgm;"</code></p>
                    <ActionForm action=enable>
                        <button type="submit" class="primary">"Enable pg_trgm"</button>
                    </ActionForm>
                })}
                {enable_msg}
            </section>
            <section class="card" data-testid="wizard-tools">
                <h2>"Client tools"</h2>
                <p><span class=badge(tools_ok, !tools_ok) data-testid="badge-tools">{if tools_ok { "ready" } else { "needs attention" }}</span></p>
                <ul class="plain small">
                    {t.tools.iter().map(|c| view! { <li data-tool=c.name.clone()>{c.message.clone()}{(!c.path.is_empty()).then(|| view! { " " <code>{c.path.clone()}</code> })}</li> }).collect_view()}
                </ul>
            </section>
        </div>
    }
}

/// The four steps: what happened, what took effect, what to do, do it.
#[component]
fn RepairWizard() -> impl IntoView {
    let report = Resource::new(|| (), |_| repair_view());
    let start = ServerAction::<StartRepair>::new();
    // The repair started from this wizard comes back as ?job=N.
    let query = leptos_router::hooks::use_query_map();
    let job = query
        .read_untracked()
        .get("job")
        .and_then(|j| j.parse::<u64>().ok());
    let choice = RwSignal::new(0usize);
    let safety = RwSignal::new(true);
    view! {
        <section class="card wizard" data-testid="repair-wizard">
            <h2>"Repair the dirty migration state"</h2>
            <Transition fallback=|| view! { <p class="muted">"Analysing…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                        Ok(v) => view! { <RepairSteps v choice safety start/> }.into_any(),
                    }
                })}
            </Transition>
            // An error of a post made before the page was hydrated comes back in the address.
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
            {job.map(|id| view! { <JobIsland id/> })}
        </section>
    }
}

#[component]
fn RepairSteps(
    v: RepairView,
    choice: RwSignal<usize>,
    safety: RwSignal<bool>,
    start: ServerAction<StartRepair>,
) -> impl IntoView {
    let r = v.report;
    if r.conclusion == RepairConclusion::Clean {
        return view! {
            <p class="notice" role="status" data-testid="repair-clean">{format!(
                "The database is clean at version {}: nothing to repair.", r.version
            )}</p>
        }
        .into_any();
    }
    let version = r.version;
    let locked = !r.lock_holders.is_empty();
    let mut options = vec![r.recommendation.clone()];
    options.extend(r.alternatives.iter().cloned());
    let options = StoredValue::new(options);
    let conclusion = match r.conclusion {
        RepairConclusion::NotApplied => format!("Nothing from version {version} took effect: PostgreSQL ran the file as one transaction and rolled it back."),
        RepairConclusion::Applied => format!("Version {version} took effect in full: the process stopped after its SQL committed and before the version was written."),
        RepairConclusion::Partial => format!("Part of version {version} took effect (a file with CREATE INDEX CONCURRENTLY, an explicit COMMIT, or hand edits)."),
        RepairConclusion::Clean => String::new(),
    };
    let describe = move |a: RepairAction, ver: Option<i64>| {
        match (a, ver) {
        (RepairAction::Force, Some(p)) if p == version => format!("Force version {p}: mark it applied (clean)"),
        (RepairAction::Force, Some(p)) => format!("Force version {p}: mark the version before it as current, then fix the file and migrate up again"),
        (RepairAction::RunDownThenForce, Some(p)) => format!("Run version {version}'s down SQL, then force version {p}"),
        (RepairAction::Restore, _) => "Restore the newest backup taken before the failure".to_string(),
        _ => "Nothing to do".to_string(),
    }
    };
    let down_sql = r.down_sql.clone();
    let newest_backup = v.newest_backup.clone();
    view! {
        // One form: the option picked, the safety backup and the typed version post together
        // (in the background once the page is hydrated).
        <ActionForm action=start>
        <ol class="steps">
            <li data-testid="step-happened">
                <h3>"1. What happened"</h3>
                <p>{format!("Database \"{}\" on {} is dirty at version {version}.", r.target.database, r.target.host)}</p>
                {r.last_history.clone().map(|h| view! {
                    <p class="small">{format!(
                        "Last run of {version}: {} by {} at {}{}",
                        h.direction,
                        h.actor,
                        h.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                        if h.success { " (succeeded)".to_string() } else { " (failed)".to_string() }
                    )}</p>
                    {h.error.map(|e| view! { <pre class="error small" data-testid="history-error">{e}</pre> })}
                })}
                {if locked {
                    view! {
                        <div class="error" role="alert" data-testid="lock-holders">
                            <p>"A migration is running right now: these sessions hold golang-migrate's lock. Wait for them to finish before repairing."</p>
                            <ul>{r.lock_holders.iter().map(|h| view! { <li>{format!("pid {} ({}){}", h.pid, if h.application_name.is_empty() { "no application name" } else { h.application_name.as_str() }, h.since.map(|s| format!(", since {}", s.format("%H:%M:%S UTC"))).unwrap_or_default())}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any()
                } else {
                    view! { <p class="small muted">"No session holds golang-migrate's lock: no migration is running."</p> }.into_any()
                }}
            </li>
            <li data-testid="step-effect">
                <h3>"2. What took effect"</h3>
                {if r.objects.is_empty() {
                    view! { <p class="small">"The up file names no object this check recognises; judge from its SQL below."</p> }.into_any()
                } else {
                    view! {
                        <table class="records small" data-testid="objects">
                            <thead><tr><th>"Object"</th><th>"Name"</th><th>"Effect visible"</th></tr></thead>
                            <tbody>{r.objects.iter().map(|o| view! {
                                <tr><td>{o.kind.clone()}</td><td><code>{o.name.clone()}</code></td>
                                <td><span class=if o.present { "badge applied" } else { "badge" }>{if o.present { "yes" } else { "no" }}</span></td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }}
                <p data-testid="conclusion"><strong>{conclusion}</strong></p>
                {r.notes.iter().map(|n| view! { <p class="small muted">{n.clone()}</p> }).collect_view()}
                {r.up_sql.clone().map(|sql| view! { <details><summary>{format!("Version {version} up SQL")}</summary><pre class="small">{sql}</pre></details> })}
            </li>
            <li data-testid="step-todo">
                <h3>"3. What to do"</h3>
                {options.get_value().into_iter().enumerate().map(|(i, o)| {
                    let label = describe(o.action, o.version);
                    view! {
                        <label class="option">
                            <input type="radio" name="choice" value=o.action.choice(o.version.unwrap_or(version)) checked=i == 0 prop:checked=move || choice.get() == i on:change=move |_| choice.set(i)/>
                            <strong>{label}</strong>{(i == 0).then(|| view! { <span class="badge applied">"recommended"</span> })}
                            <br/><span class="small muted">{o.why.clone()}</span>
                        </label>
                    }
                }).collect_view()}
                {move || {
                    let picked = options.get_value().get(choice.get()).cloned();
                    match picked.map(|p| p.action) {
                        Some(RepairAction::RunDownThenForce) => down_sql.clone().map(|sql| view! {
                            <details open><summary>{format!("Version {version} down SQL (review it: it runs as written)")}</summary><pre class="small" data-testid="down-sql">{sql}</pre></details>
                        }.into_any()),
                        Some(RepairAction::Restore) => Some(view! {
                            <p class="small">{match newest_backup.clone() {
                                Some(f) => format!("Newest backup taken before the failure: {f}. Restore it from the Backups page."),
                                None => "No backup taken before the failure was found in the backup folder.".to_string(),
                            }} " " <a href="/backups">"Open Backups"</a></p>
                        }.into_any()),
                        _ => None,
                    }
                }}
            </li>
            <li data-testid="step-do">
                <h3>"4. Do it"</h3>
                <p><label><input type="checkbox" name="safety_backup" checked=true prop:checked=safety on:change=move |ev| safety.set(event_target_checked(&ev))/>" Take a safety backup first (a full pg_dump, kept and labelled safety)"</label></p>
                <p><label>{format!("Type the dirty version ({version}) to confirm ")}<input name="confirm" aria-label="Confirm version"/></label></p>
                {move || {
                    let restore = options.get_value().get(choice.get()).is_some_and(|o| o.action == RepairAction::Restore);
                    restore.then(|| view! { <p class="small">"A restore is done from the Backups page (restore in place), which takes its own safety backup."</p> })
                }}
                <button type="submit" class="danger" disabled=move || locked || options.get_value().get(choice.get()).is_some_and(|o| matches!(o.action, RepairAction::Restore | RepairAction::None))>"Repair"</button>
            </li>
        </ol>
        </ActionForm>
    }
    .into_any()
}
