//! `/announcements`: service notices. Everyone signed in lists and reads the ones shown to
//! them now; `manage_announcements` writes them and lists them all (`?active=`).

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::doc;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::{parse_id, parse_rfc3339, rfc3339};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::announcement::{Announcement, AnnouncementInput, Audience, Severity};
use custos_core::page::PageRequest;
use custos_core::{AnnouncementId, CiId, DomainError, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_announcements, create_announcement))
        .routes(routes!(
            get_announcement,
            put_announcement,
            delete_announcement
        ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnnouncementOut {
    pub id: Uuid,
    pub title: String,
    /// Plain text; shown escaped, line breaks kept.
    pub body: String,
    pub severity: Severity,
    /// The affected business service (a CI), if any.
    pub service_id: Option<Uuid>,
    /// Shown from (inclusive), RFC 3339.
    pub starts_at: String,
    /// Shown until (exclusive), RFC 3339.
    pub ends_at: String,
    pub audience: Audience,
    /// Whether its window contains now.
    pub active: bool,
    pub created_by: Option<Uuid>,
    pub created_at: String,
    pub updated_at: String,
}

impl AnnouncementOut {
    fn of(a: &Announcement, now: Timestamp) -> Self {
        Self {
            id: a.id.0,
            title: a.title.clone(),
            body: a.body.clone(),
            severity: a.severity,
            service_id: a.service_id.map(|s| s.0),
            starts_at: rfc3339(a.starts_at),
            ends_at: rfc3339(a.ends_at),
            audience: a.audience,
            active: a.phase(now) == custos_core::announcement::Phase::Active,
            created_by: a.created_by.map(|u| u.0),
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnnouncementList {
    pub items: Vec<AnnouncementOut>,
    pub next_cursor: Option<Uuid>,
}

/// What a person sets on an announcement; `PUT` replaces every field.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementIn {
    /// 1–200 characters.
    pub title: String,
    /// Plain text, up to 10 000 characters.
    #[serde(default)]
    pub body: String,
    pub severity: Severity,
    /// A business_service CI.
    #[serde(default)]
    pub service_id: Option<Uuid>,
    /// RFC 3339.
    #[schema(value_type = doc::Instant)]
    pub starts_at: String,
    /// RFC 3339, after `starts_at`.
    #[schema(value_type = doc::Instant)]
    pub ends_at: String,
    pub audience: Audience,
}

impl AnnouncementIn {
    fn validate(&self) -> Result<AnnouncementInput, DomainError> {
        let instant = |field: &str, s: &str| {
            parse_rfc3339(s).ok_or_else(|| DomainError::new(field, "must be an RFC 3339 instant"))
        };
        AnnouncementInput::new(
            &self.title,
            &self.body,
            self.severity,
            self.service_id.map(CiId),
            instant("starts_at", &self.starts_at)?,
            instant("ends_at", &self.ends_at)?,
            self.audience,
        )
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnnouncementParams {
    /// `true`: only those shown now; `false`: only upcoming and past ones (needs
    /// `manage_announcements`); absent: all a manager may see, or what is shown to a reader.
    pub active: Option<bool>,
    /// Items per page, 1–500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// Lists announcements, newest first: to a reader the ones shown to them now (window and
/// audience), to `manage_announcements` every one, filtered by `active`.
#[utoipa::path(get, path = "/announcements", tag = "announcements", params(AnnouncementParams),
    responses((status = 200, description = "OK", body = AnnouncementList), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission (`active=false` needs manage_announcements)", body = Problem, content_type = "application/problem+json")))]
async fn list_announcements(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::SelfService>,
    Query(q): Query<AnnouncementParams>,
) -> ApiResult<axum::Json<AnnouncementList>> {
    let now = Timestamp::now();
    let page = super::list(
        state.store.as_ref(),
        &principal,
        q.active,
        PageRequest::new(q.limit, q.cursor),
        now,
    )
    .await?;
    Ok(axum::Json(AnnouncementList {
        items: page
            .items
            .iter()
            .map(|a| AnnouncementOut::of(a, now))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Writes an announcement.
#[utoipa::path(post, path = "/announcements", tag = "announcements", request_body = AnnouncementIn,
    responses((status = 201, description = "Created", body = AnnouncementOut), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn create_announcement(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageAnnouncements>,
    Json(body): Json<AnnouncementIn>,
) -> ApiResult<(StatusCode, axum::Json<AnnouncementOut>)> {
    let a = super::create(state.store.as_ref(), &actor, body.validate()?).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AnnouncementOut::of(&a, Timestamp::now())),
    ))
}

/// One announcement: to a reader only while it is shown to them (404 otherwise).
#[utoipa::path(get, path = "/announcements/{id}", tag = "announcements", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = AnnouncementOut), (status = 400, description = "Invalid id", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_announcement(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::SelfService>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AnnouncementOut>> {
    let now = Timestamp::now();
    let id = AnnouncementId(parse_id(&id)?);
    let a = super::get(state.store.as_ref(), &principal, id, now).await?;
    Ok(axum::Json(AnnouncementOut::of(&a, now)))
}

/// Replaces an announcement's fields.
#[utoipa::path(put, path = "/announcements/{id}", tag = "announcements", params(("id" = Uuid, Path)), request_body = AnnouncementIn,
    responses((status = 200, description = "OK", body = AnnouncementOut), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn put_announcement(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageAnnouncements>,
    Path(id): Path<String>,
    Json(body): Json<AnnouncementIn>,
) -> ApiResult<axum::Json<AnnouncementOut>> {
    let id = AnnouncementId(parse_id(&id)?);
    let a = super::update(state.store.as_ref(), &actor, id, body.validate()?).await?;
    Ok(axum::Json(AnnouncementOut::of(&a, Timestamp::now())))
}

/// Withdraws an announcement.
#[utoipa::path(delete, path = "/announcements/{id}", tag = "announcements", params(("id" = Uuid, Path)),
    responses((status = 204, description = "No content"), (status = 400, description = "Invalid id", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn delete_announcement(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageAnnouncements>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    super::delete(state.store.as_ref(), &actor, AnnouncementId(parse_id(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}
