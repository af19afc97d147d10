//! Announcements: service notices the service desk writes (`manage_announcements`) and
//! everyone signed in reads while their window lasts — agents-only notices only the agents
//! audience (`custos_core::announcement::is_agent`). A notice a reader is not shown is "not
//! found" to them; managers see every notice, past and upcoming included.
//!
//! The API (`api.rs`) and the pages (`pages.rs`: the management list and form, the notices
//! on the portal and the dashboard) call these use cases; the demo does too.

pub mod api;
pub mod pages;

use custos_core::announcement::{Announcement, AnnouncementInput, is_agent};
use custos_core::authz::{Actor, Forbidden, Permission, Principal};
use custos_core::page::{Page, PageRequest};
use custos_core::store::{AnnouncementFilter, Store};
use custos_core::{AnnouncementId, CiId, Error, Outcome, StoreError, Timestamp};

/// The most notices a page shows at once (the portal, the dashboard).
pub const SHOWN_MAX: u32 = 20;

/// Checks that the affected service, if any, is a business service (the form's mistake,
/// named `service_id`, not a missing page).
async fn check_service(store: &dyn Store, service: Option<CiId>) -> Outcome<()> {
    if let Some(s) = service {
        let r = store.ci(s).await.map_err(|e| match e {
            StoreError::NotFound { .. } => Error::validation("service_id", "no such CI"),
            other => other.into(),
        })?;
        if r.ci.ci_type != "business_service" {
            return Err(Error::validation(
                "service_id",
                "must be a business service",
            ));
        }
    }
    Ok(())
}

/// Writes a new announcement (the actor passed `manage_announcements`).
pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    input: AnnouncementInput,
) -> Outcome<Announcement> {
    check_service(store, input.service_id).await?;
    Ok(store.create_announcement(actor, input).await?)
}

/// Replaces an announcement's fields.
pub async fn update(
    store: &dyn Store,
    actor: &Actor,
    id: AnnouncementId,
    input: AnnouncementInput,
) -> Outcome<Announcement> {
    check_service(store, input.service_id).await?;
    Ok(store.update_announcement(actor, id, input).await?)
}

/// Withdraws an announcement.
pub async fn delete(store: &dyn Store, actor: &Actor, id: AnnouncementId) -> Outcome<()> {
    Ok(store.delete_announcement(actor, id).await?)
}

/// One announcement as `p` may see it at `now`: a manager any, a reader only one shown to
/// them (any other is not found).
pub async fn get(
    store: &dyn Store,
    p: &Principal,
    id: AnnouncementId,
    now: Timestamp,
) -> Outcome<Announcement> {
    let a = store.announcement(id).await?;
    if p.has(Permission::ManageAnnouncements) || a.shown_to(is_agent(p), now) {
        Ok(a)
    } else {
        Err(Error::NotFound("announcement".into()))
    }
}

/// The announcements `p` may list at `now`, newest first. A manager lists all of them or,
/// with `active`, only the active ones (`true`) or only the upcoming and past ones
/// (`false`); a reader lists what is shown to them, and asking for the inactive ones needs
/// `manage_announcements`.
pub async fn list(
    store: &dyn Store,
    p: &Principal,
    active: Option<bool>,
    page: PageRequest,
    now: Timestamp,
) -> Outcome<Page<Announcement>> {
    let filter = if p.has(Permission::ManageAnnouncements) {
        AnnouncementFilter {
            active,
            everyone_only: false,
            now,
        }
    } else if active == Some(false) {
        return Err(Forbidden(Permission::ManageAnnouncements).into());
    } else {
        AnnouncementFilter::shown_to(is_agent(p), now)
    };
    Ok(store.list_announcements(&filter, page).await?)
}

/// What the portal and the dashboard show `p` at `now`: the active notices of their
/// audience, outages first, then maintenance, then information; within each, the one that
/// started last first.
pub async fn shown(store: &dyn Store, p: &Principal, now: Timestamp) -> Outcome<Vec<Announcement>> {
    let filter = AnnouncementFilter::shown_to(is_agent(p), now);
    let mut items = store
        .list_announcements(&filter, PageRequest::first(SHOWN_MAX))
        .await?
        .items;
    items.sort_by_key(|a| {
        (
            std::cmp::Reverse(a.severity),
            std::cmp::Reverse(a.starts_at),
        )
    });
    Ok(items)
}
