//! pgx's text for a PostgreSQL error (`ERROR: message (SQLSTATE code)`), which both tools'
//! messages end with (HoloMUSH ran each on pgx).

use sqlx::postgres::PgDatabaseError;

pub fn pg_text(e: &sqlx::Error) -> String {
    match e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
    {
        Some(pg) => format!(
            "{}: {} (SQLSTATE {})",
            severity(pg),
            pg.message(),
            pg.code()
        ),
        None => crate::config::mask_url(&e.to_string()),
    }
}

pub fn severity(pg: &PgDatabaseError) -> &'static str {
    use sqlx::postgres::PgSeverity::*;
    match pg.severity() {
        Panic => "PANIC",
        Fatal => "FATAL",
        Error => "ERROR",
        Warning => "WARNING",
        Notice => "NOTICE",
        Debug => "DEBUG",
        Info => "INFO",
        Log => "LOG",
    }
}
