//! The workaround and the permanent solution of a problem, and the security review gate:
//! `/problems/{id}/workaround` and `/problems/{id}/solution` (text), `…/submit` (ask a
//! security manager), `…/review` (security managers only), `…/publish` (refused while a
//! needed approval is missing), and `/problems/{id}/security-check`.

use crate::problems::api::records::ProblemOut;

use crate::problems::api::records::load;

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiResult;
use crate::http::error::Problem as ProblemJson;
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::problems as uc;
use crate::problems::api::records::problem_out;
use axum::extract::{Path, State};
use custos_core::Timestamp;
use custos_core::authz::{Actor, Principal};
use custos_core::problem::{FixKind, ReviewInput, SecurityCheck};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_workaround))
        .routes(routes!(submit_workaround))
        .routes(routes!(review_workaround))
        .routes(routes!(publish_workaround))
        .routes(routes!(put_solution))
        .routes(routes!(submit_solution))
        .routes(routes!(review_solution))
        .routes(routes!(publish_solution))
        .routes(routes!(get_security_check))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixText {
    /// The steps. A changed text is a draft again: an approval was for the old text, and a
    /// published fix is withdrawn.
    pub text: String,
}

enum Step {
    Text(String),
    Submit,
    Review(ReviewInput),
    Publish,
}

async fn step(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    id: &str,
    kind: FixKind,
    step: Step,
) -> ApiResult<axum::Json<ProblemOut>> {
    let store = state.store.as_ref();
    let before = load(store, id).await?;
    let now = Timestamp::now();
    let p = match step {
        Step::Text(t) => uc::set_text(store, actor, &before, kind, &t, now).await?,
        Step::Submit => uc::submit(store, actor, &before, kind, now).await?,
        Step::Review(r) => uc::review(store, actor, &before, kind, r, now).await?,
        Step::Publish => uc::publish(store, actor, &before, kind, now).await?,
    };
    Ok(axum::Json(problem_out(store, principal, p).await?))
}

macro_rules! fix_routes {
    ($kind:expr, [$p_put:literal, $p_submit:literal, $p_review:literal, $p_publish:literal], $put:ident, $submit:ident, $review:ident, $publish:ident) => {
        /// Replaces the text (back to draft if it changed).
        #[utoipa::path(put, path = $p_put, tag = "problems", params(("id" = Uuid, Path)), request_body = FixText,
            responses((status = 200, description = "OK", body = ProblemOut), (status = 400, description = "Invalid request", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem", body = ProblemJson, content_type = "application/problem+json"), (status = 409, description = "The problem is closed, or changed meanwhile", body = ProblemJson, content_type = "application/problem+json")))]
        async fn $put(
            State(state): State<AppState>,
            Need { principal, actor, .. }: Need<perm::ManageProblems>,
            Path(id): Path<String>,
            Json(body): Json<FixText>,
        ) -> ApiResult<axum::Json<ProblemOut>> {
            step(&state, &principal, &actor, &id, $kind, Step::Text(body.text)).await
        }

        /// Submits the text for a security manager's review (security managers are notified).
        #[utoipa::path(post, path = $p_submit, tag = "problems", params(("id" = Uuid, Path)),
            responses((status = 200, description = "Waiting for review", body = ProblemOut), (status = 400, description = "There is no text yet", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem", body = ProblemJson, content_type = "application/problem+json"), (status = 409, description = "Not a draft or rejected text", body = ProblemJson, content_type = "application/problem+json")))]
        async fn $submit(
            State(state): State<AppState>,
            Need { principal, actor, .. }: Need<perm::ManageProblems>,
            Path(id): Path<String>,
        ) -> ApiResult<axum::Json<ProblemOut>> {
            step(&state, &principal, &actor, &id, $kind, Step::Submit).await
        }

        /// A security manager approves or rejects the text waiting for review. The review
        /// records the check against the affected services' SLA requirements and the
        /// affected CIs' baselines, and the reviewer's confirmations; a rejection needs
        /// reasons and goes back to the author.
        #[utoipa::path(post, path = $p_review, tag = "problems", params(("id" = Uuid, Path)), request_body = ReviewInput,
            responses((status = 200, description = "Decided", body = ProblemOut), (status = 400, description = "Invalid request (rejection without reasons, approval without confirmations)", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "Only a security manager may review", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem", body = ProblemJson, content_type = "application/problem+json"), (status = 409, description = "Nothing waits for review", body = ProblemJson, content_type = "application/problem+json")))]
        async fn $review(
            State(state): State<AppState>,
            Need { principal, actor, .. }: Need<perm::ApproveSecurity>,
            Path(id): Path<String>,
            Json(body): Json<ReviewInput>,
        ) -> ApiResult<axum::Json<ProblemOut>> {
            step(&state, &principal, &actor, &id, $kind, Step::Review(body)).await
        }

        /// Publishes the text: a workaround becomes the known error record agents use and
        /// apply to incidents. Refused (409, `security-review-required`) while a needed
        /// security approval is missing.
        #[utoipa::path(post, path = $p_publish, tag = "problems", params(("id" = Uuid, Path)),
            responses((status = 200, description = "Published", body = ProblemOut), (status = 400, description = "There is no text yet", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem", body = ProblemJson, content_type = "application/problem+json"), (status = 409, description = "A security review is required, pending or refused, or it is already published", body = ProblemJson, content_type = "application/problem+json")))]
        async fn $publish(
            State(state): State<AppState>,
            Need { principal, actor, .. }: Need<perm::ManageProblems>,
            Path(id): Path<String>,
        ) -> ApiResult<axum::Json<ProblemOut>> {
            step(&state, &principal, &actor, &id, $kind, Step::Publish).await
        }
    };
}

fix_routes!(
    FixKind::Workaround,
    [
        "/problems/{id}/workaround",
        "/problems/{id}/workaround/submit",
        "/problems/{id}/workaround/review",
        "/problems/{id}/workaround/publish"
    ],
    put_workaround,
    submit_workaround,
    review_workaround,
    publish_workaround
);
fix_routes!(
    FixKind::Solution,
    [
        "/problems/{id}/solution",
        "/problems/{id}/solution/submit",
        "/problems/{id}/solution/review",
        "/problems/{id}/solution/publish"
    ],
    put_solution,
    submit_solution,
    review_solution,
    publish_solution
);

/// What a security review of this problem's fixes checks, as of now: the agreed SLA
/// requirements of the affected services and the baseline status of each affected CI.
#[utoipa::path(get, path = "/problems/{id}/security-check", tag = "problems", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = SecurityCheck), (status = 400, description = "Invalid id", body = ProblemJson, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = ProblemJson, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = ProblemJson, content_type = "application/problem+json"), (status = 404, description = "No such problem", body = ProblemJson, content_type = "application/problem+json")))]
async fn get_security_check(
    State(state): State<AppState>,
    _: Need<perm::ReadProblems>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SecurityCheck>> {
    let store = state.store.as_ref();
    let p = load(store, &id).await?;
    Ok(axum::Json(
        uc::security_check(store, &p, Timestamp::now()).await?,
    ))
}
