//! Demo incidents: two support groups and six incidents on the demo services, created
//! through the same evaluation as the API, so the rules decide what is a security incident:
//! - a payroll data leak reported through the portal (the payroll SLA's criteria), in
//!   triage with evidence and an external communication waiting for the security manager;
//! - a failed backup on the payroll VM (its required control CP-9 is recorded as failed);
//! - a slow webshop checkout (P2, in progress, clocks running) and an earlier webshop
//!   outage run as a major incident;
//! - a printer jam (resolved) and a calendar question with a public comment.

use anyhow::anyhow;
use custos_core::authz::Actor;
use custos_core::incident::{Impact, IncidentFields, IncidentInput, NoteKind, Status, Urgency};
use custos_core::procedure::{ActionKind, Phase};
use custos_core::store::Store;
use custos_core::ticket::{Audience, Channel, CommStatus, GroupInput, Incident, Major, NoteInput};
use custos_core::time::Date;
use custos_core::{CiId, GroupId, Timestamp, UserId};

/// On-hold intervals of an incident.
type Holds = Vec<(Timestamp, Option<Timestamp>)>;

struct People {
    agent: Actor,
    security: Actor,
    requester: Actor,
    admin: Actor,
}

fn id(a: &Actor) -> UserId {
    a.user_id().unwrap_or_default()
}

async fn ci(store: &dyn Store, key: &str) -> anyhow::Result<CiId> {
    Ok(store
        .ci_by_key(key)
        .await
        .map_err(|e| anyhow!("demo CI {key}: {e}"))?
        .ci
        .id)
}

#[allow(clippy::too_many_arguments)]
async fn open(
    store: &dyn Store,
    by: &Actor,
    fields: IncidentFields,
    channel: Channel,
    group: Option<GroupId>,
    assignee: Option<UserId>,
    hours_ago: i64,
) -> anyhow::Result<Incident> {
    let api = |e: custos_core::Error| anyhow!("{e}");
    let at = Timestamp(Timestamp::now().0 - hours_ago * 3_600_000);
    let input = IncidentInput::new(fields, id(by))?;
    let ctx = custos_server::incidents::context(store, input.service, &input.cis, &Date::of(at))
        .await
        .map_err(api)?;
    let mut inc =
        custos_server::incidents::records::new_incident(input, channel, group, assignee, at);
    let ev = custos_server::incidents::evaluate(&mut inc, &ctx, &[], &Default::default(), at);
    let w =
        custos_server::incidents::write(inc, None, vec![], &ctx, ev, by.clone(), "incident.create");
    let mut made = store
        .create_incidents(vec![w])
        .await
        .map_err(|e| anyhow!("demo incident: {e}"))?;
    Ok(made.remove(0))
}

/// Changes an incident now, re-evaluated like an API change.
async fn change(
    store: &dyn Store,
    by: &Actor,
    before: Incident,
    f: impl FnOnce(&mut Incident, &mut Holds, Timestamp) -> anyhow::Result<()>,
) -> anyhow::Result<Incident> {
    let api = |e: custos_core::Error| anyhow!("{e}");
    let now = Timestamp::now();
    let mut holds = store
        .incident_holds(before.id)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut inc = before.clone();
    f(&mut inc, &mut holds, now)?;
    inc.updated_at = now;
    let ctx = custos_server::incidents::context(store, inc.service, &inc.cis, &Date::of(now))
        .await
        .map_err(api)?;
    let ev = custos_server::incidents::evaluate(&mut inc, &ctx, &holds, &Default::default(), now);
    let w = custos_server::incidents::write(
        inc,
        Some(&before),
        holds,
        &ctx,
        ev,
        by.clone(),
        "incident.update",
    );
    store
        .save_incident(w, before.updated_at)
        .await
        .map_err(|e| anyhow!("demo incident change: {e}"))
}

fn status(to: Status) -> impl FnOnce(&mut Incident, &mut Holds, Timestamp) -> anyhow::Result<()> {
    move |inc, holds, now| {
        custos_server::incidents::change_status(inc, holds, to, now).map_err(|e| anyhow!("{e}"))
    }
}

fn fields(
    title: &str,
    description: &str,
    category: &str,
    impact: Impact,
    urgency: Urgency,
    service: Option<CiId>,
    cis: Vec<CiId>,
) -> IncidentFields {
    IncidentFields {
        title: title.into(),
        description: description.into(),
        category: category.into(),
        impact,
        urgency,
        service,
        cis,
    }
}

fn note(kind: NoteKind, body: &str, audience: Option<Audience>, recipient: &str) -> NoteInput {
    NoteInput {
        kind,
        body: body.into(),
        audience,
        recipient: recipient.into(),
    }
}

pub async fn seed(store: &dyn Store, actor: &Actor) -> anyhow::Result<()> {
    let err = |e: custos_core::StoreError| anyhow!("seeding demo incidents failed: {e}");
    let who = |email: &'static str| async move {
        store
            .credentials_by_email(email)
            .await
            .map(|c| Actor::authenticating(c.user.id, c.user.email))
            .map_err(err)
    };
    let p = People {
        agent: who("adam.agent@demo.custos.dev").await?,
        security: who("sophie.security@demo.custos.dev").await?,
        requester: who("rachel.requester@demo.custos.dev").await?,
        admin: who("alex.admin@demo.custos.dev").await?,
    };
    let desk = store
        .create_group(
            actor,
            GroupInput {
                name: "Service desk".into(),
                description: "First line: every incident starts here.".into(),
                lead: Some(id(&p.agent)),
                members: vec![id(&p.agent)],
            }
            .validate()?,
        )
        .await
        .map_err(err)?
        .id;
    let secops = store
        .create_group(
            actor,
            GroupInput {
                name: "Security operations".into(),
                description: "Handles security incidents under need-to-know.".into(),
                lead: Some(id(&p.security)),
                members: vec![id(&p.security)],
            }
            .validate()?,
        )
        .await
        .map_err(err)?
        .id;
    let payroll = ci(store, "svc-payroll").await?;
    let webshop = ci(store, "svc-webshop").await?;
    let email = ci(store, "svc-email").await?;
    let vm = ci(store, "vm-payroll-01").await?;

    // 1. A data leak reported by an employee: the payroll SLA makes it a security incident.
    let leak = open(
        store,
        &p.requester,
        fields(
            "Payslips e-mailed to the wrong distribution list",
            "This morning's payslip run went to sales-all@ instead of the payroll team. About 40 colleagues received the PDF with every salary.",
            "data_leak",
            Impact::High,
            Urgency::High,
            Some(payroll),
            vec![],
        ),
        Channel::Portal,
        Some(secops),
        Some(id(&p.security)),
        20,
    )
    .await?;
    let leak = change(store, &p.security, leak, status(Status::InProgress)).await?;
    store
        .add_action(
            &p.security,
            leak.id,
            ActionKind::SeverityAssessed,
            "High: salary data of 212 employees disclosed internally.",
            None,
        )
        .await
        .map_err(err)?;
    store
        .add_action(
            &p.security,
            leak.id,
            ActionKind::ScopeAssessed,
            "Mail to 41 internal recipients; no external addresses on the list.",
            None,
        )
        .await
        .map_err(err)?;
    store
        .add_attachment(
            &p.security,
            leak.id,
            "message-trace.csv",
            "text/csv",
            b"time,sender,recipient,subject\n07:02,payroll-run@,sales-all@,Payslips November\n",
            true,
            "Mail gateway message trace exported by Sophie at 09:10",
        )
        .await
        .map_err(err)?;
    let leak = change(store, &p.security, leak, |inc, _, _| {
        inc.security.phase = Some(Phase::Triage);
        Ok(())
    })
    .await?;
    store
        .add_note(
            &p.security,
            leak.id,
            note(
                NoteKind::WorkNote,
                "Recall requested; mailbox purge running on all 41 mailboxes.",
                None,
                "",
            ),
            CommStatus::Recorded,
            vec![],
        )
        .await
        .map_err(err)?;
    store
        .add_note(&p.agent, leak.id, note(NoteKind::External, "Notification of a personal data breach under GDPR art. 33: payslips of 212 employees were disclosed to 41 colleagues; recall and purge completed.", Some(Audience::Authorities), "Data protection authority"), CommStatus::Draft, vec![])
        .await
        .map_err(err)?;
    store
        .add_note(&p.security, leak.id, note(NoteKind::PublicComment, "Thank you for reporting. We are recalling the message; please delete it if you received it.", None, ""), CommStatus::Recorded, vec![])
        .await
        .map_err(err)?;

    // 2. A monitoring report on a CI whose required control (CP-9) failed.
    let backup = open(
        store,
        &p.admin,
        fields(
            "Nightly backup of vm-payroll-01 failed",
            "Backup job exited with code 3 (catalogue unreadable).",
            "software",
            Impact::Medium,
            Urgency::Medium,
            None,
            vec![vm],
        ),
        Channel::Api,
        Some(desk),
        None,
        6,
    )
    .await?;
    let _ = backup;

    // 3. A slow checkout: an ordinary P2 with its clocks running.
    let slow = open(
        store,
        &p.agent,
        fields(
            "Checkout pages load slowly",
            "Customers report 10–20 s page loads in the last step of checkout.",
            "performance",
            Impact::Medium,
            Urgency::High,
            Some(webshop),
            vec![],
        ),
        Channel::Web,
        Some(desk),
        Some(id(&p.agent)),
        3,
    )
    .await?;
    let slow = change(store, &p.agent, slow, status(Status::InProgress)).await?;
    store
        .add_note(
            &p.agent,
            slow.id,
            note(
                NoteKind::WorkNote,
                "Database connection pool of the shop backend saturated; raising it and watching.",
                None,
                "",
            ),
            CommStatus::Recorded,
            vec![],
        )
        .await
        .map_err(err)?;
    let slow_id = slow.id;

    // 4. An earlier webshop outage, run as a major incident.
    let down = open(
        store,
        &p.agent,
        fields(
            "Webshop unavailable for all customers",
            "Load balancer health checks failing since 14:05.",
            "availability",
            Impact::High,
            Urgency::High,
            Some(webshop),
            vec![],
        ),
        Channel::Web,
        Some(desk),
        Some(id(&p.agent)),
        30,
    )
    .await?;
    // The slow checkout may be the outage coming back: the agent links the two.
    store
        .link_incidents(&p.agent, slow_id, down.id, true)
        .await
        .map_err(err)?;
    let lead = id(&p.agent);
    let down = change(store, &p.agent, down, move |inc, _, now| {
        inc.major = Some(Major {
            lead,
            cadence_minutes: 30,
            declared_at: Timestamp(now.0 - 29 * 3_600_000),
            declared_by: Some(lead),
            next_update_due: Timestamp(now.0 + 30 * 60_000),
            reviewed: false,
            reminded_for: None,
        });
        Ok(())
    })
    .await?;
    store
        .add_action(
            &p.agent,
            down.id,
            ActionKind::MajorUpdate,
            "Certificate on the load balancer expired; renewed, shop back at 15:10.",
            None,
        )
        .await
        .map_err(err)?;
    let down = change(store, &p.agent, down, status(Status::InProgress)).await?;
    let _ = change(store, &p.agent, down, |inc, holds, now| {
        inc.resolution =
            "Expired load balancer certificate renewed; monitoring of expiry dates added.".into();
        custos_server::incidents::change_status(inc, holds, Status::Resolved, now)
            .map_err(|e| anyhow!("{e}"))
    })
    .await?;

    // 5. A printer jam, resolved.
    let jam = open(
        store,
        &p.requester,
        fields(
            "Printer on the 3rd floor jams",
            "",
            "hardware",
            Impact::Low,
            Urgency::Low,
            None,
            vec![],
        ),
        Channel::Portal,
        Some(desk),
        Some(id(&p.agent)),
        50,
    )
    .await?;
    let jam = change(store, &p.agent, jam, status(Status::InProgress)).await?;
    let _ = change(store, &p.agent, jam, |inc, holds, now| {
        inc.resolution = "Worn pickup roller replaced.".into();
        custos_server::incidents::change_status(inc, holds, Status::Resolved, now)
            .map_err(|e| anyhow!("{e}"))
    })
    .await?;

    // 6. A question through the portal with an answer the requester sees.
    let cal = open(
        store,
        &p.requester,
        fields(
            "Cannot open the team's shared calendar",
            "Outlook says I have no permission since Monday.",
            "access",
            Impact::Low,
            Urgency::Medium,
            Some(email),
            vec![],
        ),
        Channel::Portal,
        Some(desk),
        None,
        1,
    )
    .await?;
    store
        .add_note(
            &p.agent,
            cal.id,
            note(
                NoteKind::PublicComment,
                "We are checking the calendar's permissions and will get back to you today.",
                None,
                "",
            ),
            CommStatus::Recorded,
            vec![],
        )
        .await
        .map_err(err)?;

    // 7. A laptop waiting for the supplier: on hold, so its clocks are paused.
    let laptop = open(
        store,
        &p.requester,
        fields(
            "New laptop for the finance trainee",
            "The trainee starts on Monday and has no laptop yet.",
            "hardware",
            Impact::Low,
            Urgency::Medium,
            None,
            vec![],
        ),
        Channel::Portal,
        Some(desk),
        Some(id(&p.agent)),
        26,
    )
    .await?;
    let laptop = change(store, &p.agent, laptop, status(Status::InProgress)).await?;
    let laptop = change(store, &p.agent, laptop, status(Status::OnHold)).await?;
    store
        .add_note(
            &p.agent,
            laptop.id,
            note(
                NoteKind::PublicComment,
                "Ordered; the supplier confirmed delivery for Thursday. We put the ticket on hold until then.",
                None,
                "",
            ),
            CommStatus::Recorded,
            vec![],
        )
        .await
        .map_err(err)?;

    // Adam's saved filter: his open incidents.
    store
        .save_filter(id(&p.agent), "My open incidents", "open=true&assignee=me")
        .await
        .map_err(err)?;
    Ok(())
}
