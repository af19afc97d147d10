//! The REST API under `/api/v1/`. Each resource module exposes `router()`; the OpenAPI
//! document is generated from the handlers' annotations.

use crate::http::doc;
use crate::http::error::Problem;
use crate::http::state::AppState;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Custos API",
        description = "IT service management with information security in every process. \
                       Authenticate with `Authorization: Bearer <token>`; errors are \
                       application/problem+json (RFC 9457); lists are paginated with \
                       `limit` and `cursor` (pass back `next_cursor`).",
        license(name = "AGPL-3.0-or-later")
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(
        Problem,
        doc::IncidentKey,
        doc::UserKey,
        doc::ReportPeriod,
        doc::Instant,
        doc::TableFormat,
        doc::ReportFormat,
        doc::ExportKind,
        doc::ImpactDirection,
        doc::GapScope,
        doc::CiLifecycle
    ))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// Every API route with its OpenAPI description, paths relative to `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::accounts::api::router())
        .merge(crate::audit::api::router())
        .merge(crate::cmdb::api::router())
        .merge(crate::measures::api::router())
        .merge(crate::service_levels::api::router())
        .merge(crate::incidents::api::router())
        .merge(crate::notifications::api::router())
        .merge(crate::problems::api::router())
        .merge(crate::announcements::api::router())
}

/// The OpenAPI document as served and committed (`docs/openapi.json`).
pub fn openapi_json() -> String {
    let (_, doc) = router().split_for_parts();
    render_openapi(&doc)
}

/// The document as JSON, with every `allOf` that a `#[serde(flatten)]` field produced
/// merged into one object schema. utoipa keeps the flattened type's own
/// `additionalProperties: false` inside the `allOf`, which then admits no document at all
/// (the outer type's properties are not the flattened type's); merged, the schema says
/// what the server reads and writes.
pub fn render_openapi(doc: &utoipa::openapi::OpenApi) -> String {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    let mut doc = doc.clone();
    if let Some(c) = doc.components.as_mut() {
        let all = c.schemas.clone();
        for s in c.schemas.values_mut() {
            if let RefOr::T(Schema::AllOf(a)) = &*s
                && let Some(o) = merge_all_of(a, |name| all.get(name))
            {
                *s = RefOr::T(Schema::Object(o));
            }
        }
    }
    doc.to_pretty_json().unwrap_or_default()
}

/// One object schema for an `allOf` of object schemas (references resolved by `schema`),
/// properties in order; `None` when a member is anything else, which is then left as it is.
fn merge_all_of<'a>(
    a: &'a utoipa::openapi::schema::AllOf,
    schema: impl Fn(&str) -> Option<&'a utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
) -> Option<utoipa::openapi::schema::Object> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, Schema, SchemaType, Type};
    let mut merged: Option<utoipa::openapi::schema::Object> = None;
    let mut closed = false;
    for item in &a.items {
        let item = match item {
            RefOr::Ref(r) => schema(r.ref_location.strip_prefix("#/components/schemas/")?)?,
            t => t,
        };
        let RefOr::T(Schema::Object(o)) = item else {
            return None;
        };
        if o.schema_type != SchemaType::Type(Type::Object) {
            return None;
        }
        closed |= matches!(
            o.additional_properties.as_deref(),
            Some(AdditionalProperties::FreeForm(false))
        );
        match &mut merged {
            None => merged = Some(o.clone()),
            Some(m) => {
                m.properties.extend(o.properties.clone());
                m.required.extend(o.required.iter().cloned());
            }
        }
    }
    let mut m = merged?;
    m.title = a.title.clone();
    m.description = a.description.clone();
    m.additional_properties = closed.then(|| Box::new(AdditionalProperties::FreeForm(false)));
    Some(m)
}

/// Pagination parameters accepted by every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
}

impl PageParams {
    pub fn request(&self) -> custos_core::page::PageRequest {
        custos_core::page::PageRequest::new(self.limit, self.cursor)
    }
}

/// Error responses common to authenticated routes, for the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemDoc(Problem);
