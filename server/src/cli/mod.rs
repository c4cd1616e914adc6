//! The command line: every button of the console has a command here. The arguments live
//! here with the helpers every command shares (open the console, follow a job, a typed
//! confirmation); each group of commands is its own file, a thin adapter over ops::Console.

mod backup;
mod info;
mod migrate;

pub use backup::{backup, restore, RestoreArgs};
pub use info::{activity, info};
pub use migrate::migrate;

use clap::{Args, Parser, Subcommand};
use ops::error::ErrorKind;
use ops::model::format_bytes;

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
        /// The current database's name, typed as the confirmation a test restore of an
        /// archive the console did not make needs. Without it, the name is asked for.
        #[arg(long, value_name = "NAME", requires = "restore_test")]
        confirm_name: Option<String>,
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

/// Waits for `following` (a job being followed) to end. The first SIGINT (Ctrl-C) or
/// SIGTERM cancels the job at its next safe point, as golang-migrate's CLI does: a
/// migration finishes the file it is running, a dump or restore stops and cleans up. A
/// second signal, or 30 s without a safe point, leaves at once.
pub(super) async fn settle(
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
pub(super) async fn follow(job: &ops::jobs::Job) -> Result<ops::model::JobView, Failure> {
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

pub(super) fn confirm_database(console: &ops::Console) -> Result<(), Failure> {
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
pub(super) fn typed(prompt: &str, expected: &str, refused: &str) -> Result<(), Failure> {
    typed_or(prompt, expected, refused, "--yes")
}

/// [`typed`], naming the flag that stands for the typed answer.
pub(super) fn typed_or(
    prompt: &str,
    expected: &str,
    refused: &str,
    flag: &str,
) -> Result<(), Failure> {
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

pub(super) async fn open(overrides: &ops::config::Overrides) -> Result<ops::Console, Failure> {
    let config = ops::config::Config::from_env()?.with_overrides(overrides);
    let console = ops::Console::open(config).await?;
    for what in console.recover_interrupted_work().await {
        eprintln!("{what}");
    }
    Ok(console)
}
