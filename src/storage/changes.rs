//! The feed that keeps cached reads honest.
//!
//! Every write that changes what the public event list shows — an event
//! created, edited, published or cancelled, a seat taken or given back, a
//! place on a waitlist — bumps a counter after its transaction commits. A
//! cached page remembers the counter it was read under and is only served
//! while the counter has not moved: the writer's next read is never stale.
//!
//! Writes made by other instances reach this one through Redis when it is
//! configured (`crate::shared_cache`), which forwards the local counter and
//! records what the others announced. Without Redis, caches also bound the
//! age of what they keep.
//!
//! The counter moves only *after* the commit: a reader that got in between
//! would otherwise cache the old rows under the new number.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

#[derive(Debug)]
pub struct Changes {
    /// Writes through this instance; watched by whoever tells the others.
    local: watch::Sender<u64>,
    /// Writes other instances announced.
    remote: AtomicU64,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            local: watch::Sender::new(0),
            remote: AtomicU64::new(0),
        }
    }
}

impl Changes {
    /// A committed write changed the events' public rows or their seats.
    pub(crate) fn events_changed(&self) {
        self.local.send_modify(|count| *count += 1);
    }

    /// Another instance announced a write (or announcements may have been
    /// missed, which must be treated the same way).
    pub fn note_remote_change(&self) {
        self.remote.fetch_add(1, Ordering::AcqRel);
    }

    /// Moves with every change, local or remote; equal readings mean no
    /// change between them.
    pub fn generation(&self) -> u64 {
        // Both parts only grow, so their sum moves whenever either does.
        let local = *self.local.borrow();
        local.wrapping_add(self.remote.load(Ordering::Acquire))
    }

    /// Wakes whenever this instance writes (changes in between coalesce).
    pub fn watch_local(&self) -> watch::Receiver<u64> {
        self.local.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_change_moves_the_generation() {
        let changes = Changes::default();
        let start = changes.generation();
        changes.events_changed();
        let after_local = changes.generation();
        assert_ne!(start, after_local);
        changes.note_remote_change();
        assert_ne!(after_local, changes.generation());
    }

    #[tokio::test]
    async fn local_writes_wake_the_watcher() {
        let changes = Changes::default();
        let mut watcher = changes.watch_local();
        changes.events_changed();
        tokio::time::timeout(std::time::Duration::from_secs(5), watcher.changed())
            .await
            .expect("woken")
            .expect("sender alive");
        assert_eq!(*watcher.borrow_and_update(), 1);
        changes.note_remote_change();
        assert!(!watcher.has_changed().expect("sender alive"));
    }
}
