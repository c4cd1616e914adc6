//! The stop signals: SIGTERM (what `systemctl stop` and `docker stop` send) and SIGINT
//! (Ctrl-C). Both ask for a graceful stop; jobs get [`GRACE`] to reach a safe point.

use std::future::Future;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

/// How long a stop waits for running jobs before it cuts them short.
pub const GRACE: Duration = Duration::from_secs(30);

/// Takes over SIGTERM and SIGINT now (so a signal that arrives before the returned future
/// is first polled is not lost, nor kills the process) and resolves at the next one.
pub fn stop_requested() -> impl Future<Output = ()> + Send + 'static {
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            }
            (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                one.recv().await;
            }
            (Err(_), Err(_)) => std::future::pending::<()>().await,
        }
    }
}
