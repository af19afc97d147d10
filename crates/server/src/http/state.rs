//! The one state struct every handler receives.

use custos_core::store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

/// Server settings that handlers need (the CLI builds them from the configuration).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Mark cookies `Secure`. Browsers accept secure cookies from http://localhost and
    /// 127.0.0.1, so this stays on even for the demo.
    pub cookie_secure: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How often the audit sealer runs, in milliseconds.
    pub seal_interval_ms: u64,
    /// How long an API-token lookup may be reused, in milliseconds (0: never).
    pub auth_cache_ttl_ms: u64,
    /// Display names of the classification levels low, moderate, high (e.g. public,
    /// internal, confidential). The API always uses low/moderate/high.
    pub level_labels: [String; 3],
    /// How often the SLA report scheduler looks for due reports, in milliseconds (0: off).
    pub report_interval_ms: u64,
    /// The address users reach Custos at (e.g. `https://custos.example.org`), for links in
    /// what leaves the browser (report PDFs and HTML files, notification e-mails); empty:
    /// relative links (and none in e-mails).
    pub public_url: String,
    /// Impact × urgency → priority.
    pub priority_matrix: custos_core::incident::PriorityMatrix,
    /// How often the SLA clock job looks for clocks due to warn or breach, in ms (0: off).
    pub clock_interval_ms: u64,
    /// How long an incident context (SLAs in force, calendar, classification, failed
    /// controls of a service and CIs) is reused by this instance, in ms (0: never).
    pub context_cache_ttl_ms: u64,
    /// How often the notification dispatcher runs, in milliseconds (0: off).
    pub notify_interval_ms: u64,
    /// Outgoing e-mail; an empty host turns e-mail off.
    pub smtp: SmtpSettings,
    /// Webhooks that receive notification events.
    pub webhooks: Vec<WebhookSettings>,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// Plain text (a relay on the same host or network only).
    None,
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    #[default]
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }
}

/// Outgoing e-mail. `Debug` leaves the password out.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Empty: no e-mail deliveries are made.
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Empty: no authentication.
    pub username: String,
    pub password: custos_core::secret::Secret,
    /// The sender, e.g. `Custos <custos@example.org>`.
    pub from: String,
    /// A PEM file of CA certificates trusted besides the system's, for a relay whose
    /// certificate a private CA signed. Empty: the system's trust store only.
    pub ca_file: String,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 25,
            tls: SmtpTls::StartTls,
            username: String::new(),
            password: custos_core::secret::Secret::new(""),
            from: String::new(),
            ca_file: String::new(),
        }
    }
}

impl SmtpSettings {
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }
}

/// One webhook. `Debug` leaves the secret out; the URL (which may carry a token) is never
/// logged or shown either: logs and pages name the webhook.
#[derive(Clone)]
pub struct WebhookSettings {
    pub name: String,
    pub url: String,
    /// Key of the `X-Custos-Signature` HMAC.
    pub secret: custos_core::secret::Secret,
    /// The kinds it receives; empty: all.
    pub events: Vec<custos_core::notify::EventKind>,
    /// Trusted with need-to-know (the security team's own tooling, e.g. its SIEM): it
    /// receives confidential events (security incidents) with their content. Other
    /// webhooks receive no confidential event at all.
    pub need_to_know: bool,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("name", &self.name)
            .field("url", &"[redacted]")
            .field("secret", &self.secret)
            .field("events", &self.events)
            .field("need_to_know", &self.need_to_know)
            .finish()
    }
}

impl WebhookSettings {
    /// Whether it receives `event`: a kind it subscribes to, and for a confidential
    /// event only if it is trusted with need-to-know.
    pub fn wants(&self, event: &custos_core::notify::Event) -> bool {
        (self.events.is_empty() || self.events.contains(&event.kind))
            && (!event.confidential || self.need_to_know)
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            cookie_secure: true,
            body_limit: 1024 * 1024,
            seal_interval_ms: 500,
            auth_cache_ttl_ms: 1000,
            level_labels: ["low".into(), "moderate".into(), "high".into()],
            report_interval_ms: 600_000,
            public_url: String::new(),
            priority_matrix: custos_core::incident::PriorityMatrix::default(),
            clock_interval_ms: 5_000,
            context_cache_ttl_ms: 1000,
            notify_interval_ms: 1000,
            smtp: SmtpSettings::default(),
            webhooks: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<ServerSettings>,
    pub metrics: PrometheusHandle,
    pub auth_cache: Arc<crate::http::auth_cache::AuthCache>,
    /// Group commit of incident creation.
    pub incident_writer: Arc<crate::incidents::writer::Writer>,
    pub context_cache: Arc<crate::incidents::cache::ContextCache>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: ServerSettings) -> Self {
        let context_ttl = std::time::Duration::from_millis(settings.context_cache_ttl_ms);
        let ttl = std::time::Duration::from_millis(settings.auth_cache_ttl_ms);
        Self {
            store,
            settings: Arc::new(settings),
            metrics: crate::http::metrics::handle(),
            auth_cache: Arc::new(crate::http::auth_cache::AuthCache::new(ttl)),
            incident_writer: Arc::default(),
            context_cache: Arc::new(crate::incidents::cache::ContextCache::new(context_ttl)),
        }
    }

    /// What an incident's service and CIs say about it (SLAs in force, calendar,
    /// classification, failed controls).
    pub async fn incident_context(
        &self,
        service: Option<custos_core::CiId>,
        cis: &[custos_core::CiId],
        today: &custos_core::time::Date,
    ) -> custos_core::Outcome<Arc<crate::incidents::Context>> {
        let cache = &self.context_cache;
        if !cache.enabled() {
            return Ok(Arc::new(
                crate::incidents::context(self.store.as_ref(), service, cis, today).await?,
            ));
        }
        let now = std::time::Instant::now();
        if let Some(c) = cache.get(service, cis, today, now) {
            return Ok(c);
        }
        let c =
            Arc::new(crate::incidents::context(self.store.as_ref(), service, cis, today).await?);
        cache.put(service, cis, today, now, c.clone());
        Ok(c)
    }
}
