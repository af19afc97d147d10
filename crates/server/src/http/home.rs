//! What waits for the signed-in person, for the dashboard: each item a count and the list
//! it comes from. Counts go through the same need-to-know reads as the lists they link to.

use crate::http::state::AppState;
use custos_core::Outcome;
use custos_core::authz::{Permission, Principal};
use custos_core::problem::ProblemFilter;
use custos_core::sla::SlaStatus;
use custos_core::store::SlaFilter;
use custos_core::ticket::IncidentFilter;

/// One thing waiting: how many, and where to see them.
pub struct Waiting {
    pub label: &'static str,
    pub count: i64,
    pub href: &'static str,
}

/// The items for `p`, in the order the dashboard shows them; those `p` has no permission
/// for are left out (an item with nothing waiting stays, showing 0).
pub async fn waiting_for(state: &AppState, p: &Principal) -> Outcome<Vec<Waiting>> {
    let store = state.store.as_ref();
    let v = crate::incidents::viewer(p);
    let open = |f: IncidentFilter| IncidentFilter { open: true, ..f };
    let mut out = Vec::new();
    if p.has(Permission::ReadIncidents) {
        let f = open(IncidentFilter {
            assignee: Some(p.user_id),
            ..Default::default()
        });
        out.push(Waiting {
            label: "Open incidents assigned to you",
            count: store.count_incidents(&v, &f).await?,
            href: "/incidents?open=true&assignee=me",
        });
        let f = open(IncidentFilter {
            breached: true,
            ..Default::default()
        });
        out.push(Waiting {
            label: "Open incidents past a target",
            count: store.count_incidents(&v, &f).await?,
            href: "/incidents?open=true&breached=true",
        });
    } else if p.has(Permission::ReportIncidents) {
        let f = open(IncidentFilter {
            reporter: Some(p.user_id),
            ..Default::default()
        });
        out.push(Waiting {
            label: "Your reports still open",
            count: store.count_incidents(&v, &f).await?,
            href: "/portal#my-reports",
        });
    }
    if p.has(Permission::HandleSecurityIncidents) {
        let f = open(IncidentFilter {
            security: Some(true),
            ..Default::default()
        });
        out.push(Waiting {
            label: "Open security incidents",
            count: store.count_incidents(&v, &f).await?,
            href: "/incidents?open=true&security=true",
        });
    }
    if p.has(Permission::ApproveSecurity) {
        let f = IncidentFilter {
            awaiting_approval: true,
            ..Default::default()
        };
        out.push(Waiting {
            label: "External communications waiting for approval",
            count: store.count_incidents(&v, &f).await?,
            href: "/incidents?awaiting_approval=true",
        });
        if p.has(Permission::ReadProblems) {
            let f = ProblemFilter {
                awaiting_review: true,
                ..Default::default()
            };
            out.push(Waiting {
                label: "Workarounds and solutions waiting for a security review",
                count: store.count_problems(&f).await?,
                href: "/problems?awaiting_review=true",
            });
        }
    }
    if p.has(Permission::AgreeSlas) && p.has(Permission::ReadServiceLevels) {
        let f = SlaFilter {
            customers: crate::service_levels::visible_customers(store, p).await?,
            service: None,
            status: Some(SlaStatus::Draft),
        };
        out.push(Waiting {
            label: "SLA drafts to agree",
            count: crate::service_levels::all_slas(store, &f).await?.len() as i64,
            href: "/slas?status=draft",
        });
    }
    Ok(out)
}
