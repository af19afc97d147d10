use super::*;
use crate::sla::LevelCriterion;
use Level::*;
use proptest::prelude::*;

fn ci(name: &str, effective: [Level; 3], failed: &[(ControlId, &str)]) -> AffectedCi {
    AffectedCi {
        id: CiId::new(),
        name: name.into(),
        effective,
        failed_controls: failed.iter().map(|(c, l)| (*c, l.to_string())).collect(),
    }
}

fn facts<'a>(
    category: &'a str,
    title: &'a str,
    affected: &'a [AffectedCi],
    slas: &'a [SlaCriteriaRef<'a>],
) -> Facts<'a> {
    Facts {
        category,
        title,
        description: "",
        affected,
        slas,
    }
}

fn criteria(categories: &[&str], keywords: &[&str]) -> IncidentCriteria {
    IncidentCriteria {
        categories: categories.iter().map(|c| c.to_string()).collect(),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn the_issue_checks() {
    // An incident on a service whose SLA says "category data_leak is a security incident".
    let payroll = SlaId::new();
    let c = criteria(&["data_leak"], &[]);
    let slas = [SlaCriteriaRef {
        sla_id: payroll,
        sla_name: "Payroll SLA",
        criteria: &c,
    }];
    let low = [ci("payroll", [Low, Low, Low], &[])];
    let reasons = recognise(&facts("data_leak", "Salary sheet mailed out", &low, &slas));
    assert!(is_security(&reasons));
    assert_eq!(
        reasons[0],
        Reason::SlaCategory {
            sla_id: payroll,
            sla_name: "Payroll SLA".into(),
            category: "data_leak".into()
        }
    );
    assert_eq!(
        describe(&reasons[0]),
        "SLA \"Payroll SLA\": incidents of category \"data_leak\" are security incidents."
    );

    // An incident on a CI whose required control is failed.
    let ac2 = ControlId::new();
    let db = [ci(
        "db01",
        [Low, Low, Low],
        &[(ac2, "AC-2 Account Management")],
    )];
    let reasons = recognise(&facts("database", "Slow queries", &db, &[]));
    assert_eq!(
        reasons,
        vec![Reason::BaselineFailedControl {
            ci: db[0].id,
            ci_name: "db01".into(),
            control: ac2,
            label: "AC-2 Account Management".into()
        }]
    );
    assert_eq!(
        describe(&reasons[0]),
        "Baseline: required control \"AC-2 Account Management\" of affected CI \"db01\" has failed."
    );

    // An ordinary one: printer, nothing failed, low CIs — even under an SLA with criteria.
    let ordinary = recognise(&facts("printer", "Printer jams on floor 2", &low, &slas));
    assert!(!is_security(&ordinary) && ordinary.is_empty());
}

#[test]
fn rule_table() {
    let (s1, s2) = (SlaId::new(), SlaId::new());
    let ctl = ControlId::new();
    let full = IncidentCriteria {
        categories: vec!["outage".into()],
        affected_levels: vec![LevelCriterion {
            dimension: "availability".into(),
            at_least: Moderate,
        }],
        control_failures: true,
        keywords: vec!["ransom".into(), "Exfiltration".into(), "c2 server".into()],
    };
    let other = criteria(&["outage", "data_leak"], &["ransom"]);
    let one = |c| {
        [SlaCriteriaRef {
            sla_id: s1,
            sla_name: "A",
            criteria: c,
        }]
    };
    let slas_full = one(&full);
    let both = [
        slas_full[0],
        SlaCriteriaRef {
            sla_id: s2,
            sla_name: "B",
            criteria: &other,
        },
        slas_full[0], // the same SLA twice gives nothing twice
    ];
    let hi_c = ci("hr", [High, Low, Low], &[]);
    let hi_i = ci("ledger", [Low, High, Moderate], &[]);
    let failing = ci("fw", [Low, Low, Low], &[(ctl, "")]);
    // (category, title, affected, slas, expected rules)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<AffectedCi>,
        &'a [SlaCriteriaRef<'a>],
        Vec<&'a str>,
    );
    let cases: Vec<Case> = vec![
        ("printer", "Toner empty", vec![], &slas_full, vec![]),
        ("outage", "Down", vec![], &slas_full, vec!["sla_category"]),
        (
            " Outage ",
            "Down",
            vec![],
            &both,
            vec!["sla_category", "sla_category"],
        ),
        (
            "email",
            "RANSOM note on screen",
            vec![],
            &slas_full,
            vec!["sla_keyword"],
        ),
        ("email", "Ransomware suspected", vec![], &slas_full, vec![]),
        (
            "email",
            "ransom, ransom and more ransom",
            vec![],
            &both,
            vec!["sla_keyword", "sla_keyword"],
        ),
        (
            "email",
            "exfiltration via the c2 server.",
            vec![],
            &slas_full,
            vec!["sla_keyword", "sla_keyword"],
        ),
        ("email", "c2 serverless", vec![], &slas_full, vec![]),
        (
            "email",
            "slow",
            vec![hi_i.clone()],
            &slas_full,
            vec!["sla_classification"],
        ),
        ("email", "slow", vec![hi_c.clone()], &slas_full, vec![]),
        (
            "email",
            "slow",
            vec![failing.clone()],
            &slas_full,
            vec!["sla_control_failure", "baseline_failed_control"],
        ),
        (
            "email",
            "slow",
            vec![failing.clone(), failing.clone()],
            &[],
            vec!["baseline_failed_control"],
        ),
        (
            "malware",
            "x",
            vec![],
            &[],
            vec!["baseline_security_category"],
        ),
        (
            "data_leak",
            "x",
            vec![hi_c.clone(), hi_i.clone()],
            &[],
            vec!["baseline_security_category", "baseline_high_impact"],
        ),
        (
            "data_corruption",
            "x",
            vec![hi_c.clone(), hi_i.clone()],
            &[],
            vec!["baseline_high_impact"],
        ),
        ("data_corruption", "x", vec![hi_c.clone()], &[], vec![]),
        (
            "outage",
            "x",
            vec![ci("web", [Low, Low, High], &[])],
            &[],
            vec![],
        ),
        (
            "denial_of_service",
            "x",
            vec![ci("web", [Low, Low, High], &[])],
            &[],
            vec!["baseline_security_category", "baseline_high_impact"],
        ),
        (
            "denial_of_service",
            "x",
            vec![ci("web", [High, High, Moderate], &[])],
            &[],
            vec!["baseline_security_category"],
        ),
        (
            "data_leak",
            "x",
            vec![],
            &both,
            vec!["sla_category", "baseline_security_category"],
        ),
    ];
    for (i, (category, title, affected, slas, want)) in cases.into_iter().enumerate() {
        let got = recognise(&facts(category, title, &affected, slas));
        let rules: Vec<&str> = got.iter().map(Reason::rule).collect();
        assert_eq!(rules, want, "case {i}");
        assert_eq!(is_security(&got), !want.is_empty(), "case {i}");
    }
}

#[test]
fn several_slas_give_several_reasons_without_repeats() {
    let (s1, s2) = (SlaId::new(), SlaId::new());
    let (a, b) = (
        criteria(&["phishing"], &["invoice"]),
        criteria(&["phishing"], &[]),
    );
    let slas = [
        SlaCriteriaRef {
            sla_id: s1,
            sla_name: "Finance",
            criteria: &a,
        },
        SlaCriteriaRef {
            sla_id: s2,
            sla_name: "HR",
            criteria: &b,
        },
    ];
    let f = Facts {
        description: "Fake invoice.\nAnother invoice!",
        ..facts("phishing", "Invoice mail", &[], &slas)
    };
    let got = recognise(&f);
    let summary: Vec<(&str, Option<SlaId>)> = got.iter().map(|r| (r.rule(), r.sla_id())).collect();
    assert_eq!(
        summary,
        vec![
            ("sla_category", Some(s1)),
            ("sla_keyword", Some(s1)),
            ("sla_category", Some(s2)),
            ("baseline_security_category", None),
        ]
    );
    assert_eq!(
        describe(&got[1]),
        "SLA \"Finance\": the keyword \"invoice\" appears in the title or description."
    );
}

#[test]
fn descriptions_and_serde() {
    let (sla_id, ci_id, control) = (SlaId::new(), CiId::new(), ControlId::new());
    let cases = [
        (
            Reason::SlaClassification {
                sla_id,
                sla_name: "S".into(),
                ci: ci_id,
                ci_name: "db".into(),
                dimension: "confidentiality".into(),
                level: High,
                at_least: Moderate,
            },
            "SLA \"S\": affected CI \"db\" has confidentiality high, at or above the agreed moderate.".to_string(),
        ),
        (
            Reason::SlaControlFailure {
                sla_id,
                sla_name: "S".into(),
                ci: ci_id,
                ci_name: "db".into(),
                control,
                label: " ".into(),
            },
            format!("SLA \"S\": required control \"{control}\" of affected CI \"db\" has failed."),
        ),
        (
            Reason::BaselineSecurityCategory { category: "malware".into() },
            "Baseline: \"malware\" is a security category.".to_string(),
        ),
        (
            Reason::BaselineHighImpact {
                ci: ci_id,
                ci_name: "db".into(),
                category: "data_leak".into(),
                dimension: "confidentiality".into(),
            },
            "Baseline: a \"data_leak\" incident affects the confidentiality of CI \"db\", which is classified high.".to_string(),
        ),
    ];
    for (r, want) in cases {
        assert_eq!(describe(&r), want);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["rule"], r.rule());
        assert_eq!(serde_json::from_value::<Reason>(json).unwrap(), r);
    }
    assert_eq!(impacted_dimension(" Malware"), Some("integrity"));
    assert_eq!(
        impacted_dimension("denial_of_service"),
        Some("availability")
    );
    assert_eq!(impacted_dimension("outage"), None);
}

#[test]
fn whole_words() {
    let cases = [
        ("a ransom note", "ransom", true),
        ("ransom", "ransom", true),
        ("ransomware", "ransom", false),
        ("anti-ransom", "ransom", true),
        ("ransom_note", "ransom", false),
        ("x ransomy ransom.", "ransom", true),
        ("café ransom", "café", true),
        ("cafés", "café", false),
        ("aaa aa", "aa", true),
        ("aaa", "aa", false),
        ("see c2 server now", "c2 server", true),
        ("file.exe found", ".exe", true),
        ("", "x", false),
        ("anything", "", false),
    ];
    for (text, word, want) in cases {
        assert_eq!(contains_word(text, word), want, "{word:?} in {text:?}");
    }
}

proptest! {
    #[test]
    fn a_word_matches_alone_but_not_glued(word in "[a-z]{1,8}", glue in "[a-z0-9_]{1,4}", before in "[ .,!(]{0,2}", after in "[ .,!)]{0,2}") {
        let (alone, front, back) = (format!("{before}{word}{after}"), format!("{glue}{word}"), format!("{word}{glue}"));
        prop_assert!(contains_word(&alone, &word));
        prop_assert!(!contains_word(&front, &word));
        prop_assert!(!contains_word(&back, &word));
    }

    /// For a plain word, matching agrees with splitting the text into words.
    #[test]
    fn matching_agrees_with_splitting(word in "[ab]{1,3}", text in "[ab_1 .,]{0,24}") {
        prop_assert_eq!(contains_word(&text, &word), contains_standalone(&text, &word));
    }

    /// Reasons never repeat, whatever the input repeats.
    #[test]
    fn reasons_are_unique(copies in 1..4usize, category in prop::sample::select(vec!["data_leak", "printer", "malware", "outage"])) {
        let ctl = ControlId::new();
        let c = IncidentCriteria {
            categories: vec![category.to_string(); copies],
            affected_levels: vec![LevelCriterion { dimension: "integrity".into(), at_least: Low }; copies],
            control_failures: true,
            keywords: vec!["down".into(); copies],
        };
        let sla = SlaCriteriaRef { sla_id: SlaId::new(), sla_name: "S", criteria: &c };
        let slas = vec![sla; copies];
        let one = ci("x", [High, High, High], &[(ctl, "c")]);
        let mut one_twice = one.clone();
        one_twice.failed_controls = vec![(ctl, "c".into()); copies];
        let affected = vec![one_twice; copies];
        let got = recognise(&facts(category, "down, down", &affected, &slas));
        for (i, r) in got.iter().enumerate() {
            prop_assert!(!got[i + 1..].contains(r));
        }
        prop_assert_eq!(got, recognise(&facts(category, "down", std::slice::from_ref(&one), &slas[..1])));
    }
}

/// Reference: some split of `text` on non-word characters equals `word`.
fn contains_standalone(text: &str, word: &str) -> bool {
    text.split(|c: char| !is_word_char(c)).any(|w| w == word)
}
