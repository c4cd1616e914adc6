//! The connection doctor's steps, run on the server, shown as a checklist.

use leptos::prelude::*;
use ops::model::{DoctorReport, StepStatus};

use crate::api::RunDoctor;

/// Runs the doctor on the console's own connection, or (with `allow_url`) on a URL typed
/// here: it is sent once, never saved or logged, and the field is cleared afterwards.
#[island]
pub fn DoctorPanel(allow_url: bool) -> impl IntoView {
    let run = ServerAction::<RunDoctor>::new();
    let url = RwSignal::new(String::new());
    Effect::new(move |_| {
        if run.value().get().is_some() {
            url.set(String::new());
        }
    });
    view! {
        <div class="doctor" data-testid="doctor">
            {allow_url.then(|| view! {
                <label>"Connection URL to test "
                    <input class="wide" prop:value=url on:input=move |ev| url.set(event_target_value(&ev))
                        placeholder="postgres://user:password@host:5432/holomush?sslmode=disable"
                        autocomplete="off" spellcheck="false" aria-label="Connection URL to test"/>
                </label>
                <p class="muted small">"Not saved and not logged; leave it empty to test the console's own DATABASE_URL."</p>
            })}
            <button class="primary" disabled=move || run.pending().get() on:click=move |_| {
                let typed = url.get_untracked();
                run.dispatch(RunDoctor { url: (!typed.trim().is_empty()).then_some(typed) });
            }>{move || if run.pending().get() { "Running…" } else { "Run the doctor" }}</button>
            {move || run.value().get().map(|r| match r {
                Ok(report) => view! { <Steps report/> }.into_any(),
                Err(e) => crate::error::alert(e).into_any(),
            })}
        </div>
    }
}

#[component]
pub fn Steps(report: DoctorReport) -> impl IntoView {
    view! {
        <p class=if report.ok { "notice" } else { "error" } role="status" data-testid="doctor-verdict">
            {if report.ok { "Every step passed (warnings aside)." } else { "A step failed: its fix is beside it." }}
        </p>
        <table class="records" data-testid="doctor-steps">
            <thead><tr><th>"Step"</th><th>"Result"</th><th>"Found"</th><th>"Fix"</th><th>"ms"</th></tr></thead>
            <tbody>
                {report.steps.into_iter().map(|s| {
                    let (label, class) = match s.status {
                        StepStatus::Pass => ("pass", "badge applied"),
                        StepStatus::Warn => ("warn", "badge warn"),
                        StepStatus::Fail => ("fail", "badge bad"),
                        StepStatus::Skip => ("skip", "badge"),
                    };
                    view! {
                        <tr data-step=s.id.as_str() data-status=label>
                            <td><code>{s.id.as_str()}</code></td>
                            <td><span class=class>{label}</span></td>
                            <td>{s.message.clone()}</td>
                            <td class="small">{s.fix.clone().unwrap_or_default()}</td>
                            <td>{s.duration_ms}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
