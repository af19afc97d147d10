//! The page of one problem: its fields (editable by those who manage problems), the
//! workaround and permanent solution with their state and review record, the security
//! check a reviewer decides on (security managers only), linked incidents the reader may
//! see, applying the published workaround to an incident, and the review history.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::LevelLabels;
use crate::http::page::Nav;
use crate::http::page::Refusal as _;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::problems as uc;
use crate::problems::pages::list::field_label;
use crate::problems::pages::list::optional_id;
use crate::problems::pages::list::parse_cis;
use crate::problems::pages::list::pickers;
use crate::problems::pages::views::CheckView;
use crate::problems::pages::views::CiRow;
use crate::problems::pages::views::FixView;
use crate::problems::pages::views::LinkedRow;
use crate::problems::pages::views::ReviewView;
use crate::problems::pages::views::check_view;
use crate::problems::pages::views::review_view;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::user_names;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use custos_core::authz::Permission;
use custos_core::problem::{
    FixKind, FixState, Problem, ProblemPatch, ProblemStatus, ReviewInput, levels_of,
};
use custos_core::{CiId, IncidentId, StoreError, Timestamp, UserId};

#[derive(Template, WebTemplate)]
#[template(path = "problems/problem.html")]
pub struct ProblemPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    lv: LevelLabels,
    p: Problem,
    status_label: &'static str,
    statuses: Vec<Opt>,
    services: Vec<Opt>,
    assignees: Vec<Opt>,
    service_name: String,
    assignee_name: String,
    cis: Vec<CiRow>,
    cis_text: String,
    needs_review: bool,
    fixes: Vec<FixView>,
    check: Option<CheckView>,
    linked: Vec<LinkedRow>,
    history: Vec<ReviewView>,
    can_manage: bool,
    can_review: bool,
    error: Option<String>,
}

/// Builds the page; `draft` keeps a fix text the user typed but that was not accepted.
async fn page(
    state: &AppState,
    w: &WebUser,
    p: Problem,
    draft: Option<(FixKind, String)>,
    error: Option<String>,
) -> Result<ProblemPage, WebError> {
    let store = state.store.as_ref();
    let can_manage = w.principal.has(Permission::ManageProblems);
    let can_review = w.principal.has(Permission::ApproveSecurity);
    let needs_review = uc::needs_review(store, &p).await?;
    let names = user_names(&all_users(state).await?);
    let records = store.cis_by_ids(&p.affected()).await?;
    let name_of = |id: CiId| {
        records
            .iter()
            .find(|r| r.ci.id == id)
            .map(|r| r.ci.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let cis = p
        .cis
        .iter()
        .filter_map(|id| records.iter().find(|r| r.ci.id == *id))
        .map(|r| {
            let [c, i, a] = levels_of(&r.effective);
            CiRow {
                id: r.ci.id.to_string(),
                name: r.ci.name.clone(),
                c: c.as_str(),
                i: i.as_str(),
                a: a.as_str(),
            }
        })
        .collect();
    let cis_text = p
        .cis
        .iter()
        .map(|id| {
            records
                .iter()
                .find(|r| r.ci.id == *id)
                .and_then(|r| r.ci.external_key.clone())
                .unwrap_or_else(|| id.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n");
    let service = p.service.map(|s| s.to_string()).unwrap_or_default();
    let assignee = p.assignee.map(|a| a.to_string()).unwrap_or_default();
    let (services, assignees) = pickers(state, &service, &assignee).await?;
    let who = |u: Option<UserId>| u.and_then(|u| names.get(&u).cloned()).unwrap_or_default();
    let fixes = [FixKind::Workaround, FixKind::Solution]
        .into_iter()
        .map(|k| {
            let f = p.fix(k);
            let mut history = vec![];
            for (what, by, at) in [
                ("Edited", f.edited_by, f.edited_at),
                ("Submitted for review", f.submitted_by, f.submitted_at),
                ("Published", f.published_by, f.published_at),
            ] {
                if let Some(at) = at {
                    history.push(format!(
                        "{what} {} by {}",
                        crate::http::util::human(at),
                        who(by)
                    ));
                }
            }
            FixView {
                kind: k.as_str(),
                label: k.label(),
                state: f.state.as_str(),
                state_label: f.state.label(),
                text: match &draft {
                    Some((dk, t)) if *dk == k => t.clone(),
                    _ => f.text.clone(),
                },
                history,
                review: f.review.as_ref().map(|r| review_view(r, &names)),
                can_submit: matches!(f.state, FixState::Draft | FixState::Rejected),
                can_publish: f.state == FixState::Approved
                    || (f.state == FixState::Draft && !needs_review),
                pending: f.state == FixState::PendingReview,
            }
        })
        .collect::<Vec<_>>();
    let check = if can_review && fixes.iter().any(|f| f.pending) {
        Some(check_view(
            &uc::security_check(store, &p, Timestamp::now()).await?,
        ))
    } else {
        None
    };
    let linked = store
        .linked_incidents(&uc::viewer(&w.principal), p.id)
        .await?
        .into_iter()
        .map(|i| LinkedRow {
            id: i.id.to_string(),
            reference: i.reference,
            title: i.title,
            status: i.status.as_str(),
            security: i.security.flagged,
        })
        .collect();
    let history = store
        .problem_reviews(p.id)
        .await?
        .iter()
        .rev()
        .map(|r| review_view(r, &names))
        .collect();
    let statuses = crate::service_levels::pages::common::opts(
        ProblemStatus::ALL
            .iter()
            .filter(|s| **s == p.status || p.status.can_move_to(**s))
            .map(|s| (s.as_str().to_string(), s.label().to_string())),
        p.status.as_str(),
    );
    Ok(ProblemPage {
        title: format!("{} {}", p.reference, p.title),
        nav: Some(Nav::new(w, "/problems")),
        csrf: w.session.csrf_token.clone(),
        lv: LevelLabels::of(state),
        status_label: p.status.label(),
        statuses,
        services,
        assignees,
        service_name: p.service.map(name_of).unwrap_or_default(),
        assignee_name: who(p.assignee),
        cis,
        cis_text,
        needs_review,
        fixes,
        check,
        linked,
        history,
        can_manage,
        can_review,
        error,
        p,
    })
}

async fn load(state: &AppState, id: &str) -> Result<Problem, WebError> {
    Ok(state.store.problem(crate::http::page::path_id(id)?).await?)
}

pub async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadProblems)?;
    let p = load(&state, &id).await?;
    Ok(page(&state, &w, p, None, None).await?.into_response())
}

/// After an action: back to the page, or the page again with the message when the user
/// can correct it.
async fn finish(
    state: &AppState,
    w: &WebUser,
    id: &str,
    anchor: &str,
    result: custos_core::Outcome<()>,
    draft: Option<(FixKind, String)>,
) -> Result<Response, WebError> {
    match result {
        Ok(()) => Ok(see_other(&format!("/problems/{id}#{anchor}"))),
        Err(e) if crate::http::page::correctable(&e) => {
            let p = load(state, id).await?;
            let msg = form_message(&e, field_label);
            let page = page(state, w, p, draft, Some(msg)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn update(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageProblems)?;
    check_csrf(&form, &w.session)?;
    let before = load(&state, &id).await?;
    let result = async {
        let status = ProblemStatus::parse(form.get_or_empty("status"))?;
        let patch = ProblemPatch {
            title: Some(form.get_or_empty("title").to_string()),
            description: Some(form.get_or_empty("description").to_string()),
            status: (status != before.status).then_some(status),
            service: Some(optional_id::<CiId>(&form, "service")?),
            cis: Some(parse_cis(&state, form.get_or_empty("cis")).await?),
            assignee: Some(optional_id::<UserId>(&form, "assignee")?),
            root_cause: Some(form.get_or_empty("root_cause").to_string()),
            introduces_security_risk: Some(form.checked("introduces_security_risk")),
        };
        uc::update(
            state.store.as_ref(),
            &actor,
            &before,
            patch,
            Timestamp::now(),
        )
        .await?;
        Ok(())
    }
    .await;
    finish(&state, &w, &id, "details", result, None).await
}

pub async fn fix(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageProblems)?;
    check_csrf(&form, &w.session)?;
    let before = load(&state, &id).await?;
    let kind = FixKind::parse(form.get_or_empty("fix"))?;
    let text = form.get("text").map(str::to_string);
    let result = async {
        let store = state.store.as_ref();
        let now = Timestamp::now();
        let current = match &text {
            Some(t) => uc::set_text(store, &actor, &before, kind, t, now).await?,
            None => before.clone(),
        };
        match form.get_or_empty("action") {
            "save" => {}
            "submit" => {
                uc::submit(store, &actor, &current, kind, now).await?;
            }
            "publish" => {
                uc::publish(store, &actor, &current, kind, now).await?;
            }
            _ => {
                return Err(custos_core::Error::validation(
                    "action",
                    "choose save, submit or publish",
                ));
            }
        }
        Ok(())
    }
    .await;
    let draft = text.map(|t| (kind, t));
    finish(&state, &w, &id, kind.as_str(), result, draft).await
}

pub async fn review(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ApproveSecurity)?;
    check_csrf(&form, &w.session)?;
    let before = load(&state, &id).await?;
    let kind = FixKind::parse(form.get_or_empty("fix"))?;
    let result = async {
        let approve = match form.get_or_empty("decision") {
            "approve" => true,
            "reject" => false,
            _ => {
                return Err(custos_core::Error::validation(
                    "decision",
                    "approve or reject",
                ));
            }
        };
        let input = ReviewInput {
            approve,
            reasons: form.get_or_empty("reasons").to_string(),
            sla_requirements_met: form.checked("sla_requirements_met"),
            baseline_met: form.checked("baseline_met"),
            notes: form.get_or_empty("notes").to_string(),
        };
        uc::review(
            state.store.as_ref(),
            &actor,
            &before,
            kind,
            input,
            Timestamp::now(),
        )
        .await?;
        Ok(())
    }
    .await;
    finish(&state, &w, &id, kind.as_str(), result, None).await
}

/// An incident named in a form by reference (`INC-42`) or id, among those `w` may see.
async fn incident_of(state: &AppState, w: &WebUser, s: &str) -> custos_core::Outcome<IncidentId> {
    let s = s.trim();
    let viewer = uc::viewer(&w.principal);
    let found = match (
        s.parse::<IncidentId>(),
        custos_core::ticket::parse_reference(s),
    ) {
        (Ok(id), _) => state.store.incident(&viewer, id).await,
        (_, Some(n)) => state.store.incident_by_number(&viewer, n).await,
        _ => {
            return Err(custos_core::Error::validation(
                "incident",
                "give a reference like INC-000042",
            ));
        }
    };
    match found {
        Ok(i) => Ok(i.id),
        Err(StoreError::NotFound { .. }) => Err(custos_core::Error::validation(
            "incident",
            format!("there is no incident {s}"),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn incidents(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageProblems)?;
    check_csrf(&form, &w.session)?;
    let p = load(&state, &id).await?;
    let result = async {
        let link = match form.get_or_empty("action") {
            "link" => true,
            "unlink" => false,
            _ => return Err(custos_core::Error::validation("action", "link or unlink")),
        };
        let inc = incident_of(&state, &w, form.get_or_empty("incident")).await?;
        uc::link(state.store.as_ref(), &w.principal, &actor, &p, inc, link).await?;
        Ok(())
    }
    .await;
    finish(&state, &w, &id, "incidents", result, None).await
}

pub async fn apply(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageProblems)?;
    check_csrf(&form, &w.session)?;
    let p = load(&state, &id).await?;
    let result = async {
        p.check_applicable().map_err(uc::problem_error)?;
        let inc = incident_of(&state, &w, form.get_or_empty("incident")).await?;
        uc::apply(state.store.as_ref(), &w.principal, &actor, &p, inc).await?;
        Ok(())
    }
    .await;
    finish(&state, &w, &id, "apply", result, None).await
}
