//! The restore panel, opened from an archive's "Restore…" link (`?restore=FILE`).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use ops::model::BackupsView;

use super::super::posted::refused;
use crate::api::{restore_warning, RestoreBackup, RestoreInPlace, RestoreToServer, VerifyBackup};
use crate::error::AppError;

/// One form for the three ways to restore: its own button posts it to each server function
/// (`formaction`), so every field (the name, the jobs, a confirmation) goes with each.
#[component]
pub fn RestorePanel(
    file: String,
    view_res: Resource<Result<BackupsView, AppError>>,
) -> impl IntoView {
    let warning = Resource::new(|| (), {
        let file = file.clone();
        move |_| restore_warning(file.clone())
    });
    view! {
        <section class="card" data-testid="restore">
        <form method="post" action=RestoreBackup::PATH>
            <input type="hidden" name="file" value=file.clone()/>
            <h2>"Restore " {file.clone()}</h2>
            {refused(&[RestoreBackup::PATH, RestoreInPlace::PATH, RestoreToServer::PATH])}
            <p class="muted small">"Creates a new database and restores the archive into it (createdb + pg_restore). The current database is not touched."</p>
            <label>"New database "
                // The suggested name needs the database's name, read by the page's resource:
                // awaited here so it is in the page.
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let suggested = view_res.await.map(|v| format!("{}_restored", v.database)).unwrap_or_default();
                        view! { <input name="into" value=suggested aria-label="New database name"/> }
                    })}
                </Suspense>
            </label>
            <label>"Parallel jobs (pg_restore -j) " <input type="number" name="jobs" min="1" max="32" value="1" aria-label="Parallel jobs"/></label>
            <p class="muted small">"More jobs load tables and build indexes side by side; up to the server's CPU count helps."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match warning.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(w)) => view! {
                            <p class="warning" role="alert" data-testid="foreign-warning">{w}</p>
                            <label>"Type the new database's name again to confirm (restore in place takes the database name typed below) " <input name="confirm_into" aria-label="Confirm target database name"/></label>
                        }.into_any(),
                        Err(e) => crate::error::alert(e).into_any(),
                    }
                })}
            </Suspense>
            <button type="submit" class="primary">"Restore into new database"</button>
            <h3>"Or into a new database on another server"</h3>
            <p class="muted small">"Moving to another PostgreSQL (e.g. 15 → 18): the new database named above is created on the server of this URL, the archive restored into it, and every table's rows compared with the archive. The URL is used for this restore only: not saved, and logged with its password masked."</p>
            // A password field, never given a value: the post that sends it comes back to a
            // fresh page, so the URL is gone from the form as soon as it is used.
            <label>"Target server URL " <input type="password" name="target_url" class="wide" autocomplete="off" spellcheck="false" placeholder="postgres://user:password@new-host:5432/postgres" aria-label="Target server URL"/></label>
            <button type="submit" formaction=RestoreToServer::PATH>"Restore on that server"</button>
            <h3>"Or replace the current database"</h3>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let replaced = view_res.await.map(|v| format!("{} ({})", v.database, v.target)).unwrap_or_else(|_| "the current database".to_string());
                    view! { <p class="warning small">{format!(
                        "Replaces {replaced} with this archive: a safety backup is taken first, the archive is restored into a fresh database, and only a complete restore is swapped in by rename (other sessions on the database are ended then). The previous database is kept under another name."
                    )}</p> }
                })}
            </Suspense>
            <label>"Type the database name to confirm " <input name="confirm" aria-label="Confirm database name"/></label>
            <button type="submit" formaction=RestoreInPlace::PATH class="danger">"Restore in place"</button>
            <h3>"Or only test it"</h3>
            <p class="muted small">"Restores into a scratch database (dropped afterwards) under a role that owns only that database, and compares every table's row count with the archive. An archive this console did not make needs the database name typed above."</p>
            <button type="submit" formaction=VerifyBackup::PATH name="restore_test" value="true">"Test restore"</button>
            <a class="link" href="/backups">"Close"</a>
        </form>
        </section>
    }
}
