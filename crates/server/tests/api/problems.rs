//! Problem management through the API: the security review gate on workarounds and
//! solutions (refused before approval, reviewers only, rejection with reasons, the
//! recorded check, known errors), publication without review on unclassified CIs, the
//! "introduces security risk" flag, need-to-know on linked incidents, and applying a
//! known error's workaround to an incident.

use crate::helpers::*;
use custos_core::account::Role;
use custos_core::authz::Actor;
use custos_core::classification::{Classification, Level};
use custos_core::cmdb::{CiInput, Lifecycle, RelType};
use custos_core::notify::{Event, EventKind};
use custos_core::{CiId, IncidentId, Timestamp, UserId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub async fn ok(resp: reqwest::Response, want: StatusCode) -> Value {
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap()
    }
}

pub async fn ci(app: &TestApp, ci_type: &str, name: &str) -> CiId {
    let input = CiInput::new(ci_type, name, None, Lifecycle::Active, json!({})).unwrap();
    app.store
        .create_ci(&Actor::System("test"), input)
        .await
        .unwrap()
        .ci
        .id
}

/// A "Payroll" business service depending on "pay-db" (classified confidentiality high),
/// with an agreed SLA whose security section has requirements SR-1 and SR-2.
pub async fn payroll(app: &TestApp) -> (CiId, CiId) {
    let actor = Actor::System("test");
    let svc = ci(app, "business_service", "Payroll").await;
    let db = ci(app, "database", "pay-db").await;
    app.store
        .add_relationship(&actor, svc, db, RelType::DependsOn)
        .await
        .unwrap();
    app.store
        .set_classification(
            &actor,
            db,
            Classification {
                confidentiality: Some(Level::High),
                integrity: None,
                availability: None,
            },
            "salary data",
        )
        .await
        .unwrap();
    let entry = custos_core::service::ServiceInput::new(
        "",
        None,
        custos_core::calendar::ServiceHours::always(),
        vec![],
        Default::default(),
    )
    .unwrap();
    app.store.put_service(&actor, svc, entry).await.unwrap();
    let customer = app
        .store
        .create_customer(
            &actor,
            custos_core::service::CustomerInput::new(
                "Finance",
                custos_core::service::CustomerKind::Internal,
                None,
                "",
                "",
                vec![],
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let control = app.control("prb").await;
    let terms: custos_core::sla::SlaTerms = serde_json::from_value(json!({
        "name": "Payroll SLA", "customer_id": customer, "service_id": svc,
        "valid_from": "2026-01-01", "valid_to": "2099-12-31",
        "targets": custos_core::service::Targets::default(),
        "security": {"classification": {"confidentiality": "high", "integrity": null, "availability": null},
            "requirements": [
                {"key": "SR-1", "text": "Payroll data encrypted at rest", "controls": [control]},
                {"key": "SR-2", "text": "Access to payroll data logged", "controls": [control]}
            ],
            "reporting": "monthly"}
    }))
    .unwrap();
    let sla = app
        .store
        .create_sla(&actor, terms.validate().unwrap())
        .await
        .unwrap()
        .id;
    let today = custos_core::time::Date::of(Timestamp::now());
    for side in [
        custos_core::sla::Side::Customer,
        custos_core::sla::Side::Owner,
    ] {
        let u = app
            .user(
                &format!("{side:?}-{}@example.org", uuid::Uuid::now_v7().simple()),
                &[Role::ServiceOwner],
                None,
            )
            .await;
        let signer = Actor::authenticating(u.id, u.email);
        app.store
            .agree_sla(&signer, sla, side, &today)
            .await
            .unwrap();
    }
    (svc, db)
}

/// An incident reported by `reporter`, stored directly; `security` makes it need-to-know.
pub async fn incident(app: &TestApp, reporter: UserId, title: &str, security: bool) -> IncidentId {
    use custos_core::incident::{Impact, Priority, Status, Urgency};
    use custos_core::ticket::{Channel, Incident, Security};
    let now = Timestamp::now();
    let i = Incident {
        id: IncidentId::new(),
        number: 0,
        reference: String::new(),
        title: title.into(),
        description: "Reported for a problem test.".into(),
        category: "software".into(),
        impact: Impact::Medium,
        urgency: Urgency::Medium,
        priority: Priority::P3,
        status: Status::New,
        service: None,
        cis: vec![],
        group: None,
        assignee: None,
        reporter,
        channel: Channel::Api,
        security: Security {
            flagged: security,
            reasons: vec![],
            manual_flag: None,
            unflagged: None,
            phase: None,
        },
        major: None,
        sla: None,
        clock: None,
        resolution: String::new(),
        responded_at: None,
        resolved_at: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
        links: vec![],
    };
    let w = custos_core::store::IncidentWrite {
        incident: i,
        holds: vec![],
        actor: Actor::System("test"),
        audit_action: "incident.create",
        changes: json!({}),
        authorised_users: vec![],
        authorised_roles: 0,
        clock_check_at: None,
        events: vec![],
    };
    app.store.create_incidents(vec![w]).await.unwrap()[0].id
}

/// Pending outbox events about problem `id`.
pub async fn events_of(app: &TestApp, id: &str) -> Vec<Event> {
    app.store
        .pending_events(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, e)| e)
        .filter(|e| e.entity_type == "problem" && e.entity_id == id)
        .collect()
}

fn review(approve: bool, reasons: &str) -> Value {
    json!({"approve": approve, "reasons": reasons, "sla_requirements_met": approve, "baseline_met": true, "notes": "Checked against SR-1/SR-2."})
}

async fn known_error_ids(app: &TestApp, token: &str) -> Vec<String> {
    let list = ok(app.get("/api/v1/known-errors", token).await, StatusCode::OK).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn problems_a_workaround_on_a_high_ci_is_published_only_after_security_approval() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let (svc, db) = payroll(&app).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let secret = "Copy the salary export to the shared drive, then rerun the import.";

        let p = ok(app.send_json(Method::POST, "/api/v1/problems", &agent,
            &json!({"title": "Payroll import fails nightly", "description": "The import job stops at 02:00.", "service": svc, "cis": [db]})).await, StatusCode::CREATED).await;
        let id = p["id"].as_str().unwrap().to_string();
        let base = format!("/api/v1/problems/{id}");
        assert_eq!(p["reference"], "PRB-000001", "{backend}");
        assert_eq!(p["status"], "new");
        assert_eq!(
            p["security_review_required"], true,
            "{backend}: C=high needs review"
        );
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/problems",
                &auditor,
                &json!({"title": "x"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;

        let p = ok(
            app.send_json(
                Method::PUT,
                &format!("{base}/workaround"),
                &agent,
                &json!({"text": secret}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "draft");

        // Publishing before approval is refused with the gate's own problem type.
        let refused = problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(
            refused["type"], "https://custos.dev/problems/security-review-required",
            "{backend}"
        );
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("security manager"),
            "{refused}"
        );
        let p = ok(app.get(&base, &agent).await, StatusCode::OK).await;
        assert_eq!(p["workaround"]["state"], "draft", "nothing changed");
        assert!(known_error_ids(&app, &agent).await.is_empty());

        // Only a security manager reviews; nothing to review before submission.
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/review"),
                &agent,
                &review(true, ""),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/review"),
                &sm,
                &review(true, ""),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let p = ok(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/submit"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "pending_review");
        let asked: Vec<Event> = events_of(&app, &id)
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::ApprovalRequested)
            .collect();
        assert_eq!(asked.len(), 1, "{backend}");
        assert_eq!(asked[0].reference, "PRB-000001");
        assert_eq!(asked[0].roles, vec![Role::SecurityManager]);
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/review"),
                &agent,
                &review(true, ""),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;

        // A rejection needs reasons, and goes back with them.
        let bad = problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/review"),
                &sm,
                &review(false, " "),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "reasons");
        let p = ok(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/review"),
                &sm,
                &review(
                    false,
                    "Copying salary data to the shared drive breaks SR-1.",
                ),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "rejected", "{backend}");
        assert_eq!(p["workaround"]["review"]["decision"], "rejected");
        assert_eq!(
            p["workaround"]["review"]["reasons"],
            "Copying salary data to the shared drive breaks SR-1."
        );
        let decided: Vec<Event> = events_of(&app, &id)
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::ApprovalDecided)
            .collect();
        assert_eq!(decided.len(), 1);
        assert!(
            decided[0].users.contains(&agent_user.id),
            "the author hears of it"
        );
        let refused = problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            refused["detail"].as_str().unwrap().contains("rejected"),
            "{refused}"
        );

        // A new text, submitted and approved with the recorded check, publishes.
        let fixed = "Rerun the import from the encrypted staging area (runbook PAY-7).";
        ok(
            app.send_json(
                Method::PUT,
                &format!("{base}/workaround"),
                &agent,
                &json!({"text": fixed}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/submit"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let mut unconfirmed = review(true, "");
        unconfirmed["baseline_met"] = json!(false);
        let bad = problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/review"),
                &sm,
                &unconfirmed,
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "baseline_met");
        let p = ok(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/review"),
                &sm,
                &review(true, ""),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "approved", "{backend}");
        let r = &p["workaround"]["review"];
        assert_eq!(r["sla_requirements_met"], true);
        assert_eq!(r["baseline_met"], true);
        assert_eq!(r["notes"], "Checked against SR-1/SR-2.");
        let checked: Vec<&Value> = r["check"]["cis"].as_array().unwrap().iter().collect();
        assert_eq!(checked.len(), 2, "the service and the CI: {r}");
        let pay_db = checked
            .iter()
            .find(|c| c["ci"] == db.to_string())
            .expect("pay-db checked");
        assert_eq!(pay_db["confidentiality"], "high");
        assert!(
            pay_db["required"].is_number()
                && pay_db["failed"].is_number()
                && pay_db["missing"].is_number()
        );
        let services = r["check"]["services"].as_array().unwrap();
        assert_eq!(services.len(), 1, "{r}");
        assert_eq!(services[0]["name"], "Payroll");
        assert_eq!(services[0]["slas"], json!(["Payroll SLA"]));
        assert_eq!(services[0]["requirements"], json!(["SR-1", "SR-2"]));
        let check = ok(
            app.get(&format!("{base}/security-check"), &auditor).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            check["services"][0]["requirements"],
            json!(["SR-1", "SR-2"])
        );

        let p = ok(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "published", "{backend}");
        assert_eq!(known_error_ids(&app, &agent).await, vec![id.clone()]);
        let listed = ok(
            app.get("/api/v1/problems?known_error=true&q=staging", &agent)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            listed["items"].as_array().unwrap().len(),
            1,
            "{backend}: full-text over the workaround"
        );
        ok(
            app.send_json(
                Method::PATCH,
                &base,
                &agent,
                &json!({"status": "investigating"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let p = ok(app.send_json(Method::PATCH, &base, &agent, &json!({"status": "known_error", "root_cause": "Import runs before the export completes."})).await, StatusCode::OK).await;
        assert_eq!(p["status"], "known_error");
        assert_eq!(
            p["reviews"].as_array().unwrap().len(),
            2,
            "history keeps the rejection"
        );
        assert_eq!(p["reviews"][0]["decision"], "rejected");

        // Changing the text voids the approval and withdraws the known error.
        let p = ok(
            app.send_json(
                Method::PUT,
                &format!("{base}/workaround"),
                &agent,
                &json!({"text": "Something else."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "draft", "{backend}");
        assert_eq!(p["status"], "investigating");
        assert!(known_error_ids(&app, &agent).await.is_empty());
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;

        // The audit trail records every step without the texts.
        app.seal().await;
        let audit = app
            .store
            .list_audit(
                &custos_core::store::AuditFilter {
                    entity_type: Some("problem".into()),
                    entity_id: Some(id.clone()),
                    ..Default::default()
                },
                custos_core::page::PageRequest::first(100),
            )
            .await
            .unwrap();
        let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "problem.create",
            "problem.workaround.edit",
            "problem.workaround.submit",
            "problem.workaround.review",
            "problem.workaround.publish",
            "problem.update",
        ] {
            assert!(actions.contains(&a), "{backend}: {a} in {actions:?}");
        }
        let dump =
            serde_json::to_string(&audit.items.iter().map(|e| &e.changes).collect::<Vec<_>>())
                .unwrap();
        assert!(
            !dump.contains("salary export")
                && !dump.contains("staging area")
                && !dump.contains("breaks SR-1"),
            "{dump}"
        );
    }
}

#[tokio::test]
async fn problems_on_low_cis_publish_without_review_and_security_risk_forces_it() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let printer = ci(&app, "server", "print-srv-3").await;
        let agent = app.token_for(&[Role::Agent]).await;
        let p = ok(
            app.send_json(
                Method::POST,
                "/api/v1/problems",
                &agent,
                &json!({"title": "Printer queue stalls", "cis": [printer]}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let id = p["id"].as_str().unwrap().to_string();
        let base = format!("/api/v1/problems/{id}");
        assert_eq!(p["security_review_required"], false, "{backend}");
        ok(
            app.send_json(
                Method::PUT,
                &format!("{base}/workaround"),
                &agent,
                &json!({"text": "Restart the spooler."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let p = ok(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "published", "{backend}");
        assert!(p["workaround"]["review"].is_null());
        assert_eq!(known_error_ids(&app, &agent).await, vec![id.clone()]);
        assert!(
            events_of(&app, &id)
                .await
                .iter()
                .all(|e| e.kind != EventKind::SecurityRisk)
        );

        // Marking it as introducing security risk involves the security manager, withdraws
        // the unreviewed workaround and forces a review.
        let p = ok(
            app.send_json(
                Method::PATCH,
                &base,
                &agent,
                &json!({"introduces_security_risk": true}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["security_review_required"], true, "{backend}");
        assert_eq!(p["workaround"]["state"], "draft");
        assert!(known_error_ids(&app, &agent).await.is_empty());
        let risk: Vec<Event> = events_of(&app, &id)
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::SecurityRisk)
            .collect();
        assert_eq!(risk.len(), 1, "{backend}");
        assert_eq!(risk[0].roles, vec![Role::SecurityManager]);
        assert!(risk[0].confidential);
        let refused = problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(
            refused["type"],
            "https://custos.dev/problems/security-review-required"
        );

        // Flagged at creation: the event is there at once, with the new reference.
        let p = ok(app.send_json(Method::POST, "/api/v1/problems", &agent,
            &json!({"title": "Scanner uploads unauthenticated", "cis": [printer], "introduces_security_risk": true})).await, StatusCode::CREATED).await;
        let id2 = p["id"].as_str().unwrap().to_string();
        let risk: Vec<Event> = events_of(&app, &id2)
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::SecurityRisk)
            .collect();
        assert_eq!(risk.len(), 1, "{backend}");
        assert_eq!(risk[0].reference, p["reference"].as_str().unwrap());
        assert_eq!(p["security_review_required"], true);
        // Four eyes: a security manager does not approve a text they wrote.
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let base2 = format!("/api/v1/problems/{id2}");
        ok(
            app.send_json(
                Method::PUT,
                &format!("{base2}/workaround"),
                &sm,
                &json!({"text": "Block the scanner VLAN."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &format!("{base2}/workaround/submit"),
                &sm,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let own = problem(
            app.send_json(
                Method::POST,
                &format!("{base2}/workaround/review"),
                &sm,
                &review(true, ""),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            own["detail"]
                .as_str()
                .unwrap()
                .contains("another security manager"),
            "{own}"
        );
        let other = app.token_for(&[Role::SecurityManager]).await;
        let p = ok(
            app.send_json(
                Method::POST,
                &format!("{base2}/workaround/review"),
                &other,
                &review(true, ""),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["workaround"]["state"], "approved", "{backend}");
        assert_eq!(p["workaround"]["review"]["security_risk"], true);

        // A solution on an unclassified CI resolves the problem without review.
        let p = ok(
            app.send_json(
                Method::POST,
                "/api/v1/problems",
                &agent,
                &json!({"title": "Toner alerts wrong", "cis": [printer]}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let base3 = format!("/api/v1/problems/{}", p["id"].as_str().unwrap());
        let bad = problem(
            app.send_json(
                Method::PATCH,
                &base3,
                &agent,
                &json!({"status": "resolved"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            bad["detail"].as_str().unwrap().contains("new to resolved"),
            "{bad}"
        );
        ok(
            app.send_json(
                Method::PATCH,
                &base3,
                &agent,
                &json!({"status": "investigating"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let bad = problem(
            app.send_json(
                Method::PATCH,
                &base3,
                &agent,
                &json!({"status": "resolved"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "status");
        ok(
            app.send_json(
                Method::PUT,
                &format!("{base3}/solution"),
                &agent,
                &json!({"text": "Firmware 4.2."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &format!("{base3}/solution/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let p = ok(
            app.send_json(
                Method::PATCH,
                &base3,
                &agent,
                &json!({"status": "resolved"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p["status"], "resolved", "{backend}");
    }
}

#[tokio::test]
async fn problems_bad_input_is_a_problem_json_and_changes_nothing() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let srv = ci(&app, "server", "srv-x").await;
        let post = |body: Value| {
            let (app, agent) = (&app, &agent);
            async move {
                app.send_json(Method::POST, "/api/v1/problems", agent, &body)
                    .await
            }
        };
        let bad = problem(
            post(json!({"title": "x", "cis": [uuid::Uuid::now_v7()]})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "cis");
        let bad = problem(
            post(json!({"title": "x", "service": srv})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "service");
        let bad = problem(post(json!({"title": " "})).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(bad["field"], "title");
        let bad = problem(
            post(json!({"title": "x", "extra": 1})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "extra");
        let bad = problem(
            app.get("/api/v1/problems?status=open", &agent).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "status");
        problem(
            app.get("/api/v1/problems/not-a-uuid", &agent).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get(
                &format!("/api/v1/problems/{}", uuid::Uuid::now_v7()),
                &agent,
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let listed = ok(app.get("/api/v1/problems", &agent).await, StatusCode::OK).await;
        assert!(
            listed["items"].as_array().unwrap().is_empty(),
            "nothing was stored"
        );
        let p = ok(
            post(json!({"title": "Disk fills", "cis": [srv]})).await,
            StatusCode::CREATED,
        )
        .await;
        let base = format!("/api/v1/problems/{}", p["id"].as_str().unwrap());
        let bad = problem(
            app.send_json(
                Method::PATCH,
                &base,
                &agent,
                &json!({"cis": [uuid::Uuid::now_v7()]}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "cis");
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/submit"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        ok(
            app.send_json(Method::PATCH, &base, &agent, &json!({"status": "closed"}))
                .await,
            StatusCode::OK,
        )
        .await;
        problem(
            app.send_json(
                Method::PUT,
                &format!("{base}/workaround"),
                &agent,
                &json!({"text": "late"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let p = ok(app.get(&base, &agent).await, StatusCode::OK).await;
        assert_eq!(p["cis"], json!([srv]));
        assert_eq!(p["workaround"]["text"], "");
    }
}

#[tokio::test]
async fn problems_link_only_incidents_the_caller_may_see() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let reporter = app
            .user("reporter@example.org", &[Role::Requester], None)
            .await;
        let open = incident(&app, reporter.id, "Payroll import slow", false).await;
        let hidden = incident(&app, reporter.id, "Salary data exposed", true).await;
        let agent = app.token_for(&[Role::Agent]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let p = ok(
            app.send_json(
                Method::POST,
                "/api/v1/problems",
                &agent,
                &json!({"title": "Import problems"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let base = format!("/api/v1/problems/{}", p["id"].as_str().unwrap());

        ok(
            app.send_json(
                Method::POST,
                &format!("{base}/incidents"),
                &agent,
                &json!({"incident_id": open}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &format!("{base}/incidents"),
                &agent,
                &json!({"incident_id": open}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        // A security incident outside the agent's need-to-know: as if it did not exist.
        let nf = problem(
            app.send_json(
                Method::POST,
                &format!("{base}/incidents"),
                &agent,
                &json!({"incident_id": hidden}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(nf["detail"], "incident not found");
        ok(
            app.send_json(
                Method::POST,
                &format!("{base}/incidents"),
                &sm,
                &json!({"incident_id": hidden}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;

        let seen_by_agent = app.get(&base, &agent).await.text().await.unwrap();
        let v: Value = serde_json::from_str(&seen_by_agent).unwrap();
        let linked = v["linked_incidents"].as_array().unwrap();
        assert_eq!(linked.len(), 1, "{backend}");
        assert_eq!(linked[0]["id"], open.to_string());
        assert!(
            !seen_by_agent.contains(&hidden.to_string()) && !seen_by_agent.contains("Salary data"),
            "{seen_by_agent}"
        );
        let v = ok(app.get(&base, &sm).await, StatusCode::OK).await;
        assert_eq!(
            v["linked_incidents"].as_array().unwrap().len(),
            2,
            "{backend}"
        );
        assert!(
            v["linked_incidents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["security"] == true)
        );

        // The problems of an incident: a filter of the list, under need-to-know.
        let of = |token: &str, incident: String| {
            let (app, token) = (&app, token.to_string());
            async move {
                app.get(&format!("/api/v1/problems?incident={incident}"), &token)
                    .await
            }
        };
        let listed = ok(of(&agent, open.to_string()).await, StatusCode::OK).await;
        assert_eq!(listed["items"][0]["id"], p["id"], "{backend}");
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{backend}");
        let nf = problem(of(&agent, hidden.to_string()).await, StatusCode::NOT_FOUND).await;
        assert_eq!(
            nf["detail"], "incident not found",
            "{backend}: no trace of the link"
        );
        let listed = ok(of(&sm, hidden.to_string()).await, StatusCode::OK).await;
        assert_eq!(listed["items"][0]["id"], p["id"], "{backend}");
        let bad = problem(of(&agent, "x7".into()).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(bad["field"], "incident");
        let none = ok(
            of(
                &agent,
                incident(&app, reporter.id, "Unrelated", false)
                    .await
                    .to_string(),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(none["items"].as_array().unwrap().is_empty(), "{backend}");

        // The agent can neither unlink nor probe it; the security manager can.
        problem(
            app.delete(&format!("{base}/incidents/{hidden}"), &agent)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        ok(
            app.delete(&format!("{base}/incidents/{hidden}"), &sm).await,
            StatusCode::NO_CONTENT,
        )
        .await;
        problem(
            app.delete(&format!("{base}/incidents/{hidden}"), &sm).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        ok(
            app.delete(&format!("{base}/incidents/{open}"), &agent)
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let v = ok(app.get(&base, &sm).await, StatusCode::OK).await;
        assert!(v["linked_incidents"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn problems_applying_a_published_workaround_adds_a_work_note() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let reporter = app.user("rep@example.org", &[Role::Requester], None).await;
        let inc = incident(&app, reporter.id, "Cannot print payslips", false).await;
        let hidden = incident(&app, reporter.id, "Printer exfiltrates scans", true).await;
        let printer = ci(&app, "server", "print-srv-1").await;
        let agent = app.token_for(&[Role::Agent]).await;
        let p = ok(
            app.send_json(
                Method::POST,
                "/api/v1/problems",
                &agent,
                &json!({"title": "Spooler hangs", "cis": [printer]}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let reference = p["reference"].as_str().unwrap().to_string();
        let base = format!("/api/v1/problems/{}", p["id"].as_str().unwrap());
        ok(
            app.send_json(
                Method::PUT,
                &format!("{base}/workaround"),
                &agent,
                &json!({"text": "Restart the spooler service."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/apply"),
                &agent,
                &json!({"incident_id": inc}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(
            app.store.notes(inc, false).await.unwrap().is_empty(),
            "refused: no note"
        );
        ok(
            app.send_json(
                Method::POST,
                &format!("{base}/workaround/publish"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let note = ok(
            app.send_json(
                Method::POST,
                &format!("{base}/apply"),
                &agent,
                &json!({"incident_id": inc}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(note["kind"], "work_note", "{backend}");
        let notes = app.store.notes(inc, false).await.unwrap();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].body.contains(&reference)
                && notes[0].body.contains("Restart the spooler service."),
            "{}",
            notes[0].body
        );
        problem(
            app.send_json(
                Method::POST,
                &format!("{base}/apply"),
                &agent,
                &json!({"incident_id": hidden}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert!(app.store.notes(hidden, false).await.unwrap().is_empty());
    }
}

/// A problem stored directly (no CIs, so no review needed), for the route matrix and the
/// fuzzer.
pub async fn problem_record(app: &TestApp, title: &str) -> custos_core::ProblemId {
    let f = custos_core::problem::ProblemFields {
        title: title.into(),
        description: String::new(),
        service: None,
        cis: vec![],
        assignee: None,
        root_cause: String::new(),
        introduces_security_risk: false,
    };
    let w = custos_core::store::ProblemWrite {
        problem: custos_core::problem::Problem::new(f, None, Timestamp::now()),
        actor: Actor::System("test"),
        audit_action: "problem.create",
        changes: json!({}),
        events: vec![],
        review: None,
    };
    app.store.create_problem(w).await.unwrap().id
}
