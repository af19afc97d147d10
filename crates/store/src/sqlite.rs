//! SQLite backend: one file in WAL mode, foreign keys on, write transactions started
//! `IMMEDIATE` so that concurrent writers queue on the busy timeout instead of failing on
//! a lock upgrade.

use crate::ConnectOptions;
use crate::sql::{Fut, On, Record, Rows, Value};
use custos_core::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::time::Duration;

type Raw<'q> = crate::sql::RawQuery<'q, SqliteBackend>;

/// Incidents a search indexes per transaction while it catches up.
const SEARCH_CATCH_UP: u32 = 2000;

/// The store on SQLite.
pub type SqliteStore = crate::sql::SqlStore<SqliteBackend>;

/// What the SQLite store keeps besides its reader pool.
pub struct SqliteBackend {
    /// The one connection every write transaction uses. SQLite admits one writer at a
    /// time anyway; a dedicated connection keeps its page cache warm (a connection's cache
    /// is dropped whenever another connection has committed) and the queue in-process.
    writer: SqlitePool,
    /// The number the next new incident gets, once known (see
    /// [`SqliteStore::create_incidents_script`]); `None`: read it from the table.
    next_incident: std::sync::Mutex<Option<i64>>,
}

impl crate::sql::Backend for SqliteBackend {
    /// The write transaction is `IMMEDIATE`, so nobody else numbers problems meanwhile.
    fn next_problem_number(conn: &mut sqlx::SqliteConnection) -> Fut<'_, Result<i64, StoreError>> {
        Box::pin(async move {
            let (max,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(number), 0) FROM problems")
                .fetch_one(&mut *conn)
                .await
                .map_err(crate::error::map("problem"))?;
            Ok(max + 1)
        })
    }

    /// SQLite has no row locks; the `IMMEDIATE` write transaction already excludes other
    /// sealers.
    const LOCK_AUDIT_HEAD: &'static str = "SELECT seq, hash FROM audit_head WHERE singleton = 1";

    /// The `IMMEDIATE` write transaction already keeps other dispatchers out while claiming.
    const CLAIM_LOCK: &'static str = "";

    /// The `IMMEDIATE` write transaction already serialises graph changes.
    const LOCK_CMDB: &'static str = "SELECT singleton FROM cmdb_lock WHERE singleton = 1";

    /// Full-text match through the FTS5 index; `$5` is [`Self::fts_query`].
    const CI_SEARCH: &'static str = "c.rowid IN (SELECT rowid FROM cis_fts WHERE cis_fts MATCH $5)";

    /// Quoted prefix terms, all required: `"web"* "prod"*`.
    fn fts_query(terms: &[String]) -> String {
        terms
            .iter()
            .map(|t| format!("\"{}\"*", t.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The ids a subquery selects (as column `x`), comma-separated: hex, which
    /// `Uuid::parse_str` reads.
    fn uuid_list(sub: &str) -> String {
        format!("(SELECT group_concat(hex(x), ',') FROM ({sub}))")
    }

    /// Full-text match of incidents: the FTS5 table `f` of [`Self::incident_listing`].
    fn incident_search(n: usize) -> String {
        format!("f.incidents_fts MATCH ${n}")
    }

    /// A search is driven by the FTS5 index, joined to the incidents in rowid order (the
    /// order they were stored, newest first), so it stops at the end of the page instead
    /// of sorting every match; without one, newest first by id.
    fn incident_listing(searching: bool) -> crate::incidents::rows::Listing {
        if searching {
            crate::incidents::rows::Listing {
                from: "incidents_fts f JOIN incidents i ON i.rowid = f.rowid",
                order: "f.rowid DESC",
                after: "f.rowid < (SELECT rowid FROM incidents WHERE id = ${})",
                window: 0,
            }
        } else {
            crate::incidents::rows::Listing::BY_ID
        }
    }

    /// Full-text match of problems through the FTS5 index.
    fn problem_search(n: usize) -> String {
        format!("p.rowid IN (SELECT rowid FROM problems_fts WHERE problems_fts MATCH ${n})")
    }

    type Db = sqlx::Sqlite;

    const NAME: &'static str = "sqlite";

    fn refresh_planner(store: &SqliteStore) -> Fut<'_, Result<(), sqlx::Error>> {
        Box::pin(store.refresh_planner())
    }

    fn close(store: &SqliteStore) -> Fut<'_, ()> {
        Box::pin(store.close_writer())
    }

    /// No row locks: the `IMMEDIATE` write transaction already excludes other writers.
    const FOR_UPDATE: &'static str = "";

    fn write_pool(store: &SqliteStore) -> &sqlx::Pool<Self::Db> {
        &store.backend.writer
    }

    fn begin(
        store: &SqliteStore,
    ) -> Fut<'_, Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError>> {
        Box::pin(async move {
            store
                .backend
                .writer
                .begin_with("BEGIN IMMEDIATE")
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
        let q = q.try_map(|row: sqlx::sqlite::SqliteRow| O::from_row(&row));
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
        let q = q.try_map(|row: sqlx::sqlite::SqliteRow| O::from_row(&row));
        Box::pin(async move {
            match on {
                On::Pool(p) => q.fetch_optional(p).await,
                On::Conn(c) => q.fetch_optional(c).await,
            }
        })
    }

    fn fetch<'q: 'c, 'c, O: Record>(q: Raw<'q>, on: On<'c, Self>) -> Rows<'c, O> {
        let q = q.try_map(|row: sqlx::sqlite::SqliteRow| O::from_row(&row));
        match on {
            On::Pool(p) => q.fetch(p),
            On::Conn(c) => q.fetch(c),
        }
    }

    fn params(sql: String) -> String {
        crate::rows::anonymous_params(sql)
    }

    fn bind_ids<'q>(mut q: Raw<'q>, ids: &[uuid::Uuid]) -> Raw<'q> {
        for id in ids {
            q = q.bind(*id);
        }
        q
    }

    fn create_incidents_script<'a>(
        store: &'a SqliteStore,
        batch: &'a mut [custos_core::store::IncidentWrite],
        now: custos_core::Timestamp,
    ) -> Fut<'a, Result<(), StoreError>> {
        Box::pin(store.create_incidents_script(batch, now))
    }

    fn next_incident_numbers<'a>(
        store: &'a SqliteStore,
        conn: &'a mut sqlx::SqliteConnection,
        n: usize,
    ) -> Fut<'a, Result<Vec<i64>, StoreError>> {
        Box::pin(store.next_incident_numbers(conn, n))
    }

    fn search_caught_up(store: &SqliteStore) -> Fut<'_, Result<(), StoreError>> {
        Box::pin(store.search_caught_up())
    }

    fn index_search_behind(store: &SqliteStore, max: u32) -> Fut<'_, Result<u64, StoreError>> {
        Box::pin(store.index_search_behind(max))
    }

    fn scan_cis(
        conn: &mut sqlx::SqliteConnection,
    ) -> Fut<'_, Result<crate::cmdb::scan::CiScan, StoreError>> {
        Box::pin(SqliteStore::scan_cis(conn))
    }

    fn scan_flow_edges<'a>(
        conn: &'a mut sqlx::SqliteConnection,
        scan: &'a crate::cmdb::scan::CiScan,
    ) -> Fut<'a, Result<Vec<(u32, u32)>, StoreError>> {
        Box::pin(SqliteStore::scan_flow_edges(conn, scan))
    }

    /// SQLite (3.51) plans the plain join as a scan of the whole target table, probing the
    /// VALUES through a Bloom filter: 40–150 ms per 250 audit entries sealed at 100,000
    /// entries, growing with the table. The `IN` list makes it look up each listed row.
    fn update_from_values(target: &str, alias: &str, set: &str, values: &str) -> String {
        format!(
            "WITH v AS (VALUES {values}) UPDATE {target} AS {alias} SET {set} FROM v \
             WHERE {alias}.id = v.column1 AND {alias}.id IN (SELECT column1 FROM v)"
        )
    }
}

impl SqliteStore {
    /// Planner statistics of the tables that changed enough (`Store::analyze`).
    async fn refresh_planner(&self) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA optimize")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: &Path, opts: &ConnectOptions) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Internal(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // sqlx hands rows from its SQLite thread over a bounded channel (50 by default):
            // a page of 50 (+1 to know there is more) would stall the thread on the last row.
            .row_buffer_size(256);
        let failed = |e: sqlx::Error| {
            StoreError::Internal(format!(
                "cannot open SQLite database {}: {e}",
                path.display()
            ))
        };
        // Readers keep SQLite's default page cache (2 MiB each; the OS caches the file):
        // a list or a search touches a page's worth of rows, and memory stays low.
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .min_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(failed)?;
        // The writer updates the same right-hand index pages batch after batch: 16 MiB.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.pragma("cache_size", "-16384"))
            .await
            .map_err(failed)?;
        let store = Self {
            pool,
            backend: SqliteBackend {
                writer,
                next_incident: std::sync::Mutex::new(None),
            },
        };
        if opts.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))
    }

    async fn close_writer(&self) {
        self.backend.writer.close().await;
    }

    /// The pool, for tests that tamper with the database behind the store's back.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Indexes up to `max` of the incidents above the search mark (migration 0015) in one
    /// write transaction and moves the mark past them; returns how many. Run behind the
    /// commit (the jobs, every `seal_interval_ms`) and before a search: FTS5 writes a
    /// segment per transaction, so hundreds at once cost a fraction per incident of what
    /// each create's own transaction paid.
    async fn index_search_behind(&self, max: u32) -> Result<u64, StoreError> {
        // A look from a reader first: an idle server's pass takes no write transaction.
        if !self.search_behind().await? {
            return Ok(0);
        }
        let map = crate::error::map("search index");
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT s.upto, (SELECT MAX(rowid) FROM (SELECT rowid FROM incidents WHERE rowid > s.upto ORDER BY rowid {})) \
             FROM search_indexed s WHERE s.name = 'incidents'",
            crate::rows::limit(i64::from(max.max(1)))
        );
        let (from, to): (i64, Option<i64>) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await
            .map_err(&map)?;
        let Some(to) = to else {
            return Ok(0);
        };
        let n = sqlx::query(
            "INSERT INTO incidents_fts (rowid, title, description) \
             SELECT rowid, title, description FROM incidents WHERE rowid > $1 AND rowid <= $2",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await
        .map_err(&map)?
        .rows_affected();
        sqlx::query("UPDATE search_indexed SET upto = $1 WHERE name = 'incidents'")
            .bind(to)
            .execute(&mut *tx)
            .await
            .map_err(&map)?;
        tx.commit().await.map_err(&map)?;
        Ok(n)
    }

    /// Indexes whatever is above the search mark, so that a search that follows finds every
    /// incident committed before it. Nothing to do (one look at the mark) unless incidents
    /// were created since the last indexing, at most `seal_interval_ms` ago under load.
    async fn search_caught_up(&self) -> Result<(), StoreError> {
        while self.index_search_behind(SEARCH_CATCH_UP).await? == u64::from(SEARCH_CATCH_UP) {}
        Ok(())
    }

    /// Whether incidents above the search mark wait to be indexed (read from a reader).
    async fn search_behind(&self) -> Result<bool, StoreError> {
        let (behind,): (bool,) = sqlx::query_as(
            "SELECT COALESCE((SELECT MAX(rowid) FROM incidents), 0) > upto FROM search_indexed WHERE name = 'incidents'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(crate::error::map("search index"))?;
        Ok(behind)
    }

    /// The write transaction is `IMMEDIATE`, so nobody else numbers incidents meanwhile.
    /// The script path's counter is read afresh after this path has numbered some.
    async fn next_incident_numbers(
        &self,
        tx: &mut sqlx::SqliteConnection,
        n: usize,
    ) -> Result<Vec<i64>, StoreError> {
        *self
            .backend
            .next_incident
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        let (max,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(number), 0) FROM incidents")
            .fetch_one(&mut *tx)
            .await
            .map_err(crate::error::map("incident"))?;
        Ok((1..=n as i64).map(|k| max + k).collect())
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        <SqliteBackend as crate::sql::Backend>::begin(self).await
    }
}

impl SqliteStore {
    /// Every CI for a full re-classification, a chunk of rows at a time in rowid order,
    /// each chunk one blob of records: the id's 16 bytes and the packed explicit levels in
    /// three hex digits (SQLite's `||` and `group_concat` keep a blob's bytes, zeros
    /// included).
    async fn scan_cis(
        tx: &mut sqlx::SqliteConnection,
    ) -> custos_core::error::StoreResult<crate::cmdb::scan::CiScan> {
        let sql = format!(
            "SELECT max(r), count(*), CAST(group_concat(CAST(id AS TEXT) || printf('%03x', bits), '') AS BLOB) \
             FROM (SELECT rowid AS r, id, coalesce(cls_c, 0) + 4 * coalesce(cls_i, 0) + 16 * coalesce(cls_a, 0) \
             AS bits FROM cis WHERE rowid > $1 ORDER BY rowid LIMIT {})",
            crate::cmdb::SCAN_CHUNK
        );
        let mut out = crate::cmdb::scan::CiScan::default();
        Self::scan_chunks(tx, &sql, "configuration item", |blob, n| {
            out.add_chunk(blob, n, 19, |hex| {
                u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
            })
        })
        .await?;
        Ok(out)
    }

    /// Runs a chunk query (`$1` = the last rowid of the previous chunk; it returns the
    /// chunk's last rowid, its row count and its packed blob) until a chunk comes back
    /// empty, handing each blob and count to `f`.
    async fn scan_chunks(
        tx: &mut sqlx::SqliteConnection,
        sql: &str,
        entity: &'static str,
        mut f: impl FnMut(&[u8], i64) -> custos_core::error::StoreResult<()>,
    ) -> custos_core::error::StoreResult<()> {
        let mut after = 0i64;
        loop {
            let (last, n, blob): (Option<i64>, i64, Option<Vec<u8>>) =
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(after)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(crate::error::map(entity))?;
            let Some(last) = last else {
                return Ok(());
            };
            f(&blob.unwrap_or_default(), n)?;
            after = last;
        }
    }

    /// Every (parent, child) inheritance edge, in chunks like [`Self::scan_cis`].
    async fn scan_flow_edges(
        tx: &mut sqlx::SqliteConnection,
        scan: &crate::cmdb::scan::CiScan,
    ) -> custos_core::error::StoreResult<Vec<(u32, u32)>> {
        let sql = format!(
            "SELECT max(r), count(*), CAST(group_concat(CAST(p AS TEXT) || CAST(c AS TEXT), '') AS BLOB) \
             FROM (SELECT rowid AS r, \
             CASE WHEN rel_type IN {back} THEN target_id ELSE source_id END AS p, \
             CASE WHEN rel_type IN {back} THEN source_id ELSE target_id END AS c \
             FROM relationships WHERE rowid > $1 AND (rel_type IN {fwd} OR rel_type IN {back}) ORDER BY rowid LIMIT {n})",
            back = crate::cmdb::FLOW_BACKWARD,
            fwd = crate::cmdb::FLOW_FORWARD,
            n = crate::cmdb::SCAN_CHUNK
        );
        let mut pairs = vec![];
        Self::scan_chunks(tx, &sql, "relationship", |blob, n| {
            scan.add_edges(&mut pairs, blob, n)
        })
        .await?;
        Ok(pairs)
    }
}

impl SqliteStore {
    /// Creates a batch of new incidents in one call to SQLite: `BEGIN IMMEDIATE`, the
    /// incident rows, their CIs and SLA access rows, outbox events, audit entries and
    /// `COMMIT` as one script, i.e. one hand-off to sqlx's SQLite thread instead of one per
    /// statement (each hand-off is a round trip between threads; under 16 concurrent
    /// creates the writer spent about a quarter of its time on them).
    ///
    /// Numbers come from a counter kept by the store. The unique number guards it: if
    /// another process numbered incidents meanwhile, the script fails at the first row,
    /// the transaction is rolled back and the batch is numbered again from the table.
    /// For batches of up to `incidents::SCRIPT_MAX_INCIDENTS`.
    pub(crate) async fn create_incidents_script(
        &self,
        batch: &mut [custos_core::store::IncidentWrite],
        now: custos_core::Timestamp,
    ) -> Result<(), StoreError> {
        let map = crate::error::map("incident");
        let pristine: Vec<Vec<custos_core::notify::Event>> =
            batch.iter().map(|w| w.events.clone()).collect();
        let mut conn = self.backend.writer.acquire().await.map_err(&map)?;
        for attempt in 0..2 {
            let cached = *self
                .backend
                .next_incident
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let first = match cached {
                Some(n) => n,
                None => {
                    let (max,): (i64,) =
                        sqlx::query_as("SELECT COALESCE(MAX(number), 0) FROM incidents")
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(&map)?;
                    max + 1
                }
            };
            let numbers: Vec<i64> = (first..first + batch.len() as i64).collect();
            crate::incidents::number_writes(batch, &numbers);
            let result = Self::run_incident_script(&mut conn, batch, &numbers, now).await;
            let next = result.is_ok().then_some(first + batch.len() as i64);
            *self
                .backend
                .next_incident
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = next;
            match result {
                Ok(()) => return Ok(()),
                Err(e) => {
                    // A failed statement leaves the transaction open (or SQLite has
                    // already rolled it back, and this is refused): either way none of
                    // the batch stays.
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    let err = crate::service_levels::rows::missing_ref(
                        "service, CI, group, user or SLA",
                    )(map(e));
                    let renumber = matches!(&err, StoreError::Conflict { constraint } if constraint == "incidents_number_key");
                    if attempt == 0 && renumber {
                        for (w, events) in batch.iter_mut().zip(&pristine) {
                            w.events = events.clone();
                        }
                        continue;
                    }
                    return Err(err);
                }
            }
        }
        Err(StoreError::Internal(
            "incident numbers kept colliding".into(),
        ))
    }

    async fn run_incident_script(
        conn: &mut sqlx::SqliteConnection,
        batch: &[custos_core::store::IncidentWrite],
        numbers: &[i64],
        now: custos_core::Timestamp,
    ) -> Result<(), sqlx::Error> {
        let parts = crate::incidents::NewIncidentRows::of(batch);
        let sql = format!("BEGIN IMMEDIATE; {}; COMMIT", parts.statements().join("; "));
        let q = SqliteStore::query(sqlx::AssertSqlSafe(crate::rows::anonymous_params(sql)));
        let q = crate::incidents::bind_new_incidents(q, &parts, numbers, now);
        q.execute(&mut *conn).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests;
