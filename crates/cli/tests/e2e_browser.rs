//! End-to-end in real headless Chromium, driven over WebDriver (chromedriver): a user of a
//! department that requires MFA signs in with a password, is sent to enrolment, scans (reads)
//! the TOTP key, confirms a code, and reaches the dashboard; then signs out and back in with
//! password + TOTP. Runs when `CUSTOS_E2E=1` (`.ci/run` sets it and installs Chromium).

mod common;

use common::*;
use custos_core::Timestamp;
use custos_core::secret::Secret;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: String,
    _profile: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let start = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = TempDir::new("chromium");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1280,900", format!("--user-data-dir={}", profile.0.display())]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Driver {
            child,
            base,
            http,
            session,
            _profile: profile,
        }
    }

    async fn try_cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let r: Value = self
            .http
            .request(method, url)
            .json(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match r["value"].get("error") {
            Some(err) => Err(format!(
                "webdriver {path}: {err}: {}",
                r["value"]["message"]
            )),
            None => Ok(r["value"].clone()),
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.try_cmd(method, path, &body)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Retries `f` while the page is still changing (WebDriver does not wait for the
    /// navigation a click starts), for up to 10 seconds.
    async fn retry<T, F, Fut>(&self, what: &str, f: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let start = Instant::now();
        loop {
            match f().await {
                Ok(v) => return v,
                Err(e) if start.elapsed() > Duration::from_secs(10) => panic!("{what}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn try_find(&self, css: &str) -> Result<String, String> {
        let body = json!({"using": "css selector", "value": css});
        let v = self
            .try_cmd(reqwest::Method::POST, "/element", &body)
            .await?;
        Ok(v[ELEMENT].as_str().unwrap_or_default().to_string())
    }

    async fn find(&self, css: &str) -> String {
        self.retry(css, || self.try_find(css)).await
    }

    /// Waits until the current URL ends with `suffix`.
    async fn wait_url(&self, suffix: &str) {
        self.retry(suffix, || async {
            let u = self.url().await;
            if u.ends_with(suffix) {
                Ok(())
            } else {
                Err(format!("at {u}, waiting for {suffix}"))
            }
        })
        .await
    }

    /// Waits until the element's text contains `needle`.
    async fn wait_text(&self, css: &str, needle: &str) {
        self.retry(needle, || async {
            let e = self.try_find(css).await?;
            let v = self
                .try_cmd(
                    reqwest::Method::GET,
                    &format!("/element/{e}/text"),
                    &json!({}),
                )
                .await?;
            let t = v.as_str().unwrap_or_default();
            if t.contains(needle) {
                Ok(())
            } else {
                Err(format!("{css} reads {t:?}"))
            }
        })
        .await
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }

    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", json!({}))
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self
            .cmd(reqwest::Method::GET, "/screenshot", json!({}))
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::write(dir.join(format!("e2e-{name}.png")), bytes).unwrap();
    }

    async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

async fn sign_in(d: &Driver, base: &str, email: &str) {
    d.goto(&format!("{base}/login")).await;
    d.type_into("#email", email).await;
    d.type_into("#password", PASSWORD).await;
    d.click("button[type=submit].primary").await;
}

#[tokio::test]
async fn password_totp_sign_in_reaches_the_dashboard() {
    if std::env::var("CUSTOS_E2E").is_err() {
        eprintln!("skipped: set CUSTOS_E2E=1 (as .ci/run does) to run the browser test");
        return;
    }
    let dir = TempDir::new("e2e");
    let server = Server::start(&dir.0, "serve");
    let out = custos(
        &dir.0,
        &[
            "admin",
            "create-user",
            "--email",
            "admin@example.org",
            "--role",
            "admin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let admin = text(
        &custos(
            &dir.0,
            &["admin", "issue-token", "--email", "admin@example.org"],
            "",
        )
        .stdout,
    )
    .trim()
    .to_string();
    let api = reqwest::Client::new();
    let dept: Value = api
        .post(format!("{}/api/v1/departments", server.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "Finance", "profile": {"mfa_required": true, "session_lifetime_minutes": 480, "idle_timeout_minutes": 15, "access_two_approvals": true, "monitoring_level": "high"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = api
        .post(format!("{}/api/v1/users", server.base))
        .bearer_auth(&admin)
        .json(&json!({"email": "fiona@example.org", "display_name": "Fiona Finance", "roles": ["customer_representative"], "department_id": dept["id"], "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let d = Driver::start().await;
    sign_in(&d, &server.base, "fiona@example.org").await;
    d.wait_url("/account/mfa").await;
    d.screenshot("enrol").await;
    let key = d
        .retry("secret", || async {
            let e = d.try_find("#totp-secret").await?;
            let v = d
                .try_cmd(
                    reqwest::Method::GET,
                    &format!("/element/{e}/text"),
                    &json!({}),
                )
                .await?;
            Ok(v.as_str().unwrap_or_default().trim().to_string())
        })
        .await;
    let secret = Secret::new(key);
    let now = Timestamp::now();
    let code = custos_core::mfa::current_code(&secret, now).unwrap();
    d.type_into("#code", &code).await;
    d.click("button[type=submit].primary").await;
    d.wait_text("main h1", "recovery codes").await;
    d.click("a.button.primary").await;
    d.wait_text("main h1", "Welcome, Fiona Finance").await;

    // Sign out; signing in again needs the password and a fresh TOTP code.
    d.click("form.signout button").await;
    d.wait_url("/login").await;
    sign_in(&d, &server.base, "fiona@example.org").await;
    d.wait_url("/login/totp").await;
    let next = custos_core::mfa::current_code(&secret, now.plus_secs(30)).unwrap();
    d.type_into("#code", &next).await;
    d.click("button[type=submit].primary").await;
    d.wait_text("main h1", "Welcome, Fiona Finance").await;
    assert!(d.url().await.ends_with('/'));
    d.screenshot("dashboard").await;
    // Phone width: the layout must not need sideways scrolling.
    d.cmd(
        reqwest::Method::POST,
        "/window/rect",
        json!({"width": 390, "height": 844}),
    )
    .await;
    d.goto(&format!("{}/account", server.base)).await;
    d.wait_text("main h1", "My account").await;
    d.screenshot("account-phone").await;
    let fits = d
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": "return document.documentElement.scrollWidth <= window.innerWidth;", "args": []}),
        )
        .await;
    assert_eq!(
        fits,
        json!(true),
        "the account page scrolls sideways at phone width"
    );
    d.quit().await;
}

/// The service level pages of the demo at phone width: none scrolls sideways (wide tables
/// and charts scroll inside their own boxes), and the report page shows its exception
/// section and chart.
#[tokio::test]
async fn service_level_pages_fit_a_phone() {
    if std::env::var("CUSTOS_E2E").is_err() {
        eprintln!("skipped: set CUSTOS_E2E=1 (as .ci/run does) to run the browser test");
        return;
    }
    let dir = TempDir::new("e2e-sl");
    let mut server = Server::start(&dir.0, "demo");
    // Wait for the seeded demo (its banner ends with "Stop with Ctrl+C").
    let mut stdout = server.child.stdout.take().unwrap();
    let mut banner = String::new();
    let mut buf = [0u8; 4096];
    while !banner.contains("Stop with Ctrl+C") {
        use std::io::Read;
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "banner ended early: {banner}");
        banner.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let d = Driver::start().await;
    d.cmd(
        reqwest::Method::POST,
        "/window/rect",
        json!({"width": 390, "height": 844}),
    )
    .await;
    d.goto(&format!("{}/login", server.base)).await;
    d.type_into("#email", "adam.agent@demo.custos.dev").await;
    d.type_into("#password", "custos-demo-2026").await;
    d.click("button[type=submit].primary").await;
    d.wait_text("main h1", "Welcome").await;
    let script = |s: &str| json!({"script": s, "args": []});
    d.goto(&format!("{}/slas", server.base)).await;
    d.wait_text("main h1", "Service level agreements").await;
    let sla = d
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            script("const a = [...document.querySelectorAll('main a')].find(a => /^\\/slas\\/[0-9a-f-]{36}$/.test(a.getAttribute('href')) && a.textContent.includes('Payroll')); return a ? a.getAttribute('href') : null;"),
        )
        .await;
    let sla = sla.as_str().expect("a link to the payroll SLA").to_string();
    let service = d
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            script("const a = [...document.querySelectorAll('main a')].find(a => /^\\/services\\/[0-9a-f-]{36}$/.test(a.getAttribute('href'))); return a ? a.getAttribute('href') : null;"),
        )
        .await;
    let today = custos_core::time::Date::of(Timestamp::now());
    let period = custos_core::sla_report::Period::last_complete(&today, false);
    let mut pages = vec![
        "/".to_string(),
        "/service-levels".into(),
        "/security".into(),
        "/announcements".into(),
        "/announcements/new".into(),
        "/services".into(),
        "/customers".into(),
        "/suppliers".into(),
        "/slas".into(),
        sla.clone(),
        format!("{sla}/reports/{period}"),
    ];
    if let Some(s) = service.as_str() {
        pages.push(s.to_string());
    }
    for page in &pages {
        d.goto(&format!("{}{page}", server.base)).await;
        d.wait_text("main", "").await;
        let fits = d
            .cmd(
                reqwest::Method::POST,
                "/execute/sync",
                script("return document.documentElement.scrollWidth <= window.innerWidth;"),
            )
            .await;
        let name = page.replace('/', "_");
        d.screenshot(&format!("sl{name}")).await;
        assert_eq!(fits, json!(true), "{page} scrolls sideways at phone width");
    }
    // The report page holds the exception report and an SVG chart.
    d.goto(&format!("{}{sla}/reports/{period}", server.base))
        .await;
    d.wait_text("main", "Exception report").await;
    let charts = d
        .cmd(
            reqwest::Method::POST,
            "/execute/sync",
            script("return document.querySelectorAll('main svg[role=img]').length;"),
        )
        .await;
    assert!(
        charts.as_u64().unwrap_or(0) >= 1,
        "no chart on the report page"
    );
    d.quit().await;
}

/// The incident pages at phone width: a requester reports through the portal form, an agent
/// opens the list, the form and the incident's page; none scrolls sideways (wide tables
/// scroll inside their own boxes, forms stack).
#[tokio::test]
async fn incident_pages_fit_a_phone() {
    if std::env::var("CUSTOS_E2E").is_err() {
        eprintln!("skipped: set CUSTOS_E2E=1 (as .ci/run does) to run the browser test");
        return;
    }
    let dir = TempDir::new("e2e-inc");
    let mut server = Server::start(&dir.0, "demo");
    let mut stdout = server.child.stdout.take().unwrap();
    let mut banner = String::new();
    let mut buf = [0u8; 4096];
    while !banner.contains("Stop with Ctrl+C") {
        use std::io::Read;
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "banner ended early: {banner}");
        banner.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let d = Driver::start().await;
    d.cmd(
        reqwest::Method::POST,
        "/window/rect",
        json!({"width": 390, "height": 844}),
    )
    .await;
    let fits = |page: String| {
        let d = &d;
        async move {
            d.wait_text("main", "").await;
            let ok = d
                .cmd(
                    reqwest::Method::POST,
                    "/execute/sync",
                    json!({"script": "return document.documentElement.scrollWidth <= window.innerWidth;", "args": []}),
                )
                .await;
            d.screenshot(&format!("inc{}", page.replace(['/', '?', '='], "_")))
                .await;
            assert_eq!(ok, json!(true), "{page} scrolls sideways at phone width");
        }
    };
    let sign_in_demo = |email: &'static str| {
        let d = &d;
        let base = server.base.clone();
        async move {
            d.goto(&format!("{base}/login")).await;
            d.type_into("#email", email).await;
            d.type_into("#password", "custos-demo-2026").await;
            d.click("button[type=submit].primary").await;
            d.wait_text("main h1", "Welcome").await;
        }
    };

    sign_in_demo("rachel.requester@demo.custos.dev").await;
    d.goto(&format!("{}/portal", server.base)).await;
    d.wait_text("main h1", "Report a problem").await;
    fits("/portal".into()).await;
    d.type_into(
        "#report-title",
        "The printer on the 3rd floor shows a paper jam",
    )
    .await;
    d.type_into(
        "#report-description",
        "Since this morning; the light blinks.",
    )
    .await;
    d.click("#report-category option[value=hardware]").await;
    d.click("#report-impact-low").await;
    d.click("#report-urgency-medium").await;
    d.click("main form button[type=submit].primary").await;
    d.wait_text("main h1", "INC-").await;
    let url = d.url().await;
    let path = url.trim_start_matches(&server.base).to_string();
    let reference = path
        .trim_start_matches("/portal/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    fits(path).await;
    d.click("form.signout button").await;
    d.wait_url("/login").await;

    sign_in_demo("adam.agent@demo.custos.dev").await;
    for page in [
        "/incidents".to_string(),
        "/incidents/new".into(),
        format!("/incidents/{reference}"),
        format!("/incidents/{reference}/timeline"),
        "/groups".into(),
    ] {
        d.goto(&format!("{}{page}", server.base)).await;
        fits(page).await;
    }
    d.quit().await;
}
