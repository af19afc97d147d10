//! The report as HTML: a standalone document, or the fragment that goes inside a page's
//! `<main>`. Askama escapes every value; only the chart SVG, which [`crate::chart_svg`]
//! escapes itself, is inserted as markup.

use crate::view::{self, View};
use askama::Template;
use custos_core::sla_report::SlaReport;

#[derive(Template)]
#[template(path = "report_body.html")]
struct Body<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "report_page.html")]
struct Page<'a> {
    title: &'a str,
    body: &'a str,
}

fn render(t: &impl Template) -> String {
    // Rendering plain strings into a String has no way to fail; say so if it ever does.
    t.render().unwrap_or_else(|e| {
        format!(
            "<p>The report could not be rendered: {}</p>",
            crate::chart::xml_escape(&e.to_string())
        )
    })
}

fn body(v: &View) -> String {
    render(&Body { v })
}

/// The report's HTML body (everything inside `<main>`, no `<html>`, `<head>` or styles)
/// for the web UI's own page layout. Links are `base_url` followed by the record's path.
///
/// It uses the web UI's class names (`table-wrap`, `facts`, `nowrap`, `wrap`) plus
/// `report`, `report-meta`, `report-summary`, `outcome outcome-met|missed|no-data`, `num`,
/// `empty`, `chart` and `chart-scroll`; `templates/report_body.html` lists what each is.
pub fn html_fragment(r: &SlaReport, base_url: &str) -> String {
    body(&view::build(r, base_url))
}

/// The report as a standalone HTML5 document: `lang="en"`, one inline stylesheet, no
/// scripts and nothing loaded from elsewhere, every value escaped. Tables scroll sideways
/// inside their own box on narrow screens; each trend is an inline SVG chart.
pub fn to_html(r: &SlaReport, base_url: &str) -> String {
    let v = view::build(r, base_url);
    let body = body(&v);
    render(&Page {
        title: &v.title,
        body: &body,
    })
}
