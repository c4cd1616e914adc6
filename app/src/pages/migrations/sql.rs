//! One version's SQL, opened from its row's link (`?sql=N`).

use leptos::prelude::*;

use crate::api::migration_sql;

#[component]
pub fn SqlPanel(version: u64) -> impl IntoView {
    let sql = Resource::new(|| (), move |_| migration_sql(version));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match sql.await {
                    Ok(s) => view! {
                        <section class="card sql" data-testid="sql">
                            <h2>{format!("Version {version}")}</h2>
                            {[("up", s.up), ("down", s.down)].into_iter().map(|(dir, f)| match f {
                                Some(f) => view! { <h3>{f.file}</h3><pre>{f.body}</pre> }.into_any(),
                                None => view! { <p class="warning">{format!("No .{dir}.sql file: going {dir} through this version runs no SQL.")}</p> }.into_any(),
                            }).collect_view()}
                        </section>
                    }.into_any(),
                    Err(e) => crate::error::alert(e).into_any(),
                }
            })}
        </Transition>
    }
}
