//! Instants as milliseconds since the Unix epoch: one representation on every backend.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time. Only the edges (HTTP handlers, CLI, jobs) call this;
    /// rules receive `now` as an argument.
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    pub fn minus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_sub(secs.saturating_mul(1000)))
    }
}

/// A calendar date, `YYYY-MM-DD` (validity periods, review dates). Ordered like the dates
/// it names, because the text form sorts that way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Date))]
pub struct Date(String);

impl Date {
    pub fn parse(field: &str, s: &str) -> Result<Self, crate::error::DomainError> {
        let bad = || crate::error::DomainError::new(field, "must be a date YYYY-MM-DD");
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (y, m, d) = match (num(0..4), num(5..7), num(8..10)) {
            (Some(y), Some(m), Some(d)) => (y, m, d),
            _ => return Err(bad()),
        };
        if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m)
        {
            return Err(bad());
        }
        Ok(Self(s.to_string()))
    }

    /// The UTC date of an instant.
    pub fn of(ts: Timestamp) -> Self {
        let days = ts.secs().div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Self(format!("{y:04}-{m:02}-{d:02}"))
    }

    /// Midnight UTC at the start of this date.
    pub fn start_utc(&self) -> Timestamp {
        let y: i64 = self.0[0..4].parse().unwrap_or(1970);
        let m: u32 = self.0[5..7].parse().unwrap_or(1);
        let d: u32 = self.0[8..10].parse().unwrap_or(1);
        Timestamp(days_from_civil(y, m, d) * 86_400_000)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Date {
    type Error = crate::error::DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Date::parse("date", &s)
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.0
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (era-based, valid for all i64 years
/// used here).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_strictly_and_round_trip_through_days() {
        for ok in ["1970-01-01", "2024-02-29", "2026-12-31", "2000-02-29"] {
            let d = Date::parse("d", ok).unwrap();
            assert_eq!(Date::of(d.start_utc()), d, "{ok}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-1-01",
            "2026-00-10",
            "x",
            "2026-04-31",
            "+026-01-01",
        ] {
            assert!(Date::parse("d", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Date::of(Timestamp(1_790_000_000_000)).as_str(),
            "2026-09-21"
        );
    }
}
