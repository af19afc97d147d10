use super::*;

#[test]
fn references() {
    assert_eq!(reference(42), "INC-000042");
    assert_eq!(parse_reference("INC-000042"), Some(42));
    assert_eq!(parse_reference("inc-7"), Some(7));
    assert_eq!(parse_reference("12"), Some(12));
    assert_eq!(parse_reference("INC-0"), None);
    assert_eq!(parse_reference("x"), None);
}

#[test]
fn overdue_major_updates_are_reminded_once_per_cadence() {
    let min = 60_000;
    let mut m = Major {
        lead: UserId(uuid::Uuid::nil()),
        cadence_minutes: 30,
        declared_at: Timestamp(0),
        declared_by: None,
        next_update_due: Timestamp(30 * min),
        reviewed: false,
        reminded_for: None,
    };
    // Before the due time: nothing yet; look again at the due time.
    assert_eq!(m.reminder_due(Timestamp(29 * min)), None);
    assert_eq!(m.next_reminder(Timestamp(29 * min)), Timestamp(30 * min));
    // Overdue: the due time is the slot; next look one cadence later.
    assert_eq!(
        m.reminder_due(Timestamp(30 * min)),
        Some(Timestamp(30 * min))
    );
    assert_eq!(
        m.reminder_due(Timestamp(45 * min)),
        Some(Timestamp(30 * min))
    );
    assert_eq!(m.next_reminder(Timestamp(45 * min)), Timestamp(60 * min));
    m.reminded_for = Some(Timestamp(30 * min));
    assert_eq!(m.reminder_due(Timestamp(59 * min)), None, "reminded once");
    assert_eq!(
        m.reminder_due(Timestamp(61 * min)),
        Some(Timestamp(60 * min))
    );
    // A job that slept through slots reminds once, of the latest.
    assert_eq!(
        m.reminder_due(Timestamp(125 * min)),
        Some(Timestamp(120 * min))
    );
    // An update moves the due time: the old reminders do not count for it.
    m.next_update_due = Timestamp(150 * min);
    assert_eq!(m.reminder_due(Timestamp(149 * min)), None);
    assert_eq!(
        m.reminder_due(Timestamp(150 * min)),
        Some(Timestamp(150 * min))
    );
}

#[test]
fn role_masks_are_distinct_bits() {
    let all = role_mask(Role::ALL);
    assert_eq!(all, (1 << Role::ALL.len()) - 1);
    assert_eq!(role_mask([Role::Agent]) & role_mask([Role::Admin]), 0);
    let some = [Role::Agent, Role::Auditor];
    assert_eq!(roles_of_mask(role_mask(some)), some.to_vec());
    assert!(roles_of_mask(0).is_empty());
}

#[test]
fn external_notes_need_an_audience_and_others_must_not_have_one() {
    let n = |kind, audience| NoteInput {
        kind,
        body: " hello ".into(),
        audience,
        recipient: String::new(),
    };
    assert!(n(NoteKind::External, None).validate().is_err());
    assert!(
        n(NoteKind::WorkNote, Some(Audience::Press))
            .validate()
            .is_err()
    );
    assert_eq!(
        n(NoteKind::External, Some(Audience::Press))
            .validate()
            .unwrap()
            .body,
        "hello"
    );
    let mut empty = n(NoteKind::WorkNote, None);
    empty.body = "  ".into();
    assert_eq!(empty.validate().unwrap_err().field, "body");
}

#[test]
fn patch_distinguishes_null_from_absent() {
    let p: IncidentPatch = serde_json::from_str(r#"{"assignee": null}"#).unwrap();
    assert_eq!(p.assignee, Some(None));
    let p: IncidentPatch = serde_json::from_str(r#"{"title": "x"}"#).unwrap();
    assert_eq!(p.assignee, None);
    assert!(serde_json::from_str::<IncidentPatch>(r#"{"nope": 1}"#).is_err());
}

#[test]
fn search_terms() {
    assert_eq!(
        IncidentFilter::terms("VPN down; (payroll)"),
        vec!["vpn", "down", "payroll"]
    );
}
