//! The effective configuration for the Settings page: every variable with its value
//! and where it came from, DATABASE_URL taken apart, the live pool, and warnings.

use std::time::Duration;

use sqlx::PgPool;

use super::target::{effective_ssl_mode, is_loopback, parts, ssl_mode_may_be_plain};
use crate::config::Config;
use crate::model::{PoolView, SettingEntry, SettingSource, SettingsView};

/// What replaces the password in the `.env` lines.
pub const PASSWORD_PLACEHOLDER: &str = "CHANGE_ME";

const SHOW_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn view(config: &Config, pool: &PgPool) -> SettingsView {
    let server_max_connections = server_max_connections(pool).await;
    let server_major = server_major(pool).await;
    let size = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    SettingsView {
        // A command-line flag counts as its variable, as when the flag was passed by setting it.
        settings: entries(config, |k| {
            config.overrides.get(k).or_else(|| std::env::var(k).ok())
        }),
        url: parts(&config.database_url),
        pool: PoolView {
            size,
            idle,
            in_use: size.saturating_sub(idle),
            max: config.max_conns,
            min: config.min_conns,
        },
        server_max_connections,
        warnings: warnings(config, server_max_connections),
        env_lines: env_lines(config),
        tools: crate::diagnose::doctor::tool_checks(server_major).await,
        server_major,
    }
}

/// The server's major version, or None when it does not answer soon.
async fn server_major(pool: &PgPool) -> Option<u32> {
    let q = sqlx::query_scalar::<_, String>("SHOW server_version_num").fetch_one(pool);
    let n: u32 = tokio::time::timeout(SHOW_TIMEOUT, q)
        .await
        .ok()?
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(n / 10_000)
}

/// `SHOW max_connections`, or None when the server does not answer soon.
async fn server_max_connections(pool: &PgPool) -> Option<u32> {
    let q = sqlx::query_scalar::<_, String>("SHOW max_connections").fetch_one(pool);
    tokio::time::timeout(SHOW_TIMEOUT, q)
        .await
        .ok()?
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Every variable with its effective value; `lookup` tells which are set (an empty
/// value counts as unset, as in [`Config::from_lookup`]).
pub fn entries(config: &Config, lookup: impl Fn(&str) -> Option<String>) -> Vec<SettingEntry> {
    let retention = &config.retention;
    let values: Vec<(&str, String)> = vec![
        ("DATABASE_URL", config.database_url.masked().to_string()),
        ("DB_MAX_CONNS", config.max_conns.to_string()),
        ("DB_MIN_CONNS", config.min_conns.to_string()),
        (
            "DB_MAX_LIFETIME",
            humantime::format_duration(config.max_lifetime).to_string(),
        ),
        ("HOLOMUSH_DB_AUTO_MIGRATE", config.auto_migrate.to_string()),
        ("HOLOMUSH_ADMIN_ADDR", config.admin_addr.to_string()),
        (
            "HOLOMUSH_ADMIN_PASSWORD",
            if config.admin_password.is_some() {
                "set (hidden)".to_string()
            } else {
                "not set: a one-time token is printed at start-up".to_string()
            },
        ),
        ("HOLOMUSH_ADMIN_DATA", config.data_dir.display().to_string()),
        (
            "HOLOMUSH_BACKUP_DIR",
            config.backup_dir.display().to_string(),
        ),
        (
            "HOLOMUSH_MIGRATIONS_DIR",
            config
                .migrations_dir
                .as_ref()
                .map_or("embedded".to_string(), |d| d.display().to_string()),
        ),
        (
            "HOLOMUSH_UPLOAD_LIMIT_MB",
            (config.upload_limit_bytes / (1024 * 1024)).to_string(),
        ),
        (
            "HOLOMUSH_BACKUP_KEEP",
            retention
                .keep_last
                .map_or("keep all".to_string(), |n| n.to_string()),
        ),
        (
            "HOLOMUSH_BACKUP_MAX_AGE",
            retention.max_age.map_or("keep all".to_string(), |d| {
                humantime::format_duration(d).to_string()
            }),
        ),
        (
            "HOLOMUSH_BACKUP_SCHEDULE",
            config
                .backup_schedule
                .map_or("no scheduled backups".to_string(), |d| {
                    format!("every {}", humantime::format_duration(d))
                }),
        ),
        (
            "HOLOMUSH_PG_BIN",
            lookup("HOLOMUSH_PG_BIN")
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| {
                    "unset: the client tools found (toolchain, /usr/lib/postgresql, PATH): pg_dump of the server's own major when installed, else the newest; the newest pg_restore and psql"
                        .to_string()
                }),
        ),
    ];
    values
        .into_iter()
        .map(|(name, value)| SettingEntry {
            name: name.to_string(),
            value,
            source: if lookup(name).is_some_and(|v| !v.trim().is_empty()) {
                SettingSource::Environment
            } else {
                SettingSource::Default
            },
        })
        .collect()
}

/// The settings that work but may hurt, one sentence each.
pub fn warnings(config: &Config, server_max_connections: Option<u32>) -> Vec<String> {
    let mut out = Vec::new();
    let url = &config.database_url;
    let host = url.connect_options().get_host().to_string();
    let mode = effective_ssl_mode(url);
    let socket = url.connect_options().get_socket().is_some();
    if !socket && !is_loopback(&host) && ssl_mode_may_be_plain(&mode) {
        let asked = match url.ssl_mode() {
            Some(m) => format!("sslmode={m}"),
            None => "no sslmode (so prefer)".to_string(),
        };
        out.push(format!(
            "DATABASE_URL reaches {host} with {asked}: the connection may travel unencrypted. Set sslmode=require (or verify-full) for a server on another machine."
        ));
    }
    if let Some(max) = server_max_connections {
        // Compared in integers: min/max ≥ 80% without rounding surprises.
        if max > 0 && u64::from(config.min_conns) * 100 >= u64::from(max) * 80 {
            out.push(format!(
                "DB_MIN_CONNS={} keeps at least 80% of the server's max_connections={max} open: other clients (and HoloMUSH itself) may run out of slots. Lower DB_MIN_CONNS.",
                config.min_conns
            ));
        }
    }
    if config.max_lifetime < Duration::from_secs(60) {
        out.push(format!(
            "DB_MAX_LIFETIME={} is under a minute: connections are replaced so often that reconnecting costs more than it saves. Use 30m or 1h.",
            humantime::format_duration(config.max_lifetime)
        ));
    }
    if config.min_conns > config.max_conns {
        out.push(format!(
            "DB_MIN_CONNS={} is larger than DB_MAX_CONNS={}: set DB_MIN_CONNS to at most DB_MAX_CONNS.",
            config.min_conns, config.max_conns
        ));
    }
    out
}

/// The `.env` lines that reproduce this configuration, the password replaced by
/// [`PASSWORD_PLACEHOLDER`]; unset optional variables appear commented out.
pub fn env_lines(config: &Config) -> String {
    let url = config.database_url.with_password_as(PASSWORD_PLACEHOLDER);
    let retention = &config.retention;
    let mut lines = vec![
        format!("DATABASE_URL={}", quote(&url)),
        format!("DB_MAX_CONNS={}", config.max_conns),
        format!("DB_MIN_CONNS={}", config.min_conns),
        format!(
            "DB_MAX_LIFETIME={}",
            humantime::format_duration(config.max_lifetime)
                .to_string()
                .replace(' ', "")
        ),
        format!("HOLOMUSH_DB_AUTO_MIGRATE={}", config.auto_migrate),
        format!("HOLOMUSH_ADMIN_ADDR={}", config.admin_addr),
    ];
    lines.push(match config.admin_password {
        Some(_) => format!("HOLOMUSH_ADMIN_PASSWORD={PASSWORD_PLACEHOLDER}"),
        None => format!("# HOLOMUSH_ADMIN_PASSWORD={PASSWORD_PLACEHOLDER}"),
    });
    lines.push(format!(
        "HOLOMUSH_ADMIN_DATA={}",
        quote(&config.data_dir.display().to_string())
    ));
    lines.push(format!(
        "HOLOMUSH_BACKUP_DIR={}",
        quote(&config.backup_dir.display().to_string())
    ));
    lines.push(match &config.migrations_dir {
        Some(d) => format!(
            "HOLOMUSH_MIGRATIONS_DIR={}",
            quote(&d.display().to_string())
        ),
        None => {
            "# HOLOMUSH_MIGRATIONS_DIR=./migrations  (unset: the embedded migrations)".to_string()
        }
    });
    lines.push(format!(
        "HOLOMUSH_UPLOAD_LIMIT_MB={}",
        config.upload_limit_bytes / (1024 * 1024)
    ));
    lines.push(match retention.keep_last {
        Some(n) => format!("HOLOMUSH_BACKUP_KEEP={n}"),
        None => "# HOLOMUSH_BACKUP_KEEP=14  (unset: keep all)".to_string(),
    });
    lines.push(match retention.max_age {
        Some(d) => format!(
            "HOLOMUSH_BACKUP_MAX_AGE={}",
            humantime::format_duration(d).to_string().replace(' ', "")
        ),
        None => "# HOLOMUSH_BACKUP_MAX_AGE=30d  (unset: keep all)".to_string(),
    });
    lines.push(match config.backup_schedule {
        Some(d) => format!(
            "HOLOMUSH_BACKUP_SCHEDULE={}",
            humantime::format_duration(d).to_string().replace(' ', "")
        ),
        None => "# HOLOMUSH_BACKUP_SCHEDULE=24h  (unset: no scheduled backups)".to_string(),
    });
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Double-quotes a value when a shell or dotenv reader would otherwise split or expand it.
fn quote(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:@?=&%+,".contains(c))
    {
        value.to_string()
    } else {
        format!(
            "\"{}\"",
            value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('$', "\\$")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned()).expect("valid configuration")
    }

    fn has(ws: &[String], text: &str) -> bool {
        ws.iter().any(|w| w.contains(text))
    }

    #[test]
    fn sslmode_warns_only_towards_another_machine() {
        let remote = config(&[("DATABASE_URL", "postgres://u:pw@db.example.com/app")]);
        let w = warnings(&remote, None);
        assert!(has(&w, "no sslmode (so prefer)"), "{w:?}");
        for mode in ["disable", "allow", "prefer"] {
            let c = config(&[(
                "DATABASE_URL",
                &format!("postgres://u:pw@10.1.2.3/app?sslmode={mode}"),
            )]);
            assert!(
                has(&warnings(&c, None), &format!("sslmode={mode}")),
                "{mode}"
            );
        }
        let c = config(&[(
            "DATABASE_URL",
            "postgres://u:pw@db.example.com/app?sslmode=require",
        )]);
        assert!(warnings(&c, None).is_empty());
        let c = config(&[(
            "DATABASE_URL",
            "postgres://u:pw@localhost/app?sslmode=disable",
        )]);
        assert!(warnings(&c, None).is_empty());
        let c = config(&[
            ("DATABASE_URL", "postgres://u:pw@127.0.0.1/app"),
            ("HOLOMUSH_DB_AUTO_MIGRATE", "true"),
        ]);
        assert!(warnings(&c, None).is_empty(), "auto-migrate is no warning");
    }

    #[test]
    fn pool_rules() {
        let url = ("DATABASE_URL", "postgres://u:pw@localhost/app");
        let c = config(&[url, ("DB_MIN_CONNS", "80"), ("DB_MAX_CONNS", "90")]);
        assert!(has(
            &warnings(&c, Some(100)),
            "80% of the server's max_connections=100"
        ));
        assert!(warnings(&c, Some(101)).is_empty());
        assert!(
            warnings(&c, None).is_empty(),
            "an unreachable server is silent"
        );
        let c = config(&[url, ("DB_MAX_LIFETIME", "30s")]);
        assert!(has(
            &warnings(&c, None),
            "DB_MAX_LIFETIME=30s is under a minute"
        ));
        let c = config(&[url, ("DB_MAX_LIFETIME", "1m")]);
        assert!(warnings(&c, None).is_empty());
        let mut c = config(&[url]);
        c.min_conns = 30;
        assert!(has(
            &warnings(&c, None),
            "DB_MIN_CONNS=30 is larger than DB_MAX_CONNS=25"
        ));
    }

    #[test]
    fn entries_say_where_values_come_from() {
        let vars = [
            ("DATABASE_URL", "postgres://u:hunter2@localhost/app"),
            ("DB_MAX_CONNS", "10"),
            ("HOLOMUSH_ADMIN_PASSWORD", "topsecret"),
        ];
        let c = config(&vars);
        let lookup = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        let e = entries(&c, lookup);
        let get = |name: &str| e.iter().find(|s| s.name == name).expect("listed");
        assert_eq!(get("DATABASE_URL").value, "postgres://u:****@localhost/app");
        assert_eq!(get("DB_MAX_CONNS").source, SettingSource::Environment);
        assert_eq!(get("DB_MIN_CONNS").source, SettingSource::Default);
        assert_eq!(get("DB_MAX_LIFETIME").value, "1h");
        assert_eq!(get("HOLOMUSH_MIGRATIONS_DIR").value, "embedded");
        let all = format!("{e:?}");
        assert!(
            !all.contains("hunter2") && !all.contains("topsecret"),
            "{all}"
        );
    }

    #[test]
    fn env_lines_replace_the_password() {
        let c = config(&[
            (
                "DATABASE_URL",
                "postgres://holomush:hunter2@db.example.com:5432/holomush?sslmode=require",
            ),
            ("DB_MAX_LIFETIME", "1h30m"),
            ("HOLOMUSH_MIGRATIONS_DIR", "db/migrations"),
            ("HOLOMUSH_ADMIN_PASSWORD", "topsecret"),
        ]);
        let text = env_lines(&c);
        assert!(
            !text.contains("hunter2") && !text.contains("topsecret"),
            "{text}"
        );
        assert!(text.starts_with(
            "DATABASE_URL=postgres://holomush:CHANGE_ME@db.example.com:5432/holomush?sslmode=require\n"
        ), "{text}");
        assert!(text.contains("\nDB_MAX_LIFETIME=1h30m\n"), "{text}");
        assert!(
            text.contains("\nHOLOMUSH_MIGRATIONS_DIR=db/migrations\n"),
            "{text}"
        );
        assert!(
            text.contains("\nHOLOMUSH_ADMIN_PASSWORD=CHANGE_ME\n"),
            "{text}"
        );
        assert!(text.contains("\n# HOLOMUSH_BACKUP_KEEP="), "{text}");
        let c = config(&[(
            "DATABASE_URL",
            "postgres://u@localhost/app?password=hunter2&sslmode=disable",
        )]);
        let text = env_lines(&c);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("password=CHANGE_ME"), "{text}");
        assert_eq!(quote("/srv/my backups"), "\"/srv/my backups\"");
    }
}
