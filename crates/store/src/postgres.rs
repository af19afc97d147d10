//! PostgreSQL backend. Several Custos instances may share one database: nothing here keeps
//! state outside it, and the only lock taken by more than one writer is the audit chain head,
//! which only sealers touch.

use crate::ConnectOptions;
use crate::sql::{Fut, On, Record, Rows, Value};
use custos_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// The store on PostgreSQL.
pub type PgStore = crate::sql::SqlStore<PgBackend>;

/// PostgreSQL keeps nothing besides the pool: every write shares it.
pub struct PgBackend;

type Raw<'q> = crate::sql::RawQuery<'q, PgBackend>;

impl crate::sql::Backend for PgBackend {
    /// A sequence: instances sharing the database never hand out a number twice.
    fn next_problem_number(conn: &mut sqlx::PgConnection) -> Fut<'_, Result<i64, StoreError>> {
        Box::pin(async move {
            let (n,): (i64,) = sqlx::query_as("SELECT nextval('problem_number')")
                .fetch_one(&mut *conn)
                .await
                .map_err(crate::error::map("problem"))?;
            Ok(n)
        })
    }

    const LOCK_AUDIT_HEAD: &'static str =
        "SELECT seq, hash FROM audit_head WHERE singleton = 1 FOR UPDATE";

    /// Read-modify-write takes the row, so concurrent updates cannot lose each other.
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

    /// The ids a subquery selects (as column `x`), comma-separated.
    fn uuid_list(sub: &str) -> String {
        format!("(SELECT string_agg(x::text, ',') FROM ({sub}) s)")
    }

    /// Full-text match of incidents on the generated tsvector.
    fn incident_search(n: usize) -> String {
        format!("i.search @@ to_tsquery('simple', ${n})")
    }

    /// Newest first by id; a search looks among the newest 4,096 incidents first (see
    /// [`crate::incidents::rows::Listing::window`]): the GIN index finds every match, but
    /// reading each match's row to check need-to-know and sort costs ~16 ms for a term
    /// in 3 % of 100,000 incidents.
    fn incident_listing(searching: bool) -> crate::incidents::rows::Listing {
        crate::incidents::rows::Listing {
            window: if searching { 4096 } else { 0 },
            ..crate::incidents::rows::Listing::BY_ID
        }
    }

    /// Full-text match of problems on the generated tsvector.
    fn problem_search(n: usize) -> String {
        format!("p.search @@ to_tsquery('simple', ${n})")
    }

    type Db = sqlx::Postgres;

    const NAME: &'static str = "postgres";

    fn refresh_planner(store: &PgStore) -> Fut<'_, Result<(), sqlx::Error>> {
        Box::pin(store.refresh_planner())
    }

    fn close(store: &PgStore) -> Fut<'_, ()> {
        Box::pin(store.close_writer())
    }

    const FOR_UPDATE: &'static str = " FOR UPDATE";

    fn write_pool(store: &PgStore) -> &sqlx::Pool<Self::Db> {
        &store.pool
    }

    fn begin(
        store: &PgStore,
    ) -> Fut<'_, Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError>> {
        Box::pin(async move {
            store
                .pool
                .begin()
                .await
                .map_err(crate::error::map("transaction"))
        })
    }

    fn bind<'q, 't, T: Value<'t>>(q: Raw<'q>, value: T) -> Raw<'q> {
        q.bind(value)
    }

    fn execute<'q: 'c, 'c>(q: Raw<'q>, on: On<'c, Self>) -> Fut<'c, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let done = match on {
                On::Pool(p) => q.execute(p).await?,
                On::Conn(c) => q.execute(c).await?,
            };
            Ok(done.rows_affected())
        })
    }

    fn fetch_all<'q: 'c, 'c, O: Record>(
        q: Raw<'q>,
        on: On<'c, Self>,
    ) -> Fut<'c, Result<Vec<O>, sqlx::Error>> {
        let q = q.try_map(|row: sqlx::postgres::PgRow| O::from_row(&row));
        Box::pin(async move {
            match on {
                On::Pool(p) => q.fetch_all(p).await,
                On::Conn(c) => q.fetch_all(c).await,
            }
        })
    }

    fn fetch_optional<'q: 'c, 'c, O: Record>(
        q: Raw<'q>,
        on: On<'c, Self>,
    ) -> Fut<'c, Result<Option<O>, sqlx::Error>> {
        let q = q.try_map(|row: sqlx::postgres::PgRow| O::from_row(&row));
        Box::pin(async move {
            match on {
                On::Pool(p) => q.fetch_optional(p).await,
                On::Conn(c) => q.fetch_optional(c).await,
            }
        })
    }

    fn fetch<'q: 'c, 'c, O: Record>(q: Raw<'q>, on: On<'c, Self>) -> Rows<'c, O> {
        let q = q.try_map(|row: sqlx::postgres::PgRow| O::from_row(&row));
        match on {
            On::Pool(p) => q.fetch(p),
            On::Conn(c) => q.fetch(c),
        }
    }

    /// All of them as one `uuid[]` ([`crate::cmdb::IdList::Array`]): one statement and one
    /// round trip for any number of ids.
    fn id_chunks(ids: &[uuid::Uuid]) -> Vec<(crate::cmdb::IdList, &[uuid::Uuid])> {
        if ids.is_empty() {
            vec![]
        } else {
            vec![(crate::cmdb::IdList::Array, ids)]
        }
    }

    fn bind_ids<'q>(q: Raw<'q>, ids: &[uuid::Uuid]) -> Raw<'q> {
        q.bind(ids.to_vec())
    }

    fn create_incidents_script<'a>(
        store: &'a PgStore,
        batch: &'a mut [custos_core::store::IncidentWrite],
        now: custos_core::Timestamp,
    ) -> Fut<'a, Result<(), StoreError>> {
        Box::pin(store.create_incidents_script(batch, now))
    }

    fn next_incident_numbers<'a>(
        store: &'a PgStore,
        conn: &'a mut sqlx::PgConnection,
        n: usize,
    ) -> Fut<'a, Result<Vec<i64>, StoreError>> {
        Box::pin(store.next_incident_numbers(conn, n))
    }

    fn search_caught_up(store: &PgStore) -> Fut<'_, Result<(), StoreError>> {
        Box::pin(store.search_caught_up())
    }

    fn index_search_behind(store: &PgStore, max: u32) -> Fut<'_, Result<u64, StoreError>> {
        Box::pin(store.index_search_behind(max))
    }

    fn scan_cis(
        conn: &mut sqlx::PgConnection,
    ) -> Fut<'_, Result<crate::cmdb::scan::CiScan, StoreError>> {
        Box::pin(PgStore::scan_cis(conn))
    }

    fn scan_flow_edges<'a>(
        conn: &'a mut sqlx::PgConnection,
        scan: &'a crate::cmdb::scan::CiScan,
    ) -> Fut<'a, Result<Vec<(u32, u32)>, StoreError>> {
        Box::pin(PgStore::scan_flow_edges(conn, scan))
    }
}

impl PgStore {
    /// Planner statistics and the visibility map of the tables in the store's schema
    /// (`Store::analyze`, after bulk imports): `VACUUM (ANALYZE)`, so index-only scans,
    /// e.g. of edges through the covering `relationships_target`, do not read the table
    /// rows too (measured at 1M CIs: 3.4 → 1.5 ms for the parent edges of 455 CIs).
    /// Autovacuum would set the map eventually, but it lags a large import and may be off.
    async fn refresh_planner(&self) -> Result<(), sqlx::Error> {
        let tables: Option<String> = sqlx::query_scalar(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables WHERE schemaname = current_schema()",
        )
        .fetch_one(&self.pool)
        .await?;
        if let Some(tables) = tables {
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {tables}")))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Writes share the one pool on PostgreSQL.
    async fn close_writer(&self) {}

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
        let store = Self {
            pool,
            backend: PgBackend,
        };
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

    /// The GIN index is written in each create's transaction (its pending list defers the
    /// work already): nothing is ever behind.
    async fn index_search_behind(&self, _max: u32) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn search_caught_up(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Creates a batch of new incidents in two round trips: its numbers from the
    /// sequence, then one statement whose data-modifying `WITH` parts insert the incident
    /// rows, their CIs, SLA access rows and outbox events, and whose main part inserts the
    /// audit entries. One statement is one transaction (its foreign keys are checked at
    /// its end, when the incidents exist), instead of `BEGIN`, a statement per table and
    /// `COMMIT`, each a round trip. A failed statement leaves the numbers it drew unused,
    /// as on the other path (a sequence never hands a number out twice). For batches of
    /// up to `incidents::SCRIPT_MAX_INCIDENTS`.
    pub(crate) async fn create_incidents_script(
        &self,
        batch: &mut [custos_core::store::IncidentWrite],
        now: custos_core::Timestamp,
    ) -> Result<(), StoreError> {
        let map = crate::error::map("incident");
        let mut conn = self.pool.acquire().await.map_err(&map)?;
        let numbers = self.next_incident_numbers(&mut conn, batch.len()).await?;
        crate::incidents::number_writes(batch, &numbers);
        let parts = crate::incidents::NewIncidentRows::of(batch);
        let mut statements = parts.statements();
        let main = statements.pop().unwrap_or_default();
        let with: Vec<String> = statements
            .iter()
            .enumerate()
            .map(|(k, s)| format!("w{k} AS ({s})"))
            .collect();
        let sql = format!("WITH {} {main}", with.join(", "));
        let q = PgStore::query(sqlx::AssertSqlSafe(sql));
        let q = crate::incidents::bind_new_incidents(q, &parts, &numbers, now);
        q.execute(&mut *conn).await.map_err(|e| {
            crate::service_levels::rows::missing_ref("service, CI, group, user or SLA")(map(e))
        })?;
        Ok(())
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
}

impl PgStore {
    /// Heap blocks per chunk of a full scan (8 MiB of table; a TID range scan per chunk,
    /// PostgreSQL 14 or newer).
    const SCAN_BLOCKS: i64 = 1024;

    /// Block ranges covering `table` now; the last one is open-ended, so rows appended
    /// meanwhile are not missed.
    async fn block_ranges(
        tx: &mut sqlx::PgConnection,
        table: &str,
    ) -> custos_core::error::StoreResult<Vec<(i64, i64)>> {
        let (blocks,): (i64,) = sqlx::query_as(
            "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint",
        )
        .bind(table)
        .fetch_one(&mut *tx)
        .await
        .map_err(crate::error::map("configuration item"))?;
        let mut out: Vec<(i64, i64)> = (0..blocks)
            .step_by(Self::SCAN_BLOCKS as usize)
            .map(|b| (b, b + Self::SCAN_BLOCKS))
            .collect();
        match out.last_mut() {
            Some(last) => last.1 = i64::from(u32::MAX - 1),
            None => out.push((0, i64::from(u32::MAX - 1))),
        }
        Ok(out)
    }

    /// Every CI for a full re-classification, one chunk of heap blocks at a time, each
    /// chunk one bytea of records: the id's 16 bytes and the packed explicit levels in two.
    async fn scan_cis(
        tx: &mut sqlx::PgConnection,
    ) -> custos_core::error::StoreResult<crate::cmdb::scan::CiScan> {
        let mut out = crate::cmdb::scan::CiScan::default();
        for (from, to) in Self::block_ranges(tx, "cis").await? {
            let (n, blob): (i64, Option<Vec<u8>>) = sqlx::query_as(
                "SELECT count(*), string_agg(uuid_send(id) || int2send((coalesce(cls_c, 0) + 4 * coalesce(cls_i, 0) \
                 + 16 * coalesce(cls_a, 0))::int2), ''::bytea) FROM cis \
                 WHERE ctid >= format('(%s,0)', $1::bigint)::tid AND ctid < format('(%s,0)', $2::bigint)::tid",
            )
            .bind(from)
            .bind(to)
            .fetch_one(&mut *tx)
            .await
            .map_err(crate::error::map("configuration item"))?;
            out.add_chunk(&blob.unwrap_or_default(), n, 18, |b| {
                Some(u16::from_be_bytes(b.try_into().ok()?))
            })?;
        }
        Ok(out)
    }

    /// Every (parent, child) inheritance edge, in chunks like [`Self::scan_cis`].
    async fn scan_flow_edges(
        tx: &mut sqlx::PgConnection,
        scan: &crate::cmdb::scan::CiScan,
    ) -> custos_core::error::StoreResult<Vec<(u32, u32)>> {
        let sql = format!(
            "SELECT count(*), string_agg(CASE WHEN rel_type IN {back} THEN uuid_send(target_id) || uuid_send(source_id) \
             ELSE uuid_send(source_id) || uuid_send(target_id) END, ''::bytea) FROM relationships \
             WHERE ctid >= format('(%s,0)', $1::bigint)::tid AND ctid < format('(%s,0)', $2::bigint)::tid \
             AND (rel_type IN {fwd} OR rel_type IN {back})",
            back = crate::cmdb::FLOW_BACKWARD,
            fwd = crate::cmdb::FLOW_FORWARD,
        );
        let mut pairs = vec![];
        for (from, to) in Self::block_ranges(tx, "relationships").await? {
            let (n, blob): (i64, Option<Vec<u8>>) =
                sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(from)
                    .bind(to)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(crate::error::map("relationship"))?;
            scan.add_edges(&mut pairs, &blob.unwrap_or_default(), n)?;
        }
        Ok(pairs)
    }
}
