//! The Settings page: the effective configuration and where each value came from, the
//! live pool, warnings, a connection test, and the lines to paste into a .env file.

use leptos::prelude::*;
use leptos_meta::Title;
use ops::model::{SettingSource, SettingsView};

use super::doctor::DoctorPanel;
use crate::api::settings_view;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let view_res = Resource::new(|| (), |_| settings_view());
    view! {
        <Title text="Settings"/>
        <header class="page-head">
            <h1>"Settings"</h1>
            <p class="muted">"Settings come from the environment. To change one, set the variable where the console is started (or in its .env file) and restart it."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Reading the settings…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Ok(v) => view! { <Effective v/> }.into_any(),
                    Err(e) => crate::error::alert(e).into_any(),
                }
            })}
        </Transition>
        <section class="card" data-testid="test-connection">
            <h2>"Test another connection"</h2>
            <DoctorPanel allow_url=true/>
        </section>
    }
}

#[component]
fn Effective(v: SettingsView) -> impl IntoView {
    let u = v.url.clone();
    let pool = v.pool;
    view! {
        {(!v.warnings.is_empty()).then(|| view! {
            <section class="card bad" data-testid="settings-warnings">
                <h2>"Warnings"</h2>
                <ul>{v.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
            </section>
        })}
        <div class="grid">
            <section class="card" data-testid="database-url">
                <h2>"DATABASE_URL"</h2>
                <dl class="facts">
                    <dt>"Scheme"</dt><dd>{u.scheme.clone()}</dd>
                    <dt>"User"</dt><dd>{u.user.clone()}</dd>
                    <dt>"Password"</dt><dd>{if u.password_set { "••••••••" } else { "(none)" }}</dd>
                    <dt>"Host"</dt><dd>{u.host.clone()}</dd>
                    <dt>"Port"</dt><dd>{u.port}</dd>
                    <dt>"Database"</dt><dd>{u.database.clone()}</dd>
                    <dt>"sslmode"</dt><dd>{u.sslmode.clone().unwrap_or_else(|| "(not set: prefer)".to_string())}</dd>
                    {u.params.iter().map(|(k, val)| view! { <dt>{k.clone()}</dt><dd>{val.clone()}</dd> }).collect_view()}
                </dl>
            </section>
            <section class="card" data-testid="pool">
                <h2>"Connection pool (live)"</h2>
                <dl class="facts">
                    <dt>"Open"</dt><dd>{pool.size}</dd>
                    <dt>"Idle"</dt><dd>{pool.idle}</dd>
                    <dt>"In use"</dt><dd>{pool.in_use}</dd>
                    <dt>"Max (DB_MAX_CONNS)"</dt><dd>{pool.max}</dd>
                    <dt>"Min (DB_MIN_CONNS)"</dt><dd>{pool.min}</dd>
                    <dt>"Server max_connections"</dt><dd>{v.server_max_connections.map_or("unknown".to_string(), |n| n.to_string())}</dd>
                </dl>
            </section>
        </div>
        <section class="card" data-testid="client-tools">
            <h2>"Client tools"</h2>
            <p class="muted small">{match v.server_major {
                Some(m) => format!("The console runs these against PostgreSQL {m}: each at least as new as the server (and as the pg_dump that wrote an archive it restores). pg_dump is the server's own major's when installed, so PostgreSQL {m}'s own pg_restore reads the archives; pg_restore and psql are the newest found."),
                None => "The server did not answer, so the tools are not checked against its version.".to_string(),
            }}</p>
            <table class="records">
                <thead><tr><th>"Tool"</th><th>"Version"</th><th>"Binary"</th><th>"Why"</th></tr></thead>
                <tbody>{v.tools.iter().map(|t| view! {
                    <tr data-tool=t.name.clone() class=if t.ok { "" } else { "bad" }>
                        <td><code>{t.name.clone()}</code></td>
                        <td>{t.version.clone()}</td>
                        <td><code>{t.path.clone()}</code></td>
                        <td>{t.message.clone()}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </section>
        <section class="card" data-testid="settings">
            <h2>"Effective configuration"</h2>
            <table class="records">
                <thead><tr><th>"Variable"</th><th>"Value"</th><th>"From"</th></tr></thead>
                <tbody>{v.settings.iter().map(|s| view! {
                    <tr data-setting=s.name.clone()>
                        <td><code>{s.name.clone()}</code></td>
                        <td>{s.value.clone()}</td>
                        <td>{match s.source { SettingSource::Environment => "environment", SettingSource::Default => "default" }}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </section>
        <section class="card" data-testid="env-lines">
            <h2>"Copy as .env"</h2>
            <p class="muted small">"The password is left as CHANGE_ME: put the real one in yourself."</p>
            <pre>{v.env_lines.clone()}</pre>
        </section>
    }
}
