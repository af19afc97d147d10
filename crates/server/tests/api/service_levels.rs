//! Service level management through the API: the catalogue, an SLA whose security section
//! drives classification and required controls, the requirements check, two-sided
//! agreement, customer-scoped access, underpinning, and reports in four formats.

use crate::helpers::*;
use custos_core::account::Role;
use custos_core::authz::Actor;
use custos_core::cmdb::{CiInput, Lifecycle, RelType};
use custos_core::{CiId, ControlId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn ok(resp: reqwest::Response, want: StatusCode) -> Value {
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap()
    }
}

struct World {
    svc: CiId,
    app: CiId,
    vm: CiId,
    srv: CiId,
    base: ControlId,
    extra: ControlId,
    unimpl: ControlId,
}

async fn world(app: &TestApp) -> World {
    let actor = Actor::System("test");
    let mk = |t: &str, n: &str| CiInput::new(t, n, None, Lifecycle::Active, json!({})).unwrap();
    let mut ids = vec![];
    for (t, n) in [
        ("business_service", "Payroll"),
        ("application", "Payroll app"),
        ("virtual_machine", "vm-pay"),
        ("server", "esx-pay"),
    ] {
        ids.push(app.store.create_ci(&actor, mk(t, n)).await.unwrap().ci.id);
    }
    for (a, b, r) in [
        (0, 1, RelType::DependsOn),
        (1, 2, RelType::RunsOn),
        (2, 3, RelType::HostedBy),
    ] {
        app.store
            .add_relationship(&actor, ids[a], ids[b], r)
            .await
            .unwrap();
    }
    World {
        svc: ids[0],
        app: ids[1],
        vm: ids[2],
        srv: ids[3],
        base: app.control("base").await,
        extra: app.control("extra").await,
        unimpl: app.control("unimpl").await,
    }
}

fn terms(customer: &str, w: &World) -> Value {
    json!({
        "name": "Payroll SLA 2026",
        "customer_id": customer,
        "service_id": w.svc.to_string(),
        "valid_from": "2026-01-01",
        "valid_to": "2030-12-31",
        "targets": {"availability_pct": 99.5, "priorities": [
            {"response_minutes": 15, "resolution_minutes": 240}, {"response_minutes": 30, "resolution_minutes": 480},
            {"response_minutes": 240, "resolution_minutes": 1440}, {"response_minutes": 480, "resolution_minutes": 4800}]},
        "security": {
            "classification": {"confidentiality": "high", "integrity": "moderate", "availability": null},
            "requirements": [
                {"key": "SR-1", "text": "Standard hardening", "controls": [w.base.to_string()]},
                {"key": "SR-2", "text": "Extra audit logging", "controls": [w.extra.to_string()]},
                {"key": "SR-3", "text": "Payroll data encrypted at rest", "controls": [w.unimpl.to_string()]}
            ],
            "incident_criteria": {"categories": ["data_leak"], "affected_levels": [{"dimension": "confidentiality", "at_least": "high"}], "control_failures": true, "keywords": ["salary"]},
            "asset_protection": "Payroll exports only on encrypted media.",
            "copying_restrictions": "No copies outside the EU.",
            "reporting": "monthly"
        },
        "kpis": [
            {"metric": "control_coverage", "target": 90, "comparison": "at_least", "measured_how": "Gap report of the service scope"},
            {"metric": "security_incidents", "target": 0, "comparison": "at_most"}
        ]
    })
}

#[tokio::test]
async fn an_agreed_sla_drives_classification_measures_and_reports() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let w = world(&app).await;
        let (owner_user, owner) = app.user_with_token(&[Role::ServiceOwner]).await;
        let (rep_a_user, rep_a) = app.user_with_token(&[Role::CustomerRepresentative]).await;
        let (rep_b_user, rep_b) = app.user_with_token(&[Role::CustomerRepresentative]).await;
        let agent = app.token_for(&[Role::Agent]).await;
        let requester = app.token_for(&[Role::Requester]).await;

        // Customers A and B, and a supplier.
        let a = ok(app.send_json(Method::POST, "/api/v1/customers", &owner, &json!({"name": "Finance", "kind": "internal", "representatives": [rep_a_user.id.to_string()]})).await, StatusCode::CREATED).await;
        let b = ok(app.send_json(Method::POST, "/api/v1/customers", &owner, &json!({"name": "Sales", "kind": "internal", "representatives": [rep_b_user.id.to_string()]})).await, StatusCode::CREATED).await;
        let a_id = a["id"].as_str().unwrap().to_string();
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/customers",
                &owner,
                &json!({"name": "Finance", "kind": "internal"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let bad = problem(
            app.send_json(
                Method::POST,
                "/api/v1/customers",
                &owner,
                &json!({"name": "X", "kind": "partner"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "kind");
        problem(
            app.send_json(
                Method::POST,
                "/api/v1/customers",
                &agent,
                &json!({"name": "Y", "kind": "internal"}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let supplier = ok(app.send_json(Method::POST, "/api/v1/suppliers", &owner, &json!({"name": "Acme Hosting", "risk_tier": "high", "contract_start": "2026-01-01", "contract_end": "2027-12-31"})).await, StatusCode::CREATED).await;
        let bad = problem(
            app.send_json(
                Method::POST,
                "/api/v1/suppliers",
                &owner,
                &json!({"name": "Z", "risk_tier": "high", "contract_start": "2026-02-30"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "contract_start");
        // A representative sees only its own customer.
        let listed = ok(app.get("/api/v1/customers", &rep_a).await, StatusCode::OK).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{backend}");
        problem(
            app.get(
                &format!("/api/v1/customers/{}", b["id"].as_str().unwrap()),
                &rep_a,
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.get("/api/v1/suppliers", &rep_a).await,
            StatusCode::FORBIDDEN,
        )
        .await;

        // The catalogue entry: office hours, baseline, owner.
        let hours = json!({"time_zone": "Europe/Amsterdam", "windows": [
            {"day": "mon", "start": "08:00", "end": "18:00"}, {"day": "tue", "start": "08:00", "end": "18:00"},
            {"day": "wed", "start": "08:00", "end": "18:00"}, {"day": "thu", "start": "08:00", "end": "18:00"},
            {"day": "fri", "start": "08:00", "end": "18:00"}], "holidays": ["2026-12-25"]});
        let svc_path = format!("/api/v1/services/{}", w.svc);
        let bad = problem(
            app.send_json(
                Method::PUT,
                &svc_path,
                &owner,
                &json!({"hours": {"time_zone": "Mars/Olympus", "windows": [], "holidays": []}}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "service_hours.time_zone");
        let bad = problem(
            app.send_json(
                Method::PUT,
                &format!("/api/v1/services/{}", w.app),
                &owner,
                &json!({"hours": hours}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "ci_id");
        problem(
            app.send_json(Method::PUT, &svc_path, &agent, &json!({"hours": hours}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let s = ok(app.send_json(Method::PUT, &svc_path, &owner, &json!({"description": "Salaries", "owner_id": owner_user.id.to_string(), "hours": hours, "baseline": [w.base.to_string()]})).await, StatusCode::OK).await;
        assert_eq!(s["name"], "Payroll");
        assert_eq!(
            ok(
                app.get("/api/v1/services", &requester).await,
                StatusCode::FORBIDDEN
            )
            .await["status"],
            403
        );

        // `extra` is implemented somewhere already; `unimpl` nowhere.
        let imp = format!("/api/v1/cis/{}/implementations/{}", w.app, w.extra);
        ok(
            app.send_json(Method::PUT, &imp, &agent, &json!({"status": "implemented"}))
                .await,
            StatusCode::OK,
        )
        .await;

        // Draft → requirements check.
        let sla = ok(
            app.send_json(Method::POST, "/api/v1/slas", &owner, &terms(&a_id, &w))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let sla_id = sla["id"].as_str().unwrap().to_string();
        assert_eq!(sla["status"], "draft");
        let mut broken = terms(&a_id, &w);
        broken["security"]["requirements"][1]["key"] = json!("SR-1");
        let bad = problem(
            app.send_json(Method::POST, "/api/v1/slas", &owner, &broken)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "security.requirements[1].key");
        let check = ok(
            app.get(&format!("/api/v1/slas/{sla_id}/requirements-check"), &owner)
                .await,
            StatusCode::OK,
        )
        .await;
        let by_key = |k: &str| {
            check
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["key"] == k)
                .unwrap()
                .clone()
        };
        assert_eq!(by_key("SR-1")["coverage"], "baseline", "{backend}: {check}");
        assert_eq!(by_key("SR-2")["coverage"], "additional");
        assert_eq!(by_key("SR-2")["unimplemented_controls"], json!([]));
        assert_eq!(by_key("SR-3")["coverage"], "additional");
        assert_eq!(
            by_key("SR-3")["unimplemented_controls"],
            json!([w.unimpl.to_string()])
        );

        // Customer scoping on SLAs and reports.
        let sla_path = format!("/api/v1/slas/{sla_id}");
        problem(app.get(&sla_path, &rep_b).await, StatusCode::FORBIDDEN).await;
        problem(
            app.get(&format!("{sla_path}/reports/2026-10"), &rep_b)
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.get(&format!("{sla_path}/reports"), &rep_b).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(
            ok(app.get("/api/v1/slas", &rep_b).await, StatusCode::OK).await["items"],
            json!([])
        );
        assert_eq!(
            ok(app.get("/api/v1/slas", &rep_a).await, StatusCode::OK).await["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        ok(app.get(&sla_path, &rep_a).await, StatusCode::OK).await;

        // Agreement: only A's representative for the customer, only the owner for the service.
        let agree = format!("{sla_path}/agree");
        problem(
            app.send_json(Method::POST, &agree, &rep_b, &json!({"side": "customer"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.send_json(Method::POST, &agree, &rep_a, &json!({"side": "owner"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        problem(
            app.send_json(Method::POST, &agree, &agent, &json!({"side": "owner"}))
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let half = ok(
            app.send_json(Method::POST, &agree, &rep_a, &json!({"side": "customer"}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(half["status"], "draft");
        problem(
            app.send_json(Method::POST, &agree, &rep_a, &json!({"side": "customer"}))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
        let agreed = ok(
            app.send_json(Method::POST, &agree, &owner, &json!({"side": "owner"}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(agreed["status"], "agreed");
        assert_eq!(
            agreed["customer_agreement"]["user_id"],
            rep_a_user.id.to_string()
        );
        problem(
            app.send_json(Method::PUT, &sla_path, &owner, &terms(&a_id, &w))
                .await,
            StatusCode::CONFLICT,
        )
        .await;

        // C=high flowed down the whole chain, each CI naming where it came from.
        for ci in [w.svc, w.app, w.vm, w.srv] {
            let c = ok(
                app.get(&format!("/api/v1/cis/{ci}"), &agent).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(
                c["effective_classification"]["confidentiality"]["level"], "high",
                "{backend}: {c}"
            );
            assert_eq!(
                c["effective_classification"]["confidentiality"]["source_id"],
                w.svc.to_string()
            );
        }
        // The SLA's additional controls are required measures of the server.
        let m = ok(
            app.get(&format!("/api/v1/cis/{}/measures", w.srv), &agent)
                .await,
            StatusCode::OK,
        )
        .await;
        let required: Vec<&str> = m["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["control"]["id"].as_str().unwrap())
            .collect();
        for c in [w.base, w.extra, w.unimpl] {
            assert!(
                required.contains(&c.to_string().as_str()),
                "{backend}: {c} not required on the server"
            );
        }

        // Underpinning: an OLA for `extra`, a contract for `base`; SR-3 stays unsupported.
        ok(app.send_json(Method::POST, "/api/v1/olas", &owner, &json!({"service_id": w.svc.to_string(), "department_id": null, "team": "Hosting team",
            "component_ci": null, "component_type": "virtual_machine", "controls": [w.extra.to_string()], "targets": "Logs kept 1 year",
            "valid_from": "2026-01-01", "valid_to": "2030-12-31", "review_date": "2027-01-15"})).await, StatusCode::CREATED).await;
        ok(app.send_json(Method::POST, "/api/v1/contracts", &owner, &json!({"supplier_id": supplier["id"], "service_id": w.svc.to_string(), "title": "Hosting contract",
            "controls": [w.base.to_string()], "penalties": "Service credits", "penalty_amount": 5000, "currency": "EUR",
            "valid_from": "2026-01-01", "valid_to": "2030-12-31", "review_date": null})).await, StatusCode::CREATED).await;
        let bad = problem(app.send_json(Method::POST, "/api/v1/olas", &owner, &json!({"service_id": w.svc.to_string(), "department_id": null, "team": "T",
            "component_ci": w.vm.to_string(), "component_type": "server", "valid_from": "2026-01-01", "valid_to": "2030-12-31", "review_date": null})).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(bad["field"], "component_ci");
        let u = ok(
            app.get(&format!("{svc_path}/underpinning"), &owner).await,
            StatusCode::OK,
        )
        .await;
        let unsupported: Vec<&str> = u
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["unsupported"] == true)
            .map(|r| r["key"].as_str().unwrap())
            .collect();
        assert_eq!(unsupported, vec!["SR-3"], "{backend}: {u}");

        // A deliberately failed control, then the report in four formats.
        let imp = format!("/api/v1/cis/{}/implementations/{}", w.srv, w.base);
        ok(
            app.send_json(
                Method::PUT,
                &imp,
                &agent,
                &json!({"status": "failed", "evidence": "Hardening scan failed"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let r = ok(
            app.get(&format!("{sla_path}/reports/2026-10"), &rep_a)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["kept"], Value::Null);
        let report = &r["report"];
        let kinds: Vec<&str> = report["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"failed_control"), "{backend}: {kinds:?}");
        let uncovered: Vec<&Value> = report["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "uncovered_requirement")
            .collect();
        assert!(
            uncovered
                .iter()
                .any(|e| e["title"].as_str().unwrap().starts_with("SR-3")),
            "{backend}: {uncovered:?}"
        );
        assert!(kinds.contains(&"underpinning_missing"));
        let failed = report["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "failed_control")
            .unwrap();
        assert_eq!(failed["link"], format!("/cmdb/{}/measures", w.srv));
        let kpi = |m: &str| {
            report["kpis"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["metric"] == m)
                .unwrap()
                .clone()
        };
        // Incidents are recorded now: no security incident in the period is a real zero.
        assert_eq!(kpi("security_incidents")["outcome"], "met");
        assert_eq!(kpi("security_incidents")["value"], 0.0);
        assert_eq!(kpi("control_coverage")["outcome"], "missed");
        // October 2026 in Amsterdam: 22 working days of 10 hours.
        assert_eq!(report["service_hours"], 220.0);
        let html = app
            .get(&format!("{sla_path}/reports/2026-10?format=html"), &rep_a)
            .await;
        assert_eq!(html.status(), StatusCode::OK);
        let csp = html.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(
            csp.contains("style-src 'unsafe-inline'"),
            "the standalone report's inline stylesheet is allowed: {csp}"
        );
        let html = html.text().await.unwrap();
        assert!(html.contains("SR-3") && html.contains("<svg"), "{backend}");
        // A file that leaves the browser links back with the configured public URL.
        assert!(
            html.contains("href=\"https://custos.example.org/cmdb/"),
            "{backend}: absolute links"
        );
        let csv = app
            .get(&format!("{sla_path}/reports/2026-10?format=csv"), &rep_a)
            .await;
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = csv.text().await.unwrap();
        assert!(
            csv.lines()
                .any(|l| l.starts_with("exception,") && l.contains("SR-3")),
            "{csv}"
        );
        let pdf = app
            .get(&format!("{sla_path}/reports/2026-10?format=pdf"), &rep_a)
            .await;
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
        let bad = problem(
            app.get(&format!("{sla_path}/reports/2026-13"), &rep_a)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "period");
        problem(
            app.get(&format!("{sla_path}/reports/2026-10?format=docx"), &rep_a)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;

        // Keeping: once per period, only ended periods, hashed into the audit chain.
        problem(
            app.send_json(
                Method::POST,
                &format!("{sla_path}/reports/2026-10"),
                &rep_a,
                &json!({}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let kept = ok(
            app.send_json(
                Method::POST,
                &format!("{sla_path}/reports/2026-10"),
                &owner,
                &json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        problem(
            app.send_json(
                Method::POST,
                &format!("{sla_path}/reports/2026-10"),
                &owner,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let bad = problem(
            app.send_json(
                Method::POST,
                &format!("{sla_path}/reports/2099-01"),
                &owner,
                &json!({}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(bad["field"], "period");
        let again = ok(
            app.get(&format!("{sla_path}/reports/2026-10"), &rep_a)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(again["kept"]["sha256"], kept["sha256"]);
        let (_, content) = app
            .store
            .kept_report(
                custos_core::SlaId(sla_id.parse().unwrap()),
                &custos_core::sla_report::Period::parse("2026-10").unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            custos_core::secret::sha256_hex(content.as_bytes()),
            kept["sha256"].as_str().unwrap()
        );
        app.seal().await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let audit = ok(
            app.get("/api/v1/audit?action=sla_report.keep", &auditor)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            audit.to_string().contains(kept["sha256"].as_str().unwrap()),
            "{backend}"
        );

        // The scheduler keeps the last complete period once, whichever instance runs it.
        let now = custos_core::Timestamp::now();
        let first = custos_server::service_levels::scheduled_reports(app.store.as_ref(), now)
            .await
            .unwrap();
        let second = custos_server::service_levels::scheduled_reports(app.store.as_ref(), now)
            .await
            .unwrap();
        assert_eq!(second, 0, "{backend}");
        let last = custos_core::sla_report::Period::last_complete(
            &custos_core::time::Date::of(now),
            false,
        );
        assert!(first <= 1);
        app.store
            .kept_report(custos_core::SlaId(sla_id.parse().unwrap()), &last)
            .await
            .unwrap();

        // A new version is the only way to change it; agreeing it supersedes version 1.
        let v2 = ok(
            app.send_json(
                Method::POST,
                &format!("{sla_path}/versions"),
                &owner,
                &json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(v2["version"], 2);
        problem(
            app.send_json(
                Method::POST,
                &format!("{sla_path}/versions"),
                &owner,
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        let versions = ok(
            app.get(&format!("{sla_path}/versions"), &rep_a).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(versions.as_array().unwrap().len(), 2);
    }
}
