//! One way to stop on Ctrl-C: a single listener, installed when a command starts, that every long step waits on
//! beside its work. The step that is running says what the interruption left (a pull resumes, a download goes on
//! in LM Studio); anything else stops with [`Interrupted`]. Files are written without waiting on anything, so an
//! interruption never leaves one half written.

use std::sync::OnceLock;

use thiserror::Error;
use tokio::sync::watch;

/// The work was stopped by Ctrl-C.
#[derive(Debug, Error)]
#[error("Interrupted")]
pub struct Interrupted;

static SIGNAL: OnceLock<watch::Sender<bool>> = OnceLock::new();

fn sender() -> &'static watch::Sender<bool> {
    SIGNAL.get_or_init(|| watch::channel(false).0)
}

/// Starts listening for Ctrl-C (once per process); from then on Ctrl-C no longer kills the process at once.
pub fn listen() {
    let signal = sender();
    if signal.receiver_count() > 0 {
        return;
    }
    let mut receiver = signal.subscribe();
    receiver.mark_unchanged();
    tokio::spawn(async move {
        // Keep the receiver alive, so that the listener is known to run.
        let _keep = receiver;
        while tokio::signal::ctrl_c().await.is_ok() {
            sender().send_replace(true);
        }
    });
}

/// Resolves once Ctrl-C was pressed (at once if it already was).
pub async fn wait() {
    let mut receiver = sender().subscribe();
    let _ = receiver.wait_for(|pressed| *pressed).await;
}
