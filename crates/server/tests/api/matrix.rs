//! Every route × every role: the expected allow/deny matrix, derived from the one
//! role → permission table in `custos_core::authz`.

use crate::helpers::*;
use custos_core::account::Role;
use custos_core::authz::{Permission, role_grants};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// (method, path template, permission) for every API operation.
const API: &[(&str, &str, Permission)] = &[
    ("GET", "/me", Permission::SelfService),
    ("GET", "/users", Permission::ReadUsers),
    ("POST", "/users", Permission::ManageUsers),
    ("GET", "/users/{id}", Permission::ReadUsers),
    ("PATCH", "/users/{id}", Permission::ManageUsers),
    ("GET", "/users/{id}/tokens", Permission::ManageUsers),
    (
        "DELETE",
        "/users/{id}/tokens/{token_id}",
        Permission::ManageUsers,
    ),
    ("GET", "/departments", Permission::ReadDepartments),
    ("POST", "/departments", Permission::ManageDepartments),
    ("GET", "/departments/{id}", Permission::ReadDepartments),
    ("PUT", "/departments/{id}", Permission::ManageDepartments),
    ("DELETE", "/departments/{id}", Permission::ManageDepartments),
    ("GET", "/tokens", Permission::SelfService),
    ("POST", "/tokens", Permission::SelfService),
    ("DELETE", "/tokens/{id}", Permission::SelfService),
    ("GET", "/audit", Permission::ReadAudit),
    ("GET", "/audit/verify", Permission::ReadAudit),
    ("GET", "/cis", Permission::ReadCmdb),
    ("POST", "/cis", Permission::ManageCmdb),
    ("GET", "/cis/{id}", Permission::ReadCmdb),
    ("PUT", "/cis/{id}", Permission::ManageCmdb),
    ("GET", "/cis/{id}/classification", Permission::ReadCmdb),
    ("PUT", "/cis/{id}/classification", Permission::ClassifyCis),
    ("GET", "/cis/{id}/impact", Permission::ReadCmdb),
    ("GET", "/ci-types", Permission::ReadCmdb),
    ("POST", "/ci-types", Permission::ManageCiTypes),
    ("GET", "/relationships", Permission::ReadCmdb),
    ("POST", "/relationships", Permission::ManageCmdb),
    ("GET", "/relationships/{id}", Permission::ReadCmdb),
    ("DELETE", "/relationships/{id}", Permission::ManageCmdb),
    ("DELETE", "/cis/{id}", Permission::ManageCmdb),
    ("GET", "/catalogs", Permission::ReadControls),
    ("POST", "/catalogs", Permission::ManageControls),
    ("GET", "/baselines", Permission::ReadControls),
    ("GET", "/controls", Permission::ReadControls),
    ("POST", "/controls", Permission::ManageControls),
    ("GET", "/controls/{id}", Permission::ReadControls),
    ("PATCH", "/controls/{id}", Permission::ManageControls),
    ("GET", "/classification-baselines", Permission::ReadControls),
    (
        "PUT",
        "/classification-baselines",
        Permission::ConfigureRequirements,
    ),
    ("GET", "/cis/{id}/measures", Permission::ReadCmdb),
    ("POST", "/cis/{id}/controls", Permission::ManageRequirements),
    (
        "DELETE",
        "/cis/{id}/controls/{control_id}",
        Permission::ManageRequirements,
    ),
    (
        "PUT",
        "/cis/{id}/implementations/{control_id}",
        Permission::ManageImplementations,
    ),
    ("GET", "/gaps", Permission::ReadCmdb),
    ("POST", "/cmdb/import", Permission::ManageCmdb),
    ("GET", "/cmdb/export", Permission::ReadCmdb),
    (
        "GET",
        "/cis/{id}/implementations/{control_id}/evidence",
        Permission::ReadCmdb,
    ),
    (
        "POST",
        "/cis/{id}/implementations/{control_id}/evidence",
        Permission::ManageImplementations,
    ),
    ("GET", "/evidence/{id}", Permission::ReadCmdb),
    ("GET", "/customers", Permission::ReadServiceLevels),
    ("POST", "/customers", Permission::ManageCustomers),
    ("GET", "/customers/{id}", Permission::ReadServiceLevels),
    ("PUT", "/customers/{id}", Permission::ManageCustomers),
    ("GET", "/suppliers", Permission::ReadAllServiceLevels),
    ("POST", "/suppliers", Permission::ManageCustomers),
    ("GET", "/suppliers/{id}", Permission::ReadAllServiceLevels),
    ("PUT", "/suppliers/{id}", Permission::ManageCustomers),
    ("GET", "/services", Permission::ReadServiceLevels),
    ("GET", "/services/{id}", Permission::ReadServiceLevels),
    ("PUT", "/services/{id}", Permission::ManageServiceLevels),
    (
        "GET",
        "/services/{id}/underpinning",
        Permission::ReadAllServiceLevels,
    ),
    ("GET", "/olas", Permission::ReadAllServiceLevels),
    ("POST", "/olas", Permission::ManageServiceLevels),
    ("GET", "/olas/{id}", Permission::ReadAllServiceLevels),
    ("PUT", "/olas/{id}", Permission::ManageServiceLevels),
    ("GET", "/contracts", Permission::ReadAllServiceLevels),
    ("POST", "/contracts", Permission::ManageServiceLevels),
    ("GET", "/contracts/{id}", Permission::ReadAllServiceLevels),
    ("PUT", "/contracts/{id}", Permission::ManageServiceLevels),
    ("GET", "/slas", Permission::ReadServiceLevels),
    ("POST", "/slas", Permission::ManageServiceLevels),
    ("GET", "/slas/{id}", Permission::ReadServiceLevels),
    ("PUT", "/slas/{id}", Permission::ManageServiceLevels),
    (
        "GET",
        "/slas/{id}/requirements-check",
        Permission::ReadServiceLevels,
    ),
    ("POST", "/slas/{id}/agree", Permission::AgreeSlas),
    ("GET", "/slas/{id}/versions", Permission::ReadServiceLevels),
    (
        "POST",
        "/slas/{id}/versions",
        Permission::ManageServiceLevels,
    ),
    ("GET", "/slas/{id}/reports", Permission::ReadServiceLevels),
    (
        "GET",
        "/slas/{id}/reports/{period}",
        Permission::ReadServiceLevels,
    ),
    (
        "POST",
        "/slas/{id}/reports/{period}",
        Permission::ManageServiceLevels,
    ),
    ("DELETE", "/olas/{id}", Permission::ManageServiceLevels),
    ("DELETE", "/contracts/{id}", Permission::ManageServiceLevels),
    ("DELETE", "/slas/{id}", Permission::ManageServiceLevels),
    ("DELETE", "/customers/{id}", Permission::ManageCustomers),
    ("DELETE", "/suppliers/{id}", Permission::ManageCustomers),
    ("GET", "/incidents", Permission::ReportIncidents),
    ("POST", "/incidents", Permission::ReportIncidents),
    ("GET", "/incidents/count", Permission::ReportIncidents),
    ("GET", "/incidents/{id}", Permission::ReportIncidents),
    ("PATCH", "/incidents/{id}", Permission::ManageIncidents),
    ("GET", "/incidents/{id}/notes", Permission::ReportIncidents),
    ("POST", "/incidents/{id}/notes", Permission::ReportIncidents),
    (
        "POST",
        "/incidents/{id}/notes/{note}/approve",
        Permission::ApproveSecurity,
    ),
    (
        "POST",
        "/incidents/{id}/notes/{note}/reject",
        Permission::ApproveSecurity,
    ),
    ("GET", "/incidents/{id}/timeline", Permission::ReadIncidents),
    ("POST", "/incidents/{id}/flag", Permission::ManageIncidents),
    ("POST", "/incidents/{id}/phase", Permission::ManageIncidents),
    ("POST", "/incidents/{id}/major", Permission::ManageIncidents),
    ("GET", "/incidents/{id}/actions", Permission::ReadIncidents),
    (
        "POST",
        "/incidents/{id}/actions",
        Permission::ManageIncidents,
    ),
    (
        "GET",
        "/incidents/{id}/attachments",
        Permission::ReadIncidents,
    ),
    (
        "POST",
        "/incidents/{id}/attachments",
        Permission::ManageIncidents,
    ),
    (
        "GET",
        "/incidents/{id}/attachments/{attachment}",
        Permission::ReadIncidents,
    ),
    ("GET", "/incidents/{id}/access", Permission::ReadIncidents),
    (
        "POST",
        "/incidents/{id}/access",
        Permission::HandleSecurityIncidents,
    ),
    (
        "DELETE",
        "/incidents/{id}/access/{user}",
        Permission::HandleSecurityIncidents,
    ),
    (
        "PUT",
        "/incidents/{id}/links/{other}",
        Permission::ManageIncidents,
    ),
    (
        "DELETE",
        "/incidents/{id}/links/{other}",
        Permission::ManageIncidents,
    ),
    (
        "POST",
        "/incidents/{id}/unflag",
        Permission::HandleSecurityIncidents,
    ),
    ("GET", "/groups", Permission::ReadIncidents),
    ("POST", "/groups", Permission::ManageGroups),
    ("GET", "/groups/{id}", Permission::ReadIncidents),
    ("PUT", "/groups/{id}", Permission::ManageGroups),
    ("DELETE", "/groups/{id}", Permission::ManageGroups),
    ("GET", "/incident-filters", Permission::ReportIncidents),
    ("POST", "/incident-filters", Permission::ReportIncidents),
    (
        "DELETE",
        "/incident-filters/{id}",
        Permission::ReportIncidents,
    ),
    (
        "GET",
        "/notifications/deliveries",
        Permission::ManageNotifications,
    ),
    (
        "POST",
        "/notifications/deliveries/{id}/retry",
        Permission::ManageNotifications,
    ),
    // Problems: in this order, so that each role's problem goes draft → submitted →
    // reviewed → published as far as the role may take it.
    ("GET", "/problems", Permission::ReadProblems),
    ("POST", "/problems", Permission::ManageProblems),
    ("GET", "/problems/{id}", Permission::ReadProblems),
    ("PATCH", "/problems/{id}", Permission::ManageProblems),
    (
        "GET",
        "/problems/{id}/security-check",
        Permission::ReadProblems,
    ),
    (
        "PUT",
        "/problems/{id}/workaround",
        Permission::ManageProblems,
    ),
    (
        "POST",
        "/problems/{id}/workaround/submit",
        Permission::ManageProblems,
    ),
    (
        "POST",
        "/problems/{id}/workaround/review",
        Permission::ApproveSecurity,
    ),
    (
        "POST",
        "/problems/{id}/workaround/publish",
        Permission::ManageProblems,
    ),
    ("PUT", "/problems/{id}/solution", Permission::ManageProblems),
    (
        "POST",
        "/problems/{id}/solution/submit",
        Permission::ManageProblems,
    ),
    (
        "POST",
        "/problems/{id}/solution/review",
        Permission::ApproveSecurity,
    ),
    (
        "POST",
        "/problems/{id}/solution/publish",
        Permission::ManageProblems,
    ),
    (
        "POST",
        "/problems/{id}/incidents",
        Permission::ManageProblems,
    ),
    (
        "DELETE",
        "/problems/{id}/incidents/{incident_id}",
        Permission::ManageProblems,
    ),
    ("POST", "/problems/{id}/apply", Permission::ManageProblems),
    ("GET", "/known-errors", Permission::ReadProblems),
    ("GET", "/announcements", Permission::SelfService),
    ("POST", "/announcements", Permission::ManageAnnouncements),
    ("GET", "/announcements/{id}", Permission::SelfService),
    (
        "PUT",
        "/announcements/{id}",
        Permission::ManageAnnouncements,
    ),
    (
        "DELETE",
        "/announcements/{id}",
        Permission::ManageAnnouncements,
    ),
];

/// An announcement shown to everyone now, and the body that writes one.
pub(crate) async fn announcement_fixture(app: &TestApp, role: &str) -> String {
    let now = custos_core::Timestamp::now();
    let input = custos_core::announcement::AnnouncementInput::new(
        &format!("Matrix notice {role}"),
        "",
        custos_core::announcement::Severity::Info,
        None,
        now.minus_secs(60),
        now.plus_secs(3600),
        custos_core::announcement::Audience::Everyone,
    )
    .unwrap();
    app.store
        .create_announcement(&custos_core::authz::Actor::System("test"), input)
        .await
        .unwrap()
        .id
        .to_string()
}

fn announcement_body() -> serde_json::Value {
    json!({"title": "Matrix notice", "severity": "info", "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-01-02T00:00:00Z", "audience": "everyone"})
}

/// Two incidents reported by and assigned to `me` (one with a note and a file), a support
/// group and a saved filter, for the incident routes.
pub(crate) async fn incident_fixture(
    app: &TestApp,
    me: custos_core::UserId,
    role: &str,
) -> [String; 6] {
    use custos_core::authz::Actor;
    let actor = Actor::System("test");
    let mut ids = vec![];
    for title in ["Matrix incident", "Matrix other"] {
        let now = custos_core::Timestamp::now();
        let inc = crate::helpers::plain_incident(title, "hardware", me, Some(me), now);
        let w = crate::helpers::create_write(inc, &Default::default(), now);
        ids.push(app.store.create_incidents(vec![w]).await.unwrap()[0].id);
    }
    let note = app
        .store
        .add_note(
            &actor,
            ids[0],
            custos_core::ticket::NoteInput {
                kind: custos_core::incident::NoteKind::WorkNote,
                body: "matrix".into(),
                audience: None,
                recipient: String::new(),
            },
            custos_core::ticket::CommStatus::Recorded,
            vec![],
        )
        .await
        .unwrap()
        .id;
    let file = app
        .store
        .add_attachment(&actor, ids[0], "m.txt", "text/plain", b"m", false, "")
        .await
        .unwrap()
        .id;
    let group = app
        .store
        .create_group(
            &actor,
            custos_core::ticket::GroupInput {
                name: format!("Group {role}"),
                description: String::new(),
                lead: None,
                members: vec![],
            },
        )
        .await
        .unwrap()
        .id;
    let filter = app
        .store
        .save_filter(me, "Matrix", "open=true")
        .await
        .unwrap()
        .id;
    [
        ids[0].to_string(),
        ids[1].to_string(),
        note.to_string(),
        file.to_string(),
        group.to_string(),
        filter.to_string(),
    ]
}

/// A customer the token's user represents, a catalogued service, a supplier, a draft SLA,
/// an OLA and a contract, for the service level routes.
async fn service_level_fixture(app: &TestApp, token: &str, role: Role) -> [String; 6] {
    let me: serde_json::Value = app.get("/api/v1/me", token).await.json().await.unwrap();
    let me = custos_core::UserId(me["id"].as_str().unwrap().parse().unwrap());
    service_level_fixture_for(app, me, &role.to_string()).await
}

/// The same records, with `me` representing the customer; names carry `role`.
async fn service_level_fixture_for(
    app: &TestApp,
    me: custos_core::UserId,
    role: &str,
) -> [String; 6] {
    use custos_core::authz::Actor;
    let actor = Actor::System("test");
    let s = &app.store;
    let svc = s
        .create_ci(
            &actor,
            custos_core::cmdb::CiInput::new(
                "business_service",
                &format!("Svc {role}"),
                None,
                custos_core::cmdb::Lifecycle::Active,
                json!({}),
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .ci
        .id;
    let service = custos_core::service::ServiceInput::new(
        "",
        None,
        custos_core::calendar::ServiceHours::always(),
        vec![],
        Default::default(),
    )
    .unwrap();
    s.put_service(&actor, svc, service).await.unwrap();
    let cust = s
        .create_customer(
            &actor,
            custos_core::service::CustomerInput::new(
                &format!("Cust {role}"),
                custos_core::service::CustomerKind::External,
                None,
                "",
                "",
                vec![me],
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let sup = s
        .create_supplier(
            &actor,
            custos_core::service::SupplierInput::new(
                &format!("Sup {role}"),
                "",
                "",
                custos_core::service::RiskTier::Low,
                None,
                None,
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let terms: custos_core::sla::SlaTerms =
        serde_json::from_value(sla_body(&cust.to_string(), &svc.to_string())).unwrap();
    let sla = s
        .create_sla(&actor, terms.validate().unwrap())
        .await
        .unwrap()
        .id;
    let ola: custos_core::sla::OlaTerms =
        serde_json::from_value(ola_body(&svc.to_string())).unwrap();
    let ola = s
        .create_ola(&actor, ola.validate().unwrap())
        .await
        .unwrap()
        .id;
    let k: custos_core::sla::ContractTerms =
        serde_json::from_value(contract_body(&sup.to_string(), &svc.to_string())).unwrap();
    let k = s
        .create_contract(&actor, k.validate().unwrap())
        .await
        .unwrap()
        .id;
    [
        cust.to_string(),
        sup.to_string(),
        svc.to_string(),
        sla.to_string(),
        ola.to_string(),
        k.to_string(),
    ]
}

fn sla_body(customer: &str, service: &str) -> serde_json::Value {
    json!({"name": "Matrix SLA", "customer_id": customer, "service_id": service, "valid_from": "2026-01-01", "valid_to": "2030-12-31",
        "targets": {"availability_pct": 99.0, "priorities": [{"response_minutes": 10, "resolution_minutes": 60}, {"response_minutes": 10, "resolution_minutes": 60},
            {"response_minutes": 10, "resolution_minutes": 60}, {"response_minutes": 10, "resolution_minutes": 60}]},
        "security": {"classification": {"confidentiality": "moderate", "integrity": null, "availability": null}, "reporting": "monthly"}})
}

fn ola_body(service: &str) -> serde_json::Value {
    json!({"service_id": service, "department_id": null, "team": "Ops", "component_ci": null, "component_type": "server",
        "valid_from": "2026-01-01", "valid_to": "2030-12-31", "review_date": null})
}

fn contract_body(supplier: &str, service: &str) -> serde_json::Value {
    json!({"supplier_id": supplier, "service_id": service, "title": "Matrix contract", "penalty_amount": null,
        "valid_from": "2026-01-01", "valid_to": "2030-12-31", "review_date": null})
}

#[tokio::test]
async fn the_matrix_covers_every_documented_operation() {
    let doc: serde_json::Value =
        serde_json::from_str(&custos_server::http::api::openapi_json()).unwrap();
    let mut documented = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut tested: Vec<(String, String)> = API
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    tested.sort();
    assert_eq!(documented, tested, "every API route must be in the matrix");
}

#[tokio::test]
async fn api_routes_by_role() {
    for app in spawn_apps().await {
        let target = app
            .user("target@example.org", &[Role::Requester], None)
            .await;
        let tok_owner = app.token_for(&[Role::Requester]).await;
        let tokens: serde_json::Value = app
            .get("/api/v1/tokens", &tok_owner)
            .await
            .json()
            .await
            .unwrap();
        let token_id = tokens["items"][0]["id"].as_str().unwrap().to_string();
        let owner_id = tokens["items"][0]["user_id"].as_str().unwrap().to_string();
        for role in Role::ALL {
            let token = app.token_for(&[role]).await;
            let dept = app.department(&format!("Dept {role}"), false).await;
            let (ci, ci2, rel) = app.ci_pair(&format!("m-{role}")).await;
            let ctl = app.control(&format!("m-{role}")).await;
            let ev = app
                .store
                .add_evidence(
                    &custos_core::authz::Actor::System("test"),
                    ci,
                    ctl,
                    "e.txt",
                    "text/plain",
                    b"evidence",
                )
                .await
                .unwrap()
                .id;
            let [cust, sup, svc, sla, ola, contract] =
                service_level_fixture(&app, &token, role).await;
            let me: serde_json::Value = app.get("/api/v1/me", &token).await.json().await.unwrap();
            let me_id = custos_core::UserId(me["id"].as_str().unwrap().parse().unwrap());
            let [inc, inc2, note, file, group, filter] =
                incident_fixture(&app, me_id, &role.to_string()).await;
            let prb = crate::problems::problem_record(&app, &format!("Matrix {role}")).await;
            let ann = announcement_fixture(&app, &role.to_string()).await;
            for (method, template, perm) in API {
                let path = template
                    .replace("/incidents/{id}", &format!("/incidents/{inc}"))
                    .replace("{note}", &note)
                    .replace("{attachment}", &file)
                    .replace("{other}", &inc2)
                    .replace("/access/{user}", &format!("/access/{}", target.id))
                    .replace("/groups/{id}", &format!("/groups/{group}"))
                    .replace(
                        "/incident-filters/{id}",
                        &format!("/incident-filters/{filter}"),
                    )
                    .replace("/problems/{id}", &format!("/problems/{prb}"))
                    .replace("/announcements/{id}", &format!("/announcements/{ann}"))
                    .replace("{incident_id}", &uuid::Uuid::now_v7().to_string())
                    .replace("/customers/{id}", &format!("/customers/{cust}"))
                    .replace("/suppliers/{id}", &format!("/suppliers/{sup}"))
                    .replace("/services/{id}", &format!("/services/{svc}"))
                    .replace("/slas/{id}", &format!("/slas/{sla}"))
                    .replace("{period}", "2026-10")
                    .replace("/olas/{id}", &format!("/olas/{ola}"))
                    .replace("/contracts/{id}", &format!("/contracts/{contract}"))
                    .replace(
                        "/cis/{id}/impact",
                        &format!("/cis/{ci}/impact?direction=upstream"),
                    )
                    .replace("{control_id}", &ctl.to_string())
                    .replace("/cmdb/export", "/cmdb/export?kind=cis")
                    .replace("/evidence/{id}", &format!("/evidence/{ev}"))
                    .replace(
                        "/deliveries/{id}",
                        &format!("/deliveries/{}", uuid::Uuid::nil()),
                    )
                    .replace("/cis/{id}", &format!("/cis/{ci}"))
                    .replace("/controls/{id}", &format!("/controls/{ctl}"))
                    .replace("/relationships/{id}", &format!("/relationships/{rel}"))
                    .replace(
                        "/users/{id}/tokens/{token_id}",
                        &format!("/users/{owner_id}/tokens/{token_id}"),
                    )
                    .replace("/users/{id}", &format!("/users/{}", target.id))
                    .replace("/departments/{id}", &format!("/departments/{dept}"))
                    .replace("/tokens/{id}", &format!("/tokens/{token_id}"));
                let body = match (*method, *template) {
                    ("POST", "/users") => {
                        json!({"email": format!("new-{role}@example.org"), "roles": ["requester"], "password": PASSWORD})
                    }
                    ("PATCH", "/controls/{id}") => json!({"function": "detective"}),
                    ("PUT", "/classification-baselines") => {
                        json!({"low": null, "moderate": null, "high": null})
                    }
                    ("POST", "/cis/{id}/controls") => {
                        json!({"control_id": ctl, "reason": "matrix"})
                    }
                    ("PUT", "/cis/{id}/implementations/{control_id}") => {
                        json!({"status": "planned"})
                    }
                    ("PATCH", "/incidents/{id}") => json!({"urgency": "medium"}),
                    ("PATCH", "/problems/{id}") => json!({"title": "Matrix problem"}),
                    ("POST", "/announcements") | ("PUT", "/announcements/{id}") => {
                        announcement_body()
                    }
                    ("POST", "/problems") => json!({"title": format!("New problem {role}")}),
                    ("PUT", "/problems/{id}/workaround") | ("PUT", "/problems/{id}/solution") => {
                        json!({"text": "Restart the service."})
                    }
                    ("POST", "/problems/{id}/workaround/review")
                    | ("POST", "/problems/{id}/solution/review") => {
                        json!({"approve": true, "sla_requirements_met": true, "baseline_met": true})
                    }
                    ("POST", "/problems/{id}/incidents") | ("POST", "/problems/{id}/apply") => {
                        json!({"incident_id": uuid::Uuid::now_v7()})
                    }
                    ("PATCH", _) => json!({"display_name": "Target"}),
                    ("POST", "/catalogs") => crate::helpers::tiny_catalog(),
                    ("POST", "/controls") => {
                        json!({"control_id": format!("org-{role}"), "title": "Matrix", "statement": "Do it.", "function": "preventive"})
                    }
                    ("POST", "/departments") => {
                        json!({"name": format!("New {role}"), "profile": {"mfa_required": false, "session_lifetime_minutes": 60, "idle_timeout_minutes": 10, "access_two_approvals": false, "monitoring_level": "standard"}})
                    }
                    ("PUT", "/departments/{id}") => {
                        json!({"name": format!("Dept {role}"), "profile": {"mfa_required": true, "session_lifetime_minutes": 60, "idle_timeout_minutes": 10, "access_two_approvals": false, "monitoring_level": "standard"}})
                    }
                    ("POST", "/tokens") => json!({"name": "matrix"}),
                    ("POST", "/cis") | ("PUT", "/cis/{id}") => {
                        json!({"ci_type": "server", "name": format!("srv-{role}")})
                    }
                    ("PUT", "/cis/{id}/classification") => {
                        json!({"confidentiality": "high", "justification": "matrix"})
                    }
                    ("POST", "/ci-types") => {
                        json!({"name": format!("type_{role}"), "label": "Matrix"})
                    }
                    ("POST", "/customers") => {
                        json!({"name": format!("New cust {role}"), "kind": "external"})
                    }
                    ("PUT", "/customers/{id}") => {
                        let me: serde_json::Value =
                            app.get("/api/v1/me", &token).await.json().await.unwrap();
                        json!({"name": format!("Cust {role}"), "kind": "external", "representatives": [me["id"]]})
                    }
                    ("POST", "/suppliers") => {
                        json!({"name": format!("New sup {role}"), "risk_tier": "low"})
                    }
                    ("PUT", "/suppliers/{id}") => {
                        json!({"name": format!("Sup {role}"), "risk_tier": "medium"})
                    }
                    ("PUT", "/services/{id}") => {
                        json!({"hours": {"time_zone": "UTC", "windows": [{"day": "mon", "start": "00:00", "end": "24:00"}], "holidays": []}})
                    }
                    ("POST", "/slas") | ("PUT", "/slas/{id}") => sla_body(&cust, &svc),
                    ("POST", "/slas/{id}/agree") => {
                        json!({"side": if role == Role::ServiceOwner { "owner" } else { "customer" }})
                    }
                    ("POST", "/olas") | ("PUT", "/olas/{id}") => ola_body(&svc),
                    ("POST", "/contracts") | ("PUT", "/contracts/{id}") => {
                        contract_body(&sup, &svc)
                    }
                    ("POST", "/incidents") => {
                        json!({"title": "Matrix", "category": "hardware", "impact": "low", "urgency": "low"})
                    }
                    ("POST", "/incidents/{id}/notes") => {
                        json!({"kind": "public_comment", "body": "matrix"})
                    }
                    ("POST", "/incidents/{id}/flag" | "/incidents/{id}/unflag")
                    | (
                        "POST",
                        "/incidents/{id}/notes/{note}/approve"
                        | "/incidents/{id}/notes/{note}/reject",
                    ) => {
                        json!({"reason": "matrix"})
                    }
                    ("POST", "/incidents/{id}/phase") => json!({"phase": "triage"}),
                    ("POST", "/incidents/{id}/major") => {
                        json!({"lead": me["id"], "cadence_minutes": 30})
                    }
                    ("POST", "/incidents/{id}/actions") => {
                        json!({"kind": "major_update", "body": "matrix"})
                    }
                    ("POST", "/incidents/{id}/access") => json!({"user": target.id}),
                    ("POST", "/groups") => json!({"name": format!("New group {role}")}),
                    ("PUT", "/groups/{id}") => json!({"name": format!("Group {role} 2")}),
                    ("POST", "/incident-filters") => {
                        json!({"name": format!("F {role}"), "query": "open=true"})
                    }
                    ("POST", "/relationships") => {
                        json!({"source_id": ci2, "target_id": ci, "rel_type": "connects_to"})
                    }
                    _ => json!({}),
                };
                let path = if template.ends_with("/evidence") || template.ends_with("/attachments")
                {
                    format!("{path}?file_name=matrix.txt")
                } else {
                    path
                };
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                let url = format!("/api/v1{path}");
                let anon = app
                    .client
                    .request(method.clone(), app.url(&url))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    anon.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {url} without a token"
                );
                let r = app.send_json(method.clone(), &url, &token, &body).await;
                let status = r.status();
                if role_grants(role, *perm) {
                    assert!(
                        status.is_success()
                            || status == StatusCode::NOT_FOUND
                            || status == StatusCode::CONFLICT,
                        "{} {role} {method} {url}: expected allowed, got {status}: {}",
                        app.backend,
                        r.text().await.unwrap()
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{} {role} {method} {url}",
                        app.backend
                    );
                    problem(r, StatusCode::FORBIDDEN).await;
                }
            }
        }
    }
}

/// Pages (GET) and the permission each needs.
const PAGES: &[(&str, Permission)] = &[
    ("/", Permission::SelfService),
    ("/account", Permission::SelfService),
    ("/admin/users", Permission::ReadUsers),
    ("/admin/users/new", Permission::ManageUsers),
    ("/admin/users/{user}", Permission::ReadUsers),
    ("/admin/departments", Permission::ReadDepartments),
    ("/admin/departments/new", Permission::ManageDepartments),
    ("/admin/departments/{dept}", Permission::ReadDepartments),
    ("/audit", Permission::ReadAudit),
    ("/admin/notifications", Permission::ManageNotifications),
    (
        "/admin/notifications?status=dead",
        Permission::ManageNotifications,
    ),
    ("/cmdb", Permission::ReadCmdb),
    ("/cmdb/new", Permission::ManageCmdb),
    ("/cmdb/{ci}", Permission::ReadCmdb),
    ("/cmdb/{ci}/edit", Permission::ManageCmdb),
    ("/cmdb/{ci}/impact", Permission::ReadCmdb),
    ("/controls", Permission::ReadControls),
    ("/controls/new", Permission::ManageControls),
    ("/controls/import", Permission::ManageControls),
    ("/controls/{ctl}", Permission::ReadControls),
    ("/cmdb/{ci}/measures", Permission::ReadCmdb),
    ("/cmdb/{ci}/measures/{ctl}", Permission::ReadCmdb),
    ("/gaps", Permission::ReadCmdb),
    ("/gaps.csv", Permission::ReadCmdb),
    ("/cmdb/import", Permission::ReadCmdb),
    ("/cmdb/export", Permission::ReadCmdb),
    ("/cmdb/{svc}", Permission::ReadCmdb),
    ("/services", Permission::ReadServiceLevels),
    ("/services/new", Permission::ManageServiceLevels),
    ("/services/{svc}", Permission::ReadServiceLevels),
    ("/services/{svc}/edit", Permission::ManageServiceLevels),
    ("/olas/new?service={svc}", Permission::ManageServiceLevels),
    (
        "/contracts/new?service={svc}",
        Permission::ManageServiceLevels,
    ),
    ("/olas/{ola}/edit", Permission::ManageServiceLevels),
    (
        "/contracts/{contract}/edit",
        Permission::ManageServiceLevels,
    ),
    ("/customers", Permission::ReadServiceLevels),
    ("/customers/new", Permission::ManageCustomers),
    ("/customers/{cust}", Permission::ReadServiceLevels),
    ("/suppliers", Permission::ReadAllServiceLevels),
    ("/suppliers/new", Permission::ManageCustomers),
    ("/suppliers/{sup}", Permission::ReadAllServiceLevels),
    ("/slas", Permission::ReadServiceLevels),
    ("/slas?status=draft", Permission::ReadServiceLevels),
    ("/slas/new", Permission::ManageServiceLevels),
    ("/slas/{sla}", Permission::ReadServiceLevels),
    ("/slas/{sla}/edit", Permission::ManageServiceLevels),
    ("/slas/{sla}/reports/2026-10", Permission::ReadServiceLevels),
    (
        "/slas/{sla}/reports/2026-10.pdf",
        Permission::ReadServiceLevels,
    ),
    (
        "/slas/{sla}/reports/2026-10.csv",
        Permission::ReadServiceLevels,
    ),
    (
        "/slas/{sla}/reports/2026-10.json",
        Permission::ReadServiceLevels,
    ),
    ("/problems", Permission::ReadProblems),
    (
        "/problems?status=new&known_error=true&q=matrix",
        Permission::ReadProblems,
    ),
    ("/problems/new", Permission::ManageProblems),
    ("/problems/{prb}", Permission::ReadProblems),
    ("/known-errors", Permission::ReadProblems),
    ("/incidents", Permission::ReadIncidents),
    (
        "/incidents?open=true&assignee=me&q=matrix&security=false",
        Permission::ReadIncidents,
    ),
    ("/incidents.csv?priority=p4", Permission::ReadIncidents),
    ("/incidents/new", Permission::ManageIncidents),
    ("/incidents/{inc}", Permission::ReadIncidents),
    ("/incidents/{inc}/timeline", Permission::ReadIncidents),
    (
        "/incidents/{inc}/attachments/{file}",
        Permission::ReadIncidents,
    ),
    ("/groups", Permission::ReadIncidents),
    ("/admin/groups", Permission::ManageGroups),
    ("/groups/new", Permission::ManageGroups),
    ("/groups/{group}", Permission::ManageGroups),
    ("/portal", Permission::ReportIncidents),
    ("/portal/{inc}", Permission::ReportIncidents),
    ("/announcements", Permission::ManageAnnouncements),
    (
        "/announcements?active=false",
        Permission::ManageAnnouncements,
    ),
    ("/announcements/new", Permission::ManageAnnouncements),
    ("/announcements/{ann}", Permission::ManageAnnouncements),
];

/// Pages that only send the browser on (303 when allowed).
const REDIRECTS: &[(&str, Permission)] = &[
    (
        "/slas/{sla}/reports?period=2026-10",
        Permission::ReadServiceLevels,
    ),
    ("/services/new?ci={svc}", Permission::ManageServiceLevels),
    ("/cmdb/cis/{ci}/measures", Permission::ReadCmdb),
];

/// Form posts and the permission each needs (sent with a valid CSRF token and no fields).
const POSTS: &[(&str, Permission)] = &[
    ("/admin/users", Permission::ManageUsers),
    ("/admin/users/{user}", Permission::ManageUsers),
    ("/admin/departments", Permission::ManageDepartments),
    ("/admin/departments/{dept}", Permission::ManageDepartments),
    ("/account/tokens", Permission::SelfService),
    (
        "/admin/notifications/00000000-0000-0000-0000-000000000000/retry",
        Permission::ManageNotifications,
    ),
    ("/cmdb", Permission::ManageCmdb),
    ("/cmdb/{ci}/classification", Permission::ClassifyCis),
    ("/cmdb/{ci}/relationships", Permission::ManageCmdb),
    ("/controls", Permission::ManageControls),
    ("/controls/{ctl}/function", Permission::ManageControls),
    ("/controls/import", Permission::ManageControls),
    ("/cmdb/{ci}/measures", Permission::ManageRequirements),
    (
        "/cmdb/{ci}/measures/{ctl}",
        Permission::ManageImplementations,
    ),
    ("/customers", Permission::ManageCustomers),
    ("/customers/{cust}", Permission::ManageCustomers),
    ("/suppliers", Permission::ManageCustomers),
    ("/suppliers/{sup}", Permission::ManageCustomers),
    ("/services/{svc}", Permission::ManageServiceLevels),
    ("/olas", Permission::ManageServiceLevels),
    ("/contracts", Permission::ManageServiceLevels),
    ("/olas/{ola}", Permission::ManageServiceLevels),
    ("/contracts/{contract}", Permission::ManageServiceLevels),
    ("/slas", Permission::ManageServiceLevels),
    ("/slas/{sla}", Permission::ManageServiceLevels),
    ("/slas/{sla}/agree", Permission::AgreeSlas),
    ("/slas/{sla}/versions", Permission::ManageServiceLevels),
    (
        "/slas/{sla}/reports/2026-10/keep",
        Permission::ManageServiceLevels,
    ),
    ("/problems", Permission::ManageProblems),
    ("/problems/{prb}", Permission::ManageProblems),
    ("/problems/{prb}/fix", Permission::ManageProblems),
    ("/problems/{prb}/review", Permission::ApproveSecurity),
    ("/problems/{prb}/incidents", Permission::ManageProblems),
    ("/problems/{prb}/apply", Permission::ManageProblems),
    ("/incidents", Permission::ManageIncidents),
    ("/incidents/{inc}", Permission::ManageIncidents),
    ("/incidents/{inc}/flag", Permission::ManageIncidents),
    (
        "/incidents/{inc}/unflag",
        Permission::HandleSecurityIncidents,
    ),
    ("/incidents/{inc}/phase", Permission::ManageIncidents),
    ("/incidents/{inc}/major", Permission::ManageIncidents),
    ("/incidents/{inc}/steps", Permission::ManageIncidents),
    ("/incidents/{inc}/notes", Permission::ManageIncidents),
    (
        "/incidents/{inc}/notes/{note}/approve",
        Permission::ApproveSecurity,
    ),
    (
        "/incidents/{inc}/notes/{note}/reject",
        Permission::ApproveSecurity,
    ),
    ("/incidents/{inc}/attachments", Permission::ManageIncidents),
    (
        "/incidents/{inc}/access",
        Permission::HandleSecurityIncidents,
    ),
    (
        "/incidents/{inc}/access/{user}/delete",
        Permission::HandleSecurityIncidents,
    ),
    ("/incidents/{inc}/links", Permission::ManageIncidents),
    (
        "/incidents/{inc}/links/{inc2}/delete",
        Permission::ManageIncidents,
    ),
    ("/incident-filters", Permission::ReadIncidents),
    ("/groups", Permission::ManageGroups),
    ("/groups/{group}", Permission::ManageGroups),
    ("/portal", Permission::ReportIncidents),
    ("/portal/{inc}/comments", Permission::ReportIncidents),
    ("/announcements", Permission::ManageAnnouncements),
    ("/announcements/{ann}", Permission::ManageAnnouncements),
    // Deletions last: they remove this role's fixture.
    ("/olas/{ola}/delete", Permission::ManageServiceLevels),
    (
        "/contracts/{contract}/delete",
        Permission::ManageServiceLevels,
    ),
    ("/suppliers/{sup}/delete", Permission::ManageCustomers),
    ("/slas/{sla}/delete", Permission::ManageServiceLevels),
    ("/customers/{cust}/delete", Permission::ManageCustomers),
    ("/groups/{group}/delete", Permission::ManageGroups),
    (
        "/incident-filters/{filter}/delete",
        Permission::ReadIncidents,
    ),
    (
        "/announcements/{ann}/delete",
        Permission::ManageAnnouncements,
    ),
];

#[tokio::test]
async fn pages_by_role() {
    for app in spawn_apps().await {
        let target = app
            .user("target@example.org", &[Role::Requester], None)
            .await;
        let dept = app.department("Sales", false).await;
        let (ci, _, _) = app.ci_pair("pages").await;
        let ctl = app.control("pages").await;
        let prb = crate::problems::problem_record(&app, "Pages").await;
        let fill = |p: &str, fx: &[String; 6], ix: &[String; 6], ann: &str| {
            p.replace("{prb}", &prb.to_string())
                .replace("{ann}", ann)
                .replace("{inc2}", &ix[1])
                .replace("{inc}", &ix[0])
                .replace("{note}", &ix[2])
                .replace("{file}", &ix[3])
                .replace("{group}", &ix[4])
                .replace("{filter}", &ix[5])
                .replace("{user}", &target.id.to_string())
                .replace("{dept}", &dept.to_string())
                .replace("{ci}", &ci.to_string())
                .replace("{ctl}", &ctl.to_string())
                .replace("{cust}", &fx[0])
                .replace("{sup}", &fx[1])
                .replace("{svc}", &fx[2])
                .replace("{sla}", &fx[3])
                .replace("{ola}", &fx[4])
                .replace("{contract}", &fx[5])
        };
        let anon_fx = service_level_fixture_for(&app, target.id, "anon").await;
        let anon_ix = incident_fixture(&app, target.id, "anon").await;
        let anon_ann = announcement_fixture(&app, "anon").await;
        let mut anon = app.browser();
        for (page, _) in PAGES.iter().chain(REDIRECTS) {
            let (status, loc, _) = anon.get(&fill(page, &anon_fx, &anon_ix, &anon_ann)).await;
            assert_eq!(
                (status, loc.as_deref()),
                (StatusCode::SEE_OTHER, Some("/login")),
                "{page} without a session"
            );
        }
        for role in Role::ALL {
            let email = format!("{role}@example.org");
            let user = app.user(&email, &[role], None).await;
            // The role's user represents the fixture's customer (customer scoping).
            let fx = service_level_fixture_for(&app, user.id, &role.to_string()).await;
            // The role's user reported the fixture's incidents and is their assignee.
            let ix = incident_fixture(&app, user.id, &format!("page {role}")).await;
            let ann = announcement_fixture(&app, &format!("page {role}")).await;
            let mut b = app.browser();
            let (status, loc, _) = b.login(&email, PASSWORD).await;
            assert_eq!(
                (status, loc.as_deref()),
                (StatusCode::SEE_OTHER, Some("/")),
                "{role} signs in"
            );
            let (_, _, home) = b.get("/").await;
            let csrf = crate::helpers::Browser::csrf(&home);
            for (page, perm) in PAGES {
                let (status, _, body) = b.get(&fill(page, &fx, &ix, &ann)).await;
                let expected = if role_grants(role, *perm) {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(
                    status, expected,
                    "{} {role} GET {page}: {body}",
                    app.backend
                );
            }
            for (page, perm) in REDIRECTS {
                let (status, _, body) = b.get(&fill(page, &fx, &ix, &ann)).await;
                let expected = if role_grants(role, *perm) {
                    StatusCode::SEE_OTHER
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(
                    status, expected,
                    "{} {role} GET {page}: {body}",
                    app.backend
                );
            }
            for (page, perm) in POSTS {
                let (status, _, body) = b
                    .post(&fill(page, &fx, &ix, &ann), &[("csrf", &csrf)])
                    .await;
                assert!(
                    !status.is_server_error(),
                    "{} {role} POST {page}: {status} {body}",
                    app.backend
                );
                if role_grants(role, *perm) {
                    assert_ne!(status, StatusCode::FORBIDDEN, "{role} POST {page}");
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{role} POST {page}");
                }
            }
        }
    }
}
