//! Notification events. A state change that someone must hear about (an assignment, a
//! breached SLA clock, a security flag, an approval request) records an [`Event`] in the
//! same transaction as the change itself (an outbox), so an event is never lost when the
//! change commits and never sent when it rolls back. A dispatcher turns each event into
//! e-mail and webhook deliveries, retries failures and keeps every outcome visible.

use crate::account::Role;
use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    /// An incident or problem was assigned to a group or a person.
    Assigned,
    /// An SLA clock passed 75 % of its target.
    ClockWarning,
    /// An SLA clock passed 100 % of its target.
    Breach,
    /// An incident was recognised or flagged as a security incident.
    SecurityFlagged,
    /// Something waits for a security manager's approval (external communication,
    /// workaround, solution).
    ApprovalRequested,
    /// An approval was given or refused.
    ApprovalDecided,
    /// An incident was declared a major incident.
    MajorIncident,
    /// A problem was marked as introducing security risk.
    SecurityRisk,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Assigned,
        EventKind::ClockWarning,
        EventKind::Breach,
        EventKind::SecurityFlagged,
        EventKind::ApprovalRequested,
        EventKind::ApprovalDecided,
        EventKind::MajorIncident,
        EventKind::SecurityRisk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Assigned => "assigned",
            EventKind::ClockWarning => "clock_warning",
            EventKind::Breach => "breach",
            EventKind::SecurityFlagged => "security_flagged",
            EventKind::ApprovalRequested => "approval_requested",
            EventKind::ApprovalDecided => "approval_decided",
            EventKind::MajorIncident => "major_incident",
            EventKind::SecurityRisk => "security_risk",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One notification event, as recorded in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// `incident` or `problem`.
    pub entity_type: String,
    pub entity_id: String,
    /// The human reference, e.g. `INC-000042`.
    pub reference: String,
    /// E-mail subject and body. For a confidential event these go only to the named users
    /// and roles (who have need-to-know), never into a webhook payload.
    pub subject: String,
    pub body: String,
    /// People to notify by name (assignee, group lead, approver).
    pub users: Vec<UserId>,
    /// Everyone holding one of these roles (e.g. every security manager).
    pub roles: Vec<Role>,
    /// A security incident or anything under need-to-know: webhooks receive only the
    /// kind, the entity and its reference.
    pub confidential: bool,
}

impl Event {
    /// The webhook payload: everything but the need-to-know content of confidential events.
    pub fn webhook_payload(&self, id: &str, at_ms: i64) -> serde_json::Value {
        let mut v = serde_json::json!({
            "id": id,
            "at": at_ms,
            "kind": self.kind.as_str(),
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "reference": self.reference,
            "confidential": self.confidential,
        });
        if !self.confidential {
            v["subject"] = self.subject.clone().into();
            v["body"] = self.body.clone().into();
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("nope"), None);
    }

    #[test]
    fn confidential_payload_leaves_out_the_content() {
        let mut e = Event {
            kind: EventKind::SecurityFlagged,
            entity_type: "incident".into(),
            entity_id: "x".into(),
            reference: "INC-000001".into(),
            subject: "Payroll data leaked".into(),
            body: "details".into(),
            users: vec![],
            roles: vec![Role::SecurityManager],
            confidential: true,
        };
        let p = e.webhook_payload("id1", 5).to_string();
        assert!(!p.contains("Payroll") && !p.contains("details"), "{p}");
        assert!(p.contains("INC-000001"));
        e.confidential = false;
        let p = e.webhook_payload("id1", 5).to_string();
        assert!(p.contains("Payroll data leaked"), "{p}");
    }
}
