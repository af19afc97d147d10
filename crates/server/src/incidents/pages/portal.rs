//! The requester portal: everyone reports a problem in plain words and follows their own
//! reports. The portal shows only what the caller reported (whatever their roles) and only
//! public comments — no work notes, no security analysis, nobody else's incidents.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::Refusal as _;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::http::util::human;
use crate::incidents::comms::note;
use crate::incidents::pages::common;
use crate::incidents::pages::common::FormProblem;
use crate::incidents::pages::common::PAGE;
use crate::incidents::pages::common::Radio;
use crate::incidents::pages::common::field_label;
use crate::incidents::pages::common::flash;
use crate::incidents::pages::common::load;
use crate::incidents::pages::common::status_label;
use crate::incidents::pages::new::form_fields;
use crate::incidents::records::create;
use crate::incidents::viewer;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::user_names;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::{Permission, Principal};
use custos_core::incident::NoteKind;
use custos_core::page::PageRequest;
use custos_core::ticket::{Channel, Incident, IncidentFilter, NoteInput, Viewer};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(portal).post(report))
        .route("/portal/{id}", get(show))
        .route("/portal/{id}/comments", post(comment))
}

/// The portal's viewer: the caller's own reports only, even for agents.
fn own(p: &Principal) -> Viewer {
    Viewer {
        own_only: true,
        ..viewer(p)
    }
}

/// Categories a reporter chooses from, in plain words.
const CATEGORIES: [(&str, &str); 9] = [
    ("hardware", "Computer, printer, phone or other device"),
    ("software", "A program or application"),
    ("network", "Network, Wi-Fi or internet"),
    ("access", "Signing in, passwords or access rights"),
    ("email", "E-mail or calendar"),
    ("phishing", "A suspicious e-mail, message or call"),
    ("data_leak", "Information went to the wrong people"),
    ("lost_device", "A lost or stolen device"),
    ("other", "Something else"),
];

pub struct ReportRow {
    pub reference: String,
    pub title: String,
    pub status: &'static str,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/portal.html")]
struct PortalPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    report_title: String,
    description: String,
    categories: Vec<Opt>,
    impacts: Vec<Radio>,
    urgencies: Vec<Radio>,
    services: Vec<Opt>,
    rows: Vec<ReportRow>,
    next: Option<String>,
    /// Incidents others reported that this user was given sight of (the SLA's authorised
    /// personnel, people the security team added), newest first.
    shared: Vec<ReportRow>,
    flash: Option<&'static str>,
    problem: Option<FormProblem>,
    notices: Vec<crate::announcements::pages::notices::Notice>,
}

impl PortalPage {
    fn invalid(&self, id: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.is(id))
    }
}

async fn portal_page(
    state: &AppState,
    w: &WebUser,
    cursor: Option<uuid::Uuid>,
    form: Option<&Form>,
    problem: Option<FormProblem>,
) -> Result<PortalPage, WebError> {
    let get = |k: &str| {
        form.map(|f| f.get_or_empty(k).to_string())
            .unwrap_or_default()
    };
    let mine = IncidentFilter {
        reporter: Some(w.principal.user_id),
        ..Default::default()
    };
    let page = state
        .store
        .list_incidents(
            &own(&w.principal),
            &mine,
            PageRequest::new(Some(PAGE), cursor),
        )
        .await?;
    let shared = IncidentFilter {
        authorised: Some(w.principal.user_id),
        ..Default::default()
    };
    let shared = state
        .store
        .list_incidents(
            &own(&w.principal),
            &shared,
            PageRequest::new(Some(PAGE), None),
        )
        .await?;
    let row = |i: custos_core::ticket::Incident| ReportRow {
        status: status_label(i.status),
        updated: human(i.updated_at),
        reference: i.reference,
        title: i.title,
    };
    Ok(PortalPage {
        title: "Report a problem".into(),
        nav: Some(Nav::new(w, "/portal")),
        csrf: w.session.csrf_token.clone(),
        report_title: get("title"),
        description: get("description"),
        categories: opts(
            CATEGORIES
                .iter()
                .map(|(v, l)| (v.to_string(), l.to_string())),
            &get("category"),
        ),
        impacts: common::impact_radios(&get("impact"), true),
        urgencies: common::urgency_radios(&get("urgency"), true),
        services: common::service_opts(state, &get("service")).await?,
        rows: page.items.into_iter().map(row).collect(),
        next: page.next_cursor.map(|c| c.to_string()),
        shared: shared
            .items
            .into_iter()
            .filter(|i| i.reporter != w.principal.user_id)
            .map(row)
            .collect(),
        flash: None,
        problem,
        notices: crate::announcements::pages::notices::notices(
            state,
            &w.principal,
            custos_core::Timestamp::now(),
        )
        .await?,
    })
}

async fn portal(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReportIncidents)?;
    let q = crate::http::page::query_map(raw);
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let page = portal_page(&state, &w, cursor, None, None).await?;
    Ok(PortalPage {
        flash: flash(q.get("done")),
        ..page
    }
    .into_response())
}

const REPORT_FIELDS: [&str; 6] = [
    "title",
    "description",
    "category",
    "impact",
    "urgency",
    "service",
];

async fn report(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ReportIncidents)?;
    check_csrf(&form, &w.session)?;
    let result = async {
        if !CATEGORIES
            .iter()
            .any(|(c, _)| *c == form.get_or_empty("category"))
        {
            return Err(custos_core::Error::validation(
                "category",
                "choose what it is about",
            ));
        }
        for (field, what) in [
            ("impact", "who is affected"),
            ("urgency", "how urgent it is"),
        ] {
            if form.get_or_empty(field).is_empty() {
                return Err(custos_core::Error::validation(field, format!("say {what}")));
            }
        }
        // The portal names no CIs: only what the form shows is taken.
        let fields = form_fields(&state, &portal_form(&form)).await?;
        create(
            &state,
            &w.principal,
            actor,
            fields,
            crate::incidents::records::Routing::default(),
            Channel::Portal,
        )
        .await
    }
    .await;
    match result {
        Ok(inc) => Ok(see_other(&format!(
            "/portal/{}?done=reported",
            inc.reference
        ))),
        Err(e) if crate::http::page::correctable(&e) => {
            let p = FormProblem::new("report", &REPORT_FIELDS, &e, field_label);
            let page = portal_page(&state, &w, None, Some(&form), Some(p)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The portal form's own fields (anything else sent is ignored).
fn portal_form(form: &Form) -> Form {
    Form(
        REPORT_FIELDS
            .iter()
            .map(|k| (k.to_string(), form.get_or_empty(k).to_string()))
            .collect(),
    )
}

pub struct CommentRow {
    pub author: String,
    pub at: String,
    pub body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/portal_report.html")]
struct ReportPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    i: Incident,
    status: &'static str,
    reported: String,
    updated: String,
    service: String,
    comments: Vec<CommentRow>,
    comment: String,
    flash: Option<&'static str>,
    problem: Option<FormProblem>,
}

impl ReportPage {
    fn invalid(&self, id: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.is(id))
    }
}

async fn report_page(
    state: &AppState,
    w: &WebUser,
    inc: Incident,
    comment: &str,
    flash: Option<&'static str>,
    problem: Option<FormProblem>,
) -> Result<ReportPage, WebError> {
    let names = user_names(&all_users(state).await?);
    let comments = state
        .store
        .notes(inc.id, true)
        .await?
        .into_iter()
        .filter(|n| n.kind == NoteKind::PublicComment)
        .map(|n| CommentRow {
            author: if n.author == Some(inc.reporter) {
                "You".into()
            } else {
                common::name_of(&names, n.author)
            },
            at: human(n.created_at),
            body: n.body,
        })
        .collect();
    let service = match inc.service {
        Some(s) => common::ci_names(state, &[s])
            .await?
            .remove(&s)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(ReportPage {
        title: format!("{}: {}", inc.reference, inc.title),
        nav: Some(Nav::new(w, "/portal")),
        csrf: w.session.csrf_token.clone(),
        status: status_label(inc.status),
        reported: human(inc.created_at),
        updated: human(inc.updated_at),
        service,
        comments,
        comment: comment.to_string(),
        flash,
        problem,
        i: inc,
    })
}

async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReportIncidents)?;
    let inc = load(&state, &own(&w.principal), &id).await?;
    let done = crate::http::page::query_map(raw).remove("done");
    Ok(report_page(&state, &w, inc, "", flash(done.as_ref()), None)
        .await?
        .into_response())
}

/// Adds a public comment to one's own report.
async fn comment(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ReportIncidents)?;
    check_csrf(&form, &w.session)?;
    let inc = load(&state, &own(&w.principal), &id).await?;
    let input = NoteInput {
        kind: NoteKind::PublicComment,
        body: form.get_or_empty("body").to_string(),
        audience: None,
        recipient: String::new(),
    };
    match note(&state, &w.principal, actor, &inc.id.to_string(), input).await {
        Ok(_) => Ok(see_other(&format!(
            "/portal/{}?done=comment#comments",
            inc.reference
        ))),
        Err(e) if crate::http::page::correctable(&e) => {
            let p = FormProblem::new("comment", &["body"], &e, field_label);
            let body = form.get_or_empty("body");
            let page = report_page(&state, &w, inc, body, None, Some(p)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
