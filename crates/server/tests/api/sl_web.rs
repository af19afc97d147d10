//! Service level management through the web pages: a service owner sets up a customer, the
//! catalogue entry and a draft SLA by forms (bad input comes back with a message naming
//! the field and the user's values kept), both sides agree, the SLA page shows the
//! requirements check, the report page renders with downloads and can be kept, OLAs and
//! contracts underpin requirements; another customer's representative is refused.

use crate::helpers::*;
use custos_core::account::Role;
use custos_core::authz::Actor;
use custos_core::cmdb::{CiInput, Lifecycle, RelType};
use reqwest::StatusCode;
use serde_json::json;

/// The id at the end of a redirect to `/prefix/{id}`.
fn id_from(loc: &Option<String>, prefix: &str) -> String {
    let loc = loc.as_deref().expect("a redirect");
    let rest = loc
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{loc} starts with {prefix}"));
    rest.split(['/', '#', '?']).next().unwrap().to_string()
}

async fn signed_in<'a>(app: &'a TestApp, email: &str) -> (Browser<'a>, String) {
    let mut b = app.browser();
    let (status, _, _) = b.login(email, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{email} signs in");
    let (_, _, home) = b.get("/").await;
    let csrf = Browser::csrf(&home);
    (b, csrf)
}

fn sla_form<'a>(
    csrf: &'a str,
    customer: &'a str,
    service: &'a str,
    requirements: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", "Payroll SLA 2026"),
        ("customer_id", customer),
        ("service_id", service),
        ("valid_from", "2026-01-01"),
        ("valid_to", "2030-12-31"),
        ("reporting", "monthly"),
        ("availability_pct", "99.5"),
        ("p1_response", "15"),
        ("p1_resolution", "240"),
        ("p2_response", "30"),
        ("p2_resolution", "480"),
        ("p3_response", "240"),
        ("p3_resolution", "1440"),
        ("p4_response", "480"),
        ("p4_resolution", "4800"),
        ("confidentiality", "high"),
        ("integrity", "moderate"),
        ("availability", ""),
        ("requirements", requirements),
        ("categories", "data_leak, malware"),
        ("crit_confidentiality", "high"),
        ("crit_integrity", ""),
        ("crit_availability", ""),
        ("control_failures", "1"),
        ("keywords", "salary"),
        ("authorised_roles", "agent"),
        (
            "asset_protection",
            "Payroll exports only on encrypted media.",
        ),
        ("copying_restrictions", "No copies outside the EU."),
        ("kpi_metric", "control_coverage"),
        ("kpi_comparison", "at_least"),
        ("kpi_target", "90"),
        ("kpi_how", "Gap report of the service scope"),
        ("kpi_metric", ""),
        ("kpi_comparison", "at_least"),
        ("kpi_target", ""),
        ("kpi_how", ""),
    ]
}

const GOOD_REQUIREMENTS: &str = "SR-1 | Standard hardening | T-BASE\n\
SR-2 | Extra audit logging | T-EXTRA\n\
SR-3 | Payroll data encrypted at rest | T-UNIMPL";

#[tokio::test]
async fn a_service_owner_and_a_customer_agree_an_sla_through_the_pages() {
    for app in spawn_apps().await {
        let backend = app.backend;
        let actor = Actor::System("test");
        let mk = |t: &str, n: &str| CiInput::new(t, n, None, Lifecycle::Active, json!({})).unwrap();
        let svc = app
            .store
            .create_ci(&actor, mk("business_service", "Payroll"))
            .await
            .unwrap()
            .ci
            .id;
        let server = app
            .store
            .create_ci(&actor, mk("server", "pay-srv"))
            .await
            .unwrap()
            .ci
            .id;
        app.store
            .add_relationship(&actor, svc, server, RelType::DependsOn)
            .await
            .unwrap();
        let mut controls = vec![];
        for c in ["base", "extra", "unimpl"] {
            controls.push(app.control(c).await);
        }
        // `extra` is implemented somewhere already; `base` and `unimpl` nowhere.
        app.store
            .put_implementation(
                &actor,
                custos_core::measures::Implementation {
                    ci_id: server,
                    control_id: controls[1],
                    status: custos_core::measures::ImplStatus::Implemented,
                    justification: String::new(),
                    evidence: String::new(),
                    links: vec![],
                    owner_id: None,
                    last_verified_at: None,
                    next_review_at: None,
                    inheritable: false,
                    updated_at: custos_core::Timestamp::now(),
                },
            )
            .await
            .unwrap();
        let owner = app
            .user("owner@example.org", &[Role::ServiceOwner], None)
            .await;
        let rep_a = app
            .user("rep-a@example.org", &[Role::CustomerRepresentative], None)
            .await;
        let rep_b = app
            .user("rep-b@example.org", &[Role::CustomerRepresentative], None)
            .await;
        let (mut o, csrf) = signed_in(&app, "owner@example.org").await;
        let (_, _, home) = o.get("/").await;
        for link in [
            "href=\"/services\"",
            "href=\"/slas\"",
            "href=\"/customers\"",
            "href=\"/suppliers\"",
        ] {
            assert!(home.contains(link), "navigation has {link}");
        }

        // Customers: a bad form comes back with the message and the values.
        let (status, _, page) = o.get("/customers/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&rep_a.email.to_string()),
            "representatives to choose"
        );
        let rep_a_id = rep_a.id.to_string();
        let (status, _, page) = o
            .post(
                "/customers",
                &[
                    ("csrf", &csrf),
                    ("name", " "),
                    ("kind", "internal"),
                    ("contact", "finance@example.org"),
                    ("representatives", &rep_a_id),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(page.contains("Name: must not be empty"), "{page}");
        assert!(page.contains("value=\"finance@example.org\""));
        let (status, loc, _) = o
            .post(
                "/customers",
                &[
                    ("csrf", &csrf),
                    ("name", "Finance"),
                    ("kind", "internal"),
                    ("representatives", &rep_a_id),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let finance = id_from(&loc, "/customers/");
        let rep_b_id = rep_b.id.to_string();
        let (_, loc, _) = o
            .post(
                "/customers",
                &[
                    ("csrf", &csrf),
                    ("name", "Sales"),
                    ("kind", "internal"),
                    ("representatives", &rep_b_id),
                ],
            )
            .await;
        let sales = id_from(&loc, "/customers/");
        let (status, _, page) = o
            .post(
                "/customers",
                &[("csrf", &csrf), ("name", "Finance"), ("kind", "external")],
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains("a customer with this name already exists"));

        // The catalogue entry.
        let (status, _, page) = o.get(&format!("/cmdb/{svc}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&format!("/services/{svc}/edit")),
            "CI page links the catalogue"
        );
        let (status, _, page) = o.get(&format!("/services/{svc}/edit")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("name=\"start_mon\""));
        let mut service = Fields::new(&[
            ("csrf", &csrf),
            ("description", "Salaries"),
            ("owner_id", &owner.id.to_string()),
            ("time_zone", "Mars/Olympus"),
            ("holidays", "2026-12-25"),
            ("baseline", "T-BASE"),
            ("availability_pct", "99.5"),
            ("p1_response", "15"),
            ("p1_resolution", "240"),
            ("p2_response", "30"),
            ("p2_resolution", "480"),
            ("p3_response", "240"),
            ("p3_resolution", "1440"),
            ("p4_response", "480"),
            ("p4_resolution", "4800"),
            ("start_sat", ""),
            ("end_sat", ""),
            ("start_sun", ""),
            ("end_sun", ""),
        ]);
        for d in ["mon", "tue", "wed", "thu", "fri"] {
            service.push(&format!("start_{d}"), "08:00");
            service.push(&format!("end_{d}"), "18:00");
        }
        let path = format!("/services/{svc}");
        let (status, _, page) = o.post(&path, &service.pairs()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(page.contains("Time zone: unknown IANA time zone"), "{page}");
        assert!(page.contains("value=\"Mars/Olympus\""), "the input is kept");
        service.set("time_zone", "Europe/Amsterdam");
        service.set("holidays", "2026-12-25\n2026-12-32");
        let (status, _, page) = o.post(&path, &service.pairs()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            page.contains("Holidays: line 2: “2026-12-32” is not a date YYYY-MM-DD"),
            "{page}"
        );
        service.set("holidays", "2026-12-25");
        service.set("end_tue", "");
        let (status, _, page) = o.post(&path, &service.pairs()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Tuesday hours: give both"), "{page}");
        service.set("end_tue", "18:00");
        service.set("baseline", "T-BASE, NOPE-9");
        let (status, _, page) = o.post(&path, &service.pairs()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Security baseline: no control has the label or id “NOPE-9”"));
        service.set("baseline", "T-BASE");
        let (status, loc, _) = o.post(&path, &service.pairs()).await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some(path.as_str()))
        );
        let (status, _, page) = o.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        for text in [
            "Europe/Amsterdam",
            "08:00–18:00",
            "2026-12-25",
            "T-BASE",
            "owner",
        ] {
            assert!(page.contains(text), "{backend}: service page shows {text}");
        }
        let (_, _, list) = o.get("/services").await;
        assert!(list.contains(&path));

        // Drafting the SLA: a broken requirements line names its line and keeps the text.
        let (status, _, page) = o.get(&format!("/slas/new?service={svc}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("value=\"99.5\""),
            "targets come from the catalogue"
        );
        let broken = "SR-1 | Standard hardening | T-BASE\nSR-2 | Extra audit logging | T-EXTRA\nSR-3 encrypted at rest, T-UNIMPL";
        let svc_s = svc.to_string();
        let (status, _, page) = o
            .post("/slas", &sla_form(&csrf, &finance, &svc_s, broken))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(
            page.contains("Requirements, line 3: write KEY | text | controls"),
            "{page}"
        );
        assert!(
            page.contains("SR-2 | Extra audit logging | T-EXTRA"),
            "input kept"
        );
        assert!(page.contains("value=\"Payroll SLA 2026\""));
        let unknown = "SR-1 | Standard hardening | T-BASE\n\nSR-3 | At rest | T-NOPE";
        let (_, _, page) = o
            .post("/slas", &sla_form(&csrf, &finance, &svc_s, unknown))
            .await;
        assert!(
            page.contains("Requirements, line 3: no control has the label or id “T-NOPE”"),
            "{page}"
        );
        let twice = "SR-1 | Standard hardening | T-BASE\nSR-1 | Again | T-EXTRA";
        let (_, _, page) = o
            .post("/slas", &sla_form(&csrf, &finance, &svc_s, twice))
            .await;
        assert!(
            page.contains("Requirements, line 2 (key): is used twice"),
            "{page}"
        );
        let mut bad_kpi = sla_form(&csrf, &finance, &svc_s, GOOD_REQUIREMENTS);
        let first_target = bad_kpi
            .iter()
            .position(|(k, _)| *k == "kpi_target")
            .unwrap();
        bad_kpi[first_target].1 = "lots";
        let (_, _, page) = o.post("/slas", &bad_kpi).await;
        assert!(
            page.contains("KPI row 1: the target must be a number"),
            "{page}"
        );
        let (status, loc, _) = o
            .post(
                "/slas",
                &sla_form(&csrf, &finance, &svc_s, GOOD_REQUIREMENTS),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        let sla = id_from(&loc, "/slas/");
        let sla_path = format!("/slas/{sla}");

        // The draft and its requirements check.
        let (status, _, page) = o.get(&sla_path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("sla-status sla-draft"));
        assert!(page.contains("Covered by the baseline"), "SR-1: {page}");
        assert!(
            page.contains("Additional: extra controls and cost"),
            "SR-2, SR-3"
        );
        let check = &page[page.find("id=\"requirements-check\"").unwrap()..];
        let row = |key: &str| {
            let i = check.find(&format!(">{key}</th>")).unwrap();
            check[i..].split("</tr>").next().unwrap().to_string()
        };
        assert!(row("SR-1").contains("Covered by the baseline"), "{backend}");
        assert!(row("SR-1").contains("<span class=\"warn\">T-BASE</span>"));
        assert!(row("SR-2").contains("Additional") && row("SR-2").contains("<td>none</td>"));
        assert!(row("SR-3").contains("<span class=\"warn\">T-UNIMPL</span>"));
        assert!(page.contains("Payroll exports only on encrypted media."));
        assert!(page.contains("data_leak") && page.contains("confidential"));
        assert!(page.contains("Edit draft") && page.contains("Delete this draft"));
        assert!(
            !page.contains("Agree as customer"),
            "the owner is not the customer"
        );
        assert!(page.contains("Agree as service owner"));

        // The customer's representative agrees first; a second time is refused in words.
        let (mut a, csrf_a) = signed_in(&app, "rep-a@example.org").await;
        let (status, _, page) = a.get(&sla_path).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("Agree as customer") && !page.contains("Agree as service owner"));
        assert!(!page.contains("Edit draft"));
        let agree = format!("{sla_path}/agree");
        let (status, loc, _) = a
            .post(&agree, &[("csrf", &csrf_a), ("side", "customer")])
            .await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some(sla_path.as_str()))
        );
        let (status, _, page) = a
            .post(&agree, &[("csrf", &csrf_a), ("side", "customer")])
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains("already agreed"), "{page}");
        let (status, _, _) = a
            .post(&agree, &[("csrf", &csrf_a), ("side", "owner")])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Another customer's representative sees none of it.
        let (mut bb, csrf_b) = signed_in(&app, "rep-b@example.org").await;
        for page in [
            sla_path.clone(),
            format!("{sla_path}/reports/2026-10"),
            format!("{sla_path}/reports/2026-10.csv"),
            format!("{sla_path}/reports?period=2026-10"),
            format!("/customers/{finance}"),
        ] {
            let (status, _, _) = bb.get(&page).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: rep B GET {page}");
        }
        let (status, _, _) = bb
            .post(&agree, &[("csrf", &csrf_b), ("side", "customer")])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, _, list) = bb.get("/slas").await;
        assert!(!list.contains("Payroll SLA 2026"));
        let (_, _, list) = bb.get("/customers").await;
        assert!(list.contains("Sales") && !list.contains("Finance"));
        assert_eq!(bb.get("/suppliers").await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            a.get(&format!("/customers/{sales}")).await.0,
            StatusCode::FORBIDDEN
        );

        // The owner agrees: the SLA is in force.
        let (status, _, _) = o.post(&agree, &[("csrf", &csrf), ("side", "owner")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = o.get(&sla_path).await;
        assert!(page.contains("sla-status sla-agreed"), "{backend}");
        assert!(page.contains("rep-a on "), "who agreed for the customer");
        assert!(page.contains("owner on "), "who agreed for the service");
        assert!(page.contains("Requirements check") && page.contains("Covered by the baseline"));
        assert!(!page.contains("Edit draft") && page.contains("New version"));

        // The report: a live preview with the exception section and downloads.
        let (status, loc, _) = a.get(&format!("{sla_path}/reports?period=2026-10")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let report_path = format!("{sla_path}/reports/2026-10");
        assert_eq!(loc.as_deref(), Some(report_path.as_str()));
        let (status, _, page) = a.get(&format!("{sla_path}/reports?period=2026-13")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Period: must be a month"), "{page}");
        let (status, _, page) = a.get(&report_path).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("Live preview"));
        assert!(
            page.contains("id=\"report-exceptions\""),
            "exception section"
        );
        assert!(
            page.contains("SR-3"),
            "the uncovered requirement is an exception"
        );
        assert!(page.contains("outcome outcome-"));
        for ext in ["pdf", "csv", "json"] {
            assert!(
                page.contains(&format!("href=\"{report_path}.{ext}\"")),
                "{ext} link"
            );
        }
        assert!(
            !page.contains("Keep this report"),
            "a representative cannot keep"
        );
        assert!(
            !page.contains("&lt;table"),
            "the fragment is inserted as markup"
        );
        let csv = app
            .client
            .get(app.url(&format!("{report_path}.csv")))
            .header("cookie", a_cookie(&a))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(csv.text().await.unwrap().contains("SR-3"));

        // The owner keeps it; the page then says so, with the hash.
        let (_, _, page) = o.get(&report_path).await;
        assert!(page.contains("Keep this report"));
        let (status, loc, _) = o
            .post(&format!("{report_path}/keep"), &[("csrf", &csrf)])
            .await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some(report_path.as_str()))
        );
        let (status, _, _) = o
            .post(&format!("{report_path}/keep"), &[("csrf", &csrf)])
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "kept once");
        let (kept, _) = app
            .store
            .kept_report(
                custos_core::SlaId(sla.parse().unwrap()),
                &custos_core::sla_report::Period::parse("2026-10").unwrap(),
            )
            .await
            .unwrap();
        let (_, _, page) = a.get(&report_path).await;
        assert!(
            page.contains("Kept report") && page.contains(&kept.sha256),
            "{backend}"
        );
        let (_, _, json) = a.get(&format!("{report_path}.json")).await;
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["kept"]["sha256"], kept.sha256.as_str());
        let (_, _, page) = a.get(&sla_path).await;
        assert!(
            page.contains(&kept.sha256),
            "kept reports are listed on the SLA"
        );
        let (status, _, _) = o
            .post(
                &format!("{sla_path}/reports/2099-01/keep"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a future period is not kept"
        );

        // Underpinning: nothing yet, then an OLA and a contract.
        let (_, _, page) = o.get(&path).await;
        assert!(
            page.contains("3 requirements are not underpinned"),
            "{backend}: {page}"
        );
        let (status, _, page) = o.get(&format!("/olas/new?service={svc}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("name=\"component_type\""));
        let mut ola = Fields::new(&[
            ("csrf", &csrf),
            ("service_id", &svc.to_string()),
            ("team", "Hosting team"),
            ("department_id", ""),
            ("component_type", ""),
            ("component_ci", ""),
            ("controls", "T-EXTRA"),
            ("targets", "Logs kept 1 year"),
            ("valid_from", "2026-01-01"),
            ("valid_to", "2030-12-31"),
            ("review_date", ""),
        ]);
        let (status, _, page) = o.post("/olas", &ola.pairs()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Component: name either one CI"), "{page}");
        assert!(page.contains("value=\"Hosting team\""));
        ola.set("component_type", "server");
        let (status, loc, _) = o.post("/olas", &ola.pairs()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            loc.as_deref(),
            Some(format!("/services/{svc}#olas").as_str())
        );
        let (status, loc, _) = o
            .post(
                "/suppliers",
                &[
                    ("csrf", &csrf),
                    ("name", "Acme Hosting"),
                    ("risk_tier", "high"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let supplier = id_from(&loc, "/suppliers/");
        let (status, _, page) = o.get(&format!("/contracts/new?service={svc}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Acme Hosting"));
        let contract = [
            ("csrf", csrf.as_str()),
            ("service_id", svc_s.as_str()),
            ("supplier_id", supplier.as_str()),
            ("title", "Hosting contract"),
            ("controls", "T-BASE"),
            ("penalty_amount", "5000"),
            ("currency", ""),
            ("valid_from", "2026-01-01"),
            ("valid_to", "2030-12-31"),
        ];
        let (status, _, page) = o.post("/contracts", &contract).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Currency: a penalty amount needs"), "{page}");
        let mut contract = contract;
        contract[6].1 = "EUR";
        let (status, _, _) = o.post("/contracts", &contract).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = o.get(&path).await;
        assert!(
            page.contains("1 requirement is not underpinned"),
            "{backend}: {page}"
        );
        assert!(page.contains("SR-3 of Payroll SLA 2026 v1: nothing assures T-UNIMPL"));
        assert!(page.contains("OLA: Hosting team") && page.contains("Contract: Hosting contract"));
        let (status, _, page) = o
            .post(&format!("/suppliers/{supplier}/delete"), &[("csrf", &csrf)])
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains("still has underpinning contracts"));
        let ola_id = page_ola_id(&o.get(&path).await.2);
        let (status, _, _) = o
            .post(&format!("/olas/{ola_id}/delete"), &[("csrf", &csrf)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, page) = o.get(&path).await;
        assert!(page.contains("2 requirements are not underpinned"));
        // A representative reads the service but not its OLAs and contracts.
        let (status, _, page) = a.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains("Hosting contract") && page.contains("Payroll SLA 2026"));

        // A new version opens as an editable draft with the terms as the form writes them.
        let (status, loc, _) = o
            .post(&format!("{sla_path}/versions"), &[("csrf", &csrf)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let v2 = id_from(&loc, "/slas/");
        assert_ne!(v2, sla);
        let (status, _, page) = o.get(&format!("/slas/{v2}/edit")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("SR-1 | Standard hardening | T-BASE"),
            "{page}"
        );
        let (status, _, page) = o.get(&format!("{sla_path}/edit")).await;
        assert_eq!(status, StatusCode::CONFLICT, "an agreed SLA is not edited");
        assert!(page.contains("start a new version"));
        let (status, _, _) = o
            .post(&format!("/slas/{v2}/delete"), &[("csrf", &csrf)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
}

/// Form fields that a test changes one at a time.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn new(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn push(&mut self, k: &str, v: &str) {
        self.0.push((k.into(), v.into()));
    }

    fn set(&mut self, k: &str, v: &str) {
        for f in self.0.iter_mut().filter(|f| f.0 == k) {
            f.1 = v.into();
        }
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// The session cookie of a browser, for a request made by hand.
fn a_cookie(b: &Browser<'_>) -> String {
    b.cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The id in the first OLA delete form of a service page.
fn page_ola_id(page: &str) -> String {
    let i = page.find("action=\"/olas/").expect("an OLA delete form") + 14;
    page[i..].split('/').next().unwrap().to_string()
}

/// The rows of a list page: the ids its table links to under `prefix` (`/services/`).
fn row_ids(page: &str, prefix: &str) -> Vec<String> {
    let marker = format!("<tr><td><a href=\"{prefix}");
    page.match_indices(&marker)
        .map(|(i, _)| {
            page[i + marker.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The "Next page" link of a list page.
fn next_link(page: &str, list: &str) -> Option<String> {
    let marker = format!("<a href=\"{list}?");
    let i = page.find(&marker)?;
    let href = page[i + 9..].split('"').next().unwrap();
    assert!(
        page[i..].contains(">Next page</a>"),
        "{href} is the next-page link"
    );
    Some(href.replace("&amp;", "&"))
}

#[tokio::test]
async fn olas_and_contracts_are_edited_through_their_forms_and_the_catalogue_pages() {
    use custos_core::sla::{ContractTerms, OlaTerms};
    for app in spawn_apps().await {
        let backend = app.backend;
        let actor = Actor::System("test");
        let s = &app.store;
        let ci = |t: &str, n: &str, key: Option<&str>| {
            CiInput::new(t, n, key, Lifecycle::Active, json!({})).unwrap()
        };
        let plain_service = || {
            custos_core::service::ServiceInput::new(
                "",
                None,
                custos_core::calendar::ServiceHours::always(),
                vec![],
                Default::default(),
            )
            .unwrap()
        };
        let svc = s
            .create_ci(&actor, ci("business_service", "Payroll", None))
            .await
            .unwrap()
            .ci
            .id;
        s.put_service(&actor, svc, plain_service()).await.unwrap();
        let server = s
            .create_ci(&actor, ci("server", "pay-srv", Some("PAY-SRV-1")))
            .await
            .unwrap()
            .ci
            .id;
        let (ctl_a, ctl_b) = (app.control("edit-a").await, app.control("edit-b").await);
        let supplier = |name: &str| {
            custos_core::service::SupplierInput::new(
                name,
                "",
                "",
                custos_core::service::RiskTier::Low,
                None,
                None,
            )
            .unwrap()
        };
        let acme = s
            .create_supplier(&actor, supplier("Acme"))
            .await
            .unwrap()
            .id;
        let beta = s
            .create_supplier(&actor, supplier("Beta"))
            .await
            .unwrap()
            .id;
        let ola: OlaTerms = serde_json::from_value(json!({"service_id": svc, "team": "Ops",
            "component_type": "server", "controls": [ctl_a], "targets": "Patches in 14 days",
            "valid_from": "2026-01-01", "valid_to": "2030-12-31", "review_date": null}))
        .unwrap();
        let ola = s
            .create_ola(&actor, ola.validate().unwrap())
            .await
            .unwrap()
            .id;
        let k: ContractTerms = serde_json::from_value(json!({"supplier_id": acme,
            "service_id": svc, "title": "Hosting contract", "controls": [ctl_a],
            "penalty_amount": 5000.0, "currency": "EUR", "valid_from": "2026-01-01",
            "valid_to": "2030-12-31", "review_date": null}))
        .unwrap();
        let k = s
            .create_contract(&actor, k.validate().unwrap())
            .await
            .unwrap()
            .id;
        app.user("owner@example.org", &[Role::ServiceOwner], None)
            .await;
        let (mut o, csrf) = signed_in(&app, "owner@example.org").await;

        // The service page links both edit forms.
        let svc_path = format!("/services/{svc}");
        let (_, _, page) = o.get(&svc_path).await;
        assert!(
            page.contains(&format!("href=\"/olas/{ola}/edit\"")),
            "{page}"
        );
        assert!(page.contains(&format!("href=\"/contracts/{k}/edit\"")));

        // The OLA form opens with its terms; a bad component comes back naming the field.
        let (status, _, page) = o.get(&format!("/olas/{ola}/edit")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains(&format!("action=\"/olas/{ola}\"")));
        assert!(page.contains("value=\"Ops\"") && page.contains("T-EDIT-A"));
        assert!(
            page.contains("<option value=\"server\" selected>"),
            "{page}"
        );
        assert!(page.contains("Patches in 14 days"));
        let mut form = Fields::new(&[
            ("csrf", &csrf),
            ("team", "Platform team"),
            ("department_id", ""),
            ("component_type", ""),
            ("component_ci", "NO-SUCH-CI"),
            ("controls", "T-EDIT-A\nT-EDIT-B"),
            ("targets", "Patches in 7 days"),
            ("valid_from", "2026-01-01"),
            ("valid_to", "2031-12-31"),
            ("review_date", "2027-06-30"),
        ]);
        let path = format!("/olas/{ola}");
        let (status, _, page) = o.post(&path, &form.pairs()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(
            page.contains("Component: no CI has this external key or id"),
            "{page}"
        );
        assert!(page.contains("value=\"Platform team\"") && page.contains("value=\"NO-SUCH-CI\""));
        assert!(
            page.contains(&format!("action=\"/olas/{ola}\"")),
            "still the edit form"
        );
        assert_eq!(s.ola(ola).await.unwrap().terms.team, "Ops", "nothing saved");
        form.set("csrf", "forged");
        form.set("component_ci", "PAY-SRV-1");
        assert_eq!(o.post(&path, &form.pairs()).await.0, StatusCode::FORBIDDEN);
        form.set("csrf", &csrf);
        let (status, loc, _) = o.post(&path, &form.pairs()).await;
        assert_eq!(
            (status, loc.as_deref()),
            (
                StatusCode::SEE_OTHER,
                Some(format!("{svc_path}#olas").as_str())
            ),
            "{backend}"
        );
        let t = s.ola(ola).await.unwrap().terms;
        assert_eq!(t.service_id, svc, "the OLA keeps its service");
        assert_eq!(t.team, "Platform team");
        assert_eq!((t.component_ci, t.component_type), (Some(server), None));
        assert_eq!(t.controls.len(), 2);
        assert_eq!(t.targets, "Patches in 7 days");
        assert_eq!(t.valid_to.as_str(), "2031-12-31");
        assert_eq!(
            t.review_date.map(|d| d.as_str().to_string()).as_deref(),
            Some("2027-06-30")
        );
        let (_, _, page) = o.get(&format!("/olas/{ola}/edit")).await;
        assert!(
            page.contains("value=\"PAY-SRV-1\""),
            "the CI by its key: {page}"
        );

        // The contract likewise: a bad amount, then a new supplier, title and penalty.
        let (status, _, page) = o.get(&format!("/contracts/{k}/edit")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains(&format!("action=\"/contracts/{k}\"")));
        assert!(page.contains("value=\"Hosting contract\"") && page.contains("value=\"5000\""));
        assert!(
            page.contains(&format!("<option value=\"{acme}\" selected>")),
            "{page}"
        );
        let beta_s = beta.to_string();
        let mut form = Fields::new(&[
            ("csrf", &csrf),
            ("supplier_id", &beta_s),
            ("title", "Hosting contract 2027"),
            ("security_requirements", "ISO 27001 certified"),
            ("controls", "T-EDIT-B"),
            ("penalties", "Service credits"),
            ("penalty_amount", "lots"),
            ("currency", "EUR"),
            ("valid_from", "2026-01-01"),
            ("valid_to", "2030-12-31"),
            ("review_date", ""),
        ]);
        let path = format!("/contracts/{k}");
        let (status, _, page) = o.post(&path, &form.pairs()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(page.contains("Penalty amount: must be a number"), "{page}");
        assert!(
            page.contains("value=\"lots\"") && page.contains("value=\"Hosting contract 2027\"")
        );
        assert!(
            page.contains(&format!("<option value=\"{beta}\" selected>")),
            "choice kept"
        );
        form.set("penalty_amount", "2500,50");
        let (status, loc, _) = o.post(&path, &form.pairs()).await;
        assert_eq!(
            (status, loc.as_deref()),
            (
                StatusCode::SEE_OTHER,
                Some(format!("{svc_path}#contracts").as_str())
            ),
            "{backend}"
        );
        let t = s.contract(k).await.unwrap().terms;
        assert_eq!((t.supplier_id, t.service_id), (beta, svc));
        assert_eq!(t.title, "Hosting contract 2027");
        assert_eq!(t.penalty_amount, Some(2500.5));
        assert_eq!(t.controls, vec![ctl_b]);
        let (_, _, page) = o.get(&svc_path).await;
        assert!(page.contains("Hosting contract 2027") && page.contains("Platform team"));
        let nobody = uuid::Uuid::now_v7();
        assert_eq!(
            o.get(&format!("/olas/{nobody}/edit")).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            o.get(&format!("/contracts/{nobody}/edit")).await.0,
            StatusCode::NOT_FOUND
        );

        // The catalogue pages by 50: 51 services are two pages, each service once.
        for i in 0..50 {
            let id = s
                .create_ci(&actor, ci("business_service", &format!("Svc {i:02}"), None))
                .await
                .unwrap()
                .ci
                .id;
            s.put_service(&actor, id, plain_service()).await.unwrap();
        }
        let (status, _, first) = o.get("/services").await;
        assert_eq!(status, StatusCode::OK);
        let mut seen = row_ids(&first, "/services/");
        assert_eq!(seen.len(), 50, "{backend}: a page holds 50");
        let next = next_link(&first, "/services").expect("a next page");
        let (status, _, second) = o.get(&next).await;
        assert_eq!(status, StatusCode::OK, "{next}");
        let rest = row_ids(&second, "/services/");
        assert_eq!(rest.len(), 1, "{backend}: {second}");
        assert!(next_link(&second, "/services").is_none(), "the last page");
        seen.extend(rest);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 51, "every service once");
        assert!(seen.contains(&svc.to_string()));
    }
}

#[tokio::test]
async fn the_customer_list_pages_by_50_and_a_representative_pages_through_its_own() {
    use custos_core::service::{CustomerInput, CustomerKind};
    for app in spawn_apps().await {
        let backend = app.backend;
        let actor = Actor::System("test");
        app.user("owner@example.org", &[Role::ServiceOwner], None)
            .await;
        let rep = app
            .user("rep@example.org", &[Role::CustomerRepresentative], None)
            .await;
        let customer = |name: &str, reps: Vec<custos_core::UserId>| {
            CustomerInput::new(name, CustomerKind::External, None, "", "", reps).unwrap()
        };
        // 52 customers the representative speaks for, and one it does not.
        let mut theirs = vec![];
        for i in 0..52 {
            let c = app
                .store
                .create_customer(&actor, customer(&format!("Customer {i:02}"), vec![rep.id]))
                .await
                .unwrap();
            theirs.push(c.id.to_string());
        }
        let other = app
            .store
            .create_customer(&actor, customer("Other Co", vec![]))
            .await
            .unwrap()
            .id
            .to_string();

        // Those who see every customer: 50, then the other 3.
        let (mut o, _) = signed_in(&app, "owner@example.org").await;
        let (status, _, first) = o.get("/customers").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let mut seen = row_ids(&first, "/customers/");
        assert_eq!(seen.len(), 50, "{backend}: a page holds 50");
        let next = next_link(&first, "/customers").expect("a next page");
        let (status, _, second) = o.get(&next).await;
        assert_eq!(status, StatusCode::OK, "{next}");
        let rest = row_ids(&second, "/customers/");
        assert_eq!(rest.len(), 3, "{backend}: {second}");
        assert!(next_link(&second, "/customers").is_none(), "the last page");
        seen.extend(rest);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 53, "every customer once");
        assert!(seen.contains(&other));

        // The representative pages through its 52 and never sees the other customer.
        let (mut r, _) = signed_in(&app, "rep@example.org").await;
        let (status, _, first) = r.get("/customers").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let mut seen = row_ids(&first, "/customers/");
        assert_eq!(seen.len(), 50, "{backend}");
        let next = next_link(&first, "/customers").expect("a next page of its own");
        let (_, _, second) = r.get(&next).await;
        let rest = row_ids(&second, "/customers/");
        assert_eq!(rest.len(), 2, "{backend}: {second}");
        assert!(next_link(&second, "/customers").is_none());
        seen.extend(rest);
        seen.sort();
        theirs.sort();
        assert_eq!(seen, theirs, "exactly the customers it represents");
        assert!(!first.contains("Other Co") && !second.contains("Other Co"));
        assert_eq!(
            r.get(&format!("/customers/{other}")).await.0,
            StatusCode::FORBIDDEN
        );
    }
}
