//! `DatabaseUrl::parse`: libpq's URI rules, its percent-decoding and its `options` value.

use std::path::Path;
use std::sync::OnceLock;

use sqlx::postgres::PgConnectOptions;

use super::mask::remember_secret;
use super::{err, DatabaseUrl, Host, UrlError, HARMLESS, SSL_MODES};

/// How to write a password libpq would split: said instead of quoting any of the URL.
const ENCODE_HINT: &str =
    "if the password holds /, @, :, ? or #, percent-encode them (%2F, %40, %3A, %3F, %23)";

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

/// The operating-system user, libpq's default user name (read once, and by
/// `take_libpq_env` before any `PGUSER` could stand in for it).
pub fn os_user() -> String {
    static USER: OnceLock<String> = OnceLock::new();
    USER.get_or_init(|| {
        // sqlx's constructor asks the system for the user unless PGUSER is set.
        if std::env::var_os("PGUSER").is_none() {
            PgConnectOptions::new_without_pgpass()
                .get_username()
                .to_string()
        } else {
            std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "postgres".to_string())
        }
    })
    .clone()
}

/// libpq's (and sqlx's) host when none is given: the first socket folder holding this
/// port's socket, else localhost.
fn default_host(port: u16) -> String {
    let socket = format!(".s.PGSQL.{port}");
    ["/var/run/postgresql", "/private/tmp", "/tmp"]
        .into_iter()
        .find(|dir| Path::new(dir).join(&socket).exists())
        .unwrap_or("localhost")
        .to_string()
}

impl DatabaseUrl {
    /// A URL as typed: every part it leaves out takes libpq's built-in default, never a
    /// value of the process environment.
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        Self::parse_with(raw, &|_| None, false)
    }

    /// The console's own DATABASE_URL: a part it leaves out comes from the console's libpq
    /// variables through `lookup` (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`,
    /// `PGPASSWORD`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`, `PGOPTIONS`: what
    /// sqlx took from the environment before), written into the parsed value so the pool
    /// and every child process get the same connection.
    pub fn parse_configured(
        raw: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, UrlError> {
        Self::parse_with(raw, lookup, true)
    }

    fn parse_with(
        raw: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
        configured: bool,
    ) -> Result<Self, UrlError> {
        let (scheme, rest_at) = if let Some(r) = raw.strip_prefix("postgresql://") {
            ("postgresql", raw.len() - r.len())
        } else if let Some(r) = raw.strip_prefix("postgres://") {
            ("postgres", raw.len() - r.len())
        } else if raw.contains("://") {
            let scheme = raw.split("://").next().unwrap_or_default();
            // Only a word that can be a scheme is quoted: anything else may hold a password.
            if scheme.is_empty()
                || !scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                return err("it does not start with postgres:// or postgresql://");
            }
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
        // With an '@' after the scheme, anything before the last one may be a password
        // libpq split elsewhere (at an unencoded '/', '@', ':' or '?'): an error quotes no
        // text from there, it says what is wrong and how to write the password instead.
        let guard = raw[rest_at..].rfind('@').map(|i| rest_at + i);
        let hidden = |at: usize| guard.is_some_and(|g| at < g);
        let say = |at: usize, loud: String, quiet: &str| {
            if hidden(at) {
                UrlError(format!("{quiet}; {ENCODE_HINT}"))
            } else {
                UrlError(loud)
            }
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

        // Host and port, up to '/' or '?'; `p` is past the user information from here on.
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
        let mut port_at = q;
        if b.get(q) == Some(&b':') {
            let start = q + 1;
            port_at = start;
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
            return Err(say(
                q,
                format!("unexpected \"{}\" after the host", char::from(b[q])),
                "unexpected text after the host",
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
        // An '@' past the user information's is a password with an unencoded '@' or '/'
        // that libpq would read partly as the host, port or database name — and carry into
        // DNS lookups and server errors, where no masking reaches: refused, quoting none of it.
        let stray_at = raw[p..q].contains('@');
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
            host_given: false,
            configured,
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
                            return Err(say(
                                start,
                                format!(
                                    "the parameter \"{}\" has no value (write name=value)",
                                    crate::conninfo::mask_text(pair)
                                ),
                                "a parameter has no value (write name=value)",
                            ))
                        }
                    };
                    let key = decode(k, "parameter name")?;
                    if key == "password" {
                        secret_spans.push(v_at..end);
                    }
                    let what = if hidden(start) {
                        "value of a parameter".to_string()
                    } else {
                        format!("{key} parameter")
                    };
                    let value = decode(v, &what).map_err(|e| say(start, e.0.clone(), &e.0))?;
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
                            port_at = start;
                        }
                        "dbname" => dbname_param = Some(value.clone()),
                        "sslmode" => {
                            if !SSL_MODES.contains(&value.as_str()) {
                                let modes = SSL_MODES.join(", ");
                                return Err(say(
                                    start,
                                    format!("sslmode={value} is not one of {modes}"),
                                    &format!("the sslmode is not one of {modes}"),
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
                                say(
                                    start,
                                    format!(
                                        "connect_timeout={value} is not a whole number of seconds"
                                    ),
                                    "connect_timeout is not a whole number of seconds",
                                )
                            })?;
                            // libpq: zero or negative waits for ever; under 2 s is 2 s.
                            u.connect_timeout = u64::try_from(secs)
                                .ok()
                                .filter(|s| *s > 0)
                                .map(|s| s.max(2));
                        }
                        "options" => {
                            u.option_pairs.extend(parse_options(&value).map_err(|e| {
                                say(
                                    start,
                                    e.0,
                                    "options is not a list of -c name=value settings",
                                )
                            })?);
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
                                let takes = "it takes sslmode, sslrootcert, sslcert, sslkey, application_name, connect_timeout, options, host, port, user, password and dbname";
                                return Err(say(
                                    start,
                                    format!("the parameter {other}={shown} is not one the console can honour; {takes}"),
                                    &format!("a parameter is not one the console can honour; {takes}"),
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

        // Defaults: a configured URL's from the console's libpq variables, as sqlx took
        // them; then libpq's built-in ones. A typed URL never reads the variables.
        let env = |name: &str| {
            if configured {
                lookup(name).filter(|v| !v.is_empty())
            } else {
                None
            }
        };
        u.port = if port_text.is_empty() {
            env("PGPORT")
                .and_then(|p| p.trim().parse::<u16>().ok())
                .filter(|p| *p > 0)
                .unwrap_or(5432)
        } else {
            port_text
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| {
                    say(
                        port_at,
                        format!("the port \"{port_text}\" is not a number from 1 to 65535"),
                        "the port is not a number from 1 to 65535",
                    )
                })?
        };
        u.host_given = !host_text.is_empty();
        u.host = if u.host_given {
            Host::from_text(&host_text)
        } else {
            let from_env = env("PGHOSTADDR").or_else(|| env("PGHOST"));
            Host::from_text(&from_env.unwrap_or_else(|| default_host(u.port)))
        };
        if stray_at {
            return err(format!(
                "the host or the database name holds an @ (one @ alone ends the user name and password; write an @ in a database name as %40); {ENCODE_HINT}"
            ));
        }
        u.user = user
            .filter(|s| !s.is_empty())
            .or_else(|| env("PGUSER"))
            .unwrap_or_else(os_user);
        u.password = password
            .filter(|p| !p.is_empty())
            .or_else(|| env("PGPASSWORD"));
        // libpq: with no database named, the user name is the database.
        u.database = dbname_param
            .clone()
            .or_else(|| path_database.clone())
            .filter(|d| !d.is_empty())
            .or_else(|| env("PGDATABASE"))
            .unwrap_or_else(|| u.user.clone());
        if u.sslmode.is_none() {
            // As sqlx: a value it cannot read is no value.
            u.sslmode = env("PGSSLMODE").filter(|m| SSL_MODES.contains(&m.as_str()));
        }
        for (field, name) in [
            (&mut u.sslrootcert, "PGSSLROOTCERT"),
            (&mut u.sslcert, "PGSSLCERT"),
            (&mut u.sslkey, "PGSSLKEY"),
        ] {
            if field.is_none() {
                *field = env(name);
            }
        }
        if let Some(value) = env("PGOPTIONS") {
            // sqlx sent PGOPTIONS first and the URL's options after it.
            let mut pairs = parse_options(&value).map_err(|_| {
                UrlError("PGOPTIONS is not a list of -c name=value settings".to_string())
            })?;
            pairs.append(&mut u.option_pairs);
            u.option_pairs = pairs;
            u.options = Some(match u.options.take() {
                Some(o) => format!("{value} {o}"),
                None => value,
            });
        }
        if u.application_name.is_none() {
            u.application_name = fallback_app;
        }
        u.secret_spans = secret_spans;
        u.path_span = path_span;
        u.path_database = path_database;
        u.params = params;
        let written = u.secrets_as_written();
        let written: Vec<&str> = written.iter().map(String::as_str).collect();
        remember_secret(&written, &[&u.user, &u.database]);
        Ok(u)
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
