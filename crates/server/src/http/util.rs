//! Small helpers shared by the API and the web UI.

use custos_core::Timestamp;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// RFC 3339 in UTC with millisecond precision.
pub fn rfc3339(ts: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.0) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    Some(Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

/// "2026-11-23 14:05 UTC" for people.
pub fn human(ts: Timestamp) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.0) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&f).ok())
        .unwrap_or_default()
}

/// A path id that must be a UUID (a 400 naming `id` otherwise).
pub fn parse_id(s: &str) -> custos_core::Outcome<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|_| custos_core::Error::validation("id", "must be a UUID"))
}

/// A stored file as a download (never rendered inline), with its recorded hash.
pub fn file_response(file_name: &str, sha256: &str, content: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name.replace(
            |c: char| !c.is_ascii() || c == '"' || c.is_ascii_control(),
            "_"
        )
    );
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/octet-stream".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            (
                axum::http::HeaderName::from_static("x-content-sha256"),
                sha256.to_string(),
            ),
        ],
        content,
    )
        .into_response()
}

/// A quoted CSV field; a value a spreadsheet would read as a formula gets a leading quote.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ts = Timestamp(1_795_000_000_123);
        let s = rfc3339(ts);
        assert_eq!(s, "2026-11-18T11:06:40.123Z");
        assert_eq!(parse_rfc3339(&s), Some(ts));
        assert_eq!(human(ts), "2026-11-18 11:06 UTC");
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
