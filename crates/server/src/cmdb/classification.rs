//! A CI's classification as users read it: each effective level with the CI it comes from
//! and the path it travelled.

use custos_core::classification::{Classification, DIMENSIONS, Derived, Level};
use custos_core::store::{CiRecord, Store};
use custos_core::{CiId, DomainError, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Serialize, utoipa::ToSchema)]
pub struct LevelOut {
    /// low, moderate or high
    pub level: &'static str,
    /// The CI whose explicit level this is; null for the default (low, nothing set).
    pub source_id: Option<Uuid>,
    /// The neighbour it is inherited through; null when set on this CI or default.
    pub via_id: Option<Uuid>,
}

impl From<&Derived> for LevelOut {
    fn from(d: &Derived) -> Self {
        Self {
            level: d.level.as_str(),
            source_id: d.source.map(|c| c.0),
            via_id: d.via.map(|c| c.0),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EffectiveOut {
    pub confidentiality: LevelOut,
    pub integrity: LevelOut,
    pub availability: LevelOut,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ExplicitDto {
    /// low, moderate, high or null (not set on this CI)
    #[serde(default)]
    pub confidentiality: Option<String>,
    #[serde(default)]
    pub integrity: Option<String>,
    #[serde(default)]
    pub availability: Option<String>,
}

impl ExplicitDto {
    pub fn from_classification(c: &Classification) -> Self {
        Self {
            confidentiality: c.confidentiality.map(|l| l.as_str().into()),
            integrity: c.integrity.map(|l| l.as_str().into()),
            availability: c.availability.map(|l| l.as_str().into()),
        }
    }

    pub fn parse(&self) -> Result<Classification, DomainError> {
        let p = |field: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| Level::parse(field, s))
                .transpose()
        };
        Ok(Classification {
            confidentiality: p("confidentiality", &self.confidentiality)?,
            integrity: p("integrity", &self.integrity)?,
            availability: p("availability", &self.availability)?,
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CiRef {
    pub id: Uuid,
    pub name: String,
    pub ci_type: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Provenance {
    /// confidentiality, integrity or availability
    pub dimension: &'static str,
    pub level: &'static str,
    /// Whether the level is set on this CI itself.
    pub explicit: bool,
    /// The CI the level comes from; null for the default.
    pub source: Option<CiRef>,
    /// From this CI to the source, both included.
    pub path: Vec<CiRef>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClassificationOut {
    pub ci: CiRef,
    pub explicit: ExplicitDto,
    pub justification: String,
    pub effective: Vec<Provenance>,
    /// The highest effective level (FIPS 199 high-water mark).
    pub high_water_mark: &'static str,
}

/// Where each effective level comes from: the source CI and the path to it.
pub async fn provenance(store: &dyn Store, r: &CiRecord) -> Outcome<ClassificationOut> {
    let mut names: HashMap<CiId, (String, String)> = HashMap::new();
    names.insert(r.ci.id, (r.ci.name.clone(), r.ci.ci_type.clone()));
    let mut effective = vec![];
    for (dim, d) in r.effective.iter().enumerate() {
        let mut path = vec![r.ci.id];
        let mut cur = *d;
        while let Some(via) = cur.via {
            if path.len() > 10_000 || path.contains(&via) {
                break;
            }
            path.push(via);
            cur = store.ci(via).await?.effective[dim];
        }
        effective.push((DIMENSIONS[dim], d, path));
    }
    let missing: Vec<CiId> = effective
        .iter()
        .flat_map(|(_, d, p)| p.iter().copied().chain(d.source))
        .filter(|id| !names.contains_key(id))
        .collect();
    for (id, name, t) in store.ci_names(&missing).await? {
        names.insert(id, (name, t));
    }
    let r#ref = |id: CiId| CiRef {
        id: id.0,
        name: names.get(&id).map(|n| n.0.clone()).unwrap_or_default(),
        ci_type: names.get(&id).map(|n| n.1.clone()).unwrap_or_default(),
    };
    Ok(ClassificationOut {
        ci: r#ref(r.ci.id),
        explicit: ExplicitDto::from_classification(&r.ci.explicit),
        justification: r.ci.justification.clone(),
        high_water_mark: custos_core::classification::high_water_mark(&r.effective).as_str(),
        effective: effective
            .into_iter()
            .map(|(dimension, d, path)| Provenance {
                dimension,
                level: d.level.as_str(),
                explicit: d.source == Some(r.ci.id) && d.via.is_none(),
                source: d.source.map(r#ref),
                path: path.into_iter().map(r#ref).collect(),
            })
            .collect(),
    })
}
