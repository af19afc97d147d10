//! Accounts and organisation: roles, users, departments and their security profiles,
//! e-mail addresses and the password policy.

use crate::error::DomainError;
use crate::ids::{DepartmentId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The roles of the product map. A user has one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Requester,
    Agent,
    SecurityManager,
    ServiceOwner,
    CustomerRepresentative,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Requester,
        Role::Agent,
        Role::SecurityManager,
        Role::ServiceOwner,
        Role::CustomerRepresentative,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Agent => "agent",
            Role::SecurityManager => "security_manager",
            Role::ServiceOwner => "service_owner",
            Role::CustomerRepresentative => "customer_representative",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Requester => "Requester",
            Role::Agent => "Agent",
            Role::SecurityManager => "Security manager",
            Role::ServiceOwner => "Service owner",
            Role::CustomerRepresentative => "Customer representative",
            Role::Auditor => "Auditor",
            Role::Admin => "Administrator",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                DomainError::new(
                    "roles",
                    format!("unknown role {s:?}; expected one of {}", all.join(", ")),
                )
            })
    }
}

/// A non-empty, de-duplicated, sorted set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn new(mut roles: Vec<Role>) -> Result<Self, DomainError> {
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(DomainError::new("roles", "at least one role is required"));
        }
        Ok(Self(roles))
    }

    /// Parses the storage form: comma-separated role names.
    pub fn parse_list(s: &str) -> Result<Self, DomainError> {
        let roles = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(roles)
    }

    pub fn to_list(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }
}

/// A syntactically plausible, lower-cased e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim().to_lowercase();
        let err = |m: &str| DomainError::new("email", m.to_string());
        if s.len() > 254 {
            return Err(err("is longer than 254 characters"));
        }
        let (local, domain) = s.split_once('@').ok_or_else(|| err("must contain @"))?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(err("must look like name@example.org"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(err("must have a domain such as example.org"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("must not contain spaces"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The password policy: at least 12 characters, at most 256, not made of one repeated
/// character, not containing the account's e-mail name, and not a well-known password.
pub fn check_password_policy(password: &str, email: &Email) -> Result<(), DomainError> {
    let err = |m: &str| DomainError::new("password", m.to_string());
    let len = password.chars().count();
    if len < 12 {
        return Err(err("must be at least 12 characters long"));
    }
    if len > 256 {
        return Err(err("must be at most 256 characters long"));
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err(err("must not repeat a single character"));
    }
    let lower = password.to_lowercase();
    let local = email.as_str().split('@').next().unwrap_or_default();
    if local.len() >= 4 && lower.contains(local) {
        return Err(err("must not contain your e-mail name"));
    }
    const COMMON: [&str; 8] = [
        "password",
        "123456789",
        "qwertyuiop",
        "letmein",
        "welcome",
        "iloveyou",
        "admin123",
        "changeme",
    ];
    // A common password with only digits or punctuation around it is still common.
    let letters = lower.chars().filter(|c| c.is_alphabetic()).count();
    if COMMON
        .iter()
        .any(|c| lower.contains(c) && letters <= c.chars().filter(|x| x.is_alphabetic()).count())
    {
        return Err(err("is too common"));
    }
    Ok(())
}

/// How closely a department is watched (drives event and access rules in later modules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringLevel {
    Standard,
    Elevated,
    High,
}

impl MonitoringLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitoringLevel::Standard => "standard",
            MonitoringLevel::Elevated => "elevated",
            MonitoringLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "standard" => Ok(Self::Standard),
            "elevated" => Ok(Self::Elevated),
            "high" => Ok(Self::High),
            _ => Err(DomainError::new(
                "monitoring_level",
                "must be one of standard, elevated, high",
            )),
        }
    }
}

/// The security profile every department carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityProfile {
    pub mfa_required: bool,
    /// Absolute lifetime of a web session, in minutes.
    pub session_lifetime_minutes: i64,
    /// A web session idle longer than this, in minutes, ends.
    pub idle_timeout_minutes: i64,
    /// Whether access requests need two approvals instead of one.
    pub access_two_approvals: bool,
    pub monitoring_level: MonitoringLevel,
}

impl SecurityProfile {
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(5..=43_200).contains(&self.session_lifetime_minutes) {
            return Err(DomainError::new(
                "session_lifetime_minutes",
                "must be between 5 and 43200 (30 days)",
            ));
        }
        if !(1..=self.session_lifetime_minutes).contains(&self.idle_timeout_minutes) {
            return Err(DomainError::new(
                "idle_timeout_minutes",
                "must be between 1 and the session lifetime",
            ));
        }
        Ok(())
    }
}

impl Default for SecurityProfile {
    /// The profile for users without a department: strict enough to be safe.
    fn default() -> Self {
        Self {
            mfa_required: false,
            session_lifetime_minutes: 8 * 60,
            idle_timeout_minutes: 30,
            access_two_approvals: false,
            monitoring_level: MonitoringLevel::Standard,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    pub description: String,
    pub profile: SecurityProfile,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Free text with control characters (other than line breaks and tabs) removed, trimmed
/// and cut to `max` characters.
pub fn clean_text(s: &str, max: usize) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(max)
        .collect()
}

/// A validated department name: 1–100 characters, trimmed.
pub fn check_name(field: &str, name: &str, max: usize) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::new(field, "must not be empty"));
    }
    if name.chars().count() > max {
        return Err(DomainError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDepartment {
    pub name: String,
    pub description: String,
    pub profile: SecurityProfile,
}

impl NewDepartment {
    pub fn new(
        name: &str,
        description: &str,
        profile: SecurityProfile,
    ) -> Result<Self, DomainError> {
        profile.validate()?;
        Ok(Self {
            name: check_name("name", name, 100)?,
            description: clean_text(description, 2000),
            profile,
        })
    }
}

/// A user as the rest of the system sees it: never the password hash or MFA secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: String,
    pub roles: Roles,
    pub department_id: Option<DepartmentId>,
    pub disabled: bool,
    pub mfa_enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone)]
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    pub roles: Roles,
    pub department_id: Option<DepartmentId>,
    pub password_hash: crate::secret::PasswordHash,
}

/// Changes an administrator may make to an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub roles: Option<Roles>,
    pub department_id: Option<Option<DepartmentId>>,
    pub disabled: Option<bool>,
}

/// What authentication needs about a user, secrets included. Only the store and the
/// login flow see this.
#[derive(Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: crate::secret::PasswordHash,
    pub totp_secret: Option<crate::secret::Secret>,
    pub profile: SecurityProfile,
}

/// Role names as given (API, form, CLI) → a validated role set.
pub fn parse_roles(names: &[String]) -> Result<Roles, DomainError> {
    let roles = names
        .iter()
        .map(|n| n.parse::<Role>())
        .collect::<Result<Vec<_>, _>>()?;
    Roles::new(roles)
}

/// Builds a validated new account (shared by the API, the admin pages and the CLI).
pub fn new_user(
    email: &str,
    display_name: Option<&str>,
    roles: Roles,
    department_id: Option<DepartmentId>,
    password: &str,
) -> Result<NewUser, DomainError> {
    let email = Email::parse(email)?;
    check_password_policy(password, &email)?;
    let display = match display_name.map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => check_name("display_name", d, 100)?,
        None => email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    Ok(NewUser {
        email,
        display_name: display,
        roles,
        department_id,
        password_hash: crate::secret::PasswordHash::create(password),
    })
}

/// An administrator may not lock themselves out.
pub fn guard_self_lockout(
    p: &crate::authz::Principal,
    id: UserId,
    patch: &UserPatch,
) -> Result<(), DomainError> {
    if p.user_id != id {
        return Ok(());
    }
    if patch.disabled == Some(true) {
        return Err(DomainError::new(
            "disabled",
            "you cannot disable your own account",
        ));
    }
    if patch
        .roles
        .as_ref()
        .is_some_and(|r| !r.contains(Role::Admin))
    {
        return Err(DomainError::new(
            "roles",
            "you cannot remove your own admin role",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_sort_and_dedup() {
        let r = Roles::parse_list("agent,admin,agent").unwrap();
        assert_eq!(r.to_list(), "agent,admin");
        assert!(Roles::parse_list("").is_err());
        assert!(
            Roles::parse_list("root")
                .unwrap_err()
                .message
                .contains("unknown role")
        );
    }

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.ORG ").unwrap().as_str(),
            "ann@example.org"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "a b@example.org",
            "a@b@c.de",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn password_policy() {
        let e = Email::parse("annika@example.org").unwrap();
        assert!(check_password_policy("short", &e).is_err());
        assert!(check_password_policy("aaaaaaaaaaaaaaaa", &e).is_err());
        assert!(check_password_policy("annika-is-great-2026", &e).is_err());
        assert!(check_password_policy("password1234", &e).is_err());
        assert!(check_password_policy("correct horse battery", &e).is_ok());
    }

    #[test]
    fn profile_bounds() {
        let mut p = SecurityProfile::default();
        assert!(p.validate().is_ok());
        p.idle_timeout_minutes = p.session_lifetime_minutes + 1;
        assert_eq!(p.validate().unwrap_err().field, "idle_timeout_minutes");
        p.session_lifetime_minutes = 1;
        assert_eq!(p.validate().unwrap_err().field, "session_lifetime_minutes");
    }

    #[test]
    fn an_administrator_cannot_lock_themselves_out() {
        let me = UserId::new();
        let admin = crate::authz::Principal {
            user_id: me,
            email: Email::parse("admin@example.org").unwrap(),
            display_name: "Admin".into(),
            roles: Roles::new(vec![Role::Admin]).unwrap(),
            department_id: None,
            method: crate::authz::AuthMethod::Session,
        };
        let disable = UserPatch {
            disabled: Some(true),
            ..UserPatch::default()
        };
        assert_eq!(
            guard_self_lockout(&admin, me, &disable).unwrap_err().field,
            "disabled"
        );
        assert!(guard_self_lockout(&admin, UserId::new(), &disable).is_ok());
        let demote = UserPatch {
            roles: Some(Roles::new(vec![Role::Agent]).unwrap()),
            ..UserPatch::default()
        };
        assert_eq!(
            guard_self_lockout(&admin, me, &demote).unwrap_err().field,
            "roles"
        );
    }

    #[test]
    fn a_new_user_is_checked_and_named() {
        let roles = parse_roles(&["agent".into()]).unwrap();
        let u = new_user(
            "ada@example.org",
            None,
            roles.clone(),
            None,
            "correct horse battery staple",
        )
        .unwrap();
        assert_eq!(u.display_name, "ada");
        let Err(e) = new_user("nope", None, roles, None, "correct horse battery staple") else {
            panic!("an address without @ was accepted")
        };
        assert_eq!(e.field, "email");
        assert_eq!(parse_roles(&["wizard".into()]).unwrap_err().field, "roles");
    }
}
