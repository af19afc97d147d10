//! The display model shared by every output: each figure of the report turned into the
//! words and numbers a reader sees, computed once. The HTML templates render it, and the PDF
//! template receives it as JSON, so both show the same text.

use crate::chart::chart_svg;
use crate::words::{fmt_timestamp, href, status_words, with_unit};
use custos_core::sla_report::{Exception, ExceptionKind, Outcome, SlaReport, Trend, fmt_num};
use serde::Serialize;

/// Every kind of exception, in the order the report lists them.
pub(crate) const KINDS: [ExceptionKind; 6] = [
    ExceptionKind::FailedControl,
    ExceptionKind::UncoveredRequirement,
    ExceptionKind::UnderpinningMissing,
    ExceptionKind::MissedTarget,
    ExceptionKind::BreachedKpi,
    ExceptionKind::OverdueControl,
];

/// Position of a kind in [`KINDS`]; the exhaustive match makes a new kind a compile error
/// here rather than an exception that silently drops out of the report.
pub(crate) fn kind_rank(k: ExceptionKind) -> usize {
    match k {
        ExceptionKind::FailedControl => 0,
        ExceptionKind::UncoveredRequirement => 1,
        ExceptionKind::UnderpinningMissing => 2,
        ExceptionKind::MissedTarget => 3,
        ExceptionKind::BreachedKpi => 4,
        ExceptionKind::OverdueControl => 5,
    }
}

/// The exceptions grouped by kind (in [`KINDS`] order), otherwise as built.
pub(crate) fn sorted_exceptions(r: &SlaReport) -> Vec<&Exception> {
    let mut v: Vec<&Exception> = r.exceptions.iter().collect();
    v.sort_by_key(|e| kind_rank(e.kind));
    v
}

#[derive(Debug, Serialize)]
pub(crate) struct View {
    pub title: String,
    pub sla_name: String,
    pub sla_version: i32,
    pub customer: String,
    pub service: String,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    pub generated: String,
    pub service_hours: String,
    pub summary: Vec<String>,
    pub targets: Vec<TargetRow>,
    pub kpis: Vec<KpiRow>,
    pub coverage: Vec<Fact>,
    pub exception_counts: Vec<Fact>,
    pub exceptions: Vec<ExceptionRow>,
    pub actions: Vec<ActionRow>,
    pub charts: Vec<ChartView>,
}

/// An outcome in words, with a class name for colour (never the only cue).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OutcomeView {
    pub word: &'static str,
    /// "met", "missed" or "no-data".
    pub key: &'static str,
}

impl From<Outcome> for OutcomeView {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Met => Self {
                word: "Met",
                key: "met",
            },
            Outcome::Missed => Self {
                word: "Missed",
                key: "missed",
            },
            Outcome::NoData => Self {
                word: "No data",
                key: "no-data",
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct TargetRow {
    pub label: String,
    pub target: String,
    pub achieved: String,
    pub outcome: OutcomeView,
}

#[derive(Debug, Serialize)]
pub(crate) struct KpiRow {
    pub label: String,
    pub value: String,
    pub target: String,
    pub outcome: OutcomeView,
    pub measured_how: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Fact {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ExceptionRow {
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
    pub href: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ActionRow {
    pub title: String,
    pub owner: String,
    pub due: String,
    pub status: String,
    pub href: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChartView {
    pub caption: String,
    /// The chart's description in words (alternative text in the PDF).
    pub alt: String,
    /// Virtual file the PDF template loads the SVG from.
    pub file: String,
    #[serde(skip)]
    pub svg: String,
}

/// "No data" where a value is missing: never a fake zero.
pub(crate) const NO_DATA: &str = "No data";

fn count_outcomes<'a>(it: impl Iterator<Item = &'a Outcome>) -> (usize, usize, usize) {
    it.fold((0, 0, 0), |(m, x, n), o| match o {
        Outcome::Met => (m + 1, x, n),
        Outcome::Missed => (m, x + 1, n),
        Outcome::NoData => (m, x, n + 1),
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn outcome_sentence(what: &str, (met, missed, none): (usize, usize, usize)) -> String {
    let total = met + missed + none;
    if total == 0 {
        return format!("{what}: none agreed.");
    }
    format!("{what}: {met} of {total} met, {missed} missed, {none} without data.")
}

/// The KPI that a trend belongs to decides the comparison shown in the chart caption.
fn chart_caption(r: &SlaReport, t: &Trend) -> String {
    let percent = t.metric.is_percentage();
    let target = match r.kpis.iter().find(|k| k.metric == t.metric) {
        Some(k) => format!("{} {}", k.comparison.symbol(), with_unit(t.target, percent)),
        None => with_unit(t.target, percent),
    };
    format!(
        "{}: last {}, target {target}",
        t.label,
        plural(t.points.len(), "period", "periods")
    )
}

pub(crate) fn build(r: &SlaReport, base_url: &str) -> View {
    let c = &r.coverage;
    let mut summary = vec![
        outcome_sentence(
            "Service targets",
            count_outcomes(r.targets.iter().map(|t| &t.outcome)),
        ),
        outcome_sentence("KPIs", count_outcomes(r.kpis.iter().map(|k| &k.outcome))),
        format!(
            "Control coverage: {} % of {} across {}; {} failed, {} missing, {} overdue.",
            fmt_num(c.coverage_pct),
            plural(c.required as usize, "required control", "required controls"),
            plural(c.cis as usize, "configuration item", "configuration items"),
            c.failed,
            c.missing,
            plural(c.overdue_reviews as usize, "review", "reviews"),
        ),
    ];
    let exception_counts: Vec<Fact> = KINDS
        .iter()
        .filter_map(|k| {
            let n = r.exceptions.iter().filter(|e| e.kind == *k).count();
            (n > 0).then(|| Fact {
                label: k.label().to_string(),
                value: n.to_string(),
            })
        })
        .collect();
    summary.push(if r.exceptions.is_empty() {
        "Exceptions: none in this period.".to_string()
    } else {
        let parts: Vec<String> = exception_counts
            .iter()
            .map(|f| format!("{}: {}", f.label, f.value))
            .collect();
        format!("Exceptions: {} ({}).", r.exceptions.len(), parts.join("; "))
    });
    let unplanned = r
        .actions
        .iter()
        .filter(|a| a.status == "not_started")
        .count();
    summary.push(format!(
        "Security actions: {}, {} not started.",
        r.actions.len(),
        unplanned
    ));

    let percent_of = |m: custos_core::sla::Metric| m.is_percentage();
    let coverage = [
        ("Configuration items in scope", c.cis.to_string()),
        ("Controls required", c.required.to_string()),
        ("Implemented", c.implemented.to_string()),
        ("Verified", c.verified.to_string()),
        ("Failed", c.failed.to_string()),
        ("Missing", c.missing.to_string()),
        ("Overdue reviews", c.overdue_reviews.to_string()),
        ("Coverage", format!("{} %", fmt_num(c.coverage_pct))),
    ]
    .into_iter()
    .map(|(label, value)| Fact {
        label: label.into(),
        value,
    })
    .collect();

    View {
        title: format!("SLA report {}: {}", r.period, r.sla_name),
        sla_name: r.sla_name.clone(),
        sla_version: r.sla_version,
        customer: r.customer.name.clone(),
        service: r.service.name.clone(),
        period: r.period.to_string(),
        period_start: r.period_start.to_string(),
        period_end: r.period_end.to_string(),
        generated: fmt_timestamp(r.generated_at),
        service_hours: format!("{} hours", fmt_num(r.service_hours)),
        summary,
        targets: r
            .targets
            .iter()
            .map(|t| TargetRow {
                label: t.label.clone(),
                target: t.target.clone(),
                achieved: t.achieved.clone().unwrap_or_else(|| NO_DATA.into()),
                outcome: t.outcome.into(),
            })
            .collect(),
        kpis: r
            .kpis
            .iter()
            .map(|k| KpiRow {
                label: k.label.clone(),
                value: k
                    .value
                    .map(|v| with_unit(v, percent_of(k.metric)))
                    .unwrap_or_else(|| NO_DATA.into()),
                target: format!(
                    "{} {}",
                    k.comparison.symbol(),
                    with_unit(k.target, percent_of(k.metric))
                ),
                outcome: k.outcome.into(),
                measured_how: k.measured_how.clone(),
            })
            .collect(),
        coverage,
        exception_counts,
        exceptions: sorted_exceptions(r)
            .into_iter()
            .map(|e| ExceptionRow {
                kind: e.kind.label(),
                title: e.title.clone(),
                detail: e.detail.clone(),
                href: href(base_url, &e.link),
            })
            .collect(),
        actions: r
            .actions
            .iter()
            .map(|a| ActionRow {
                title: a.title.clone(),
                owner: a.owner.clone().unwrap_or_else(|| "Unassigned".into()),
                due: a
                    .due
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "No date".into()),
                status: status_words(&a.status),
                href: href(base_url, &a.link),
            })
            .collect(),
        charts: r
            .trends
            .iter()
            .enumerate()
            .map(|(i, t)| ChartView {
                caption: chart_caption(r, t),
                alt: crate::chart::describe(t),
                file: format!("/chart-{i}.svg"),
                svg: chart_svg(t),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_listed_in_rank_order() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(kind_rank(*k), i);
        }
    }
}
