//! What a parsed URL hands out: sqlx's connect options, a child process's libpq
//! environment, and a canonical URL for the programs that read URLs.

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use super::{encode, DatabaseUrl, Host};

impl DatabaseUrl {
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
