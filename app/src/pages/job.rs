//! Watching a job of the runner from a page: its live log, cancel, result, failing SQL.

use std::time::Duration;

use leptos::prelude::*;
use ops::model::{JobStatus, JobView, SqlFailure};

use crate::api::{job_status, CancelJob};
use crate::error::AppError;

const POLL: Duration = Duration::from_millis(400);

pub type JobResource = Resource<Result<Option<JobView>, AppError>>;

pub struct JobWatch {
    /// Set it to follow a job.
    pub id: RwSignal<Option<u64>>,
    pub res: JobResource,
}

/// Follows the job in `id` while it runs; calls `on_done` once when it ends.
pub fn watch_job(on_done: impl Fn() + Send + Sync + 'static) -> JobWatch {
    let job_id = RwSignal::new(None::<u64>);
    let tick = RwSignal::new(0u64);
    let job_res = Resource::new(
        move || (job_id.get(), tick.get()),
        |(id, _)| async move {
            match id {
                Some(id) => job_status(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let running = move || {
        job_res
            .get_untracked()
            .and_then(|r| r.ok())
            .flatten()
            .is_some_and(|j| j.status == JobStatus::Running)
            || (job_id.get_untracked().is_some() && job_res.get_untracked().is_none())
    };
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(
            move || {
                if running() {
                    tick.update(|t| *t += 1)
                }
            },
            POLL,
        ) {
            on_cleanup(move || h.clear());
        }
    });
    let finished = StoredValue::new(None::<u64>);
    Effect::new(move |_| {
        if let Some(Ok(Some(job))) = job_res.get() {
            if job.status != JobStatus::Running && finished.get_value() != Some(job.id) {
                finished.set_value(Some(job.id));
                on_done();
            }
        }
    });
    JobWatch {
        id: job_id,
        res: job_res,
    }
}

#[component]
pub fn JobPanel(job_res: JobResource) -> impl IntoView {
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
                                {job.progress.clone().filter(|_| job.status == JobStatus::Running).map(|p| view! { <ProgressBar p/> })}
                                <ol class="log">
                                    {job.lines.iter().map(|l| view! { <li><span class="at">{format!("{:.3}s", l.at_ms as f64 / 1000.0)}</span>{l.text.clone()}</li> }).collect_view()}
                                </ol>
                                {(job.status == JobStatus::Running).then(|| view! {
                                    <button on:click=move |_| { cancel.dispatch(CancelJob { id }); }>"Cancel after this step"</button>
                                })}
                                {job.result.clone().map(|r| view! {
                                    <p class=if job.status == JobStatus::Succeeded { "notice" } else { "error" } role="status" data-testid="job-result">{r}</p>
                                })}
                                {job.failure.clone().map(|f| view! { <FailedSql f message=job.result.clone().unwrap_or_default()/> })}
                            </section>
                        }.into_any()
                    }
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
    }
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
