//! A PostgreSQL connection URL read the way libpq reads it, once, into one typed value
//! from which the pool, the doctor and every child process (pg_dump, pg_restore, psql)
//! get the same connection — and the one masking that every displayed URL goes through.
//!
//! libpq's URI rules, not a generic URL parser's: the user information runs to the first
//! `@` or `/`, so a password may hold `#`, `?`, `'`, `"` or a space as written; values are
//! percent-decoded and nothing else (`+` stays `+`); query parameters are libpq's names.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// Why a URL cannot be used, in a sentence fragment (the caller names the variable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, UrlError> {
    Err(UrlError(s.into()))
}

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    /// A Unix-socket directory (a host starting with `/`).
    Socket(PathBuf),
}

impl Host {
    fn from_text(text: &str) -> Host {
        if text.starts_with('/') {
            Host::Socket(PathBuf::from(text))
        } else {
            Host::Tcp(text.to_string())
        }
    }

    /// What libpq takes as PGHOST.
    pub fn as_libpq(&self) -> String {
        match self {
            Host::Tcp(h) => h.clone(),
            Host::Socket(p) => p.display().to_string(),
        }
    }
}

pub const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// Parameters libpq accepts that change nothing for a connection the console makes, in
/// the values given here; any other value of them is refused like an unknown parameter.
const HARMLESS: [(&str, &[&str]); 7] = [
    (
        "client_encoding",
        &["UTF8", "utf8", "UTF-8", "utf-8", "auto"],
    ),
    ("gssencmode", &["disable", "prefer"]),
    ("channel_binding", &["disable", "prefer"]),
    ("target_session_attrs", &["any"]),
    ("load_balance_hosts", &["disable"]),
    ("sslnegotiation", &["postgres"]),
    ("keepalives", &["1"]),
];

/// Passwords a person may choose (quote, space, `#`, `/`, `@`, `:`, `%`, `+`, non-ASCII),
/// each with the way a libpq user writes it in a URL: the test list for every place a
/// password could leak.
pub const HARD_PASSWORDS: [(&str, &str); 12] = [
    ("a+b", "a+b"),
    ("it's", "it's"),
    ("two words", "two words"),
    ("dq\"x", "dq\"x"),
    ("hash#tag", "hash#tag"),
    ("sl/ash", "sl%2Fash"),
    ("at@sign", "at%40sign"),
    ("co:lon", "co:lon"),
    ("per%cent", "per%25cent"),
    ("grüße✓", "grüße✓"),
    ("q?mark", "q?mark"),
    ("amp&er=x", "amp&er=x"),
];

/// A parsed connection. `Display` and `Debug` show it masked.
#[derive(Clone)]
pub struct DatabaseUrl {
    /// What the user calls this URL in a sentence ("DATABASE_URL", "the target server URL").
    name: &'static str,
    raw: String,
    /// Byte ranges of password values in `raw` (authority and `password=`).
    secret_spans: Vec<Range<usize>>,
    /// Byte range of the database in the path (after the `/`), when the URL has a path.
    path_span: Option<Range<usize>>,
    scheme: String,
    host: Host,
    port: u16,
    user: String,
    password: Option<String>,
    database: String,
    path_database: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    sslcert: Option<String>,
    sslkey: Option<String>,
    application_name: Option<String>,
    connect_timeout: Option<u64>,
    options: Option<String>,
    option_pairs: Vec<(String, String)>,
    /// Every query parameter but the password, decoded, in the URL's order.
    params: Vec<(String, String)>,
}

/// %XX only, as libpq's conninfo_uri_decode: `+` is a plus sign.
fn decode(s: &str, what: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => out.push(b),
                None => {
                    return err(format!(
                        "the {what} holds a % that is not followed by two hex digits (write a literal % as %25)"
                    ))
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| UrlError(format!("the {what} decodes to bytes that are not UTF-8")))
}

/// Percent-encodes everything but unreserved characters, for a URL we build.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let (scheme, rest_at) = if let Some(r) = raw.strip_prefix("postgresql://") {
            ("postgresql", raw.len() - r.len())
        } else if let Some(r) = raw.strip_prefix("postgres://") {
            ("postgres", raw.len() - r.len())
        } else if raw.contains("://") {
            let scheme = raw.split("://").next().unwrap_or_default();
            return err(format!(
                "the scheme is \"{scheme}\", not postgres:// or postgresql://"
            ));
        } else if raw.contains('=') && !raw.contains('/') {
            return err(
                "it is a key=value connection string, not a URL: write it as postgres://user:password@host:port/database",
            );
        } else {
            return err(
                "it does not parse as a URL: it does not start with postgres:// or postgresql://",
            );
        };
        let b = raw.as_bytes();
        let mut p = rest_at;
        let mut secret_spans = Vec::new();
        let mut user: Option<String> = None;
        let mut password: Option<String> = None;

        // User information runs to the first '@' before any '/'.
        let mut q = p;
        while q < b.len() && b[q] != b'@' && b[q] != b'/' {
            q += 1;
        }
        if q < b.len() && b[q] == b'@' {
            let info = &raw[p..q];
            match info.find(':') {
                Some(colon) => {
                    if colon > 0 {
                        user = Some(decode(&info[..colon], "user name")?);
                    }
                    let pw = &info[colon + 1..];
                    secret_spans.push(p + colon + 1..q);
                    if !pw.is_empty() {
                        password = Some(decode(pw, "password")?);
                    }
                }
                None if !info.is_empty() => user = Some(decode(info, "user name")?),
                None => {}
            }
            p = q + 1;
        }

        // Host and port, up to '/' or '?'.
        let mut q = p;
        let mut host_text = String::new();
        if b.get(q) == Some(&b'[') {
            let close = raw[q..]
                .find(']')
                .map(|i| q + i)
                .ok_or_else(|| UrlError("the IPv6 host has no closing ]".to_string()))?;
            host_text = raw[q + 1..close].to_string();
            q = close + 1;
        } else {
            while q < b.len() && !matches!(b[q], b':' | b'/' | b'?' | b',') {
                q += 1;
            }
            if q > p {
                host_text = decode(&raw[p..q], "host")?;
            }
        }
        let mut port_text = String::new();
        if b.get(q) == Some(&b':') {
            let start = q + 1;
            q = start;
            while q < b.len() && !matches!(b[q], b'/' | b'?' | b',') {
                q += 1;
            }
            port_text = raw[start..q].to_string();
        }
        if b.get(q) == Some(&b',') {
            return err(
                "it names several hosts; the console connects to one server: give a single host",
            );
        }
        if q < b.len() && !matches!(b[q], b'/' | b'?') {
            return err(format!(
                "unexpected \"{}\" after the host",
                char::from(b[q])
            ));
        }

        let mut path_span = None;
        let mut path_database = None;
        if b.get(q) == Some(&b'/') {
            let start = q + 1;
            q = start;
            while q < b.len() && b[q] != b'?' {
                q += 1;
            }
            path_span = Some(start..q);
            path_database = Some(decode(&raw[start..q], "database name")?);
        }

        let mut params: Vec<(String, String)> = Vec::new();
        let mut dbname_param = None;
        let mut u = Self {
            name: "DATABASE_URL",
            raw: raw.to_string(),
            secret_spans: Vec::new(),
            path_span: None,
            scheme: scheme.to_string(),
            host: Host::Tcp(String::new()),
            port: 5432,
            user: String::new(),
            password: None,
            database: String::new(),
            path_database: None,
            sslmode: None,
            sslrootcert: None,
            sslcert: None,
            sslkey: None,
            application_name: None,
            connect_timeout: None,
            options: None,
            option_pairs: Vec::new(),
            params: Vec::new(),
        };
        let mut fallback_app = None;
        if b.get(q) == Some(&b'?') {
            let mut start = q + 1;
            while start <= b.len() {
                let end = raw[start..].find('&').map_or(b.len(), |i| start + i);
                let pair = &raw[start..end];
                if !pair.is_empty() {
                    let (k, v, v_at) = match pair.find('=') {
                        Some(eq) => (&pair[..eq], &pair[eq + 1..], start + eq + 1),
                        None => {
                            return err(format!(
                                "the parameter \"{}\" has no value (write name=value)",
                                crate::conninfo::mask_text(pair)
                            ))
                        }
                    };
                    let key = decode(k, "parameter name")?;
                    if key == "password" {
                        secret_spans.push(v_at..end);
                    }
                    let value = decode(v, &format!("{key} parameter"))?;
                    match key.as_str() {
                        "password" => password = Some(value.clone()),
                        "user" => user = Some(value.clone()),
                        "host" => {
                            if value.contains(',') {
                                return err("it names several hosts; the console connects to one server: give a single host");
                            }
                            host_text = value.clone();
                        }
                        "port" => {
                            if value.contains(',') {
                                return err("it names several ports; the console connects to one server: give a single port");
                            }
                            port_text = value.clone();
                        }
                        "dbname" => dbname_param = Some(value.clone()),
                        "sslmode" => {
                            if !SSL_MODES.contains(&value.as_str()) {
                                return err(format!(
                                    "sslmode={value} is not one of {}",
                                    SSL_MODES.join(", ")
                                ));
                            }
                            u.sslmode = Some(value.clone());
                        }
                        "ssl" if value == "true" => u.sslmode = Some("require".to_string()),
                        "sslrootcert" => u.sslrootcert = Some(value.clone()),
                        "sslcert" => u.sslcert = Some(value.clone()),
                        "sslkey" => u.sslkey = Some(value.clone()),
                        "application_name" => u.application_name = Some(value.clone()),
                        "fallback_application_name" => fallback_app = Some(value.clone()),
                        "connect_timeout" => {
                            let secs: i64 = value.trim().parse().map_err(|_| {
                                UrlError(format!(
                                    "connect_timeout={value} is not a whole number of seconds"
                                ))
                            })?;
                            // libpq: zero or negative waits for ever; under 2 s is 2 s.
                            u.connect_timeout = u64::try_from(secs)
                                .ok()
                                .filter(|s| *s > 0)
                                .map(|s| s.max(2));
                        }
                        "options" => {
                            u.option_pairs.extend(parse_options(&value)?);
                            u.options = Some(match u.options.take() {
                                Some(o) => format!("{o} {value}"),
                                None => value.clone(),
                            });
                        }
                        other => {
                            let harmless = HARMLESS
                                .iter()
                                .find(|(name, _)| *name == other)
                                .is_some_and(|(_, ok)| ok.contains(&value.as_str()));
                            if !harmless {
                                let shown = if other.contains("password") {
                                    "****"
                                } else {
                                    value.as_str()
                                };
                                return err(format!(
                                    "the parameter {other}={shown} is not one the console can honour; it takes sslmode, sslrootcert, sslcert, sslkey, application_name, connect_timeout, options, host, port, user, password and dbname"
                                ));
                            }
                        }
                    }
                    if key != "password" {
                        params.push((key, value));
                    }
                }
                start = end + 1;
            }
        }

        // Defaults as libpq (and sqlx) take them: the environment, then the built-in ones.
        let base = PgConnectOptions::new_without_pgpass();
        u.host = if host_text.is_empty() {
            Host::from_text(base.get_host())
        } else {
            Host::from_text(&host_text)
        };
        u.port = if port_text.is_empty() {
            base.get_port()
        } else {
            port_text
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| {
                    UrlError(format!(
                        "the port \"{port_text}\" is not a number from 1 to 65535"
                    ))
                })?
        };
        u.user = user
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| base.get_username().to_string());
        u.password = password.filter(|p| !p.is_empty());
        // libpq: with no database named, the user name is the database.
        u.database = dbname_param
            .clone()
            .or_else(|| path_database.clone())
            .filter(|d| !d.is_empty())
            .or_else(|| base.get_database().map(str::to_string))
            .unwrap_or_else(|| u.user.clone());
        if u.application_name.is_none() {
            u.application_name = fallback_app;
        }
        u.secret_spans = secret_spans;
        u.path_span = path_span;
        u.path_database = path_database;
        u.params = params;
        if let Some(pw) = &u.password {
            remember_secret(pw, &[&u.user, &u.database]);
        }
        Ok(u)
    }

    /// The same URL, called `name` in the sentences that tell what to fix in it.
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// What the user calls this URL ("DATABASE_URL" unless [`Self::named`] says otherwise).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The URL as given, password included: for a connection only, never for a log,
    /// a page or a process argument.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL as given, every password value replaced by `replacement`.
    pub fn with_password_as(&self, replacement: &str) -> String {
        let mut out = self.raw.clone();
        let mut spans = self.secret_spans.clone();
        spans.sort_by_key(|r| std::cmp::Reverse(r.start));
        for span in spans {
            if span.start < span.end {
                out.replace_range(span, replacement);
            }
        }
        out
    }

    /// The URL as given with its password as `****`.
    pub fn masked(&self) -> String {
        self.with_password_as("****")
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    pub fn host(&self) -> &Host {
        &self.host
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn database(&self) -> &str {
        &self.database
    }
    pub fn password(&self) -> Option<String> {
        self.password.clone()
    }
    /// The sslmode the URL asks for, if any.
    pub fn ssl_mode(&self) -> Option<String> {
        self.sslmode.clone()
    }
    pub fn connect_timeout(&self) -> Option<std::time::Duration> {
        self.connect_timeout.map(std::time::Duration::from_secs)
    }
    /// Query parameters other than the password, decoded.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> Result<DatabaseUrl, UrlError> {
        let mut copy = self.clone();
        copy.database = database.to_string();
        // Keep `raw` meaningful (the doctor and `.env` read it): rewrite its path.
        let encoded = encode(database);
        let mut raw = self.raw.clone();
        match &self.path_span {
            Some(span) => raw.replace_range(span.clone(), &encoded),
            None => {
                let at = raw.find('?').unwrap_or(raw.len());
                raw.insert_str(at, &format!("/{encoded}"));
            }
        }
        let parsed = DatabaseUrl::parse(&raw)?;
        copy.raw = parsed.raw;
        copy.secret_spans = parsed.secret_spans;
        copy.path_span = parsed.path_span;
        copy.path_database = parsed.path_database;
        // A dbname= parameter would win over the path: the copy names the database itself.
        copy.params.retain(|(k, _)| k != "dbname");
        Ok(copy)
    }

    /// The URL's path, decoded, with its leading slash: what golang-migrate's CLI and
    /// `migrate.New(url)` use as the database name in the lock id.
    pub fn url_path(&self) -> String {
        self.path_database
            .as_ref()
            .map(|d| format!("/{d}"))
            .unwrap_or_default()
    }

    /// What sqlx connects with: the same values every child process gets.
    pub fn connect_options(&self) -> PgConnectOptions {
        let mut o = PgConnectOptions::new_without_pgpass()
            .port(self.port)
            .username(&self.user)
            .database(&self.database)
            .application_name(self.application_name.as_deref().unwrap_or("holomush-admin"));
        o = match &self.host {
            Host::Tcp(h) => o.host(h),
            Host::Socket(dir) => o.socket(dir),
        };
        if let Some(pw) = &self.password {
            o = o.password(pw);
        }
        if let Some(mode) = self
            .sslmode
            .as_deref()
            .and_then(|m| m.parse::<PgSslMode>().ok())
        {
            o = o.ssl_mode(mode);
        }
        if let Some(c) = &self.sslrootcert {
            o = o.ssl_root_cert(c);
        }
        if let Some(c) = &self.sslcert {
            o = o.ssl_client_cert(c);
        }
        if let Some(c) = &self.sslkey {
            o = o.ssl_client_key(c);
        }
        if !self.option_pairs.is_empty() {
            o = o.options(
                self.option_pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
        }
        o
    }

    /// The libpq environment a child process connects with (for `database`, or the URL's):
    /// the password travels here, never in the child's arguments.
    pub fn child_env(&self, database: Option<&str>) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PGHOST", self.host.as_libpq()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", database.unwrap_or(&self.database).to_string()),
            (
                "PGAPPNAME",
                self.application_name
                    .clone()
                    .unwrap_or_else(|| "holomush-admin".to_string()),
            ),
            // sqlx's default is libpq's: say it, so the child never picks up another.
            (
                "PGSSLMODE",
                self.sslmode.clone().unwrap_or_else(|| "prefer".to_string()),
            ),
        ];
        if let Some(pw) = &self.password {
            env.push(("PGPASSWORD", pw.clone()));
        }
        for (name, value) in [
            ("PGSSLROOTCERT", &self.sslrootcert),
            ("PGSSLCERT", &self.sslcert),
            ("PGSSLKEY", &self.sslkey),
            ("PGOPTIONS", &self.options),
        ] {
            if let Some(v) = value {
                env.push((name, v.clone()));
            }
        }
        if let Some(t) = self.connect_timeout {
            env.push(("PGCONNECT_TIMEOUT", t.to_string()));
        }
        env
    }

    /// A URL for another program that reads URLs (psql, golang-migrate), built from the
    /// parsed parts with every value encoded.
    pub fn canonical(&self) -> String {
        let host = match &self.host {
            Host::Tcp(h) if h.contains(':') => format!("[{h}]"),
            Host::Tcp(h) => encode(h),
            Host::Socket(_) => String::new(),
        };
        let mut out = format!("{}://{}", self.scheme, encode(&self.user));
        if let Some(pw) = &self.password {
            out.push(':');
            out.push_str(&encode(pw));
        }
        out.push_str(&format!("@{host}:{}/{}", self.port, encode(&self.database)));
        let mut q: Vec<String> = self
            .params
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "host" | "port" | "user" | "dbname"))
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if let Host::Socket(dir) = &self.host {
            q.insert(0, format!("host={}", encode(&dir.display().to_string())));
        }
        if !q.is_empty() {
            out.push('?');
            out.push_str(&q.join("&"));
        }
        out
    }
}

/// libpq's `options` value as `-c name=value` pairs (also `-cname=value`, `--name=value`).
fn parse_options(value: &str) -> Result<Vec<(String, String)>, UrlError> {
    // Backslash escapes a space, as in libpq.
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out = Vec::new();
    let mut it = words.into_iter();
    let bad = || {
        UrlError(format!(
            "options={value} is not a list of -c name=value settings"
        ))
    };
    while let Some(w) = it.next() {
        let setting = if w == "-c" {
            it.next().ok_or_else(bad)?
        } else if let Some(s) = w.strip_prefix("--").or_else(|| w.strip_prefix("-c")) {
            s.to_string()
        } else {
            return Err(bad());
        };
        let (k, v) = setting.split_once('=').ok_or_else(bad)?;
        out.push((k.replace('-', "_"), v.to_string()));
    }
    Ok(out)
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.masked())
    }
}

/// Passwords of every URL parsed in this process, so text that holds one outside a URL
/// (an error a server or a tool echoed) is masked too. Short ones, and ones equal to the
/// user or database name, are left out: masking them would blank ordinary words.
fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

const MAX_SECRETS: usize = 64;

fn remember_secret(secret: &str, names: &[&str]) {
    if secret.chars().count() < 4 || names.contains(&secret) {
        return;
    }
    let Ok(mut list) = secrets().lock() else {
        return;
    };
    let encoded = encode(secret);
    for s in [secret.to_string(), encoded] {
        if !list.contains(&s) {
            if list.len() >= MAX_SECRETS {
                list.remove(0);
            }
            list.push(s);
        }
    }
    // Longest first, so a secret inside another is not half-masked.
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Masks every password in free text: in anything that looks like a connection URL —
/// even one that does not parse — in `password=` parameters, and any password of a
/// URL this process has parsed. When in doubt it masks more, never less.
pub fn mask_text(text: &str) -> String {
    mask_known(&mask_structural(text))
}

/// The masking by shape alone: URLs and `password=` parameters.
fn mask_structural(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // This URL's authority cannot reach past the next URL in the text.
        let bound = tail.find("://").unwrap_or(tail.len());
        let segment = &tail[..bound];
        // A password may hold '/', spaces or quotes when the URL is malformed: take the
        // last '@' of the segment, so all of it is masked.
        let at = segment.rfind('@');
        let colon = segment.find(':');
        match (colon, at) {
            (Some(c), Some(a)) if c < a && !segment[..c].contains(['/', ' ', '?']) => {
                out.push_str(&segment[..c]);
                out.push_str(":****");
                rest = &tail[a..];
            }
            _ => {
                // No password in the authority: copy up to where the next URL starts.
                out.push_str(segment);
                rest = &tail[bound..];
            }
        }
    }
    out.push_str(rest);
    mask_password_params(&out)
}

fn mask_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.to_ascii_lowercase().find("password=") {
        let (head, tail) = rest.split_at(pos + "password=".len());
        out.push_str(head);
        out.push_str("****");
        // A quoted value (key=value strings) runs to its closing quote.
        let end = if let Some(q) = tail.strip_prefix('\'') {
            q.find('\'').map_or(tail.len(), |i| i + 2)
        } else {
            tail.find(['&', ' ', '"', '\'']).unwrap_or(tail.len())
        };
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn mask_known(text: &str) -> String {
    let Ok(list) = secrets().lock() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for s in list.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "****");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::HARD_PASSWORDS as HARD;

    #[test]
    fn masking_by_shape_alone_hides_every_password() {
        for (pw, written) in HARD {
            for text in [
                format!("postgres://holo:{written}@db.example.com:5433/game?sslmode=require"),
                format!("DATABASE_URL=\"postgresql://holo:{written}@h/db\" is not valid: x."),
                format!(
                    "postgres://holo@h/db?sslmode=disable&password={}",
                    written.replace('&', "%26")
                ),
            ] {
                let m = mask_structural(&text);
                assert!(!m.contains(written), "{written} in {m}");
                assert!(m.contains("****"), "{m}");
            }
            let _ = pw;
        }
    }

    #[test]
    fn passwords_decode_as_libpq_does_and_never_show() {
        for (pw, written) in HARD {
            let raw = format!("postgres://holo:{written}@db.example.com:5433/game?sslmode=require");
            let u = DatabaseUrl::parse(&raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(u.password().as_deref(), Some(pw), "{raw}");
            assert_eq!(u.user(), "holo");
            assert_eq!(u.host(), &Host::Tcp("db.example.com".into()));
            assert_eq!((u.port(), u.database()), (5433, "game"));
            assert_eq!(
                u.masked(),
                "postgres://holo:****@db.example.com:5433/game?sslmode=require"
            );
            for shown in [
                u.masked(),
                format!("{u}"),
                format!("{u:?}"),
                mask_text(&raw),
            ] {
                assert!(!shown.contains(pw), "{pw} in {shown}");
                assert!(!shown.contains(written), "{written} in {shown}");
            }
            // Inside quotes and sentences, as errors print it.
            let sentence = format!("DATABASE_URL=\"{raw}\" is not valid: because.");
            let m = mask_text(&sentence);
            assert!(!m.contains(written), "{m}");
            assert!(m.contains("holo:****@db.example.com"), "{m}");
            // The canonical form reads back to the same password.
            let again = DatabaseUrl::parse(&u.canonical()).expect("canonical parses");
            assert_eq!(again.password().as_deref(), Some(pw));
        }
    }

    #[test]
    fn malformed_urls_are_masked_whole() {
        for raw in [
            "postgres://u:pa/ss word@host/db",
            "postgres://u:it's a \"pw\"@h:notaport/db",
            "postgresql://u:x y@z@h/db and more text",
        ] {
            let m = mask_text(raw);
            assert!(m.starts_with(&raw[..raw.find(':').unwrap_or(0)]), "{m}");
            for piece in ["pa/ss", "it's", "x y"] {
                assert!(!m.contains(piece), "{m}");
            }
        }
        assert_eq!(
            mask_text("host=x password=abc user=y"),
            "host=x password=**** user=y"
        );
        assert_eq!(mask_text("password='a b c' user=y"), "password=**** user=y");
        assert_eq!(mask_text("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            mask_text("from postgres://a:one1@h1/x to postgres://b:two2@h2/y"),
            "from postgres://a:****@h1/x to postgres://b:****@h2/y"
        );
    }

    #[test]
    fn sockets_params_and_defaults() {
        let u = DatabaseUrl::parse("postgresql:///holomush?host=/var/run/postgresql").expect("ok");
        assert_eq!(u.host(), &Host::Socket("/var/run/postgresql".into()));
        assert_eq!(u.database(), "holomush");
        assert!(u.password().is_none());
        let env = u.child_env(None);
        assert!(env.contains(&("PGHOST", "/var/run/postgresql".to_string())));
        assert!(!env.iter().any(|(k, _)| *k == "PGPASSWORD"));
        assert_eq!(
            u.connect_options()
                .get_socket()
                .map(|p| p.display().to_string()),
            Some("/var/run/postgresql".to_string())
        );

        let u = DatabaseUrl::parse("postgres://%2Ftmp%2Fpg/db").expect("encoded socket host");
        assert_eq!(u.host(), &Host::Socket("/tmp/pg".into()));

        let u = DatabaseUrl::parse(
            "postgres://alice:pw@[::1]:6000/?dbname=game&sslmode=verify-full&sslrootcert=/etc/ca.pem&sslcert=/c.pem&sslkey=/k.pem&application_name=holo%20admin&connect_timeout=7&options=-c%20search_path%3Dgame%20-c%20statement_timeout%3D5s",
        )
        .expect("ok");
        assert_eq!(u.host(), &Host::Tcp("::1".into()));
        assert_eq!((u.port(), u.database()), (6000, "game"));
        let env = u.child_env(Some("other"));
        for want in [
            ("PGDATABASE", "other"),
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", "/etc/ca.pem"),
            ("PGSSLCERT", "/c.pem"),
            ("PGSSLKEY", "/k.pem"),
            ("PGAPPNAME", "holo admin"),
            ("PGCONNECT_TIMEOUT", "7"),
            ("PGOPTIONS", "-c search_path=game -c statement_timeout=5s"),
            ("PGPASSWORD", "pw"),
        ] {
            assert!(
                env.contains(&(want.0, want.1.to_string())),
                "{want:?} in {env:?}"
            );
        }
        assert_eq!(
            u.connect_options().get_options(),
            Some("-c search_path=game -c statement_timeout=5s")
        );
        assert_eq!(
            u.connect_options().get_application_name(),
            Some("holo admin")
        );

        // libpq: no database means the user's name.
        assert_eq!(
            DatabaseUrl::parse("postgres://alice@h")
                .expect("ok")
                .database(),
            "alice"
        );
    }

    #[test]
    fn what_the_pool_cannot_honour_is_refused() {
        for (raw, says) in [
            ("postgres://u@h1,h2/db", "several hosts"),
            ("postgres://u@h/db?host=a,b", "several hosts"),
            (
                "postgres://u@h/db?target_session_attrs=read-write",
                "target_session_attrs=read-write is not one the console can honour",
            ),
            ("postgres://u@h/db?service=prod", "service=prod is not one"),
            (
                "postgres://u@h/db?sslmode=sometimes",
                "sslmode=sometimes is not one of",
            ),
            ("postgres://u@h:notaport/db", "the port \"notaport\""),
            ("postgres://u:bad%zz@h/db", "password holds a % that"),
            ("mysql://u:pw@h/db", "the scheme is \"mysql\""),
            ("host=h dbname=x", "key=value connection string"),
            ("postgres://u@h/db?options=-x", "options=-x is not a list"),
        ] {
            let e = DatabaseUrl::parse(raw)
                .map(|_| ())
                .expect_err(raw)
                .to_string();
            assert!(e.contains(says), "{raw}: {e}");
        }
        assert!(
            DatabaseUrl::parse("postgres://u@h/db?gssencmode=prefer&client_encoding=UTF8").is_ok()
        );
    }

    #[test]
    fn another_database_keeps_the_rest() {
        let u = DatabaseUrl::parse("postgres://u:p+w@h:5/db?sslmode=require").expect("ok");
        let v = u.with_database("holomush_restored").expect("ok");
        assert_eq!(v.database(), "holomush_restored");
        assert_eq!(v.password().as_deref(), Some("p+w"));
        assert_eq!(
            v.masked(),
            "postgres://u:****@h:5/holomush_restored?sslmode=require"
        );
        assert_eq!(v.url_path(), "/holomush_restored");
        let w = DatabaseUrl::parse("postgres://u@h?sslmode=disable")
            .expect("ok")
            .with_database("x")
            .expect("ok");
        assert_eq!(w.masked(), "postgres://u@h/x?sslmode=disable");
    }
}
