use std::path::PathBuf;

use gapless_store::testing::{self, TestDatabase};
use server::{catalog_import, cli::ServeArgs, startup::Application};

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
}

impl TestApp {
    /// Signs this client in as a new staff account `{role}@shop.test`.
    pub async fn sign_in_as(&self, role: server::staff::accounts::StaffRole) {
        use server::staff::accounts::{self, Password};
        let password = "correct horse battery staple";
        let email = format!("{role}@shop.test");
        accounts::create(self.db.store.as_ref(), &email, role, &Password::new(password))
            .await
            .unwrap();
        let response = self
            .client
            .post(format!("{}/api/v1/staff/session", self.address))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 204);
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("request sent")
    }

    /// `GET /metrics` as a scraper with the token.
    pub async fn scrape(&self) -> reqwest::Response {
        self.client
            .get(format!("{}/metrics", self.address))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("request sent")
    }

    /// Runs raw SQL on the app's database, behind the app's back (to sabotage it).
    pub async fn execute_sql(&self, sql: &str) {
        if self.db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        } else {
            let pool = sqlx::PgPool::connect(&self.db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    }

    /// Starts a second server on the same database with its own connections (a restart,
    /// or a second app server on one PostgreSQL) and returns its address; the client and
    /// its cookies are shared.
    pub async fn another_server(&self) -> String {
        let store = gapless_store::connect(&self.db.url).await.unwrap();
        let app = Application::build(&test_args(), store).await.unwrap();
        let address = format!("http://{}", app.local_addr());
        tokio::spawn(app.run_until_stopped());
        address
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Starts the app on a fresh database of `backend` with the demo catalog imported;
/// `None` (the test returns early, visibly skipped) for PostgreSQL without a server.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], with settings changed by `configure` (e.g. tight rate limits).
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut ServeArgs),
) -> Option<TestApp> {
    spawn_app_at(backend, configure, std::sync::Arc::new(time::OffsetDateTime::now_utc)).await
}

/// As [`spawn_app_with`], with the server reading staff sessions' time from `clock`.
pub async fn spawn_app_at(
    backend: Backend,
    configure: impl FnOnce(&mut ServeArgs),
    clock: server::returns::service::Clock,
) -> Option<TestApp> {
    let db = match backend {
        Backend::Sqlite => testing::sqlite().await,
        Backend::Postgres => testing::postgres().await?,
    };
    catalog_import::import_file(db.store.as_ref(), &repo_path("demo/catalog.json"))
        .await
        .expect("the demo catalog imports");
    server::tls::install_crypto_provider();
    let mut args = test_args();
    configure(&mut args);
    let app =
        Application::build_with_clock(&args, db.store.clone(), clock).await.expect("app builds");
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Some(TestApp { address, client, db })
}

/// The `/metrics` bearer token of test servers.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// Settings for a test server: a free port, and limits that only the limit tests hit.
fn test_args() -> ServeArgs {
    ServeArgs {
        site_addr: "127.0.0.1:0".parse().unwrap(),
        // Static files straight from the repo: these tests need no wasm build.
        site_root: repo_path("public"),
        catalog: PathBuf::new(),
        // Every test shopper comes from 127.0.0.1: only the limit tests limit.
        rate_ip_per_second: 10_000.0,
        rate_ip_burst: 10_000,
        rate_chat_per_second: 1_000.0,
        rate_chat_burst: 1_000,
        return_policy: repo_path("demo/return-policy.json"),
        rate_lookup_per_second: 1_000.0,
        rate_lookup_burst: 1_000,
        secure_cookies: false,
        request_timeout_ms: 30_000,
        metrics_token: Some(METRICS_TOKEN.to_owned().into()),
        // Every scrape reads the counts; the cache test sets its own.
        metrics_refresh_ms: 0,
        signin_hashes: 0,
        signin_wait_ms: 2000,
        extractor: Default::default(),
        webhook_worker: true,
        webhook_timeout_ms: 10_000,
        webhook_retention_days: 7,
        llm: Default::default(),
        payments: Default::default(),
        delivery_promise_days: 5,
        smtp_url: None,
        mail_from: None,
        shop_name: None,
        email_templates: None,
        smtp_timeout_ms: 5_000,
    }
}

/// Declares each test once per backend: `mod sqlite { fn name() }` and `mod postgres {…}`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.unwrap();
                super::$test(app).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                else { return };
                super::$test(app).await;
            })*
        }
    };
}
