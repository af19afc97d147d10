//! The control catalogue through the API and the import page.

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

#[tokio::test]
async fn nist_catalog_and_profile_import_through_the_api() {
    let low = nist("NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog-min.json");
    let profile = nist("NIST_SP-800-53_rev5_LOW-baseline_profile.json");
    for app in spawn_apps().await {
        let sec = app.token_for(&[Role::SecurityManager]).await;
        // 1.2 MB: above the general body limit, within the import route's.
        let r = app
            .send_json(Method::POST, "/api/v1/catalogs", &sec, &low)
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", app.backend);
        let first: Value = r.json().await.unwrap();
        assert_eq!(
            (first["kind"].as_str(), first["inserted"].as_u64()),
            (Some("catalog"), Some(149))
        );
        let again: Value = app
            .send_json(Method::POST, "/api/v1/catalogs", &sec, &low)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (again["inserted"].as_u64(), again["unchanged"].as_u64()),
            (Some(0), Some(149)),
            "idempotent"
        );
        let b: Value = app
            .send_json(Method::POST, "/api/v1/catalogs", &sec, &profile)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(b["kind"], "profile");
        assert_eq!(b["baseline_controls"], 149, "{b}");
        assert_eq!(
            b["catalog_id"], first["catalog_id"],
            "applied to the catalog holding its controls"
        );

        let baselines: Value = app
            .get("/api/v1/baselines", &sec)
            .await
            .json()
            .await
            .unwrap();
        let baseline = baselines[0]["id"].as_str().unwrap();
        let found: Value = app
            .get(
                &format!("/api/v1/controls?baseline_id={baseline}&q=account+management&limit=500"),
                &sec,
            )
            .await
            .json()
            .await
            .unwrap();
        let ac2 = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control_id"] == "ac-2")
            .expect("AC-2 in LOW")
            .clone();
        assert_eq!(ac2["label"], "AC-2");
        assert_eq!(ac2["function"], "preventive");
        assert_eq!(ac2["function_source"], "default");
        let id = ac2["id"].as_str().unwrap();
        let r: Value = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/controls/{id}"),
                &sec,
                &json!({"function": "detective"}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (r["function"].as_str(), r["function_source"].as_str()),
            (Some("detective"), Some("manual"))
        );
        let p = problem(
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/controls/{id}"),
                &sec,
                &json!({"function": "magic"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "function");

        let c = app
            .send_json(Method::POST, "/api/v1/controls", &sec, &json!({"control_id": "org-media-1", "title": "Storage media with personal data", "statement": "Encrypt and log.", "function": "preventive"}))
            .await;
        assert_eq!(c.status(), StatusCode::CREATED);
        problem(
            app.send_json(Method::POST, "/api/v1/controls", &sec, &json!({"control_id": "org-media-1", "title": "x", "statement": "y", "function": "preventive"})).await,
            StatusCode::CONFLICT,
        )
        .await;
        let p = problem(
            app.send_json(
                Method::POST,
                "/api/v1/catalogs",
                &sec,
                &json!({"component-definition": {}}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "document");
        let agent = app.token_for(&[Role::Agent]).await;
        problem(
            app.send_json(Method::POST, "/api/v1/catalogs", &agent, &low)
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let cats: Value = app
            .get("/api/v1/catalogs", &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            cats.as_array().unwrap().len(),
            2,
            "NIST and the organisation's own"
        );
    }
}

#[tokio::test]
async fn the_import_page_takes_a_file_upload() {
    for app in spawn_apps().await {
        app.user("sec@example.org", &[Role::SecurityManager], None)
            .await;
        let mut b = app.browser();
        b.login("sec@example.org", PASSWORD).await;
        let (_, _, page) = b.get("/controls/import").await;
        let csrf = Browser::csrf(&page);
        let cookie = b
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let upload = |doc: String, csrf: String| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("catalog_id", "")
                .part(
                    "document",
                    reqwest::multipart::Part::text(doc).file_name("catalog.json"),
                );
            app.client
                .post(app.url("/controls/import"))
                .header("cookie", cookie.clone())
                .multipart(form)
                .send()
        };
        let r = upload(tiny_catalog().to_string(), csrf.clone())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", app.backend);
        assert!(r.text().await.unwrap().contains("2 controls added"));
        let r = upload(r#"{"catalog": 1}"#.to_string(), csrf.clone())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = upload(tiny_catalog().to_string(), "forged".into())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let (status, _, page) = b.get("/controls?q=enhancement").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Test enhancement"));
    }
}

#[tokio::test]
async fn cmdb_import_and_evidence_uploads_on_pages() {
    for app in spawn_apps().await {
        app.user("sec@example.org", &[Role::SecurityManager], None)
            .await;
        let (ci, _, _) = app.ci_pair("up").await;
        let ctl = app.control("up").await;
        let mut b = app.browser();
        b.login("sec@example.org", PASSWORD).await;
        let (_, _, page) = b.get("/cmdb/import").await;
        let csrf = Browser::csrf(&page);
        let cookie = b
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let send = |path: String, name: &'static str, body: &'static str, csrf: String| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .part("file", reqwest::multipart::Part::text(body).file_name(name));
            app.client
                .post(app.url(&path))
                .header("cookie", cookie.clone())
                .multipart(form)
                .send()
        };
        // The security manager may not change the CMDB: 403 before the upload is read.
        let r = send(
            "/cmdb/import".into(),
            "cis.csv",
            "external_key,ci_type,name\nk1,server,s1\n",
            csrf.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", app.backend);
        // But may file evidence.
        let r = send(
            format!("/cmdb/{ci}/measures/{ctl}/evidence"),
            "wipe-log.txt",
            "wiped 2026-10-01",
            csrf.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", app.backend);
        let (_, _, page) = b.get(&format!("/cmdb/{ci}/measures/{ctl}")).await;
        let sha = custos_core::secret::sha256_hex(b"wiped 2026-10-01");
        assert!(
            page.contains("wipe-log.txt") && page.contains(&sha),
            "{page}"
        );
        let r = send(
            format!("/cmdb/{ci}/measures/{ctl}/evidence"),
            "x.txt",
            "x",
            "forged".into(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        app.user("agent@example.org", &[Role::Agent], None).await;
        let mut a = app.browser();
        a.login("agent@example.org", PASSWORD).await;
        let (_, _, page) = a.get("/cmdb/import").await;
        let csrf = Browser::csrf(&page);
        let cookie = a
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
            "file",
            reqwest::multipart::Part::text(
                "external_key,ci_type,name\nk1,server,s1\nk2,toaster,t\n",
            )
            .file_name("cis.csv"),
        );
        let r = app
            .client
            .post(app.url("/cmdb/import"))
            .header("cookie", cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("1 created") && page.contains("unknown ci_type"),
            "{page}"
        );
    }
}
