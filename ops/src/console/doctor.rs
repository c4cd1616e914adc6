//! The connection doctor and its one fix; both also run without a Console (the CLI runs the
//! doctor when the configuration itself is what is broken).

use crate::audit::{AuditLog, Entry};

use super::{Console, ConsoleError};

impl Console {
    /// The connection doctor on the console's database, or on a URL a person typed (used
    /// for this run only, with nothing of the console's environment, and only where
    /// [`crate::config::TypedUrlRules`] lets a typed URL point), recorded as `doctor`.
    pub async fn doctor(&self, typed: Option<&str>, actor: &str) -> crate::model::DoctorReport {
        match typed.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                doctor_typed(&self.audit, url, &self.config.typed_url_rules(), actor).await
            }
            None => {
                let url = &self.config.database_url;
                let report = crate::diagnose::doctor::run_url(url).await;
                record(&self.audit, &report, url.masked(), actor);
                report
            }
        }
    }

    /// Installs pg_trgm on the console's database, recorded as `doctor.fix_pg_trgm`.
    pub async fn enable_pg_trgm(&self, actor: &str) -> Result<String, ConsoleError> {
        let result = enable_pg_trgm(&self.audit, &self.config.database_url, actor).await;
        self.status.invalidate().await;
        result
    }
}

/// How the audit log names a database URL a person gave: parsed and masked the one way, so
/// the same URL reads the same from the pages and the CLI, even when it does not parse.
fn named_target(url: &str) -> String {
    match crate::config::DatabaseUrl::parse(url.trim()) {
        Ok(parsed) => parsed.masked().to_string(),
        Err(_) => crate::config::mask_url(url.trim()),
    }
}

/// The connection doctor on DATABASE_URL's text (the console's own URL, with the libpq
/// variables the operator set for it), with its audit record (`doctor`, the URL masked).
/// Needs no Console: the CLI runs it when the configuration itself is what is broken.
pub async fn doctor(audit: &AuditLog, url: &str, actor: &str) -> crate::model::DoctorReport {
    let report = match crate::config::parse_database_url(url.trim(), &crate::config::env_var) {
        Ok(parsed) => crate::diagnose::doctor::run_url(&parsed).await,
        // The parse step says what is wrong with it.
        Err(_) => crate::diagnose::doctor::run(url).await,
    };
    record(audit, &report, named_target(url), actor);
    report
}

/// The connection doctor on a URL a person typed (the page's field, `doctor --url`): parsed
/// with nothing from the console's environment, refused at the parse step when it names no
/// host or points at this machine other than as `rules` allow.
pub async fn doctor_typed(
    audit: &AuditLog,
    url: &str,
    rules: &crate::config::TypedUrlRules,
    actor: &str,
) -> crate::model::DoctorReport {
    let report = crate::diagnose::doctor::run_typed(url, rules).await;
    record(audit, &report, named_target(url), actor);
    report
}

/// A URL a person typed for the doctor's fix, checked as [`doctor_typed`] checks it.
pub async fn typed_doctor_url(
    url: &str,
    rules: &crate::config::TypedUrlRules,
) -> Result<crate::config::DatabaseUrl, String> {
    let parsed = crate::config::DatabaseUrl::parse(url.trim()).map_err(|e| e.to_string())?;
    rules
        .check(&parsed, "The URL")
        .await
        .map_err(|e| format!("{e}."))?;
    Ok(parsed)
}

fn record(audit: &AuditLog, report: &crate::model::DoctorReport, target: String, actor: &str) {
    let entry = Entry::new(actor, "doctor", target);
    let entry = if report.ok {
        entry.detail("every step passed")
    } else {
        let failed: Vec<&str> = report
            .steps
            .iter()
            .filter(|s| s.status == crate::model::StepStatus::Fail)
            .map(|s| s.id.as_str())
            .collect();
        entry.failed(format!("failed: {}", failed.join(", ")))
    };
    if let Err(e) = audit.record(entry) {
        tracing::error!("{e}");
    }
}

/// The doctor's one fix, `CREATE EXTENSION IF NOT EXISTS pg_trgm`, with its audit record
/// (`doctor.fix_pg_trgm`).
pub async fn enable_pg_trgm(
    audit: &AuditLog,
    url: &crate::config::DatabaseUrl,
    actor: &str,
) -> Result<String, ConsoleError> {
    let entry = Entry::new(actor, "doctor.fix_pg_trgm", url.masked().to_string());
    let result = crate::diagnose::doctor::enable_pg_trgm(url).await;
    let entry = match &result {
        Ok(m) => entry.detail(m.clone()),
        Err(e) => entry.failed(e.to_string()),
    };
    if let Err(e) = audit.record(entry) {
        tracing::error!("{e}");
    }
    Ok(result?)
}
