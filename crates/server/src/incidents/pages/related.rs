//! The forms of an incident's page about what hangs off it: files and evidence (multipart,
//! at most 10 MiB), the need-to-know list of a security incident, and links to other
//! incidents. Same order of checks as `incident_forms`: permission, CSRF, need-to-know.

use crate::http::extract::Form;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::state::AppState;
use crate::incidents::comms::existing_user;
use crate::incidents::pages::common::opt_id;
use crate::incidents::pages::forms::act;
use crate::incidents::pages::forms::spec;
use crate::incidents::viewer;
use crate::incidents::work::AttachmentParams;
use crate::incidents::work::MAX_ATTACHMENT_BYTES;
use crate::incidents::work::attach;
use crate::incidents::work::set_link;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::Response;
use axum::routing::post;
use custos_core::UserId;
use custos_core::authz::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{id}/attachments",
            post(upload).layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES + 64 * 1024)),
        )
        .route("/incidents/{id}/access", post(grant))
        .route("/incidents/{id}/access/{user}/delete", post(revoke))
        .route("/incidents/{id}/links", post(link))
        .route("/incidents/{id}/links/{other}/delete", post(unlink))
}

/// Uploads an attachment or evidence item (multipart, at most 10 MiB).
async fn upload(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let (form, file) = crate::http::page::read_upload(req, &state, "file").await?;
    let s = spec("upload", &["file", "description", "evidence"], "files");
    let (st, pr, f) = (&state, &w.principal, &form);
    act(st, &w, &id, f, s, move |inc| async move {
        let file = file
            .filter(|x| !x.bytes.is_empty())
            .ok_or_else(|| custos_core::Error::validation("file", "choose a file"))?;
        let p = AttachmentParams {
            file_name: file.name,
            evidence: f.checked("evidence"),
            description: f.get_or_empty("description").to_string(),
        };
        let inc_id = inc.id.to_string();
        let (ct, bytes) = (file.content_type, file.bytes);
        attach(st, pr, actor, &inc_id, &p, &ct, &bytes).await?;
        Ok("file")
    })
    .await
}

/// Adds a person to a security incident's need-to-know list.
async fn grant(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::HandleSecurityIncidents)?;
    let (st, f) = (&state, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("access", &["user"], "security"),
        move |inc| async move {
            let user: uuid::Uuid = opt_id(f, "user")?
                .ok_or_else(|| custos_core::Error::validation("user", "choose a person"))?;
            let user = existing_user(st, user).await?;
            st.store.grant_incident_access(&actor, inc.id, user).await?;
            Ok("access")
        },
    )
    .await
}

async fn revoke(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, user)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::HandleSecurityIncidents)?;
    let user: UserId = crate::http::page::path_id(&user)?;
    let (st, f) = (&state, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("access", &["user"], "security"),
        move |inc| async move {
            st.store
                .revoke_incident_access(&actor, inc.id, user)
                .await?;
            Ok("access")
        },
    )
    .await
}

/// Links another visible incident, named by its reference.
async fn link(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let other = form.get_or_empty("other").trim().to_string();
    let (st, pr, f) = (&state, &w.principal, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("link", &["other"], "links"),
        move |inc| async move {
            let v = viewer(pr);
            let o = crate::incidents::records::find(st, &v, &other)
                .await
                .map_err(|e| match e {
                    custos_core::Error::Validation { .. } | custos_core::Error::NotFound(_) => {
                        custos_core::Error::validation(
                            "other",
                            "no incident you may see has this reference",
                        )
                    }
                    e => e,
                })?;
            let (a, b) = (inc.id.to_string(), o.id.to_string());
            set_link(st, pr, actor, &a, &b, true).await?;
            Ok("linked")
        },
    )
    .await
}

async fn unlink(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, other)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageIncidents)?;
    let (st, pr, f) = (&state, &w.principal, &form);
    act(
        st,
        &w,
        &id,
        f,
        spec("link", &["other"], "links"),
        move |inc| async move {
            set_link(st, pr, actor, &inc.id.to_string(), &other, false).await?;
            Ok("unlinked")
        },
    )
    .await
}
