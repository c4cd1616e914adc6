//! The console's pages. Rendered on the server; only their islands hydrate in the browser
//! (the rule is in `pages`).

pub mod api;
pub mod error;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Route, Router, Routes, A},
    path, SsrMode,
};

pub use pages::*;

/// The stylesheet's address, content-hashed after `make build`; the server sets it once at
/// start-up. It lives in the shell, which is never hydrated, so the browser needs no copy.
#[cfg(feature = "ssr")]
static STYLESHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[cfg(feature = "ssr")]
pub fn set_stylesheet(href: String) {
    let _ = STYLESHEET.set(href);
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let stylesheet = STYLESHEET
        .get()
        .cloned()
        .unwrap_or_else(|| "/pkg/holomush-admin.css".to_string());
    #[cfg(not(feature = "ssr"))]
    let stylesheet = "/pkg/holomush-admin.css".to_string();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <link rel="stylesheet" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| if page.is_empty() { "HoloMUSH database console".to_string() } else { format!("{page} · HoloMUSH database console") }/>
        // Every page is rendered whole (its data awaited) before it is sent, so it reads the
        // same with JavaScript off or before the wasm arrives; streaming chunks need scripts.
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("migrations") view=MigrationsPage ssr=SsrMode::Async/>
                    <Route path=path!("backups") view=BackupsPage ssr=SsrMode::Async/>
                    <Route path=path!("settings") view=SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("troubleshooting") view=TroubleshootingPage ssr=SsrMode::Async/>
                    <Route path=path!("activity") view=ActivityPage ssr=SsrMode::Async/>
                    <Route path=path!("jobs/:id") view=JobPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// `value` as one query-string value (for links and redirects that carry a name).
pub fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// On every page while `schema_migrations` is dirty. Read as the page renders: an action
/// that changes the version (a migration, a force, a bootstrap) loads the page again.
#[component]
fn DirtyBanner() -> impl IntoView {
    let status = Resource::new(|| (), |_| api::get_status());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let dirty = status.await.ok().and_then(|s| s.dirty_version());
                dirty.map(|v| view! {
                    <div class="banner bad" role="alert" data-testid="dirty-banner">
                        {format!("The database is dirty at version {v}: a migration failed part-way and migrations are refused until it is repaired. ")}
                        <a href="/troubleshooting">"Repair it"</a>
                    </div>
                })
            })}
        </Transition>
    }
}

/// What an action done by a plain form post said (`?notice=…`, see `guard::done`).
#[component]
fn Notice() -> impl IntoView {
    leptos_router::hooks::use_query_map()
        .get_untracked()
        .get("notice")
        .map(|n| view! { <p class="notice banner" role="status" data-testid="notice">{n}</p> })
}

/// The shell around every signed-in page: navigation, sign-out, the page itself.
#[component]
fn Layout() -> impl IntoView {
    let links = [
        ("/", "Dashboard"),
        ("/migrations", "Migrations"),
        ("/backups", "Backups"),
        ("/settings", "Settings"),
        ("/troubleshooting", "Troubleshooting"),
        ("/activity", "Activity"),
    ];
    view! {
        <div class="frame">
            <nav class="sidebar" aria-label="Main">
                <div class="brand">"HoloMUSH"<span>"database console"</span></div>
                <ul>
                    {links
                        .into_iter()
                        .map(|(href, label)| view! { <li><A href=href exact=true>{label}</A></li> })
                        .collect_view()}
                </ul>
                <form method="post" action="/logout" class="signout">
                    <button type="submit" class="link">"Sign out"</button>
                </form>
                <form method="post" action="/logout/all" class="signout">
                    <button type="submit" class="link" title="Ends every open session of the console, in every browser">"Sign out everywhere"</button>
                </form>
            </nav>
            <main class="content">
                <DirtyBanner/>
                <Notice/>
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="content narrow">
            <Title text="Not found"/>
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. Go to the " <a href="/">"dashboard"</a> "."</p>
        </main>
    }
}
