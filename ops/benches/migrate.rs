//! `make bench`: the engine against psql applying the same generated migrations on the
//! same server, each in one session, and the ratio between them. Not a test: it prints.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ops::migrate::{Migrator, Op, Source};
use ops::testing::TestDb;
use tokio_util::sync::CancellationToken;

const FILES: usize = 60;
const ROUNDS: usize = 5;

fn generate(dir: &Path) {
    std::fs::create_dir_all(dir).expect("bench folder");
    for i in 1..=FILES {
        let up = format!(
            "CREATE TABLE bench_{i} (id bigserial PRIMARY KEY, name text NOT NULL, payload jsonb, created_at timestamptz NOT NULL DEFAULT now());\n\
             CREATE INDEX bench_{i}_name ON bench_{i} (name);\n\
             INSERT INTO bench_{i} (name, payload) SELECT 'row ' || g, jsonb_build_object('n', g) FROM generate_series(1, 500) g;\n\
             ALTER TABLE bench_{i} ADD COLUMN flags int NOT NULL DEFAULT 0;\n"
        );
        std::fs::write(dir.join(format!("{i:06}_bench_{i}.up.sql")), up).expect("write");
        std::fs::write(
            dir.join(format!("{i:06}_bench_{i}.down.sql")),
            format!("DROP TABLE bench_{i};\n"),
        )
        .expect("write");
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A psql script doing golang-migrate's bookkeeping around each file: the same work the
/// contract asks of the engine, so the ratio against it shows what the engine itself adds.
fn contract_script(dir: &Path, source: &Source) -> std::path::PathBuf {
    let mut script = String::from("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null);\n");
    for m in source.iter() {
        let v = m.version;
        let file = dir.join(&m.up.as_ref().expect("up").file_name);
        script.push_str(&format!(
            "BEGIN; TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES ({v}, true); COMMIT;\n\\i {}\nBEGIN; TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES ({v}, false); COMMIT;\n",
            file.display()
        ));
    }
    let path = dir.join("contract.psql");
    std::fs::write(&path, script).expect("write script");
    path
}

fn psql(db: &TestDb, files: &[std::path::PathBuf]) -> Duration {
    let url = url::Url::parse(&db.url).expect("url");
    let mut cmd = Command::new("psql");
    // The password goes through the environment, never the command line.
    cmd.env("PGHOST", url.host_str().unwrap_or("localhost"))
        .env("PGPORT", url.port().unwrap_or(5432).to_string())
        .env("PGUSER", url.username())
        .env("PGPASSWORD", url.password().unwrap_or(""))
        .env("PGDATABASE", &db.name)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
    for f in files {
        cmd.arg("-f").arg(f);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run psql");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("holomush-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    generate(&dir);
    let source = Source::folder(&dir).expect("source");
    let ups: Vec<_> = source
        .iter()
        .map(|m| dir.join(&m.up.as_ref().expect("up").file_name))
        .collect();
    let contract = vec![contract_script(&dir, &source)];

    println!("Applying {FILES} generated migrations ({ROUNDS} rounds, median), each run on a fresh database of the same server:");
    let (mut engine, mut files, mut with_writes) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Rotate who goes first so no one always meets a warm server.
        let mut order = ["engine", "psql", "contract"];
        order.rotate_left(round % 3);
        for which in order {
            let db = TestDb::create().await;
            match which {
                "engine" => {
                    let m = Migrator::new(source.clone(), db.database_url(), "bench");
                    let started = Instant::now();
                    m.run(Op::Up(None), &|_| {}, &CancellationToken::new())
                        .await
                        .expect("engine run");
                    engine.push(started.elapsed());
                }
                "psql" => files.push(psql(&db, &ups)),
                _ => with_writes.push(psql(&db, &contract)),
            }
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (e, p, c) = (
        ms(median(engine)),
        ms(median(files)),
        ms(median(with_writes)),
    );
    println!("  holomush-admin migrate up:                        {e:>8.1} ms");
    println!("  psql -f, the files alone (one session):           {p:>8.1} ms");
    println!("  psql -f, files + golang-migrate's version writes: {c:>8.1} ms");
    println!(
        "  ratio engine / psql, files alone:                 {:>8.2}x  (target <= 1.10x)",
        e / p
    );
    println!(
        "  ratio engine / psql, same version writes:         {:>8.2}x",
        e / c
    );
    let _ = std::fs::remove_dir_all(&dir);
}
