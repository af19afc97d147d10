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
    /// The address users reach Custos at (e.g. https://custos.example.org), for links in
    /// documents that leave the browser (report PDFs and HTML files); empty: relative links.
    pub public_url: String,
    /// Impact × urgency → priority.
    pub priority_matrix: custos_core::incident::PriorityMatrix,
    /// How often the SLA clock job looks for clocks due to warn or breach, in ms (0: off).
    pub clock_interval_ms: u64,
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
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<ServerSettings>,
    pub metrics: PrometheusHandle,
    pub auth_cache: Arc<crate::auth_cache::AuthCache>,
    /// Group commit of incident creation.
    pub incident_writer: Arc<crate::incidents::writer::Writer>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: ServerSettings) -> Self {
        let ttl = std::time::Duration::from_millis(settings.auth_cache_ttl_ms);
        Self {
            store,
            settings: Arc::new(settings),
            metrics: crate::metrics::handle(),
            auth_cache: Arc::new(crate::auth_cache::AuthCache::new(ttl)),
            incident_writer: Arc::default(),
        }
    }

    /// What an incident's service and CIs say about it (SLAs in force, calendar,
    /// classification, failed controls).
    pub async fn incident_context(
        &self,
        service: Option<custos_core::CiId>,
        cis: &[custos_core::CiId],
        today: &custos_core::time::Date,
    ) -> Result<crate::incidents::Context, crate::error::ApiError> {
        crate::incidents::context(self.store.as_ref(), service, cis, today).await
    }
}
