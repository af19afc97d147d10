//! Fresh PostgreSQL databases for tests: each run gets a schema of its own (named
//! `<prefix>_<uuid>`) in the database of `CUSTOS_TEST_POSTGRES_URL`, migrated from nothing,
//! so tests run side by side on one server without seeing each other's rows.

use crate::ConnectOptions;
use crate::postgres::PgStore;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

/// The test server's URL, when the PostgreSQL tests are to run.
pub fn postgres_url() -> Option<String> {
    std::env::var("CUSTOS_TEST_POSTGRES_URL").ok()
}

/// Creates a new empty schema and returns its name.
pub async fn new_schema(url: &str, prefix: &str) -> String {
    let schema = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let admin = sqlx::PgPool::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("create schema {schema}: {e}"));
    admin.close().await;
    schema
}

/// A store on `schema` (migrated when `opts.migrate`).
pub async fn store_in(url: &str, schema: &str, opts: &ConnectOptions) -> PgStore {
    let options = PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .options([("search_path", schema)]);
    PgStore::connect_with(options, opts)
        .await
        .unwrap_or_else(|e| panic!("open schema {schema}: {e}"))
}

/// A migrated store on a schema of its own.
pub async fn fresh_store(url: &str, prefix: &str, opts: &ConnectOptions) -> PgStore {
    store_in(url, &new_schema(url, prefix).await, opts).await
}
