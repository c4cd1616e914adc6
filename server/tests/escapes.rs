//! Text from outside reaches the audit log and `activity` with its control characters
//! escaped: a file name with a newline cannot forge a second record on a terminal, nor an
//! escape sequence recolour it, nor a bidi control reorder it.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{audit_records, text, Web};
use ops::testing::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_named_with_a_newline_and_an_escape_is_recorded_and_listed_escaped() {
    let db = TestDb::create().await;
    let data = std::env::temp_dir().join(format!("{}-escapes", db.name));
    let _ = std::fs::remove_dir_all(&data);
    let elsewhere = data.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("folder");
    let raw_name = "bad\n\x1b[31mred.dump";
    let file = elsewhere.join(raw_name);
    std::fs::write(&file, "PGDMP not really").expect("file");

    let o = common::binary(&db.url, &data)
        .args(["backup", "import"])
        .arg(&file)
        .output()
        .expect("import");
    assert!(!o.status.success(), "{}", text(&o));

    let escaped = r"bad\n\u{1b}[31mred.dump";
    let records = audit_records(&data);
    let upload = records
        .iter()
        .rev()
        .find(|r| r.action == "backup.upload")
        .expect("the refused import is recorded");
    assert_eq!(upload.target, escaped);
    assert!(!upload.detail.contains('\x1b'), "{}", upload.detail);

    let o = common::binary(&db.url, &data)
        .args(["activity", "--action", "backup.upload"])
        .output()
        .expect("activity");
    assert!(o.status.success(), "{}", text(&o));
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!listed.contains('\x1b'), "{listed:?}");
    assert_eq!(
        listed.lines().count(),
        1,
        "one record, one line: {listed:?}"
    );
    let line = listed.lines().next().unwrap_or_default();
    assert_eq!(
        line.get(19..),
        Some(
            format!(
                "  cli        backup.upload      failed  {escaped} {}",
                upload.detail
            )
            .as_str()
        ),
        "{line}"
    );

    // The page's upload: the name as the browser sent it, with a bidi override and a C1
    // control (a C0 one is refused by the multipart parser before anything is recorded).
    let web = Web::start(
        {
            let mut cmd = common::binary(&db.url, &data);
            cmd.arg("serve");
            cmd
        },
        &data,
        "escapes-pw",
    );
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"x\u{85}\u{202e}pmud.dump\"\r\nContent-Type: application/octet-stream\r\n\r\nnot an archive\r\n--XyZ--\r\n";
    let jar = data.join("cookies").display().to_string();
    let mut curl = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{redirect_url}", "-b", &jar])
        .args(["-H", "Content-Type: multipart/form-data; boundary=XyZ"])
        .args(["-H", &format!("Origin: {}", web.base)])
        .args(["--data-binary", "@-"])
        .arg(format!("{}/files/backups", web.base))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl");
    curl.stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("body");
    let sent = curl.wait_with_output().expect("curl");
    let sent = String::from_utf8_lossy(&sent.stdout);
    assert!(sent.contains("upload_error="), "{sent}");
    let records = audit_records(&data);
    let upload = records.last().expect("the refused upload is recorded");
    assert_eq!(upload.action, "backup.upload", "{sent}");
    assert_eq!(upload.target, r"x\u{85}\u{202e}pmud.dump");
    drop(web);
    let _ = std::fs::remove_dir_all(&data);
}
