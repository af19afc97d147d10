//! The committed OpenAPI document must match the code; the served one too.

use crate::helpers::*;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

#[tokio::test]
async fn committed_openapi_matches_the_code() {
    let generated = custos_server::http::api::openapi_json();
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
    let doc: serde_json::Value =
        serde_json::from_str(&custos_server::http::api::openapi_json()).unwrap();
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

/// Every `$ref` points at a schema the document defines (a parameter typed with a schema
/// that no operation body uses is not collected by utoipa on its own).
#[test]
fn every_reference_resolves() {
    let doc: serde_json::Value =
        serde_json::from_str(&custos_server::http::api::openapi_json()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r.to_string());
                }
                m.values().for_each(|v| walk(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut refs = vec![];
    walk(&doc, &mut refs);
    assert!(refs.len() > 100, "the document uses references");
    let dangling: Vec<_> = refs
        .iter()
        .filter(|r| match r.strip_prefix("#/components/schemas/") {
            Some(name) => !schemas.contains_key(name),
            None => true,
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
}

/// Parameters that handlers parse by hand still say what they accept.
#[test]
fn hand_parsed_parameters_are_described() {
    let doc: serde_json::Value =
        serde_json::from_str(&custos_server::http::api::openapi_json()).unwrap();
    let s = &doc["components"]["schemas"];
    let matcher = |v: &serde_json::Value| {
        let re = regex::Regex::new(v.as_str().expect("a pattern")).unwrap();
        move |s: &str| re.is_match(s)
    };
    // The pattern admits what the handlers' parser admits.
    let key = matcher(&s["IncidentKey"]["pattern"]);
    for k in [
        "INC-000042",
        "inc-7",
        "42",
        "01a20f6f-93cd-75ab-8020-ffc4d62b01d8",
        "INC-0",
        "0",
        "abc",
        "INC-",
        "Inc-4",
        "",
        "-1",
    ] {
        let parsed =
            custos_core::ticket::parse_reference(k).is_some() || uuid::Uuid::parse_str(k).is_ok();
        assert_eq!(key(k), parsed, "{k:?}");
    }
    let user = matcher(&s["UserKey"]["pattern"]);
    assert!(user("me") && user("01a20f6f-93cd-75ab-8020-ffc4d62b01d8") && !user("you"));
    let period = matcher(&s["ReportPeriod"]["pattern"]);
    assert!(period("2026-10") && period("2026-Q4"));
    assert!(!period("2026-13") && !period("2026-Q5") && !period("26-10"));
    let impact = &doc["paths"]["/cis/{id}/impact"]["get"]["parameters"];
    let direction = impact
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "direction")
        .unwrap();
    assert_eq!(direction["required"], true);
    assert_eq!(
        s["ImpactDirection"]["enum"],
        serde_json::json!(["upstream", "downstream"])
    );
}

/// The incident body's documented patterns admit what the API admits (title: not blank,
/// no control characters; category: letters, digits, underscores).
#[test]
fn incident_text_patterns_match_the_checks() {
    use custos_core::incident::{Impact, IncidentFields, IncidentInput, Urgency};
    let doc: serde_json::Value =
        serde_json::from_str(&custos_server::http::api::openapi_json()).unwrap();
    let props = &doc["components"]["schemas"]["IncidentFields"]["properties"];
    let re = |field: &str| regex::Regex::new(props[field]["pattern"].as_str().unwrap()).unwrap();
    let (title, category) = (re("title"), re("category"));
    let accepted = |t: &str, c: &str| {
        let f = IncidentFields {
            title: t.into(),
            description: String::new(),
            category: c.into(),
            impact: Impact::Low,
            urgency: Urgency::Low,
            service: None,
            cis: vec![],
        };
        IncidentInput::new(f, custos_core::UserId(uuid::Uuid::nil())).is_ok()
    };
    for t in [
        "VPN down",
        " x ",
        "",
        "   ",
        "a\u{7}b",
        "tab\there",
        "é",
        "\u{85}",
    ] {
        assert_eq!(title.is_match(t), accepted(t, "network"), "title {t:?}");
    }
    for c in [
        "network",
        "Data_Leak",
        " phishing ",
        "",
        "two words",
        "é",
        &"a".repeat(61),
    ] {
        assert_eq!(category.is_match(c), accepted("x", c), "category {c:?}");
    }
}
