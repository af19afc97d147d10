//! Security controls (measures): what a control is for our purposes, whatever catalog it
//! came from, and its function — preventive, detective or corrective.

use crate::error::DomainError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    Preventive,
    Detective,
    Corrective,
}

impl Function {
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Preventive => "preventive",
            Function::Detective => "detective",
            Function::Corrective => "corrective",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "preventive" => Ok(Self::Preventive),
            "detective" => Ok(Self::Detective),
            "corrective" => Ok(Self::Corrective),
            _ => Err(DomainError::new(
                "function",
                "must be preventive, detective or corrective",
            )),
        }
    }

    /// The default for a control family when the catalog says nothing: audit, assessment,
    /// risk assessment and system monitoring find problems; contingency planning and
    /// incident response repair them; every other family prevents them.
    pub fn default_for_family(family: &str) -> Self {
        match family.to_ascii_lowercase().as_str() {
            "au" | "ca" | "ra" | "si" => Function::Detective,
            "cp" | "ir" => Function::Corrective,
            _ => Function::Preventive,
        }
    }
}

/// A control as parsed from a catalog or written by hand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlSpec {
    /// The catalog's id, e.g. `ac-2` or `ac-2.1` (an enhancement of `ac-2`).
    pub control_id: String,
    /// Human label, e.g. `AC-2(1)`.
    pub label: String,
    pub title: String,
    /// Family (the top-level group id, or the id's prefix), e.g. `ac`.
    pub family: String,
    /// The control this one enhances.
    pub parent: Option<String>,
    /// The requirement text, parameters shown as `[label]`.
    pub statement: String,
    pub guidance: String,
    pub function: Function,
    /// Whether `function` came from the catalog (else from the family default).
    pub function_from_catalog: bool,
}

/// A stored control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    pub id: crate::ids::ControlId,
    pub catalog_id: crate::ids::CatalogId,
    #[serde(flatten)]
    pub spec: ControlSpec,
    /// catalog, default (family default) or manual (set by a person).
    pub function_source: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogInfo {
    pub id: crate::ids::CatalogId,
    pub oscal_uuid: Option<String>,
    pub title: String,
    pub version: String,
    /// oscal or manual
    pub source: String,
    pub controls: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineInfo {
    pub id: crate::ids::BaselineId,
    pub name: String,
    pub catalog_id: crate::ids::CatalogId,
    pub controls: i64,
}

/// What importing a catalog did. Importing the same document twice changes nothing.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogImport {
    pub catalog_id: crate::ids::CatalogId,
    pub title: String,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// What importing a profile did.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineImport {
    pub baseline_id: crate::ids::BaselineId,
    pub name: String,
    pub controls: usize,
    /// Ids the profile names that the catalog lacks.
    pub missing: Vec<String>,
    pub changed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ControlFilter {
    pub catalog: Option<crate::ids::CatalogId>,
    pub baseline: Option<crate::ids::BaselineId>,
    pub family: Option<String>,
    /// Words that must all appear in the id, label or title.
    pub q: Option<String>,
}

/// Validates a hand-written control (API, page).
pub fn control_spec(
    id: &str,
    title: &str,
    statement: &str,
    guidance: &str,
    function: &str,
    family: Option<&str>,
) -> Result<ControlSpec, DomainError> {
    let id = crate::cmdb::check_type_name(&id.trim().to_lowercase().replace('-', "_"))
        .map(|_| id.trim().to_lowercase())
        .map_err(|_| {
            DomainError::new(
                "control_id",
                "must be 2–50 letters, digits, - or _, starting with a letter",
            )
        })?;
    let statement = crate::account::clean_text(statement, 10_000);
    if statement.is_empty() {
        return Err(DomainError::new("statement", "must not be empty"));
    }
    Ok(ControlSpec {
        label: id.to_uppercase(),
        control_id: id,
        title: crate::account::check_name("title", title, 300)?,
        family: family
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_lowercase)
            .unwrap_or_else(|| "org".into()),
        parent: None,
        statement,
        guidance: crate::account::clean_text(guidance, 10_000),
        function: Function::parse(function)?,
        function_from_catalog: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_defaults() {
        assert_eq!(Function::default_for_family("AC"), Function::Preventive);
        assert_eq!(Function::default_for_family("au"), Function::Detective);
        assert_eq!(Function::default_for_family("ir"), Function::Corrective);
        assert!(Function::parse("reactive").is_err());
    }
}
