//! The security-incident procedure (ITIL 4) and the major-incident procedure: phases, what
//! each phase needs before the next may start, and the kinds of recorded steps.
//!
//! Phases of a security incident, in order:
//! 1. **detection** (detection & escalation): a handler is assigned.
//! 2. **triage** (triage & analysis): severity and scope assessed, at least one evidence
//!    item logged.
//! 3. **containment** (containment & recovery): at least one containment action, and every
//!    affected CI isolated or recovered.
//! 4. **review** (post-incident review): root cause, lessons learned, at least one
//!    follow-up action.
//! 5. **closed**.
//!
//! A phase only moves forward, one step at a time, and only when [`missing`] is empty for
//! the phase being left. Pure: the facts are counted by the caller.

use crate::DomainError;
use crate::ids::CiId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Phase {
    Detection,
    Triage,
    Containment,
    Review,
    Closed,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Detection,
        Phase::Triage,
        Phase::Containment,
        Phase::Review,
        Phase::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Detection => "detection",
            Phase::Triage => "triage",
            Phase::Containment => "containment",
            Phase::Review => "review",
            Phase::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Detection => "Detection & escalation",
            Phase::Triage => "Triage & analysis",
            Phase::Containment => "Containment & recovery",
            Phase::Review => "Post-incident review",
            Phase::Closed => "Closed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::new(
                    "phase",
                    "must be detection, triage, containment, review or closed",
                )
            })
    }

    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Detection => Some(Phase::Triage),
            Phase::Triage => Some(Phase::Containment),
            Phase::Containment => Some(Phase::Review),
            Phase::Review => Some(Phase::Closed),
            Phase::Closed => None,
        }
    }
}

/// A step recorded on an incident: part of the security procedure, or of the major
/// incident procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ActionKind {
    SeverityAssessed,
    ScopeAssessed,
    ContainmentAction,
    /// Names the affected CI (`ci`) that was isolated.
    CiIsolated,
    /// Names the affected CI (`ci`) that was recovered.
    CiRecovered,
    RootCause,
    LessonsLearned,
    FollowUp,
    /// A status update of a major incident (resets its communication cadence).
    MajorUpdate,
    /// The major incident review (needed before a major incident is closed).
    MajorReview,
}

impl ActionKind {
    pub const ALL: [ActionKind; 10] = [
        ActionKind::SeverityAssessed,
        ActionKind::ScopeAssessed,
        ActionKind::ContainmentAction,
        ActionKind::CiIsolated,
        ActionKind::CiRecovered,
        ActionKind::RootCause,
        ActionKind::LessonsLearned,
        ActionKind::FollowUp,
        ActionKind::MajorUpdate,
        ActionKind::MajorReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::SeverityAssessed => "severity_assessed",
            ActionKind::ScopeAssessed => "scope_assessed",
            ActionKind::ContainmentAction => "containment_action",
            ActionKind::CiIsolated => "ci_isolated",
            ActionKind::CiRecovered => "ci_recovered",
            ActionKind::RootCause => "root_cause",
            ActionKind::LessonsLearned => "lessons_learned",
            ActionKind::FollowUp => "follow_up",
            ActionKind::MajorUpdate => "major_update",
            ActionKind::MajorReview => "major_review",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionKind::SeverityAssessed => "Severity assessed",
            ActionKind::ScopeAssessed => "Scope assessed",
            ActionKind::ContainmentAction => "Containment action",
            ActionKind::CiIsolated => "CI isolated",
            ActionKind::CiRecovered => "CI recovered",
            ActionKind::RootCause => "Root cause",
            ActionKind::LessonsLearned => "Lessons learned",
            ActionKind::FollowUp => "Follow-up action",
            ActionKind::MajorUpdate => "Major incident update",
            ActionKind::MajorReview => "Major incident review",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                DomainError::new("kind", format!("must be one of {}", all.join(", ")))
            })
    }

    /// Whether the step names an affected CI.
    pub fn needs_ci(self) -> bool {
        matches!(self, ActionKind::CiIsolated | ActionKind::CiRecovered)
    }

    /// Whether the step belongs to the security procedure (only on security incidents).
    pub fn is_security(self) -> bool {
        !matches!(self, ActionKind::MajorUpdate | ActionKind::MajorReview)
    }
}

/// What has been recorded on an incident, as the gates count it.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub has_handler: bool,
    pub evidence_items: usize,
    /// Kinds of the recorded steps, with the CI they name.
    pub actions: Vec<(ActionKind, Option<CiId>)>,
    /// The incident's affected CIs (the service included).
    pub affected: Vec<CiId>,
}

impl Recorded {
    fn has(&self, k: ActionKind) -> bool {
        self.actions.iter().any(|(a, _)| *a == k)
    }
}

/// What the phase `from` still needs before the next may start (empty: ready).
pub fn missing(from: Phase, r: &Recorded) -> Vec<String> {
    let mut out = Vec::new();
    match from {
        Phase::Detection => {
            if !r.has_handler {
                out.push("assign a handler (assignee)".to_string());
            }
        }
        Phase::Triage => {
            if !r.has(ActionKind::SeverityAssessed) {
                out.push("assess the severity".to_string());
            }
            if !r.has(ActionKind::ScopeAssessed) {
                out.push("assess the scope".to_string());
            }
            if r.evidence_items == 0 {
                out.push("log at least one evidence item".to_string());
            }
        }
        Phase::Containment => {
            if !r.has(ActionKind::ContainmentAction) {
                out.push("record at least one containment action".to_string());
            }
            for ci in &r.affected {
                let done = r.actions.iter().any(|(a, c)| {
                    matches!(a, ActionKind::CiIsolated | ActionKind::CiRecovered) && *c == Some(*ci)
                });
                if !done {
                    out.push(format!("isolate or recover affected CI {ci}"));
                }
            }
        }
        Phase::Review => {
            if !r.has(ActionKind::RootCause) {
                out.push("record the root cause".to_string());
            }
            if !r.has(ActionKind::LessonsLearned) {
                out.push("record the lessons learned".to_string());
            }
            if !r.has(ActionKind::FollowUp) {
                out.push("record at least one follow-up action".to_string());
            }
        }
        Phase::Closed => out.push("the procedure is closed".to_string()),
    }
    out
}

/// Checks a move from `from` to `to`: one step forward, with nothing missing.
pub fn advance(from: Phase, to: Phase, r: &Recorded) -> Result<(), DomainError> {
    if from.next() != Some(to) {
        return Err(DomainError::new(
            "phase",
            format!(
                "{} can only be followed by {}",
                from.as_str(),
                from.next().map(|p| p.as_str()).unwrap_or("nothing")
            ),
        ));
    }
    let m = missing(from, r);
    if m.is_empty() {
        Ok(())
    } else {
        Err(DomainError::new(
            "phase",
            format!("{} is not complete: {}", from.label(), m.join("; ")),
        ))
    }
}

/// Major incidents: the cadence of updates must be between 15 minutes and a day.
pub fn check_cadence(minutes: u32) -> Result<u32, DomainError> {
    if (15..=1440).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(DomainError::new(
            "cadence_minutes",
            "must be between 15 and 1440",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(n: u128) -> CiId {
        CiId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn phases_round_trip_and_go_forward_only() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()).unwrap(), p);
        }
        let ready = Recorded {
            has_handler: true,
            ..Default::default()
        };
        assert!(advance(Phase::Detection, Phase::Triage, &ready).is_ok());
        assert!(advance(Phase::Detection, Phase::Containment, &ready).is_err());
        assert!(advance(Phase::Triage, Phase::Detection, &ready).is_err());
        assert!(advance(Phase::Closed, Phase::Closed, &ready).is_err());
    }

    #[test]
    fn each_gate_lists_what_is_missing() {
        let mut r = Recorded {
            affected: vec![ci(1), ci(2)],
            ..Default::default()
        };
        assert_eq!(missing(Phase::Detection, &r).len(), 1);
        r.has_handler = true;
        assert!(missing(Phase::Detection, &r).is_empty());

        assert_eq!(missing(Phase::Triage, &r).len(), 3);
        r.actions.push((ActionKind::SeverityAssessed, None));
        r.actions.push((ActionKind::ScopeAssessed, None));
        assert_eq!(
            missing(Phase::Triage, &r),
            vec!["log at least one evidence item"]
        );
        r.evidence_items = 1;
        assert!(advance(Phase::Triage, Phase::Containment, &r).is_ok());

        // Containment: an action, and each affected CI isolated or recovered.
        assert_eq!(missing(Phase::Containment, &r).len(), 3);
        r.actions.push((ActionKind::ContainmentAction, None));
        r.actions.push((ActionKind::CiIsolated, Some(ci(1))));
        let m = missing(Phase::Containment, &r);
        assert_eq!(m.len(), 1);
        assert!(m[0].contains(&ci(2).to_string()));
        r.actions.push((ActionKind::CiRecovered, Some(ci(2))));
        assert!(advance(Phase::Containment, Phase::Review, &r).is_ok());

        let err = advance(Phase::Review, Phase::Closed, &r).unwrap_err();
        assert!(err.to_string().contains("root cause"), "{err}");
        r.actions.push((ActionKind::RootCause, None));
        r.actions.push((ActionKind::LessonsLearned, None));
        r.actions.push((ActionKind::FollowUp, None));
        assert!(advance(Phase::Review, Phase::Closed, &r).is_ok());
    }

    #[test]
    fn action_kinds_round_trip() {
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.as_str()).unwrap(), k);
        }
        assert!(ActionKind::parse("nope").is_err());
        assert!(ActionKind::CiIsolated.needs_ci());
        assert!(!ActionKind::MajorUpdate.is_security());
    }

    #[test]
    fn cadence_is_bounded() {
        assert!(check_cadence(14).is_err());
        assert_eq!(check_cadence(30).unwrap(), 30);
        assert!(check_cadence(1441).is_err());
    }
}
