//! `/jobs/{id}/events`: a job's log as server-sent events, fed by the job's watch channel,
//! so a page appends each line once instead of fetching the whole log again and again.
//! Events: `line` (a JobLine, its index as the event id), `progress` (a Progress) and a
//! last `end` (the JobView) before the stream closes. `?from=N` skips the lines a page already has; `Last-Event-ID` resumes after a drop.
//! Open streams are capped per session and overall (`streams.rs`): past the cap, 429.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};

use super::streams::Slot;
use super::Web;

/// `?from=N`: the page already shows the first N lines (the server rendered them).
#[derive(serde::Deserialize)]
pub struct From {
    from: Option<usize>,
}

pub async fn job_events(
    State(web): State<Arc<Web>>,
    Path(id): Path<u64>,
    Query(query): Query<From>,
    headers: HeaderMap,
) -> Response {
    let Some(job) = web.console.jobs.get(id) else {
        return (
            StatusCode::NOT_FOUND,
            format!("Job {id} is not known: it may be from before the console restarted."),
        )
            .into_response();
    };
    // The guard let this request through on its session cookie, so there is one.
    let token = session_cookie(&headers).unwrap_or_default();
    let slot = match web.streams.open(&token) {
        Ok(slot) => slot,
        Err(sentence) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                sentence,
            )
                .into_response();
        }
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(query.from.unwrap_or(0), |last| last + 1);
    Sse::new(events(job, resume, slot))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

struct Cursor {
    job: Arc<ops::jobs::Job>,
    rx: tokio::sync::watch::Receiver<u64>,
    seen: usize,
    last_progress: Option<ops::model::Progress>,
    ended: bool,
    /// Held while the stream is open (dropped with it when it ends or the client goes).
    _slot: Slot,
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == ops::auth::SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

fn events(
    job: Arc<ops::jobs::Job>,
    seen: usize,
    slot: Slot,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let rx = job.subscribe();
    let cursor = Cursor {
        job,
        rx,
        seen,
        last_progress: None,
        ended: false,
        _slot: slot,
    };
    stream::unfold(cursor, |mut c| async move {
        if c.ended {
            return None;
        }
        loop {
            let (lines, progress, done) = c.job.since(c.seen);
            let mut batch: Vec<Event> = Vec::new();
            for (i, line) in lines {
                if let Ok(e) = Event::default()
                    .event("line")
                    .id(i.to_string())
                    .json_data(&line)
                {
                    batch.push(e);
                }
                c.seen = i + 1;
            }
            if let Some(p) = progress.filter(|p| c.last_progress.as_ref() != Some(p)) {
                if let Ok(e) = Event::default().event("progress").json_data(&p) {
                    batch.push(e);
                }
                c.last_progress = Some(p);
            }
            if done {
                if let Ok(e) = Event::default().event("end").json_data(c.job.view()) {
                    batch.push(e);
                }
                c.ended = true;
            }
            if !batch.is_empty() {
                let items: Vec<Result<Event, Infallible>> = batch.into_iter().map(Ok).collect();
                return Some((stream::iter(items), c));
            }
            if c.rx.changed().await.is_err() {
                return None;
            }
        }
    })
    .flatten()
}
