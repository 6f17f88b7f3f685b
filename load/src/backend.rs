//! The backends a run covers and a fresh, empty database on each: SQLite
//! always; PostgreSQL with Redis when the test suite's variables name them
//! (`TSUDOI_TEST_DATABASE_URL`, `TSUDOI_TEST_REDIS_ADDR`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

pub const DATABASE_VAR: &str = "TSUDOI_TEST_DATABASE_URL";
pub const REDIS_VAR: &str = "TSUDOI_TEST_REDIS_ADDR";

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A PostgreSQL server (any database on it: each run creates its own
    /// beside it) and the Redis the server shares sessions and caches through.
    Postgres {
        server_url: String,
        redis_addr: String,
    },
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres { .. } => "PostgreSQL + Redis",
        }
    }

    /// SQLite, and PostgreSQL + Redis when both variables are set. With only
    /// one of them set the run stops: a benchmark that silently leaves out a
    /// backend would be read as covering it.
    pub fn from_environment() -> Result<Vec<Backend>> {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        let mut backends = vec![Backend::Sqlite];
        match (var(DATABASE_VAR), var(REDIS_VAR)) {
            (Some(server_url), Some(redis_addr)) => backends.push(Backend::Postgres {
                server_url,
                redis_addr,
            }),
            (None, None) => {
                eprintln!("tsudoi-load: {DATABASE_VAR} and {REDIS_VAR} are not set: SQLite only")
            }
            _ => {
                bail!("set both {DATABASE_VAR} and {REDIS_VAR} for the PostgreSQL run, or neither")
            }
        }
        Ok(backends)
    }
}

/// A database made for one run, removed again by [`FreshDatabase::remove`].
pub struct FreshDatabase {
    pub url: String,
    pub redis_url: Option<String>,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase {
        server: Box<PgConnectOptions>,
        name: String,
    },
}

impl FreshDatabase {
    pub async fn create(backend: &Backend, workdir: &Path) -> Result<FreshDatabase> {
        match backend {
            Backend::Sqlite => {
                let path = workdir.join("tsudoi.db");
                Ok(FreshDatabase {
                    url: format!("sqlite://{}", path.display()),
                    redis_url: None,
                    cleanup: Cleanup::SqliteFile(path),
                })
            }
            Backend::Postgres {
                server_url,
                redis_addr,
            } => {
                let server = PgConnectOptions::from_str(server_url)
                    .with_context(|| format!("{DATABASE_VAR} is not a postgres:// URL"))?;
                let name = format!("tsudoi_slo_{}", std::process::id());
                let mut admin = PgConnection::connect_with(&server)
                    .await
                    .with_context(|| format!("connect to PostgreSQL ({DATABASE_VAR})"))?;
                // A run killed before its cleanup leaves its database behind; the
                // next run with the same process id takes the name over.
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .context("create the run's database")?;
                admin.close().await?;
                let mut url = reqwest::Url::parse(server_url)?;
                url.set_path(&format!("/{name}"));
                Ok(FreshDatabase {
                    url: url.to_string(),
                    redis_url: Some(format!("redis://{redis_addr}")),
                    cleanup: Cleanup::PostgresDatabase {
                        server: Box::new(server),
                        name,
                    },
                })
            }
        }
    }

    pub async fn remove(self) -> Result<()> {
        match self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let file = PathBuf::from(format!("{}{suffix}", path.display()));
                    if file.exists() {
                        std::fs::remove_file(&file)?;
                    }
                }
            }
            Cleanup::PostgresDatabase { server, name } => {
                let mut admin = PgConnection::connect_with(&server).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
            }
        }
        Ok(())
    }
}
