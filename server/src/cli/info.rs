//! `info` and `activity`: what the console reads, printed.

use ops::error::ErrorKind;
use ops::model::{format_bytes, AuditFilter, Connection, Extension, Outcome, SchemaVersion};

use super::{open, ActivityArgs, InfoArgs};
use crate::failure::Failure;

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
            // Escaped again here: records written before the log escaped them, or by hand,
            // must not reach the terminal raw either.
            use ops::audit::escape_controls as esc;
            println!(
                "{}  {:<10} {:<18} {:<7} {} {}",
                r.time.format("%Y-%m-%d %H:%M:%S"),
                esc(&r.actor),
                esc(&r.action),
                r.outcome.as_str(),
                esc(&r.target),
                esc(&r.detail)
            );
        }
    }
    Ok(())
}
