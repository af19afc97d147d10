//! The audit log page for auditors and administrators: filters, pages, chain status.

use crate::http::page::Nav;

use crate::http::page::WebError;

use crate::audit::AuditParams;
use crate::audit::verify_chain;
use crate::http::page::WebUser;
use crate::http::state::AppState;
use crate::http::util::human;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use custos_core::authz::Permission;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(audit))
}

pub struct Row {
    pub seq: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub changes: String,
    pub hash: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/audit.html")]
struct AuditPage {
    title: String,
    nav: Option<Nav>,
    q: AuditParams,
    rows: Vec<Row>,
    next: Option<String>,
    verified: bool,
    intact: bool,
    checked: u64,
    first_break: String,
    unsealed: i64,
    error: Option<String>,
}

impl AuditParams {
    fn text(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }
    pub fn entity_type_v(&self) -> &str {
        Self::text(&self.entity_type)
    }
    pub fn entity_id_v(&self) -> &str {
        Self::text(&self.entity_id)
    }
    pub fn actor_v(&self) -> &str {
        Self::text(&self.actor)
    }
    pub fn action_v(&self) -> &str {
        Self::text(&self.action)
    }
    pub fn from_v(&self) -> &str {
        Self::text(&self.from)
    }
    pub fn to_v(&self) -> &str {
        Self::text(&self.to)
    }
    /// The query string for the next page.
    pub fn next_query(&self, cursor: &str) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("entity_type", self.entity_type_v()),
            ("entity_id", self.entity_id_v()),
            ("actor", self.actor_v()),
            ("action", self.action_v()),
            ("from", self.from_v()),
            ("to", self.to_v()),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.append_pair("cursor", cursor);
        s.finish()
    }
}

async fn audit(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadAudit)?;
    // `verify` asks for a full chain check (linear in the log's length), so it is opt-in.
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let verify = pairs.iter().any(|(k, _)| k == "verify");
    let rest: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, v)| k != "verify" && !v.is_empty())
        .collect();
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(rest)
        .finish();
    let (q, mut error) = match serde_urlencoded::from_str::<AuditParams>(&encoded) {
        Ok(q) => (q, None),
        Err(e) => (AuditParams::default(), Some(e.to_string())),
    };
    let filter = match q.filter() {
        Ok(f) => f,
        Err(e) => {
            error = Some(crate::http::page::Refusal::detail(&e));
            Default::default()
        }
    };
    let mut page = state.store.list_audit(&filter, q.page()).await?;
    page.items =
        crate::incidents::hide_unseen(state.store.as_ref(), &w.principal, page.items).await?;
    let (checked, result) = if verify {
        verify_chain(state.store.as_ref()).await?
    } else {
        (0, Ok(()))
    };
    Ok(AuditPage {
        title: "Audit log".into(),
        nav: Some(Nav::new(&w, "/audit")),
        rows: page
            .items
            .iter()
            .map(|e| Row {
                seq: e
                    .seq
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "pending".into()),
                at: human(e.at),
                actor: e.actor.clone(),
                action: e.action.clone(),
                entity: format!("{} {}", e.entity_type, e.entity_id),
                changes: e.changes.clone(),
                hash: e
                    .hash
                    .as_deref()
                    .map(|h| h[..12.min(h.len())].to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        next: page.next_cursor.map(|c| q.next_query(&c.to_string())),
        verified: verify,
        intact: result.is_ok(),
        checked,
        first_break: result.err().map(|b| b.to_string()).unwrap_or_default(),
        unsealed: state.store.unsealed_audit_count().await?,
        q,
        error,
    }
    .into_response())
}
