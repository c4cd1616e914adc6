//! `holomush-admin doctor` and `holomush-admin migrate repair`: the Troubleshooting page's
//! connection doctor and guided dirty-state repair, in a terminal.

use ops::model::{RepairAction, RepairConclusion, RepairReport, StepStatus};

use crate::failure::Failure;

/// `doctor [--url URL|-] [--json] [--fix pg_trgm]`. Exit status non-zero when a step fails.
pub async fn doctor(
    url: Option<String>,
    json: bool,
    fix: Option<crate::cli::Fix>,
) -> Result<(), Failure> {
    let text = match url.as_deref() {
        Some(arg) => crate::cli::url_argument(arg)?,
        None => std::env::var("DATABASE_URL").unwrap_or_default(),
    };
    // --url is typed: only what it says, and this machine only as HOLOMUSH_ADMIN_TARGET_HOSTS allows.
    let typed = match url {
        Some(_) => Some(ops::config::TypedUrlRules::from_env()?),
        None => None,
    };
    if let Some(crate::cli::Fix::PgTrgm) = fix {
        let parsed = match &typed {
            Some(rules) => ops::console::typed_doctor_url(&text, rules)
                .await
                .map_err(Failure::refused)?,
            None => ops::config::parse_database_url(&text, &ops::config::env_var)?,
        };
        let done = ops::console::enable_pg_trgm(&audit()?, &parsed, "cli").await?;
        println!("{done}");
    }
    let report = match &typed {
        Some(rules) => ops::console::doctor_typed(&audit()?, &text, rules, "cli").await,
        None => ops::console::doctor(&audit()?, &text, "cli").await,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for s in &report.steps {
            let mark = match s.status {
                StepStatus::Pass => "pass",
                StepStatus::Warn => "WARN",
                StepStatus::Fail => "FAIL",
                StepStatus::Skip => "skip",
            };
            println!("{mark}  {:<15} {} ({} ms)", s.id, s.message, s.duration_ms);
            if let Some(fix) = &s.fix {
                println!("      {:<15} fix: {fix}", "");
            }
        }
    }
    if report.ok {
        Ok(())
    } else {
        let failed: Vec<&str> = report
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Fail)
            .map(|s| s.id.as_str())
            .collect();
        Err(Failure::failed(format!(
            "the doctor found a failing step ({}): apply its fix and run it again.",
            failed.join(", ")
        )))
    }
}

/// The audit log of HOLOMUSH_ADMIN_DATA: the doctor needs no working DATABASE_URL (that
/// may be what it is asked about), so it opens the log without a Console.
fn audit() -> Result<ops::audit::AuditLog, Failure> {
    Ok(ops::audit::AuditLog::open(
        &ops::config::LocalConfig::from_env().data_dir,
    )?)
}

/// `migrate repair [--json]` prints steps 1–3; `--apply VERSION` performs step 4.
pub async fn repair(
    console: &ops::Console,
    json: bool,
    apply: Option<i64>,
    run_down: bool,
    no_safety_backup: bool,
) -> Result<(), Failure> {
    let migrator = console.migrator("cli")?;
    let report = ops::diagnose::dirty::analyze(&migrator).await?;
    let Some(version) = apply else {
        if json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_report(&report);
        }
        return Ok(());
    };
    ops::diagnose::dirty::refuse_while_locked(&report)?;
    if !report.dirty {
        return Err(Failure::refused(format!(
            "The database is not dirty (version {}): nothing to repair.",
            report.version
        )));
    }
    let action = if run_down {
        RepairAction::RunDownThenForce
    } else {
        RepairAction::Force
    };
    let job = console
        .start_repair(action, version, !no_safety_backup, "cli")
        .await?;
    let view = job
        .follow(|line| eprintln!("{:>7.3}s  {}", line.at_ms as f64 / 1000.0, line.text))
        .await;
    match view.status {
        ops::model::JobStatus::Succeeded => {
            println!("{}", view.result.unwrap_or_default());
            Ok(())
        }
        _ => Err(Failure::of_job(&view, "The repair failed.")),
    }
}

fn print_report(r: &RepairReport) {
    if r.conclusion == RepairConclusion::Clean {
        println!(
            "{}: clean at version {}: nothing to repair.",
            r.target.database, r.version
        );
        return;
    }
    let v = r.version;
    println!("1. What happened");
    println!(
        "   Database \"{}\" on {} is dirty at version {v}.",
        r.target.database, r.target.host
    );
    if let Some(h) = &r.last_history {
        println!(
            "   Last run of {v}: {} by {} at {}{}",
            h.direction,
            h.actor,
            h.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            if h.success {
                " (succeeded)"
            } else {
                " (failed)"
            }
        );
        if let Some(e) = &h.error {
            println!("   Error: {e}");
        }
    }
    if r.lock_holders.is_empty() {
        println!("   No session holds golang-migrate's lock: no migration is running.");
    } else {
        println!("   A migration is running; wait for it before repairing. Lock held by:");
        for h in &r.lock_holders {
            println!("     pid {} ({})", h.pid, h.application_name);
        }
    }
    println!("2. What took effect");
    for o in &r.objects {
        println!(
            "   {:<16} {:<40} {}",
            o.kind,
            o.name,
            if o.present { "present" } else { "absent" }
        );
    }
    println!(
        "   Conclusion: {}",
        match r.conclusion {
            RepairConclusion::NotApplied => format!("nothing from {v} took effect"),
            RepairConclusion::Applied => format!("{v} took effect in full"),
            RepairConclusion::Partial => format!("part of {v} took effect"),
            RepairConclusion::Clean => "clean".to_string(),
        }
    );
    for n in &r.notes {
        println!("   {n}");
    }
    println!("3. What to do (recommended first)");
    for (i, o) in std::iter::once(&r.recommendation)
        .chain(&r.alternatives)
        .enumerate()
    {
        let how = match (o.action, o.version) {
            (RepairAction::Force, Some(p)) => {
                format!("holomush-admin migrate repair --apply {p}")
            }
            (RepairAction::RunDownThenForce, Some(p)) => {
                format!("holomush-admin migrate repair --apply {p} --run-down")
            }
            (RepairAction::Restore, _) => {
                "holomush-admin backup list, then restore FILE --in-place".to_string()
            }
            _ => String::new(),
        };
        println!("   {}. {} — {how}", i + 1, o.why);
    }
    println!("   A safety backup is taken first unless --no-safety-backup.");
}
