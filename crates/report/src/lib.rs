//! Renders an [`SlaReport`](custos_core::sla_report::SlaReport) — the value the domain
//! builds for one SLA and period — for people and for other programs:
//!
//! - [`to_html`]: a standalone, accessible HTML document (WCAG 2.2 AA: captions and header
//!   scopes on every table, outcomes in words, contrast, readable at 390 px width);
//! - [`html_fragment`]: the same body for the web UI's own page layout;
//! - [`to_csv`]: one row per item, RFC 4180, safe to open in a spreadsheet;
//! - [`chart_svg`]: a KPI trend as inline SVG with a description in words;
//! - [`to_pdf`] (feature `pdf`, on by default): a PDF typeset by typst, used as a library,
//!   with its fonts compiled in; nothing is downloaded at build or run time.
//!
//! Every output is built from one display model (`view`), so HTML, CSV and PDF say the
//! same. User text never becomes markup: askama escapes it for HTML, the SVG writer escapes
//! it for XML, and the PDF template reads it as JSON data, never as typst source.

mod chart;
mod csv_out;
mod html;
#[cfg(feature = "pdf")]
mod pdf;
mod view;
mod words;

pub use chart::chart_svg;
pub use csv_out::{CSV_COLUMNS, to_csv};
pub use html::{html_fragment, to_html};
#[cfg(feature = "pdf")]
pub use pdf::to_pdf;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The PDF template did not compile; the message joins typst's diagnostics.
    #[error("the PDF could not be typeset: {0}")]
    Typeset(String),
    /// Typst typeset the report but could not write the PDF.
    #[error("the PDF could not be written: {0}")]
    Export(String),
    /// The report could not be handed to the template as JSON.
    #[error("the report data could not be serialised: {0}")]
    Data(#[from] serde_json::Error),
}
