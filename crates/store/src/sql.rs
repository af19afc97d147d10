//! What both backends share, written once as ordinary Rust.
//!
//! - [`SqlStore<B>`] is the store; `SqliteStore` and `PgStore` are its two instances. An
//!   aggregate implements its storage trait once, for every `B: Backend`.
//! - [`Backend`] holds what truly differs between SQLite and PostgreSQL: the write
//!   transaction's start, row locks, parameter lists, and the few calls into the driver
//!   (binding, running, decoding), each implemented on the concrete database so that the
//!   store code needs no driver bounds.
//! - [`Query`] and [`QueryAs`] are the statements that code writes: `.bind(v)` takes any
//!   [`Value`] both databases encode, the fetches decode any [`Record`] both can read, and
//!   every run takes a place to run [`On`]: the store (its reader pool), or a connection
//!   (`&mut *tx` of a transaction, `&mut *conn` of one taken from the pool).
//! - [`AuditedTx`] is the write transaction. Each change is recorded on it as it is made,
//!   and its [`commit`](AuditedTx::commit) appends the records and refuses a write that
//!   recorded none; the few bookkeeping writes that are nobody's change (sealing the chain,
//!   delivery attempts) say so with [`commit_unaudited`](AuditedTx::commit_unaudited).

use custos_core::audit::AuditRecord;
use custos_core::authz::Actor;
use custos_core::{StoreError, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Database, Encode, FromRow, Postgres, Sqlite, Type};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

/// A future the backends hand back (boxed: generic store code, concrete driver calls).
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A stream of decoded rows.
pub type Rows<'a, T> =
    Pin<Box<dyn futures_util::Stream<Item = Result<T, sqlx::Error>> + Send + 'a>>;

/// A statement as the driver holds it.
pub type RawQuery<'q, B> =
    sqlx::query::Query<'q, <B as Backend>::Db, <<B as Backend>::Db as Database>::Arguments>;

/// The store on one backend: the pool readers use, and what the backend keeps besides.
pub struct SqlStore<B: Backend> {
    pub(crate) pool: sqlx::Pool<B::Db>,
    pub(crate) backend: B,
}

/// A value both databases bind: text, numbers, booleans, UUIDs, their `Option`s.
pub trait Value<'t>:
    Encode<'t, Sqlite> + Type<Sqlite> + Encode<'t, Postgres> + Type<Postgres>
{
}
impl<'t, T> Value<'t> for T where
    T: Encode<'t, Sqlite> + Type<Sqlite> + Encode<'t, Postgres> + Type<Postgres>
{
}

/// A row type both databases decode (`#[derive(sqlx::FromRow)]` structs and tuples).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// Where a statement runs: on the reader pool, or on an open transaction's connection.
pub enum On<'c, B: Backend> {
    Pool(&'c sqlx::Pool<B::Db>),
    Conn(&'c mut <B::Db as Database>::Connection),
}

impl<'c, B: Backend> From<&'c SqlStore<B>> for On<'c, B> {
    fn from(store: &'c SqlStore<B>) -> Self {
        On::Pool(&store.pool)
    }
}

impl<'c, B: Backend> From<&'c sqlx::Pool<B::Db>> for On<'c, B> {
    fn from(pool: &'c sqlx::Pool<B::Db>) -> Self {
        On::Pool(pool)
    }
}

/// A transaction's connection (`&mut *tx`) or one taken from the pool (`&mut *conn`).
impl<'c, B: Backend> From<&'c mut <B::Db as Database>::Connection> for On<'c, B> {
    fn from(conn: &'c mut <B::Db as Database>::Connection) -> Self {
        On::Conn(conn)
    }
}

/// The SQL and the driver calls that differ between the two databases.
pub trait Backend: Send + Sync + Sized + 'static {
    type Db: Database + Sync;

    /// `"sqlite"` or `"postgres"` (`Store::backend`).
    const NAME: &'static str;

    /// Planner statistics of the tables that changed enough (`Store::analyze`).
    fn refresh_planner(store: &SqlStore<Self>) -> Fut<'_, Result<(), sqlx::Error>>;

    /// Closes what the backend holds besides the reader pool.
    fn close(store: &SqlStore<Self>) -> Fut<'_, ()>;

    /// `" FOR UPDATE"` where the database locks rows; empty where the write transaction
    /// already excludes other writers (SQLite's `IMMEDIATE`).
    const FOR_UPDATE: &'static str;

    /// Reads the audit chain head, locked against other sealers.
    const LOCK_AUDIT_HEAD: &'static str;
    /// How a dispatcher claims due deliveries without waiting for another's.
    const CLAIM_LOCK: &'static str;
    /// Serialises changes of the CMDB graph.
    const LOCK_CMDB: &'static str;
    /// The full-text condition of a CI search; `$5` is [`Self::fts_query`].
    const CI_SEARCH: &'static str;

    /// Search terms as this backend's full-text query: every term, as a prefix.
    fn fts_query(terms: &[String]) -> String;
    /// The ids a subquery selects (as column `x`), comma-separated.
    fn uuid_list(sub: &str) -> String;
    /// The full-text condition of an incident search on parameter `$n`.
    fn incident_search(n: usize) -> String;
    /// What an incident list reads from and in which order.
    fn incident_listing(searching: bool) -> Listing;
    /// The full-text condition of a problem search on parameter `$n`.
    fn problem_search(n: usize) -> String;
    /// The number the next problem gets, inside the write transaction.
    fn next_problem_number(
        conn: &mut <Self::Db as Database>::Connection,
    ) -> Fut<'_, Result<i64, StoreError>>;

    /// A dynamically built statement as this backend runs it best; for SQLite, see
    /// [`crate::rows::anonymous_params`]. The SQL means the same either way.
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
    /// statement names it: by default one parameter per id, [`CHUNK`] at a
    /// time.
    fn id_chunks(ids: &[uuid::Uuid]) -> Vec<(IdList, &[uuid::Uuid])> {
        ids.chunks(CHUNK)
            .map(|c| (IdList::Each(c.len()), c))
            .collect()
    }

    /// Binds `ids` as [`Self::id_chunks`] named them.
    fn bind_ids<'q>(q: RawQuery<'q, Self>, ids: &[uuid::Uuid]) -> RawQuery<'q, Self>;

    /// Writes a batch of new incidents in one round trip where the backend can (numbers
    /// them too); see `SqliteStore::create_incidents_script`.
    fn create_incidents_script<'a>(
        store: &'a SqlStore<Self>,
        batch: &'a mut [custos_core::store::IncidentWrite],
        now: Timestamp,
    ) -> Fut<'a, Result<(), StoreError>>;

    /// The numbers the next `n` new incidents get, inside the write transaction.
    fn next_incident_numbers<'a>(
        store: &'a SqlStore<Self>,
        conn: &'a mut <Self::Db as Database>::Connection,
        n: usize,
    ) -> Fut<'a, Result<Vec<i64>, StoreError>>;

    /// Brings the incident search index up to date before a search (SQLite indexes behind
    /// the commit; PostgreSQL's index is always current).
    fn search_caught_up(store: &SqlStore<Self>) -> Fut<'_, Result<(), StoreError>>;

    /// Indexes up to `max` incidents behind the search mark; how many.
    fn index_search_behind(store: &SqlStore<Self>, max: u32) -> Fut<'_, Result<u64, StoreError>>;

    /// Every CI's id and explicit levels, for a full re-classification, in chunks.
    fn scan_cis(
        conn: &mut <Self::Db as Database>::Connection,
    ) -> Fut<'_, Result<crate::cmdb::scan::CiScan, StoreError>>;

    /// Every (parent, child) inheritance edge, as indices into `scan`.
    fn scan_flow_edges<'a>(
        conn: &'a mut <Self::Db as Database>::Connection,
        scan: &'a crate::cmdb::scan::CiScan,
    ) -> Fut<'a, Result<Vec<(u32, u32)>, StoreError>>;

    /// Where single-statement writes go (SQLite: the writer connection, so that they queue
    /// in-process behind the write transactions).
    fn write_pool(store: &SqlStore<Self>) -> &sqlx::Pool<Self::Db>;

    /// Starts a write transaction.
    fn begin(
        store: &SqlStore<Self>,
    ) -> Fut<'_, Result<sqlx::Transaction<'static, Self::Db>, StoreError>>;

    fn bind<'q, 't, T: Value<'t>>(q: RawQuery<'q, Self>, value: T) -> RawQuery<'q, Self>;

    /// Runs `q`; the number of rows it changed.
    fn execute<'q: 'c, 'c>(
        q: RawQuery<'q, Self>,
        on: On<'c, Self>,
    ) -> Fut<'c, Result<u64, sqlx::Error>>;

    fn fetch_all<'q: 'c, 'c, O: Record>(
        q: RawQuery<'q, Self>,
        on: On<'c, Self>,
    ) -> Fut<'c, Result<Vec<O>, sqlx::Error>>;

    fn fetch_optional<'q: 'c, 'c, O: Record>(
        q: RawQuery<'q, Self>,
        on: On<'c, Self>,
    ) -> Fut<'c, Result<Option<O>, sqlx::Error>>;

    fn fetch<'q: 'c, 'c, O: Record>(q: RawQuery<'q, Self>, on: On<'c, Self>) -> Rows<'c, O>;
}

/// The database a store runs on (for the code that still names the driver's types).
pub trait HasDb {
    type Db: Database;
}

impl<B: Backend> HasDb for SqlStore<B> {
    type Db = B::Db;
}

impl<B: Backend> SqlStore<B> {
    pub(crate) const FOR_UPDATE: &'static str = B::FOR_UPDATE;
    pub(crate) const LOCK_AUDIT_HEAD: &'static str = B::LOCK_AUDIT_HEAD;
    pub(crate) const CLAIM_LOCK: &'static str = B::CLAIM_LOCK;
    pub(crate) const LOCK_CMDB: &'static str = B::LOCK_CMDB;
    pub(crate) const CI_SEARCH: &'static str = B::CI_SEARCH;

    pub(crate) fn fts_query(terms: &[String]) -> String {
        B::fts_query(terms)
    }

    pub(crate) fn uuid_list(sub: &str) -> String {
        B::uuid_list(sub)
    }

    pub(crate) fn incident_search(n: usize) -> String {
        B::incident_search(n)
    }

    pub(crate) fn incident_listing(searching: bool) -> Listing {
        B::incident_listing(searching)
    }

    pub(crate) fn problem_search(n: usize) -> String {
        B::problem_search(n)
    }

    pub(crate) async fn next_problem_number(
        &self,
        conn: &mut <B::Db as Database>::Connection,
    ) -> Result<i64, StoreError> {
        B::next_problem_number(conn).await
    }

    pub(crate) fn params(sql: String) -> String {
        B::params(sql)
    }

    pub(crate) fn update_from_values(target: &str, alias: &str, set: &str, values: &str) -> String {
        B::update_from_values(target, alias, set, values)
    }

    pub(crate) fn id_chunks(ids: &[uuid::Uuid]) -> Vec<(IdList, &[uuid::Uuid])> {
        B::id_chunks(ids)
    }

    pub(crate) fn bind_ids<'q, O: Record>(
        q: QueryAs<'q, B, O>,
        ids: &[uuid::Uuid],
    ) -> QueryAs<'q, B, O> {
        QueryAs(B::bind_ids(q.0, ids), PhantomData)
    }

    /// A statement whose rows, if any, are not read.
    pub(crate) fn query<'q>(sql: impl sqlx::SqlSafeStr) -> Query<'q, B> {
        Query(sqlx::query(sql))
    }

    /// A statement whose rows are read as `O`.
    pub(crate) fn query_as<'q, O: Record>(sql: impl sqlx::SqlSafeStr) -> QueryAs<'q, B, O> {
        QueryAs(sqlx::query(sql), PhantomData)
    }

    /// Where single-statement writes run ([`Backend::write_pool`]).
    pub(crate) fn writer(&self) -> On<'_, B> {
        On::Pool(B::write_pool(self))
    }

    /// Opens the write transaction; see [`AuditedTx`].
    pub(crate) async fn audited(&self) -> Result<AuditedTx<B>, StoreError> {
        Ok(AuditedTx {
            tx: B::begin(self).await?,
            records: Vec::new(),
        })
    }
}

/// What [`Query`] and [`QueryAs`] have in common: binding the next parameter. Helpers that
/// bind a record's columns take any `Q: Bind`.
pub trait Bind: Sized {
    fn bind<'t, T: Value<'t>>(self, value: T) -> Self;
}

impl<B: Backend> Bind for Query<'_, B> {
    fn bind<'t, T: Value<'t>>(self, value: T) -> Self {
        Query::bind(self, value)
    }
}

impl<B: Backend, O: Record> Bind for QueryAs<'_, B, O> {
    fn bind<'t, T: Value<'t>>(self, value: T) -> Self {
        QueryAs::bind(self, value)
    }
}

/// A statement to run; see the module documentation.
#[must_use = "a statement does nothing until it runs"]
pub struct Query<'q, B: Backend>(RawQuery<'q, B>);

impl<'q, B: Backend> Query<'q, B> {
    pub fn bind<'t, T: Value<'t>>(self, value: T) -> Self {
        Self(B::bind(self.0, value))
    }

    /// Runs the statement; the number of rows it changed.
    pub fn execute<'c>(self, on: impl Into<On<'c, B>>) -> Fut<'c, Result<u64, sqlx::Error>>
    where
        'q: 'c,
    {
        B::execute(self.0, on.into())
    }
}

/// A statement whose rows are read as `O`.
#[must_use = "a statement does nothing until it runs"]
pub struct QueryAs<'q, B: Backend, O>(RawQuery<'q, B>, PhantomData<fn() -> O>);

impl<'q, B: Backend, O: Record> QueryAs<'q, B, O> {
    pub fn bind<'t, T: Value<'t>>(self, value: T) -> Self {
        Self(B::bind(self.0, value), PhantomData)
    }

    pub fn fetch_all<'c>(self, on: impl Into<On<'c, B>>) -> Fut<'c, Result<Vec<O>, sqlx::Error>>
    where
        'q: 'c,
    {
        B::fetch_all(self.0, on.into())
    }

    pub fn fetch_optional<'c>(
        self,
        on: impl Into<On<'c, B>>,
    ) -> Fut<'c, Result<Option<O>, sqlx::Error>>
    where
        'q: 'c,
    {
        B::fetch_optional(self.0, on.into())
    }

    /// The first row; `sqlx::Error::RowNotFound` (→ `StoreError::NotFound`) when none.
    pub fn fetch_one<'c>(self, on: impl Into<On<'c, B>>) -> Fut<'c, Result<O, sqlx::Error>>
    where
        'q: 'c,
    {
        let row = B::fetch_optional(self.0, on.into());
        Box::pin(async move { row.await?.ok_or(sqlx::Error::RowNotFound) })
    }

    /// The rows one by one, for scans too large to hold.
    pub fn fetch<'c>(self, on: impl Into<On<'c, B>>) -> Rows<'c, O>
    where
        'q: 'c,
    {
        B::fetch(self.0, on.into())
    }
}

/// The write transaction. Every change is recorded on it ([`record`](Self::record)) as it
/// is made; [`commit`](Self::commit) appends the recorded audit entries in the same
/// transaction (one multi-row insert), so a change and its record are stored together or
/// not at all, and refuses to commit a write that recorded nothing. The few bookkeeping
/// writes that are no one's change (sealing the chain, delivery attempts, the search
/// index) say so with [`commit_unaudited`](Self::commit_unaudited). Dropping it rolls back.
#[must_use = "a write transaction rolls back unless it is committed"]
pub struct AuditedTx<B: Backend> {
    tx: sqlx::Transaction<'static, B::Db>,
    records: Vec<Pending>,
}

/// An audit entry recorded on an open write transaction.
struct Pending {
    actor: String,
    actor_id: Option<uuid::Uuid>,
    record: AuditRecord,
    at: Timestamp,
}

/// The transaction's connection, for the statements of the write: `.execute(&mut *tx)`.
impl<B: Backend> std::ops::Deref for AuditedTx<B> {
    type Target = <B::Db as Database>::Connection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<B: Backend> std::ops::DerefMut for AuditedTx<B> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl<B: Backend> AuditedTx<B> {
    /// Records `record`, by `actor` at `at`, to be appended when the transaction commits.
    pub fn record(&mut self, actor: &Actor, record: AuditRecord, at: Timestamp) {
        self.records.push(Pending {
            actor: actor.label(),
            actor_id: actor.user_id().map(|u| u.0),
            record,
            at,
        });
    }

    /// [`record`](Self::record) for each of `records`.
    pub fn record_all(&mut self, records: Vec<(&Actor, AuditRecord)>, at: Timestamp) {
        for (actor, record) in records {
            self.record(actor, record, at);
        }
    }

    /// Appends the recorded audit entries and commits. A write that recorded nothing is
    /// refused (`Internal`): it would be a change without a trace.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if self.records.is_empty() {
            return Err(StoreError::Internal(
                "a write transaction recorded no audit entry".into(),
            ));
        }
        let records = std::mem::take(&mut self.records);
        for chunk in records.chunks(CHUNK_ROWS) {
            let sql = format!(
                "{} {}",
                AUDIT_INSERT,
                crate::rows::value_lists(chunk.len(), 8)
            );
            let mut q = SqlStore::<B>::query(sqlx::AssertSqlSafe(B::params(sql)));
            for p in chunk {
                q = q
                    .bind(custos_core::AuditId::new().0)
                    .bind(p.at.0)
                    .bind(p.actor.as_str())
                    .bind(p.actor_id)
                    .bind(p.record.action.as_str())
                    .bind(p.record.entity_type)
                    .bind(p.record.entity_id.as_str())
                    .bind(custos_core::audit::canonical_json(&p.record.changes));
            }
            q.execute(&mut *self.tx)
                .await
                .map_err(crate::error::map("audit entry"))?;
        }
        self.commit_unaudited().await
    }

    /// For a write that may turn out to change nothing (an import of what is already
    /// stored): commits what was recorded, or, when nothing was, rolls back, so that no
    /// unrecorded change is ever kept.
    pub async fn commit_if_recorded(self) -> Result<(), StoreError> {
        if self.records.is_empty() {
            return self
                .tx
                .rollback()
                .await
                .map_err(crate::error::map("transaction"));
        }
        self.commit().await
    }

    /// Commits without an audit entry: only for bookkeeping that is nobody's change.
    pub async fn commit_unaudited(self) -> Result<(), StoreError> {
        self.tx
            .commit()
            .await
            .map_err(crate::error::map("transaction"))
    }
}

/// Rows per multi-row insert of satellite rows (well under both backends' bind limits).
pub(crate) const CHUNK_ROWS: usize = 500;

/// The columns of an unsealed audit entry, for a multi-row insert into `audit_log`.
pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_log (id, at, actor, actor_id, action, entity_type, entity_id, changes) VALUES";

/// Ids per IN list.
pub(crate) const CHUNK: usize = 500;

/// How a statement names a list of ids: one parameter each, `$1 … $n` (SQLite), or one
/// array parameter `$1` (PostgreSQL, `crate::sql::Backend::id_chunks`), which binds any number
/// of ids at once and may be named more than once.
#[derive(Clone, Copy, Debug)]
pub enum IdList {
    Each(usize),
    Array,
}

impl IdList {
    /// `col` is one of the listed ids.
    pub(crate) fn has(self, col: &str) -> String {
        match self {
            Self::Each(n) => format!("{col} IN ({})", crate::rows::placeholders(1, n)),
            Self::Array => format!("{col} = ANY($1)"),
        }
    }

    /// The two per-direction statements of an edge query as this list runs them: apart
    /// when each id has its own parameter (a `UNION ALL` would name them twice, and on
    /// SQLite binding numbered parameters costs O(n²), `rows::anonymous_params`), as one
    /// statement, one round trip, over an array.
    pub(crate) fn statements(self, [forward, backward]: [String; 2]) -> Vec<String> {
        match self {
            Self::Each(_) => vec![forward, backward],
            Self::Array => vec![format!("{forward} UNION ALL {backward}")],
        }
    }
}

/// How a backend lists incidents: the FROM clause, the order, and the keyset condition
/// for the page after a given id (`{}` is the parameter number).
///
/// `window`, when not zero, makes a search look first among that many newest incidents
/// (walking the id index, the match a filter) and only when they do not fill the page
/// run the query as it is: a common term matches a few per cent of all incidents, and
/// finding the newest 50 of them that way reads ~2,000 adjacent rows instead of every
/// match's row. The answer is the same either way: if the window fills the page, no
/// match outside it (all older) can belong on it.
pub struct Listing {
    pub from: &'static str,
    pub order: &'static str,
    pub after: &'static str,
    pub window: u32,
}

impl Listing {
    /// Newest first by id (UUIDv7, so creation order).
    pub const BY_ID: Listing = Listing {
        from: "incidents i",
        order: "i.id DESC",
        after: "i.id < ${}",
        window: 0,
    };

    pub fn after(&self, n: usize) -> String {
        self.after.replace("${}", &format!("${n}"))
    }
}

/// The `Store` trait itself: the backend's name, liveness, planner statistics, pool.
#[async_trait::async_trait]
impl<B: Backend> custos_core::store::Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Self::query("SELECT 1")
            .execute(self)
            .await
            .map(|_| ())
            .map_err(crate::error::map("database"))
    }

    async fn analyze(&self) -> Result<(), StoreError> {
        B::refresh_planner(self)
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
        B::close(self).await;
    }
}

#[cfg(test)]
mod tests;
