//! Problem storage on every backend: numbering, optimistic saves, the review history that
//! only grows (the database refuses to change a review), and the audit of each write.

use custos_core::authz::Actor;
use custos_core::problem::{FixKind, Problem, ProblemFields, ReviewInput, SecurityCheck};
use custos_core::store::{AuditFilter, ProblemWrite, Store};
use custos_core::{StoreError, Timestamp};
use custos_store::ConnectOptions;

fn write(
    p: Problem,
    action: &'static str,
    review: Option<custos_core::problem::Review>,
) -> ProblemWrite {
    ProblemWrite {
        problem: p,
        actor: Actor::System("story"),
        audit_action: action,
        changes: serde_json::json!({"reference": {"after": ""}}),
        events: vec![],
        review,
    }
}

/// Runs the story; returns the id of the review row for the caller to tamper with.
async fn story(store: &dyn Store) -> uuid::Uuid {
    let fields = |t: &str| {
        ProblemFields {
            title: t.into(),
            description: String::new(),
            service: None,
            cis: vec![],
            assignee: None,
            root_cause: String::new(),
            introduces_security_risk: false,
        }
        .validate()
        .unwrap()
    };
    let now = Timestamp::now();
    let a = store
        .create_problem(write(
            Problem::new(fields("First"), None, now),
            "problem.create",
            None,
        ))
        .await
        .unwrap();
    let b = store
        .create_problem(write(
            Problem::new(fields("Second"), None, now),
            "problem.create",
            None,
        ))
        .await
        .unwrap();
    assert_eq!((a.reference.as_str(), b.number), ("PRB-000001", 2));
    assert_eq!(store.problem_by_number(2).await.unwrap().id, b.id);

    // A review goes into the history with the save.
    let mut p = a.clone();
    p.set_fix_text(FixKind::Workaround, "Restart.", None, now)
        .unwrap();
    p.submit(FixKind::Workaround, None, now).unwrap();
    let input = ReviewInput {
        approve: false,
        reasons: "Too vague.".into(),
        sla_requirements_met: false,
        baseline_met: false,
        notes: String::new(),
    };
    let r = p
        .review(
            FixKind::Workaround,
            input,
            SecurityCheck::default(),
            None,
            now,
        )
        .unwrap();
    let saved = store
        .save_problem(
            write(p.clone(), "problem.workaround.review", Some(r)),
            a.updated_at,
        )
        .await
        .unwrap();
    assert!(saved.updated_at > a.updated_at);
    let back = store.problem(a.id).await.unwrap();
    assert_eq!(
        back.workaround.review.as_ref().unwrap().reasons,
        "Too vague."
    );
    assert_eq!(back, saved);
    assert_eq!(store.problem_reviews(a.id).await.unwrap().len(), 1);

    // A save based on what someone else already changed is a conflict, and changes nothing.
    let stale = store
        .save_problem(write(p, "problem.update", None), a.updated_at)
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { ref constraint }) if constraint == "problem_version"),
        "{stale:?}"
    );
    assert_eq!(store.problem_reviews(a.id).await.unwrap().len(), 1);
    let audit = store
        .list_audit(
            &AuditFilter {
                entity_type: Some("problem".into()),
                entity_id: Some(a.id.to_string()),
                ..Default::default()
            },
            custos_core::page::PageRequest::first(10),
        )
        .await
        .unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["problem.workaround.review", "problem.create"]);
    assert!(
        audit.items[1].changes.contains("PRB-000001"),
        "{}",
        audit.items[1].changes
    );
    a.id.0
}

const TAMPER: &str = "UPDATE problem_reviews SET decision = 'approved' WHERE problem_id = $1";

#[tokio::test]
async fn problem_storage_story() {
    let dir = std::env::temp_dir().join(format!("custos-prb-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite =
        custos_store::sqlite::SqliteStore::open(&dir.join("p.db"), &ConnectOptions::default())
            .await
            .unwrap();
    let id = story(&sqlite).await;
    let tamper = sqlx::query(TAMPER).bind(id).execute(sqlite.pool()).await;
    assert!(tamper.is_err(), "sqlite: a review cannot be changed");
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    if let Ok(url) = std::env::var("CUSTOS_TEST_POSTGRES_URL") {
        let pg = custos_store::testing::fresh_store(&url, "prb", &ConnectOptions::default()).await;
        let id = story(&pg).await;
        let tamper = sqlx::query(TAMPER).bind(id).execute(pg.pool()).await;
        assert!(tamper.is_err(), "postgres: a review cannot be changed");
        pg.close().await;
    }
}
