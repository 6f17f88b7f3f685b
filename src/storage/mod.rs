//! The storage layer: one [`Database`] value over either backend.
//!
//! Server functions can't be generic, so the backend is an enum rather than a
//! type parameter. SQL that reads the same on both dialects is written once and
//! expanded for each pool by [`on_pool!`] (or each transaction by [`on_tx!`]);
//! where the dialects differ, [`dialect`] spells the difference. Writes that
//! belong together go through one [`UnitOfWork`].

mod changes;
mod connect;
pub(crate) mod dialect;
mod secrets;
#[cfg(feature = "test-support")]
pub mod test_support;
mod text_search;
mod unit_of_work;

pub use changes::Changes;
pub use connect::{DatabaseUrl, PoolSettings};
pub(crate) use dialect::dialect_sql;
pub use secrets::installation_secret;
pub(crate) use text_search::SearchTerm;
pub use unit_of_work::UnitOfWork;
pub(crate) use unit_of_work::on_tx;

use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgPool, SqlitePool};

/// Runs the same code against whichever pool the database has, binding `$pool`.
///
/// The body is compiled once per backend, so it may use backend-generic sqlx
/// calls (`query`, `query_as`, `query_scalar`) with `$1`-style placeholders,
/// which both SQLite and PostgreSQL accept.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            $crate::storage::Pool::Sqlite($pool) => $body,
            $crate::storage::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Starts a transaction that will write, on a connection the caller holds (so
/// it can keep using it after the commit without queueing for the pool again).
///
/// SQLite: `BEGIN IMMEDIATE` takes the write lock up front. A plain (deferred)
/// transaction that reads first and writes later can fail with "database is
/// locked" when another writer got in between; immediate ones queue on the
/// busy timeout instead. PostgreSQL: a plain transaction; the conditional
/// UPDATEs lock exactly the rows they change.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &mut self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'_, Self::Db>>> + Send;
}

impl BeginWrite for sqlx::SqliteConnection {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &mut self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'_, sqlx::Sqlite>>> + Send {
        sqlx::Connection::begin_with(self, "BEGIN IMMEDIATE")
    }
}

impl BeginWrite for sqlx::PgConnection {
    type Db = sqlx::Postgres;
    fn begin_write(
        &mut self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'_, sqlx::Postgres>>> + Send {
        sqlx::Connection::begin(self)
    }
}

/// A unique index or constraint refused the statement: the caller answers
/// with what already exists, or a conflict in the user's terms.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// `text` as a LIKE pattern that finds it anywhere: `%`, `_` and the escape
/// character typed by a user stand for themselves. Queries say `ESCAPE '\\'`.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    // Nobody types control characters, and PostgreSQL refuses a NUL in text.
    for c in text.chars().filter(|c| !c.is_control()) {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The pool of one backend.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database: its pool, and the feed of changes made through
/// it that caches watch (see [`Changes`]). Clones share both; two handles
/// opened on one pool are two instances, as two servers would be.
#[derive(Clone, Debug)]
pub struct Database {
    pool: Pool,
    changes: Arc<Changes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Why the database could not be opened, in words for the operator's terminal.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the SQLite database at {path}: {reason}")]
    Sqlite { path: String, reason: String },
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Postgres { target: String, reason: String },
    #[error("migrating the {backend} database failed: {reason}")]
    Migrate {
        backend: &'static str,
        reason: String,
    },
}

impl Database {
    pub fn sqlite(pool: SqlitePool) -> Database {
        Database::on(Pool::Sqlite(pool))
    }

    pub fn postgres(pool: PgPool) -> Database {
        Database::on(Pool::Postgres(pool))
    }

    fn on(pool: Pool) -> Database {
        Database {
            pool,
            changes: Arc::new(Changes::default()),
        }
    }

    /// Another handle on the same pool, with a change feed of its own: what
    /// a second instance of Tsudoi would have (tests and benchmarks).
    pub fn another_instance(&self) -> Database {
        Database::on(self.pool.clone())
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// What was written through this handle (and, with Redis, through the
    /// other instances) that cached reads must not miss.
    pub fn changes(&self) -> &Arc<Changes> {
        &self.changes
    }

    /// Opens the pool for `url`; SQLite files are created when missing.
    pub async fn open(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Database, OpenError> {
        connect::open(url, settings).await
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations that are not applied yet.
    ///
    /// Migrations applied by a newer binary are tolerated, so the previous
    /// release keeps running during a blue-green switch (see migrations/README.md).
    pub async fn migrate(&self) -> Result<(), OpenError> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut migrator = sqlx::migrate!("./migrations/sqlite");
                migrator.set_ignore_missing(true);
                migrator.run(pool).await
            }
            Pool::Postgres(pool) => {
                let mut migrator = sqlx::migrate!("./migrations/postgres");
                migrator.set_ignore_missing(true);
                migrator.run(pool).await
            }
        };
        result.map_err(|err| OpenError::Migrate {
            backend: self.backend().name(),
            reason: err.to_string(),
        })
    }

    /// Readiness: can a statement run within `timeout`?
    pub async fn ping(&self, timeout: Duration) -> crate::Result<()> {
        let probe = async {
            on_pool!(self, |pool| sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ()))
        };
        match tokio::time::timeout(timeout, probe).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "readiness probe failed");
                Err(crate::Error::Unavailable)
            }
            Err(_) => Err(crate::Error::Unavailable),
        }
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}
