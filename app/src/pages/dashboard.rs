use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use ops::model::{
    format_age, format_bytes, BackupFreshness, Connection, Extension, Ledger, SchemaVersion,
    ServerFacts, StatusSnapshot, MIN_SERVER_MAJOR,
};

use crate::api::get_status;

const REFRESH: Duration = Duration::from_secs(3);

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard"/>
        <header class="page-head">
            <h1>"Dashboard"</h1>
            <p class="muted">"Live from PostgreSQL, refreshed every few seconds."</p>
        </header>
        <LiveStatus/>
    }
}

#[island]
fn LiveStatus() -> impl IntoView {
    let (tick, set_tick) = signal(0u64);
    // Effects run only in the browser: the server renders the first reading, the
    // browser then polls; the server reads Postgres at most once a second whatever the poll rate.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || set_tick.update(|t| *t += 1), REFRESH)
        {
            on_cleanup(move || handle.clear());
        }
    });
    let status = Resource::new(move || tick.get(), |_| get_status());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Reading the database…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(snap) => view! { <Snapshot snap/> }.into_any(),
                    Err(e) => crate::error::alert(e).into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Snapshot(snap: StatusSnapshot) -> impl IntoView {
    let taken = snap.taken_at.format("%H:%M:%S UTC").to_string();
    let trouble = match &snap.connection {
        Connection::Down(_) => Some("The console cannot reach the database."),
        Connection::Up(f) if matches!(f.migration, SchemaVersion::At { dirty: true, .. }) => {
            Some("The migration state is dirty.")
        }
        Connection::Up(f) if !matches!(f.pg_trgm, Extension::Installed(_)) => {
            Some("The pg_trgm extension is not installed.")
        }
        Connection::Up(_) => None,
    };
    let pool = snap.pool;
    let backups = view! { <Backups b=snap.backups.clone() now=snap.taken_at/> };
    let body = match snap.connection {
        Connection::Up(facts) => view! { <Facts facts database=snap.database.clone()/> }.into_any(),
        Connection::Down(why) => view! {
            <section class="card bad" data-testid="connection">
                <h2>"Connection"</h2>
                <p class="big"><span class="dot down"></span>"Not connected"</p>
                <p role="alert">{why}</p>
            </section>
        }
        .into_any(),
    };
    view! {
        {trouble.map(|t| view! {
            <p class="banner warn" data-testid="troubleshoot-link">{t} " " <a href="/troubleshooting">"Troubleshooting shows what to do"</a></p>
        })}
        <p class="muted small" data-testid="target">"Database: " <code>{snap.target}</code> " · updated " <span data-testid="updated">{taken}</span></p>
        <div class="grid">
            {body}
            <section class="card" data-testid="pool">
                <h2>"Connection pool"</h2>
                <p class="big">{pool.size} " open"</p>
                <p class="muted">{pool.idle} " idle · max " {pool.max} " (DB_MAX_CONNS) · min " {pool.min} " (DB_MIN_CONNS)"</p>
            </section>
            {backups}
        </div>
    }
}

#[component]
fn Backups(b: BackupFreshness, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let class = if b.warning.is_some() {
        "card warn"
    } else {
        "card good"
    };
    let age = move |at: chrono::DateTime<chrono::Utc>| format_age((now - at).num_seconds());
    view! {
        <section class=class data-testid="last-backup">
            <h2>"Last backup"</h2>
            {match b.newest.clone() {
                None => view! { <p class="big">"none yet"</p> }.into_any(),
                Some(n) => {
                    let verified = n.verified();
                    view! {
                        <p class="big"><a href="/backups"><code>{n.file.clone()}</code></a></p>
                        <p class="muted">
                            {format!("{} backup, {} ago · ", n.kind.as_str(), age(n.started_at))}
                            <span class=if verified { "badge applied" } else { "badge" } data-testid="last-backup-verified">
                                {if verified { "verified" } else { "not verified" }}
                            </span>
                        </p>
                    }.into_any()
                }
            }}
            {b.warning.clone().map(|w| view! { <p class="warning" role="alert" data-testid="backup-warning">{w}</p> })}
        </section>
    }
}

#[component]
fn Facts(facts: ServerFacts, database: String) -> impl IntoView {
    let old = facts.version_too_old();
    let latency = format!("{:.1} ms", facts.latency_ms);
    let size = format_bytes(facts.database_size_bytes);
    let (trgm_text, trgm_class) = match &facts.pg_trgm {
        Extension::Installed(v) => (format!("installed (version {v})"), "good"),
        Extension::Available => ("available, not yet installed: the first migration installs it".to_string(), "warn"),
        Extension::NotAvailable => (
            "not available on this server: install PostgreSQL's contrib package (postgresql-contrib)".to_string(),
            "bad",
        ),
    };
    let (migration_text, migration_class, dirty) = match facts.migration {
        SchemaVersion::NoTable => (
            "no migrations table (schema_migrations)".to_string(),
            "warn",
            false,
        ),
        SchemaVersion::NoVersion => (
            "no version: schema_migrations is empty".to_string(),
            "warn",
            false,
        ),
        SchemaVersion::At {
            version,
            dirty: false,
        } => (format!("version {version}"), "good", false),
        SchemaVersion::At {
            version,
            dirty: true,
        } => (format!("version {version} (dirty)"), "bad", true),
    };
    // A goose ledger's version replaces golang-migrate's when goose is the one in charge.
    let (migration_text, migration_class) =
        match (facts.world.and_then(|w| w.active()), facts.goose_version) {
            (Some(Ledger::Goose), Some(v)) if v > 0 => (format!("goose version {v}"), "good"),
            (Some(Ledger::Goose), _) => ("goose: no version applied yet".to_string(), "warn"),
            _ => (migration_text, migration_class),
        };
    let world = facts.world.map(|w| w.describe());
    view! {
        <section class="card good" data-testid="connection">
            <h2>"Connection"</h2>
            <p class="big"><span class="dot up"></span>"Connected"</p>
            <p class="muted">"Round trip " <span data-testid="latency">{latency}</span></p>
        </section>
        <section class=if old { "card bad" } else { "card" } data-testid="server-version">
            <h2>"Server"</h2>
            <p class="big">"PostgreSQL " <span data-testid="version">{facts.server_version.clone()}</span></p>
            {old.then(|| view! {
                <p class="warning" role="alert">
                    {format!("HoloMUSH needs PostgreSQL {MIN_SERVER_MAJOR} or later; this server is {}. Upgrade before running migrations.", facts.major_version())}
                </p>
            })}
        </section>
        <section class="card" data-testid="database">
            <h2>"Database"</h2>
            <p class="big">{database}</p>
            <p class="muted">"Size " <span data-testid="size">{size}</span></p>
        </section>
        <section class=format!("card {trgm_class}") data-testid="pg_trgm">
            <h2>"pg_trgm"</h2>
            <p>{trgm_text}</p>
        </section>
        <section class=format!("card {migration_class}") data-testid="migration">
            <h2>"Migrations"</h2>
            <p class="big">{migration_text}</p>
            {world.map(|w| view! { <p class="muted" data-testid="ledger">{w}</p> })}
            {dirty.then(|| view! {
                <p class="warning" role="alert">"A migration failed part-way: the Troubleshooting page walks through the repair."</p>
            })}
        </section>
    }
}
