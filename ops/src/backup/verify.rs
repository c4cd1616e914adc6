//! Reading an archive: its table of contents (`pg_restore -l`), and every data block
//! (`pg_restore -f /dev/null`), which a truncated archive fails even when its TOC reads.

use std::collections::BTreeMap;
use std::path::Path;

use tokio::process::Command;

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

async fn pg_restore(args: &[&str], path: &Path) -> Result<(bool, String, String), BackupError> {
    let out = Command::new("pg_restore")
        .args(args)
        .arg(path)
        .output()
        .await
        .map_err(|e| {
            BackupError::Tool(format!(
                "pg_restore could not be run ({e}): install the PostgreSQL client."
            ))
        })?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}

pub async fn toc(path: &Path) -> Result<Toc, BackupError> {
    let head = tokio::fs::read(path)
        .await
        .map_err(|e| BackupError::io(&format!("Reading {}", path.display()), e))?;
    if !head.starts_with(b"PGDMP") {
        return Err(BackupError::Refused(format!(
            "{} is not a pg_dump custom-format archive (it does not start with PGDMP): make archives with pg_dump -Fc.",
            path.display()
        )));
    }
    let (ok, stdout, stderr) = pg_restore(&["-l"], path).await?;
    if !ok {
        return Err(BackupError::Tool(format!(
            "The table of contents of {} could not be read: {stderr}",
            path.display()
        )));
    }
    Ok(parse_toc(&stdout))
}

/// The TOC, then every data block. Returns a one-line summary of what was read.
pub async fn verify(path: &Path) -> Result<String, BackupError> {
    let toc = toc(path).await?;
    let (ok, _, stderr) = pg_restore(&["-f", "/dev/null"], path).await?;
    if !ok {
        return Err(BackupError::Tool(format!(
            "{} is damaged: its table of contents reads ({} entries) but its data does not: {stderr}",
            path.display(),
            toc.count()
        )));
    }
    Ok(format!(
        "{} entries read, every data block intact",
        toc.count()
    ))
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
