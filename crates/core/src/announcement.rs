//! Announcements: service notices by the service desk (planned maintenance, an outage, a
//! piece of information), shown on the requester portal and the dashboard while their
//! window lasts, to everyone signed in or to agents only.
//!
//! The rules are pure: what a valid notice is, and whether a notice is shown to a reader at
//! an instant.

use crate::account::{check_name, clean_text};
use crate::authz::{Permission, Principal};
use crate::error::DomainError;
use crate::ids::{AnnouncementId, CiId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// The longest body, in characters.
pub const BODY_MAX: usize = 10_000;

/// How serious the notice is; the portal orders and marks notices by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AnnouncementSeverity))]
pub enum Severity {
    /// Something people should know (a new service, a changed opening time).
    Info,
    /// Planned work during which a service is degraded or unavailable.
    Maintenance,
    /// A service is down or degraded now.
    Outage,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Maintenance, Severity::Outage];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Maintenance => "maintenance",
            Severity::Outage => "outage",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "Information",
            Severity::Maintenance => "Planned maintenance",
            Severity::Outage => "Outage",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "info" => Ok(Self::Info),
            "maintenance" => Ok(Self::Maintenance),
            "outage" => Ok(Self::Outage),
            _ => Err(DomainError::new(
                "severity",
                "must be info, maintenance or outage",
            )),
        }
    }
}

/// Who is shown the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AnnouncementAudience))]
pub enum Audience {
    /// Everyone signed in.
    Everyone,
    /// Only the people who work incidents or write notices (see [`is_agent`]).
    Agents,
}

impl Audience {
    pub const ALL: [Audience; 2] = [Audience::Everyone, Audience::Agents];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Everyone => "everyone",
            Audience::Agents => "agents",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Audience::Everyone => "Everyone signed in",
            Audience::Agents => "Agents only",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "everyone" => Ok(Self::Everyone),
            "agents" => Ok(Self::Agents),
            _ => Err(DomainError::new("audience", "must be everyone or agents")),
        }
    }
}

/// Whether `p` belongs to the `agents` audience: people who work incidents (agents,
/// security managers) or write notices (service owners too).
pub fn is_agent(p: &Principal) -> bool {
    p.has(Permission::ManageIncidents) || p.has(Permission::ManageAnnouncements)
}

/// What a person sets on an announcement, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementInput {
    pub title: String,
    pub body: String,
    pub severity: Severity,
    /// The affected service (a business_service CI), if the notice is about one.
    pub service_id: Option<CiId>,
    /// Shown from this instant (inclusive) …
    pub starts_at: Timestamp,
    /// … until this one (exclusive); always after `starts_at`.
    pub ends_at: Timestamp,
    pub audience: Audience,
}

impl AnnouncementInput {
    /// Checks each field and names the first wrong one. The title is trimmed and must not be
    /// empty; the body keeps its line breaks; the window must end after it starts.
    pub fn new(
        title: &str,
        body: &str,
        severity: Severity,
        service_id: Option<CiId>,
        starts_at: Timestamp,
        ends_at: Timestamp,
        audience: Audience,
    ) -> Result<Self, DomainError> {
        let title = check_name("title", title, TITLE_MAX)?;
        if body.chars().count() > BODY_MAX {
            return Err(DomainError::new(
                "body",
                format!("must be at most {BODY_MAX} characters"),
            ));
        }
        if ends_at <= starts_at {
            return Err(DomainError::new("ends_at", "must be after starts_at"));
        }
        Ok(Self {
            title,
            body: clean_text(body, BODY_MAX),
            severity,
            service_id,
            starts_at,
            ends_at,
            audience,
        })
    }
}

/// An announcement as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Announcement {
    pub id: AnnouncementId,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    pub service_id: Option<CiId>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub audience: Audience,
    /// Who wrote it (absent when a system actor did, or the account is gone).
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where an announcement's window stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Upcoming,
    Active,
    Past,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Upcoming => "upcoming",
            Phase::Active => "active",
            Phase::Past => "past",
        }
    }
}

impl Announcement {
    /// Upcoming before `starts_at`, active from it until `ends_at`, past from then on.
    pub fn phase(&self, now: Timestamp) -> Phase {
        if now < self.starts_at {
            Phase::Upcoming
        } else if now < self.ends_at {
            Phase::Active
        } else {
            Phase::Past
        }
    }

    /// Whether a reader (`agent`: see [`is_agent`]) is shown this notice at `now`: its
    /// window contains `now` and its audience includes them.
    pub fn shown_to(&self, agent: bool, now: Timestamp) -> bool {
        self.phase(now) == Phase::Active && (self.audience == Audience::Everyone || agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn input(
        title: &str,
        body: &str,
        starts: i64,
        ends: i64,
    ) -> Result<AnnouncementInput, DomainError> {
        AnnouncementInput::new(
            title,
            body,
            Severity::Maintenance,
            None,
            Timestamp(starts),
            Timestamp(ends),
            Audience::Everyone,
        )
    }

    fn notice(audience: Audience) -> Announcement {
        Announcement {
            id: AnnouncementId::new(),
            title: "Payroll maintenance".into(),
            body: String::new(),
            severity: Severity::Maintenance,
            service_id: None,
            starts_at: Timestamp(10 * H),
            ends_at: Timestamp(12 * H),
            audience,
            created_by: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn validation_names_the_field() {
        let cases: &[(&str, &str, i64, i64, Option<&str>)] = &[
            ("Payroll down Saturday", "Back by noon.", 0, H, None),
            ("  ", "", 0, H, Some("title")),
            (&"x".repeat(TITLE_MAX + 1), "", 0, H, Some("title")),
            ("Tab\tin title", "", 0, H, Some("title")),
            ("Long body", &"b".repeat(BODY_MAX + 1), 0, H, Some("body")),
            ("Ends before it starts", "", H, 0, Some("ends_at")),
            ("Empty window", "", H, H, Some("ends_at")),
        ];
        for (title, body, starts, ends, field) in cases {
            let got = input(title, body, *starts, *ends).err().map(|e| e.field);
            assert_eq!(got.as_deref(), *field, "{title:?}");
        }
    }

    #[test]
    fn text_is_trimmed_and_keeps_line_breaks() {
        let a = input("  Mail delays  ", " Line one\nline two\u{7} ", 0, H).unwrap();
        assert_eq!(a.title, "Mail delays");
        assert_eq!(a.body, "Line one\nline two");
    }

    #[test]
    fn names_parse_back() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Ok(s));
        }
        for a in Audience::ALL {
            assert_eq!(Audience::parse(a.as_str()), Ok(a));
        }
        assert_eq!(Severity::parse("critical").unwrap_err().field, "severity");
        assert_eq!(Audience::parse("").unwrap_err().field, "audience");
    }

    #[test]
    fn shown_only_inside_the_window_and_to_its_audience() {
        let everyone = notice(Audience::Everyone);
        let agents = notice(Audience::Agents);
        // (instant, everyone-notice to a requester, agents-notice to a requester, to an agent)
        let cases = [
            (9 * H, false, false, false),
            (10 * H - 1, false, false, false),
            (10 * H, true, false, true),
            (11 * H, true, false, true),
            (12 * H - 1, true, false, true),
            (12 * H, false, false, false),
            (13 * H, false, false, false),
        ];
        for (at, all, req, agent) in cases {
            let now = Timestamp(at);
            assert_eq!(everyone.shown_to(false, now), all, "everyone at {at}");
            assert_eq!(
                everyone.shown_to(true, now),
                all,
                "everyone to an agent at {at}"
            );
            assert_eq!(
                agents.shown_to(false, now),
                req,
                "agents-only to a requester at {at}"
            );
            assert_eq!(
                agents.shown_to(true, now),
                agent,
                "agents-only to an agent at {at}"
            );
        }
        assert_eq!(everyone.phase(Timestamp(0)), Phase::Upcoming);
        assert_eq!(everyone.phase(Timestamp(12 * H)), Phase::Past);
    }

    #[test]
    fn agents_are_who_works_incidents_or_writes_notices() {
        use crate::account::{Email, Role, Roles};
        use crate::authz::AuthMethod;
        let p = |role| Principal {
            user_id: UserId::new(),
            email: Email::parse("p@example.org").unwrap(),
            display_name: "P".into(),
            roles: Roles::new(vec![role]).unwrap(),
            department_id: None,
            method: AuthMethod::Session,
        };
        assert!(is_agent(&p(Role::Agent)));
        assert!(is_agent(&p(Role::SecurityManager)));
        assert!(is_agent(&p(Role::ServiceOwner)));
        assert!(!is_agent(&p(Role::Requester)));
        assert!(!is_agent(&p(Role::CustomerRepresentative)));
        assert!(!is_agent(&p(Role::Admin)));
    }
}
