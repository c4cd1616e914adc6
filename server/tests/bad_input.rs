//! Bad input, counted: one table of wrong things a person can give the console — through
//! the CLI (the real binary), the pages' server functions and the file routes (a real
//! running server) — each answered with one exact sentence, and none changing anything:
//! after every row the backup folder (names, bytes, manifests), the server's databases
//! and the managed database's tables and migration version are as they were.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{text, Web};
use ops::testing::TestDb;
use sha2::Digest;
use sqlx::Connection;

/// What a row gives the console.
enum Input {
    /// The binary with these arguments, a line on stdin, and environment overrides.
    Cli {
        args: Vec<String>,
        stdin: Option<String>,
        env: Vec<(&'static str, String)>,
    },
    /// A server function posted as the page's form (or JSON); a job it starts is followed
    /// to its end and its result is the answer.
    Page {
        endpoint: &'static str,
        body: String,
    },
    /// A GET of a file route: the answer is the body, after the status code.
    Get { path: String },
    /// The upload form: a file under a name (or no file at all); the answer is the sentence
    /// the page is sent back with.
    Upload {
        name: String,
        bytes: Option<Vec<u8>>,
    },
}

struct Case {
    what: &'static str,
    input: Input,
    expect: String,
}

fn cli(args: &[&str]) -> Input {
    Input::Cli {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: None,
        env: Vec::new(),
    }
}

fn cli_typed(args: &[&str], answer: &str) -> Input {
    Input::Cli {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: Some(format!("{answer}\n")),
        env: Vec::new(),
    }
}

fn cli_env(args: &[&str], var: &'static str, value: &str) -> Input {
    Input::Cli {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: None,
        env: vec![(var, value.to_string())],
    }
}

fn page(endpoint: &'static str, body: &str) -> Input {
    Input::Page {
        endpoint,
        body: body.to_string(),
    }
}

fn get(path: &str) -> Input {
    Input::Get {
        path: path.to_string(),
    }
}

fn upload(name: &str, bytes: &[u8]) -> Input {
    Input::Upload {
        name: name.to_string(),
        bytes: Some(bytes.to_vec()),
    }
}

struct Setup {
    db: TestDb,
    data: PathBuf,
    backups: PathBuf,
    web: Web,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.web.kill();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

impl Setup {
    fn start(db: TestDb) -> Self {
        let data = std::env::temp_dir().join(format!("{}-bad-input", db.name));
        let mut serve = common::binary(&db.url, &data);
        serve.arg("serve");
        let web = Web::start(serve, &data, "bad-input-pw");
        Setup {
            db,
            backups: data.join("backups"),
            data,
            web,
        }
    }

    /// The CLI with the server's variables, `env` over them.
    fn run(&self, args: &[String], stdin: Option<&str>, env: &[(&str, String)]) -> Output {
        let mut cmd = self.web.command();
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("holomush-admin");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.unwrap_or("").as_bytes());
        }
        child.wait_with_output().expect("holomush-admin")
    }

    /// The sentence a server function answered: its error, or the result of the job it
    /// started.
    fn page(&self, endpoint: &str, body: &str) -> String {
        let answer = self.web.call(endpoint, body);
        if let Ok(id) = answer.trim().parse::<u64>() {
            let t = Instant::now();
            loop {
                let view: serde_json::Value =
                    serde_json::from_str(&self.web.call("job", &format!("id={id}"))).expect("job");
                if view["status"] != "Running" {
                    return format!(
                        "job {}: {}",
                        view["status"].as_str().unwrap_or_default(),
                        view["result"].as_str().unwrap_or_default()
                    );
                }
                assert!(
                    t.elapsed() < Duration::from_secs(60),
                    "job {id} never ended"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        serde_json::from_str::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or(answer)
    }

    fn get(&self, path: &str) -> String {
        let body = self
            .web
            .curl(&["-w", "\n%{http_code}", &format!("{}{path}", self.web.base)]);
        match body.rsplit_once('\n') {
            Some((text, code)) => format!("{code} {text}"),
            None => body,
        }
    }

    fn upload(&self, name: &str, bytes: Option<&[u8]>) -> String {
        let file = self.data.join("upload.bin");
        let field = match bytes {
            Some(b) => {
                std::fs::write(&file, b).expect("upload file");
                // curl keeps the name as given in the filename parameter.
                format!("file=@{};filename=\"{name}\"", file.display())
            }
            None => "note=nothing".to_string(),
        };
        let to = self.web.curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            "-F",
            &field,
            &format!("{}/files/backups", self.web.base),
        ]);
        let _ = std::fs::remove_file(&file);
        url::Url::parse(&to)
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "upload_error" || k == "uploaded")
                    .map(|(k, v)| format!("{k}: {v}"))
            })
            .unwrap_or(to)
    }

    fn answer(&self, input: &Input) -> String {
        match input {
            Input::Cli { args, stdin, env } => {
                let o = self.run(args, stdin.as_deref(), env);
                let all = text(&o);
                // The one sentence: after the last line's `error: ` (a job prints its log
                // above it; a prompt, unanswered, stands before it on its line).
                let line = all
                    .lines()
                    .rev()
                    .find_map(|l| l.split_once("error: ").map(|(_, e)| e))
                    .unwrap_or(&all)
                    .to_string();
                format!("exit {}: {line}", o.status.code().unwrap_or(-1))
            }
            Input::Page { endpoint, body } => self.page(endpoint, body),
            Input::Get { path } => self.get(path),
            Input::Upload { name, bytes } => self.upload(name, bytes.as_deref()),
        }
    }

    /// What must not change: the backup folder (every name, its bytes or link target), the
    /// databases of this test on the server, and the managed database's tables and version.
    async fn snapshot(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.backups)
            .expect("backups")
            .flatten()
            .map(|e| {
                let p = e.path();
                let what = match std::fs::read_link(&p) {
                    Ok(to) => format!("link to {}", to.display()),
                    Err(_) => {
                        hex::encode(sha2::Sha256::digest(std::fs::read(&p).unwrap_or_default()))
                    }
                };
                format!("{} {what}", e.file_name().to_string_lossy())
            })
            .collect();
        out.sort();
        let mut c = sqlx::PgConnection::connect(&self.db.url)
            .await
            .expect("connect");
        let databases: Vec<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_database WHERE datname LIKE $1 OR datname LIKE '%restor%' ORDER BY 1",
        )
        .bind(format!("{}%", self.db.name))
        .fetch_all(&mut c)
        .await
        .expect("databases");
        out.push(format!("databases {databases:?}"));
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables
              WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
        )
        .fetch_all(&mut c)
        .await
        .expect("tables");
        out.push(format!("tables {tables:?}"));
        let version: (i64, bool) = sqlx::query_as("SELECT version, dirty FROM schema_migrations")
            .fetch_one(&mut c)
            .await
            .expect("version");
        out.push(format!("version {version:?}"));
        c.close().await.ok();
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_one_sentence_and_changes_nothing() {
    let db = TestDb::create().await;
    let name = db.name.clone();
    let url = db.url.clone();
    let s = Setup::start(db);
    let o = s.run(&["migrate".into(), "up".into()], None, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = s.run(
        &["backup".into(), "create".into(), "--json".into()],
        None,
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let manifest: ops::model::Manifest = serde_json::from_slice(&o.stdout).expect("manifest");
    let good = manifest.file.clone();
    let bytes = std::fs::read(s.backups.join(&good)).expect("archive");
    // copied.dump: the same bytes copied in by hand, no manifest: not the console's own.
    std::fs::write(s.backups.join("copied.dump"), &bytes).expect("copied");
    // tampered.dump: a console manifest, but one byte changed since.
    let mut changed = bytes.clone();
    let last = changed.len() - 1;
    changed[last] ^= 0xff;
    std::fs::write(s.backups.join("tampered.dump"), &changed).expect("tampered");
    let mut m = manifest.clone();
    m.file = "tampered.dump".to_string();
    // Tagged under the console's key, as its own manifest of that name would be.
    let seal = ops::seal::Seal::load_or_create(&s.data).expect("the console's key");
    m.tag = ops::backup::trust::seal_manifest(&seal, &m);
    ops::backup::archive::write_manifest(&s.backups.join("tampered.dump"), &m).expect("manifest");
    // evil.dump: a link out of the folder.
    let outside = s.data.join("outside.txt");
    std::fs::write(&outside, "PGDMP secret").expect("outside");
    std::os::unix::fs::symlink(&outside, s.backups.join("evil.dump")).expect("link");
    let found = hex::encode(sha2::Sha256::digest(&changed));
    let tampered = format!(
        "tampered.dump is not the archive its manifest describes: its sha256 is {} but the manifest recorded {} when it was written: the file changed since, so it is not used. Use another archive; nothing was changed.",
        &found[..12],
        &manifest.sha256[..12]
    );
    let dir = s.backups.display().to_string();
    let t = format!("{name}_t");
    let bad_name = |n: &str| {
        format!("\"{n}\" is not an archive name: use letters, digits, '.', '_' and '-' (not first), at most 200 bytes, ending in .dump, e.g. holomush_20260101_120000.dump.")
    };
    let bad_db = |n: &str| {
        format!("\"{n}\" is not a usable database name: use lowercase letters, digits and _ (at most 63), starting with a letter, e.g. holomush_restored.")
    };
    let foreign = |target: &str| {
        format!("copied.dump was not made by this console's backups and restoring it runs the SQL it holds: type the target database name \"{target}\" to confirm. Nothing was changed.")
    };
    let long = format!("{}.dump", "a".repeat(200));
    let parsed = ops::config::DatabaseUrl::parse(&url).expect("url");
    let masked = parsed.masked().to_string();
    let server = format!("{}:{}", parsed.host().as_libpq(), parsed.port());

    let cases = vec![
        // The CLI.
        Case { what: "a path out of the folder", input: cli(&["backup", "verify", "../etc/passwd.dump"]), expect: "exit 3: There is no archive at ../etc/passwd.dump: check the name with `holomush-admin backup list`.".into() }, // not found: 3
        Case { what: "a name starting with -", input: cli(&["backup", "verify", "--", "-x.dump"]), expect: format!("exit 2: {}", bad_name("-x.dump")) },
        Case { what: "a name with a quote", input: cli(&["backup", "verify", "a\"b.dump"]), expect: format!("exit 2: {}", bad_name("a\\\"b.dump")) },
        Case { what: "a name with a space", input: cli(&["backup", "delete", "a b.dump", "--yes"]), expect: format!("exit 2: {}", bad_name("a b.dump")) },
        Case { what: "a name over 200 bytes", input: cli(&["backup", "verify", &long]), expect: format!("exit 2: {}", bad_name(&format!("{}…", "a".repeat(80)))) },
        Case { what: "a name that is not .dump", input: cli(&["backup", "verify", "notes.sql"]), expect: format!("exit 2: {}", bad_name("notes.sql")) },
        Case { what: "an archive that is not there", input: cli(&["backup", "verify", "missing.dump"]), expect: format!("exit 3: There is no archive named missing.dump in {dir}: check the name with `holomush-admin backup list`.") }, // not found: 3
        Case { what: "a link in the folder, verified", input: cli(&["backup", "verify", "evil.dump"]), expect: format!("exit 2: evil.dump in {dir} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).") },
        Case { what: "a link in the folder, deleted", input: cli(&["backup", "delete", "evil.dump", "--yes"]), expect: format!("exit 2: evil.dump in {dir} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).") },
        Case { what: "a link in the folder, restored", input: cli(&["restore", "evil.dump", "--into", &t]), expect: format!("exit 2: evil.dump in {dir} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).") },
        Case { what: "delete with the wrong name typed", input: cli_typed(&["backup", "delete", &good], "wrong"), expect: format!("exit 2: Not deleted. Type \"{good}\" exactly, or pass --yes.") },
        Case { what: "a database name with capitals and a space", input: cli(&["restore", &good, "--into", "Bad Name"]), expect: format!("exit 2: {}", bad_db("Bad Name")) },
        Case { what: "a database name with a quote", input: cli(&["restore", &good, "--into", "x\"y"]), expect: format!("exit 2: {}", bad_db("x\\\"y")) },
        Case { what: "a database that exists", input: cli(&["restore", &good, "--into", &name]), expect: format!("exit 2: Database \"{name}\" already exists: choose a new name (nothing was changed).") },
        Case { what: "restore in place, wrong name typed", input: cli_typed(&["restore", &good, "--in-place"], "wrong"), expect: format!("exit 2: Not confirmed: nothing was changed. Type \"{name}\" exactly, or pass --yes.") },
        Case { what: "a foreign archive with --yes only", input: cli(&["restore", "copied.dump", "--into", &t, "--yes"]), expect: format!("exit 2: --yes is not enough for an archive this console did not make: add --confirm-name {t} to restore copied.dump. Nothing was changed.") },
        Case { what: "a foreign archive, another name confirmed", input: cli(&["restore", "copied.dump", "--into", &t, "--confirm-name", "other"]), expect: format!("exit 2: {}", foreign(&t)) },
        Case { what: "a foreign archive, wrong name typed", input: cli_typed(&["restore", "copied.dump", "--into", &t], "nope"), expect: format!("exit 2: Not confirmed: nothing was changed. Type \"{t}\" exactly, or pass --confirm-name {t}.") },
        Case { what: "a foreign archive in place, wrong name typed", input: cli_typed(&["restore", "copied.dump", "--in-place"], "nope"), expect: format!("exit 2: Not confirmed: nothing was changed. Type \"{name}\" exactly, or pass --confirm-name {name}.") },
        Case { what: "an archive whose sha256 changed, restored", input: cli(&["restore", "tampered.dump", "--into", &t]), expect: format!("exit 2: {tampered}") },
        Case { what: "a target URL that is not postgres", input: cli(&["restore", &good, "--into", &t, "--target-url", "mysql://u:pw@h/db"]), expect: "exit 2: The target server URL cannot be used: the scheme is \"mysql\", not postgres:// or postgresql://; give the new server's postgres:// URL (nothing was created).".into() },
        Case { what: "a target URL on stdin that is not a URL", input: cli_typed(&["restore", &good, "--into", &t, "--target-url", "-"], "not a url"), expect: "exit 2: The target server URL cannot be used: it does not parse as a URL: it does not start with postgres:// or postgresql://; give the new server's postgres:// URL (nothing was created).".into() },
        Case { what: "parallel jobs that are not a number", input: cli(&["restore", &good, "--into", &t, "--jobs", "many"]), expect: "exit 2: invalid value 'many' for '--jobs <JOBS>': invalid digit found in string".into() },
        Case { what: "a version that is not a number", input: cli(&["migrate", "goto", "abc"]), expect: "exit 2: invalid value 'abc' for '<VERSION>': invalid digit found in string".into() },
        Case { what: "a version there is no migration for", input: cli(&["migrate", "goto", "99999"]), expect: "exit 1: no migration found for version 99999: read down for version 99999 .: file does not exist".into() },
        Case { what: "roll back all, wrong name typed", input: cli_typed(&["migrate", "down", "--all"], "wrong"), expect: format!("exit 2: Not confirmed: nothing was changed. Type \"{name}\" exactly, or pass --yes.") },
        Case { what: "a backup kind that does not exist", input: cli(&["backup", "create", "--kind", "weird"]), expect: "exit 2: invalid value 'weird' for '--kind <KIND>'".into() },
        Case { what: "a DATABASE_URL that is not postgres", input: cli_env(&["info"], "DATABASE_URL", "mysql://u:pw@h/db"), expect: "exit 2: DATABASE_URL=\"mysql://u:****@h/db\" is not valid: the scheme is \"mysql\", not postgres:// or postgresql://; expected a PostgreSQL URL such as postgres://holomush:secret@localhost:5432/holomush?sslmode=require.".into() },
        Case { what: "a DATABASE_URL with a bad port", input: cli_env(&["info"], "DATABASE_URL", "postgres://u:pw@h:99999/db"), expect: "exit 2: DATABASE_URL=\"postgres://u:****@h:99999/db\" is not valid: the port \"99999\" is not a number from 1 to 65535; expected a PostgreSQL URL such as postgres://holomush:secret@localhost:5432/holomush?sslmode=require.".into() },
        Case { what: "a pool size that is not a number", input: cli_env(&["info"], "DB_MAX_CONNS", "lots"), expect: "exit 2: DB_MAX_CONNS=\"lots\" is not valid: it is not a whole number; expected a whole number from 1 to 10000 (default 25).".into() },
        Case { what: "a pool minimum above its maximum", input: cli_env(&["info"], "DB_MIN_CONNS", "50"), expect: "exit 2: DB_MIN_CONNS=50 is larger than DB_MAX_CONNS=25: set DB_MIN_CONNS to at most DB_MAX_CONNS.".into() },
        Case { what: "a pool lifetime that is not a duration", input: cli_env(&["info"], "DB_MAX_LIFETIME", "soon"), expect: "exit 2: DB_MAX_LIFETIME=\"soon\" is not valid: it is not a duration (expected number at 0); expected a duration such as 1h, 30m, 90s or 1h30m (default 1h).".into() },
        Case { what: "a database that does not exist", input: cli_env(&["migrate", "up"], "DATABASE_URL", &format!("{}_nowhere", url)), expect: format!("exit 1: Database \"{name}_nowhere\" does not exist on {server}: create it with `createdb {name}_nowhere` or fix the name in DATABASE_URL.") },
        // The pages' server functions.
        Case { what: "page: a name with ../", input: page("backup_verify", "file=..%2F..%2Fetc%2Fpasswd.dump&restore_test=false"), expect: bad_name("../../etc/passwd.dump") },
        Case { what: "page: a name starting with -", input: page("backup_verify", "file=-x.dump&restore_test=false"), expect: bad_name("-x.dump") },
        Case { what: "page: a name with a quote", input: page("backup_contents", "file=a%22b.dump"), expect: bad_name("a\\\"b.dump") },
        Case { what: "page: a name with NUL", input: page("backup_contents", "file=a%00b.dump"), expect: bad_name("a\\0b.dump") },
        Case { what: "page: a link in the folder", input: page("backup_verify", "file=evil.dump&restore_test=true"), expect: format!("evil.dump in {dir} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).") },
        Case { what: "page: contents of nothing", input: page("backup_contents", "file=missing.dump"), expect: format!("There is no archive named missing.dump in {dir}: check the name with `holomush-admin backup list`.") },
        Case { what: "page: delete with the wrong name typed", input: page("backup_delete", &format!("file={good}&confirm=wrong")), expect: format!("Not deleted: type the archive's name ({good}) to confirm.") },
        Case { what: "page: delete a name with ../", input: page("backup_delete", "file=..%2Fx.dump&confirm=..%2Fx.dump"), expect: bad_name("../x.dump") },
        Case { what: "page: a bad database name", input: page("backup_restore", &format!("file={good}&into=Bad%20Name")), expect: bad_db("Bad Name") },
        Case { what: "page: a database name with SQL in it", input: page("backup_restore", &format!("file={good}&into=x%22%3B%20DROP%20DATABASE%20postgres%3B%20--")), expect: bad_db("x\\\"; DROP DATABASE postgres; --") },
        Case { what: "page: a database that exists", input: page("backup_restore", &format!("file={good}&into={name}")), expect: format!("job Failed: Database \"{name}\" already exists: choose a new name (nothing was changed).") },
        Case { what: "page: a foreign archive without the name typed", input: page("backup_restore", &format!("file=copied.dump&into={t}")), expect: foreign(&t) },
        Case { what: "page: a foreign archive, another name typed", input: page("backup_restore", &format!("file=copied.dump&into={t}&confirm_into=other")), expect: foreign(&t) },
        Case { what: "page: restore in place, wrong name typed", input: page("backup_restore_in_place", &format!("file={good}&confirm=wrong")), expect: format!("Not confirmed: type the database name \"{name}\" to restore {good} over {masked}. Nothing was changed.") },
        Case { what: "page: an archive whose sha256 changed", input: page("backup_restore", &format!("file=tampered.dump&into={t}")), expect: format!("job Failed: {tampered}") },
        Case { what: "page: a target URL that is not postgres", input: page("backup_restore_to_server", &format!("file={good}&into={t}&target_url=mysql%3A%2F%2Fu%3Apw%40h%2Fdb")), expect: "The target server URL cannot be used: the scheme is \"mysql\", not postgres:// or postgresql://; give the new server's postgres:// URL (nothing was created).".into() },
        Case { what: "page: parallel jobs that are not a number", input: page("backup_restore", &format!("file={good}&into={t}&jobs=many")), expect: "The form sent a value the console cannot read (invalid digit found in string): use the page's own fields and try again; nothing was changed.".into() },
        Case { what: "page: a backup kind that does not exist", input: page("backup_start", "kind=weird"), expect: "The form sent a value the console cannot read (unknown variant `weird`, expected one of `full`, `schema`, `data`): use the page's own fields and try again; nothing was changed.".into() },
        Case { what: "page: a version that is not a number", input: page("migrate", "action=goto&version=abc"), expect: "Type the version to go to (a number from the list), then press Go to version.".into() },
        // The file routes.
        Case { what: "download: a name with ../", input: get("/files/backups/..%2F..%2Fetc%2Fpasswd.dump"), expect: format!("400 {}", bad_name("../../etc/passwd.dump")) },
        Case { what: "download: a name starting with -", input: get("/files/backups/-x.dump"), expect: format!("400 {}", bad_name("-x.dump")) },
        Case { what: "download: a name with a quote", input: get("/files/backups/a%22b.dump"), expect: format!("400 {}", bad_name("a\\\"b.dump")) },
        Case { what: "download: nothing of that name", input: get("/files/backups/missing.dump"), expect: format!("404 There is no archive named missing.dump in {dir}: check the name with `holomush-admin backup list`.") },
        Case { what: "download: a link in the folder", input: get("/files/backups/evil.dump"), expect: format!("400 evil.dump in {dir} is a symbolic link: the console reads only regular files of the backup folder (links are not followed).") },
        Case { what: "upload: not an archive", input: upload("notes.dump", b"SELECT 1;\n"), expect: "upload_error: That file is not a pg_dump custom-format archive (it does not start with PGDMP): upload a file made with pg_dump -Fc.".into() },
        Case { what: "upload: an empty file", input: upload("empty.dump", b""), expect: "upload_error: That file is not a pg_dump custom-format archive (it does not start with PGDMP): upload a file made with pg_dump -Fc.".into() },
        Case { what: "upload: a truncated archive", input: upload("cut.dump", &bytes[..bytes.len() / 2]), expect: "upload_error: That file is a pg_dump archive but not a complete one (its table of contents or a data block does not read, e.g. it was cut short): upload the whole file. Nothing was kept.".into() },
        Case { what: "upload: a name with ../", input: upload("../up.dump", &bytes), expect: format!("upload_error: {}", bad_name("../up.dump")) },
        Case { what: "upload: a name starting with -", input: upload("-up.dump", &bytes), expect: format!("upload_error: {}", bad_name("-up.dump")) },
        Case { what: "upload: a name that is not .dump", input: upload("up.sql", &bytes), expect: format!("upload_error: {}", bad_name("up.sql")) },
        Case { what: "upload: over an archive of the same name", input: upload(&good, &bytes), expect: format!("upload_error: {dir}/{good} already exists: nothing was overwritten.") },
        Case { what: "upload: over a link of the same name", input: upload("evil.dump", &bytes), expect: format!("upload_error: {dir}/evil.dump already exists: nothing was overwritten.") },
        Case { what: "upload: no file at all", input: Input::Upload { name: String::new(), bytes: None }, expect: "upload_error: No file was sent: choose a .dump file first.".into() },
    ];

    let before = s.snapshot().await;
    let mut wrong = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let got = s.answer(&case.input);
        if got != case.expect {
            wrong.push(format!(
                "row {} ({}):\n  expected {:?}\n  got      {:?}",
                i + 1,
                case.what,
                case.expect,
                got
            ));
        }
        let after = s.snapshot().await;
        assert_eq!(
            before,
            after,
            "row {} ({}) changed something",
            i + 1,
            case.what
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The restore panel, as the server renders it: an archive the console did not make shows
    // the warning and asks for the new database's name again; the console's own does not.
    let panel = s.get("/backups?restore=copied.dump");
    assert!(panel.starts_with("200 "), "{panel}");
    assert!(
        panel.contains("copied.dump was not made by this console's backups (it was uploaded or copied in): restoring it runs the SQL it holds, so restore only an archive you trust."),
        "{panel}"
    );
    assert!(panel.contains("name=\"confirm_into\""), "{panel}");
    let own = s.get(&format!("/backups?restore={good}"));
    assert!(
        own.starts_with("200 ") && own.contains("data-testid=\"restore\""),
        "{own}"
    );
    assert!(!own.contains("confirm_into"), "{own}");
    assert!(cases.len() >= 40, "{} rows", cases.len());
    println!(
        "bad_input: {} bad inputs, each one sentence, nothing changed",
        cases.len()
    );
}
