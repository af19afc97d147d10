//! The notification dispatcher. Each pass turns the outbox's pending events into
//! deliveries (one e-mail per distinct recipient address, one POST per subscribed webhook)
//! and sends the deliveries that are due. Every attempt's outcome is stored: sent, failed
//! with the next attempt (backoff in `custos_core::notify::BACKOFF_SECS`), or dead after the
//! last. Every instance dispatches; claiming under a lease keeps them from sending the same
//! delivery twice, and the deliveries' unique key from planning an event twice.
//!
//! Webhook bodies are signed: `X-Custos-Signature: sha256=<hex HMAC-SHA256(secret,
//! "<X-Custos-Timestamp>.<body>")>` (see docs/notifications.md).

pub mod api;
pub mod pages;

mod channels;

pub use channels::signature;

use crate::http::state::AppState;

use crate::http::state::ServerSettings;

use crate::http::state::WebhookSettings;
use custos_core::notify::{Channel, ClaimedDelivery, Event, Outcome, after_failure};
use custos_core::store::{NewDelivery, Store};
use custos_core::{IncidentId, StoreError, Timestamp, UserId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Events expanded per round, and rounds per pass.
const EVENT_BATCH: u32 = 100;
/// Deliveries claimed (and sent concurrently) per round.
const CLAIM_BATCH: u32 = 20;
const MAX_ROUNDS: usize = 10;
/// How long a claimed delivery stays with its dispatcher: far longer than a round of
/// concurrent attempts bounded by [`TIMEOUT`]. A dispatcher that dies mid-send leaves its
/// deliveries to others after it.
const LEASE_SECS: i64 = 900;
/// Each e-mail and webhook attempt gives up after this.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Stored errors are cut to this many characters.
const ERROR_CHARS: usize = 500;

/// The people an event names who may read it. A confidential event about an incident (a
/// security incident) goes only to those with need-to-know at the time it is sent: a group
/// lead or major-incident lead who is neither on the security team, nor assigned, nor
/// added, nor authorised by the SLA hears nothing of it (the security managers, whom such
/// events also address by role, always do).
async fn need_to_know(store: &dyn Store, event: &Event) -> Result<Vec<UserId>, StoreError> {
    let incident = match event.entity_id.parse::<IncidentId>() {
        Ok(id) if event.confidential && event.entity_type == "incident" => id,
        _ => return Ok(event.users.clone()),
    };
    let mut out = Vec::with_capacity(event.users.len());
    for &u in &event.users {
        let user = match store.user(u).await {
            Ok(user) => user,
            Err(StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        if crate::incidents::user_sees(store, &user, incident).await? {
            out.push(u);
        } else {
            tracing::debug!(event = event.kind.as_str(), user = %u, "confidential event not sent to a user without need-to-know");
        }
    }
    Ok(out)
}

/// Runs the dispatcher every `notify_interval_ms` until `shutdown` turns true (a pass in
/// flight finishes first, so no attempt is left unrecorded).
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let every = state.settings.notify_interval_ms;
    if every == 0 {
        return;
    }
    let dispatcher = match Dispatcher::new(state.store.clone(), &state.settings) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "notifications are off: invalid configuration");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(every.max(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = dispatcher.run_once(Timestamp::now()).await {
                    tracing::warn!(error = %e, "notification dispatch failed; will retry");
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// Checks the notification settings: a parsable sender and a readable `smtp_ca_file`
/// when e-mail is on; webhooks with distinct non-empty names, a secret and http(s) URLs.
pub fn validate(settings: &ServerSettings) -> Result<(), String> {
    if settings.smtp.enabled() {
        channels::mailer(&settings.smtp)?;
    }
    let mut names = std::collections::HashSet::new();
    for w in &settings.webhooks {
        if w.name.trim().is_empty() || w.name.len() > 100 {
            return Err("every webhook needs a name of 1 to 100 characters".into());
        }
        if w.secret.expose().is_empty() {
            return Err(format!("webhook {:?} needs a secret to sign with", w.name));
        }
        if !names.insert(w.name.as_str()) {
            return Err(format!("webhook name {:?} is used twice", w.name));
        }
        let url = reqwest::Url::parse(&w.url)
            .map_err(|_| format!("webhook {:?}: url is not a valid URL", w.name))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("webhook {:?}: url must be http or https", w.name));
        }
    }
    Ok(())
}

/// What a pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Deliveries created from events.
    pub planned: u64,
    pub sent: u64,
    pub failed: u64,
    pub dead: u64,
}

/// The dispatcher; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    mailer: Option<channels::Mailer>,
    webhooks: Vec<WebhookSettings>,
    public_url: String,
    http: reqwest::Client,
}

impl Dispatcher {
    pub fn new(store: Arc<dyn Store>, settings: &ServerSettings) -> Result<Self, String> {
        validate(settings)?;
        let mailer = if settings.smtp.enabled() {
            Some(channels::mailer(&settings.smtp)?)
        } else {
            None
        };
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("custos/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the webhook client: {e}"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                mailer,
                webhooks: settings.webhooks.clone(),
                public_url: settings.public_url.trim_end_matches('/').to_string(),
                http,
            }),
        })
    }

    /// One pass at `now`: plans the pending events' deliveries, then attempts every
    /// delivery due by `now`. Tests call it with a chosen `now` to step through retries.
    pub async fn run_once(&self, now: Timestamp) -> Result<Pass, StoreError> {
        let mut pass = Pass {
            planned: self.plan(now).await?,
            ..Pass::default()
        };
        for _ in 0..MAX_ROUNDS {
            let batch = self
                .inner
                .store
                .claim_deliveries(now, now.plus_secs(LEASE_SECS), CLAIM_BATCH)
                .await?;
            let full = batch.len() == CLAIM_BATCH as usize;
            self.deliver(batch, now, &mut pass).await;
            if !full {
                break;
            }
        }
        Ok(pass)
    }

    async fn plan(&self, now: Timestamp) -> Result<u64, StoreError> {
        let store = &self.inner.store;
        let mut planned = 0;
        for _ in 0..MAX_ROUNDS {
            let events = store.pending_events(EVENT_BATCH).await?;
            let mut plans = Vec::with_capacity(events.len());
            for (id, _, event) in &events {
                let mut deliveries = Vec::new();
                if self.inner.mailer.is_some() {
                    let users = need_to_know(store.as_ref(), event).await?;
                    for address in store.recipients(&users, &event.roles).await? {
                        deliveries.push(NewDelivery {
                            channel: Channel::Email,
                            target: address,
                        });
                    }
                }
                for w in self.inner.webhooks.iter().filter(|w| w.wants(event)) {
                    deliveries.push(NewDelivery {
                        channel: Channel::Webhook,
                        target: w.name.clone(),
                    });
                }
                tracing::debug!(event = %id, kind = event.kind.as_str(), deliveries = deliveries.len(), "notification event dispatched");
                plans.push((*id, deliveries));
            }
            planned += store.plan_deliveries(&plans, now).await?;
            if events.len() < EVENT_BATCH as usize {
                break;
            }
        }
        Ok(planned)
    }

    /// Attempts a claimed batch concurrently and stores each outcome.
    async fn deliver(&self, batch: Vec<ClaimedDelivery>, now: Timestamp, pass: &mut Pass) {
        let mut tasks = tokio::task::JoinSet::new();
        let mut claimed = HashMap::new();
        for c in batch {
            let inner = self.inner.clone();
            let (id, attempts) = (c.delivery.id, c.delivery.attempts);
            let task = tasks.spawn(async move {
                match inner.attempt(&c, now).await {
                    Ok(()) => Outcome::Sent,
                    Err(e) => after_failure(attempts, channels::truncate(e), now),
                }
            });
            claimed.insert(task.id(), (id, attempts));
        }
        while let Some(joined) = tasks.join_next_with_id().await {
            let (task, outcome) = match joined {
                Ok((task, outcome)) => (task, outcome),
                Err(e) => {
                    let Some(&(_, attempts)) = claimed.get(&e.id()) else {
                        continue;
                    };
                    (
                        e.id(),
                        after_failure(attempts, "the attempt was aborted".into(), now),
                    )
                }
            };
            let Some(&(id, _)) = claimed.get(&task) else {
                continue;
            };
            match self.inner.store.record_delivery(id, &outcome, now).await {
                Ok(d) => {
                    let (channel, target) = (d.channel.as_str(), d.target.as_str());
                    match &outcome {
                        Outcome::Sent => {
                            pass.sent += 1;
                            tracing::info!(delivery = %id, channel, target, "notification sent");
                        }
                        Outcome::Failed {
                            error,
                            next_attempt_at,
                        } => {
                            pass.failed += 1;
                            tracing::warn!(delivery = %id, channel, target, attempts = d.attempts, %error,
                                next_attempt_at = next_attempt_at.0, "notification failed; will retry");
                        }
                        Outcome::Dead { error } => {
                            pass.dead += 1;
                            tracing::error!(delivery = %id, channel, target, attempts = d.attempts, %error,
                                "notification failed for the last time");
                        }
                    }
                    let label = match outcome {
                        Outcome::Sent => "sent",
                        Outcome::Failed { .. } => "failed",
                        Outcome::Dead { .. } => "dead",
                    };
                    metrics::counter!("notification_attempts_total", "channel" => channel.to_string(), "outcome" => label)
                        .increment(1);
                }
                // The lease runs out and another pass attempts it again.
                Err(e) => {
                    tracing::error!(delivery = %id, error = %e, ?outcome, "cannot record a notification attempt")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_core::secret::Secret;

    fn hook(name: &str, url: &str, secret: &str) -> WebhookSettings {
        WebhookSettings {
            name: name.into(),
            url: url.into(),
            secret: Secret::new(secret),
            events: vec![],
            need_to_know: false,
        }
    }

    #[test]
    fn settings_are_checked() {
        let mut s = ServerSettings::default();
        assert_eq!(validate(&s), Ok(()), "off by default");
        s.smtp.host = "mail.example.org".into();
        assert!(validate(&s).unwrap_err().contains("smtp_from"));
        s.smtp.from = "Custos <custos@example.org>".into();
        assert_eq!(validate(&s), Ok(()));
        s.smtp.ca_file = "/nonexistent/ca.pem".into();
        assert!(
            validate(&s)
                .unwrap_err()
                .contains("smtp_ca_file /nonexistent/ca.pem")
        );
        s.smtp.ca_file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into();
        assert!(validate(&s).unwrap_err().contains("no PEM certificate"));
        s.smtp.ca_file =
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/tls/ca.pem").into();
        assert_eq!(validate(&s), Ok(()));
        s.smtp.ca_file.clear();
        for (hooks, wrong) in [
            (vec![hook("a", "ftp://x.org/", "k")], "http or https"),
            (vec![hook("a", "not a url", "k")], "not a valid URL"),
            (vec![hook("a", "https://x.org/", "")], "secret"),
            (vec![hook(" ", "https://x.org/", "k")], "name"),
            (
                vec![
                    hook("a", "https://x.org/", "k"),
                    hook("a", "http://y/", "k"),
                ],
                "used twice",
            ),
        ] {
            s.webhooks = hooks;
            let e = validate(&s).unwrap_err();
            assert!(e.contains(wrong), "{e}");
            assert!(!e.contains("x.org"), "no URL in errors: {e}");
        }
        let dbg = format!("{:?}", hook("a", "https://x.org/?token=t0p", "s3cret"));
        assert!(!dbg.contains("t0p") && !dbg.contains("s3cret"), "{dbg}");
    }
}
