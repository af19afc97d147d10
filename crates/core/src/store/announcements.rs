//! Announcements: service notices with a visibility window and an audience.

use crate::announcement::{Announcement, AnnouncementInput};
use crate::authz::Actor;
use crate::error::StoreResult;
use crate::ids::AnnouncementId;
use crate::page::{Page, PageRequest};
use crate::time::Timestamp;
use async_trait::async_trait;

/// Which announcements a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncementFilter {
    /// `Some(true)`: only those whose window contains `now`; `Some(false)`: only the others
    /// (upcoming and past); `None`: all.
    pub active: Option<bool>,
    /// Leave out agents-only notices (for a reader outside the agents audience).
    pub everyone_only: bool,
    /// The instant `active` is judged at.
    pub now: Timestamp,
}

impl AnnouncementFilter {
    /// What a reader is shown at `now`: the active notices of their audience
    /// (`agent`: [`crate::announcement::is_agent`]), as [`Announcement::shown_to`] decides.
    pub fn shown_to(agent: bool, now: Timestamp) -> Self {
        Self {
            active: Some(true),
            everyone_only: !agent,
            now,
        }
    }
}

#[async_trait]
pub trait AnnouncementStore {
    async fn create_announcement(
        &self,
        actor: &Actor,
        a: AnnouncementInput,
    ) -> StoreResult<Announcement>;
    /// Replaces every field the person sets.
    async fn update_announcement(
        &self,
        actor: &Actor,
        id: AnnouncementId,
        a: AnnouncementInput,
    ) -> StoreResult<Announcement>;
    async fn delete_announcement(&self, actor: &Actor, id: AnnouncementId) -> StoreResult<()>;
    async fn announcement(&self, id: AnnouncementId) -> StoreResult<Announcement>;
    /// Newest first (by id).
    async fn list_announcements(
        &self,
        filter: &AnnouncementFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Announcement>>;
}
