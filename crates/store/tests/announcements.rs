//! Announcement storage on every backend: the list filters (window, audience, inactive),
//! newest-first pages, replacing and withdrawing, and the audit of each write.

use custos_core::announcement::{AnnouncementInput, Audience, Severity};
use custos_core::authz::Actor;
use custos_core::page::PageRequest;
use custos_core::store::{AnnouncementFilter, AuditFilter, Store};
use custos_core::{AnnouncementId, StoreError, Timestamp};
use custos_store::ConnectOptions;

fn input(title: &str, from_h: i64, to_h: i64, audience: Audience) -> AnnouncementInput {
    let now = Timestamp::now();
    AnnouncementInput::new(
        title,
        "",
        Severity::Info,
        None,
        now.plus_secs(from_h * 3600),
        now.plus_secs(to_h * 3600),
        audience,
    )
    .unwrap()
}

async fn titles(store: &dyn Store, f: AnnouncementFilter) -> Vec<String> {
    let mut t: Vec<String> = store
        .list_announcements(&f, PageRequest::first(50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.title)
        .collect();
    t.sort();
    t
}

async fn story(store: &dyn Store) {
    let actor = Actor::System("story");
    let all = store
        .create_announcement(&actor, input("All now", -1, 1, Audience::Everyone))
        .await
        .unwrap();
    store
        .create_announcement(&actor, input("Agents now", -1, 1, Audience::Agents))
        .await
        .unwrap();
    let past = store
        .create_announcement(&actor, input("Past", -3, -2, Audience::Everyone))
        .await
        .unwrap();
    let now = Timestamp::now();
    let f = |active, everyone_only| AnnouncementFilter {
        active,
        everyone_only,
        now,
    };
    assert_eq!(
        titles(store, AnnouncementFilter::shown_to(false, now)).await,
        ["All now"]
    );
    assert_eq!(
        titles(store, AnnouncementFilter::shown_to(true, now)).await,
        ["Agents now", "All now"]
    );
    assert_eq!(titles(store, f(Some(false), false)).await, ["Past"]);
    assert_eq!(
        titles(store, f(None, false)).await,
        ["Agents now", "All now", "Past"]
    );
    assert_eq!(titles(store, f(None, true)).await, ["All now", "Past"]);

    // Newest first, a page at a time.
    let first = store
        .list_announcements(&f(None, false), PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(first.items[0].id, past.id);
    let rest = store
        .list_announcements(
            &f(None, false),
            PageRequest::new(Some(2), first.next_cursor),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].id, all.id);
    assert!(rest.next_cursor.is_none());

    let changed = store
        .update_announcement(&actor, past.id, input("Moved", 1, 2, Audience::Agents))
        .await
        .unwrap();
    assert_eq!(store.announcement(past.id).await.unwrap(), changed);
    store.delete_announcement(&actor, past.id).await.unwrap();
    assert!(matches!(
        store.announcement(past.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let missing = AnnouncementId::new();
    assert!(matches!(
        store
            .update_announcement(&actor, missing, input("x", 0, 1, Audience::Everyone))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_announcement(&actor, missing).await,
        Err(StoreError::NotFound { .. })
    ));

    let audit = store
        .list_audit(
            &AuditFilter {
                entity_type: Some("announcement".into()),
                entity_id: Some(past.id.to_string()),
                ..Default::default()
            },
            PageRequest::first(10),
        )
        .await
        .unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "announcement.delete",
            "announcement.update",
            "announcement.create"
        ]
    );
}

#[tokio::test]
async fn announcement_storage_story() {
    let dir = std::env::temp_dir().join(format!("custos-ann-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite =
        custos_store::sqlite::SqliteStore::open(&dir.join("a.db"), &ConnectOptions::default())
            .await
            .unwrap();
    story(&sqlite).await;
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    if let Ok(url) = std::env::var("CUSTOS_TEST_POSTGRES_URL") {
        let pg = custos_store::testing::fresh_store(&url, "ann", &ConnectOptions::default()).await;
        story(&pg).await;
        pg.close().await;
    }
}
