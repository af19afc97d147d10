//! An incident's page: every field, the SLA clocks, the security section (recognition
//! reasons, manual flag and unflag, the procedure stepper with what the current phase still
//! needs, steps, need-to-know list), the major incident section, links, the communications
//! log with approval of external communications, files and evidence — and the forms that
//! act on it (handled in `incident_forms`). Also the timeline and downloads.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::state::AppState;
use crate::http::util::file_response;
use crate::http::util::human;
use crate::incidents::pages::common;
use crate::incidents::pages::common::CiRef;
use crate::incidents::pages::common::ClockView;
use crate::incidents::pages::common::FormProblem;
use crate::incidents::pages::common::ci_names;
use crate::incidents::pages::common::ci_refs;
use crate::incidents::pages::common::clocks;
use crate::incidents::pages::common::flash;
use crate::incidents::pages::common::handler_opts;
use crate::incidents::pages::common::load;
use crate::incidents::pages::common::name_of;
use crate::incidents::pages::common::status_label;
use crate::incidents::pages::view::AccessRow;
use crate::incidents::pages::view::ActionRow;
use crate::incidents::pages::view::Decision;
use crate::incidents::pages::view::Edit;
use crate::incidents::pages::view::FileRow;
use crate::incidents::pages::view::LinkRow;
use crate::incidents::pages::view::MajorView;
use crate::incidents::pages::view::NoteRow;
use crate::incidents::pages::view::ProblemRow;
use crate::incidents::pages::view::Step;
use crate::incidents::pages::view::access_rows;
use crate::incidents::pages::view::action_rows;
use crate::incidents::pages::view::decision;
use crate::incidents::pages::view::edit_inputs;
use crate::incidents::pages::view::file_rows;
use crate::incidents::pages::view::link_rows;
use crate::incidents::pages::view::note_rows;
use crate::incidents::pages::view::problem_rows;
use crate::incidents::pages::view::stepper;
use crate::incidents::pages::view::still_missing;
use crate::incidents::viewer;
use crate::incidents::work::recorded;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::user_names;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use custos_core::authz::Permission;
use custos_core::procedure::ActionKind;
use custos_core::ticket::Incident;
use custos_core::{Timestamp, UserId};
use std::collections::HashMap;

#[derive(Template, WebTemplate)]
#[template(path = "incidents/detail.html")]
pub struct DetailPage {
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub i: Incident,
    pub impact: String,
    pub urgency: String,
    pub status: &'static str,
    pub service: Option<CiRef>,
    pub cis: Vec<CiRef>,
    pub group: String,
    pub assignee: String,
    pub reporter: String,
    pub created: String,
    pub updated: String,
    pub responded: String,
    pub resolved: String,
    pub closed: String,
    pub clocks: Vec<ClockView>,
    pub sla_link: Option<String>,
    pub reasons: Vec<String>,
    pub manual_flag: Option<Decision>,
    pub unflagged: Option<Decision>,
    pub steps: Vec<Step>,
    pub phase: Option<&'static str>,
    pub next_phase: Option<(&'static str, &'static str)>,
    pub missing: Vec<String>,
    pub actions: Vec<ActionRow>,
    pub step_kinds: Vec<Opt>,
    pub step_cis: Vec<Opt>,
    pub major: Option<MajorView>,
    pub leads: Vec<Opt>,
    pub links: Vec<LinkRow>,
    /// Problems linked to the incident, and known errors of its service (empty without
    /// the permission to read problems).
    pub problems: Vec<ProblemRow>,
    pub known_errors: Vec<ProblemRow>,
    /// May apply a known error's workaround (work on problems).
    pub can_apply: bool,
    pub notes: Vec<NoteRow>,
    pub files: Vec<FileRow>,
    pub access: Vec<AccessRow>,
    pub access_opts: Vec<Opt>,
    pub edit: Edit,
    pub categories: Vec<&'static str>,
    pub audiences: Vec<Opt>,
    pub can_manage: bool,
    pub can_handle: bool,
    pub can_approve: bool,
    pub flash: Option<&'static str>,
    pub problem: Option<FormProblem>,
    /// Inputs of a refused form, by field id (`note-body`), to show them again.
    pub sticky: HashMap<String, String>,
}

impl DetailPage {
    fn invalid(&self, id: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.is(id))
    }

    /// A refused form's value for the input with this id.
    fn val(&self, id: &str) -> &str {
        self.sticky.get(id).map(String::as_str).unwrap_or("")
    }
}

/// The page of a visible incident. `posted` is a refused form: its name (the prefix of
/// its input ids) and what was sent.
pub async fn detail_page(
    state: &AppState,
    w: &WebUser,
    inc: Incident,
    flash: Option<&'static str>,
    problem: Option<FormProblem>,
    posted: Option<(&str, &Form)>,
) -> Result<DetailPage, WebError> {
    let p = &w.principal;
    let v = viewer(p);
    let now = Timestamp::now();
    let users = all_users(state).await?;
    let names = user_names(&users);
    let groups = state.store.list_groups().await?;
    let mut ci_ids = inc.cis.clone();
    ci_ids.extend(inc.service);
    let cnames = ci_names(state, &ci_ids).await?;
    let rec = recorded(state, &inc).await?;
    let sticky: HashMap<String, String> = posted
        .map(|(name, f)| {
            f.0.iter()
                .filter(|(k, _)| k != "csrf")
                .map(|(k, v)| (format!("{name}-{k}"), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let edit_form = posted.filter(|(n, _)| *n == "edit").map(|(_, f)| f);
    // Outside the security team, a security incident is handed on only to people who
    // already have need-to-know (the API refuses others): offer only them.
    let handlers: Vec<custos_core::account::User> = if inc.security.flagged
        && !p.has(custos_core::authz::Permission::HandleSecurityIncidents)
    {
        let listed = state.store.incident_access(inc.id).await?;
        users
            .iter()
            .filter(|u| {
                u.roles
                    .contains(custos_core::account::Role::SecurityManager)
                    || Some(u.id) == inc.assignee
                    || listed.iter().any(|(x, _)| *x == u.id)
            })
            .cloned()
            .collect()
    } else {
        users.clone()
    };
    let edit = edit_inputs(state, &inc, &handlers, &groups, edit_form).await?;
    let phase = inc.security.phase.filter(|_| inc.security.flagged);
    let step_kinds = ActionKind::ALL
        .iter()
        .filter(|k| {
            (k.is_security() && inc.security.flagged) || (!k.is_security() && inc.major.is_some())
        })
        .map(|k| (k.as_str().to_string(), k.label().to_string()));
    let (access, access_opts) = access_rows(state, &inc, &users, &names).await?;
    let (problems, known_errors) = if p.has(Permission::ReadProblems) {
        problem_rows(state, &inc).await?
    } else {
        (vec![], vec![])
    };
    Ok(DetailPage {
        title: format!("{}: {}", inc.reference, inc.title),
        nav: Some(Nav::new(w, "/incidents")),
        csrf: w.session.csrf_token.clone(),
        impact: format!(
            "{} — {}",
            inc.impact.as_str(),
            common::impact_words(inc.impact)
        ),
        urgency: format!(
            "{} — {}",
            inc.urgency.as_str(),
            common::urgency_words(inc.urgency)
        ),
        status: status_label(inc.status),
        service: inc.service.map(|s| ci_refs(&[s], &cnames).remove(0)),
        cis: ci_refs(&inc.cis, &cnames),
        group: inc
            .group
            .and_then(|g| groups.iter().find(|x| x.id == g).map(|x| x.name.clone()))
            .unwrap_or_else(|| "—".into()),
        assignee: name_of(&names, inc.assignee),
        reporter: name_of(&names, Some(inc.reporter)),
        created: human(inc.created_at),
        updated: human(inc.updated_at),
        responded: inc.responded_at.map(human).unwrap_or_else(|| "—".into()),
        resolved: inc.resolved_at.map(human).unwrap_or_else(|| "—".into()),
        closed: inc.closed_at.map(human).unwrap_or_else(|| "—".into()),
        clocks: clocks(&inc),
        sla_link: inc
            .sla
            .filter(|_| p.has(Permission::ReadServiceLevels))
            .map(|s| s.to_string()),
        reasons: inc
            .security
            .reasons
            .iter()
            .map(custos_core::recognition::describe)
            .collect(),
        manual_flag: decision(&inc.security.manual_flag, &names),
        unflagged: decision(&inc.security.unflagged, &names),
        steps: stepper(phase),
        phase: phase.map(|p| p.label()),
        next_phase: phase
            .and_then(|p| p.next())
            .map(|n| (n.as_str(), n.label())),
        missing: still_missing(phase, &rec, &cnames),
        actions: action_rows(state, &inc, &names, &cnames).await?,
        step_kinds: opts(step_kinds, ""),
        step_cis: opts(
            ci_refs(&rec.affected, &cnames)
                .into_iter()
                .map(|c| (c.id, c.name)),
            "",
        ),
        major: inc.major.as_ref().map(|m| MajorView {
            lead: name_of(&names, Some(m.lead)),
            cadence: m.cadence_minutes,
            declared: human(m.declared_at),
            next_due: human(m.next_update_due),
            overdue: inc.status.is_open() && m.next_update_due < now,
            reviewed: m.reviewed,
        }),
        leads: handler_opts(&users, &p.user_id.to_string()),
        links: link_rows(state, &v, &inc).await?,
        problems,
        known_errors,
        can_apply: p.has(Permission::ManageProblems),
        notes: note_rows(state, &inc, &names).await?,
        files: file_rows(state, &inc, &names).await?,
        access,
        access_opts,
        edit,
        categories: crate::incidents::pages::new::COMMON_CATEGORIES
            .iter()
            .chain(custos_core::incident::SECURITY_CATEGORIES.iter())
            .copied()
            .collect(),
        audiences: opts(
            custos_core::ticket::Audience::ALL
                .iter()
                .map(|a| (a.as_str().to_string(), a.as_str().to_string())),
            sticky
                .get("note-audience")
                .map(String::as_str)
                .unwrap_or(""),
        ),
        can_manage: p.has(Permission::ManageIncidents),
        can_handle: p.has(Permission::HandleSecurityIncidents),
        can_approve: p.has(Permission::ApproveSecurity),
        flash,
        problem,
        sticky,
        i: inc,
    })
}

pub async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    let inc = load(&state, &viewer(&w.principal), &id).await?;
    let done = crate::http::page::query_map(raw).remove("done");
    Ok(
        detail_page(&state, &w, inc, flash(done.as_ref()), None, None)
            .await?
            .into_response(),
    )
}

pub struct TimelineRow {
    pub at: String,
    pub source: String,
    pub actor: String,
    pub what: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/timeline.html")]
struct TimelinePage {
    title: String,
    nav: Option<Nav>,
    reference: String,
    rows: Vec<TimelineRow>,
}

/// Everything that happened to an incident, oldest first.
pub async fn timeline(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    let inc = load(&state, &viewer(&w.principal), &id).await?;
    let entries =
        crate::incidents::comms::timeline_of(&state, &w.principal, &inc.id.to_string()).await?;
    let names = user_names(&all_users(&state).await?);
    let rows = entries
        .into_iter()
        .map(|e| TimelineRow {
            at: human(e.at),
            actor: e
                .actor
                .parse::<UserId>()
                .ok()
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or(e.actor),
            source: e.source,
            what: e.what,
            detail: e.detail,
        })
        .collect();
    Ok(TimelinePage {
        title: format!("Timeline of {}", inc.reference),
        nav: Some(Nav::new(&w, "/incidents")),
        reference: inc.reference,
        rows,
    }
    .into_response())
}

/// Downloads an attachment or evidence item (as the API: `read_incidents` and need-to-know).
pub async fn download(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, attachment)): Path<(String, String)>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    let inc = load(&state, &viewer(&w.principal), &id).await?;
    let (meta, content) = state
        .store
        .attachment_content(inc.id, crate::http::page::path_id(&attachment)?)
        .await?;
    Ok(file_response(&meta.file_name, &meta.sha256, content))
}
