//! What a CI must implement and what is missing: the baseline per level, one CI's measures,
//! and the gap report over a scope (API, pages, CLI and the problem check share these).

use crate::cmdb::classification::CiRef;
use crate::http::util::{csv_field, rfc3339};
use custos_core::classification::high_water_mark;
use custos_core::cmdb::Direction;
use custos_core::measures::{
    CommonIndex, GapInput, GapLine, GapSummary, Implementation, Reason, gap_lines, gap_scan,
};
use custos_core::store::{CiFilter, CiRecord, Store};
use custos_core::{BaselineId, CiId, ControlId, Error, Outcome, Timestamp};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// The baseline in effect per level: the explicit mapping, else (FIPS 199 style) the
/// baseline whose name contains the level's word (LOW, MODERATE, HIGH).
pub async fn level_baselines(store: &dyn Store) -> Outcome<[(Option<BaselineId>, bool); 3]> {
    let explicit = store.level_baselines().await?;
    let all = store.list_baselines().await?;
    Ok(custos_core::measures::level_baseline_map(explicit, &all))
}

/// One CI's required controls with their implementation in effect.
pub async fn ci_gap(
    store: &dyn Store,
    r: &CiRecord,
    map: &[(Option<BaselineId>, bool); 3],
    now: Timestamp,
) -> Outcome<Vec<GapLine>> {
    let level = high_water_mark(&r.effective);
    let baseline = map[(level.as_i16() - 1) as usize].0;
    let data = store.gap_data(r.ci.id, baseline).await?;
    Ok(gap_lines(&GapInput {
        ci: r.ci.id,
        baseline: &data.baseline,
        added: &data.added,
        own: &data.own,
        common: &data.common,
        now,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ControlRef {
    pub id: Uuid,
    pub label: String,
    pub title: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeasureOut {
    pub control: ControlRef,
    /// "baseline" and/or "added on <CI id>"
    pub reasons: Vec<String>,
    /// not_started, planned, implemented, verified, failed or not_applicable
    pub status: &'static str,
    /// The business service whose implementation this CI inherits (a common control).
    pub inherited_from: Option<Uuid>,
    pub justification: String,
    pub evidence: String,
    pub links: Vec<String>,
    pub owner_id: Option<Uuid>,
    pub last_verified_at: Option<String>,
    pub next_review_at: Option<String>,
    pub overdue: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SummaryOut {
    pub required: usize,
    pub implemented: usize,
    pub verified: usize,
    pub not_applicable: usize,
    pub failed: usize,
    pub missing: usize,
    pub overdue_reviews: usize,
    pub coverage_pct: f64,
}

impl From<&GapSummary> for SummaryOut {
    fn from(s: &GapSummary) -> Self {
        Self {
            required: s.required,
            implemented: s.implemented,
            verified: s.verified,
            not_applicable: s.not_applicable,
            failed: s.failed,
            missing: s.missing,
            overdue_reviews: s.overdue_reviews,
            coverage_pct: s.coverage_pct,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeasuresOut {
    pub ci: CiRef,
    /// The high-water mark that selects the baseline.
    pub level: &'static str,
    pub baseline_id: Option<Uuid>,
    pub summary: SummaryOut,
    pub controls: Vec<MeasureOut>,
}

pub fn reason_text(r: &Reason) -> String {
    match r {
        Reason::Baseline => "baseline".into(),
        Reason::Added { on } => format!("added on {on}"),
    }
}

/// Builds the measures view of a CI (API and page).
pub async fn measures(store: &dyn Store, r: &CiRecord) -> Outcome<MeasuresOut> {
    let map = level_baselines(store).await?;
    let lines = ci_gap(store, r, &map, Timestamp::now()).await?;
    let level = high_water_mark(&r.effective);
    let ids: Vec<ControlId> = lines.iter().map(|l| l.control_id).collect();
    let labels: HashMap<ControlId, (String, String)> = store
        .controls_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.spec.label, c.spec.title)))
        .collect();
    Ok(MeasuresOut {
        ci: CiRef {
            id: r.ci.id.0,
            name: r.ci.name.clone(),
            ci_type: r.ci.ci_type.clone(),
        },
        level: level.as_str(),
        baseline_id: map[(level.as_i16() - 1) as usize].0.map(|b| b.0),
        summary: SummaryOut::from(&GapSummary::of(&lines)),
        controls: lines
            .iter()
            .map(|l| {
                let i = l.implementation.as_ref();
                let (label, title) = labels.get(&l.control_id).cloned().unwrap_or_default();
                MeasureOut {
                    control: ControlRef {
                        id: l.control_id.0,
                        label,
                        title,
                    },
                    reasons: l.reasons.iter().map(reason_text).collect(),
                    status: l.status().as_str(),
                    inherited_from: l.inherited_from.map(|c| c.0),
                    justification: i.map(|i| i.justification.clone()).unwrap_or_default(),
                    evidence: i.map(|i| i.evidence.clone()).unwrap_or_default(),
                    links: i.map(|i| i.links.clone()).unwrap_or_default(),
                    owner_id: i.and_then(|i| i.owner_id).map(|u| u.0),
                    last_verified_at: i.and_then(|i| i.last_verified_at).map(rfc3339),
                    next_review_at: i.and_then(|i| i.next_review_at).map(rfc3339),
                    overdue: l.overdue,
                }
            })
            .collect(),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GapRow {
    pub ci: CiRef,
    pub level: &'static str,
    #[serde(flatten)]
    pub summary: SummaryOut,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GapReport {
    pub scope: String,
    pub total: SummaryOut,
    /// One row per CI in scope.
    pub items: Vec<GapRow>,
}

/// Computes the gap report for a scope.
pub async fn gap_report(store: &dyn Store, scope: &str, ci: Option<CiId>) -> Outcome<GapReport> {
    let map = level_baselines(store).await?;
    let now = Timestamp::now();
    let records: Vec<CiRecord> = match scope {
        "ci" | "service" => {
            let id = ci.ok_or_else(|| Error::validation("ci", "is required for this scope"))?;
            let origin = store.ci(id).await?;
            let mut rs = vec![origin.clone()];
            if scope == "service" {
                let deps = custos_core::cmdb::impact(
                    id,
                    Direction::Downstream,
                    50,
                    100_000,
                    |ids| async move { store.edges_touching(&ids).await },
                )
                .await?;
                let ids: Vec<CiId> = deps.iter().map(|d| d.ci).collect();
                rs.extend(store.cis_by_ids(&ids).await?);
            }
            rs
        }
        "overall" => {
            let mut rs = vec![];
            let mut page = custos_core::page::PageRequest::first(500);
            loop {
                let p = store.list_cis(&CiFilter::default(), page).await?;
                rs.extend(p.items);
                match p.next_cursor {
                    Some(c) => page = custos_core::page::PageRequest::new(Some(500), Some(c)),
                    None => break,
                }
            }
            rs
        }
        _ => {
            return Err(Error::validation("scope", "must be ci, service or overall"));
        }
    };
    let mut total = GapSummary::of(&[]);
    let baseline_of = |r: &CiRecord| map[(high_water_mark(&r.effective).as_i16() - 1) as usize].0;
    let inputs: Vec<(CiId, Option<BaselineId>)> =
        records.iter().map(|r| (r.ci.id, baseline_of(r))).collect();
    let data = store.gap_data_many(&inputs).await?;
    // Summaries only: scan without building lines, one common-control index per shared list.
    let mut indexes: HashMap<*const Implementation, CommonIndex<'_>> = HashMap::new();
    for d in &data {
        indexes
            .entry(d.common.as_ptr())
            .or_insert_with(|| CommonIndex::new(&d.common));
    }
    let mut scratch = vec![];
    let mut items = vec![];
    for (r, d) in records.iter().zip(&data) {
        let mut s = GapSummary::default();
        gap_scan(
            &d.baseline,
            &d.added,
            &d.own,
            &indexes[&d.common.as_ptr()],
            now,
            &mut scratch,
            |i| s.count(i.status(), i.overdue),
        );
        s.finish();
        total.add(&s);
        items.push(GapRow {
            ci: CiRef {
                id: r.ci.id.0,
                name: r.ci.name.clone(),
                ci_type: r.ci.ci_type.clone(),
            },
            level: high_water_mark(&r.effective).as_str(),
            summary: SummaryOut::from(&s),
        });
    }
    Ok(GapReport {
        scope: scope.to_string(),
        total: SummaryOut::from(&total),
        items,
    })
}

pub fn gap_csv(r: &GapReport) -> String {
    let mut out = String::from(
        "ci_id,ci_name,ci_type,level,required,implemented,verified,not_applicable,failed,missing,overdue_reviews,coverage_pct\n",
    );
    for i in &r.items {
        let s = &i.summary;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            i.ci.id,
            csv_field(&i.ci.name),
            csv_field(&i.ci.ci_type),
            i.level,
            s.required,
            s.implemented,
            s.verified,
            s.not_applicable,
            s.failed,
            s.missing,
            s.overdue_reviews,
            s.coverage_pct
        ));
    }
    out
}
