//! Small formatting rules shared by the outputs: units, times, statuses and links.

use custos_core::sla_report::fmt_num;
use custos_core::time::{Date, Timestamp};

/// "≥ 95 %": a KPI target or value with its unit.
pub(crate) fn with_unit(v: f64, percent: bool) -> String {
    if percent {
        format!("{} %", fmt_num(v))
    } else {
        fmt_num(v)
    }
}

/// "2026-11-01 06:30 UTC".
pub(crate) fn fmt_timestamp(t: Timestamp) -> String {
    let minute_of_day = t.millis().div_euclid(60_000).rem_euclid(24 * 60);
    format!(
        "{} {:02}:{:02} UTC",
        Date::of(t),
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// The absolute address of a web UI path, or None when `link` is not a local path
/// (so nothing but `base_url` followed by a path can become a hyperlink).
pub(crate) fn href(base_url: &str, link: &str) -> Option<String> {
    if !link.starts_with('/') || link.starts_with("//") || link.contains('\\') {
        return None;
    }
    let base = base_url.trim().trim_end_matches('/');
    let base_ok = base.is_empty() || base.starts_with("https://") || base.starts_with("http://");
    Some(if base_ok {
        format!("{base}{link}")
    } else {
        link.to_string()
    })
}

/// An action status in words: "not_started" → "Not started".
pub(crate) fn status_words(s: &str) -> String {
    match s {
        "planned" => "Planned".into(),
        "not_started" => "Not started".into(),
        other => {
            let mut w = other.replace('_', " ");
            if let Some(c) = w.get(..1) {
                let up = c.to_uppercase();
                w.replace_range(..1, &up);
            }
            w
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_only_join_local_paths() {
        assert_eq!(
            href("https://c.example/", "/slas/1").as_deref(),
            Some("https://c.example/slas/1")
        );
        assert_eq!(href("", "/x").as_deref(), Some("/x"));
        assert_eq!(href("javascript:alert(1)//", "/x").as_deref(), Some("/x"));
        assert_eq!(href("https://c.example", "javascript:alert(1)"), None);
        assert_eq!(href("https://c.example", "//evil.example/x"), None);
    }

    #[test]
    fn timestamps_and_statuses_read_as_words() {
        assert_eq!(
            fmt_timestamp(Timestamp(1_790_000_000_000)),
            "2026-09-21 14:13 UTC"
        );
        assert_eq!(status_words("not_started"), "Not started");
        assert_eq!(status_words("in_review"), "In review");
    }
}
