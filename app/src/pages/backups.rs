use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use ops::model::{format_bytes, BackupKind, BackupsView, Manifest, Verification};

use super::job::JobIsland;
use crate::api::{
    backup_contents, backups_view, restore_warning, DeleteBackup, RestoreBackup, RestoreInPlace,
    RestoreToServer, StartBackup, VerifyBackup,
};
use crate::error::AppError;

#[component]
pub fn BackupsPage() -> impl IntoView {
    let refresh = RwSignal::new(0u64);
    let view_res = Resource::new(move || refresh.get(), |_| backups_view());
    let start = ServerAction::<StartBackup>::new();
    let verify = ServerAction::<VerifyBackup>::new();
    let restore = ServerAction::<RestoreBackup>::new();
    let in_place = ServerAction::<RestoreInPlace>::new();
    let to_server = ServerAction::<RestoreToServer>::new();
    let confirm = RwSignal::new(String::new());
    // A form posted without JavaScript comes back with its error in the address; the
    // server renders it from the action's value (effects run only in the browser). A
    // restore's refusal is shown in the restore panel, beside the field it is about.
    let backup_error = Memo::new(move |_| {
        [start.value(), verify.value()]
            .iter()
            .find_map(|v| v.get().and_then(|r| r.err()))
            .map(|e| e.message)
    });
    let restore_error = Memo::new(move |_| {
        [restore.value(), in_place.value(), to_server.value()]
            .iter()
            .find_map(|v| v.get().and_then(|r| r.err()))
            .map(|e: AppError| e.message)
    });
    // The panels open from links (?restore=FILE, ?contents=FILE), and a form posted from
    // one comes back to it; a job started here comes back as ?job=N.
    let query = leptos_router::hooks::use_query_map();
    let restore_file = Memo::new(move |_| query.read().get("restore"));
    let contents_file = Memo::new(move |_| query.read().get("contents"));
    let delete = ServerAction::<DeleteBackup>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = delete.value().get() {
            refresh.update(|r| *r += 1);
        }
    });
    let restore_into = RwSignal::new(String::new());
    // The target's name typed again, for an archive the console did not make.
    let confirm_into = RwSignal::new(String::new());
    let warning = Resource::new(
        move || restore_file.get(),
        |file| async move {
            match file {
                Some(f) => restore_warning(f).await,
                None => Ok(None),
            }
        },
    );
    let parallel = RwSignal::new(1u32);
    // Sent once with the restore and cleared at once: never kept, never shown again.
    let server_url = RwSignal::new(String::new());
    view! {
        <Title text="Backups"/>
        <header class="page-head">
            <h1>"Backups"</h1>
            <p class="muted">"pg_dump custom-format archives, as the operators' guide makes them; restore goes into a new database and never touches the current one."</p>
        </header>
        <section class="card actions" aria-label="Back up now">
            <h2>"Back up now"</h2>
            <ActionForm action=start attr:class="row">
                <button type="submit" name="kind" value=BackupKind::Full.as_str() class="primary">"Full backup"</button>
                <button type="submit" name="kind" value=BackupKind::Schema.as_str()>"Schema only"</button>
                <button type="submit" name="kind" value=BackupKind::Data.as_str()>"Data only"</button>
            </ActionForm>
            {move || backup_error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </section>
        <Transition fallback=|| view! { <p class="muted">"Reading the backup folder…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(v) => {
                        let job = query
                            .read_untracked()
                            .get("job")
                            .and_then(|j| j.parse::<u64>().ok())
                            .or(v.running_job);
                        let limit = v.upload_limit_mb;
                        let recent = v.recent_jobs.clone();
                        let uploaded = query.read_untracked().get("uploaded");
                        let upload_error = query.read_untracked().get("upload_error");
                        view! {
                            {job.map(|id| view! { <JobIsland id/> })}
                            <Catalog v verify/> <RecentJobs jobs=recent/> <Upload limit uploaded upload_error/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <Contents file=contents_file.into()/>
        <DeleteForm delete/>
        {move || restore_file.get().map(|file| {
            let f = file.clone();
            view! {
                <section class="card" data-testid="restore">
                // One form for the three ways to restore: each button posts it to its own
                // server function (formaction) without JavaScript; with it, the click
                // dispatches the action and the form is not posted.
                <form method="post" action=RestoreBackup::PATH>
                    <input type="hidden" name="file" value=file.clone()/>
                    <h2>"Restore " {file.clone()}</h2>
                    {move || restore_error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                    <p class="muted small">"Creates a new database and restores the archive into it (createdb + pg_restore). The current database is not touched."</p>
                    <label>"New database "
                        // The suggested name needs the database's name, read by the page's
                        // resource: awaited here so it is in the page however it renders.
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                if let (true, Ok(v)) = (restore_into.get_untracked().is_empty(), view_res.await) {
                                    restore_into.set(format!("{}_restored", v.database));
                                }
                                view! { <input name="into" value=restore_into.get_untracked() prop:value=restore_into on:input=move |ev| restore_into.set(event_target_value(&ev)) aria-label="New database name"/> }
                            })}
                        </Suspense>
                    </label>
                    <label>"Parallel jobs (pg_restore -j) " <input type="number" name="jobs" min="1" max="32" value="1" prop:value=move || parallel.get().to_string() on:input=move |ev| parallel.set(event_target_value(&ev).parse().unwrap_or(1).clamp(1, 32)) aria-label="Parallel jobs"/></label>
                    <p class="muted small">"More jobs load tables and build indexes side by side; up to the server's CPU count helps."</p>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match warning.await {
                                Ok(None) => ().into_any(),
                                Ok(Some(w)) => view! {
                                    <p class="warning" role="alert" data-testid="foreign-warning">{w}</p>
                                    <label>"Type the new database's name again to confirm (restore in place takes the database name typed below) " <input name="confirm_into" prop:value=confirm_into on:input=move |ev| confirm_into.set(event_target_value(&ev)) aria-label="Confirm target database name"/></label>
                                }.into_any(),
                                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <button type="submit" class="primary" on:click=move |ev| { ev.prevent_default(); restore.dispatch(RestoreBackup { file: f.clone(), into: restore_into.get_untracked(), jobs: Some(parallel.get_untracked()), confirm_into: Some(confirm_into.get_untracked()) }); }>"Restore into new database"</button>
                    <h3>"Or into a new database on another server"</h3>
                    <p class="muted small">"Moving to another PostgreSQL (e.g. 15 → 18): the new database named above is created on the server of this URL, the archive restored into it, and every table's rows compared with the archive. The URL is used for this restore only: not saved, and logged with its password masked."</p>
                    <label>"Target server URL " <input type="password" name="target_url" class="wide" autocomplete="off" spellcheck="false" placeholder="postgres://user:password@new-host:5432/postgres" prop:value=server_url on:input=move |ev| server_url.set(event_target_value(&ev)) aria-label="Target server URL"/></label>
                    <button type="submit" formaction=RestoreToServer::PATH on:click={
                        let f = file.clone();
                        move |ev| {
                            ev.prevent_default();
                            let typed = server_url.get_untracked();
                            server_url.set(String::new());
                            to_server.dispatch(RestoreToServer { file: f.clone(), into: restore_into.get_untracked(), target_url: typed, jobs: Some(parallel.get_untracked()), confirm_into: Some(confirm_into.get_untracked()) });
                        }
                    }>"Restore on that server"</button>
                    <h3>"Or replace the current database"</h3>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let replaced = view_res.await.map(|v| format!("{} ({})", v.database, v.target)).unwrap_or_else(|_| "the current database".to_string());
                            view! { <p class="warning small">{format!(
                                "Replaces {replaced} with this archive: a safety backup is taken first, the archive is restored into a fresh database, and only a complete restore is swapped in by rename (other sessions on the database are ended then). The previous database is kept under another name."
                            )}</p> }
                        })}
                    </Suspense>
                    <label>"Type the database name to confirm " <input name="confirm" prop:value=confirm on:input=move |ev| confirm.set(event_target_value(&ev)) aria-label="Confirm database name"/></label>
                    <button type="submit" formaction=RestoreInPlace::PATH class="danger" on:click={
                        let f = file.clone();
                        move |ev| { ev.prevent_default(); in_place.dispatch(RestoreInPlace { file: f.clone(), confirm: confirm.get_untracked(), jobs: Some(parallel.get_untracked()) }); }
                    }>"Restore in place"</button>
                    <a class="link" href="/backups">"Close"</a>
                </form>
                </section>
            }
        })}
    }
}

#[component]
fn RecentJobs(jobs: Vec<ops::model::JobView>) -> impl IntoView {
    use ops::model::JobStatus;
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
fn Catalog(v: BackupsView, verify: ServerAction<VerifyBackup>) -> impl IntoView {
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
                {v.archives.into_iter().map(|m| view! { <ArchiveRow m verify/> }).collect_view()}
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
fn ArchiveRow(m: Manifest, verify: ServerAction<VerifyBackup>) -> impl IntoView {
    let file = m.file.clone();
    let verify_file = file.clone();
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
                <ActionForm action=verify attr:class="inline">
                    <input type="hidden" name="file" value=verify_file/>
                    <button type="submit" class="link" name="restore_test" value="false">"Verify"</button>
                    <button type="submit" class="link" name="restore_test" value="true" title="Restore into a scratch database (dropped afterwards) and compare every table's row count with the archive">"Test restore"</button>
                </ActionForm>
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

/// The archive's table of contents, grouped by object type.
#[component]
fn Contents(file: Signal<Option<String>>) -> impl IntoView {
    let toc = Resource::new(
        move || file.get(),
        |f| async move {
            match f {
                Some(f) => backup_contents(f).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match toc.await {
                    Ok(Some(c)) => view! {
                        <section class="card" data-testid="contents">
                            <h2>{format!("Contents of {}", c.file)}</h2>
                            {c.groups.into_iter().map(|(kind, names)| view! {
                                <details>
                                    <summary>{format!("{kind} ({})", names.len())}</summary>
                                    <ul class="small">{names.into_iter().map(|n| view! { <li><code>{n}</code></li> }).collect_view()}</ul>
                                </details>
                            }).collect_view()}
                            <a class="link" href="/backups">"Close"</a>
                        </section>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Deleting needs the archive's exact name typed.
#[component]
fn DeleteForm(delete: ServerAction<DeleteBackup>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Delete an archive"</h2>
            // The typed name is both the archive and its confirmation.
            <ActionForm action=delete attr:class="row">
                <input name="file" placeholder="type the archive's file name" aria-label="Archive to delete"/>
                <button type="submit" class="danger">"Delete"</button>
            </ActionForm>
            {move || delete.value().get().map(|r| match r {
                Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </section>
    }
}

/// A plain form post: the browser streams the file, the server streams it to disk.
#[island]
fn Upload(limit: u64, uploaded: Option<String>, upload_error: Option<String>) -> impl IntoView {
    // (sent, total) while an upload runs; without JavaScript the form posts as usual.
    let sent = RwSignal::new(None::<(f64, f64)>);
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            if let Err(e) = upload::send(&ev, sent) {
                error.set(Some(e));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ev, sent, error);
    };
    view! {
        <section class="card" data-testid="upload">
            <h2>"Upload an archive"</h2>
            <form method="post" action="/files/backups" enctype="multipart/form-data" class="row" on:submit=on_submit>
                <input type="file" name="archive" accept=".dump" aria-label="Archive file" required/>
                <button type="submit" disabled=move || sent.get().is_some()>"Upload"</button>
            </form>
            {move || sent.get().map(|(done, total)| {
                let pct = if total > 0.0 { (done / total * 100.0).round() } else { 0.0 };
                view! {
                    <div class="progress" data-testid="upload-progress">
                        <progress max="100" value=pct.to_string()>{format!("{pct}%")}</progress>
                        <span>{format!("Uploading: {} of {} ({pct}%)", format_bytes(done as i64), format_bytes(total as i64))}</span>
                    </div>
                }
            })}
            <p class="muted small">{format!("A pg_dump -Fc archive (.dump), at most {limit} MiB (HOLOMUSH_UPLOAD_LIMIT_MB). It keeps its file name; an existing name is refused.")}</p>
            {uploaded.map(|m| view! { <p class="notice" role="status">{m}</p> })}
            {upload_error.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </section>
    }
}

/// The upload sent by XMLHttpRequest, whose upload events give the progress a form post
/// cannot; the server's answer (a redirect to this page with a message) is then followed.
#[cfg(feature = "hydrate")]
mod upload {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{FormData, HtmlFormElement, ProgressEvent, XmlHttpRequest};

    pub fn send(
        ev: &leptos::ev::SubmitEvent,
        sent: RwSignal<Option<(f64, f64)>>,
    ) -> Result<(), String> {
        let form = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
            .ok_or("The upload form was not found: reload the page and try again.")?;
        let data = FormData::new_with_form(&form)
            .map_err(|_| "The chosen file could not be read: choose it again.")?;
        ev.prevent_default();
        let xhr = XmlHttpRequest::new().map_err(|_| "This browser cannot upload here.")?;
        xhr.open("POST", "/files/backups")
            .map_err(|_| "The upload could not start: reload the page and try again.")?;
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |p: ProgressEvent| {
            if p.length_computable() {
                sent.set(Some((p.loaded(), p.total())));
            }
        });
        if let Ok(up) = xhr.upload() {
            up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        on_progress.forget();
        let done_xhr = xhr.clone();
        let on_end = Closure::<dyn FnMut()>::new(move || {
            sent.set(None);
            let url = done_xhr.response_url();
            let next = if url.contains("/backups?") {
                url
            } else {
                "/backups?upload_error=The+upload+was+interrupted%3A+try+again.".to_string()
            };
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_href(&next);
            }
        });
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        on_end.forget();
        sent.set(Some((0.0, 1.0)));
        xhr.send_with_opt_form_data(Some(&data))
            .map_err(|_| "The upload could not be sent: try again.".to_string())
    }
}
