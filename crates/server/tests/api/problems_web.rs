//! Problem management through the pages: an agent records a problem on the payroll
//! service by form (bad input comes back with the field named and the values kept), the
//! publish button's gate refuses an unreviewed workaround, a security manager sees the
//! check (SLA requirements, baseline status per CI) and rejects with reasons, then
//! approves; the agent publishes, the known error is listed, linked to a visible incident
//! (a hidden security incident cannot be found) and applied as a work note.

use crate::helpers::*;
use crate::problems::incident;
use crate::problems::payroll;
use custos_core::account::Role;
use reqwest::StatusCode;

async fn signed_in<'a>(app: &'a TestApp, email: &str) -> (Browser<'a>, String) {
    let mut b = app.browser();
    let (status, _, _) = b.login(email, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{email} signs in");
    let (_, _, home) = b.get("/").await;
    let csrf = Browser::csrf(&home);
    (b, csrf)
}

#[tokio::test]
async fn problems_web_an_agent_and_a_security_manager_take_a_workaround_through_the_gate() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let (svc, db) = payroll(&app).await;
        app.user("agent@example.org", &[Role::Agent], None).await;
        app.user("sm@example.org", &[Role::SecurityManager], None)
            .await;
        let reporter = app.user("rep@example.org", &[Role::Requester], None).await;
        let open = incident(&app, reporter.id, "Payslips missing", false).await;
        let open_ref = app
            .store
            .incident(
                &custos_core::ticket::Viewer::new(reporter.id, &reporter.roles, false),
                open,
            )
            .await
            .unwrap()
            .reference;
        let hidden = incident(&app, reporter.id, "Salary file leaked", true).await;
        let hidden_ref = app
            .store
            .incident(
                &custos_core::ticket::Viewer::new(reporter.id, &reporter.roles, true),
                hidden,
            )
            .await
            .unwrap()
            .reference;

        let (mut agent, csrf) = signed_in(&app, "agent@example.org").await;
        let (_, _, home) = agent.get("/").await;
        assert!(
            home.contains("href=\"/problems\"") && home.contains("href=\"/known-errors\""),
            "nav links"
        );
        let (status, _, form) = agent.get("/problems/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("<label for=\"cis\">"));
        let (svc_s, db_s) = (svc.to_string(), db.to_string());
        let (status, _, page) = agent
            .post(
                "/problems",
                &[
                    ("csrf", &csrf),
                    ("title", "Payroll import fails"),
                    ("service", &svc_s),
                    ("cis", "no-such-key"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(
            page.contains("Affected CIs: no CI has the external key"),
            "{page}"
        );
        assert!(
            page.contains("value=\"Payroll import fails\""),
            "values kept"
        );
        let (status, loc, _) = agent
            .post(
                "/problems",
                &[
                    ("csrf", &csrf),
                    ("title", "Payroll import fails"),
                    ("description", "Stops at 02:00."),
                    ("service", &svc_s),
                    ("cis", &db_s),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let path = loc.unwrap().split('#').next().unwrap().to_string();
        let id = path.trim_start_matches("/problems/").to_string();
        let (_, _, page) = agent.get(&path).await;
        assert!(page.contains("id=\"gate\""), "the gate is announced");
        assert_eq!(Browser::element_text(&page, "workaround-state"), "Draft");
        assert!(
            !page.contains("value=\"publish\""),
            "no publish button while review is needed"
        );

        // Publishing by hand anyway: refused, the text kept as a draft.
        let fix = format!("{path}/fix");
        let text = "Rerun the import from the encrypted staging area.";
        let (status, _, page) = agent
            .post(
                &fix,
                &[
                    ("csrf", &csrf),
                    ("fix", "workaround"),
                    ("action", "publish"),
                    ("text", text),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}");
        assert!(
            Browser::element_text(&page, "error").contains("security manager must approve"),
            "{page}"
        );
        assert!(page.contains(text));
        assert_eq!(Browser::element_text(&page, "workaround-state"), "Draft");
        let (status, _, _) = agent
            .post(
                &fix,
                &[
                    ("csrf", &csrf),
                    ("fix", "workaround"),
                    ("action", "submit"),
                    ("text", text),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, _) = agent
            .post(
                &format!("{path}/review"),
                &[
                    ("csrf", &csrf),
                    ("fix", "workaround"),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "agents do not review");

        // The security manager sees the check and rejects with reasons.
        let (mut sm, sm_csrf) = signed_in(&app, "sm@example.org").await;
        // Their dashboard counts it and links to the list of what waits for review.
        let (_, _, home) = sm.get("/").await;
        assert!(
            home.contains("href=\"/problems?awaiting_review=true\">Workarounds and solutions waiting for a security review: <strong class=\"count\">1</strong>"),
            "{home}"
        );
        let (_, _, list) = sm.get("/problems?awaiting_review=true").await;
        assert!(list.contains(&format!("href=\"{path}\"")), "{list}");
        let (_, _, list) = sm.get("/problems?awaiting_review=true&status=closed").await;
        assert!(!list.contains(&format!("href=\"{path}\"")), "{list}");
        let (_, _, page) = sm.get(&path).await;
        assert_eq!(
            Browser::element_text(&page, "workaround-state"),
            "Waiting for security review"
        );
        assert!(
            page.contains("Baseline status of each affected CI") && page.contains("pay-db"),
            "{page}"
        );
        assert!(page.contains("SR-1, SR-2"), "SLA requirements shown");
        let review = format!("{path}/review");
        let (status, _, page) = sm
            .post(
                &review,
                &[
                    ("csrf", &sm_csrf),
                    ("fix", "workaround"),
                    ("decision", "reject"),
                    ("reasons", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            Browser::element_text(&page, "error").starts_with("Reasons:"),
            "{page}"
        );
        let (status, _, _) = sm
            .post(
                &review,
                &[
                    ("csrf", &sm_csrf),
                    ("fix", "workaround"),
                    ("decision", "reject"),
                    ("reasons", "Name the staging host."),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let (_, _, page) = agent.get(&path).await;
        assert_eq!(Browser::element_text(&page, "workaround-state"), "Rejected");
        assert!(
            page.contains("Name the staging host."),
            "the reasons go back to the author"
        );

        // Resubmitted, approved with both confirmations, published by the agent.
        let text = "Rerun the import from the encrypted staging host stg-pay-01.";
        agent
            .post(
                &fix,
                &[
                    ("csrf", &csrf),
                    ("fix", "workaround"),
                    ("action", "submit"),
                    ("text", text),
                ],
            )
            .await;
        let (status, _, _) = sm
            .post(
                &review,
                &[
                    ("csrf", &sm_csrf),
                    ("fix", "workaround"),
                    ("decision", "approve"),
                    ("sla_requirements_met", "1"),
                    ("baseline_met", "1"),
                    ("notes", "Staging is encrypted."),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let (_, _, page) = agent.get(&path).await;
        assert_eq!(Browser::element_text(&page, "workaround-state"), "Approved");
        assert!(page.contains("value=\"publish\""));
        let (status, _, _) = agent
            .post(
                &fix,
                &[
                    ("csrf", &csrf),
                    ("fix", "workaround"),
                    ("action", "publish"),
                    ("text", text),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let (_, _, page) = agent.get(&path).await;
        assert_eq!(
            Browser::element_text(&page, "workaround-state"),
            "Published"
        );
        let (status, _, listed) = agent.get("/known-errors?q=staging").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            listed.contains("PRB-000001") && listed.contains("stg-pay-01"),
            "{listed}"
        );
        let (_, _, listed) = agent.get("/problems?known_error=true").await;
        assert!(listed.contains(&format!("/problems/{id}")));
        // By service: the payroll service's, and none of another service.
        let (_, _, listed) = agent.get(&format!("/known-errors?service={svc}")).await;
        assert!(listed.contains("PRB-000001"), "{backend}");
        let other = crate::problems::ci(&app, "business_service", "Canteen").await;
        let (_, _, listed) = agent.get(&format!("/known-errors?service={other}")).await;
        assert!(!listed.contains("PRB-000001"), "{backend}");
        assert!(listed.contains("No known errors match."), "{backend}");

        // Linking: a visible incident by reference; a hidden one cannot be found.
        let incidents = format!("{path}/incidents");
        let (status, _, _) = agent
            .post(
                &incidents,
                &[("csrf", &csrf), ("action", "link"), ("incident", &open_ref)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let (status, _, page) = agent
            .post(
                &incidents,
                &[
                    ("csrf", &csrf),
                    ("action", "link"),
                    ("incident", &hidden_ref),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(Browser::element_text(&page, "error").contains("there is no incident"));
        assert!(page.contains("Payslips missing") && !page.contains("Salary file leaked"));

        // Applying the known error to the incident writes a work note.
        let (status, _, _) = agent
            .post(
                &format!("{path}/apply"),
                &[("csrf", &csrf), ("incident", &open_ref)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let notes = app.store.notes(open, false).await.unwrap();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].body.contains("PRB-000001") && notes[0].body.contains("stg-pay-01"));
        let (_, _, page) = agent.get(&path).await;
        assert!(
            page.contains("Security review history") && page.contains("Name the staging host.")
        );
    }
}

/// The incident page shows the problems the incident is linked to and the known errors of
/// its service, whose workaround an agent applies from there.
#[tokio::test]
async fn problems_web_the_incident_page_offers_the_known_errors_of_its_service() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let svc = crate::problems::ci(&app, "business_service", "Printing").await;
        let inc = ok(
            app.send_json(
                reqwest::Method::POST,
                "/api/v1/incidents",
                &agent,
                &serde_json::json!({"title": "Cannot print payslips", "category": "hardware", "impact": "low", "urgency": "low", "service": svc.to_string()}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let reference = inc["reference"].as_str().unwrap().to_string();
        let p = ok(
            app.send_json(
                reqwest::Method::POST,
                "/api/v1/problems",
                &agent,
                &serde_json::json!({"title": "Spooler hangs", "service": svc.to_string()}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let base = format!("/api/v1/problems/{}", p["id"].as_str().unwrap());
        for (method, path, body) in [
            (
                reqwest::Method::PUT,
                "/workaround",
                serde_json::json!({"text": "Restart the zebra spooler."}),
            ),
            (
                reqwest::Method::POST,
                "/workaround/publish",
                serde_json::json!({}),
            ),
        ] {
            ok(
                app.send_json(method, &format!("{base}{path}"), &agent, &body)
                    .await,
                StatusCode::OK,
            )
            .await;
        }

        let (mut b, _) = signed_in(&app, &agent_user.email.to_string()).await;
        let (_, _, page) = b.get(&format!("/incidents/{reference}")).await;
        assert!(page.contains("Known errors of this service"), "{backend}");
        assert!(page.contains("Restart the zebra spooler."), "{backend}");
        let csrf = Browser::csrf(&page);
        let (status, _, _) = b
            .post(
                &format!("/problems/{}/apply", p["id"].as_str().unwrap()),
                &[("csrf", &csrf), ("incident", &reference)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let notes = ok(
            app.get(&format!("/api/v1/incidents/{reference}/notes"), &agent)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            notes.to_string().contains("zebra spooler"),
            "{backend}: applied"
        );

        // Linked, it is listed as the incident's problem instead.
        ok(
            app.send_json(
                reqwest::Method::POST,
                &format!("{base}/incidents"),
                &agent,
                &serde_json::json!({"incident_id": inc["id"]}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let (_, _, page) = b.get(&format!("/incidents/{reference}")).await;
        assert!(
            page.contains("Problems this incident is linked to"),
            "{backend}"
        );
        assert!(!page.contains("Known errors of this service"), "{backend}");
    }
}
