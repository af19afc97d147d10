//! Authorisation in one place: which role grants which permission, and the capability
//! handle ([`Actor`]) that every state-changing storage call requires. Code that has not
//! passed a permission check holds no `Actor` for a user and so cannot write as one.

use crate::account::{Email, Role, Roles};
use crate::ids::{DepartmentId, UserId};
use serde::Serialize;

/// Declares the permissions once: the enum, `ALL`, the names, and the marker types of
/// [`perm`] by which a handler's signature states what it needs.
macro_rules! permissions {
    ($($(#[doc = $doc:literal])* $name:ident => $str:literal,)*) => {
        /// What a caller may do. Routes and pages declare one each.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Permission {
            $($(#[doc = $doc])* $name,)*
        }

        impl Permission {
            pub const ALL: [Permission; 0 $(+ { let _ = $str; 1 })*] = [$(Permission::$name,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$name => $str,)*
                }
            }
        }

        /// Permission markers: `Need<perm::ReadIncidents>` in a handler's signature.
        pub mod perm {
            use super::Permission;

            pub trait Perm: Send + Sync + 'static {
                const P: Permission;
            }

            $(
                pub struct $name;
                impl Perm for $name {
                    const P: Permission = Permission::$name;
                }
            )*
        }
    };
}

permissions! {
    /// Own profile, own tokens, own sessions, own MFA: every signed-in user.
    SelfService => "self_service",
    /// List and read user accounts.
    ReadUsers => "read_users",
    /// Create users, change roles, disable accounts, revoke anyone's tokens.
    ManageUsers => "manage_users",
    /// List and read departments and their security profiles.
    ReadDepartments => "read_departments",
    /// Create and change departments and their security profiles.
    ManageDepartments => "manage_departments",
    /// Read the audit log.
    ReadAudit => "read_audit",
    /// Read the CMDB: CIs, relationships, classification, impact.
    ReadCmdb => "read_cmdb",
    /// Create, change and delete CIs and relationships.
    ManageCmdb => "manage_cmdb",
    /// Set the explicit classification of a CI (the customer's or service owner's call).
    ClassifyCis => "classify_cis",
    /// Add CI types.
    ManageCiTypes => "manage_ci_types",
    /// Read the control catalogue and baselines.
    ReadControls => "read_controls",
    /// Import catalogs and profiles, write organisation controls, set control functions.
    ManageControls => "manage_controls",
    /// Add controls to (or remove them from) what a CI is required to implement.
    ManageRequirements => "manage_requirements",
    /// Record how a CI implements a control (status, evidence, review dates).
    ManageImplementations => "manage_implementations",
    /// Map classification levels to baselines.
    ConfigureRequirements => "configure_requirements",
    /// Read the service catalogue, and the SLAs and reports of the customers one may see.
    ReadServiceLevels => "read_service_levels",
    /// See every customer's SLAs and reports, suppliers, OLAs and contracts (without it, a
    /// customer representative sees only the customers they represent).
    ReadAllServiceLevels => "read_all_service_levels",
    /// Create and change customers and suppliers.
    ManageCustomers => "manage_customers",
    /// Maintain catalogue entries, draft SLAs, OLAs and contracts, keep reports.
    ManageServiceLevels => "manage_service_levels",
    /// Record agreement to an SLA (for the customer one represents, or as service owner).
    AgreeSlas => "agree_slas",
    /// Report incidents and follow one's own reports (the requester portal).
    ReportIncidents => "report_incidents",
    /// Read incidents (security incidents only with need-to-know).
    ReadIncidents => "read_incidents",
    /// Record, assign, update and work on incidents; flag security incidents.
    ManageIncidents => "manage_incidents",
    /// The security team: sees every security incident, unflags with a reason, runs the
    /// security procedure.
    HandleSecurityIncidents => "handle_security_incidents",
    /// Approve or refuse what needs a security manager: external communications on security
    /// incidents, workarounds and solutions of problems on classified CIs.
    ApproveSecurity => "approve_security",
    /// Create and change support (assignment) groups.
    ManageGroups => "manage_groups",
    /// Read problems and known errors.
    ReadProblems => "read_problems",
    /// Record and work on problems, workarounds and solutions.
    ManageProblems => "manage_problems",
    /// Read and retry notification deliveries (e-mail and webhooks).
    ManageNotifications => "manage_notifications",
    /// Write, change and withdraw announcements (service notices), and list past and
    /// upcoming ones.
    ManageAnnouncements => "manage_announcements",
}

/// The role → permission table. Least privilege: an admin manages accounts and
/// configuration; reading the audit log is for auditors (and admins, per the foundation
/// issue); security managers read users and departments to judge access. Everyone but a
/// plain requester reads the CMDB; agents, service owners and admins maintain it; only the
/// customer's representative and the service owner decide how sensitive information is
/// (explicit classification) — not the admin. Service owners run service level
/// management; a customer representative reads and agrees only its own customers' SLAs
/// and reports (`ReadAllServiceLevels` is what lifts that restriction).
pub fn role_grants(role: Role, p: Permission) -> bool {
    use Permission::*;
    use Role::*;
    match p {
        SelfService => true,
        ReadUsers | ReadDepartments => matches!(role, Admin | Auditor | SecurityManager),
        ManageUsers | ManageDepartments => matches!(role, Admin),
        ReadAudit => matches!(role, Admin | Auditor),
        ReadCmdb => !matches!(role, Requester),
        ManageCmdb => matches!(role, Agent | ServiceOwner | Admin),
        ClassifyCis => matches!(role, CustomerRepresentative | ServiceOwner),
        ManageCiTypes => matches!(role, Admin),
        ReadControls => !matches!(role, Requester),
        ManageControls => matches!(role, SecurityManager | Admin),
        ManageRequirements => matches!(
            role,
            SecurityManager | ServiceOwner | CustomerRepresentative
        ),
        ManageImplementations => matches!(role, Agent | SecurityManager | ServiceOwner),
        ConfigureRequirements => matches!(role, Admin),
        ReadServiceLevels => !matches!(role, Requester),
        ReadAllServiceLevels => {
            matches!(
                role,
                Agent | SecurityManager | ServiceOwner | Auditor | Admin
            )
        }
        ManageCustomers => matches!(role, ServiceOwner | Admin),
        ManageServiceLevels => matches!(role, ServiceOwner),
        AgreeSlas => matches!(role, ServiceOwner | CustomerRepresentative),
        ReportIncidents => true,
        // Need-to-know applies on top: a security incident stays invisible without it, and
        // an admin is not the security team.
        ReadIncidents => matches!(role, Agent | SecurityManager | ServiceOwner | Auditor),
        ManageIncidents => matches!(role, Agent | SecurityManager),
        HandleSecurityIncidents | ApproveSecurity => matches!(role, SecurityManager),
        ManageGroups => matches!(role, Admin),
        ReadProblems => matches!(role, Agent | SecurityManager | ServiceOwner | Auditor),
        ManageProblems => matches!(role, Agent | SecurityManager),
        ManageNotifications => matches!(role, Admin),
        // The service desk tells people about outages; service owners announce the
        // maintenance of their services.
        ManageAnnouncements => matches!(role, Agent | ServiceOwner),
    }
}

/// How the principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Session,
    ApiToken,
}

/// An authenticated caller.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub user_id: UserId,
    pub email: Email,
    pub display_name: String,
    pub roles: Roles,
    pub department_id: Option<DepartmentId>,
    pub method: AuthMethod,
}

/// Refusal of a permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("permission {} required", .0.as_str())]
pub struct Forbidden(pub Permission);

impl Principal {
    pub fn has(&self, p: Permission) -> bool {
        self.roles.iter().any(|r| role_grants(r, p))
    }

    /// The permission check. On success hands back the [`Actor`] that storage writes need.
    pub fn require(&self, p: Permission) -> Result<Actor, Forbidden> {
        if self.has(p) {
            Ok(Actor::User {
                id: self.user_id,
                email: self.email.clone(),
            })
        } else {
            Err(Forbidden(p))
        }
    }
}

/// Who performs a state change; recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user who passed a permission check.
    User { id: UserId, email: Email },
    /// An operator at the command line or a background job, named.
    System(&'static str),
    /// Someone not (yet) authenticated: login attempts.
    Anonymous,
}

impl Actor {
    /// The actor for a user acting on their own account during sign-in (MFA step, login
    /// success), before a full principal exists.
    pub fn authenticating(id: UserId, email: Email) -> Self {
        Actor::User { id, email }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The label stored in the audit log.
    pub fn label(&self) -> String {
        match self {
            Actor::User { email, .. } => email.to_string(),
            Actor::System(name) => format!("system:{name}"),
            Actor::Anonymous => "anonymous".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role]) -> Principal {
        Principal {
            user_id: UserId::new(),
            email: Email::parse("p@example.org").unwrap(),
            display_name: "P".into(),
            roles: Roles::new(roles.to_vec()).unwrap(),
            department_id: None,
            method: AuthMethod::ApiToken,
        }
    }

    #[test]
    fn admin_does_not_imply_everything_but_manages_users() {
        let admin = principal(&[Role::Admin]);
        assert!(admin.require(Permission::ManageUsers).is_ok());
        let agent = principal(&[Role::Agent]);
        assert_eq!(
            agent.require(Permission::ManageUsers).unwrap_err(),
            Forbidden(Permission::ManageUsers)
        );
        assert!(agent.has(Permission::SelfService));
    }

    #[test]
    fn auditor_reads_audit_but_cannot_change_accounts() {
        let a = principal(&[Role::Auditor]);
        assert!(a.has(Permission::ReadAudit));
        assert!(a.has(Permission::ReadUsers));
        assert!(!a.has(Permission::ManageUsers));
        assert!(!a.has(Permission::ManageDepartments));
    }

    #[test]
    fn permissions_union_over_roles() {
        let p = principal(&[Role::Agent, Role::Auditor]);
        assert!(p.has(Permission::ReadAudit));
        let p = principal(&[
            Role::Agent,
            Role::ServiceOwner,
            Role::Requester,
            Role::CustomerRepresentative,
        ]);
        assert!(!p.has(Permission::ReadAudit));
    }
}
