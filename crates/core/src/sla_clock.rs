//! SLA clocks of an incident: response and resolution, counted in the business time of the
//! affected service's calendar and paused while the incident is on hold.
//!
//! Rules (pure; `now` is an argument):
//! - Both clocks start at `opened_at` and count business seconds of the service's
//!   [`ServiceHours`], minus the business time inside on-hold intervals.
//! - `due_at` is the instant at which the elapsed business time reaches the target. A hold
//!   before that instant pushes it later by the business time the hold covers.
//! - A hold still open (end `None`) pauses the clock now. The due time then depends on when
//!   the hold will end, so **`due_at` is `None` while paused** unless the target had
//!   already run out before the hold began (then it is that past instant). No projection is
//!   made; the UI shows "paused", and the clock is recomputed when the incident resumes.
//! - While running: `warning` from 75 % of the target, `breached` from 100 %. A paused
//!   clock keeps the state it had when the hold began.
//! - Once stopped (responded / resolved): `met` if the stop is at or before `due_at`,
//!   otherwise `missed`. Holds are only counted up to the stop.
//! - The response clock stops at `responded_at`, or at `resolved_at` if no response was
//!   recorded (resolving answers the reporter).
//! - A change of priority or service is a recompute with the new target and calendar, still
//!   from `opened_at`: nothing is stored but the inputs.
//!
//! All instants are epoch milliseconds; elapsed and target times are whole business
//! seconds (truncated), as [`ServiceHours`] counts them.

use crate::calendar::ServiceHours;
use crate::service::PriorityTarget;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Where one clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TargetState {
    /// Running, below 75 % of the target.
    Ok,
    /// Running, at or above 75 %.
    Warning,
    /// Running (or paused) at or above 100 %.
    Breached,
    /// Stopped in time.
    Met,
    /// Stopped late.
    Missed,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Ok => "ok",
            TargetState::Warning => "warning",
            TargetState::Breached => "breached",
            TargetState::Met => "met",
            TargetState::Missed => "missed",
        }
    }

    /// Met or missed: the clock no longer runs.
    pub fn is_stopped(self) -> bool {
        matches!(self, TargetState::Met | TargetState::Missed)
    }

    /// Breached or missed.
    pub fn is_breach(self) -> bool {
        matches!(self, TargetState::Breached | TargetState::Missed)
    }
}

/// One clock (response or resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockState {
    /// When the target runs out; `None` while paused by an open hold (see the module
    /// documentation) or when the calendar has no service time within ten years.
    pub due_at: Option<Timestamp>,
    /// When 75 % is (or was) reached; `None` once stopped, or when unknown like `due_at`.
    pub warn_at: Option<Timestamp>,
    /// Business seconds counted so far (up to the stop, if stopped), holds excluded.
    pub elapsed_secs: i64,
    pub target_secs: i64,
    /// elapsed / target in whole percent, rounded down; may exceed 100.
    pub percent: u32,
    pub state: TargetState,
    /// Running clock inside an on-hold interval at `now`.
    pub paused: bool,
}

/// An incident's two clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Clock {
    pub response: ClockState,
    pub resolution: ClockState,
}

/// What the clocks are computed from.
#[derive(Debug, Clone, Copy)]
pub struct ClockInput<'a> {
    /// The affected service's calendar ([`ServiceHours::always`] when there is none).
    pub hours: &'a ServiceHours,
    /// The targets for the incident's current priority (from the service's SLA, else the
    /// service's standard targets).
    pub target: PriorityTarget,
    pub opened_at: Timestamp,
    /// On-hold intervals [start, end); end `None` = on hold now. Any order, may overlap.
    pub holds: &'a [(Timestamp, Option<Timestamp>)],
    pub responded_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
}

/// Both clocks as they stand at `now`.
pub fn compute(input: &ClockInput<'_>, now: Timestamp) -> Clock {
    let minutes = |m: u32| i64::from(m) * 60;
    let one = |target_secs, stop| {
        clock_state(
            input.hours,
            target_secs,
            input.opened_at,
            input.holds,
            stop,
            now,
        )
    };
    Clock {
        response: one(
            minutes(input.target.response_minutes),
            input.responded_at.or(input.resolved_at),
        ),
        resolution: one(minutes(input.target.resolution_minutes), input.resolved_at),
    }
}

/// When either clock will next change state by the passage of time alone (ok → warning at
/// 75 %, warning → breached at 100 %): the instant a background job should recompute and
/// mark the incident. `now` if such a change is already due (the clock was computed
/// earlier); `None` if nothing will change without an event (stopped, paused, breached).
pub fn next_change(clock: &Clock, now: Timestamp) -> Option<Timestamp> {
    [clock.response, clock.resolution]
        .iter()
        .filter_map(|c| match c.state {
            TargetState::Ok => c.warn_at,
            TargetState::Warning => c.due_at,
            _ => None,
        })
        .min()
        .map(|t| t.max(now))
}

/// One clock; `stop` = when it stopped, if it has.
fn clock_state(
    hours: &ServiceHours,
    target_secs: i64,
    opened: Timestamp,
    raw_holds: &[(Timestamp, Option<Timestamp>)],
    stop: Option<Timestamp>,
    now: Timestamp,
) -> ClockState {
    let holds = merge_holds(opened, stop, raw_holds);
    let end = stop.unwrap_or(now).max(opened);
    let pauses: Vec<(Timestamp, Option<Timestamp>)> = holds
        .iter()
        .map(|&(s, e)| (Timestamp(s), e.map(Timestamp)))
        .collect();
    let elapsed = hours.business_seconds_excluding(opened, end, &pauses);
    let due_at = instant_at(hours, opened.0, &holds, target_secs);
    let percent = if target_secs <= 0 {
        100
    } else {
        u32::try_from(elapsed.saturating_mul(100) / target_secs).unwrap_or(u32::MAX)
    };
    let paused = stop.is_none()
        && holds
            .iter()
            .any(|&(s, e)| s <= now.0 && e.is_none_or(|e| now.0 < e));
    let (state, warn_at) = match stop {
        Some(stop) => {
            let in_time = due_at.map_or(elapsed <= target_secs, |due| stop <= due);
            let state = if in_time {
                TargetState::Met
            } else {
                TargetState::Missed
            };
            (state, None)
        }
        None => {
            let state = if elapsed >= target_secs {
                TargetState::Breached
            } else if elapsed.saturating_mul(4) >= target_secs.saturating_mul(3) {
                TargetState::Warning
            } else {
                TargetState::Ok
            };
            let warn_secs = (target_secs.saturating_mul(3) + 3) / 4;
            (state, instant_at(hours, opened.0, &holds, warn_secs))
        }
    };
    ClockState {
        due_at,
        warn_at,
        elapsed_secs: elapsed,
        target_secs,
        percent,
        state,
        paused,
    }
}

/// Holds as sorted, disjoint [start, end) milliseconds, clipped to start no earlier than
/// `opened` and (for a stopped clock) to end no later than `stop`; end `None` = still open.
fn merge_holds(
    opened: Timestamp,
    stop: Option<Timestamp>,
    raw: &[(Timestamp, Option<Timestamp>)],
) -> Vec<(i64, Option<i64>)> {
    let mut clipped: Vec<(i64, Option<i64>)> = raw
        .iter()
        .map(|&(s, e)| {
            let s = s.0.max(opened.0);
            let e = match (e, stop) {
                (e, Some(stop)) => Some(e.map_or(stop.0, |e| e.0.min(stop.0))),
                (e, None) => e.map(|e| e.0),
            };
            (s, e)
        })
        .filter(|&(s, e)| e.is_none_or(|e| s < e))
        .collect();
    clipped.sort_unstable();
    let mut merged: Vec<(i64, Option<i64>)> = Vec::with_capacity(clipped.len());
    for (s, e) in clipped {
        match merged.last_mut() {
            Some((_, last)) if last.is_none_or(|l| s <= l) => {
                *last = match (*last, e) {
                    (Some(l), Some(e)) => Some(l.max(e)),
                    _ => None,
                };
            }
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The instant at which `secs` business seconds have run from `opened`, not counting time
/// inside `holds` (sorted, disjoint, from [`merge_holds`]). `None` if an open hold comes
/// first, or the calendar has no service time.
fn instant_at(
    hours: &ServiceHours,
    opened: i64,
    holds: &[(i64, Option<i64>)],
    secs: i64,
) -> Option<Timestamp> {
    let (mut cursor, mut remaining) = (Timestamp(opened), secs);
    for &(s, e) in holds {
        let s = Timestamp(s);
        if s < cursor {
            // Only if a hold starts before `opened`; merge_holds clips that away.
            cursor = e.map_or(cursor, |e| cursor.max(Timestamp(e)));
            continue;
        }
        let candidate = hours.add_business_seconds(cursor, remaining)?;
        if candidate <= s {
            return Some(candidate);
        }
        // The target runs past this hold's start: count what ran before it, skip the hold.
        remaining -= hours.business_seconds_between(cursor, s);
        cursor = Timestamp(e?);
    }
    hours.add_business_seconds(cursor, remaining)
}

#[cfg(test)]
mod tests;
