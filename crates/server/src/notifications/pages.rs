//! `/admin/notifications`: notification deliveries (filter by status, counts), a retry
//! button for failed and dead ones, and what is configured (e-mail server, webhook names
//! and their kinds — never a password, secret or webhook URL). `manage_notifications`.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::http::state::SmtpTls;
use crate::http::util::human;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::Permission;
use custos_core::notify::DeliveryStatus;
use custos_core::page::PageRequest;
use custos_core::{DeliveryId, Timestamp};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/notifications", get(list))
        .route("/admin/notifications/{id}/retry", post(retry))
}

pub struct Row {
    pub id: String,
    pub created: String,
    pub kind: String,
    pub reference: String,
    pub channel: &'static str,
    pub target: String,
    pub status: &'static str,
    pub attempts: i32,
    pub next_attempt: String,
    pub last_error: String,
    pub retryable: bool,
}

pub struct Count {
    pub status: &'static str,
    pub label: &'static str,
    pub n: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications/deliveries.html")]
struct Page {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    statuses: Vec<Opt>,
    /// The filter in effect (empty: all), sent back by retry forms.
    status: String,
    counts: Vec<Count>,
    rows: Vec<Row>,
    next: Option<String>,
    error: Option<String>,
    /// A retry just put a delivery back in the queue.
    retried: bool,
    email: String,
    webhooks: Vec<(String, String)>,
}

fn label(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "Pending",
        DeliveryStatus::Sent => "Sent",
        DeliveryStatus::Failed => "Failed",
        DeliveryStatus::Dead => "Dead",
    }
}

async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ManageNotifications)?;
    let q = crate::http::page::query_map(raw);
    let wanted = q.get("status").map(|s| s.trim()).unwrap_or("");
    let (status, error) = match wanted {
        "" => (None, None),
        s => match DeliveryStatus::parse(s) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(format!("Status: {}", e.message))),
        },
    };
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let page = state
        .store
        .list_deliveries(status, PageRequest::new(Some(100), cursor))
        .await?;
    let c = state.store.delivery_counts().await?;
    let team = w.principal.has(Permission::HandleSecurityIncidents);
    let status_str = status.map(|s| s.as_str()).unwrap_or("");
    let next = page.next_cursor.map(|cur| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !status_str.is_empty() {
            s.append_pair("status", status_str);
        }
        s.append_pair("cursor", &cur.to_string());
        s.finish()
    });
    let settings = &state.settings;
    let email = if settings.smtp.enabled() {
        let tls = match settings.smtp.tls {
            SmtpTls::None => "no TLS",
            SmtpTls::StartTls => "STARTTLS",
            SmtpTls::Tls => "TLS",
        };
        format!(
            "On: {}:{} ({tls}), from {}",
            settings.smtp.host, settings.smtp.port, settings.smtp.from
        )
    } else {
        "Off (smtp_host is not set): no e-mail deliveries are made.".into()
    };
    Ok(Page {
        title: "Notifications".into(),
        nav: Some(Nav::new(&w, "/admin/notifications")),
        csrf: w.session.csrf_token.clone(),
        statuses: DeliveryStatus::ALL
            .into_iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: label(s).into(),
                selected: Some(s) == status,
            })
            .collect(),
        status: status_str.into(),
        counts: [
            (DeliveryStatus::Pending, c.pending),
            (DeliveryStatus::Sent, c.sent),
            (DeliveryStatus::Failed, c.failed),
            (DeliveryStatus::Dead, c.dead),
        ]
        .into_iter()
        .map(|(s, n)| Count {
            status: s.as_str(),
            label: label(s),
            n,
        })
        .collect(),
        rows: page
            .items
            .into_iter()
            .map(|d| d.seen_by(team))
            .map(|d| Row {
                id: d.id.to_string(),
                created: human(d.created_at),
                kind: d.kind.as_str().replace('_', " "),
                reference: d.reference.clone(),
                channel: match d.channel {
                    custos_core::notify::Channel::Email => "E-mail",
                    custos_core::notify::Channel::Webhook => "Webhook",
                },
                target: d.target.clone(),
                status: d.status.as_str(),
                attempts: d.attempts,
                next_attempt: match d.status {
                    DeliveryStatus::Pending | DeliveryStatus::Failed => {
                        d.next_attempt_at.map(human).unwrap_or_default()
                    }
                    _ => String::new(),
                },
                last_error: d.last_error.clone().unwrap_or_default(),
                retryable: d.status.retryable(),
            })
            .collect(),
        next,
        error,
        retried: q.contains_key("retried"),
        email,
        webhooks: settings
            .webhooks
            .iter()
            .map(|h| {
                let kinds = if h.events.is_empty() {
                    "every event".to_string()
                } else {
                    h.events
                        .iter()
                        .map(|k| k.as_str().replace('_', " "))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let kinds = if h.need_to_know {
                    format!("{kinds}; trusted with need-to-know (security incidents included)")
                } else {
                    format!("{kinds}; no security incidents")
                };
                (h.name.clone(), kinds)
            })
            .collect(),
    }
    .into_response())
}

async fn retry(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageNotifications)?;
    check_csrf(&form, &w.session)?;
    let id: DeliveryId = crate::http::page::path_id(&id)?;
    state
        .store
        .retry_delivery(&actor, id, Timestamp::now())
        .await?;
    // Back to the list the button was on (only a known status goes into the address).
    let back = match form.get("status").map(DeliveryStatus::parse) {
        Some(Ok(s)) => format!("/admin/notifications?status={}&retried=1", s.as_str()),
        _ => "/admin/notifications?retried=1".to_string(),
    };
    Ok(see_other(&back))
}
