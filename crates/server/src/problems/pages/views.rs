//! What the problem page shows, shaped for its template: the fixes, reviews and the
//! security check with names and words instead of ids and codes.

use custos_core::UserId;
use custos_core::problem::{Decision, Review, SecurityCheck};
use std::collections::HashMap;

pub struct CheckCi {
    pub id: String,
    pub name: String,
    pub c: &'static str,
    pub i: &'static str,
    pub a: &'static str,
    pub required: u32,
    pub failed: u32,
    pub missing: u32,
}

pub struct CheckService {
    pub id: String,
    pub name: String,
    pub slas: String,
    pub requirements: String,
}

pub struct CheckView {
    pub cis: Vec<CheckCi>,
    pub services: Vec<CheckService>,
}

pub fn check_view(c: &SecurityCheck) -> CheckView {
    CheckView {
        cis: c
            .cis
            .iter()
            .map(|x| CheckCi {
                id: x.ci.to_string(),
                name: x.name.clone(),
                c: x.confidentiality.as_str(),
                i: x.integrity.as_str(),
                a: x.availability.as_str(),
                required: x.required,
                failed: x.failed,
                missing: x.missing,
            })
            .collect(),
        services: c
            .services
            .iter()
            .map(|s| CheckService {
                id: s.service.to_string(),
                name: s.name.clone(),
                slas: s.slas.join(", "),
                requirements: s.requirements.join(", "),
            })
            .collect(),
    }
}

pub struct ReviewView {
    pub fix: &'static str,
    pub approved: bool,
    pub reviewer: String,
    pub at: String,
    pub reasons: String,
    pub sla_ok: bool,
    pub baseline_ok: bool,
    pub notes: String,
    pub check: CheckView,
}

pub fn review_view(r: &Review, names: &HashMap<UserId, String>) -> ReviewView {
    ReviewView {
        fix: r.fix.label(),
        approved: r.decision == Decision::Approved,
        reviewer: r
            .reviewer
            .and_then(|u| names.get(&u).cloned())
            .unwrap_or_else(|| "system".into()),
        at: crate::http::util::human(r.at),
        reasons: r.reasons.clone(),
        sla_ok: r.sla_requirements_met,
        baseline_ok: r.baseline_met,
        notes: r.notes.clone(),
        check: check_view(&r.check),
    }
}

pub struct FixView {
    pub kind: &'static str,
    pub label: &'static str,
    pub state: &'static str,
    pub state_label: &'static str,
    pub text: String,
    pub history: Vec<String>,
    pub review: Option<ReviewView>,
    pub can_submit: bool,
    pub can_publish: bool,
    pub pending: bool,
}

pub struct CiRow {
    pub id: String,
    pub name: String,
    pub c: &'static str,
    pub i: &'static str,
    pub a: &'static str,
}

pub struct LinkedRow {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub status: &'static str,
    pub security: bool,
}
