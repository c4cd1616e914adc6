use super::*;

fn url(raw: &str) -> DatabaseUrl {
    DatabaseUrl::parse(raw).expect("a valid URL")
}

fn rules(managed: &str, allowed: &str) -> TypedUrlRules {
    TypedUrlRules::new(
        Some(&url(managed)),
        TargetHosts::parse(allowed).expect("a valid list"),
    )
}

async fn said(rules: &TypedUrlRules, raw: &str) -> Option<String> {
    rules
        .check(&url(raw), "The target server URL")
        .await
        .err()
        .map(|e| e.to_string())
}

#[test]
fn the_list_reads_hosts_ports_addresses_and_socket_folders() {
    let t = TargetHosts::parse(
        " 127.0.0.1:5433, localhost ,[::1]:6000,::1,/var/run/postgresql/, DB.Example.com:5432,,",
    )
    .expect("valid");
    assert_eq!(
        t.describe(),
        "127.0.0.1:5433,localhost,[::1]:6000,::1,/var/run/postgresql,db.example.com:5432"
    );
    assert!(t.allows_host("127.0.0.1", 5433));
    assert!(!t.allows_host("127.0.0.1", 5432));
    assert!(t.allows_host("LOCALHOST", 1));
    assert!(t.allows_host("::1", 7));
    assert!(t.allows_host("[::1]", 6000));
    assert!(t.allows_host("db.example.com", 5432));
    assert!(t.allows_socket(Path::new("/var/run/postgresql")));
    assert!(!t.allows_socket(Path::new("/tmp")));
    assert!(TargetHosts::parse("").expect("empty").is_empty());
}

#[test]
fn a_list_entry_that_is_not_a_host_is_refused_with_a_sentence() {
    for (value, says) in [
        ("127.0.0.1:0", "\"127.0.0.1:0\" has a port that is not a number from 1 to 65535"),
        ("localhost:x", "\"localhost:x\" has a port that is not a number from 1 to 65535"),
        ("[::1", "\"[::1\" has no closing ]"),
        ("[nope]:1", "\"[nope]:1\" is not an IPv6 address in brackets"),
        ("[::1]x", "\"[::1]x\" has text after the ]"),
        ("tmp/pg", "\"tmp/pg\" is not a host, a host:port pair or a socket folder (a folder starts with /)"),
        ("a b", "\"a b\" is not a host"),
    ] {
        let e = TargetHosts::parse(value).expect_err(value).to_string();
        assert!(
            e.starts_with(&format!("HOLOMUSH_ADMIN_TARGET_HOSTS=\"{value}\" is not valid: {says}")),
            "{e}"
        );
    }
}

#[test]
fn numeric_forms_of_loopback_are_this_machine() {
    for h in [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "0.0.0.0",
        "0",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "localhost",
        "db.localhost",
        "LocalHost",
    ] {
        assert!(names_this_machine(h), "{h}");
    }
    for h in [
        "10.0.0.1",
        "db.example.com",
        "1.2.3.4.5",
        "128.0.0.1",
        "::2",
    ] {
        assert!(!names_this_machine(h), "{h}");
    }
}

#[tokio::test]
async fn a_typed_url_must_name_a_host() {
    let r = rules(
        "postgres://u@127.0.0.1:5432/db",
        "/var/run/postgresql,127.0.0.1",
    );
    for raw in [
        "postgresql:///postgres",
        "postgres://u:pw@/db",
        "postgres://u:pw@:5432/db",
    ] {
        assert_eq!(
            said(&r, raw).await.as_deref(),
            Some("The target server URL names no host: give the server's host name or address, as in postgres://user:password@db.example.com:5432/postgres (with none, libpq would use this machine's Unix socket as the console's own operating-system user)"),
            "{raw}"
        );
    }
}

#[tokio::test]
async fn this_machine_needs_the_setting_but_the_managed_server_does_not() {
    let r = rules("postgres://u@127.0.0.1:5432/db", "");
    // The managed server, under any loopback name.
    for raw in [
        "postgres://u:pw@127.0.0.1:5432/other",
        "postgres://u:pw@localhost/other",
        "postgres://u:pw@[::1]:5432/other",
        "postgres://u:pw@db.example.com:5433/postgres",
        "postgres://u:pw@10.1.2.3/postgres",
    ] {
        assert_eq!(said(&r, raw).await, None, "{raw}");
    }
    assert_eq!(
        said(&r, "postgres://u:pw@127.0.0.1:5433/postgres").await.as_deref(),
        Some("The target server URL points at this machine (127.0.0.1:5433), which a typed URL may reach only when HOLOMUSH_ADMIN_TARGET_HOSTS lists it (e.g. HOLOMUSH_ADMIN_TARGET_HOSTS=127.0.0.1:5433)")
    );
    assert_eq!(
        said(&r, "postgres://u:pw@[::1]:6000/postgres").await.as_deref(),
        Some("The target server URL points at this machine ([::1]:6000), which a typed URL may reach only when HOLOMUSH_ADMIN_TARGET_HOSTS lists it (e.g. HOLOMUSH_ADMIN_TARGET_HOSTS=[::1]:6000)")
    );
    for raw in [
        "postgres://u:pw@127.1:5433/postgres",
        "postgres://u:pw@0.0.0.0:5433/postgres",
        "postgres://u:pw@localhost:5433/postgres",
    ] {
        assert!(
            said(&r, raw)
                .await
                .is_some_and(|s| s.contains("points at this machine")),
            "{raw}"
        );
    }
    assert_eq!(
        said(&r, "postgresql:///postgres?host=/var/run/postgresql").await.as_deref(),
        Some("The target server URL points at the Unix socket in /var/run/postgresql, which a typed URL may reach only when HOLOMUSH_ADMIN_TARGET_HOSTS lists that folder (e.g. HOLOMUSH_ADMIN_TARGET_HOSTS=/var/run/postgresql)")
    );

    let r = rules(
        "postgres://u@127.0.0.1:5432/db",
        "127.0.0.1:5433,/var/run/postgresql",
    );
    assert_eq!(
        said(&r, "postgres://u:pw@127.0.0.1:5433/postgres").await,
        None
    );
    assert!(said(&r, "postgres://u:pw@127.0.0.1:5434/postgres")
        .await
        .is_some());
    assert_eq!(
        said(&r, "postgres://%2Fvar%2Frun%2Fpostgresql/postgres").await,
        None
    );

    // A managed server on a socket: that socket and port only.
    let r = rules("postgresql:///db?host=/run/pg&port=5432", "");
    assert_eq!(said(&r, "postgresql://u@%2Frun%2Fpg:5432/x").await, None);
    assert!(said(&r, "postgresql://u@%2Frun%2Fpg:5433/x")
        .await
        .is_some());
}

#[tokio::test]
async fn a_name_that_resolves_to_this_machine_is_this_machine() {
    // localhost.localdomain style names resolve through /etc/hosts; `localhost` itself is
    // caught by name, so check a name only the resolver knows when this machine has one.
    let Ok(mut addrs) = tokio::net::lookup_host(("ip6-localhost", 5433)).await else {
        return;
    };
    if !addrs.any(|a| a.ip().is_loopback()) {
        return;
    }
    let r = rules("postgres://u@127.0.0.1:5432/db", "");
    let s = said(&r, "postgres://u:pw@ip6-localhost:5433/postgres")
        .await
        .expect("refused");
    assert!(s.contains("(ip6-localhost:5433, which resolves to "), "{s}");
}

#[test]
fn the_rules_read_the_setting_and_the_managed_server_from_the_environment() {
    let r = TypedUrlRules::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://u:pw@localhost:6543/db".to_string()),
        TARGET_HOSTS_VAR => Some("/tmp".to_string()),
        _ => None,
    })
    .expect("valid");
    assert!(r.is_managed_tcp("127.0.0.1", 6543, true));
    assert!(r.allowed.allows_socket(Path::new("/tmp/")));
    let e =
        TypedUrlRules::from_lookup(|name| (name == TARGET_HOSTS_VAR).then(|| "tmp/pg".to_string()))
            .expect_err("invalid");
    assert!(e
        .to_string()
        .starts_with("HOLOMUSH_ADMIN_TARGET_HOSTS=\"tmp/pg\" is not valid"));
}
