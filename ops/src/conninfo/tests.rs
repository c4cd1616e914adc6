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
    assert!(DatabaseUrl::parse("postgres://u@h/db?gssencmode=prefer&client_encoding=UTF8").is_ok());
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

const HINT: &str =
    "if the password holds /, @, :, ? or #, percent-encode them (%2F, %40, %3A, %3F, %23)";

#[test]
fn a_parse_error_quotes_nothing_before_the_last_at() {
    for (raw, says) in [
        // libpq reads host "u", port "Abc123SECRET": the port is not quoted.
        (
            "postgres://u:Abc123SECRET/tail@h/db",
            format!("the port is not a number from 1 to 65535; {HINT}"),
        ),
        (
            "postgres://u:pa@ss?x@h/db",
            format!("a parameter has no value (write name=value); {HINT}"),
        ),
        (
            "postgres://u:pa@ss?sslmode=Secret1@h/db",
            format!(
                "the sslmode is not one of {}; {HINT}",
                SSL_MODES.join(", ")
            ),
        ),
        (
            "postgres://u:pa@ss?Secret2=1@h/db",
            format!("a parameter is not one the console can honour; it takes sslmode, sslrootcert, sslcert, sslkey, application_name, connect_timeout, options, host, port, user, password and dbname; {HINT}"),
        ),
        (
            "postgres://u:Sec/x?connect_timeout=Secret3@h/db",
            format!("connect_timeout is not a whole number of seconds; {HINT}"),
        ),
        (
            "pass@word://u@h/db",
            "it does not start with postgres:// or postgresql://".to_string(),
        ),
    ] {
        let e = DatabaseUrl::parse(raw)
            .map(|_| ())
            .expect_err(raw)
            .to_string();
        assert_eq!(e, says, "{raw}");
    }
    // Text after the last '@' is still quoted: it cannot be the password.
    let e = DatabaseUrl::parse("postgres://u:p@ss@h:notaport/db")
        .map(|_| ())
        .expect_err("port")
        .to_string();
    assert_eq!(e, "the port \"notaport\" is not a number from 1 to 65535");
}

#[test]
fn a_stray_at_is_refused_and_masked_to_the_last_at() {
    let says = format!("the host or the database name holds an @ (one @ alone ends the user name and password; write an @ in a database name as %40); {HINT}");
    for (raw, masked) in [
        ("postgres://u:pa@ss@h/db", "postgres://u:****@h/db"),
        (
            "postgres://u:Pa55@word@h:5433/db?sslmode=disable",
            "postgres://u:****@h:5433/db?sslmode=disable",
        ),
        ("postgres://u:5432/tail@h/db", "postgres://u:****@h/db"),
        ("postgres://u:pa@ss/x@h/db", "postgres://u:****@h/db"),
    ] {
        let e = DatabaseUrl::parse(raw)
            .map(|_| ())
            .expect_err(raw)
            .to_string();
        assert_eq!(e, says, "{raw}");
        // Every sentence that names the URL masks it by shape, to its last '@'.
        assert_eq!(mask_text(raw), masked, "{raw}");
    }
    // An '@' in a query value is not in the way.
    let u = DatabaseUrl::parse("postgres://u:pw@h/db?application_name=a@b").expect("parses");
    assert_eq!(u.masked(), "postgres://u:****@h/db?application_name=a@b");
}

#[test]
fn typed_urls_never_evict_the_pinned_password() {
    let _ = DatabaseUrl::parse("postgres://holo:PinnedUnitSecret-Z9q4x@h/db")
        .expect("parses")
        .pinned();
    for i in 0..100 {
        let raw = format!("postgres://u:typed{i:03}@h/db");
        let _ = DatabaseUrl::parse(&raw).expect("parses");
    }
    assert_eq!(
        mask_text("FATAL: PinnedUnitSecret-Z9q4x refused"),
        "FATAL: **** refused"
    );
    // The newest typed ones are still masked; the oldest went.
    assert_eq!(mask_text("typed099"), "****");
}

/// The console's libpq variables as a lookup: what `take_libpq_env` keeps.
fn console_env(name: &str) -> Option<String> {
    let v = match name {
        "PGPASSWORD" => "EnvOnlySecret-41",
        "PGHOST" => "env-host.example",
        "PGPORT" => "6543",
        "PGUSER" => "envuser",
        "PGDATABASE" => "envdb",
        "PGSSLMODE" => "verify-full",
        "PGSSLROOTCERT" => "/env/ca.pem",
        "PGSSLCERT" => "/env/client.crt",
        "PGSSLKEY" => "/env/client.key",
        "PGOPTIONS" => "-c search_path=env",
        _ => return None,
    };
    Some(v.to_string())
}

#[test]
fn a_typed_url_takes_nothing_from_the_console_environment() {
    let u = DatabaseUrl::parse("postgres://alice@db.example.com/game").expect("parses");
    assert!(!u.is_configured() && u.host_given());
    assert_eq!(u.password(), None);
    assert_eq!((u.port(), u.ssl_mode()), (5432, None));
    let env = u.child_env(None);
    for (name, value) in [
        ("PGPASSFILE", NO_FILE),
        ("PGSERVICEFILE", NO_FILE),
        ("PGSYSCONFDIR", NO_FILE),
        ("PGSSLCERT", NO_FILE),
        ("PGSSLKEY", NO_FILE),
        ("PGGSSENCMODE", "disable"),
        ("PGSSLMODE", "prefer"),
    ] {
        assert!(
            env.contains(&(name, value.to_string())),
            "{name} in {env:?}"
        );
    }
    assert!(!env.iter().any(|(k, _)| *k == "PGPASSWORD"), "{env:?}");
    // What the URL names, it keeps.
    let u = DatabaseUrl::parse("postgres://a:pw@h/db?sslcert=/c.pem&sslkey=/k.pem").expect("ok");
    let env = u.child_env(None);
    assert!(
        env.contains(&("PGSSLCERT", "/c.pem".to_string())),
        "{env:?}"
    );
    assert!(env.contains(&("PGSSLKEY", "/k.pem".to_string())), "{env:?}");
    // No host: libpq's default, and the URL says so.
    assert!(!DatabaseUrl::parse("postgresql:///postgres")
        .expect("ok")
        .host_given());
    assert!(DatabaseUrl::parse("postgresql:///postgres?host=/tmp")
        .expect("ok")
        .host_given());
}

#[test]
fn the_configured_url_takes_what_it_leaves_out_from_the_console_environment() {
    let u = DatabaseUrl::parse_configured("postgres:///", &console_env).expect("parses");
    assert!(u.is_configured());
    assert_eq!(u.host(), &Host::Tcp("env-host.example".into()));
    assert_eq!(
        (u.port(), u.user(), u.database()),
        (6543, "envuser", "envdb")
    );
    assert_eq!(u.password().as_deref(), Some("EnvOnlySecret-41"));
    assert_eq!(u.ssl_mode().as_deref(), Some("verify-full"));
    let env = u.child_env(None);
    for (name, value) in [
        ("PGPASSWORD", "EnvOnlySecret-41"),
        ("PGSSLROOTCERT", "/env/ca.pem"),
        ("PGSSLCERT", "/env/client.crt"),
        ("PGSSLKEY", "/env/client.key"),
        ("PGOPTIONS", "-c search_path=env"),
    ] {
        assert!(
            env.contains(&(name, value.to_string())),
            "{name} in {env:?}"
        );
    }
    // libpq's own files stay the operator's to use for the console's own URL.
    assert!(!env.iter().any(|(k, _)| *k == "PGPASSFILE"), "{env:?}");
    assert_eq!(
        u.connect_options().get_options(),
        Some("-c search_path=env")
    );
    // The URL's own parts win; its options follow PGOPTIONS, as sqlx sent them.
    let u = DatabaseUrl::parse_configured(
        "postgres://holo:urlpw@h:5432/db?sslmode=disable&options=-c%20statement_timeout%3D5s",
        &console_env,
    )
    .expect("parses");
    assert_eq!(u.password().as_deref(), Some("urlpw"));
    assert_eq!((u.port(), u.user(), u.database()), (5432, "holo", "db"));
    assert_eq!(u.ssl_mode().as_deref(), Some("disable"));
    assert_eq!(
        u.connect_options().get_options(),
        Some("-c search_path=env -c statement_timeout=5s")
    );
    // The canonical form carries what came from the environment, so a URL made from it
    // (a restore's job role) connects the same way.
    let again = DatabaseUrl::parse(&u.canonical()).expect("canonical parses");
    assert_eq!(again.ssl_mode().as_deref(), Some("disable"));
    assert_eq!(
        again
            .child_env(None)
            .iter()
            .find(|(k, _)| *k == "PGSSLROOTCERT"),
        Some(&("PGSSLROOTCERT", "/env/ca.pem".to_string()))
    );
    assert!(
        DatabaseUrl::parse_configured("postgres://h/db", &|n: &str| {
            (n == "PGOPTIONS").then(|| "-x".to_string())
        })
        .is_err()
    );
}
