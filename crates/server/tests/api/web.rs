//! Browser flows: sign-in with throttling, MFA enrolment and TOTP, CSRF, logout, headers.

use crate::helpers::*;
use custos_core::Timestamp;
use custos_core::account::Role;
use custos_core::secret::Secret;
use reqwest::StatusCode;

fn code(secret: &str, now: Timestamp) -> String {
    custos_core::mfa::current_code(&Secret::new(secret), now).unwrap()
}

#[tokio::test]
async fn six_wrong_passwords_are_throttled_and_audited() {
    for app in spawn_apps().await {
        app.user("ann@example.org", &[Role::Agent], None).await;
        let mut b = app.browser();
        for i in 1..=5 {
            let (status, _, page) = b.login("ann@example.org", "wrong password!").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
            assert!(page.contains("Wrong e-mail address or password."));
        }
        let (status, _, page) = b.login("ann@example.org", "wrong password!").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", app.backend);
        assert!(page.contains("Too many failed attempts"));
        // Even the right password waits out the cooling-off period.
        let (status, _, _) = b.login("ann@example.org", PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        app.seal().await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let r: serde_json::Value = app
            .get("/api/v1/audit?action=auth.login_throttled", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["items"].as_array().unwrap().len(), 2, "{r}");
        assert_eq!(r["items"][0]["changes"]["email"], "ann@example.org");
        let r: serde_json::Value = app
            .get("/api/v1/audit?action=auth.login_failed", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["items"].as_array().unwrap().len(), 5);
        // Unknown accounts are throttled the same way and do not reveal themselves.
        let (status, _, page) = b.login("nobody@example.org", PASSWORD).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(page.contains("Wrong e-mail address or password."));
    }
}

#[tokio::test]
async fn mfa_required_department_sends_user_to_enrolment_then_requires_totp() {
    for app in spawn_apps().await {
        let finance = app.department("Finance", true).await;
        app.user(
            "carla@example.org",
            &[Role::CustomerRepresentative],
            Some(finance),
        )
        .await;
        let mut b = app.browser();
        let (status, loc, _) = b.login("carla@example.org", PASSWORD).await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/account/mfa")),
            "{}",
            app.backend
        );
        // Without finishing enrolment nothing else opens.
        for page in ["/", "/account", "/admin/users"] {
            let (status, loc, _) = b.get(page).await;
            assert_eq!(
                (status, loc.as_deref()),
                (StatusCode::SEE_OTHER, Some("/account/mfa")),
                "{page}"
            );
        }
        let (status, _, page) = b.get("/account/mfa").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<svg"), "QR code is an inline SVG");
        let secret = Browser::element_text(&page, "totp-secret");
        let uri = Browser::element_text(&page, "otpauth-uri");
        assert!(
            uri.starts_with("otpauth://totp/Custos:carla%40example.org?")
                || uri.starts_with("otpauth://totp/Custos:carla@example.org?"),
            "{uri}"
        );
        let csrf = Browser::csrf(&page);
        let (status, _, _) = b
            .post("/account/mfa", &[("csrf", &csrf), ("code", "000000")])
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let now = Timestamp::now();
        let (status, _, page) = b
            .post(
                "/account/mfa",
                &[("csrf", &csrf), ("code", &code(&secret, now))],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let codes: Vec<String> = page
            .split("<li><code>")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().to_string())
            .collect();
        assert_eq!(codes.len(), 10);
        let (status, _, _) = b.get("/").await;
        assert_eq!(status, StatusCode::OK, "enrolment completes the sign-in");

        // Sign out, then the password alone is not enough.
        let (_, _, home) = b.get("/").await;
        let (status, loc, _) = b.post("/logout", &[("csrf", &Browser::csrf(&home))]).await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login"))
        );
        let (_, loc, _) = b.login("carla@example.org", PASSWORD).await;
        assert_eq!(loc.as_deref(), Some("/login/totp"));
        let (status, loc, _) = b.get("/").await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login/totp"))
        );
        let (_, _, page) = b.get("/login/totp").await;
        let csrf = Browser::csrf(&page);
        let (status, _, _) = b
            .post("/login/totp", &[("csrf", &csrf), ("code", "123456")])
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // The code used for enrolment cannot be replayed; the next step's code works.
        let (status, _, _) = b
            .post(
                "/login/totp",
                &[("csrf", &csrf), ("code", &code(&secret, now))],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "replayed code");
        let (status, loc, _) = b
            .post(
                "/login/totp",
                &[("csrf", &csrf), ("code", &code(&secret, now.plus_secs(30)))],
            )
            .await;
        assert_eq!((status, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
        assert_eq!(b.get("/").await.0, StatusCode::OK);

        // A recovery code works once.
        let mut b2 = app.browser();
        b2.login("carla@example.org", PASSWORD).await;
        let (_, _, page) = b2.get("/login/totp").await;
        let csrf = Browser::csrf(&page);
        let (_, loc, _) = b2
            .post(
                "/login/totp",
                &[("csrf", &csrf), ("code", &codes[0].to_uppercase())],
            )
            .await;
        assert_eq!(loc.as_deref(), Some("/"));
        let mut b3 = app.browser();
        b3.login("carla@example.org", PASSWORD).await;
        let (_, _, page) = b3.get("/login/totp").await;
        let (status, _, _) = b3
            .post(
                "/login/totp",
                &[("csrf", &Browser::csrf(&page)), ("code", &codes[0])],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "recovery code used twice");
        app.seal().await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let r: serde_json::Value = app
            .get("/api/v1/audit?action=mfa.enrol", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["items"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    for app in spawn_apps().await {
        app.user("adam@example.org", &[Role::Admin], None).await;
        let mut b = app.browser();
        // The login form itself is protected by the pre-login cookie.
        let (status, _, _) = b
            .post(
                "/login",
                &[("email", "adam@example.org"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        b.login("adam@example.org", PASSWORD).await;
        let (status, _, _) = b
            .post(
                "/admin/departments",
                &[
                    ("name", "Evil"),
                    ("session_lifetime_minutes", "60"),
                    ("idle_timeout_minutes", "5"),
                    ("monitoring_level", "standard"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = b
            .post(
                "/admin/departments",
                &[("csrf", "forged"), ("name", "Evil")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, _, page) = b.get("/admin/departments/new").await;
        let csrf = Browser::csrf(&page);
        let (status, loc, _) = b
            .post(
                "/admin/departments",
                &[
                    ("csrf", &csrf),
                    ("name", "Good"),
                    ("session_lifetime_minutes", "60"),
                    ("idle_timeout_minutes", "5"),
                    ("monitoring_level", "high"),
                    ("mfa_required", "1"),
                ],
            )
            .await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/admin/departments"))
        );
        let d = app.store.department_by_name("Good").await.unwrap();
        assert!(d.profile.mfa_required);
        let (status, _, page) = b
            .post(
                "/admin/departments",
                &[
                    ("csrf", &csrf),
                    ("name", "Bad"),
                    ("session_lifetime_minutes", "x"),
                    ("idle_timeout_minutes", "5"),
                    ("monitoring_level", "high"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            page.contains("session_lifetime_minutes"),
            "the error names the field"
        );
    }
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    for app in spawn_apps().await {
        app.user("sam@example.org", &[Role::Agent], None).await;
        let mut b = app.browser();
        b.login("sam@example.org", PASSWORD).await;
        let stolen = b.cookies.clone();
        let (_, _, home) = b.get("/").await;
        b.post("/logout", &[("csrf", &Browser::csrf(&home))]).await;
        let mut replay = app.browser();
        replay.cookies = stolen;
        let (status, loc, _) = replay.get("/").await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login")),
            "a logged-out cookie is dead"
        );
    }
}

#[tokio::test]
async fn pages_carry_security_headers_and_cookie_attributes() {
    for app in spawn_apps().await {
        let r = app.client.get(app.url("/login")).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        let cookie = h["set-cookie"].to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let page = r.text().await.unwrap();
        assert!(!page.contains("<script"), "no scripts");
        assert!(
            page.contains("<label for=\"email\">") && page.contains("<label for=\"password\">"),
            "labelled inputs"
        );

        app.user("lee@example.org", &[Role::Agent], None).await;
        let mut b = app.browser();
        let (_, _, page) = b.get("/login").await;
        let csrf = Browser::csrf(&page);
        let r = app
            .client
            .post(app.url("/login"))
            .header(
                "cookie",
                format!("custos_prelogin={}", b.cookies["custos_prelogin"]),
            )
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "lee@example.org"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        let session_cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("custos_session="))
            .unwrap();
        assert!(
            session_cookie.contains("HttpOnly")
                && session_cookie.contains("SameSite=Lax")
                && session_cookie.contains("Path=/"),
            "{session_cookie}"
        );
    }
}

#[tokio::test]
async fn tokens_are_created_and_revoked_from_the_account_page() {
    for app in spawn_apps().await {
        app.user("tia@example.org", &[Role::Agent], None).await;
        let mut b = app.browser();
        b.login("tia@example.org", PASSWORD).await;
        let (_, _, page) = b.get("/account").await;
        let csrf = Browser::csrf(&page);
        let (status, _, page) = b
            .post(
                "/account/tokens",
                &[
                    ("csrf", &csrf),
                    ("name", "laptop"),
                    ("expires_in_days", "7"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let i = page.find("id=\"token-value\"").unwrap();
        let token = page[i..]
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);
        let (_, _, page) = b.get("/account").await;
        assert!(!page.contains(&token), "the secret is shown only once");
        let i = page.find("/account/tokens/").unwrap();
        let revoke = page[i..].split('"').next().unwrap().to_string();
        let (status, _, _) = b.post(&revoke, &[("csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.get("/api/v1/me", &token).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_no_more_than_the_limit() {
    for app in spawn_apps().await {
        app.user("burst@example.org", &[Role::Agent], None).await;
        // Twenty browsers, each with its own pre-login cookie, guess at the same moment.
        let mut forms = vec![];
        for _ in 0..20 {
            let mut b = app.browser();
            let (_, _, page) = b.get("/login").await;
            forms.push((b.cookies["custos_prelogin"].clone(), Browser::csrf(&page)));
        }
        let mut tasks = vec![];
        for (cookie, csrf) in forms {
            let (client, url) = (app.client.clone(), app.url("/login"));
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .header("cookie", format!("custos_prelogin={cookie}"))
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("email", "burst@example.org"),
                        ("password", "not the password"),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        let mut throttled = 0;
        for t in tasks {
            if t.await.unwrap() == StatusCode::TOO_MANY_REQUESTS {
                throttled += 1;
            }
        }
        assert!(
            throttled >= 15,
            "{}: only {throttled} of 20 parallel guesses throttled",
            app.backend
        );
        app.seal().await;
        let auditor = app.token_for(&[Role::Auditor]).await;
        let r: serde_json::Value = app
            .get("/api/v1/audit?action=auth.login_failed", &auditor)
            .await
            .json()
            .await
            .unwrap();
        assert!(
            r["items"].as_array().unwrap().len() <= 5,
            "{}: {r}",
            app.backend
        );
    }
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    for app in spawn_apps().await {
        app.user("pia@example.org", &[Role::Agent], None).await;
        let mut here = app.browser();
        here.login("pia@example.org", PASSWORD).await;
        let mut elsewhere = app.browser();
        elsewhere.login("pia@example.org", PASSWORD).await;
        let (_, _, page) = here.get("/account").await;
        let csrf = Browser::csrf(&page);
        let new = "a different long passphrase";
        let (status, _, _) = here
            .post(
                "/account/password",
                &[
                    ("csrf", &csrf),
                    ("current_password", "wrong one!"),
                    ("new_password", new),
                    ("confirm_password", new),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, loc, _) = here
            .post(
                "/account/password",
                &[
                    ("csrf", &csrf),
                    ("current_password", PASSWORD),
                    ("new_password", new),
                    ("confirm_password", new),
                ],
            )
            .await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/account?done=password")),
            "{}",
            app.backend
        );
        let (status, _, page) = here.get("/account?done=password").await;
        assert_eq!(status, StatusCode::OK, "this browser stays signed in");
        assert!(page.contains("Password changed"));
        assert_eq!(
            elsewhere.get("/").await.1.as_deref(),
            Some("/login"),
            "the other session ended"
        );
        let mut again = app.browser();
        assert_eq!(
            again.login("pia@example.org", new).await.1.as_deref(),
            Some("/")
        );
    }
}

#[tokio::test]
async fn turning_mfa_off_needs_the_password_and_a_fresh_code() {
    for app in spawn_apps().await {
        app.user("otto@example.org", &[Role::Agent], None).await;
        let mut b = app.browser();
        b.login("otto@example.org", PASSWORD).await;
        let (_, _, page) = b.get("/account/mfa").await;
        let secret = Browser::element_text(&page, "totp-secret");
        let csrf = Browser::csrf(&page);
        let now = Timestamp::now();
        let enrol_code = code(&secret, now);
        b.post("/account/mfa", &[("csrf", &csrf), ("code", &enrol_code)])
            .await;
        assert!(
            app.store
                .credentials_by_email("otto@example.org")
                .await
                .unwrap()
                .user
                .mfa_enabled
        );
        let (status, _, _) = b
            .post(
                "/account/mfa/disable",
                &[
                    ("csrf", &csrf),
                    ("password", PASSWORD),
                    ("code", &enrol_code),
                ],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a used code cannot be replayed"
        );
        let next = code(&secret, now.plus_secs(30));
        let (status, _, _) = b
            .post(
                "/account/mfa/disable",
                &[
                    ("csrf", &csrf),
                    ("password", "wrong password!"),
                    ("code", &next),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the password is required");
        let (status, loc, _) = b
            .post(
                "/account/mfa/disable",
                &[("csrf", &csrf), ("password", PASSWORD), ("code", &next)],
            )
            .await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/account?done=mfa_off")),
            "{}",
            app.backend
        );
        assert!(
            !app.store
                .credentials_by_email("otto@example.org")
                .await
                .unwrap()
                .user
                .mfa_enabled
        );
    }
}

#[tokio::test]
async fn a_department_that_starts_requiring_mfa_reaches_open_sessions() {
    for app in spawn_apps().await {
        let dept = app.department("Legal", false).await;
        app.user("lena@example.org", &[Role::Agent], Some(dept))
            .await;
        let mut b = app.browser();
        b.login("lena@example.org", PASSWORD).await;
        assert_eq!(b.get("/").await.0, StatusCode::OK);
        let strict = custos_core::account::NewDepartment::new(
            "Legal",
            "",
            custos_core::account::SecurityProfile {
                mfa_required: true,
                ..Default::default()
            },
        )
        .unwrap();
        app.store
            .update_department(&custos_core::authz::Actor::System("test"), dept, strict)
            .await
            .unwrap();
        let (status, loc, _) = b.get("/").await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/account/mfa")),
            "{}",
            app.backend
        );
    }
}

#[tokio::test]
async fn a_token_made_with_a_token_cannot_outlive_it() {
    for app in spawn_apps().await {
        let long = app.token_for(&[Role::Agent]).await;
        let r = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/tokens",
                &long,
                &serde_json::json!({"name": "short", "expires_in_days": 1}),
            )
            .await;
        let short: serde_json::Value = r.json().await.unwrap();
        let short_secret = short["token"].as_str().unwrap();
        let r = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/tokens",
                short_secret,
                &serde_json::json!({"name": "child", "expires_in_days": 30}),
            )
            .await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "expires_in_days");
        let r = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/tokens",
                short_secret,
                &serde_json::json!({"name": "child"}),
            )
            .await;
        let child: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            child["expires_at"], short["expires_at"],
            "inherits the parent's expiry"
        );
    }
}

/// The navigation groups pages by process: every role sees the groups it has pages in (and
/// only those) in the top bar and on the dashboard; a group's page lists the pages of it the
/// role may open and is refused when there are none; on a page, its group is marked current
/// in the top bar and the page itself in the group's bar.
#[tokio::test]
async fn the_navigation_groups_pages_by_process_and_marks_where_one_is() {
    use custos_core::authz::{Permission as P, role_grants};
    // Each group's page and the pages it holds, with what opening each takes.
    let groups: [(&str, &[(&str, P)]); 5] = [
        (
            "/service-desk",
            &[
                ("/incidents", P::ReadIncidents),
                ("/portal", P::ReportIncidents),
                ("/problems", P::ReadProblems),
                ("/known-errors", P::ReadProblems),
            ],
        ),
        ("/configuration", &[("/cmdb", P::ReadCmdb)]),
        (
            "/service-levels",
            &[
                ("/services", P::ReadServiceLevels),
                ("/slas", P::ReadServiceLevels),
                ("/customers", P::ReadServiceLevels),
                ("/suppliers", P::ReadAllServiceLevels),
            ],
        ),
        (
            "/security",
            &[
                ("/controls", P::ReadControls),
                ("/gaps", P::ReadCmdb),
                ("/audit", P::ReadAudit),
            ],
        ),
        (
            "/administration",
            &[
                ("/admin/users", P::ReadUsers),
                ("/admin/departments", P::ReadDepartments),
                ("/admin/groups", P::ManageGroups),
                ("/admin/notifications", P::ManageNotifications),
            ],
        ),
    ];
    for app in spawn_apps().await {
        let mut anon = app.browser();
        let (status, loc, _) = anon.get("/security").await;
        assert_eq!(
            (status, loc.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login"))
        );
        for role in Role::ALL {
            let email = format!("nav-{role}@example.org");
            app.user(&email, &[role], None).await;
            let mut b = app.browser();
            b.login(&email, PASSWORD).await;
            let (_, _, home) = b.get("/").await;
            let top = |page: &str| {
                let start = page
                    .find("<nav aria-label=\"Main\">")
                    .expect("the main bar");
                page[start..start + page[start..].find("</nav>").unwrap()].to_string()
            };
            for (group, pages) in groups {
                let allowed: Vec<&str> = pages
                    .iter()
                    .filter(|(_, perm)| role_grants(role, *perm))
                    .map(|(href, _)| *href)
                    .collect();
                let link = format!("href=\"{group}\"");
                assert_eq!(
                    top(&home).contains(&link),
                    !allowed.is_empty(),
                    "{role}: {group} in the top bar"
                );
                assert_eq!(
                    home.contains(&link),
                    !allowed.is_empty(),
                    "{role}: {group} on the dashboard"
                );
                let (status, _, page) = b.get(group).await;
                if allowed.is_empty() {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{role} GET {group}");
                    continue;
                }
                assert_eq!(status, StatusCode::OK, "{role} GET {group}");
                assert!(
                    top(&page).contains(&format!("{link} aria-current=\"page\"")),
                    "{role}: {group} is the current page"
                );
                for (href, _) in pages.iter() {
                    assert_eq!(
                        page.contains(&format!("<h2><a href=\"{href}\">")),
                        allowed.contains(href),
                        "{role}: {group} lists {href}"
                    );
                }
                // On the group's first page: the group current in the top bar, the page in
                // the group's bar, which holds exactly the allowed pages.
                let first = allowed[0];
                let (status, _, page) = b.get(first).await;
                assert_eq!(status, StatusCode::OK, "{role} GET {first}");
                assert!(
                    top(&page).contains(&format!("{link} aria-current=\"true\"")),
                    "{role}: {group} is the current group on {first}"
                );
                let start = page.find("<nav class=\"subnav\"").expect("the group's bar");
                let sub = &page[start..start + page[start..].find("</nav>").unwrap()];
                assert!(
                    sub.contains(&format!("href=\"{first}\" aria-current=\"page\"")),
                    "{role}: {first} is the current page in {group}'s bar"
                );
                for (href, _) in pages.iter() {
                    assert_eq!(
                        sub.contains(&format!("href=\"{href}\"")),
                        allowed.contains(href),
                        "{role}: {group}'s bar on {first} and {href}"
                    );
                }
            }
        }
    }
}
