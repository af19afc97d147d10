use crate::ConnectOptions;
use crate::sqlite::SqliteStore;
use custos_core::StoreError;
use custos_core::Timestamp;
use custos_core::audit::AuditRecord;
use custos_core::authz::Actor;

async fn count(store: &SqliteStore, sql: &'static str) -> i64 {
    SqliteStore::query_as::<(i64,)>(sql)
        .fetch_one(store)
        .await
        .unwrap()
        .0
}

/// A write that recorded no audit entry is refused and leaves nothing behind; one that
/// did is stored with its entry; `commit_if_recorded` drops an unrecorded write.
#[tokio::test]
async fn a_write_commits_only_with_its_audit_entry() {
    let path = std::env::temp_dir().join(format!("custos-tx-{}.db", uuid::Uuid::now_v7()));
    let store = SqliteStore::open(&path, &ConnectOptions::default())
        .await
        .unwrap();
    let insert = "INSERT INTO departments (id, name, description, mfa_required, \
        session_lifetime_minutes, idle_timeout_minutes, access_two_approvals, \
        monitoring_level, created_at, updated_at) VALUES ($1, $2, '', FALSE, 60, 30, FALSE, \
        'standard', 0, 0)";
    let departments = "SELECT COUNT(*) FROM departments";
    let entries = "SELECT COUNT(*) FROM audit_log";
    let (d0, a0) = (
        count(&store, departments).await,
        count(&store, entries).await,
    );

    let mut tx = store.audited().await.unwrap();
    SqliteStore::query(insert)
        .bind(uuid::Uuid::now_v7())
        .bind("Unrecorded")
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = tx.commit().await.unwrap_err();
    assert!(matches!(err, StoreError::Internal(_)), "{err:?}");
    assert_eq!(count(&store, departments).await, d0, "refused, rolled back");

    let mut tx = store.audited().await.unwrap();
    SqliteStore::query(insert)
        .bind(uuid::Uuid::now_v7())
        .bind("Maybe")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit_if_recorded().await.unwrap();
    assert_eq!(
        count(&store, departments).await,
        d0,
        "nothing recorded: dropped"
    );

    let mut tx = store.audited().await.unwrap();
    let id = uuid::Uuid::now_v7();
    SqliteStore::query(insert)
        .bind(id)
        .bind("Recorded")
        .execute(&mut *tx)
        .await
        .unwrap();
    let actor = Actor::System("test");
    tx.record(
        &actor,
        AuditRecord::new("department.create", "department", id, serde_json::json!({})),
        Timestamp::now(),
    );
    tx.commit().await.unwrap();
    assert_eq!(count(&store, departments).await, d0 + 1);
    assert_eq!(count(&store, entries).await, a0 + 1);
    custos_core::store::Store::close(&store).await;
    let _ = std::fs::remove_file(&path);
}
