//! Row shapes of accounts and the audit log, and their audit views.

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
