//! The storage contract of `custos-core`, implemented on SQLite (embedded default) and
//! PostgreSQL (production). Both backends share one body of SQL: each `impl_*` macro below
//! expands the same statements for either database, and only what truly differs (connection
//! set-up, write-transaction start, row locking) lives in `sqlite.rs` and `postgres.rs`.
//!
//! Architecture invariant: driver errors become `StoreError` in `error.rs` and nowhere else.

mod audit;
mod auth;
mod cmdb;
mod controls;
mod departments;
mod error;
mod incident_rows;
mod incidents;
mod measures;
mod notifications;
mod parties;
mod problem_rows;
mod problems;
mod rows;
mod service_levels;
mod slas;
mod users;

pub mod postgres;
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

/// The `Store` trait itself for a backend: its name, liveness, planner statistics, pool.
macro_rules! impl_store {
    ($store:ty, $name:literal) => {
        #[async_trait::async_trait]
        impl custos_core::store::Store for $store {
            fn backend(&self) -> &'static str {
                $name
            }

            async fn ping(&self) -> Result<(), custos_core::StoreError> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(crate::error::map("database"))
            }

            async fn analyze(&self) -> Result<(), custos_core::StoreError> {
                self.refresh_planner()
                    .await
                    .map_err(crate::error::map("database"))
            }

            fn pool_stats(&self) -> custos_core::store::PoolStats {
                custos_core::store::PoolStats {
                    size: self.pool.size(),
                    idle: self.pool.num_idle() as u32,
                    max: self.pool.options().get_max_connections(),
                }
            }

            async fn close(&self) {
                self.pool.close().await;
                self.close_writer().await;
            }
        }
    };
}
pub(crate) use impl_store;

/// The one database type a store implementation runs on.
pub(crate) trait Backend {
    type Db: sqlx::Database;

    /// A dynamically built statement as this backend runs it best; for SQLite, see
    /// [`rows::anonymous_params`]. The SQL means the same either way.
    fn params(sql: String) -> String {
        sql
    }

    /// `UPDATE {target} AS {alias} SET {set}` for the rows whose `id` is the first column of
    /// one of the `values` lists (available as `v.column1`, `v.column2`, …), as this
    /// backend plans it best: a keyed lookup of each listed row.
    fn update_from_values(target: &str, alias: &str, set: &str, values: &str) -> String {
        format!(
            "UPDATE {target} AS {alias} SET {set} FROM (VALUES {values}) AS v WHERE {alias}.id = v.column1"
        )
    }

    /// `ids` in the chunks this backend binds in one statement, each with how the
    /// statement names it: by default one parameter per id, [`cmdb::CHUNK`] at a time.
    fn id_chunks(ids: &[uuid::Uuid]) -> Vec<(cmdb::IdList, &[uuid::Uuid])> {
        ids.chunks(cmdb::CHUNK)
            .map(|c| (cmdb::IdList::Each(c.len()), c))
            .collect()
    }

    /// Binds `ids` as [`Self::id_chunks`] named them.
    fn bind_ids<'q, O>(
        q: sqlx::query::QueryAs<'q, Self::Db, O, <Self::Db as sqlx::Database>::Arguments>,
        ids: &[uuid::Uuid],
    ) -> sqlx::query::QueryAs<'q, Self::Db, O, <Self::Db as sqlx::Database>::Arguments>;
}
