//! Test harness: the real router, in-process, on a fresh database per test.
//!
//! Backend: SQLite (a temporary file) by default; PostgreSQL when `TEST_DATABASE_URL` is set, with
//! a schema per test that is dropped when the test ends (even when it fails).
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use portico::config::Config;
use portico::domain::account::{AccountDraft, AccountStatus, Address, OwnershipMode, PaymentTerms};
use portico::domain::auth::{BuyerRole, StaffRole};
use portico::domain::money::Money;
use portico::store::{Db, StoreResult, Tx, Unit, accounts, new_id, users};
use portico::{AppState, build_router};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use tower::ServiceExt;

pub const PASSWORD: &str = "violet kestrel harbor 42";

/// A hash of [`PASSWORD`], computed once per test binary (argon2id is slow on purpose).
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| portico::service::auth::hash_password_blocking(PASSWORD))
}

/// Where the test database lives; removed on drop.
pub enum DbPlace {
    SqliteFile(std::path::PathBuf),
    PgSchema { admin_url: String, schema: String },
}

impl DbPlace {
    pub fn new() -> (DbPlace, String) {
        let tag = new_id().replace('-', "");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let schema = format!("t_{tag}");
                let sep = if url.contains('?') { '&' } else { '?' };
                // application_name tags this test's connections so cleanup can end them (see Drop).
                let db_url = format!("{url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
                (DbPlace::PgSchema { admin_url: url, schema }, db_url)
            }
            _ => {
                let path = std::env::temp_dir().join(format!("portico-test-{tag}.db"));
                let url = format!("sqlite://{}", path.display());
                (DbPlace::SqliteFile(path), url)
            }
        }
    }

    pub async fn prepare(&self) {
        if let DbPlace::PgSchema { admin_url, schema } = self {
            let admin = Db::connect(admin_url).await.expect("TEST_DATABASE_URL must be reachable");
            if let Db::Postgres(p) = &admin {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(p)
                    .await
                    .expect("create schema");
            }
            admin.close().await;
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DbPlace::PgSchema { .. })
    }
}

impl Drop for DbPlace {
    fn drop(&mut self) {
        match self {
            DbPlace::SqliteFile(path) => {
                for file in portico::store::database_files(path) {
                    let _ = std::fs::remove_file(file);
                }
            }
            DbPlace::PgSchema { admin_url, schema } => {
                let (url, schema) = (admin_url.clone(), schema.clone());
                // Drop runs outside any runtime we may use; a short-lived thread and runtime do the cleanup.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                    rt.block_on(async {
                        if let Ok(Db::Postgres(p)) = Db::connect(&url).await {
                            // End the test's own connections first: one left idle in a transaction
                            // (its rollback queued on a runtime that is now blocked) would hold locks.
                            let _ = sqlx::query(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                            )
                            .bind(&schema)
                            .execute(&p)
                            .await;
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                                .execute(&p)
                                .await;
                            p.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Runs `f` as one unit of work on the database's writer (test fixtures): `f` moves in what it
/// needs and runs once (a test unit is not retried on PostgreSQL deadlocks).
pub async fn write<T, F>(db: &Db, f: F) -> T
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut Tx) -> Unit<'t, StoreResult<T>> + Send + 'static,
{
    db.write(std::sync::Mutex::new(Some(f)), |tx, f| {
        let f = f.lock().unwrap().take().expect("a test unit runs once");
        f(tx)
    })
    .await
    .expect("test unit of work")
}

/// A seller's smallest complete catalog, in one unit: a base price list, warehouse CHI and a
/// default catalog holding every product; each product with its list price and its stock on hand
/// in CHI. Returns the products' ids.
pub async fn sell(
    db: &Db,
    now: i64,
    products: Vec<(portico::store::products::ProductInput, &'static str, i64)>,
) -> Vec<String> {
    use portico::store::{catalogs, inventory, pricing, products as store_products};
    write(db, move |tx| {
        Box::pin(async move {
            let base = new_id();
            let list = pricing::NewPriceList {
                id: &base,
                code: "BASE",
                name: "List",
                is_base: true,
                priority: 1000,
                valid_from: None,
                valid_to: None,
            };
            pricing::insert_price_list(tx, &list, now).await?;
            let warehouse = new_id();
            inventory::insert_warehouse(tx, &warehouse, "CHI", "Chicago", 0, now).await?;
            let why = inventory::StockReason { reason: "count", actor_user_id: None, channel: "cli" };
            let mut ids = Vec::new();
            for (input, price, stock) in &products {
                let id = store_products::upsert(tx, &new_id(), input, now).await?;
                pricing::set_list_price(tx, &base, &id, 1, Money::parse(price).unwrap()).await?;
                inventory::adjust_on_hand(tx, &id, &warehouse, *stock, &why, now).await?;
                ids.push(id);
            }
            catalogs::insert_catalog(tx, &new_id(), "Standard", true, true, now).await?;
            catalogs::rebuild_catalog_membership(tx).await?;
            Ok(ids)
        })
    })
    .await
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    /// The database URL (for starting real `portico` processes on the same database).
    pub url: String,
    // Declared last: dropped after the pool above is closed by `state`'s drop.
    pub place: DbPlace,
}

/// [`TestApp::commission_staff`].
pub struct CommissionStaff {
    pub rep_a: portico::domain::auth::Principal,
    pub rep_b: portico::domain::auth::Principal,
    pub admin: portico::domain::auth::Principal,
    pub finance: portico::domain::auth::Principal,
    pub cs: portico::domain::auth::Principal,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::configured(|_| {}).await
    }

    /// A test app whose configuration `change` adjusts first.
    pub async fn configured(change: impl FnOnce(&mut Config)) -> TestApp {
        let (place, url) = DbPlace::new();
        place.prepare().await;
        let mut config = Config::for_database(&url);
        change(&mut config);
        let state = portico::open(config).await.expect("open test database");
        let router = build_router(state.clone());
        TestApp { state, router, url, place }
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    pub fn now(&self) -> i64 {
        self.state.now()
    }

    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let res = self.router.clone().oneshot(req).await.expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// An API token with `scopes`, made by a new administrator.
    pub async fn api_token(&self, scopes: &[portico::domain::auth::Scope]) -> String {
        let id = new_id();
        let admin = self.staff(&format!("Token Admin {}", &id[id.len() - 12..]), &[StaffRole::Admin]).await;
        let p = admin.principal().expect("an active admin");
        portico::service::api_tokens::create(self.db(), self.now(), &portico::service::Actor::web(&p), "ERP", scopes)
            .await
            .expect("token")
            .1
    }

    /// An API call with a bearer token and an optional JSON body.
    pub async fn api(&self, method: &str, path: &str, token: &str, body: Option<serde_json::Value>) -> TestResponse {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
            .expect("request");
        self.send(req).await
    }

    pub fn client(&self) -> Client<'_> {
        Client { app: self, cookies: BTreeMap::new(), extra_headers: Vec::new() }
    }

    /// A staff user with a password, committed directly through the store.
    pub async fn staff(&self, name: &str, roles: &[StaffRole]) -> users::UserRow {
        let email = format!("{}@seller.test", name.to_lowercase().replace(' ', "."));
        self.insert_user(&email, name, "staff", &StaffRole::join(roles), None).await
    }

    /// The staff the commission tests work with: reps Rita and Bert, an admin, finance and
    /// customer service.
    pub async fn commission_staff(&self) -> CommissionStaff {
        let principal = |u: users::UserRow| u.principal().expect("a staff user signs in");
        CommissionStaff {
            rep_a: principal(self.staff("Rita Rep", &[StaffRole::SalesRep]).await),
            rep_b: principal(self.staff("Bert Rep", &[StaffRole::SalesRep]).await),
            admin: principal(self.staff("Ada Admin", &[StaffRole::Admin]).await),
            finance: principal(self.staff("Finn Finance", &[StaffRole::Finance]).await),
            cs: principal(self.staff("Cass Service", &[StaffRole::CustomerService]).await),
        }
    }

    pub async fn buyer(&self, account_id: &str, name: &str, role: BuyerRole) -> users::UserRow {
        let email =
            format!("{}.{}@buyer.test", name.to_lowercase().replace(' ', "."), &account_id[account_id.len() - 6..]);
        self.insert_user(&email, name, "buyer", role.as_str(), Some(account_id)).await
    }

    pub async fn insert_user(
        &self,
        email: &str,
        name: &str,
        kind: &str,
        roles: &str,
        account_id: Option<&str>,
    ) -> users::UserRow {
        let id = new_id();
        let (email, name, kind, roles) = (email.to_string(), name.to_string(), kind.to_string(), roles.to_string());
        let (account_id, now, uid) = (account_id.map(str::to_string), self.now(), id.clone());
        write(self.db(), move |tx| {
            Box::pin(async move {
                let new = users::NewUser {
                    id: &uid,
                    email: &email,
                    name: &name,
                    phone: "",
                    kind: &kind,
                    roles: &roles,
                    account_id: account_id.as_deref(),
                    password_hash: Some(password_hash()),
                    now,
                };
                users::insert(tx, &new).await
            })
        })
        .await;
        users::get(self.db(), &id).await.unwrap().unwrap()
    }

    /// An account owned by `rep` (hybrid; or self-service without a rep), with one default ship-to.
    pub async fn account(&self, name: &str, rep: Option<&str>) -> String {
        let id = new_id();
        let draft = AccountDraft {
            name: name.to_string(),
            status: AccountStatus::Active,
            // Hybrid with no routing rules: the rep owns the account, its buyers still place their
            // own orders (tests of rep-led routing set the mode themselves).
            ownership_mode: if rep.is_some() { OwnershipMode::Hybrid } else { OwnershipMode::SelfService },
            owner_rep_id: rep.map(str::to_string),
            terms: PaymentTerms::Net(30),
            credit_limit: Money::from_units(25_000).unwrap(),
            po_required: false,
            external_id: None,
            phone: String::new(),
            bill_to: address(),
        };
        let (aid, now) = (id.clone(), self.now());
        write(self.db(), move |tx| {
            Box::pin(async move {
                let number = format!("A-{}", tx.next_counter("account").await?);
                accounts::insert(tx, &aid, &number, &draft, now).await?;
                accounts::insert_ship_to(tx, &new_id(), &aid, "Main", &address(), true, now).await
            })
        })
        .await;
        id
    }

    /// Signs in through the real form and returns the client holding the session cookie.
    pub async fn signed_in(&self, email: &str) -> Client<'_> {
        let mut c = self.client();
        let res = c.login(email, PASSWORD).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "sign-in of {email} failed: {}", res.body);
        c
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        portico::on_db!(self.db(), |c| sqlx::query_scalar::<_, i64>(sql).fetch_one(c).await).unwrap()
    }

    /// [`TestApp::count`] for SQL built by the test (never from input).
    pub async fn count_dyn(&self, sql: &str) -> i64 {
        portico::on_db!(self.db(), |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(c)
            .await)
        .unwrap()
    }
}

/// The set-password link (a path) of the newest live link mail queued for `email`: links go only
/// to the user's mailbox, which the outbox stands for until mail is sent.
pub async fn mailed_link(app: &TestApp, email: &str) -> Option<String> {
    let events = portico::store::audit::pending_events(app.db(), 10_000).await.unwrap();
    events.iter().rev().find_map(|e| {
        let payload: serde_json::Value = serde_json::from_str(&e.payload).ok()?;
        (payload["email"] == email).then(|| payload["set_password_path"].as_str().map(str::to_string))?
    })
}

pub fn address() -> Address {
    Address {
        line1: "1 Test Way".into(),
        line2: String::new(),
        city: "Springfield".into(),
        region: "IL".into(),
        postal_code: "62701".into(),
        country: "US".into(),
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The CSRF token a page embeds (`<meta name="csrf-token">`).
    pub fn csrf(&self) -> Option<String> {
        let marker = "name=\"csrf-token\" content=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }

    /// Text between `after` and the next `<` (e.g. the set-password link in its box).
    /// The attribute value that follows `marker` (up to the closing quote).
    pub fn attr(&self, marker: &str) -> String {
        let start = self.body.find(marker).unwrap_or_else(|| panic!("no {marker} in {}", self.body)) + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }

    pub fn text_after(&self, after: &str) -> Option<String> {
        let start = self.body.find(after)? + after.len();
        let end = self.body[start..].find('<')? + start;
        Some(self.body[start..end].trim().to_string())
    }
}

/// A browser-like client: keeps cookies, adds the page's CSRF token to forms.
pub struct Client<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
    pub extra_headers: Vec<(String, String)>,
}

impl<'a> Client<'a> {
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn absorb(&mut self, res: &TestResponse) {
        for v in res.headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap_or("");
            let first = v.split(';').next().unwrap_or("");
            if let Some((k, val)) = first.split_once('=') {
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), val.to_string());
                }
            }
        }
    }

    pub async fn request(&mut self, method: Method, path: &str, body: Option<String>) -> TestResponse {
        let mut b = Request::builder().method(method).uri(path).header(header::COOKIE, self.cookie_header());
        for (k, v) in &self.extra_headers {
            b = b.header(k.as_str(), v.as_str());
        }
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let res = self.app.send(b.body(Body::from(body.unwrap_or_default())).unwrap()).await;
        self.absorb(&res);
        res
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None).await
    }

    /// The CSRF token for the next form: read from a page, as a browser's form would carry it.
    pub async fn csrf(&mut self) -> String {
        if self.cookies.contains_key("portico_session")
            && let Some(token) = self.get("/me/password").await.csrf()
        {
            return token;
        }
        self.get("/login").await.csrf().expect("the sign-in page carries a csrf token")
    }

    /// Posts a form with a valid CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", &token)];
        all.extend_from_slice(fields);
        self.post_raw(path, serde_urlencoded::to_string(&all).unwrap()).await
    }

    /// Posts a body exactly as given (for CSRF tests).
    pub async fn post_raw(&mut self, path: &str, body: String) -> TestResponse {
        self.request(Method::POST, path, Some(body)).await
    }

    /// Uploads `multipart/form-data` (text fields and one file) the way htmx sends it: the CSRF
    /// token in the `X-CSRF-Token` header.
    pub async fn upload(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &str)) -> TestResponse {
        let token = self.csrf().await;
        self.send_multipart(path, fields, file, Some(&token)).await
    }

    /// Posts a form with files as a page's upload form sends it: `multipart/form-data`, the CSRF
    /// token in the action URL (`path?_csrf=…`). `files` are (field, file name, bytes).
    pub async fn post_files(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> TestResponse {
        let token = self.csrf().await;
        let boundary = "portico-files-boundary";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        for (field, file_name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let cookies = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{path}?_csrf={token}"))
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .expect("request");
        self.app.send(req).await
    }

    /// A file upload as a browser without script sends it: no header token (the form's action URL
    /// carries `_csrf` when the page put it there).
    pub async fn upload_without_script(&mut self, path: &str, file: (&str, &str, &str)) -> TestResponse {
        self.send_multipart(path, &[], file, None).await
    }

    async fn send_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &str),
        header_token: Option<&str>,
    ) -> TestResponse {
        let boundary = "portico-test-boundary";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
        }
        let (name, file_name, content) = file;
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
        ));
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"));
        if let Some(token) = header_token {
            req = req.header("x-csrf-token", token).header("hx-request", "true");
        }
        let req = req.body(Body::from(body)).unwrap();
        let res = self.app.send(req).await;
        self.absorb(&res);
        res
    }

    /// Follows an import job's status fragment until it finishes; returns the fragment.
    pub async fn wait_for_import(&mut self, job: &str) -> String {
        for _ in 0..200 {
            let r = self.get(&format!("{job}/status")).await;
            assert_eq!(r.status, StatusCode::OK);
            if !r.body.contains("data-status=\"running\"") {
                return r.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the import did not finish");
    }

    pub async fn login(&mut self, email: &str, password: &str) -> TestResponse {
        self.post("/login", &[("email", email), ("password", password)]).await
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookies.get("portico_session").cloned()
    }
}

/// A directory under the system's temporary one (an image directory); removed, with everything in
/// it, when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn create() -> TempDir {
        let path = std::env::temp_dir().join(format!("portico-images-{}", new_id()));
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    /// Every file under it (not folders), by path.
    pub fn files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out.sort();
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
