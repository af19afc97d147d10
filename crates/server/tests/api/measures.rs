//! Required measures and the gap report: baselines by level, added controls, common
//! controls, and a gap that moves with classification, implementation and time.

use crate::helpers::*;
use custos_core::account::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn nist(name: &str) -> Value {
    let path = format!(
        "{}/../../data/oscal/nist-sp800-53-rev5/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.send_json(Method::POST, path, token, &body).await;
    assert!(r.status().is_success(), "{path}: {}", r.status());
    if r.status() == StatusCode::NO_CONTENT {
        Value::Null
    } else {
        r.json().await.unwrap()
    }
}

#[tokio::test]
async fn the_gap_moves_with_classification_implementation_and_time() {
    for app in spawn_apps().await {
        let sec = app.token_for(&[Role::SecurityManager]).await;
        let agent = app.token_for(&[Role::Agent]).await;
        let customer = app.token_for(&[Role::CustomerRepresentative]).await;
        let owner = app.token_for(&[Role::ServiceOwner]).await;
        post(
            &app,
            &sec,
            "/api/v1/catalogs",
            nist("NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json"),
        )
        .await;
        for level in ["LOW", "MODERATE", "HIGH"] {
            post(
                &app,
                &sec,
                "/api/v1/catalogs",
                nist(&format!(
                    "NIST_SP-800-53_rev5_{level}-baseline_profile.json"
                )),
            )
            .await;
        }
        let map: Value = app
            .get("/api/v1/classification-baselines", &sec)
            .await
            .json()
            .await
            .unwrap();
        assert!(
            map.as_array()
                .unwrap()
                .iter()
                .all(|m| m["baseline_id"].is_string() && m["explicit"] == false),
            "{}: {map}",
            app.backend
        );

        let svc = post(
            &app,
            &agent,
            "/api/v1/cis",
            json!({"ci_type": "business_service", "name": "Payroll"}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let vm = post(
            &app,
            &agent,
            "/api/v1/cis",
            json!({"ci_type": "virtual_machine", "name": "vm-1"}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        post(
            &app,
            &agent,
            "/api/v1/relationships",
            json!({"source_id": svc, "target_id": vm, "rel_type": "runs_on"}),
        )
        .await;

        let m: Value = app
            .get(&format!("/api/v1/cis/{vm}/measures"), &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (m["level"].as_str(), m["summary"]["required"].as_u64()),
            (Some("low"), Some(149)),
            "{}",
            app.backend
        );
        // Classifying the service moderate raises the VM to the MODERATE baseline.
        let r = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/cis/{svc}/classification"),
                &customer,
                &json!({"integrity": "moderate", "justification": "exact pay"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let m: Value = app
            .get(&format!("/api/v1/cis/{vm}/measures"), &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (m["level"].as_str(), m["summary"]["required"].as_u64()),
            (Some("moderate"), Some(287))
        );
        assert_eq!(m["summary"]["missing"], 287);

        // An organisation control added on the service is required of the VM too.
        let media = post(&app, &sec, "/api/v1/controls", json!({"control_id": "org-media-1", "title": "Media with personal data", "statement": "Encrypt.", "function": "preventive"})).await;
        let media_id = media["id"].as_str().unwrap();
        let r = app
            .send_json(
                Method::POST,
                &format!("/api/v1/cis/{svc}/controls"),
                &owner,
                &json!({"control_id": media_id, "reason": "SLA 4.2"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let m: Value = app
            .get(&format!("/api/v1/cis/{vm}/measures"), &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(m["summary"]["required"], 288);
        let line = m["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"]["id"] == media["id"])
            .unwrap()
            .clone();
        assert_eq!(line["reasons"], json!([format!("added on {svc}")]));

        // Implementing a control; a common control on the service; a review date passing.
        let ac2 = m["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"]["label"] == "AC-2")
            .unwrap()["control"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let put = |ci: &str, control: &str, body: Value| {
            let (ci, control) = (ci.to_string(), control.to_string());
            let agent = agent.clone();
            let app = &app;
            async move {
                app.send_json(
                    Method::PUT,
                    &format!("/api/v1/cis/{ci}/implementations/{control}"),
                    &agent,
                    &body,
                )
                .await
            }
        };
        let r = put(&vm, &ac2, json!({"status": "verified", "evidence": "IAM report 2026-10", "next_review_at": "2999-01-01T00:00:00Z"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let m: Value = r.json().await.unwrap();
        assert_eq!(
            (
                m["summary"]["verified"].as_u64(),
                m["summary"]["missing"].as_u64()
            ),
            (Some(1), Some(287))
        );
        let r = put(
            &svc,
            media_id,
            json!({"status": "implemented", "inheritable": true}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let m: Value = app
            .get(&format!("/api/v1/cis/{vm}/measures"), &agent)
            .await
            .json()
            .await
            .unwrap();
        let line = m["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"]["id"] == media["id"])
            .unwrap()
            .clone();
        assert_eq!(
            (line["status"].as_str(), line["inherited_from"].as_str()),
            (Some("implemented"), Some(svc.as_str())),
            "common control"
        );
        let r = put(
            &vm,
            &ac2,
            json!({"status": "verified", "next_review_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
        let m: Value = r.json().await.unwrap();
        assert_eq!(
            m["summary"]["overdue_reviews"], 1,
            "a passed review date is overdue"
        );

        let p = problem(
            put(&vm, &ac2, json!({"status": "not_applicable"})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "justification");
        let p = problem(
            put(&vm, &ac2, json!({"status": "done"})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "status");
        problem(
            put(
                &vm,
                &uuid::Uuid::now_v7().to_string(),
                json!({"status": "planned"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;

        // Service scope includes the VM; CSV has one row per CI.
        let g: Value = app
            .get(&format!("/api/v1/gaps?scope=service&ci={svc}"), &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(g["items"].as_array().unwrap().len(), 2);
        assert_eq!(g["total"]["required"], 288 * 2);
        let csv = app
            .get(
                &format!("/api/v1/gaps?scope=service&ci={svc}&format=csv"),
                &agent,
            )
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.starts_with("ci_id,ci_name"));
        let overall: Value = app.get("/api/v1/gaps", &agent).await.json().await.unwrap();
        assert_eq!(overall["scope"], "overall");
        problem(
            app.get("/api/v1/gaps?scope=service", &agent).await,
            StatusCode::BAD_REQUEST,
        )
        .await;

        // The gap report (set-based) agrees with the CI's own measures view (per CI).
        let m: Value = app
            .get(&format!("/api/v1/cis/{vm}/measures"), &agent)
            .await
            .json()
            .await
            .unwrap();
        let g: Value = app
            .get(&format!("/api/v1/gaps?scope=ci&ci={vm}"), &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(g["total"], m["summary"], "{}", app.backend);

        // Explicit mapping by an administrator overrides the default by name.
        let admin = app.token_for(&[Role::Admin]).await;
        let low = map[0]["baseline_id"].as_str().unwrap();
        let r = app
            .send_json(
                Method::PUT,
                "/api/v1/classification-baselines",
                &admin,
                &json!({"low": low, "moderate": low, "high": null}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let m: Value = app
            .get(&format!("/api/v1/cis/{vm}/measures"), &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            m["summary"]["required"], 150,
            "moderate now maps to LOW (149) + the added control"
        );
    }
}

#[tokio::test]
async fn measures_pages_require_implement_and_report() {
    for app in spawn_apps().await {
        app.user("sec@example.org", &[Role::SecurityManager], None)
            .await;
        let (ci, _, _) = app.ci_pair("pages").await;
        let ctl = app.control("media").await;
        let mut b = app.browser();
        b.login("sec@example.org", PASSWORD).await;
        let (status, _, page) = b.get(&format!("/cmdb/{ci}/measures")).await;
        assert_eq!(status, StatusCode::OK, "{}", app.backend);
        assert!(
            page.contains("no baseline mapped"),
            "no catalog imported yet"
        );
        let csrf = Browser::csrf(&page);
        let (status, _, page) = b
            .post(
                &format!("/cmdb/{ci}/measures"),
                &[("csrf", &csrf), ("control", "nope-1"), ("reason", "x")],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("no control has this id"));
        let (status, _, _) = b
            .post(
                &format!("/cmdb/{ci}/measures"),
                &[
                    ("csrf", &csrf),
                    ("control", "T-MEDIA"),
                    ("reason", "SLA 4.2"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = b.get(&format!("/cmdb/{ci}/measures?only=missing")).await;
        assert!(
            page.contains("T-MEDIA") && page.contains("not_started"),
            "{page}"
        );
        let edit = format!("/cmdb/{ci}/measures/{ctl}");
        let (status, _, page) = b
            .post(
                &edit,
                &[
                    ("csrf", &csrf),
                    ("status", "not_applicable"),
                    ("justification", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("required when a control is not applicable"));
        let (status, _, _) = b
            .post(
                &edit,
                &[
                    ("csrf", &csrf),
                    ("status", "verified"),
                    ("evidence", "wipe log"),
                    ("links", "https://wiki/wipes"),
                    ("next_review", "2020-01-01"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = b.get(&format!("/cmdb/{ci}/measures?only=overdue")).await;
        assert!(
            page.contains("T-MEDIA") && page.contains("overdue"),
            "{page}"
        );
        let (status, _, page) = b.get("/gaps?sort=overdue").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("pages-a"));
        let (status, _, csv) = b.get("/gaps.csv").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            csv.lines()
                .any(|l| l.contains("\"pages-a\"") && l.ends_with(",100")),
            "{csv}"
        );
    }
}

#[tokio::test]
async fn evidence_files_keep_their_sha256() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let (ci, _, _) = app.ci_pair("ev").await;
        let ctl = app.control("ev").await;
        let content = b"<script>alert(1)</script> wipe log 2026-10".to_vec();
        let url = app.url(&format!(
            "/api/v1/cis/{ci}/implementations/{ctl}/evidence?file_name=..%2Fwipe%20log.html"
        ));
        let r = app
            .client
            .post(url)
            .bearer_auth(&agent)
            .header("content-type", "text/html")
            .body(content.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", app.backend);
        let f: Value = r.json().await.unwrap();
        let sha = custos_core::secret::sha256_hex(&content);
        assert_eq!(
            (f["sha256"].as_str(), f["file_name"].as_str()),
            (Some(sha.as_str()), Some("wipe log.html"))
        );
        let list: Value = app
            .get(
                &format!("/api/v1/cis/{ci}/implementations/{ctl}/evidence"),
                &agent,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        let d = app
            .get(
                &format!("/api/v1/evidence/{}", f["id"].as_str().unwrap()),
                &agent,
            )
            .await;
        assert_eq!(
            d.headers()["content-type"],
            "application/octet-stream",
            "never rendered inline"
        );
        assert!(
            d.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert_eq!(d.headers()["x-content-sha256"], sha.as_str());
        assert_eq!(d.bytes().await.unwrap().to_vec(), content);
        app.seal().await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let log: Value = app
            .get("/api/v1/audit?action=evidence.add", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(log["items"][0]["changes"]["sha256"], sha.as_str());
        let empty = app
            .client
            .post(app.url(&format!(
                "/api/v1/cis/{ci}/implementations/{ctl}/evidence?file_name=x"
            )))
            .bearer_auth(&agent)
            .send()
            .await
            .unwrap();
        problem(empty, StatusCode::BAD_REQUEST).await;
        let big = vec![0u8; custos_core::measures::MAX_EVIDENCE_BYTES + 1];
        let r = app
            .client
            .post(app.url(&format!(
                "/api/v1/cis/{ci}/implementations/{ctl}/evidence?file_name=x"
            )))
            .bearer_auth(&agent)
            .body(big)
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
}
