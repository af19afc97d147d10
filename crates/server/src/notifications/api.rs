//! `/notifications/deliveries`: what the dispatcher sent, what failed and why, and a retry
//! for a failed or dead delivery. Administrators only (`manage_notifications`). A delivery
//! shows its event's kind and reference, never its content.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::rfc3339;
use axum::extract::{Path, State};
use custos_core::authz::Permission;
use custos_core::notify::{Channel, Delivery, DeliveryStatus, EventKind};
use custos_core::page::PageRequest;
use custos_core::{DeliveryId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryOut {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: EventKind,
    /// `incident` or `problem`.
    pub entity_type: String,
    pub entity_id: String,
    /// e.g. INC-000042.
    pub reference: String,
    pub channel: Channel,
    /// The e-mail address, or the webhook's name.
    pub target: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When it is tried next (pending and failed deliveries).
    pub next_attempt_at: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<&Delivery> for DeliveryOut {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.0,
            event_id: d.event_id.0,
            kind: d.kind,
            entity_type: d.entity_type.clone(),
            entity_id: d.entity_id.clone(),
            reference: d.reference.clone(),
            channel: d.channel,
            target: d.target.clone(),
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            last_error: d.last_error.clone(),
            created_at: rfc3339(d.created_at),
            sent_at: d.sent_at.map(rfc3339),
        }
    }
}

/// Deliveries per status (all of them, whatever the filter).
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryCountsOut {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub dead: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryOut>,
    pub next_cursor: Option<Uuid>,
    pub counts: DeliveryCountsOut,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// pending, sent, failed or dead; empty or absent: all.
    #[param(value_type = Option<custos_core::notify::DeliveryStatus>)]
    pub status: Option<String>,
    /// Items per page, 1–500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

impl DeliveryParams {
    pub fn status(&self) -> Result<Option<DeliveryStatus>, ApiError> {
        match self.status.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => Ok(Some(DeliveryStatus::parse(s)?)),
        }
    }

    pub fn page(&self) -> PageRequest {
        PageRequest::new(self.limit, self.cursor)
    }
}

/// Lists notification deliveries, newest first.
#[utoipa::path(get, path = "/notifications/deliveries", tag = "notifications", params(DeliveryParams),
    responses((status = 200, description = "OK", body = DeliveryList), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_deliveries(
    State(state): State<AppState>,
    need: Need<perm::ManageNotifications>,
    Query(q): Query<DeliveryParams>,
) -> ApiResult<axum::Json<DeliveryList>> {
    let team = need.principal.has(Permission::HandleSecurityIncidents);
    let page = state.store.list_deliveries(q.status()?, q.page()).await?;
    let c = state.store.delivery_counts().await?;
    Ok(axum::Json(DeliveryList {
        items: page
            .items
            .into_iter()
            .map(|d| DeliveryOut::from(&d.seen_by(team)))
            .collect(),
        next_cursor: page.next_cursor,
        counts: DeliveryCountsOut {
            pending: c.pending,
            sent: c.sent,
            failed: c.failed,
            dead: c.dead,
        },
    }))
}

/// Sends a failed or dead delivery again: it becomes pending, due now (the dispatcher
/// takes it on its next pass). It keeps its attempt count: a dead delivery that fails
/// again is dead again at once.
#[utoipa::path(post, path = "/notifications/deliveries/{id}/retry", tag = "notifications", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Pending again", body = DeliveryOut), (status = 400, description = "Invalid id", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Only a failed or dead delivery can be retried", body = Problem, content_type = "application/problem+json")))]
async fn retry_delivery(
    State(state): State<AppState>,
    Need {
        actor, principal, ..
    }: Need<perm::ManageNotifications>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<DeliveryOut>> {
    let team = principal.has(Permission::HandleSecurityIncidents);
    let d = state
        .store
        .retry_delivery(&actor, DeliveryId(parse_id(&id)?), Timestamp::now())
        .await?;
    Ok(axum::Json(DeliveryOut::from(&d.seen_by(team))))
}
