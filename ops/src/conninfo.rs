//! A PostgreSQL connection URL read the way libpq reads it, once, into one typed value
//! from which the pool, the doctor and every child process (pg_dump, pg_restore, psql)
//! get the same connection — and the one masking that every displayed URL goes through.
//!
//! libpq's URI rules, not a generic URL parser's: the user information runs to the first
//! `@` or `/`, so a password may hold `#`, `?`, `'`, `"` or a space as written; values are
//! percent-decoded and nothing else (`+` stays `+`); query parameters are libpq's names.
//! Stricter than libpq in one place: an `@` in the host, port or path is refused, as it
//! can only be a password's unencoded `@` or `/` that libpq would send to DNS or a server.

use std::ops::Range;
use std::path::PathBuf;

mod connect;
mod mask;
mod parse;

pub use connect::NO_FILE;
pub use parse::os_user;

// The unit tests (conninfo/tests.rs, `use super::*`) check the masking by shape alone.
#[cfg(test)]
use mask::mask_structural;
pub use mask::mask_text;

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
    /// The URL named a host (in the authority or `host=`); without one libpq means this
    /// machine's socket, which a typed URL may not reach by default.
    host_given: bool,
    /// The console's own DATABASE_URL ([`DatabaseUrl::parse_configured`]): its child
    /// processes may use libpq's default files (`~/.pgpass`, the client certificate), as
    /// the operator set them up; any other URL carries only what it says.
    configured: bool,
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
    /// False when the URL names no host (libpq then means this machine's socket).
    pub fn host_given(&self) -> bool {
        self.host_given
    }
    /// True for the console's own DATABASE_URL, false for a URL a person typed.
    pub fn is_configured(&self) -> bool {
        self.configured
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

    /// The same server and database as another role (a restore's job role): a URL of its
    /// own, its password remembered for masking like any URL's.
    pub fn as_role(&self, user: &str, password: &str) -> Result<DatabaseUrl, UrlError> {
        let mut copy = self.clone();
        copy.user = user.to_string();
        copy.password = Some(password.to_string());
        copy.params.retain(|(k, _)| k != "user");
        Ok(DatabaseUrl::parse(&copy.canonical())?.named(self.name))
    }

    /// The URL's path, decoded, with its leading slash: what golang-migrate's CLI and
    /// `migrate.New(url)` use as the database name in the lock id.
    pub fn url_path(&self) -> String {
        self.path_database
            .as_ref()
            .map(|d| format!("/{d}"))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
