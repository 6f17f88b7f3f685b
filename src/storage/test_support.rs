//! Fresh, isolated databases for tests: one SQLite file or one PostgreSQL
//! database per test, removed again when the test is done.
//!
//! `TSUDOI_TEST_DATABASE_URL` names a PostgreSQL server (any database on it; the
//! tests create their own beside it). When it is set, [`backends`] yields both
//! backends and an unreachable server fails the test rather than skipping it.

use std::path::PathBuf;

use rand::Rng;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::{Database, DatabaseUrl, PoolSettings};

pub const TEST_DATABASE_URL_VAR: &str = "TSUDOI_TEST_DATABASE_URL";

pub struct TestDatabase {
    pub db: Database,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase {
        admin: Box<PgConnectOptions>,
        name: String,
    },
}

fn unique_name() -> String {
    let suffix: u64 = rand::thread_rng().r#gen();
    format!("tsudoi_test_{}_{suffix:016x}", std::process::id())
}

/// A migrated database on every backend the environment offers: SQLite always,
/// PostgreSQL when `TSUDOI_TEST_DATABASE_URL` is set.
pub async fn backends() -> Vec<TestDatabase> {
    let mut all = vec![sqlite().await];
    if let Some(url) = postgres_url() {
        all.push(postgres(&url).await);
    }
    all
}

pub fn postgres_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Production settings, but patient: tests start hundreds of requests at once
/// on a busy CI machine, and a pool timeout there would be a false failure.
fn settings() -> PoolSettings {
    PoolSettings {
        acquire_timeout: std::time::Duration::from_secs(60),
        ..PoolSettings::default()
    }
}

pub async fn sqlite() -> TestDatabase {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let db = Database::open(&DatabaseUrl::Sqlite(path.clone()), &settings())
        .await
        .expect("open a test SQLite database");
    db.migrate()
        .await
        .expect("migrate the test SQLite database");
    TestDatabase {
        db,
        cleanup: Cleanup::SqliteFile(path),
    }
}

/// Creates a new database on the server named by `server_url` and migrates it.
pub async fn postgres(server_url: &str) -> TestDatabase {
    let admin = match DatabaseUrl::parse(server_url) {
        Ok(DatabaseUrl::Postgres(options)) => *options,
        _ => panic!("{TEST_DATABASE_URL_VAR} must be a postgres:// URL"),
    };
    let name = unique_name();
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .unwrap_or_else(|err| {
            panic!("{TEST_DATABASE_URL_VAR} is set but PostgreSQL is unreachable: {err}")
        });
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&mut conn)
        .await
        .expect("create a test PostgreSQL database");
    conn.close().await.ok();
    let url = DatabaseUrl::Postgres(Box::new(admin.clone().database(&name)));
    let db = Database::open(&url, &settings())
        .await
        .expect("open the test PostgreSQL database");
    db.migrate()
        .await
        .expect("migrate the test PostgreSQL database");
    TestDatabase {
        db,
        cleanup: Cleanup::PostgresDatabase {
            admin: Box::new(admin),
            name,
        },
    }
}

impl TestDatabase {
    /// The URL of this database, for starting a server process on it.
    pub fn url(&self) -> String {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => format!("sqlite://{}", path.display()),
            Cleanup::PostgresDatabase { admin, name } => format!(
                "postgres://{}@{}:{}/{}",
                admin.get_username(),
                admin.get_host(),
                admin.get_port(),
                name
            ),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::PostgresDatabase { admin, name } => {
                // Drop runs outside async; a short-lived runtime on its own thread
                // removes the database even when called from inside a tokio test.
                // FORCE ends this pool's own open connections, so no need to close it first.
                let (admin, name) = (admin.as_ref().clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(runtime) = runtime {
                        runtime.block_on(async {
                            if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                                let _ = sqlx::query(&format!(
                                    r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                                ))
                                .execute(&mut conn)
                                .await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

/// The Redis the tests use (`cargo xtask test` makes sure it is running at
/// `TSUDOI_TEST_REDIS_ADDR`).
pub fn redis_addr() -> String {
    std::env::var("TSUDOI_TEST_REDIS_ADDR").unwrap_or_else(|_| "127.0.0.1:6379".into())
}

/// A TCP relay in front of the real Redis that the test can cut and restore,
/// to play an outage without touching the shared Redis server.
pub struct RedisRelay {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl RedisRelay {
    pub async fn start() -> RedisRelay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let relay = RedisRelay {
            port,
            open: Default::default(),
            links: Default::default(),
        };
        relay.open.store(true, Ordering::SeqCst);
        let (open, links) = (relay.open.clone(), relay.links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !open.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused, in effect
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut redis) = tokio::net::TcpStream::connect(redis_addr()).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut redis).await;
                    }
                });
                links.lock().unwrap().push(link.abort_handle());
            }
        });
        relay
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
