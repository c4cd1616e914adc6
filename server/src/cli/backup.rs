//! `backup …` and `restore`.

use clap::Args;
use ops::backup::archive::ArchiveRef;
use ops::model::format_bytes;

use super::{follow, open, typed, typed_or, url_argument, BackupCommand};
use crate::failure::Failure;

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
        BackupCommand::Verify {
            file,
            restore_test,
            confirm_name,
        } => {
            let given = ArchiveRef::from_cli(&file);
            // A test restore runs the archive's SQL: one the console did not make needs the
            // database's name typed, as a restore does.
            let confirm = match console.restore_warning(given).await? {
                Some(warning) if restore_test && confirm_name.is_none() => {
                    let database = console.config.database_url.database().to_string();
                    typed_or(
                        &format!("{warning} Type the database name to test-restore it: "),
                        &database,
                        "Not confirmed: nothing was changed",
                        &format!("--confirm-name {database}"),
                    )?;
                    Some(database)
                }
                _ => confirm_name,
            };
            let check = if restore_test {
                ops::console::Check::RestoreTest {
                    confirm: confirm.as_deref(),
                }
            } else {
                ops::console::Check::Blocks
            };
            console.start_verify(given, check, "cli").await?
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
