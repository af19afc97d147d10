//! Row shapes of the CMDB: CIs with their stored levels, relationships, classification rows.

use custos_core::CiId;
use custos_core::classification::{Classification, Derived, Effective, Level};
use custos_core::{DepartmentId, StoreError, Timestamp, UserId};
use uuid::Uuid;

/// A CI's stored effective levels from its `ci_levels` row `l`, as columns after others
/// (a CI without a row there is low in every dimension, from nowhere).
macro_rules! stored_levels {
    () => {
        ", coalesce(l.eff_c, CAST(1 AS SMALLINT)) AS eff_c, coalesce(l.eff_i, CAST(1 AS SMALLINT)) AS eff_i, \
         coalesce(l.eff_a, CAST(1 AS SMALLINT)) AS eff_a, l.eff_c_source, l.eff_c_via, l.eff_i_source, \
         l.eff_i_via, l.eff_a_source, l.eff_a_via"
    };
}

/// [`stored_levels`] for queries built at run time.
pub(crate) const STORED_LEVELS: &str = stored_levels!();

/// `SELECT` of a [`CiRow`] from `cis c` with its effective levels from `ci_levels l`.
pub(crate) const CI_SELECT: &str = concat!(
    "SELECT c.id, c.ci_type, c.name, c.external_key, c.owner_id, c.department_id, c.status, \
     c.attributes, c.cls_c, c.cls_i, c.cls_a, c.cls_justification",
    stored_levels!(),
    ", c.created_at, c.updated_at FROM cis c LEFT JOIN ci_levels l ON l.id = c.id"
);

#[derive(sqlx::FromRow)]
pub(crate) struct CiRow {
    id: Uuid,
    ci_type: String,
    name: String,
    external_key: Option<String>,
    owner_id: Option<Uuid>,
    department_id: Option<Uuid>,
    status: String,
    attributes: String,
    cls_c: Option<i16>,
    cls_i: Option<i16>,
    cls_a: Option<i16>,
    cls_justification: String,
    #[sqlx(flatten)]
    eff: EffRow,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct EffRow {
    eff_c: i16,
    eff_i: i16,
    eff_a: i16,
    eff_c_source: Option<Uuid>,
    eff_c_via: Option<Uuid>,
    eff_i_source: Option<Uuid>,
    eff_i_via: Option<Uuid>,
    eff_a_source: Option<Uuid>,
    eff_a_via: Option<Uuid>,
}

fn level(v: i16) -> Result<Level, StoreError> {
    Level::from_i16(v)
        .ok_or_else(|| StoreError::Internal(format!("classification level {v} out of range")))
}

fn opt_level(v: Option<i16>) -> Result<Option<Level>, StoreError> {
    v.map(level).transpose()
}

impl EffRow {
    pub(crate) fn effective(&self) -> Result<Effective, StoreError> {
        let d = |l: i16, s: Option<Uuid>, v: Option<Uuid>| -> Result<Derived, StoreError> {
            Ok(Derived {
                level: level(l)?,
                source: s.map(CiId),
                via: v.map(CiId),
            })
        };
        Ok([
            d(self.eff_c, self.eff_c_source, self.eff_c_via)?,
            d(self.eff_i, self.eff_i_source, self.eff_i_via)?,
            d(self.eff_a, self.eff_a_source, self.eff_a_via)?,
        ])
    }
}

impl TryFrom<CiRow> for custos_core::store::CiRecord {
    type Error = StoreError;
    fn try_from(r: CiRow) -> Result<Self, StoreError> {
        Ok(Self {
            effective: r.eff.effective()?,
            ci: custos_core::cmdb::Ci {
                id: CiId(r.id),
                ci_type: r.ci_type,
                name: r.name,
                external_key: r.external_key,
                owner_id: r.owner_id.map(UserId),
                department_id: r.department_id.map(DepartmentId),
                status: custos_core::cmdb::Lifecycle::parse(&r.status)?,
                attributes: serde_json::from_str(&r.attributes).unwrap_or(serde_json::Value::Null),
                explicit: Classification {
                    confidentiality: opt_level(r.cls_c)?,
                    integrity: opt_level(r.cls_i)?,
                    availability: opt_level(r.cls_a)?,
                },
                justification: r.cls_justification,
                created_at: Timestamp(r.created_at),
                updated_at: Timestamp(r.updated_at),
            },
        })
    }
}

/// What re-propagation needs of a CI: explicit and current effective levels.
/// An inheritance edge with the child's stored levels (`rows::STORED_LEVELS`).
#[derive(sqlx::FromRow)]
pub(crate) struct ChildLevels {
    pub(crate) parent: Uuid,
    pub(crate) child: Uuid,
    #[sqlx(flatten)]
    pub(crate) eff: EffRow,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClsRow {
    pub(crate) id: Uuid,
    cls_c: Option<i16>,
    cls_i: Option<i16>,
    cls_a: Option<i16>,
    #[sqlx(flatten)]
    pub(crate) eff: EffRow,
}

impl ClsRow {
    pub(crate) fn explicit(&self) -> Result<Classification, StoreError> {
        Ok(Classification {
            confidentiality: opt_level(self.cls_c)?,
            integrity: opt_level(self.cls_i)?,
            availability: opt_level(self.cls_a)?,
        })
    }
}

pub(crate) const REL_VIEW_SQL: &str = "SELECT r.id, r.source_id, r.target_id, r.rel_type, r.created_at, \
    s.name AS source_name, s.ci_type AS source_type, t.name AS target_name, t.ci_type AS target_type \
    FROM relationships r JOIN cis s ON s.id = r.source_id JOIN cis t ON t.id = r.target_id";

#[derive(sqlx::FromRow)]
pub(crate) struct RelRow {
    id: Uuid,
    source_id: Uuid,
    target_id: Uuid,
    rel_type: String,
    created_at: i64,
}

impl TryFrom<RelRow> for custos_core::cmdb::Relationship {
    type Error = StoreError;
    fn try_from(r: RelRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: custos_core::RelationshipId(r.id),
            source_id: CiId(r.source_id),
            target_id: CiId(r.target_id),
            rel_type: custos_core::cmdb::RelType::parse(&r.rel_type)?,
            created_at: Timestamp(r.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RelViewRow {
    #[sqlx(flatten)]
    rel: RelRow,
    source_name: String,
    source_type: String,
    target_name: String,
    target_type: String,
}

impl TryFrom<RelViewRow> for custos_core::store::RelationshipView {
    type Error = StoreError;
    fn try_from(r: RelViewRow) -> Result<Self, StoreError> {
        Ok(Self {
            rel: r.rel.try_into()?,
            source_name: r.source_name,
            source_type: r.source_type,
            target_name: r.target_name,
            target_type: r.target_type,
        })
    }
}

pub(crate) fn ci_view(c: &custos_core::cmdb::Ci) -> serde_json::Value {
    serde_json::json!({
        "ci_type": c.ci_type,
        "name": c.name,
        "external_key": c.external_key,
        "owner_id": c.owner_id.map(|u| u.to_string()),
        "department_id": c.department_id.map(|d| d.to_string()),
        "status": c.status.as_str(),
        "attributes": c.attributes,
    })
}
