//! Service level management use cases that the API, the web UI, the CLI and the report
//! scheduler share: who may see which customer's records, the requirements check, the
//! underpinning of a service's SLA requirements, and building and keeping SLA reports.

pub mod api;
pub mod download;
pub mod pages;

use crate::measures::level_baselines;
use custos_core::authz::{Actor, Permission, Principal};
use custos_core::classification::high_water_mark;
use custos_core::cmdb::Direction;
use custos_core::measures::{
    CommonIndex, GapLine, GapSummary, ImplStatus, Implementation, gap_scan,
};
use custos_core::page::PageRequest;
use custos_core::sla::Side;
use custos_core::sla::{RequirementCheck, RequirementUnderpinning, Sla, SlaStatus, SlaTerms};
use custos_core::sla_report::{CiFindings, KpiValues, Period, ReportInput, SlaReport};
use custos_core::store::{KeptReport, SlaFilter, Store};
use custos_core::time::Date;
use custos_core::{BaselineId, CiId, ControlId, CustomerId, Error, Outcome, Timestamp, UserId};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The customers whose SLAs and reports `p` may see: `None` = all of them.
pub async fn visible_customers(
    store: &dyn Store,
    p: &Principal,
) -> Outcome<Option<Vec<CustomerId>>> {
    if p.has(Permission::ReadAllServiceLevels) {
        Ok(None)
    } else {
        Ok(Some(store.customers_of(p.user_id).await?))
    }
}

/// An SLA `p` may see. One that belongs to another customer is reported as forbidden (the
/// issue's contract: 403 on another customer's SLA), not as missing.
pub async fn visible_sla(store: &dyn Store, p: &Principal, id: custos_core::SlaId) -> Outcome<Sla> {
    let sla = store.sla(id).await?;
    if let Some(mine) = visible_customers(store, p).await?
        && !mine.contains(&sla.terms.customer_id)
    {
        return Err(Error::Forbidden(custos_core::authz::Forbidden(
            Permission::ReadAllServiceLevels,
        )));
    }
    Ok(sla)
}

/// Every item of a paged list, fetched 500 at a time.
pub async fn every<T, F, Fut>(mut fetch: F) -> Outcome<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = custos_core::error::StoreResult<custos_core::page::Page<T>>>,
{
    let mut out = vec![];
    let mut page = PageRequest::first(500);
    loop {
        let p = fetch(page).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page = PageRequest::new(Some(500), Some(c)),
            None => return Ok(out),
        }
    }
}

/// Every SLA matching `f`.
pub async fn all_slas(store: &dyn Store, f: &SlaFilter) -> Outcome<Vec<Sla>> {
    every(|page| store.list_slas(f, page)).await
}

/// The service's security baseline plus the level baseline its classification needs: what
/// a customer gets without asking.
pub async fn baseline_controls(
    store: &dyn Store,
    service: CiId,
    terms: &SlaTerms,
) -> Outcome<BTreeSet<ControlId>> {
    let mut set: BTreeSet<ControlId> = match store.service(service).await {
        Ok(s) => s.baseline.into_iter().collect(),
        Err(custos_core::StoreError::NotFound { .. }) => BTreeSet::new(),
        Err(e) => return Err(e.into()),
    };
    let c = terms.security.classification;
    let level = [c.confidentiality, c.integrity, c.availability]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(custos_core::classification::Level::Low);
    if let Some(b) = level_baselines(store).await?[(level.as_i16() - 1) as usize].0 {
        let d = store.gap_data_many(&[(service, Some(b))]).await?;
        if let Some(d) = d.into_iter().next() {
            set.extend(d.baseline.iter().copied());
        }
    }
    Ok(set)
}

/// The requirements check of SLA terms against the service's baseline.
pub async fn requirements_check(
    store: &dyn Store,
    terms: &SlaTerms,
) -> Outcome<Vec<RequirementCheck>> {
    let baseline = baseline_controls(store, terms.service_id, terms).await?;
    let wanted: Vec<ControlId> = terms.requirement_controls().into_iter().collect();
    let implemented: BTreeSet<ControlId> = store
        .implemented_controls(&wanted)
        .await?
        .into_iter()
        .collect();
    Ok(custos_core::sla::requirements_check(
        &terms.security.requirements,
        &baseline,
        &implemented,
    ))
}

/// Which OLA or contract underpins each requirement of the service's SLAs in force (agreed)
/// and in draft, as of `today`.
pub async fn service_underpinning(
    store: &dyn Store,
    service: CiId,
    today: &Date,
) -> Outcome<Vec<RequirementUnderpinning>> {
    let slas: Vec<Sla> = all_slas(
        store,
        &SlaFilter {
            service: Some(service),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .filter(|s| matches!(s.status_on(today), SlaStatus::Agreed | SlaStatus::Draft))
    .collect();
    underpinning_of(store, &slas.iter().collect::<Vec<_>>(), service, today).await
}

async fn underpinning_of(
    store: &dyn Store,
    slas: &[&Sla],
    service: CiId,
    today: &Date,
) -> Outcome<Vec<RequirementUnderpinning>> {
    let olas = every(|page| store.list_olas(Some(service), page)).await?;
    let contracts = every(|page| store.list_contracts(Some(service), page)).await?;
    Ok(custos_core::sla::underpinning(
        slas, &olas, &contracts, today,
    ))
}

/// The service and everything it depends on (the report's scope), each CI with its gap
/// summary and findings. Evaluated with [`gap_scan`] so that a scope of thousands of CIs
/// copies only what needs attention.
pub async fn scope_gaps(
    store: &dyn Store,
    service: CiId,
    now: Timestamp,
) -> Outcome<Vec<CiFindings>> {
    let map = level_baselines(store).await?;
    let deps = custos_core::cmdb::impact(
        service,
        Direction::Downstream,
        50,
        100_000,
        |ids| async move { store.edges_touching(&ids).await },
    )
    .await?;
    let mut ids = vec![service];
    ids.extend(deps.iter().map(|d| d.ci));
    let records = store.cis_by_ids(&ids).await?;
    let inputs: Vec<(CiId, Option<BaselineId>)> = records
        .iter()
        .map(|r| {
            (
                r.ci.id,
                map[(high_water_mark(&r.effective).as_i16() - 1) as usize].0,
            )
        })
        .collect();
    let data = store.gap_data_many(&inputs).await?;
    // One index per distinct shared list of common controls.
    let mut indexes: HashMap<*const Implementation, CommonIndex<'_>> = HashMap::new();
    for d in &data {
        indexes
            .entry(d.common.as_ptr())
            .or_insert_with(|| CommonIndex::new(&d.common));
    }
    let mut scratch = vec![];
    let mut out = Vec::with_capacity(records.len());
    for (r, d) in records.iter().zip(&data) {
        let index = &indexes[&d.common.as_ptr()];
        let mut summary = GapSummary::default();
        let mut findings = vec![];
        gap_scan(
            &d.baseline,
            &d.added,
            &d.own,
            index,
            now,
            &mut scratch,
            |item| {
                summary.count(item.status(), item.overdue);
                let covered = matches!(
                    item.status(),
                    ImplStatus::Implemented | ImplStatus::Verified | ImplStatus::NotApplicable
                );
                if !covered || item.overdue {
                    findings.push(GapLine {
                        control_id: item.control_id,
                        reasons: vec![],
                        implementation: item.implementation.cloned(),
                        inherited_from: item.inherited_from,
                        overdue: item.overdue,
                    });
                }
            },
        );
        summary.finish();
        out.push(CiFindings {
            ci: r.ci.id,
            name: r.ci.name.clone(),
            summary,
            findings,
        });
    }
    Ok(out)
}

/// Builds the report of `sla` for `period` from the current state (a kept report is this,
/// frozen).
pub async fn build_report(
    store: &dyn Store,
    sla: &Sla,
    period: &Period,
    now: Timestamp,
) -> Outcome<SlaReport> {
    let customer = store.customer(sla.terms.customer_id).await?;
    let service = store.service(sla.terms.service_id).await?;
    let (from, to) = service.hours.period_bounds(period.as_str())?;
    let service_hours = service.hours.business_seconds_between(from, to) as f64 / 3600.0;
    let gaps = scope_gaps(store, sla.terms.service_id, now).await?;
    let today = Date::of(now);
    let underpinning = underpinning_of(store, &[sla], sla.terms.service_id, &today).await?;
    let mut control_ids: HashSet<ControlId> =
        sla.terms.requirement_controls().into_iter().collect();
    let mut owners: HashSet<UserId> = HashSet::new();
    for f in &gaps {
        for l in &f.findings {
            control_ids.insert(l.control_id);
            if let Some(o) = l.implementation.as_ref().and_then(|i| i.owner_id) {
                owners.insert(o);
            }
        }
    }
    let ids: Vec<ControlId> = control_ids.into_iter().collect();
    let control_labels: HashMap<ControlId, String> = store
        .controls_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id, format!("{} {}", c.spec.label, c.spec.title)))
        .collect();
    let mut user_names = HashMap::new();
    for u in owners {
        if let Ok(user) = store.user(u).await {
            user_names.insert(u, user.display_name);
        }
    }
    let mut history: Vec<(Period, KpiValues)> = vec![];
    for (meta, content) in store.report_history(sla.id, period, 11).await? {
        if let Ok(r) = serde_json::from_str::<SlaReport>(&content) {
            history.push((
                meta.period,
                r.kpis.iter().map(|k| (k.metric, k.value)).collect(),
            ));
        }
    }
    history.reverse();
    let stats = store
        .incident_stats(sla.terms.service_id, from, to.min(now.max(from)))
        .await?;
    let outage_hours = outage_business_secs(&service.hours, &stats.outages) as f64 / 3600.0;
    Ok(custos_core::sla_report::build(&ReportInput {
        sla,
        customer_name: &customer.name,
        service_name: &service.name,
        period,
        now,
        service_hours,
        gaps: &gaps,
        underpinning: &underpinning,
        control_labels: &control_labels,
        user_names: &user_names,
        history: &history,
        incidents: Some(&stats),
        outage_hours,
    }))
}

/// Business seconds covered by the outages (overlaps counted once).
fn outage_business_secs(
    hours: &custos_core::calendar::ServiceHours,
    outages: &[(Timestamp, Timestamp)],
) -> i64 {
    let mut spans: Vec<(Timestamp, Timestamp)> = outages.to_vec();
    spans.sort();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
        .iter()
        .map(|(a, b)| hours.business_seconds_between(*a, *b))
        .sum()
}

/// Generates and keeps the report of `sla` for `period`. Refused (conflict) when one is
/// already kept; a period that has not ended yet cannot be kept.
pub async fn keep_report(
    store: &dyn Store,
    actor: &Actor,
    sla: &Sla,
    period: &Period,
    now: Timestamp,
) -> Outcome<(KeptReport, SlaReport)> {
    let (_, last) = period.dates();
    if last >= Date::of(now) {
        return Err(Error::validation(
            "period",
            "has not ended yet; a report is kept once its period is over",
        ));
    }
    let report = build_report(store, sla, period, now).await?;
    let content = serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?;
    let kept = store.keep_report(actor, sla.id, period, &content).await?;
    Ok((kept, report))
}

/// The scheduler's pass: expire SLAs past their end, then keep the last complete period's
/// report of every agreed SLA that has none yet. Returns how many reports it kept.
pub async fn scheduled_reports(store: &dyn Store, now: Timestamp) -> Outcome<u64> {
    let today = Date::of(now);
    // An expired SLA no longer grants need-to-know on its service's incidents.
    let expired = store.expire_slas(&today).await?;
    for service in &expired {
        crate::incidents::refresh_sla_access(store, &Actor::System("sla-expiry"), *service, &today)
            .await?;
    }
    let agreed = all_slas(
        store,
        &SlaFilter {
            status: Some(SlaStatus::Agreed),
            ..Default::default()
        },
    )
    .await?;
    // An SLA agreed ahead of its start grants need-to-know from that day on. The refresh
    // is idempotent, so every pass in the month after a start repeats it at no cost (and
    // a server that was down on the day still applies it).
    let month_ago = Date::of(now.minus_secs(31 * 86_400));
    let mut starting: Vec<CiId> = agreed
        .iter()
        .filter(|s| s.terms.valid_from <= today && s.terms.valid_from >= month_ago)
        .map(|s| s.terms.service_id)
        .collect();
    starting.sort();
    starting.dedup();
    // A service refreshed for an expiry above already has the SLAs in force today.
    starting.retain(|s| !expired.contains(s));
    for service in starting {
        crate::incidents::refresh_sla_access(store, &Actor::System("sla-start"), service, &today)
            .await?;
    }
    let actor = Actor::System("sla-reports");
    let mut kept = 0;
    for sla in agreed {
        let quarterly = sla.terms.security.reporting == custos_core::sla::Frequency::Quarterly;
        let period = Period::last_complete(&today, quarterly);
        let (first, last) = period.dates();
        // Only periods the SLA was valid in (at least partly).
        if last < sla.terms.valid_from || first > sla.terms.valid_to {
            continue;
        }
        match store.kept_report(sla.id, &period).await {
            Ok(_) => continue,
            Err(custos_core::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        match keep_report(store, &actor, &sla, &period, now).await {
            Ok(_) => kept += 1,
            // Another instance kept it in the meantime.
            Err(Error::Conflict(_)) => {}
            Err(e) => tracing::warn!(sla = %sla.id, error = %e, "scheduled SLA report failed"),
        }
    }
    Ok(kept)
}

/// Whether `p` may agree for `side` of `sla`: a representative of its customer, or the
/// service's owner (any service owner when the service names none).
pub async fn may_agree(store: &dyn Store, p: &Principal, sla: &Sla, side: Side) -> Outcome<bool> {
    use custos_core::account::Role;
    Ok(match side {
        Side::Customer => {
            p.roles.iter().any(|r| r == Role::CustomerRepresentative)
                && store
                    .customers_of(p.user_id)
                    .await?
                    .contains(&sla.terms.customer_id)
        }
        Side::Owner => {
            let owner = store.service(sla.terms.service_id).await?.owner_id;
            p.roles.iter().any(|r| r == Role::ServiceOwner) && owner.is_none_or(|o| o == p.user_id)
        }
    })
}

/// The report as kept for that period, or else generated now from the current state
/// (a preview, not kept).
pub async fn report_for(
    store: &dyn Store,
    sla: &Sla,
    period: &Period,
) -> Outcome<(Option<KeptReport>, SlaReport)> {
    match store.kept_report(sla.id, period).await {
        Ok((meta, content)) => {
            let r = serde_json::from_str(&content)
                .map_err(|e| Error::Internal(format!("kept report unreadable: {e}")))?;
            Ok((Some(meta), r))
        }
        Err(custos_core::StoreError::NotFound { .. }) => Ok((
            None,
            crate::service_levels::build_report(store, sla, period, Timestamp::now()).await?,
        )),
        Err(e) => Err(e.into()),
    }
}
