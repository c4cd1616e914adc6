//! Where a URL a person types may point (the target server of a move, the doctor's URL):
//! a host it names, on another machine, or the managed server itself. This machine's other
//! servers and its Unix sockets answer a local connection with `trust` or `peer`
//! authentication as often as not, so reaching them needs the operator's word:
//! HOLOMUSH_ADMIN_TARGET_HOSTS.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{ConfigError, DatabaseUrl};
use crate::conninfo::Host;

pub const TARGET_HOSTS_VAR: &str = "HOLOMUSH_ADMIN_TARGET_HOSTS";

/// How long a typed host name may take to resolve before the check lets the connection
/// find out for itself (it resolves the name again, under its own timeout).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    /// A socket folder: any port's socket in it.
    Socket(PathBuf),
    /// A host name (lower case) or an address (in its canonical form), any port or one.
    Host { host: String, port: Option<u16> },
}

/// HOLOMUSH_ADMIN_TARGET_HOSTS: `host`, `host:port`, `[v6]:port` or a socket folder
/// (`/var/run/postgresql`), separated by commas.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetHosts(Vec<Entry>);

fn invalid(value: &str, problem: String) -> ConfigError {
    ConfigError::Invalid {
        var: TARGET_HOSTS_VAR,
        value: value.to_string(),
        problem,
        expected: "hosts, host:port pairs or socket folders separated by commas, such as 127.0.0.1:5433,/var/run/postgresql (unset: a typed URL reaches no socket and no address of this machine but the managed server's)".to_string(),
    }
}

/// A host as the rules compare it: lower case, an address in its canonical form.
fn normal_host(host: &str) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical().to_string(),
        Err(_) => bare.to_ascii_lowercase(),
    }
}

fn normal_dir(dir: &Path) -> PathBuf {
    let text = dir.to_string_lossy();
    let trimmed = text.trim_end_matches('/');
    PathBuf::from(if trimmed.is_empty() { "/" } else { trimmed })
}

/// An IPv4 address in any form `inet_aton` takes, as libpq's resolver does: `127.1`,
/// `0x7f.0.0.1`, `2130706433`.
fn loose_ipv4(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let n = if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u32::from_str_radix(hex, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u32::from_str_radix(&p[1..], 8).ok()?
        } else {
            p.parse::<u32>().ok()?
        };
        nums.push(n);
    }
    let (last, head) = nums.split_last()?;
    let room = 32 - 8 * head.len() as u32;
    if head.iter().any(|n| *n > 255) || (room < 32 && *last >= 1u32 << room) {
        return None;
    }
    let mut value = *last;
    for (i, n) in head.iter().enumerate() {
        value |= n << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from(value))
}

/// True for an address that is this machine: loopback, and the unspecified address,
/// which a connection also takes to mean this machine.
fn is_this_machine(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    ip.is_loopback() || ip.is_unspecified()
}

/// True when the host, as written, can only be this machine.
fn names_this_machine(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let lower = h.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") || lower == "localhost." {
        return true;
    }
    match h.parse::<IpAddr>() {
        Ok(ip) => is_this_machine(ip),
        Err(_) => loose_ipv4(h).is_some_and(|ip| is_this_machine(IpAddr::V4(ip))),
    }
}

impl TargetHosts {
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let mut out = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            out.push(Self::entry(value, item)?);
        }
        Ok(TargetHosts(out))
    }

    fn entry(value: &str, item: &str) -> Result<Entry, ConfigError> {
        if item.starts_with('/') {
            return Ok(Entry::Socket(normal_dir(Path::new(item))));
        }
        let port = |text: &str| {
            text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                invalid(
                    value,
                    format!("\"{item}\" has a port that is not a number from 1 to 65535"),
                )
            })
        };
        if let Some(rest) = item.strip_prefix('[') {
            let (addr, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid(value, format!("\"{item}\" has no closing ]")))?;
            let ip = addr.parse::<IpAddr>().map_err(|_| {
                invalid(
                    value,
                    format!("\"{item}\" is not an IPv6 address in brackets"),
                )
            })?;
            let port = match after {
                "" => None,
                p => Some(port(p.strip_prefix(':').ok_or_else(|| {
                    invalid(value, format!("\"{item}\" has text after the ]"))
                })?)?),
            };
            return Ok(Entry::Host {
                host: ip.to_canonical().to_string(),
                port,
            });
        }
        if let Ok(ip) = item.parse::<IpAddr>() {
            return Ok(Entry::Host {
                host: ip.to_canonical().to_string(),
                port: None,
            });
        }
        let (host, port) = match item.rsplit_once(':') {
            Some((h, p)) => (h, Some(port(p)?)),
            None => (item, None),
        };
        let word = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
        if host.is_empty() || !host.chars().all(word) {
            return Err(invalid(
                value,
                format!("\"{item}\" is not a host, a host:port pair or a socket folder (a folder starts with /)"),
            ));
        }
        Ok(Entry::Host {
            host: normal_host(host),
            port,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The list as the configuration holds it, for the pages and `info`.
    pub fn describe(&self) -> String {
        let shown: Vec<String> = self
            .0
            .iter()
            .map(|e| match e {
                Entry::Socket(dir) => dir.display().to_string(),
                Entry::Host { host, port: None } => host.clone(),
                Entry::Host {
                    host,
                    port: Some(p),
                } if host.contains(':') => format!("[{host}]:{p}"),
                Entry::Host {
                    host,
                    port: Some(p),
                } => format!("{host}:{p}"),
            })
            .collect();
        shown.join(",")
    }

    fn allows_socket(&self, dir: &Path) -> bool {
        let dir = normal_dir(dir);
        self.0
            .iter()
            .any(|e| matches!(e, Entry::Socket(d) if *d == dir))
    }

    fn allows_host(&self, host: &str, port: u16) -> bool {
        let host = normal_host(host);
        self.0.iter().any(|e| match e {
            Entry::Host { host: h, port: p } => *h == host && p.is_none_or(|p| p == port),
            Entry::Socket(_) => false,
        })
    }
}

/// Why a typed URL may not be used; the caller adds what was (not) done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypedUrlError {
    #[error("{what} names no host: give the server's host name or address, as in postgres://user:password@db.example.com:5432/postgres (with none, libpq would use this machine's Unix socket as the console's own operating-system user)")]
    NoHost { what: &'static str },
    #[error("{what} points at this machine ({place}), which a typed URL may reach only when {TARGET_HOSTS_VAR} lists it (e.g. {TARGET_HOSTS_VAR}={entry})")]
    ThisMachine {
        what: &'static str,
        place: String,
        entry: String,
    },
    #[error("{what} points at the Unix socket in {dir}, which a typed URL may reach only when {TARGET_HOSTS_VAR} lists that folder (e.g. {TARGET_HOSTS_VAR}={dir})")]
    Socket { what: &'static str, dir: String },
}

impl TypedUrlError {
    /// What to do about it, for the doctor's fix line.
    pub fn fix(&self) -> String {
        match self {
            TypedUrlError::NoHost { .. } => {
                "Write the server's host name or address after the @.".to_string()
            }
            TypedUrlError::ThisMachine { entry, .. } => format!(
                "Use the server's network address, or set {TARGET_HOSTS_VAR}={entry} where the console runs and restart it."
            ),
            TypedUrlError::Socket { dir, .. } => format!(
                "Use the server's network address, or set {TARGET_HOSTS_VAR}={dir} where the console runs and restart it."
            ),
        }
    }
}

/// A typed URL must name a host: with none, libpq takes this machine's socket and logs in
/// as the console's own operating-system user (peer authentication).
pub fn require_host(url: &DatabaseUrl, what: &'static str) -> Result<(), TypedUrlError> {
    if url.host_given() {
        Ok(())
    } else {
        Err(TypedUrlError::NoHost { what })
    }
}

/// The managed server and HOLOMUSH_ADMIN_TARGET_HOSTS: what a typed URL may reach.
#[derive(Clone, Debug, Default)]
pub struct TypedUrlRules {
    managed: Option<(Host, u16)>,
    allowed: TargetHosts,
}

impl TypedUrlRules {
    pub fn new(managed: Option<&DatabaseUrl>, allowed: TargetHosts) -> Self {
        TypedUrlRules {
            managed: managed.map(|u| (u.host().clone(), u.port())),
            allowed,
        }
    }

    /// For a command that runs without a Console (the CLI's doctor): HOLOMUSH_ADMIN_TARGET_HOSTS
    /// and, when it parses, DATABASE_URL's server.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let allowed = match get(TARGET_HOSTS_VAR) {
            None => TargetHosts::default(),
            Some(v) => TargetHosts::parse(&v)?,
        };
        let managed = get("DATABASE_URL")
            .and_then(|raw| DatabaseUrl::parse_configured(raw.trim(), &lookup).ok());
        Ok(Self::new(managed.as_ref(), allowed))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(super::env_var)
    }

    fn is_managed_socket(&self, dir: &Path, port: u16) -> bool {
        matches!(&self.managed, Some((Host::Socket(d), p)) if normal_dir(d) == normal_dir(dir) && *p == port)
    }

    /// The managed server's port on this machine, under any of its loopback names.
    fn is_managed_tcp(&self, host: &str, port: u16, this_machine: bool) -> bool {
        match &self.managed {
            Some((Host::Tcp(h), p)) if *p == port => {
                normal_host(h) == normal_host(host) || (this_machine && names_this_machine(h))
            }
            _ => false,
        }
    }

    /// Refuses a URL that names no host, or a socket or an address of this machine that is
    /// neither the managed server nor allowed. A host name is resolved, so a name that
    /// points at this machine counts as this machine (a name that resolves otherwise on
    /// the connection's own look-up is beyond this check).
    pub async fn check(&self, url: &DatabaseUrl, what: &'static str) -> Result<(), TypedUrlError> {
        require_host(url, what)?;
        let port = url.port();
        match url.host() {
            Host::Socket(dir) => {
                if self.is_managed_socket(dir, port) || self.allowed.allows_socket(dir) {
                    return Ok(());
                }
                Err(TypedUrlError::Socket {
                    what,
                    dir: normal_dir(dir).display().to_string(),
                })
            }
            Host::Tcp(host) => {
                let shown = if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                };
                let mut local = names_this_machine(host);
                let mut resolved = Vec::new();
                if !local && host.parse::<IpAddr>().is_err() {
                    if let Ok(Ok(addrs)) = tokio::time::timeout(
                        RESOLVE_TIMEOUT,
                        tokio::net::lookup_host((host.as_str(), port)),
                    )
                    .await
                    {
                        resolved = addrs.map(|a| a.ip().to_canonical()).collect();
                    }
                    local = resolved.iter().any(|ip| is_this_machine(*ip));
                }
                if !local
                    || self.is_managed_tcp(host, port, true)
                    || self.allowed.allows_host(host, port)
                {
                    return Ok(());
                }
                let place = match resolved.iter().find(|ip| is_this_machine(**ip)) {
                    Some(ip) => format!("{shown}, which resolves to {ip}"),
                    None => shown.clone(),
                };
                Err(TypedUrlError::ThisMachine {
                    what,
                    place,
                    entry: shown,
                })
            }
        }
    }
}

#[cfg(test)]
#[path = "target_hosts_tests.rs"]
mod tests;
