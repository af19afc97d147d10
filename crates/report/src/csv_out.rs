//! The report as CSV (RFC 4180: comma, double quotes, CRLF), one row per item, safe to open
//! in a spreadsheet.

use crate::view::sorted_exceptions;
use crate::words::with_unit;
use custos_core::sla_report::{Outcome, SlaReport, fmt_num};

/// The header row.
pub const CSV_COLUMNS: [&str; 8] = [
    "section", "key", "label", "target", "achieved", "outcome", "detail", "link",
];

fn outcome_key(o: Outcome) -> &'static str {
    match o {
        Outcome::Met => "met",
        Outcome::Missed => "missed",
        Outcome::NoData => "no_data",
    }
}

fn kind_key(k: custos_core::sla_report::ExceptionKind) -> &'static str {
    use custos_core::sla_report::ExceptionKind as K;
    match k {
        K::MissedTarget => "missed_target",
        K::BreachedKpi => "breached_kpi",
        K::FailedControl => "failed_control",
        K::OverdueControl => "overdue_control",
        K::UncoveredRequirement => "uncovered_requirement",
        K::UnderpinningMissing => "underpinning_missing",
    }
}

/// A cell a spreadsheet would read as a formula (or that starts with a character some
/// spreadsheets strip before reading one) gets a leading single quote, so it stays text.
pub(crate) fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

struct Rows {
    w: csv::Writer<Vec<u8>>,
}

impl Rows {
    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        section: &str,
        key: &str,
        label: &str,
        target: &str,
        achieved: &str,
        outcome: &str,
        detail: &str,
        link: &str,
    ) {
        let cells = [section, key, label, target, achieved, outcome, detail, link].map(neutralise);
        // Writing into a Vec cannot fail.
        let _ = self.w.write_record(&cells);
    }
}

/// The report as CSV with the columns `section,key,label,target,achieved,outcome,detail,
/// link` and one row per item. Sections and what their columns hold:
///
/// | section | key | label | target | achieved | outcome | detail | link |
/// |---|---|---|---|---|---|---|---|
/// | `target` | target key | label | target in words | achieved, or empty | `met`/`missed`/`no_data` | | |
/// | `kpi` | metric | label | `≥ 95 %` | value, or empty | outcome | how it is measured | |
/// | `coverage` | figure (`cis`, `required`, … `coverage_pct`) | label | | value | | | |
/// | `exception` | kind (`failed_control`, …) | title | | | | detail | path |
/// | `action` | status (`planned`, `not_started`) | title | due date | | | owner | path |
/// | `trend` | metric | label | target | value, or empty | | period | |
///
/// Links are web UI paths (no base URL). Cells that start with `=`, `+`, `-`, `@`, TAB or
/// CR are prefixed with `'` so no spreadsheet evaluates them as formulas.
pub fn to_csv(r: &SlaReport) -> String {
    let w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![]);
    let mut rows = Rows { w };
    let _ = rows.w.write_record(CSV_COLUMNS);
    for t in &r.targets {
        let achieved = t.achieved.as_deref().unwrap_or("");
        rows.row(
            "target",
            &t.key,
            &t.label,
            &t.target,
            achieved,
            outcome_key(t.outcome),
            "",
            "",
        );
    }
    for k in &r.kpis {
        let pct = k.metric.is_percentage();
        let target = format!("{} {}", k.comparison.symbol(), with_unit(k.target, pct));
        let value = k.value.map(fmt_num).unwrap_or_default();
        let (key, outcome) = (k.metric.as_str(), outcome_key(k.outcome));
        rows.row(
            "kpi",
            key,
            &k.label,
            &target,
            &value,
            outcome,
            &k.measured_how,
            "",
        );
    }
    let c = &r.coverage;
    for (key, label, value) in [
        ("cis", "Configuration items in scope", c.cis.to_string()),
        ("required", "Controls required", c.required.to_string()),
        ("implemented", "Implemented", c.implemented.to_string()),
        ("verified", "Verified", c.verified.to_string()),
        ("failed", "Failed", c.failed.to_string()),
        ("missing", "Missing", c.missing.to_string()),
        (
            "overdue_reviews",
            "Overdue reviews",
            c.overdue_reviews.to_string(),
        ),
        ("coverage_pct", "Coverage (%)", fmt_num(c.coverage_pct)),
    ] {
        rows.row("coverage", key, label, "", &value, "", "", "");
    }
    // Same order as the HTML and PDF: by kind, then as built.
    for e in sorted_exceptions(r) {
        rows.row(
            "exception",
            kind_key(e.kind),
            &e.title,
            "",
            "",
            "",
            &e.detail,
            &e.link,
        );
    }
    for a in &r.actions {
        let due = a.due.as_ref().map(|d| d.to_string()).unwrap_or_default();
        let owner = a.owner.as_deref().unwrap_or("");
        rows.row("action", &a.status, &a.title, &due, "", "", owner, &a.link);
    }
    for t in &r.trends {
        let target = fmt_num(t.target);
        for (p, v) in &t.points {
            let value = v.map(fmt_num).unwrap_or_default();
            rows.row(
                "trend",
                t.metric.as_str(),
                &t.label,
                &target,
                &value,
                "",
                p.as_str(),
                "",
            );
        }
    }
    let bytes = rows.w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formula_starts_are_quoted() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("Payroll"), "Payroll");
        assert_eq!(neutralise(""), "");
    }
}
