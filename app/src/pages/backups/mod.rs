//! The Backups page: back up now, the archive folder, restore, contents, delete, upload.

mod actions;
mod catalog;
mod contents;
mod restore;
mod upload;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::job::JobIsland;
use crate::api::backups_view;
use actions::{BackUpNow, DeleteForm};
use catalog::{Catalog, RecentJobs};
use contents::Contents;
use restore::RestorePanel;
use upload::Upload;

#[component]
pub fn BackupsPage() -> impl IntoView {
    // Read once as the page renders: every form on it posts and loads the page again.
    let view_res = Resource::new(|| (), |_| backups_view());
    // The panels open from links (?restore=FILE, ?contents=FILE), and a form posted from
    // one comes back to it; a job started here comes back as ?job=N.
    let query = use_query_map().get_untracked();
    let job = query.get("job").and_then(|j| j.parse::<u64>().ok());
    let uploaded = query.get("uploaded");
    let upload_error = query.get("upload_error");
    view! {
        <Title text="Backups"/>
        <header class="page-head">
            <h1>"Backups"</h1>
            <p class="muted">"pg_dump custom-format archives, as the operators' guide makes them; restore goes into a new database and never touches the current one."</p>
        </header>
        <BackUpNow/>
        <Transition fallback=|| view! { <p class="muted">"Reading the backup folder…"</p> }>
            {move || {
                let (uploaded, upload_error) = (uploaded.clone(), upload_error.clone());
                Suspend::new(async move {
                    match view_res.await {
                        Err(e) => crate::error::alert(e).into_any(),
                        Ok(v) => {
                            let job = job.or(v.running_job);
                            let limit = v.upload_limit_mb;
                            let recent = v.recent_jobs.clone();
                            view! {
                                {job.map(|id| view! { <JobIsland id/> })}
                                <Catalog v/> <RecentJobs jobs=recent/> <Upload limit uploaded upload_error/>
                            }.into_any()
                        }
                    }
                })
            }}
        </Transition>
        {query.get("contents").map(|file| view! { <Contents file/> })}
        <DeleteForm/>
        {query.get("restore").map(|file| view! { <RestorePanel file view_res/> })}
    }
}
