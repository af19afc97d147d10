//! Group commit for incident creation. Handlers hand their evaluated incident to the
//! writer tasks of their instance; a writer takes everything that queued up while it was
//! committing its previous batch and creates it in one transaction. Each create is
//! durable (committed, on SQLite fsynced) before its handler answers, yet the commit is
//! shared. SQLite has one writer (it allows one write transaction at a time); PostgreSQL
//! has up to four, so one batch's round trips and commit overlap the next's (under load
//! this halves the p99 of a create; see docs/benchmarks.md).
//! A batch that fails is retried one by one, so one bad incident fails alone.

use custos_core::StoreError;
use custos_core::store::{IncidentWrite, Store};
use custos_core::ticket::Incident;
use std::sync::{Arc, OnceLock};
use tokio::sync::{Mutex, mpsc, oneshot};

/// The largest batch one transaction takes.
const MAX_BATCH: usize = 256;

type Job = (IncidentWrite, oneshot::Sender<Result<Incident, StoreError>>);

/// A handle to the writer; the task starts on first use (inside the runtime).
#[derive(Default)]
pub struct Writer {
    tx: OnceLock<mpsc::Sender<Job>>,
}

impl Writer {
    /// Creates one incident through the writer and waits until it is committed.
    pub async fn create(
        &self,
        store: &Arc<dyn Store>,
        w: IncidentWrite,
    ) -> Result<Incident, StoreError> {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4096);
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..writers(store.as_ref()) {
                tokio::spawn(run(store.clone(), rx.clone()));
            }
            tx
        });
        let (done, wait) = oneshot::channel();
        tx.send((w, done))
            .await
            .map_err(|_| StoreError::Internal("incident writer stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Internal("incident writer dropped a create".into()))?
    }
}

/// How many batches may be written at once: one on SQLite, on PostgreSQL half the pool
/// (the rest serves reads), at most four.
fn writers(store: &dyn Store) -> usize {
    match store.backend() {
        "sqlite" => 1,
        _ => (store.pool_stats().max as usize / 2).clamp(1, 4),
    }
}

async fn run(store: Arc<dyn Store>, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    // The receiver is held only while taking a batch, so another writer gathers the next
    // one while this one writes.
    while rx.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (writes, replies): (Vec<IncidentWrite>, Vec<_>) = jobs.drain(..).unzip();
        metrics::histogram!("custos_incident_batch_size").record(writes.len() as f64);
        if writes.len() == 1 {
            let r = store
                .create_incidents(writes)
                .await
                .map(|mut v| v.remove(0));
            if let Some(reply) = replies.into_iter().next() {
                // The handler may have gone (client hung up); the create stands.
                let _ = reply.send(r);
            }
            continue;
        }
        match store.create_incidents(writes.clone()).await {
            Ok(created) => {
                for (inc, reply) in created.into_iter().zip(replies) {
                    let _ = reply.send(Ok(inc));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, n = writes.len(), "incident batch failed; retrying one by one");
                for (w, reply) in writes.into_iter().zip(replies) {
                    let r = store
                        .create_incidents(vec![w])
                        .await
                        .map(|mut v| v.remove(0));
                    let _ = reply.send(r);
                }
            }
        }
    }
}
