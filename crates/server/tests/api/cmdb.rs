//! The CMDB through the API: CIs, relationships, classification spreading along
//! dependencies (and receding when a link goes), impact analysis, search.

use crate::helpers::*;
use custos_core::account::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn ci(app: &TestApp, token: &str, ci_type: &str, name: &str, attrs: Value) -> String {
    let r = app
        .send_json(
            Method::POST,
            "/api/v1/cis",
            token,
            &json!({"ci_type": ci_type, "name": name, "external_key": name, "attributes": attrs}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", app.backend);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn link(app: &TestApp, token: &str, s: &str, t: &str, rel: &str) -> String {
    let r = app
        .send_json(
            Method::POST,
            "/api/v1/relationships",
            token,
            &json!({"source_id": s, "target_id": t, "rel_type": rel}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn classification_spreads_along_the_chain_and_recedes() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let customer = app.token_for(&[Role::CustomerRepresentative]).await;
        let admin = app.token_for(&[Role::Admin]).await;
        let svc = ci(
            &app,
            &agent,
            "business_service",
            "Payroll",
            json!({"owner": "HR"}),
        )
        .await;
        let appl = ci(&app, &agent, "application", "PayrollApp", json!({})).await;
        let vm = ci(
            &app,
            &agent,
            "virtual_machine",
            "vm-payroll-01",
            json!({"os": "Debian 12"}),
        )
        .await;
        let srv = ci(&app, &agent, "server", "esx-07", json!({})).await;
        link(&app, &agent, &svc, &appl, "depends_on").await;
        let app_vm = link(&app, &agent, &appl, &vm, "runs_on").await;
        link(&app, &agent, &vm, &srv, "hosted_by").await;

        let body = json!({"confidentiality": "high", "justification": "salaries and bank details"});
        problem(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/cis/{svc}/classification"),
                &admin,
                &body,
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let p = problem(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/cis/{svc}/classification"),
                &customer,
                &json!({"confidentiality": "high"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "justification");
        let p = problem(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/cis/{svc}/classification"),
                &customer,
                &json!({"confidentiality": "secret", "justification": "x"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "confidentiality");
        let p = problem(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/cis/{svc}/classification"),
                &customer,
                &json!({"confidentiality": "high", "justification": "x", "confidental": "high"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "confidental");
        let r = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/cis/{svc}/classification"),
                &customer,
                &body,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", app.backend);

        for (id, path_len) in [(&svc, 1), (&appl, 2), (&vm, 3), (&srv, 4)] {
            let c: Value = app
                .get(&format!("/api/v1/cis/{id}/classification"), &agent)
                .await
                .json()
                .await
                .unwrap();
            let conf = &c["effective"][0];
            assert_eq!(conf["dimension"], "confidentiality");
            assert_eq!(conf["level"], "high", "{}: {c}", app.backend);
            assert_eq!(conf["source"]["name"], "Payroll");
            assert_eq!(conf["path"].as_array().unwrap().len(), path_len);
            assert_eq!(c["effective"][1]["level"], "low", "integrity untouched");
        }
        let c: Value = app
            .get(&format!("/api/v1/cis/{srv}/classification"), &agent)
            .await
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = c["effective"][0]["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["esx-07", "vm-payroll-01", "PayrollApp", "Payroll"]);

        // Removing application → VM lowers VM and server again.
        let r = app
            .delete(&format!("/api/v1/relationships/{app_vm}"), &agent)
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        for (id, level) in [(&appl, "high"), (&vm, "low"), (&srv, "low")] {
            let c: Value = app
                .get(&format!("/api/v1/cis/{id}"), &agent)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(
                c["effective_classification"]["confidentiality"]["level"], level,
                "{}: {c}",
                app.backend
            );
        }
        app.seal().await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let log: Value = app
            .get(
                &format!("/api/v1/audit?entity_type=ci&entity_id={svc}&action=ci.classify"),
                &auditor,
            )
            .await
            .json()
            .await
            .unwrap();
        let entry = &log["items"][0];
        assert_eq!(
            entry["changes"]["confidentiality"],
            json!({"before": null, "after": "high"})
        );
        assert_eq!(entry["changes"]["reclassified_cis"], 4);
    }
}

#[tokio::test]
async fn impact_analysis_search_and_validation() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let svc = ci(&app, &agent, "business_service", "Webshop", json!({})).await;
        let web = ci(
            &app,
            &agent,
            "application",
            "shop-frontend",
            json!({"lang": "rust"}),
        )
        .await;
        let db = ci(
            &app,
            &agent,
            "database",
            "shop-db",
            json!({"engine": "postgresql"}),
        )
        .await;
        let sw = ci(&app, &agent, "network_device", "core-switch-1", json!({})).await;
        link(&app, &agent, &svc, &web, "depends_on").await;
        link(&app, &agent, &db, &svc, "stores_data_of").await;
        link(&app, &agent, &web, &sw, "connects_to").await;
        let up: Value = app
            .get(
                &format!("/api/v1/cis/{sw}/impact?direction=upstream"),
                &agent,
            )
            .await
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = up["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["ci"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["shop-frontend", "Webshop"], "{}: {up}", app.backend);
        assert_eq!(up["items"][1]["distance"], 2);
        let down: Value = app
            .get(
                &format!("/api/v1/cis/{svc}/impact?direction=downstream&depth=1"),
                &agent,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(down["items"].as_array().unwrap().len(), 2, "{down}");
        let p = problem(
            app.get(
                &format!("/api/v1/cis/{svc}/impact?direction=sideways"),
                &agent,
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "direction");
        problem(
            app.get(
                &format!("/api/v1/cis/{svc}/impact?direction=upstream&depth=0"),
                &agent,
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;

        let found: Value = app
            .get("/api/v1/cis?q=postgres", &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            found["items"][0]["name"], "shop-db",
            "{}: {found}",
            app.backend
        );
        let found: Value = app
            .get("/api/v1/cis?q=shop&ci_type=application", &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found["items"].as_array().unwrap().len(), 1);

        let dup = app
            .send_json(
                Method::POST,
                "/api/v1/cis",
                &agent,
                &json!({"ci_type": "server", "name": "x", "external_key": "shop-db"}),
            )
            .await;
        problem(dup, StatusCode::CONFLICT).await;
        let p = problem(
            app.send_json(
                Method::POST,
                "/api/v1/cis",
                &agent,
                &json!({"ci_type": "server", "name": "x", "attributes": [1]}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "attributes");
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/relationships",
                &agent,
                &json!({"source_id": svc, "target_id": web, "rel_type": "depends_on"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let p = problem(
            app.send_json(
                Method::POST,
                "/api/v1/relationships",
                &agent,
                &json!({"source_id": svc, "target_id": svc, "rel_type": "depends_on"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "target_id");
        problem(
            app.send_json(Method::POST, "/api/v1/relationships", &agent, &json!({"source_id": svc, "target_id": uuid::Uuid::now_v7(), "rel_type": "depends_on"})).await,
            StatusCode::NOT_FOUND,
        )
        .await;

        // Admins add types; then CIs may use them.
        let admin = app.token_for(&[Role::Admin]).await;
        let r = app
            .send_json(
                Method::POST,
                "/api/v1/ci-types",
                &admin,
                &json!({"name": "iot_sensor", "label": "IoT sensor"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        ci(&app, &agent, "iot_sensor", "sensor-17", json!({})).await;
        let r = app.delete(&format!("/api/v1/cis/{svc}"), &agent).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let rels: Value = app
            .get(&format!("/api/v1/relationships?ci={web}"), &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            rels["items"].as_array().unwrap().len(),
            1,
            "the service's links went with it"
        );
    }
}

#[tokio::test]
async fn ci_pages_show_classification_sources_and_work_without_javascript() {
    for app in spawn_apps().await {
        app.user("owner@example.org", &[Role::ServiceOwner], None)
            .await;
        let mut b = app.browser();
        b.login("owner@example.org", PASSWORD).await;
        let (_, _, page) = b.get("/cmdb/new").await;
        let csrf = Browser::csrf(&page);
        let (status, loc, _) = b
            .post(
                "/cmdb",
                &[
                    ("csrf", &csrf),
                    ("name", "HR portal"),
                    ("ci_type", "business_service"),
                    ("status", "active"),
                    ("external_key", "svc-hr"),
                    ("attributes", "{\"url\": \"https://hr\"}"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{}", app.backend);
        let svc_page = loc.unwrap();
        let (status, loc, _) = b
            .post(
                "/cmdb",
                &[
                    ("csrf", &csrf),
                    ("name", "hr-db"),
                    ("ci_type", "database"),
                    ("status", "active"),
                    ("external_key", "db-hr"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let db_page = loc.unwrap();
        let (status, _, page) = b
            .post(
                "/cmdb",
                &[
                    ("csrf", &csrf),
                    ("name", "bad"),
                    ("ci_type", "server"),
                    ("status", "active"),
                    ("attributes", "{not json"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("not valid JSON"));
        // The service depends on the database; classify the service.
        let (status, _, _) = b
            .post(
                &format!("{svc_page}/relationships"),
                &[
                    ("csrf", &csrf),
                    ("direction", "outgoing"),
                    ("rel_type", "depends_on"),
                    ("other", "db-hr"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, _) = b
            .post(
                &format!("{svc_page}/classification"),
                &[
                    ("csrf", &csrf),
                    ("confidentiality", "high"),
                    ("integrity", "moderate"),
                    ("availability", ""),
                    ("justification", "personnel files"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, page) = b.get(&db_page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("inherited from <a href=\"/cmdb/"), "{page}");
        assert!(page.contains("HR portal"));
        assert!(page.contains("<svg viewBox="), "dependency diagram");
        assert!(
            page.contains(">confidential</span>") && !page.contains(">high</span>"),
            "configured level names are shown: {page}"
        );
        let (status, _, page) = b.get(&format!("{db_page}/impact?direction=upstream")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("HR portal"));
        let (status, _, page) = b.get("/cmdb?q=hr").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("hr-db") && page.contains("HR portal"));
    }
}

const CIS_CSV: &str = "external_key,ci_type,name,status,department,attributes
srv-01,server,esx-01,active,,\"{\"\"rack\"\": \"\"B4\"\"}\"
srv-02,server,esx-02,active,,
vm-01,virtual_machine,vm-01,active,,
vm-02,virtual_machine,vm-02,planned,,
app-01,application,Payroll app,active,,
svc-01,business_service,Payroll,active,,
db-01,database,payroll-db,active,,
ds-01,dataset,Salaries,active,,
net-01,network_device,core-switch,active,,
ep-01,endpoint,\"Laptop, finance\",retired,,
bad-01,toaster,Kitchen,active,,
,server,no key,active,,
";

#[tokio::test]
async fn bulk_import_reports_bad_rows_by_line_and_is_idempotent() {
    for app in spawn_apps().await {
        let agent = app.token_for(&[Role::Agent]).await;
        let post = |ct: &'static str, body: String| {
            app.client
                .post(app.url("/api/v1/cmdb/import"))
                .bearer_auth(&agent)
                .header("content-type", ct)
                .body(body)
                .send()
        };
        let r: Value = post("text/csv", CIS_CSV.into())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["cis_created"], 10, "{}: {r}", app.backend);
        let lines: Vec<u64> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [12, 13], "{r}");
        assert!(
            r["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("unknown ci_type")
        );
        let again: Value = post("text/csv", CIS_CSV.into())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                again["cis_created"].as_u64(),
                again["cis_unchanged"].as_u64()
            ),
            (Some(0), Some(10)),
            "idempotent"
        );

        let rels = "source_key,rel_type,target_key\nsvc-01,depends_on,app-01\napp-01,runs_on,vm-01\nvm-01,hosted_by,srv-01\ndb-01,stores_data_of,ds-01\napp-01,eats,vm-02\nghost,depends_on,vm-01\n";
        let r: Value = post("text/csv", rels.into())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["relationships_created"], 4, "{r}");
        let lines: Vec<u64> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [6, 7]);
        let r: Value = post("text/csv", rels.into())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                r["relationships_created"].as_u64(),
                r["relationships_existing"].as_u64()
            ),
            (Some(0), Some(4))
        );

        // JSON works too; the import re-propagates classification.
        let svc = app
            .get("/api/v1/cis?q=Payroll&ci_type=business_service", &agent)
            .await
            .json::<Value>()
            .await
            .unwrap()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let customer = app.token_for(&[Role::CustomerRepresentative]).await;
        app.send_json(
            Method::PUT,
            &format!("/api/v1/cis/{svc}/classification"),
            &customer,
            &json!({"availability": "high", "justification": "payday"}),
        )
        .await;
        let body = json!({"cis": [{"external_key": "srv-03", "ci_type": "server", "name": "esx-03"}], "relationships": [{"source_key": "vm-01", "rel_type": "hosted_by", "target_key": "srv-03"}]});
        let r: Value = post("application/json", body.to_string())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                r["cis_created"].as_u64(),
                r["relationships_created"].as_u64()
            ),
            (Some(1), Some(1)),
            "{r}"
        );
        assert!(r["reclassified"].as_u64().unwrap() >= 1);
        let servers: Value = app
            .get("/api/v1/cis?ci_type=server", &agent)
            .await
            .json()
            .await
            .unwrap();
        let srv3 = servers["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["external_key"] == "srv-03")
            .expect("imported")
            .clone();
        assert_eq!(
            srv3["effective_classification"]["availability"]["level"], "high",
            "{}: {srv3}",
            app.backend
        );
        let search: Value = app
            .get("/api/v1/cis?q=esx-03", &agent)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            search["items"].as_array().unwrap().len(),
            1,
            "{}: {search}",
            app.backend
        );

        // Export → import changes nothing.
        let csv = app
            .get("/api/v1/cmdb/export?kind=cis&format=csv", &agent)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 12, "{csv}");
        let r: Value = post("text/csv", csv).await.unwrap().json().await.unwrap();
        assert_eq!(
            (
                r["cis_created"].as_u64(),
                r["cis_updated"].as_u64(),
                r["errors"].as_array().unwrap().len()
            ),
            (Some(0), Some(0), 0),
            "{r}"
        );
        let rels = app
            .get("/api/v1/cmdb/export?kind=relationships&format=json", &agent)
            .await
            .text()
            .await
            .unwrap();
        let r: Value = post("application/json", rels)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                r["relationships_created"].as_u64(),
                r["relationships_existing"].as_u64()
            ),
            (Some(0), Some(5))
        );
        problem(
            post("text/plain", "x".into()).await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        let p = problem(
            post("text/csv", "foo,bar\n1,2\n".into()).await.unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], "body");
    }
}
