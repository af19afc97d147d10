//! Impact analysis: what breaks when a CI fails, and what it relies on, each CI named.

use super::classification::CiRef;
use custos_core::cmdb::Direction;
use custos_core::store::{CiRecord, Store};
use custos_core::{CiId, Error, Outcome};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImpactedOut {
    pub ci: CiRef,
    pub distance: u32,
    /// A shortest path from the analysed CI, both ends included.
    pub path: Vec<CiRef>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImpactOut {
    pub origin: CiRef,
    pub direction: &'static str,
    pub depth: u32,
    pub items: Vec<ImpactedOut>,
    /// True when the result was cut at 100,000 CIs.
    pub truncated: bool,
}

pub const IMPACT_LIMIT: usize = 100_000;

/// Runs impact analysis and names every CI in the result.
pub async fn run_impact(
    store: &dyn Store,
    origin: &CiRecord,
    direction: Direction,
    depth: u32,
) -> Outcome<ImpactOut> {
    let items = custos_core::cmdb::impact(
        origin.ci.id,
        direction,
        depth,
        IMPACT_LIMIT,
        |ids| async move { store.edges_touching(&ids).await },
    )
    .await?;
    let mut all: Vec<CiId> = items.iter().map(|i| i.ci).collect();
    all.push(origin.ci.id);
    let names: HashMap<CiId, (String, String)> = store
        .ci_names(&all)
        .await?
        .into_iter()
        .map(|(i, n, t)| (i, (n, t)))
        .collect();
    let r#ref = |id: CiId| CiRef {
        id: id.0,
        name: names.get(&id).map(|n| n.0.clone()).unwrap_or_default(),
        ci_type: names.get(&id).map(|n| n.1.clone()).unwrap_or_default(),
    };
    Ok(ImpactOut {
        origin: r#ref(origin.ci.id),
        direction: match direction {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
        },
        depth,
        truncated: items.len() >= IMPACT_LIMIT,
        items: items
            .into_iter()
            .map(|i| ImpactedOut {
                ci: r#ref(i.ci),
                distance: i.distance,
                path: i.path.into_iter().map(r#ref).collect(),
            })
            .collect(),
    })
}

pub fn impact_depth(depth: Option<u32>) -> Outcome<u32> {
    let d = depth.unwrap_or(10);
    if !(1..=50).contains(&d) {
        return Err(Error::validation("depth", "must be between 1 and 50"));
    }
    Ok(d)
}
