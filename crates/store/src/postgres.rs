//! PostgreSQL backend. Several Custos instances may share one database: nothing here keeps
//! state outside it, and the only lock taken by more than one writer is the audit chain head,
//! which only sealers touch.

use crate::ConnectOptions;
use custos_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pool: PgPool,
}

impl crate::Backend for PgStore {
    type Db = sqlx::Postgres;
}

impl PgStore {
    /// Writes share the one pool on PostgreSQL.
    fn write_pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    /// Writes share the one pool on PostgreSQL.
    async fn close_writer(&self) {}

    const LOCK_AUDIT_HEAD: &'static str =
        "SELECT seq, hash FROM audit_head WHERE singleton = 1 FOR UPDATE";

    /// Read-modify-write takes the row, so concurrent updates cannot lose each other.
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    /// Serialises re-propagations of classification across instances (CMDB writers only).
    /// Dispatchers claiming at once take disjoint deliveries instead of queueing.
    const CLAIM_LOCK: &'static str = " FOR UPDATE OF d SKIP LOCKED";
    const LOCK_CMDB: &'static str =
        "SELECT singleton FROM cmdb_lock WHERE singleton = 1 FOR UPDATE";
    /// Full-text match on the generated tsvector; `$5` is [`Self::fts_query`].
    const CI_SEARCH: &'static str = "c.search @@ to_tsquery('simple', $5)";

    /// Prefix terms, all required: `web:* & prod:*` (terms are alphanumeric only).
    fn fts_query(terms: &[String]) -> String {
        terms
            .iter()
            .map(|t| format!("{t}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    }

    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Internal(format!("invalid PostgreSQL URL: {e}")))?;
        Self::connect_with(options, opts).await
    }

    /// Connects with explicit options (tests use this to run each case in its own schema).
    pub async fn connect_with(
        options: PgConnectOptions,
        opts: &ConnectOptions,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Internal(format!("cannot connect to PostgreSQL: {e}")))?;
        let store = Self { pool };
        if opts.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Full-text match of incidents on the generated tsvector.
    /// The ids a subquery selects (as column `x`), comma-separated.
    fn uuid_list(sub: &str) -> String {
        format!("(SELECT string_agg(x::text, ',') FROM ({sub}) s)")
    }

    /// Newest first by id, searching or not.
    fn incident_listing(_searching: bool) -> crate::incident_rows::Listing {
        crate::incident_rows::Listing::BY_ID
    }

    fn incident_search(n: usize) -> String {
        format!("i.search @@ to_tsquery('simple', ${n})")
    }

    /// A sequence: instances sharing the database never hand out a number twice.
    async fn next_incident_numbers(
        &self,
        tx: &mut sqlx::PgConnection,
        n: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT nextval('incident_number') FROM generate_series(1, $1)")
                .bind(n as i32)
                .fetch_all(&mut *tx)
                .await
                .map_err(crate::error::map("incident"))?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    /// Full-text match of problems on the generated tsvector.
    fn problem_search(n: usize) -> String {
        format!("p.search @@ to_tsquery('simple', ${n})")
    }

    /// A sequence: instances sharing the database never hand out a number twice.
    async fn next_problem_number(&self, tx: &mut sqlx::PgConnection) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT nextval('problem_number')")
            .fetch_one(&mut *tx)
            .await
            .map_err(crate::error::map("problem"))?;
        Ok(n)
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool
            .begin()
            .await
            .map_err(crate::error::map("transaction"))
    }
}

crate::departments::impl_department_store!(PgStore);
crate::users::impl_user_store!(PgStore);
crate::auth::impl_auth_store!(PgStore);
crate::audit::impl_audit_store!(PgStore);
crate::cmdb::impl_cmdb_store!(PgStore);
crate::controls::impl_control_store!(PgStore);
crate::measures::impl_measure_store!(PgStore);
crate::service_levels::impl_service_level_store!(PgStore);
crate::slas::sla_helpers!(PgStore);
crate::incidents::impl_incident_store!(PgStore);
crate::notifications::impl_notification_store!(PgStore);
crate::problems::impl_problem_store!(PgStore);

crate::impl_store!(PgStore, "postgres", "ANALYZE");
