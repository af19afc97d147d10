//! An SLA report as a download in the format asked for (JSON, HTML, CSV or PDF): the one
//! rendering the API and the report pages share.

use crate::http::util::rfc3339;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use custos_core::sla_report::Period;
use custos_core::sla_report::SlaReport;
use custos_core::store::KeptReport;
use custos_core::{Error, Outcome};
use serde::Serialize;
use uuid::Uuid;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportOut {
    /// Set when this is a kept (frozen, hashed) report; null for a live preview.
    pub kept: Option<KeptOut>,
    pub report: SlaReport,
}

/// Renders a report in `format` as an HTTP response (json is the API's [`ReportOut`]).
/// Links in the standalone HTML and the PDF start with `base` (the configured public URL;
/// empty: relative). PDF typesetting is CPU-bound, so it runs on the blocking pool.
pub async fn render(
    kept: Option<&KeptReport>,
    r: &SlaReport,
    format: &str,
    base: &str,
) -> Outcome<Response> {
    let name = format!(
        "sla-report-{}-{}",
        r.sla_name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            })
            .collect::<String>(),
        r.period
    );
    let attach = |ext: &str| format!("attachment; filename=\"{name}.{ext}\"");
    Ok(match format {
        "json" => axum::Json(ReportOut {
            kept: kept.map(KeptOut::from),
            report: r.clone(),
        })
        .into_response(),
        "html" => (
            [
                (CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                // The standalone document styles itself inline and runs no script.
                (
                    CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:".to_string(),
                ),
            ],
            custos_report::to_html(r, base),
        )
            .into_response(),
        "csv" => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (CONTENT_DISPOSITION, attach("csv")),
            ],
            custos_report::to_csv(r),
        )
            .into_response(),
        "pdf" => {
            let (owned, base) = (r.clone(), base.to_string());
            let pdf = tokio::task::spawn_blocking(move || custos_report::to_pdf(&owned, &base))
                .await
                .map_err(|e| Error::Internal(format!("PDF rendering stopped: {e}")))?
                .map_err(|e| Error::Internal(format!("PDF rendering failed: {e}")))?;
            (
                [
                    (CONTENT_TYPE, "application/pdf".to_string()),
                    (CONTENT_DISPOSITION, attach("pdf")),
                ],
                pdf,
            )
                .into_response()
        }
        _ => {
            return Err(Error::validation(
                "format",
                "must be json, html, csv or pdf",
            ));
        }
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeptOut {
    pub id: Uuid,
    pub sla_id: Uuid,
    #[schema(value_type = String)]
    pub period: Period,
    pub generated_at: String,
    /// Null when the scheduler generated it.
    pub generated_by: Option<Uuid>,
    /// SHA-256 of the kept JSON, also recorded in the audit chain.
    pub sha256: String,
}

impl From<&KeptReport> for KeptOut {
    fn from(k: &KeptReport) -> Self {
        Self {
            id: k.id.0,
            sla_id: k.sla_id.0,
            period: k.period.clone(),
            generated_at: rfc3339(k.generated_at),
            generated_by: k.generated_by.map(|u| u.0),
            sha256: k.sha256.clone(),
        }
    }
}
