//! The forms of an incident's page (files, need-to-know list and links are in
//! `incident_related`). Each checks its permission first (refusals are 403
//! whatever was sent), then the CSRF token, then finds the incident under need-to-know, and
//! calls the same use case as the API. Success returns to the page with a message; input
//! the user can correct shows the page again with an error summary linking to the field.

use crate::http::page::Refusal as _;
use crate::incidents::pages::common::FormProblem;

use crate::incidents::pages::common::field_label;

use crate::incidents::pages::common::load;

use crate::http::extract::Form;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::incidents::comms::decide;
use crate::incidents::comms::note;
use crate::incidents::pages::common::opt_id;
use crate::incidents::pages::detail::detail_page;
use crate::incidents::records::update;
use crate::incidents::viewer;
use crate::incidents::work::advance_phase;
use crate::incidents::work::declare;
use crate::incidents::work::flag_incident;
use crate::incidents::work::record_action;
use crate::incidents::work::unflag_incident;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use custos_core::authz::Permission;
use custos_core::incident::{Impact, NoteKind, Status, Urgency};
use custos_core::procedure::{ActionKind, Phase};
use custos_core::ticket::{Audience, CommStatus, Incident, IncidentPatch, NoteInput};
use custos_core::{StoreError, UserId};
use std::future::Future;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/flag", post(flag))
        .route("/incidents/{id}/unflag", post(unflag))
        .route("/incidents/{id}/phase", post(phase))
        .route("/incidents/{id}/major", post(major))
        .route("/incidents/{id}/steps", post(step))
        .route("/incidents/{id}/notes", post(add_note))
        .route("/incidents/{id}/notes/{note}/approve", post(approve))
        .route("/incidents/{id}/notes/{note}/reject", post(reject))
}

/// Which form was sent: its name (the prefix of its input ids), its fields, and the part of
/// the page to return to.
pub(super) struct Spec {
    name: String,
    fields: &'static [&'static str],
    anchor: &'static str,
}

pub(super) fn spec(name: &str, fields: &'static [&'static str], anchor: &'static str) -> Spec {
    Spec {
        name: name.to_string(),
        fields,
        anchor,
    }
}

/// Runs `run` on the visible incident `id` (it gets the incident's id) and answers.
pub(super) async fn act<F, Fut>(
    state: &AppState,
    w: &WebUser,
    id: &str,
    form: &Form,
    s: Spec,
    run: F,
) -> Result<Response, WebError>
where
    F: FnOnce(Incident) -> Fut,
    Fut: Future<Output = custos_core::Outcome<&'static str>>,
{
    check_csrf(form, &w.session)?;
    let v = viewer(&w.principal);
    let inc = load(state, &v, id).await?;
    let (inc_id, reference) = (inc.id, inc.reference.clone());
    match run(inc).await {
        Ok(done) => match state.store.incident(&v, inc_id).await {
            Ok(_) => Ok(see_other(&format!(
                "/incidents/{reference}?done={done}#{}",
                s.anchor
            ))),
            // Flagged by someone without need-to-know: the security team has it now.
            Err(StoreError::NotFound { .. }) => Ok(see_other("/incidents?done=hidden")),
            Err(e) => Err(e.into()),
        },
        Err(e) if crate::http::page::correctable(&e) => {
            let inc = load(state, &v, &inc_id.to_string()).await?;
            let problem = FormProblem::new(&s.name, s.fields, &e, field_label);
            let page =
                detail_page(state, w, inc, None, Some(problem), Some((&s.name, form))).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

const EDIT_FIELDS: &[&str] = &[
    "status",
    "resolution",
    "group",
    "assignee",
    "title",
    "description",
    "category",
    "impact",
    "urgency",
    "service",
    "cis",
    "cis_more",
];

fn patch_of(form: &Form) -> custos_core::Outcome<IncidentPatch> {
    Ok(IncidentPatch {
        title: Some(form.get_or_empty("title").to_string()),
        description: Some(form.get_or_empty("description").to_string()),
        category: Some(form.get_or_empty("category").to_string()),
        impact: Some(Impact::parse(form.get_or_empty("impact"))?),
        urgency: Some(Urgency::parse(form.get_or_empty("urgency"))?),
        service: Some(opt_id(form, "service")?),
        cis: None,
        group: Some(opt_id(form, "group")?),
        assignee: Some(opt_id(form, "assignee")?),
        status: Some(Status::parse(form.get_or_empty("status"))?),
        resolution: Some(form.get_or_empty("resolution").to_string()),
    })
}

/// Changes fields, assignment and status (only the allowed next statuses are offered).
pub async fn edit(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let (st, pr, f) = (&state, &w.principal, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("edit", EDIT_FIELDS, "summary-title"),
        move |inc| async move {
            let mut patch = patch_of(f)?;
            patch.cis = Some(crate::incidents::pages::common::form_cis(st, f).await?);
            update(st, pr, actor, &inc.id.to_string(), patch).await?;
            Ok("saved")
        },
    )
    .await
}

async fn flag(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let why = form.get_or_empty("reason").to_string();
    let (st, pr, f) = (&state, &w.principal, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("flag", &["reason"], "security"),
        move |inc| async move {
            flag_incident(st, pr, actor, &inc.id.to_string(), &why).await?;
            Ok("flagged")
        },
    )
    .await
}

async fn unflag(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::HandleSecurityIncidents)?;
    let why = form.get_or_empty("reason").to_string();
    let (st, pr, f) = (&state, &w.principal, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("unflag", &["reason"], "security"),
        move |inc| async move {
            unflag_incident(st, pr, actor, &inc.id.to_string(), &why).await?;
            Ok("unflagged")
        },
    )
    .await
}

async fn phase(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let to = form.get_or_empty("phase").to_string();
    let (st, pr, f) = (&state, &w.principal, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("phase", &["phase"], "security"),
        move |inc| async move {
            let to = Phase::parse(&to)?;
            advance_phase(st, pr, actor, &inc.id.to_string(), to).await?;
            Ok("phase")
        },
    )
    .await
}

async fn major(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let s = spec("major", &["lead", "cadence_minutes"], "major");
    let (st, pr, f) = (&state, &w.principal, &form);
    act(st, &w, &id, f, s, move |inc| async move {
        let lead: UserId = opt_id(f, "lead")?
            .ok_or_else(|| custos_core::Error::validation("lead", "choose the incident lead"))?;
        let cadence = f
            .get_or_empty("cadence_minutes")
            .trim()
            .parse::<u32>()
            .map_err(|_| {
                custos_core::Error::validation("cadence_minutes", "must be a whole number")
            })?;
        declare(st, pr, actor, &inc.id.to_string(), lead, cadence).await?;
        Ok("major")
    })
    .await
}

async fn step(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let s = spec("step", &["kind", "body", "ci"], "steps");
    let (st, pr, f) = (&state, &w.principal, &form);
    act(st, &w, &id, f, s, move |inc| async move {
        let kind = ActionKind::parse(f.get_or_empty("kind"))?;
        let ci = opt_id(f, "ci")?;
        let (p, body) = (pr, f.get_or_empty("body"));
        record_action(st, p, actor, &inc.id.to_string(), kind, body, ci).await?;
        Ok("step")
    })
    .await
}

fn note_input(form: &Form) -> custos_core::Outcome<NoteInput> {
    let audience =
        match form.get_or_empty("audience").trim() {
            "" => None,
            a => Some(Audience::parse(a).ok_or_else(|| {
                custos_core::Error::validation("audience", "choose from the list")
            })?),
        };
    Ok(NoteInput {
        kind: NoteKind::parse(form.get_or_empty("kind"))?,
        body: form.get_or_empty("body").to_string(),
        audience,
        recipient: form.get_or_empty("recipient").to_string(),
    })
}

/// Adds a work note, public comment or external communication (a draft awaiting a
/// security manager on a security incident).
async fn add_note(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let s = spec("note", &["body", "kind", "audience", "recipient"], "log");
    let (st, pr, f) = (&state, &w.principal, &form);
    act(st, &w, &id, f, s, move |inc| async move {
        let n = note(st, pr, actor, &inc.id.to_string(), note_input(f)?).await?;
        Ok(if n.status == CommStatus::Draft {
            "draft"
        } else {
            "note"
        })
    })
    .await
}

async fn decision(
    state: AppState,
    w: WebUser,
    (id, note_id): (String, String),
    form: Form,
    approve: bool,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ApproveSecurity)?;
    let s = spec(&format!("decide-{note_id}"), &["reason"], "log");
    let reason = form.get_or_empty("reason").to_string();
    let (st, pr, f) = (&state, &w.principal, &form);
    act(st, &w, &id, f, s, move |inc| async move {
        let inc_id = inc.id.to_string();
        decide(st, pr, actor, &inc_id, &note_id, approve, &reason).await?;
        Ok(if approve { "approved" } else { "rejected" })
    })
    .await
}

async fn approve(
    State(state): State<AppState>,
    w: WebUser,
    Path(ids): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    decision(state, w, ids, form, true).await
}

async fn reject(
    State(state): State<AppState>,
    w: WebUser,
    Path(ids): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    decision(state, w, ids, form, false).await
}
