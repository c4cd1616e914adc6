//! An archive's table of contents, opened from its row's link (`?contents=FILE`).

use leptos::prelude::*;

use crate::api::backup_contents;

/// The archive's table of contents, grouped by object type.
#[component]
pub fn Contents(file: String) -> impl IntoView {
    let toc = Resource::new(|| (), move |_| backup_contents(file.clone()));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match toc.await {
                    Ok(c) => view! {
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
                    Err(e) => crate::error::alert(e).into_any(),
                }
            })}
        </Transition>
    }
}
