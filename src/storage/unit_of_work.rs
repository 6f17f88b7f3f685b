//! Writes that belong together: one transaction over either backend.
//!
//! The operation that begins a [`UnitOfWork`] passes it by `&mut` to each step
//! of the change (take a seat, promote from the waitlist, queue the mail that
//! announces it, write the audit entry) and commits once at the end. A step
//! that refuses returns an error and the operation returns it too; dropping
//! the unit of work rolls every step back, so a change is never half applied.

use sqlx::{Postgres, Sqlite, Transaction};

use super::{Backend, BeginWrite, Database, Pool};

/// A write transaction on SQLite or PostgreSQL.
pub enum UnitOfWork<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

/// Runs the same code on the transaction of whichever backend, binding
/// `$conn` to its connection: `query.execute(&mut *conn)`. The body is
/// compiled once per backend, like [`on_pool!`](super::on_pool).
macro_rules! on_tx {
    ($uow:expr, |$conn:ident| $body:expr) => {
        match $uow {
            $crate::storage::UnitOfWork::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::storage::UnitOfWork::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

impl Database {
    /// Begins a unit of work on a connection of its own, returned to the pool
    /// at the commit. SQLite takes its write lock at once (see [`BeginWrite`]).
    #[tracing::instrument(level = "debug", name = "db.begin", skip_all)]
    pub(crate) async fn begin_write(&self) -> sqlx::Result<UnitOfWork<'static>> {
        Ok(match self.pool() {
            Pool::Sqlite(pool) => UnitOfWork::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => UnitOfWork::Postgres(pool.begin().await?),
        })
    }
}

impl<'c> UnitOfWork<'c> {
    /// Begins a unit of work on a connection the caller holds, which it can
    /// keep using after the commit without queueing for the pool again.
    #[tracing::instrument(level = "debug", name = "db.begin", skip_all)]
    pub(crate) async fn on_connection<C>(conn: &'c mut C) -> sqlx::Result<UnitOfWork<'c>>
    where
        C: BeginWrite,
        UnitOfWork<'c>: From<Transaction<'c, C::Db>>,
    {
        Ok(conn.begin_write().await?.into())
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            UnitOfWork::Sqlite(_) => Backend::Sqlite,
            UnitOfWork::Postgres(_) => Backend::Postgres,
        }
    }

    #[tracing::instrument(level = "debug", name = "db.commit", skip_all)]
    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self {
            UnitOfWork::Sqlite(tx) => tx.commit().await,
            UnitOfWork::Postgres(tx) => tx.commit().await,
        }
    }

    /// Undoes every step now rather than when the value is dropped, for an
    /// operation that keeps using the connection.
    #[tracing::instrument(level = "debug", name = "db.rollback", skip_all)]
    pub(crate) async fn rollback(self) -> sqlx::Result<()> {
        match self {
            UnitOfWork::Sqlite(tx) => tx.rollback().await,
            UnitOfWork::Postgres(tx) => tx.rollback().await,
        }
    }

    /// Commits a change to what the public event list shows, then moves the
    /// change counter: in that order, or a reader in between could cache the
    /// old rows under the new count (see [`Changes`](super::Changes)).
    pub(crate) async fn commit_event_change(self, db: &Database) -> sqlx::Result<()> {
        self.commit().await?;
        db.changes().events_changed();
        Ok(())
    }
}

impl<'c> From<Transaction<'c, Sqlite>> for UnitOfWork<'c> {
    fn from(tx: Transaction<'c, Sqlite>) -> Self {
        UnitOfWork::Sqlite(tx)
    }
}

impl<'c> From<Transaction<'c, Postgres>> for UnitOfWork<'c> {
    fn from(tx: Transaction<'c, Postgres>) -> Self {
        UnitOfWork::Postgres(tx)
    }
}
