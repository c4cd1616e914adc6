//! What a parsed URL hands out: sqlx's connect options, a child process's libpq
//! environment, and a canonical URL for the programs that read URLs.

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use super::{encode, DatabaseUrl, Host};

/// A path that can never be a file (nothing lives under /dev/null): where libpq is sent
/// for a password file, a service file or a client certificate a URL did not name.
pub const NO_FILE: &str = "/dev/null/holomush-admin-none";

impl DatabaseUrl {
    /// What sqlx connects with: the same values every child process gets, and nothing
    /// else. sqlx's constructor reads the process's libpq variables; the binary removed
    /// them at start-up (`config::take_libpq_env`), and each part that could still carry
    /// one is set here from the URL alone, so a typed URL sends what was typed even in a
    /// process that kept them.
    pub fn connect_options(&self) -> PgConnectOptions {
        let mode = self
            .sslmode
            .as_deref()
            .and_then(|m| m.parse::<PgSslMode>().ok())
            .unwrap_or(PgSslMode::Prefer);
        // No password is an empty one: sqlx answers a password request with "" either way,
        // and a PGPASSWORD sqlx picked up is replaced.
        let mut o = PgConnectOptions::new_without_pgpass()
            .port(self.port)
            .username(&self.user)
            .database(&self.database)
            .password(self.password.as_deref().unwrap_or_default())
            .ssl_mode(mode)
            .application_name(self.application_name.as_deref().unwrap_or("holomush-admin"));
        o = match &self.host {
            Host::Tcp(h) => o.host(h),
            Host::Socket(dir) => o.socket(dir),
        };
        if let Some(c) = &self.sslrootcert {
            o = o.ssl_root_cert(c);
        }
        // A client certificate is an identity: one the URL did not name is never shown,
        // even when the process still holds PGSSLCERT or PGSSLKEY (sqlx has no way to
        // unset them, only to point them at nothing).
        match (&self.sslcert, std::env::var_os("PGSSLCERT")) {
            (Some(c), _) => o = o.ssl_client_cert(c),
            (None, Some(_)) => o = o.ssl_client_cert(NO_FILE),
            (None, None) => {}
        }
        match (&self.sslkey, std::env::var_os("PGSSLKEY")) {
            (Some(c), _) => o = o.ssl_client_key(c),
            (None, Some(_)) => o = o.ssl_client_key(NO_FILE),
            (None, None) => {}
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
        if !self.configured {
            // libpq's own defaults outside the environment: a password file, service
            // files, the client certificate and key in ~/.postgresql, a Kerberos ticket.
            // They are the console user's, set up for its own server: a URL a person
            // typed gets none of them, only what it says.
            env.extend([
                ("PGPASSFILE", NO_FILE.to_string()),
                ("PGSERVICEFILE", NO_FILE.to_string()),
                ("PGSYSCONFDIR", NO_FILE.to_string()),
                ("PGGSSENCMODE", "disable".to_string()),
                // libpq 16 and later: no GSSAPI or SSPI login (older ones ignore it).
                ("PGREQUIREAUTH", "!gss,!sspi".to_string()),
            ]);
            for (name, given) in [("PGSSLCERT", &self.sslcert), ("PGSSLKEY", &self.sslkey)] {
                if given.is_none() {
                    env.push((name, NO_FILE.to_string()));
                }
            }
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
        // The settings the parse settled on (a configured URL's may come from the
        // console's libpq variables) are written from the parsed values, the rest as given.
        let mut q: Vec<String> = self
            .params
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "host"
                        | "port"
                        | "user"
                        | "dbname"
                        | "ssl"
                        | "sslmode"
                        | "sslrootcert"
                        | "sslcert"
                        | "sslkey"
                        | "application_name"
                        | "fallback_application_name"
                        | "connect_timeout"
                        | "options"
                )
            })
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let timeout = self.connect_timeout.map(|t| t.to_string());
        for (k, v) in [
            ("sslmode", &self.sslmode),
            ("sslrootcert", &self.sslrootcert),
            ("sslcert", &self.sslcert),
            ("sslkey", &self.sslkey),
            ("application_name", &self.application_name),
            ("connect_timeout", &timeout),
            ("options", &self.options),
        ] {
            if let Some(v) = v {
                q.push(format!("{k}={}", encode(v)));
            }
        }
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
