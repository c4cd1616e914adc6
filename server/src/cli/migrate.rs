//! `migrate …`: the engine's commands, status, bootstrap, the goose adopt and rehearsals.

use ops::backup::archive::ArchiveRef;
use ops::migrate::Op;
use ops::model::AdoptState;

use super::{confirm_database, follow, open, settle, typed, MigrateCommand};
use crate::failure::Failure;

/// `migrate create NAME`: the migrations folder and the audit log, no database.
fn create_migration(name: &str, overrides: &ops::config::Overrides) -> Result<(), Failure> {
    let local = ops::config::LocalConfig::from_env().with_overrides(overrides);
    let audit = ops::audit::AuditLog::open(&local.data_dir)?;
    let done =
        ops::console::create_migration(&audit, local.migrations_dir.as_deref(), name, "cli")?;
    println!("{done}");
    Ok(())
}

/// `migrate …`: the engine's refusals and failures exit 1 as golang-migrate's and goose's do
/// (see [`Failure`]); what the console decides itself exits by its kind.
pub async fn migrate(
    cmd: MigrateCommand,
    overrides: &ops::config::Overrides,
) -> Result<(), Failure> {
    // golang-migrate's `create` needs no database: neither does this one.
    if let MigrateCommand::Create { name } = &cmd {
        return create_migration(name, overrides);
    }
    let console = open(overrides).await?;
    let op = match cmd {
        MigrateCommand::Status { json } => return migrate_status(&console, json).await,
        MigrateCommand::Repair {
            json,
            apply,
            run_down,
            no_safety_backup,
        } => {
            return crate::diagnose_cli::repair(&console, json, apply, run_down, no_safety_backup)
                .await
        }
        MigrateCommand::Create { name } => return create_migration(&name, overrides),
        MigrateCommand::Bootstrap => return bootstrap(&console).await,
        MigrateCommand::Rehearse {
            json,
            from_backup,
            confirm_name,
        } => {
            return rehearse(
                &console,
                json,
                from_backup.as_deref(),
                confirm_name.as_deref(),
            )
            .await
        }
        MigrateCommand::Adopt {
            dry_run,
            json,
            undo,
            yes,
            no_safety_backup,
        } => {
            let safety = !no_safety_backup;
            return match (dry_run, undo) {
                (true, _) => adopt_dry_run(&console, json).await,
                (false, true) => adopt_undo(&console, yes, safety).await,
                (false, false) => adopt(&console, yes, safety).await,
            };
        }
        MigrateCommand::Up { n } => Op::Up(n),
        MigrateCommand::Down { all: true, yes, .. } => {
            if !yes {
                confirm_database(&console)?;
            }
            Op::DownAll
        }
        MigrateCommand::Down { n, .. } => Op::Down(n),
        MigrateCommand::Goto { version } => Op::Goto(version),
        MigrateCommand::Force { version } => Op::Force(version),
    };
    let job = console.start_migration(op, "cli").await?;
    let view = settle(
        &job,
        job.follow(|line| eprintln!("{:>7.3}s  {}", line.at_ms as f64 / 1000.0, line.text)),
    )
    .await?;
    match view.status {
        ops::model::JobStatus::Succeeded => Ok(()),
        ops::model::JobStatus::Failed => Err(Failure::tool(
            view.error_kind.unwrap_or(ops::error::ErrorKind::Failed),
            view.result.as_deref().unwrap_or("The migration failed."),
        )),
        // Cancelled: the console's stop (130), not the tool's failure.
        _ => Err(Failure::of_job(&view, "The migration was cancelled.")),
    }
}

async fn migrate_status(console: &ops::Console, json: bool) -> Result<(), Failure> {
    let migrator = console.migrator("cli")?;
    let status = ops::migrate::status::status(&migrator).await?;
    let ignored = migrator.source.ignored();
    if json {
        /// The status, plus the source's ignored files when there are any.
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            status: &'a ops::migrate::status::Status,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            ignored: &'a [String],
        }
        let shown = Shown {
            status: &status,
            ignored,
        };
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    println!("{}", status.version_line());
    println!("ledger: {}", status.ledger.as_str());
    if let Some(world) = status.world {
        println!("database: {}", world.describe());
    }
    // HoloMUSH's names run past 32 characters; the column widens so the rest stays aligned.
    let width = status
        .migrations
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(32);
    for e in &status.migrations {
        let when = e
            .applied_at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let took = e.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default();
        println!(
            "{:>8}  {:<12} {:<width$} {:<20} {:>9}  {}{}{}",
            e.version,
            e.state.as_str(),
            e.name,
            when,
            took,
            e.applied_by.as_deref().unwrap_or(""),
            if e.drift {
                "  DRIFT: file changed since applied"
            } else {
                ""
            },
            if e.kind == ops::model::MigrationKind::Go {
                "  GO: only the holomush binary runs it"
            } else {
                ""
            }
        );
    }
    let tool = status.ledger.as_str();
    for name in ignored {
        println!("ignored: {name} (not a {tool} migration file name: {tool} skips it)");
    }
    for w in status.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(())
}

async fn bootstrap(console: &ops::Console) -> Result<(), Failure> {
    let job = console.start_bootstrap("cli").await?;
    let view = settle(&job, job.follow(|line| println!("{}", line.text))).await?;
    match view.status {
        ops::model::JobStatus::Succeeded => {
            println!("{}", view.result.unwrap_or_default());
            Ok(())
        }
        _ => Err(Failure::of_job(&view, "The bootstrap failed.")),
    }
}

/// `migrate adopt --dry-run`: the preview as text or JSON on stdout; fails (after printing
/// it) when HoloMUSH would refuse, with the refusal's code.
async fn adopt_dry_run(console: &ops::Console, json: bool) -> Result<(), Failure> {
    let p = console.adopt_preview("cli").await?;
    if json {
        let refusal = p.refusal.as_ref().map(serde_json::to_value).transpose()?;
        let shape = serde_json::json!({
            "state": p.state.as_str(),
            "recorded_version": p.recorded_version,
            "dirty": p.dirty,
            "seed": p.seed,
            "refusal": refusal,
        });
        println!("{}", serde_json::to_string_pretty(&shape)?);
    } else {
        let shown = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
        println!("state:            {}", p.state.as_str());
        println!(
            "recorded version: {}",
            shown(p.recorded_version.map(|v| v.to_string()))
        );
        println!(
            "dirty:            {}",
            shown(p.dirty.map(|d| d.to_string()))
        );
        println!("rows:             {}", shown(p.rows.map(|r| r.to_string())));
        if p.state == AdoptState::Ready {
            let seed: Vec<String> = p.seed.iter().map(u64::to_string).collect();
            println!(
                "would seed:       0 (goose's version-0 row), {}",
                seed.join(", ")
            );
        }
        if let Some(r) = &p.refusal {
            println!("refusal:          {}", r.code.as_str());
        }
        println!("{}", p.sentence);
    }
    match p.refusal {
        Some(r) => Err(Failure::refused(r)),
        None => Ok(()),
    }
}

/// `migrate adopt`: the preview, the database name typed (unless --yes), then the job.
async fn adopt(console: &ops::Console, yes: bool, safety: bool) -> Result<(), Failure> {
    let p = console.adopt_preview("cli").await?;
    if let Some(r) = p.refusal {
        return Err(Failure::refused(r));
    }
    if p.state != AdoptState::Ready {
        println!("{}", p.sentence);
        return Ok(());
    }
    eprintln!("{}", p.sentence);
    if !yes {
        let name = console.config.database_url.database();
        typed(
            &format!(
                "This adopts database \"{name}\" ({}) for goose{}. Type the database name to go on: ",
                console.target(),
                if safety { " after a safety backup" } else { ", without a safety backup" }
            ),
            name,
            "Not confirmed: nothing was changed",
        )?;
    }
    let job = console.start_adopt(safety, "cli").await?;
    follow(&job).await.map(|_| ())
}

/// `migrate adopt --undo`: the database name typed (unless --yes), then the job.
async fn adopt_undo(console: &ops::Console, yes: bool, safety: bool) -> Result<(), Failure> {
    if !yes {
        let name = console.config.database_url.database();
        typed(
            &format!(
                "This undoes the adopt of database \"{name}\" ({}): schema_migrations comes back and goose_db_version is dropped. Type the database name to go on: ",
                console.target()
            ),
            name,
            "Not confirmed: nothing was changed",
        )?;
    }
    let job = console.start_adopt_undo(safety, "cli").await?;
    follow(&job).await.map(|_| ())
}

/// `migrate rehearse`: the job's log on stderr, then a table per file (or the JSON);
/// fails when a file failed or the rehearsal could not run.
async fn rehearse(
    console: &ops::Console,
    json: bool,
    from_backup: Option<&str>,
    confirm: Option<&str>,
) -> Result<(), Failure> {
    let job = console
        .start_rehearsal(from_backup.map(ArchiveRef::from_cli), confirm, "cli")
        .await?;
    let view = settle(
        &job,
        job.follow(|line| eprintln!("{:>7.3}s  {}", line.at_ms as f64 / 1000.0, line.text)),
    )
    .await?;
    let Some(ops::model::JobOutput::Rehearsal(r)) = &view.output else {
        return Err(Failure::of_job(&view, "The rehearsal did not run."));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        print_rehearsal(r);
    }
    if r.ok {
        eprintln!("{}", view.result.clone().unwrap_or_default());
        Ok(())
    } else {
        Err(Failure::of_job(
            &view,
            "A migration failed in the rehearsal.",
        ))
    }
}

fn print_rehearsal(r: &ops::model::Rehearsal) {
    println!(
        "{:>8}  {:<28} {:<6} {:>9}  locks on existing tables",
        "version", "name", "result", "took"
    );
    for s in &r.steps {
        let locks = match &s.locks_unknown {
            Some(why) => format!("unknown: {why}"),
            None if s.locks.is_empty() => "none".to_string(),
            None => s
                .locks
                .iter()
                .map(|l| format!("{} {}", l.relation, l.mode))
                .collect::<Vec<_>>()
                .join(", "),
        };
        println!(
            "{:>8}  {:<28} {:<6} {:>6} ms  {locks}",
            s.version,
            s.name,
            if s.ok { "ok" } else { "FAILED" },
            s.duration_ms
        );
        if let Some(e) = &s.error {
            println!("          {e}");
        }
    }
    if !r.schema_changes.is_empty() {
        println!("schema changes:");
        for c in &r.schema_changes {
            println!("  {:<8} {:<11} {}", c.change.as_str(), c.kind, c.name);
        }
    }
    println!("total {} ms, scratch copy {}", r.total_ms, r.scratch);
}
