//! Background jobs every instance runs. They coordinate through the database only: the
//! sealer through the chain-head row lock, the purge through idempotent deletes.

use crate::state::AppState;
use custos_core::Timestamp;
use std::time::Duration;
use tokio::sync::watch;

/// Seals the audit chain every `seal_interval_ms` and purges dead sessions hourly, until
/// `shutdown` turns true; then seals one last time.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut seal = tokio::time::interval(Duration::from_millis(
        state.settings.seal_interval_ms.max(50),
    ));
    seal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut purge = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = seal.tick() => seal_all(&state).await,
            _ = purge.tick() => {
                if let Err(e) = state.store.purge_expired_sessions(Timestamp::now()).await {
                    tracing::warn!(error = %e, "session purge failed");
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    seal_all(&state).await;
}

/// Seals until nothing is pending.
pub async fn seal_all(state: &AppState) {
    loop {
        match state.store.seal_audit(1000).await {
            Ok(1000) => continue,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "audit sealing failed; will retry");
                break;
            }
        }
    }
}
