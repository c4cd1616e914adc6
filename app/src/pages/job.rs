//! Watching a job of the runner from a page: its live log, cancel, result, failing SQL.

use leptos::prelude::*;
use ops::model::{JobLine, JobOutput, JobStatus, JobView, Progress, SqlFailure};

use super::rehearsal::RehearsalReport;

use crate::api::{job_status, CancelJob};
use crate::error::AppError;

pub type JobResource = Resource<Result<Option<JobView>, AppError>>;

/// What arrived over the job's event stream since the resource last read it.
#[derive(Clone, Copy)]
pub struct Live {
    pub lines: RwSignal<Vec<JobLine>>,
    pub progress: RwSignal<Option<Progress>>,
}

pub struct JobWatch {
    pub res: JobResource,
    pub live: Live,
}

/// Follows one job; called by `JobIsland`, whose signals these are. The server reads it into
/// the page; in the browser, while it runs, its new lines arrive as server-sent events
/// (`/jobs/{id}/events`) and are appended, and when it ends the page is loaded again, so
/// everything on it (the list, the version, the badges) shows what the job did.
pub fn watch_job_reloading(id: u64) -> JobWatch {
    let res = Resource::new(
        || (),
        move |_| async move { job_status(id).await.map(Some) },
    );
    let live = Live {
        lines: RwSignal::new(Vec::new()),
        progress: RwSignal::new(None),
    };
    #[cfg(feature = "hydrate")]
    stream::follow(res, live, || {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    JobWatch { res, live }
}

#[cfg(feature = "hydrate")]
mod stream {
    use leptos::prelude::*;
    use ops::model::{JobLine, JobStatus, Progress};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    use super::{JobResource, Live};

    /// Each time the resource reads a running job, listens for what follows it.
    pub fn follow(res: JobResource, live: Live, ended: impl Fn() + Clone + 'static) {
        let open = StoredValue::new_local(None::<EventSource>);
        let close = move || {
            open.update_value(|e| {
                if let Some(e) = e.take() {
                    e.close();
                }
            })
        };
        Effect::new(move |_| {
            close();
            live.lines.set(Vec::new());
            live.progress.set(None);
            if let Some(Ok(Some(job))) = res.get() {
                if job.status == JobStatus::Running {
                    let es = listen(job.id, job.lines_logged(), live, {
                        let ended = ended.clone();
                        move || {
                            close();
                            ended();
                        }
                    });
                    open.set_value(es);
                }
            }
        });
        on_cleanup(close);
    }

    fn data<T: serde::de::DeserializeOwned>(e: &MessageEvent) -> Option<T> {
        e.data()
            .as_string()
            .and_then(|text| serde_json::from_str(&text).ok())
    }

    fn on(es: &EventSource, name: &str, mut f: impl FnMut(MessageEvent) + 'static) {
        let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| f(e));
        let _ = es.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        cb.forget();
    }

    fn listen(id: u64, from: usize, live: Live, ended: impl Fn() + 'static) -> Option<EventSource> {
        let es = EventSource::new(&format!("/jobs/{id}/events?from={from}")).ok()?;
        on(&es, "line", move |e| {
            if let Some(line) = data::<JobLine>(&e) {
                live.lines.update(|v| v.push(line));
            }
        });
        on(&es, "progress", move |e| {
            if let Some(p) = data::<Progress>(&e) {
                live.progress.set(Some(p));
            }
        });
        on(&es, "end", move |_| ended());
        Some(es)
    }
}

/// `/jobs/{id}`: one job on a page of its own. A form posted without JavaScript lands here
/// (see `guard::started`); while the job runs the page reloads itself every two seconds
/// when JavaScript is off, and follows the job live when it is on.
#[component]
pub fn JobPage() -> impl IntoView {
    let id = leptos_router::hooks::use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|v| v.parse::<u64>().ok());
    view! {
        <leptos_meta::Title text="Job"/>
        <header class="page-head">
            <h1>"Job"</h1>
            <p class="muted">"The job's log as it runs. " <a href="/backups">"Backups"</a> " · " <a href="/migrations">"Migrations"</a> " · " <a href="/activity">"Activity"</a></p>
        </header>
        {id.is_none().then(|| view! { <p class="error" role="alert">"This is not a job's address: job pages are /jobs/<number>."</p> })}
        {id.map(|id| view! { <JobIsland id/> })}
    }
}

/// A job's panel, live: its log streams in while it runs.
#[island]
pub fn JobIsland(id: u64) -> impl IntoView {
    let JobWatch { res, live, .. } = watch_job_reloading(id);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let running = matches!(res.await, Ok(Some(ref j)) if j.status == JobStatus::Running);
                running.then(|| view! { <noscript><meta http-equiv="refresh" content="2"/></noscript> })
            })}
        </Transition>
        <JobPanel job_res=res live/>
    }
}

#[component]
pub fn JobPanel(job_res: JobResource, live: Live) -> impl IntoView {
    let cancel = ServerAction::<CancelJob>::new();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match job_res.await {
                    Ok(Some(job)) => {
                        let id = job.id;
                        let status = match job.status {
                            JobStatus::Running => "running",
                            JobStatus::Succeeded => "succeeded",
                            JobStatus::Failed => "failed",
                            JobStatus::Cancelled => "cancelled",
                        };
                        view! {
                            <section class=format!("card job {status}") data-testid="job" aria-live="polite">
                                <h2>{format!("Job #{} · {} · {status}", job.id, job.kind)}</h2>
                                {(job.status == JobStatus::Running).then(|| {
                                    let first = job.progress.clone();
                                    move || live.progress.get().or_else(|| first.clone()).map(|p| view! { <ProgressBar p/> })
                                })}
                                <ol class="log">
                                    {job.lines.iter().map(|l| view! { <LogLine l=l.clone()/> }).collect_view()}
                                    // Lines after those the page was read with, each added once.
                                    <For
                                        each=move || live.lines.get().into_iter().enumerate()
                                        key=|(i, _)| *i
                                        children=|(_, l)| view! { <LogLine l/> }
                                    />
                                </ol>
                                {(job.status == JobStatus::Running).then(|| view! {
                                    <ActionForm action=cancel>
                                        <input type="hidden" name="id" value=id.to_string()/>
                                        <button type="submit">"Cancel after this step"</button>
                                    </ActionForm>
                                })}
                                {job.result.clone().map(|r| view! {
                                    <p class=if job.status == JobStatus::Succeeded { "notice" } else { "error" } role="status" data-testid="job-result">{job.error_kind.map(|k| view! { <strong class="error-kind">{k.label()}</strong> ": " })}{r}</p>
                                })}
                                {job.failure.clone().map(|f| view! { <FailedSql f message=job.result.clone().unwrap_or_default()/> })}
                                {match (&job.output, job.status) {
                                    (_, JobStatus::Running) => None,
                                    (Some(JobOutput::Rehearsal(r)), _) => Some(view! { <RehearsalReport r=r.clone()/> }),
                                    _ => None,
                                }}
                            </section>
                        }.into_any()
                    }
                    Ok(None) => ().into_any(),
                    Err(e) => crate::error::alert(e).into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LogLine(l: JobLine) -> impl IntoView {
    view! { <li><span class="at">{format!("{:.3}s", l.at_ms as f64 / 1000.0)}</span>{l.text}</li> }
}

/// Stage, objects done of the total, bytes and elapsed time, as a bar.
#[component]
pub fn ProgressBar(p: ops::model::Progress) -> impl IntoView {
    let pct = (p.fraction() * 100.0).round();
    let mut words = format!("{}: {} of {}", p.stage, p.done, p.total);
    if p.bytes > 0 {
        words.push_str(&format!(
            ", {} written",
            ops::model::format_bytes(i64::try_from(p.bytes).unwrap_or(i64::MAX))
        ));
    }
    words.push_str(&format!(", {}s", p.elapsed_ms / 1000));
    view! {
        <div class="progress" data-testid="job-progress">
            <progress max="100" value=pct.to_string()>{format!("{pct}%")}</progress>
            <span>{words}</span>
        </div>
    }
}

/// The failing file with its failing line marked, as golang-migrate counted it.
#[component]
pub fn FailedSql(f: SqlFailure, message: String) -> impl IntoView {
    // PostgreSQL gives no position for some errors (a missing table in ALTER TABLE, say):
    // then point at the first line naming what the message quotes.
    let quoted = message
        .split('"')
        .nth(1)
        .filter(|q| !q.is_empty())
        .map(str::to_string);
    let guess = || {
        let q = quoted.clone()?;
        f.body
            .lines()
            .position(|l| l.contains(q.as_str()))
            .map(|i| (i as u32 + 1, q))
    };
    let (bad, where_) = match (f.line, f.column) {
        (Some(l), Some(c)) => (
            Some(l),
            format!("{} failed at line {l}, column {c}", f.file),
        ),
        (Some(l), None) => (Some(l), format!("{} failed at line {l}", f.file)),
        _ => match guess() {
            Some((l, q)) => (
                Some(l),
                format!(
                    "{} failed; PostgreSQL gave no position, line {l} is the first naming \"{q}\"",
                    f.file
                ),
            ),
            None => (None, format!("{} failed", f.file)),
        },
    };
    view! {
        <h3>{where_}</h3>
        <pre class="numbered" data-testid="failed-sql">
            {f.body.lines().enumerate().map(|(i, line)| {
                let n = i as u32 + 1;
                let class = if Some(n) == bad { "line bad-line" } else { "line" };
                view! { <span class=class data-line=n><span class="ln">{n}</span>{line.to_string()}"\n"</span> }
            }).collect_view()}
        </pre>
    }
}
