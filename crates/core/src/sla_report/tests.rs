use super::*;
use crate::classification::{Classification, Level};
use crate::ids::{CustomerId, UserId};
use crate::measures::{Implementation, Reason};
use crate::service::Targets;
use crate::sla::{
    Frequency, IncidentCriteria, Kpi, Requirement, SecuritySection, SlaStatus, SlaTerms, Underpin,
};
use std::collections::BTreeMap;

#[test]
fn periods_parse_and_step_back() {
    for bad in [
        "2026-13", "2026-Q5", "26-10", "2026-1", "2026", "x-10", "2026-Q",
    ] {
        assert!(Period::parse(bad).is_err(), "{bad}");
    }
    let p = Period::parse("2026-01").unwrap();
    assert_eq!(p.previous().as_str(), "2025-12");
    assert_eq!(
        Period::parse("2026-Q1").unwrap().previous().as_str(),
        "2025-Q4"
    );
    let (a, b) = Period::parse("2024-02").unwrap().dates();
    assert_eq!((a.as_str(), b.as_str()), ("2024-02-01", "2024-02-29"));
    let (a, b) = Period::parse("2026-Q4").unwrap().dates();
    assert_eq!((a.as_str(), b.as_str()), ("2026-10-01", "2026-12-31"));
    let today = Date::parse("d", "2026-11-24").unwrap();
    assert_eq!(Period::last_complete(&today, false).as_str(), "2026-10");
    assert_eq!(Period::last_complete(&today, true).as_str(), "2026-Q3");
}

fn line(
    control: ControlId,
    status: Option<ImplStatus>,
    overdue: bool,
    owner: Option<UserId>,
) -> GapLine {
    GapLine {
        control_id: control,
        reasons: vec![Reason::Baseline],
        implementation: status.map(|s| Implementation {
            ci_id: CiId::new(),
            control_id: control,
            status: s,
            justification: String::new(),
            evidence: String::new(),
            links: vec![],
            owner_id: owner,
            last_verified_at: None,
            next_review_at: Some(Timestamp(1_790_000_000_000)),
            inheritable: false,
            updated_at: Timestamp(0),
        }),
        inherited_from: None,
        overdue,
    }
}

#[test]
fn report_lists_failed_overdue_uncovered_and_unsupported_and_plans_actions() {
    let (ok, failed, planned, stale) = (
        ControlId::new(),
        ControlId::new(),
        ControlId::new(),
        ControlId::new(),
    );
    let owner = UserId::new();
    let server = CiId::new();
    let id = SlaId::new();
    let sla = Sla {
        id,
        series_id: id,
        version: 2,
        status: SlaStatus::Agreed,
        terms: SlaTerms {
            name: "Payroll SLA".into(),
            customer_id: CustomerId::new(),
            service_id: CiId::new(),
            valid_from: Date::parse("d", "2026-01-01").unwrap(),
            valid_to: Date::parse("d", "2026-12-31").unwrap(),
            targets: Targets::default(),
            security: SecuritySection {
                classification: Classification {
                    confidentiality: Some(Level::High),
                    ..Default::default()
                },
                requirements: vec![
                    Requirement {
                        key: "SR-1".into(),
                        text: "Encrypt backups".into(),
                        controls: vec![ok],
                    },
                    Requirement {
                        key: "SR-2".into(),
                        text: "Log access".into(),
                        controls: vec![planned],
                    },
                ],
                incident_criteria: IncidentCriteria::default(),
                authorised_users: vec![],
                authorised_roles: vec![],
                asset_protection: String::new(),
                copying_restrictions: String::new(),
                reporting: Frequency::Monthly,
            },
            kpis: vec![
                Kpi {
                    metric: Metric::ControlCoverage,
                    target: 90.0,
                    comparison: Comparison::AtLeast,
                    measured_how: "gap report".into(),
                },
                Kpi {
                    metric: Metric::SecurityIncidents,
                    target: 0.0,
                    comparison: Comparison::AtMost,
                    measured_how: String::new(),
                },
            ],
        },
        customer_agreement: None,
        owner_agreement: None,
        created_by: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    };
    let gaps = vec![CiFindings::from_lines(
        server,
        "srv-01",
        vec![
            line(ok, Some(ImplStatus::Verified), false, None),
            line(failed, Some(ImplStatus::Failed), false, None),
            line(planned, Some(ImplStatus::Planned), false, Some(owner)),
            line(stale, Some(ImplStatus::Implemented), true, None),
        ],
    )];
    let mut controls = BTreeMap::new();
    controls.insert(
        ok,
        vec![Underpin::Ola {
            id: crate::ids::OlaId::new(),
            team: "Ops".into(),
        }],
    );
    let under = vec![
        crate::sla::RequirementUnderpinning {
            sla_id: id,
            key: "SR-1".into(),
            text: "Encrypt backups".into(),
            controls: controls.clone(),
            unsupported: false,
        },
        crate::sla::RequirementUnderpinning {
            sla_id: id,
            key: "SR-2".into(),
            text: "Log access".into(),
            controls: [(planned, vec![])].into_iter().collect(),
            unsupported: true,
        },
    ];
    let labels: HashMap<ControlId, String> =
        [(failed, "AC-2 Account Management".to_string())].into();
    let names: HashMap<UserId, String> = [(owner, "Olivia Owner".to_string())].into();
    let period = Period::parse("2026-10").unwrap();
    let history = vec![(
        Period::parse("2026-09").unwrap(),
        vec![(Metric::ControlCoverage, Some(40.0))],
    )];
    let r = build(&ReportInput {
        sla: &sla,
        customer_name: "Finance",
        service_name: "Payroll",
        period: &period,
        now: Timestamp(0),
        service_hours: 230.04,
        gaps: &gaps,
        underpinning: &under,
        control_labels: &labels,
        user_names: &names,
        history: &history,
        incidents: None,
        outage_hours: 0.0,
    });
    let kinds: Vec<ExceptionKind> = r.exceptions.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&ExceptionKind::FailedControl));
    assert!(kinds.contains(&ExceptionKind::OverdueControl));
    assert!(
        kinds.contains(&ExceptionKind::BreachedKpi),
        "coverage 50 % < 90 %"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ExceptionKind::UncoveredRequirement)
            .count(),
        1,
        "SR-2 only"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ExceptionKind::UnderpinningMissing)
            .count(),
        1
    );
    let failed_ex = r
        .exceptions
        .iter()
        .find(|e| e.kind == ExceptionKind::FailedControl)
        .unwrap();
    assert_eq!(failed_ex.title, "AC-2 Account Management");
    assert_eq!(failed_ex.detail, "Recorded as failed on srv-01.");
    assert_eq!(failed_ex.link, format!("/cmdb/{server}/measures"));
    assert_eq!(r.coverage.required, 4);
    assert_eq!(r.coverage.coverage_pct, 50.0);
    let kpi = |m| r.kpis.iter().find(|k| k.metric == m).unwrap();
    assert_eq!(kpi(Metric::ControlCoverage).outcome, Outcome::Missed);
    assert_eq!(
        kpi(Metric::SecurityIncidents).outcome,
        Outcome::NoData,
        "no fake zero"
    );
    assert_eq!(kpi(Metric::SecurityIncidents).value, None);
    assert!(r.targets.iter().all(|t| t.outcome == Outcome::NoData));
    assert_eq!(r.targets.len(), 9);
    let planned_action = r.actions.iter().find(|a| a.status == "planned").unwrap();
    assert_eq!(planned_action.owner.as_deref(), Some("Olivia Owner"));
    assert_eq!(
        r.actions.len(),
        3,
        "failed, planned and overdue; the verified one needs nothing"
    );
    let trend = &r.trends[0];
    assert_eq!(trend.points.len(), 2);
    assert_eq!(
        trend.points[0],
        (Period::parse("2026-09").unwrap(), Some(40.0))
    );
    assert_eq!(trend.points[1].1, Some(50.0));
    assert_eq!(r.service_hours, 230.0);
    // A kept report is JSON; it must read back identically.
    let back: SlaReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn findings_are_grouped_per_control_however_many_cis() {
    let c = ControlId::new();
    let id = SlaId::new();
    let svc = CiId::new();
    let sla = Sla {
        id,
        series_id: id,
        version: 1,
        status: SlaStatus::Agreed,
        terms: SlaTerms {
            name: "S".into(),
            customer_id: CustomerId::new(),
            service_id: svc,
            valid_from: Date::parse("d", "2026-01-01").unwrap(),
            valid_to: Date::parse("d", "2026-12-31").unwrap(),
            targets: Targets::default(),
            security: SecuritySection {
                classification: Classification::default(),
                requirements: vec![],
                incident_criteria: IncidentCriteria::default(),
                authorised_users: vec![],
                authorised_roles: vec![],
                asset_protection: String::new(),
                copying_restrictions: String::new(),
                reporting: Frequency::Monthly,
            },
            kpis: vec![],
        },
        customer_agreement: None,
        owner_agreement: None,
        created_by: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    };
    let gaps: Vec<CiFindings> = (0..12)
        .map(|i| {
            CiFindings::from_lines(
                CiId::new(),
                &format!("vm-{i:02}"),
                vec![line(c, Some(ImplStatus::Failed), false, None)],
            )
        })
        .collect();
    let period = Period::parse("2026-10").unwrap();
    let r = build(&ReportInput {
        sla: &sla,
        customer_name: "C",
        service_name: "S",
        period: &period,
        now: Timestamp(0),
        service_hours: 0.0,
        gaps: &gaps,
        underpinning: &[],
        control_labels: &HashMap::new(),
        user_names: &HashMap::new(),
        history: &[],
        incidents: None,
        outage_hours: 0.0,
    });
    assert_eq!(r.exceptions.len(), 1);
    assert_eq!(
        r.exceptions[0].detail,
        "Recorded as failed on vm-00, vm-01, vm-02, vm-03, vm-04 and 7 more."
    );
    assert_eq!(
        r.exceptions[0].link,
        format!("/gaps?scope=service&ci={svc}")
    );
    assert_eq!(r.actions.len(), 1);
    assert!(
        r.actions[0].title.ends_with("on 12 CIs"),
        "{}",
        r.actions[0].title
    );
    assert_eq!(r.coverage.failed, 12);
}
