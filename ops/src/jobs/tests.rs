use super::*;

fn view(id: u64, status: JobStatus) -> JobView {
    JobView {
        id,
        kind: JobKind::BackupFull,
        actor: "admin".to_string(),
        target: "postgres://holomush@db/holomush".to_string(),
        started_at: Utc::now(),
        status,
        lines: vec![JobLine {
            at_ms: 1,
            text: "Dumping holomush".to_string(),
        }],
        left_out: 0,
        result: None,
        error_kind: None,
        failure: None,
        progress: None,
        output: None,
    }
}

#[test]
fn a_job_whose_server_died_shows_as_failed_after_the_restart() {
    let dir = std::env::temp_dir().join(format!(
        "holomush-jobs-{}",
        crate::auth::random_token().get(..10).unwrap_or("x")
    ));
    let records = dir.join("jobs");
    std::fs::create_dir_all(&records).expect("dir");
    let audit = Arc::new(AuditLog::open(&dir).expect("audit"));
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let dead = child.id();
    child.wait().expect("wait");
    let died = Record {
        job: view(7, JobStatus::Running),
        owner: Owner {
            pid: dead,
            start: 1,
        },
    };
    write_record(&records.join("00000007.json"), &died).expect("write");
    // A job of a process still alive (another console on this folder) is left alone.
    let live = Record {
        job: view(5, JobStatus::Running),
        owner: Owner::me(),
    };
    write_record(&records.join("00000005.json"), &live).expect("write");

    let jobs = Jobs::recorded(audit, records.clone());
    let v = jobs.get(7).expect("loaded").view();
    assert_eq!(v.status, JobStatus::Failed);
    assert_eq!(v.result.as_deref(), Some(DIED));
    assert_eq!(v.error_kind, Some(ErrorKind::Failed));
    assert_eq!(v.lines.len(), 1, "the log it had is kept");
    assert_eq!(
        jobs.get(5).expect("loaded").view().status,
        JobStatus::Running
    );
    let audit_log = std::fs::read_to_string(dir.join("audit.log")).expect("audit log");
    assert!(audit_log.contains("The console stopped"), "{audit_log}");
    let on_disk = std::fs::read_to_string(records.join("00000007.json")).expect("record");
    assert!(on_disk.contains("Failed"), "the record itself is settled");
    assert_eq!(jobs.recent().first().map(|j| j.id), Some(7));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_panicking_job_ends_failed_with_its_audit_record_and_frees_the_database() {
    let dir = std::env::temp_dir().join(format!(
        "holomush-jobs-{}",
        crate::auth::random_token().get(..10).unwrap_or("x")
    ));
    let audit = Arc::new(AuditLog::open(&dir).expect("audit"));
    let jobs = Jobs::recorded(audit, dir.join("jobs"));
    let job = jobs
        .start(JobKind::BackupFull, "admin", "db", |job| async move {
            job.log("Dumping");
            let parts: Vec<u32> = Vec::new();
            // An index past the end: the kind of bug that must not leave a job running.
            Ok(format!("{}", parts[3]))
        })
        .await
        .expect("starts");
    let view = job.follow(|_| {}).await;
    assert_eq!(view.status, JobStatus::Failed);
    assert_eq!(view.error_kind, Some(ErrorKind::Failed));
    let result = view.result.unwrap_or_default();
    assert!(
        result.starts_with("The job stopped on an internal error (index out of bounds"),
        "{result}"
    );
    assert!(result.ends_with("nothing after that point ran. Check the job log, then try again."));
    let audit_log = std::fs::read_to_string(dir.join("audit.log")).expect("audit log");
    assert!(
        audit_log.contains("\"action\":\"backup.full\"")
            && audit_log.contains("The job stopped on an internal error"),
        "{audit_log}"
    );
    let on_disk = std::fs::read_to_string(dir.join("jobs").join(format!("{:08}.json", job.id)))
        .expect("record");
    assert!(on_disk.contains("\"Failed\""), "{on_disk}");
    let next = jobs
        .start(JobKind::BackupSchema, "admin", "db", |_| async {
            Ok("done".to_string())
        })
        .await
        .expect("the database is free again");
    assert_eq!(next.follow(|_| {}).await.status, JobStatus::Succeeded);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_job_that_logs_10000_lines_keeps_1000_and_one_line_saying_how_many_were_left_out() {
    let dir = std::env::temp_dir().join(format!(
        "holomush-jobs-{}",
        crate::auth::random_token().get(..10).unwrap_or("x")
    ));
    let audit = Arc::new(AuditLog::open(&dir).expect("audit"));
    let jobs = Jobs::recorded(audit.clone(), dir.join("jobs"));
    let job = jobs
        .start(JobKind::BackupFull, "admin", "db", |job| async move {
            for n in 0..10_000 {
                job.log(format!("line {n}"));
                if n % 1000 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            Ok("done".to_string())
        })
        .await
        .expect("starts");
    let mut followed = Vec::new();
    let view = job.follow(|l| followed.push(l.text.clone())).await;
    let left_out =
        "… 9000 lines left out here (a job keeps its first 200 and its last 800 lines) …";
    assert_eq!(view.lines.len(), 1001);
    assert_eq!(view.left_out, 9000);
    assert_eq!(view.lines_logged(), 10_000);
    assert_eq!(view.lines[199].text, "line 199");
    assert_eq!(view.lines[200].text, left_out);
    assert_eq!(view.lines[201].text, "line 9200");
    assert_eq!(view.lines[1000].text, "line 9999");
    // The follower read each kept line once, and a summary for what it missed.
    assert_eq!(followed.last().map(String::as_str), Some("line 9999"));
    assert!(followed.len() <= 10_000, "{}", followed.len());
    // The record on disk holds the same bounded log, and so does the job after a restart.
    let on_disk = std::fs::read_to_string(dir.join("jobs").join(format!("{:08}.json", job.id)))
        .expect("record");
    assert!(on_disk.len() < 100_000, "{} bytes", on_disk.len());
    assert!(on_disk.contains(left_out), "{on_disk}");
    let again = Jobs::recorded(audit, dir.join("jobs"));
    let reloaded = again.get(job.id).expect("reloaded").view();
    assert_eq!(reloaded.lines, view.lines);
    assert_eq!(reloaded.lines_logged(), 10_000);
    let _ = std::fs::remove_dir_all(&dir);
}
