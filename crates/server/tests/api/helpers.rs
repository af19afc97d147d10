//! Test harness: `spawn_apps()` starts the real application on port 0 against a fresh
//! SQLite database and, when `CUSTOS_TEST_POSTGRES_URL` is set, a fresh PostgreSQL schema.

use custos_core::account::{Email, NewDepartment, NewUser, Role, Roles, SecurityProfile};
use custos_core::authz::Actor;
use custos_core::secret::PasswordHash;
use custos_core::store::Store;
use custos_server::AppState;
use custos_server::ServerSettings;
use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    /// The settings the app was started with.
    pub settings: ServerSettings,
    pub store: Arc<dyn Store>,
    pub backend: &'static str,
    pub client: Client,
    _dir: Option<TempDir>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub struct TempDir(pub std::path::PathBuf);

impl TestApp {
    /// The SQLite database file of an app on SQLite.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.0.join("t.db"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn spawn_apps() -> Vec<TestApp> {
    spawn_apps_with(|_| {}).await
}

/// [`spawn_apps`] with settings changed by `customise` (e.g. notification channels).
pub async fn spawn_apps_with(customise: impl Fn(&mut ServerSettings)) -> Vec<TestApp> {
    let mut apps = vec![];
    let dir = TempDir(std::env::temp_dir().join(format!("custos-api-{}", uuid::Uuid::now_v7())));
    let store = custos_store::connect(
        &format!("sqlite:{}", dir.0.join("t.db").display()),
        &custos_store::ConnectOptions::default(),
    )
    .await
    .expect("sqlite");
    apps.push(spawn(store, Some(dir), &customise).await);
    if let Ok(url) = std::env::var("CUSTOS_TEST_POSTGRES_URL") {
        apps.push(spawn(pg_store(&url).await, None, &customise).await);
    }
    apps
}

async fn new_schema(url: &str) -> String {
    custos_store::testing::new_schema(url, "api").await
}

async fn pg_store(url: &str) -> Arc<dyn Store> {
    pg_store_in(url, &new_schema(url).await).await
}

async fn pg_store_in(url: &str, schema: &str) -> Arc<dyn Store> {
    let opts = custos_store::ConnectOptions {
        max_connections: 4,
        migrate: true,
    };
    Arc::new(custos_store::testing::store_in(url, schema, &opts).await)
}

/// Two servers, each with its own pool and jobs, on one PostgreSQL schema.
pub async fn two_instances(url: &str) -> (TestApp, TestApp) {
    let schema = new_schema(url).await;
    let a = spawn(pg_store_in(url, &schema).await, None, &|_| {}).await;
    let b = spawn(pg_store_in(url, &schema).await, None, &|_| {}).await;
    (a, b)
}

async fn spawn(
    store: Arc<dyn Store>,
    dir: Option<TempDir>,
    customise: &dyn Fn(&mut ServerSettings),
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = ServerSettings {
        cookie_secure: false,
        body_limit: 64 * 1024,
        seal_interval_ms: 100,
        auth_cache_ttl_ms: 300,
        level_labels: ["public".into(), "internal".into(), "confidential".into()],
        // Tests run the scheduler's pass themselves.
        report_interval_ms: 0,
        public_url: "https://custos.example.org".into(),
        // Tests run the clock job's pass themselves.
        clock_interval_ms: 0,
        // Tests change SLAs and controls and look at the next incident at once.
        context_cache_ttl_ms: 0,
        // Tests drive the dispatcher themselves (`Dispatcher::run_once`).
        notify_interval_ms: 0,
        smtp: Default::default(),
        webhooks: vec![],
        ..ServerSettings::default()
    };
    customise(&mut settings);
    let settings_kept = settings.clone();
    let state = AppState::new(store.clone(), settings);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(custos_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        settings: settings_kept,
        base: format!("http://{addr}"),
        backend: store.backend(),
        store,
        client,
        _dir: dir,
        _shutdown: tx,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn department(&self, name: &str, mfa_required: bool) -> custos_core::DepartmentId {
        let p = SecurityProfile {
            mfa_required,
            ..SecurityProfile::default()
        };
        self.store
            .create_department(
                &Actor::System("test"),
                NewDepartment::new(name, "", p).unwrap(),
            )
            .await
            .unwrap()
            .id
    }

    /// Creates a user with `roles` and returns it.
    pub async fn user(
        &self,
        email: &str,
        roles: &[Role],
        dept: Option<custos_core::DepartmentId>,
    ) -> custos_core::account::User {
        self.store
            .create_user(
                &Actor::System("test"),
                NewUser {
                    email: Email::parse(email).unwrap(),
                    display_name: email.split('@').next().unwrap().into(),
                    roles: Roles::new(roles.to_vec()).unwrap(),
                    department_id: dept,
                    password_hash: PasswordHash::create(PASSWORD),
                },
            )
            .await
            .unwrap()
    }

    /// A fresh user with `roles` and an API token for them.
    pub async fn token_for(&self, roles: &[Role]) -> String {
        self.user_with_token(roles).await.1
    }

    /// A fresh user with `roles`, and an API token for them.
    pub async fn user_with_token(&self, roles: &[Role]) -> (custos_core::account::User, String) {
        let email = format!("u{}@example.org", uuid::Uuid::now_v7().simple());
        let u = self.user(&email, roles, None).await;
        let token = self.token_of(u.id).await;
        (u, token)
    }

    /// An API token for an existing user.
    pub async fn token_of(&self, user: custos_core::UserId) -> String {
        let (secret, _) = custos_server::accounts::issue(
            self.store.as_ref(),
            &Actor::System("test"),
            user,
            "test",
            None,
        )
        .await
        .unwrap();
        secret.expose().to_string()
    }

    /// Two CIs (`KEY-a` depends on nothing; `KEY-b` depends on `KEY-a`) and that relationship.
    pub async fn ci_pair(
        &self,
        key: &str,
    ) -> (
        custos_core::CiId,
        custos_core::CiId,
        custos_core::RelationshipId,
    ) {
        use custos_core::cmdb::{CiInput, Lifecycle, RelType};
        let actor = Actor::System("test");
        let mk = |k: String| {
            CiInput::new(
                "server",
                &k,
                Some(&k),
                Lifecycle::Active,
                serde_json::json!({}),
            )
            .unwrap()
        };
        let a = self
            .store
            .create_ci(&actor, mk(format!("{key}-a")))
            .await
            .unwrap()
            .ci
            .id;
        let b = self
            .store
            .create_ci(&actor, mk(format!("{key}-b")))
            .await
            .unwrap()
            .ci
            .id;
        let r = self
            .store
            .add_relationship(&actor, b, a, RelType::DependsOn)
            .await
            .unwrap();
        (a, b, r.id)
    }

    /// A hand-written control in the organisation catalog.
    pub async fn control(&self, key: &str) -> custos_core::ControlId {
        let spec = custos_core::controls::control_spec(
            &format!("t-{key}"),
            "Test control",
            "Do it.",
            "",
            "preventive",
            None,
        )
        .unwrap();
        self.store
            .create_control(&Actor::System("test"), spec)
            .await
            .unwrap()
            .id
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn seal(&self) {
        while self.store.seal_audit(1000).await.unwrap() == 1000 {}
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            cookies: BTreeMap::new(),
        }
    }
}

/// Asserts a problem+json response and returns its body.
pub async fn problem(resp: Response, status: StatusCode) -> serde_json::Value {
    assert_eq!(resp.status(), status, "unexpected status");
    let ct = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("https://custos.dev/problems/")
    );
    body
}

/// A cookie-keeping client for web flows (no redirects followed).
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
}

impl Browser<'_> {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let s = v.to_str().unwrap();
            let (kv, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, Option<String>, String) {
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let r = self
            .app
            .client
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    async fn finish(&mut self, r: Response) -> (StatusCode, Option<String>, String) {
        self.keep(r.headers());
        let status = r.status();
        let loc = r
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        (status, loc, r.text().await.unwrap())
    }

    /// The CSRF token of the first form on a page.
    pub fn csrf(page: &str) -> String {
        let i = page
            .find("name=\"csrf\" value=\"")
            .expect("page has a CSRF field")
            + 19;
        page[i..].split('"').next().unwrap().to_string()
    }

    /// Signs in with a password; returns where the login redirected.
    pub async fn login(
        &mut self,
        email: &str,
        password: &str,
    ) -> (StatusCode, Option<String>, String) {
        let (_, _, page) = self.get("/login").await;
        let csrf = Self::csrf(&page);
        self.post(
            "/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// Text between `id="ID">` and the next `<`.
    pub fn element_text(page: &str, id: &str) -> String {
        let marker = format!("id=\"{id}\">");
        let i = page
            .find(&marker)
            .unwrap_or_else(|| panic!("no #{id} in page"))
            + marker.len();
        page[i..].split('<').next().unwrap().to_string()
    }
}

/// A minimal valid OSCAL catalog: one group, one control with one enhancement.
pub fn tiny_catalog() -> serde_json::Value {
    serde_json::json!({"catalog": {
        "uuid": "0f1e2d3c-4b5a-4678-9abc-def012345678",
        "metadata": {"title": "Tiny test catalog", "version": "1", "last-modified": "2026-01-01T00:00:00Z", "oscal-version": "1.1.2"},
        "groups": [{"id": "tt", "title": "Test", "controls": [
            {"id": "tt-1", "title": "Test control", "parts": [{"id": "tt-1_smt", "name": "statement", "prose": "Test things."}],
             "controls": [{"id": "tt-1.1", "title": "Test enhancement"}]}]}]
    }})
}

/// Asserts the status and returns the JSON body (`Null` when empty, the text when not JSON).
pub async fn ok(resp: Response, want: StatusCode) -> serde_json::Value {
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body))
    }
}

/// The write that stores `inc` as a new incident, evaluated in `ctx` at `at` (recognition
/// and SLA clock), by the system actor "test".
pub fn create_write(
    mut inc: custos_core::ticket::Incident,
    ctx: &custos_server::incidents::Context,
    at: custos_core::Timestamp,
) -> custos_core::store::IncidentWrite {
    let ev = custos_server::incidents::evaluate(&mut inc, ctx, &[], &Default::default(), at);
    custos_server::incidents::write(
        inc,
        None,
        vec![],
        ctx,
        ev,
        Actor::System("test"),
        "incident.create",
    )
}

/// A low-impact, low-urgency incident titled `title` in `category`, reported by `reporter`
/// through the API at `now`, assigned to `assignee`, on no service.
pub fn plain_incident(
    title: &str,
    category: &str,
    reporter: custos_core::UserId,
    assignee: Option<custos_core::UserId>,
    now: custos_core::Timestamp,
) -> custos_core::ticket::Incident {
    use custos_core::incident::{Impact, IncidentFields, IncidentInput, Urgency};
    let input = IncidentInput::new(
        IncidentFields {
            title: title.into(),
            description: String::new(),
            category: category.into(),
            impact: Impact::Low,
            urgency: Urgency::Low,
            service: None,
            cis: vec![],
        },
        reporter,
    )
    .unwrap();
    custos_server::incidents::records::new_incident(
        input,
        custos_core::ticket::Channel::Api,
        None,
        assignee,
        now,
    )
}
