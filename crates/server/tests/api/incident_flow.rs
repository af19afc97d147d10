//! Working incidents through the API: SLA clocks in the service calendar (a P2 opened on
//! Friday 17:00 is due on Monday; on hold pauses), external communications released only
//! by a security manager, the security procedure's gates with hashed evidence, and major
//! incidents with their review.

use crate::helpers::*;
use crate::incidents::World;
use crate::incidents::report;
use crate::incidents::world;
use custos_core::account::Role;
use custos_core::authz::Actor;
use custos_core::incident::{Impact, IncidentFields, IncidentInput, Urgency};
use custos_core::ticket::Channel;
use custos_core::time::Date;
use custos_core::{Timestamp, UserId};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn utc(s: &str) -> Timestamp {
    custos_server::http::util::parse_rfc3339(s).unwrap()
}

/// Creates an incident opened at `at` through the same evaluation as the API.
async fn opened_at(app: &TestApp, w: &World, reporter: UserId, at: Timestamp) -> String {
    opened(app, w, reporter, at, "Payroll batch stuck", "software").await
}

/// [`opened_at`] with a title and category.
async fn opened(
    app: &TestApp,
    w: &World,
    reporter: UserId,
    at: Timestamp,
    title: &str,
    category: &str,
) -> String {
    let input = IncidentInput::new(
        IncidentFields {
            title: title.into(),
            description: String::new(),
            category: category.into(),
            impact: Impact::Medium,
            urgency: Urgency::High,
            service: Some(w.svc),
            cis: vec![],
        },
        reporter,
    )
    .unwrap();
    let inc = custos_server::incidents::records::new_incident(input, Channel::Api, None, None, at);
    let ctx =
        custos_server::incidents::context(app.store.as_ref(), Some(w.svc), &[], &Date::of(at))
            .await
            .unwrap();
    let w = crate::helpers::create_write(inc, &ctx, at);
    let created = app.store.create_incidents(vec![w]).await.unwrap();
    created[0].id.to_string()
}

/// Breaches feed the SLA report: an ordinary incident's breach is an exception of its own
/// (reference and link), a security incident's only a count, in JSON and CSV alike.
#[tokio::test]
async fn breaches_reach_the_sla_report_and_security_ones_only_as_a_count() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        // Friday 2026-11-20 17:00 in Amsterdam: both breach by Monday afternoon.
        let at = utc("2026-11-20T16:00:00Z");
        let plain = opened(
            &app,
            &w,
            agent_user.id,
            at,
            "Payroll batch stuck",
            "software",
        )
        .await;
        let secret = opened(
            &app,
            &w,
            agent_user.id,
            at,
            "Payslips zebracorn leaked",
            "data_leak",
        )
        .await;
        custos_server::incidents::tick_clocks(app.store.as_ref(), utc("2026-11-23T14:30:00Z"))
            .await
            .unwrap();
        let reference = |id: &str, token: &str| {
            let (app, path, token) = (&app, format!("/api/v1/incidents/{id}"), token.to_string());
            async move {
                let got = ok(app.get(&path, &token).await, StatusCode::OK).await;
                assert_eq!(got["clock"]["resolution"]["state"], "breached", "{got}");
                got["reference"].as_str().unwrap().to_string()
            }
        };
        let plain_ref = reference(&plain, &agent).await;
        let secret_ref = reference(&secret, &sm).await;

        let path = format!("/api/v1/slas/{}/reports/2026-11", w.sla);
        let report = ok(
            app.get(&format!("{path}?format=json"), &w.owner).await,
            StatusCode::OK,
        )
        .await;
        let text = report.to_string();
        let missed: Vec<&serde_json::Value> = report["report"]["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "missed_target")
            .collect();
        let own: Vec<_> = missed
            .iter()
            .filter(|e| e["title"].as_str().unwrap().starts_with(&plain_ref))
            .collect();
        assert_eq!(
            own.len(),
            2,
            "{backend}: response and resolution: {missed:?}"
        );
        assert_eq!(own[0]["link"], format!("/incidents/{plain}"));
        let hidden: Vec<_> = missed
            .iter()
            .filter(|e| e["title"] == "Security incidents")
            .collect();
        assert_eq!(hidden.len(), 1, "{backend}: {missed:?}");
        assert!(
            hidden[0]["detail"]
                .as_str()
                .unwrap()
                .starts_with("2 target(s)"),
            "{backend}: {hidden:?}"
        );
        assert!(
            !text.contains(&secret_ref) && !text.contains(&secret) && !text.contains("zebracorn"),
            "{backend}: no trace of the security incident"
        );
        let csv = app
            .get(&format!("{path}?format=csv"), &w.owner)
            .await
            .text()
            .await
            .unwrap();
        assert!(csv.contains(&plain_ref), "{backend}: {csv}");
        assert!(csv.contains("Security incidents"), "{backend}");
        assert!(!csv.contains(&secret_ref), "{backend}");
    }
}

#[tokio::test]
async fn sla_clocks_count_business_time_and_pause_on_hold() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        // Friday 2026-11-20 17:00 in Amsterdam (UTC+1).
        let id = opened_at(&app, &w, agent_user.id, utc("2026-11-20T16:00:00Z")).await;
        let got = ok(
            app.get(&format!("/api/v1/incidents/{id}"), &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["priority"], "p2", "{backend}");
        // P2: response 30 min → Friday 17:30; resolution 8 h → 1 h Friday + 7 h Monday → Monday 15:00.
        assert_eq!(
            got["clock"]["response"]["due_at"], "2026-11-20T16:30:00Z",
            "{backend}: {got}"
        );
        assert_eq!(
            got["clock"]["resolution"]["due_at"], "2026-11-23T14:00:00Z",
            "{backend}"
        );
        assert!(got["sla"].is_string(), "the clock counts the SLA's targets");

        // The job: Monday 13:30 local is past 75 %; Monday 15:30 local is past 100 %.
        let n =
            custos_server::incidents::tick_clocks(app.store.as_ref(), utc("2026-11-23T12:30:00Z"))
                .await
                .unwrap();
        assert!(n >= 1, "{backend}");
        let got = ok(
            app.get(&format!("/api/v1/incidents/{id}"), &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            got["clock"]["resolution"]["state"], "warning",
            "{backend}: {got}"
        );
        assert_eq!(got["clock"]["response"]["state"], "breached", "{backend}");
        custos_server::incidents::tick_clocks(app.store.as_ref(), utc("2026-11-23T14:30:00Z"))
            .await
            .unwrap();
        let got = ok(
            app.get(&format!("/api/v1/incidents/{id}"), &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["clock"]["resolution"]["state"], "breached", "{backend}");
        let events = app.store.pending_events(500).await.unwrap();
        let kinds: Vec<_> = events
            .iter()
            .filter(|(_, _, e)| e.entity_id == id)
            .map(|(_, _, e)| e.kind)
            .collect();
        use custos_core::notify::EventKind::*;
        assert!(
            kinds.contains(&ClockWarning) && kinds.contains(&Breach),
            "{backend}: {kinds:?}"
        );
        app.seal().await;
        let audit = ok(
            app.get(
                &format!("/api/v1/audit?entity_id={id}&action=incident.breach"),
                &app.token_for(&[Role::Auditor]).await,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            !audit["items"].as_array().unwrap().is_empty(),
            "{backend}: breaches are audited"
        );

        // On hold pauses the clock; resuming restarts it.
        let path = format!("/api/v1/incidents/{id}");
        let bad = problem(
            app.send_json(Method::PATCH, &path, &agent, &json!({"status": "closed"}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(
            bad["field"], "status",
            "{backend}: new → closed is not allowed"
        );
        ok(
            app.send_json(
                Method::PATCH,
                &path,
                &agent,
                &json!({"status": "in_progress"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let held = ok(
            app.send_json(Method::PATCH, &path, &agent, &json!({"status": "on_hold"}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            held["clock"]["resolution"]["paused"], true,
            "{backend}: {held}"
        );
        let resumed = ok(
            app.send_json(
                Method::PATCH,
                &path,
                &agent,
                &json!({"status": "in_progress"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(resumed["clock"]["resolution"]["paused"], false, "{backend}");
        assert!(resumed["responded_at"].is_string());
        // Resolving needs notes; then the clock stops.
        problem(
            app.send_json(Method::PATCH, &path, &agent, &json!({"status": "resolved"}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let done = ok(
            app.send_json(
                Method::PATCH,
                &path,
                &agent,
                &json!({"status": "resolved", "resolution": "Restarted the batch"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(done["clock"]["resolution"]["state"], "missed", "{backend}");
        // A concurrent change loses: the store refuses a stale save.
        let stale = app
            .store
            .incident(
                &custos_core::ticket::Viewer {
                    user: agent_user.id,
                    security_team: true,
                    role_mask: 0,
                    own_only: false,
                },
                custos_core::IncidentId(id.parse().unwrap()),
            )
            .await
            .unwrap();
        ok(
            app.send_json(Method::PATCH, &path, &agent, &json!({"urgency": "low"}))
                .await,
            StatusCode::OK,
        )
        .await;
        let ctx = custos_server::incidents::Context::default();
        let wr = custos_server::incidents::write(
            stale.clone(),
            Some(&stale),
            vec![],
            &ctx,
            Default::default(),
            Actor::System("test"),
            "incident.update",
        );
        let e = app
            .store
            .save_incident(wr, stale.updated_at)
            .await
            .unwrap_err();
        assert!(
            matches!(e, custos_core::StoreError::Conflict { .. }),
            "{backend}: {e}"
        );
    }
}

#[tokio::test]
async fn external_communication_on_a_security_incident_needs_a_security_manager() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let inc = report(&app, &sm, json!({"title": "Payroll export on a lost laptop", "category": "data_leak", "impact": "high", "urgency": "medium", "service": w.svc.to_string(), "assignee": agent_user.id.to_string()})).await;
        let id = inc["id"].as_str().unwrap();
        let notes = format!("/api/v1/incidents/{id}/notes");
        let bad = problem(
            app.send_json(
                Method::POST,
                &notes,
                &agent,
                &json!({"kind": "external", "body": "Dear customer"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "audience");
        let draft = ok(app.send_json(Method::POST, &notes, &agent, &json!({"kind": "external", "audience": "authorities", "recipient": "Data protection authority", "body": "Notification of a personal data breach"})).await, StatusCode::CREATED).await;
        assert_eq!(draft["status"], "draft", "{backend}");
        let note = draft["id"].as_str().unwrap();
        // The agent (assignee) cannot release it.
        problem(
            app.send_json(
                Method::POST,
                &format!("{notes}/{note}/approve"),
                &agent,
                &json!({}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let sent = ok(
            app.send_json(
                Method::POST,
                &format!("{notes}/{note}/approve"),
                &sm,
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(sent["status"], "sent", "{backend}");
        assert!(sent["sent_at"].is_string() && sent["decided_by"].is_string());
        problem(
            app.send_json(
                Method::POST,
                &format!("{notes}/{note}/approve"),
                &sm,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        // A rejection needs reasons.
        let d2 = ok(
            app.send_json(
                Method::POST,
                &notes,
                &agent,
                &json!({"kind": "external", "audience": "press", "body": "Statement"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let n2 = d2["id"].as_str().unwrap();
        problem(
            app.send_json(
                Method::POST,
                &format!("{notes}/{n2}/reject"),
                &sm,
                &json!({}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let rej = ok(
            app.send_json(
                Method::POST,
                &format!("{notes}/{n2}/reject"),
                &sm,
                &json!({"reason": "No press statement before containment"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(rej["status"], "rejected");
        app.seal().await;
        let audit = ok(
            app.get(
                &format!("/api/v1/audit?entity_id={id}&action=incident.communication.approve"),
                &sm,
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let _ = audit;
        let audit = ok(
            app.get(
                &format!("/api/v1/audit?entity_id={id}&action=incident.communication.approve"),
                &app.token_for(&[Role::Auditor]).await,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        // The auditor has no need-to-know: the approval is audited, but hidden from it.
        assert!(audit["items"].as_array().unwrap().is_empty(), "{backend}");
        let timeline = ok(
            app.get(&format!("/api/v1/incidents/{id}/timeline"), &sm)
                .await,
            StatusCode::OK,
        )
        .await;
        let whats: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["what"].as_str().unwrap())
            .collect();
        assert!(
            whats.contains(&"incident.communication.approve"),
            "{backend}: {whats:?}"
        );
        assert!(
            whats.contains(&"external (sent)") && whats.contains(&"external (rejected)"),
            "{whats:?}"
        );

        // On an ordinary incident an external communication is sent at once.
        let plain = report(&app, &agent, json!({"title": "Printer", "category": "hardware", "impact": "low", "urgency": "low", "cis": [w.other.to_string()]})).await;
        let n = ok(app.send_json(Method::POST, &format!("/api/v1/incidents/{}/notes", plain["id"].as_str().unwrap()), &agent, &json!({"kind": "external", "audience": "suppliers", "body": "Please send a technician"})).await, StatusCode::CREATED).await;
        assert_eq!(n["status"], "sent");
        // A requester writes only public comments on its own report and sees only those.
        let (_, req) = app.user_with_token(&[Role::Requester]).await;
        let mine = report(&app, &req, json!({"title": "Cannot print", "category": "hardware", "impact": "low", "urgency": "low"})).await;
        let mine_notes = format!("/api/v1/incidents/{}/notes", mine["id"].as_str().unwrap());
        problem(
            app.send_json(
                Method::POST,
                &mine_notes,
                &req,
                &json!({"kind": "work_note", "body": "x"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &mine_notes,
                &req,
                &json!({"kind": "public_comment", "body": "Still broken"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &mine_notes,
                &agent,
                &json!({"kind": "work_note", "body": "internal only"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let seen = ok(app.get(&mine_notes, &req).await, StatusCode::OK).await;
        assert_eq!(seen.as_array().unwrap().len(), 1, "{backend}: {seen}");
        problem(
            app.get(
                &format!("/api/v1/incidents/{}", plain["id"].as_str().unwrap()),
                &req,
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn the_security_procedure_gates_each_phase_and_chains_evidence() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let inc = report(&app, &sm, json!({"title": "Ransomware note on the payroll server", "category": "malware", "impact": "high", "urgency": "high", "service": w.svc.to_string(), "cis": [w.srv.to_string()]})).await;
        let id = inc["id"].as_str().unwrap();
        let phase = |p: &str| json!({"phase": p});
        let ph = format!("/api/v1/incidents/{id}/phase");
        let e = problem(
            app.send_json(Method::POST, &ph, &sm, &phase("triage"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            e["detail"].as_str().unwrap().contains("assign"),
            "{backend}: {e}"
        );
        ok(
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/incidents/{id}"),
                &sm,
                &json!({"assignee": agent_user.id.to_string(), "status": "in_progress"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        problem(
            app.send_json(Method::POST, &ph, &agent, &phase("containment"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        ok(
            app.send_json(Method::POST, &ph, &agent, &phase("triage"))
                .await,
            StatusCode::OK,
        )
        .await;
        let e = problem(
            app.send_json(Method::POST, &ph, &agent, &phase("containment"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        let d = e["detail"].as_str().unwrap();
        assert!(
            d.contains("severity") && d.contains("scope") && d.contains("evidence"),
            "{d}"
        );
        let act = format!("/api/v1/incidents/{id}/actions");
        for (k, b) in [
            ("severity_assessed", "High: payroll data encrypted"),
            ("scope_assessed", "One server"),
        ] {
            ok(
                app.send_json(Method::POST, &act, &agent, &json!({"kind": k, "body": b}))
                    .await,
                StatusCode::CREATED,
            )
            .await;
        }
        // Evidence: hashed, chained to the audit log; only on security incidents, described.
        let upload = |desc: &str| {
            format!(
                "/api/v1/incidents/{id}/attachments?file_name=ransom.txt&evidence=true&description={desc}"
            )
        };
        let r = app
            .client
            .post(app.url(&upload("")))
            .bearer_auth(&agent)
            .body("YOUR FILES ARE ENCRYPTED")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = app
            .client
            .post(app.url(&upload("Ransom%20note%20copied%20from%20%2Fsrv")))
            .bearer_auth(&agent)
            .body("YOUR FILES ARE ENCRYPTED")
            .send()
            .await
            .unwrap();
        let ev = ok(r, StatusCode::CREATED).await;
        let sha = ev["sha256"].as_str().unwrap().to_string();
        assert_eq!(
            sha,
            custos_core::secret::sha256_hex(b"YOUR FILES ARE ENCRYPTED")
        );
        ok(
            app.send_json(Method::POST, &ph, &agent, &phase("containment"))
                .await,
            StatusCode::OK,
        )
        .await;
        ok(
            app.send_json(
                Method::POST,
                &act,
                &agent,
                &json!({"kind": "containment_action", "body": "Network port disabled"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let e = problem(
            app.send_json(Method::POST, &ph, &agent, &phase("review"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            e["detail"].as_str().unwrap().contains(&w.srv.to_string()),
            "{e}"
        );
        problem(
            app.send_json(
                Method::POST,
                &act,
                &agent,
                &json!({"kind": "ci_isolated", "body": "x", "ci": w.other.to_string()}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        for ci in [w.srv, w.svc] {
            ok(app.send_json(Method::POST, &act, &agent, &json!({"kind": "ci_recovered", "body": "Restored from backup", "ci": ci.to_string()})).await, StatusCode::CREATED).await;
        }
        ok(
            app.send_json(Method::POST, &ph, &agent, &phase("review"))
                .await,
            StatusCode::OK,
        )
        .await;
        // Closing the incident waits for the procedure.
        ok(
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/incidents/{id}"),
                &agent,
                &json!({"status": "resolved", "resolution": "Restored"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        problem(
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/incidents/{id}"),
                &agent,
                &json!({"status": "closed"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        for (k, b) in [
            ("root_cause", "Phishing mail opened on an admin workstation"),
            ("lessons_learned", "MFA for admin accounts"),
            ("follow_up", "Roll out phishing training"),
        ] {
            ok(
                app.send_json(Method::POST, &act, &agent, &json!({"kind": k, "body": b}))
                    .await,
                StatusCode::CREATED,
            )
            .await;
        }
        ok(
            app.send_json(Method::POST, &ph, &agent, &phase("closed"))
                .await,
            StatusCode::OK,
        )
        .await;
        let closed = ok(
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/incidents/{id}"),
                &agent,
                &json!({"status": "closed"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(closed["status"], "closed", "{backend}");
        // The evidence hash is in the sealed audit chain; the timeline shows every step.
        app.seal().await;
        let chain = app.store.audit_chain(0, 100_000).await.unwrap();
        assert!(
            chain.iter().any(|e| e.action == "incident.evidence"
                && e.changes.contains(&sha)
                && e.hash.is_some()),
            "{backend}"
        );
        let t = ok(
            app.get(&format!("/api/v1/incidents/{id}/timeline"), &sm)
                .await,
            StatusCode::OK,
        )
        .await;
        let n = t
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["source"] == "action")
            .count();
        assert_eq!(n, 8, "{backend}: {t}");
        let file = app
            .get(
                &format!(
                    "/api/v1/incidents/{id}/attachments/{}",
                    ev["id"].as_str().unwrap()
                ),
                &agent,
            )
            .await;
        assert_eq!(file.headers()["x-content-sha256"], sha.as_str());
        // Evidence on an ordinary incident is refused.
        let plain = report(&app, &agent, json!({"title": "Printer", "category": "hardware", "impact": "low", "urgency": "low", "cis": [w.other.to_string()]})).await;
        let r = app
            .client
            .post(app.url(&format!(
                "/api/v1/incidents/{}/attachments?file_name=a.txt&evidence=true&description=x",
                plain["id"].as_str().unwrap()
            )))
            .bearer_auth(&agent)
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "{backend}");
    }
}

/// An overdue major-incident update is reminded of: to the lead at the due time, then once
/// per cadence until an update is recorded. The lead works on incidents and, for a security
/// incident, has need-to-know.
#[tokio::test]
async fn overdue_major_incident_updates_are_reminded_to_the_lead() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (lead, agent) = app.user_with_token(&[Role::Agent]).await;
        let (requester, _) = app.user_with_token(&[Role::Requester]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let inc = report(&app, &agent, json!({"title": "Printing down in the whole building", "category": "hardware", "impact": "high", "urgency": "high", "cis": [w.other.to_string()]})).await;
        let id = inc["id"].as_str().unwrap().to_string();
        let major = format!("/api/v1/incidents/{id}/major");
        let declare = |lead: String, token: String, path: String| {
            let app = &app;
            async move {
                app.send_json(
                    Method::POST,
                    &path,
                    &token,
                    &json!({"lead": lead, "cadence_minutes": 30}),
                )
                .await
            }
        };
        let bad = problem(
            declare(requester.id.to_string(), agent.clone(), major.clone()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "lead", "{backend}: a requester cannot lead");
        let leak = report(&app, &sm, json!({"title": "Payroll export on a public share", "category": "data_leak", "impact": "high", "urgency": "high", "service": w.svc.to_string()})).await;
        let bad = problem(
            declare(
                lead.id.to_string(),
                sm.clone(),
                format!("/api/v1/incidents/{}/major", leak["id"].as_str().unwrap()),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(
            bad["field"], "lead",
            "{backend}: no need-to-know of the leak"
        );

        let start = Timestamp::now();
        ok(
            declare(lead.id.to_string(), agent.clone(), major.clone()).await,
            StatusCode::OK,
        )
        .await;
        let reminders = || async {
            app.store
                .pending_events(500)
                .await
                .unwrap()
                .into_iter()
                .filter(|(_, _, e)| e.entity_id == id && e.subject.contains("update overdue"))
                .map(|(_, _, e)| e)
                .collect::<Vec<_>>()
        };
        let tick = |minutes: i64| {
            let app = &app;
            async move {
                custos_server::incidents::tick_clocks(
                    app.store.as_ref(),
                    Timestamp(start.0 + minutes * 60_000),
                )
                .await
                .unwrap()
            }
        };
        tick(29).await;
        assert!(reminders().await.is_empty(), "{backend}: not due yet");
        tick(31).await;
        let got = reminders().await;
        assert_eq!(got.len(), 1, "{backend}");
        assert_eq!(got[0].users, vec![lead.id], "{backend}: to the lead");
        tick(45).await;
        assert_eq!(reminders().await.len(), 1, "{backend}: once per slot");
        tick(62).await;
        assert_eq!(
            reminders().await.len(),
            2,
            "{backend}: again after a cadence"
        );

        // An update moves the due time: no reminder before the next one is due.
        ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/actions"),
                &agent,
                &json!({"kind": "major_update", "body": "Supplier engineer on site"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let after = Timestamp::now();
        custos_server::incidents::tick_clocks(app.store.as_ref(), Timestamp(after.0 + 20 * 60_000))
            .await
            .unwrap();
        assert_eq!(
            reminders().await.len(),
            2,
            "{backend}: the update was in time"
        );
        custos_server::incidents::tick_clocks(app.store.as_ref(), Timestamp(after.0 + 31 * 60_000))
            .await
            .unwrap();
        assert_eq!(reminders().await.len(), 3, "{backend}");
    }
}

#[tokio::test]
async fn major_incidents_have_a_lead_a_cadence_and_a_review() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (lead, agent) = app.user_with_token(&[Role::Agent]).await;
        let inc = report(&app, &agent, json!({"title": "Printing down in the whole building", "category": "hardware", "impact": "high", "urgency": "high", "cis": [w.other.to_string()]})).await;
        let id = inc["id"].as_str().unwrap();
        let major = format!("/api/v1/incidents/{id}/major");
        let bad = problem(
            app.send_json(
                Method::POST,
                &major,
                &agent,
                &json!({"lead": lead.id.to_string(), "cadence_minutes": 5}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "cadence_minutes");
        let m = ok(
            app.send_json(
                Method::POST,
                &major,
                &agent,
                &json!({"lead": lead.id.to_string(), "cadence_minutes": 30}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(m["major"]["cadence_minutes"], 30, "{backend}");
        assert_eq!(m["major"]["reviewed"], false);
        problem(
            app.send_json(
                Method::POST,
                &major,
                &agent,
                &json!({"lead": lead.id.to_string(), "cadence_minutes": 30}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let act = format!("/api/v1/incidents/{id}/actions");
        ok(
            app.send_json(
                Method::POST,
                &act,
                &agent,
                &json!({"kind": "major_update", "body": "Supplier engineer on site"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                &act,
                &agent,
                &json!({"kind": "root_cause", "body": "x"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let path = format!("/api/v1/incidents/{id}");
        ok(
            app.send_json(
                Method::PATCH,
                &path,
                &agent,
                &json!({"status": "resolved", "resolution": "Print server replaced"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let e = problem(
            app.send_json(Method::PATCH, &path, &agent, &json!({"status": "closed"}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(e["detail"].as_str().unwrap().contains("review"), "{e}");
        ok(
            app.send_json(
                Method::POST,
                &act,
                &agent,
                &json!({"kind": "major_review", "body": "Spare print server now kept on site"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let closed = ok(
            app.send_json(Method::PATCH, &path, &agent, &json!({"status": "closed"}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(closed["major"]["reviewed"], true, "{backend}");
        let events = app.store.pending_events(500).await.unwrap();
        assert!(
            events.iter().any(
                |(_, _, e)| e.kind == custos_core::notify::EventKind::MajorIncident
                    && e.users.contains(&lead.id)
            ),
            "{backend}"
        );
        // Saved filters and groups.
        let admin = app.token_for(&[Role::Admin]).await;
        let g = ok(
            app.send_json(
                Method::POST,
                "/api/v1/groups",
                &admin,
                &json!({"name": "Service desk", "lead": lead.id.to_string()}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/groups",
                &agent,
                &json!({"name": "X"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let gid = g["id"].as_str().unwrap();
        let assigned = report(&app, &agent, json!({"title": "Mouse broken", "category": "hardware", "impact": "low", "urgency": "low", "group": gid})).await;
        let list = ok(
            app.get(&format!("/api/v1/incidents?open=true&group={gid}"), &agent)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{backend}");
        assert_eq!(list["items"][0]["id"], assigned["id"]);
        let f = ok(
            app.send_json(
                Method::POST,
                "/api/v1/incident-filters",
                &agent,
                &json!({"name": "Desk queue", "query": format!("open=true&group={gid}")}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/incident-filters",
                &agent,
                &json!({"name": "Bad", "query": "priority=p9"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/incident-filters",
                &agent,
                &json!({"name": "Desk queue", "query": "open=true"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let mine = ok(
            app.get("/api/v1/incident-filters", &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine.as_array().unwrap().len(), 1);
        let other = app.token_for(&[Role::Agent]).await;
        problem(
            app.send_json(
                Method::DELETE,
                &format!("/api/v1/incident-filters/{}", f["id"].as_str().unwrap()),
                &other,
                &json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let events = app.store.pending_events(500).await.unwrap();
        assert!(
            events.iter().any(
                |(_, _, e)| e.kind == custos_core::notify::EventKind::Assigned
                    && e.users.contains(&lead.id)
            ),
            "{backend}: the group lead hears of an assignment"
        );
    }
}
