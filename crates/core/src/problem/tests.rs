use super::*;
use crate::classification::Level::{High, Low, Moderate};

const NOW: Timestamp = Timestamp(1_700_000_000_000);

fn problem(cis: Vec<CiId>) -> Problem {
    let f = ProblemFields {
        title: "  Payroll export fails ".into(),
        description: "Nightly\u{7} export stops.".into(),
        service: None,
        cis,
        assignee: None,
        root_cause: String::new(),
        introduces_security_risk: false,
    }
    .validate()
    .unwrap();
    Problem::new(f, None, NOW)
}

fn check_of(p: &Problem) -> SecurityCheck {
    SecurityCheck {
        services: vec![],
        cis: p
            .affected()
            .into_iter()
            .map(|ci| CiCheck {
                ci,
                name: "x".into(),
                confidentiality: High,
                integrity: Low,
                availability: Low,
                required: 3,
                failed: 1,
                missing: 0,
            })
            .collect(),
    }
}

fn approve() -> ReviewInput {
    ReviewInput {
        approve: true,
        reasons: String::new(),
        sla_requirements_met: true,
        baseline_met: true,
        notes: "ok".into(),
    }
}

fn reject(reasons: &str) -> ReviewInput {
    ReviewInput {
        approve: false,
        reasons: reasons.into(),
        sla_requirements_met: false,
        baseline_met: true,
        notes: String::new(),
    }
}

#[test]
fn references() {
    assert_eq!(reference(42), "PRB-000042");
    assert_eq!(parse_reference("PRB-000042"), Some(42));
    assert_eq!(parse_reference("prb-7"), Some(7));
    assert_eq!(parse_reference(" 12 "), Some(12));
    assert_eq!(parse_reference("PRB-0"), None);
    assert_eq!(parse_reference("INC-1"), None);
}

#[test]
fn fields_are_cleaned_and_named() {
    let p = problem(vec![]);
    assert_eq!(p.title, "Payroll export fails");
    assert_eq!(p.description, "Nightly export stops.");
    let mut bad = ProblemFields {
        title: " ".into(),
        description: String::new(),
        service: None,
        cis: vec![],
        assignee: None,
        root_cause: String::new(),
        introduces_security_risk: false,
    };
    assert_eq!(bad.clone().validate().unwrap_err().field, "title");
    bad.title = "t".into();
    bad.cis = (0..=MAX_CIS).map(|_| CiId::new()).collect();
    assert_eq!(bad.clone().validate().unwrap_err().field, "cis");
    bad.cis = vec![];
    bad.root_cause = "x".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(bad.validate().unwrap_err().field, "root_cause");
}

#[test]
fn needs_review_when_any_level_is_moderate_or_high_or_risky() {
    let cases: [(&[[Level; 3]], bool, bool); 8] = [
        (&[], false, false),
        (&[], true, true),
        (&[[Low, Low, Low]], false, false),
        (&[[Low, Low, Low], [Low, Low, Low]], false, false),
        (&[[High, Low, Low]], false, true),
        (&[[Low, Moderate, Low]], false, true),
        (&[[Low, Low, Low], [Low, Low, Moderate]], false, true),
        (&[[Low, Low, Low]], true, true),
    ];
    for (levels, risk, want) in cases {
        assert_eq!(
            needs_security_review(levels, risk),
            want,
            "{levels:?} risk={risk}"
        );
    }
}

#[test]
fn status_moves() {
    use ProblemStatus::*;
    let allowed = [
        (New, Investigating),
        (New, Closed),
        (Investigating, KnownError),
        (Investigating, Resolved),
        (Investigating, Closed),
        (KnownError, Investigating),
        (KnownError, Resolved),
        (KnownError, Closed),
        (Resolved, Investigating),
        (Resolved, Closed),
    ];
    for from in ProblemStatus::ALL {
        for to in ProblemStatus::ALL {
            assert_eq!(
                from.can_move_to(*to),
                allowed.contains(&(*from, *to)),
                "{from} → {to}"
            );
        }
    }
    for s in ProblemStatus::ALL {
        assert_eq!(ProblemStatus::parse(s.as_str()), Ok(*s));
    }
    assert_eq!(ProblemStatus::parse("open").unwrap_err().field, "status");
}

#[test]
fn known_error_needs_a_published_workaround_and_resolved_a_published_solution() {
    let mut p = problem(vec![]);
    p.transition(ProblemStatus::Investigating, NOW).unwrap();
    let e = p.transition(ProblemStatus::KnownError, NOW).unwrap_err();
    assert!(
        matches!(e, ProblemError::Invalid(ref d) if d.field == "status"),
        "{e:?}"
    );
    p.set_fix_text(FixKind::Workaround, "Restart the job.", None, NOW)
        .unwrap();
    p.publish(FixKind::Workaround, false, None, NOW).unwrap();
    p.transition(ProblemStatus::KnownError, NOW).unwrap();
    assert!(p.transition(ProblemStatus::Resolved, NOW).is_err());
    p.set_fix_text(FixKind::Solution, "Patch 12.5.", None, NOW)
        .unwrap();
    p.publish(FixKind::Solution, false, None, NOW).unwrap();
    p.transition(ProblemStatus::Resolved, NOW).unwrap();
    assert_eq!(p.resolved_at, Some(NOW));
    p.transition(ProblemStatus::Closed, NOW).unwrap();
    assert!(matches!(
        p.set_fix_text(FixKind::Workaround, "x", None, NOW),
        Err(ProblemError::State(_))
    ));
    assert!(p.transition(ProblemStatus::Investigating, NOW).is_err());
}

#[test]
fn without_review_a_draft_publishes_directly() {
    let mut p = problem(vec![CiId::new()]);
    let e = p
        .publish(FixKind::Workaround, false, None, NOW)
        .unwrap_err();
    assert!(matches!(e, ProblemError::Invalid(ref d) if d.field == "text"));
    p.set_fix_text(FixKind::Workaround, "Restart.", None, NOW)
        .unwrap();
    p.publish(FixKind::Workaround, false, None, NOW).unwrap();
    assert!(p.is_known_error());
    assert!(p.check_applicable().is_ok());
    assert!(matches!(
        p.publish(FixKind::Workaround, false, None, NOW),
        Err(ProblemError::State(_))
    ));
}

#[test]
fn with_review_needed_only_an_approved_text_publishes() {
    let mut p = problem(vec![CiId::new()]);
    let k = FixKind::Workaround;
    p.set_fix_text(k, "Disable TLS checks on the export.", None, NOW)
        .unwrap();
    // Draft: refused with the gate's own error.
    assert_eq!(
        p.publish(k, true, None, NOW).unwrap_err(),
        ProblemError::ReviewRequired(k)
    );
    assert!(p.check_applicable().is_err());
    // Cannot review what was not submitted.
    let check = check_of(&p);
    assert!(matches!(
        p.review(k, approve(), check.clone(), None, NOW),
        Err(ProblemError::State(_))
    ));
    p.submit(k, None, NOW).unwrap();
    assert!(matches!(
        p.publish(k, true, None, NOW),
        Err(ProblemError::State(_))
    ));
    // Rejection needs reasons, and goes back with them.
    let e = p
        .review(k, reject("  "), check.clone(), None, NOW)
        .unwrap_err();
    assert!(matches!(e, ProblemError::Invalid(ref d) if d.field == "reasons"));
    let r = p
        .review(
            k,
            reject("Disabling TLS breaks SR-2."),
            check.clone(),
            None,
            NOW,
        )
        .unwrap();
    assert_eq!(r.decision, Decision::Rejected);
    assert_eq!(p.workaround.state, FixState::Rejected);
    assert_eq!(
        p.workaround.review.as_ref().unwrap().reasons,
        "Disabling TLS breaks SR-2."
    );
    assert!(matches!(
        p.publish(k, true, None, NOW),
        Err(ProblemError::State(_))
    ));
    // Editing makes it a draft; approval then publishes.
    p.set_fix_text(k, "Re-run the export by hand over TLS.", None, NOW)
        .unwrap();
    assert_eq!(p.workaround.state, FixState::Draft);
    assert!(p.workaround.review.is_none());
    p.submit(k, None, NOW).unwrap();
    let mut no = approve();
    no.baseline_met = false;
    let e = p.review(k, no, check.clone(), None, NOW).unwrap_err();
    assert!(matches!(e, ProblemError::Invalid(ref d) if d.field == "baseline_met"));
    let r = p.review(k, approve(), check, None, NOW).unwrap();
    assert_eq!(
        r.text_sha256,
        crate::secret::sha256_hex(p.workaround.text.as_bytes())
    );
    assert_eq!(r.check.cis.len(), 1);
    p.publish(k, true, None, NOW).unwrap();
    assert_eq!(p.workaround.state, FixState::Published);
}

#[test]
fn a_text_change_voids_approval_and_withdraws_a_known_error() {
    let mut p = problem(vec![CiId::new()]);
    let k = FixKind::Workaround;
    p.set_fix_text(k, "Use the backup link.", None, NOW)
        .unwrap();
    p.submit(k, None, NOW).unwrap();
    p.review(k, approve(), check_of(&p), None, NOW).unwrap();
    // The same text is no change.
    assert!(
        !p.set_fix_text(k, " Use the backup link. ", None, NOW)
            .unwrap()
    );
    assert_eq!(p.workaround.state, FixState::Approved);
    p.publish(k, true, None, NOW).unwrap();
    p.transition(ProblemStatus::Investigating, NOW).unwrap();
    p.transition(ProblemStatus::KnownError, NOW).unwrap();
    assert!(
        p.set_fix_text(k, "Use the backup link, unencrypted.", None, NOW)
            .unwrap()
    );
    assert_eq!(p.workaround.state, FixState::Draft);
    assert_eq!(p.status, ProblemStatus::Investigating);
    assert_eq!(
        p.publish(k, true, None, NOW).unwrap_err(),
        ProblemError::ReviewRequired(k)
    );
    // Editing a pending text also returns it to draft.
    p.submit(k, None, NOW).unwrap();
    p.set_fix_text(k, "Something else.", None, NOW).unwrap();
    assert_eq!(p.workaround.state, FixState::Draft);
}

#[test]
fn widening_the_affected_cis_or_raising_the_risk_flag_voids_approval() {
    let (a, b) = (CiId::new(), CiId::new());
    let k = FixKind::Solution;
    let approved = || {
        let mut p = problem(vec![a]);
        p.set_fix_text(k, "Upgrade.", None, NOW).unwrap();
        p.submit(k, None, NOW).unwrap();
        p.review(k, approve(), check_of(&p), None, NOW).unwrap();
        p.publish(k, true, None, NOW).unwrap();
        p
    };
    // Narrowing keeps it.
    let mut p = approved();
    let patch = ProblemPatch {
        cis: Some(vec![]),
        ..Default::default()
    };
    assert!(p.affected_after(&patch).is_empty());
    p.apply_patch(patch, true, NOW).unwrap();
    assert_eq!(p.solution.state, FixState::Published);
    // An unchecked CI voids it.
    let mut p = approved();
    let patch = ProblemPatch {
        cis: Some(vec![a, b]),
        ..Default::default()
    };
    assert_eq!(p.affected_after(&patch), {
        let mut v = vec![a, b];
        v.sort();
        v
    });
    p.apply_patch(patch, true, NOW).unwrap();
    assert_eq!(p.solution.state, FixState::Draft);
    // So does the risk flag, even when classification alone would not need a review.
    let mut p = approved();
    p.apply_patch(
        ProblemPatch {
            introduces_security_risk: Some(true),
            ..Default::default()
        },
        true,
        NOW,
    )
    .unwrap();
    assert_eq!(p.solution.state, FixState::Draft);
    // A fix published without review is withdrawn once a review becomes necessary.
    let mut p = problem(vec![a]);
    p.set_fix_text(FixKind::Workaround, "Restart.", None, NOW)
        .unwrap();
    p.publish(FixKind::Workaround, false, None, NOW).unwrap();
    p.transition(ProblemStatus::Investigating, NOW).unwrap();
    p.transition(ProblemStatus::KnownError, NOW).unwrap();
    p.apply_patch(
        ProblemPatch {
            service: Some(Some(b)),
            ..Default::default()
        },
        true,
        NOW,
    )
    .unwrap();
    assert_eq!(p.workaround.state, FixState::Draft);
    assert_eq!(p.status, ProblemStatus::Investigating);
}

#[test]
fn a_review_must_check_every_affected_ci() {
    let mut p = problem(vec![CiId::new(), CiId::new()]);
    let k = FixKind::Workaround;
    p.set_fix_text(k, "Restart.", None, NOW).unwrap();
    p.submit(k, None, NOW).unwrap();
    let mut check = check_of(&p);
    check.cis.pop();
    assert!(matches!(
        p.review(k, approve(), check, None, NOW),
        Err(ProblemError::State(_))
    ));
}

#[test]
fn patch_distinguishes_null_from_absent_and_refuses_unknown_fields() {
    let p: ProblemPatch = serde_json::from_str(r#"{"service": null}"#).unwrap();
    assert_eq!(p.service, Some(None));
    let p: ProblemPatch = serde_json::from_str(r#"{"title": "x"}"#).unwrap();
    assert_eq!(p.service, None);
    assert!(serde_json::from_str::<ProblemPatch>(r#"{"nope": 1}"#).is_err());
    assert!(ProblemPatch::default().is_empty());
}

#[test]
fn audit_view_holds_no_text() {
    let mut p = problem(vec![]);
    p.set_fix_text(FixKind::Workaround, "secret steps", None, NOW)
        .unwrap();
    let v = p.audit_view().to_string();
    assert!(
        !v.contains("secret steps") && !v.contains("Payroll export"),
        "{v}"
    );
    assert!(v.contains(&crate::secret::sha256_hex(b"secret steps")));
}

#[test]
fn the_author_cannot_approve_their_own_text() {
    let (author, reviewer) = (Some(UserId::new()), Some(UserId::new()));
    let k = FixKind::Workaround;
    let mut p = problem(vec![CiId::new()]);
    p.set_fix_text(k, "Restart.", author, NOW).unwrap();
    p.submit(k, reviewer, NOW).unwrap();
    let check = check_of(&p);
    // Neither the writer nor the submitter approves; either may reject.
    assert!(matches!(
        p.review(k, approve(), check.clone(), author, NOW),
        Err(ProblemError::State(_))
    ));
    assert!(matches!(
        p.review(k, approve(), check.clone(), reviewer, NOW),
        Err(ProblemError::State(_))
    ));
    p.review(k, reject("Unclear."), check.clone(), author, NOW)
        .unwrap();
    p.set_fix_text(k, "Restart the spooler.", author, NOW)
        .unwrap();
    p.submit(k, author, NOW).unwrap();
    p.review(k, approve(), check, reviewer, NOW).unwrap();
    assert_eq!(p.workaround.state, FixState::Approved);
}
