//! The security review gate's inputs: whether the fixes of a problem need a security
//! manager's approval (effective classification of the affected CIs, the risk flag), and
//! the check a reviewer is shown and that the review records.

use crate::measures::ci_gap;

use crate::measures::level_baselines;
use crate::service_levels::all_slas;
use custos_core::cmdb::Direction;
use custos_core::measures::GapSummary;
use custos_core::problem::{
    CiCheck, Problem, SecurityCheck, ServiceCheck, levels_of, needs_security_review,
};
use custos_core::sla::SlaStatus;
use custos_core::store::{SlaFilter, Store};
use custos_core::{CiId, Timestamp};
use std::collections::BTreeSet;

/// Whether fixes of a problem with these affected CIs need a security review.
pub async fn needs_review_of(
    store: &dyn Store,
    affected: &[CiId],
    introduces_security_risk: bool,
) -> custos_core::Outcome<bool> {
    if introduces_security_risk {
        return Ok(true);
    }
    let levels: Vec<_> = store
        .cis_by_ids(affected)
        .await?
        .iter()
        .map(|r| levels_of(&r.effective))
        .collect();
    Ok(needs_security_review(&levels, false))
}

pub async fn needs_review(store: &dyn Store, p: &Problem) -> custos_core::Outcome<bool> {
    needs_review_of(store, &p.affected(), p.introduces_security_risk).await
}

/// The check a security reviewer is shown and that a review records: for each business
/// service affected (named, or depending on an affected CI) the keys of its agreed SLAs'
/// security requirements; for each affected CI its effective classification and how many
/// of its required controls failed or are missing.
pub async fn security_check(
    store: &dyn Store,
    p: &Problem,
    now: Timestamp,
) -> custos_core::Outcome<SecurityCheck> {
    let affected = p.affected();
    let records = store.cis_by_ids(&affected).await?;
    let map = level_baselines(store).await?;
    let mut cis = Vec::with_capacity(records.len());
    for id in &affected {
        let Some(r) = records.iter().find(|r| r.ci.id == *id) else {
            continue;
        };
        let summary = GapSummary::of(&ci_gap(store, r, &map, now).await?);
        let [c, i, a] = levels_of(&r.effective);
        cis.push(CiCheck {
            ci: r.ci.id,
            name: r.ci.name.clone(),
            confidentiality: c,
            integrity: i,
            availability: a,
            required: summary.required as u32,
            failed: summary.failed as u32,
            missing: summary.missing as u32,
        });
    }
    let mut candidates: BTreeSet<CiId> = affected.iter().copied().collect();
    for id in &affected {
        let up = custos_core::cmdb::impact(*id, Direction::Upstream, 10, 1000, |ids| async move {
            store.edges_touching(&ids).await
        })
        .await?;
        candidates.extend(up.into_iter().map(|x| x.ci));
    }
    let candidates: Vec<CiId> = candidates.into_iter().collect();
    let mut services = vec![];
    for r in store.cis_by_ids(&candidates).await? {
        if r.ci.ci_type != "business_service" {
            continue;
        }
        let slas = all_slas(
            store,
            &SlaFilter {
                service: Some(r.ci.id),
                status: Some(SlaStatus::Agreed),
                ..Default::default()
            },
        )
        .await?;
        services.push(ServiceCheck {
            service: r.ci.id,
            name: r.ci.name.clone(),
            slas: slas.iter().map(|s| s.terms.name.clone()).collect(),
            requirements: slas
                .iter()
                .flat_map(|s| s.terms.security.requirements.iter().map(|q| q.key.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        });
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SecurityCheck { services, cis })
}
