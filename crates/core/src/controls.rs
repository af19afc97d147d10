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
