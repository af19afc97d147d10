//! The storage story: one sequence of use cases run against every backend. SQLite always;
//! PostgreSQL when `CUSTOS_TEST_POSTGRES_URL` is set (each run in a fresh schema).

use custos_core::account::{
    Email, NewDepartment, NewUser, Role, Roles, SecurityProfile, UserPatch,
};
use custos_core::audit::ChainVerifier;
use custos_core::authz::Actor;
use custos_core::page::PageRequest;
use custos_core::secret::{PasswordHash, token_hash};
use custos_core::store::{AuditFilter, NewSession, NewToken, SessionStage, Store};
use custos_core::{SessionId, StoreError, Timestamp};
use custos_store::ConnectOptions;
use std::sync::Arc;

async fn backends() -> Vec<(Arc<dyn Store>, Option<tempfile_dir::Dir>)> {
    let mut out: Vec<(Arc<dyn Store>, Option<tempfile_dir::Dir>)> = Vec::new();
    let dir = tempfile_dir::Dir::new();
    let sqlite = custos_store::sqlite::SqliteStore::open(
        &dir.path.join("story.db"),
        &ConnectOptions::default(),
    )
    .await
    .expect("open sqlite");
    out.push((Arc::new(sqlite), Some(dir)));
    if let Ok(url) = std::env::var("CUSTOS_TEST_POSTGRES_URL") {
        out.push((pg_in_fresh_schema(&url).await, None));
    }
    out
}

async fn pg_in_fresh_schema(url: &str) -> Arc<dyn Store> {
    Arc::new(custos_store::testing::fresh_store(url, "story", &ConnectOptions::default()).await)
}

/// A store in a new schema `schema`.
async fn pg_in_schema(url: &str, schema: &str) -> Arc<dyn Store> {
    let admin = sqlx::PgPool::connect(url).await.expect("connect postgres");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    Arc::new(custos_store::testing::store_in(url, schema, &ConnectOptions::default()).await)
}

/// A temporary directory removed on drop (kept tiny to avoid a dependency).
mod tempfile_dir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("custos-story-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&path).unwrap();
            Self { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn admin() -> Actor {
    Actor::System("story")
}

#[tokio::test]
async fn storage_story() {
    for (store, _dir) in backends().await {
        story(store.as_ref()).await;
        store.close().await;
    }
}

async fn story(s: &dyn Store) {
    let backend = s.backend();
    // Departments: create, unique name, update, list.
    let profile = SecurityProfile {
        mfa_required: true,
        ..SecurityProfile::default()
    };
    let fin = s
        .create_department(
            &admin(),
            NewDepartment::new("Finance", "Money", profile.clone()).unwrap(),
        )
        .await
        .unwrap();
    let dup = s
        .create_department(
            &admin(),
            NewDepartment::new("Finance", "", profile.clone()).unwrap(),
        )
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { ref constraint }) if constraint == "departments_name_key"),
        "{backend}: {dup:?}"
    );
    let it = s
        .create_department(
            &admin(),
            NewDepartment::new("IT", "", SecurityProfile::default()).unwrap(),
        )
        .await
        .unwrap();
    let fin2 = s
        .update_department(
            &admin(),
            fin.id,
            NewDepartment::new("Finance", "Money and payroll", profile.clone()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(fin2.description, "Money and payroll");
    assert_eq!(s.department_by_name("Finance").await.unwrap().id, fin.id);
    let page = s.list_departments(PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let page2 = s
        .list_departments(PageRequest::new(Some(1), page.next_cursor))
        .await
        .unwrap();
    assert_eq!(page2.items.len(), 1);
    assert!(
        page2.next_cursor.is_none(),
        "{backend}: two departments make two pages of one"
    );

    // Users: create, duplicate e-mail conflict, unknown department conflict, patch roles.
    let hash = PasswordHash::create("correct horse battery");
    let new_user = |email: &str, dept| NewUser {
        email: Email::parse(email).unwrap(),
        display_name: "Ann Example".into(),
        roles: Roles::new(vec![Role::Agent]).unwrap(),
        department_id: dept,
        password_hash: hash.clone(),
    };
    let ann = s
        .create_user(&admin(), new_user("ann@example.org", Some(fin.id)))
        .await
        .unwrap();
    let dup = s
        .create_user(&admin(), new_user("ANN@example.org", None))
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { ref constraint }) if constraint == "users_email_key"),
        "{backend}: {dup:?}"
    );
    let bad_dept = s
        .create_user(
            &admin(),
            new_user("bob@example.org", Some(custos_core::DepartmentId::new())),
        )
        .await;
    assert!(
        matches!(bad_dept, Err(StoreError::Conflict { .. })),
        "{backend}: {bad_dept:?}"
    );
    let ann = s
        .update_user(
            &admin(),
            ann.id,
            UserPatch {
                roles: Some(Roles::new(vec![Role::Agent, Role::Auditor]).unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(ann.roles.contains(Role::Auditor));
    let creds = s.credentials_by_email("ann@example.org").await.unwrap();
    assert!(creds.password_hash.verify("correct horse battery"));
    assert!(
        creds.profile.mfa_required,
        "{backend}: profile comes from the department"
    );
    assert!(matches!(
        s.credentials_by_email("nobody@example.org").await,
        Err(StoreError::NotFound { .. })
    ));

    // A department with users cannot be deleted; an empty one can.
    assert!(matches!(
        s.delete_department(&admin(), fin.id).await,
        Err(StoreError::Conflict { .. })
    ));
    s.delete_department(&admin(), it.id).await.unwrap();

    // Sign-in attempts are counted per e-mail within the window (this one included);
    // a cleared attempt no longer counts; success clears them all.
    let now = Timestamp::now();
    let since = now.minus_secs(60);
    let mut last = None;
    for i in 1..=3 {
        let (id, n) = s
            .register_login_attempt("ann@example.org", now, since)
            .await
            .unwrap();
        assert_eq!(n, i, "{backend}");
        last = Some(id);
    }
    s.clear_login_attempt(last.unwrap()).await.unwrap();
    assert_eq!(
        s.login_failures_since("ann@example.org", since)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.login_failures_since("ann@example.org", now.plus_secs(1))
            .await
            .unwrap(),
        0
    );
    s.record_login_failure("ann@example.org", Some(ann.id), "bad password", now)
        .await
        .unwrap();
    s.record_login_success(&ann, "password", now).await.unwrap();
    assert_eq!(
        s.login_failures_since("ann@example.org", since)
            .await
            .unwrap(),
        0
    );

    // TOTP: a step is accepted once; recovery codes work once.
    let secret = custos_core::mfa::new_totp_secret();
    s.set_pending_totp(&admin(), ann.id, &secret).await.unwrap();
    assert_eq!(s.pending_totp(ann.id).await.unwrap(), Some(secret.clone()));
    s.confirm_totp(
        &admin(),
        ann.id,
        100,
        vec![token_hash("code-1"), token_hash("code-2")],
    )
    .await
    .unwrap();
    assert!(s.user(ann.id).await.unwrap().mfa_enabled);
    assert!(
        !s.accept_totp_step(ann.id, 100).await.unwrap(),
        "{backend}: replayed step"
    );
    assert!(s.accept_totp_step(ann.id, 101).await.unwrap());
    assert!(
        s.use_recovery_code(&admin(), ann.id, &token_hash("code-1"), now)
            .await
            .unwrap()
    );
    assert!(
        !s.use_recovery_code(&admin(), ann.id, &token_hash("code-1"), now)
            .await
            .unwrap()
    );
    assert_eq!(s.remaining_recovery_codes(ann.id).await.unwrap(), 1);

    // Sessions carry the user and the department profile; ending one removes it.
    let sid = SessionId::new();
    s.create_session(NewSession {
        id: sid,
        token_hash: token_hash("cookie"),
        user_id: ann.id,
        stage: SessionStage::Full,
        csrf_token: "csrf".into(),
        user_agent: "test".into(),
        now,
    })
    .await
    .unwrap();
    let rec = s.session_by_hash(&token_hash("cookie")).await.unwrap();
    assert_eq!(rec.user.id, ann.id);
    assert!(rec.is_live(now.plus_secs(60)));
    assert!(
        !rec.is_live(now.plus_secs(profile.idle_timeout_minutes * 60 + 1)),
        "{backend}: idle timeout"
    );
    s.touch_session(sid, now.plus_secs(120)).await.unwrap();
    assert_eq!(s.list_sessions(ann.id).await.unwrap().len(), 1);
    s.delete_session(&admin(), ann.id, sid).await.unwrap();
    assert!(matches!(
        s.session_by_hash(&token_hash("cookie")).await,
        Err(StoreError::NotFound { .. })
    ));

    // Tokens: found by hash while live; expired and revoked ones are not.
    let t = s
        .create_token(
            &admin(),
            NewToken {
                user_id: ann.id,
                name: "ci".into(),
                token_hash: token_hash("tok"),
                expires_at: None,
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        s.token_owner(&token_hash("tok"), now)
            .await
            .unwrap()
            .user
            .id,
        ann.id
    );
    s.create_token(
        &admin(),
        NewToken {
            user_id: ann.id,
            name: "old".into(),
            token_hash: token_hash("old"),
            expires_at: Some(now),
        },
        now,
    )
    .await
    .unwrap();
    assert!(
        s.token_owner(&token_hash("old"), now.plus_secs(1))
            .await
            .is_err(),
        "{backend}: expired token"
    );
    assert_eq!(
        s.list_tokens(ann.id, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    s.revoke_token(&admin(), ann.id, t.id, now).await.unwrap();
    assert!(s.token_owner(&token_hash("tok"), now).await.is_err());
    assert!(matches!(
        s.revoke_token(&admin(), ann.id, t.id, now).await,
        Err(StoreError::NotFound { .. })
    ));

    // Disabling a user ends their sessions and their tokens stop working.
    s.create_token(
        &admin(),
        NewToken {
            user_id: ann.id,
            name: "x".into(),
            token_hash: token_hash("x"),
            expires_at: None,
        },
        now,
    )
    .await
    .unwrap();
    s.update_user(
        &admin(),
        ann.id,
        UserPatch {
            disabled: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(s.token_owner(&token_hash("x"), now).await.is_err());

    // Audit: every change above left an entry; sealing chains them all; the chain verifies.
    assert!(s.unsealed_audit_count().await.unwrap() > 10);
    let sealed = s.seal_audit(1000).await.unwrap();
    assert!(sealed > 10);
    assert_eq!(s.unsealed_audit_count().await.unwrap(), 0);
    assert_eq!(s.seal_audit(1000).await.unwrap(), 0);
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let chunk = s.audit_chain(after, 7).await.unwrap();
        if chunk.is_empty() {
            break;
        }
        for e in &chunk {
            v.push(e).unwrap_or_else(|b| panic!("{backend}: {b}"));
        }
        after = chunk.last().unwrap().seq.unwrap();
    }
    v.finish(s.audit_head().await.unwrap()).unwrap();
    assert_eq!(v.checked(), sealed);

    let f = AuditFilter {
        entity_type: Some("department".into()),
        ..Default::default()
    };
    let deps = s.list_audit(&f, PageRequest::default()).await.unwrap();
    let actions: Vec<&str> = deps.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "department.delete",
            "department.update",
            "department.create",
            "department.create"
        ],
        "{backend}"
    );
    let f = AuditFilter {
        action: Some("auth.login_failed".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_audit(&f, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let roles = AuditFilter {
        action: Some("user.roles_change".into()),
        ..Default::default()
    };
    let change = &s
        .list_audit(&roles, PageRequest::default())
        .await
        .unwrap()
        .items[0];
    assert!(
        change
            .changes
            .contains(r#""roles":{"after":"agent,auditor","before":"agent"}"#),
        "{}",
        change.changes
    );
    let secrets = s
        .list_audit(&AuditFilter::default(), PageRequest::new(Some(500), None))
        .await
        .unwrap();
    assert!(
        secrets.items.iter().all(|e| !e.changes.contains("argon2")),
        "{backend}: no password hash in the log"
    );
}

#[tokio::test]
async fn cmdb_story() {
    for (store, _dir) in backends().await {
        cmdb(store.as_ref()).await;
        store.close().await;
    }
}

async fn cmdb(s: &dyn Store) {
    use custos_core::classification::{Classification, Level};
    use custos_core::cmdb::{CiInput, Lifecycle, RelType};
    use custos_core::store::CiFilter;
    let backend = s.backend();
    let ci = |t: &str, n: &str, key: &str, attrs: serde_json::Value| {
        CiInput::new(t, n, Some(key), Lifecycle::Active, attrs).unwrap()
    };
    let svc = s
        .create_ci(
            &admin(),
            ci(
                "business_service",
                "Payroll",
                "svc-payroll",
                serde_json::json!({"tier": "gold"}),
            ),
        )
        .await
        .unwrap();
    let app = s
        .create_ci(
            &admin(),
            ci(
                "application",
                "Payroll app",
                "app-payroll",
                serde_json::json!({}),
            ),
        )
        .await
        .unwrap();
    let vm = s
        .create_ci(
            &admin(),
            ci(
                "virtual_machine",
                "vm-17",
                "vm-17",
                serde_json::json!({"os": "Debian 12"}),
            ),
        )
        .await
        .unwrap();
    let srv = s
        .create_ci(
            &admin(),
            ci(
                "server",
                "esx-03",
                "esx-03",
                serde_json::json!({"rack": "B4"}),
            ),
        )
        .await
        .unwrap();
    let dup = s
        .create_ci(
            &admin(),
            ci("server", "other", "esx-03", serde_json::json!({})),
        )
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { ref constraint }) if constraint == "cis_external_key_key"),
        "{backend}: {dup:?}"
    );
    let bad_type = s
        .create_ci(&admin(), ci("toaster", "t", "t-1", serde_json::json!({})))
        .await;
    assert!(
        matches!(bad_type, Err(StoreError::Conflict { .. })),
        "{backend}: unknown type refused: {bad_type:?}"
    );

    s.add_relationship(&admin(), svc.ci.id, app.ci.id, RelType::DependsOn)
        .await
        .unwrap();
    let app_vm = s
        .add_relationship(&admin(), app.ci.id, vm.ci.id, RelType::RunsOn)
        .await
        .unwrap();
    s.add_relationship(&admin(), vm.ci.id, srv.ci.id, RelType::HostedBy)
        .await
        .unwrap();
    let again = s
        .add_relationship(&admin(), vm.ci.id, srv.ci.id, RelType::HostedBy)
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{backend}: no duplicate relationships"
    );
    // A cycle is tolerated.
    s.add_relationship(&admin(), srv.ci.id, svc.ci.id, RelType::ConnectsTo)
        .await
        .unwrap();

    s.set_classification(
        &admin(),
        srv.ci.id,
        Classification {
            confidentiality: Some(Level::Moderate),
            ..Default::default()
        },
        "hosts HR data",
    )
    .await
    .unwrap();
    s.set_classification(
        &admin(),
        svc.ci.id,
        Classification {
            confidentiality: Some(Level::High),
            ..Default::default()
        },
        "salary data",
    )
    .await
    .unwrap();
    for (id, via) in [
        (svc.ci.id, None),
        (app.ci.id, Some(svc.ci.id)),
        (vm.ci.id, Some(app.ci.id)),
        (srv.ci.id, Some(vm.ci.id)),
    ] {
        let r = s.ci(id).await.unwrap();
        assert_eq!(
            r.effective[0].level,
            Level::High,
            "{backend}: {}",
            r.ci.name
        );
        assert_eq!(r.effective[0].source, Some(svc.ci.id));
        assert_eq!(r.effective[0].via, via);
        assert_eq!(r.effective[1].level, Level::Low);
    }
    // Removing application → VM lowers VM and server back to what they had before.
    s.delete_relationship(&admin(), app_vm.id).await.unwrap();
    assert_eq!(
        s.ci(vm.ci.id).await.unwrap().effective[0].level,
        Level::Low,
        "{backend}"
    );
    let srv_now = s.ci(srv.ci.id).await.unwrap();
    assert_eq!(srv_now.effective[0].level, Level::Moderate);
    assert_eq!(srv_now.effective[0].source, Some(srv.ci.id));
    assert_eq!(
        s.ci(app.ci.id).await.unwrap().effective[0].level,
        Level::High
    );
    // Full recompute agrees with the incremental result.
    assert_eq!(
        s.recompute_classification().await.unwrap(),
        0,
        "{backend}: incremental == full"
    );

    // Search: names and attribute values, prefix, all terms required; renames are indexed.
    let found = |q: &str| CiFilter {
        q: Some(q.into()),
        ..Default::default()
    };
    let names = |p: custos_core::page::Page<custos_core::store::CiRecord>| {
        p.items.into_iter().map(|r| r.ci.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            s.list_cis(&found("payroll"), PageRequest::default())
                .await
                .unwrap()
        )
        .len(),
        2,
        "{backend}"
    );
    assert_eq!(
        names(
            s.list_cis(&found("debian"), PageRequest::default())
                .await
                .unwrap()
        ),
        ["vm-17"]
    );
    assert_eq!(
        names(
            s.list_cis(&found("payr app"), PageRequest::default())
                .await
                .unwrap()
        ),
        ["Payroll app"]
    );
    assert!(
        s.list_cis(&found("\"'*) OR 1=1 --"), PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let mut renamed = ci(
        "server",
        "esx-03-renamed",
        "esx-03",
        serde_json::json!({"rack": "C1"}),
    );
    renamed.status = Lifecycle::Retired;
    s.update_ci(&admin(), srv.ci.id, renamed).await.unwrap();
    assert_eq!(
        names(
            s.list_cis(&found("renamed"), PageRequest::default())
                .await
                .unwrap()
        ),
        ["esx-03-renamed"]
    );
    assert!(
        s.list_cis(&found("B4"), PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "{backend}: old attributes unindexed"
    );
    let retired = CiFilter {
        status: Some(Lifecycle::Retired),
        ..Default::default()
    };
    assert_eq!(
        s.list_cis(&retired, PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // Deleting the service lowers what depended on it.
    s.delete_ci(&admin(), svc.ci.id).await.unwrap();
    assert_eq!(
        s.ci(app.ci.id).await.unwrap().effective[0].level,
        Level::Low,
        "{backend}"
    );
    assert!(s.edges_touching(&[svc.ci.id]).await.unwrap().is_empty());
    s.seal_audit(1000).await.unwrap();
    let f = AuditFilter {
        action: Some("ci.classify".into()),
        ..Default::default()
    };
    let entry = &s
        .list_audit(&f, PageRequest::default())
        .await
        .unwrap()
        .items[0];
    assert!(entry.changes.contains("salary data"), "{}", entry.changes);
}

fn oscal(name: &str) -> custos_core::oscal::Document {
    let path = format!(
        "{}/../../data/oscal/nist-sp800-53-rev5/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    custos_core::oscal::parse(&v).unwrap()
}

#[tokio::test]
async fn control_catalogue_story() {
    use custos_core::controls::{ControlFilter, ControlSpec, Function};
    use custos_core::oscal::Document;
    let Document::Catalog(low) =
        oscal("NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog-min.json")
    else {
        panic!()
    };
    let Document::Catalog(high) =
        oscal("NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json")
    else {
        panic!()
    };
    let Document::Profile(low_profile) = oscal("NIST_SP-800-53_rev5_LOW-baseline_profile.json")
    else {
        panic!()
    };
    for (s, _dir) in backends().await {
        let backend = s.backend();
        let r = s.import_catalog(&admin(), low.clone()).await.unwrap();
        assert_eq!(
            (r.inserted, r.updated, r.unchanged),
            (149, 0, 0),
            "{backend}"
        );
        let again = s.import_catalog(&admin(), low.clone()).await.unwrap();
        assert_eq!(
            (
                again.catalog_id,
                again.inserted,
                again.updated,
                again.unchanged
            ),
            (r.catalog_id, 0, 0, 149),
            "{backend}: idempotent"
        );
        let h = s.import_catalog(&admin(), high.clone()).await.unwrap();
        assert_eq!(h.inserted, 370);
        let b = s
            .import_profile(&admin(), low_profile.clone(), h.catalog_id)
            .await
            .unwrap();
        assert_eq!(
            (b.controls, b.missing.len(), b.changed),
            (149, 0, true),
            "{backend}"
        );
        let b2 = s
            .import_profile(&admin(), low_profile.clone(), h.catalog_id)
            .await
            .unwrap();
        assert_eq!((b2.baseline_id, b2.changed), (b.baseline_id, false));
        assert_eq!(s.list_baselines().await.unwrap()[0].controls, 149);
        let cats = s.list_catalogs().await.unwrap();
        assert_eq!(
            cats.iter().map(|c| c.controls).collect::<Vec<_>>(),
            [149, 370]
        );

        let in_baseline = ControlFilter {
            baseline: Some(b.baseline_id),
            q: Some("account management".into()),
            ..Default::default()
        };
        let found = s
            .list_controls(&in_baseline, PageRequest::new(Some(500), None))
            .await
            .unwrap();
        assert!(
            found.items.iter().any(|c| c.spec.control_id == "ac-2"),
            "{backend}"
        );
        assert!(found.items.iter().all(|c| c.catalog_id == h.catalog_id));
        let family = ControlFilter {
            catalog: Some(h.catalog_id),
            family: Some("ir".into()),
            ..Default::default()
        };
        let ir = s
            .list_controls(&family, PageRequest::new(Some(500), None))
            .await
            .unwrap();
        assert!(
            !ir.items.is_empty()
                && ir
                    .items
                    .iter()
                    .all(|c| c.spec.function == Function::Corrective)
        );

        // A person's choice of function survives re-import.
        let ac2 = found
            .items
            .iter()
            .find(|c| c.spec.control_id == "ac-2")
            .unwrap();
        s.set_control_function(&admin(), ac2.id, Function::Detective)
            .await
            .unwrap();
        let again = s.import_catalog(&admin(), high.clone()).await.unwrap();
        assert_eq!(again.updated, 0, "{backend}");
        assert_eq!(
            s.control(ac2.id).await.unwrap().spec.function,
            Function::Detective
        );

        let manual = s
            .create_control(
                &admin(),
                ControlSpec {
                    control_id: "org-media-1".into(),
                    label: "ORG-MEDIA-1".into(),
                    title: "Procedure for handling storage media with personal data".into(),
                    family: "org".into(),
                    parent: None,
                    statement: "Encrypt, log and wipe.".into(),
                    guidance: String::new(),
                    function: Function::Preventive,
                    function_from_catalog: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(manual.function_source, "manual");
        let dup = s.create_control(&admin(), manual.spec.clone()).await;
        assert!(
            matches!(dup, Err(StoreError::Conflict { .. })),
            "{backend}: {dup:?}"
        );
        s.close().await;
    }
}

#[tokio::test]
async fn service_level_story() {
    for (s, _dir) in backends().await {
        service_levels(s.as_ref()).await;
        s.close().await;
    }
}

async fn service_levels(s: &dyn Store) {
    use custos_core::account::{NewUser, Role, Roles};
    use custos_core::calendar::ServiceHours;
    use custos_core::classification::{Classification, Level};
    use custos_core::cmdb::{CiInput, Lifecycle, RelType};
    use custos_core::controls::{ControlSpec, Function};
    use custos_core::service::{
        CustomerInput, CustomerKind, RiskTier, ServiceInput, SupplierInput, Targets,
    };
    use custos_core::sla::{
        ContractTerms, Frequency, IncidentCriteria, OlaTerms, Requirement, SecuritySection, Side,
        SlaStatus, SlaTerms,
    };
    use custos_core::sla_report::Period;
    use custos_core::store::SlaFilter;
    use custos_core::time::Date;
    let backend = s.backend();
    let d = |x: &str| Date::parse("d", x).unwrap();
    let hash = PasswordHash::create("correct horse battery");
    let user = |email: &str, role| NewUser {
        email: Email::parse(email).unwrap(),
        display_name: email.into(),
        roles: Roles::new(vec![role]).unwrap(),
        department_id: None,
        password_hash: hash.clone(),
    };
    let rep = s
        .create_user(
            &admin(),
            user("rep@fin.example", Role::CustomerRepresentative),
        )
        .await
        .unwrap();
    let owner = s
        .create_user(&admin(), user("owner@it.example", Role::ServiceOwner))
        .await
        .unwrap();

    // Customers and suppliers.
    let fin = s
        .create_customer(
            &admin(),
            CustomerInput::new(
                "Finance",
                CustomerKind::Internal,
                None,
                "cfo@fin.example",
                "",
                vec![rep.id],
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(fin.representatives, vec![rep.id]);
    let dup = s
        .create_customer(
            &admin(),
            CustomerInput::new("Finance", CustomerKind::External, None, "", "", vec![]).unwrap(),
        )
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { ref constraint }) if constraint == "customers_name_key"),
        "{backend}: {dup:?}"
    );
    let ghost = s
        .create_customer(
            &admin(),
            CustomerInput::new(
                "Ghost",
                CustomerKind::External,
                None,
                "",
                "",
                vec![custos_core::UserId::new()],
            )
            .unwrap(),
        )
        .await;
    assert!(
        matches!(ghost, Err(StoreError::NotFound { .. })),
        "{backend}: {ghost:?}"
    );
    assert!(
        s.list_customers(PageRequest::first(10))
            .await
            .unwrap()
            .items
            .iter()
            .all(|c| c.name != "Ghost"),
        "{backend}: nothing half-written"
    );
    assert_eq!(s.customers_of(rep.id).await.unwrap(), vec![fin.id]);
    let acme = s
        .create_supplier(
            &admin(),
            SupplierInput::new(
                "Acme Hosting",
                "noc@acme.example",
                "ISO 27001",
                RiskTier::High,
                Some(d("2026-01-01")),
                Some(d("2027-12-31")),
            )
            .unwrap(),
        )
        .await
        .unwrap();

    // The service: business_service CI → application → VM, plus a catalogue entry.
    let ci = |t: &str, n: &str| {
        CiInput::new(t, n, None, Lifecycle::Active, serde_json::json!({})).unwrap()
    };
    let svc = s
        .create_ci(&admin(), ci("business_service", "Payroll"))
        .await
        .unwrap()
        .ci;
    let app = s
        .create_ci(&admin(), ci("application", "Payroll app"))
        .await
        .unwrap()
        .ci;
    let vm = s
        .create_ci(&admin(), ci("virtual_machine", "vm-payroll"))
        .await
        .unwrap()
        .ci;
    s.add_relationship(&admin(), svc.id, app.id, RelType::DependsOn)
        .await
        .unwrap();
    s.add_relationship(&admin(), app.id, vm.id, RelType::RunsOn)
        .await
        .unwrap();
    let control = |id: &str| ControlSpec {
        control_id: id.into(),
        label: id.to_uppercase(),
        title: format!("Control {id}"),
        family: "org".into(),
        parent: None,
        statement: String::new(),
        guidance: String::new(),
        function: Function::Preventive,
        function_from_catalog: false,
    };
    let base = s.create_control(&admin(), control("org-1")).await.unwrap();
    let extra = s.create_control(&admin(), control("org-2")).await.unwrap();
    let not_a_service = s
        .put_service(
            &admin(),
            app.id,
            ServiceInput::new("", None, ServiceHours::always(), vec![], Targets::default())
                .unwrap(),
        )
        .await;
    assert!(
        matches!(not_a_service, Err(StoreError::Invalid(ref e)) if e.field == "ci_id"),
        "{backend}: {not_a_service:?}"
    );
    let hours = ServiceHours::office_hours("Europe/Amsterdam", "08:00", "18:00");
    let service = s
        .put_service(
            &admin(),
            svc.id,
            ServiceInput::new(
                "Salaries",
                Some(owner.id),
                hours.clone(),
                vec![base.id],
                Targets::default(),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            service.name.as_str(),
            service.baseline.clone(),
            service.hours.clone()
        ),
        ("Payroll", vec![base.id], hours)
    );

    // The baseline is required on the service and on what inherits from it.
    let gap = s.gap_data(vm.id, None).await.unwrap();
    assert!(
        gap.added
            .iter()
            .any(|(c, on)| *c == base.id && *on == svc.id),
        "{backend}: {:?}",
        gap.added
    );

    // A draft SLA; editing; agreement by both sides.
    let terms = SlaTerms {
        name: "Payroll SLA 2026".into(),
        customer_id: fin.id,
        service_id: svc.id,
        valid_from: d("2026-01-01"),
        valid_to: d("2026-12-31"),
        targets: Targets::default(),
        security: SecuritySection {
            classification: Classification {
                confidentiality: Some(Level::High),
                ..Default::default()
            },
            requirements: vec![Requirement {
                key: "SR-1".into(),
                text: "Extra logging".into(),
                controls: vec![extra.id],
            }],
            incident_criteria: IncidentCriteria {
                categories: vec!["data_leak".into()],
                ..Default::default()
            },
            authorised_users: vec![],
            authorised_roles: vec![],
            asset_protection: String::new(),
            copying_restrictions: String::new(),
            reporting: Frequency::Monthly,
        },
        kpis: vec![],
    }
    .validate()
    .unwrap();
    let sla = s.create_sla(&admin(), terms.clone()).await.unwrap();
    assert_eq!(
        (sla.status, sla.version, sla.series_id),
        (SlaStatus::Draft, 1, sla.id)
    );
    let today = d("2026-06-01");
    let as_rep = Actor::User {
        id: rep.id,
        email: rep.email.clone(),
    };
    let as_owner = Actor::User {
        id: owner.id,
        email: owner.email.clone(),
    };
    let half = s
        .agree_sla(&as_rep, sla.id, Side::Customer, &today)
        .await
        .unwrap();
    assert_eq!(half.status, SlaStatus::Draft);
    assert_eq!(
        half.customer_agreement.as_ref().map(|a| a.user_id),
        Some(rep.id)
    );
    let twice = s.agree_sla(&as_rep, sla.id, Side::Customer, &today).await;
    assert!(
        matches!(twice, Err(StoreError::Conflict { .. })),
        "{backend}: {twice:?}"
    );
    assert!(
        s.gap_data(vm.id, None)
            .await
            .unwrap()
            .added
            .iter()
            .all(|(c, _)| *c != extra.id),
        "{backend}: not binding before both agree"
    );
    let agreed = s
        .agree_sla(&as_owner, sla.id, Side::Owner, &today)
        .await
        .unwrap();
    assert_eq!(agreed.status, SlaStatus::Agreed);
    // Classification flowed to the whole chain; the requirement's control is required.
    for id in [svc.id, app.id, vm.id] {
        assert_eq!(
            s.ci(id).await.unwrap().effective[0].level,
            Level::High,
            "{backend}"
        );
    }
    assert!(
        s.gap_data(vm.id, None)
            .await
            .unwrap()
            .added
            .iter()
            .any(|(c, on)| *c == extra.id && *on == svc.id),
        "{backend}"
    );
    let edit = s.update_sla(&admin(), sla.id, terms.clone()).await;
    assert!(
        matches!(edit, Err(StoreError::Conflict { ref constraint }) if constraint == "sla_not_draft"),
        "{backend}: {edit:?}"
    );

    // A new version supersedes on agreement; only one draft per series.
    let v2 = s.new_sla_version(&admin(), sla.id).await.unwrap();
    assert_eq!(
        (v2.version, v2.series_id, v2.status),
        (2, sla.id, SlaStatus::Draft)
    );
    let v3 = s.new_sla_version(&admin(), sla.id).await;
    assert!(
        matches!(v3, Err(StoreError::Conflict { .. })),
        "{backend}: {v3:?}"
    );
    let mut t2 = terms.clone();
    t2.security.requirements.clear();
    s.update_sla(&admin(), v2.id, t2).await.unwrap();
    s.agree_sla(&as_owner, v2.id, Side::Owner, &today)
        .await
        .unwrap();
    s.agree_sla(&as_rep, v2.id, Side::Customer, &today)
        .await
        .unwrap();
    assert_eq!(s.sla(sla.id).await.unwrap().status, SlaStatus::Superseded);
    assert!(
        s.gap_data(vm.id, None)
            .await
            .unwrap()
            .added
            .iter()
            .all(|(c, _)| *c != extra.id),
        "{backend}: v2 dropped SR-1"
    );
    assert_eq!(s.sla_versions(sla.id).await.unwrap().len(), 2);
    let mine = SlaFilter {
        customers: Some(vec![fin.id]),
        ..Default::default()
    };
    assert_eq!(
        s.list_slas(&mine, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let none = SlaFilter {
        customers: Some(vec![]),
        ..Default::default()
    };
    assert!(
        s.list_slas(&none, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let del = s.delete_customer(&admin(), fin.id).await;
    assert!(
        matches!(del, Err(StoreError::Conflict { .. })),
        "{backend}: SLAs keep the customer: {del:?}"
    );

    // OLAs and contracts.
    let ola = s
        .create_ola(
            &admin(),
            OlaTerms {
                service_id: svc.id,
                department_id: None,
                team: "Hosting team".into(),
                component_ci: Some(vm.id),
                component_type: None,
                controls: vec![extra.id],
                targets: "Patch within 14 days".into(),
                valid_from: d("2026-01-01"),
                valid_to: d("2026-12-31"),
                review_date: None,
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    let k = s
        .create_contract(
            &admin(),
            ContractTerms {
                supplier_id: acme.id,
                service_id: svc.id,
                title: "Hosting contract".into(),
                security_requirements: String::new(),
                controls: vec![base.id],
                penalties: "Service credits".into(),
                penalty_amount: Some(1000.0),
                currency: "EUR".into(),
                valid_from: d("2026-01-01"),
                valid_to: d("2026-12-31"),
                review_date: None,
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        s.list_olas(Some(svc.id), PageRequest::first(10))
            .await
            .unwrap()
            .items,
        vec![ola.clone()]
    );
    assert_eq!(
        s.contract(k.id).await.unwrap().terms.title,
        "Hosting contract"
    );
    assert!(
        matches!(
            s.delete_supplier(&admin(), acme.id).await,
            Err(StoreError::Conflict { .. })
        ),
        "{backend}: contracts keep the supplier"
    );
    s.delete_ola(&admin(), ola.id).await.unwrap();
    assert!(matches!(
        s.ola(ola.id).await,
        Err(StoreError::NotFound { .. })
    ));

    // Kept reports are immutable and hashed.
    let p = Period::parse("2026-05").unwrap();
    let kept = s
        .keep_report(&admin(), v2.id, &p, "{\"x\":1}")
        .await
        .unwrap();
    assert_eq!(kept.sha256, custos_core::secret::sha256_hex(b"{\"x\":1}"));
    let again = s.keep_report(&admin(), v2.id, &p, "{\"x\":2}").await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{backend}: {again:?}"
    );
    assert_eq!(s.kept_report(v2.id, &p).await.unwrap().1, "{\"x\":1}");
    s.keep_report(&admin(), v2.id, &Period::parse("2026-04").unwrap(), "{}")
        .await
        .unwrap();
    let hist = s
        .report_history(v2.id, &Period::parse("2026-06").unwrap(), 11)
        .await
        .unwrap();
    assert_eq!(
        hist.iter()
            .map(|(m, _)| m.period.as_str())
            .collect::<Vec<_>>(),
        vec!["2026-05", "2026-04"]
    );

    // Expiry and leases.
    assert_eq!(s.expire_slas(&d("2027-01-01")).await.unwrap().len(), 1);
    assert_eq!(s.sla(v2.id).await.unwrap().status, SlaStatus::Expired);
    let t0 = Timestamp(1_000_000);
    assert!(
        s.take_lease("reports", "a", t0, Timestamp(2_000_000))
            .await
            .unwrap()
    );
    assert!(
        !s.take_lease("reports", "b", t0, Timestamp(2_000_000))
            .await
            .unwrap(),
        "{backend}: held by a"
    );
    assert!(
        s.take_lease("reports", "a", t0, Timestamp(3_000_000))
            .await
            .unwrap(),
        "{backend}: renewed"
    );
    assert!(
        s.take_lease("reports", "b", Timestamp(3_000_001), Timestamp(4_000_000))
            .await
            .unwrap(),
        "{backend}: expired"
    );

    // Everything was audited and the chain holds.
    while s.seal_audit(1000).await.unwrap() > 0 {}
    let chain = s.audit_chain(0, 10_000).await.unwrap();
    let actions: std::collections::HashSet<&str> =
        chain.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "customer.create",
        "supplier.create",
        "service.create",
        "sla.create",
        "sla.agree",
        "sla.new_version",
        "ci.classify",
        "ola.create",
        "ola.delete",
        "contract.create",
        "sla_report.keep",
        "sla.expire",
    ] {
        assert!(actions.contains(a), "{backend}: {a} not audited");
    }
}

/// Random relationship additions and removals, and changes of explicit levels, keep every
/// CI's effective levels equal to a from-scratch recompute (the shortcuts that skip
/// re-propagation must never be wrong).
#[tokio::test]
async fn incremental_classification_matches_a_full_recompute() {
    let dir = tempfile_dir::Dir::new();
    let file = dir.path.join("random.db");
    let sqlite: Arc<dyn Store> = Arc::new(
        custos_store::sqlite::SqliteStore::open(&file, &ConnectOptions::default())
            .await
            .unwrap(),
    );
    classification_stays_right(sqlite, |sql| {
        let file = file.clone();
        async move {
            let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            let n = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&raw)
                .await
                .unwrap()
                .rows_affected();
            raw.close().await;
            n
        }
    })
    .await;
    if let Ok(url) = std::env::var("CUSTOS_TEST_POSTGRES_URL") {
        let schema = format!("story_{}", uuid::Uuid::now_v7().simple());
        let pg = pg_in_schema(&url, &schema).await;
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        classification_stays_right(pg, |sql| {
            let (admin, schema) = (admin.clone(), schema.clone());
            async move {
                let mut tx = admin.begin().await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SET LOCAL search_path TO {schema}"
                )))
                .execute(&mut *tx)
                .await
                .unwrap();
                let n = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .unwrap()
                    .rows_affected();
                tx.commit().await.unwrap();
                n
            }
        })
        .await;
    }
}

/// A CI's own explicit level, set while it inherits a higher one, is what it falls back to
/// when the inheritance goes.
async fn explicit_level_outlives_inheritance(s: &Arc<dyn Store>) {
    use custos_core::classification::{Classification, Level};
    use custos_core::cmdb::{CiInput, Lifecycle, RelType};
    let ci = |name: &str| {
        CiInput::new(
            "server",
            name,
            Some(name),
            Lifecycle::Active,
            serde_json::json!({}),
        )
        .unwrap()
    };
    let p = s.create_ci(&admin(), ci("fallback-p")).await.unwrap().ci.id;
    let x = s.create_ci(&admin(), ci("fallback-x")).await.unwrap().ci.id;
    let c = |l: Level| Classification {
        confidentiality: Some(l),
        integrity: None,
        availability: None,
    };
    s.set_classification(&admin(), p, c(Level::High), "test")
        .await
        .unwrap();
    let edge = s
        .add_relationship(&admin(), p, x, RelType::DependsOn)
        .await
        .unwrap();
    s.set_classification(&admin(), x, c(Level::Moderate), "test")
        .await
        .unwrap();
    assert_eq!(s.ci(x).await.unwrap().effective[0].level, Level::High);
    s.delete_relationship(&admin(), edge.id).await.unwrap();
    let after = s.ci(x).await.unwrap().effective[0];
    assert_eq!(
        (after.level, after.source, after.via),
        (Level::Moderate, Some(x), None)
    );
}

/// The random steps and the repair check on one backend; `raw` runs SQL behind the
/// store's back (to damage stored values) and returns how many rows it touched.
async fn classification_stays_right<F, Fut>(s: Arc<dyn Store>, raw: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    use custos_core::classification::{Classification, Level};
    use custos_core::cmdb::{CiInput, Lifecycle, RelType};
    explicit_level_outlives_inheritance(&s).await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut ids = vec![];
    for i in 0..24 {
        let input = CiInput::new(
            "server",
            &format!("n{i}"),
            Some(&format!("n{i}")),
            Lifecycle::Active,
            serde_json::json!({}),
        )
        .unwrap();
        ids.push(s.create_ci(&admin(), input).await.unwrap().ci.id);
    }
    let levels = [
        None,
        Some(Level::Low),
        Some(Level::Moderate),
        Some(Level::High),
    ];
    let types = [
        RelType::DependsOn,
        RelType::RunsOn,
        RelType::HostedBy,
        RelType::StoresDataOf,
        RelType::ConnectsTo,
    ];
    let mut rels = vec![];
    let snapshot = |cis: Vec<custos_core::store::CiRecord>| {
        let mut v: Vec<(custos_core::CiId, [Level; 3])> = cis
            .into_iter()
            .map(|r| {
                (
                    r.ci.id,
                    [
                        r.effective[0].level,
                        r.effective[1].level,
                        r.effective[2].level,
                    ],
                )
            })
            .collect();
        v.sort();
        v
    };
    for step in 0..156 {
        if step < 6 || step % 10 == 9 {
            // Explicit values first, then on the way too (their copies travel with the levels).
            let c = Classification {
                confidentiality: levels[next(4)],
                integrity: levels[next(4)],
                availability: levels[next(4)],
            };
            s.set_classification(&admin(), ids[next(ids.len())], c, "random")
                .await
                .unwrap();
        } else if rels.is_empty() || next(3) > 0 {
            let (a, b) = (ids[next(ids.len())], ids[next(ids.len())]);
            if a != b
                && let Ok(r) = s
                    .add_relationship(&admin(), a, b, types[next(types.len())])
                    .await
            {
                rels.push(r);
            }
        } else {
            let r = rels.swap_remove(next(rels.len()));
            s.delete_relationship(&admin(), r.id).await.unwrap();
        }
        let inherits: std::collections::HashSet<_> = rels
            .iter()
            .filter_map(|r| r.rel_type.classification_flow(r.source_id, r.target_id))
            .collect();
        let now = s.cis_by_ids(&ids).await.unwrap();
        // Every inherited level names a chain of vias that ends at its source, at that level.
        let by_id: std::collections::HashMap<_, _> =
            now.iter().map(|r| (r.ci.id, r.effective)).collect();
        for r in &now {
            for d in [0, 1, 2] {
                let e = r.effective[d];
                let (mut at, mut hops) = (r.ci.id, 0);
                while let Some(v) = by_id[&at][d].via {
                    assert!(
                        inherits.contains(&(v, at)),
                        "step {step}: via is not a parent"
                    );
                    assert_eq!(
                        by_id[&v][d].level, e.level,
                        "step {step}: via at another level"
                    );
                    at = v;
                    hops += 1;
                    assert!(hops <= ids.len(), "step {step}: vias loop");
                }
                assert_eq!(
                    e.source.is_some(),
                    e.source == Some(at),
                    "step {step}: chain ends at the source"
                );
            }
        }
        let before = snapshot(now);
        s.recompute_classification().await.unwrap();
        let after = snapshot(s.cis_by_ids(&ids).await.unwrap());
        assert_eq!(
            before, after,
            "step {step}: incremental levels differ from a full recompute"
        );
    }

    // The full recompute repairs stored values that are wrong (levels, sources and vias),
    // and writes nothing else.
    let full = |cis: Vec<custos_core::store::CiRecord>| {
        let mut v: Vec<_> = cis.into_iter().map(|r| (r.ci.id, r.effective)).collect();
        v.sort_by_key(|(id, _)| *id);
        v
    };
    let right = full(s.cis_by_ids(&ids).await.unwrap());
    assert!(
        right.iter().any(|(_, e)| e.iter().any(|d| d.via.is_some())),
        "the random graph inherits something"
    );
    // Every other CI gets C=high from itself and I=low from nowhere, and a wrong copy of
    // its explicit C.
    let victims: Vec<String> = (0..24).step_by(2).map(|i| format!("'n{i}'")).collect();
    let damaged = raw(format!(
        "INSERT INTO ci_levels (id, cls_c, eff_c, eff_i, eff_a, eff_c_source) \
         SELECT id, 2, 3, 1, 1, id FROM cis WHERE name IN ({}) \
         ON CONFLICT (id) DO UPDATE SET cls_c = 2, eff_c = 3, eff_c_source = excluded.id, eff_c_via = NULL, \
         eff_i = 1, eff_i_source = NULL, eff_i_via = NULL",
        victims.join(", ")
    ))
    .await;
    assert_eq!(damaged, 12);
    let repaired = s.recompute_classification().await.unwrap();
    assert!(repaired > 0 && repaired <= damaged, "{repaired}");
    assert_eq!(full(s.cis_by_ids(&ids).await.unwrap()), right);
    assert_eq!(s.recompute_classification().await.unwrap(), 0);
    // The small table again holds exactly the CIs that carry a level, with their explicit
    // values (an update that matches no row changes nothing).
    let carry = right
        .iter()
        .filter(|(_, e)| e.iter().any(|d| d.source.is_some()))
        .count() as u64;
    let carrying =
        "UPDATE ci_levels SET eff_c = eff_c WHERE id IN (SELECT id FROM cis WHERE name LIKE 'n%')";
    assert_eq!(raw(carrying.to_string()).await, carry);
    assert_eq!(
        raw("UPDATE ci_levels SET eff_c = eff_c WHERE eff_c_source IS NULL AND eff_i_source IS NULL \
             AND eff_a_source IS NULL OR cls_c IS DISTINCT FROM (SELECT cls_c FROM cis WHERE cis.id = ci_levels.id) \
             OR cls_i IS DISTINCT FROM (SELECT cls_i FROM cis WHERE cis.id = ci_levels.id) \
             OR cls_a IS DISTINCT FROM (SELECT cls_a FROM cis WHERE cis.id = ci_levels.id)".to_string())
        .await,
        0
    );
    // A deleted CI takes its row with it.
    let (gone, _) = right
        .iter()
        .find(|(_, e)| e.iter().any(|d| d.source.is_some()))
        .expect("a CI that carries a level");
    s.delete_ci(&admin(), *gone).await.unwrap();
    let orphans = "UPDATE ci_levels SET eff_c = eff_c WHERE id NOT IN (SELECT id FROM cis)";
    assert_eq!(raw(orphans.to_string()).await, 0);
}

/// On PostgreSQL, `analyze` (run after bulk imports) also vacuums the store's tables, so
/// their visibility map lets covering indexes answer without reading the rows (edge queries
/// through `relationships_target`); autovacuum lags a large import and may be off. It
/// leaves the tables of other schemas alone.
#[tokio::test]
async fn analyze_sets_the_visibility_map_on_postgres() {
    use custos_core::cmdb::{CiInput, Lifecycle, RelType};
    let Ok(url) = std::env::var("CUSTOS_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = format!("story_{}", uuid::Uuid::now_v7().simple());
    let other = format!("story_{}", uuid::Uuid::now_v7().simple());
    let (s, o) = (
        pg_in_schema(&url, &schema).await,
        pg_in_schema(&url, &other).await,
    );
    for store in [&s, &o] {
        let ci = |n: &str| {
            CiInput::new("server", n, None, Lifecycle::Active, serde_json::json!({})).unwrap()
        };
        let a = store.create_ci(&admin(), ci("a")).await.unwrap();
        let b = store.create_ci(&admin(), ci("b")).await.unwrap();
        store
            .add_relationship(&admin(), a.ci.id, b.ci.id, RelType::DependsOn)
            .await
            .unwrap();
    }
    s.analyze().await.unwrap();
    let raw = sqlx::PgPool::connect(&url).await.unwrap();
    let visible = |schema: String| {
        let raw = raw.clone();
        async move {
            let pages: i32 = sqlx::query_scalar(
                "SELECT c.relallvisible FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = 'relationships'",
            )
            .bind(schema)
            .fetch_one(&raw)
            .await
            .unwrap();
            pages
        }
    };
    assert_eq!(
        visible(schema.clone()).await,
        1,
        "the store's own table is vacuumed"
    );
    assert_eq!(
        visible(other.clone()).await,
        0,
        "another schema's table is not"
    );
    for store in [s, o] {
        store.close().await;
    }
    raw.close().await;
}
