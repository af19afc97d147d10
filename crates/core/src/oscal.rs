//! Reading OSCAL JSON: catalogs (nested groups, controls with enhancements, parameters,
//! parts) and profiles (which controls of which catalog make a baseline). Works on any
//! valid OSCAL document, reading only what Custos uses and ignoring the rest.

use crate::controls::{ControlSpec, Function};
use crate::error::DomainError;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// The document's uuid: importing the same document again updates, never duplicates.
    pub uuid: String,
    pub title: String,
    pub version: String,
    pub controls: Vec<ControlSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub uuid: String,
    pub title: String,
    /// Control ids the profile includes (from every import; `include-all` gives `None`).
    pub include: Option<Vec<String>>,
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Catalog(Catalog),
    Profile(Profile),
}

fn err(m: impl Into<String>) -> DomainError {
    DomainError::new("document", m)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn metadata(root: &Value) -> Result<(String, String, String), DomainError> {
    let uuid = root
        .get("uuid")
        .and_then(Value::as_str)
        .ok_or_else(|| err("has no uuid"))?;
    let md = root.get("metadata").ok_or_else(|| err("has no metadata"))?;
    let title = md
        .get("title")
        .and_then(Value::as_str)
        .ok_or_else(|| err("metadata has no title"))?;
    Ok((uuid.to_string(), title.to_string(), text(md, "version")))
}

/// Parses an OSCAL catalog or profile (JSON).
pub fn parse(doc: &Value) -> Result<Document, DomainError> {
    if let Some(c) = doc.get("catalog") {
        parse_catalog(c).map(Document::Catalog)
    } else if let Some(p) = doc.get("profile") {
        parse_profile(p).map(Document::Profile)
    } else {
        Err(err(
            "is neither an OSCAL catalog nor an OSCAL profile (no top-level \"catalog\" or \"profile\")",
        ))
    }
}

fn parse_catalog(c: &Value) -> Result<Catalog, DomainError> {
    let (uuid, title, version) = metadata(c)?;
    let mut out = vec![];
    let mut params = HashMap::new();
    collect_params(c, &mut params);
    walk(c, None, None, &params, &mut out)?;
    Ok(Catalog {
        uuid,
        title,
        version,
        controls: out,
    })
}

/// Every parameter's display text by id, from anywhere in the catalog.
fn collect_params(v: &Value, out: &mut HashMap<String, String>) {
    if let Some(ps) = v.get("params").and_then(Value::as_array) {
        for p in ps {
            let id = text(p, "id");
            let shown = if let Some(l) = p.get("label").and_then(Value::as_str) {
                l.to_string()
            } else if let Some(choices) = p.pointer("/select/choice").and_then(Value::as_array) {
                let cs: Vec<&str> = choices.iter().filter_map(Value::as_str).collect();
                format!("one or more of: {}", cs.join("; "))
            } else {
                id.clone()
            };
            out.insert(id, shown);
        }
    }
    for key in ["groups", "controls"] {
        for child in v.get(key).and_then(Value::as_array).into_iter().flatten() {
            collect_params(child, out);
        }
    }
}

fn walk(
    v: &Value,
    family: Option<&str>,
    parent: Option<&str>,
    params: &HashMap<String, String>,
    out: &mut Vec<ControlSpec>,
) -> Result<(), DomainError> {
    for g in v
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let gid = g.get("id").and_then(Value::as_str);
        walk(g, family.or(gid), None, params, out)?;
    }
    for c in v
        .get("controls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = c
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| err("a control has no id"))?;
        let title = c
            .get("title")
            .and_then(Value::as_str)
            .ok_or_else(|| err(format!("control {id} has no title")))?;
        if prop(c, "status").as_deref() == Some("withdrawn") {
            continue;
        }
        let fam = family
            .map(str::to_string)
            .unwrap_or_else(|| id.split(['-', '.']).next().unwrap_or(id).to_string());
        let declared = prop(c, "function").and_then(|f| Function::parse(&f).ok());
        let mut statement = String::new();
        let mut guidance = String::new();
        for part in c
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match part.get("name").and_then(Value::as_str) {
                Some("statement") => render_part(part, params, 0, &mut statement),
                Some("guidance") => render_part(part, params, 0, &mut guidance),
                _ => {}
            }
        }
        out.push(ControlSpec {
            control_id: id.to_string(),
            label: prop(c, "label").unwrap_or_else(|| id.to_uppercase()),
            title: title.to_string(),
            family: fam.clone(),
            parent: parent.map(str::to_string),
            statement: statement.trim().to_string(),
            guidance: guidance.trim().to_string(),
            function: declared.unwrap_or_else(|| Function::default_for_family(&fam)),
            function_from_catalog: declared.is_some(),
        });
        walk(c, Some(&fam), Some(id), params, out)?;
    }
    Ok(())
}

/// The first prop named `name` without a class (or any, if all have one).
fn prop(v: &Value, name: &str) -> Option<String> {
    let props = v.get("props").and_then(Value::as_array)?;
    let matching: Vec<&Value> = props
        .iter()
        .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .collect();
    matching
        .iter()
        .find(|p| p.get("class").is_none())
        .or(matching.first())
        .and_then(|p| p.get("value").and_then(Value::as_str))
        .map(str::to_string)
}

fn render_part(part: &Value, params: &HashMap<String, String>, depth: usize, out: &mut String) {
    let prose = part
        .get("prose")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let label = prop(part, "label").unwrap_or_default();
    if !prose.is_empty() || !label.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&"  ".repeat(depth.saturating_sub(1)));
        if !label.is_empty() {
            out.push_str(&label);
            out.push(' ');
        }
        out.push_str(&insert_params(prose, params));
    }
    for p in part
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        render_part(p, params, depth + 1, out);
    }
}

/// Replaces `{{ insert: param, id }}` with `[label]`.
fn insert_params(prose: &str, params: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(prose.len());
    let mut rest = prose;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &rest[start + 2..start + end];
        let id = inner.split(',').nth(1).map(str::trim).unwrap_or("");
        out.push('[');
        out.push_str(params.get(id).map(String::as_str).unwrap_or(id));
        out.push(']');
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

fn parse_profile(p: &Value) -> Result<Profile, DomainError> {
    let (uuid, title, _) = metadata(p)?;
    let imports = p
        .get("imports")
        .and_then(Value::as_array)
        .ok_or_else(|| err("profile has no imports"))?;
    let mut include: Option<Vec<String>> = Some(vec![]);
    let mut exclude = vec![];
    for imp in imports {
        if imp.get("include-all").is_some() {
            include = None;
        }
        for sel in imp
            .get("include-controls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for id in sel
                .get("with-ids")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Some(list) = include.as_mut() {
                    list.push(id.to_string());
                }
            }
        }
        for sel in imp
            .get("exclude-controls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            exclude.extend(
                sel.get("with-ids")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string),
            );
        }
    }
    if let Some(list) = include.as_mut() {
        list.sort();
        list.dedup();
    }
    Ok(Profile {
        uuid,
        title,
        include,
        exclude,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn small_catalog() -> Value {
        json!({"catalog": {
            "uuid": "11111111-2222-3333-4444-555555555555",
            "metadata": {"title": "Tiny catalog", "version": "1.0", "last-modified": "2026-01-01T00:00:00Z", "oscal-version": "1.1.2"},
            "groups": [{"id": "org", "title": "Organisational", "groups": [{"id": "media", "title": "Media",
                "controls": [{"id": "media-1", "title": "Handle storage media with personal data",
                    "params": [{"id": "media-1_prm_1", "label": "retention period"}],
                    "props": [{"name": "label", "value": "MEDIA-1"}, {"name": "function", "value": "preventive"}],
                    "parts": [{"id": "media-1_smt", "name": "statement", "prose": "Wipe media after {{ insert: param, media-1_prm_1 }}.",
                        "parts": [{"id": "media-1_smt.a", "name": "item", "props": [{"name": "label", "value": "a."}], "prose": "Log every wipe."}]},
                        {"id": "media-1_gdn", "name": "guidance", "prose": "Use certified tools."}],
                    "controls": [{"id": "media-1.1", "title": "Verify wipes", "props": [{"name": "status", "value": "withdrawn"}]},
                                 {"id": "media-1.2", "title": "Dual control"}]}]}]},
                {"id": "au", "title": "Audit", "controls": [{"id": "au-9", "title": "Protect audit information"}]}]
        }})
    }

    #[test]
    fn nested_groups_enhancements_params_and_withdrawn() {
        let Document::Catalog(c) = parse(&small_catalog()).unwrap() else {
            panic!("catalog")
        };
        assert_eq!(c.title, "Tiny catalog");
        let ids: Vec<&str> = c.controls.iter().map(|x| x.control_id.as_str()).collect();
        assert_eq!(
            ids,
            ["media-1", "media-1.2", "au-9"],
            "withdrawn enhancement skipped"
        );
        let m = &c.controls[0];
        assert_eq!(m.family, "org", "family is the top-level group");
        assert_eq!(m.label, "MEDIA-1");
        assert_eq!(
            m.statement,
            "Wipe media after [retention period].\na. Log every wipe."
        );
        assert_eq!(m.guidance, "Use certified tools.");
        assert!(m.function_from_catalog);
        assert_eq!(c.controls[1].parent.as_deref(), Some("media-1"));
        assert_eq!(
            c.controls[2].function,
            Function::Detective,
            "AU defaults to detective"
        );
        assert!(!c.controls[2].function_from_catalog);
    }

    /// The NIST SP 800-53 rev5 baselines shipped in `data/oscal`.
    #[test]
    fn nist_resolved_baselines_have_the_published_counts() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/oscal/nist-sp800-53-rev5/"
        );
        for (level, count) in [("LOW", 149), ("MODERATE", 287), ("HIGH", 370)] {
            let path = format!(
                "{dir}NIST_SP-800-53_rev5_{level}-baseline-resolved-profile_catalog-min.json"
            );
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let Document::Catalog(c) = parse(&doc).unwrap() else {
                panic!("catalog")
            };
            assert_eq!(c.controls.len(), count, "{level}");
            let ac2 = c.controls.iter().find(|x| x.control_id == "ac-2").unwrap();
            assert_eq!(ac2.label, "AC-2");
            assert!(
                ac2.statement
                    .contains("a. Define and document the types of accounts"),
                "{}",
                ac2.statement
            );
            assert!(!ac2.statement.contains("{{"), "parameters are inserted");
            let path = format!("{dir}NIST_SP-800-53_rev5_{level}-baseline_profile.json");
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let Document::Profile(p) = parse(&doc).unwrap() else {
                panic!("profile")
            };
            assert_eq!(p.include.unwrap().len(), count, "{level} profile");
        }
    }

    #[test]
    fn profiles_and_junk() {
        let p = json!({"profile": {"uuid": "u", "metadata": {"title": "Baseline"},
            "imports": [{"href": "#x", "include-controls": [{"with-ids": ["b-1", "a-1", "a-1"]}], "exclude-controls": [{"with-ids": ["c-1"]}]}]}});
        let Document::Profile(p) = parse(&p).unwrap() else {
            panic!("profile")
        };
        assert_eq!(p.include, Some(vec!["a-1".to_string(), "b-1".to_string()]));
        assert_eq!(p.exclude, ["c-1"]);
        assert!(parse(&json!({"component-definition": {}})).is_err());
        assert!(
            parse(&json!({"catalog": {"metadata": {"title": "x"}}})).is_err(),
            "uuid required"
        );
        assert!(parse(&json!({"catalog": {"uuid": "u", "metadata": {"title": "x"}, "controls": [{"id": "x-1"}]}})).is_err(), "title required");
    }
}
