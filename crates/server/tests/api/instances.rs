//! Several instances on one PostgreSQL database: concurrent writers through both, both
//! sealers running; the audit chain ends up complete, gap-free and intact.

use crate::helpers::*;
use custos_core::account::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn two_instances_share_one_database_and_one_audit_chain() {
    let Ok(url) = std::env::var("CUSTOS_TEST_POSTGRES_URL") else {
        eprintln!("skipped: CUSTOS_TEST_POSTGRES_URL is not set");
        return;
    };
    let (a, b) = two_instances(&url).await;
    let token = a.token_for(&[Role::Admin]).await;
    let profile = json!({"mfa_required": false, "session_lifetime_minutes": 60, "idle_timeout_minutes": 10, "access_two_approvals": false, "monitoring_level": "standard"});
    let mut tasks = vec![];
    for i in 0..60 {
        let (client, base, token, profile) = (
            a.client.clone(),
            if i % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            },
            token.clone(),
            profile.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .request(Method::POST, format!("{base}/api/v1/departments"))
                .bearer_auth(token)
                .json(&json!({"name": format!("Team {i}"), "profile": profile}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    // Both sealers run every 100 ms; wait for them to drain.
    for _ in 0..100 {
        if a.store.unsealed_audit_count().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v: serde_json::Value = b
        .get("/api/v1/audit/verify", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["unsealed"], 0);
    assert!(v["checked"].as_u64().unwrap() >= 62, "{v}");
    let r: serde_json::Value = a
        .get("/api/v1/audit?action=department.create&limit=500", &token)
        .await
        .json()
        .await
        .unwrap();
    let mut seqs: Vec<i64> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 60, "each entry sealed exactly once");
}
