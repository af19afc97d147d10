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
use crate::store::IncidentStats;
use crate::ticket::Incident;
use crate::time::Timestamp;

pub fn stats(
    incidents: &[Incident],
    first_containment: &[(IncidentId, Timestamp)],
    from: Timestamp,
    to: Timestamp,
) -> IncidentStats {
    let inside = |t: Timestamp| t.0 >= from.0 && t.0 < to.0;
    let mut s = IncidentStats::default();
    for i in incidents {
        if inside(i.created_at) {
            s.total += 1;
            s.by_priority[i.priority.index()] += 1;
            if i.security.flagged {
                s.security += 1;
            }
        }
        if let Some(c) = &i.clock {
            let response_stop = i.responded_at.or(i.resolved_at);
            count_stop(
                &c.response,
                response_stop,
                &inside,
                &mut s.response_met,
                &mut s.response_missed,
            );
            count_stop(
                &c.resolution,
                i.resolved_at,
                &inside,
                &mut s.resolution_met,
                &mut s.resolution_missed,
            );
            for (name, st) in [("response", &c.response), ("resolution", &c.resolution)] {
                if matches!(st.state, TargetState::Breached | TargetState::Missed)
                    && st.due_at.is_some_and(inside)
                {
                    s.breaches.push((
                        i.reference.clone(),
                        i.priority.as_str().to_string(),
                        name.to_string(),
                    ));
                }
                if st.state == TargetState::Breached && i.created_at.0 < to.0 {
                    s.breached_open += 1;
                }
            }
        }
        if i.security.flagged
            && let Some((_, at)) = first_containment.iter().find(|(id, _)| *id == i.id)
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
    s
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
