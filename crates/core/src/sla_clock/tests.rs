use super::*;
use crate::service::Targets;
use TargetState::*;
use jiff::tz::TimeZone;
use proptest::prelude::*;

const AMS: &str = "Europe/Amsterdam";
type Hold = (Timestamp, Option<Timestamp>);

/// Local wall-clock time in Amsterdam. 2026-06-05 is a Friday.
fn at(local: &str) -> Timestamp {
    let tz = TimeZone::get(AMS).unwrap();
    Timestamp(
        tz.to_timestamp(local.parse().unwrap())
            .unwrap()
            .as_millisecond(),
    )
}

fn office() -> ServiceHours {
    ServiceHours::office_hours(AMS, "08:00", "18:00")
}

fn p2() -> PriorityTarget {
    Targets::default().priorities[1]
}

fn hold(s: &str, e: Option<&str>) -> Hold {
    (at(s), e.map(at))
}

fn input<'a>(hours: &'a ServiceHours, holds: &'a [Hold]) -> ClockInput<'a> {
    ClockInput {
        hours,
        target: p2(),
        opened_at: at("2026-06-05T17:00"),
        holds,
        responded_at: None,
        resolved_at: None,
    }
}

#[test]
fn p2_opened_friday_evening_is_due_monday() {
    assert_eq!((p2().response_minutes, p2().resolution_minutes), (30, 480));
    let cal = office();
    let c = compute(&input(&cal, &[]), at("2026-06-05T17:00"));
    // One business hour of Friday remains after 17:00.
    assert_eq!(c.response.due_at, Some(at("2026-06-05T17:30")));
    assert_eq!(c.response.warn_at, Some(at("2026-06-05T17:22:30")));
    // Eight hours: one on Friday, seven on Monday from 08:00.
    assert_eq!(c.resolution.due_at, Some(at("2026-06-08T15:00")));
    assert_eq!(c.resolution.warn_at, Some(at("2026-06-08T13:00")));
    assert_eq!((c.resolution.state, c.resolution.percent), (Ok, 0));

    // A two-business-hour hold on Monday moves the resolution due two hours later.
    let holds = [hold("2026-06-08T10:00", Some("2026-06-08T12:00"))];
    let c = compute(&input(&cal, &holds), at("2026-06-08T13:00"));
    assert_eq!(c.resolution.due_at, Some(at("2026-06-08T17:00")));
    // 1 h Friday + 08:00–10:00 + 12:00–13:00 = 4 h of 8.
    assert_eq!(c.resolution.elapsed_secs, 4 * 3600);
    assert_eq!((c.resolution.percent, c.resolution.state), (50, Ok));
    assert!(!c.resolution.paused);
    // A hold over the weekend covers no business time and moves nothing.
    let weekend = [hold("2026-06-06T09:00", Some("2026-06-07T20:00"))];
    let c = compute(&input(&cal, &weekend), at("2026-06-08T09:00"));
    assert_eq!(c.resolution.due_at, Some(at("2026-06-08T15:00")));
}

#[test]
fn states_over_time() {
    let cal = office();
    let monday_hold = [hold("2026-06-08T10:00", Some("2026-06-08T12:00"))];
    let open_hold = [hold("2026-06-08T10:00", None)];
    // (holds, responded, resolved, now, response (state, %), resolution (state, %))
    type Case<'a> = (
        &'a [Hold],
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
        (TargetState, u32),
        (TargetState, u32),
    );
    let cases: [Case; 14] = [
        (&[], None, None, "2026-06-05T17:10", (Ok, 33), (Ok, 2)),
        (&[], None, None, "2026-06-05T17:25", (Warning, 83), (Ok, 5)),
        (
            &[],
            None,
            None,
            "2026-06-05T17:30",
            (Breached, 100),
            (Ok, 6),
        ),
        (
            &[],
            None,
            None,
            "2026-06-06T12:00",
            (Breached, 200),
            (Ok, 12),
        ),
        (
            &[],
            Some("2026-06-05T17:10"),
            None,
            "2026-06-08T14:00",
            (Met, 33),
            (Warning, 87),
        ),
        (
            &[],
            Some("2026-06-05T17:10"),
            None,
            "2026-06-08T15:00",
            (Met, 33),
            (Breached, 100),
        ),
        (
            &[],
            Some("2026-06-05T17:30"),
            Some("2026-06-08T15:00"),
            "2026-06-09T09:00",
            (Met, 100),
            (Met, 100),
        ),
        (
            &[],
            Some("2026-06-05T17:31"),
            Some("2026-06-08T15:01"),
            "2026-06-09T09:00",
            (Missed, 103),
            (Missed, 100),
        ),
        // Resolving without a recorded response stops the response clock too.
        (
            &[],
            None,
            Some("2026-06-05T17:20"),
            "2026-06-09T09:00",
            (Met, 66),
            (Met, 4),
        ),
        (
            &monday_hold,
            Some("2026-06-05T17:10"),
            None,
            "2026-06-08T11:00",
            (Met, 33),
            (Ok, 37),
        ),
        (
            &monday_hold,
            Some("2026-06-05T17:10"),
            None,
            "2026-06-08T15:00",
            (Met, 33),
            (Warning, 75),
        ),
        (
            &monday_hold,
            Some("2026-06-05T17:10"),
            Some("2026-06-08T16:59"),
            "2026-06-09T09:00",
            (Met, 33),
            (Met, 99),
        ),
        (
            &open_hold,
            Some("2026-06-05T17:10"),
            None,
            "2026-06-08T16:00",
            (Met, 33),
            (Ok, 37),
        ),
        // On hold from Friday 17:20 without a response: the response clock pauses at 66 %.
        (
            &[(at("2026-06-05T17:20"), None)],
            None,
            None,
            "2026-06-08T16:00",
            (Ok, 66),
            (Ok, 4),
        ),
    ];
    for (i, (holds, responded, resolved, now, response, resolution)) in
        cases.into_iter().enumerate()
    {
        let inp = ClockInput {
            responded_at: responded.map(at),
            resolved_at: resolved.map(at),
            ..input(&cal, holds)
        };
        let c = compute(&inp, at(now));
        assert_eq!(
            (c.response.state, c.response.percent),
            response,
            "case {i} response"
        );
        assert_eq!(
            (c.resolution.state, c.resolution.percent),
            resolution,
            "case {i} resolution"
        );
    }
}

#[test]
fn an_open_hold_pauses_and_hides_the_due_time() {
    let cal = office();
    let holds = [hold("2026-06-08T10:00", None)];
    let inp = ClockInput {
        responded_at: Some(at("2026-06-05T17:10")),
        ..input(&cal, &holds)
    };
    let c = compute(&inp, at("2026-06-09T16:00"));
    let r = c.resolution;
    assert!(r.paused);
    assert_eq!(
        (r.due_at, r.warn_at, r.elapsed_secs),
        (None, None, 3 * 3600)
    );
    assert_eq!(next_change(&c, at("2026-06-09T16:00")), None);
    // Stopped clocks are never paused; a hold that outlives the resolution is cut at it.
    let resolved = ClockInput {
        resolved_at: Some(at("2026-06-08T11:00")),
        ..inp
    };
    let c = compute(&resolved, at("2026-06-09T16:00"));
    assert!(!c.resolution.paused);
    // Holds count only up to the stop: 10:00–11:00 here, so due 16:00.
    assert_eq!(c.resolution.due_at, Some(at("2026-06-08T16:00")));
    assert_eq!(c.resolution.state, Met);
    // Paused after the response target ran out: its due time is the past instant.
    let late = [hold("2026-06-08T09:00", None)];
    let c = compute(&input(&cal, &late), at("2026-06-08T12:00"));
    assert_eq!(
        (c.response.due_at, c.response.state),
        (Some(at("2026-06-05T17:30")), Breached)
    );
    assert!(c.response.paused && c.resolution.paused);
    assert_eq!(c.resolution.elapsed_secs, 2 * 3600);
}

#[test]
fn overlapping_and_early_holds_count_once() {
    let cal = office();
    let holds = [
        hold("2026-06-08T11:00", Some("2026-06-08T12:00")),
        hold("2026-06-08T10:00", Some("2026-06-08T11:30")),
        // Starts before the incident was opened: only its part after 17:00 Friday counts.
        hold("2026-06-05T16:00", Some("2026-06-05T17:30")),
    ];
    let c = compute(&input(&cal, &holds), at("2026-06-08T13:00"));
    assert_eq!(c.resolution.due_at, Some(at("2026-06-08T17:30")));
    // Response: held until 17:30 Friday, then the last half hour of Friday.
    assert_eq!(c.response.due_at, Some(at("2026-06-05T18:00")));
    assert_eq!(c.resolution.elapsed_secs, 3 * 3600 + 1800);
}

#[test]
fn recompute_on_priority_or_service_change() {
    let office = office();
    let inp = input(&office, &[]);
    let now = at("2026-06-08T09:00");
    let before = compute(&inp, now);
    assert_eq!(before.resolution.due_at, Some(at("2026-06-08T15:00")));

    // Raised to P1 (15 min / 4 h): same opening, new targets.
    let p1 = ClockInput {
        target: Targets::default().priorities[0],
        ..inp
    };
    let c = compute(&p1, now);
    assert_eq!(c.response.due_at, Some(at("2026-06-05T17:15")));
    assert_eq!(c.resolution.due_at, Some(at("2026-06-08T11:00")));
    assert_eq!((c.resolution.state, c.resolution.percent), (Ok, 50));

    // Moved to a 24×7 service: the weekend counts.
    let always = ServiceHours {
        time_zone: AMS.into(),
        ..ServiceHours::always()
    };
    let c = compute(
        &ClockInput {
            hours: &always,
            ..inp
        },
        now,
    );
    assert_eq!(c.resolution.due_at, Some(at("2026-06-06T01:00")));
    assert_eq!(c.resolution.state, Breached);

    // A Monday holiday moves it to Tuesday; DST weeks keep local business hours.
    let holiday = ServiceHours {
        holidays: vec!["2026-06-08".into()],
        ..office.clone()
    };
    let c = compute(
        &ClockInput {
            hours: &holiday,
            ..inp
        },
        now,
    );
    assert_eq!(c.resolution.due_at, Some(at("2026-06-09T15:00")));
    let dst = ClockInput {
        opened_at: at("2026-03-27T17:00"),
        ..inp
    };
    assert_eq!(
        compute(&dst, now).resolution.due_at,
        Some(at("2026-03-30T15:00"))
    );
}

#[test]
fn next_change_for_the_sweeper() {
    let cal = office();
    let inp = input(&cal, &[]);
    let now = at("2026-06-05T17:10");
    let c = compute(&inp, now);
    assert_eq!(next_change(&c, now), Some(at("2026-06-05T17:22:30")));
    // Computed earlier, asked later: the change is due now.
    assert_eq!(
        next_change(&c, at("2026-06-05T17:40")),
        Some(at("2026-06-05T17:40"))
    );
    let responded = ClockInput {
        responded_at: Some(now),
        ..inp
    };
    let c = compute(&responded, now);
    assert_eq!(next_change(&c, now), Some(at("2026-06-08T13:00")));
    let now = at("2026-06-08T13:30");
    let c = compute(&responded, now);
    assert_eq!(c.resolution.state, Warning);
    assert_eq!(next_change(&c, now), Some(at("2026-06-08T15:00")));
    let now = at("2026-06-08T15:00");
    let c = compute(&responded, now);
    assert_eq!(c.resolution.state, Breached);
    assert_eq!(next_change(&c, now), None);
}

#[test]
fn serialises_snake_case() {
    let cal = office();
    let c = compute(&input(&cal, &[]), at("2026-06-05T17:25"));
    let json = serde_json::to_value(c).unwrap();
    assert_eq!(json["response"]["state"], "warning");
    assert_eq!(json["resolution"]["target_secs"], 28_800);
    assert_eq!(serde_json::from_value::<Clock>(json).unwrap(), c);
    assert_eq!(TargetState::Missed.as_str(), "missed");
    assert!(Missed.is_breach() && Missed.is_stopped() && !Breached.is_stopped());
}

/// Whole seconds in 2026–2027, as instants.
fn secs() -> impl Strategy<Value = i64> {
    (1_767_225_600i64..1_830_297_600).prop_map(|s| s * 1000)
}

/// Holds as (start, length) in seconds after opening.
fn closed_holds() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((0..10 * 86_400i64, 0..3 * 86_400i64), 0..4)
}

proptest! {
    /// The due time is exactly where the held-back business time reaches the target, and the
    /// clock breaches then and not a second before.
    #[test]
    fn due_is_where_the_target_runs_out(opened in secs(), minutes in 1..5_000u32, rel in closed_holds()) {
        let cal = office();
        let opened = Timestamp(opened);
        let holds: Vec<Hold> = rel.iter().map(|&(s, d)| (opened.plus_secs(s), Some(opened.plus_secs(s + d)))).collect();
        let inp = ClockInput {
            target: PriorityTarget { response_minutes: minutes, resolution_minutes: minutes },
            opened_at: opened,
            holds: &holds,
            ..input(&cal, &[])
        };
        let due = compute(&inp, opened).resolution.due_at.unwrap();
        let target = i64::from(minutes) * 60;
        prop_assert_eq!(cal.business_seconds_excluding(opened, due, &holds), target);
        prop_assert_eq!(compute(&inp, due).resolution.state, Breached);
        prop_assert_ne!(compute(&inp, due.minus_secs(1)).resolution.state, Breached);
        // One more hold never makes it due earlier.
        let mut more = holds.clone();
        more.push((opened.plus_secs(rel.len() as i64 * 7_919), Some(opened.plus_secs(90_000))));
        let later = compute(&ClockInput { holds: &more, ..inp }, opened).resolution.due_at.unwrap();
        prop_assert!(later >= due);
    }

    /// Nothing changes before `next_change`, and something does at it.
    #[test]
    fn next_change_is_the_next_change(opened in secs(), after in 0..6 * 86_400i64, responded in prop::option::of(0..3_600i64)) {
        let cal = office();
        let opened = Timestamp(opened);
        let inp = ClockInput {
            opened_at: opened,
            responded_at: responded.map(|r| opened.plus_secs(r)),
            ..input(&cal, &[])
        };
        let now = opened.plus_secs(after);
        let c = compute(&inp, now);
        let states = |c: &Clock| (c.response.state, c.resolution.state);
        if let Some(t) = next_change(&c, now) {
            prop_assert!(t >= now);
            if t > now {
                prop_assert_eq!(states(&compute(&inp, t.minus_secs(1).max(now))), states(&c));
                prop_assert_ne!(states(&compute(&inp, t)), states(&c));
            }
        } else {
            prop_assert_eq!(states(&compute(&inp, now.plus_secs(30 * 86_400))), states(&c));
        }
    }
}
