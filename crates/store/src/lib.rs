//! The storage contract of `custos-core`, implemented on SQLite (embedded default) and
//! PostgreSQL (production). Both backends share one body of SQL, written once per aggregate
//! (a folder or file per domain) as ordinary Rust over `sql::SqlStore<B>`; only what truly
//! differs (connection set-up, write-transaction start, row locks, search, numbering, bulk
//! scans) is a `sql::Backend` item, implemented in `sqlite.rs` and `postgres.rs`.
//!
//! Architecture invariant: driver errors become `StoreError` in `error.rs` and nowhere else.

mod accounts;
mod announcements;
mod audit;
mod cmdb;
mod error;
mod incidents;
mod measures;
mod notifications;
mod problems;
mod rows;
mod service_levels;

pub mod postgres;
#[doc(hidden)]
pub mod sql;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use custos_core::StoreError;
use custos_core::store::Store;
use std::path::Path;
use std::sync::Arc;

/// Connection settings shared by both backends.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// Apply pending migrations on connect.
    pub migrate: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            migrate: true,
        }
    }
}

/// Opens the store a database URL names: `sqlite:PATH` (or `sqlite://PATH`) or
/// `postgres://…` / `postgresql://…`.
pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, opts).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(
            sqlite::SqliteStore::open(Path::new(path), opts).await?,
        ))
    } else {
        Err(StoreError::Internal(
            "database URL must start with sqlite: or postgres://".into(),
        ))
    }
}
