//! Row shapes of controls, implementations and evidence, and the audit view of an
//! implementation.

use custos_core::CiId;
use custos_core::{StoreError, Timestamp, UserId};
use uuid::Uuid;

pub(crate) const CONTROL_COLS: &str = "k.id, k.catalog_id, k.control_id, k.label, k.title, k.family, \
    k.parent_control_id, k.statement, k.guidance, k.function, k.function_source";

#[derive(sqlx::FromRow, Clone)]
pub(crate) struct ControlRow {
    pub(crate) id: Uuid,
    catalog_id: Uuid,
    pub(crate) control_id: String,
    label: String,
    title: String,
    family: String,
    parent_control_id: Option<String>,
    statement: String,
    guidance: String,
    function: String,
    function_source: String,
}

impl TryFrom<ControlRow> for custos_core::controls::Control {
    type Error = StoreError;
    fn try_from(r: ControlRow) -> Result<Self, StoreError> {
        let function_source = match r.function_source.as_str() {
            "catalog" => "catalog",
            "manual" => "manual",
            _ => "default",
        };
        Ok(Self {
            id: custos_core::ControlId(r.id),
            catalog_id: custos_core::CatalogId(r.catalog_id),
            function_source,
            spec: custos_core::controls::ControlSpec {
                control_id: r.control_id,
                label: r.label,
                title: r.title,
                family: r.family,
                parent: r.parent_control_id,
                statement: r.statement,
                guidance: r.guidance,
                function: custos_core::controls::Function::parse(&r.function)?,
                function_from_catalog: function_source == "catalog",
            },
        })
    }
}

pub(crate) const IMPL_COLS: &str = "i.ci_id, i.control_ref, i.status, i.justification, i.evidence, i.links, i.owner_id, \
    i.last_verified_at, i.next_review_at, i.inheritable, i.updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ImplRow {
    ci_id: Uuid,
    control_ref: Uuid,
    status: String,
    justification: String,
    evidence: String,
    links: String,
    owner_id: Option<Uuid>,
    last_verified_at: Option<i64>,
    next_review_at: Option<i64>,
    inheritable: bool,
    updated_at: i64,
}

impl TryFrom<ImplRow> for custos_core::measures::Implementation {
    type Error = StoreError;
    fn try_from(r: ImplRow) -> Result<Self, StoreError> {
        Ok(Self {
            ci_id: CiId(r.ci_id),
            control_id: custos_core::ControlId(r.control_ref),
            status: custos_core::measures::ImplStatus::parse(&r.status)?,
            justification: r.justification,
            evidence: r.evidence,
            links: serde_json::from_str(&r.links).unwrap_or_default(),
            owner_id: r.owner_id.map(UserId),
            last_verified_at: r.last_verified_at.map(Timestamp),
            next_review_at: r.next_review_at.map(Timestamp),
            inheritable: r.inheritable,
            updated_at: Timestamp(r.updated_at),
        })
    }
}

pub(crate) fn impl_view(i: &custos_core::measures::Implementation) -> serde_json::Value {
    serde_json::json!({
        "status": i.status.as_str(),
        "justification": i.justification,
        "evidence": i.evidence,
        "links": i.links,
        "owner_id": i.owner_id.map(|u| u.to_string()),
        "last_verified_at": i.last_verified_at.map(|t| t.0),
        "next_review_at": i.next_review_at.map(|t| t.0),
        "inheritable": i.inheritable,
    })
}

pub(crate) const EVIDENCE_COLS: &str =
    "id, ci_id, control_ref, file_name, content_type, size, sha256, uploaded_by, uploaded_at";

#[derive(sqlx::FromRow)]
pub(crate) struct EvidenceRow {
    id: Uuid,
    ci_id: Uuid,
    control_ref: Uuid,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    uploaded_by: String,
    uploaded_at: i64,
}

impl From<EvidenceRow> for custos_core::measures::EvidenceFile {
    fn from(r: EvidenceRow) -> Self {
        Self {
            id: custos_core::EvidenceId(r.id),
            ci_id: CiId(r.ci_id),
            control_id: custos_core::ControlId(r.control_ref),
            file_name: r.file_name,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            uploaded_by: r.uploaded_by,
            uploaded_at: Timestamp(r.uploaded_at),
        }
    }
}
