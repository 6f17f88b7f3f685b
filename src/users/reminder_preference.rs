//! Whether a person gets the day-before reminders, and the link in every
//! reminder that stops them without signing in (RFC 8058 "one-click": a
//! mail client may POST to it on the reader's behalf).
//!
//! The link holds the person's id and a keyed hash of it (the key in
//! `instance_secrets`), so it cannot be guessed for somebody else and needs
//! nothing stored per mail. It does only one thing, which the person can
//! undo on *My account*, so it never expires.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::reason::Reason;
use crate::storage::{Database, installation_secret, on_pool};
use crate::{Error, Result};

const SECRET_NAME: &str = "reminder-links";
/// Binds the hash to this use of the key and to the token's format.
const CONTEXT: &[u8] = b"tsudoi stop reminders v1";
const ID_BYTES: usize = 8;
const MAC_BYTES: usize = 32;
/// The token's length in base64url without padding.
const TOKEN_CHARS: usize = ((ID_BYTES + MAC_BYTES) * 4).div_ceil(3);

type LinkMac = Hmac<Sha256>;

fn mac(secret: &[u8; 32], user_id: i64) -> LinkMac {
    let mut mac = <LinkMac as Mac>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(CONTEXT);
    mac.update(&user_id.to_be_bytes());
    mac
}

fn token_for(secret: &[u8; 32], user_id: i64) -> String {
    let mut bytes = Vec::with_capacity(ID_BYTES + MAC_BYTES);
    bytes.extend_from_slice(&user_id.to_be_bytes());
    bytes.extend_from_slice(&mac(secret, user_id).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The person a token names, if it was made with this key; the comparison
/// takes the same time however many bytes match.
fn user_of(secret: &[u8; 32], token: &str) -> Option<i64> {
    let token = token.trim();
    if token.len() != TOKEN_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let (id, tag) = bytes.split_at_checked(ID_BYTES)?;
    let user_id = i64::from_be_bytes(id.try_into().ok()?);
    mac(secret, user_id).verify_slice(tag).ok()?;
    Some(user_id)
}

/// The token of the link that stops `user_id`'s reminders.
pub async fn stop_token(db: &Database, user_id: i64) -> Result<String> {
    let secret = installation_secret(db, SECRET_NAME).await?;
    Ok(token_for(&secret, user_id))
}

/// Who a stop link is for, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkHolder {
    pub user_id: i64,
    pub email: String,
    pub wants_reminders: bool,
}

/// The person behind a stop link; [`Reason::BrokenLink`] for a token this
/// installation did not make or a person who no longer exists.
pub async fn holder(db: &Database, token: &str) -> Result<LinkHolder> {
    let secret = installation_secret(db, SECRET_NAME).await?;
    let broken = || Error::Invalid(Reason::BrokenLink);
    let user_id = user_of(&secret, token).ok_or_else(broken)?;
    let row: Option<(String, bool)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT email, wants_reminders FROM users WHERE id = $1 AND active"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?);
    let (email, wants_reminders) = row.ok_or_else(broken)?;
    Ok(LinkHolder {
        user_id,
        email,
        wants_reminders,
    })
}

/// Stops the reminders of the link's person. Using the link again changes
/// nothing and is no error.
#[tracing::instrument(skip_all)]
pub async fn stop_with_link(db: &Database, token: &str) -> Result<LinkHolder> {
    let holder = holder(db, token).await?;
    set(db, holder.user_id, false).await?;
    Ok(LinkHolder {
        wants_reminders: false,
        ..holder
    })
}

/// Whether `user_id` gets the day-before reminders.
pub async fn wants(db: &Database, user_id: i64) -> Result<bool> {
    on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT wants_reminders FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
    .ok_or(Error::NotFound)
}

/// Turns `user_id`'s day-before reminders on or off.
pub async fn set(db: &Database, user_id: i64, wants: bool) -> Result<()> {
    let changed = on_pool!(db, |pool| sqlx::query(
        "UPDATE users SET wants_reminders = $2 WHERE id = $1"
    )
    .bind(user_id)
    .bind(wants)
    .execute(pool)
    .await?
    .rows_affected());
    if changed == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_person_only_under_its_key() {
        let key = [7u8; 32];
        let token = token_for(&key, 42);
        assert_eq!(token.len(), TOKEN_CHARS);
        assert_eq!(user_of(&key, &token), Some(42));
        assert_eq!(user_of(&[8u8; 32], &token), None);
        // Another person's id with this hash, or a changed character, fails.
        let mut forged = URL_SAFE_NO_PAD.decode(&token).unwrap();
        forged[7] = 43;
        assert_eq!(user_of(&key, &URL_SAFE_NO_PAD.encode(&forged)), None);
        let mut changed = token.clone().into_bytes();
        changed[TOKEN_CHARS - 1] = if changed[TOKEN_CHARS - 1] == b'A' {
            b'B'
        } else {
            b'A'
        };
        assert_eq!(user_of(&key, &String::from_utf8(changed).unwrap()), None);
        for garbage in [
            "",
            "x",
            "%%%",
            &"A".repeat(TOKEN_CHARS),
            &"A".repeat(10_000),
        ] {
            assert_eq!(user_of(&key, garbage), None, "{garbage:?}");
        }
    }
}
