//! Announcements over the API and the pages, on every backend: writing needs
//! `manage_announcements`, readers see only what is shown to them now, every write is
//! audited, and bad input is named by its field.

use crate::helpers::*;
use custos_core::account::Role;
use custos_core::authz::Actor;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// RFC 3339 of now + `hours`.
fn at(hours: i64) -> String {
    let ts = custos_core::Timestamp::now().plus_secs(hours * 3600);
    custos_server::http::util::rfc3339(ts)
}

/// A business service CI.
async fn service(app: &TestApp, name: &str) -> custos_core::CiId {
    let ci = custos_core::cmdb::CiInput::new(
        "business_service",
        name,
        None,
        custos_core::cmdb::Lifecycle::Active,
        json!({}),
    )
    .unwrap();
    app.store
        .create_ci(&Actor::System("test"), ci)
        .await
        .unwrap()
        .ci
        .id
}

fn body(title: &str, from: i64, to: i64, audience: &str) -> serde_json::Value {
    json!({"title": title, "body": "Line one\n<b>not bold</b>", "severity": "maintenance",
        "starts_at": at(from), "ends_at": at(to), "audience": audience})
}

async fn create(app: &TestApp, token: &str, b: &serde_json::Value) -> serde_json::Value {
    ok(
        app.send_json(Method::POST, "/api/v1/announcements", token, b)
            .await,
        StatusCode::CREATED,
    )
    .await
}

fn titles(list: &serde_json::Value) -> Vec<String> {
    let mut t: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn announcements_are_written_audited_and_changed_by_their_managers() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let admin = app.token_for(&[Role::Admin, Role::Auditor]).await;
        let payroll = service(&app, "Payroll").await;

        let mut b = body("Payroll maintenance", -1, 48, "everyone");
        b["service_id"] = json!(payroll);
        let a = create(&app, &agent, &b).await;
        let id = a["id"].as_str().unwrap().to_string();
        assert_eq!(a["severity"], "maintenance");
        assert_eq!(a["service_id"], json!(payroll));
        assert_eq!(a["active"], true);
        assert_eq!(a["body"], "Line one\n<b>not bold</b>");

        let got = ok(
            app.get(&format!("/api/v1/announcements/{id}"), &agent)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["title"], "Payroll maintenance");

        let mut changed = body("Payroll maintenance moved", 24, 72, "agents");
        changed["severity"] = json!("outage");
        let put = ok(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/announcements/{id}"),
                &agent,
                &changed,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(put["title"], "Payroll maintenance moved");
        assert_eq!(put["audience"], "agents");
        assert_eq!(put["service_id"], json!(null));
        assert_eq!(put["active"], false);

        // Managers filter: upcoming and past, or active.
        let inactive = ok(
            app.get("/api/v1/announcements?active=false", &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(titles(&inactive), ["Payroll maintenance moved"]);
        let active = ok(
            app.get("/api/v1/announcements?active=true", &agent).await,
            StatusCode::OK,
        )
        .await;
        assert!(titles(&active).is_empty());

        ok(
            app.delete(&format!("/api/v1/announcements/{id}"), &agent)
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        problem(
            app.get(&format!("/api/v1/announcements/{id}"), &agent)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.delete(&format!("/api/v1/announcements/{id}"), &agent)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;

        // Each write left its entry, with what changed.
        app.seal().await;
        let log = ok(
            app.get(
                &format!("/api/v1/audit?entity_type=announcement&entity_id={id}"),
                &admin,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let mut actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        actions.sort();
        assert_eq!(
            actions,
            [
                "announcement.create",
                "announcement.delete",
                "announcement.update"
            ]
        );
        let update = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "announcement.update")
            .unwrap();
        assert_eq!(
            update["changes"]["audience"],
            json!({"before": "everyone", "after": "agents"})
        );
    }
}

#[tokio::test]
async fn bad_input_is_named_by_its_field_and_unknown_ids_are_not_found() {
    for app in spawn_apps().await {
        let owner = app.token_for(&[Role::ServiceOwner]).await;
        let (server, _, _) = app.ci_pair("ann").await;
        let cases = [
            (json!({"title": " "}), "title"),
            (json!({"ends_at": at(-2)}), "ends_at"),
            (json!({"starts_at": "next monday"}), "starts_at"),
            (json!({"severity": "critical"}), "severity"),
            (json!({"audience": "customers"}), "audience"),
            (json!({"service_id": server}), "service_id"),
            (json!({"service_id": uuid::Uuid::now_v7()}), "service_id"),
            (json!({"colour": "red"}), "colour"),
        ];
        for (change, field) in cases {
            let mut b = body("Bad", -1, 1, "everyone");
            for (k, v) in change.as_object().unwrap() {
                b[k] = v.clone();
            }
            let p = problem(
                app.send_json(Method::POST, "/api/v1/announcements", &owner, &b)
                    .await,
                StatusCode::BAD_REQUEST,
            )
            .await;
            assert_eq!(p["field"], field, "{change}: {p}");
        }
        let mut missing = body("No end", -1, 1, "everyone");
        missing.as_object_mut().unwrap().remove("ends_at");
        let p = problem(
            app.send_json(Method::POST, "/api/v1/announcements", &owner, &missing)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "ends_at");

        let unknown = uuid::Uuid::now_v7();
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let r = app
                .send_json(
                    method.clone(),
                    &format!("/api/v1/announcements/{unknown}"),
                    &owner,
                    &body("Unknown", -1, 1, "everyone"),
                )
                .await;
            problem(r, StatusCode::NOT_FOUND).await;
        }
        problem(
            app.get("/api/v1/announcements/not-a-uuid", &owner).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/api/v1/announcements?active=maybe", &owner).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
}

#[tokio::test]
async fn readers_see_only_active_notices_for_their_audience() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let requester = app.token_for(&[Role::Requester]).await;
        let sm = app.token_for(&[Role::SecurityManager]).await;
        let now_all = create(&app, &agent, &body("Now for all", -1, 1, "everyone")).await;
        let now_agents = create(&app, &agent, &body("Now for agents", -1, 1, "agents")).await;
        let future = create(&app, &agent, &body("Next week", 100, 200, "everyone")).await;
        let past = create(&app, &agent, &body("Yesterday", -30, -20, "everyone")).await;

        let list = ok(
            app.get("/api/v1/announcements", &requester).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(titles(&list), ["Now for all"]);
        // `active=true` says the same; the inactive ones are for managers.
        let list = ok(
            app.get("/api/v1/announcements?active=true", &requester)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(titles(&list), ["Now for all"]);
        problem(
            app.get("/api/v1/announcements?active=false", &requester)
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        // The agents audience: people who work incidents.
        let list = ok(app.get("/api/v1/announcements", &sm).await, StatusCode::OK).await;
        assert_eq!(titles(&list), ["Now for agents", "Now for all"]);
        // Managers list every one.
        let list = ok(
            app.get("/api/v1/announcements", &agent).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            titles(&list),
            ["Next week", "Now for agents", "Now for all", "Yesterday"]
        );

        // One not shown to the reader is not found, like a missing one.
        for hidden in [&now_agents, &future, &past] {
            let id = hidden["id"].as_str().unwrap();
            problem(
                app.get(&format!("/api/v1/announcements/{id}"), &requester)
                    .await,
                StatusCode::NOT_FOUND,
            )
            .await;
        }
        let id = now_all["id"].as_str().unwrap();
        ok(
            app.get(&format!("/api/v1/announcements/{id}"), &requester)
                .await,
            StatusCode::OK,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/announcements",
                &requester,
                &body("Not mine to write", -1, 1, "everyone"),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
}

#[tokio::test]
async fn the_portal_and_dashboard_show_notices_and_the_form_names_the_bad_field() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        create(&app, &agent, &body("Printers <offline>", -1, 1, "everyone")).await;
        create(&app, &agent, &body("Agents only freeze", -1, 1, "agents")).await;
        create(&app, &agent, &body("Later notice", 10, 20, "everyone")).await;

        app.user("rita@example.org", &[Role::Requester], None).await;
        let mut b = app.browser();
        b.login("rita@example.org", PASSWORD).await;
        for page in ["/portal", "/"] {
            let (status, _, html) = b.get(page).await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("Service notices"), "{page}");
            assert!(html.contains("Printers &"), "{page}");
            assert!(!html.contains("Printers <offline>"), "{page}: escaped");
            assert!(!html.contains("Agents only freeze"), "{page}");
            assert!(!html.contains("Later notice"), "{page}");
        }
        let (status, _, _) = b.get("/announcements").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        app.user("olga@example.org", &[Role::ServiceOwner], None)
            .await;
        let mut o = app.browser();
        o.login("olga@example.org", PASSWORD).await;
        let (status, _, list) = o.get("/announcements?active=false").await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.contains("Later notice"));
        assert!(!list.contains("Printers"));
        let (_, _, form) = o.get("/announcements/new").await;
        let csrf = Browser::csrf(&form);
        let form = |ends: &'static str| {
            [
                ("title", "Webshop down"),
                ("body", "Back by noon."),
                ("severity", "outage"),
                ("service_id", ""),
                ("starts_at", "2030-01-04T06:00"),
                ("ends_at", ends),
                ("audience", "everyone"),
            ]
        };
        let mut bad = vec![("csrf", csrf.as_str())];
        bad.extend(form("2030-01-04T05:00"));
        let (status, _, html) = o.post("/announcements", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            html.contains("Shown until: must be after starts_at"),
            "{html}"
        );
        assert!(html.contains("href=\"#ann-ends_at\""));
        assert!(
            html.contains("value=\"Webshop down\""),
            "the form keeps its input"
        );
        let mut good = vec![("csrf", csrf.as_str())];
        good.extend(form("2030-01-04T12:00"));
        let (status, loc, _) = o.post("/announcements", &good).await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/announcements?done=saved"))
        );
        let (_, _, list) = o.get("/announcements").await;
        assert!(list.contains("Webshop down"));
    }
}
