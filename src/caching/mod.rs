//! What Tsudoi caches, and how long anything can be stale.
//!
//! | what | where | kept valid by | stale after a write, at most |
//! |---|---|---|---|
//! | public event list pages | each instance ([`crate::events::list_cache`]) | the change counter of [`crate::storage::Changes`], bumped by every write that alters the list | writer's instance: never; other instances with Redis: until the announcement arrives (milliseconds); without Redis or while it is unreachable: [`crate::events::list_cache::MAX_AGE`] |
//! | dashboard numbers | each instance, and Redis when configured ([`crate::events::stats_cache`]) | a fingerprint read from the database on every request | never; a department move shows within [`crate::events::stats_cache::MAX_AGE`] |
//!
//! Redis is optional for both: it only saves work (numbers computed once for
//! all instances) and shortens the other instances' lag on the list.

pub mod redis;

/// Whether a read was answered from a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// From this instance's memory.
    Cached,
    /// Computed by another instance and fetched from Redis.
    Shared,
    /// From the database.
    Computed,
}
