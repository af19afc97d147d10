//! Administration pages: users (roles, department, disabled, tokens) and departments
//! (security profiles). Reading needs `read_users`/`read_departments`; changing needs
//! `manage_users`/`manage_departments`.

use crate::http::page::Nav;

use crate::http::page::WebError;

use crate::http::page::WebUser;

use crate::http::page::check_csrf;

use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::http::util::human;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::account::{
    Department, MonitoringLevel, NewDepartment, Role, Roles, SecurityProfile, User, UserPatch,
    check_name,
};
use custos_core::account::{guard_self_lockout, new_user};
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::{DepartmentId, Timestamp, TokenId, UserId};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/new", get(new_user_form))
        .route("/admin/users/{id}", get(user_form).post(update_user))
        .route(
            "/admin/users/{id}/tokens/{token}/revoke",
            post(revoke_user_token),
        )
        .route(
            "/admin/departments",
            get(departments).post(create_department),
        )
        .route("/admin/departments/new", get(new_department_form))
        .route(
            "/admin/departments/{id}",
            get(department_form).post(update_department),
        )
        .route("/admin/departments/{id}/delete", post(delete_department))
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub roles: String,
    pub department: String,
    pub mfa: bool,
    pub disabled: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/users.html")]
struct UsersPage {
    title: String,
    nav: Option<Nav>,
    users: Vec<UserRow>,
    can_manage: bool,
    next: Option<String>,
}

async fn department_names(state: &AppState) -> Result<Vec<Department>, WebError> {
    Ok(state
        .store
        .list_departments(PageRequest::first(500))
        .await?
        .items)
}

fn cursor(q: &std::collections::HashMap<String, String>) -> Option<Uuid> {
    q.get("cursor").and_then(|c| Uuid::parse_str(c).ok())
}

async fn users(
    State(state): State<AppState>,
    w: WebUser,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadUsers)?;
    let page = state
        .store
        .list_users(PageRequest::new(Some(100), cursor(&q)))
        .await?;
    let depts = department_names(&state).await?;
    let dept_name = |id: Option<DepartmentId>| {
        id.and_then(|id| depts.iter().find(|d| d.id == id))
            .map(|d| d.name.clone())
            .unwrap_or_else(|| "—".into())
    };
    Ok(UsersPage {
        title: "Users".into(),
        nav: Some(Nav::new(&w, "/admin/users")),
        users: page
            .items
            .iter()
            .map(|u| UserRow {
                id: u.id.to_string(),
                email: u.email.to_string(),
                display_name: u.display_name.clone(),
                roles: u
                    .roles
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                department: dept_name(u.department_id),
                mfa: u.mfa_enabled,
                disabled: u.disabled,
            })
            .collect(),
        can_manage: w.principal.has(Permission::ManageUsers),
        next: page.next_cursor.map(|c| c.to_string()),
    }
    .into_response())
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/user_form.html")]
struct UserFormPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    /// None when creating.
    id: Option<String>,
    email: String,
    display_name: String,
    roles: Vec<Opt>,
    departments: Vec<Opt>,
    disabled: bool,
    mfa: bool,
    can_manage: bool,
    tokens: Vec<TokenRow>,
    error: Option<String>,
}

fn role_opts(selected: &[Role]) -> Vec<Opt> {
    Role::ALL
        .iter()
        .map(|r| Opt {
            value: r.as_str().into(),
            label: r.label().into(),
            selected: selected.contains(r),
        })
        .collect()
}

fn dept_opts(depts: &[Department], selected: Option<DepartmentId>) -> Vec<Opt> {
    depts
        .iter()
        .map(|d| Opt {
            value: d.id.to_string(),
            label: d.name.clone(),
            selected: Some(d.id) == selected,
        })
        .collect()
}

async fn new_user_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageUsers)?;
    let depts = department_names(&state).await?;
    Ok(UserFormPage {
        title: "New user".into(),
        nav: Some(Nav::new(&w, "/admin/users")),
        csrf: w.session.csrf_token.clone(),
        id: None,
        email: String::new(),
        display_name: String::new(),
        roles: role_opts(&[Role::Requester]),
        departments: dept_opts(&depts, None),
        disabled: false,
        mfa: false,
        can_manage: true,
        tokens: vec![],
        error: None,
    }
    .into_response())
}

/// Roles and department from a user form.
fn form_roles_dept(form: &Form) -> Result<(Roles, Option<DepartmentId>), ApiError> {
    let roles = form
        .all("roles")
        .into_iter()
        .map(str::parse::<Role>)
        .collect::<Result<Vec<_>, _>>()?;
    let roles = Roles::new(roles)?;
    let dept = match form.get_or_empty("department_id") {
        "" => None,
        d => Some(DepartmentId(Uuid::parse_str(d).map_err(|_| {
            ApiError::validation("department_id", "is not a department")
        })?)),
    };
    Ok((roles, dept))
}

async fn create_user(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageUsers)?;
    check_csrf(&form, &w.session)?;
    let result = async {
        let (roles, dept) = form_roles_dept(&form)?;
        let new = new_user(
            form.get_or_empty("email"),
            form.get("display_name"),
            roles,
            dept,
            form.get_or_empty("password"),
        )?;
        Ok::<User, ApiError>(state.store.create_user(&actor, new).await?)
    }
    .await;
    match result {
        Ok(u) => Ok(see_other(&format!("/admin/users/{}", u.id))),
        Err(e) if crate::http::page::correctable(&e) => {
            let depts = department_names(&state).await?;
            let (roles, dept): (Vec<Role>, _) = form_roles_dept(&form)
                .map(|(r, d)| (r.iter().collect(), d))
                .unwrap_or_default();
            let page = UserFormPage {
                title: "New user".into(),
                nav: Some(Nav::new(&w, "/admin/users")),
                csrf: w.session.csrf_token.clone(),
                id: None,
                email: form.get_or_empty("email").into(),
                display_name: form.get_or_empty("display_name").into(),
                roles: role_opts(&roles),
                departments: dept_opts(&depts, dept),
                disabled: false,
                mfa: false,
                can_manage: true,
                tokens: vec![],
                error: Some(e.problem().detail),
            };
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_page(
    state: &AppState,
    w: &WebUser,
    u: &User,
    error: Option<String>,
) -> Result<UserFormPage, WebError> {
    let depts = department_names(state).await?;
    let can_manage = w.principal.has(Permission::ManageUsers);
    let tokens = if can_manage {
        state
            .store
            .list_tokens(u.id, PageRequest::first(200))
            .await?
            .items
    } else {
        vec![]
    };
    Ok(UserFormPage {
        title: u.display_name.clone(),
        nav: Some(Nav::new(w, "/admin/users")),
        csrf: w.session.csrf_token.clone(),
        id: Some(u.id.to_string()),
        email: u.email.to_string(),
        display_name: u.display_name.clone(),
        roles: role_opts(&u.roles.iter().collect::<Vec<_>>()),
        departments: dept_opts(&depts, u.department_id),
        disabled: u.disabled,
        mfa: u.mfa_enabled,
        can_manage,
        tokens: tokens
            .iter()
            .map(|t| TokenRow {
                id: t.id.to_string(),
                name: t.name.clone(),
                created: human(t.created_at),
                last_used: t.last_used_at.map(human).unwrap_or_else(|| "never".into()),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
        error,
    })
}

async fn user_form(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadUsers)?;
    let u = state
        .store
        .user(crate::http::page::path_id::<UserId>(&id)?)
        .await?;
    Ok(edit_page(&state, &w, &u, None).await?.into_response())
}

async fn update_user(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageUsers)?;
    check_csrf(&form, &w.session)?;
    let id = crate::http::page::path_id::<UserId>(&id)?;
    let result = async {
        let (roles, dept) = form_roles_dept(&form)?;
        let patch = UserPatch {
            display_name: Some(check_name(
                "display_name",
                form.get_or_empty("display_name"),
                100,
            )?),
            roles: Some(roles),
            department_id: Some(dept),
            disabled: Some(form.checked("disabled")),
        };
        guard_self_lockout(&w.principal, id, &patch)?;
        let user = state.store.update_user(&actor, id, patch).await?;
        state.auth_cache.forget_user(id);
        Ok::<User, ApiError>(user)
    }
    .await;
    match result {
        Ok(u) => Ok(see_other(&format!("/admin/users/{}", u.id))),
        Err(e) if crate::http::page::correctable(&e) => {
            let u = state.store.user(id).await?;
            Ok((
                StatusCode::BAD_REQUEST,
                edit_page(&state, &w, &u, Some(e.problem().detail)).await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_user_token(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, token)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageUsers)?;
    check_csrf(&form, &w.session)?;
    let uid = crate::http::page::path_id::<UserId>(&id)?;
    let tid: TokenId = crate::http::page::path_id(&token)?;
    state
        .store
        .revoke_token(&actor, uid, tid, Timestamp::now())
        .await?;
    state.auth_cache.forget_user(uid);
    Ok(see_other(&format!("/admin/users/{uid}")))
}

pub struct DeptRow {
    pub id: String,
    pub name: String,
    pub mfa_required: bool,
    pub lifetime: i64,
    pub idle: i64,
    pub two_approvals: bool,
    pub monitoring: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/departments.html")]
struct DepartmentsPage {
    title: String,
    nav: Option<Nav>,
    departments: Vec<DeptRow>,
    can_manage: bool,
}

async fn departments(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ReadDepartments)?;
    let depts = department_names(&state).await?;
    Ok(DepartmentsPage {
        title: "Departments".into(),
        nav: Some(Nav::new(&w, "/admin/departments")),
        departments: depts
            .iter()
            .map(|d| DeptRow {
                id: d.id.to_string(),
                name: d.name.clone(),
                mfa_required: d.profile.mfa_required,
                lifetime: d.profile.session_lifetime_minutes,
                idle: d.profile.idle_timeout_minutes,
                two_approvals: d.profile.access_two_approvals,
                monitoring: d.profile.monitoring_level.as_str(),
            })
            .collect(),
        can_manage: w.principal.has(Permission::ManageDepartments),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/department_form.html")]
struct DepartmentFormPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: Option<String>,
    name: String,
    description: String,
    mfa_required: bool,
    lifetime: String,
    idle: String,
    two_approvals: bool,
    levels: Vec<Opt>,
    can_manage: bool,
    error: Option<String>,
}

fn level_opts(selected: &str) -> Vec<Opt> {
    [
        ("standard", "Standard"),
        ("elevated", "Elevated"),
        ("high", "High"),
    ]
    .iter()
    .map(|(v, l)| Opt {
        value: (*v).into(),
        label: (*l).into(),
        selected: *v == selected,
    })
    .collect()
}

fn dept_page(
    w: &WebUser,
    id: Option<String>,
    d: (&str, &str, &SecurityProfile),
    can_manage: bool,
    error: Option<String>,
) -> DepartmentFormPage {
    let (name, description, p) = d;
    DepartmentFormPage {
        title: if id.is_some() {
            name.to_string()
        } else {
            "New department".into()
        },
        nav: Some(Nav::new(w, "/admin/departments")),
        csrf: w.session.csrf_token.clone(),
        id,
        name: name.into(),
        description: description.into(),
        mfa_required: p.mfa_required,
        lifetime: p.session_lifetime_minutes.to_string(),
        idle: p.idle_timeout_minutes.to_string(),
        two_approvals: p.access_two_approvals,
        levels: level_opts(p.monitoring_level.as_str()),
        can_manage,
        error,
    }
}

async fn new_department_form(w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageDepartments)?;
    Ok(dept_page(&w, None, ("", "", &SecurityProfile::default()), true, None).into_response())
}

fn form_department(form: &Form) -> Result<NewDepartment, ApiError> {
    let int = |field: &str| -> Result<i64, ApiError> {
        form.get_or_empty(field)
            .trim()
            .parse()
            .map_err(|_| ApiError::validation(field, "must be a whole number of minutes"))
    };
    let profile = SecurityProfile {
        mfa_required: form.checked("mfa_required"),
        session_lifetime_minutes: int("session_lifetime_minutes")?,
        idle_timeout_minutes: int("idle_timeout_minutes")?,
        access_two_approvals: form.checked("access_two_approvals"),
        monitoring_level: MonitoringLevel::parse(form.get_or_empty("monitoring_level"))?,
    };
    Ok(NewDepartment::new(
        form.get_or_empty("name"),
        form.get_or_empty("description"),
        profile,
    )?)
}

async fn save_department(
    state: &AppState,
    w: &WebUser,
    id: Option<DepartmentId>,
    form: &Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageDepartments)?;
    check_csrf(form, &w.session)?;
    let result = async {
        let d = form_department(form)?;
        Ok::<Department, ApiError>(match id {
            Some(id) => state.store.update_department(&actor, id, d).await?,
            None => state.store.create_department(&actor, d).await?,
        })
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/departments")),
        Err(e) if crate::http::page::correctable(&e) => {
            let fallback = SecurityProfile {
                mfa_required: form.checked("mfa_required"),
                access_two_approvals: form.checked("access_two_approvals"),
                ..SecurityProfile::default()
            };
            let mut page = dept_page(
                w,
                id.map(|i| i.to_string()),
                (
                    form.get_or_empty("name"),
                    form.get_or_empty("description"),
                    &fallback,
                ),
                true,
                Some(e.problem().detail),
            );
            page.lifetime = form.get_or_empty("session_lifetime_minutes").into();
            page.idle = form.get_or_empty("idle_timeout_minutes").into();
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_department(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    save_department(&state, &w, None, &form).await
}

async fn department_form(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadDepartments)?;
    let d = state
        .store
        .department(crate::http::page::path_id::<DepartmentId>(&id)?)
        .await?;
    let can = w.principal.has(Permission::ManageDepartments);
    Ok(dept_page(
        &w,
        Some(d.id.to_string()),
        (&d.name, &d.description, &d.profile),
        can,
        None,
    )
    .into_response())
}

async fn update_department(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    save_department(
        &state,
        &w,
        Some(crate::http::page::path_id::<DepartmentId>(&id)?),
        &form,
    )
    .await
}

async fn delete_department(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageDepartments)?;
    check_csrf(&form, &w.session)?;
    state
        .store
        .delete_department(&actor, crate::http::page::path_id::<DepartmentId>(&id)?)
        .await?;
    Ok(see_other("/admin/departments"))
}
