//! The page's two plain forms outside the table: back up now, and delete by name.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use ops::model::BackupKind;

use super::super::posted::refused;
use crate::api::{DeleteBackup, StartBackup, VerifyBackup};

/// One button per kind of backup; each posts the form with its own `kind`.
#[component]
pub fn BackUpNow() -> impl IntoView {
    view! {
        <section class="card actions" aria-label="Back up now">
            <h2>"Back up now"</h2>
            <form method="post" action=StartBackup::PATH class="row">
                <button type="submit" name="kind" value=BackupKind::Full.as_str() class="primary">"Full backup"</button>
                <button type="submit" name="kind" value=BackupKind::Schema.as_str()>"Schema only"</button>
                <button type="submit" name="kind" value=BackupKind::Data.as_str()>"Data only"</button>
            </form>
            // A refused verify (posted from the table) is shown here too. A restore's refusal
            // is shown in the restore panel, beside the field it is about.
            {refused(&[StartBackup::PATH, VerifyBackup::PATH])}
        </section>
    }
}

/// Deleting needs the archive's exact name typed.
#[component]
pub fn DeleteForm() -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Delete an archive"</h2>
            // The typed name is both the archive and its confirmation. What was deleted comes
            // back as the page's notice.
            <form method="post" action=DeleteBackup::PATH class="row">
                <input name="file" placeholder="type the archive's file name" aria-label="Archive to delete"/>
                <button type="submit" class="danger">"Delete"</button>
            </form>
            {refused(&[DeleteBackup::PATH])}
        </section>
    }
}
