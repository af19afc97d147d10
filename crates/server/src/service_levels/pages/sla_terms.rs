//! Reading the SLA form into terms, strictly: requirements as lines `KEY | text | AC-2,
//! AU-6` (an error names the line), KPI rows (an error names the row), and the form's words
//! for the field paths the SLA rules report.

use crate::service_levels::pages::common::field_label;

use crate::service_levels::pages::common::parse_targets;

use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::state::AppState;
use crate::service_levels::pages::common::resolve_control;
use custos_core::account::Role;
use custos_core::classification::{Classification, DIMENSIONS, Level};
use custos_core::sla::{
    Comparison, Frequency, IncidentCriteria, Kpi, LevelCriterion, Metric, Requirement,
    SecuritySection, SlaTerms,
};
use custos_core::time::Date;
use custos_core::{CiId, CustomerId, UserId};

/// Where each parsed requirement and KPI came from, for messages.
#[derive(Default)]
pub struct Origins {
    requirement_lines: Vec<usize>,
    kpi_rows: Vec<usize>,
    categories: Vec<String>,
}

fn bad(field: String, message: impl Into<String>) -> ApiError {
    ApiError::validation(field, message)
}

/// Requirements, one per line: `KEY | text | control, control`.
async fn parse_requirements(
    state: &AppState,
    text: &str,
    o: &mut Origins,
) -> Result<Vec<Requirement>, ApiError> {
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let field = format!("requirements:{n}");
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        if parts.len() != 3 {
            return Err(bad(
                field,
                format!(
                    "write KEY | text | controls (three parts separated by |); this line has {}",
                    parts.len()
                ),
            ));
        }
        if parts[0].is_empty() {
            return Err(bad(field, "the key (before the first |) is empty"));
        }
        if parts[1].is_empty() {
            return Err(bad(
                field,
                "the requirement text (between the | signs) is empty",
            ));
        }
        let mut controls = vec![];
        for name in parts[2].split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match resolve_control(state, name).await? {
                Some(c) => controls.push(c),
                None => {
                    return Err(bad(
                        field,
                        format!("no control has the label or id “{name}”"),
                    ));
                }
            }
        }
        if controls.is_empty() {
            return Err(bad(field, "name at least one control after the second |"));
        }
        o.requirement_lines.push(n);
        out.push(Requirement {
            key: parts[0].to_string(),
            text: parts[1].to_string(),
            controls,
        });
    }
    Ok(out)
}

fn parse_kpis(f: &Form, o: &mut Origins) -> Result<Vec<Kpi>, ApiError> {
    let (m, c, t, h) = (
        f.all("kpi_metric"),
        f.all("kpi_comparison"),
        f.all("kpi_target"),
        f.all("kpi_how"),
    );
    let mut out = vec![];
    for (i, metric) in m.iter().enumerate() {
        let n = i + 1;
        let field = format!("kpis:{n}");
        let target = t.get(i).map(|s| s.trim()).unwrap_or("");
        let how = h.get(i).copied().unwrap_or("");
        if metric.is_empty() {
            if !target.is_empty() || !how.trim().is_empty() {
                return Err(bad(field, "choose a metric, or clear the row"));
            }
            continue;
        }
        let metric = Metric::parse(metric).ok_or_else(|| bad(field.clone(), "unknown metric"))?;
        let comparison = match c.get(i).copied().unwrap_or("") {
            "at_least" => Comparison::AtLeast,
            "at_most" => Comparison::AtMost,
            _ => return Err(bad(field, "choose at least or at most")),
        };
        let target = target
            .replace(',', ".")
            .parse::<f64>()
            .map_err(|_| bad(field.clone(), "the target must be a number"))?;
        o.kpi_rows.push(n);
        out.push(Kpi {
            metric,
            target,
            comparison,
            measured_how: how.to_string(),
        });
    }
    Ok(out)
}

fn words(s: &str) -> Vec<String> {
    s.split([',', '\n', ';'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn parse_terms(
    state: &AppState,
    f: &Form,
    o: &mut Origins,
) -> Result<SlaTerms, ApiError> {
    let customer_id = f
        .get_or_empty("customer_id")
        .parse::<CustomerId>()
        .map_err(|_| ApiError::validation("customer_id", "choose a customer"))?;
    let service_id = f
        .get_or_empty("service_id")
        .parse::<CiId>()
        .map_err(|_| ApiError::validation("service_id", "choose a service"))?;
    let level = |k: &str| match f.get_or_empty(k) {
        "" => Ok(None),
        v => Level::parse(k, v).map(Some),
    };
    let classification = Classification {
        confidentiality: level("confidentiality")?,
        integrity: level("integrity")?,
        availability: level("availability")?,
    };
    let mut affected_levels = vec![];
    for d in DIMENSIONS {
        let k = format!("crit_{d}");
        if let Some(at_least) = level(&k)? {
            affected_levels.push(LevelCriterion {
                dimension: d.to_string(),
                at_least,
            });
        }
    }
    let mut authorised_users = vec![];
    for u in f.all("authorised_users") {
        authorised_users.push(
            u.parse::<UserId>()
                .map_err(|_| ApiError::validation("authorised_users", "choose users"))?,
        );
    }
    let mut authorised_roles = vec![];
    for r in f.all("authorised_roles") {
        authorised_roles.push(r.parse::<Role>()?);
    }
    let reporting = match f.get_or_empty("reporting") {
        "monthly" => Frequency::Monthly,
        "quarterly" => Frequency::Quarterly,
        _ => {
            return Err(ApiError::validation(
                "reporting",
                "must be monthly or quarterly",
            ));
        }
    };
    let requirements = parse_requirements(state, f.get_or_empty("requirements"), o).await?;
    o.categories = words(f.get_or_empty("categories"));
    let terms = SlaTerms {
        name: f.get_or_empty("name").to_string(),
        customer_id,
        service_id,
        valid_from: Date::parse("valid_from", f.get_or_empty("valid_from"))?,
        valid_to: Date::parse("valid_to", f.get_or_empty("valid_to"))?,
        targets: parse_targets(f)?,
        security: SecuritySection {
            classification,
            requirements,
            incident_criteria: IncidentCriteria {
                categories: o.categories.clone(),
                affected_levels,
                control_failures: f.checked("control_failures"),
                keywords: words(f.get_or_empty("keywords")),
            },
            authorised_users,
            authorised_roles,
            asset_protection: f.get_or_empty("asset_protection").to_string(),
            copying_restrictions: f.get_or_empty("copying_restrictions").to_string(),
            reporting,
        },
        kpis: parse_kpis(f, o)?,
    };
    Ok(terms.validate()?)
}

/// The form's words for a field path, using where each requirement and KPI came from.
pub fn label(field: &str, o: &Origins) -> String {
    let index = |prefix: &str| {
        field
            .strip_prefix(prefix)
            .and_then(|r| r.split(']').next())
            .and_then(|n| n.parse::<usize>().ok())
    };
    if let Some(n) = field.strip_prefix("requirements:") {
        return format!("Requirements, line {n}");
    }
    if let Some(n) = field.strip_prefix("kpis:") {
        return format!("KPI row {n}");
    }
    if let Some(i) = index("security.requirements[") {
        let line = o.requirement_lines.get(i).copied().unwrap_or(i + 1);
        let part = field.rsplit('.').next().unwrap_or("");
        return format!("Requirements, line {line} ({part})");
    }
    if let Some(i) = index("kpis[") {
        let row = o.kpi_rows.get(i).copied().unwrap_or(i + 1);
        return format!("KPI row {row}, target");
    }
    if let Some(i) = index("security.incident_criteria.categories[") {
        let cat = o.categories.get(i).cloned().unwrap_or_default();
        return format!("Incident category “{cat}”");
    }
    match field {
        "confidentiality" | "integrity" | "availability" => {
            crate::service_levels::pages::sla_form::capitalise(field)
        }
        "authorised_users" => "Authorised users".into(),
        "authorised_roles" | "roles" => "Authorised roles".into(),
        f if f.starts_with("crit_") => "Incident criteria".into(),
        f => field_label(f),
    }
}
