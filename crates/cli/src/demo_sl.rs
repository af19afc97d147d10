//! The demo's service level management: Finance (internal) and Northwind Retail (external)
//! as customers, two suppliers, catalogue entries for the four services, the agreed
//! "Payroll SLA 2026" whose security section drives the payroll CIs' measures, a draft
//! webshop SLA to show the requirements check, an OLA and two contracts (one requirement
//! left without underpinning), and five kept monthly reports whose control coverage rises
//! as the payroll baseline is rolled out — so the report's trend chart has a story.

use anyhow::anyhow;
use custos_core::authz::Actor;
use custos_core::calendar::{ServiceHours, Window};
use custos_core::measures::{ImplStatus, Implementation};
use custos_core::service::{
    CustomerInput, CustomerKind, RiskTier, ServiceInput, SupplierInput, Targets,
};
use custos_core::sla::{ContractTerms, OlaTerms, Side, SlaTerms};
use custos_core::sla_report::Period;
use custos_core::store::Store;
use custos_core::time::Date;
use custos_core::{ControlId, Timestamp};
use serde_json::json;

async fn controls(store: &dyn Store, ids: &[&str]) -> anyhow::Result<Vec<ControlId>> {
    let mut out = vec![];
    for id in ids {
        let f = custos_core::controls::ControlFilter {
            q: Some(id.to_string()),
            ..Default::default()
        };
        let found = store
            .list_controls(&f, custos_core::page::PageRequest::first(500))
            .await?;
        out.push(
            found
                .items
                .into_iter()
                .find(|c| c.spec.control_id == *id)
                .map(|c| c.id)
                .ok_or_else(|| anyhow!("demo control {id} missing"))?,
        );
    }
    Ok(out)
}

fn hours(tz: &str, days: &[&str], start: &str, end: &str, holidays: &[&str]) -> ServiceHours {
    ServiceHours {
        time_zone: tz.into(),
        windows: days
            .iter()
            .map(|d| Window {
                day: d.to_string(),
                start: start.into(),
                end: end.into(),
            })
            .collect(),
        holidays: holidays.iter().map(|h| h.to_string()).collect(),
    }
}

/// Seeds service level management. `customer` is the Finance representative, `owner` the
/// service owner; they agree the payroll SLA as they would in the UI.
pub async fn seed(
    store: &dyn Store,
    actor: &Actor,
    customer: &Actor,
    owner: &Actor,
) -> anyhow::Result<()> {
    let ci = |key: &'static str| async move { store.ci_by_key(key).await.map(|r| r.ci.id) };
    let (rep, owner_id) = (customer.user_id(), owner.user_id());
    let finance_dept = store.department_by_name("Finance").await?.id;
    let finance = store
        .create_customer(
            actor,
            CustomerInput::new(
                "Finance",
                CustomerKind::Internal,
                Some(finance_dept),
                "finance-office@demo.custos.dev",
                "Internal business unit: payroll, accounting, HR administration.",
                rep.into_iter().collect(),
            )?,
        )
        .await?;
    let northwind = store
        .create_customer(
            actor,
            CustomerInput::new(
                "Northwind Retail",
                CustomerKind::External,
                None,
                "it-vendor-management@northwind.example",
                "Franchise partner using our webshop platform.",
                vec![],
            )?,
        )
        .await?;
    let acme = store
        .create_supplier(
            actor,
            SupplierInput::new(
                "Acme Hosting BV",
                "noc@acme-hosting.example, +31 20 555 0100",
                "ISO/IEC 27001 certified; data centres in the EU only; security incidents reported within 24 h; yearly penetration test report shared.",
                RiskTier::High,
                Some(Date::parse("d", "2025-07-01")?),
                Some(Date::parse("d", "2028-06-30")?),
            )?,
        )
        .await?;
    let vault = store
        .create_supplier(
            actor,
            SupplierInput::new(
                "VaultTape Ltd",
                "service@vaulttape.example",
                "Sealed transport of backup media; chain-of-custody log per tape; destruction certificates.",
                RiskTier::Medium,
                Some(Date::parse("d", "2026-01-01")?),
                Some(Date::parse("d", "2027-12-31")?),
            )?,
        )
        .await?;

    let nl_holidays = ["2026-12-25", "2026-12-26", "2027-01-01", "2027-04-27"];
    let weekdays = ["mon", "tue", "wed", "thu", "fri"];
    let all_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let office = hours(
        "Europe/Amsterdam",
        &weekdays,
        "08:00",
        "18:00",
        &nl_holidays,
    );
    let services = [
        (
            "svc-payroll",
            "Salaries, bank transfers and payslips for all staff.",
            office.clone(),
            vec!["ac-2", "at-2", "ia-2", "si-2"],
        ),
        (
            "svc-webshop",
            "The public online shop, run for our own brand and for franchise partners.",
            hours("UTC", &all_days, "00:00", "24:00", &[]),
            vec!["ac-2", "si-2", "sc-7"],
        ),
        (
            "svc-email",
            "Mail and calendars for all staff.",
            hours("Europe/Amsterdam", &all_days, "06:00", "22:00", &[]),
            vec!["ac-2", "si-3"],
        ),
        (
            "svc-hr-portal",
            "Self-service for leave requests and personal data.",
            office.clone(),
            vec!["ac-2", "ia-2"],
        ),
    ];
    for (key, description, h, base) in services {
        let input = ServiceInput::new(
            description,
            owner_id,
            h,
            controls(store, &base).await?,
            Targets::default(),
        )?;
        store.put_service(actor, ci(key).await?, input).await?;
    }
    let payroll = ci("svc-payroll").await?;
    let webshop = ci("svc-webshop").await?;
    // Dates relative to today, so the demo tells the same story in any year: the payroll
    // SLA started five complete months ago and runs to the end of next year.
    let today = Date::of(Timestamp::now());
    let months: Vec<Period> = {
        let mut p = Period::last_complete(&today, false);
        let mut v = vec![];
        for _ in 0..5 {
            v.push(p.clone());
            p = p.previous();
        }
        v.reverse();
        v
    };
    let valid_from = months[0].dates().0;
    let next_year: i32 = today.as_str()[0..4].parse::<i32>()? + 1;
    let valid_to = format!("{next_year}-12-31");
    let sla_name = format!("Payroll SLA {}–{next_year}", &valid_from.as_str()[0..4]);

    // The payroll SLA: the customer's requirements enter through its security section.
    let c = |ids: &[&str]| {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        ids
    };
    let req = |key: &str, text: &str, ids: Vec<ControlId>| json!({"key": key, "text": text, "controls": ids});
    let payroll_terms: SlaTerms = serde_json::from_value(json!({
        "name": sla_name,
        "customer_id": finance.id,
        "service_id": payroll,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "targets": {"availability_pct": 99.5, "priorities": [
            {"response_minutes": 15, "resolution_minutes": 240},
            {"response_minutes": 30, "resolution_minutes": 480},
            {"response_minutes": 120, "resolution_minutes": 1440},
            {"response_minutes": 480, "resolution_minutes": 4800}]},
        "security": {
            "classification": {"confidentiality": "high", "integrity": "high", "availability": "moderate"},
            "requirements": [
                req("SR-1", "Salary data encrypted at rest and on backup media", controls(store, &["sc-28", "org-media-1"]).await?),
                req("SR-2", "Access to payroll data logged and reviewed weekly", controls(store, &["au-6"]).await?),
                req("SR-3", "Backups restorable, restore tested every quarter", controls(store, &["cp-9"]).await?),
            ],
            "incident_criteria": {
                "categories": c(&["data_leak", "unauthorized_access", "malware"]),
                "affected_levels": [{"dimension": "confidentiality", "at_least": "high"}],
                "control_failures": true,
                "keywords": c(&["salary", "iban", "payslip"])
            },
            "authorised_users": rep.into_iter().collect::<Vec<_>>(),
            "authorised_roles": ["security_manager"],
            "asset_protection": "Payroll exports leave the data centre only on encrypted media handled under procedure ORG-MEDIA-1.",
            "copying_restrictions": "No copies of salary data outside the EU; no copies on personal devices.",
            "reporting": "monthly"
        },
        "kpis": [
            {"metric": "availability_achieved", "target": 99.5, "comparison": "at_least", "measured_how": "Outage minutes from incidents, within service hours"},
            {"metric": "response_within_target", "target": 95, "comparison": "at_least", "measured_how": "Share of incidents responded to within the priority's target"},
            {"metric": "security_incidents", "target": 0, "comparison": "at_most", "measured_how": "Incidents recognised as security incidents in the period"},
            {"metric": "mean_time_to_contain", "target": 4, "comparison": "at_most", "measured_how": "Hours from detection to containment"},
            {"metric": "control_coverage", "target": 90, "comparison": "at_least", "measured_how": "Gap report over the service and everything it depends on"},
            {"metric": "overdue_control_reviews", "target": 0, "comparison": "at_most", "measured_how": "Implementations past their review date"}
        ]
    }))?;
    let sla = store.create_sla(owner, payroll_terms.validate()?).await?;
    store
        .agree_sla(customer, sla.id, Side::Customer, &today)
        .await?;
    let sla = store.agree_sla(owner, sla.id, Side::Owner, &today).await?;

    // A draft for an external customer: its requirements check shows what is extra.
    let webshop_terms: SlaTerms = serde_json::from_value(json!({
        "name": format!("Northwind webshop SLA {next_year}"),
        "customer_id": northwind.id,
        "service_id": webshop,
        "valid_from": format!("{next_year}-01-01"),
        "valid_to": format!("{next_year}-12-31"),
        "targets": Targets::default(),
        "security": {
            "classification": {"confidentiality": "moderate", "integrity": "moderate", "availability": "high"},
            "requirements": [
                req("NW-1", "Shop perimeter filtered and monitored", controls(store, &["sc-7"]).await?),
                req("NW-2", "Continuous monitoring of the platform for attacks", controls(store, &["si-4"]).await?),
                req("NW-3", "Quarterly vulnerability scans with reports to Northwind", controls(store, &["ra-5"]).await?),
            ],
            "incident_criteria": {"categories": c(&["data_leak", "fraud"]), "keywords": c(&["card", "skimming"])},
            "reporting": "quarterly"
        },
        "kpis": [{"metric": "control_coverage", "target": 85, "comparison": "at_least", "measured_how": "Gap report of the webshop scope"}]
    }))?;
    store.create_sla(owner, webshop_terms.validate()?).await?;

    // Underpinning: the infrastructure team and two suppliers; weekly log review (SR-2) is
    // deliberately assured by nobody, so the service page flags it.
    let ola: OlaTerms = serde_json::from_value(json!({
        "service_id": payroll, "department_id": store.department_by_name("IT").await?.id, "team": "Infrastructure operations",
        "component_ci": null, "component_type": "virtual_machine", "controls": controls(store, &["cp-9", "si-2"]).await?,
        "targets": "Daily backups, restore test every quarter; security patches within 14 days.",
        "valid_from": valid_from, "valid_to": valid_to, "review_date": null
    }))?;
    store.create_ola(actor, ola.validate()?).await?;
    for (supplier, title, ids, amount) in [
        (
            acme.id,
            "Managed hosting agreement",
            vec!["sc-28"],
            10_000.0,
        ),
        (
            vault.id,
            "Backup media transport and vaulting",
            vec!["org-media-1"],
            2_500.0,
        ),
    ] {
        let k: ContractTerms = serde_json::from_value(json!({
            "supplier_id": supplier, "service_id": payroll, "title": title,
            "security_requirements": "As in the supplier's security requirements; audit right once a year.",
            "controls": controls(store, &ids).await?, "penalties": "Service credits per missed target; termination after two security breaches.",
            "penalty_amount": amount, "currency": "EUR",
            "valid_from": valid_from, "valid_to": valid_to, "review_date": null
        }))?;
        store.create_contract(actor, k.validate()?).await?;
    }

    // Roll the HIGH baseline out on the payroll service as common controls, month by
    // month, keeping each month's report, so coverage rises in the report's chart.
    let high = custos_server::measures::level_baselines(store)
        .await
        .map_err(|e| anyhow!("{e}"))?[2]
        .0;
    let mut baseline = store
        .gap_data_many(&[(payroll, high)])
        .await?
        .remove(0)
        .baseline
        .to_vec();
    baseline.sort();
    let skip = controls(store, &["cp-9", "au-6", "sc-28", "ac-2", "at-2"]).await?;
    baseline.retain(|c| !skip.contains(c));
    let now = Timestamp::now();
    // Cumulative share of the baseline done by the end of each month (the rest stays open).
    let shares = [0.35, 0.55, 0.7, 0.8, 0.88];
    let mut done = 0;
    for (period, share) in months.iter().zip(shares) {
        let upto = (baseline.len() as f64 * share) as usize;
        for control in &baseline[done..upto] {
            let imp = Implementation {
                ci_id: payroll,
                control_id: *control,
                status: ImplStatus::Implemented,
                justification: String::new(),
                evidence: "Rolled out with the payroll hardening programme".into(),
                links: vec![],
                owner_id,
                last_verified_at: None,
                next_review_at: Some(now.plus_secs(86_400 * 180)),
                inheritable: true,
                updated_at: now,
            };
            store.put_implementation(actor, imp).await?;
        }
        done = upto;
        custos_server::service_levels::keep_report(
            store,
            &Actor::System("sla-reports"),
            &sla,
            period,
            now,
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}
