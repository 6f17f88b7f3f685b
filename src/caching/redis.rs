//! Caches shared across instances through Redis, when `redis_url` is set.
//!
//! Two things travel: announcements of writes (PUBLISH on one channel, so
//! every instance drops its list pages at once) and computed values (the
//! dashboard's numbers, stored with the fingerprint they were computed
//! under, so a second instance reuses them instead of computing again).
//!
//! Redis only ever saves work or shortens a lag. While it is unreachable each
//! instance falls back to its own memory and the age bounds of its caches;
//! after a reconnect every instance assumes it missed announcements and
//! drops its list pages.

use std::sync::{Arc, Weak};
use std::time::Duration;

use fred::prelude::{
    ClientLike, Config, EventInterface, Expiration, KeysInterface, PubsubInterface, ReconnectPolicy,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast::error::RecvError;

use crate::storage::{Changes, Database, installation_secret};

/// Names the installation in Redis keys, so two installations (staging and
/// production, say) can share one Redis without reading each other's numbers.
const NAMESPACE_SECRET: &str = "cache_namespace";

/// How long a read waits for Redis before computing by itself: a cache must
/// never be slower than what it saves.
const READ_TIMEOUT: Duration = Duration::from_millis(250);

/// How long connecting and other commands may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

pub struct SharedCache {
    commands: fred::clients::Client,
    subscriber: fred::clients::Client,
    /// Tells this instance's announcements from the others'.
    instance: String,
    /// `tsudoi:<installation>:`, the start of every key and channel.
    prefix: String,
}

impl SharedCache {
    /// Connects in the background: a Redis that is down at start is used as
    /// soon as it is reachable. Fails for a malformed URL, or when the
    /// installation's name for its keys cannot be read from `db`.
    pub async fn connect(url: &str, db: &Database) -> Result<Arc<SharedCache>, String> {
        let namespace = installation_secret(db, NAMESPACE_SECRET)
            .await
            .map_err(|err| format!("cannot read the installation's cache namespace: {err}"))?;
        let prefix = format!("tsudoi:{}:", hex(&namespace[..8]));
        let client = || {
            builder(url)?
                .build()
                .map_err(|err| format!("invalid redis_url: {err}"))
        };
        let shared = Arc::new(SharedCache {
            commands: client()?,
            subscriber: client()?,
            instance: format!("{:016x}", rand::random::<u64>()),
            prefix,
        });
        shared.commands.connect();
        shared.subscriber.connect();
        let ready = async {
            shared.commands.wait_for_connect().await?;
            shared.subscriber.wait_for_connect().await
        };
        if !matches!(
            tokio::time::timeout(COMMAND_TIMEOUT, ready).await,
            Ok(Ok(()))
        ) {
            tracing::warn!(
                "Redis is not reachable yet; each instance caches on its own until it is"
            );
        }
        Ok(shared)
    }

    /// Announces the writes made through `changes` to the other instances
    /// and records theirs in it, until the database handle is dropped.
    pub fn share_changes(self: &Arc<Self>, changes: &Arc<Changes>) {
        tokio::spawn(announce(self.clone(), changes.watch_local()));
        tokio::spawn(listen(self.clone(), Arc::downgrade(changes)));
    }

    /// Whether Redis is reachable now, as far as the connection knows.
    pub fn is_connected(&self) -> bool {
        self.commands.is_connected()
    }

    /// The full Redis key of `name` for this installation.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn events_changed_channel(&self) -> String {
        self.key("changes:events")
    }

    /// The value stored under `key`, if Redis answers in time and it reads
    /// as a `T` (a value written by another version of Tsudoi may not).
    pub(crate) async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        if !self.commands.is_connected() {
            return None;
        }
        let read = self.commands.get::<Option<String>, _>(key);
        match tokio::time::timeout(READ_TIMEOUT, read).await {
            Ok(Ok(Some(text))) => serde_json::from_str(&text).ok(),
            Ok(Ok(None)) => None,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, key, "shared cache read failed");
                None
            }
            Err(_) => None,
        }
    }

    /// Stores `value` under `key` for `ttl`, in the background: the caller
    /// has its answer already.
    pub(crate) fn put<T: Serialize>(self: &Arc<Self>, key: String, value: &T, ttl: Duration) {
        if !self.commands.is_connected() {
            return;
        }
        let Ok(text) = serde_json::to_string(value) else {
            return;
        };
        let seconds = i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        let shared = self.clone();
        tokio::spawn(async move {
            let stored = shared
                .commands
                .set::<(), _, _>(&key, text, Some(Expiration::EX(seconds)), None, false)
                .await;
            if let Err(err) = stored {
                tracing::debug!(error = %err, key, "shared cache write failed");
            }
        });
    }
}

/// How every Tsudoi connection to Redis is made (the session store's too):
/// each command gives up after `COMMAND_TIMEOUT` rather than wait for a
/// reconnection, and reconnecting goes on forever, backing off from 100 ms
/// to 5 s.
pub fn builder(url: &str) -> Result<fred::types::Builder, String> {
    let config = Config::from_url(url).map_err(|err| format!("invalid redis_url: {err}"))?;
    let mut builder = fred::types::Builder::from_config(config);
    builder
        .with_performance_config(|performance| {
            performance.default_command_timeout = COMMAND_TIMEOUT;
        })
        .with_connection_config(|connection| {
            connection.connection_timeout = COMMAND_TIMEOUT;
            connection.max_command_attempts = 1;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
    Ok(builder)
}

async fn announce(shared: Arc<SharedCache>, mut local: tokio::sync::watch::Receiver<u64>) {
    let channel = shared.events_changed_channel();
    // Ends when the database handle, and with it the sender, is gone.
    while local.changed().await.is_ok() {
        local.borrow_and_update();
        // Changes made while Redis is away coalesce into one announcement.
        loop {
            let sent = shared
                .commands
                .publish::<i64, _, _>(channel.as_str(), shared.instance.as_str())
                .await;
            match sent {
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(error = %err, "could not announce a change to the other instances");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

async fn listen(shared: Arc<SharedCache>, changes: Weak<Changes>) {
    let mut messages = shared.subscriber.message_rx();
    let mut reconnects = shared.subscriber.reconnect_rx();
    let channel = shared.events_changed_channel();
    subscribe(&shared.subscriber, &channel).await;
    loop {
        // Holds the counter only between events, so a dropped database
        // handle is not kept alive by this task.
        let missed = tokio::select! {
            message = messages.recv() => match message {
                Ok(message) => {
                    let from = message.value.as_string().unwrap_or_default();
                    message.channel == channel.as_str() && from != shared.instance
                }
                // Announcements were dropped: assume each was a change.
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return,
            },
            reconnected = reconnects.recv() => {
                if matches!(reconnected, Err(RecvError::Closed)) {
                    return;
                }
                // Announcements sent while disconnected are lost.
                subscribe(&shared.subscriber, &channel).await;
                true
            }
        };
        if missed {
            let Some(changes) = changes.upgrade() else {
                return;
            };
            changes.note_remote_change();
        }
    }
}

async fn subscribe(subscriber: &fred::clients::Client, channel: &str) {
    while let Err(err) = subscriber.subscribe(channel).await {
        tracing::debug!(error = %err, "subscribing to change announcements failed; retrying");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
