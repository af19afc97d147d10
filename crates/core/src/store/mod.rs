//! The storage contract. The store crate implements it on SQLite and on PostgreSQL; the
//! server holds an `Arc<dyn Store>` chosen from the database URL.
//!
//! Every method that changes state takes the [`Actor`] and writes its audit entry in the
//! same transaction as the change.

use crate::error::StoreResult;
use async_trait::async_trait;
use serde::Serialize;

mod accounts;
mod announcements;
mod audit;
mod cmdb;
mod incidents;
mod measures;
mod notifications;
mod problems;
mod service_levels;

pub use crate::ticket_stats::{Breach, IncidentStats};
pub use accounts::*;
pub use announcements::*;
pub use audit::*;
pub use cmdb::*;
pub use incidents::*;
pub use measures::*;
pub use notifications::*;
pub use problems::*;
pub use service_levels::*;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait Store:
    DepartmentStore
    + UserStore
    + AuthStore
    + AuditStore
    + CmdbStore
    + ControlStore
    + MeasureStore
    + ServiceLevelStore
    + IncidentStore
    + NotificationStore
    + ProblemStore
    + AnnouncementStore
    + Send
    + Sync
    + 'static
{
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;
    /// Refreshes the query planner's statistics (after bulk imports).
    async fn analyze(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    async fn close(&self);
}
