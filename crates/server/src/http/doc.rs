//! Schemas of string parameters that handlers parse themselves (so that a bad value gets the
//! API's own problem+json answer, naming the field). The types only describe those strings in
//! the OpenAPI document (`value_type = …` on a parameter); the code never builds them.
#![allow(dead_code)]

/// An incident's id (UUID) or its reference: `INC-000042`, `inc-42` or the number alone.
#[derive(utoipa::ToSchema)]
#[schema(
    pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(INC-|inc-)?0*[1-9][0-9]{0,17})$"
)]
pub struct IncidentKey(String);

/// A user id (UUID), or `me` for the caller.
#[derive(utoipa::ToSchema)]
#[schema(
    pattern = "^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)]
pub struct UserKey(String);

/// A report period: a month (`2026-10`) or a quarter (`2026-Q4`), in the service's time zone.
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$")]
pub struct ReportPeriod(String);

/// An instant in RFC 3339 (`2026-11-24T09:00:00Z`).
#[derive(utoipa::ToSchema)]
#[schema(format = DateTime)]
pub struct Instant(String);

/// Answer as JSON (the default) or as CSV.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TableFormat {
    Json,
    Csv,
}

/// What an SLA report is rendered as (JSON is the default).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ReportFormat {
    Json,
    Html,
    Csv,
    Pdf,
}

/// Which records a CMDB export holds.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ExportKind {
    Cis,
    Relationships,
}

/// Which way impact analysis walks: upstream (what breaks if this CI fails) or downstream
/// (what it relies on).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ImpactDirection {
    Upstream,
    Downstream,
}

/// What a gap report covers: one CI, a service with everything it relies on, or all CIs.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GapScope {
    Ci,
    Service,
    Overall,
}

/// A configuration item's lifecycle status.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CiLifecycle {
    Planned,
    Active,
    Retired,
}
