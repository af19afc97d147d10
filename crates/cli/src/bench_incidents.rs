//! `custos bench incidents --seed N`: prepares the configured database for the incident
//! load test (scripts/bench-incidents.sh): a payroll service with office hours and an
//! agreed SLA whose criteria recognise security incidents, 20 CIs behind it, 10 support
//! groups, an agent with an API token, and N incidents spread over the groups (1 in 20 a
//! security incident) created through the same evaluation as the API, in batches. Prints
//! one JSON line with what the load test needs; asserts nothing.

use anyhow::anyhow;
use custos_core::account::{Email, NewUser, Role, Roles};
use custos_core::authz::Actor;
use custos_core::cmdb::{CiInput, Lifecycle, RelType};
use custos_core::incident::{Impact, IncidentFields, IncidentInput, Status, Urgency};
use custos_core::sla::Side;
use custos_core::store::Store;
use custos_core::ticket::{Channel, GroupInput};
use custos_core::time::Date;
use custos_core::{CiId, GroupId, Timestamp};
use std::time::Instant;

pub async fn seed(store: &dyn Store, n: usize) -> anyhow::Result<()> {
    let actor = Actor::System("bench");
    let e = |e: custos_core::StoreError| anyhow!("{e}");
    let api = |e: custos_core::Error| anyhow!("{e}");
    let edge = |e: custos_core::Error| anyhow!("{e}");
    let mk =
        |t: &str, k: &str| CiInput::new(t, k, Some(k), Lifecycle::Active, serde_json::json!({}));
    let svc = store
        .create_ci(&actor, mk("business_service", "bi-payroll")?)
        .await
        .map_err(e)?
        .ci
        .id;
    let mut cis: Vec<CiId> = vec![];
    for i in 0..20 {
        let c = store
            .create_ci(&actor, mk("server", &format!("bi-srv-{i}"))?)
            .await
            .map_err(e)?
            .ci
            .id;
        store
            .add_relationship(&actor, svc, c, RelType::DependsOn)
            .await
            .map_err(e)?;
        cis.push(c);
    }
    let hours =
        custos_core::calendar::ServiceHours::office_hours("Europe/Amsterdam", "08:00", "18:00");
    let service = custos_core::service::ServiceInput::new(
        "Payroll",
        None,
        hours,
        vec![],
        Default::default(),
    )?;
    store.put_service(&actor, svc, service).await.map_err(e)?;
    let customer = custos_core::service::CustomerInput::new(
        "Bench customer",
        custos_core::service::CustomerKind::Internal,
        None,
        "",
        "",
        vec![],
    )?;
    let customer = store.create_customer(&actor, customer).await.map_err(e)?;
    let terms: custos_core::sla::SlaTerms = serde_json::from_value(serde_json::json!({
        "name": "Bench payroll SLA", "customer_id": customer.id, "service_id": svc,
        "valid_from": "2025-01-01", "valid_to": "2035-12-31",
        "targets": custos_core::service::Targets::default(),
        "security": {"classification": {"confidentiality": "high", "integrity": "moderate", "availability": "moderate"},
            "incident_criteria": {"categories": ["data_leak"], "keywords": ["salary"], "control_failures": true},
            "reporting": "monthly"}
    }))?;
    let sla = store
        .create_sla(&actor, terms.validate()?)
        .await
        .map_err(e)?;
    let hash = custos_core::secret::PasswordHash::create("bench-password-2026");
    let mut people = vec![];
    for (email, role) in [
        ("bi-rep@example.org", Role::CustomerRepresentative),
        ("bi-owner@example.org", Role::ServiceOwner),
        ("bi-agent@example.org", Role::Agent),
    ] {
        let u = store
            .create_user(
                &actor,
                NewUser {
                    email: Email::parse(email)?,
                    display_name: email.into(),
                    roles: Roles::new(vec![role])?,
                    department_id: None,
                    password_hash: hash.clone(),
                },
            )
            .await
            .map_err(e)?;
        people.push(u);
    }
    let signer = |i: usize| Actor::User {
        id: people[i].id,
        email: people[i].email.clone(),
    };
    let today = Date::of(Timestamp::now());
    store
        .agree_sla(&signer(0), sla.id, Side::Customer, &today)
        .await
        .map_err(e)?;
    store
        .agree_sla(&signer(1), sla.id, Side::Owner, &today)
        .await
        .map_err(e)?;
    let agent = &people[2];
    let mut groups: Vec<GroupId> = vec![];
    for g in 0..10 {
        let grp = store
            .create_group(
                &actor,
                GroupInput {
                    name: format!("Bench group {g}"),
                    description: String::new(),
                    lead: Some(agent.id),
                    members: vec![agent.id],
                }
                .validate()?,
            )
            .await
            .map_err(e)?;
        groups.push(grp.id);
    }
    let (token, _) = custos_server::accounts::issue(store, &actor, agent.id, "bench", None)
        .await
        .map_err(api)?;

    let t0 = Instant::now();
    let now = Timestamp::now();
    let ctx = custos_server::incidents::context(store, Some(svc), &[], &today)
        .await
        .map_err(edge)?;
    let words = [
        "payroll",
        "batch",
        "export",
        "printer",
        "vpn",
        "login",
        "slow",
        "error",
        "timeout",
        "report",
        "mail",
        "disk",
        "backup",
        "network",
        "certificate",
        "password",
    ];
    let mut batch = vec![];
    let mut sample = None;
    for i in 0..n {
        let security = i % 20 == 0;
        let title = format!(
            "{} {} {} #{i}",
            words[i % words.len()],
            words[(i / 7) % words.len()],
            words[(i / 53) % words.len()]
        );
        let input = IncidentInput::new(
            IncidentFields {
                title,
                description: format!("Reported by the bench, case {i}."),
                category: if security { "data_leak" } else { "software" }.into(),
                impact: [Impact::High, Impact::Medium, Impact::Low][i % 3],
                urgency: [Urgency::Medium, Urgency::Low, Urgency::High][i % 3],
                service: Some(svc),
                cis: vec![],
            },
            agent.id,
        )?;
        // Spread over the last 90 days; older ones are mostly closed.
        let opened = Timestamp(now.0 - ((n - i) as i64 * 90 * 86_400_000 / n as i64));
        let mut inc = custos_server::incidents::records::new_incident(
            input,
            Channel::Api,
            Some(groups[i % groups.len()]),
            None,
            opened,
        );
        if i < n * 9 / 10 {
            inc.status = Status::Closed;
            inc.resolution = "Fixed".into();
            inc.responded_at = Some(Timestamp(opened.0 + 600_000));
            inc.resolved_at = Some(Timestamp(opened.0 + 3_600_000));
            inc.closed_at = Some(Timestamp(opened.0 + 7_200_000));
        }
        let ev =
            custos_server::incidents::evaluate(&mut inc, &ctx, &[], &Default::default(), opened);
        let w = custos_server::incidents::write(
            inc,
            None,
            vec![],
            &ctx,
            ev,
            actor.clone(),
            "incident.create",
        );
        batch.push(w);
        if batch.len() == 1000 {
            let made = store
                .create_incidents(std::mem::take(&mut batch))
                .await
                .map_err(e)?;
            sample = made
                .into_iter()
                .find(|i| !i.security.flagged)
                .map(|i| i.id)
                .or(sample);
        }
    }
    if !batch.is_empty() {
        let made = store.create_incidents(batch).await.map_err(e)?;
        sample = made
            .into_iter()
            .find(|i| !i.security.flagged)
            .map(|i| i.id)
            .or(sample);
    }
    eprintln!(
        "seeded {n} incidents in {:.1} s ({} backend)",
        t0.elapsed().as_secs_f64(),
        store.backend()
    );
    // A running server seals its audit chain every half second; a seeded one has 100,000
    // entries pending, which the server would seal during the measurement.
    let t1 = Instant::now();
    let mut sealed = 0;
    loop {
        let k = store.seal_audit(1000).await.map_err(e)?;
        sealed += k;
        if k < 1000 {
            break;
        }
    }
    eprintln!(
        "sealed {sealed} audit entries in {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    // Likewise the search index, where it is written behind the commit (SQLite).
    let t2 = Instant::now();
    let mut indexed = 0;
    loop {
        let k = store.index_search(10_000).await.map_err(e)?;
        indexed += k;
        if k < 10_000 {
            break;
        }
    }
    store.analyze().await.map_err(e)?;
    eprintln!(
        "indexed {indexed} incidents for search in {:.1} s",
        t2.elapsed().as_secs_f64()
    );
    println!(
        "{}",
        serde_json::json!({
            "token": token.expose(),
            "group": groups[0],
            "service": svc,
            "ci": cis[0],
            "incident": sample,
        })
    );
    Ok(())
}
