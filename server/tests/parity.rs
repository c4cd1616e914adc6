//! One application layer: the same action from the web console (its server functions, as a
//! page posts them) and from the CLI leaves the same audit record — the same action, target
//! and outcome, and for a refusal the same sentence. Only the actor differs (`admin`, `cli`).
//! With the same running server: a link in the backup folder is refused by the web's routes.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{audit_records, text, Web};
use ops::model::{AuditRecord, Outcome};
use ops::testing::TestDb;

/// `serve` on a one-migration folder, signed in, beside the CLI with the same variables.
struct Setup {
    web: Web,
    data: PathBuf,
}

impl Setup {
    fn start(db: &TestDb) -> Self {
        let data = std::env::temp_dir().join(format!("{}-parity", db.name));
        let migrations = data.join("migrations");
        std::fs::create_dir_all(&migrations).expect("migrations folder");
        std::fs::write(
            migrations.join("000001_parity.up.sql"),
            "CREATE TABLE parity_one (id int);\n",
        )
        .expect("up file");
        std::fs::write(
            migrations.join("000001_parity.down.sql"),
            "DROP TABLE parity_one;\n",
        )
        .expect("down file");
        let mut cmd = common::binary(&db.url, &data);
        cmd.arg("serve").env("HOLOMUSH_MIGRATIONS_DIR", &migrations);
        let web = Web::start(cmd, &data, "parity-pw");
        Setup { web, data }
    }

    fn cli(&self, args: &[&str]) -> Output {
        self.web
            .command()
            .args(args)
            .output()
            .expect("holomush-admin")
    }

    /// A server function posted as the page's form (or JSON where the page sends JSON).
    fn web(&self, endpoint: &str, body: &str, json: bool) -> String {
        if !json {
            return self.web.call(endpoint, body);
        }
        self.web.curl(&[
            "-H",
            "Content-Type: application/json",
            "-H",
            "Accept: application/json",
            "--data-binary",
            body,
            &format!("{}/api/{endpoint}", self.web.base),
        ])
    }

    /// Starts a job through the web and waits for its end.
    fn web_job(&self, endpoint: &str, body: &str, json: bool) {
        let id = self.web(endpoint, body, json);
        let id: u64 = id
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{endpoint}: {id}"));
        let t = Instant::now();
        loop {
            let view = self.web("job", &format!("id={id}"), false);
            if !view.contains("\"status\":\"Running\"") {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "job {id} never ended"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn records(&self) -> Vec<AuditRecord> {
        audit_records(&self.data)
    }

    fn backups(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.data.join("backups"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".dump"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// The newest record of `action` by `actor`.
fn last<'a>(records: &'a [AuditRecord], actor: &str, action: &str) -> &'a AuditRecord {
    records
        .iter()
        .rev()
        .find(|r| r.actor == actor && r.action == action)
        .unwrap_or_else(|| panic!("no {action} record by {actor} in {records:#?}"))
}

/// Same action, target and outcome from both sides; `same_detail` for refusals and reports.
fn alike(records: &[AuditRecord], action: &str, same_detail: bool) {
    let web = last(records, "admin", action);
    let cli = last(records, "cli", action);
    assert_eq!(
        (&web.action, &web.target, web.outcome),
        (&cli.action, &cli.target, cli.outcome),
        "{action}: web {web:?} / cli {cli:?}"
    );
    if same_detail {
        assert_eq!(web.detail, cli.detail, "{action}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_leaves_the_same_audit_record_from_the_web_and_the_cli() {
    let db = TestDb::create().await;
    let s = Setup::start(&db);

    // migrate.up (the web applies 000001; the CLI then finds nothing to do).
    s.web_job("migrate", "action=up", false);
    let o = s.cli(&["migrate", "up"]);
    assert!(o.status.success(), "{}", text(&o));
    alike(&s.records(), "migrate.up", false);

    // backup.full, then backup.verify of the same archive from both sides.
    s.web_job("backup_start", "kind=full", false);
    // Archive names count seconds (the seed's holomush_YYYYMMDD_HHMMSS.dump).
    std::thread::sleep(Duration::from_millis(1100));
    let o = s.cli(&["backup", "create"]);
    assert!(o.status.success(), "{}", text(&o));
    let records = s.records();
    alike(&records, "backup.full", false);
    let archives = s.backups();
    assert_eq!(archives.len(), 2, "{archives:?}");
    let first = archives[0].clone();
    s.web_job(
        "backup_verify",
        &format!("file={first}&restore_test=false"),
        false,
    );
    let o = s.cli(&["backup", "verify", &first]);
    assert!(o.status.success(), "{}", text(&o));
    let records = s.records();
    alike(&records, "backup.verify", true);
    assert_eq!(last(&records, "cli", "backup.verify").target, first);

    // backup.delete: a name that is not there is refused with the same sentence...
    s.web("backup_delete", "file=missing.dump", false);
    let o = s.cli(&["backup", "delete", "missing.dump", "--yes"]);
    assert!(!o.status.success());
    let records = s.records();
    alike(&records, "backup.delete", true);
    assert_eq!(
        last(&records, "cli", "backup.delete").outcome,
        Outcome::Failed
    );
    // ...and an archive is deleted the same way.
    s.web("backup_delete", &format!("file={}", archives[0]), false);
    let o = s.cli(&["backup", "delete", &archives[1], "--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    let records = s.records();
    assert_eq!(last(&records, "admin", "backup.delete").target, archives[0]);
    assert_eq!(last(&records, "cli", "backup.delete").target, archives[1]);
    assert_eq!(
        last(&records, "admin", "backup.delete").outcome,
        last(&records, "cli", "backup.delete").outcome
    );
    assert!(s.backups().is_empty());

    // migrate.create into the migrations folder.
    s.web("migration_create", "name=from_web", false);
    let o = s.cli(&["migrate", "create", "from_cli"]);
    assert!(o.status.success(), "{}", text(&o));
    alike(&s.records(), "migrate.create", false);

    // doctor and its one fix.
    // pg_trgm is not installed yet: both fail on that step, in the same words.
    s.web("doctor", r#"{"url":null}"#, true);
    let o = s.cli(&["doctor"]);
    assert!(!o.status.success(), "{}", text(&o));
    let records = s.records();
    alike(&records, "doctor", true);
    assert_eq!(last(&records, "cli", "doctor").detail, "failed: pg_trgm");
    s.web("pg_trgm_enable", "", false);
    let o = s.cli(&["doctor", "--fix", "pg_trgm"]);
    assert!(o.status.success(), "{}", text(&o));
    alike(&s.records(), "doctor.fix_pg_trgm", true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_in_the_backup_folder_is_neither_sent_nor_read() {
    let db = TestDb::create().await;
    let s = Setup::start(&db);
    let backups = s.data.join("backups");
    std::fs::create_dir_all(&backups).expect("backups");
    let secret = s.data.join("outside.txt");
    std::fs::write(&secret, "PGDMP not for download").expect("outside");
    std::os::unix::fs::symlink(&secret, backups.join("evil.dump")).expect("link");

    let body = s.web.curl(&[
        "-w",
        "\n%{http_code}",
        &format!("{}/files/backups/evil.dump", s.web.base),
    ]);
    assert_eq!(
        body,
        format!(
            "evil.dump in {} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).\n400",
            backups.display()
        )
    );
    let contents = s.web("backup_contents", "file=evil.dump", false);
    assert!(
        contents.contains("is a symbolic link: the console reads only regular files of the backup folder (links are not followed)."),
        "{contents}"
    );
    assert!(!contents.contains("not for download"), "{contents}");
}

/// The rest of the buttons: each migrate action, bootstrap, repair, restore into a new
/// database, and an upload (the CLI's `backup import`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_actions_leave_the_same_audit_record_from_the_web_and_the_cli() {
    let db = TestDb::create().await;
    let s = Setup::start(&db);
    let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
    let name = &db.name;
    let confirm = format!("confirm={name}");

    // migrate.down, migrate.goto and migrate.force (the page types the database's name).
    s.web_job("migrate", "action=up", false);
    s.web_job("migrate", &format!("action=down&{confirm}"), false);
    assert!(s.cli(&["migrate", "up"]).status.success());
    let o = s.cli(&["migrate", "down"]);
    assert!(o.status.success(), "{}", text(&o));
    alike(&s.records(), "migrate.down", false);
    s.web_job(
        "migrate",
        &format!("action=goto&version=1&{confirm}"),
        false,
    );
    assert!(s.cli(&["migrate", "down"]).status.success());
    let o = s.cli(&["migrate", "goto", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    alike(&s.records(), "migrate.goto", false);
    s.web_job(
        "migrate",
        &format!("action=force&version=1&{confirm}"),
        false,
    );
    let o = s.cli(&["migrate", "force", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    alike(&s.records(), "migrate.force", false);

    // migrate.repair: dirty at 1 with its table there, forced clean from each side.
    let dirty = "UPDATE schema_migrations SET dirty = true";
    sqlx::query(dirty).execute(&pool).await.expect("dirty");
    s.web_job("repair_start", "choice=force%3A1&confirm=1", false);
    sqlx::query(dirty).execute(&pool).await.expect("dirty");
    let o = s.cli(&["migrate", "repair", "--apply", "1", "--no-safety-backup"]);
    assert!(o.status.success(), "{}", text(&o));
    let records = s.records();
    alike(&records, "migrate.repair", true);
    assert_eq!(last(&records, "cli", "migrate.repair").outcome, Outcome::Ok);
    let (version, is_dirty): (i64, bool) =
        sqlx::query_as("SELECT version, dirty FROM schema_migrations")
            .fetch_one(&pool)
            .await
            .expect("version");
    assert_eq!((version, is_dirty), (1, false));

    // migrate.bootstrap: the seed's objects are not here, so both are refused in the same words.
    let bootstrapped = s.web("migration_bootstrap", &confirm, false);
    let o = s.cli(&["migrate", "bootstrap"]);
    assert!(!o.status.success(), "{}", text(&o));
    let records = s.records();
    alike(&records, "migrate.bootstrap", true);
    let refusal = &last(&records, "cli", "migrate.bootstrap").detail;
    assert!(
        bootstrapped.contains(refusal.as_str()),
        "{bootstrapped} / {refusal}"
    );

    // restore.new: the same archive into the same new name (dropped between the two).
    let o = s.cli(&["backup", "create"]);
    assert!(o.status.success(), "{}", text(&o));
    let archive = s.backups().pop().expect("an archive");
    let into = format!("{name}_r");
    s.web_job(
        "backup_restore",
        &format!("file={archive}&into={into}"),
        false,
    );
    let drop = format!("DROP DATABASE \"{into}\"");
    sqlx::query(&drop).execute(&pool).await.expect("drop");
    let o = s.cli(&["restore", &archive, "--into", &into]);
    assert!(o.status.success(), "{}", text(&o));
    let records = s.records();
    alike(&records, "restore.new", true);
    assert_eq!(
        last(&records, "cli", "restore.new").target,
        format!("{archive} into {into}")
    );
    sqlx::query(&drop).execute(&pool).await.expect("drop");

    // backup.upload: the page's upload and `backup import` of the same file, kept under its
    // name; then a file that is not an archive, refused by both in the same words.
    let elsewhere = s.data.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");
    let copy = elsewhere.join("from_elsewhere.dump");
    std::fs::copy(s.data.join("backups").join(&archive), &copy).expect("copy");
    let upload = |path: &std::path::Path| {
        s.web.curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            "-F",
            &format!("archive=@{}", path.display()),
            &format!("{}/files/backups", s.web.base),
        ])
    };
    let sent = upload(&copy);
    assert!(sent.contains("uploaded="), "{sent}");
    let o = s.cli(&["backup", "delete", "from_elsewhere.dump", "--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = s.cli(&["backup", "import", &copy.display().to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).starts_with("Uploaded from_elsewhere.dump ("),
        "{}",
        text(&o)
    );
    alike(&s.records(), "backup.upload", true);
    assert!(s.backups().contains(&"from_elsewhere.dump".to_string()));

    let not_archive = elsewhere.join("notes.dump");
    std::fs::write(&not_archive, "these are notes, not an archive").expect("notes");
    let sent = upload(&not_archive);
    assert!(sent.contains("upload_error="), "{sent}");
    let o = s.cli(&["backup", "import", &not_archive.display().to_string()]);
    assert_eq!(
        text(&o).trim(),
        "error: That file is not a pg_dump custom-format archive (it does not start with PGDMP): upload a file made with pg_dump -Fc."
    );
    let records = s.records();
    alike(&records, "backup.upload", true);
    assert_eq!(
        last(&records, "cli", "backup.upload").outcome,
        Outcome::Failed
    );
    assert!(!s.backups().contains(&"notes.dump".to_string()));

    // The dotted names: `--action backup` finds every kind of backup record, and only those.
    let o = s.cli(&["activity", "--action", "backup", "--limit", "500"]);
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    for action in ["backup.full", "backup.upload", "backup.delete"] {
        assert!(
            listed.contains(&format!(" {action} ")),
            "{action}: {listed}"
        );
    }
    assert!(listed.lines().all(|l| l.contains(" backup.")), "{listed}");
    pool.close().await;
}
