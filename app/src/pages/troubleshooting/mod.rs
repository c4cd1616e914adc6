//! The Troubleshooting page: a badge per wizard (dirty state, connection, pg_trgm,
//! client tools), and the guided repair of a dirty migration version.

mod repair;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use ops::model::{Connection, Extension, SchemaVersion, TroubleView};

use super::doctor::DoctorPanel;
use super::posted::refused;
use crate::api::{troubleshooting_view, EnablePgTrgm};
use repair::RepairWizard;

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
    let query = leptos_router::hooks::use_query_map().get_untracked();
    let open = match query.get("wizard").as_deref() {
        Some("dirty") => Some(Wizard::Dirty),
        Some("connection") => Some(Wizard::Connection),
        _ => None,
    };
    // The repair started from its wizard comes back as ?job=N.
    let job = query.get("job").and_then(|j| j.parse::<u64>().ok());
    view! {
        <Title text="Troubleshooting"/>
        <header class="page-head">
            <h1>"Troubleshooting"</h1>
            <p class="muted">"Each check is read as the page loads. Open a wizard to see what is wrong, why, and how to fix it."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
            {move || Suspend::new(async move {
                match badges.await {
                    Err(e) => crate::error::alert(e).into_any(),
                    Ok(t) => view! { <Badges t/> }.into_any(),
                }
            })}
        </Transition>
        {match open {
            Some(Wizard::Dirty) => view! { <RepairWizard job/> }.into_any(),
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
fn Badges(t: TroubleView) -> impl IntoView {
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
                    <form method="post" action=EnablePgTrgm::PATH>
                        <button type="submit" class="primary">"Enable pg_trgm"</button>
                    </form>
                })}
                // What it did comes back as the page's notice.
                {refused(&[EnablePgTrgm::PATH])}
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
