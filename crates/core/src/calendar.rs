//! Service calendars ("service hours") and business-time arithmetic.
//!
//! SLA response and resolution clocks, and availability figures, are measured in the
//! calendar of the service they concern, not in wall-clock time: a P2 ticket with a
//! four-hour target opened on Friday at 17:00 on a Monday–Friday 08:00–18:00 desk is due
//! on Monday at 11:00. A [`ServiceHours`] names an IANA time zone, weekly service windows
//! in local time and closed days (holidays); this module turns it into instants.
//!
//! Semantics: an instant is service time when its local wall-clock time in the calendar's
//! zone lies inside a window of its weekday and its local date is not a holiday. So
//! 08:00–18:00 stays 08:00–18:00 local across a DST change, a window inside the
//! spring-forward gap shrinks (02:00–03:00 is empty that day), and one covering the
//! fall-back hour counts the repeated hour twice. Every computation walks local days, so
//! a year costs a few hundred steps. Rules take all instants as arguments, never the clock.
//!
//! The time-zone database is bundled into the binary (jiff's `tzdb-bundle-always`), so
//! results do not depend on the host's `/usr/share/zoneinfo`.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::time::Timestamp;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// How many consecutive days without any service time `add_business_seconds` searches.
const SEARCH_DAYS: u32 = 3653;

/// A service's calendar: when the clock runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceHours {
    /// IANA time zone name, e.g. "Europe/Amsterdam".
    pub time_zone: String,
    /// Service windows per weekday; a weekday may appear more than once (split shifts); absent = closed.
    pub windows: Vec<Window>,
    /// Days on which the service is closed, "YYYY-MM-DD" local dates.
    pub holidays: Vec<String>,
}

/// One weekly service window in local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    /// "mon".."sun"
    pub day: String,
    /// "HH:MM", local time
    pub start: String,
    /// "HH:MM" local time, after start; "24:00" allowed meaning end of day
    pub end: String,
}

impl Window {
    fn new(day: &str, start: &str, end: &str) -> Self {
        Self {
            day: day.into(),
            start: start.into(),
            end: end.into(),
        }
    }
}

impl ServiceHours {
    /// Around the clock, every day, UTC, no holidays.
    pub fn always() -> Self {
        Self {
            time_zone: "UTC".into(),
            windows: DAY_NAMES
                .iter()
                .map(|d| Window::new(d, "00:00", "24:00"))
                .collect(),
            holidays: Vec::new(),
        }
    }

    /// Monday–Friday start–end in tz, e.g. office_hours("Europe/Amsterdam", "08:00", "18:00").
    pub fn office_hours(tz: &str, start: &str, end: &str) -> Self {
        Self {
            time_zone: tz.into(),
            windows: DAY_NAMES[..5]
                .iter()
                .map(|d| Window::new(d, start, end))
                .collect(),
            holidays: Vec::new(),
        }
    }

    /// Checks every field; errors name the field ("service_hours.time_zone",
    /// "service_hours.windows[2].end", "service_hours.holidays[0]", ...).
    pub fn validate(&self) -> Result<(), DomainError> {
        let err = |field: String, msg: &str| Err(DomainError::new(field, msg));
        if self.time_zone.is_empty() || TimeZone::get(&self.time_zone).is_err() {
            return err("service_hours.time_zone".into(), "unknown IANA time zone");
        }
        if self.windows.is_empty() {
            return err("service_hours.windows".into(), "needs at least one window");
        }
        let mut parsed: Vec<(usize, i64, i64)> = Vec::with_capacity(self.windows.len());
        for (i, w) in self.windows.iter().enumerate() {
            let field = |name: &str| format!("service_hours.windows[{i}].{name}");
            let Some(day) = day_index(&w.day) else {
                return err(field("day"), "must be mon, tue, ..., sun");
            };
            let Some(start) = parse_hhmm(&w.start, false) else {
                return err(field("start"), "must be HH:MM, 00:00-23:59");
            };
            let Some(end) = parse_hhmm(&w.end, true) else {
                return err(field("end"), "must be HH:MM, 00:00-24:00");
            };
            if end <= start {
                return err(field("end"), "must be after start");
            }
            if let Some(&(j, ..)) = parsed.iter().find(|&&(j, s, e)| {
                day_index(&self.windows[j].day) == Some(day) && s < end && start < e
            }) {
                return err(
                    format!("service_hours.windows[{i}]"),
                    &format!("overlaps windows[{j}]"),
                );
            }
            parsed.push((i, start, end));
        }
        for (i, h) in self.holidays.iter().enumerate() {
            if parse_date(h).is_none() {
                return err(
                    format!("service_hours.holidays[{i}]"),
                    "must be a date YYYY-MM-DD",
                );
            }
        }
        Ok(())
    }

    /// Business (service) seconds in [from, to); 0 if to <= from.
    pub fn business_seconds_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        Calendar::new(self).millis_between(from.0, to.0) / 1000
    }

    /// The instant at which `secs` business seconds have elapsed counting from `from` (if
    /// `from` is outside service hours, counting starts at the next opening). secs <= 0 →
    /// `from` itself. None if the calendar has no service time within 10 years.
    pub fn add_business_seconds(&self, from: Timestamp, secs: i64) -> Option<Timestamp> {
        if secs <= 0 {
            return Some(from);
        }
        Calendar::new(self)
            .add_millis(from.0, secs.saturating_mul(1000))
            .map(Timestamp)
    }

    /// Business seconds in [from, to) minus the parts inside any of `pauses` (each a
    /// [start, end) interval; they may overlap; end = None means "until `to`").
    /// For SLA clocks paused while on hold.
    pub fn business_seconds_excluding(
        &self,
        from: Timestamp,
        to: Timestamp,
        pauses: &[(Timestamp, Option<Timestamp>)],
    ) -> i64 {
        let cal = Calendar::new(self);
        let (from, to) = (from.0, to.0);
        let mut clipped: Vec<(i64, i64)> = pauses
            .iter()
            .map(|&(s, e)| (s.0.max(from), e.map_or(to, |e| e.0).min(to)))
            .filter(|&(s, e)| s < e)
            .collect();
        clipped.sort_unstable();
        // Sorted by start; `cursor` skips what an earlier, overlapping pause already took.
        let (mut paused, mut cursor) = (0, from);
        for (s, e) in clipped {
            let s = s.max(cursor);
            if s < e {
                paused += cal.millis_between(s, e);
                cursor = e;
            }
        }
        (cal.millis_between(from, to) - paused) / 1000
    }

    /// The [start, end) instants of local calendar period `period` in this calendar's zone:
    /// "2026-10" (month) or "2026-Q4" (quarter). Err(DomainError field "period") if malformed.
    pub fn period_bounds(&self, period: &str) -> Result<(Timestamp, Timestamp), DomainError> {
        let bad = || DomainError::new("period", "must be a month YYYY-MM or a quarter YYYY-Qn");
        let (year, rest) = period.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i16 = year.parse().map_err(|_| bad())?;
        let (first_month, months) = match rest.strip_prefix('Q') {
            Some(q) if q.len() == 1 => match q.parse::<i8>() {
                Ok(q @ 1..=4) => (3 * q - 2, 3),
                _ => return Err(bad()),
            },
            None if rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()) => {
                match rest.parse::<i8>() {
                    Ok(m @ 1..=12) => (m, 1),
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        };
        let start = Date::new(year, first_month, 1).map_err(|_| bad())?;
        let end = start
            .checked_add(jiff::Span::new().months(months))
            .map_err(|_| bad())?;
        let cal = Calendar::new(self);
        Ok((
            Timestamp(cal.day_start(start)),
            Timestamp(cal.day_start(end)),
        ))
    }
}

fn day_index(day: &str) -> Option<usize> {
    DAY_NAMES.iter().position(|d| *d == day)
}

/// "HH:MM" → milliseconds after local midnight; "24:00" only if `allow_24`.
fn parse_hhmm(s: &str, allow_24: bool) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    let num = |i: usize| i64::from(b[i] - b'0') * 10 + i64::from(b[i + 1] - b'0');
    let (h, m) = (num(0), num(3));
    let ok = (h < 24 && m < 60) || (allow_24 && h == 24 && m == 0);
    ok.then_some((h * 60 + m) * 60_000)
}

/// Strict "YYYY-MM-DD".
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return None;
    }
    Date::new(
        s[0..4].parse().ok()?,
        s[5..7].parse().ok()?,
        s[8..10].parse().ok()?,
    )
    .ok()
}

fn jts(ms: i64) -> jiff::Timestamp {
    let (lo, hi) = (
        jiff::Timestamp::MIN.as_millisecond(),
        jiff::Timestamp::MAX.as_millisecond(),
    );
    jiff::Timestamp::from_millisecond(ms.clamp(lo, hi)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Local midnight of `date` as if it were UTC, in milliseconds ("civil" time line).
fn civil_ms(date: Date) -> i64 {
    date.duration_since(Date::constant(1970, 1, 1)).as_secs() * 1000
}

fn offset_ms(offset: jiff::tz::Offset) -> i64 {
    i64::from(offset.seconds()) * 1000
}

/// A `ServiceHours` parsed for computation. Lenient: an unknown zone falls back to UTC,
/// malformed windows and holidays are ignored, overlapping windows are merged.
struct Calendar {
    tz: TimeZone,
    /// Per weekday (Monday first): sorted, disjoint [start, end) in ms after local midnight.
    week: [Vec<(i64, i64)>; 7],
    holidays: Vec<Date>,
}

impl Calendar {
    fn new(hours: &ServiceHours) -> Self {
        let mut week: [Vec<(i64, i64)>; 7] = Default::default();
        for w in &hours.windows {
            if let (Some(d), Some(s), Some(e)) = (
                day_index(&w.day),
                parse_hhmm(&w.start, false),
                parse_hhmm(&w.end, true),
            ) && s < e
            {
                week[d].push((s, e));
            }
        }
        for day in &mut week {
            day.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(day.len());
            for &(s, e) in day.iter() {
                match merged.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            *day = merged;
        }
        let mut holidays: Vec<Date> = hours
            .holidays
            .iter()
            .filter_map(|h| parse_date(h))
            .collect();
        holidays.sort_unstable();
        let tz = TimeZone::get(&hours.time_zone).unwrap_or(TimeZone::UTC);
        Self { tz, week, holidays }
    }

    fn local_date(&self, ms: i64) -> Date {
        self.tz.to_datetime(jts(ms)).date()
    }

    /// The first instant whose local time is at or after midnight starting `date`.
    fn day_start(&self, date: Date) -> i64 {
        let civil = civil_ms(date);
        let midnight = DateTime::from_parts(date, Time::midnight());
        match self.tz.to_ambiguous_timestamp(midnight).offset() {
            AmbiguousOffset::Unambiguous { offset } => civil - offset_ms(offset),
            AmbiguousOffset::Fold { before, .. } => civil - offset_ms(before),
            AmbiguousOffset::Gap { after, .. } => {
                // Midnight does not exist: the day starts at the transition, which lies
                // strictly after `civil - after`.
                let probe = civil - offset_ms(after);
                self.tz
                    .following(jts(probe))
                    .next()
                    .map_or(probe, |t| t.timestamp().as_millisecond())
            }
        }
    }

    /// Calls `f` with the service intervals (instants, ascending, disjoint) of local day
    /// `date` and returns the day's [start, end) instants; None past the end of time.
    fn day(&self, date: Date, mut f: impl FnMut(i64, i64)) -> Option<(i64, i64)> {
        let (start, end) = (self.day_start(date), self.day_start(date.tomorrow().ok()?));
        let windows = &self.week[date.weekday().to_monday_zero_offset() as usize];
        if windows.is_empty() || self.holidays.binary_search(&date).is_ok() {
            return Some((start, end));
        }
        let civil = civil_ms(date);
        let mut seg_start = start;
        // Split the day where the UTC offset changes; within a segment local = instant + offset.
        while seg_start < end {
            let offset = offset_ms(self.tz.to_offset(jts(seg_start)));
            let next = self.tz.following(jts(seg_start)).next();
            let seg_end = next.map_or(end, |t| t.timestamp().as_millisecond().min(end));
            for &(s, e) in windows {
                let a = (civil + s - offset).max(seg_start);
                let b = (civil + e - offset).min(seg_end);
                if a < b {
                    f(a, b);
                }
            }
            seg_start = seg_end;
        }
        Some((start, end))
    }

    fn millis_between(&self, from: i64, to: i64) -> i64 {
        let (mut total, mut date) = (0, self.local_date(from));
        if from >= to {
            return 0;
        }
        loop {
            let day = self.day(date, |a, b| total += (b.min(to) - a.max(from)).max(0));
            match (day, date.tomorrow()) {
                (Some((_, end)), Ok(next)) if end < to => date = next,
                _ => break,
            }
        }
        total
    }

    fn add_millis(&self, from: i64, mut remaining: i64) -> Option<i64> {
        let mut date = self.local_date(from);
        let mut idle_days = 0;
        while idle_days < SEARCH_DAYS {
            let (mut found, mut due) = (false, None);
            self.day(date, |a, b| {
                let a = a.max(from);
                if due.is_some() || a >= b {
                    return;
                }
                found = true;
                if b - a >= remaining {
                    due = Some(a + remaining);
                } else {
                    remaining -= b - a;
                }
            })?;
            if due.is_some() {
                return due;
            }
            idle_days = if found { 0 } else { idle_days + 1 };
            date = date.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AMS: &str = "Europe/Amsterdam";
    type Pause = (Timestamp, Option<Timestamp>);

    fn at(tz: &str, local: &str) -> Timestamp {
        let tz = TimeZone::get(tz).unwrap();
        Timestamp(
            tz.to_timestamp(local.parse().unwrap())
                .unwrap()
                .as_millisecond(),
        )
    }

    fn office() -> ServiceHours {
        ServiceHours::office_hours(AMS, "08:00", "18:00")
    }

    fn with_holidays(mut h: ServiceHours, days: &[&str]) -> ServiceHours {
        h.holidays = days.iter().map(|d| d.to_string()).collect();
        h
    }

    fn ams_24x7() -> ServiceHours {
        ServiceHours {
            time_zone: AMS.into(),
            ..ServiceHours::always()
        }
    }

    #[test]
    fn due_times() {
        // (calendar, opened, business seconds, due) — 2026-06-05 is a Friday.
        let cases = [
            (office(), "2026-06-05T17:00", 4 * 3600, "2026-06-08T11:00"),
            (
                with_holidays(office(), &["2026-06-08"]),
                "2026-06-05T17:00",
                4 * 3600,
                "2026-06-09T11:00",
            ),
            (office(), "2026-06-06T10:00", 4 * 3600, "2026-06-08T12:00"),
            (office(), "2026-06-05T14:00", 4 * 3600, "2026-06-05T18:00"),
            (office(), "2026-06-05T07:00", 60, "2026-06-05T08:01"),
            (office(), "2026-06-05T17:00", 0, "2026-06-05T17:00"),
            (office(), "2026-06-05T17:00", -5, "2026-06-05T17:00"),
            // DST: 08:00–18:00 local before and after the change (Fri 27 March 2026).
            (office(), "2026-03-27T17:00", 2 * 3600, "2026-03-30T09:00"),
            (office(), "2026-10-23T17:00", 2 * 3600, "2026-10-26T09:00"),
            (
                ams_24x7(),
                "2026-03-28T12:00",
                24 * 3600,
                "2026-03-29T13:00",
            ),
        ];
        for (i, (cal, opened, secs, due)) in cases.into_iter().enumerate() {
            let got = cal.add_business_seconds(at(AMS, opened), secs);
            assert_eq!(got, Some(at(AMS, due)), "case {i}");
        }
    }

    #[test]
    fn elapsed_excluding_pauses() {
        let (from, to) = (at(AMS, "2026-06-08T09:00"), at(AMS, "2026-06-08T15:00"));
        let p = |s: &str, e: Option<&str>| (at(AMS, s), e.map(|e| at(AMS, e)));
        let cases: [(Vec<Pause>, i64); 5] = [
            (vec![], 6 * 3600),
            (
                vec![p("2026-06-08T10:00", Some("2026-06-08T12:00"))],
                4 * 3600,
            ),
            (
                vec![
                    p("2026-06-08T11:00", Some("2026-06-08T13:00")),
                    p("2026-06-08T10:00", Some("2026-06-08T12:00")),
                    p("2026-06-08T14:30", None),
                ],
                9000,
            ),
            (
                vec![p("2026-06-05T17:00", Some("2026-06-08T10:00"))],
                5 * 3600,
            ),
            (vec![p("2026-06-01T00:00", None)], 0),
        ];
        for (i, (pauses, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                office().business_seconds_excluding(from, to, &pauses),
                want,
                "case {i}"
            );
        }
    }

    #[test]
    fn dst_days_and_windows() {
        let day = |cal: &ServiceHours, d: &str, next: &str| {
            cal.business_seconds_between(
                at(AMS, &format!("{d}T00:00")),
                at(AMS, &format!("{next}T00:00")),
            )
        };
        let short = |start: &str, end: &str| ServiceHours {
            time_zone: AMS.into(),
            windows: vec![Window::new("sun", start, end)],
            holidays: vec![],
        };
        let cases = [
            (ams_24x7(), "2026-03-29", "2026-03-30", 23 * 3600),
            (ams_24x7(), "2026-10-25", "2026-10-26", 25 * 3600),
            (ams_24x7(), "2026-06-07", "2026-06-08", 24 * 3600),
            (short("02:00", "03:00"), "2026-03-29", "2026-03-30", 0),
            (short("01:30", "02:30"), "2026-03-29", "2026-03-30", 1800),
            (
                short("02:00", "03:00"),
                "2026-10-25",
                "2026-10-26",
                2 * 3600,
            ),
            (office(), "2026-03-23", "2026-03-30", 50 * 3600),
            (office(), "2026-10-19", "2026-10-26", 50 * 3600),
            (
                ServiceHours::always(),
                "2026-03-29",
                "2026-03-30",
                23 * 3600,
            ),
        ];
        for (i, (cal, d, next, want)) in cases.into_iter().enumerate() {
            assert_eq!(day(&cal, d, next), want, "case {i}");
        }
        let from = at(AMS, "2026-06-09T10:00");
        assert_eq!(
            office().business_seconds_between(from, from.minus_secs(60)),
            0
        );
    }

    #[test]
    fn validation_names_the_field() {
        let ok = ServiceHours {
            windows: vec![
                Window::new("mon", "08:00", "12:00"),
                Window::new("mon", "13:00", "17:00"),
                Window::new("sat", "10:00", "24:00"),
            ],
            holidays: vec!["2026-12-25".into()],
            ..office()
        };
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(ServiceHours::always().validate(), Ok(()));
        type Edit = fn(&mut ServiceHours);
        let cases: [(Edit, &str); 14] = [
            (
                |h| h.time_zone = "Europe/Atlantis".into(),
                "service_hours.time_zone",
            ),
            (|h| h.time_zone = String::new(), "service_hours.time_zone"),
            (|h| h.windows.clear(), "service_hours.windows"),
            (
                |h| h.windows[1].day = "monday".into(),
                "service_hours.windows[1].day",
            ),
            (
                |h| h.windows[0].start = "8:00".into(),
                "service_hours.windows[0].start",
            ),
            (
                |h| h.windows[0].start = "24:00".into(),
                "service_hours.windows[0].start",
            ),
            (
                |h| h.windows[0].start = "07:60".into(),
                "service_hours.windows[0].start",
            ),
            (
                |h| h.windows[2].end = "24:01".into(),
                "service_hours.windows[2].end",
            ),
            (
                |h| h.windows[2].end = "10:00".into(),
                "service_hours.windows[2].end",
            ),
            (
                |h| h.windows[2].end = "09:00".into(),
                "service_hours.windows[2].end",
            ),
            (
                |h| h.windows[1].start = "11:59".into(),
                "service_hours.windows[1]",
            ),
            (
                |h| h.holidays[0] = "2026-02-30".into(),
                "service_hours.holidays[0]",
            ),
            (
                |h| h.holidays.push("25-12-2026".into()),
                "service_hours.holidays[1]",
            ),
            (
                |h| h.holidays.push("2026-1-01".into()),
                "service_hours.holidays[1]",
            ),
        ];
        for (i, (edit, field)) in cases.into_iter().enumerate() {
            let mut h = ok.clone();
            edit(&mut h);
            assert_eq!(
                h.validate().map_err(|e| e.field),
                Err(field.to_string()),
                "case {i}"
            );
        }
    }

    #[test]
    fn period_bounds() {
        let cases = [
            ("2026-10", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z"),
            ("2026-Q1", "2025-12-31T23:00:00Z", "2026-03-31T22:00:00Z"),
            ("2026-Q4", "2026-09-30T22:00:00Z", "2026-12-31T23:00:00Z"),
            ("2026-12", "2026-11-30T23:00:00Z", "2026-12-31T23:00:00Z"),
        ];
        let utc = |s: &str| Timestamp(s.parse::<jiff::Timestamp>().unwrap().as_millisecond());
        for (period, start, end) in cases {
            assert_eq!(
                office().period_bounds(period),
                Ok((utc(start), utc(end))),
                "{period}"
            );
        }
        // A whole year is 261 weekdays of 10 hours; walking it is one step per day.
        let (y0, y1) = (at(AMS, "2026-01-01T00:00"), at(AMS, "2027-01-01T00:00"));
        assert_eq!(office().business_seconds_between(y0, y1), 261 * 36_000);
        let end = office().add_business_seconds(y0, 261 * 36_000);
        assert_eq!(end, Some(at(AMS, "2026-12-31T18:00")));
        let (s, e) = office().period_bounds("2026-10").unwrap();
        assert_eq!(office().business_seconds_between(s, e), 22 * 10 * 3600);
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "2026-1",
            "2026-Q5",
            "2026-Q0",
            "26-10",
            "2026-q1",
            "2026-10-01",
        ] {
            assert_eq!(
                office().period_bounds(bad).map_err(|e| e.field),
                Err("period".into()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn no_service_time_gives_none() {
        let empty = ServiceHours {
            windows: vec![],
            ..office()
        };
        assert_eq!(
            empty.add_business_seconds(at(AMS, "2026-06-05T17:00"), 60),
            None
        );
        let mondays = ServiceHours {
            windows: vec![Window::new("mon", "08:00", "18:00")],
            holidays: Date::constant(2026, 6, 1)
                .series(jiff::Span::new().weeks(1))
                .take(600)
                .map(|d| d.to_string())
                .collect(),
            ..office()
        };
        assert_eq!(mondays.validate(), Ok(()));
        assert_eq!(
            mondays.add_business_seconds(at(AMS, "2026-06-01T09:00"), 60),
            None
        );
    }

    #[test]
    fn serde_rejects_unknown_fields() {
        let json = serde_json::to_string(&office()).unwrap();
        assert_eq!(
            serde_json::from_str::<ServiceHours>(&json).unwrap(),
            office()
        );
        let bad = r#"{"time_zone":"UTC","windows":[],"holidays":[],"extra":1}"#;
        assert!(serde_json::from_str::<ServiceHours>(bad).is_err());
    }

    fn calendars() -> Vec<ServiceHours> {
        let split = ServiceHours {
            time_zone: "America/New_York".into(),
            windows: vec![
                Window::new("mon", "01:30", "02:30"),
                Window::new("sun", "00:00", "03:00"),
                Window::new("tue", "13:00", "24:00"),
                Window::new("tue", "07:00", "12:00"),
                Window::new("sat", "22:15", "23:45"),
            ],
            holidays: vec!["2026-11-03".into(), "2027-03-14".into()],
        };
        vec![
            office(),
            ams_24x7(),
            split,
            ServiceHours::office_hours("Australia/Lord_Howe", "01:00", "03:00"),
        ]
    }

    proptest! {
        #[test]
        fn add_and_between_are_inverse(cal in 0..4usize, from in 1_767_225_600_000i64..1_830_297_600_000, secs in 0..30 * 86_400i64) {
            let cal = &calendars()[cal];
            let from = Timestamp(from);
            let due = cal.add_business_seconds(from, secs).unwrap();
            prop_assert!(due >= from);
            prop_assert_eq!(cal.business_seconds_between(from, due), secs);
        }

        #[test]
        fn between_is_additive(cal in 0..4usize, a in 1_767_225_600i64..1_830_297_600, d1 in 0..5_000_000i64, d2 in 0..5_000_000i64) {
            let cal = &calendars()[cal];
            let (a, b, c) = (Timestamp(a * 1000), Timestamp((a + d1) * 1000), Timestamp((a + d1 + d2) * 1000));
            let whole = cal.business_seconds_between(a, c);
            prop_assert_eq!(whole, cal.business_seconds_between(a, b) + cal.business_seconds_between(b, c));
            prop_assert_eq!(cal.business_seconds_excluding(a, c, &[(b, None)]), cal.business_seconds_between(a, b));
        }
    }
}
