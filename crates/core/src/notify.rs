//! Notification events. A state change that someone must hear about (an assignment, a
//! breached SLA clock, a security flag, an approval request) records an [`Event`] in the
//! same transaction as the change itself (an outbox), so an event is never lost when the
//! change commits and never sent when it rolls back. A dispatcher turns each event into
//! e-mail and webhook deliveries, retries failures and keeps every outcome visible.

use crate::account::Role;
use crate::ids::{DeliveryId, EventId, UserId};
use crate::time::Timestamp;
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
    /// The webhook payload. A confidential event carries its content only to a webhook
    /// trusted with need-to-know (the security team's own tooling); the dispatcher sends
    /// other webhooks no confidential event at all, and this withholds the content anyway.
    pub fn webhook_payload(&self, id: &str, at_ms: i64, need_to_know: bool) -> serde_json::Value {
        let mut v = serde_json::json!({
            "id": id,
            "at": at_ms,
            "kind": self.kind.as_str(),
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "reference": self.reference,
            "confidential": self.confidential,
        });
        if !self.confidential || need_to_know {
            v["subject"] = self.subject.clone().into();
            v["body"] = self.body.clone().into();
        }
        v
    }
}

/// How a delivery reaches its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// One e-mail to one address.
    Email,
    /// One HTTP POST to one configured webhook.
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Channel::Email, Channel::Webhook]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    /// Not tried yet (or put back by a retry).
    Pending,
    /// Delivered.
    Sent,
    /// The last attempt failed; another follows at `next_attempt_at`.
    Failed,
    /// Every attempt failed; only a manual retry sends it again.
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
        }
    }

    /// Parses user input (`status` filters), naming the field on failure.
    pub fn parse(s: &str) -> Result<Self, crate::error::DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                crate::error::DomainError::new(
                    "status",
                    "must be one of pending, sent, failed, dead",
                )
            })
    }

    /// Whether a person may send it again now.
    pub fn retryable(self) -> bool {
        matches!(self, DeliveryStatus::Failed | DeliveryStatus::Dead)
    }
}

/// A delivery as stored, with what the list shows of its event (never the content: a
/// confidential event's subject stays with those who have need-to-know).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub kind: EventKind,
    pub entity_type: String,
    pub entity_id: String,
    pub reference: String,
    pub channel: Channel,
    /// The e-mail address, or the webhook's name.
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// Its event is under need-to-know (a security incident, a problem that introduces a
    /// security risk).
    pub confidential: bool,
}

/// Shown for the reference of a confidential event to people without need-to-know.
pub const WITHHELD: &str = "(need-to-know)";

impl Delivery {
    /// The delivery as someone sees it who has (`need_to_know`) or has not sight of
    /// confidential events: without it, which incident or problem it was about is withheld
    /// (an administrator retrying deliveries learns that one went out, not about what).
    pub fn seen_by(mut self, need_to_know: bool) -> Self {
        if self.confidential && !need_to_know {
            self.entity_id = String::new();
            self.reference = WITHHELD.to_string();
        }
        self
    }
}

/// A due delivery taken by one dispatcher, with its whole event and when it happened.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub event: Event,
    pub event_at: Timestamp,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; tried again at `next_attempt_at`.
    Failed {
        error: String,
        next_attempt_at: Timestamp,
    },
    /// Failed for the last time.
    Dead {
        error: String,
    },
}

/// Waits after the 1st, 2nd, … failed attempt; after one more failure a delivery is dead.
pub const BACKOFF_SECS: [i64; 5] = [30, 120, 600, 3600, 6 * 3600];

/// Attempts a delivery gets before it is dead (a manual retry grants one more).
pub const MAX_ATTEMPTS: i32 = BACKOFF_SECS.len() as i32 + 1;

/// The outcome of a failed attempt, given the attempts made before it.
pub fn after_failure(attempts_before: i32, error: String, now: Timestamp) -> Outcome {
    let made = attempts_before.max(0) + 1;
    match BACKOFF_SECS.get(made as usize - 1) {
        Some(wait) if made < MAX_ATTEMPTS => Outcome::Failed {
            error,
            next_attempt_at: now.plus_secs(*wait),
        },
        _ => Outcome::Dead { error },
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
        let p = e.webhook_payload("id1", 5, false).to_string();
        assert!(!p.contains("Payroll") && !p.contains("details"), "{p}");
        assert!(p.contains("INC-000001"));
        let p = e.webhook_payload("id1", 5, true).to_string();
        assert!(
            p.contains("Payroll data leaked") && p.contains("details"),
            "{p}"
        );
        e.confidential = false;
        let p = e.webhook_payload("id1", 5, false).to_string();
        assert!(p.contains("Payroll data leaked"), "{p}");
    }

    #[test]
    fn a_confidential_delivery_withholds_its_subject_from_people_without_need_to_know() {
        let d = Delivery {
            id: DeliveryId(uuid::Uuid::nil()),
            event_id: EventId(uuid::Uuid::nil()),
            kind: EventKind::SecurityFlagged,
            entity_type: "incident".into(),
            entity_id: "0190a0b0-0000-7000-8000-000000000001".into(),
            reference: "INC-000001".into(),
            channel: Channel::Email,
            target: "sm@example.org".into(),
            status: DeliveryStatus::Sent,
            attempts: 1,
            next_attempt_at: None,
            last_error: None,
            created_at: Timestamp(0),
            sent_at: Some(Timestamp(1)),
            confidential: true,
        };
        let hidden = d.clone().seen_by(false);
        assert_eq!(
            (hidden.reference.as_str(), hidden.entity_id.as_str()),
            (WITHHELD, "")
        );
        assert_eq!(hidden.kind, EventKind::SecurityFlagged);
        assert_eq!(d.clone().seen_by(true), d);
        let open = Delivery {
            confidential: false,
            ..d
        };
        assert_eq!(open.clone().seen_by(false), open);
    }

    #[test]
    fn failures_back_off_then_die() {
        let now = Timestamp(1_000_000);
        let waits: Vec<Option<i64>> = (0..MAX_ATTEMPTS)
            .map(|before| match after_failure(before, "x".into(), now) {
                Outcome::Failed {
                    next_attempt_at, ..
                } => Some((next_attempt_at.0 - now.0) / 1000),
                _ => None,
            })
            .collect();
        assert_eq!(
            waits,
            [
                Some(30),
                Some(120),
                Some(600),
                Some(3600),
                Some(21600),
                None
            ]
        );
        assert!(matches!(
            after_failure(MAX_ATTEMPTS + 3, "x".into(), now),
            Outcome::Dead { .. }
        ));
    }

    #[test]
    fn statuses_and_channels_round_trip() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Ok(s));
        }
        assert!(DeliveryStatus::parse("gone").is_err());
        assert_eq!(Channel::parse("webhook"), Some(Channel::Webhook));
        assert!(DeliveryStatus::Dead.retryable() && !DeliveryStatus::Sent.retryable());
    }
}
