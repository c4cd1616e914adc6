use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A plain HTML form: signing in works before (and without) WebAssembly.
#[component]
pub fn LoginPage() -> impl IntoView {
    let q = use_query_map().get_untracked();
    let message = match q.get("error").as_deref() {
        Some("wrong") => Some("Wrong password. Check HOLOMUSH_ADMIN_PASSWORD and try again.".to_string()),
        Some("throttled") => {
            let wait = q.get("wait").unwrap_or_else(|| "a few".to_string());
            Some(format!("Too many failed sign-ins from your address. Wait {wait} seconds and try again."))
        }
        Some("link") => Some(
            "That sign-in link is not valid or was already used. Restart the console for a new link, or sign in with the password."
                .to_string(),
        ),
        Some("nopassword") => Some(
            "No console password is set (HOLOMUSH_ADMIN_PASSWORD): open the one-time link the console printed when it started."
                .to_string(),
        ),
        Some("expired") => Some("Your session has ended. Sign in again.".to_string()),
        _ => None,
    };
    let signed_out = q.get("signed_out").map(|how| {
        if how == "all" {
            "You are signed out everywhere: every session of the console has ended."
        } else {
            "You are signed out."
        }
    });
    view! {
        <Title text="Sign in"/>
        <main class="login">
            <form method="post" action="/login" class="card login-card">
                <h1>"HoloMUSH database console"</h1>
                <p class="muted">"Sign in with the console password (HOLOMUSH_ADMIN_PASSWORD). Without one, use the one-time link the server printed when it started."</p>
                {message.map(|m| view! { <p class="error" role="alert">{m}</p> })}
                {signed_out.map(|m| view! { <p class="notice" role="status">{m}</p> })}
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required autofocus/>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
        </main>
    }
}
