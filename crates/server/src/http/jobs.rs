//! Background jobs every instance runs. They coordinate through the database only: the
//! sealer through the chain-head row lock, the purge through idempotent deletes, the SLA
//! report scheduler through a lease row (one instance per interval) and the kept reports'
//! unique key, the SLA clock job through a lease row and optimistic saves, the
//! notification dispatcher (its own task, so slow receivers never hold up sealing) through
//! claims under a lease and the deliveries' unique key.

use crate::http::state::AppState;
use custos_core::Timestamp;
use std::time::Duration;
use tokio::sync::watch;

/// Seals the audit chain and indexes new incidents for search every `seal_interval_ms`,
/// purges dead sessions hourly and runs the notification dispatcher, until `shutdown`
/// turns true; then seals and indexes one last time.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut seal = tokio::time::interval(Duration::from_millis(
        state.settings.seal_interval_ms.max(50),
    ));
    seal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut purge = tokio::time::interval(Duration::from_secs(3600));
    let report_every = Duration::from_millis(state.settings.report_interval_ms.max(1000));
    let mut reports = tokio::time::interval(report_every);
    reports.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let clock_every = Duration::from_millis(state.settings.clock_interval_ms.max(100));
    let mut clocks = tokio::time::interval(clock_every);
    clocks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let holder = uuid::Uuid::now_v7().to_string();
    let notify = tokio::spawn(crate::notifications::run(state.clone(), shutdown.clone()));
    loop {
        tokio::select! {
            _ = clocks.tick(), if state.settings.clock_interval_ms > 0 => {
                sla_clocks(&state, &holder, clock_every).await;
            }
            _ = reports.tick(), if state.settings.report_interval_ms > 0 => {
                scheduled_reports(&state, &holder, report_every).await;
            }
            _ = seal.tick() => {
                seal_all(&state).await;
                index_search(&state).await;
            }
            _ = purge.tick() => {
                if let Err(e) = state.store.purge_expired_sessions(Timestamp::now()).await {
                    tracing::warn!(error = %e, "session purge failed");
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    let _ = notify.await;
    seal_all(&state).await;
    index_search(&state).await;
}

/// Entries sealed per transaction. The sealer shares the one SQLite writer connection
/// with incident creates; a transaction of 250 holds it ~3–4 ms under load, one of 1,000
/// held it ~13 ms, which every create in flight then waited for.
const SEAL_BATCH: u32 = 250;

/// Seals until nothing is pending.
pub async fn seal_all(state: &AppState) {
    drain("audit sealing", SEAL_BATCH, |n| state.store.seal_audit(n)).await;
}

/// Runs `step` (a transaction of at most `batch` items that says how many it took) until
/// one takes fewer, i.e. nothing is left; a failure is logged and left to the next pass.
async fn drain<F, Fut>(job: &str, batch: u32, mut step: F)
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = custos_core::error::StoreResult<u64>>,
{
    loop {
        match step(batch).await {
            Ok(n) if n == u64::from(batch) => continue,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, job, "background job failed; will retry");
                break;
            }
        }
    }
}

/// Incidents indexed for search per transaction behind the commit (SQLite): like a seal
/// transaction, one of 500 holds the writer connection for a few milliseconds (indexing
/// took 3–4 % of SQLite's time at ~1,000–2,000 new incidents per 200 ms pass:
/// `FLOOR_INDEX_MS` in `scripts/sqlite-floor.py`).
const INDEX_BATCH: u32 = 500;

/// Indexes for search the incidents created since the last pass, until none is left.
pub async fn index_search(state: &AppState) {
    drain("search indexing", INDEX_BATCH, |n| {
        state.store.index_search(n)
    })
    .await;
}

/// Keeps due SLA reports if this instance holds the scheduler lease.
async fn scheduled_reports(state: &AppState, holder: &str, every: Duration) {
    let now = Timestamp::now();
    let until = now.plus_secs(every.as_secs().max(1) as i64);
    match state
        .store
        .take_lease("sla-reports", holder, now, until)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "report scheduler lease failed");
            return;
        }
    }
    match crate::service_levels::scheduled_reports(state.store.as_ref(), now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(kept = n, "kept scheduled SLA reports"),
        Err(e) => tracing::warn!(error = %e, "scheduled SLA reports failed"),
    }
}

/// Marks SLA clock warnings and breaches if this instance holds the clock lease.
async fn sla_clocks(state: &AppState, holder: &str, every: Duration) {
    let now = Timestamp::now();
    let until = Timestamp(now.0 + (every.as_millis() as i64).max(1000) * 3);
    match state
        .store
        .take_lease("sla-clocks", holder, now, until)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "SLA clock lease failed");
            return;
        }
    }
    match crate::incidents::tick_clocks(state.store.as_ref(), now).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(incidents = n, "SLA clocks recomputed"),
        Err(e) => tracing::warn!(error = %e, "SLA clock job failed"),
    }
}
