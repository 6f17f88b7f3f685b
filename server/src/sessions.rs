//! Where logins live: Redis when one is configured (shared by every instance,
//! survives restarts of Tsudoi), otherwise a table in the main database.
//!
//! On the embedded database there is only ever one Tsudoi process, so every
//! change to a session passes through it: the sessions it has seen are also
//! kept in memory and a request with a known cookie reads no table. With
//! PostgreSQL or Redis another instance may end a session at any moment, so
//! every request reads the shared store.
//!
//! The session layer only touches the store for requests that carry a session
//! cookie, so anonymous pages never depend on Redis being up. When the store
//! fails, reading the session fails, and the pages answer 503 (see
//! `tsudoi_app::auth`); the Redis client keeps reconnecting in the background,
//! so nothing needs a restart once Redis is back.

use secrecy::ExposeSecret;
use std::time::Duration;

use axum::Router;
use fred::prelude::ClientLike;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration as CookieDuration;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{CachingSessionStore, Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};
use tsudoi::storage::{Database, Pool};

use crate::config::{SessionSettings, Settings};

pub const COOKIE_NAME: &str = "tsudoi_session";

/// How long one Redis command may take before the request gives up with a 503
/// instead of waiting for a reconnection.
const REDIS_COMMAND_TIMEOUT: Duration = tsudoi::caching::redis::COMMAND_TIMEOUT;
const EXPIRED_SWEEP_PERIOD: Duration = Duration::from_secs(15 * 60);
/// Sessions kept in memory on the embedded database (a few hundred bytes
/// each); the least recently used leave first and are read from the table
/// again when they come back.
const SESSIONS_IN_MEMORY: u64 = 50_000;

/// The store chosen by the configuration.
pub enum Store {
    Redis(RedisStore<fred::clients::Pool>),
    Postgres(PostgresStore),
    Sqlite(SqliteStore),
}

impl Store {
    pub async fn open(settings: &Settings, db: &Database) -> Result<Store, String> {
        if let Some(url) = &settings.redis_url {
            return open_redis(url.expose_secret()).await.map(Store::Redis);
        }
        let store = match db.pool() {
            Pool::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await.map(|()| Store::Sqlite(store))
            }
            Pool::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await.map(|()| Store::Postgres(store))
            }
        };
        store.map_err(|err| format!("cannot prepare the session table: {err}"))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Store::Redis(_) => "redis",
            Store::Postgres(_) | Store::Sqlite(_) => "database",
        }
    }

    /// Adds the session layer to `router` and, for the SQL stores, a task that
    /// removes expired sessions (Redis expires them by itself).
    pub fn install(self, router: Router, settings: &Settings) -> Router {
        let secure = settings.public_url.scheme() == "https";
        match self {
            Store::Redis(store) => router.layer(layer(store, settings.sessions, secure)),
            Store::Postgres(store) => {
                sweep_expired(store.clone());
                router.layer(layer(store, settings.sessions, secure))
            }
            Store::Sqlite(store) => {
                sweep_expired(store.clone());
                let remembered =
                    CachingSessionStore::new(MokaStore::new(Some(SESSIONS_IN_MEMORY)), store);
                router.layer(layer(remembered, settings.sessions, secure))
            }
        }
    }
}

/// Connects in the background: Tsudoi starts even while Redis is down, answers
/// 503 on pages that need a login, and recovers when Redis is reachable.
async fn open_redis(url: &str) -> Result<RedisStore<fred::clients::Pool>, String> {
    let pool = tsudoi::caching::redis::builder(url)?
        .build_pool(2)
        .map_err(|err| format!("invalid redis_url: {err}"))?;
    pool.connect();
    let connected = tokio::time::timeout(REDIS_COMMAND_TIMEOUT, pool.wait_for_connect()).await;
    if !matches!(connected, Ok(Ok(()))) {
        tracing::warn!(
            "Redis is not reachable yet; pages that need a login answer 503 until it is"
        );
    }
    Ok(RedisStore::new(pool))
}

fn layer<S: SessionStore + Clone>(
    store: S,
    sessions: SessionSettings,
    secure: bool,
) -> SessionManagerLayer<S> {
    let idle = CookieDuration::seconds(i64::try_from(sessions.idle.as_secs()).unwrap_or(i64::MAX));
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        // Lax keeps links from mail and chat working; cross-site writes are
        // refused by the CSRF check, not by the cookie.
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

fn sweep_expired<S: ExpiredDeletion + Clone + 'static>(store: S) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EXPIRED_SWEEP_PERIOD);
        loop {
            every.tick().await;
            if let Err(err) = store.delete_expired().await {
                tracing::warn!(error = %err, "could not remove expired sessions");
            }
        }
    });
}
