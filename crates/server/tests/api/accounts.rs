//! Users, departments, tokens, validation, pagination and the audit API.

use crate::helpers::*;
use custos_core::account::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn me_needs_a_valid_token_and_admin_routes_need_admin() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let r = app.get("/api/v1/me", &agent).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", app.backend);
        let me: serde_json::Value = r.json().await.unwrap();
        assert_eq!(me["roles"], json!(["agent"]));
        let expected: Vec<&str> = custos_core::authz::Permission::ALL
            .into_iter()
            .filter(|p| custos_core::authz::role_grants(Role::Agent, *p))
            .map(|p| p.as_str())
            .collect();
        assert_eq!(me["permissions"], json!(expected));
        assert!(!expected.contains(&"manage_users") && expected.contains(&"self_service"));

        let r = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"custos\"");
        problem(r, StatusCode::UNAUTHORIZED).await;
        problem(
            app.get("/api/v1/me", "cst_not-a-real-token").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        problem(
            app.get("/api/v1/users", &agent).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
}

#[tokio::test]
async fn users_are_created_validated_paginated_and_changed() {
    for app in spawn_apps().await {
        let admin = app.token_for(&[Role::Admin]).await;
        let dept = app.department("Finance", false).await;
        let body = json!({"email": "Ann@Example.org", "roles": ["agent", "auditor"], "department_id": dept.0, "password": PASSWORD});
        let r = app
            .send_json(Method::POST, "/api/v1/users", &admin, &body)
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", app.backend);
        let ann: serde_json::Value = r.json().await.unwrap();
        assert_eq!(ann["email"], "ann@example.org");
        assert_eq!(ann["roles"], json!(["agent", "auditor"]));

        let dup = app
            .send_json(Method::POST, "/api/v1/users", &admin, &body)
            .await;
        let p = problem(dup, StatusCode::CONFLICT).await;
        assert!(p["detail"].as_str().unwrap().contains("already exists"));

        for (bad, field) in [
            (
                json!({"email": "x@example.org", "roles": ["agent"], "password": "short"}),
                "password",
            ),
            (
                json!({"email": "nope", "roles": ["agent"], "password": PASSWORD}),
                "email",
            ),
            (
                json!({"email": "x@example.org", "roles": ["root"], "password": PASSWORD}),
                "roles",
            ),
            (
                json!({"email": "x@example.org", "roles": [], "password": PASSWORD}),
                "roles",
            ),
            (
                json!({"email": "x@example.org", "password": PASSWORD}),
                "roles",
            ),
            (
                json!({"email": "x@example.org", "roles": "agent", "password": PASSWORD}),
                "roles",
            ),
            (
                json!({"email": "x@example.org", "roles": ["agent"], "password": PASSWORD, "admin": true}),
                "admin",
            ),
        ] {
            let r = app
                .send_json(Method::POST, "/api/v1/users", &admin, &bad)
                .await;
            let p = problem(r, StatusCode::BAD_REQUEST).await;
            assert_eq!(p["field"], field, "{bad}");
        }

        // Pagination walks every user exactly once.
        for i in 0..4 {
            app.user(&format!("p{i}@example.org"), &[Role::Requester], None)
                .await;
        }
        let mut seen = vec![];
        let mut cursor = String::new();
        loop {
            let r = app
                .get(&format!("/api/v1/users?limit=2{cursor}"), &admin)
                .await;
            let page: serde_json::Value = r.json().await.unwrap();
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["email"].as_str().unwrap().to_string()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 6, "{seen:?}");
        let mut dedup = seen.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), 6);
        problem(
            app.get("/api/v1/users?limit=abc", &admin).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get("/api/v1/users?colour=red", &admin).await,
            StatusCode::BAD_REQUEST,
        )
        .await;

        // Patch: roles change is recorded; explicit null removes the department.
        let id = ann["id"].as_str().unwrap();
        let r = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                &admin,
                &json!({"roles": ["agent"], "department_id": null}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let ann: serde_json::Value = r.json().await.unwrap();
        assert_eq!(ann["roles"], json!(["agent"]));
        assert_eq!(ann["department_id"], json!(null));
        app.seal().await;
        let r = app
            .get(
                &format!("/api/v1/audit?entity_type=user&entity_id={id}&action=user.roles_change"),
                &admin,
            )
            .await;
        let log: serde_json::Value = r.json().await.unwrap();
        let entry = &log["items"][0];
        assert_eq!(
            entry["changes"]["roles"],
            json!({"before": "agent,auditor", "after": "agent"})
        );
        assert!(entry["hash"].as_str().unwrap().len() == 64);
        problem(
            app.get("/api/v1/users/not-a-uuid", &admin).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        problem(
            app.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), &admin)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    for app in spawn_apps().await {
        let admin = app.token_for(&[Role::Admin]).await;
        let me: serde_json::Value = app.get("/api/v1/me", &admin).await.json().await.unwrap();
        let path = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
        let p = problem(
            app.send_json(Method::PATCH, &path, &admin, &json!({"disabled": true}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "disabled");
        let p = problem(
            app.send_json(Method::PATCH, &path, &admin, &json!({"roles": ["agent"]}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "roles");
    }
}

#[tokio::test]
async fn departments_crud_with_profile_validation() {
    for app in spawn_apps().await {
        let admin = app.token_for(&[Role::Admin]).await;
        let profile = json!({"mfa_required": true, "session_lifetime_minutes": 480, "idle_timeout_minutes": 15, "access_two_approvals": true, "monitoring_level": "high"});
        let r = app
            .send_json(
                Method::POST,
                "/api/v1/departments",
                &admin,
                &json!({"name": "Finance", "profile": profile}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let d: serde_json::Value = r.json().await.unwrap();
        let path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
        let mut bad = profile.clone();
        bad["idle_timeout_minutes"] = json!(600);
        let p = problem(
            app.send_json(
                Method::PUT,
                &path,
                &admin,
                &json!({"name": "Finance", "profile": bad}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "profile.idle_timeout_minutes");
        let mut bad = profile.clone();
        bad["monitoring_level"] = json!("paranoid");
        let p = problem(
            app.send_json(
                Method::PUT,
                &path,
                &admin,
                &json!({"name": "Finance", "profile": bad}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "profile.monitoring_level");
        let r = app
            .send_json(
                Method::PUT,
                &path,
                &admin,
                &json!({"name": "Finance & Payroll", "profile": profile}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let dup = app
            .send_json(
                Method::POST,
                "/api/v1/departments",
                &admin,
                &json!({"name": "Finance & Payroll", "profile": profile}),
            )
            .await;
        problem(dup, StatusCode::CONFLICT).await;

        // A department with a member cannot go; an empty one can.
        let dept_id = custos_core::DepartmentId(d["id"].as_str().unwrap().parse().unwrap());
        let member = app
            .user("member@example.org", &[Role::Requester], Some(dept_id))
            .await;
        problem(app.delete(&path, &admin).await, StatusCode::CONFLICT).await;
        let r = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/users/{}", member.id),
                &admin,
                &json!({"department_id": null}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = app.delete(&path, &admin).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        problem(app.get(&path, &admin).await, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn tokens_are_shown_once_expire_and_revoke() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let r = app
            .send_json(
                Method::POST,
                "/api/v1/tokens",
                &agent,
                &json!({"name": "ci", "expires_in_days": 30}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let t: serde_json::Value = r.json().await.unwrap();
        let secret = t["token"].as_str().unwrap().to_string();
        assert!(secret.starts_with("cst_"));
        assert!(t["expires_at"].is_string());
        assert_eq!(
            app.get("/api/v1/me", &secret).await.status(),
            StatusCode::OK
        );
        let list: serde_json::Value = app
            .get("/api/v1/tokens", &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
        assert!(
            !list.to_string().contains(&secret),
            "a listed token never includes its secret"
        );
        let p = problem(
            app.send_json(
                Method::POST,
                "/api/v1/tokens",
                &agent,
                &json!({"name": "x", "expires_in_days": 0}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "expires_in_days");

        let id = t["id"].as_str().unwrap();
        let r = app.delete(&format!("/api/v1/tokens/{id}"), &agent).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        problem(
            app.get("/api/v1/me", &secret).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        // Another user's token cannot be revoked through /tokens.
        let other = app.token_for(&[Role::Agent]).await;
        let r = app
            .send_json(
                Method::POST,
                "/api/v1/tokens",
                &other,
                &json!({"name": "mine"}),
            )
            .await;
        let mine: serde_json::Value = r.json().await.unwrap();
        let r = app
            .delete(
                &format!("/api/v1/tokens/{}", mine["id"].as_str().unwrap()),
                &agent,
            )
            .await;
        problem(r, StatusCode::NOT_FOUND).await;
        // An administrator can revoke it.
        let admin = app.token_for(&[Role::Admin]).await;
        let r = app
            .delete(
                &format!(
                    "/api/v1/users/{}/tokens/{}",
                    mine["user_id"].as_str().unwrap(),
                    mine["id"].as_str().unwrap()
                ),
                &admin,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        problem(
            app.get("/api/v1/me", mine["token"].as_str().unwrap()).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[tokio::test]
async fn bodies_are_checked_for_type_size_and_syntax() {
    for app in spawn_apps().await {
        let admin = app.token_for(&[Role::Admin]).await;
        let post = |body: Vec<u8>, ct: &'static str| {
            app.client
                .post(app.url("/api/v1/departments"))
                .bearer_auth(&admin)
                .header("content-type", ct)
                .body(body)
                .send()
        };
        let p = problem(
            post(b"{\"name\": ".to_vec(), "application/json")
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "body");
        problem(
            post(b"name=x".to_vec(), "application/x-www-form-urlencoded")
                .await
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(100 * 1024));
        problem(
            post(huge.into_bytes(), "application/json").await.unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
        problem(
            app.get("/api/v1/nothing-here", &admin).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn audit_is_filtered_paginated_and_verifiable() {
    for app in spawn_apps().await {
        let auditor = app.token_for(&[Role::Auditor]).await;
        for i in 0..5 {
            app.department(&format!("D{i}"), false).await;
        }
        app.seal().await;
        let r: serde_json::Value = app
            .get("/api/v1/audit?entity_type=department&limit=3", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["items"].as_array().unwrap().len(), 3);
        let next = r["next_cursor"].as_str().unwrap();
        let r2: serde_json::Value = app
            .get(
                &format!("/api/v1/audit?entity_type=department&limit=3&cursor={next}"),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r2["items"].as_array().unwrap().len(), 2);
        assert!(r2["next_cursor"].is_null());
        let r: serde_json::Value = app
            .get(
                "/api/v1/audit?actor=system:test&action=user.create",
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            r["items"].as_array().unwrap().len(),
            1,
            "the auditor's own account"
        );
        let future: serde_json::Value = app
            .get("/api/v1/audit?from=2999-01-01T00:00:00Z", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert!(future["items"].as_array().unwrap().is_empty());
        let p = problem(
            app.get("/api/v1/audit?from=yesterday", &auditor).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "from");
        let v: serde_json::Value = app
            .get("/api/v1/audit/verify", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["intact"], true, "{v}");
        assert!(v["checked"].as_u64().unwrap() >= 6);
    }
}

#[tokio::test]
async fn health_and_metrics_need_no_token() {
    for app in spawn_apps().await {
        let h: serde_json::Value = app
            .client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(h["status"], "ok");
        let agent = app.token_for(&[Role::Agent]).await;
        app.get("/api/v1/me", &agent).await;
        let m = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            m.contains("http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}"),
            "{m}"
        );
        assert!(
            m.contains("http_request_duration_seconds_bucket{"),
            "latency is a histogram"
        );
        assert!(m.contains("db_pool_connections{"), "pool statistics");
    }
}

/// A token revoked behind this instance's back (another instance, or the CLI) stops working
/// once the auth cache's TTL (300 ms in tests) has passed; revoking through this instance
/// takes effect at once (tested above).
#[tokio::test]
async fn revocation_elsewhere_is_bounded_by_the_auth_cache_ttl() {
    for app in spawn_apps().await {
        let token = app.token_for(&[Role::Agent]).await;
        let me: serde_json::Value = app.get("/api/v1/me", &token).await.json().await.unwrap();
        let owner = custos_core::UserId(me["id"].as_str().unwrap().parse().unwrap());
        let tokens = app
            .store
            .list_tokens(owner, Default::default())
            .await
            .unwrap();
        let actor = custos_core::authz::Actor::System("elsewhere");
        app.store
            .revoke_token(
                &actor,
                owner,
                tokens.items[0].id,
                custos_core::Timestamp::now(),
            )
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(350)).await;
        problem(
            app.get("/api/v1/me", &token).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}
