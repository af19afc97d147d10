//! Incidents, groups, the communications log, access, the outbox.

use crate::authz::Actor;
use crate::error::StoreResult;
use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::ticket_stats::IncidentStats;
use crate::time::Timestamp;
use async_trait::async_trait;

/// One incident to create or save, fully computed by the caller: priority, the security
/// recognition and flags, the procedure phase, the SLA clock. The store writes the row,
/// its CIs, the SLA's authorised users (need-to-know), the audit entry and the
/// notification events in one transaction.
#[derive(Debug, Clone)]
pub struct IncidentWrite {
    pub incident: crate::ticket::Incident,
    /// Hold intervals (on_hold periods), kept with the incident for the clock.
    pub holds: Vec<(Timestamp, Option<Timestamp>)>,
    pub actor: Actor,
    /// `incident.create`, `incident.update`, `incident.flag`, …
    pub audit_action: &'static str,
    pub changes: serde_json::Value,
    /// The authorised users of the SLAs of the incident's service.
    pub authorised_users: Vec<UserId>,
    /// [`crate::ticket::role_mask`] of the SLAs' authorised roles.
    pub authorised_roles: i64,
    /// When the clock job must look at the incident next.
    pub clock_check_at: Option<Timestamp>,
    pub events: Vec<crate::notify::Event>,
}

#[async_trait]
pub trait IncidentStore {
    async fn create_group(
        &self,
        actor: &Actor,
        g: crate::ticket::GroupInput,
    ) -> StoreResult<crate::ticket::Group>;
    async fn update_group(
        &self,
        actor: &Actor,
        id: crate::ids::GroupId,
        g: crate::ticket::GroupInput,
    ) -> StoreResult<crate::ticket::Group>;
    async fn delete_group(&self, actor: &Actor, id: crate::ids::GroupId) -> StoreResult<()>;
    async fn group(&self, id: crate::ids::GroupId) -> StoreResult<crate::ticket::Group>;
    async fn list_groups(&self) -> StoreResult<Vec<crate::ticket::Group>>;

    /// Creates every incident of the batch in one transaction (group commit): all or
    /// none. Numbers are assigned here, in batch order.
    async fn create_incidents(
        &self,
        batch: Vec<IncidentWrite>,
    ) -> StoreResult<Vec<crate::ticket::Incident>>;
    /// Saves a changed incident if nobody changed it since `expected_updated_at`
    /// (otherwise a conflict on `incident_version`).
    async fn save_incident(
        &self,
        w: IncidentWrite,
        expected_updated_at: Timestamp,
    ) -> StoreResult<crate::ticket::Incident>;
    /// One incident if `viewer` may see it; not found otherwise (no trace).
    async fn incident(
        &self,
        viewer: &crate::ticket::Viewer,
        id: crate::ids::IncidentId,
    ) -> StoreResult<crate::ticket::Incident>;
    async fn incident_by_number(
        &self,
        viewer: &crate::ticket::Viewer,
        number: i64,
    ) -> StoreResult<crate::ticket::Incident>;
    /// Newest first; only what `viewer` may see.
    async fn list_incidents(
        &self,
        viewer: &crate::ticket::Viewer,
        f: &crate::ticket::IncidentFilter,
        page: PageRequest,
    ) -> StoreResult<Page<crate::ticket::Incident>>;
    async fn count_incidents(
        &self,
        viewer: &crate::ticket::Viewer,
        f: &crate::ticket::IncidentFilter,
    ) -> StoreResult<i64>;
    /// Writes up to `max` incidents stored since the last call into the full-text index,
    /// on a backend that indexes behind the commit (SQLite; PostgreSQL indexes in the
    /// create's own transaction and returns 0); returns how many. A search indexes what is
    /// left first, so it finds every incident committed before it; this keeps that short.
    async fn index_search(&self, max: u32) -> StoreResult<u64>;
    /// Which of these incidents `viewer` may see (to hide the audit entries of the others).
    async fn visible_incidents(
        &self,
        viewer: &crate::ticket::Viewer,
        ids: &[crate::ids::IncidentId],
    ) -> StoreResult<Vec<crate::ids::IncidentId>>;
    /// The holds of an incident (for recomputing its clock).
    async fn incident_holds(
        &self,
        id: crate::ids::IncidentId,
    ) -> StoreResult<Vec<(Timestamp, Option<Timestamp>)>>;
    /// For the clock job only (no viewer): incidents whose clock must be looked at by `now`.
    async fn incidents_due_for_clock(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<crate::ticket::Incident>>;
    /// For the clock job only: updates the clock columns, audit and events of an incident
    /// it recomputed, if unchanged since `expected_updated_at`; `reminded` records the
    /// major incident's update reminder slot it sent (`Major::reminded_for`).
    #[allow(clippy::too_many_arguments)]
    async fn save_clock(
        &self,
        id: crate::ids::IncidentId,
        clock: Option<crate::sla_clock::Clock>,
        clock_check_at: Option<Timestamp>,
        expected_updated_at: Timestamp,
        audit: Option<(&'static str, serde_json::Value)>,
        events: Vec<crate::notify::Event>,
        reminded: Option<Timestamp>,
    ) -> StoreResult<bool>;

    /// Replaces the SLA-derived need-to-know of every incident on `service` (its `sla`
    /// access rows and its authorised-role mask) with `users` and `roles`, after the SLAs
    /// in force on the service changed. Writes only what differs, so a repeat changes and
    /// audits nothing; returns how many rows changed (audited on the service if any).
    async fn refresh_sla_access(
        &self,
        actor: &Actor,
        service: crate::ids::CiId,
        users: &[UserId],
        roles: i64,
    ) -> StoreResult<u64>;

    /// Need-to-know list: users added explicitly (`added`) and the SLA's (`sla`).
    async fn incident_access(
        &self,
        id: crate::ids::IncidentId,
    ) -> StoreResult<Vec<(UserId, String)>>;
    async fn grant_incident_access(
        &self,
        actor: &Actor,
        id: crate::ids::IncidentId,
        user: UserId,
    ) -> StoreResult<()>;
    async fn revoke_incident_access(
        &self,
        actor: &Actor,
        id: crate::ids::IncidentId,
        user: UserId,
    ) -> StoreResult<()>;
    async fn link_incidents(
        &self,
        actor: &Actor,
        a: crate::ids::IncidentId,
        b: crate::ids::IncidentId,
        link: bool,
    ) -> StoreResult<()>;

    async fn add_note(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        note: crate::ticket::NoteInput,
        status: crate::ticket::CommStatus,
        events: Vec<crate::notify::Event>,
    ) -> StoreResult<crate::ticket::Note>;
    /// Approves (then it is sent) or rejects a draft external communication.
    async fn decide_note(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        note: crate::ids::NoteId,
        approve: bool,
        reason: &str,
        events: Vec<crate::notify::Event>,
    ) -> StoreResult<crate::ticket::Note>;
    /// The log, oldest first; `public_only` for the reporter's portal.
    async fn notes(
        &self,
        incident: crate::ids::IncidentId,
        public_only: bool,
    ) -> StoreResult<Vec<crate::ticket::Note>>;
    #[allow(clippy::too_many_arguments)]
    async fn add_attachment(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        file_name: &str,
        content_type: &str,
        content: &[u8],
        evidence: bool,
        description: &str,
    ) -> StoreResult<crate::ticket::Attachment>;
    async fn attachments(
        &self,
        incident: crate::ids::IncidentId,
    ) -> StoreResult<Vec<crate::ticket::Attachment>>;
    async fn attachment_content(
        &self,
        incident: crate::ids::IncidentId,
        id: crate::ids::AttachmentId,
    ) -> StoreResult<(crate::ticket::Attachment, Vec<u8>)>;
    async fn add_action(
        &self,
        actor: &Actor,
        incident: crate::ids::IncidentId,
        kind: crate::procedure::ActionKind,
        body: &str,
        ci: Option<crate::ids::CiId>,
    ) -> StoreResult<crate::ticket::Action>;
    async fn actions(
        &self,
        incident: crate::ids::IncidentId,
    ) -> StoreResult<Vec<crate::ticket::Action>>;

    async fn save_filter(
        &self,
        user: UserId,
        name: &str,
        query: &str,
    ) -> StoreResult<crate::ticket::SavedFilter>;
    async fn filters(&self, user: UserId) -> StoreResult<Vec<crate::ticket::SavedFilter>>;
    async fn delete_filter(&self, user: UserId, id: crate::ids::FilterId) -> StoreResult<()>;

    /// Failed implementations on these CIs: (CI, control, control label). Whether the
    /// control is required is for the caller to check against the CI's gap data.
    async fn failed_implementations(
        &self,
        cis: &[crate::ids::CiId],
    ) -> StoreResult<Vec<(crate::ids::CiId, crate::ids::ControlId, String)>>;

    /// Aggregates for an SLA report (see [`IncidentStats`]).
    async fn incident_stats(
        &self,
        service: crate::ids::CiId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<IncidentStats>;

    /// Outbox: events not yet dispatched, oldest first.
    async fn pending_events(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<(crate::ids::EventId, Timestamp, crate::notify::Event)>>;
    async fn mark_dispatched(&self, ids: &[crate::ids::EventId], now: Timestamp)
    -> StoreResult<()>;
}
