//! Notification deliveries.

use crate::authz::Actor;
use crate::error::StoreResult;
use crate::ids::UserId;
use crate::page::{Page, PageRequest};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::Serialize;

/// A delivery the dispatcher decided on for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub channel: crate::notify::Channel,
    /// The e-mail address, or the webhook's name.
    pub target: String,
}

/// Deliveries per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub dead: i64,
}

/// The notification outbox's far side: deliveries made from events, their attempts and
/// outcomes. Dispatching writes are bookkeeping (not audited); a person's retry is.
#[async_trait]
pub trait NotificationStore {
    /// Records an event in the outbox on its own, for changes that are not written through
    /// a store method that takes events (those write them in their own transaction).
    async fn enqueue_event(
        &self,
        event: &crate::notify::Event,
        now: Timestamp,
    ) -> StoreResult<crate::ids::EventId>;
    /// The distinct e-mail addresses of the named users and of every holder of one of the
    /// roles, as they are now; disabled accounts are left out.
    async fn recipients(
        &self,
        users: &[UserId],
        roles: &[crate::account::Role],
    ) -> StoreResult<Vec<String>>;
    /// Creates each event's deliveries (pending, due at `now`) and marks the events
    /// dispatched, all in one transaction (on SQLite a commit per event would take the one
    /// writer from incident creates each time). A delivery that exists (same event, channel,
    /// target) is left alone, so two dispatchers planning the same event never make it
    /// twice. Returns how many were created.
    async fn plan_deliveries(
        &self,
        plans: &[(crate::ids::EventId, Vec<NewDelivery>)],
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Takes up to `limit` due deliveries (pending or failed, next attempt at or before
    /// `now`), oldest due first, and holds them until `lease_until` (their next attempt is
    /// moved there), so no other dispatcher takes them meanwhile.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<crate::notify::ClaimedDelivery>>;
    /// Stores an attempt's outcome (the attempt is counted).
    async fn record_delivery(
        &self,
        id: crate::ids::DeliveryId,
        outcome: &crate::notify::Outcome,
        now: Timestamp,
    ) -> StoreResult<crate::notify::Delivery>;
    /// Newest first, optionally of one status.
    async fn list_deliveries(
        &self,
        status: Option<crate::notify::DeliveryStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<crate::notify::Delivery>>;
    async fn delivery(&self, id: crate::ids::DeliveryId) -> StoreResult<crate::notify::Delivery>;
    /// Puts a failed or dead delivery back to pending, due at `now` (audited); anything
    /// else is a conflict (`delivery_not_retryable`).
    async fn retry_delivery(
        &self,
        actor: &Actor,
        id: crate::ids::DeliveryId,
        now: Timestamp,
    ) -> StoreResult<crate::notify::Delivery>;
    async fn delivery_counts(&self) -> StoreResult<DeliveryCounts>;
}
