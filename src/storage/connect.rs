//! Turning a database URL and pool settings into an open, tuned pool.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use log::LevelFilter;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Database, OpenError};

/// Where the data lives, already checked for shape (not yet for reachability).
#[derive(Clone)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(Box<PgConnectOptions>),
}

impl std::fmt::Debug for DatabaseUrl {
    // Never print a password that may be in the URL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH` or `postgres://…` / `postgresql://…`.
    ///
    /// The error is one sentence without the URL itself, which may hold a password.
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty; leave it unset to use the embedded SQLite database".into());
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err("names no SQLite file (expected sqlite://PATH)".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let parsed = url::Url::parse(text)
                .map_err(|err| format!("is not a valid PostgreSQL URL ({err})"))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err("is not a valid PostgreSQL URL (no host)".into());
            }
            let options = PgConnectOptions::from_str(text)
                .map_err(|_| "is not a valid PostgreSQL URL".to_string())?;
            return Ok(DatabaseUrl::Postgres(Box::new(options)));
        }
        Err(
            "must start with postgres:// or sqlite:// (or be left unset for the embedded database)"
                .into(),
        )
    }

    /// A description safe for logs: no password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(options) => format!(
                "postgres://{}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or_default()
            ),
        }
    }
}

/// Pool sizing and time limits. Documented in the README.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// A statement that takes longer is logged (as a warning, with its text
    /// but never its bound values), on either backend.
    pub slow_statement: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            slow_statement: Duration::from_millis(200),
        }
    }
}

pub(super) async fn open(
    url: &DatabaseUrl,
    settings: &PoolSettings,
) -> Result<Database, OpenError> {
    match url {
        DatabaseUrl::Sqlite(path) => open_sqlite(path, settings).await,
        DatabaseUrl::Postgres(options) => open_postgres(options, settings).await,
    }
}

async fn open_sqlite(path: &PathBuf, settings: &PoolSettings) -> Result<Database, OpenError> {
    let fail = |reason: String| OpenError::Sqlite {
        path: path.display().to_string(),
        reason,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|err| fail(err.to_string()))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a confirmed registration survives a power cut (still ~6k seat-takings/s; docs/PERFORMANCE.md).
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Writers queue on the file lock instead of failing; the statement timeout bounds the wait.
        .busy_timeout(settings.statement_timeout)
        .log_slow_statements(LevelFilter::Warn, settings.slow_statement);
    let pool = SqlitePoolOptions::new()
        .max_connections(settings.max_connections.max(1))
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(|err| fail(err.to_string()))?;
    Ok(Database::sqlite(pool))
}

async fn open_postgres(
    options: &PgConnectOptions,
    settings: &PoolSettings,
) -> Result<Database, OpenError> {
    let target = format!("{}:{}", options.get_host(), options.get_port());
    let timeout_ms = settings.statement_timeout.as_millis().to_string();
    let options = options
        .clone()
        // No JIT: Tsudoi's statements are short, and PostgreSQL compiles
        // one whose estimate looks large — a grouping over JSON answers,
        // whose function scans it guesses at 100 rows each — spending
        // ~140 ms to save a few (survey results: 262 → 41 ms).
        .options([("statement_timeout", timeout_ms.as_str()), ("jit", "off")])
        .application_name("tsudoi")
        .log_slow_statements(LevelFilter::Warn, settings.slow_statement);
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections.max(1))
        .min_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(|err| OpenError::Postgres {
            target,
            reason: one_line(&err),
        })?;
    Ok(Database::postgres(pool))
}

fn one_line(err: &sqlx::Error) -> String {
    err.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_supported_urls() {
        assert!(
            matches!(DatabaseUrl::parse("sqlite://data/t.db"), Ok(DatabaseUrl::Sqlite(p)) if p == std::path::Path::new("data/t.db"))
        );
        assert!(matches!(
            DatabaseUrl::parse("sqlite:t.db"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:secret@db.example:5433/tsudoi"),
            Ok(DatabaseUrl::Postgres(_))
        ));
    }

    #[test]
    fn rejects_malformed_urls_without_echoing_secrets() {
        for bad in [
            "",
            "mysql://x",
            "postgres://",
            "postgres://u:secret@:99999/x",
            "nonsense",
        ] {
            let err = DatabaseUrl::parse(bad).expect_err(bad);
            assert!(!err.contains("secret"), "{err}");
        }
    }

    #[test]
    fn describe_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://u:secret@db.example:5433/tsudoi").unwrap();
        assert_eq!(url.describe(), "postgres://db.example:5433/tsudoi");
    }
}
