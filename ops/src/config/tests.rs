use super::*;
use std::collections::HashMap;

const URL: &str = "postgres://holomush:hunter2@localhost:5432/holomush?sslmode=disable";

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

fn error(vars: &[(&str, &str)]) -> String {
    match config(vars) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_the_seeds() {
    let c = config(&[("DATABASE_URL", URL)]).expect("valid");
    assert_eq!(c.max_conns, 25);
    assert_eq!(c.min_conns, 5);
    assert_eq!(c.max_lifetime, Duration::from_secs(3600));
    assert!(c.auto_migrate);
    assert_eq!(c.admin_addr.to_string(), "127.0.0.1:3000");
    assert!(c.admin_password.is_none());
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.backup_dir, PathBuf::from("./backups"));
    assert!(c.migrations_dir.is_none());
    assert_eq!(c.upload_limit_bytes, 4096 * 1024 * 1024);
    assert_eq!(c.database_url.database(), "holomush");
    assert!(!c.retention.is_active());
    assert!(c.backup_schedule.is_none());
    let s = config(&[("DATABASE_URL", URL), ("HOLOMUSH_BACKUP_SCHEDULE", "24h")])
        .expect("valid")
        .backup_schedule;
    assert_eq!(s, Some(Duration::from_secs(86_400)));
    assert!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_BACKUP_SCHEDULE", "10s")])
            .starts_with("HOLOMUSH_BACKUP_SCHEDULE=\"10s\" is not valid")
    );
    let r = config(&[
        ("DATABASE_URL", URL),
        ("HOLOMUSH_BACKUP_KEEP", "7"),
        ("HOLOMUSH_BACKUP_MAX_AGE", "30d"),
    ])
    .expect("valid")
    .retention;
    assert_eq!(
        (r.keep_last, r.max_age),
        (Some(7), Some(Duration::from_secs(30 * 86400)))
    );
    assert!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_BACKUP_KEEP", "0")])
            .starts_with("HOLOMUSH_BACKUP_KEEP=\"0\" is not valid")
    );
    assert!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_BACKUP_MAX_AGE", "soon")])
            .starts_with("HOLOMUSH_BACKUP_MAX_AGE=\"soon\" is not valid")
    );
    let e = error(&[("DATABASE_URL", URL), ("HOLOMUSH_UPLOAD_LIMIT_MB", "lots")]);
    assert!(
        e.starts_with("HOLOMUSH_UPLOAD_LIMIT_MB=\"lots\" is not valid"),
        "{e}"
    );
}

#[test]
fn every_variable_is_read() {
    let c = config(&[
        ("DATABASE_URL", URL),
        ("DB_MAX_CONNS", "10"),
        ("DB_MIN_CONNS", "2"),
        ("DB_MAX_LIFETIME", "1h30m"),
        ("HOLOMUSH_DB_AUTO_MIGRATE", "false"),
        ("HOLOMUSH_ADMIN_ADDR", "0.0.0.0:8080"),
        ("HOLOMUSH_ADMIN_PASSWORD", "pw"),
        ("HOLOMUSH_ADMIN_DATA", "/var/lib/console"),
        ("HOLOMUSH_BACKUP_DIR", "/srv/backups"),
        ("HOLOMUSH_MIGRATIONS_DIR", "db/migrations"),
    ])
    .expect("valid");
    assert_eq!((c.max_conns, c.min_conns), (10, 2));
    assert_eq!(c.max_lifetime, Duration::from_secs(5400));
    assert!(!c.auto_migrate);
    assert_eq!(c.admin_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(c.admin_password.as_ref().map(Secret::expose), Some("pw"));
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/console"));
    assert_eq!(c.backup_dir, PathBuf::from("/srv/backups"));
    assert_eq!(c.migrations_dir, Some(PathBuf::from("db/migrations")));
}

#[test]
fn the_migrations_flag_wins_over_the_variable() {
    let env = [
        ("DATABASE_URL", URL),
        ("HOLOMUSH_MIGRATIONS_DIR", "from/env"),
    ];
    let flag = |dir: &str| Overrides {
        migrations_dir: Some(PathBuf::from(dir)),
    };
    let c = config(&env)
        .expect("valid")
        .with_overrides(&flag("from/flag"));
    assert_eq!(c.migrations_dir, Some(PathBuf::from("from/flag")));
    assert_eq!(
        c.overrides.get("HOLOMUSH_MIGRATIONS_DIR").as_deref(),
        Some("from/flag")
    );
    // An empty flag is an empty variable: the embedded set.
    let c = config(&env).expect("valid").with_overrides(&flag(" "));
    assert_eq!(c.migrations_dir, None);
    let c = config(&env)
        .expect("valid")
        .with_overrides(&Overrides::default());
    assert_eq!(c.migrations_dir, Some(PathBuf::from("from/env")));
    assert_eq!(c.overrides.get("HOLOMUSH_MIGRATIONS_DIR"), None);
    // `migrate create` reads the same way without DATABASE_URL.
    let local = LocalConfig::from_lookup(|k| {
        (k == "HOLOMUSH_MIGRATIONS_DIR").then(|| "from/env".to_string())
    });
    assert_eq!(
        local.with_overrides(&flag("from/flag")).migrations_dir,
        Some(PathBuf::from("from/flag"))
    );
}

#[test]
fn proxy_public_url_and_idle_timeout() {
    let c = config(&[("DATABASE_URL", URL)]).expect("valid");
    assert!(c.trusted_proxies.is_empty());
    assert!(c.public_url.is_none());
    assert_eq!(c.idle_timeout, Duration::from_secs(1800));
    let c = config(&[
        ("DATABASE_URL", URL),
        (
            "HOLOMUSH_ADMIN_TRUSTED_PROXIES",
            "127.0.0.1, 10.0.0.0/8,::1",
        ),
        ("HOLOMUSH_ADMIN_PUBLIC_URL", "https://Console.Example.org/"),
        ("HOLOMUSH_ADMIN_IDLE_TIMEOUT", "2h"),
    ])
    .expect("valid");
    let nets: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
    assert_eq!(nets, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
    let public = c.public_url.expect("a public URL");
    assert_eq!(public.origin(), "https://console.example.org");
    assert!(public.https);
    assert_eq!(c.idle_timeout, Duration::from_secs(7200));
    let with_port = config(&[
        ("DATABASE_URL", URL),
        ("HOLOMUSH_ADMIN_PUBLIC_URL", "http://admin.lan:8080"),
    ])
    .expect("valid");
    assert_eq!(
        with_port.public_url.map(|p| p.origin()),
        Some("http://admin.lan:8080".to_string())
    );
    assert_eq!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_ADMIN_TRUSTED_PROXIES", "127.0.0.1,proxy")]),
        "HOLOMUSH_ADMIN_TRUSTED_PROXIES=\"127.0.0.1,proxy\" is not valid: \"proxy\" is not an IP address or network; expected addresses or networks separated by commas, such as 127.0.0.1,10.0.0.0/8 (unset: no proxy is trusted)."
    );
    assert_eq!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_ADMIN_PUBLIC_URL", "https://console.example.org/admin")]),
        "HOLOMUSH_ADMIN_PUBLIC_URL=\"https://console.example.org/admin\" is not valid: it has a path, query or fragment (the console is served at /); expected the address people open, such as https://console.example.org (unset: only the listen address)."
    );
    assert_eq!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_ADMIN_PUBLIC_URL", "console.example.org")]),
        "HOLOMUSH_ADMIN_PUBLIC_URL=\"console.example.org\" is not valid: it is not a URL; expected the address people open, such as https://console.example.org (unset: only the listen address)."
    );
    assert_eq!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_ADMIN_IDLE_TIMEOUT", "5s")]),
        "HOLOMUSH_ADMIN_IDLE_TIMEOUT=\"5s\" is not valid: it is not a duration from 1m to 12h; expected a duration such as 30m or 2h (default 30m)."
    );
}

#[test]
fn missing_url_shows_the_seed_example() {
    let e = error(&[]);
    assert_eq!(
        e,
        "DATABASE_URL is not set: set it to a PostgreSQL connection URL, for example \
         DATABASE_URL=\"postgres://holomush:secret@localhost:5432/holomush?sslmode=require\"."
    );
}

#[test]
fn bad_counts_name_variable_value_and_form() {
    for (var, value, problem) in [
        ("DB_MAX_CONNS", "abc", "it is not a whole number"),
        ("DB_MAX_CONNS", "0", "it is below 1"),
        ("DB_MAX_CONNS", "-1", "it is below 1"),
        ("DB_MIN_CONNS", "-1", "it is below 0"),
        ("DB_MIN_CONNS", "x", "it is not a whole number"),
    ] {
        let e = error(&[("DATABASE_URL", URL), (var, value)]);
        assert!(
            e.starts_with(&format!(
                "{var}=\"{value}\" is not valid: {problem}; expected a whole number"
            )),
            "{e}"
        );
    }
}

#[test]
fn min_above_max_is_refused() {
    let e = error(&[
        ("DATABASE_URL", URL),
        ("DB_MAX_CONNS", "4"),
        ("DB_MIN_CONNS", "9"),
    ]);
    assert_eq!(
        e,
        "DB_MIN_CONNS=9 is larger than DB_MAX_CONNS=4: set DB_MIN_CONNS to at most DB_MAX_CONNS."
    );
    // Lowering only the maximum keeps the default minimum within it.
    let c = config(&[("DATABASE_URL", URL), ("DB_MAX_CONNS", "3")]).expect("valid");
    assert_eq!((c.max_conns, c.min_conns), (3, 3));
}

#[test]
fn bad_lifetime_names_the_form() {
    let e = error(&[("DATABASE_URL", URL), ("DB_MAX_LIFETIME", "1x")]);
    assert!(
        e.starts_with("DB_MAX_LIFETIME=\"1x\" is not valid: it is not a duration"),
        "{e}"
    );
    assert!(
        e.ends_with("expected a duration such as 1h, 30m, 90s or 1h30m (default 1h)."),
        "{e}"
    );
    let e = error(&[("DATABASE_URL", URL), ("DB_MAX_LIFETIME", "0s")]);
    assert!(e.contains("it is zero"), "{e}");
}

#[test]
fn bad_url_is_named_with_password_masked() {
    let e = error(&[(
        "DATABASE_URL",
        "mysql://holomush:hunter2@localhost/holomush",
    )]);
    assert_eq!(
        e,
        "DATABASE_URL=\"mysql://holomush:****@localhost/holomush\" is not valid: the scheme is \"mysql\", \
         not postgres:// or postgresql://; expected a PostgreSQL URL such as \
         postgres://holomush:secret@localhost:5432/holomush?sslmode=require."
    );
    let e = error(&[(
        "DATABASE_URL",
        "postgres://holomush:hunter2@localhost:notaport/holomush",
    )]);
    assert!(e.starts_with("DATABASE_URL=\"postgres://holomush:****@localhost:notaport/holomush\" is not valid: the port \"notaport\" is not a number"), "{e}");
    assert!(!e.contains("hunter2"));
    let e = error(&[("DATABASE_URL", "not a url")]);
    assert!(
        e.starts_with("DATABASE_URL=\"not a url\" is not valid: it does not parse as a URL"),
        "{e}"
    );
    let e = error(&[(
        "DATABASE_URL",
        "postgres://u:hunter2@h/db?sslmode=sometimes",
    )]);
    assert!(
        e.contains("DATABASE_URL=\"postgres://u:****@h/db?sslmode=sometimes\""),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn bad_bool_and_addr() {
    let e = error(&[("DATABASE_URL", URL), ("HOLOMUSH_DB_AUTO_MIGRATE", "maybe")]);
    assert!(
        e.starts_with("HOLOMUSH_DB_AUTO_MIGRATE=\"maybe\" is not valid"),
        "{e}"
    );
    let e = error(&[("DATABASE_URL", URL), ("HOLOMUSH_ADMIN_ADDR", "localhost")]);
    assert!(
        e.starts_with("HOLOMUSH_ADMIN_ADDR=\"localhost\" is not valid"),
        "{e}"
    );
}

#[test]
fn urls_never_print_their_password() {
    let u = DatabaseUrl::parse(URL).expect("valid");
    assert_eq!(
        u.to_string(),
        "postgres://holomush:****@localhost:5432/holomush?sslmode=disable"
    );
    assert!(!format!("{u:?}").contains("hunter2"));
    assert_eq!(
        mask_url("host=x password=abc user=y"),
        "host=x password=**** user=y"
    );
    assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(
        DatabaseUrl::parse("postgres://alice@h")
            .expect("valid")
            .database(),
        "alice"
    );
}

#[test]
fn the_console_libpq_variables_reach_its_own_url_and_the_allow_list_is_read() {
    let c = config(&[
        (
            "DATABASE_URL",
            "postgres://holomush@localhost:5432/holomush",
        ),
        ("PGPASSWORD", "FromPgPassword-77"),
        ("PGSSLMODE", "require"),
        (
            "HOLOMUSH_ADMIN_TARGET_HOSTS",
            "127.0.0.1:5433, /var/run/postgresql",
        ),
    ])
    .expect("valid");
    assert_eq!(
        c.database_url.password().as_deref(),
        Some("FromPgPassword-77")
    );
    assert_eq!(c.database_url.ssl_mode().as_deref(), Some("require"));
    assert!(c.database_url.is_configured());
    assert_eq!(
        c.target_hosts.describe(),
        "127.0.0.1:5433,/var/run/postgresql"
    );
    // Unset: nothing of this machine beyond the managed server.
    let c = config(&[("DATABASE_URL", URL)]).expect("valid");
    assert!(c.target_hosts.is_empty());
    assert_eq!(
        error(&[("DATABASE_URL", URL), ("HOLOMUSH_ADMIN_TARGET_HOSTS", "db:99999")]),
        "HOLOMUSH_ADMIN_TARGET_HOSTS=\"db:99999\" is not valid: \"db:99999\" has a port that is not a number from 1 to 65535; expected hosts, host:port pairs or socket folders separated by commas, such as 127.0.0.1:5433,/var/run/postgresql (unset: a typed URL reaches no socket and no address of this machine but the managed server's)."
    );
}
