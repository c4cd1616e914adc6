//! `holomush-admin`: the HoloMUSH database console, as a web server and a CLI.

mod cli;
mod diagnose_cli;
mod failure;
mod signals;
mod site;
mod web;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    // First, while this is the only thread: the libpq variables (PGPASSWORD, PGSSLCERT…)
    // leave the process environment, where sqlx would hand them to any URL, including one
    // a person typed; the console's own DATABASE_URL gets them from the snapshot.
    ops::config::take_libpq_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the console could not start its runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run())
}

async fn run() -> ExitCode {
    // Archives, the audit log and job records are the console user's alone.
    ops::files::private_umask();
    let cli = Cli::parse();
    // The flags that set configuration travel as values into every loader, which applies
    // them over the environment's: the process environment is only ever read.
    let overrides = cli.overrides();
    init_tracing();
    let result: Result<(), failure::Failure> = match cli.command {
        Command::Serve => web::serve(&overrides).await,
        Command::Info(args) => cli::info(args, &overrides).await,
        Command::Activity(args) => cli::activity(args),
        Command::Migrate(cmd) => cli::migrate(cmd, &overrides).await,
        Command::Backup(cmd) => cli::backup(cmd, &overrides).await,
        Command::Doctor { url, json, fix } => diagnose_cli::doctor(url, json, fix).await,
        Command::Restore(args) => cli::restore(args, &overrides).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code())
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOLOMUSH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
