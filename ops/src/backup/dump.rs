//! `pg_dump -Fc` into the backup folder, with progress read from `--verbose`.

use std::process::Stdio;
use std::time::Instant;

use chrono::{Local, Utc};
use sqlx::{Connection, PgConnection, Row};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use super::archive;
use super::store::Store;
use super::tools;
use super::{BackupError, BackupKind, Log, Manifest};
use crate::conninfo::DatabaseUrl;
use crate::model::format_bytes;

struct ServerFacts {
    version: String,
    major: u32,
    tables: i64,
    migration: Option<(i64, bool)>,
}

async fn facts(url: &DatabaseUrl) -> Result<ServerFacts, BackupError> {
    let mut conn = PgConnection::connect_with(&url.connect_options())
        .await
        .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, url)))?;
    let row = sqlx::query(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num')::int AS n,
                (SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                  WHERE c.relkind IN ('r', 'p', 'm') AND s.nspname NOT IN ('pg_catalog', 'information_schema')
                    AND s.nspname NOT LIKE 'pg_toast%') AS tables,
                to_regclass('schema_migrations') IS NOT NULL AS has_migrations",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| BackupError::Tool(crate::db::describe_error(&e, url)))?;
    let get = |e: sqlx::Error| BackupError::Tool(e.to_string());
    let migration = if row.try_get::<bool, _>("has_migrations").map_err(get)? {
        sqlx::query_as::<_, (i64, bool)>("SELECT version, dirty FROM schema_migrations LIMIT 1")
            .fetch_optional(&mut conn)
            .await
            .map_err(get)?
    } else {
        None
    };
    conn.close().await.ok();
    Ok(ServerFacts {
        version: row.try_get("v").map_err(get)?,
        major: u32::try_from(row.try_get::<i32, _>("n").map_err(get)? / 10_000).unwrap_or(0),
        tables: row.try_get("tables").map_err(get)?,
        migration,
    })
}

pub struct Request<'a> {
    pub url: &'a DatabaseUrl,
    pub store: &'a dyn Store,
    pub kind: BackupKind,
    pub by: &'a str,
    pub safety: bool,
    /// The console's key: its manifest's tag says the console made the archive.
    pub seal: &'a crate::seal::Seal,
}

pub async fn dump(
    req: Request<'_>,
    log: &Log,
    cancel: &CancellationToken,
) -> Result<Manifest, BackupError> {
    let facts = facts(req.url).await?;
    let pg_dump = tools::pg_dump(facts.major, log).await?;
    let started_at = Utc::now();
    let started = Instant::now();
    let name = if req.safety {
        format!(
            "{}_safety_{}{}",
            req.url.database(),
            Local::now().format("%Y%m%d_%H%M%S"),
            archive::EXT
        )
    } else {
        archive::file_name(req.kind, req.url.database(), Local::now())
    };
    let mut out = req.store.create(&name).await?;
    log.line(format!(
        "Dumping {} ({} backup) into {}",
        req.url.database(),
        req.kind.as_str(),
        req.store.named(&name)
    ));

    let mut cmd = tools::command(&pg_dump, req.url, None);
    cmd.args(["--format=custom", "--verbose"]);
    match req.kind {
        BackupKind::Full => {}
        BackupKind::Schema => {
            cmd.arg("--schema-only");
        }
        BackupKind::Data => {
            cmd.arg("--data-only");
        }
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| BackupError::Tool(format!("pg_dump could not start ({e}).")))?;
    let pid = child.id();
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| BackupError::Tool("pg_dump gave no output stream.".to_string()))?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| BackupError::Tool("pg_dump gave no error stream.".to_string()))?;
    let mut lines = BufReader::new(stderr).lines();
    let mut buf = vec![0u8; 256 * 1024];
    let mut tail: Vec<String> = Vec::new();
    let mut tables_done = 0i64;
    let mut stdout_open = true;
    let mut stderr_open = true;
    let mut stage = "Reading the catalog";
    let mut last_report = Instant::now();
    let report = |stage: &str, done: i64, bytes: u64| {
        log.progress(super::Progress {
            stage: stage.to_string(),
            done: u64::try_from(done).unwrap_or(0),
            total: u64::try_from(facts.tables.max(done)).unwrap_or(0),
            bytes,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    };
    report(stage, 0, 0);
    while stdout_open || stderr_open {
        tokio::select! {
            _ = cancel.cancelled() => {
                tools::terminate(pid);
                let _ = child.wait().await;
                // Dropping the writer removes the partial file; no manifest was written.
                drop(out);
                return Err(BackupError::Cancelled(
                    "Cancelled: pg_dump was stopped, the partial archive removed and no manifest written; nothing else changed.".to_string(),
                ));
            }
            n = stdout.read(&mut buf), if stdout_open => {
                let n = n.map_err(|e| BackupError::io("Reading pg_dump's output", e))?;
                if n == 0 { stdout_open = false } else {
                    out.write(&buf[..n]).await?;
                    // Bytes arrive in a stream of chunks: a few updates a second are plenty.
                    if last_report.elapsed().as_millis() >= 250 {
                        last_report = Instant::now();
                        report(stage, tables_done, out.size());
                    }
                }
            }
            line = lines.next_line(), if stderr_open => {
                match line.map_err(|e| BackupError::io("Reading pg_dump's messages", e))? {
                    None => stderr_open = false,
                    Some(l) => {
                        if let Some(table) = l.strip_prefix("pg_dump: dumping contents of table ") {
                            tables_done += 1;
                            stage = "Dumping data";
                            report(stage, tables_done, out.size());
                            log.line(format!(
                                "Table {} ({tables_done} of {}), {} written",
                                table.trim_matches('"'),
                                facts.tables.max(tables_done),
                                format_bytes(i64::try_from(out.size()).unwrap_or(i64::MAX))
                            ));
                        }
                        if l.contains("error") || l.contains("FATAL") || l.contains("warning") {
                            tail.push(crate::conninfo::mask_text(&l));
                        }
                    }
                }
            }
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| BackupError::io("Waiting for pg_dump", e))?;
    if !status.success() {
        let why = if tail.is_empty() {
            format!("it exited with {status}")
        } else {
            tail.join(" / ")
        };
        return Err(BackupError::Tool(format!(
            "pg_dump failed: {why}. No archive was kept."
        )));
    }
    let size = out.size();
    report("Syncing to disk", facts.tables.max(tables_done), size);
    let sha256 = out.finish().await?;
    let opts = req.url.connect_options();
    let manifest = Manifest {
        file: name,
        kind: req.kind,
        size,
        sha256,
        host: format!("{}:{}", opts.get_host(), opts.get_port()),
        database: req.url.database().to_string(),
        server_version: facts.version,
        pg_dump_version: pg_dump.version.clone(),
        migration_version: facts.migration.map(|m| m.0),
        migration_dirty: facts.migration.is_some_and(|m| m.1),
        started_at,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        by: req.by.to_string(),
        verification: crate::model::Verification::Never,
        safety: req.safety,
        by_console: true,
        tag: String::new(),
    };
    // The tag is what makes it "by this console": the flag alone could be copied.
    let manifest = Manifest {
        tag: super::trust::seal_manifest(req.seal, &manifest),
        ..manifest
    };
    req.store.write_manifest(&manifest.file, &manifest).await?;
    log.line(format!(
        "Wrote {} ({}, sha256 {})",
        manifest.file,
        format_bytes(i64::try_from(size).unwrap_or(i64::MAX)),
        &manifest.sha256[..12]
    ));
    Ok(manifest)
}
