//! Need-to-know across the whole product: a security incident leaves no trace for people
//! without need-to-know (admins and auditors included) on any route — every list of the
//! API (taken from the OpenAPI document, so new ones are covered), the incidents linked to
//! it, the audit log, notification deliveries, the web pages, and the e-mails people get.

use crate::helpers::*;
use crate::incidents::report;
use crate::incidents::world;
use crate::notify_sinks::{SECRET, receiver, smtp_sink};
use custos_core::Timestamp;
use custos_core::account::Role;
use custos_core::secret::Secret;
use custos_server::http::state::SmtpSettings;
use custos_server::http::state::SmtpTls;
use custos_server::http::state::WebhookSettings;
use custos_server::notifications::Dispatcher;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_security_incident_leaves_no_trace_for_people_without_need_to_know() {
    let (smtp_port, mails) = smtp_sink().await;
    let hooks = receiver().await;
    let hook_url = hooks.url.clone();
    let apps = spawn_apps_with(move |s| {
        s.smtp = SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp_port,
            tls: SmtpTls::None,
            from: "Custos <custos@example.org>".into(),
            ..SmtpSettings::default()
        };
        s.webhooks = vec![WebhookSettings {
            name: "ops".into(),
            url: format!("{hook_url}/ops"),
            secret: Secret::new(SECRET),
            events: vec![],
            need_to_know: false,
        }];
    })
    .await;
    let doc: serde_json::Value =
        serde_json::from_str(&custos_server::http::api::openapi_json()).unwrap();
    let lists: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, ops)| !p.contains('{') && ops.get("get").is_some())
        .map(|(p, _)| format!("/api/v1{p}"))
        .collect();
    assert!(lists.len() > 20, "{lists:?}");

    for app in apps {
        let backend = app.backend;
        mails.lock().unwrap().clear();
        let w = world(&app).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let (assignee, _) = app.user_with_token(&[Role::Agent]).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let (lead, lead_token) = app.user_with_token(&[Role::Agent]).await;
        let (admin_user, admin) = app.user_with_token(&[Role::Admin]).await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let group = ok(
            app.send_json(
                Method::POST,
                "/api/v1/groups",
                &admin,
                &json!({"name": "Payroll support", "lead": lead.id.to_string(), "members": [assignee.id.to_string(), lead.id.to_string()]}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;

        let secret = report(&app, &sm, json!({"title": "Exfiltration zebracorn of payroll data", "category": "data_leak", "impact": "high", "urgency": "high", "service": w.svc.to_string(), "group": group["id"], "assignee": assignee.id.to_string()})).await;
        assert_eq!(secret["security"]["flagged"], true, "{backend}");
        let id = secret["id"].as_str().unwrap().to_string();
        let reference = secret["reference"].as_str().unwrap().to_string();
        let plain = report(&app, &agent, json!({"title": "Payroll report slow", "category": "performance", "impact": "low", "urgency": "low", "service": w.svc.to_string()})).await;
        let plain_id = plain["id"].as_str().unwrap().to_string();
        // The security manager, who sees both, links them.
        ok(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/incidents/{plain_id}/links/{id}"),
                &sm,
                &json!({}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let seen = ok(
            app.get(&format!("/api/v1/incidents/{plain_id}"), &sm).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            seen["links"],
            json!([id]),
            "{backend}: the team sees the link"
        );
        let pass = Dispatcher::new(app.store.clone(), &app.settings)
            .unwrap()
            .run_once(Timestamp::now())
            .await
            .unwrap();
        assert!(pass.sent > 0, "{backend}: notifications went out");
        app.seal().await;

        let traces = |body: &str| {
            [id.as_str(), reference.as_str(), "zebracorn"]
                .into_iter()
                .filter(|t| body.contains(t))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        for (who, token) in [
            ("admin", &admin),
            ("auditor", &auditor),
            ("agent", &agent),
            ("group lead", &lead_token),
        ] {
            let mut paths = lists.clone();
            paths.extend([
                format!("/api/v1/incidents/{plain_id}"),
                format!("/api/v1/incidents/{plain_id}/timeline"),
                format!("/api/v1/audit?entity_id={plain_id}"),
                "/api/v1/audit?entity_type=incident".to_string(),
                "/api/v1/notifications/deliveries?status=sent".to_string(),
            ]);
            for path in &paths {
                let r = app.get(path, token).await;
                let status = r.status();
                assert!(
                    !status.is_server_error(),
                    "{backend} {who}: {path} {status}"
                );
                let body = r.text().await.unwrap();
                assert!(
                    traces(&body).is_empty(),
                    "{backend} {who}: {path} shows {:?}",
                    traces(&body)
                );
            }
        }

        // The web pages an administrator and the agent use.
        let mut browser = app.browser();
        browser.login(&admin_user.email.to_string(), PASSWORD).await;
        for page in ["/audit", "/admin/notifications", "/incidents", "/problems"] {
            let (_, _, body) = browser.get(page).await;
            assert!(traces(&body).is_empty(), "{backend} admin: {page}");
        }
        let mut browser = app.browser();
        browser.login(&agent_user.email.to_string(), PASSWORD).await;
        for page in [
            "/incidents".to_string(),
            format!("/incidents/{plain_id}"),
            format!("/incidents/{plain_id}/timeline"),
            "/audit".to_string(),
        ] {
            let (_, _, body) = browser.get(&page).await;
            assert!(traces(&body).is_empty(), "{backend} agent: {page}");
        }

        // E-mail: the assignee and the security team hear of it; the group lead, who has no
        // need-to-know, gets nothing about it.
        let got = mails.lock().unwrap().clone();
        let to = |u: &custos_core::account::User| {
            got.iter()
                .filter(|m| m.rcpts.iter().any(|r| r == &u.email.to_string()))
                .map(|m| m.data.clone())
                .collect::<Vec<_>>()
        };
        assert!(
            to(&assignee).iter().any(|m| m.contains(&reference)),
            "{backend}: the assignee is told"
        );
        let lead_mail = to(&lead);
        assert!(
            lead_mail.iter().all(|m| traces(m).is_empty()),
            "{backend}: the group lead got {lead_mail:?}"
        );
    }
}

/// Being assigned gives sight of a security incident, so only people who work on incidents
/// can be assigned — on creation and on change.
#[tokio::test]
async fn only_people_who_work_on_incidents_can_be_assigned() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let agent = app.token_for(&[Role::Agent]).await;
        let (colleague, _) = app.user_with_token(&[Role::Agent]).await;
        let (requester, _) = app.user_with_token(&[Role::Requester]).await;
        let (admin, _) = app.user_with_token(&[Role::Admin]).await;
        let (auditor, _) = app.user_with_token(&[Role::Auditor]).await;
        let body = |assignee: String| json!({"title": "Mail down", "category": "software", "impact": "low", "urgency": "low", "assignee": assignee});
        for (who, id) in [
            ("requester", requester.id.to_string()),
            ("admin", admin.id.to_string()),
            ("auditor", auditor.id.to_string()),
            ("nobody", uuid::Uuid::now_v7().to_string()),
        ] {
            let r = app
                .send_json(Method::POST, "/api/v1/incidents", &agent, &body(id.clone()))
                .await;
            let p = problem(r, StatusCode::BAD_REQUEST).await;
            assert_eq!(p["field"], "assignee", "{backend} {who}");
        }
        let inc = report(&app, &agent, body(colleague.id.to_string())).await;
        assert_eq!(inc["assignee"], colleague.id.to_string());
        let path = format!("/api/v1/incidents/{}", inc["id"].as_str().unwrap());
        let r = app
            .send_json(
                Method::PATCH,
                &path,
                &agent,
                &json!({"assignee": requester.id.to_string()}),
            )
            .await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            "assignee",
            "{backend}"
        );
        let after = ok(app.get(&path, &agent).await, StatusCode::OK).await;
        assert_eq!(
            after["assignee"],
            colleague.id.to_string(),
            "{backend}: unchanged"
        );
        ok(
            app.send_json(Method::PATCH, &path, &agent, &json!({"assignee": null}))
                .await,
            StatusCode::OK,
        )
        .await;
    }
}

/// The agent working on a security incident cannot widen the circle by handing it on: the
/// new assignee must already have need-to-know (the security team adds them), while the
/// security team itself assigns whom it likes.
#[tokio::test]
async fn a_security_incident_is_handed_on_only_within_need_to_know() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let (holder, holder_token) = app.user_with_token(&[Role::Agent]).await;
        let (outsider, outsider_token) = app.user_with_token(&[Role::Agent]).await;
        let (other, _) = app.user_with_token(&[Role::Agent]).await;
        let leak = report(&app, &sm, json!({"title": "Salary file on a public share", "category": "data_leak", "impact": "high", "urgency": "high", "service": w.svc.to_string(), "assignee": holder.id.to_string()})).await;
        assert_eq!(leak["security"]["flagged"], true, "{backend}");
        let path = format!("/api/v1/incidents/{}", leak["id"].as_str().unwrap());
        let hand = |to: String| json!({"assignee": to});

        // The page offers the holder only people with need-to-know.
        let select = |page: &str| {
            let i = page.find("id=\"edit-assignee\"").expect("assignee select");
            page[i..i + page[i..].find("</select>").unwrap()].to_string()
        };
        let mut browser = app.browser();
        browser.login(&holder.email.to_string(), PASSWORD).await;
        let page_path = format!("/incidents/{}", leak["id"].as_str().unwrap());
        let (_, _, page) = browser.get(&page_path).await;
        let offered = select(&page);
        assert!(
            offered.contains(&holder.id.to_string()),
            "{backend}: {offered}"
        );
        assert!(
            !offered.contains(&outsider.id.to_string()),
            "{backend}: {offered}"
        );

        let r = app
            .send_json(
                Method::PATCH,
                &path,
                &holder_token,
                &hand(outsider.id.to_string()),
            )
            .await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "assignee", "{backend}");
        ok(app.get(&path, &outsider_token).await, StatusCode::NOT_FOUND).await;
        let still = ok(app.get(&path, &holder_token).await, StatusCode::OK).await;
        assert_eq!(
            still["assignee"],
            holder.id.to_string(),
            "{backend}: unchanged"
        );

        ok(
            app.send_json(
                Method::POST,
                &format!("{path}/access"),
                &sm,
                &json!({"user": outsider.id.to_string()}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let (_, _, page) = browser.get(&page_path).await;
        assert!(
            select(&page).contains(&outsider.id.to_string()),
            "{backend}: added, so offered"
        );
        let moved = ok(
            app.send_json(
                Method::PATCH,
                &path,
                &holder_token,
                &hand(outsider.id.to_string()),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(moved["assignee"], outsider.id.to_string(), "{backend}");
        ok(app.get(&path, &holder_token).await, StatusCode::NOT_FOUND).await;

        let by_team = ok(
            app.send_json(Method::PATCH, &path, &sm, &hand(other.id.to_string()))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(by_team["assignee"], other.id.to_string(), "{backend}");

        let plain = report(&app, &holder_token, json!({"title": "Printer jam", "category": "hardware", "impact": "low", "urgency": "low"})).await;
        let plain_path = format!("/api/v1/incidents/{}", plain["id"].as_str().unwrap());
        let given = ok(
            app.send_json(
                Method::PATCH,
                &plain_path,
                &holder_token,
                &hand(other.id.to_string()),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            given["assignee"],
            other.id.to_string(),
            "{backend}: ordinary incidents move freely"
        );
    }
}

/// Someone without the permission to read incidents (a customer's representative) who is
/// given sight of an incident by name follows it like their own report: in the API and
/// the portal, without the internal work (notes, actions, timeline).
#[tokio::test]
async fn people_given_sight_by_name_follow_the_incident_in_the_portal() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let (rep, rep_token) = app.user_with_token(&[Role::CustomerRepresentative]).await;
        let leak = report(&app, &sm, json!({"title": "Salary file on a public share", "category": "data_leak", "impact": "high", "urgency": "high", "service": w.svc.to_string()})).await;
        let id = leak["id"].as_str().unwrap().to_string();
        let reference = leak["reference"].as_str().unwrap().to_string();
        for (kind, body) in [
            ("work_note", "forensic image taken"),
            ("public_comment", "We are on it"),
        ] {
            ok(
                app.send_json(
                    Method::POST,
                    &format!("/api/v1/incidents/{id}/notes"),
                    &sm,
                    &json!({"kind": kind, "body": body}),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;
        }
        let mut browser = app.browser();
        browser.login(&rep.email.to_string(), PASSWORD).await;
        let sees = |body: &str| body.contains(&reference);

        let (_, _, portal) = browser.get("/portal").await;
        assert!(!sees(&portal), "{backend}: not before");
        problem(
            app.get(&format!("/api/v1/incidents/{id}"), &rep_token)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;

        ok(
            app.send_json(
                Method::POST,
                &format!("/api/v1/incidents/{id}/access"),
                &sm,
                &json!({"user": rep.id.to_string()}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let got = ok(
            app.get(&format!("/api/v1/incidents/{id}"), &rep_token)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["reference"], reference.as_str(), "{backend}");
        let list = ok(
            app.get("/api/v1/incidents", &rep_token).await,
            StatusCode::OK,
        )
        .await;
        assert!(sees(&list.to_string()), "{backend}: listed");
        let notes = ok(
            app.get(&format!("/api/v1/incidents/{id}/notes"), &rep_token)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(notes.to_string().contains("We are on it"), "{backend}");
        assert!(
            !notes.to_string().contains("forensic"),
            "{backend}: public comments only"
        );
        for internal in ["actions", "timeline"] {
            let r = app
                .get(&format!("/api/v1/incidents/{id}/{internal}"), &rep_token)
                .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{backend}: {internal}");
        }
        let (_, _, portal) = browser.get("/portal").await;
        assert!(
            portal.contains("Incidents you are authorised to follow") && sees(&portal),
            "{backend}: the portal lists it"
        );
        let (status, _, page) = browser.get(&format!("/portal/{reference}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("Salary file on a public share"), "{backend}");
        assert!(
            page.contains("We are on it") && !page.contains("forensic"),
            "{backend}: public comments only"
        );

        ok(
            app.send_json(
                Method::DELETE,
                &format!("/api/v1/incidents/{id}/access/{}", rep.id),
                &sm,
                &json!({}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let (_, _, portal) = browser.get("/portal").await;
        assert!(!sees(&portal), "{backend}: gone with the access");
        let (status, _, _) = browser.get(&format!("/portal/{reference}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
    }
}

/// Reporting a security incident gives no need-to-know: an agent who records one (or whose
/// report is recognised as one) hands it to the security team and follows it in the
/// portal, like any reporter.
#[tokio::test]
async fn an_agent_who_reports_a_security_incident_follows_it_in_the_portal() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let mut b = app.browser();
        b.login(&agent_user.email.to_string(), PASSWORD).await;
        let (_, _, page) = b.get("/incidents/new").await;
        let csrf = Browser::csrf(&page);
        let svc = w.svc.to_string();
        let (status, loc, _) = b
            .post(
                "/incidents",
                &[
                    ("csrf", csrf.as_str()),
                    ("title", "Payroll file mailed to a supplier"),
                    ("description", "Caller saw it in the sent items."),
                    ("category", "data_leak"),
                    ("impact", "high"),
                    ("urgency", "high"),
                    ("service", svc.as_str()),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let loc = loc.unwrap();
        assert!(loc.starts_with("/portal/INC-"), "{backend}: {loc}");
        let reference = loc
            .trim_start_matches("/portal/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let (status, _, page) = b.get(&loc).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("your report is recorded"), "{backend}");
        problem(
            app.get(&format!("/api/v1/incidents/{reference}"), &agent)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let got = ok(
            app.get(&format!("/api/v1/incidents/{reference}"), &sm)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["security"]["flagged"], true, "{backend}");
        assert_eq!(got["reporter"], agent_user.id.to_string(), "{backend}");
    }
}

/// The desk records a call for the caller: the caller is the reporter (and follows it in
/// the portal); only agents may report for someone else.
#[tokio::test]
async fn agents_record_incidents_on_behalf_of_a_caller() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let (agent_user, agent) = app.user_with_token(&[Role::Agent]).await;
        let (caller, caller_token) = app.user_with_token(&[Role::Requester]).await;
        let (other, _) = app.user_with_token(&[Role::Requester]).await;
        let body = |reporter: String| json!({"title": "Laptop does not boot", "category": "hardware", "impact": "low", "urgency": "medium", "reporter": reporter});
        let inc = report(&app, &agent, body(caller.id.to_string())).await;
        assert_eq!(inc["reporter"], caller.id.to_string(), "{backend}");
        let mine = ok(
            app.get("/api/v1/incidents", &caller_token).await,
            StatusCode::OK,
        )
        .await;
        assert!(
            mine.to_string().contains("Laptop does not boot"),
            "{backend}: the caller sees its report"
        );
        // The audit names the agent who recorded it.
        app.seal().await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let audit = ok(
            app.get(
                &format!(
                    "/api/v1/audit?entity_id={}&action=incident.create",
                    inc["id"].as_str().unwrap()
                ),
                &auditor,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            audit["items"][0]["actor"],
            agent_user.email.to_string(),
            "{backend}"
        );
        // Requesters report for themselves only; a reporter must exist.
        let r = app
            .send_json(
                Method::POST,
                "/api/v1/incidents",
                &caller_token,
                &body(other.id.to_string()),
            )
            .await;
        problem(r, StatusCode::FORBIDDEN).await;
        let r = app
            .send_json(
                Method::POST,
                "/api/v1/incidents",
                &agent,
                &body(uuid::Uuid::now_v7().to_string()),
            )
            .await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            "reporter"
        );
        // The agents' form offers it.
        let mut b = app.browser();
        b.login(&agent_user.email.to_string(), PASSWORD).await;
        let (_, _, page) = b.get("/incidents/new").await;
        assert!(page.contains("id=\"new-reporter\""), "{backend}");
        let csrf = Browser::csrf(&page);
        let caller_id = caller.id.to_string();
        let (status, loc, _) = b
            .post(
                "/incidents",
                &[
                    ("csrf", csrf.as_str()),
                    ("title", "Phone call: VPN refuses the token"),
                    ("description", ""),
                    ("category", "access"),
                    ("impact", "low"),
                    ("urgency", "low"),
                    ("reporter", caller_id.as_str()),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let reference = loc
            .unwrap()
            .trim_start_matches("/incidents/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let got = ok(
            app.get(&format!("/api/v1/incidents/{reference}"), &agent)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["reporter"], caller.id.to_string(), "{backend}");
    }
}
