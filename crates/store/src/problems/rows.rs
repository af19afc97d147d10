//! Row shapes of problem management and the SQL pieces both backends share: the column
//! lists, the `detail` JSON, dynamic list filters.

use crate::incidents::rows::Arg;
use custos_core::problem::{
    Fix, FixState, Problem, ProblemFilter, ProblemStatus, Review, reference,
};
use custos_core::{CiId, ProblemId, StoreError, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) const PROBLEM_COLS: &str = "p.id, p.number, p.title, p.description, p.status, \
    p.service_id, p.assignee_id, p.security_risk, p.root_cause, p.workaround, p.workaround_state, \
    p.solution, p.solution_state, p.detail, p.created_by, p.created_at, p.updated_at, \
    p.resolved_at, p.closed_at";

/// The columns an insert writes, in bind order (see `bind_problem!`).
pub(crate) const INSERT_COLS: &str = "id, number, title, description, status, service_id, \
    assignee_id, security_risk, root_cause, workaround, workaround_state, solution, \
    solution_state, detail, created_by, created_at, updated_at, resolved_at, closed_at";
pub(crate) const INSERT_NCOLS: usize = 19;

/// A fix without its text and state (those are columns).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FixMeta {
    #[serde(default)]
    edited_by: Option<UserId>,
    #[serde(default)]
    edited_at: Option<Timestamp>,
    #[serde(default)]
    submitted_by: Option<UserId>,
    #[serde(default)]
    submitted_at: Option<Timestamp>,
    #[serde(default)]
    published_by: Option<UserId>,
    #[serde(default)]
    published_at: Option<Timestamp>,
    #[serde(default)]
    review: Option<Review>,
}

impl FixMeta {
    fn of(f: &Fix) -> Self {
        Self {
            edited_by: f.edited_by,
            edited_at: f.edited_at,
            submitted_by: f.submitted_by,
            submitted_at: f.submitted_at,
            published_by: f.published_by,
            published_at: f.published_at,
            review: f.review.clone(),
        }
    }

    fn into_fix(self, text: String, state: FixState) -> Fix {
        Fix {
            text,
            state,
            edited_by: self.edited_by,
            edited_at: self.edited_at,
            submitted_by: self.submitted_by,
            submitted_at: self.submitted_at,
            published_by: self.published_by,
            published_at: self.published_at,
            review: self.review,
        }
    }
}

/// What the `detail` JSON column holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Detail {
    #[serde(default)]
    workaround: FixMeta,
    #[serde(default)]
    solution: FixMeta,
}

impl Detail {
    pub fn json(p: &Problem) -> String {
        serde_json::to_string(&Detail {
            workaround: FixMeta::of(&p.workaround),
            solution: FixMeta::of(&p.solution),
        })
        .unwrap_or_default()
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProblemRow {
    id: Uuid,
    number: i64,
    title: String,
    description: String,
    status: String,
    service_id: Option<Uuid>,
    assignee_id: Option<Uuid>,
    security_risk: bool,
    root_cause: String,
    workaround: String,
    workaround_state: String,
    solution: String,
    solution_state: String,
    detail: String,
    created_by: Option<Uuid>,
    created_at: i64,
    updated_at: i64,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
}

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Internal(format!("stored problem has an unknown {what} {v:?}"))
}

impl ProblemRow {
    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn into_problem(self, cis: Vec<CiId>) -> Result<Problem, StoreError> {
        let d: Detail = crate::service_levels::rows::parse_json("problem detail", &self.detail)?;
        let state = |s: &str| FixState::parse(s).map_err(|_| bad("fix state", s));
        Ok(Problem {
            id: ProblemId(self.id),
            number: self.number,
            reference: reference(self.number),
            title: self.title,
            description: self.description,
            status: ProblemStatus::parse(&self.status).map_err(|_| bad("status", &self.status))?,
            service: self.service_id.map(CiId),
            cis,
            assignee: self.assignee_id.map(UserId),
            introduces_security_risk: self.security_risk,
            root_cause: self.root_cause,
            workaround: d
                .workaround
                .into_fix(self.workaround, state(&self.workaround_state)?),
            solution: d
                .solution
                .into_fix(self.solution, state(&self.solution_state)?),
            created_by: self.created_by.map(UserId),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            resolved_at: self.resolved_at.map(Timestamp),
            closed_at: self.closed_at.map(Timestamp),
        })
    }
}

/// The WHERE clause of a problem list and its arguments (from `$1` on).
pub(crate) fn filter_clause(
    f: &ProblemFilter,
    search: impl Fn(usize) -> String,
    fts_query: impl Fn(&[String]) -> String,
) -> (String, Vec<Arg>) {
    let mut conds = vec!["1 = 1".to_string()];
    let mut args: Vec<Arg> = Vec::new();
    let next = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        args.len()
    };
    if let Some(s) = f.status {
        let n = next(&mut args, Arg::Text(s.as_str().into()));
        conds.push(format!("p.status = ${n}"));
    }
    match f.known_error {
        Some(true) => conds.push("p.workaround_state = 'published'".into()),
        Some(false) => conds.push("p.workaround_state <> 'published'".into()),
        None => {}
    }
    if let Some(s) = f.service {
        let n = next(&mut args, Arg::Uuid(s.0));
        conds.push(format!("p.service_id = ${n}"));
    }
    if f.awaiting_review {
        conds.push(
            "(p.workaround_state = 'pending_review' OR p.solution_state = 'pending_review')".into(),
        );
    }
    if let Some(i) = f.incident {
        let n = next(&mut args, Arg::Uuid(i.0));
        conds.push(format!(
            "p.id IN (SELECT problem_id FROM problem_incidents WHERE incident_id = ${n})"
        ));
    }
    if !f.text.is_empty() {
        let n = next(&mut args, Arg::Text(fts_query(&f.text)));
        conds.push(search(n));
    }
    (conds.join(" AND "), args)
}
