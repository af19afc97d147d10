//! The control catalogue's use cases: importing OSCAL catalogs and profiles, and the filter
//! of the controls list (API, import page and CLI share these).

use custos_core::authz::Actor;
use custos_core::controls::ControlFilter;
use custos_core::oscal::Document;
use custos_core::store::Store;
use custos_core::{BaselineId, CatalogId, Error, Outcome};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest OSCAL document accepted (the full NIST catalog is about 10 MiB).
pub const MAX_DOCUMENT: usize = 32 * 1024 * 1024;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportOut {
    /// catalog or profile
    pub kind: &'static str,
    pub title: String,
    /// For a catalog: its id; for a profile: the catalog it was applied to.
    pub catalog_id: Uuid,
    /// For a profile: the baseline.
    pub baseline_id: Option<Uuid>,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// For a profile: controls in the baseline, and ids the catalog lacks.
    pub baseline_controls: Option<usize>,
    pub missing: Vec<String>,
}

/// Imports an OSCAL document (parsed JSON). Shared by the API, the import page and the CLI.
pub async fn import(
    store: &dyn Store,
    actor: &Actor,
    doc: &serde_json::Value,
    catalog: Option<CatalogId>,
) -> Outcome<ImportOut> {
    match custos_core::oscal::parse(doc)? {
        Document::Catalog(c) => {
            if c.controls.is_empty() {
                return Err(Error::validation(
                    "document",
                    "the catalog contains no controls",
                ));
            }
            let r = store.import_catalog(actor, c).await?;
            Ok(ImportOut {
                kind: "catalog",
                title: r.title,
                catalog_id: r.catalog_id.0,
                baseline_id: None,
                inserted: r.inserted,
                updated: r.updated,
                unchanged: r.unchanged,
                baseline_controls: None,
                missing: vec![],
            })
        }
        Document::Profile(p) => {
            let catalog = match catalog {
                Some(c) => c,
                None => best_catalog(store, &p).await?,
            };
            let b = store
                .import_profile(actor, p, catalog)
                .await
                .map_err(|e| match e {
                    custos_core::StoreError::NotFound { .. } => {
                        Error::validation("catalog_id", "no such catalog (or it has no controls)")
                    }
                    other => other.into(),
                })?;
            Ok(ImportOut {
                kind: "profile",
                title: b.name,
                catalog_id: catalog.0,
                baseline_id: Some(b.baseline_id.0),
                inserted: 0,
                updated: usize::from(b.changed),
                unchanged: usize::from(!b.changed),
                baseline_controls: Some(b.controls),
                missing: b.missing,
            })
        }
    }
}

/// The catalog that holds the most of the profile's controls.
async fn best_catalog(store: &dyn Store, p: &custos_core::oscal::Profile) -> Outcome<CatalogId> {
    let wanted: std::collections::HashSet<&str> =
        p.include.iter().flatten().map(String::as_str).collect();
    let mut best: Option<(usize, CatalogId)> = None;
    for c in store.list_catalogs().await? {
        let filter = ControlFilter {
            catalog: Some(c.id),
            ..Default::default()
        };
        let mut hits = 0;
        let mut page = custos_core::page::PageRequest::first(500);
        loop {
            let controls = store.list_controls(&filter, page).await?;
            hits += controls
                .items
                .iter()
                .filter(|k| wanted.is_empty() || wanted.contains(k.spec.control_id.as_str()))
                .count();
            match controls.next_cursor {
                Some(cur) => page = custos_core::page::PageRequest::new(Some(500), Some(cur)),
                None => break,
            }
        }
        if hits > 0 && best.is_none_or(|(h, _)| hits > h) {
            best = Some((hits, c.id));
        }
    }
    best.map(|(_, id)| id).ok_or_else(|| {
        Error::validation(
            "catalog_id",
            "import a catalog holding the profile's controls first",
        )
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ControlParams {
    pub catalog_id: Option<Uuid>,
    /// Only controls in this baseline.
    pub baseline_id: Option<Uuid>,
    /// e.g. ac
    pub family: Option<String>,
    /// Words that must all appear in the id, label or title.
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl ControlParams {
    pub fn filter(&self) -> ControlFilter {
        ControlFilter {
            catalog: self.catalog_id.map(CatalogId),
            baseline: self.baseline_id.map(BaselineId),
            family: self
                .family
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
            q: self.q.clone().filter(|s| !s.trim().is_empty()),
        }
    }
}
