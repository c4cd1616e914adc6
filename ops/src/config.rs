//! The seed's environment variables and the console's own, parsed and checked once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The seed's example, shown whenever DATABASE_URL is missing or wrong.
pub const EXAMPLE_URL: &str = "postgres://holomush:secret@localhost:5432/holomush?sslmode=require";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("DATABASE_URL is not set: set it to a PostgreSQL connection URL, for example DATABASE_URL=\"{EXAMPLE_URL}\".")]
    MissingDatabaseUrl,
    #[error("{var}=\"{value}\" is not valid: {problem}; expected {expected}.")]
    Invalid {
        var: &'static str,
        /// Already masked: never holds a password.
        value: String,
        problem: String,
        expected: String,
    },
    #[error("DB_MIN_CONNS={min} is larger than DB_MAX_CONNS={max}: set DB_MIN_CONNS to at most DB_MAX_CONNS.")]
    MinAboveMax { min: u32, max: u32 },
}

pub use crate::conninfo::DatabaseUrl;

mod libpq_env;
mod target_hosts;

pub use libpq_env::{env_var, libpq_env_taken, libpq_var, take_libpq_env, LIBPQ_VARS};
pub use target_hosts::{require_host, TargetHosts, TypedUrlError, TypedUrlRules, TARGET_HOSTS_VAR};

/// Masks every password in free text (URLs, even malformed ones, `password=`, and the
/// passwords of URLs parsed so far): the one masking every displayed text goes through.
pub fn mask_url(text: &str) -> String {
    crate::conninfo::mask_text(text)
}

/// DATABASE_URL as the console's own URL: what it leaves out comes from the console's libpq
/// variables through `lookup` (PGPASSWORD, PGSSLMODE…), as the operator set them.
pub fn parse_database_url(
    raw: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<DatabaseUrl, ConfigError> {
    // The managed database's password stays masked however many typed URLs follow.
    DatabaseUrl::parse_configured(raw, lookup)
        .map(DatabaseUrl::pinned)
        .map_err(|e| ConfigError::Invalid {
            var: "DATABASE_URL",
            value: mask_url(raw),
            problem: e.0,
            expected: format!("a PostgreSQL URL such as {EXAMPLE_URL}"),
        })
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Settings given on the command line, passed to the loaders as values. Each wins over its
/// environment variable as if that variable held the flag's value: an empty flag counts as
/// unset, as an empty variable does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--migrations-dir`, over HOLOMUSH_MIGRATIONS_DIR.
    pub migrations_dir: Option<PathBuf>,
}

impl Overrides {
    /// The value the command line gave the variable `name`, as the environment would hold
    /// it: the Settings page reads this to tell a given setting from a default.
    pub fn get(&self, name: &str) -> Option<String> {
        match name {
            "HOLOMUSH_MIGRATIONS_DIR" => self
                .migrations_dir
                .as_ref()
                .map(|d| d.to_string_lossy().into_owned()),
            _ => None,
        }
    }

    fn migrations_dir(&self, from_env: Option<PathBuf>) -> Option<PathBuf> {
        match &self.migrations_dir {
            None => from_env,
            Some(d) if d.to_string_lossy().trim().is_empty() => None,
            Some(d) => Some(d.clone()),
        }
    }
}

/// What a command that touches no database needs (`migrate create`): where the audit log
/// and the migrations are. Read with the same rules as [`Config`], without DATABASE_URL.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    pub data_dir: PathBuf,
    /// `None`: the migrations embedded in the binary.
    pub migrations_dir: Option<PathBuf>,
}

impl LocalConfig {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        LocalConfig {
            data_dir: get("HOLOMUSH_ADMIN_DATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("./data")),
            migrations_dir: get("HOLOMUSH_MIGRATIONS_DIR").map(PathBuf::from),
        }
    }

    /// The command line's settings applied over the environment's.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Self {
        self.migrations_dir = overrides.migrations_dir(self.migrations_dir.take());
        self
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub max_conns: u32,
    pub min_conns: u32,
    pub max_lifetime: Duration,
    pub auto_migrate: bool,
    pub admin_addr: SocketAddr,
    pub admin_password: Option<Secret>,
    pub data_dir: PathBuf,
    pub backup_dir: PathBuf,
    /// `None`: the migrations embedded in the binary.
    pub migrations_dir: Option<PathBuf>,
    /// The largest archive an upload may send (HOLOMUSH_UPLOAD_LIMIT_MB).
    pub upload_limit_bytes: u64,
    /// HOLOMUSH_BACKUP_KEEP / HOLOMUSH_BACKUP_MAX_AGE.
    pub retention: crate::backup::retention::Policy,
    /// HOLOMUSH_BACKUP_SCHEDULE: the server takes a full backup this often (unset: never).
    pub backup_schedule: Option<Duration>,
    /// HOLOMUSH_ADMIN_TRUSTED_PROXIES: only these peers' X-Forwarded-For is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// HOLOMUSH_ADMIN_PUBLIC_URL: the address people use when a proxy stands in front.
    pub public_url: Option<PublicUrl>,
    /// HOLOMUSH_ADMIN_IDLE_TIMEOUT: a session unused this long ends.
    pub idle_timeout: Duration,
    /// HOLOMUSH_ADMIN_TARGET_HOSTS: sockets and this machine's addresses a typed URL may
    /// reach besides the managed server.
    pub target_hosts: TargetHosts,
    /// HOLOMUSH_ADMIN_RESTORE_AS: whose powers an archive's SQL runs with.
    pub restore_as: crate::backup::guest::RestoreAs,
    /// What the command line set, kept so the Settings page can say the value was given.
    pub overrides: Overrides,
}

pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// HOLOMUSH_ADMIN_PUBLIC_URL, reduced to what a browser calls the origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    pub https: bool,
    /// Lower case, with the port only when it is not the scheme's default.
    pub authority: String,
}

impl PublicUrl {
    /// `https://console.example.org`, as a browser sends it in Origin.
    pub fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.origin())
    }
}

fn parse_public_url(value: &str) -> Result<PublicUrl, ConfigError> {
    let invalid = |problem: &str| {
        ConfigError::Invalid {
        var: "HOLOMUSH_ADMIN_PUBLIC_URL",
        value: value.to_string(),
        problem: problem.to_string(),
        expected: "the address people open, such as https://console.example.org (unset: only the listen address)".to_string(),
    }
    };
    let url = url::Url::parse(value.trim()).map_err(|_| invalid("it is not a URL"))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(invalid("it is not an http:// or https:// URL")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it holds a user name or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "it has a path, query or fragment (the console is served at /)",
        ));
    }
    let host = url.host_str().ok_or_else(|| invalid("it has no host"))?;
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Ok(PublicUrl {
        https,
        authority: authority.to_ascii_lowercase(),
    })
}

fn parse_trusted_proxies(value: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    value
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    var: "HOLOMUSH_ADMIN_TRUSTED_PROXIES",
                    value: value.to_string(),
                    problem: format!("\"{item}\" is not an IP address or network"),
                    expected: "addresses or networks separated by commas, such as 127.0.0.1,10.0.0.0/8 (unset: no proxy is trusted)".to_string(),
                })
        })
        .collect()
}

fn parse_idle_timeout(value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value.trim())
        .ok()
        .filter(|d| d.as_secs() >= 60 && *d <= crate::auth::SESSION_TTL)
        .ok_or_else(|| ConfigError::Invalid {
            var: "HOLOMUSH_ADMIN_IDLE_TIMEOUT",
            value: value.to_string(),
            problem: "it is not a duration from 1m to 12h".to_string(),
            expected: "a duration such as 30m or 2h (default 30m)".to_string(),
        })
}

pub const DEFAULT_UPLOAD_LIMIT_MB: u64 = 4096;

pub const DEFAULT_MAX_CONNS: u32 = 25;
pub const DEFAULT_MIN_CONNS: u32 = 5;
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(3600);
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:3000";
pub const MAX_CONNS_LIMIT: u32 = 10_000;

impl Config {
    /// HOLOMUSH_BACKUP_SCHEDULE in a sentence for the pages.
    pub fn schedule_sentence(&self) -> String {
        match self.backup_schedule {
            Some(every) => format!(
                "The server takes a full backup every {} (HOLOMUSH_BACKUP_SCHEDULE).",
                humantime::format_duration(every)
            ),
            None => "No scheduled backups: set HOLOMUSH_BACKUP_SCHEDULE (e.g. 24h) and restart to have the server take them.".to_string(),
        }
    }
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_var)
    }

    /// What a URL a person types may reach: the managed server, and what
    /// HOLOMUSH_ADMIN_TARGET_HOSTS allows.
    pub fn typed_url_rules(&self) -> TypedUrlRules {
        TypedUrlRules::new(Some(&self.database_url), self.target_hosts.clone())
    }

    /// The command line's settings applied over the environment's; none of them can be
    /// invalid, so the environment's errors stay the only ones.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Self {
        self.migrations_dir = overrides.migrations_dir(self.migrations_dir.take());
        self.overrides = overrides.clone();
        self
    }

    /// Reads every variable through `lookup`; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let local = LocalConfig::from_lookup(&lookup);

        let database_url = match get("DATABASE_URL") {
            Some(raw) => parse_database_url(raw.trim(), &lookup)?,
            None => return Err(ConfigError::MissingDatabaseUrl),
        };
        let max_conns = parse_count("DB_MAX_CONNS", get("DB_MAX_CONNS"), DEFAULT_MAX_CONNS, 1)?;
        let min_conns = parse_count("DB_MIN_CONNS", get("DB_MIN_CONNS"), DEFAULT_MIN_CONNS, 0)?;
        // The seed's defaults must work together even when only DB_MAX_CONNS is lowered.
        let min_conns = if get("DB_MIN_CONNS").is_none() {
            min_conns.min(max_conns)
        } else {
            min_conns
        };
        if min_conns > max_conns {
            return Err(ConfigError::MinAboveMax {
                min: min_conns,
                max: max_conns,
            });
        }
        let max_lifetime = match get("DB_MAX_LIFETIME") {
            None => DEFAULT_MAX_LIFETIME,
            Some(v) => parse_lifetime(&v)?,
        };
        let auto_migrate = match get("HOLOMUSH_DB_AUTO_MIGRATE") {
            None => true,
            Some(v) => parse_bool("HOLOMUSH_DB_AUTO_MIGRATE", &v)?,
        };
        let admin_addr = match get("HOLOMUSH_ADMIN_ADDR") {
            None => DEFAULT_ADMIN_ADDR
                .parse()
                .map_err(|_| invalid_addr(DEFAULT_ADMIN_ADDR))?,
            Some(v) => v.trim().parse().map_err(|_| invalid_addr(&v))?,
        };
        let trusted_proxies = match get("HOLOMUSH_ADMIN_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => parse_trusted_proxies(&v)?,
        };
        let public_url = match get("HOLOMUSH_ADMIN_PUBLIC_URL") {
            None => None,
            Some(v) => Some(parse_public_url(&v)?),
        };
        let idle_timeout = match get("HOLOMUSH_ADMIN_IDLE_TIMEOUT") {
            None => DEFAULT_IDLE_TIMEOUT,
            Some(v) => parse_idle_timeout(&v)?,
        };
        let target_hosts = match get(TARGET_HOSTS_VAR) {
            None => TargetHosts::default(),
            Some(v) => TargetHosts::parse(&v)?,
        };
        let restore_as = match get(crate::backup::guest::RestoreAs::VARIABLE) {
            None => crate::backup::guest::RestoreAs::default(),
            Some(v) => {
                crate::backup::guest::RestoreAs::parse(&v).ok_or_else(|| ConfigError::Invalid {
                    var: crate::backup::guest::RestoreAs::VARIABLE,
                    value: crate::backup::archive::shown(&v),
                    problem: "it is not one of the choices".to_string(),
                    expected: crate::backup::guest::RestoreAs::CHOICES.to_string(),
                })?
            }
        };
        Ok(Self {
            target_hosts,
            trusted_proxies,
            public_url,
            idle_timeout,
            restore_as,
            overrides: Overrides::default(),
            database_url,
            max_conns,
            min_conns,
            max_lifetime,
            auto_migrate,
            admin_addr,
            admin_password: lookup("HOLOMUSH_ADMIN_PASSWORD")
                .filter(|v| !v.is_empty())
                .map(Secret),
            data_dir: local.data_dir,
            backup_dir: get("HOLOMUSH_BACKUP_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("./backups")),
            migrations_dir: local.migrations_dir,
            retention: crate::backup::retention::Policy {
                keep_last: match get("HOLOMUSH_BACKUP_KEEP") {
                    None => None,
                    Some(v) => Some(
                        v.trim()
                            .parse::<usize>()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| ConfigError::Invalid {
                                var: "HOLOMUSH_BACKUP_KEEP",
                                value: v.clone(),
                                problem: "it is not a whole number of at least 1".to_string(),
                                expected: "how many archives to keep, e.g. 14 (unset keeps all)"
                                    .to_string(),
                            })?,
                    ),
                },
                max_age: match get("HOLOMUSH_BACKUP_MAX_AGE") {
                    None => None,
                    Some(v) => Some(
                        humantime::parse_duration(v.trim())
                            .ok()
                            .filter(|d| !d.is_zero())
                            .ok_or_else(|| ConfigError::Invalid {
                                var: "HOLOMUSH_BACKUP_MAX_AGE",
                                value: v.clone(),
                                problem: "it is not a duration".to_string(),
                                expected: "an age such as 30d or 720h (unset keeps all)"
                                    .to_string(),
                            })?,
                    ),
                },
            },
            backup_schedule: match get("HOLOMUSH_BACKUP_SCHEDULE") {
                None => None,
                Some(v) if v.trim().is_empty() => None,
                Some(v) => Some(
                    humantime::parse_duration(v.trim())
                        .ok()
                        .filter(|d| d.as_secs() >= 60)
                        .ok_or_else(|| ConfigError::Invalid {
                            var: "HOLOMUSH_BACKUP_SCHEDULE",
                            value: v.clone(),
                            problem: "it is not an interval of at least a minute".to_string(),
                            expected: "an interval such as 24h or 6h (unset: no scheduled backups)"
                                .to_string(),
                        })?,
                ),
            },
            upload_limit_bytes: match get("HOLOMUSH_UPLOAD_LIMIT_MB") {
                None => DEFAULT_UPLOAD_LIMIT_MB * 1024 * 1024,
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=1_048_576).contains(n))
                    .map(|n| n * 1024 * 1024)
                    .ok_or_else(|| ConfigError::Invalid {
                        var: "HOLOMUSH_UPLOAD_LIMIT_MB",
                        value: v.clone(),
                        problem: "it is not a whole number of megabytes from 1 to 1048576"
                            .to_string(),
                        expected: format!(
                            "a size in MiB such as 2048 (default {DEFAULT_UPLOAD_LIMIT_MB})"
                        ),
                    })?,
            },
        })
    }
}

fn parse_count(
    var: &'static str,
    value: Option<String>,
    default: u32,
    min: u32,
) -> Result<u32, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let invalid = |problem: &str| ConfigError::Invalid {
        var,
        value: value.clone(),
        problem: problem.to_string(),
        expected: format!("a whole number from {min} to {MAX_CONNS_LIMIT} (default {default})"),
    };
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| invalid("it is not a whole number"))?;
    if n < i64::from(min) {
        return Err(invalid(&format!("it is below {min}")));
    }
    if n > i64::from(MAX_CONNS_LIMIT) {
        return Err(invalid(&format!("it is above {MAX_CONNS_LIMIT}")));
    }
    u32::try_from(n).map_err(|_| invalid("it is out of range"))
}

fn parse_lifetime(value: &str) -> Result<Duration, ConfigError> {
    let invalid = |problem: String| ConfigError::Invalid {
        var: "DB_MAX_LIFETIME",
        value: value.to_string(),
        problem,
        expected: "a duration such as 1h, 30m, 90s or 1h30m (default 1h)".to_string(),
    };
    let d = humantime::parse_duration(value.trim())
        .map_err(|e| invalid(format!("it is not a duration ({e})")))?;
    if d.is_zero() {
        return Err(invalid("it is zero".to_string()));
    }
    Ok(d)
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            var,
            value: value.to_string(),
            problem: "it is not a yes/no value".to_string(),
            expected: "true or false (default true)".to_string(),
        }),
    }
}

fn invalid_addr(value: &str) -> ConfigError {
    ConfigError::Invalid {
        var: "HOLOMUSH_ADMIN_ADDR",
        value: value.to_string(),
        problem: "it is not an IP address with a port".to_string(),
        expected: format!("an address such as {DEFAULT_ADMIN_ADDR} or 0.0.0.0:8080"),
    }
}

#[cfg(test)]
mod tests;
