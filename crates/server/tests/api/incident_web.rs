//! Incident management through the web pages: a requester reports through the portal and
//! sees only its own reports and their public comments; an agent records, lists, filters,
//! searches, exports and works incidents (status, notes, files, saved filters); a security
//! incident stays out of every page of those without need-to-know (admins included), an
//! agent's external communication about it waits for a security manager's approval, and
//! the procedure stepper says what the current phase still needs.

use crate::helpers::*;
use crate::incidents::world;
use custos_core::account::Role;
use reqwest::StatusCode;

/// A new user with `roles`, signed in: its browser, CSRF token and id.
async fn signed_in<'a>(
    app: &'a TestApp,
    email: &str,
    roles: &[Role],
) -> (Browser<'a>, String, String) {
    let user = app.user(email, roles, None).await;
    let mut b = app.browser();
    let (status, _, _) = b.login(email, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{email} signs in");
    let (_, _, home) = b.get("/").await;
    let csrf = Browser::csrf(&home);
    (b, csrf, user.id.to_string())
}

/// `INC-000042` from a redirect to `/incidents/INC-000042?…` or `/portal/INC-000042?…`.
fn reference(loc: &Option<String>) -> String {
    let loc = loc.as_deref().expect("a redirect");
    let i = loc
        .find("INC-")
        .unwrap_or_else(|| panic!("{loc} names an incident"));
    loc[i..].split(['?', '#', '/']).next().unwrap().to_string()
}

/// The agents' form recording an incident.
async fn record(b: &mut Browser<'_>, csrf: &str, title: &str, extra: &[(&str, &str)]) -> String {
    let mut form = vec![
        ("csrf", csrf),
        ("title", title),
        ("description", "Seen since this morning."),
        ("category", "network"),
        ("impact", "medium"),
        ("urgency", "medium"),
    ];
    form.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    form.extend_from_slice(extra);
    let (status, loc, page) = b.post("/incidents", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    reference(&loc)
}

/// The edit form as the page sends it, with `changes` applied.
fn edit<'a>(
    csrf: &'a str,
    title: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("status", "new"),
        ("resolution", ""),
        ("group", ""),
        ("assignee", ""),
        ("title", title),
        ("description", "Seen since this morning."),
        ("category", "network"),
        ("impact", "medium"),
        ("urgency", "medium"),
        ("service", ""),
        ("cis_more", ""),
    ];
    for (k, v) in changes {
        form.retain(|(x, _)| x != k);
        form.push((*k, *v));
    }
    form
}

fn cookie(b: &Browser<'_>) -> String {
    b.cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sends the upload form of an incident's page.
async fn upload(
    b: &Browser<'_>,
    reference: &str,
    csrf: &str,
    evidence: bool,
    description: &str,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .text("description", description.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"firewall log line 1\n".to_vec())
                .file_name("fw.log")
                .mime_str("text/plain")
                .unwrap(),
        );
    if evidence {
        form = form.text("evidence", "true");
    }
    b.app
        .client
        .post(b.app.url(&format!("/incidents/{reference}/attachments")))
        .header("cookie", cookie(b))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn requesters_report_in_the_portal_and_see_only_their_reports_and_public_comments() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let (mut ann, ann_csrf, _) = signed_in(&app, "ann@example.org", &[Role::Requester]).await;
        let (_, _, home) = ann.get("/").await;
        assert!(
            home.contains("href=\"/portal\""),
            "the dashboard points to the portal"
        );
        assert!(
            !home.contains("href=\"/incidents\""),
            "{backend}: no agents' list"
        );
        let (status, _, page) = ann.get("/portal").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("My reports") && page.contains("Who is affected?"));

        // Without a category the form comes back with the input kept and a linked summary.
        let report = |category: &'static str| {
            vec![
                ("title", "Printer does not print"),
                ("description", "Paper jam light is on."),
                ("category", category),
                ("impact", "low"),
                ("urgency", "medium"),
                ("service", ""),
            ]
        };
        let mut form = report("");
        form.push(("csrf", &ann_csrf));
        let (status, _, page) = ann.post("/portal", &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(page.contains("href=\"#report-category\""), "{page}");
        assert!(page.contains("Paper jam light is on."));

        let mut form = report("hardware");
        form.push(("csrf", &ann_csrf));
        let (status, loc, _) = ann.post("/portal", &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let mine = reference(&loc);
        assert!(loc.unwrap().starts_with(&format!("/portal/{mine}")));
        let (status, _, page) = ann.get(&format!("/portal/{mine}?done=reported")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("your report is recorded"));
        assert_eq!(Browser::element_text(&page, "report-status"), "New");

        let (mut bob, bob_csrf, _) = signed_in(&app, "bob@example.org", &[Role::Requester]).await;
        let mut form = report("software");
        form[0].1 = "Bob's laptop is slow";
        form.push(("csrf", &bob_csrf));
        let (_, loc, _) = bob.post("/portal", &form).await;
        let bobs = reference(&loc);

        let (_, _, page) = ann.get("/portal").await;
        assert!(
            page.contains(&mine) && !page.contains(&bobs),
            "{backend}: own reports only"
        );
        let (status, _, _) = ann.get(&format!("/portal/{bobs}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another person's report");
        for page in ["/incidents", &format!("/incidents/{mine}")] {
            let (status, _, _) = ann.get(page).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{page} is for agents");
        }

        // An agent writes an internal note and a public comment; the reporter sees only the
        // comment.
        let (mut agent, csrf, _) = signed_in(&app, "ada@example.org", &[Role::Agent]).await;
        for (kind, body) in [
            ("work_note", "Internal: driver 4.2 is broken"),
            ("public_comment", "We are on our way with a new toner."),
        ] {
            let (status, loc, page) = agent
                .post(
                    &format!("/incidents/{mine}/notes"),
                    &[
                        ("csrf", &csrf),
                        ("kind", kind),
                        ("body", body),
                        ("audience", ""),
                        ("recipient", ""),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
            assert!(loc.unwrap().contains("done=note"));
        }
        let (_, _, page) = ann.get(&format!("/portal/{mine}")).await;
        assert!(
            page.contains("We are on our way with a new toner."),
            "{backend}"
        );
        assert!(
            !page.contains("driver 4.2"),
            "{backend}: no work notes in the portal"
        );
        let (status, loc, _) = ann
            .post(
                &format!("/portal/{mine}/comments"),
                &[
                    ("csrf", &ann_csrf),
                    ("body", "Thanks, it is on the 3rd floor."),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(loc.unwrap().contains("done=comment"));
        let (status, _, page) = ann
            .post(
                &format!("/portal/{mine}/comments"),
                &[("csrf", &ann_csrf), ("body", " ")],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#comment-body\""));
        let (_, _, page) = ann.get(&format!("/portal/{mine}")).await;
        assert!(page.contains("Thanks, it is on the 3rd floor."));
        let (status, _, _) = ann
            .post(
                &format!("/portal/{bobs}/comments"),
                &[("csrf", &ann_csrf), ("body", "x")],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "not on someone else's report"
        );
        // The agent sees the whole log and the requester's comment.
        let (_, _, page) = agent.get(&format!("/incidents/{mine}")).await;
        assert!(page.contains("driver 4.2") && page.contains("3rd floor"));
    }
}

#[tokio::test]
async fn agents_record_list_filter_search_export_and_work_incidents() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let (mut b, csrf, me) = signed_in(&app, "agnes@example.org", &[Role::Agent]).await;
        let (_, _, home) = b.get("/").await;
        assert!(
            home.contains("href=\"/incidents\""),
            "nav points agents to the list"
        );
        let (status, _, page) = b.get("/incidents/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("<option value=\"data_leak\">"),
            "security categories offered"
        );

        let (status, _, page) = b
            .post(
                "/incidents",
                &[
                    ("csrf", &csrf),
                    ("title", ""),
                    ("category", "network"),
                    ("impact", "high"),
                    ("urgency", "high"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#new-title\""), "{page}");

        let vpn = record(
            &mut b,
            &csrf,
            "VPN drops every hour",
            &[("impact", "high"), ("urgency", "high")],
        )
        .await;
        let printer = record(
            &mut b,
            &csrf,
            "Printer jams",
            &[("impact", "low"), ("urgency", "low")],
        )
        .await;
        let (status, _, page) = b.get(&format!("/incidents/{vpn}?done=created")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            Browser::element_text(&page, "inc-priority"),
            "P1",
            "{backend}"
        );
        assert!(page.contains("The incident is recorded."));
        // Only the allowed next statuses are offered.
        assert!(
            page.contains("<option value=\"in_progress\"")
                && page.contains("<option value=\"resolved\"")
        );
        assert!(
            !page.contains("<option value=\"closed\""),
            "new cannot close"
        );

        // List, search, filters, counts.
        let (_, _, page) = b.get("/incidents").await;
        assert!(page.contains(&vpn) && page.contains(&printer));
        assert!(page.find(&printer) < page.find(&vpn), "newest first");
        assert_eq!(
            Browser::element_text(&page, "match-count"),
            "2 incidents match"
        );
        let (_, _, page) = b.get("/incidents?q=vpn").await;
        assert!(
            page.contains(&vpn) && !page.contains(&printer),
            "{backend}: search"
        );
        assert_eq!(
            Browser::element_text(&page, "match-count"),
            "1 incident matches"
        );
        assert!(page.contains("href=\"/incidents.csv?q=vpn\""));
        let (_, _, page) = b.get("/incidents?priority=p4&status=").await;
        assert!(page.contains(&printer) && !page.contains(&vpn));
        // Reporter and service filters, offered as choices.
        let (_, _, page) = b.get("/incidents?reporter=me").await;
        assert!(page.contains("id=\"f-reporter\"") && page.contains("id=\"f-service\""));
        assert_eq!(
            Browser::element_text(&page, "match-count"),
            "2 incidents match",
            "{backend}: both are mine"
        );
        let someone = uuid::Uuid::now_v7();
        let (_, _, page) = b.get(&format!("/incidents?reporter={someone}")).await;
        assert_eq!(
            Browser::element_text(&page, "match-count"),
            "0 incidents match",
            "{backend}"
        );
        let (status, _, page) = b.get("/incidents?service=printer").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#f-service\""), "{backend}");
        let (status, _, page) = b.get("/incidents?security=maybe").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#f-security\""));

        // Work it: assign to me and start; resolving needs notes.
        let (status, loc, page) = b
            .post(
                &format!("/incidents/{vpn}"),
                &edit(
                    &csrf,
                    "VPN drops every hour",
                    &[
                        ("status", "in_progress"),
                        ("assignee", &me),
                        ("impact", "high"),
                        ("urgency", "high"),
                    ],
                ),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(loc.unwrap().contains("done=saved"));
        let (_, _, page) = b.get(&format!("/incidents/{vpn}")).await;
        assert_eq!(Browser::element_text(&page, "inc-status"), "In progress");
        let (_, _, page) = b.get("/incidents?open=true&assignee=me").await;
        assert!(
            page.contains(&vpn) && !page.contains(&printer),
            "{backend}: mine"
        );
        let (status, _, page) = b
            .post(
                &format!("/incidents/{vpn}"),
                &edit(
                    &csrf,
                    "VPN drops every hour",
                    &[("status", "resolved"), ("assignee", &me)],
                ),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#edit-resolution\""), "{page}");
        assert!(page.contains("aria-invalid=\"true\""));
        let (status, _, page) = b
            .post(
                &format!("/incidents/{vpn}"),
                &edit(&csrf, "VPN drops every hour", &[("status", "closed")]),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "in progress cannot close: {page}"
        );

        // Notes, files, links, timeline.
        let (status, _, _) = b
            .post(
                &format!("/incidents/{vpn}/notes"),
                &[
                    ("csrf", &csrf),
                    ("kind", "work_note"),
                    ("body", "Rebooted the concentrator."),
                    ("audience", ""),
                    ("recipient", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, page) = b
            .post(
                &format!("/incidents/{vpn}/notes"),
                &[
                    ("csrf", &csrf),
                    ("kind", "external"),
                    ("body", "Dear customers"),
                    ("audience", ""),
                    ("recipient", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            page.contains("href=\"#note-audience\"") && page.contains("Dear customers"),
            "kept: {page}"
        );
        let r = upload(&b, &vpn, &csrf, false, "The firewall's log").await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        let r = upload(&b, &vpn, &csrf, true, "evidence").await;
        assert_eq!(
            r.status(),
            StatusCode::CONFLICT,
            "evidence belongs to security incidents"
        );
        let (status, _, page) = b
            .post(
                &format!("/incidents/{vpn}/links"),
                &[("csrf", &csrf), ("other", &printer)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let (status, _, page) = b
            .post(
                &format!("/incidents/{vpn}/links"),
                &[("csrf", &csrf), ("other", "INC-999999")],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#link-other\""));
        let (_, _, page) = b.get(&format!("/incidents/{vpn}")).await;
        assert!(page.contains("Rebooted the concentrator."));
        assert!(
            page.contains(&format!("href=\"/incidents/{printer}\"")),
            "linked"
        );
        let sha = custos_core::secret::sha256_hex(b"firewall log line 1\n");
        assert!(
            page.contains(&sha),
            "{backend}: the file's SHA-256 is shown"
        );
        let href = page
            .split(&format!("/incidents/{vpn}/attachments/"))
            .nth(1)
            .unwrap();
        let file = href.split('"').next().unwrap();
        let r = b
            .app
            .client
            .get(app.url(&format!("/incidents/{vpn}/attachments/{file}")))
            .header("cookie", cookie(&b))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["x-content-sha256"], sha.as_str());
        app.seal().await;
        let (status, _, page) = b.get(&format!("/incidents/{vpn}/timeline")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("incident.update") && page.contains("work_note"),
            "{page}"
        );

        // CSV of what the filters match.
        let r = b
            .app
            .client
            .get(app.url("/incidents.csv?q=vpn"))
            .header("cookie", cookie(&b))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = r.text().await.unwrap();
        assert!(csv.contains(&vpn) && !csv.contains(&printer), "{csv}");

        // Saved filters.
        let (status, loc, _) = b
            .post(
                "/incident-filters",
                &[
                    ("csrf", &csrf),
                    ("name", "My P1s"),
                    ("query", "priority=p1&x=1"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(loc.as_deref(), Some("/incidents?priority=p1&done=filter"));
        let (_, _, page) = b.get("/incidents").await;
        assert!(
            page.contains("href=\"/incidents?priority=p1\">My P1s</a>"),
            "{page}"
        );
        let (status, _, page) = b
            .post(
                "/incident-filters",
                &[
                    ("csrf", &csrf),
                    ("name", "My P1s"),
                    ("query", "priority=p1"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "names are unique per user");
        assert!(page.contains("error-summary"));
        let (status, _, page) = b
            .post(
                "/incident-filters",
                &[("csrf", &csrf), ("name", "Bad"), ("query", "priority=p9")],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        let id = page
            .split("/incident-filters/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let (status, _, _) = b
            .post(
                &format!("/incident-filters/{id}/delete"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = b.get("/incidents").await;
        assert!(!page.contains("My P1s"), "{backend}: deleted");
        // Someone else does not see or delete my filters.
        let (mut other, ocsrf, _) = signed_in(&app, "otto@example.org", &[Role::Agent]).await;
        let (_, _, page) = other.get("/incidents").await;
        assert!(!page.contains("My P1s"));
        let (status, _, _) = other
            .post(
                &format!("/incident-filters/{id}/delete"),
                &[("csrf", &ocsrf)],
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn security_incidents_stay_out_of_sight_and_external_communications_wait_for_approval() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        // A requester reports a data leak on Payroll, whose agreed SLA lists data_leak.
        let (mut rita, rcsrf, _) = signed_in(&app, "rita@example.org", &[Role::Requester]).await;
        let svc = w.svc.to_string();
        let (status, loc, page) = rita
            .post(
                "/portal",
                &[
                    ("csrf", &rcsrf),
                    ("title", "Payslips mailed to the wrong team"),
                    ("description", "All of March."),
                    ("category", "data_leak"),
                    ("impact", "medium"),
                    ("urgency", "high"),
                    ("service", &svc),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let leak = reference(&loc);
        let (_, _, page) = rita.get(&format!("/portal/{leak}")).await;
        assert!(
            !page.contains("Payroll SLA") && !page.to_lowercase().contains("security incident"),
            "{backend}: no analysis in the portal"
        );

        let inc = app
            .store
            .list_incidents(
                &custos_core::ticket::Viewer {
                    user: custos_core::UserId(uuid::Uuid::nil()),
                    security_team: true,
                    role_mask: 0,
                    own_only: false,
                },
                &custos_core::ticket::IncidentFilter {
                    text: vec!["payslips".into()],
                    ..Default::default()
                },
                custos_core::page::PageRequest::first(5),
            )
            .await
            .unwrap()
            .items
            .remove(0);
        let uuid = inc.id.to_string();
        assert!(inc.security.flagged, "{backend}: recognised by the SLA");

        // An admin (who also reads incidents) and an unrelated agent get no trace of it.
        let (mut admin, _, _) = signed_in(&app, "root@example.org", &[Role::Admin]).await;
        let (status, _, _) = admin.get("/incidents").await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a plain admin has no incident list"
        );
        let (admin_aud, _, _) =
            signed_in(&app, "root2@example.org", &[Role::Admin, Role::Auditor]).await;
        let (agent, _, alan) = signed_in(&app, "alan@example.org", &[Role::Agent]).await;
        for mut b in [admin_aud, agent] {
            for page in [
                "/incidents",
                "/incidents?q=payslips",
                "/incidents?security=true",
            ] {
                let (status, _, body) = b.get(page).await;
                assert_eq!(status, StatusCode::OK);
                assert!(
                    !body.contains(&leak) && !body.contains("Payslips"),
                    "{backend} {page}"
                );
                assert_eq!(
                    Browser::element_text(&body, "match-count"),
                    "0 incidents match",
                    "{page}"
                );
            }
            let r = b
                .app
                .client
                .get(app.url("/incidents.csv?q=payslips"))
                .header("cookie", cookie(&b))
                .send()
                .await
                .unwrap();
            assert!(!r.text().await.unwrap().contains(&leak));
            for page in [
                format!("/incidents/{leak}"),
                format!("/incidents/{uuid}"),
                format!("/incidents/{leak}/timeline"),
                format!("/portal/{leak}"),
            ] {
                let (status, _, body) = b.get(&page).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {page}");
                assert!(!body.contains("Payslips"));
            }
        }

        // The security manager sees it, why, and what the procedure needs.
        let (mut sm, smcsrf, _) =
            signed_in(&app, "sam@example.org", &[Role::SecurityManager]).await;
        let (_, _, page) = sm.get("/incidents?q=payslips").await;
        assert!(
            page.contains(&leak) && page.contains("badge-sec"),
            "{backend}"
        );
        assert_eq!(
            Browser::element_text(&page, "match-count"),
            "1 incident matches"
        );
        let (status, _, page) = sm.get(&format!("/incidents/{leak}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(
                "SLA &#34;Payroll SLA&#34;: incidents of category &#34;data_leak&#34; are security incidents."
            ),
            "{page}"
        );
        assert!(
            page.contains("aria-current=\"step\">Detection &#38; escalation"),
            "{page}"
        );
        assert!(page.contains("assign a handler (assignee)"));
        assert!(page.contains("/unflag"), "security managers may unflag");

        // Advancing too early names what is missing; assigning an agent gives need-to-know.
        let (status, _, page) = sm
            .post(
                &format!("/incidents/{leak}/phase"),
                &[("csrf", &smcsrf), ("phase", "triage")],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("href=\"#phase-phase\"") && page.contains("assign a handler"));
        let (mut ivy, icsrf, ivy_id) = signed_in(&app, "ivy@example.org", &[Role::Agent]).await;
        let (status, _, page) = sm
            .post(
                &format!("/incidents/{leak}"),
                &edit(
                    &smcsrf,
                    "Payslips mailed to the wrong team",
                    &[
                        ("assignee", &ivy_id),
                        ("service", &svc),
                        ("category", "data_leak"),
                        ("urgency", "high"),
                        ("description", "All of March."),
                    ],
                ),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let (status, _, _) = sm
            .post(
                &format!("/incidents/{leak}/phase"),
                &[("csrf", &smcsrf), ("phase", "triage")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = sm.get(&format!("/incidents/{leak}")).await;
        assert!(page.contains("aria-current=\"step\">Triage &#38; analysis"));
        assert!(
            page.contains("assess the severity") && page.contains("log at least one evidence item"),
            "{page}"
        );

        // The assignee works it, without the power to unflag or approve.
        let (status, _, page) = ivy.get(&format!("/incidents/{leak}")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend}: the assignee has need-to-know"
        );
        assert!(!page.contains("/unflag"));
        let (status, _, _) = ivy
            .post(
                &format!("/incidents/{leak}/unflag"),
                &[("csrf", &icsrf), ("reason", "no")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let r = upload(&ivy, &leak, &icsrf, true, "").await;
        assert_eq!(
            r.status(),
            StatusCode::BAD_REQUEST,
            "evidence needs a description"
        );
        let r = upload(&ivy, &leak, &icsrf, true, "Mail server log, exported by IT").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (status, loc, _) = ivy
            .post(
                &format!("/incidents/{leak}/notes"),
                &[
                    ("csrf", &icsrf),
                    ("kind", "external"),
                    (
                        "body",
                        "Dear Finance, payslips of March reached the wrong team.",
                    ),
                    ("audience", "customers"),
                    ("recipient", "Finance"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(loc.unwrap().contains("done=draft"));
        let (_, _, page) = ivy.get(&format!("/incidents/{leak}")).await;
        assert!(page.contains("comm-draft\">draft"), "{page}");
        assert!(
            !page.contains("/approve"),
            "{backend}: only security managers get the approve button"
        );
        assert!(page.contains("Waiting for a security manager"));
        // The security manager's dashboard counts it; the agent's has no such item.
        let waiting = |n: i64| {
            format!(
                "href=\"/incidents?awaiting_approval=true\">External communications waiting for approval: <strong class=\"count\">{n}</strong>"
            )
        };
        let (_, _, home) = sm.get("/").await;
        assert!(home.contains(&waiting(1)), "{backend}: {home}");
        let (_, _, home) = ivy.get("/").await;
        assert!(!home.contains("awaiting_approval"), "{backend}");
        let (_, _, list) = sm.get("/incidents?awaiting_approval=true").await;
        assert!(list.contains(&leak), "{backend}: {list}");
        let note = page
            .split("id=\"note-")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let (status, _, _) = ivy
            .post(
                &format!("/incidents/{leak}/notes/{note}/approve"),
                &[("csrf", &icsrf), ("reason", "")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (_, _, page) = sm.get(&format!("/incidents/{leak}")).await;
        assert!(
            page.contains(&format!("/incidents/{leak}/notes/{note}/approve")),
            "{page}"
        );
        let (status, _, page) = sm
            .post(
                &format!("/incidents/{leak}/notes/{note}/reject"),
                &[("csrf", &smcsrf), ("reason", "")],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a rejection needs a reason"
        );
        assert!(page.contains(&format!("href=\"#decide-{note}-reason\"")));
        let (status, loc, _) = sm
            .post(
                &format!("/incidents/{leak}/notes/{note}/approve"),
                &[("csrf", &smcsrf), ("reason", "")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(loc.unwrap().contains("done=approved"));
        let (_, _, home) = sm.get("/").await;
        assert!(
            home.contains(&waiting(0)),
            "{backend}: approved, nothing waits"
        );
        let (_, _, list) = sm.get("/incidents?awaiting_approval=true").await;
        assert!(!list.contains(&leak), "{backend}: {list}");
        let (_, _, page) = ivy.get(&format!("/incidents/{leak}")).await;
        assert!(page.contains("comm-sent\">sent"), "{backend}");

        // Need-to-know list: the security manager adds the unrelated agent, who then sees it.
        let (status, _, _) = sm
            .post(
                &format!("/incidents/{leak}/access"),
                &[("csrf", &smcsrf), ("user", &alan)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let mut alan_b = app.browser();
        alan_b.login("alan@example.org", PASSWORD).await;
        let (status, _, _) = alan_b.get(&format!("/incidents/{leak}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: added to the list");
        let (status, _, _) = sm
            .post(
                &format!("/incidents/{leak}/access/{alan}/delete"),
                &[("csrf", &smcsrf)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, _) = alan_b.get(&format!("/incidents/{leak}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: removed again");

        // An agent flags an ordinary incident by hand; it then leaves the sight of others.
        let (mut otto, ocsrf, _) = signed_in(&app, "otto@example.org", &[Role::Agent]).await;
        let odd = record(&mut otto, &ocsrf, "Odd logins at night", &[]).await;
        let (status, _, page) = otto
            .post(
                &format!("/incidents/{odd}/flag"),
                &[("csrf", &ocsrf), ("reason", " ")],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#flag-reason\""));
        let (status, loc, _) = otto
            .post(
                &format!("/incidents/{odd}/flag"),
                &[
                    ("csrf", &ocsrf),
                    ("reason", "Logins from an unknown country"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            loc.as_deref(),
            Some("/incidents?done=hidden"),
            "{backend}: handed to the security team; reporting it gives no need-to-know"
        );
        let (status, _, _) = otto.get(&format!("/incidents/{odd}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, _, page) = otto.get(&format!("/portal/{odd}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: followed in the portal");
        assert!(page.contains("Odd logins at night"), "{backend}");
        let (_, _, page) = sm.get(&format!("/incidents/{odd}")).await;
        assert!(
            page.contains("Flagged by hand by otto")
                && page.contains("Logins from an unknown country"),
            "{page}"
        );
        let (status, _, _) = alan_b.get(&format!("/incidents/{odd}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, loc, _) = sm
            .post(
                &format!("/incidents/{odd}/unflag"),
                &[("csrf", &smcsrf), ("reason", "A colleague travelling")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(loc.unwrap().contains("done=unflagged"));
        let (status, _, _) = alan_b.get(&format!("/incidents/{odd}")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend}: visible again once unflagged"
        );
    }
}

#[tokio::test]
async fn groups_are_listed_for_agents_and_managed_by_admins() {
    for app in spawn_apps().await {
        let gina = app
            .user("gina@example.org", &[Role::Agent], None)
            .await
            .id
            .to_string();
        let (mut admin, csrf, _) = signed_in(&app, "adm@example.org", &[Role::Admin]).await;
        let (_, _, home) = admin.get("/").await;
        assert!(
            home.contains("href=\"/admin/groups\""),
            "admins find groups in the nav"
        );
        let (status, _, page) = admin
            .post(
                "/groups",
                &[("csrf", &csrf), ("name", " "), ("lead", &gina)],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("href=\"#group-name\""));
        let (status, loc, _) = admin
            .post(
                "/groups",
                &[
                    ("csrf", &csrf),
                    ("name", "Network team"),
                    ("lead", &gina),
                    ("members", &gina),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(loc.as_deref(), Some("/admin/groups?done=group"));
        let (_, _, page) = admin.get("/admin/groups").await;
        assert!(page.contains("Network team") && page.contains("gina"));
        let row = page.split("\">Network team</a>").next().unwrap();
        let id = row.rsplit("href=\"/groups/").next().unwrap().to_string();
        let (status, _, page) = admin.get(&format!("/groups/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("value=\"Network team\""));

        let mut b = app.browser();
        b.login("gina@example.org", PASSWORD).await;
        let (status, _, page) = b.get("/groups").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Network team") && !page.contains("/groups/new"));
        let (status, _, _) = b.get(&format!("/groups/{id}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, _, page) = b.get("/incidents").await;
        assert!(page.contains("Network team"), "the group filter offers it");

        let (status, _, _) = admin
            .post(&format!("/groups/{id}/delete"), &[("csrf", &csrf)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = admin.get("/admin/groups").await;
        assert!(!page.contains("Network team"));
    }
}
