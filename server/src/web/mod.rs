//! The web console: axum router, the Leptos pages, and the auth layer in front of them.

mod auth;
mod events;
mod files;
mod limits;
mod security;
mod streams;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio_util::sync::CancellationToken;

use crate::failure::Failure;
use crate::signals::GRACE;

use app::{shell, App};
use ops::audit::Entry;
use ops::auth::{Authenticator, SessionStore};
use ops::error::ErrorKind;

/// What every request handler can reach.
pub struct Web {
    pub console: Arc<ops::Console>,
    pub auth: Authenticator,
    pub sessions: SessionStore,
    /// The open job event streams, capped per session and overall.
    pub streams: streams::Streams,
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub web: Arc<Web>,
}

/// HOLOMUSH_BACKUP_SCHEDULE: a full backup every interval, through the job runner like a
/// click on "Full backup" (so retention follows it). When another job holds the database
/// the backup waits for it rather than skipping a day.
async fn scheduled_backups(console: Arc<ops::Console>, every: std::time::Duration) {
    let mut next = tokio::time::Instant::now() + every;
    loop {
        tokio::time::sleep_until(next).await;
        next += every;
        loop {
            match console
                .start_backup(ops::model::BackupKind::Full, "schedule")
                .await
            {
                Ok(job) => {
                    tracing::info!("Scheduled backup started as job #{}", job.id);
                    break;
                }
                Err(why) => {
                    tracing::warn!("Scheduled backup waits: {why}");
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                }
            }
        }
    }
}

pub async fn serve(overrides: &ops::config::Overrides) -> Result<(), Failure> {
    let config = ops::config::Config::from_env()?.with_overrides(overrides);
    let addr = config.admin_addr;
    if config.admin_password.is_none() && !addr.ip().is_loopback() {
        return Err(Failure::refused(format!(
            "HOLOMUSH_ADMIN_ADDR={addr} is not a loopback address and HOLOMUSH_ADMIN_PASSWORD is not set: set a password to listen beyond this machine, or use 127.0.0.1."
        )));
    }
    let site = crate::site::find().map_err(|e| Failure::new(ErrorKind::NotFound, e))?;
    // The data folder's mode before the sessions read it, so a refusal is its own sentence.
    if let Err(e) = ops::files::create_private_dir(&config.data_dir) {
        if let Some(refused) = ops::files::not_private(&e) {
            return Err(Failure::refused(refused.to_string()));
        }
    }
    let (authenticator, token) = Authenticator::new(config.admin_password.as_ref());
    let (sessions, ended) = SessionStore::open(
        &config.data_dir,
        config.admin_password.as_ref(),
        config.idle_timeout,
    )
    .map_err(|e| {
        Failure::failed(format!(
            "The sessions in {} could not be opened ({e}): check that HOLOMUSH_ADMIN_DATA names a writable folder.",
            config.data_dir.display()
        ))
    })?;
    let console = Arc::new(ops::Console::open_server(config).await?);
    if ended > 0 {
        console.record(
            Entry::new("system", "logout.password_changed", "console").detail(format!(
                "sessions opened with the former console password ended: {ended}"
            )),
        );
    }
    // From here a SIGTERM or Ctrl-C is a graceful stop, the start-up migration included.
    let stop = CancellationToken::new();
    {
        let stop = stop.clone();
        let signal = crate::signals::stop_requested();
        tokio::spawn(async move {
            signal.await;
            stop.cancel();
        });
    }
    for what in console.recover_interrupted_work().await {
        println!("{what}");
    }
    auto_migrate(&console, &stop).await;
    if stop.is_cancelled() {
        return stop_jobs(&console, "start-up").await;
    }
    let web = Arc::new(Web {
        console: console.clone(),
        auth: authenticator,
        sessions,
        streams: streams::Streams::default(),
    });

    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        Failure::failed(format!(
            "Could not listen on {addr} ({e}): set HOLOMUSH_ADMIN_ADDR to a free address and port."
        ))
    })?;
    let bound = listener.local_addr().map_err(Failure::failed)?;
    let router = router(web.clone(), site, bound);

    let host = if bound.ip().is_unspecified() {
        format!("127.0.0.1:{}", bound.port())
    } else {
        bound.to_string()
    };
    println!("HoloMUSH database console listening on http://{host}");
    println!("Database: {}", console.config.database_url.masked());
    match token {
        Some(t) => println!("Sign in (one-time link): http://{host}/login/link?token={t}"),
        None => println!("Sign in at http://{host}/login with HOLOMUSH_ADMIN_PASSWORD."),
    }
    console.record(Entry::new("system", "console.start", bound.to_string()));
    if let Some(every) = console.config.backup_schedule {
        println!(
            "Scheduled backups: a full backup every {}",
            humantime::format_duration(every)
        );
        tokio::spawn(scheduled_backups(console.clone(), every));
    }

    tokio::spawn(report_throttling(web.clone()));

    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned())
    .into_future();
    tokio::pin!(server);
    // The server ends by itself once the stop is asked for and its connections are gone,
    // possibly before this select sees the stop: then it must not be polled again.
    let mut served = false;
    tokio::select! {
        result = &mut server => {
            result.map_err(|e| Failure::failed(format!("The web server stopped: {e}")))?;
            served = true;
        }
        _ = stop.cancelled() => {}
    }
    if !stop.is_cancelled() {
        return Err(Failure::failed(
            "The web server stopped without being asked to.",
        ));
    }
    println!(
        "Stopping: no new requests; running jobs stop at their next safe point (at most {} s)",
        GRACE.as_secs()
    );
    // New connections are refused at once; open ones (a job's event stream ends with its
    // job) get the same grace as the jobs.
    let listened = bound.to_string();
    let (stopped, _) = tokio::join!(stop_jobs(&console, &listened), async {
        if !served {
            let _ = tokio::time::timeout(GRACE, &mut server).await;
        }
    });
    stopped
}

/// Stops the jobs, records the stop, and says how it went: `Ok` when every job reached a
/// safe point, the sentence naming the jobs cut short otherwise (so the exit status tells
/// a supervisor that something needs a look).
async fn stop_jobs(console: &ops::Console, target: &str) -> Result<(), Failure> {
    let report = console.jobs.stop(GRACE).await;
    for job in &report.stopped {
        println!(
            "Job #{} ({}): {}",
            job.id,
            job.kind,
            job.result.as_deref().unwrap_or("ended")
        );
    }
    let entry = Entry::new("system", "console.stop", target);
    match report.cut_short.as_slice() {
        [] => {
            console.record(entry);
            println!("Stopped.");
            Ok(())
        }
        ids => {
            let ids = ids
                .iter()
                .map(|id| format!("#{id}"))
                .collect::<Vec<_>>()
                .join(", ");
            let why = format!(
                "Stopped after {} s with job {ids} cut short before a safe point: look at it on the Activity page (or `holomush-admin activity`) before starting it again.",
                GRACE.as_secs()
            );
            console.record(entry.failed(why.clone()));
            Err(Failure::new(ErrorKind::Interrupted, why))
        }
    }
}

/// Refused sign-ins of the last minute that no later attempt reported.
async fn report_throttling(web: Arc<Web>) {
    let mut every = tokio::time::interval(ops::auth::REPORT_EVERY);
    loop {
        every.tick().await;
        auth::record_throttling(&web);
    }
}

/// What every Leptos render gets: the console, and this request's CSP nonce in place of the
/// one Leptos would make up (the security layer put it in the header already).
fn render_context(console: Arc<ops::Console>) -> impl Fn() + Clone + Send + 'static {
    move || {
        provide_context(console.clone());
        let nonce = use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<security::CspNonce>().cloned());
        if let Some(security::CspNonce(nonce)) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    }
}

pub fn router(web: Arc<Web>, site: crate::site::Site, addr: SocketAddr) -> Router {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") | Ok("dev") => Env::DEV,
        _ => Env::PROD,
    };
    let leptos_options = LeptosOptions::builder()
        .output_name("holomush-admin")
        .site_root(site.root.display().to_string())
        .site_pkg_dir("pkg")
        .hash_files(site.hashed)
        .site_addr(addr)
        .env(env)
        .build();
    app::set_stylesheet(site.stylesheet.clone());
    let routes = generate_route_list(App);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        web: web.clone(),
    };
    let context = render_context(web.console.clone());
    let security = Arc::new(security::Security::new(
        addr,
        web.console.config.public_url.clone(),
    ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/login", post(auth::login))
        .route("/login/link", get(auth::login_link))
        .route("/logout", post(auth::logout))
        .route("/logout/all", post(auth::logout_all))
        .nest_service("/pkg", assets(&site))
        .route("/files/backups/{name}", get(files::download_backup))
        .route("/jobs/{id}/events", get(events::job_events))
        // The handler enforces HOLOMUSH_UPLOAD_LIMIT_MB while streaming.
        .route(
            "/files/backups",
            post(files::upload_backup).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        // Inside the guard: a request without a session is turned away unread.
        .layer(axum::middleware::from_fn(limits::layer))
        .layer(axum::middleware::from_fn_with_state(web, auth::guard))
        .layer(axum::middleware::from_fn_with_state(
            security,
            security::layer,
        ))
        .with_state(state)
}

/// The wasm, its JavaScript and the stylesheet, sent as the brotli or gzip copies `make build`
/// writes beside them (scripts/precompress.sh) when the browser takes them. Names that
/// carry a content hash never change meaning, so the browser may keep them for a year.
fn assets(site: &crate::site::Site) -> Router {
    let files = tower_http::services::ServeDir::new(site.root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let cache = if site.hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Router::new().fallback_service(files).layer(
        tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static(cache),
        ),
    )
}

/// HoloMUSH migrates on start-up unless HOLOMUSH_DB_AUTO_MIGRATE=false; so does the
/// console. A failure never stops it: the console is how a broken database gets repaired.
async fn auto_migrate(console: &ops::Console, stop: &CancellationToken) {
    if !console.config.auto_migrate {
        tracing::info!("HOLOMUSH_DB_AUTO_MIGRATE=false: not migrating on start-up");
        return;
    }
    let job = match console
        .start_migration(ops::migrate::Op::Up(None), "auto")
        .await
    {
        Ok(job) => job,
        Err(e) => {
            tracing::warn!("Not migrating on start-up: {e}");
            return;
        }
    };
    let view = tokio::select! {
        view = job.follow(|_| {}) => view,
        // serve() stops the job and prints how it ended.
        _ = stop.cancelled() => return,
    };
    // A refusal while the database is dirty is the engine's "Dirty database version": read
    // from the job's kind and the schema's own flag, not from the sentence.
    let dirty = view.error_kind == Some(ErrorKind::Refused)
        && console.status.get().await.dirty_version().is_some();
    match (view.status, view.result) {
        (ops::model::JobStatus::Succeeded, Some(summary)) => println!("Migrations: {summary}"),
        (_, Some(why)) if dirty => {
            println!("Migrations: not applied on start-up: {why} The console is running so you can repair it (Migrations page, or `holomush-admin migrate force V`).");
        }
        (_, why) => println!(
            "Migrations: the start-up migration failed: {}. The console is running so you can look into it.",
            why.unwrap_or_default()
        ),
    }
}
