//! Server functions: each requires the session, calls `ops`, and maps the error.

use leptos::prelude::*;
use ops::model::{AuditFilter, AuditRecord, StatusSnapshot};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod guard {
    use std::sync::Arc;

    use leptos::prelude::*;

    use crate::error::AppError;

    /// Who is calling, as the auth layer found them.
    pub struct Caller {
        pub actor: String,
        pub console: Arc<ops::Console>,
    }

    /// Every server function starts here. The auth layer already turned away
    /// requests without a session; this is the second lock on the same door.
    pub fn require_session() -> Result<Caller, AppError> {
        let parts = use_context::<http::request::Parts>()
            .ok_or_else(|| AppError::failed("No request is in progress."))?;
        // Refused, as the console's other refusals: the auth layer answers an unsigned
        // request before it gets here, so this is only the second lock.
        let session = parts
            .extensions
            .get::<ops::auth::Session>()
            .ok_or_else(|| {
                AppError::refused("You are not signed in: sign in at /login and try again.")
            })?;
        let console = use_context::<Arc<ops::Console>>()
            .ok_or_else(|| AppError::failed("The console is not set up for this request."))?;
        Ok(Caller {
            actor: session.actor.clone(),
            console,
        })
    }

    /// Whether this request is a plain form post (a browser, not the server-function client).
    fn plain_post(p: &http::request::Parts) -> bool {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    }

    /// A failed server function answers with its error's status ([`AppError::status`]);
    /// called as its error is written out. Not for a plain form post: leptos_axum answers
    /// that with a redirect back to its page (the error in the address), and a status set
    /// here would replace the redirect's.
    pub fn answer_status(status: u16) {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return;
        };
        // Only a server function's own answer, never a page that rendered an error.
        if plain_post(&parts) || !parts.uri.path().starts_with("/api/") {
            return;
        }
        if let (Some(res), Ok(status)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(status),
        ) {
            res.set_status(status);
        }
    }

    /// Sends a plain form post back to the page it came from, with `key=value` in its address
    /// in place of the messages an earlier post left there.
    fn back_with(key: &str, value: &str) {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return;
        };
        if !plain_post(&parts) {
            return;
        }
        let referer = parts
            .headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("/");
        // Only the path and query of our own page: never another origin.
        let local = referer
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or(referer);
        let local = if local.starts_with('/') { local } else { "/" };
        let (path, query) = local.split_once('?').unwrap_or((local, ""));
        let mut pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let k = p.split('=').next().unwrap_or("");
                !["job", "notice", "__err", "__path"].contains(&k)
            })
            .map(str::to_string)
            .collect();
        pairs.push(format!("{key}={}", crate::query_value(value)));
        let to = format!("{path}?{}", pairs.join("&"));
        if let (Some(res), Ok(to)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&to),
        ) {
            res.set_status(http::StatusCode::SEE_OTHER);
            res.insert_header(http::header::LOCATION, to);
        }
    }

    /// A job just started. A plain form post goes back to its page with `?job=N`, where the
    /// job's panel follows it (and reloads the page when it ends).
    /// A quick job (most migrations, a force) ends within the wait, so the page it lands on
    /// shows it ended along with everything it changed.
    pub async fn started(job: std::sync::Arc<ops::jobs::Job>) -> u64 {
        let plain = use_context::<http::request::Parts>().is_some_and(|p| plain_post(&p));
        if plain {
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(2), job.follow(|_| {})).await;
            back_with("job", &job.id.to_string());
        }
        job.id
    }

    /// An action done at once (delete, create…): a plain post goes back with its sentence.
    pub fn done(message: String) -> String {
        back_with("notice", &message);
        message
    }

    /// Destructive actions go ahead only when the exact database name was typed.
    pub fn require_typed_name(c: &ops::Console, typed: &str, doing: &str) -> Result<(), AppError> {
        let database = c.config.database_url.database();
        if typed.trim() == database {
            return Ok(());
        }
        Err(AppError::refused(format!(
            "Not confirmed: type the database name \"{database}\" to {doing} {}. Nothing was changed.",
            c.target()
        )))
    }
}

#[server(prefix = "/api", endpoint = "status")]
pub async fn get_status() -> Result<StatusSnapshot, AppError> {
    let caller = guard::require_session()?;
    Ok((*caller.console.status.get().await).clone())
}

#[server(prefix = "/api", endpoint = "activity")]
pub async fn list_activity(filter: AuditFilter) -> Result<Vec<AuditRecord>, AppError> {
    let caller = guard::require_session()?;
    Ok(caller.console.audit.list(&filter)?)
}

#[server(prefix = "/api", endpoint = "migrations")]
pub async fn migrations_view() -> Result<ops::model::MigrationsView, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    let migrator = c.migrator(&caller.actor)?;
    let status = ops::migrate::status::status(&migrator).await?;
    Ok(ops::model::MigrationsView {
        warnings: status.warnings(),
        status,
        database: c.config.database_url.database().to_string(),
        target: c.target(),
        source: migrator.source.origin.to_string(),
        can_create: c.config.migrations_dir.is_some(),
        running_job: c.jobs.running().map(|j| j.id),
        ignored: migrator.source.ignored().to_vec(),
    })
}

#[server(prefix = "/api", endpoint = "migration_sql")]
pub async fn migration_sql(version: u64) -> Result<ops::model::MigrationSql, AppError> {
    let caller = guard::require_session()?;
    let migrator = caller.console.migrator(&caller.actor)?;
    let m = migrator
        .source
        .get(version)
        .ok_or_else(|| AppError::not_found(format!("no migration found for version {version}")))?;
    let file = |f: &Option<ops::migrate::source::MigrationFile>| {
        f.as_ref().map(|f| ops::model::SqlFile {
            file: f.file_name.clone(),
            body: f.body.clone(),
        })
    };
    // A goose file holds both sections: show it once.
    let goose = migrator.source.ledger == ops::model::Ledger::Goose;
    Ok(ops::model::MigrationSql {
        up: file(&m.up),
        down: if goose { None } else { file(&m.down) },
    })
}

/// Starts a migration job, as the page's form posts it (`action=goto&version=7&confirm=…`).
/// Anything but `up` needs the database name typed as `confirm`.
#[server(prefix = "/api", endpoint = "migrate")]
pub async fn start_migration(
    action: ops::model::MigrateAction,
    #[server(default)] steps: Option<u64>,
    #[server(default)] version: String,
    #[server(default)] confirm: String,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    let op = action.op(steps, &version).map_err(AppError::refused)?;
    if op.is_destructive() {
        guard::require_typed_name(c, &confirm, &format!("run {op} on"))?;
    }
    let job = c.start_migration(op, &caller.actor).await?;
    Ok(guard::started(job).await)
}

/// Starts a rehearsal of `up` on a scratch copy of the database (a fresh dump, dropped
/// afterwards): the live database is only read, so nothing is typed to confirm.
#[server(prefix = "/api", endpoint = "migrate_rehearse")]
pub async fn start_rehearsal() -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let job = caller
        .console
        .start_rehearsal(None, None, &caller.actor)
        .await?;
    Ok(guard::started(job).await)
}

/// The adopt wizard's preview: what HoloMUSH's first goose boot would do (read only).
#[server(prefix = "/api", endpoint = "adopt")]
pub async fn adopt_view() -> Result<ops::model::AdoptView, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    let preview = c.adopt_preview(&caller.actor).await?;
    Ok(ops::model::AdoptView {
        can_undo: matches!(
            &c.status.get().await.connection,
            ops::model::Connection::Up(f) if f.world == Some(ops::model::MigrationWorld::Adopted)
        ),
        preview,
        database: c.config.database_url.database().to_string(),
        target: c.target(),
        source: c.config.migrations_dir.as_ref().map_or_else(
            || "the embedded migrations".to_string(),
            |d| d.display().to_string(),
        ),
    })
}

/// Starts the adopt (golang-migrate → goose); needs the database name typed.
#[server(prefix = "/api", endpoint = "adopt_start")]
pub async fn start_adopt(
    #[server(default)] confirm: String,
    // A checkbox: present ("on") when ticked.
    #[server(default)] safety_backup: Option<String>,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    guard::require_typed_name(c, &confirm, "adopt")?;
    let job = c
        .start_adopt(safety_backup.is_some(), &caller.actor)
        .await?;
    Ok(guard::started(job).await)
}

/// Starts the adopt's undo; needs the database name typed.
#[server(prefix = "/api", endpoint = "adopt_undo")]
pub async fn start_adopt_undo(
    #[server(default)] confirm: String,
    #[server(default)] safety_backup: Option<String>,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    guard::require_typed_name(c, &confirm, "undo the adopt of")?;
    let job = c
        .start_adopt_undo(safety_backup.is_some(), &caller.actor)
        .await?;
    Ok(guard::started(job).await)
}

#[server(prefix = "/api", endpoint = "job")]
pub async fn job_status(id: u64) -> Result<ops::model::JobView, AppError> {
    let caller = guard::require_session()?;
    caller
        .console
        .jobs
        .get(id)
        .map(|j| j.view())
        .ok_or_else(|| {
            AppError::not_found(format!(
                "Job {id} is not known: it may be from before the console restarted."
            ))
        })
}

#[server(prefix = "/api", endpoint = "job_cancel")]
pub async fn cancel_job(id: u64) -> Result<(), AppError> {
    let caller = guard::require_session()?;
    let job = caller
        .console
        .jobs
        .get(id)
        .ok_or_else(|| AppError::not_found(format!("Job {id} is not known.")))?;
    job.cancel();
    Ok(())
}

#[server(prefix = "/api", endpoint = "migration_create")]
pub async fn create_migration(name: String) -> Result<String, AppError> {
    let caller = guard::require_session()?;
    let done = caller.console.create_migration(&name, &caller.actor)?;
    Ok(guard::done(done))
}

/// Marks an existing schema as migrated after checking its objects; needs the database name typed.
#[server(prefix = "/api", endpoint = "migration_bootstrap")]
pub async fn run_bootstrap(confirm: String) -> Result<ops::model::BootstrapView, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    guard::require_typed_name(c, &confirm, "bootstrap")?;
    let job = c.start_bootstrap(&caller.actor).await?;
    let view = job.follow(|_| {}).await;
    match view.output {
        Some(ops::model::JobOutput::Bootstrap(b)) => {
            guard::done(format!("{} Checked: {}.", b.result, b.checked.join(", ")));
            Ok(b)
        }
        _ => Err(AppError::of(
            view.error_kind.unwrap_or(ops::error::ErrorKind::Failed),
            view.result
                .unwrap_or_else(|| "The bootstrap did not finish: see Activity.".to_string()),
        )),
    }
}

#[server(prefix = "/api", endpoint = "backups")]
pub async fn backups_view() -> Result<ops::model::BackupsView, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    let archives = c.backups().await?;
    Ok(ops::model::BackupsView {
        archives: archives.clone(),
        dir: c.backup_place(),
        database: c.config.database_url.database().to_string(),
        target: c.target(),
        running_job: c.jobs.running().map(|j| j.id),
        upload_limit_mb: c.config.upload_limit_bytes / (1024 * 1024),
        retention: c.config.retention.describe(),
        schedule: c.config.schedule_sentence(),
        recent_jobs: c
            .jobs
            .recent()
            .into_iter()
            .filter(|j| j.kind.is_archive_work())
            .take(10)
            .map(|mut j| {
                j.lines.clear();
                j
            })
            .collect(),
        would_delete: ops::backup::retention::plan(
            &archives,
            c.config.retention,
            chrono::Utc::now(),
        ),
    })
}

#[server(prefix = "/api", endpoint = "backup_start")]
pub async fn start_backup(kind: ops::model::BackupKind) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let job = caller.console.start_backup(kind, &caller.actor).await?;
    Ok(guard::started(job).await)
}

#[server(prefix = "/api", endpoint = "backup_verify")]
pub async fn verify_backup(
    file: String,
    restore_test: bool,
    // The database's name typed: a test restore of an archive the console did not make.
    #[server(default)] confirm: Option<String>,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let check = if restore_test {
        ops::console::Check::RestoreTest {
            confirm: confirm.as_deref(),
        }
    } else {
        ops::console::Check::Blocks
    };
    let job = caller
        .console
        .start_verify(&file, check, &caller.actor)
        .await?;
    Ok(guard::started(job).await)
}

/// Restores into a new database only: the current one is never touched.
#[server(prefix = "/api", endpoint = "backup_restore")]
pub async fn restore_backup(
    file: String,
    into: String,
    #[server(default)] jobs: Option<u32>,
    // The new database's name typed again: needed for an archive the console did not make.
    #[server(default)] confirm_into: Option<String>,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let job = caller
        .console
        .start_restore_into(
            &file,
            into.trim(),
            jobs.unwrap_or(1).clamp(1, 32),
            confirm_into.as_deref(),
            &caller.actor,
        )
        .await?;
    Ok(guard::started(job).await)
}

/// Restores into a new database on another server (moving to a new PostgreSQL): the typed
/// URL serves this job only; it is not kept, and the job and audit log show it masked.
#[server(prefix = "/api", endpoint = "backup_restore_to_server")]
pub async fn restore_to_server(
    file: String,
    into: String,
    target_url: String,
    #[server(default)] jobs: Option<u32>,
    #[server(default)] confirm_into: Option<String>,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let target = ops::backup::restore::target_url(&target_url)?;
    let job = caller
        .console
        .start_restore_to_server(
            &file,
            into.trim(),
            target,
            jobs.unwrap_or(1).clamp(1, 32),
            confirm_into.as_deref(),
            &caller.actor,
        )
        .await?;
    Ok(guard::started(job).await)
}

/// The warning the restore panel shows for an archive the console did not make (it then
/// asks for the target's name typed); none for the console's own backups.
#[server(prefix = "/api", endpoint = "backup_restore_warning")]
pub async fn restore_warning(file: String) -> Result<Option<String>, AppError> {
    let caller = guard::require_session()?;
    Ok(caller.console.restore_warning(&file).await?)
}

#[server(prefix = "/api", endpoint = "backup_contents")]
pub async fn backup_contents(file: String) -> Result<ops::model::ArchiveContents, AppError> {
    let caller = guard::require_session()?;
    Ok(caller.console.backup_contents(&file).await?)
}

/// Deletes an archive once its exact name is typed.
#[server(prefix = "/api", endpoint = "backup_delete")]
pub async fn delete_backup(
    file: String,
    // The page's form has one field, the typed name, which is its own confirmation.
    #[server(default)] confirm: Option<String>,
) -> Result<String, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    if confirm.as_deref().unwrap_or(&file).trim() != file {
        return Err(AppError::refused(format!(
            "Not deleted: type the archive's name ({file}) to confirm."
        )));
    }
    let done = c.delete_backup(&file, &caller.actor).await?;
    Ok(guard::done(done))
}

/// Replaces the current database with an archive; needs the database name typed.
#[server(prefix = "/api", endpoint = "backup_restore_in_place")]
pub async fn restore_in_place(
    file: String,
    confirm: String,
    #[server(default)] jobs: Option<u32>,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    guard::require_typed_name(c, &confirm, &format!("restore {file} over"))?;
    let job = c
        .start_restore_in_place(
            &file,
            jobs.unwrap_or(1).clamp(1, 32),
            Some(&confirm),
            &caller.actor,
        )
        .await?;
    Ok(guard::started(job).await)
}

/// The effective configuration, where each value came from, the live pool and warnings.
#[server(prefix = "/api", endpoint = "settings")]
pub async fn settings_view() -> Result<ops::model::SettingsView, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    Ok(ops::diagnose::settings::view(&c.config, &c.pool).await)
}

/// The connection doctor on the console's own URL, or on one typed on the page: that one is
/// used for this run only, and the audit log names it with its password masked.
#[server(prefix = "/api", endpoint = "doctor", input = leptos::server_fn::codec::Json)]
pub async fn run_doctor(url: Option<String>) -> Result<ops::model::DoctorReport, AppError> {
    let caller = guard::require_session()?;
    Ok(caller.console.doctor(url.as_deref(), &caller.actor).await)
}

#[server(prefix = "/api", endpoint = "pg_trgm_enable")]
pub async fn enable_pg_trgm() -> Result<String, AppError> {
    let caller = guard::require_session()?;
    let done = caller.console.enable_pg_trgm(&caller.actor).await?;
    Ok(guard::done(done))
}

/// The badges of the Troubleshooting page.
#[server(prefix = "/api", endpoint = "troubleshooting")]
pub async fn troubleshooting_view() -> Result<ops::model::TroubleView, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    let status = (*c.status.get().await).clone();
    let major = match &status.connection {
        ops::model::Connection::Up(f) => Some(f.major_version()),
        ops::model::Connection::Down(_) => None,
    };
    Ok(ops::model::TroubleView {
        status,
        tools: ops::diagnose::doctor::tool_checks(major).await,
    })
}

/// Steps 1–3 of the guided repair: what happened, what took effect, what to do.
#[server(prefix = "/api", endpoint = "repair")]
pub async fn repair_view() -> Result<ops::model::RepairView, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    let migrator = c.migrator(&caller.actor)?;
    let report = ops::diagnose::dirty::analyze(&migrator).await?;
    let before = report.last_history.as_ref().map(|h| h.started_at);
    let newest_backup = c.backups().await.ok().and_then(|all| {
        all.into_iter()
            .find(|m| before.is_none_or(|t| m.started_at < t) && !m.migration_dirty)
            .map(|m| m.file)
    });
    Ok(ops::model::RepairView {
        report,
        newest_backup,
    })
}

/// Step 4: the dirty version typed to confirm, then the repair as a job.
#[server(prefix = "/api", endpoint = "repair_start")]
pub async fn start_repair(
    // The option picked, as the form's radio button posts it: `force:7`.
    choice: String,
    #[server(default)] confirm: String,
    // A checkbox: present ("on") when ticked.
    #[server(default)] safety_backup: Option<String>,
) -> Result<u64, AppError> {
    let caller = guard::require_session()?;
    let c = &caller.console;
    let (action, version) = ops::model::RepairAction::parse_choice(&choice).ok_or_else(|| {
        AppError::refused(
            "Pick one of the options in step 3, then press Repair. Nothing was changed.",
        )
    })?;
    let safety_backup = safety_backup.is_some();
    let snapshot = c.status.get().await;
    if let ops::model::Connection::Down(why) = &snapshot.connection {
        return Err(AppError::unavailable(why.clone()));
    }
    let dirty = snapshot.dirty_version();
    let Some(dirty) = dirty else {
        return Err(AppError::refused(
            "The database is not dirty: nothing to repair (reload the page).",
        ));
    };
    if confirm.trim() != dirty.to_string() {
        return Err(AppError::refused(format!(
            "Not confirmed: type the dirty version ({dirty}) to repair. Nothing was changed."
        )));
    }
    let job = c
        .start_repair(action, version, safety_backup, &caller.actor)
        .await?;
    Ok(guard::started(job).await)
}
