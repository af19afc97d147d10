//! The audit log: the tamper-evident chain and who may read it.

pub mod api;
pub mod pages;

use crate::http::api::PageParams;
use crate::http::util::parse_rfc3339;
use custos_core::audit::{ChainBreak, ChainVerifier};
use custos_core::store::AuditFilter;
use custos_core::store::Store;
use custos_core::{Error, Outcome};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// e.g. user, department, api_token, session
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// The actor's e-mail, `system:<name>` or `anonymous`.
    pub actor: Option<String>,
    /// e.g. user.create, auth.login_failed, token.revoke
    pub action: Option<String>,
    /// RFC 3339, inclusive.
    #[param(value_type = Option<crate::http::doc::Instant>)]
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(value_type = Option<crate::http::doc::Instant>)]
    pub to: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl AuditParams {
    pub fn filter(&self) -> Outcome<AuditFilter> {
        let time = |field: &str, v: &Option<String>| -> Outcome<_> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    parse_rfc3339(s).ok_or_else(|| {
                        Error::validation(
                            field,
                            "must be an RFC 3339 time such as 2026-11-01T00:00:00Z",
                        )
                    })
                })
                .transpose()
        };
        let text = |field: &str, v: &Option<String>| -> Outcome<Option<String>> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) if s.len() > 300 || s.chars().any(char::is_control) => Err(
                    Error::validation(field, "must be at most 300 printable characters"),
                ),
                other => Ok(other.map(str::to_string)),
            }
        };
        Ok(AuditFilter {
            entity_type: text("entity_type", &self.entity_type)?,
            entity_id: text("entity_id", &self.entity_id)?,
            actor: text("actor", &self.actor)?,
            action: text("action", &self.action)?,
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
        })
    }

    pub fn page(&self) -> custos_core::page::PageRequest {
        PageParams {
            limit: self.limit,
            cursor: self.cursor,
        }
        .request()
    }
}

/// Walks the whole chain in constant memory. Used by `custos audit verify` and the API.
pub async fn verify_chain(store: &dyn Store) -> Outcome<(u64, Result<(), ChainBreak>)> {
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let chunk = store.audit_chain(after, 5000).await?;
        let Some(last) = chunk.last() else { break };
        after = last.seq.unwrap_or(after);
        for e in &chunk {
            if let Err(b) = v.push(e) {
                return Ok((v.checked(), Err(b)));
            }
        }
    }
    let head = store.audit_head().await?;
    Ok((v.checked(), v.finish(head)))
}
