//! The archive folder: the table of archives, their sizes, retention, and the recent jobs.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use ops::model::{format_bytes, BackupsView, JobStatus, JobView, Manifest, Verification};

use crate::api::VerifyBackup;

#[component]
pub fn RecentJobs(jobs: Vec<JobView>) -> impl IntoView {
    (!jobs.is_empty()).then(|| view! {
        <section class="card" data-testid="recent-jobs">
            <h2>"Recent backup and restore jobs"</h2>
            <table class="records">
                <thead><tr><th>"#"</th><th>"Job"</th><th>"Started (UTC)"</th><th>"By"</th><th>"Status"</th><th>"Result"</th></tr></thead>
                <tbody>
                    {jobs.into_iter().map(|j| {
                        let (label, class) = match j.status {
                            JobStatus::Running => ("running", "badge"),
                            JobStatus::Succeeded => ("succeeded", "badge applied"),
                            JobStatus::Failed => ("failed", "badge bad"),
                            JobStatus::Cancelled => ("cancelled", "badge"),
                        };
                        view! {
                            <tr data-job=j.id>
                                <td>{j.id}</td>
                                <td>{j.kind.to_string()}</td>
                                <td>{j.started_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                <td>{j.actor.clone()}</td>
                                <td><span class=class>{label}</span></td>
                                <td class="small">{j.result.clone().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    })
}

#[component]
pub fn Catalog(v: BackupsView) -> impl IntoView {
    if v.archives.is_empty() {
        return view! { <p class="muted" data-testid="no-archives">{format!("No archives in {} yet: press Full backup.", v.dir)}</p> }.into_any();
    }
    let sizes = SizeChart(v.archives.clone());
    let would_delete = v.would_delete.clone();
    view! {
        <p class="muted small">"Folder " <code>{v.dir.clone()}</code> " · database " <strong>{v.database.clone()}</strong></p>
        <table class="records" data-testid="archives">
            <thead><tr><th>"Archive"</th><th>"Kind"</th><th>"Size"</th><th>"Created (UTC)"</th><th>"Database"</th><th>"Migration"</th><th>"pg_dump"</th><th>"sha256"</th><th>"Verified"</th><th></th></tr></thead>
            <tbody>
                {v.archives.into_iter().map(|m| view! { <ArchiveRow m/> }).collect_view()}
            </tbody>
        </table>
        {sizes}
        <section class="card" data-testid="retention">
            <h2>"Retention"</h2>
            <p>{v.retention.clone()}</p>
            <p data-testid="schedule">{v.schedule.clone()}</p>
            <p class="muted small">"Applied after each successful backup; never the newest verified archive, a safety backup younger than a day, or a file the console did not write."</p>
            {if would_delete.is_empty() {
                view! { <p class="muted small">"Nothing would be deleted now."</p> }.into_any()
            } else {
                view! { <p class="warning small">"The next backup would delete: " {would_delete.join(", ")}</p> }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn ArchiveRow(m: Manifest) -> impl IntoView {
    let file = m.file.clone();
    let contents_href = format!("/backups?contents={}", crate::query_value(&file));
    let restore_href = format!("/backups?restore={}", crate::query_value(&file));
    // The whole sentence on hover; a word or two in the cell.
    let verification = match &m.verification {
        Verification::Never => "not verified".to_string(),
        v => v.to_string(),
    };
    // Which pg_dump wrote it tells which pg_restore can read it (its major or newer).
    let (pg_dump, pg_dump_title) = match m.pg_dump_major() {
        Some(major) => (
            m.pg_dump_version.clone(),
            format!(
                "Written by pg_dump {}: pg_restore {major} or newer reads it",
                m.pg_dump_version
            ),
        ),
        None => (
            "—".to_string(),
            "Which pg_dump wrote it is not recorded".to_string(),
        ),
    };
    let verified_class = match m.verification {
        Verification::Verified | Verification::RestoreTested(_) => "badge applied",
        Verification::Failed(_) => "badge bad",
        Verification::Never => "badge",
    };
    view! {
        <tr data-file=file.clone()>
            <td><a href=format!("/files/backups/{file}") download=file.clone() rel="external">{file.clone()}</a>
                {m.safety.then(|| view! { <span class="badge">"safety"</span> })}</td>
            <td>{m.kind.as_str()}</td>
            <td data-testid="size">{format_bytes(i64::try_from(m.size).unwrap_or(i64::MAX))}</td>
            <td>{m.started_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td>{m.database.clone()}</td>
            <td>{match (m.migration_version, m.migration_dirty) {
                (Some(v), true) => format!("{v} (dirty)"),
                (Some(v), false) => v.to_string(),
                (None, _) => "—".to_string(),
            }}</td>
            <td data-testid="pg-dump" title=pg_dump_title>{pg_dump}</td>
            <td><code title=m.sha256.clone() data-testid="sha256">{m.sha256.get(..12).unwrap_or("").to_string()}</code></td>
            <td><span class=verified_class title=verification>{m.verification.label()}</span></td>
            <td class="row-actions">
                <form method="post" action=VerifyBackup::PATH class="inline">
                    <input type="hidden" name="file" value=file.clone()/>
                    <button type="submit" class="link" name="restore_test" value="false">"Verify"</button>
                    <button type="submit" class="link" name="restore_test" value="true" title="Restore into a scratch database (dropped afterwards) and compare every table's row count with the archive">"Test restore"</button>
                </form>
                <a class="link" href=contents_href>"Contents"</a>
                <a class="link" href=restore_href>"Restore…"</a>
            </td>
        </tr>
    }
}

/// Archive sizes over time, newest right.
#[allow(non_snake_case)]
fn SizeChart(mut archives: Vec<Manifest>) -> impl IntoView {
    archives.sort_by_key(|m| m.started_at);
    let max = archives.iter().map(|m| m.size).max().unwrap_or(1).max(1) as f64;
    let n = archives.len().max(1) as f64;
    let width = 960.0 / n;
    view! {
        <section class="card" data-testid="sizes">
            <h2>"Archive sizes"</h2>
            <svg viewBox="0 0 1000 120" class="timeline" role="img" aria-label="Archive sizes over time">
                {archives.into_iter().enumerate().map(|(i, m)| {
                    let h = 100.0 * m.size as f64 / max;
                    let x = 20.0 + i as f64 * width;
                    view! {
                        <rect x=x y=110.0 - h width=(width * 0.7).max(2.0) height=h.max(1.0) class=format!("bar {}", m.kind.as_str())>
                            <title>{format!("{} · {}", m.file, format_bytes(i64::try_from(m.size).unwrap_or(i64::MAX)))}</title>
                        </rect>
                    }
                }).collect_view()}
            </svg>
        </section>
    }
}
