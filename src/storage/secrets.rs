//! Random values of the installation, shared by all its instances.

use chrono::Utc;
use rand::RngCore;
use rand::rngs::OsRng;

use super::{Database, on_pool};
use crate::{Error, Result};

/// The 32 random bytes stored as `name`, made by the first instance that
/// needs them. Instances starting together still agree: whoever inserts
/// first wins and everyone reads the winner's value.
pub async fn installation_secret(db: &Database, name: &str) -> Result<[u8; 32]> {
    const SELECT: &str = "SELECT value FROM instance_secrets WHERE name = $1";
    let stored: Option<Vec<u8>> = on_pool!(db, |pool| sqlx::query_scalar(SELECT)
        .bind(name)
        .fetch_optional(pool)
        .await?);
    let value = match stored {
        Some(value) => value,
        None => {
            let mut fresh = [0u8; 32];
            OsRng.fill_bytes(&mut fresh);
            on_pool!(db, |pool| {
                sqlx::query(
                    "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(fresh.as_slice())
                .bind(Utc::now())
                .execute(pool)
                .await?;
                sqlx::query_scalar::<_, Vec<u8>>(SELECT)
                    .bind(name)
                    .fetch_one(pool)
                    .await?
            })
        }
    };
    <[u8; 32]>::try_from(value.as_slice()).map_err(|_| {
        tracing::error!(
            name,
            len = value.len(),
            "an installation secret has the wrong length"
        );
        Error::Internal
    })
}
