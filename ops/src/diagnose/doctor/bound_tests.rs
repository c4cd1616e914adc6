use super::*;

#[tokio::test]
async fn at_most_two_doctors_run_at_once_and_the_rest_wait_their_turn() {
    // A server that accepts and never answers keeps each run busy for seconds.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            open.push(s);
        }
    });
    let url = format!("postgres://u:p@127.0.0.1:{port}/db");
    let runs: Vec<_> = (0..5)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { run(&url).await })
        })
        .collect();
    let mut most = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        most = most.max(running());
    }
    assert_eq!(most, AT_ONCE);
    for r in runs {
        r.abort();
    }
    held.abort();
}
