//! Accounts: departments, users, sessions, MFA and API tokens.

use crate::account::{
    Credentials, Department, NewDepartment, NewUser, SecurityProfile, User, UserPatch,
};
use crate::authz::Actor;
use crate::error::StoreResult;
use crate::ids::{DepartmentId, SessionId, TokenId, UserId};
use crate::page::{Page, PageRequest};
use crate::secret::{PasswordHash, Secret};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::Serialize;

/// How far a web session has come through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    /// Password accepted; the TOTP code is still due.
    NeedsTotp,
    /// Password accepted; the department requires MFA and the user has none: enrolment only.
    NeedsEnrolment,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::NeedsTotp => "needs_totp",
            SessionStage::NeedsEnrolment => "needs_enrolment",
            SessionStage::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "needs_totp" => Some(Self::NeedsTotp),
            "needs_enrolment" => Some(Self::NeedsEnrolment),
            "full" => Some(Self::Full),
            _ => None,
        }
    }
}

pub struct NewSession {
    pub id: SessionId,
    /// SHA-256 of the cookie value; the value itself is never stored.
    pub token_hash: String,
    pub user_id: UserId,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub user_agent: String,
    pub now: Timestamp,
}

/// A session with its user and the user's current department profile, which decides the
/// lifetime and idle timeout (so a stricter profile applies at once).
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub user_agent: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub user: User,
    pub profile: SecurityProfile,
}

impl SessionRecord {
    /// Whether the session is still valid at `now` under its profile. Sessions that have not
    /// finished signing in live at most 10 minutes.
    pub fn is_live(&self, now: Timestamp) -> bool {
        let (lifetime, idle) = match self.stage {
            SessionStage::Full => (
                self.profile.session_lifetime_minutes * 60,
                self.profile.idle_timeout_minutes * 60,
            ),
            _ => (600, 600),
        };
        !self.user.disabled
            && now < self.created_at.plus_secs(lifetime)
            && now < self.last_seen_at.plus_secs(idle)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: SessionId,
    pub stage: SessionStage,
    pub user_agent: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

pub struct NewToken {
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A token lookup's answer: the token and the user it acts for.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token: ApiToken,
    pub user: User,
}

#[async_trait]
pub trait DepartmentStore {
    async fn create_department(&self, actor: &Actor, d: NewDepartment) -> StoreResult<Department>;
    async fn update_department(
        &self,
        actor: &Actor,
        id: DepartmentId,
        d: NewDepartment,
    ) -> StoreResult<Department>;
    /// Refused (conflict) while users belong to the department.
    async fn delete_department(&self, actor: &Actor, id: DepartmentId) -> StoreResult<()>;
    async fn department(&self, id: DepartmentId) -> StoreResult<Department>;
    async fn department_by_name(&self, name: &str) -> StoreResult<Department>;
    async fn list_departments(&self, page: PageRequest) -> StoreResult<Page<Department>>;
}

#[async_trait]
pub trait UserStore {
    async fn create_user(&self, actor: &Actor, u: NewUser) -> StoreResult<User>;
    async fn update_user(&self, actor: &Actor, id: UserId, patch: UserPatch) -> StoreResult<User>;
    async fn set_password(&self, actor: &Actor, id: UserId, hash: PasswordHash) -> StoreResult<()>;
    async fn user(&self, id: UserId) -> StoreResult<User>;
    async fn list_users(&self, page: PageRequest) -> StoreResult<Page<User>>;
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Credentials>;
    async fn credentials(&self, id: UserId) -> StoreResult<Credentials>;
}

#[async_trait]
pub trait AuthStore {
    /// Records that a sign-in attempt (password or second factor) for `email` starts, and
    /// returns its id and the number of attempts in the window since `since`, this one
    /// included. Inserting before counting means concurrent attempts see each other, so a
    /// burst cannot slip past the limit. A successful attempt is cleared again.
    async fn register_login_attempt(
        &self,
        email: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> StoreResult<(uuid::Uuid, i64)>;
    async fn clear_login_attempt(&self, id: uuid::Uuid) -> StoreResult<()>;
    /// Audits a failed login for `email` (known account or not).
    async fn record_login_failure(
        &self,
        email: &str,
        user: Option<UserId>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn login_failures_since(&self, email: &str, since: Timestamp) -> StoreResult<i64>;
    /// Audits a refused attempt during the cooling-off period.
    async fn record_login_throttled(
        &self,
        email: &str,
        user: Option<UserId>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Audits a successful sign-in and clears the failure count.
    async fn record_login_success(
        &self,
        user: &User,
        method: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Stores a not-yet-confirmed TOTP secret for enrolment.
    async fn set_pending_totp(
        &self,
        actor: &Actor,
        user: UserId,
        secret: &Secret,
    ) -> StoreResult<()>;
    async fn pending_totp(&self, user: UserId) -> StoreResult<Option<Secret>>;
    /// Turns the pending secret on, records the accepted step and replaces recovery codes.
    async fn confirm_totp(
        &self,
        actor: &Actor,
        user: UserId,
        step: i64,
        recovery_hashes: Vec<String>,
    ) -> StoreResult<()>;
    /// Atomically records `step` as used; false if it (or a later one) was used already.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Marks a recovery code used; false if it is unknown or used. Audited.
    async fn use_recovery_code(
        &self,
        actor: &Actor,
        user: UserId,
        code_hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn remaining_recovery_codes(&self, user: UserId) -> StoreResult<i64>;
    async fn disable_totp(&self, actor: &Actor, user: UserId) -> StoreResult<()>;

    async fn create_session(&self, s: NewSession) -> StoreResult<()>;
    async fn session_by_hash(&self, token_hash: &str) -> StoreResult<SessionRecord>;
    async fn touch_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()>;
    /// Ends a session server-side (logout, revocation, stage change). Audited when `actor`
    /// is a user ending one of their sessions.
    async fn delete_session(&self, actor: &Actor, user: UserId, id: SessionId) -> StoreResult<()>;
    async fn list_sessions(&self, user: UserId) -> StoreResult<Vec<SessionInfo>>;
    async fn purge_expired_sessions(&self, now: Timestamp) -> StoreResult<u64>;

    async fn create_token(
        &self,
        actor: &Actor,
        t: NewToken,
        now: Timestamp,
    ) -> StoreResult<ApiToken>;
    /// A live (unrevoked, unexpired, enabled user) token by its hash.
    async fn token_owner(&self, token_hash: &str, now: Timestamp) -> StoreResult<TokenOwner>;
    async fn touch_token(&self, id: TokenId, now: Timestamp) -> StoreResult<()>;
    async fn list_tokens(&self, user: UserId, page: PageRequest) -> StoreResult<Page<ApiToken>>;
    /// Revokes a token of `owner`. Not found if the token belongs to someone else.
    async fn revoke_token(
        &self,
        actor: &Actor,
        owner: UserId,
        id: TokenId,
        now: Timestamp,
    ) -> StoreResult<()>;
}
