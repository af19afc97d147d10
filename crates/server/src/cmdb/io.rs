//! Bulk import and export of CIs and relationships: CSV or JSON, idempotent by external
//! key, with a row-level error report (good rows land, bad rows are listed by line).

use custos_core::authz::Actor;
use custos_core::cmdb::{CiInput, Lifecycle, RelType};
use custos_core::store::{CiFilter, Store};
use custos_core::{Error, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Largest import accepted in one request.
pub const MAX_IMPORT: usize = 64 * 1024 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Line in a CSV file (1 = header), or 1-based position in the JSON array.
    pub line: usize,
    /// cis or relationships
    pub section: &'static str,
    pub reason: String,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub cis_created: usize,
    pub cis_updated: usize,
    pub cis_unchanged: usize,
    pub relationships_created: usize,
    pub relationships_existing: usize,
    /// CIs whose effective classification changed after the import.
    pub reclassified: u64,
    pub errors: Vec<RowError>,
}

#[derive(Deserialize, Default)]
struct JsonImport {
    #[serde(default)]
    cis: Vec<serde_json::Value>,
    #[serde(default)]
    relationships: Vec<serde_json::Value>,
}

/// One CI row as text fields (CSV columns or JSON keys).
struct CiFields {
    line: usize,
    external_key: String,
    ci_type: String,
    name: String,
    status: String,
    department: String,
    attributes: Option<serde_json::Value>,
    attributes_text: String,
}

fn text(v: &serde_json::Value, k: &str) -> String {
    match v.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A relationship row: (line, source key, type, target key).
type RelFields = (usize, String, String, String);

/// Reads CSV or JSON into CI rows and relationship rows (with lines), reporting rows that
/// cannot even be read.
fn parse(
    body: &[u8],
    is_json: bool,
    errors: &mut Vec<RowError>,
) -> Outcome<(Vec<CiFields>, Vec<RelFields>)> {
    let mut cis = vec![];
    let mut rels = vec![];
    if is_json {
        let doc: JsonImport = crate::http::extract::parse_json(body)?;
        for (i, v) in doc.cis.iter().enumerate() {
            cis.push(CiFields {
                line: i + 1,
                external_key: text(v, "external_key"),
                ci_type: text(v, "ci_type"),
                name: text(v, "name"),
                status: text(v, "status"),
                department: text(v, "department"),
                attributes: v.get("attributes").cloned(),
                attributes_text: String::new(),
            });
        }
        for (i, v) in doc.relationships.iter().enumerate() {
            rels.push((
                i + 1,
                text(v, "source_key"),
                text(v, "rel_type"),
                text(v, "target_key"),
            ));
        }
        return Ok((cis, rels));
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::validation("body", format!("cannot read the CSV header: {e}")))?
        .iter()
        .map(str::to_lowercase)
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let is_rels = col("source_key").is_some() && col("target_key").is_some();
    if !is_rels
        && (col("external_key").is_none() || col("ci_type").is_none() || col("name").is_none())
    {
        return Err(Error::validation(
            "body",
            "the CSV header must have external_key, ci_type, name (CIs) or source_key, rel_type, target_key (relationships)",
        ));
    }
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    line,
                    section: if is_rels { "relationships" } else { "cis" },
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let get = |name: &str| col(name).and_then(|c| rec.get(c)).unwrap_or("").to_string();
        if is_rels {
            rels.push((line, get("source_key"), get("rel_type"), get("target_key")));
        } else {
            cis.push(CiFields {
                line,
                external_key: get("external_key"),
                ci_type: get("ci_type"),
                name: get("name"),
                status: get("status"),
                department: get("department"),
                attributes: None,
                attributes_text: get("attributes"),
            });
        }
    }
    Ok((cis, rels))
}

/// Imports CIs and relationships; shared by the API, the page and the CLI.
pub async fn import_bytes(
    store: &dyn Store,
    actor: &Actor,
    body: &[u8],
    is_json: bool,
) -> Outcome<ImportReport> {
    let mut report = ImportReport::default();
    let (cis, rels) = parse(body, is_json, &mut report.errors)?;
    let types: Vec<String> = store
        .list_ci_types()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let depts: HashMap<String, custos_core::DepartmentId> = store
        .list_departments(custos_core::page::PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .map(|d| (d.name.to_lowercase(), d.id))
        .collect();
    let mut good = vec![];
    let mut seen_keys = std::collections::HashSet::new();
    for f in cis {
        let row = (|| {
            if f.external_key.trim().is_empty() {
                return Err("external_key is required".to_string());
            }
            if !seen_keys.insert(f.external_key.trim().to_string()) {
                return Err("the external key appears twice in this import".into());
            }
            if !types.contains(&f.ci_type) {
                return Err(format!("unknown ci_type {:?}", f.ci_type));
            }
            let status = if f.status.is_empty() {
                Lifecycle::Active
            } else {
                Lifecycle::parse(&f.status).map_err(|e| e.message)?
            };
            let attrs = match (&f.attributes, f.attributes_text.trim()) {
                (Some(v), _) => v.clone(),
                (None, "") => serde_json::json!({}),
                (None, t) => serde_json::from_str(t)
                    .map_err(|e| format!("attributes is not valid JSON: {e}"))?,
            };
            let mut input = CiInput::new(&f.ci_type, &f.name, Some(&f.external_key), status, attrs)
                .map_err(|e| format!("{}: {}", e.field, e.message))?;
            if !f.department.is_empty() {
                input.department_id = Some(
                    *depts
                        .get(&f.department.to_lowercase())
                        .ok_or_else(|| format!("unknown department {:?}", f.department))?,
                );
            }
            Ok(input)
        })();
        match row {
            Ok(input) => good.push(input),
            Err(reason) => report.errors.push(RowError {
                line: f.line,
                section: "cis",
                reason,
            }),
        }
    }
    let (c, u, n) = store.bulk_upsert_cis(actor, good).await?;
    (report.cis_created, report.cis_updated, report.cis_unchanged) = (c, u, n);
    let mut good_rels = vec![];
    let mut lines = vec![];
    for (line, s, t, d) in rels {
        match RelType::parse(&t) {
            Ok(rt) if !s.is_empty() && !d.is_empty() => {
                good_rels.push((s, rt, d));
                lines.push(line);
            }
            Ok(_) => report.errors.push(RowError {
                line,
                section: "relationships",
                reason: "source_key and target_key are required".into(),
            }),
            Err(e) => report.errors.push(RowError {
                line,
                section: "relationships",
                reason: e.message,
            }),
        }
    }
    let results = store.bulk_add_relationships(actor, good_rels).await?;
    for (line, r) in lines.into_iter().zip(results) {
        match r {
            Ok(true) => report.relationships_created += 1,
            Ok(false) => report.relationships_existing += 1,
            Err(reason) => report.errors.push(RowError {
                line,
                section: "relationships",
                reason,
            }),
        }
    }
    if report.cis_created + report.cis_updated + report.relationships_created > 0 {
        report.reclassified = store.recompute_classification().await?;
        // Large imports change the tables' shape; let the planner know.
        if report.cis_created + report.relationships_created > 10_000 {
            store.analyze().await?;
        }
    }
    report.errors.sort_by_key(|e| (e.section, e.line));
    Ok(report)
}

fn csv_line(fields: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(vec![]);
    let _ = w.write_record(fields);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Everything of one kind as CSV or JSON, in the import format (so export → import is a no-op).
pub async fn export_data(store: &dyn Store, kind: &str, json: bool) -> Outcome<String> {
    let mut page = custos_core::page::PageRequest::first(500);
    match kind {
        "cis" => {
            let depts: HashMap<custos_core::DepartmentId, String> = store
                .list_departments(custos_core::page::PageRequest::first(500))
                .await?
                .items
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect();
            let mut rows = vec![];
            loop {
                let p = store.list_cis(&CiFilter::default(), page).await?;
                for r in &p.items {
                    let c = &r.ci;
                    rows.push(serde_json::json!({
                        "external_key": c.external_key, "ci_type": c.ci_type, "name": c.name, "status": c.status.as_str(),
                        "department": c.department_id.and_then(|d| depts.get(&d).cloned()), "attributes": c.attributes,
                    }));
                }
                match p.next_cursor {
                    Some(cur) => page = custos_core::page::PageRequest::new(Some(500), Some(cur)),
                    None => break,
                }
            }
            if json {
                return Ok(serde_json::json!({"cis": rows}).to_string());
            }
            let mut out = csv_line(&[
                "external_key",
                "ci_type",
                "name",
                "status",
                "department",
                "attributes",
            ]);
            for r in rows {
                let t = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                out.push_str(&csv_line(&[
                    &t("external_key"),
                    &t("ci_type"),
                    &t("name"),
                    &t("status"),
                    &t("department"),
                    &custos_core::audit::canonical_json(&r["attributes"]),
                ]));
            }
            Ok(out)
        }
        "relationships" => {
            let mut rows = vec![];
            let mut keys: HashMap<custos_core::CiId, String> = HashMap::new();
            loop {
                let p = store.list_relationships(None, page).await?;
                let missing: Vec<custos_core::CiId> = p
                    .items
                    .iter()
                    .flat_map(|v| [v.rel.source_id, v.rel.target_id])
                    .filter(|i| !keys.contains_key(i))
                    .collect();
                for id in missing {
                    if let Ok(r) = store.ci(id).await {
                        keys.insert(id, r.ci.external_key.unwrap_or_else(|| id.to_string()));
                    }
                }
                let key = |id: custos_core::CiId| {
                    keys.get(&id).cloned().unwrap_or_else(|| id.to_string())
                };
                for v in &p.items {
                    rows.push((
                        key(v.rel.source_id),
                        v.rel.rel_type.as_str(),
                        key(v.rel.target_id),
                    ));
                }
                match p.next_cursor {
                    Some(cur) => page = custos_core::page::PageRequest::new(Some(500), Some(cur)),
                    None => break,
                }
            }
            if json {
                let list: Vec<serde_json::Value> = rows.iter().map(|(s, t, d)| serde_json::json!({"source_key": s, "rel_type": t, "target_key": d})).collect();
                return Ok(serde_json::json!({"relationships": list}).to_string());
            }
            let mut out = csv_line(&["source_key", "rel_type", "target_key"]);
            for (s, t, d) in rows {
                out.push_str(&csv_line(&[&s, t, &d]));
            }
            Ok(out)
        }
        _ => Err(Error::validation("kind", "must be cis or relationships")),
    }
}
