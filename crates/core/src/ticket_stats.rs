//! Incident figures of one service and period for SLA reports: counts, clocks met and
//! missed, breaches, security incidents, time to contain, outages. Aggregates only.
//!
//! Rules (period `[from, to)`):
//! - An incident counts in the period (total, per priority, security) if it was opened in it.
//! - A clock counts as met or missed in the period it stopped in (response: first response,
//!   or resolution if none; resolution: resolved).
//! - A breach is listed in the period its due time falls in, whether the clock is still
//!   running (breached) or stopped late (missed).
//! - Time to contain: for security incidents whose first containment step (containment
//!   action, CI isolated or recovered) is in the period, minutes from opening to that step.
//! - Outages: P1 and P2 incidents on the service, from opening to resolution (or the end of
//!   the period), clipped to the period.

use crate::ids::IncidentId;
use crate::incident::Priority;
use crate::sla_clock::{ClockState, TargetState};
use crate::ticket::Incident;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// The figures of `incidents` (any order) in `[from, to)`; see [`Tally`].
pub fn stats(
    incidents: &[Incident],
    first_containment: &[(IncidentId, Timestamp)],
    from: Timestamp,
    to: Timestamp,
) -> IncidentStats {
    let mut t = Tally::new(first_containment, from, to);
    for i in incidents {
        t.add(i);
    }
    t.finish()
}

/// The figures of a period, one incident at a time: a store streams a service's
/// incidents through it instead of holding them all (a busy service has tens of thousands
/// in a month).
pub struct Tally {
    from: Timestamp,
    to: Timestamp,
    first_containment: HashMap<IncidentId, Timestamp>,
    s: IncidentStats,
}

impl Tally {
    pub fn new(
        first_containment: &[(IncidentId, Timestamp)],
        from: Timestamp,
        to: Timestamp,
    ) -> Self {
        Self {
            from,
            to,
            first_containment: first_containment.iter().copied().collect(),
            s: IncidentStats::default(),
        }
    }

    pub fn add(&mut self, i: &Incident) {
        let (from, to) = (self.from, self.to);
        let inside = |t: Timestamp| t.0 >= from.0 && t.0 < to.0;
        let s = &mut self.s;
        if inside(i.created_at) {
            s.total += 1;
            s.by_priority[i.priority.index()] += 1;
            if i.security.flagged {
                s.security += 1;
            }
        }
        if let Some(c) = &i.clock {
            let response_stop = i.responded_at.or(i.resolved_at);
            let p = i.priority.index();
            count_stop(
                &c.response,
                response_stop,
                &inside,
                &mut s.response_met[p],
                &mut s.response_missed[p],
            );
            count_stop(
                &c.resolution,
                i.resolved_at,
                &inside,
                &mut s.resolution_met[p],
                &mut s.resolution_missed[p],
            );
            for (name, st) in [("response", &c.response), ("resolution", &c.resolution)] {
                if matches!(st.state, TargetState::Breached | TargetState::Missed)
                    && st.due_at.is_some_and(inside)
                {
                    s.breaches.push(Breach {
                        incident: i.id,
                        reference: i.reference.clone(),
                        priority: i.priority,
                        clock: name,
                        security: i.security.flagged,
                    });
                }
                if st.state == TargetState::Breached && i.created_at.0 < to.0 {
                    s.breached_open += 1;
                }
            }
        }
        if i.security.flagged
            && let Some(at) = self.first_containment.get(&i.id)
            && inside(*at)
        {
            s.contain_minutes
                .push(((at.0 - i.created_at.0).max(0)) / 60_000);
        }
        if matches!(i.priority, Priority::P1 | Priority::P2) {
            let start = i.created_at.0.max(from.0);
            let end = i.resolved_at.map(|t| t.0).unwrap_or(to.0).min(to.0);
            if end > start {
                s.outages.push((Timestamp(start), Timestamp(end)));
            }
        }
    }

    /// The figures; the lists (breaches, time to contain, outages) in the order the
    /// incidents were added.
    pub fn finish(self) -> IncidentStats {
        self.s
    }
}

fn count_stop(
    st: &ClockState,
    stop: Option<Timestamp>,
    inside: &impl Fn(Timestamp) -> bool,
    met: &mut i64,
    missed: &mut i64,
) {
    if let Some(t) = stop
        && inside(t)
    {
        match st.state {
            TargetState::Met => *met += 1,
            TargetState::Missed => *missed += 1,
            _ => {}
        }
    }
}

/// Figures of a service's incidents in a period, for SLA reports (aggregates only: no
/// content, so need-to-know does not apply).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IncidentStats {
    pub total: i64,
    /// P1..P4.
    pub by_priority: [i64; 4],
    pub security: i64,
    /// Clocks stopped in the period, per priority P1..P4: met and missed.
    pub response_met: [i64; 4],
    pub response_missed: [i64; 4],
    pub resolution_met: [i64; 4],
    pub resolution_missed: [i64; 4],
    /// Open clocks already breached.
    pub breached_open: i64,
    /// Security incidents first contained in the period: minutes from opening.
    pub contain_minutes: Vec<i64>,
    /// Outage intervals of availability-impacting incidents (P1/P2 on the service).
    pub outages: Vec<(Timestamp, Timestamp)>,
    /// Breaches in the period.
    pub breaches: Vec<Breach>,
}

/// A clock that breached (or stopped late) in a report period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub incident: crate::ids::IncidentId,
    pub reference: String,
    pub priority: crate::incident::Priority,
    /// `response` or `resolution`.
    pub clock: &'static str,
    /// Security incidents appear in reports only as counts (need-to-know).
    pub security: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::incident::{Impact, Status, Urgency};
    use crate::sla_clock::Clock;
    use crate::ticket::{Channel, Security};

    fn clock(state: TargetState, due: i64) -> ClockState {
        ClockState {
            due_at: Some(Timestamp(due)),
            warn_at: None,
            elapsed_secs: 0,
            target_secs: 60,
            percent: 0,
            state,
            paused: false,
        }
    }

    fn inc(
        n: i64,
        p: Priority,
        created: i64,
        security: bool,
        c: (TargetState, TargetState),
    ) -> Incident {
        Incident {
            id: IncidentId(uuid::Uuid::from_u128(n as u128)),
            number: n,
            reference: crate::ticket::reference(n),
            title: "t".into(),
            description: String::new(),
            category: "c".into(),
            impact: Impact::High,
            urgency: Urgency::High,
            priority: p,
            status: Status::Resolved,
            service: None,
            cis: vec![],
            group: None,
            assignee: None,
            reporter: UserId(uuid::Uuid::nil()),
            channel: Channel::Api,
            security: Security {
                flagged: security,
                reasons: vec![],
                manual_flag: None,
                unflagged: None,
                phase: None,
            },
            major: None,
            sla: None,
            clock: Some(Clock {
                response: clock(c.0, created + 10),
                resolution: clock(c.1, created + 50),
            }),
            resolution: String::new(),
            responded_at: Some(Timestamp(created + 5)),
            resolved_at: Some(Timestamp(created + 60)),
            closed_at: None,
            created_at: Timestamp(created),
            updated_at: Timestamp(created),
            links: vec![],
        }
    }

    #[test]
    fn figures_of_a_period() {
        use TargetState::*;
        let all = [
            inc(1, Priority::P1, 100, false, (Met, Missed)),
            inc(2, Priority::P2, 200, true, (Met, Met)),
            inc(3, Priority::P4, 300, false, (Met, Met)),
            // Opened before the period: counts only for what stopped inside it.
            inc(4, Priority::P1, -1000, false, (Met, Met)),
        ];
        let s = stats(
            &all,
            &[(all[1].id, Timestamp(230))],
            Timestamp(0),
            Timestamp(1000),
        );
        assert_eq!(s.total, 3);
        assert_eq!(s.by_priority, [1, 1, 0, 1]);
        assert_eq!(s.security, 1);
        assert_eq!(s.response_met, [1, 1, 0, 1]);
        assert_eq!(s.resolution_missed, [1, 0, 0, 0]);
        assert_eq!(s.resolution_met, [0, 1, 0, 1]);
        assert_eq!(s.breaches.len(), 1);
        assert_eq!(s.breaches[0].reference, "INC-000001");
        assert!(!s.breaches[0].security);
        assert_eq!(s.contain_minutes, vec![0]);
        // P1 and P2 outages, clipped to the period.
        assert_eq!(
            s.outages,
            vec![
                (Timestamp(100), Timestamp(160)),
                (Timestamp(200), Timestamp(260))
            ]
        );
    }
}
