//! Support (assignment) groups: the list for those who work incidents (`/groups`) and for
//! administrators (`/admin/groups`, who manage groups without reading incidents), and the
//! group form (create, change, delete — `manage_groups`).

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::incidents::pages::common::FormProblem;
use crate::incidents::pages::common::field_label;
use crate::incidents::pages::common::name_of;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::user_names;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::account::Role;
use custos_core::authz::Permission;
use custos_core::ticket::{Group, GroupInput};
use custos_core::{GroupId, UserId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups", get(list).post(create))
        .route("/admin/groups", get(admin_list))
        .route("/groups/new", get(new_form))
        .route("/groups/{id}", get(edit_form).post(update))
        .route("/groups/{id}/delete", post(delete))
}

pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub lead: String,
    pub members: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/groups.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    rows: Vec<GroupRow>,
    can_manage: bool,
    flash: Option<&'static str>,
}

async fn list_page(
    state: &AppState,
    w: &WebUser,
    current: &str,
    raw: Option<String>,
) -> Result<Response, WebError> {
    let names = user_names(&all_users(state).await?);
    let mut groups = state.store.list_groups().await?;
    groups.sort_by_key(|g| g.name.to_lowercase());
    let rows = groups
        .into_iter()
        .map(|g| GroupRow {
            id: g.id.to_string(),
            lead: name_of(&names, g.lead),
            members: g
                .members
                .iter()
                .map(|m| name_of(&names, Some(*m)))
                .collect::<Vec<_>>()
                .join(", "),
            name: g.name,
            description: g.description,
        })
        .collect();
    Ok(ListPage {
        title: "Support groups".into(),
        nav: Some(Nav::new(w, current)),
        rows,
        can_manage: w.principal.has(Permission::ManageGroups),
        flash: crate::incidents::pages::common::flash(
            crate::http::page::query_map(raw).get("done"),
        ),
    }
    .into_response())
}

async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    list_page(&state, &w, "/incidents", raw).await
}

async fn admin_list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ManageGroups)?;
    list_page(&state, &w, "/admin/groups", raw).await
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/group.html")]
struct FormPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: Option<String>,
    name: String,
    description: String,
    leads: Vec<Opt>,
    members: Vec<Opt>,
    problem: Option<FormProblem>,
}

impl FormPage {
    fn invalid(&self, id: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.is(id))
    }
}

async fn form_page(
    state: &AppState,
    w: &WebUser,
    g: Option<&Group>,
    form: Option<&Form>,
    problem: Option<FormProblem>,
) -> Result<FormPage, WebError> {
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let lead = pick(
        "lead",
        g.and_then(|g| g.lead)
            .map(|l| l.to_string())
            .unwrap_or_default(),
    );
    let chosen: Vec<String> = match form {
        Some(f) => f.all("members").iter().map(|s| s.to_string()).collect(),
        None => g
            .map(|g| g.members.iter().map(|m| m.to_string()).collect())
            .unwrap_or_default(),
    };
    let users = all_users(state).await?;
    let people: Vec<_> = users
        .iter()
        .filter(|u| {
            let works = u.roles.contains(Role::Agent) || u.roles.contains(Role::SecurityManager);
            (works && !u.disabled) || chosen.contains(&u.id.to_string())
        })
        .collect();
    let opt = |u: &custos_core::account::User, selected: bool| Opt {
        value: u.id.to_string(),
        label: format!("{} ({})", u.display_name, u.email),
        selected,
    };
    Ok(FormPage {
        title: g
            .map(|g| g.name.clone())
            .unwrap_or_else(|| "New support group".into()),
        nav: Some(Nav::new(w, "/admin/groups")),
        csrf: w.session.csrf_token.clone(),
        id: g.map(|g| g.id.to_string()),
        name: pick("name", g.map(|g| g.name.clone()).unwrap_or_default()),
        description: pick(
            "description",
            g.map(|g| g.description.clone()).unwrap_or_default(),
        ),
        leads: people
            .iter()
            .map(|u| opt(u, u.id.to_string() == lead))
            .collect(),
        members: people
            .iter()
            .map(|u| opt(u, chosen.contains(&u.id.to_string())))
            .collect(),
        problem,
    })
}

async fn new_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageGroups)?;
    Ok(form_page(&state, &w, None, None, None)
        .await?
        .into_response())
}

async fn edit_form(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ManageGroups)?;
    let g = state.store.group(crate::http::page::path_id(&id)?).await?;
    Ok(form_page(&state, &w, Some(&g), None, None)
        .await?
        .into_response())
}

fn group_input(form: &Form) -> custos_core::Outcome<GroupInput> {
    let mut members = vec![];
    for m in form.all("members") {
        members.push(m.parse::<UserId>().map_err(|_| {
            custos_core::Error::validation("members", "choose people from the list")
        })?);
    }
    Ok(GroupInput {
        name: form.get_or_empty("name").to_string(),
        description: form.get_or_empty("description").to_string(),
        lead: crate::incidents::pages::common::opt_id(form, "lead")?,
        members,
    }
    .validate()?)
}

const FIELDS: [&str; 4] = ["name", "description", "lead", "members"];

async fn save(
    state: &AppState,
    w: &WebUser,
    id: Option<GroupId>,
    form: &Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageGroups)?;
    check_csrf(form, &w.session)?;
    let before = match id {
        Some(id) => Some(state.store.group(id).await?),
        None => None,
    };
    let result = async {
        let input = group_input(form)?;
        match id {
            Some(id) => state.store.update_group(&actor, id, input).await,
            None => state.store.create_group(&actor, input).await,
        }
        .map_err(crate::service_levels::pages::common::write_error)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/groups?done=group")),
        Err(e) if crate::http::page::correctable(&e) => {
            let p = FormProblem::new("group", &FIELDS, &e, field_label);
            let page = form_page(state, w, before.as_ref(), Some(form), Some(p)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    save(&state, &w, None, &form).await
}

async fn update(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    w.require(Permission::ManageGroups)?;
    save(&state, &w, Some(crate::http::page::path_id(&id)?), &form).await
}

async fn delete(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageGroups)?;
    check_csrf(&form, &w.session)?;
    state
        .store
        .delete_group(&actor, crate::http::page::path_id(&id)?)
        .await?;
    Ok(see_other("/admin/groups?done=group_deleted"))
}
