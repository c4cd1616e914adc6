//! The guided repair of a dirty migration version, opened from its link
//! (`?wizard=dirty`): what happened, what took effect, what to do, do it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use ops::model::{RepairAction, RepairConclusion, RepairView};

use super::super::job::JobIsland;
use super::super::posted::refused;
use crate::api::{repair_view, StartRepair};

/// The four steps: what happened, what took effect, what to do, do it.
#[component]
pub fn RepairWizard(job: Option<u64>) -> impl IntoView {
    let report = Resource::new(|| (), |_| repair_view());
    view! {
        <section class="card wizard" data-testid="repair-wizard">
            <h2>"Repair the dirty migration state"</h2>
            <Transition fallback=|| view! { <p class="muted">"Analysing…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Err(e) => crate::error::alert(e).into_any(),
                        Ok(v) => view! { <RepairSteps v/> }.into_any(),
                    }
                })}
            </Transition>
            // A refused post comes back with its error in the address.
            {refused(&[StartRepair::PATH])}
            {job.map(|id| view! { <JobIsland id/> })}
        </section>
    }
}

#[component]
fn RepairSteps(v: RepairView) -> impl IntoView {
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
    // Off while a session holds the lock, or when the recommendation is not a repair this
    // form does (a restore is done from Backups); the server refuses those too.
    let blocked = locked
        || matches!(
            r.recommendation.action,
            RepairAction::Restore | RepairAction::None
        );
    let mut options = vec![r.recommendation.clone()];
    options.extend(r.alternatives.iter().cloned());
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
        // One plain form: the option picked, the safety backup and the typed version post
        // together.
        <form method="post" action=StartRepair::PATH>
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
                {options.into_iter().enumerate().map(|(i, o)| {
                    let label = describe(o.action, o.version);
                    let recommended = i == 0;
                    // What an option involves is shown beside it, whichever is picked: the
                    // page is not redrawn when another is (no island), and reads the same
                    // with JavaScript off. The recommended one's SQL is open.
                    let involves = match o.action {
                        RepairAction::RunDownThenForce => down_sql.clone().map(|sql| view! {
                            <details open=recommended><summary>{format!("Version {version} down SQL (review it: it runs as written)")}</summary><pre class="small" data-testid="down-sql">{sql}</pre></details>
                        }.into_any()),
                        RepairAction::Restore => Some(view! {
                            <p class="small">{match newest_backup.clone() {
                                Some(f) => format!("Newest backup taken before the failure: {f}. Restore it from the Backups page (restore in place), which takes its own safety backup."),
                                None => "No backup taken before the failure was found in the backup folder.".to_string(),
                            }} " " <a href="/backups">"Open Backups"</a></p>
                        }.into_any()),
                        _ => None,
                    };
                    view! {
                        <label class="option">
                            <input type="radio" name="choice" value=o.action.choice(o.version.unwrap_or(version)) checked=recommended/>
                            <strong>{label}</strong>{recommended.then(|| view! { <span class="badge applied">"recommended"</span> })}
                            <br/><span class="small muted">{o.why.clone()}</span>
                        </label>
                        {involves}
                    }
                }).collect_view()}
            </li>
            <li data-testid="step-do">
                <h3>"4. Do it"</h3>
                <p><label><input type="checkbox" name="safety_backup" checked=true/>" Take a safety backup first (a full pg_dump, kept and labelled safety)"</label></p>
                <p><label>{format!("Type the dirty version ({version}) to confirm ")}<input name="confirm" aria-label="Confirm version"/></label></p>
                <button type="submit" class="danger" disabled=blocked>"Repair"</button>
            </li>
        </ol>
        </form>
    }
    .into_any()
}
