use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use ops::model::{AuditFilter, Outcome};

use crate::api::list_activity;

/// The audit log, newest first; the filter lives in the address so it can be shared.
#[component]
pub fn ActivityPage() -> impl IntoView {
    let q = use_query_map().get_untracked();
    let value = |key: &str| q.get(key).unwrap_or_default();
    let filter = AuditFilter {
        action: value("action"),
        actor: value("actor"),
        outcome: match q.get("outcome").as_deref() {
            Some("ok") => Some(Outcome::Ok),
            Some("failed") => Some(Outcome::Failed),
            _ => None,
        },
        text: value("q"),
        limit: 200,
    };
    // The form shows the filter it was read with (attributes: the page is not hydrated).
    let outcome = filter.outcome;
    let (action, actor, text) = (
        filter.action.clone(),
        filter.actor.clone(),
        filter.text.clone(),
    );
    let records = Resource::new(|| (), move |_| list_activity(filter.clone()));
    view! {
        <Title text="Activity"/>
        <header class="page-head">
            <h1>"Activity"</h1>
            <p class="muted">"Every action taken through the console, newest first. Kept in the console's data folder, so it survives a restore."</p>
        </header>
        <form method="get" action="/activity" class="filters card">
            <label>"Action" <input name="action" placeholder="login" value=action/></label>
            <label>"Actor" <input name="actor" placeholder="admin" value=actor/></label>
            <label>"Outcome"
                <select name="outcome">
                    <option value="">"any"</option>
                    <option value="ok" selected=outcome == Some(Outcome::Ok)>"ok"</option>
                    <option value="failed" selected=outcome == Some(Outcome::Failed)>"failed"</option>
                </select>
            </label>
            <label>"Text" <input name="q" placeholder="anything" value=text/></label>
            <button type="submit">"Filter"</button>
            <a href="/activity" class="muted">"Clear"</a>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Reading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match records.await {
                    Err(e) => crate::error::alert(e).into_any(),
                    Ok(rows) if rows.is_empty() => view! { <p class="muted">"No matching activity."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="records" data-testid="activity">
                            <thead><tr><th>"Time (UTC)"</th><th>"Actor"</th><th>"Action"</th><th>"Target"</th><th>"Outcome"</th><th>"Detail"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| view! {
                                    <tr class=r.outcome.as_str()>
                                        <td>{r.time.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                        <td>{r.actor}</td>
                                        <td><code>{r.action}</code></td>
                                        <td>{r.target}</td>
                                        <td>{r.outcome.as_str()}</td>
                                        <td>{r.detail}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
