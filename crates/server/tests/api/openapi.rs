//! The committed OpenAPI document must match the code; the served one too.

use crate::helpers::*;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

#[tokio::test]
async fn committed_openapi_matches_the_code() {
    let generated = custos_server::api::openapi_json();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(COMMITTED, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).expect("docs/openapi.json is committed");
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p custos-server --test api openapi` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    for app in spawn_apps().await {
        let served = app
            .client
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(served.trim_end(), generated.trim_end());
    }
}

/// A schema that combines others with `allOf` admits no document when one of them is
/// closed (`additionalProperties: false`) and another adds properties: clients and
/// generators then cannot produce a valid body (a flattened `deny_unknown_fields` struct
/// does this).
#[test]
fn no_closed_schema_is_combined_with_others() {
    let doc: serde_json::Value = serde_json::from_str(&custos_server::api::openapi_json()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let closed = |s: &serde_json::Value| {
        let s = match s["$ref"].as_str() {
            Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
            None => s,
        };
        s["additionalProperties"] == serde_json::Value::Bool(false)
    };
    let mut bad = vec![];
    for (name, s) in schemas {
        if let Some(parts) = s["allOf"].as_array()
            && parts.len() > 1
            && parts.iter().any(closed)
        {
            bad.push(name.clone());
        }
    }
    assert!(bad.is_empty(), "allOf with a closed member: {bad:?}");
}
