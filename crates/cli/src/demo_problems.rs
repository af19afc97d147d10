//! Demo problems, taken through the same use cases as the API and pages: a payroll
//! problem whose workaround waits for the security manager's review, a known error on the
//! HR portal whose workaround she approved (with the recorded check) and that was
//! published, and a webshop workaround she rejected with reasons.

use anyhow::anyhow;
use custos_core::Timestamp;
use custos_core::authz::Actor;
use custos_core::problem::{
    FixKind, Problem, ProblemFields, ProblemPatch, ProblemStatus, ReviewInput,
};
use custos_core::store::Store;
use custos_core::ticket::Viewer;
use custos_server::problems as uc;

fn failed(e: custos_core::Error) -> anyhow::Error {
    anyhow!("seeding the demo problems failed: {e}")
}

/// A demo problem: service and CIs by external key, texts.
struct Spec {
    service: &'static str,
    cis: &'static [&'static str],
    title: &'static str,
    description: &'static str,
    root_cause: &'static str,
    workaround: &'static str,
    /// Marked "introduces security risk" (the security managers are notified and involved).
    risk: bool,
}

const PAYROLL: Spec = Spec {
    service: "svc-payroll",
    cis: &["app-payroll", "db-payroll"],
    title: "Bank transfer file times out at month end",
    description: "At month end the SEPA export from PayWise to the bank stops after 30 minutes; salaries are paid a day late. Seen in three incidents since January.",
    root_cause: "The export runs as one transaction over all payslips; at month end it exceeds the database statement timeout.",
    workaround: "Run the export in two batches (staff A–L, then M–Z) from the PayWise console on vm-payroll-01, using the encrypted export profile; check both files' totals against the payroll run before upload.",
    risk: false,
};

const HR_PORTAL: Spec = Spec {
    service: "svc-hr-portal",
    cis: &["app-hr-portal"],
    title: "HR portal session lost after VPN reconnect",
    description: "Staff working remotely are signed out of the HR self-service portal whenever the VPN reconnects; unsaved leave requests are lost.",
    root_cause: "The portal binds sessions to the client IP address; a VPN reconnect changes it.",
    workaround: "Save the leave request as a draft before a long break; after a reconnect, sign in again — drafts are kept for 24 hours. Do not disable the IP binding.",
    risk: false,
};

const WEBSHOP: Spec = Spec {
    service: "svc-webshop",
    cis: &["app-shop-backend", "db-shop"],
    title: "Order service runs out of database connections under load",
    description: "During campaigns the shop order service fails with 'too many connections'; checkouts fail for minutes.",
    root_cause: "Each order opens a new TLS connection to shop-db; the pool is sized for normal traffic.",
    workaround: "Turn off TLS between the order service and shop-db during campaigns to speed up connection set-up.",
    risk: true,
};

/// Records the problem, starts the investigation, writes the workaround and submits it
/// for the security review (every demo service is classified).
async fn problem(store: &dyn Store, agent: &Actor, s: &Spec) -> anyhow::Result<Problem> {
    let mut cis = vec![];
    for key in s.cis {
        cis.push(store.ci_by_key(key).await?.ci.id);
    }
    let fields = ProblemFields {
        title: s.title.into(),
        description: s.description.into(),
        service: Some(store.ci_by_key(s.service).await?.ci.id),
        cis,
        assignee: agent.user_id(),
        root_cause: s.root_cause.into(),
        introduces_security_risk: s.risk,
    };
    let now = Timestamp::now();
    let p = uc::create(store, agent, fields, now)
        .await
        .map_err(failed)?;
    let start = ProblemPatch {
        status: Some(ProblemStatus::Investigating),
        ..Default::default()
    };
    let p = uc::update(store, agent, &p, start, now)
        .await
        .map_err(failed)?;
    let p = uc::set_text(store, agent, &p, FixKind::Workaround, s.workaround, now)
        .await
        .map_err(failed)?;
    uc::submit(store, agent, &p, FixKind::Workaround, now)
        .await
        .map_err(failed)
}

/// Seeds the demo problems. Needs the demo CMDB (`svc-payroll`, `app-payroll`,
/// `db-payroll`, `svc-hr-portal`, `app-hr-portal`, `svc-webshop`, `app-shop-backend`,
/// `db-shop`), and users for `agent` (an agent) and `security_manager` (a security
/// manager); the payroll SLA and the NIST baselines make the recorded check richer.
pub async fn seed(
    store: &dyn Store,
    agent: &Actor,
    security_manager: &Actor,
) -> anyhow::Result<()> {
    let now = Timestamp::now();
    // 1. Payroll (confidentiality high): the workaround waits for the security review.
    problem(store, agent, &PAYROLL).await?;

    // 2. HR portal: approved with the recorded check, published, a known error.
    let hr = problem(store, agent, &HR_PORTAL).await?;
    let approve = ReviewInput {
        approve: true,
        reasons: String::new(),
        sla_requirements_met: true,
        baseline_met: true,
        notes: "Keeps the session binding (AC-12) and changes no control; personnel data stays behind sign-in.".into(),
    };
    let hr = uc::review(
        store,
        security_manager,
        &hr,
        FixKind::Workaround,
        approve,
        now,
    )
    .await
    .map_err(failed)?;
    let hr = uc::publish(store, agent, &hr, FixKind::Workaround, now)
        .await
        .map_err(failed)?;
    uc::update(
        store,
        agent,
        &hr,
        ProblemPatch {
            status: Some(ProblemStatus::KnownError),
            ..Default::default()
        },
        now,
    )
    .await
    .map_err(failed)?;

    // 3. Webshop: the workaround weakens a baseline control, so it goes back with reasons.
    // The problem is behind the slow checkout and the outage (INC-000003, INC-000004).
    let shop = problem(store, agent, &WEBSHOP).await?;
    let team = Viewer {
        user: agent
            .user_id()
            .ok_or_else(|| anyhow!("the demo agent is a user"))?,
        security_team: true,
        role_mask: 0,
        own_only: false,
    };
    for number in [3, 4] {
        let inc = store
            .incident_by_number(&team, number)
            .await
            .map_err(|e| anyhow!("demo incident INC-{number:06}: {e}"))?;
        store
            .link_problem_incident(agent, shop.id, inc.id, true)
            .await
            .map_err(|e| anyhow!("linking the demo problem: {e}"))?;
    }
    let reject = ReviewInput {
        approve: false,
        reasons: "Customer accounts are classified moderate: traffic to shop-db must stay encrypted (SC-8). Raise the connection pool size and enable connection reuse instead, then resubmit.".into(),
        sla_requirements_met: false,
        baseline_met: false,
        notes: String::new(),
    };
    uc::review(
        store,
        security_manager,
        &shop,
        FixKind::Workaround,
        reject,
        now,
    )
    .await
    .map_err(failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use custos_core::problem::{FixState, ProblemFilter};

    /// The demo problems seed on the demo organisation and tell their three stories.
    #[tokio::test]
    async fn demo_problems_seed() {
        let dir = std::env::temp_dir().join(format!("custos-demo-prb-{}", uuid::Uuid::now_v7()));
        let store = custos_store::connect(
            &format!("sqlite:{}", dir.join("d.db").display()),
            &custos_store::ConnectOptions::default(),
        )
        .await
        .unwrap();
        crate::demo::seed(store.as_ref()).await.unwrap();
        // The demo seed already ran `super::seed` (after the incidents).
        let all = store
            .list_problems(
                &ProblemFilter::default(),
                custos_core::page::PageRequest::first(10),
            )
            .await
            .unwrap()
            .items;
        let states: Vec<FixState> = all.iter().rev().map(|p| p.workaround.state).collect();
        assert_eq!(
            states,
            vec![
                FixState::PendingReview,
                FixState::Published,
                FixState::Rejected
            ]
        );
        let hr = &all[1];
        let review = hr.workaround.review.as_ref().unwrap();
        assert!(!review.check.cis.is_empty() && !review.check.services.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
