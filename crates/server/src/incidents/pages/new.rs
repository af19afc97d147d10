//! The form by which an agent records an incident (assigning it at once if they like);
//! the incident's page then shows the priority that impact and urgency gave it.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::Refusal as _;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::incidents::pages::common;
use crate::incidents::pages::common::FormProblem;
use crate::incidents::pages::common::Radio;
use crate::incidents::pages::common::field_label;
use crate::incidents::pages::common::group_opts;
use crate::incidents::pages::common::handler_opts;
use crate::incidents::records::create;
use crate::service_levels::pages::common::all_users;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use custos_core::authz::Permission;
use custos_core::incident::{Impact, IncidentFields, SECURITY_CATEGORIES, Urgency};
use custos_core::ticket::Channel;
use custos_core::{GroupId, UserId};

/// Categories offered while typing (any lowercase word is accepted).
pub const COMMON_CATEGORIES: [&str; 9] = [
    "hardware",
    "software",
    "network",
    "access",
    "email",
    "printing",
    "performance",
    "request",
    "other",
];

#[derive(Template, WebTemplate)]
#[template(path = "incidents/new.html")]
struct NewPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    v: Values,
    categories: Vec<&'static str>,
    impacts: Vec<Radio>,
    urgencies: Vec<Radio>,
    services: Vec<Opt>,
    cis: Vec<Opt>,
    groups: Vec<Opt>,
    assignees: Vec<Opt>,
    /// Whom the incident is reported for (active users; empty: the agent).
    reporters: Vec<Opt>,
    problem: Option<FormProblem>,
}

/// The text inputs of the new-incident form.
#[derive(Default)]
struct Values {
    title: String,
    description: String,
    category: String,
    cis_more: String,
}

async fn new_page(
    state: &AppState,
    w: &WebUser,
    form: Option<&Form>,
    problem: Option<FormProblem>,
) -> Result<NewPage, WebError> {
    let get = |k: &str| {
        form.map(|f| f.get_or_empty(k).to_string())
            .unwrap_or_default()
    };
    let chosen_cis: Vec<String> = form
        .map(|f| f.all("cis").iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    let users = all_users(state).await?;
    let groups = state.store.list_groups().await?;
    let impact = form.map(|f| f.get_or_empty("impact")).unwrap_or("medium");
    let urgency = form.map(|f| f.get_or_empty("urgency")).unwrap_or("medium");
    Ok(NewPage {
        title: "Record an incident".into(),
        nav: Some(Nav::new(w, "/incidents")),
        csrf: w.session.csrf_token.clone(),
        v: Values {
            title: get("title"),
            description: get("description"),
            category: get("category"),
            cis_more: get("cis_more"),
        },
        categories: COMMON_CATEGORIES
            .iter()
            .chain(SECURITY_CATEGORIES.iter())
            .copied()
            .collect(),
        impacts: common::impact_radios(impact, false),
        urgencies: common::urgency_radios(urgency, false),
        services: common::service_opts(state, &get("service")).await?,
        cis: common::ci_opts(state, &chosen_cis).await?,
        groups: group_opts(&groups, &get("group")),
        assignees: handler_opts(&users, &get("assignee")),
        reporters: {
            let mut people: Vec<(String, String)> = users
                .iter()
                .filter(|u| !u.disabled && u.id != w.principal.user_id)
                .map(|u| {
                    (
                        u.id.to_string(),
                        format!("{} ({})", u.display_name, u.email),
                    )
                })
                .collect();
            people.sort_by_key(|(_, n)| n.to_lowercase());
            crate::service_levels::pages::common::opts(people, &get("reporter"))
        },
        problem,
    })
}

pub async fn new_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageIncidents)?;
    Ok(new_page(&state, &w, None, None).await?.into_response())
}

/// The fields of a reporting form (agents' and the portal's).
pub async fn form_fields(state: &AppState, form: &Form) -> custos_core::Outcome<IncidentFields> {
    Ok(IncidentFields {
        title: form.get_or_empty("title").to_string(),
        description: form.get_or_empty("description").to_string(),
        category: form.get_or_empty("category").to_string(),
        impact: Impact::parse(form.get_or_empty("impact"))?,
        urgency: Urgency::parse(form.get_or_empty("urgency"))?,
        service: common::opt_id(form, "service")?,
        cis: common::form_cis(state, form).await?,
    })
}

pub const NEW_FIELDS: [&str; 11] = [
    "title",
    "description",
    "category",
    "impact",
    "urgency",
    "service",
    "cis",
    "cis_more",
    "group",
    "assignee",
    "reporter",
];

/// Records an incident from the agents' form; its page then shows the priority.
pub async fn record(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    check_csrf(&form, &w.session)?;
    let result = async {
        let fields = form_fields(&state, &form).await?;
        let group: Option<GroupId> = common::opt_id(&form, "group")?;
        let assignee: Option<UserId> = common::opt_id(&form, "assignee")?;
        let reporter: Option<UserId> = common::opt_id(&form, "reporter")?;
        create(
            &state,
            &w.principal,
            actor,
            fields,
            crate::incidents::records::Routing {
                group,
                assignee,
                reporter,
            },
            Channel::Web,
        )
        .await
    }
    .await;
    match result {
        // A report recognised as a security incident goes to the security team: unless
        // the agent has need-to-know, they follow it in the portal like any reporter.
        Ok(inc) => match state
            .store
            .incident(&crate::incidents::viewer(&w.principal), inc.id)
            .await
        {
            Ok(_) => Ok(see_other(&format!(
                "/incidents/{}?done=created",
                inc.reference
            ))),
            Err(custos_core::StoreError::NotFound { .. }) => Ok(see_other(&format!(
                "/portal/{}?done=reported",
                inc.reference
            ))),
            Err(e) => Err(e.into()),
        },
        Err(e) if crate::http::page::correctable(&e) => {
            let p = FormProblem::new("new", &NEW_FIELDS, &e, field_label);
            let page = new_page(&state, &w, Some(&form), Some(p)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

impl NewPage {
    fn invalid(&self, id: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.is(id))
    }
}
