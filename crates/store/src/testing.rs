//! Fresh, isolated databases for tests: a SQLite file in a temporary directory, and a
//! PostgreSQL schema of its own when `TEST_DATABASE_URL` names a server.

use std::{str::FromStr, sync::Arc};

use sqlx::{postgres::PgConnectOptions, Connection, PgConnection};

use crate::{PostgresStore, SqliteDurability, SqliteStore, Store};

/// A migrated, empty database. Keep it alive as long as the store is used: dropping it
/// deletes the SQLite file.
pub struct TestDatabase {
    pub store: Arc<dyn Store>,
    /// A `DATABASE_URL` that reaches the same database, for spawning the binary.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The environment variable naming the PostgreSQL server for the PostgreSQL runs.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

pub async fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("gapless.db").display());
    let store = SqliteStore::connect(&url, SqliteDurability::Full).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDatabase { store: Arc::new(store), url, _dir: Some(dir) }
}

/// `None`, after saying so on stderr, when `TEST_DATABASE_URL` is not set: the caller
/// returns early and the PostgreSQL run is skipped, visibly.
pub async fn postgres() -> Option<TestDatabase> {
    let Ok(server) = std::env::var(TEST_DATABASE_URL) else {
        eprintln!("SKIPPED PostgreSQL run: {TEST_DATABASE_URL} is not set");
        return None;
    };
    let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&server).await.expect("connect to TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut admin).await.expect("schema");
    admin.close().await.ok();

    let options = PgConnectOptions::from_str(&server)
        .expect("TEST_DATABASE_URL is a PostgreSQL URL")
        .options([("search_path", schema.as_str())]);
    let store = PostgresStore::connect_with(options).await.expect("open PostgreSQL");
    store.migrate().await.expect("migrate PostgreSQL");
    let separator = if server.contains('?') { '&' } else { '?' };
    let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
    Some(TestDatabase { store: Arc::new(store), url, _dir: None })
}

/// Declares each story (an `async fn(Arc<dyn Store>)` in the calling file) once per
/// backend: `mod sqlite { #[tokio::test] fn story() }` and `mod postgres { … }`, the
/// PostgreSQL run skipped visibly without `TEST_DATABASE_URL`.
#[macro_export]
macro_rules! contract {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                let db = $crate::testing::sqlite().await;
                super::$story(db.store.clone()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                let Some(db) = $crate::testing::postgres().await else { return };
                super::$story(db.store.clone()).await;
            })*
        }
    };
}
