use super::SqliteStore;
use crate::ConnectOptions;

/// The steps of SQLite's plan for `sql` in a new database after `stats` (SQL that
/// writes `sqlite_stat1` rows as `PRAGMA optimize` would for large tables).
async fn plan_under(stats: &str, sql: &str) -> Vec<String> {
    let path = std::env::temp_dir().join(format!("custos-plan-{}.db", uuid::Uuid::now_v7()));
    let store = SqliteStore::open(&path, &ConnectOptions::default())
        .await
        .expect("open");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ANALYZE; {stats}; ANALYZE sqlite_schema;"
    )))
    .execute(store.pool())
    .await
    .expect("statistics");
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(store.pool())
            .await
            .expect("plan");
    store.pool().close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    plan.into_iter().map(|p| p.3).collect()
}

/// With statistics of a large audit log (as `PRAGMA optimize` writes them), SQLite
/// plans the plain `UPDATE … FROM (VALUES …)` as a scan of the whole table; the
/// statement the store runs looks up each listed row.
#[tokio::test]
async fn multi_row_updates_look_up_each_listed_row() {
    let values = crate::rows::value_lists(250, 4);
    let sql = SqliteStore::params(SqliteStore::update_from_values(
        "audit_log",
        "a",
        "seq = v.column2, prev_hash = v.column3, hash = v.column4",
        &values,
    ));
    let steps = plan_under(
        "DELETE FROM sqlite_stat1 WHERE tbl = 'audit_log'; \
         INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES \
           ('audit_log', 'sqlite_autoindex_audit_log_1', '100061 1'), \
           ('audit_log', 'sqlite_autoindex_audit_log_2', '100061 1170'), \
           ('audit_log', 'audit_log_unsealed', '100061 1'), \
           ('audit_log', 'audit_log_entity', '100061 234 1'), \
           ('audit_log', 'audit_log_actor', '100061 390'), \
           ('audit_log', 'audit_log_at', '100061 20')",
        &sql,
    )
    .await;
    assert!(
        steps.iter().any(|s| s.starts_with("SEARCH a USING")),
        "{steps:?}"
    );
    assert!(!steps.iter().any(|s| s.starts_with("SCAN a")), "{steps:?}");
}

/// Statistics of a million CIs, a thousand of which carry a level.
const MILLION_CIS: &str = "DELETE FROM sqlite_stat1 WHERE tbl IN ('cis', 'ci_levels'); \
    INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES \
      ('cis', 'sqlite_autoindex_cis_1', '1000000 1'), \
      ('cis', 'sqlite_autoindex_cis_2', '1000000 1'), \
      ('cis', 'cis_type', '1000000 140000 1'), \
      ('ci_levels', 'ci_levels', '1111 1'), \
      ('ci_levels', 'ci_levels_c_via', '1110 2'), \
      ('ci_levels', 'ci_levels_i_via', '1110 2'), \
      ('ci_levels', 'ci_levels_a_via', '1110 2')";

/// The CIs below a removed edge are found through the three small `via` indexes,
/// never by a scan of the CI table.
#[tokio::test]
async fn the_via_walk_probes_the_via_indexes() {
    let steps = plan_under(MILLION_CIS, &crate::cmdb::via_region_sql()).await;
    for d in ["c", "i", "a"] {
        assert!(
            steps
                .iter()
                .any(|s| s.contains(&format!("INDEX ci_levels_{d}_via"))),
            "{steps:?}"
        );
    }
    assert!(
        !steps
            .iter()
            .any(|s| s.starts_with("SCAN l") || s.starts_with("SCAN ci_levels")),
        "{steps:?}"
    );
}

/// When every CI of a region carries a level, each of its parents is checked with one
/// probe of the small table of CIs that carry one.
#[tokio::test]
async fn parents_that_carry_no_level_are_not_read() {
    for sql in crate::cmdb::flow_parents_sql(
        crate::cmdb::IdList::Each(500),
        Some(crate::cmdb::CARRY_LEVELS),
    ) {
        let steps = plan_under(MILLION_CIS, &SqliteStore::params(sql)).await;
        assert!(
            steps
                .iter()
                .any(|s| s.contains("SEARCH ci_levels EXISTS USING PRIMARY KEY (id=?)")),
            "{steps:?}"
        );
        assert!(!steps.iter().any(|s| s.starts_with("SCAN")), "{steps:?}");
    }
}
