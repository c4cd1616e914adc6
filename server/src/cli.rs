//! The command line: every button of the console has a command here.

use clap::{Args, Parser, Subcommand};
use ops::backup::archive::ArchiveRef;
use ops::error::ErrorKind;
use ops::migrate::Op;
use ops::model::{
    format_bytes, AdoptState, AuditFilter, Connection, Extension, Outcome, SchemaVersion,
};

use crate::failure::Failure;

/// The HoloMUSH database console: a web admin console and a CLI for HoloMUSH's PostgreSQL
/// database. Configuration comes from the environment (DATABASE_URL, DB_MAX_CONNS,
/// DB_MIN_CONNS, DB_MAX_LIFETIME, HOLOMUSH_DB_AUTO_MIGRATE, HOLOMUSH_ADMIN_*); see the README.
#[derive(Parser, Debug)]
#[command(name = "holomush-admin", version, about, long_about = None)]
pub struct Cli {
    /// Migrations folder instead of the set embedded in the binary (HOLOMUSH_MIGRATIONS_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub migrations_dir: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The global flags that set configuration, as values for the loaders.
    pub fn overrides(&self) -> ops::config::Overrides {
        ops::config::Overrides {
            migrations_dir: self.migrations_dir.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web console on HOLOMUSH_ADMIN_ADDR (default 127.0.0.1:3000).
    Serve,
    /// Show what the dashboard shows: connection, server version, size, pg_trgm, migration version, pool.
    Info(InfoArgs),
    /// List the audit log, newest first.
    Activity(ActivityArgs),
    /// Migrations on the database's schema: golang-migrate's or goose's, as the source's files are.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// pg_dump archives in HOLOMUSH_BACKUP_DIR.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Check the connection step by step (parse, dns, tcp, tls, auth, select1, server_version,
    /// privileges, pg_trgm, migrations, client_tools), each with its fix.
    Doctor {
        /// The URL to check instead of DATABASE_URL; `-` reads it from stdin (a password
        /// given here is visible to other users in `ps`).
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        json: bool,
        /// Fix what the doctor can: `pg_trgm` (CREATE EXTENSION IF NOT EXISTS pg_trgm).
        #[arg(long, value_enum, value_name = "WHAT")]
        fix: Option<Fix>,
    },
    /// Restore an archive of HOLOMUSH_BACKUP_DIR into a new database, or in place.
    Restore(RestoreArgs),
}

/// `backup create --kind`: the seed's three kinds of archive.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Kind {
    Full,
    Schema,
    Data,
}

impl From<Kind> for ops::model::BackupKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Full => Self::Full,
            Kind::Schema => Self::Schema,
            Kind::Data => Self::Data,
        }
    }
}

/// `doctor --fix`: what the doctor can fix by itself.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Fix {
    #[value(name = "pg_trgm")]
    PgTrgm,
}

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Dump the database: full (pg_dump -Fc), schema (--schema-only) or data (--data-only).
    Create {
        #[arg(long, value_enum, default_value_t = Kind::Full)]
        kind: Kind,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the archives, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Read an archive's table of contents and every data block; with --restore-test, also
    /// restore it into a scratch database (dropped afterwards) and compare row counts.
    Verify {
        file: String,
        #[arg(long)]
        restore_test: bool,
    },
    /// Copy an archive made elsewhere into HOLOMUSH_BACKUP_DIR, as the Backups page's Upload
    /// does: checked block by block (pg_dump -Fc, HOLOMUSH_UPLOAD_LIMIT_MB), kept under its
    /// own name with a manifest, and marked as not made by this console.
    Import { file: std::path::PathBuf },
    /// Delete an archive and its manifest (asks for the name to be typed unless --yes).
    Delete {
        file: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MigrateCommand {
    /// Apply all pending migrations, or the next N.
    Up { n: Option<u64> },
    /// Roll back one migration, N migrations, or all of them (--all).
    Down {
        n: Option<u64>,
        #[arg(long, conflicts_with = "n")]
        all: bool,
        /// Do not ask to type the database name for --all.
        #[arg(long)]
        yes: bool,
    },
    /// Migrate up or down to version V.
    Goto { version: u64 },
    /// Set the version without running SQL and clear the dirty flag (-1 empties the table); golang-migrate only.
    #[command(allow_negative_numbers = true)]
    Force { version: i64 },
    /// Print the version (golang-migrate's style) and every migration's state.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write the next migration into the migrations folder: a NNNNNN_name.up.sql / .down.sql pair, or goose's NNNNNN_name.sql.
    Create { name: String },
    /// Mark an existing database as migrated to the latest version after checking its objects.
    Bootstrap,
    /// Run what `up` would run on a scratch copy of the database (dropped afterwards): each
    /// file's outcome, time and locks on existing tables, then the schema difference.
    Rehearse {
        #[arg(long)]
        json: bool,
        /// Copy from this archive (a name in HOLOMUSH_BACKUP_DIR, or a path) instead of a
        /// fresh pg_dump of the database.
        #[arg(long, value_name = "FILE")]
        from_backup: Option<String>,
        /// For an archive this console did not make: the database's name, typed.
        #[arg(long, requires = "from_backup")]
        confirm_name: Option<String>,
    },
    /// The cutover to goose, as HoloMUSH's first goose boot does it: seed goose_db_version
    /// from schema_migrations' version (the goose files at or below it) and keep
    /// schema_migrations as schema_migrations_pre_goose, under goose's lock, after a safety
    /// backup. Needs the goose migrations (HOLOMUSH_MIGRATIONS_DIR).
    Adopt {
        /// Print what it would do (version, dirty flag, rows, versions seeded, or the
        /// refusal and its code) and change nothing.
        #[arg(long, conflicts_with = "undo")]
        dry_run: bool,
        /// With --dry-run: print JSON.
        #[arg(long, requires = "dry_run")]
        json: bool,
        /// Roll the adopt back (schema_migrations back, goose_db_version dropped) while goose
        /// has applied nothing beyond the versions it seeded.
        #[arg(long)]
        undo: bool,
        /// Do not ask to type the database name.
        #[arg(long)]
        yes: bool,
        /// Skip the safety backup (a full pg_dump) taken before the change.
        #[arg(long)]
        no_safety_backup: bool,
    },
    /// Guided repair of a dirty version: what happened, what took effect, what to do.
    /// With --apply VERSION: a safety backup, then force VERSION (after V's down SQL with --run-down).
    #[command(allow_negative_numbers = true)]
    Repair {
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "VERSION")]
        apply: Option<i64>,
        /// Run the dirty version's down SQL before forcing (for a partly applied version).
        #[arg(long, requires = "apply")]
        run_down: bool,
        #[arg(long, requires = "apply")]
        no_safety_backup: bool,
    },
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ActivityArgs {
    /// Only this action and the actions below it (e.g. `login`).
    #[arg(long, default_value = "")]
    pub action: String,
    /// Only this actor (e.g. `admin`, `cli`).
    #[arg(long, default_value = "")]
    pub actor: String,
    /// Only failed actions.
    #[arg(long)]
    pub failed: bool,
    /// Text to look for in target and detail.
    #[arg(long, default_value = "")]
    pub text: String,
    /// At most this many records.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

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

pub async fn backup(cmd: BackupCommand, overrides: &ops::config::Overrides) -> Result<(), Failure> {
    let console = open(overrides).await?;
    let job = match cmd {
        BackupCommand::List { json } => {
            let list = console.backups().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for m in &list {
                    println!(
                        "{:<40} {:<7} {:>10}  {}  {:<10} {:<16} {}",
                        m.file,
                        m.kind.as_str(),
                        format_bytes(i64::try_from(m.size).unwrap_or(i64::MAX)),
                        m.started_at.format("%Y-%m-%d %H:%M:%S"),
                        m.migration_version
                            .map_or("-".to_string(), |v| v.to_string()),
                        if m.pg_dump_version.is_empty() {
                            "-".to_string()
                        } else {
                            format!("pg_dump {}", m.pg_dump_version)
                        },
                        match &m.verification {
                            ops::model::Verification::Never => "not verified".to_string(),
                            v => v.to_string(),
                        }
                    );
                }
            }
            return Ok(());
        }
        BackupCommand::Create { kind, json } => {
            let job = console.start_backup(kind.into(), "cli").await?;
            let view = follow(&job).await?;
            if json {
                let Some(ops::model::JobOutput::Manifest(manifest)) = view.output else {
                    return Err(Failure::failed("The backup finished without a manifest."));
                };
                println!("{}", serde_json::to_string_pretty(&manifest)?);
            }
            return Ok(());
        }
        BackupCommand::Verify { file, restore_test } => {
            console
                .start_verify(ArchiveRef::from_cli(&file), restore_test, "cli")
                .await?
        }
        BackupCommand::Import { file } => {
            println!("{}", console.import_backup(&file, "cli").await?);
            return Ok(());
        }
        BackupCommand::Delete { file, yes } => {
            let given = ArchiveRef::from_cli(&file);
            if !yes {
                let name = console.archive_name(given).await?;
                typed(
                    &format!("Type the archive's name ({name}) to delete it: "),
                    &name,
                    "Not deleted",
                )?;
            }
            let done = console.delete_backup(given, "cli").await?;
            println!("{done}");
            return Ok(());
        }
    };
    follow(&job).await.map(|_| ())
}

/// A URL given as an argument, or read from stdin when the argument is `-`: a password on
/// the command line shows in `ps`.
pub fn url_argument(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::failed(format!("Could not read the URL from stdin: {e}.")))?;
    Ok(line.trim().to_string())
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The archive's file name in HOLOMUSH_BACKUP_DIR.
    pub file: String,
    /// The new database to create and restore into (the seed's holomush_restored).
    #[arg(
        long,
        required_unless_present = "in_place",
        conflicts_with = "in_place"
    )]
    pub into: Option<String>,
    /// Replace the current database: safety backup, restore into a fresh copy, swap by rename.
    #[arg(long)]
    pub in_place: bool,
    /// Do not ask to type the database name for --in-place (an archive the console did
    /// not make also needs --confirm-name).
    #[arg(long)]
    pub yes: bool,
    /// The target database's name, typed as the confirmation an archive the console did
    /// not make (uploaded, copied in, outside the folder) needs: the --into name, or the
    /// current database's for --in-place. Without it, the name is asked for.
    #[arg(long, value_name = "NAME")]
    pub confirm_name: Option<String>,
    /// Parallel pg_restore jobs.
    #[arg(long, default_value_t = 1)]
    pub jobs: u32,
    /// Restore --into a new database on another server (moving to a new PostgreSQL), then
    /// compare every table's rows with the archive; `-` reads the URL from stdin (a
    /// password given here is visible to other users in `ps`).
    #[arg(
        long,
        value_name = "URL|-",
        requires = "into",
        conflicts_with = "in_place"
    )]
    pub target_url: Option<String>,
}

pub async fn restore(args: RestoreArgs, overrides: &ops::config::Overrides) -> Result<(), Failure> {
    let RestoreArgs {
        file,
        into,
        in_place,
        yes,
        confirm_name,
        jobs,
        target_url,
    } = args;
    let target = target_url
        .as_deref()
        .map(url_argument)
        .transpose()?
        .map(|text| ops::backup::restore::target_url(&text))
        .transpose()?;
    let console = open(overrides).await?;
    let given = ArchiveRef::from_cli(&file);
    let database = console.config.database_url.database().to_string();
    let restoring_to = into
        .clone()
        .filter(|_| !in_place)
        .unwrap_or(database.clone());
    // An archive the console did not make runs its SQL with the console's role: its warning
    // is shown, and the target's name typed (or given with --confirm-name).
    let confirm = match console.restore_warning(given).await? {
        None => confirm_name,
        Some(_) if confirm_name.is_some() => confirm_name,
        Some(_) if yes => {
            return Err(Failure::refused(format!(
                "--yes is not enough for an archive this console did not make: add --confirm-name {restoring_to} to restore {file}. Nothing was changed."
            )))
        }
        Some(warning) => {
            typed_or(
                &format!("{warning} Type the target database name to go on: "),
                &restoring_to,
                "Not confirmed: nothing was changed",
                &format!("--confirm-name {restoring_to}"),
            )?;
            Some(restoring_to.clone())
        }
    };
    let confirm = confirm.as_deref();
    let job = match (into, target) {
        (Some(into), Some(target)) => {
            console
                .start_restore_to_server(given, &into, target, jobs, confirm, "cli")
                .await?
        }
        (Some(into), None) if !in_place => {
            console
                .start_restore_into(given, &into, jobs, confirm, "cli")
                .await?
        }
        _ => {
            // The foreign-archive prompt above already had the name typed.
            if !yes && confirm.is_none() {
                typed(
                    &format!(
                        "This replaces database \"{database}\" ({}) with {file}: a safety backup is taken first, other sessions are ended. Type the database name to go on: ",
                        console.target()
                    ),
                    &database,
                    "Not confirmed: nothing was changed",
                )?;
            }
            console
                .start_restore_in_place(given, jobs, confirm, "cli")
                .await?
        }
    };
    follow(&job).await.map(|_| ())
}

/// Waits for `following` (a job being followed) to end. The first SIGINT (Ctrl-C) or
/// SIGTERM cancels the job at its next safe point, as golang-migrate's CLI does: a
/// migration finishes the file it is running, a dump or restore stops and cleans up. A
/// second signal, or 30 s without a safe point, leaves at once.
async fn settle(
    job: &ops::jobs::Job,
    following: impl std::future::Future<Output = ops::model::JobView>,
) -> Result<ops::model::JobView, Failure> {
    tokio::pin!(following);
    let signal = crate::signals::stop_requested();
    tokio::select! {
        view = &mut following => return Ok(view),
        _ = signal => {}
    }
    eprintln!(
        "Stopping job #{} ({}) at its next safe point; press Ctrl-C again to leave at once.",
        job.id, job.kind
    );
    job.cancel();
    let again = crate::signals::stop_requested();
    tokio::select! {
        view = &mut following => Ok(view),
        _ = again => Err(Failure::new(ErrorKind::Interrupted, format!(
            "Left at once on a second signal: job #{} ({}) was cut short; check `holomush-admin migrate status` and the backup folder before running it again.",
            job.id, job.kind
        ))),
        _ = tokio::time::sleep(crate::signals::GRACE) => Err(Failure::new(ErrorKind::Interrupted, format!(
            "Job #{} ({}) did not reach a safe point within {} s and was cut short; check `holomush-admin migrate status` and the backup folder before running it again.",
            job.id, job.kind, crate::signals::GRACE.as_secs()
        ))),
    }
}

/// Prints a job's lines as they come (on stderr), with a progress bar when stderr is a
/// terminal, and its result; fails when the job did.
async fn follow(job: &ops::jobs::Job) -> Result<ops::model::JobView, Failure> {
    use std::io::IsTerminal;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:32} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let print = |text: String| match &bar {
        Some(b) => b.println(text),
        None => eprintln!("{text}"),
    };
    let following = job.follow_progress(
        |line| {
            print(format!(
                "{:>7.3}s  {}",
                line.at_ms as f64 / 1000.0,
                line.text
            ))
        },
        |p| {
            if let Some(b) = &bar {
                b.set_length(p.total);
                b.set_position(p.done);
                let bytes = if p.bytes > 0 {
                    format!(
                        ", {}",
                        format_bytes(i64::try_from(p.bytes).unwrap_or(i64::MAX))
                    )
                } else {
                    String::new()
                };
                b.set_message(format!("{}{bytes}", p.stage));
            }
        },
    );
    let view = settle(job, following).await;
    let view = view?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match view.status {
        ops::model::JobStatus::Succeeded => {
            eprintln!("{}", view.result.clone().unwrap_or_default());
            Ok(view)
        }
        _ => Err(Failure::of_job(&view, "The job failed.")),
    }
}

fn confirm_database(console: &ops::Console) -> Result<(), Failure> {
    let name = console.config.database_url.database();
    typed(
        &format!(
            "This rolls back every migration of database \"{name}\" ({}). Type the database name to go on: ",
            console.target()
        ),
        name,
        "Not confirmed: nothing was changed",
    )
}

/// The one typed-name prompt: asks on stderr, reads a line, and goes on only when it is
/// exactly `expected`; otherwise `refused`, then how to go on (`--yes`).
fn typed(prompt: &str, expected: &str, refused: &str) -> Result<(), Failure> {
    typed_or(prompt, expected, refused, "--yes")
}

/// [`typed`], naming the flag that stands for the typed answer.
fn typed_or(prompt: &str, expected: &str, refused: &str, flag: &str) -> Result<(), Failure> {
    eprint!("{prompt}");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::failed(format!("Could not read the answer: {e}")))?;
    if answer.trim() != expected {
        return Err(Failure::refused(format!(
            "{refused}. Type \"{expected}\" exactly, or pass {flag}."
        )));
    }
    Ok(())
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

async fn open(overrides: &ops::config::Overrides) -> Result<ops::Console, Failure> {
    let config = ops::config::Config::from_env()?.with_overrides(overrides);
    let console = ops::Console::open(config).await?;
    for what in console.recover_interrupted_work().await {
        eprintln!("{what}");
    }
    Ok(console)
}

pub async fn info(args: InfoArgs, overrides: &ops::config::Overrides) -> Result<(), Failure> {
    let console = open(overrides).await?;
    let snap = console.status.get().await;
    if args.json {
        let text = serde_json::to_string_pretty(&*snap)?;
        println!("{text}");
    } else {
        println!("Database:    {} ({})", snap.database, snap.target);
        match &snap.connection {
            Connection::Down(why) => println!("Connection:  down: {why}"),
            Connection::Up(f) => {
                println!("Connection:  up, round trip {:.1} ms", f.latency_ms);
                let warn = if f.version_too_old() {
                    "  (too old: HoloMUSH needs PostgreSQL 14 or later)"
                } else {
                    ""
                };
                println!("Server:      PostgreSQL {}{warn}", f.server_version);
                println!("Size:        {}", format_bytes(f.database_size_bytes));
                let trgm = match &f.pg_trgm {
                    Extension::Installed(v) => format!("installed ({v})"),
                    Extension::Available => "available, not installed".to_string(),
                    Extension::NotAvailable => {
                        "not available: install postgresql-contrib".to_string()
                    }
                };
                println!("pg_trgm:     {trgm}");
                let migration = match f.migration {
                    SchemaVersion::NoTable => "no migrations table".to_string(),
                    SchemaVersion::NoVersion => "no version".to_string(),
                    SchemaVersion::At {
                        version,
                        dirty: false,
                    } => version.to_string(),
                    SchemaVersion::At {
                        version,
                        dirty: true,
                    } => format!("{version} (dirty)"),
                };
                println!("Migrations:  {migration}");
            }
        }
        println!(
            "Pool:        {} open, {} idle, max {}, min {}",
            snap.pool.size, snap.pool.idle, snap.pool.max, snap.pool.min
        );
        match &snap.backups.newest {
            None => println!("Last backup: none yet"),
            Some(b) => println!(
                "Last backup: {} ({} backup, {} ago, {})",
                b.file,
                b.kind.as_str(),
                ops::model::format_age((snap.taken_at - b.started_at).num_seconds()),
                if b.verified() {
                    "verified"
                } else {
                    "not verified"
                }
            ),
        }
        if let Some(w) = &snap.backups.warning {
            println!("             {w}");
        }
    }
    match snap.connection {
        Connection::Up(_) => Ok(()),
        // The connection's state is the snapshot's own: down is the server not reached.
        Connection::Down(ref why) => Err(Failure::new(ErrorKind::Unavailable, why)),
    }
}

pub fn activity(args: ActivityArgs) -> Result<(), Failure> {
    // The audit log needs only the data folder, not a reachable database.
    let config = ops::config::Config::from_env()?;
    let log = ops::audit::AuditLog::open(&config.data_dir)?;
    let filter = AuditFilter {
        action: args.action,
        actor: args.actor,
        outcome: args.failed.then_some(Outcome::Failed),
        text: args.text,
        limit: args.limit,
    };
    let rows = log.list(&filter)?;
    for r in rows {
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!(
                "{}  {:<10} {:<18} {:<7} {} {}",
                r.time.format("%Y-%m-%d %H:%M:%S"),
                r.actor,
                r.action,
                r.outcome.as_str(),
                r.target,
                r.detail
            );
        }
    }
    Ok(())
}
