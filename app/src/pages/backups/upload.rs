//! Uploading an archive: a plain form post, with a progress bar once the page is hydrated.

use leptos::prelude::*;
use ops::model::format_bytes;

/// A plain form post: the browser streams the file, the server streams it to disk. An island
/// so that, with JavaScript on, the upload shows its progress.
#[island]
pub fn Upload(limit: u64, uploaded: Option<String>, upload_error: Option<String>) -> impl IntoView {
    // (sent, total) while an upload runs; without JavaScript the form posts as usual.
    let sent = RwSignal::new(None::<(f64, f64)>);
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            if let Err(e) = xhr::send(&ev, sent) {
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
mod xhr {
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
