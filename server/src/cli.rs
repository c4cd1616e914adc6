//! The command line: every button of the console has a command here.

use clap::{Args, Parser, Subcommand};
use ops::model::{format_bytes, AuditFilter, Connection, Extension, MigrationState, Outcome};

/// The HoloMUSH database console: a web admin console and a CLI for HoloMUSH's PostgreSQL
/// database. Configuration comes from the environment (DATABASE_URL, DB_MAX_CONNS,
/// DB_MIN_CONNS, DB_MAX_LIFETIME, HOLOMUSH_DB_AUTO_MIGRATE, HOLOMUSH_ADMIN_*); see the README.
#[derive(Parser, Debug)]
#[command(name = "holomush-admin", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web console on HOLOMUSH_ADMIN_ADDR (default 127.0.0.1:3000).
    Serve,
    /// Show what the dashboard shows: connection, server version, size, pg_trgm, migration version, pool.
    Info(InfoArgs),
    /// List the audit log, newest first.
    Activity(ActivityArgs),
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

fn open() -> Result<ops::Console, String> {
    let config = ops::config::Config::from_env().map_err(|e| e.to_string())?;
    ops::Console::open(config).map_err(|e| e.to_string())
}

pub async fn info(args: InfoArgs) -> Result<(), String> {
    let console = open()?;
    let snap = console.status.get().await;
    if args.json {
        let text = serde_json::to_string_pretty(&*snap).map_err(|e| e.to_string())?;
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
                    MigrationState::NoTable => "no migrations table".to_string(),
                    MigrationState::NoVersion => "no version".to_string(),
                    MigrationState::At {
                        version,
                        dirty: false,
                    } => version.to_string(),
                    MigrationState::At {
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
    }
    match snap.connection {
        Connection::Up(_) => Ok(()),
        Connection::Down(ref why) => Err(why.clone()),
    }
}

pub fn activity(args: ActivityArgs) -> Result<(), String> {
    // The audit log needs only the data folder, not a reachable database.
    let config = ops::config::Config::from_env().map_err(|e| e.to_string())?;
    let log = ops::audit::AuditLog::open(&config.data_dir).map_err(|e| e.to_string())?;
    let filter = AuditFilter {
        action: args.action,
        actor: args.actor,
        outcome: args.failed.then_some(Outcome::Failed),
        text: args.text,
        limit: args.limit,
    };
    let rows = log.list(&filter).map_err(|e| e.to_string())?;
    for r in rows {
        if args.json {
            println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
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
