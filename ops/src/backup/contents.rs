//! What an archive holds: its table of contents (`pg_restore -l`) and the rows of each
//! table (its COPY blocks). Read without any database; verify and restore both build on it.

use std::collections::BTreeMap;
use std::path::Path;

use super::{BackupError, BackupKind};

/// Entry types of more than one word, longest first, as pg_restore -l writes them.
const MULTI_WORD: [&str; 12] = [
    "MATERIALIZED VIEW DATA",
    "SEQUENCE OWNED BY",
    "MATERIALIZED VIEW",
    "TEXT SEARCH CONFIGURATION",
    "TEXT SEARCH DICTIONARY",
    "TABLE DATA",
    "SEQUENCE SET",
    "FK CONSTRAINT",
    "DEFAULT ACL",
    "EVENT TRIGGER",
    "LARGE OBJECT",
    "ACCESS METHOD",
];

#[derive(Clone, Debug, Default)]
pub struct Toc {
    pub database: String,
    pub created: String,
    pub server_version: String,
    /// Entry type → names, e.g. "TABLE" → ["public players", …].
    pub entries: BTreeMap<String, Vec<String>>,
}

impl Toc {
    /// What kind of dump this is, judged from its entries.
    pub fn kind(&self) -> BackupKind {
        let has = |t: &str| self.entries.get(t).is_some_and(|v| !v.is_empty());
        match (has("TABLE"), has("TABLE DATA")) {
            (_, false) => BackupKind::Schema,
            (false, true) => BackupKind::Data,
            (true, true) => BackupKind::Full,
        }
    }

    pub fn count(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }
}

pub fn parse_toc(text: &str) -> Toc {
    let mut toc = Toc::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(';') {
            let rest = rest.trim();
            if let Some(v) = rest.strip_prefix("dbname:") {
                toc.database = v.trim().to_string();
            } else if let Some(v) = rest.strip_prefix("Archive created at") {
                toc.created = v.trim().to_string();
            } else if let Some(v) = rest.strip_prefix("Dumped from database version:") {
                toc.server_version = v.trim().to_string();
            }
            continue;
        }
        // "ID; OID OID TYPE SCHEMA NAME OWNER"
        let Some((_, rest)) = line.split_once(';') else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().skip(2).collect();
        if words.is_empty() {
            continue;
        }
        let joined = words.join(" ");
        let kind = MULTI_WORD
            .iter()
            .find(|m| joined.starts_with(*m))
            .map(|m| m.to_string())
            .unwrap_or_else(|| words[0].to_string());
        let used = kind.split(' ').count();
        let name = words
            .iter()
            .skip(used)
            .take(2)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        toc.entries.entry(kind).or_default().push(name);
    }
    toc
}

/// Runs pg_restore offline on the archive: (succeeded, stdout, stderr masked).
pub(super) async fn pg_restore(
    args: &[&str],
    path: &Path,
) -> Result<(bool, String, String), BackupError> {
    let binary = super::tools::pg_restore(path, None, None).await?;
    let out = super::tools::offline(&binary)
        .args(args)
        .arg(path)
        .output()
        .await
        .map_err(|e| {
            BackupError::Tool(format!("{} could not be run ({e}).", binary.path.display()))
        })?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        crate::conninfo::mask_text(String::from_utf8_lossy(&out.stderr).trim()),
    ))
}

pub async fn toc(path: &Path) -> Result<Toc, BackupError> {
    let head = super::header::head(path, 5).await.map_err(|e| {
        BackupError::io(
            &format!("Reading {}", super::store::shown(path).display()),
            e,
        )
    })?;
    if !super::header::is_archive_start(&head) {
        return Err(BackupError::Refused(format!(
            "{} is not a pg_dump custom-format archive (it does not start with PGDMP): make archives with pg_dump -Fc.",
            super::store::shown(path).display()
        )));
    }
    let (ok, stdout, stderr) = pg_restore(&["-l"], path).await?;
    if !ok {
        return Err(BackupError::Tool(format!(
            "The table of contents of {} could not be read: {stderr}",
            super::store::shown(path).display()
        )));
    }
    Ok(parse_toc(&stdout))
}

/// Rows of each table as the archive holds them: the COPY blocks of
/// `pg_restore --data-only -f -`, one line per row (COPY text escapes newlines).
pub async fn archived_row_counts(path: &Path) -> Result<BTreeMap<String, u64>, BackupError> {
    archived_row_counts_until(path, &tokio_util::sync::CancellationToken::new()).await
}

/// [`archived_row_counts`], stopped by `cancel`.
pub async fn archived_row_counts_until(
    path: &Path,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<BTreeMap<String, u64>, BackupError> {
    use tokio::io::AsyncBufReadExt;
    let binary = super::tools::pg_restore(path, None, None).await?;
    let mut child = super::tools::offline(&binary)
        .args(["--data-only", "-f", "-"])
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            BackupError::Tool(format!("{} could not be run ({e}).", binary.path.display()))
        })?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BackupError::Tool("pg_restore gave no output stream.".to_string()))?;
    // Its messages are read on their own task, so a full pipe never stalls the rows.
    let stderr = super::verify::drain(child.stderr.take());
    let pid = child.id();
    let mut lines = tokio::io::BufReader::new(stdout).split(b'\n');
    let mut counts = BTreeMap::new();
    let mut current: Option<String> = None;
    loop {
        let line = tokio::select! {
            _ = cancel.cancelled() => {
                super::tools::terminate(pid);
                let _ = child.wait().await;
                return Err(BackupError::Cancelled(
                    "Cancelled while counting the archive's rows: nothing was changed.".to_string(),
                ));
            }
            line = lines.next_segment() => line.map_err(|e| BackupError::io("Reading pg_restore's output", e))?,
        };
        let Some(line) = line else { break };
        match &current {
            None => {
                if let Some(rest) = line.strip_prefix(b"COPY ") {
                    let text = String::from_utf8_lossy(rest);
                    // "public.players (id, name) FROM stdin;"
                    let table = text
                        .split(" (")
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_string();
                    let table = table.trim_end_matches(" FROM stdin;").to_string();
                    counts.insert(table.clone(), 0u64);
                    current = Some(table);
                }
            }
            Some(table) => {
                if line == b"\\." {
                    current = None;
                } else if let Some(n) = counts.get_mut(table) {
                    *n += 1;
                }
            }
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| BackupError::io("Waiting for pg_restore", e))?;
    if !status.success() {
        return Err(BackupError::Tool(format!(
            "{} is damaged: its data could not be read: {}",
            super::store::shown(path).display(),
            crate::conninfo::mask_text(stderr.await.unwrap_or_default().trim())
        )));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toc_lines_group_by_type() {
        let text = ";\n; Archive created at 2026-11-28 20:00:01 UTC\n;     dbname: holomush\n; Dumped from database version: 15.18\n;\n\
                    215; 1259 16390 TABLE public players holomush\n\
                    3345; 0 16390 TABLE DATA public players holomush\n\
                    3200; 2606 16400 FK CONSTRAINT public characters characters_location_id_fkey holomush\n\
                    2; 3079 16385 EXTENSION - pg_trgm \n";
        let toc = parse_toc(text);
        assert_eq!(toc.database, "holomush");
        assert_eq!(toc.created, "2026-11-28 20:00:01 UTC");
        assert_eq!(toc.entries["TABLE"], ["public players"]);
        assert_eq!(toc.entries["TABLE DATA"], ["public players"]);
        assert_eq!(toc.entries["FK CONSTRAINT"], ["public characters"]);
        assert!(toc.entries.contains_key("EXTENSION"));
        assert_eq!(toc.kind(), BackupKind::Full);
    }
}
