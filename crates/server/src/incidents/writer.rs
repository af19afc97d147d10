//! Group commit for incident creation. Handlers hand their evaluated incident to the
//! writer tasks of their instance; a writer takes everything that queued up while it was
//! committing its previous batch and creates it in one transaction. Each create is
//! durable (committed, on SQLite fsynced) before its handler answers, yet the commit is
//! shared. SQLite has one writer (it allows one write transaction at a time); PostgreSQL
//! has up to four, so one batch's round trips and commit overlap the next's (under load
//! this halves the p99 of a create; see docs/benchmarks.md).
//! A batch that fails is retried one by one, so one bad incident fails alone.
//!
//! Creates announce themselves ([`Writer::arriving`]) when their handler starts, before
//! loading their context: the single writer (SQLite) waits for those on their way (at most
//! [`MAX_WAIT`]); parallel writers (PostgreSQL) don't, as a small batch holds up no other. Without that, a burst that lands while the writer idles
//! splits into a batch of one and a batch of the rest, doubling the commits (seen under
//! load as batches alternating 1 and 15).

use custos_core::StoreError;
use custos_core::store::{IncidentWrite, Store};
use custos_core::ticket::Incident;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

/// The largest batch one transaction takes.
const MAX_BATCH: usize = 256;

/// The longest a writer holds a batch open for creates on their way.
const MAX_WAIT: Duration = Duration::from_millis(1);

type Job = (IncidentWrite, oneshot::Sender<Result<Incident, StoreError>>);

/// A handle to the writer; the task starts on first use (inside the runtime).
#[derive(Default)]
pub struct Writer {
    tx: OnceLock<mpsc::Sender<Job>>,
    on_the_way: Arc<OnTheWay>,
}

/// Creates whose handlers have started but not yet queued their incident.
#[derive(Default)]
struct OnTheWay {
    count: AtomicUsize,
    queued: Notify,
}

/// A create on its way to the writer; it counts until it is queued or abandoned.
pub struct Arriving(Arc<OnTheWay>);

impl Drop for Arriving {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
        self.0.queued.notify_one();
    }
}

impl Writer {
    /// Announces a create: call it when the handler starts, and hand the result to
    /// [`Writer::create`].
    pub fn arriving(&self) -> Arriving {
        self.on_the_way.count.fetch_add(1, Ordering::SeqCst);
        Arriving(self.on_the_way.clone())
    }

    /// Creates one incident through the writer and waits until it is committed.
    pub async fn create(
        &self,
        store: &Arc<dyn Store>,
        w: IncidentWrite,
        arriving: Arriving,
    ) -> Result<Incident, StoreError> {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4096);
            let rx = Arc::new(Mutex::new(rx));
            let n = writers(store.as_ref());
            let wait_for = (n == 1).then(|| self.on_the_way.clone());
            for _ in 0..n {
                tokio::spawn(run(store.clone(), rx.clone(), wait_for.clone()));
            }
            tx
        });
        let (done, wait) = oneshot::channel();
        tx.send((w, done))
            .await
            .map_err(|_| StoreError::Internal("incident writer stopped".into()))?;
        drop(arriving);
        wait.await
            .map_err(|_| StoreError::Internal("incident writer dropped a create".into()))?
    }
}

/// Adds to `jobs` what the creates on their way queue within [`MAX_WAIT`].
async fn gather<T>(rx: &mut mpsc::Receiver<T>, jobs: &mut Vec<T>, on_the_way: &OnTheWay) {
    let deadline = tokio::time::Instant::now() + MAX_WAIT;
    while jobs.len() < MAX_BATCH && on_the_way.count.load(Ordering::SeqCst) > 0 {
        if tokio::time::timeout_at(deadline, on_the_way.queued.notified())
            .await
            .is_err()
        {
            break;
        }
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
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

async fn run(
    store: Arc<dyn Store>,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    wait_for: Option<Arc<OnTheWay>>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    // The receiver is held only while taking a batch, so another writer gathers the next
    // one while this one writes.
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut jobs, MAX_BATCH).await == 0 {
                break;
            }
            if let Some(w) = &wait_for {
                gather(&mut rx, &mut jobs, w).await;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn announce(w: &Arc<OnTheWay>) -> Arriving {
        w.count.fetch_add(1, Ordering::SeqCst);
        Arriving(w.clone())
    }

    #[tokio::test]
    async fn a_batch_waits_for_creates_on_their_way() {
        let w = Arc::new(OnTheWay::default());
        let (tx, mut rx) = mpsc::channel(16);
        let (a, b) = (announce(&w), announce(&w));
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            tx.send(2).await.unwrap();
            drop(a);
            tokio::task::yield_now().await;
            tx.send(3).await.unwrap();
            drop(b);
        });
        let mut jobs = vec![1];
        gather(&mut rx, &mut jobs, &w).await;
        assert_eq!(jobs, [1, 2, 3]);
    }

    // Paused time: a wait would move the clock on.
    #[tokio::test(start_paused = true)]
    async fn a_batch_does_not_wait_when_nothing_is_on_its_way() {
        let w = Arc::new(OnTheWay::default());
        let (_tx, mut rx) = mpsc::channel::<u32>(16);
        drop(announce(&w)); // a create that failed before queuing
        let start = tokio::time::Instant::now();
        let mut jobs = vec![1];
        gather(&mut rx, &mut jobs, &w).await;
        assert_eq!(tokio::time::Instant::now(), start);
        assert_eq!(jobs, [1]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_create_that_never_queues_holds_a_batch_at_most_briefly() {
        let w = Arc::new(OnTheWay::default());
        let (_tx, mut rx) = mpsc::channel::<u32>(16);
        let _stuck = announce(&w);
        let start = tokio::time::Instant::now();
        let mut jobs = vec![1];
        gather(&mut rx, &mut jobs, &w).await;
        assert_eq!(tokio::time::Instant::now() - start, MAX_WAIT);
        assert_eq!(jobs, [1]);
    }
}
