//! The notices a reader is shown now, as the portal and the dashboard render them
//! (`templates/announcements/notices.html`, included by those pages).

use crate::http::state::AppState;
use crate::http::util::human;
use custos_core::announcement::Severity;
use custos_core::authz::Principal;
use custos_core::{Outcome, Timestamp};

/// One notice on a page.
pub struct Notice {
    pub id: String,
    pub title: String,
    /// Plain text; the template escapes it and keeps its line breaks.
    pub body: String,
    /// `info`, `maintenance` or `outage`.
    pub severity: &'static str,
    pub severity_label: &'static str,
    /// An outage is an error alert, the others an information alert.
    pub urgent: bool,
    /// The affected service's name, or empty.
    pub service: String,
    /// "2026-11-28 06:00 UTC – 2026-11-28 12:00 UTC".
    pub window: String,
}

/// The notices `p` is shown at `now`, most serious first.
pub async fn notices(state: &AppState, p: &Principal, now: Timestamp) -> Outcome<Vec<Notice>> {
    let shown = crate::announcements::shown(state.store.as_ref(), p, now).await?;
    let mut out = Vec::with_capacity(shown.len());
    for a in shown {
        let service = match a.service_id {
            // A service deleted since is simply not named.
            Some(s) => state
                .store
                .ci(s)
                .await
                .map(|r| r.ci.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        out.push(Notice {
            id: a.id.to_string(),
            title: a.title,
            body: a.body,
            severity: a.severity.as_str(),
            severity_label: a.severity.label(),
            urgent: a.severity == Severity::Outage,
            service,
            window: format!("{} – {}", human(a.starts_at), human(a.ends_at)),
        });
    }
    Ok(out)
}
