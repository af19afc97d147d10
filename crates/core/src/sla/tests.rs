use super::*;
use crate::classification::Level;

fn d(s: &str) -> Date {
    Date::parse("d", s).unwrap()
}

fn terms() -> SlaTerms {
    SlaTerms {
        name: " Payroll SLA ".into(),
        customer_id: CustomerId::new(),
        service_id: CiId::new(),
        valid_from: d("2026-01-01"),
        valid_to: d("2026-12-31"),
        targets: Targets::default(),
        security: SecuritySection {
            classification: Classification {
                confidentiality: Some(Level::High),
                ..Default::default()
            },
            requirements: vec![],
            incident_criteria: IncidentCriteria::default(),
            authorised_users: vec![],
            authorised_roles: vec![],
            asset_protection: String::new(),
            copying_restrictions: String::new(),
            reporting: Frequency::Monthly,
        },
        kpis: vec![],
    }
}

fn req(key: &str, controls: &[ControlId]) -> Requirement {
    Requirement {
        key: key.into(),
        text: format!("requirement {key}"),
        controls: controls.to_vec(),
    }
}

#[test]
fn terms_are_normalised_and_checked_field_by_field() {
    let t = terms().validate().unwrap();
    assert_eq!(t.name, "Payroll SLA");

    let mut t = terms();
    t.valid_to = d("2025-12-31");
    assert_eq!(t.validate().unwrap_err().field, "valid_to");

    let c = ControlId::new();
    let mut t = terms();
    t.security.requirements = vec![req("SR-1", &[c]), req("SR-1", &[c])];
    assert_eq!(
        t.validate().unwrap_err().field,
        "security.requirements[1].key"
    );

    let mut t = terms();
    t.security.requirements = vec![req("SR-1", &[])];
    assert_eq!(
        t.validate().unwrap_err().field,
        "security.requirements[0].controls"
    );

    let mut t = terms();
    t.security.incident_criteria.categories = vec!["Data Leak".into()];
    assert_eq!(
        t.validate().unwrap_err().field,
        "security.incident_criteria.categories[0]"
    );

    let mut t = terms();
    t.security.incident_criteria.affected_levels = vec![LevelCriterion {
        dimension: "secrecy".into(),
        at_least: Level::High,
    }];
    assert_eq!(
        t.validate().unwrap_err().field,
        "security.incident_criteria.affected_levels[0].dimension"
    );

    let mut t = terms();
    t.kpis = vec![Kpi {
        metric: Metric::ControlCoverage,
        target: 120.0,
        comparison: Comparison::AtLeast,
        measured_how: String::new(),
    }];
    assert_eq!(t.validate().unwrap_err().field, "kpis[0].target");

    let mut t = terms();
    t.security.incident_criteria.keywords = vec![" Exfiltration ".into(), "  ".into()];
    assert_eq!(
        t.validate().unwrap().security.incident_criteria.keywords,
        vec!["exfiltration"]
    );
}

#[test]
fn requirements_check_separates_baseline_additional_and_unimplemented() {
    let (a, b, c) = (ControlId::new(), ControlId::new(), ControlId::new());
    let baseline: BTreeSet<ControlId> = [a].into();
    let implemented: BTreeSet<ControlId> = [a, b].into();
    let checks = requirements_check(
        &[req("SR-1", &[a]), req("SR-2", &[a, b]), req("SR-3", &[c])],
        &baseline,
        &implemented,
    );
    assert_eq!(checks[0].coverage, Coverage::Baseline);
    assert!(checks[0].additional_controls.is_empty());
    assert_eq!(checks[1].coverage, Coverage::Additional);
    assert_eq!(checks[1].additional_controls, vec![b]);
    assert!(checks[1].unimplemented_controls.is_empty());
    assert_eq!(checks[2].coverage, Coverage::Additional);
    assert_eq!(checks[2].unimplemented_controls, vec![c]);
}

fn sla(t: SlaTerms) -> Sla {
    let id = SlaId::new();
    Sla {
        id,
        series_id: id,
        version: 1,
        status: SlaStatus::Draft,
        terms: t,
        customer_agreement: None,
        owner_agreement: None,
        created_by: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

#[test]
fn only_an_open_draft_is_agreed_and_each_side_once() {
    let today = d("2026-06-01");
    let mut s = sla(terms());
    assert!(check_agreement(&s, Side::Customer, &today).is_ok());
    s.customer_agreement = Some(Agreement {
        user_id: UserId::new(),
        at: Timestamp(1),
    });
    assert_eq!(
        check_agreement(&s, Side::Customer, &today)
            .unwrap_err()
            .field,
        "side"
    );
    assert!(check_agreement(&s, Side::Owner, &today).is_ok());
    assert_eq!(
        check_agreement(&s, Side::Owner, &d("2027-01-01"))
            .unwrap_err()
            .field,
        "valid_to"
    );
    s.status = SlaStatus::Agreed;
    assert_eq!(
        check_agreement(&s, Side::Owner, &today).unwrap_err().field,
        "status"
    );
    assert_eq!(s.status_on(&today), SlaStatus::Agreed);
    assert_eq!(s.status_on(&d("2027-01-01")), SlaStatus::Expired);
}

#[test]
fn underpinning_names_who_assures_each_control_and_flags_the_rest() {
    let (a, b) = (ControlId::new(), ControlId::new());
    let mut t = terms();
    t.security.requirements = vec![req("SR-1", &[a]), req("SR-2", &[a, b])];
    let s = sla(t);
    let ola = Ola {
        id: OlaId::new(),
        terms: OlaTerms {
            service_id: s.terms.service_id,
            department_id: None,
            team: "Hosting".into(),
            component_ci: None,
            component_type: Some("server".into()),
            controls: vec![a],
            targets: String::new(),
            valid_from: d("2026-01-01"),
            valid_to: d("2026-12-31"),
            review_date: None,
        },
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    };
    let expired = Contract {
        id: ContractId::new(),
        terms: ContractTerms {
            supplier_id: SupplierId::new(),
            service_id: s.terms.service_id,
            title: "Old backup contract".into(),
            security_requirements: String::new(),
            controls: vec![b],
            penalties: String::new(),
            penalty_amount: None,
            currency: String::new(),
            valid_from: d("2025-01-01"),
            valid_to: d("2025-12-31"),
            review_date: None,
        },
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    };
    let u = underpinning(
        &[&s],
        std::slice::from_ref(&ola),
        &[expired],
        &d("2026-06-01"),
    );
    assert_eq!(u.len(), 2);
    assert!(!u[0].unsupported);
    assert_eq!(
        u[0].controls[&a],
        vec![Underpin::Ola {
            id: ola.id,
            team: "Hosting".into()
        }]
    );
    assert!(u[1].unsupported, "b is only under an expired contract");
    assert!(u[1].controls[&b].is_empty());
}

#[test]
fn olas_and_contracts_are_checked() {
    let base = OlaTerms {
        service_id: CiId::new(),
        department_id: None,
        team: "Ops".into(),
        component_ci: Some(CiId::new()),
        component_type: Some("server".into()),
        controls: vec![],
        targets: String::new(),
        valid_from: d("2026-01-01"),
        valid_to: d("2026-12-31"),
        review_date: None,
    };
    assert_eq!(base.clone().validate().unwrap_err().field, "component_ci");
    let ok = OlaTerms {
        component_type: None,
        ..base
    };
    assert!(ok.validate().is_ok());
    let k = ContractTerms {
        supplier_id: SupplierId::new(),
        service_id: CiId::new(),
        title: "Hosting".into(),
        security_requirements: String::new(),
        controls: vec![],
        penalties: String::new(),
        penalty_amount: Some(500.0),
        currency: "eu".into(),
        valid_from: d("2026-01-01"),
        valid_to: d("2026-12-31"),
        review_date: None,
    };
    assert_eq!(k.clone().validate().unwrap_err().field, "currency");
    let k = ContractTerms {
        currency: "eur".into(),
        ..k
    };
    assert_eq!(k.validate().unwrap().currency, "EUR");
}
