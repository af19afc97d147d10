//! Security-incident recognition: whether an incident is a security incident, and why.
//!
//! Every new or changed incident is evaluated against
//! (a) the security-incident criteria of each SLA in force for the affected service
//!     ([`IncidentCriteria`]: categories, keywords, affected C/I/A levels, control
//!     failures), and
//! (b) the baseline rules, which hold whatever an SLA says:
//!     - the category is one of [`SECURITY_CATEGORIES`];
//!     - a required control of an affected CI is in state failed;
//!     - a C/I/A impact on an affected CI classified high in that dimension. Which
//!       dimension an incident impacts is read from its category ([`CATEGORY_IMPACTS`]:
//!       data_leak → confidentiality, malware → integrity, denial_of_service →
//!       availability, …); a category not in that table impacts none. An ordinary outage
//!       (availability, hardware, performance…) on an A=high CI is therefore not a
//!       security incident by the baseline — that would hand every outage of an important
//!       service to the security team; an SLA can still say so through `affected_levels`.
//!
//! The result is the list of [`Reason`]s — the evidence the incident records, the UI shows
//! ([`describe`]) and the audit log keeps. Empty means "not a security incident by the
//! rules" (an agent may still flag it by hand). Order: per SLA in the given order
//! (category, keywords, classification, control failures), then the baseline rules; a
//! reason already in the list is not repeated.

use crate::classification::{DIMENSIONS, Level};
use crate::ids::{CiId, ControlId, SlaId};
use crate::incident::SECURITY_CATEGORIES;
use crate::sla::IncidentCriteria;
use serde::{Deserialize, Serialize};

/// Which C/I/A dimension an incident of a category impacts, for the baseline's high-impact
/// rule. Availability only through an attack on it (see the module documentation).
pub const CATEGORY_IMPACTS: [(&str, &str); 10] = [
    ("data_leak", "confidentiality"),
    ("unauthorized_access", "confidentiality"),
    ("account_compromise", "confidentiality"),
    ("lost_device", "confidentiality"),
    ("phishing", "confidentiality"),
    ("malware", "integrity"),
    ("vulnerability_exploited", "integrity"),
    ("data_corruption", "integrity"),
    ("unauthorized_change", "integrity"),
    ("denial_of_service", "availability"),
];

/// The dimension an incident of `category` impacts, if any.
pub fn impacted_dimension(category: &str) -> Option<&'static str> {
    let category = category.trim().to_lowercase();
    CATEGORY_IMPACTS
        .iter()
        .find(|(c, _)| *c == category)
        .map(|&(_, d)| d)
}

/// An affected CI (the service and every other CI the incident names) as recognition needs
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedCi {
    pub id: CiId,
    pub name: String,
    /// Effective confidentiality, integrity, availability levels, in that order.
    pub effective: [Level; 3],
    /// The CI's *required* controls whose implementation is in state failed, with a label
    /// for people (e.g. "AC-2 Account Management").
    pub failed_controls: Vec<(ControlId, String)>,
}

/// The security-incident criteria of one SLA in force for the affected service.
#[derive(Debug, Clone, Copy)]
pub struct SlaCriteriaRef<'a> {
    pub sla_id: SlaId,
    pub sla_name: &'a str,
    pub criteria: &'a IncidentCriteria,
}

/// What recognition looks at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub category: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub affected: &'a [AffectedCi],
    pub slas: &'a [SlaCriteriaRef<'a>],
}

/// One reason an incident is a security incident: the rule and its evidence. CI names and
/// control labels are as they were at evaluation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Reason {
    /// The SLA lists the incident's category.
    SlaCategory {
        sla_id: SlaId,
        sla_name: String,
        category: String,
    },
    /// An SLA keyword occurs as a whole word in the title or description.
    SlaKeyword {
        sla_id: SlaId,
        sla_name: String,
        keyword: String,
    },
    /// An affected CI is classified at or above the SLA's level for a dimension.
    SlaClassification {
        sla_id: SlaId,
        sla_name: String,
        ci: CiId,
        ci_name: String,
        dimension: String,
        level: Level,
        at_least: Level,
    },
    /// The SLA counts control failures, and a required control of an affected CI failed.
    SlaControlFailure {
        sla_id: SlaId,
        sla_name: String,
        ci: CiId,
        ci_name: String,
        control: ControlId,
        label: String,
    },
    /// The category is one of the baseline's security categories.
    BaselineSecurityCategory { category: String },
    /// A required control of an affected CI failed.
    BaselineFailedControl {
        ci: CiId,
        ci_name: String,
        control: ControlId,
        label: String,
    },
    /// The category impacts a dimension in which an affected CI is classified high.
    BaselineHighImpact {
        ci: CiId,
        ci_name: String,
        category: String,
        dimension: String,
    },
}

impl Reason {
    /// The rule's name, as in the serialised `rule` tag.
    pub fn rule(&self) -> &'static str {
        match self {
            Reason::SlaCategory { .. } => "sla_category",
            Reason::SlaKeyword { .. } => "sla_keyword",
            Reason::SlaClassification { .. } => "sla_classification",
            Reason::SlaControlFailure { .. } => "sla_control_failure",
            Reason::BaselineSecurityCategory { .. } => "baseline_security_category",
            Reason::BaselineFailedControl { .. } => "baseline_failed_control",
            Reason::BaselineHighImpact { .. } => "baseline_high_impact",
        }
    }

    /// The SLA whose clause matched; `None` for baseline rules.
    pub fn sla_id(&self) -> Option<SlaId> {
        match self {
            Reason::SlaCategory { sla_id, .. }
            | Reason::SlaKeyword { sla_id, .. }
            | Reason::SlaClassification { sla_id, .. }
            | Reason::SlaControlFailure { sla_id, .. } => Some(*sla_id),
            _ => None,
        }
    }
}

/// Every reason the facts give, without repeats (see the module documentation).
pub fn recognise(f: &Facts<'_>) -> Vec<Reason> {
    let mut out: Vec<Reason> = Vec::new();
    let mut add = |r: Reason| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    let category = f.category.trim().to_lowercase();
    let text = format!("{}\n{}", f.title, f.description).to_lowercase();

    for s in f.slas {
        let (sla_id, sla_name) = (s.sla_id, s.sla_name.to_string());
        let c = s.criteria;
        if c.categories
            .iter()
            .any(|k| k.trim().to_lowercase() == category)
        {
            add(Reason::SlaCategory {
                sla_id,
                sla_name: sla_name.clone(),
                category: category.clone(),
            });
        }
        for k in &c.keywords {
            let keyword = k.trim().to_lowercase();
            if contains_word(&text, &keyword) {
                add(Reason::SlaKeyword {
                    sla_id,
                    sla_name: sla_name.clone(),
                    keyword,
                });
            }
        }
        for l in &c.affected_levels {
            let Some(d) = DIMENSIONS.iter().position(|x| *x == l.dimension) else {
                continue;
            };
            for ci in f.affected.iter().filter(|ci| ci.effective[d] >= l.at_least) {
                add(Reason::SlaClassification {
                    sla_id,
                    sla_name: sla_name.clone(),
                    ci: ci.id,
                    ci_name: ci.name.clone(),
                    dimension: DIMENSIONS[d].to_string(),
                    level: ci.effective[d],
                    at_least: l.at_least,
                });
            }
        }
        if c.control_failures {
            for ci in f.affected {
                for (control, label) in &ci.failed_controls {
                    add(Reason::SlaControlFailure {
                        sla_id,
                        sla_name: sla_name.clone(),
                        ci: ci.id,
                        ci_name: ci.name.clone(),
                        control: *control,
                        label: label.clone(),
                    });
                }
            }
        }
    }

    if SECURITY_CATEGORIES.contains(&category.as_str()) {
        add(Reason::BaselineSecurityCategory {
            category: category.clone(),
        });
    }
    for ci in f.affected {
        for (control, label) in &ci.failed_controls {
            add(Reason::BaselineFailedControl {
                ci: ci.id,
                ci_name: ci.name.clone(),
                control: *control,
                label: label.clone(),
            });
        }
    }
    if let Some(dimension) = impacted_dimension(&category) {
        let d = DIMENSIONS.iter().position(|x| *x == dimension).unwrap_or(0);
        for ci in f
            .affected
            .iter()
            .filter(|ci| ci.effective[d] == Level::High)
        {
            add(Reason::BaselineHighImpact {
                ci: ci.id,
                ci_name: ci.name.clone(),
                category: category.clone(),
                dimension: dimension.to_string(),
            });
        }
    }
    out
}

/// Whether the reasons make it a security incident: any reason does.
pub fn is_security(reasons: &[Reason]) -> bool {
    !reasons.is_empty()
}

/// One sentence for people (UI, audit): the rule, and the SLA clause or control it rests on.
pub fn describe(r: &Reason) -> String {
    let control = |control: &ControlId, label: &str| {
        if label.trim().is_empty() {
            control.to_string()
        } else {
            label.to_string()
        }
    };
    match r {
        Reason::SlaCategory {
            sla_name, category, ..
        } => format!(
            "SLA \"{sla_name}\": incidents of category \"{category}\" are security incidents."
        ),
        Reason::SlaKeyword {
            sla_name, keyword, ..
        } => format!(
            "SLA \"{sla_name}\": the keyword \"{keyword}\" appears in the title or description."
        ),
        Reason::SlaClassification {
            sla_name,
            ci_name,
            dimension,
            level,
            at_least,
            ..
        } => format!(
            "SLA \"{sla_name}\": affected CI \"{ci_name}\" has {dimension} {}, at or above the agreed {}.",
            level.as_str(),
            at_least.as_str()
        ),
        Reason::SlaControlFailure {
            sla_name,
            ci_name,
            control: c,
            label,
            ..
        } => format!(
            "SLA \"{sla_name}\": required control \"{}\" of affected CI \"{ci_name}\" has failed.",
            control(c, label)
        ),
        Reason::BaselineSecurityCategory { category } => {
            format!("Baseline: \"{category}\" is a security category.")
        }
        Reason::BaselineFailedControl {
            ci_name,
            control: c,
            label,
            ..
        } => format!(
            "Baseline: required control \"{}\" of affected CI \"{ci_name}\" has failed.",
            control(c, label)
        ),
        Reason::BaselineHighImpact {
            ci_name,
            category,
            dimension,
            ..
        } => format!(
            "Baseline: a \"{category}\" incident affects the {dimension} of CI \"{ci_name}\", which is classified high."
        ),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `word` occurs in `text` as a whole word (or phrase): not preceded or followed
/// by a letter, digit or underscore where the word itself starts or ends with one. Both
/// are expected lowercase already. An empty word never matches.
pub fn contains_word(text: &str, word: &str) -> bool {
    let (Some(first), Some(last)) = (word.chars().next(), word.chars().next_back()) else {
        return false;
    };
    let mut from = 0;
    while let Some(pos) = text[from..].find(word) {
        let start = from + pos;
        let end = start + word.len();
        let before_ok = !is_word_char(first)
            || text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !is_word_char(c));
        let after_ok =
            !is_word_char(last) || text[end..].chars().next().is_none_or(|c| !is_word_char(c));
        if before_ok && after_ok {
            return true;
        }
        // Try again from the next character (matches may overlap).
        from = start + first.len_utf8();
    }
    false
}

#[cfg(test)]
mod tests;
