//! The SLA report for one period: achieved against target for every target and KPI, the
//! control coverage of the service, the exception report, the planned security actions and
//! KPI trends. [`build`] is a pure function of what storage hands it; rendering (HTML, CSV,
//! PDF) happens elsewhere from the [`SlaReport`] value, which is also what a kept report
//! stores (as JSON, hashed into the audit chain).

use crate::error::DomainError;
use crate::ids::{CiId, ControlId, CustomerId, SlaId};
use crate::measures::{GapLine, GapSummary, ImplStatus};
use crate::sla::{Comparison, Metric, RequirementUnderpinning, Sla};
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A reporting period: a month ("2026-10") or a quarter ("2026-Q4").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct Period(String);

impl Period {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::new("period", "must be a month (2026-10) or a quarter (2026-Q4)");
        let s = s.trim();
        let (y, rest) = s.split_once('-').ok_or_else(bad)?;
        let year: u32 = (y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
            .then(|| y.parse().ok())
            .flatten()
            .ok_or_else(bad)?;
        if !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        let ok = match rest.strip_prefix('Q') {
            Some(q) => matches!(q, "1" | "2" | "3" | "4"),
            None => {
                rest.len() == 2
                    && rest.bytes().all(|b| b.is_ascii_digit())
                    && (1..=12).contains(&rest.parse::<u32>().unwrap_or(0))
            }
        };
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(bad())
        }
    }

    pub fn is_quarter(&self) -> bool {
        self.0.contains('Q')
    }

    /// The period's first and last day.
    pub fn dates(&self) -> (Date, Date) {
        let y: u32 = self.0[0..4].parse().unwrap_or(1970);
        let (m0, m1) = match self.0[5..].strip_prefix('Q') {
            Some(q) => {
                let q: u32 = q.parse().unwrap_or(1);
                (q * 3 - 2, q * 3)
            }
            None => {
                let m = self.0[5..7].parse().unwrap_or(1);
                (m, m)
            }
        };
        let first = Date::parse("period", &format!("{y:04}-{m0:02}-01")).expect("valid month");
        let last_day = (28..=31)
            .rev()
            .find(|d| Date::parse("p", &format!("{y:04}-{m1:02}-{d:02}")).is_ok())
            .unwrap_or(28);
        let last =
            Date::parse("period", &format!("{y:04}-{m1:02}-{last_day:02}")).expect("valid day");
        (first, last)
    }

    /// The period before this one, of the same kind.
    pub fn previous(&self) -> Period {
        let y: u32 = self.0[0..4].parse().unwrap_or(1970);
        match self.0[5..].strip_prefix('Q') {
            Some(q) => match q {
                "1" => Period(format!("{:04}-Q4", y - 1)),
                q => Period(format!("{y:04}-Q{}", q.parse::<u32>().unwrap_or(2) - 1)),
            },
            None => match self.0[5..7].parse::<u32>().unwrap_or(1) {
                1 => Period(format!("{:04}-12", y - 1)),
                m => Period(format!("{y:04}-{:02}", m - 1)),
            },
        }
    }

    /// The last complete period of `frequency` before the one containing `today`.
    pub fn last_complete(today: &Date, quarterly: bool) -> Period {
        let y = &today.as_str()[0..4];
        let m: u32 = today.as_str()[5..7].parse().unwrap_or(1);
        let current = if quarterly {
            Period(format!("{y}-Q{}", (m - 1) / 3 + 1))
        } else {
            Period(format!("{y}-{m:02}"))
        };
        current.previous()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Period {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.0
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a target or KPI was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Met,
    Missed,
    /// The data this needs is not recorded yet (never a fake zero).
    NoData,
}

/// A service target (availability, response/resolution per priority) for the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetResult {
    /// e.g. "availability", "p1_response", "p2_resolution".
    pub key: String,
    pub label: String,
    /// The target in words: "≥ 99.5 %", "≤ 30 business minutes".
    pub target: String,
    pub achieved: Option<String>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KpiResult {
    pub metric: Metric,
    pub label: String,
    pub target: f64,
    pub comparison: Comparison,
    pub value: Option<f64>,
    pub outcome: Outcome,
    pub measured_how: String,
}

/// Control coverage of the service and everything it depends on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coverage {
    pub cis: u64,
    pub required: u64,
    pub implemented: u64,
    pub verified: u64,
    pub failed: u64,
    pub missing: u64,
    pub overdue_reviews: u64,
    /// Implemented or verified (or not applicable) over required, in percent.
    pub coverage_pct: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExceptionKind {
    MissedTarget,
    BreachedKpi,
    FailedControl,
    OverdueControl,
    /// An SLA requirement whose controls the service scope does not implement.
    UncoveredRequirement,
    /// An SLA requirement with a control that no OLA or UC assures.
    UnderpinningMissing,
}

impl ExceptionKind {
    pub fn label(self) -> &'static str {
        match self {
            ExceptionKind::MissedTarget => "Missed target",
            ExceptionKind::BreachedKpi => "Breached KPI",
            ExceptionKind::FailedControl => "Failed control",
            ExceptionKind::OverdueControl => "Overdue control review",
            ExceptionKind::UncoveredRequirement => "Uncovered requirement",
            ExceptionKind::UnderpinningMissing => "Requirement not underpinned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exception {
    pub kind: ExceptionKind,
    pub title: String,
    pub detail: String,
    /// Path of the record in the web UI, e.g. "/cmdb/{id}/measures".
    pub link: String,
}

/// A planned security action: what is being done about a gap, by whom, by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Action {
    pub title: String,
    pub owner: Option<String>,
    pub due: Option<Date>,
    /// "planned" or "not_started" (nobody has planned it: itself an exception to act on).
    pub status: String,
    pub link: String,
}

/// One KPI's values over past periods, oldest first (None: no data for that period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trend {
    pub metric: Metric,
    pub label: String,
    pub target: f64,
    pub points: Vec<(Period, Option<f64>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamedRef<I> {
    pub id: I,
    pub name: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaReport {
    pub sla_id: SlaId,
    pub sla_name: String,
    pub sla_version: i32,
    pub customer: NamedRef<CustomerId>,
    pub service: NamedRef<CiId>,
    pub period: Period,
    pub period_start: Date,
    pub period_end: Date,
    pub generated_at: Timestamp,
    /// Agreed service time in the period (service calendar), in hours.
    pub service_hours: f64,
    pub targets: Vec<TargetResult>,
    pub kpis: Vec<KpiResult>,
    pub coverage: Coverage,
    pub exceptions: Vec<Exception>,
    pub actions: Vec<Action>,
    pub trends: Vec<Trend>,
}

/// One CI of a report's scope: its gap summary and the required controls that need
/// attention (not implemented, verified or not applicable; or overdue for review).
#[derive(Debug, Clone)]
pub struct CiFindings {
    pub ci: CiId,
    pub name: String,
    pub summary: GapSummary,
    pub findings: Vec<GapLine>,
}

impl CiFindings {
    /// From a CI's full gap lines.
    pub fn from_lines(ci: CiId, name: &str, lines: Vec<GapLine>) -> Self {
        Self {
            ci,
            name: name.to_string(),
            summary: GapSummary::of(&lines),
            findings: lines
                .into_iter()
                .filter(|l| !is_covered(l.status()) || l.overdue)
                .collect(),
        }
    }
}

/// One period's KPI values as a kept report recorded them.
pub type KpiValues = Vec<(Metric, Option<f64>)>;

/// Everything [`build`] needs, gathered by the caller.
pub struct ReportInput<'a> {
    pub sla: &'a Sla,
    pub customer_name: &'a str,
    pub service_name: &'a str,
    pub period: &'a Period,
    pub now: Timestamp,
    pub service_hours: f64,
    /// Every CI in the service scope (the service and what it depends on).
    pub gaps: &'a [CiFindings],
    pub underpinning: &'a [RequirementUnderpinning],
    /// Control id → "AC-2 Account Management" for display.
    pub control_labels: &'a HashMap<ControlId, String>,
    /// User id → display name for action owners.
    pub user_names: &'a HashMap<crate::ids::UserId, String>,
    /// KPI values of earlier kept reports, oldest first, at most 11.
    pub history: &'a [(Period, KpiValues)],
    /// The service's incidents in the period (aggregates only).
    pub incidents: Option<&'a crate::ticket_stats::IncidentStats>,
    /// Outage time inside the agreed service time, in hours (P1/P2 incidents).
    pub outage_hours: f64,
}

/// Implemented, verified or not applicable: nothing left to do.
fn is_covered(s: ImplStatus) -> bool {
    matches!(
        s,
        ImplStatus::Implemented | ImplStatus::Verified | ImplStatus::NotApplicable
    )
}

/// Builds the report. Metrics whose data arrives with later features (availability,
/// incident response/resolution, security incidents, containment time, continuity tests)
/// are reported as no data.
pub fn build(inp: &ReportInput<'_>) -> SlaReport {
    let sla = inp.sla;
    let label = |c: &ControlId| {
        inp.control_labels
            .get(c)
            .cloned()
            .unwrap_or_else(|| c.to_string())
    };
    // Findings are grouped per control, so a report stays readable (and bounded by the
    // number of controls) however many CIs the service relies on.
    #[derive(Default)]
    struct Group<'a> {
        failed: Vec<(CiId, &'a str)>,
        overdue: Vec<(CiId, &'a str, Option<Timestamp>)>,
        open: Vec<(CiId, &'a str)>,
        planned: usize,
        owners: std::collections::BTreeSet<String>,
        due: Option<Timestamp>,
    }
    let mut total = GapSummary::default();
    let mut groups: std::collections::BTreeMap<ControlId, Group> =
        std::collections::BTreeMap::new();
    for f in inp.gaps {
        let (ci, name) = (&f.ci, f.name.as_str());
        total.add(&f.summary);
        for l in &f.findings {
            let status = l.status();
            let imp = l.implementation.as_ref();
            let open = matches!(
                status,
                ImplStatus::NotStarted | ImplStatus::Planned | ImplStatus::Failed
            );
            if !open && !l.overdue {
                continue;
            }
            let g = groups.entry(l.control_id).or_default();
            if status == ImplStatus::Failed {
                g.failed.push((*ci, name));
            }
            if l.overdue {
                g.overdue
                    .push((*ci, name, imp.and_then(|i| i.next_review_at)));
            }
            g.open.push((*ci, name));
            if status == ImplStatus::Planned {
                g.planned += 1;
            }
            if let Some(o) = imp
                .and_then(|i| i.owner_id)
                .and_then(|u| inp.user_names.get(&u))
            {
                g.owners.insert(o.clone());
            }
            if let Some(d) = imp.and_then(|i| i.next_review_at) {
                g.due = Some(g.due.map_or(d, |x| x.min(d)));
            }
        }
    }
    let scope_link = format!("/gaps?scope=service&ci={}", sla.terms.service_id);
    let link_for = |cis: &[(CiId, &str)]| match cis {
        [(ci, _)] => format!("/cmdb/{ci}/measures"),
        _ => scope_link.clone(),
    };
    let mut exceptions = vec![];
    let mut actions = vec![];
    let mut unplanned = 0;
    for (control, g) in &groups {
        if !g.failed.is_empty() {
            exceptions.push(Exception {
                kind: ExceptionKind::FailedControl,
                title: label(control),
                detail: format!(
                    "Recorded as failed on {}.",
                    name_list(g.failed.iter().map(|x| x.1))
                ),
                link: link_for(&g.failed),
            });
        }
        if !g.overdue.is_empty() {
            let earliest = g.overdue.iter().filter_map(|x| x.2).min();
            let cis: Vec<(CiId, &str)> = g.overdue.iter().map(|x| (x.0, x.1)).collect();
            exceptions.push(Exception {
                kind: ExceptionKind::OverdueControl,
                title: label(control),
                detail: format!(
                    "Review overdue on {}{}.",
                    name_list(cis.iter().map(|x| x.1)),
                    earliest
                        .map(|t| format!(" (due since {})", Date::of(t)))
                        .unwrap_or_default()
                ),
                link: link_for(&cis),
            });
        }
        // Controls nobody has started on are summed up in one line below, so the list
        // holds what is planned or needs action now.
        if g.planned == 0 && g.failed.is_empty() && g.overdue.is_empty() {
            unplanned += 1;
            continue;
        }
        let on = match g.open.as_slice() {
            [(_, name)] => (*name).to_string(),
            many => format!("{} CIs", many.len()),
        };
        actions.push(Action {
            title: format!("{} on {on}", label(control)),
            owner: (!g.owners.is_empty()).then(|| {
                g.owners
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            due: g.due.map(Date::of),
            status: if g.planned == g.open.len() {
                "planned".into()
            } else {
                "not_started".into()
            },
            link: link_for(&g.open),
        });
    }
    if unplanned > 0 {
        actions.push(Action {
            title: format!("{unplanned} required controls not implemented and not yet planned"),
            owner: None,
            due: None,
            status: "not_started".into(),
            link: scope_link.clone(),
        });
    }
    // A requirement is uncovered when one of its controls is not implemented (or verified,
    // or not applicable) on some CI of the scope that requires it.
    let mut open_controls: HashMap<ControlId, Vec<&str>> = HashMap::new();
    for f in inp.gaps {
        for l in f.findings.iter().filter(|l| !is_covered(l.status())) {
            open_controls.entry(l.control_id).or_default().push(&f.name);
        }
    }
    let service_link = format!("/services/{}", sla.terms.service_id);
    for r in &sla.terms.security.requirements {
        let open: Vec<String> = r
            .controls
            .iter()
            .filter_map(|c| {
                open_controls
                    .get(c)
                    .map(|cis| format!("{} (open on {})", label(c), name_list(cis.iter().copied())))
            })
            .collect();
        if !open.is_empty() {
            exceptions.push(Exception {
                kind: ExceptionKind::UncoveredRequirement,
                title: format!("{} {}", r.key, r.text),
                detail: open.join("; "),
                link: service_link.clone(),
            });
        }
    }
    for u in inp
        .underpinning
        .iter()
        .filter(|u| u.unsupported && u.sla_id == sla.id)
    {
        let bare: Vec<String> = u
            .controls
            .iter()
            .filter(|(_, by)| by.is_empty())
            .map(|(c, _)| label(c))
            .collect();
        exceptions.push(Exception {
            kind: ExceptionKind::UnderpinningMissing,
            title: format!("{} {}", u.key, u.text),
            detail: format!("No OLA or contract assures {}.", bare.join(", ")),
            link: service_link.clone(),
        });
    }
    let coverage = Coverage {
        cis: inp.gaps.len() as u64,
        required: total.required as u64,
        implemented: total.implemented as u64,
        verified: total.verified as u64,
        failed: total.failed as u64,
        missing: total.missing as u64,
        overdue_reviews: total.overdue_reviews as u64,
        coverage_pct: total.coverage_pct,
    };
    let inc = inp.incidents;
    let ratio = |met: &[i64; 4], missed: &[i64; 4]| -> Option<f64> {
        let (a, b): (i64, i64) = (met.iter().sum(), missed.iter().sum());
        (a + b > 0).then(|| a as f64 * 100.0 / (a + b) as f64)
    };
    let availability = inc.filter(|_| inp.service_hours > 0.0).map(|_| {
        ((inp.service_hours - inp.outage_hours) / inp.service_hours * 100.0).clamp(0.0, 100.0)
    });
    let value_of = |m: Metric| -> Option<f64> {
        match m {
            Metric::ControlCoverage => Some(coverage.coverage_pct),
            Metric::OverdueControlReviews => Some(coverage.overdue_reviews as f64),
            Metric::AvailabilityAchieved => availability,
            Metric::ResponseWithinTarget => {
                inc.and_then(|s| ratio(&s.response_met, &s.response_missed))
            }
            Metric::ResolutionWithinTarget => {
                inc.and_then(|s| ratio(&s.resolution_met, &s.resolution_missed))
            }
            Metric::SecurityIncidents => inc.map(|s| s.security as f64),
            Metric::MeanTimeToContain => inc.filter(|s| !s.contain_minutes.is_empty()).map(|s| {
                s.contain_minutes.iter().sum::<i64>() as f64 / s.contain_minutes.len() as f64 / 60.0
            }),
            Metric::OverdueContinuityTests => None,
        }
    };
    if let Some(s) = inc {
        let mut hidden = 0;
        for b in &s.breaches {
            if b.security {
                hidden += 1;
                continue;
            }
            exceptions.push(Exception {
                kind: ExceptionKind::MissedTarget,
                title: format!("{} {} {}", b.reference, b.priority.label(), b.clock),
                detail: format!("The {} target of {} was breached.", b.clock, b.reference),
                link: format!("/incidents/{}", b.incident),
            });
        }
        if hidden > 0 {
            exceptions.push(Exception {
                kind: ExceptionKind::MissedTarget,
                title: "Security incidents".into(),
                detail: format!(
                    "{hidden} target(s) of security incidents breached (details for authorised personnel only)."
                ),
                link: format!("/slas/{}", sla.id),
            });
        }
    }
    let mut kpis = vec![];
    for k in &sla.terms.kpis {
        let value = value_of(k.metric);
        let outcome = match value {
            None => Outcome::NoData,
            Some(v) if k.comparison.met(v, k.target) => Outcome::Met,
            Some(_) => Outcome::Missed,
        };
        if outcome == Outcome::Missed {
            exceptions.push(Exception {
                kind: ExceptionKind::BreachedKpi,
                title: k.metric.label().to_string(),
                detail: format!(
                    "Achieved {}, target {} {}.",
                    value.map(fmt_num).unwrap_or_default(),
                    k.comparison.symbol(),
                    fmt_num(k.target)
                ),
                link: format!("/slas/{}", sla.id),
            });
        }
        kpis.push(KpiResult {
            metric: k.metric,
            label: k.metric.label().to_string(),
            target: k.target,
            comparison: k.comparison,
            value,
            outcome,
            measured_how: k.measured_how.clone(),
        });
    }
    let t = &sla.terms.targets;
    let mut targets = vec![TargetResult {
        key: "availability".into(),
        label: "Availability".into(),
        target: format!("≥ {} %", fmt_num(t.availability_pct)),
        achieved: availability.map(|a| format!("{} %", fmt_num(a))),
        outcome: match availability {
            None => Outcome::NoData,
            Some(a) if a >= t.availability_pct => Outcome::Met,
            Some(_) => Outcome::Missed,
        },
    }];
    for (i, p) in t.priorities.iter().enumerate() {
        for (what, minutes) in [
            ("response", p.response_minutes),
            ("resolution", p.resolution_minutes),
        ] {
            let (met, missed) = match (inc, what) {
                (Some(s), "response") => (s.response_met[i], s.response_missed[i]),
                (Some(s), _) => (s.resolution_met[i], s.resolution_missed[i]),
                (None, _) => (0, 0),
            };
            targets.push(TargetResult {
                key: format!("p{}_{what}", i + 1),
                label: format!("P{} {what} time", i + 1),
                target: format!("≤ {} business minutes", minutes),
                achieved: (met + missed > 0)
                    .then(|| format!("{met} of {} within target", met + missed)),
                outcome: match (met, missed) {
                    (0, 0) => Outcome::NoData,
                    (_, 0) => Outcome::Met,
                    _ => Outcome::Missed,
                },
            });
        }
    }
    for r in targets.iter().filter(|r| r.outcome == Outcome::Missed) {
        if r.key == "availability" {
            exceptions.push(Exception {
                kind: ExceptionKind::MissedTarget,
                title: r.label.clone(),
                detail: format!(
                    "Achieved {}, target {}.",
                    r.achieved.clone().unwrap_or_default(),
                    r.target
                ),
                link: format!("/slas/{}", sla.id),
            });
        }
    }
    let trends = sla
        .terms
        .kpis
        .iter()
        .map(|k| {
            let mut points: Vec<(Period, Option<f64>)> = inp
                .history
                .iter()
                .map(|(p, vals)| {
                    let v = vals
                        .iter()
                        .find(|(m, _)| *m == k.metric)
                        .and_then(|(_, v)| *v);
                    (p.clone(), v)
                })
                .collect();
            points.push((inp.period.clone(), value_of(k.metric)));
            let skip = points.len().saturating_sub(12);
            Trend {
                metric: k.metric,
                label: k.metric.label().to_string(),
                target: k.target,
                points: points.into_iter().skip(skip).collect(),
            }
        })
        .collect();
    let (period_start, period_end) = inp.period.dates();
    SlaReport {
        sla_id: sla.id,
        sla_name: sla.terms.name.clone(),
        sla_version: sla.version,
        customer: NamedRef {
            id: sla.terms.customer_id,
            name: inp.customer_name.to_string(),
        },
        service: NamedRef {
            id: sla.terms.service_id,
            name: inp.service_name.to_string(),
        },
        period: inp.period.clone(),
        period_start,
        period_end,
        generated_at: inp.now,
        service_hours: (inp.service_hours * 10.0).round() / 10.0,
        targets,
        kpis,
        coverage,
        exceptions,
        actions,
        trends,
    }
}

/// "a, b and c", or "a, b, c and 12 more" for long lists.
fn name_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = names.collect();
    let shown = all.len().min(5);
    let head = all[..shown].join(", ");
    match all.len() - shown {
        0 if shown > 1 => {
            let (first, last) = all[..shown].split_at(shown - 1);
            format!("{} and {}", first.join(", "), last[0])
        }
        0 => head,
        more => format!("{head} and {more} more"),
    }
}

/// A number without a needless ".0".
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests;
