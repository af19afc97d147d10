//! The demo CMDB: four business services with the applications, machines, data and network
//! they rely on, classified by the customer representative and the service owner so the
//! levels spread visibly (e.g. the payroll service's confidentiality reaches its hypervisor).

use anyhow::anyhow;
use custos_core::authz::Actor;
use custos_core::classification::{Classification, Level};
use custos_core::cmdb::{CiInput, Lifecycle, RelType};
use custos_core::store::Store;
use custos_core::{CiId, DepartmentId};
use std::collections::HashMap;

/// (external key, type, name, department, attributes)
const CIS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "svc-payroll",
        "business_service",
        "Payroll",
        "Finance",
        r#"{"description": "Monthly salaries, bank transfers, payslips", "hours": "Mon-Fri 08-18"}"#,
    ),
    (
        "svc-webshop",
        "business_service",
        "Webshop",
        "Sales",
        r#"{"description": "Public online shop", "hours": "24x7"}"#,
    ),
    (
        "svc-email",
        "business_service",
        "E-mail",
        "IT",
        r#"{"description": "Mail and calendars for all staff"}"#,
    ),
    (
        "svc-hr-portal",
        "business_service",
        "HR portal",
        "Finance",
        r#"{"description": "Self-service for leave and personal data"}"#,
    ),
    (
        "app-payroll",
        "application",
        "PayWise payroll",
        "Finance",
        r#"{"vendor": "PayWise", "version": "12.4"}"#,
    ),
    (
        "app-shop-frontend",
        "application",
        "Shop frontend",
        "Sales",
        r#"{"language": "Rust", "repository": "shop/frontend"}"#,
    ),
    (
        "app-shop-backend",
        "application",
        "Shop order service",
        "Sales",
        r#"{"language": "Java"}"#,
    ),
    (
        "app-hr-portal",
        "application",
        "HR self-service portal",
        "Finance",
        r#"{"vendor": "PeopleFirst"}"#,
    ),
    (
        "db-payroll",
        "database",
        "payroll-db (PostgreSQL)",
        "IT",
        r#"{"engine": "PostgreSQL 15", "backup": "nightly, 30 days"}"#,
    ),
    (
        "db-shop",
        "database",
        "shop-db (PostgreSQL)",
        "IT",
        r#"{"engine": "PostgreSQL 15"}"#,
    ),
    (
        "ds-salaries",
        "dataset",
        "Salary and bank data",
        "Finance",
        r#"{"personal_data": true, "retention": "10 years"}"#,
    ),
    (
        "ds-customers",
        "dataset",
        "Customer accounts",
        "Sales",
        r#"{"personal_data": true}"#,
    ),
    (
        "vm-payroll-01",
        "virtual_machine",
        "vm-payroll-01",
        "IT",
        r#"{"os": "Debian 12", "cpu": 4, "ram_gb": 16}"#,
    ),
    (
        "vm-shop-01",
        "virtual_machine",
        "vm-shop-01",
        "IT",
        r#"{"os": "Debian 12"}"#,
    ),
    (
        "vm-shop-02",
        "virtual_machine",
        "vm-shop-02",
        "IT",
        r#"{"os": "Debian 12"}"#,
    ),
    (
        "vm-hr-01",
        "virtual_machine",
        "vm-hr-01",
        "IT",
        r#"{"os": "Windows Server 2022"}"#,
    ),
    (
        "srv-esx-01",
        "server",
        "esx-01 (hypervisor)",
        "IT",
        r#"{"rack": "DC1-B4", "model": "PowerEdge R760"}"#,
    ),
    (
        "srv-esx-02",
        "server",
        "esx-02 (hypervisor)",
        "IT",
        r#"{"rack": "DC1-B5", "model": "PowerEdge R760"}"#,
    ),
    (
        "net-core-01",
        "network_device",
        "core-switch-01",
        "IT",
        r#"{"vendor": "Juniper", "site": "DC1"}"#,
    ),
    (
        "net-fw-01",
        "network_device",
        "edge-firewall-01",
        "IT",
        r#"{"vendor": "OPNsense"}"#,
    ),
    (
        "cloud-mail",
        "cloud_service",
        "Hosted mail (EU region)",
        "IT",
        r#"{"provider": "MailHost GmbH", "region": "eu-central"}"#,
    ),
    (
        "media-backup-07",
        "storage_media",
        "Backup tape LTO-9 #07",
        "IT",
        r#"{"location": "safe, building B"}"#,
    ),
    (
        "ep-fin-laptop-12",
        "endpoint",
        "Finance laptop 12",
        "Finance",
        r#"{"encrypted": true, "user": "Carla Customer"}"#,
    ),
];

/// (source, type, target)
const RELS: &[(&str, RelType, &str)] = &[
    ("svc-payroll", RelType::DependsOn, "app-payroll"),
    ("app-payroll", RelType::RunsOn, "vm-payroll-01"),
    ("app-payroll", RelType::DependsOn, "db-payroll"),
    ("db-payroll", RelType::RunsOn, "vm-payroll-01"),
    ("db-payroll", RelType::StoresDataOf, "ds-salaries"),
    ("media-backup-07", RelType::StoresDataOf, "ds-salaries"),
    ("ep-fin-laptop-12", RelType::DependsOn, "svc-payroll"),
    ("vm-payroll-01", RelType::HostedBy, "srv-esx-01"),
    ("svc-webshop", RelType::DependsOn, "app-shop-frontend"),
    ("app-shop-frontend", RelType::DependsOn, "app-shop-backend"),
    ("app-shop-frontend", RelType::RunsOn, "vm-shop-01"),
    ("app-shop-backend", RelType::RunsOn, "vm-shop-02"),
    ("app-shop-backend", RelType::DependsOn, "db-shop"),
    ("db-shop", RelType::RunsOn, "vm-shop-02"),
    ("db-shop", RelType::StoresDataOf, "ds-customers"),
    ("vm-shop-01", RelType::HostedBy, "srv-esx-02"),
    ("vm-shop-02", RelType::HostedBy, "srv-esx-02"),
    ("svc-hr-portal", RelType::DependsOn, "app-hr-portal"),
    ("app-hr-portal", RelType::RunsOn, "vm-hr-01"),
    ("app-hr-portal", RelType::DependsOn, "db-payroll"),
    ("vm-hr-01", RelType::HostedBy, "srv-esx-01"),
    ("svc-email", RelType::DependsOn, "cloud-mail"),
    ("srv-esx-01", RelType::ConnectsTo, "net-core-01"),
    ("srv-esx-02", RelType::ConnectsTo, "net-core-01"),
    ("net-core-01", RelType::ConnectsTo, "net-fw-01"),
];

fn levels(c: Level, i: Level, a: Level) -> Classification {
    Classification {
        confidentiality: Some(c),
        integrity: Some(i),
        availability: Some(a),
    }
}

/// Seeds the CMDB. `customer` and `owner` act for the classifications, as they would.
pub async fn seed(
    store: &dyn Store,
    actor: &Actor,
    customer: &Actor,
    owner: &Actor,
    departments: &HashMap<String, DepartmentId>,
) -> anyhow::Result<()> {
    let err = |e: custos_core::StoreError| anyhow!("seeding the demo CMDB failed: {e}");
    let mut ids: HashMap<&str, CiId> = HashMap::new();
    for (key, ci_type, name, dept, attrs) in CIS {
        let mut input = CiInput::new(
            ci_type,
            name,
            Some(key),
            Lifecycle::Active,
            serde_json::from_str(attrs)?,
        )?;
        input.department_id = departments.get(*dept).copied();
        ids.insert(key, store.create_ci(actor, input).await.map_err(err)?.ci.id);
    }
    for (s, t, d) in RELS {
        store
            .add_relationship(actor, ids[s], ids[d], *t)
            .await
            .map_err(err)?;
    }
    use Level::*;
    let set = [
        (
            customer,
            "ds-salaries",
            levels(High, High, Moderate),
            "Salaries and bank details of all staff (personal data, GDPR Art. 9 adjacent)",
        ),
        (
            customer,
            "svc-payroll",
            levels(High, High, Moderate),
            "Payroll must be confidential and exact; a one-day outage is tolerable",
        ),
        (
            owner,
            "svc-webshop",
            levels(Moderate, Moderate, High),
            "Revenue-critical; customer accounts hold personal data",
        ),
        (
            owner,
            "ds-customers",
            levels(Moderate, Moderate, Low),
            "Names, addresses, order history",
        ),
        (
            customer,
            "svc-hr-portal",
            levels(High, Moderate, Low),
            "Personnel files",
        ),
        (
            owner,
            "svc-email",
            levels(Moderate, Moderate, Moderate),
            "Internal correspondence",
        ),
    ];
    for (who, key, cls, why) in set {
        store
            .set_classification(who, ids[key], cls, why)
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// Implementations and extra requirements, so the gap report has something to say: a common
/// control on the payroll service, a failed backup control, overdue reviews, and the media
/// procedure required of the salary data (and so of everything holding it).
pub async fn seed_measures(store: &dyn Store, actor: &Actor) -> anyhow::Result<()> {
    use custos_core::Timestamp;
    use custos_core::controls::ControlFilter;
    use custos_core::measures::{ImplStatus, Implementation};
    let err = |e: custos_core::StoreError| anyhow!("seeding demo measures failed: {e}");
    let control = |id: &'static str| async move {
        let f = ControlFilter {
            q: Some(id.to_string()),
            ..Default::default()
        };
        let found = store
            .list_controls(&f, custos_core::page::PageRequest::first(500))
            .await
            .map_err(err)?;
        found
            .items
            .into_iter()
            .find(|c| c.spec.control_id == id)
            .map(|c| c.id)
            .ok_or_else(|| anyhow!("demo control {id} missing"))
    };
    let ci =
        |key: &'static str| async move { store.ci_by_key(key).await.map(|r| r.ci.id).map_err(err) };
    store
        .add_ci_control(
            actor,
            ci("ds-salaries").await?,
            control("org-media-1").await?,
            "DPIA 2026-03: salary data leaves the data centre on backup media",
        )
        .await
        .map_err(err)?;
    let now = Timestamp::now();
    let day = 86_400;
    // (CI key, control id, status, evidence, next review in days, common control)
    type Row = (
        &'static str,
        &'static str,
        ImplStatus,
        &'static str,
        Option<i64>,
        bool,
    );
    let rows: [Row; 7] = [
        (
            "svc-payroll",
            "ac-2",
            ImplStatus::Verified,
            "Accounts come from the central IAM; quarterly recertification report Q3",
            Some(60),
            true,
        ),
        (
            "svc-payroll",
            "at-2",
            ImplStatus::Implemented,
            "Annual security awareness e-learning for all payroll staff",
            Some(200),
            true,
        ),
        (
            "vm-payroll-01",
            "sc-28",
            ImplStatus::Implemented,
            "LUKS full-disk encryption on the data volume",
            Some(120),
            false,
        ),
        (
            "vm-payroll-01",
            "cp-9",
            ImplStatus::Failed,
            "Restore test of 2026-10-02 failed: backup catalogue corrupt",
            Some(-10),
            false,
        ),
        (
            "db-payroll",
            "au-6",
            ImplStatus::Verified,
            "Weekly review of database audit logs by the DBA team",
            Some(-5),
            false,
        ),
        (
            "media-backup-07",
            "org-media-1",
            ImplStatus::Verified,
            "Tape encrypted (LTO AES-256), stored in safe B, wipe log kept",
            Some(90),
            false,
        ),
        (
            "vm-shop-01",
            "si-2",
            ImplStatus::Planned,
            "Patch automation being rolled out",
            None,
            false,
        ),
    ];
    for (key, control_id, status, evidence, review_in_days, inheritable) in rows {
        let imp = Implementation {
            ci_id: ci(key).await?,
            control_id: control(control_id).await?,
            status,
            justification: String::new(),
            evidence: evidence.to_string(),
            links: vec![],
            owner_id: None,
            last_verified_at: Some(now.minus_secs(30 * day)),
            next_review_at: review_in_days.map(|d| now.plus_secs(d * day)),
            inheritable,
            updated_at: now,
        };
        store.put_implementation(actor, imp).await.map_err(err)?;
    }
    Ok(())
}
