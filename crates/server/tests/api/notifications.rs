//! Notifications end to end: outbox event → deliveries → an in-test SMTP sink and webhook
//! receiver; failures, backoff, death, retry through the API and the admin page. The
//! dispatcher is driven pass by pass with a chosen `now`.

use crate::helpers::*;
use crate::notify_sinks::{SECRET, SinkTls, TEST_CA, receiver, smtp_sink, smtp_sink_with};
use custos_core::Timestamp;
use custos_core::account::{Role, UserPatch};
use custos_core::authz::Actor;
use custos_core::notify::{BACKOFF_SECS, Event, EventKind, MAX_ATTEMPTS};
use custos_core::secret::Secret;
use custos_server::ServerSettings;
use custos_server::http::state::SmtpSettings;
use custos_server::http::state::SmtpTls;
use custos_server::http::state::WebhookSettings;
use custos_server::notifications::Dispatcher;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::atomic::Ordering;

/// E-mail to the sink; webhook `ops` (every kind) and `breaches` (breaches only).
fn channels(smtp_port: u16, hooks: &str) -> impl Fn(&mut ServerSettings) {
    let hooks = hooks.to_string();
    move |s: &mut ServerSettings| {
        s.smtp = SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp_port,
            tls: SmtpTls::None,
            from: "Custos <custos@example.org>".into(),
            ..SmtpSettings::default()
        };
        s.webhooks = vec![
            WebhookSettings {
                name: "ops".into(),
                url: format!("{hooks}/ops"),
                secret: Secret::new(SECRET),
                events: vec![],
                need_to_know: false,
            },
            WebhookSettings {
                name: "breaches".into(),
                url: format!("{hooks}/breaches"),
                secret: Secret::new("other-secret"),
                events: vec![EventKind::Breach],
                need_to_know: false,
            },
            // The security team's tooling: trusted with confidential events.
            WebhookSettings {
                name: "soc".into(),
                url: format!("{hooks}/soc"),
                secret: Secret::new(SECRET),
                events: vec![EventKind::SecurityFlagged, EventKind::Assigned],
                need_to_know: true,
            },
        ];
    }
}

fn dispatcher(app: &TestApp) -> Dispatcher {
    assert_eq!(app.settings.notify_interval_ms, 0, "the test drives it");
    Dispatcher::new(app.store.clone(), &app.settings).unwrap()
}

fn event(kind: EventKind, confidential: bool) -> Event {
    Event {
        kind,
        entity_type: "incident".into(),
        entity_id: "0190a0b0-0000-7000-8000-000000000001".into(),
        reference: "INC-000001".into(),
        subject: "Payroll data leaked".into(),
        body: "Payroll export found on a public share.".into(),
        users: vec![],
        roles: vec![],
        confidential,
    }
}

async fn deliveries(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/notifications/deliveries{query}"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn events_reach_recipients_and_webhooks_once_with_signatures() {
    let (smtp_port, mails) = smtp_sink().await;
    let hooks = receiver().await;
    for app in spawn_apps_with(channels(smtp_port, &hooks.url)).await {
        mails.lock().unwrap().clear();
        hooks.got.lock().unwrap().clear();
        let alice = app
            .user("alice@example.org", &[Role::Requester], None)
            .await;
        let sm1 = app
            .user(
                "sm1@example.org",
                &[Role::Agent, Role::SecurityManager],
                None,
            )
            .await;
        app.user("sm2@example.org", &[Role::SecurityManager], None)
            .await;
        let gone = app
            .user("gone@example.org", &[Role::SecurityManager], None)
            .await;
        let patch = UserPatch {
            disabled: Some(true),
            ..UserPatch::default()
        };
        app.store
            .update_user(&Actor::System("test"), gone.id, patch)
            .await
            .unwrap();
        let agent = app.user("agent@example.org", &[Role::Agent], None).await;
        let admin = app.token_for(&[Role::Admin]).await;
        // The security incident the events are about: Alice reported it, so she has
        // need-to-know. (The events of its creation are set aside.)
        let now = Timestamp::now();
        let inc = plain_incident("Payroll export found", "data_leak", alice.id, None, now);
        let created = app
            .store
            .create_incidents(vec![create_write(inc, &Default::default(), now)])
            .await
            .unwrap();
        assert!(created[0].security.flagged);
        let reported = created[0].id.to_string();
        let own: Vec<_> = app.store.pending_events(10).await.unwrap();
        let own: Vec<_> = own.into_iter().map(|(id, _, _)| (id, vec![])).collect();
        app.store.plan_deliveries(&own, now).await.unwrap();

        let mut e = event(EventKind::SecurityFlagged, true);
        e.entity_id = reported.clone();
        e.users = vec![alice.id, sm1.id];
        e.roles = vec![Role::SecurityManager];
        app.store.enqueue_event(&e, now).await.unwrap();
        let d = dispatcher(&app);
        let pass = d.run_once(now).await.unwrap();
        assert_eq!((pass.planned, pass.sent), (4, 4), "{}", app.backend);

        // One e-mail per distinct address: named users and every active security manager.
        let got = mails.lock().unwrap().clone();
        let mut to: Vec<String> = got.iter().flat_map(|m| m.rcpts.clone()).collect();
        to.sort();
        assert_eq!(
            to,
            ["alice@example.org", "sm1@example.org", "sm2@example.org"],
            "{}",
            app.backend
        );
        for m in &got {
            assert_eq!(m.rcpts.len(), 1, "recipients do not see each other");
            assert!(
                m.data.contains("Subject: Payroll data leaked"),
                "{}",
                m.data
            );
            assert!(
                m.data.contains(&format!(
                    "https://custos.example.org/incidents/{}",
                    e.entity_id
                )),
                "{}",
                m.data
            );
        }
        // A confidential event reaches only the webhook trusted with need-to-know, with
        // its content; the one subscribed to every kind gets no trace of it.
        let got = hooks.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{} {got:?}", app.backend);
        let h = &got[0];
        assert!(h.signature_ok, "signature verifies with the secret");
        assert_eq!(h.name, "soc");
        assert_eq!(h.event, "security_flagged");
        assert_eq!(h.body["reference"], "INC-000001");
        assert_eq!(h.body["confidential"], true);
        assert_eq!(h.body["subject"], "Payroll data leaked");

        let list = deliveries(&app, &admin, "").await;
        assert_eq!(list["counts"]["sent"], 4);
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert!(
            items
                .iter()
                .all(|i| i["status"] == "sent" && i["attempts"] == 1)
        );
        let hook = items.iter().find(|i| i["channel"] == "webhook").unwrap();
        assert_eq!(hook["target"], "soc");
        assert_eq!(hook["id"], h.delivery.as_str(), "X-Custos-Delivery");
        assert!(!list.to_string().contains("Payroll"), "no content listed");

        // Another pass, or another instance planning the same event, sends nothing twice.
        let again = dispatcher(&app);
        assert_eq!(again.run_once(now).await.unwrap(), Default::default());
        let event_id = custos_core::EventId(hook["event_id"].as_str().unwrap().parse().unwrap());
        let same = [custos_core::store::NewDelivery {
            channel: custos_core::notify::Channel::Webhook,
            target: "soc".into(),
        }];
        assert_eq!(
            app.store
                .plan_deliveries(&[(event_id, same.to_vec())], now)
                .await
                .unwrap(),
            0
        );
        assert_eq!(mails.lock().unwrap().len(), 3);
        assert_eq!(hooks.got.lock().unwrap().len(), 1);

        // Several events are planned in one pass, and every one of them is dispatched.
        for _ in 0..3 {
            let mut e = event(EventKind::SecurityFlagged, true);
            e.entity_id = reported.clone();
            e.users = vec![alice.id];
            app.store.enqueue_event(&e, now).await.unwrap();
        }
        assert_eq!(app.store.pending_events(10).await.unwrap().len(), 3);
        let pass = d.run_once(now).await.unwrap();
        assert_eq!((pass.planned, pass.sent), (6, 6), "{}", app.backend);
        assert!(app.store.pending_events(10).await.unwrap().is_empty());
        assert_eq!(d.run_once(now).await.unwrap(), Default::default());
        assert_eq!(mails.lock().unwrap().len(), 6);
        assert_eq!(hooks.got.lock().unwrap().len(), 4);

        // Someone named on a confidential event without need-to-know of its incident (an
        // agent who is neither assigned nor added) is not told; the same event about an
        // ordinary matter reaches them. The trusted webhook gets both, the other one only
        // the ordinary event.
        for confidential in [true, false] {
            let mut e = event(EventKind::Assigned, confidential);
            e.entity_id = reported.clone();
            e.users = vec![agent.id];
            app.store.enqueue_event(&e, now).await.unwrap();
        }
        let pass = d.run_once(now).await.unwrap();
        assert_eq!((pass.planned, pass.sent), (4, 4), "{}", app.backend);
        let got = mails.lock().unwrap().clone();
        assert_eq!(got.len(), 7, "{}", app.backend);
        assert_eq!(got[6].rcpts, ["agent@example.org"]);
        let mut names: Vec<String> = hooks.got.lock().unwrap()[4..]
            .iter()
            .map(|h| h.name.clone())
            .collect();
        names.sort();
        assert_eq!(names, ["ops", "soc", "soc"], "{}", app.backend);

        // Filters and bad input.
        let sent = deliveries(&app, &admin, "?status=sent&limit=2").await;
        assert_eq!(sent["items"].as_array().unwrap().len(), 2);
        assert!(sent["next_cursor"].is_string());
        assert_eq!(
            deliveries(&app, &admin, "?status=dead").await["items"],
            serde_json::json!([])
        );
        let bad = app
            .get("/api/v1/notifications/deliveries?status=gone", &admin)
            .await;
        assert_eq!(
            problem(bad, StatusCode::BAD_REQUEST).await["field"],
            "status"
        );
        let r = app
            .send_json(
                Method::POST,
                &format!("/api/v1/notifications/deliveries/{}/retry", h.delivery),
                &admin,
                &serde_json::json!({}),
            )
            .await;
        problem(r, StatusCode::CONFLICT).await;
        let requester = app.token_for(&[Role::Requester]).await;
        let r = app
            .get("/api/v1/notifications/deliveries", &requester)
            .await;
        problem(r, StatusCode::FORBIDDEN).await;
    }
}

#[tokio::test]
async fn failures_back_off_die_and_come_back_on_retry() {
    let (smtp_port, _) = smtp_sink().await;
    let hooks = receiver().await;
    for app in spawn_apps_with(channels(smtp_port, &hooks.url)).await {
        hooks.got.lock().unwrap().clear();
        hooks.status.store(500, Ordering::SeqCst);
        let admin = app.token_for(&[Role::Admin]).await;
        let t0 = Timestamp::now();
        // No people to notify: only the two webhooks (both take breaches).
        app.store
            .enqueue_event(&event(EventKind::Breach, false), t0)
            .await
            .unwrap();
        let d = dispatcher(&app);
        let pass = d.run_once(t0).await.unwrap();
        assert_eq!((pass.planned, pass.failed), (2, 2), "{}", app.backend);
        let got = hooks.got.lock().unwrap().clone();
        assert!(got.iter().all(|h| h.signature_ok), "{got:?}");
        assert_eq!(
            got[0].body["subject"], "Payroll data leaked",
            "not confidential"
        );

        let list = deliveries(&app, &admin, "?status=failed").await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        for i in items {
            assert_eq!(i["attempts"], 1);
            assert!(i["last_error"].as_str().unwrap().contains("500"), "{i}");
            let next =
                custos_server::http::util::parse_rfc3339(i["next_attempt_at"].as_str().unwrap());
            assert_eq!(next.map(|n| n.secs()), Some(t0.plus_secs(30).secs()));
        }
        // Not due before its time.
        assert_eq!(
            d.run_once(t0.plus_secs(29)).await.unwrap(),
            Default::default()
        );
        assert_eq!(hooks.got.lock().unwrap().len(), 2);

        // Through every backoff to the last attempt.
        let mut t = t0;
        for (n, wait) in BACKOFF_SECS.iter().enumerate() {
            t = t.plus_secs(*wait);
            let pass = d.run_once(t).await.unwrap();
            let last = n + 2 == MAX_ATTEMPTS as usize;
            assert_eq!((pass.failed, pass.dead), if last { (0, 2) } else { (2, 0) });
        }
        assert_eq!(hooks.got.lock().unwrap().len(), 2 * MAX_ATTEMPTS as usize);
        let dead = deliveries(&app, &admin, "?status=dead").await;
        assert_eq!(dead["counts"]["dead"], 2);
        let dead = dead["items"].as_array().unwrap().clone();
        assert!(
            dead.iter()
                .all(|i| i["attempts"] == MAX_ATTEMPTS && i["next_attempt_at"].is_null())
        );
        assert_eq!(
            d.run_once(t.plus_secs(86_400)).await.unwrap(),
            Default::default()
        );

        // A retry through the API puts one back; a working receiver then gets it.
        let id = dead[0]["id"].as_str().unwrap();
        let r = app
            .send_json(
                Method::POST,
                &format!("/api/v1/notifications/deliveries/{id}/retry"),
                &admin,
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "pending");
        hooks.status.store(200, Ordering::SeqCst);
        hooks.got.lock().unwrap().clear();
        let pass = d.run_once(t.plus_secs(1)).await.unwrap();
        assert_eq!((pass.sent, pass.failed, pass.dead), (1, 0, 0));
        let got = hooks.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].delivery, id);
        assert!(got[0].signature_ok);
        let counts = deliveries(&app, &admin, "").await["counts"].clone();
        assert_eq!(
            (counts["sent"].clone(), counts["dead"].clone()),
            (1.into(), 1.into())
        );
        app.seal().await;
        let audit = app
            .get("/api/v1/audit?action=notification.retry", &admin)
            .await
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(audit["items"][0]["entity_id"], id);

        // Unknown and malformed ids.
        let nil = uuid::Uuid::nil();
        let r = app
            .send_json(
                Method::POST,
                &format!("/api/v1/notifications/deliveries/{nil}/retry"),
                &admin,
                &serde_json::json!({}),
            )
            .await;
        problem(r, StatusCode::NOT_FOUND).await;
        let r = app
            .send_json(
                Method::POST,
                "/api/v1/notifications/deliveries/zzz/retry",
                &admin,
                &serde_json::json!({}),
            )
            .await;
        problem(r, StatusCode::BAD_REQUEST).await;

        // The admin page lists the dead one with a retry button that works.
        app.user("notify-admin@example.org", &[Role::Admin], None)
            .await;
        let mut b = app.browser();
        b.login("notify-admin@example.org", PASSWORD).await;
        let (status, _, page) = b.get("/admin/notifications?status=dead").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(Browser::element_text(&page, "count-dead"), "1");
        assert_eq!(Browser::element_text(&page, "count-sent"), "1");
        assert!(page.contains("the webhook answered HTTP 500"), "{page}");
        assert!(
            page.contains("<strong>ops</strong>: every event; no security incidents"),
            "{page}"
        );
        assert!(
            page.contains(
                "<strong>soc</strong>: security flagged, assigned; trusted with need-to-know"
            ),
            "{page}"
        );
        assert!(
            !page.contains(SECRET) && !page.contains(&hooks.url),
            "no secret or URL"
        );
        let other = dead[1]["id"].as_str().unwrap();
        let action = format!("/admin/notifications/{other}/retry");
        assert!(page.contains(&action), "{page}");
        let csrf = Browser::csrf(&page);
        let (status, loc, _) = b
            .post(&action, &[("csrf", &csrf), ("status", "dead")])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            loc.as_deref(),
            Some("/admin/notifications?status=dead&retried=1")
        );
        let (status, _, _) = b.post(&action, &[("csrf", "wrong")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, _, page) = b.get("/admin/notifications").await;
        assert_eq!(Browser::element_text(&page, "count-pending"), "1");
        assert_eq!(Browser::element_text(&page, "count-dead"), "0");
    }
}

#[tokio::test]
async fn dispatchers_running_at_once_send_each_delivery_once() {
    let (smtp_port, mails) = smtp_sink().await;
    let hooks = receiver().await;
    for app in spawn_apps_with(channels(smtp_port, &hooks.url)).await {
        mails.lock().unwrap().clear();
        hooks.got.lock().unwrap().clear();
        let sm = app
            .user("sm@example.org", &[Role::SecurityManager], None)
            .await;
        let now = Timestamp::now();
        for n in 0..25 {
            let mut e = event(EventKind::Breach, false);
            e.reference = format!("INC-{n:06}");
            e.users = vec![sm.id];
            app.store.enqueue_event(&e, now).await.unwrap();
        }
        let (a, b) = (dispatcher(&app), dispatcher(&app));
        let (pa, pb) = tokio::join!(a.run_once(now), b.run_once(now));
        let (pa, pb) = (pa.unwrap(), pb.unwrap());
        // 25 events × (one e-mail + two webhooks), each planned and sent by one of them.
        assert_eq!(pa.planned + pb.planned, 75, "{}", app.backend);
        assert_eq!(pa.sent + pb.sent, 75, "{}", app.backend);
        let mut ids: Vec<String> = hooks
            .got
            .lock()
            .unwrap()
            .iter()
            .map(|h| h.delivery.clone())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 50, "{}", app.backend);
        assert_eq!(hooks.got.lock().unwrap().len(), 50, "no webhook twice");
        assert_eq!(mails.lock().unwrap().len(), 25, "no e-mail twice");
    }
}

/// E-mail over STARTTLS and over TLS from the first byte, to a relay whose certificate a
/// private CA signed: refused (and retried later) while only the system's roots are
/// trusted, sent once `smtp_ca_file` names that CA.
#[tokio::test]
async fn e_mail_goes_over_tls_to_a_relay_with_a_private_ca() {
    for app in spawn_apps().await {
        let admin = app.token_for(&[Role::Admin]).await;
        for (n, (sink, mode)) in [
            (SinkTls::StartTls, SmtpTls::StartTls),
            (SinkTls::Implicit, SmtpTls::Tls),
        ]
        .into_iter()
        .enumerate()
        {
            let (port, mails) = smtp_sink_with(sink).await;
            let who = app
                .user(&format!("tls{n}@example.org"), &[Role::Requester], None)
                .await;
            let mut settings = app.settings.clone();
            settings.smtp = SmtpSettings {
                host: "localhost".into(),
                port,
                tls: mode,
                from: "Custos <custos@example.org>".into(),
                ..SmtpSettings::default()
            };
            let mut e = event(EventKind::Assigned, false);
            e.users = vec![who.id];
            let t0 = Timestamp::now();
            app.store.enqueue_event(&e, t0).await.unwrap();

            let d = Dispatcher::new(app.store.clone(), &settings).unwrap();
            let pass = d.run_once(t0).await.unwrap();
            assert_eq!(
                (pass.planned, pass.sent, pass.failed),
                (1, 0, 1),
                "{mode:?}"
            );
            assert!(mails.lock().unwrap().is_empty(), "nothing in clear");
            let failed = deliveries(&app, &admin, "?status=failed").await;
            let mine = failed["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["target"] == format!("tls{n}@example.org"))
                .cloned()
                .unwrap();
            let error = mine["last_error"].as_str().unwrap().to_lowercase();
            assert!(error.contains("certificate"), "{mode:?}: {error}");

            settings.smtp.ca_file = TEST_CA.into();
            let d = Dispatcher::new(app.store.clone(), &settings).unwrap();
            let pass = d.run_once(t0.plus_secs(BACKOFF_SECS[0])).await.unwrap();
            assert_eq!((pass.sent, pass.failed), (1, 0), "{mode:?}");
            let got = mails.lock().unwrap().clone();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].rcpts, [format!("tls{n}@example.org")]);
            assert!(got[0].data.contains("Subject: Payroll data leaked"));
        }
    }
}
