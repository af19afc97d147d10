//! No request to any route with any body returns 5xx or kills the server: random and
//! hostile bodies, query strings and path segments against every route and every form.

use crate::helpers::*;
use custos_core::account::Role;
use reqwest::{Method, StatusCode};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
    fn string(&mut self) -> String {
        let atoms = [
            "",
            "a",
            "\u{0}",
            "é",
            "💥",
            "'; DROP TABLE users; --",
            "<script>",
            "%00",
            "\\",
            "\"",
            "9999999999999999999999",
            "-1",
            " ",
            "\n",
            "null",
        ];
        (0..(self.next() % 4)).map(|_| *self.pick(&atoms)).collect()
    }
    fn json(&mut self, depth: u32) -> serde_json::Value {
        use serde_json::json;
        match if depth > 3 {
            self.next() % 5
        } else {
            self.next() % 7
        } {
            0 => json!(null),
            1 => json!(self.next().is_multiple_of(2)),
            2 => json!(self.next() as i64),
            3 => json!(-1.5e300),
            4 => json!(self.string()),
            5 => (0..self.next() % 4).map(|_| self.json(depth + 1)).collect(),
            _ => {
                let keys = [
                    "name",
                    "email",
                    "roles",
                    "password",
                    "profile",
                    "mfa_required",
                    "session_lifetime_minutes",
                    "idle_timeout_minutes",
                    "monitoring_level",
                    "department_id",
                    "display_name",
                    "disabled",
                    "expires_in_days",
                    "description",
                    "x",
                    "ci_type",
                    "attributes",
                    "external_key",
                    "status",
                    "confidentiality",
                    "justification",
                    "source_id",
                    "target_id",
                    "rel_type",
                    "label",
                    "title",
                    "text",
                    "approve",
                    "reasons",
                    "sla_requirements_met",
                    "baseline_met",
                    "incident_id",
                    "cis",
                    "service",
                    "introduces_security_risk",
                    "severity",
                    "starts_at",
                    "ends_at",
                    "service_id",
                    "audience",
                ];
                let mut m = serde_json::Map::new();
                for _ in 0..self.next() % 6 {
                    m.insert((*self.pick(&keys)).into(), self.json(depth + 1));
                }
                serde_json::Value::Object(m)
            }
        }
    }
}

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("PATCH", "/api/v1/users/{id}"),
    ("GET", "/api/v1/users/{id}/tokens"),
    ("DELETE", "/api/v1/users/{id}/tokens/{id}"),
    ("GET", "/api/v1/departments"),
    ("POST", "/api/v1/departments"),
    ("GET", "/api/v1/departments/{id}"),
    ("PUT", "/api/v1/departments/{id}"),
    ("DELETE", "/api/v1/departments/{id}"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/cis"),
    ("POST", "/api/v1/cis"),
    ("GET", "/api/v1/cis/{id}"),
    ("PUT", "/api/v1/cis/{id}"),
    ("GET", "/api/v1/cis/{id}/classification"),
    ("PUT", "/api/v1/cis/{id}/classification"),
    ("GET", "/api/v1/cis/{id}/impact"),
    ("GET", "/api/v1/ci-types"),
    ("POST", "/api/v1/ci-types"),
    ("GET", "/api/v1/relationships"),
    ("POST", "/api/v1/relationships"),
    ("GET", "/api/v1/relationships/{id}"),
    ("DELETE", "/api/v1/relationships/{id}"),
    ("DELETE", "/api/v1/cis/{id}"),
    ("GET", "/api/v1/catalogs"),
    ("POST", "/api/v1/catalogs"),
    ("GET", "/api/v1/baselines"),
    ("GET", "/api/v1/controls"),
    ("POST", "/api/v1/controls"),
    ("GET", "/api/v1/controls/{id}"),
    ("PATCH", "/api/v1/controls/{id}"),
    ("GET", "/api/v1/classification-baselines"),
    ("PUT", "/api/v1/classification-baselines"),
    ("GET", "/api/v1/cis/{id}/measures"),
    ("POST", "/api/v1/cis/{id}/controls"),
    ("DELETE", "/api/v1/cis/{id}/controls/{id}"),
    ("PUT", "/api/v1/cis/{id}/implementations/{id}"),
    ("GET", "/api/v1/gaps"),
    ("POST", "/api/v1/cmdb/import"),
    ("GET", "/api/v1/cmdb/export"),
    ("GET", "/api/v1/cis/{id}/implementations/{id}/evidence"),
    ("POST", "/api/v1/cis/{id}/implementations/{id}/evidence"),
    ("GET", "/api/v1/evidence/{id}"),
    ("GET", "/api/v1/customers"),
    ("POST", "/api/v1/customers"),
    ("GET", "/api/v1/customers/{id}"),
    ("PUT", "/api/v1/customers/{id}"),
    ("DELETE", "/api/v1/customers/{id}"),
    ("GET", "/api/v1/suppliers"),
    ("POST", "/api/v1/suppliers"),
    ("GET", "/api/v1/suppliers/{id}"),
    ("PUT", "/api/v1/suppliers/{id}"),
    ("DELETE", "/api/v1/suppliers/{id}"),
    ("GET", "/api/v1/services"),
    ("GET", "/api/v1/services/{id}"),
    ("PUT", "/api/v1/services/{id}"),
    ("GET", "/api/v1/services/{id}/underpinning"),
    ("GET", "/api/v1/olas"),
    ("POST", "/api/v1/olas"),
    ("GET", "/api/v1/olas/{id}"),
    ("PUT", "/api/v1/olas/{id}"),
    ("DELETE", "/api/v1/olas/{id}"),
    ("GET", "/api/v1/contracts"),
    ("POST", "/api/v1/contracts"),
    ("GET", "/api/v1/contracts/{id}"),
    ("PUT", "/api/v1/contracts/{id}"),
    ("DELETE", "/api/v1/contracts/{id}"),
    ("GET", "/api/v1/slas"),
    ("POST", "/api/v1/slas"),
    ("GET", "/api/v1/slas/{id}"),
    ("PUT", "/api/v1/slas/{id}"),
    ("DELETE", "/api/v1/slas/{id}"),
    ("GET", "/api/v1/slas/{id}/versions"),
    ("POST", "/api/v1/slas/{id}/versions"),
    ("POST", "/api/v1/slas/{id}/agree"),
    ("GET", "/api/v1/slas/{id}/requirements-check"),
    ("GET", "/api/v1/slas/{id}/reports"),
    ("GET", "/api/v1/slas/{id}/reports/{id}"),
    ("POST", "/api/v1/slas/{id}/reports/{id}"),
    ("GET", "/api/v1/groups"),
    ("POST", "/api/v1/groups"),
    ("GET", "/api/v1/groups/{id}"),
    ("PUT", "/api/v1/groups/{id}"),
    ("DELETE", "/api/v1/groups/{id}"),
    ("GET", "/api/v1/incident-filters"),
    ("POST", "/api/v1/incident-filters"),
    ("DELETE", "/api/v1/incident-filters/{id}"),
    ("GET", "/api/v1/incidents"),
    ("POST", "/api/v1/incidents"),
    ("GET", "/api/v1/incidents/count"),
    ("GET", "/api/v1/incidents/{id}"),
    ("PATCH", "/api/v1/incidents/{id}"),
    ("GET", "/api/v1/incidents/{id}/access"),
    ("POST", "/api/v1/incidents/{id}/access"),
    ("DELETE", "/api/v1/incidents/{id}/access/{id}"),
    ("GET", "/api/v1/incidents/{id}/actions"),
    ("POST", "/api/v1/incidents/{id}/actions"),
    ("GET", "/api/v1/incidents/{id}/attachments"),
    ("POST", "/api/v1/incidents/{id}/attachments"),
    ("GET", "/api/v1/incidents/{id}/attachments/{id}"),
    ("POST", "/api/v1/incidents/{id}/flag"),
    ("PUT", "/api/v1/incidents/{id}/links/{id}"),
    ("DELETE", "/api/v1/incidents/{id}/links/{id}"),
    ("POST", "/api/v1/incidents/{id}/major"),
    ("GET", "/api/v1/incidents/{id}/notes"),
    ("POST", "/api/v1/incidents/{id}/notes"),
    ("POST", "/api/v1/incidents/{id}/notes/{id}/approve"),
    ("POST", "/api/v1/incidents/{id}/notes/{id}/reject"),
    ("POST", "/api/v1/incidents/{id}/phase"),
    ("GET", "/api/v1/incidents/{id}/timeline"),
    ("POST", "/api/v1/incidents/{id}/unflag"),
    ("GET", "/api/v1/notifications/deliveries"),
    ("POST", "/api/v1/notifications/deliveries/{id}/retry"),
    ("GET", "/api/v1/problems"),
    ("POST", "/api/v1/problems"),
    ("GET", "/api/v1/problems/{id}"),
    ("PATCH", "/api/v1/problems/{id}"),
    ("GET", "/api/v1/problems/{id}/security-check"),
    ("PUT", "/api/v1/problems/{id}/workaround"),
    ("POST", "/api/v1/problems/{id}/workaround/submit"),
    ("POST", "/api/v1/problems/{id}/workaround/review"),
    ("POST", "/api/v1/problems/{id}/workaround/publish"),
    ("PUT", "/api/v1/problems/{id}/solution"),
    ("POST", "/api/v1/problems/{id}/solution/submit"),
    ("POST", "/api/v1/problems/{id}/solution/review"),
    ("POST", "/api/v1/problems/{id}/solution/publish"),
    ("POST", "/api/v1/problems/{id}/incidents"),
    ("DELETE", "/api/v1/problems/{id}/incidents/{id}"),
    ("POST", "/api/v1/problems/{id}/apply"),
    ("GET", "/api/v1/known-errors"),
    ("GET", "/api/v1/announcements"),
    ("POST", "/api/v1/announcements"),
    ("GET", "/api/v1/announcements/{id}"),
    ("PUT", "/api/v1/announcements/{id}"),
    ("DELETE", "/api/v1/announcements/{id}"),
];

/// The fuzzer's route list is the OpenAPI document's, so a new route cannot be forgotten.
#[test]
fn the_fuzzer_covers_every_documented_operation() {
    let doc: serde_json::Value =
        serde_json::from_str(&custos_server::http::api::openapi_json()).unwrap();
    let mut documented = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let mut generic = String::new();
        let mut in_brace = false;
        for c in path.chars() {
            match c {
                '{' => {
                    in_brace = true;
                    generic.push_str("{id}");
                }
                '}' => in_brace = false,
                _ if in_brace => {}
                c => generic.push(c),
            }
        }
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), format!("/api/v1{generic}")));
        }
    }
    documented.sort();
    let mut fuzzed: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    fuzzed.sort();
    assert_eq!(documented, fuzzed, "every API route must be fuzzed");
}

#[tokio::test]
async fn no_body_query_or_path_yields_a_server_error() {
    for app in spawn_apps().await {
        let (admin_user, admin) = app
            .user_with_token(&[
                Role::Admin,
                Role::Auditor,
                Role::ServiceOwner,
                Role::SecurityManager,
                Role::Agent,
            ])
            .await;
        let inc = crate::matrix::incident_fixture(&app, admin_user.id, "fuzz").await;
        let (ci, _, rel) = app.ci_pair("fuzz").await;
        let user = app.user("fuzz@example.org", &[Role::Requester], None).await;
        let dept = app.department("Fuzz", false).await;
        let sl = service_level_fixture(&app).await;
        let prb = crate::problems::problem_record(&app, "Fuzz problem").await;
        let ann = crate::matrix::announcement_fixture(&app, "fuzz").await;
        let mut rng = Rng(0x5eed_1234_abcd_9876);
        let ids = [
            prb.to_string(),
            sl[0].clone(),
            sl[1].clone(),
            sl[2].clone(),
            sl[3].clone(),
            "2026-10".into(),
            "2026-Q5".into(),
            user.id.to_string(),
            dept.to_string(),
            "not-a-uuid".into(),
            "%00".into(),
            "..%2F..".into(),
            uuid::Uuid::nil().to_string(),
            ci.to_string(),
            rel.to_string(),
            inc[0].clone(),
            inc[2].clone(),
            inc[3].clone(),
            inc[4].clone(),
            "INC-000001".into(),
            ann,
        ];
        let queries = [
            "",
            "?limit=0",
            "?limit=-1",
            "?limit=99999999999",
            "?cursor=zzz",
            "?entity_type=%00",
            "?from=%FF",
            "?actor=a&actor=b",
            "?limit=1&cursor=00000000-0000-0000-0000-000000000000",
            "?q=%22*%29+OR+1%3D1",
            "?q=%00",
            "?direction=upstream&depth=0",
            "?direction=downstream&depth=50",
            "?direction=sideways",
            "?status=gone&ci_type=%00",
            "?open=true&priority=p9&security=maybe",
            "?format=csv&q=%22%27",
            "?file_name=..%2F..%2Fetc&evidence=true",
            "?assignee=me&reporter=%00",
            "?known_error=maybe&q=%00",
        ];
        let mut requests = 0;
        for _round in 0..12 {
            for (method, template) in ROUTES {
                let path = template.replace("{id}", rng.pick(&ids).as_str());
                let url = format!("{path}{}", rng.pick(&queries));
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                let req = app
                    .client
                    .request(method.clone(), app.url(&url))
                    .bearer_auth(&admin);
                let req = match rng.next() % 4 {
                    0 => req.json(&rng.json(0)),
                    1 => req
                        .header("content-type", "application/json")
                        .body(rng.string().into_bytes()),
                    2 => req
                        .header("content-type", "application/json")
                        .body(vec![0xff, 0xfe, b'{', 0x00]),
                    _ => req
                        .header("content-type", "application/json")
                        .body("[".repeat(5000)),
                };
                let r = req.send().await.unwrap();
                assert!(
                    r.status().as_u16() < 500,
                    "{} {method} {url} -> {}: {}",
                    app.backend,
                    r.status(),
                    r.text().await.unwrap()
                );
                requests += 1;
            }
        }
        // Web forms, signed in as an administrator, with random fields.
        let mut b = app.browser();
        app.user(
            "web-fuzz@example.org",
            &[Role::Admin, Role::ServiceOwner, Role::SecurityManager],
            None,
        )
        .await;
        let (_, _, page) = b.get("/login").await;
        let csrf = Browser::csrf(&page);
        let (status, _, _) = b
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("email", "\u{0}x@example.org"),
                    ("password", "\u{0}"),
                ],
            )
            .await;
        assert!(status.as_u16() < 500);
        b.login("web-fuzz@example.org", PASSWORD).await;
        let (_, _, home) = b.get("/").await;
        let csrf = Browser::csrf(&home);
        let posts = [
            "/admin/users",
            "/admin/users/{id}",
            "/admin/departments",
            "/admin/departments/{id}",
            "/admin/departments/{id}/delete",
            "/account/tokens",
            "/account/password",
            "/account/mfa",
            "/account/mfa/disable",
            "/account/tokens/{id}/revoke",
            "/account/sessions/{id}/end",
            "/login/totp",
            "/cmdb",
            "/cmdb/{id}",
            "/cmdb/{id}/classification",
            "/cmdb/{id}/relationships",
            "/cmdb/{id}/relationships/{id}/delete",
            "/cmdb/{id}/delete",
            "/cmdb/{id}/measures",
            "/cmdb/{id}/measures/{id}",
            "/customers",
            "/customers/{id}",
            "/customers/{id}/delete",
            "/suppliers",
            "/suppliers/{id}",
            "/suppliers/{id}/delete",
            "/services/{id}",
            "/olas",
            "/olas/{id}",
            "/olas/{id}/delete",
            "/contracts",
            "/contracts/{id}",
            "/contracts/{id}/delete",
            "/slas",
            "/slas/{id}",
            "/slas/{id}/agree",
            "/slas/{id}/versions",
            "/slas/{id}/delete",
            "/slas/{id}/reports/{id}/keep",
            "/admin/notifications/{id}/retry",
            "/problems",
            "/problems/{id}",
            "/problems/{id}/fix",
            "/problems/{id}/review",
            "/problems/{id}/incidents",
            "/problems/{id}/apply",
            "/incidents",
            "/incidents/{id}",
            "/incidents/{id}/flag",
            "/incidents/{id}/unflag",
            "/incidents/{id}/phase",
            "/incidents/{id}/major",
            "/incidents/{id}/steps",
            "/incidents/{id}/notes",
            "/incidents/{id}/notes/{id}/approve",
            "/incidents/{id}/notes/{id}/reject",
            "/incidents/{id}/attachments",
            "/incidents/{id}/access",
            "/incidents/{id}/access/{id}/delete",
            "/incidents/{id}/links",
            "/incidents/{id}/links/{id}/delete",
            "/incident-filters",
            "/incident-filters/{id}/delete",
            "/groups",
            "/groups/{id}",
            "/groups/{id}/delete",
            "/portal",
            "/portal/{id}/comments",
            "/announcements",
            "/announcements/{id}",
            "/announcements/{id}/delete",
        ];
        let fields = [
            "name",
            "email",
            "roles",
            "password",
            "department_id",
            "display_name",
            "disabled",
            "session_lifetime_minutes",
            "idle_timeout_minutes",
            "monitoring_level",
            "description",
            "expires_in_days",
            "code",
            "new_password",
            "current_password",
            "confirm_password",
            "ci_type",
            "attributes",
            "external_key",
            "status",
            "confidentiality",
            "integrity",
            "justification",
            "rel_type",
            "other",
            "direction",
            "control",
            "reason",
            "evidence",
            "links",
            "last_verified",
            "next_review",
            "inheritable",
            "kind",
            "risk_tier",
            "contract_start",
            "service",
            "customer_id",
            "service_id",
            "valid_from",
            "valid_to",
            "requirements",
            "kpis",
            "side",
            "team",
            "controls",
            "penalty_amount",
            "currency",
            "time_zone",
            "holidays",
            "baseline",
            "title",
            "fix",
            "action",
            "text",
            "decision",
            "reasons",
            "incident",
            "cis",
            "assignee",
            "root_cause",
            "introduces_security_risk",
            "sla_requirements_met",
            "category",
            "impact",
            "urgency",
            "assignee",
            "group",
            "resolution",
            "cis",
            "cis_more",
            "lead",
            "cadence_minutes",
            "body",
            "audience",
            "recipient",
            "phase",
            "user",
            "query",
            "members",
            "severity",
            "starts_at",
            "ends_at",
        ];
        for _round in 0..6 {
            for p in posts {
                let path = p.replace("{id}", rng.pick(&ids).as_str());
                let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
                for _ in 0..rng.next() % 8 {
                    form.push(((*rng.pick(&fields)).into(), rng.string()));
                }
                let pairs: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let (status, _, body) = b.post(&path, &pairs).await;
                assert!(
                    status.as_u16() < 500,
                    "{} POST {path} {form:?} -> {status}: {body}",
                    app.backend
                );
                requests += 1;
            }
            for g in [
                "/audit?from=%FF",
                "/audit?entity_type=%00&cursor=x",
                "/admin/users?cursor=%00",
                "/admin/users/%00",
                "/admin/departments/zzz",
                "/audit?verify=1",
                "/admin/notifications?status=%00&cursor=x",
                "/admin/notifications?status=gone",
                "/cmdb?q=%00&status=x",
                "/cmdb?q=%22%27*",
                "/cmdb/zzz",
                "/cmdb/00000000-0000-0000-0000-000000000000/impact?direction=x&depth=999",
                "/problems?status=%00&q=%22*&known_error=x&service=zzz",
                "/problems/zzz",
                "/problems/00000000-0000-0000-0000-000000000000",
                "/known-errors?q=%00&cursor=x",
                "/incidents?security=%00&cursor=x&open=1",
                "/incidents?q=%22%27*&priority=p9&group=zzz",
                "/incidents.csv?assignee=%00&status=%FF",
                "/incidents/zzz",
                "/incidents/INC-0/timeline",
                "/incidents/INC-000001/attachments/%00",
                "/portal/%00",
                "/portal?cursor=zzz",
                "/groups/zzz",
            ] {
                let (status, _, _) = b.get(g).await;
                assert!(status.as_u16() < 500, "GET {g} -> {status}");
            }
        }
        assert!(requests > 250);
        assert_eq!(
            app.client
                .get(app.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK,
            "still serving"
        );
    }
}

/// A catalogued service, a customer, an SLA draft and a supplier for the service level
/// routes to find: [service, customer, sla, supplier].
async fn service_level_fixture(app: &TestApp) -> [String; 4] {
    use custos_core::authz::Actor;
    let actor = Actor::System("fuzz");
    let s = &app.store;
    let svc = s
        .create_ci(
            &actor,
            custos_core::cmdb::CiInput::new(
                "business_service",
                "Fuzz service",
                None,
                custos_core::cmdb::Lifecycle::Active,
                serde_json::json!({}),
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .ci
        .id;
    let entry = custos_core::service::ServiceInput::new(
        "",
        None,
        custos_core::calendar::ServiceHours::always(),
        vec![],
        Default::default(),
    )
    .unwrap();
    s.put_service(&actor, svc, entry).await.unwrap();
    let customer = s
        .create_customer(
            &actor,
            custos_core::service::CustomerInput::new(
                "Fuzz customer",
                custos_core::service::CustomerKind::External,
                None,
                "",
                "",
                vec![],
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let supplier = s
        .create_supplier(
            &actor,
            custos_core::service::SupplierInput::new(
                "Fuzz supplier",
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
    let terms: custos_core::sla::SlaTerms = serde_json::from_value(serde_json::json!({
        "name": "Fuzz SLA", "customer_id": customer, "service_id": svc,
        "valid_from": "2026-01-01", "valid_to": "2030-12-31",
        "targets": custos_core::service::Targets::default(),
        "security": {"classification": {"confidentiality": "high", "integrity": null, "availability": null}, "reporting": "monthly"}
    }))
    .unwrap();
    let sla = s
        .create_sla(&actor, terms.validate().unwrap())
        .await
        .unwrap()
        .id;
    [
        svc.to_string(),
        customer.to_string(),
        sla.to_string(),
        supplier.to_string(),
    ]
}
