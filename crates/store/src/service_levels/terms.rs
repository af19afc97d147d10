//! OLAs and underpinning contracts: tables whose record is the `terms` JSON plus
//! `service_id` (and, for contracts, `supplier_id`), written and read by one set of
//! functions over a [`TermsTable`].

use crate::service_levels::rows::{TermsRow, json_of, missing_ref};
use crate::sql::{Backend, SqlStore};
use custos_core::audit::{AuditRecord, diff};
use custos_core::authz::Actor;
use custos_core::error::StoreResult;
use custos_core::page::{Page, PageRequest};
use custos_core::sla::{Contract, ContractTerms, Ola, OlaTerms};
use custos_core::{StoreError, Timestamp};
use uuid::Uuid;

/// One table of terms.
pub(crate) trait TermsTable {
    type Terms: serde::Serialize + Send + Sync;
    type Rec: TryFrom<TermsRow, Error = StoreError> + Send;
    /// The table's name.
    const TABLE: &'static str;
    /// How a missing record is named in errors.
    const ENTITY: &'static str;
    /// The audit entity type (and action prefix).
    const AUDIT: &'static str;
    fn service(t: &Self::Terms) -> Uuid;
    /// The `supplier_id` column, for the tables that have one.
    fn supplier(t: &Self::Terms) -> Option<Uuid>;
    fn id(r: &Self::Rec) -> Uuid;
    fn terms(r: &Self::Rec) -> &Self::Terms;
    fn created_at(r: &Self::Rec) -> Timestamp;
}

pub(crate) struct Olas;

impl TermsTable for Olas {
    type Terms = OlaTerms;
    type Rec = Ola;
    const TABLE: &'static str = "olas";
    const ENTITY: &'static str = "OLA";
    const AUDIT: &'static str = "ola";
    fn service(t: &OlaTerms) -> Uuid {
        t.service_id.0
    }
    fn supplier(_: &OlaTerms) -> Option<Uuid> {
        None
    }
    fn id(r: &Ola) -> Uuid {
        r.id.0
    }
    fn terms(r: &Ola) -> &OlaTerms {
        &r.terms
    }
    fn created_at(r: &Ola) -> Timestamp {
        r.created_at
    }
}

pub(crate) struct Contracts;

impl TermsTable for Contracts {
    type Terms = ContractTerms;
    type Rec = Contract;
    const TABLE: &'static str = "contracts";
    const ENTITY: &'static str = "contract";
    const AUDIT: &'static str = "contract";
    fn service(t: &ContractTerms) -> Uuid {
        t.service_id.0
    }
    fn supplier(t: &ContractTerms) -> Option<Uuid> {
        Some(t.supplier_id.0)
    }
    fn id(r: &Contract) -> Uuid {
        r.id.0
    }
    fn terms(r: &Contract) -> &ContractTerms {
        &r.terms
    }
    fn created_at(r: &Contract) -> Timestamp {
        r.created_at
    }
}

const COLS: &str = "id, terms, created_at, updated_at";

pub(crate) async fn create<T: TermsTable, B: Backend>(
    store: &SqlStore<B>,
    actor: &Actor,
    t: T::Terms,
) -> StoreResult<T::Rec> {
    let now = Timestamp::now();
    let id = Uuid::now_v7();
    let map = crate::error::map(T::ENTITY);
    let supplier = T::supplier(&t);
    let mut tx = store.audited().await?;
    let sql = match supplier {
        Some(_) => format!(
            "INSERT INTO {} (id, service_id, terms, created_at, updated_at, supplier_id) \
             VALUES ($1, $2, $3, $4, $4, $5)",
            T::TABLE
        ),
        None => format!(
            "INSERT INTO {} (id, service_id, terms, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
            T::TABLE
        ),
    };
    let mut q = SqlStore::<B>::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(T::service(&t))
        .bind(serde_json::to_string(&t).unwrap_or_default())
        .bind(now.0);
    if let Some(x) = supplier {
        q = q.bind(x);
    }
    q.execute(&mut *tx)
        .await
        .map_err(|e| missing_ref("service or supplier")(map(e)))?;
    let changes = diff(None, Some(&json_of(&t)));
    let action = format!("{}.create", T::AUDIT);
    tx.record(actor, AuditRecord::new(action, T::AUDIT, id, changes), now);
    tx.commit().await?;
    T::Rec::try_from(TermsRow::new(id, &t, now))
}

pub(crate) async fn update<T: TermsTable, B: Backend>(
    store: &SqlStore<B>,
    actor: &Actor,
    id: Uuid,
    t: T::Terms,
) -> StoreResult<T::Rec> {
    let now = Timestamp::now();
    let map = crate::error::map(T::ENTITY);
    let supplier = T::supplier(&t);
    let mut tx = store.audited().await?;
    let sql = format!(
        "SELECT {COLS} FROM {} WHERE id = $1{}",
        T::TABLE,
        B::FOR_UPDATE
    );
    let before: TermsRow = SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(&map)?;
    let before = T::Rec::try_from(before)?;
    let sql = match supplier {
        Some(_) => format!(
            "UPDATE {} SET service_id = $2, terms = $3, updated_at = $4, supplier_id = $5 WHERE id = $1",
            T::TABLE
        ),
        None => format!(
            "UPDATE {} SET service_id = $2, terms = $3, updated_at = $4 WHERE id = $1",
            T::TABLE
        ),
    };
    let mut q = SqlStore::<B>::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(T::service(&t))
        .bind(serde_json::to_string(&t).unwrap_or_default())
        .bind(now.0);
    if let Some(x) = supplier {
        q = q.bind(x);
    }
    q.execute(&mut *tx)
        .await
        .map_err(|e| missing_ref("service or supplier")(map(e)))?;
    let changes = diff(Some(&json_of(T::terms(&before))), Some(&json_of(&t)));
    let action = format!("{}.update", T::AUDIT);
    tx.record(actor, AuditRecord::new(action, T::AUDIT, id, changes), now);
    tx.commit().await?;
    let mut row = TermsRow::new(id, &t, now);
    row.created_at = T::created_at(&before).0;
    T::Rec::try_from(row)
}

pub(crate) async fn delete<T: TermsTable, B: Backend>(
    store: &SqlStore<B>,
    actor: &Actor,
    id: Uuid,
) -> StoreResult<()> {
    let now = Timestamp::now();
    let map = crate::error::map(T::ENTITY);
    let mut tx = store.audited().await?;
    let sql = format!("SELECT {COLS} FROM {} WHERE id = $1", T::TABLE);
    let before: TermsRow = SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(&map)?;
    let before = T::Rec::try_from(before)?;
    let sql = format!("DELETE FROM {} WHERE id = $1", T::TABLE);
    SqlStore::<B>::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(&map)?;
    let changes = diff(Some(&json_of(T::terms(&before))), None);
    let action = format!("{}.delete", T::AUDIT);
    tx.record(actor, AuditRecord::new(action, T::AUDIT, id, changes), now);
    tx.commit().await
}

pub(crate) async fn get<T: TermsTable, B: Backend>(
    store: &SqlStore<B>,
    id: Uuid,
) -> StoreResult<T::Rec> {
    let sql = format!("SELECT {COLS} FROM {} WHERE id = $1", T::TABLE);
    let row: TermsRow = SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(store)
        .await
        .map_err(crate::error::map(T::ENTITY))?;
    row.try_into()
}

pub(crate) async fn list<T: TermsTable, B: Backend>(
    store: &SqlStore<B>,
    service: Option<Uuid>,
    page: PageRequest,
) -> StoreResult<Page<T::Rec>> {
    let sql = format!(
        "SELECT {COLS} FROM {} WHERE ($1 IS NULL OR service_id = $1) AND ($2 IS NULL OR id > $2) \
         ORDER BY id LIMIT $3",
        T::TABLE
    );
    let rows: Vec<TermsRow> = SqlStore::<B>::query_as(sqlx::AssertSqlSafe(sql))
        .bind(service)
        .bind(page.after)
        .bind(page.fetch())
        .fetch_all(store)
        .await
        .map_err(crate::error::map(T::ENTITY))?;
    let items = rows
        .into_iter()
        .map(T::Rec::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page, T::id))
}
