//! Row shapes shared by both backends and their conversion into domain types.

use custos_core::account::{
    Credentials, Department, Email, MonitoringLevel, Roles, SecurityProfile, User,
};
use custos_core::audit::AuditEntry;
use custos_core::secret::{PasswordHash, Secret};
use custos_core::store::ApiToken;
use custos_core::{AuditId, DepartmentId, DomainError, StoreError, Timestamp, TokenId, UserId};
use uuid::Uuid;

/// Columns of a user, for `SELECT … FROM users u LEFT JOIN departments d …`.
pub(crate) const USER_COLS: &str = "u.id, u.email, u.display_name, u.roles, u.department_id, \
    u.disabled, (u.totp_secret IS NOT NULL) AS mfa_enabled, u.created_at, u.updated_at";

/// Profile columns of the user's department (all NULL without one).
pub(crate) const PROFILE_COLS: &str = "d.mfa_required, d.session_lifetime_minutes, \
    d.idle_timeout_minutes, d.access_two_approvals, d.monitoring_level";

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    id: Uuid,
    name: String,
    description: String,
    mfa_required: bool,
    session_lifetime_minutes: i64,
    idle_timeout_minutes: i64,
    access_two_approvals: bool,
    monitoring_level: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<DepartmentRow> for Department {
    type Error = StoreError;
    fn try_from(r: DepartmentRow) -> Result<Self, StoreError> {
        Ok(Department {
            id: DepartmentId(r.id),
            name: r.name,
            description: r.description,
            profile: SecurityProfile {
                mfa_required: r.mfa_required,
                session_lifetime_minutes: r.session_lifetime_minutes,
                idle_timeout_minutes: r.idle_timeout_minutes,
                access_two_approvals: r.access_two_approvals,
                monitoring_level: MonitoringLevel::parse(&r.monitoring_level)?,
            },
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    roles: String,
    department_id: Option<Uuid>,
    disabled: bool,
    mfa_enabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            email: Email::parse(&r.email)?,
            display_name: r.display_name,
            roles: Roles::parse_list(&r.roles)?,
            department_id: r.department_id.map(DepartmentId),
            disabled: r.disabled,
            mfa_enabled: r.mfa_enabled,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProfileRow {
    mfa_required: Option<bool>,
    session_lifetime_minutes: Option<i64>,
    idle_timeout_minutes: Option<i64>,
    access_two_approvals: Option<bool>,
    monitoring_level: Option<String>,
}

impl ProfileRow {
    /// The department's profile, or the default profile for users without a department.
    pub(crate) fn into_profile(self) -> Result<SecurityProfile, DomainError> {
        match (
            self.mfa_required,
            self.session_lifetime_minutes,
            self.idle_timeout_minutes,
            self.access_two_approvals,
            self.monitoring_level,
        ) {
            (Some(mfa), Some(life), Some(idle), Some(two), Some(level)) => Ok(SecurityProfile {
                mfa_required: mfa,
                session_lifetime_minutes: life,
                idle_timeout_minutes: idle,
                access_two_approvals: two,
                monitoring_level: MonitoringLevel::parse(&level)?,
            }),
            _ => Ok(SecurityProfile::default()),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    #[sqlx(flatten)]
    profile: ProfileRow,
    password_hash: String,
    totp_secret: Option<String>,
}

impl TryFrom<CredentialsRow> for Credentials {
    type Error = StoreError;
    fn try_from(r: CredentialsRow) -> Result<Self, StoreError> {
        Ok(Credentials {
            user: r.user.try_into()?,
            password_hash: PasswordHash::from_stored(r.password_hash),
            totp_secret: r.totp_secret.map(Secret::new),
            profile: r.profile.into_profile()?,
        })
    }
}

pub(crate) const TOKEN_COLS: &str =
    "t.id, t.user_id, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: TokenId(r.id),
            user_id: UserId(r.user_id),
            name: r.name,
            created_at: Timestamp(r.created_at),
            expires_at: r.expires_at.map(Timestamp),
            last_used_at: r.last_used_at.map(Timestamp),
            revoked_at: r.revoked_at.map(Timestamp),
        }
    }
}

pub(crate) const AUDIT_COLS: &str =
    "id, seq, at, actor, actor_id, action, entity_type, entity_id, changes, prev_hash, hash";

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: Uuid,
    seq: Option<i64>,
    at: i64,
    actor: String,
    actor_id: Option<Uuid>,
    action: String,
    entity_type: String,
    entity_id: String,
    changes: String,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: AuditId(r.id),
            seq: r.seq,
            at: Timestamp(r.at),
            actor: r.actor,
            actor_id: r.actor_id.map(UserId),
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            changes: r.changes,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The audit view of a department: every field, as recorded in change sets.
pub(crate) fn department_view(d: &Department) -> serde_json::Value {
    serde_json::json!({
        "name": d.name,
        "description": d.description,
        "mfa_required": d.profile.mfa_required,
        "session_lifetime_minutes": d.profile.session_lifetime_minutes,
        "idle_timeout_minutes": d.profile.idle_timeout_minutes,
        "access_two_approvals": d.profile.access_two_approvals,
        "monitoring_level": d.profile.monitoring_level.as_str(),
    })
}

/// The audit view of a user: never the password hash or MFA secret.
pub(crate) fn user_view(u: &User) -> serde_json::Value {
    serde_json::json!({
        "email": u.email.as_str(),
        "display_name": u.display_name,
        "roles": u.roles.to_list(),
        "department_id": u.department_id.map(|d| d.to_string()),
        "disabled": u.disabled,
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    session_id: Uuid,
    stage: String,
    csrf_token: String,
    user_agent: String,
    session_created_at: i64,
    last_seen_at: i64,
    #[sqlx(flatten)]
    user: UserRow,
    #[sqlx(flatten)]
    profile: ProfileRow,
}

impl TryFrom<SessionRow> for custos_core::store::SessionRecord {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: custos_core::SessionId(r.session_id),
            stage: custos_core::store::SessionStage::parse(&r.stage).ok_or_else(|| {
                StoreError::Internal(format!("unknown session stage {}", r.stage))
            })?,
            csrf_token: r.csrf_token,
            user_agent: r.user_agent,
            created_at: Timestamp(r.session_created_at),
            last_seen_at: Timestamp(r.last_seen_at),
            user: r.user.try_into()?,
            profile: r.profile.into_profile()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenOwnerRow {
    token_id: Uuid,
    name: String,
    token_created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    #[sqlx(flatten)]
    user: UserRow,
}

impl TryFrom<TokenOwnerRow> for custos_core::store::TokenOwner {
    type Error = StoreError;
    fn try_from(r: TokenOwnerRow) -> Result<Self, StoreError> {
        let user: User = r.user.try_into()?;
        Ok(Self {
            token: ApiToken {
                id: TokenId(r.token_id),
                user_id: user.id,
                name: r.name,
                created_at: Timestamp(r.token_created_at),
                expires_at: r.expires_at.map(Timestamp),
                last_used_at: r.last_used_at.map(Timestamp),
                revoked_at: r.revoked_at.map(Timestamp),
            },
            user,
        })
    }
}

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

use custos_core::CiId;
use custos_core::classification::{Classification, Derived, Effective, Level};

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

/// `$first, $first+1, …` placeholders for an IN list of `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `LIMIT n` as a literal. SQLite (3.51) marks a statement whose LIMIT is a bound
/// parameter to be re-prepared whenever that parameter is bound again, i.e. on every
/// execution (measured: ~10 % of an incident list's CPU); a literal keeps the cached plan.
/// Page sizes are few, so the statement cache holds one statement per size.
pub(crate) fn limit(n: i64) -> String {
    format!("LIMIT {n}")
}

/// `($1, $2), ($3, $4), …`: the VALUES lists of a multi-row insert of `rows` rows with
/// `per` columns each.
pub(crate) fn value_lists(rows: usize, per: usize) -> String {
    value_lists_from(1, rows, per)
}

/// `sql` with its parameters written `?` instead of `$1, $2, …, $n`, when each of those
/// occurs once and in that order (outside quoted literals), which keeps their meaning;
/// otherwise `sql` unchanged. For SQLite: sqlx asks SQLite for the name of every
/// parameter it binds, and SQLite finds a numbered parameter's name by walking the list of
/// all of them, so binding a multi-row statement of n parameters costs O(n²).
/// Anonymous parameters have no name to find.
pub(crate) fn anonymous_params(sql: String) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let (mut expect, mut last, mut i) = (1usize, 0usize, 0usize);
    let mut quoted = false;
    while i < b.len() {
        match b[i] {
            b'\'' => quoted = !quoted,
            b'$' if !quoted && b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i + 1;
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                if sql[i + 1..j].parse::<usize>().ok() != Some(expect) {
                    return sql;
                }
                expect += 1;
                out.push_str(&sql[last..i]);
                out.push('?');
                last = j;
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&sql[last..]);
    out
}

/// [`value_lists`] numbering its parameters from `$first`.
pub(crate) fn value_lists_from(first: usize, rows: usize, per: usize) -> String {
    (0..rows)
        .map(|k| format!("({})", placeholders(first + k * per, per)))
        .collect::<Vec<_>>()
        .join(", ")
}

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

#[cfg(test)]
mod tests {
    use super::anonymous_params as anon;

    #[test]
    fn numbered_parameters_in_order_become_anonymous() {
        assert_eq!(
            anon(format!(
                "INSERT INTO t (a, b) VALUES {}",
                super::value_lists(2, 2)
            )),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            anon("SELECT '$2' FROM t WHERE a = $1 AND b = $2 AND c = 'it''s $9'".into()),
            "SELECT '$2' FROM t WHERE a = ? AND b = ? AND c = 'it''s $9'"
        );
        assert_eq!(anon("SELECT 1".into()), "SELECT 1");
    }

    #[test]
    fn anything_else_is_left_as_it_is() {
        for sql in [
            "SELECT $2, $1",
            "SELECT $1 WHERE x = $1",
            "SELECT $1, $3",
            "INSERT INTO t SELECT $2 WHERE a = $1",
        ] {
            assert_eq!(anon(sql.into()), sql);
        }
    }
}
