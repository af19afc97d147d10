//! Incident management through the API: recognition of security incidents (SLA criteria,
//! failed controls, ordinary incidents), SLA clocks in the service calendar with holds,
//! need-to-know on every route that returns incidents (admins included), external
//! communications under a security manager's approval, the security procedure's gates,
//! major incidents, evidence, and the notification outbox.

use crate::helpers::*;
use custos_core::account::Role;
use custos_core::authz::Actor;
use custos_core::cmdb::{CiInput, Lifecycle, RelType};
use custos_core::{CiId, ControlId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct World {
    pub svc: CiId,
    pub srv: CiId,
    pub other: CiId,
    pub base: ControlId,
    pub owner: String,
    pub sla_reader: custos_core::account::User,
    /// The customer's representative (token), the agreed SLA's id, and its terms.
    pub rep: String,
    pub sla: String,
    pub terms: Value,
}

/// Payroll (service) → app → server, an unrelated printer, Mon–Fri 08–18 Amsterdam
/// service hours, and an agreed SLA: data_leak is a security incident, C=high, control
/// failures count, one authorised user.
pub async fn world(app: &TestApp) -> World {
    let actor = Actor::System("test");
    let mk = |t: &str, n: &str| CiInput::new(t, n, None, Lifecycle::Active, json!({})).unwrap();
    let mut ids = vec![];
    for (t, n) in [
        ("business_service", "Payroll"),
        ("application", "Payroll app"),
        ("server", "pay-srv-01"),
        ("endpoint", "Printer 3rd floor"),
    ] {
        ids.push(app.store.create_ci(&actor, mk(t, n)).await.unwrap().ci.id);
    }
    for (a, b, r) in [(0, 1, RelType::DependsOn), (1, 2, RelType::RunsOn)] {
        app.store
            .add_relationship(&actor, ids[a], ids[b], r)
            .await
            .unwrap();
    }
    let base = app.control("inc-base").await;
    let (owner_user, owner) = app.user_with_token(&[Role::ServiceOwner]).await;
    let (rep_user, rep) = app.user_with_token(&[Role::CustomerRepresentative]).await;
    let (sla_reader, _) = app.user_with_token(&[Role::Agent]).await;
    let c = ok(
        app.send_json(
            Method::POST,
            "/api/v1/customers",
            &owner,
            &json!({"name": "Finance", "kind": "internal", "representatives": [rep_user.id.to_string()]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let days: Vec<Value> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| json!({"day": d, "start": "08:00", "end": "18:00"}))
        .collect();
    let hours = json!({"time_zone": "Europe/Amsterdam", "windows": days, "holidays": []});
    ok(
        app.send_json(
            Method::PUT,
            &format!("/api/v1/services/{}", ids[0]),
            &owner,
            &json!({"description": "Salaries", "owner_id": owner_user.id.to_string(), "hours": hours}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let terms = json!({
        "name": "Payroll SLA",
        "customer_id": c["id"],
        "service_id": ids[0].to_string(),
        "valid_from": "2020-01-01",
        "valid_to": "2099-12-31",
        "targets": {"availability_pct": 99.5, "priorities": [
            {"response_minutes": 15, "resolution_minutes": 240}, {"response_minutes": 30, "resolution_minutes": 480},
            {"response_minutes": 240, "resolution_minutes": 1440}, {"response_minutes": 480, "resolution_minutes": 4800}]},
        "security": {
            "classification": {"confidentiality": "high", "integrity": "moderate", "availability": null},
            "requirements": [{"key": "SR-1", "text": "Hardening", "controls": [base.to_string()]}],
            "incident_criteria": {"categories": ["data_leak"], "affected_levels": [], "control_failures": true, "keywords": []},
            "authorised_users": [sla_reader.id.to_string()],
            "reporting": "monthly"
        }
    });
    let sla = ok(
        app.send_json(Method::POST, "/api/v1/slas", &owner, &terms)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let agree = format!("/api/v1/slas/{}/agree", sla["id"].as_str().unwrap());
    ok(
        app.send_json(Method::POST, &agree, &rep, &json!({"side": "customer"}))
            .await,
        StatusCode::OK,
    )
    .await;
    ok(
        app.send_json(Method::POST, &agree, &owner, &json!({"side": "owner"}))
            .await,
        StatusCode::OK,
    )
    .await;
    World {
        svc: ids[0],
        srv: ids[2],
        other: ids[3],
        base,
        owner,
        sla_reader,
        rep,
        sla: sla["id"].as_str().unwrap().to_string(),
        terms,
    }
}

pub async fn report(app: &TestApp, token: &str, body: Value) -> Value {
    ok(
        app.send_json(Method::POST, "/api/v1/incidents", token, &body)
            .await,
        StatusCode::CREATED,
    )
    .await
}

fn rules(i: &Value) -> Vec<String> {
    i["security"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Need-to-know follows the SLA in force: when a new version with other authorised
/// personnel is agreed, people taken off the list lose sight of the service's existing
/// security incidents and people put on it gain it, without touching the incidents.
/// How many `incident.sla_access` audit entries there are.
async fn sla_access_entries(app: &TestApp) -> usize {
    let audit = ok(
        app.get(
            "/api/v1/audit?action=incident.sla_access",
            &app.token_for(&[Role::Auditor]).await,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    audit["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn need_to_know_follows_the_sla_in_force() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let before = app.token_of(w.sla_reader.id).await;
        let (newcomer_user, newcomer) = app.user_with_token(&[Role::Agent]).await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let leak = report(&app, &sm, json!({"title": "Salary file on a public share", "category": "data_leak", "impact": "high", "urgency": "high", "service": w.svc.to_string()})).await;
        let url = format!("/api/v1/incidents/{}", leak["id"].as_str().unwrap());
        let sees = |token: String| {
            let (app, url) = (&app, url.clone());
            async move { app.get(&url, &token).await.status() == StatusCode::OK }
        };
        assert!(sees(before.clone()).await, "{backend}: authorised under v1");
        assert!(!sees(newcomer.clone()).await, "{backend}");
        assert!(!sees(auditor.clone()).await, "{backend}");

        // Version 2: the newcomer instead of the old reader, and auditors by role.
        let draft = ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/slas/{}/versions", w.sla),
                &w.owner,
                &json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let draft = draft["id"].as_str().unwrap().to_string();
        let mut terms = w.terms.clone();
        terms["security"]["authorised_users"] = json!([newcomer_user.id.to_string()]);
        terms["security"]["authorised_roles"] = json!(["auditor"]);
        ok(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/slas/{draft}"),
                &w.owner,
                &terms,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let agree = format!("/api/v1/slas/{draft}/agree");
        ok(
            app.send_json(Method::POST, &agree, &w.rep, &json!({"side": "customer"}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            sees(before.clone()).await,
            "{backend}: one side's agreement changes nothing yet"
        );
        ok(
            app.send_json(Method::POST, &agree, &w.owner, &json!({"side": "owner"}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(!sees(before).await, "{backend}: taken off the list");
        assert!(sees(newcomer.clone()).await, "{backend}: put on the list");
        assert!(sees(auditor.clone()).await, "{backend}: authorised by role");
        assert_eq!(
            sla_access_entries(&app).await,
            1,
            "{backend}: one audit entry for the change"
        );

        // Version 3, agreed ahead of its start (2098-01-01), gives the old reader back.
        // Agreeing it supersedes version 2 at once, so until the start no SLA grants access.
        let draft3 = ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/slas/{draft}/versions"),
                &w.owner,
                &json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let draft3 = draft3["id"].as_str().unwrap().to_string();
        let mut terms3 = w.terms.clone();
        terms3["valid_from"] = json!("2098-01-01");
        terms3["security"]["authorised_users"] = json!([w.sla_reader.id.to_string()]);
        terms3["security"]["authorised_roles"] = json!([]);
        ok(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/slas/{draft3}"),
                &w.owner,
                &terms3,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let agree3 = format!("/api/v1/slas/{draft3}/agree");
        for (token, side) in [(&w.rep, "customer"), (&w.owner, "owner")] {
            ok(
                app.send_json(Method::POST, &agree3, token, &json!({"side": side}))
                    .await,
                StatusCode::OK,
            )
            .await;
        }
        let reader = app.token_of(w.sla_reader.id).await;
        assert!(!sees(reader.clone()).await, "{backend}: not in force yet");
        assert!(
            !sees(newcomer.clone()).await,
            "{backend}: version 2 superseded"
        );
        let start = custos_core::Timestamp(4_039_459_200_000); // 2098-01-02
        custos_server::service_levels::scheduled_reports(app.store.as_ref(), start)
            .await
            .unwrap();
        assert!(
            sees(reader.clone()).await,
            "{backend}: in force from its start"
        );
        assert!(!sees(newcomer.clone()).await, "{backend}");
        assert!(!sees(auditor.clone()).await, "{backend}");
        let logged = sla_access_entries(&app).await;
        custos_server::service_levels::scheduled_reports(app.store.as_ref(), start)
            .await
            .unwrap();
        assert_eq!(
            sla_access_entries(&app).await,
            logged,
            "{backend}: a repeated pass changes nothing"
        );

        // Once the SLA has expired (valid to 2099-12-31), it grants nothing any more.
        let after_end = custos_core::Timestamp(4_102_531_200_000); // 2100-01-02
        custos_server::service_levels::scheduled_reports(app.store.as_ref(), after_end)
            .await
            .unwrap();
        assert!(!sees(reader).await, "{backend}: expired SLA");
        assert!(!sees(newcomer).await, "{backend}: expired SLA");
        assert!(!sees(auditor).await, "{backend}: expired SLA, by role");
        assert!(sees(sm).await, "{backend}: the security team still sees it");
    }
}

#[tokio::test]
async fn incidents_are_recognised_as_security_incidents_by_sla_and_baseline() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let agent = app.token_for(&[Role::Agent]).await;
        let requester = app.token_for(&[Role::Requester]).await;

        // (a) the SLA says data_leak is a security incident.
        let leak = report(&app, &requester, json!({"title": "Payslips e-mailed to the wrong team", "category": "data_leak", "impact": "medium", "urgency": "high", "service": w.svc.to_string()})).await;
        assert!(
            leak["security"]["reasons"].as_array().unwrap().is_empty(),
            "a requester does not see the analysis"
        );
        let leak = ok(
            app.get(
                &format!("/api/v1/incidents/{}", leak["id"].as_str().unwrap()),
                &agent,
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert!(
            leak.to_string().contains("not found"),
            "{backend}: an agent without need-to-know gets 404"
        );

        let sm = app.token_for(&[Role::SecurityManager]).await;
        let mine = ok(
            app.get("/api/v1/incidents?q=payslips", &sm).await,
            StatusCode::OK,
        )
        .await;
        let leak = &mine["items"][0];
        assert_eq!(leak["security"]["flagged"], true, "{backend}");
        assert!(
            rules(leak).contains(&"sla_category".to_string()),
            "{backend}: {leak}"
        );
        assert!(
            leak["security"]["reasons_text"][0]
                .as_str()
                .unwrap()
                .contains("Payroll SLA")
        );
        assert_eq!(leak["security"]["phase"], "detection");
        assert_eq!(leak["priority"], "p2");
        assert_eq!(
            leak["reference"].as_str().unwrap().len(),
            "INC-000001".len()
        );

        // (b) a required control of an affected CI failed.
        ok(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/cis/{}/implementations/{}", w.srv, w.base),
                &agent,
                &json!({"status": "failed"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let failed = report(&app, &agent, json!({"title": "Server slow", "category": "performance", "impact": "low", "urgency": "low", "cis": [w.srv.to_string()]})).await;
        assert_eq!(failed["security"]["flagged"], true, "{backend}: {failed}");
        let r = rules(&failed);
        assert!(r.contains(&"baseline_failed_control".to_string()), "{r:?}");
        assert!(
            failed["security"]["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["control"] == w.base.to_string()),
            "the reason names the control"
        );

        // An ordinary incident is not flagged.
        let plain = report(&app, &agent, json!({"title": "Printer jammed", "category": "hardware", "impact": "low", "urgency": "medium", "cis": [w.other.to_string()]})).await;
        assert_eq!(plain["security"]["flagged"], false, "{backend}");
        assert!(plain["security"]["reasons"].as_array().unwrap().is_empty());

        // Agents flag by hand with a reason; only a security manager unflags.
        let id = plain["id"].as_str().unwrap();
        problem(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/flag"),
                &agent,
                &json!({"reason": " "}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let flagged = ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/flag"),
                &agent,
                &json!({"reason": "Toner cartridge tampered"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            flagged["security"]["manual_flag"]["reason"],
            "Toner cartridge tampered"
        );
        // The flagging agent is not the assignee: it loses sight of it, as anyone without need-to-know.
        problem(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/unflag"),
                &agent,
                &json!({"reason": "x"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/unflag"),
                &sm,
                &json!({"reason": ""}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let un = ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/unflag"),
                &sm,
                &json!({"reason": "Ordinary jam, checked on site"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(un["security"]["flagged"], false);
        assert_eq!(
            un["security"]["unflagged"]["reason"],
            "Ordinary jam, checked on site"
        );
        app.seal().await;
        let audit = ok(
            app.get(
                &format!("/api/v1/audit?entity_type=incident&entity_id={id}"),
                &app.token_for(&[Role::Auditor]).await,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"incident.flag") && actions.contains(&"incident.unflag"),
            "{backend}: {actions:?}"
        );

        // Every recognition notified the security team through the outbox.
        let events = app.store.pending_events(100).await.unwrap();
        let flagged_events = events
            .iter()
            .filter(|(_, _, e)| e.kind == custos_core::notify::EventKind::SecurityFlagged)
            .count();
        assert!(flagged_events >= 3, "{backend}: {flagged_events}");
        assert!(
            events
                .iter()
                .all(|(_, _, e)| !e.reference.contains("pending")),
            "references are filled in"
        );
    }
}

#[tokio::test]
async fn a_user_without_need_to_know_gets_no_trace_of_a_security_incident() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let (assignee_user, assignee) = app.user_with_token(&[Role::Agent]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let admin = app.token_for(&[Role::Admin]).await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let owner = w.owner.clone();
        let sla_reader = app.token_of(w.sla_reader.id).await;
        let (added_user, added) = app.user_with_token(&[Role::Agent]).await;

        // Reported by the security manager (who sees it as the security team).
        let secret = report(&app, &sm, json!({"title": "Exfiltration zebracorn of payroll data", "category": "data_leak", "impact": "high", "urgency": "high", "service": w.svc.to_string(), "assignee": assignee_user.id.to_string()})).await;
        let id = secret["id"].as_str().unwrap().to_string();
        let reference = secret["reference"].as_str().unwrap().to_string();
        let plain = report(&app, &agent, json!({"title": "Printer zebracorn jammed", "category": "hardware", "impact": "low", "urgency": "low", "cis": [w.other.to_string()]})).await;
        ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/notes"),
                &sm,
                &json!({"kind": "work_note", "body": "zebracorn forensic note"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        app.seal().await;

        // The reporting agent, an admin, an auditor and the service owner have no need-to-know.
        for (who, t) in [
            ("agent", &agent),
            ("admin", &admin),
            ("auditor", &auditor),
            ("owner", &owner),
        ] {
            // An admin reads no incidents but its own reports (it has none here).
            let others = usize::from(who != "admin");
            let body = ok(app.get("/api/v1/incidents", t).await, StatusCode::OK)
                .await
                .to_string();
            assert!(!body.contains(&id), "{backend} {who}: list");
            assert_eq!(
                body.contains(plain["id"].as_str().unwrap()),
                others == 1,
                "{backend} {who}: list"
            );
            let body = ok(
                app.get("/api/v1/incidents?q=zebracorn", t).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(
                body["items"].as_array().unwrap().len(),
                others,
                "{backend} {who}: search"
            );
            let c = ok(
                app.get("/api/v1/incidents/count?q=zebracorn", t).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(c["count"], others, "{backend} {who}: count");
            let c = ok(
                app.get("/api/v1/incidents/count?security=true", t).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(c["count"], 0, "{backend} {who}: security count");
            let csv = app
                .get("/api/v1/incidents?format=csv", t)
                .await
                .text()
                .await
                .unwrap();
            assert!(
                !csv.contains(&reference) && !csv.contains("Exfiltration"),
                "{backend} {who}: export"
            );
            for path in [
                format!("/api/v1/incidents/{id}"),
                format!("/api/v1/incidents/{reference}"),
                format!("/api/v1/incidents/{id}/notes"),
                format!("/api/v1/incidents/{id}/actions"),
                format!("/api/v1/incidents/{id}/attachments"),
                format!("/api/v1/incidents/{id}/timeline"),
                format!("/api/v1/incidents/{id}/access"),
            ] {
                let r = app.get(&path, t).await;
                assert!(
                    matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                    "{backend} {who}: {path} gave {}",
                    r.status()
                );
                let body = r.text().await.unwrap();
                assert!(
                    !body.contains("zebracorn") && !body.contains(&reference),
                    "{backend} {who}: {path}"
                );
            }
            // Writes reveal nothing either.
            let r = app
                .send_json(
                    Method::PATCH,
                    &format!("/api/v1/incidents/{id}"),
                    t,
                    &json!({"urgency": "low"}),
                )
                .await;
            assert!(
                matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                "{backend} {who}: patch"
            );
            let r = app
                .send_json(
                    Method::PUT,
                    &format!(
                        "/api/v1/incidents/{}/links/{id}",
                        plain["id"].as_str().unwrap()
                    ),
                    t,
                    &json!({}),
                )
                .await;
            assert!(
                matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                "{backend} {who}: link"
            );
            // The audit log hides the incident's entries.
            let a = app.get(&format!("/api/v1/audit?entity_id={id}"), t).await;
            if a.status() == StatusCode::OK {
                let a = ok(a, StatusCode::OK).await;
                assert!(
                    a["items"].as_array().unwrap().is_empty(),
                    "{backend} {who}: audit {a}"
                );
            }
        }
        let _ = agent_user;

        // Who has need-to-know sees it: the security team, the assignee, the SLA's
        // authorised personnel, and people added explicitly.
        for (who, t) in [
            ("security manager", &sm),
            ("assignee", &assignee),
            ("SLA authorised", &sla_reader),
        ] {
            let got = ok(
                app.get(&format!("/api/v1/incidents/{reference}"), t).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(got["id"], id.as_str(), "{backend} {who}");
        }
        problem(
            app.get(&format!("/api/v1/incidents/{id}"), &added).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/access"),
                &agent,
                &json!({"user": added_user.id.to_string()}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/access"),
                &sm,
                &json!({"user": added_user.id.to_string()}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        ok(
            app.get(&format!("/api/v1/incidents/{id}"), &added).await,
            StatusCode::OK,
        )
        .await;
        let notes = ok(
            app.get(&format!("/api/v1/incidents/{id}/notes"), &added)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(notes.to_string().contains("zebracorn forensic note"));
        ok(
            app.send_json(
                Method::DELETE,
                &format!("/api/v1/incidents/{id}/access/{}", added_user.id),
                &sm,
                &json!({}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        problem(
            app.get(&format!("/api/v1/incidents/{id}"), &added).await,
            StatusCode::NOT_FOUND,
        )
        .await;

        // The SLA report aggregates: it counts the security incident, without its content.
        let slas = ok(app.get("/api/v1/slas", &owner).await, StatusCode::OK).await;
        let sla_id = slas["items"][0]["id"].as_str().unwrap();
        let today = custos_core::time::Date::of(custos_core::Timestamp::now());
        let month = &today.as_str()[..7];
        let r = app
            .get(
                &format!("/api/v1/slas/{sla_id}/reports/{month}?format=json"),
                &owner,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("zebracorn") && !body.contains(&reference),
            "{backend}: the report leaks no content"
        );
    }
}

/// Follows `next_cursor` from `first` to the end, returning every item's title in order.
async fn all_pages(app: &TestApp, token: &str, first: &str) -> Vec<String> {
    let mut titles = Vec::new();
    let mut url = first.to_string();
    loop {
        let page = ok(app.get(&url, token).await, StatusCode::OK).await;
        for i in page["items"].as_array().unwrap() {
            titles.push(i["title"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{first}&cursor={c}"),
            None => return titles,
        }
    }
}

#[tokio::test]
async fn searches_and_open_queues_page_newest_first_without_gaps_or_repeats() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let agent = app.token_for(&[Role::Agent]).await;
        let group = ok(
            app.send_json(
                Method::POST,
                "/api/v1/groups",
                &app.token_for(&[Role::Admin]).await,
                &json!({"name": "Queue"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let g = group["id"].as_str().unwrap();
        let mut ids = Vec::new();
        for k in 0..7 {
            let i = report(
                &app,
                &agent,
                json!({"title": format!("Quokka sighting {k}"), "description": "seen near the printer",
                    "category": "other", "impact": "low", "urgency": "low", "group": g}),
            )
            .await;
            ids.push(i["id"].as_str().unwrap().to_string());
        }
        report(
            &app,
            &agent,
            json!({"title": "Unrelated", "description": "nothing", "category": "other",
                "impact": "low", "urgency": "low", "group": g}),
        )
        .await;
        let newest_first: Vec<String> = (0..7)
            .rev()
            .map(|k| format!("Quokka sighting {k}"))
            .collect();
        assert_eq!(
            all_pages(&app, &agent, "/api/v1/incidents?q=quokka&limit=3").await,
            newest_first,
            "{backend}: search pages"
        );
        assert_eq!(
            all_pages(&app, &agent, "/api/v1/incidents?q=quokka%20printer&limit=2").await,
            newest_first,
            "{backend}: every term must match"
        );
        let queue = all_pages(
            &app,
            &agent,
            &format!("/api/v1/incidents?open=true&group={g}&limit=3"),
        )
        .await;
        assert_eq!(queue.len(), 8, "{backend}: {queue:?}");
        assert_eq!(queue[0], "Unrelated", "{backend}");
        assert_eq!(&queue[1..], &newest_first[..], "{backend}");
        let count = ok(
            app.get("/api/v1/incidents/count?q=quokka", &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(count["count"], 7, "{backend}");

        // One read returns the links in both directions.
        let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
        for other in [b, c] {
            let r = app
                .send_json(
                    Method::PUT,
                    &format!("/api/v1/incidents/{a}/links/{other}"),
                    &agent,
                    &json!({}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT, "{backend}");
        }
        let links = |v: &Value| -> Vec<String> {
            let mut l: Vec<String> = v["links"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            l.sort();
            l
        };
        let read = |id: &String| format!("/api/v1/incidents/{id}");
        let got = ok(app.get(&read(a), &agent).await, StatusCode::OK).await;
        let mut want = vec![b.clone(), c.clone()];
        want.sort();
        assert_eq!(links(&got), want, "{backend}");
        let got = ok(app.get(&read(c), &agent).await, StatusCode::OK).await;
        assert_eq!(
            links(&got),
            vec![a.clone()],
            "{backend}: seen from the other side"
        );
        let r = app
            .delete(&format!("/api/v1/incidents/{c}/links/{a}"), &agent)
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{backend}");
        let got = ok(app.get(&read(a), &agent).await, StatusCode::OK).await;
        assert_eq!(links(&got), vec![b.clone()], "{backend}");

        // Create, read and list return the CIs as given: the affected service, which the
        // store keeps among them, is not added.
        let w = world(&app).await;
        let i = report(
            &app,
            &agent,
            json!({"title": "Wombat on the server", "description": "x", "category": "other",
                "impact": "low", "urgency": "low", "service": w.svc, "cis": [w.srv, w.other]}),
        )
        .await;
        let id = i["id"].as_str().unwrap().to_string();
        let got = ok(app.get(&read(&id), &agent).await, StatusCode::OK).await;
        let listed = ok(
            app.get("/api/v1/incidents?q=wombat", &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["cis"], listed["items"][0]["cis"], "{backend}");
        let mut want = vec![w.srv.to_string(), w.other.to_string()];
        want.sort();
        assert_eq!(got["cis"], json!(want), "{backend}");
        assert_eq!(i["cis"], json!(want), "{backend}");
    }
}

/// Stores `titles` as incidents reported by `me`, oldest first, in batches of 500.
async fn store_incidents(app: &TestApp, me: custos_core::UserId, titles: &[String]) {
    let ctx = custos_server::incidents::Context::default();
    for chunk in titles.chunks(500) {
        let mut batch = Vec::new();
        for title in chunk {
            let now = custos_core::Timestamp::now();
            let inc = plain_incident(title, "other", me, None, now);
            batch.push(create_write(inc, &ctx, now));
        }
        app.store.create_incidents(batch).await.unwrap();
    }
}

/// A search finds the newest matches among the newest few thousand incidents when they
/// fill the page (PostgreSQL's search window) and every older match when they do not.
#[tokio::test]
async fn a_search_finds_old_matches_behind_thousands_of_newer_incidents() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let (me, token) = app.user_with_token(&[Role::Agent]).await;
        let mut titles: Vec<String> = (0..3).map(|k| format!("Numbat ancient {k}")).collect();
        titles.extend((0..4_400).map(|k| format!("Filler {k}")));
        titles.extend((0..60).map(|k| format!("Numbat recent {k}")));
        store_incidents(&app, me.id, &titles).await;
        let want: Vec<String> = titles
            .iter()
            .rev()
            .filter(|t| t.starts_with("Numbat"))
            .cloned()
            .collect();
        assert_eq!(want.len(), 63);
        assert_eq!(
            all_pages(&app, &token, "/api/v1/incidents?q=numbat&limit=50").await,
            want,
            "{backend}: newest first, the old matches on the last page"
        );
        assert_eq!(
            all_pages(
                &app,
                &token,
                "/api/v1/incidents?q=numbat%20ancient&limit=50"
            )
            .await,
            want[60..].to_vec(),
            "{backend}: only old matches"
        );
    }
}

/// The search index is written behind the commit on SQLite (PostgreSQL in the create's
/// transaction): a search still finds an incident the moment it is created, finds a changed
/// title whether or not the incident was indexed yet, and indexing takes each incident once.
#[tokio::test]
async fn a_search_finds_new_and_changed_incidents_while_indexing_runs_behind() {
    // The jobs' indexing pass runs once at the start, then not within the test.
    for app in spawn_apps_with(|s| s.seal_interval_ms = 3_600_000).await {
        let backend = app.backend;
        while app.store.index_search(1000).await.unwrap() == 1000 {}
        let (me, token) = app.user_with_token(&[Role::Agent]).await;
        let body = |t: &str| json!({"title": t, "category": "software", "impact": "low", "urgency": "low"});
        let search = |q: &'static str| {
            let (app, token) = (&app, &token);
            async move { all_pages(app, token, &format!("/api/v1/incidents?q={q}&limit=50")).await }
        };
        let count = |q: &'static str| {
            let (app, token) = (&app, &token);
            async move {
                ok(
                    app.get(&format!("/api/v1/incidents/count?q={q}"), token)
                        .await,
                    StatusCode::OK,
                )
                .await["count"]
                    .clone()
            }
        };

        // Found at once, before any indexing pass; counted too.
        report(&app, &token, body("Wombat printer jams")).await;
        assert_eq!(search("wombat").await, ["Wombat printer jams"], "{backend}");
        assert_eq!(count("wombat").await, json!(1), "{backend}");

        // An indexed incident renamed: the index follows at once.
        let renamed = report(&app, &token, body("Quokka disk full")).await;
        assert_eq!(search("quokka").await.len(), 1, "{backend}");
        let patch = |id: &Value, title: &str| {
            let (app, token) = (&app, &token);
            let (path, body) = (
                format!("/api/v1/incidents/{}", id.as_str().unwrap()),
                json!({"title": title}),
            );
            async move {
                ok(
                    app.send_json(Method::PATCH, &path, token, &body).await,
                    StatusCode::OK,
                )
                .await
            }
        };
        patch(&renamed["id"], "Bilby disk full").await;
        assert!(
            search("quokka").await.is_empty(),
            "{backend}: the old title is gone"
        );
        assert_eq!(search("bilby").await, ["Bilby disk full"], "{backend}");

        // Renamed before it was indexed: indexed later with the title it has then.
        let now = custos_core::Timestamp::now();
        let inc = plain_incident("Dingo badge reader", "other", me.id, None, now);
        let stored = app
            .store
            .create_incidents(vec![create_write(inc, &Default::default(), now)])
            .await
            .unwrap();
        patch(&json!(stored[0].id.to_string()), "Echidna badge reader").await;
        let indexed = app.store.index_search(1000).await.unwrap();
        assert_eq!(
            indexed,
            if backend == "sqlite" { 1 } else { 0 },
            "{backend}: only the unindexed one"
        );
        assert_eq!(
            app.store.index_search(1000).await.unwrap(),
            0,
            "{backend}: nothing twice"
        );
        assert!(search("dingo").await.is_empty(), "{backend}");
        assert_eq!(
            search("echidna").await,
            ["Echidna badge reader"],
            "{backend}"
        );
        assert_eq!(search("badge").await, ["Echidna badge reader"], "{backend}");

        if let Some(path) = app.sqlite_path() {
            // The index holds exactly what the incidents say (FTS5 checks it against them).
            let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO incidents_fts (incidents_fts, rank) VALUES ('integrity-check', 1)",
            )
            .execute(&db)
            .await
            .expect("the search index matches the incidents");
            db.close().await;
        }
    }
}

/// The server's jobs index new incidents behind the commit, every `seal_interval_ms`.
#[tokio::test]
async fn the_jobs_index_new_incidents_for_search() {
    let app = spawn_apps().await.into_iter().next().unwrap();
    let path = app.sqlite_path().expect("the first app is on SQLite");
    let (me, _) = app.user_with_token(&[Role::Agent]).await;
    let now = custos_core::Timestamp::now();
    let inc = plain_incident("Platypus VPN", "other", me.id, None, now);
    app.store
        .create_incidents(vec![create_write(inc, &Default::default(), now)])
        .await
        .unwrap();
    let db = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let behind = || async {
        sqlx::query_as::<_, (i64,)>(
            "SELECT (SELECT MAX(rowid) FROM incidents) - upto FROM search_indexed WHERE name = 'incidents'",
        )
        .fetch_one(&db)
        .await
        .unwrap()
        .0
    };
    let start = std::time::Instant::now();
    while behind().await > 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "not indexed by the jobs"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.store.index_search(1000).await.unwrap(),
        0,
        "already indexed"
    );
    db.close().await;
}

/// On SQLite a server numbers new incidents from a counter it keeps. Another process
/// writing to the same file (the CLI, say) makes that counter stale; the unique number
/// catches it, the batch is numbered again, and nothing is lost or numbered twice — the
/// incident's audit entry and events carry the number it finally got.
#[tokio::test]
async fn incident_numbers_stay_unique_when_another_process_writes_the_database() {
    let app = spawn_apps().await.into_iter().next().unwrap();
    let path = app.sqlite_path().expect("the first app is on SQLite");
    let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
    let body =
        |t: &str| json!({"title": t, "category": "software", "impact": "low", "urgency": "low"});
    let first = report(&app, &agent, body("First")).await;
    let n = custos_core::ticket::parse_reference(first["reference"].as_str().unwrap()).unwrap();

    let other = custos_store::connect(
        &format!("sqlite:{}", path.display()),
        &custos_store::ConnectOptions::default(),
    )
    .await
    .unwrap();
    let now = custos_core::Timestamp::now();
    let inc = plain_incident("From elsewhere", "software", agent_user.id, None, now);
    let elsewhere = other
        .create_incidents(vec![create_write(inc, &Default::default(), now)])
        .await
        .unwrap();
    assert_eq!(elsewhere[0].number, n + 1);

    let third = report(&app, &agent, body("Third")).await;
    assert_eq!(
        third["reference"],
        custos_core::ticket::reference(n + 2),
        "{third}"
    );
    let fourth = report(&app, &agent, body("Fourth")).await;
    assert_eq!(fourth["reference"], custos_core::ticket::reference(n + 3));
    let admin = app.token_for(&[Role::Auditor]).await;
    let audit = ok(
        app.get(
            &format!(
                "/api/v1/audit?entity_type=incident&entity_id={}",
                third["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let entry = &audit["items"][0];
    assert_eq!(entry["action"], "incident.create", "{audit}");
    assert_eq!(
        entry["changes"]["reference"]["after"],
        custos_core::ticket::reference(n + 2)
    );
    for (title, number) in [
        ("First", n),
        ("From elsewhere", n + 1),
        ("Third", n + 2),
        ("Fourth", n + 3),
    ] {
        let got = ok(
            app.get(
                &format!(
                    "/api/v1/incidents/{}",
                    custos_core::ticket::reference(number)
                ),
                &agent,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["title"], title);
    }
}
