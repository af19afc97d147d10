use super::*;
use proptest::prelude::*;

fn fields() -> IncidentFields {
    IncidentFields {
        title: "  Mail is down ".into(),
        description: "Nobody\u{7} can send.\nSince 09:00.".into(),
        category: " Email ".into(),
        impact: Impact::Medium,
        urgency: Urgency::High,
        service: None,
        cis: vec![],
    }
}

#[test]
fn default_matrix_is_the_itil_one() {
    use Impact as I;
    use Priority::*;
    use Urgency as U;
    let m = PriorityMatrix::default();
    let cases = [
        (I::High, U::High, P1),
        (I::High, U::Medium, P2),
        (I::Medium, U::High, P2),
        (I::High, U::Low, P3),
        (I::Medium, U::Medium, P3),
        (I::Low, U::High, P3),
        (I::Medium, U::Low, P4),
        (I::Low, U::Medium, P4),
        (I::Low, U::Low, P4),
    ];
    for (impact, urgency, want) in cases {
        assert_eq!(m.priority(impact, urgency), want, "{impact:?}/{urgency:?}");
    }
    assert_eq!(m.validate(), Ok(()));
}

#[test]
fn matrix_must_be_monotone_and_round_trips() {
    use Priority::*;
    let cases = [
        ([[P1, P2, P3], [P2, P3, P4], [P3, P4, P4]], None),
        ([[P1, P1, P1], [P1, P1, P1], [P1, P1, P1]], None),
        ([[P2, P2, P4], [P3, P3, P4], [P4, P4, P4]], None),
        ([[P1, P2, P3], [P1, P3, P4], [P3, P4, P4]], None),
        (
            [[P2, P2, P3], [P1, P3, P4], [P3, P4, P4]],
            Some("priority_matrix.cells[1][0]"),
        ),
        (
            [[P1, P3, P2], [P2, P3, P4], [P3, P4, P4]],
            Some("priority_matrix.cells[0][2]"),
        ),
        (
            [[P1, P2, P3], [P2, P3, P4], [P3, P4, P3]],
            Some("priority_matrix.cells[2][2]"),
        ),
        (
            [[P4, P4, P4], [P4, P4, P4], [P4, P4, P1]],
            Some("priority_matrix.cells[2][2]"),
        ),
    ];
    for (i, (cells, want)) in cases.into_iter().enumerate() {
        let m = PriorityMatrix { cells };
        assert_eq!(
            m.validate().map_err(|e| e.field),
            want.map_or(Ok(()), |f| Err(f.to_string())),
            "case {i}"
        );
    }
    let json = serde_json::to_string(&PriorityMatrix::default()).unwrap();
    assert_eq!(
        json,
        r#"{"cells":[["p1","p2","p3"],["p2","p3","p4"],["p3","p4","p4"]]}"#
    );
    assert_eq!(
        serde_json::from_str::<PriorityMatrix>(&json).unwrap(),
        PriorityMatrix::default()
    );
    assert!(serde_json::from_str::<PriorityMatrix>(r#"{"cells":[["p1"]]}"#).is_err());
}

#[test]
fn names_parse_back() {
    for p in Priority::ALL {
        assert_eq!(Priority::parse(p.as_str()), Ok(p));
        assert_eq!(Priority::parse(p.label()), Ok(p));
    }
    assert_eq!(Priority::parse("p5").unwrap_err().field, "priority");
    for s in Status::ALL {
        assert_eq!(Status::parse(s.as_str()), Ok(s));
    }
    assert_eq!(Status::parse("open").unwrap_err().field, "status");
    for i in Impact::ALL {
        assert_eq!(Impact::parse(i.as_str()), Ok(i));
    }
    assert_eq!(Impact::parse("critical").unwrap_err().field, "impact");
    assert_eq!(Urgency::parse(" low "), Ok(Urgency::Low));
    assert_eq!(Urgency::parse("").unwrap_err().field, "urgency");
    assert_eq!(NoteKind::parse("work_note"), Ok(NoteKind::WorkNote));
    assert!(NoteKind::PublicComment.is_public() && !NoteKind::WorkNote.is_public());
    assert_eq!(NoteKind::parse("note").unwrap_err().field, "kind");
    let t = Targets::default();
    assert_eq!(Priority::P2.target(&t).resolution_minutes, 480);
    assert_eq!(Priority::P4.index(), 3);
}

#[test]
fn status_transitions() {
    use Status::*;
    // (from, to, allowed)
    let cases = [
        (New, InProgress, true),
        (New, OnHold, true),
        (New, Resolved, true),
        (New, Closed, false),
        (New, New, false),
        (InProgress, OnHold, true),
        (InProgress, Resolved, true),
        (InProgress, New, false),
        (InProgress, Closed, false),
        (OnHold, InProgress, true),
        (OnHold, Resolved, true),
        (OnHold, Closed, false),
        (OnHold, New, false),
        (Resolved, Closed, true),
        (Resolved, InProgress, true),
        (Resolved, OnHold, false),
        (Resolved, New, false),
        (Closed, InProgress, false),
        (Closed, Resolved, false),
        (Closed, New, false),
    ];
    for (from, to, ok) in cases {
        assert_eq!(from.can_move(to), ok, "{from:?} → {to:?}");
        assert_eq!(from.transition(to).is_ok(), ok, "{from:?} → {to:?}");
    }
    let err = Closed.transition(InProgress).unwrap_err();
    assert_eq!(err.field, "status");
    assert_eq!(err.message, "a closed incident cannot change status");
    assert_eq!(
        InProgress.transition(Closed).unwrap_err().message,
        "cannot move from in_progress to closed; allowed: on_hold, resolved"
    );
    assert!(New.is_open() && OnHold.is_open() && !Resolved.is_open() && !Closed.is_open());
}

#[test]
fn categories() {
    let cases = [
        ("data_leak", Ok("data_leak"), true),
        (" Malware ", Ok("malware"), true),
        ("printer", Ok("printer"), false),
        ("network_2", Ok("network_2"), false),
        ("data leak", Err("category"), false),
        ("", Err("category"), false),
        ("datalek-x", Err("category"), false),
    ];
    for (input, want, security) in cases {
        let got = Category::parse("category", input);
        assert_eq!(
            got.as_ref()
                .map(|c| c.as_str())
                .map_err(|e| e.field.as_str()),
            want,
            "{input:?}"
        );
        if let Ok(c) = got {
            assert_eq!(c.is_security(), security, "{input:?}");
        }
    }
    assert!(Category::parse("c", &"a".repeat(61)).is_err());
    for c in SECURITY_CATEGORIES {
        assert!(Category::parse("c", c).unwrap().is_security());
    }
    let c: Category = serde_json::from_str(r#""Phishing""#).unwrap();
    assert_eq!(serde_json::to_string(&c).unwrap(), r#""phishing""#);
    assert!(serde_json::from_str::<Category>(r#""no way""#).is_err());
}

#[test]
fn input_is_checked_and_normalised() {
    let reporter = UserId::new();
    let (a, b) = (CiId::new(), CiId::new());
    let mut f = fields();
    f.cis = vec![b, a, b];
    let i = IncidentInput::new(f, reporter).unwrap();
    assert_eq!(i.title, "Mail is down");
    assert_eq!(i.description, "Nobody can send.\nSince 09:00.");
    assert_eq!(i.category.as_str(), "email");
    assert_eq!(i.cis, {
        let mut v = vec![a, b];
        v.sort();
        v
    });
    assert_eq!(i.reporter, reporter);
    assert_eq!(i.priority(&PriorityMatrix::default()), Priority::P2);

    type Edit = fn(&mut IncidentFields);
    let cases: [(Edit, &str); 5] = [
        (|f| f.title = "   ".into(), "title"),
        (|f| f.title = "x".repeat(201), "title"),
        (|f| f.description = "é".repeat(20_001), "description"),
        (|f| f.category = "printer!".into(), "category"),
        (|f| f.category = String::new(), "category"),
    ];
    for (i, (edit, field)) in cases.into_iter().enumerate() {
        let mut f = fields();
        edit(&mut f);
        assert_eq!(
            IncidentInput::new(f, reporter).unwrap_err().field,
            field,
            "case {i}"
        );
    }
    let mut f = fields();
    f.title = "x".repeat(200);
    f.description = "é".repeat(20_000);
    assert!(IncidentInput::new(f, reporter).is_ok());

    let json = r#"{"title":"t","category":"printer","impact":"low","urgency":"medium"}"#;
    let f: IncidentFields = serde_json::from_str(json).unwrap();
    assert_eq!(
        (f.description.as_str(), f.service, f.cis.len()),
        ("", None, 0)
    );
    assert!(
        serde_json::from_str::<IncidentFields>(&json.replace("\"t\"", "\"t\",\"x\":1")).is_err()
    );
}

fn priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(Priority::ALL.to_vec())
}

proptest! {
    /// Any matrix that validates ranks high/high most urgent and low/low least.
    #[test]
    fn valid_matrices_order_the_corners(cells in prop::array::uniform3(prop::array::uniform3(priority()))) {
        let m = PriorityMatrix { cells };
        if m.validate().is_ok() {
            for i in Impact::ALL {
                for u in Urgency::ALL {
                    prop_assert!(m.priority(Impact::High, Urgency::High) <= m.priority(i, u));
                    prop_assert!(m.priority(Impact::Low, Urgency::Low) >= m.priority(i, u));
                }
            }
        }
    }

    /// Whatever walk is attempted, a closed incident stays closed and every accepted step
    /// is one `can_move` allows.
    #[test]
    fn walks_respect_the_lifecycle(steps in prop::collection::vec(0..5usize, 0..30)) {
        let mut at = Status::New;
        for s in steps {
            let to = Status::ALL[s];
            let was = at;
            if at.transition(to).is_ok() {
                prop_assert!(was.can_move(to) && was != Status::Closed);
                at = to;
            }
            prop_assert!(was != Status::Closed || at == Status::Closed);
        }
    }
}
