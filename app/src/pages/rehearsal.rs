//! A rehearsal's report: a row and a bar per file (its length proportional to the file's
//! time; an SVG rect, since the security policy refuses inline styles), the locks each took
//! on existing tables, then the schema difference.

use leptos::prelude::*;
use ops::model::{Rehearsal, RehearsalStep};

#[component]
pub fn RehearsalReport(r: Rehearsal) -> impl IntoView {
    let longest = r
        .steps
        .iter()
        .map(|s| s.duration_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let copied = String::from(r.copied_from.clone());
    view! {
        <section class="card rehearsal" data-testid="rehearsal">
            <h2>{if r.ok { "Rehearsal: every file ran" } else { "Rehearsal: not clean" }}</h2>
            <p class="muted small">
                "On the scratch copy " <code>{r.scratch.clone()}</code> " (copied from " {copied}
                ", dropped afterwards) in " {r.total_ms} " ms; the live database was not changed."
            </p>
            {r.error.clone().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <table class="records">
                <thead><tr><th>"Version"</th><th>"Name"</th><th>"Result"</th><th>"Took"</th><th class="bar-cell">"Time"</th><th>"Locks on existing tables"</th></tr></thead>
                <tbody>
                    {r.steps.into_iter().map(|s| view! { <StepRow s longest/> }).collect_view()}
                </tbody>
            </table>
            {(!r.schema_changes.is_empty()).then(|| view! {
                <h3>"Schema changes"</h3>
                <table class="records" data-testid="schema-changes">
                    <thead><tr><th>"Change"</th><th>"Kind"</th><th>"Name"</th><th>"Definition"</th></tr></thead>
                    <tbody>
                        {r.schema_changes.into_iter().map(|c| view! {
                            <tr class=format!("change-{}", c.change.as_str())>
                                <td>{c.change.as_str()}</td>
                                <td>{c.kind}</td>
                                <td><code>{c.name}</code></td>
                                <td><code>{c.after.or(c.before).unwrap_or_default()}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

#[component]
fn StepRow(s: RehearsalStep, longest: u64) -> impl IntoView {
    let width = (s.duration_ms as f64 / longest as f64 * 100.0).max(0.5);
    let locks = match (&s.locks_unknown, s.locks.is_empty()) {
        (Some(why), _) => format!("unknown: {why}"),
        (None, true) => "none".to_string(),
        (None, false) => s
            .locks
            .iter()
            .map(|l| format!("{} {}", l.relation, l.mode))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let class = if s.ok {
        "rehearsal-ok"
    } else {
        "rehearsal-failed"
    };
    view! {
        <tr class=class data-version=s.version>
            <td>{s.version}</td>
            <td>{s.name.clone()}</td>
            <td><span class=if s.ok { "badge applied" } else { "badge bad" }>{if s.ok { "ok" } else { "failed" }}</span></td>
            <td>{format!("{} ms", s.duration_ms)}</td>
            <td class="bar-cell">
                <svg class="duration-bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=format!("{} ms", s.duration_ms)>
                    <rect x="0" y="0" width=format!("{width:.1}") height="10" class=class/>
                </svg>
            </td>
            <td>{locks}</td>
        </tr>
        {s.error.map(|e| view! { <tr class="rehearsal-error"><td></td><td colspan="5" class="error">{e}</td></tr> })}
    }
}
