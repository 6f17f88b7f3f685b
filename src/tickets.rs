//! Signed tickets: the QR code on a ticket
//! carries a token signed with Ed25519, never a guessable id, so door staff
//! can check it offline with the event's public key.
//!
//! Keys: one 32-byte seed per installation, in `instance_secrets`; each
//! event's signing key is derived from it with HKDF-SHA256, so a leaked event
//! key exposes nothing else, and only public keys ever leave the server.
//!
//! The token's format and its offline verification are in
//! [`ticket_token`](crate::ticket_token).
//!
//! Each seat holder also gets a short code for typing in when a QR code will
//! not scan: 8 characters of Crockford base32, random, unique.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use ed25519_dalek::{Signer, SigningKey};
use hkdf::Hkdf;
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::model::{Registration, RegistrationStatus};
use crate::reason::Reason;
use crate::registrations::{RegistrationRow, columns, with_position};
use crate::storage::{Database, is_unique_violation, on_pool};
use crate::ticket_token;
pub use crate::ticket_token::{TicketClaims, normalize_code};
use crate::{Error, Result};

/// What the ticket page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// For the QR code: see the module documentation for its format.
    pub token: String,
    /// The short code for manual entry, 8 characters.
    pub code: String,
    pub event_id: i64,
    pub registration_id: i64,
}

const SEED_NAME: &str = "ticket_signing_seed";
/// Changing the salt or the info layout changes every key: a new token version.
const KEY_SALT: &[u8] = b"tsudoi ticket signing key v1";

/// Derived keys, by seed and event. The derivation is cheap but not free
/// (HKDF, then a scalar multiplication for the public key), and a door scan
/// or a ticket page asks for the same few events over and over.
static KEYS: LazyLock<Mutex<KeyCache>> = LazyLock::new(Mutex::default);
/// Signing keys by installation seed and event id.
type KeyCache = HashMap<([u8; 32], i64), SigningKey>;
/// Far more events than run at once; when reached, the cache starts over.
const KEY_CACHE_LIMIT: usize = 4096;

fn invalid_ticket() -> Error {
    Error::Invalid(Reason::InvalidTicket)
}

/// The installation's seed, made by the first instance that needs it.
async fn seed(db: &Database) -> Result<[u8; 32]> {
    crate::storage::installation_secret(db, SEED_NAME).await
}

fn event_key(seed: &[u8; 32], event_id: i64) -> Result<SigningKey> {
    if let Ok(cache) = KEYS.lock()
        && let Some(key) = cache.get(&(*seed, event_id))
    {
        return Ok(key.clone());
    }
    let mut secret = [0u8; 32];
    let info = [b"event:".as_slice(), &event_id.to_be_bytes()].concat();
    Hkdf::<Sha256>::new(Some(KEY_SALT), seed)
        .expand(&info, &mut secret)
        .map_err(|_| Error::Internal)?;
    let key = SigningKey::from_bytes(&secret);
    if let Ok(mut cache) = KEYS.lock() {
        if cache.len() >= KEY_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert((*seed, event_id), key.clone());
    }
    Ok(key)
}

fn sign(seed: &[u8; 32], claims: TicketClaims) -> Result<String> {
    let payload = ticket_token::payload(claims);
    let signature = event_key(seed, claims.event_id)?.sign(&payload);
    Ok(ticket_token::encode(&payload, &signature))
}

fn check(seed: &[u8; 32], token: &str) -> Result<TicketClaims> {
    let ticket = ticket_token::SignedTicket::read(token).ok_or_else(invalid_ticket)?;
    let key = event_key(seed, ticket.claims.event_id)?.verifying_key();
    if ticket.signed_by(&key) {
        Ok(ticket.claims)
    } else {
        Err(invalid_ticket())
    }
}

#[derive(sqlx::FromRow)]
struct Holder {
    event_id: i64,
    user_id: i64,
    status: String,
    ticket_code: Option<String>,
}

/// The ticket of a registration, for its owner only, while it holds a seat.
/// The short code is assigned on the first call and stays the same.
pub async fn issue(db: &Database, registration_id: i64, owner_user_id: i64) -> Result<Ticket> {
    let holder: Holder = on_pool!(db, |pool| sqlx::query_as(
        "SELECT event_id, user_id, status, ticket_code FROM registrations WHERE id = $1"
    )
    .bind(registration_id)
    .fetch_optional(pool)
    .await?)
    .ok_or(Error::NotFound)?;
    if holder.user_id != owner_user_id {
        return Err(Error::Forbidden);
    }
    match RegistrationStatus::parse(&holder.status) {
        Some(RegistrationStatus::Registered | RegistrationStatus::CheckedIn) => {}
        Some(RegistrationStatus::Waitlisted) => {
            return Err(Error::Conflict(Reason::NoTicketOnWaitlist));
        }
        Some(RegistrationStatus::Cancelled | RegistrationStatus::Removed) => {
            return Err(Error::Conflict(Reason::NoTicketWhenCancelled));
        }
        None => {
            tracing::error!(registration = registration_id, status = %holder.status, "unknown registration status");
            return Err(Error::Internal);
        }
    }
    let code = match holder.ticket_code {
        Some(code) => code,
        None => assign_code(db, registration_id).await?,
    };
    let claims = TicketClaims {
        event_id: holder.event_id,
        registration_id,
    };
    Ok(Ticket {
        token: sign(&seed(db).await?, claims)?,
        code,
        event_id: holder.event_id,
        registration_id,
    })
}

/// Gives the registration a code unless it has one, and returns its code.
async fn assign_code(db: &Database, registration_id: i64) -> Result<String> {
    // 40 random bits: a clash is rare, and the unique index catches it.
    for _ in 0..8 {
        let mut bytes = [0u8; 5];
        OsRng.fill_bytes(&mut bytes);
        let candidate = base32::encode(base32::Alphabet::Crockford, &bytes);
        // COALESCE: of two concurrent first views, the later one gets the
        // earlier one's code instead of replacing it.
        let assigned = on_pool!(db, |pool| {
            sqlx::query_scalar::<_, String>(
            "UPDATE registrations SET ticket_code = COALESCE(ticket_code, $2) WHERE id = $1 RETURNING ticket_code",
        )
        .bind(registration_id)
        .bind(&candidate)
        .fetch_optional(pool)
        .await
        });
        match assigned {
            Ok(Some(code)) => return Ok(code),
            Ok(None) => return Err(Error::NotFound),
            Err(err) if is_unique_violation(&err) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    tracing::error!(
        registration = registration_id,
        "no free ticket code after 8 tries"
    );
    Err(Error::Internal)
}

/// Checks a scanned token: the claims if the server signed it.
/// Anything forged, altered, cut short or garbled is [`Error::Invalid`].
pub async fn verify(db: &Database, token: &str) -> Result<TicketClaims> {
    // Garbage is refused before the database is asked anything.
    ticket_token::parse(token).ok_or_else(invalid_ticket)?;
    check(&seed(db).await?, token)
}

/// The event's public key (32 bytes, base64url without padding), for door
/// devices that verify tickets offline.
pub async fn event_public_key(db: &Database, event_id: i64) -> Result<String> {
    let exists: Option<i64> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM events WHERE id = $1"
    )
    .bind(event_id)
    .fetch_optional(pool)
    .await?);
    exists.ok_or(Error::NotFound)?;
    let key = event_key(&seed(db).await?, event_id)?;
    Ok(ticket_token::public_key_text(&key.verifying_key()))
}

/// The registration of `event_id` with this short code (manual check-in).
pub async fn find_by_code(db: &Database, event_id: i64, code: &str) -> Result<Registration> {
    const SELECT: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM registrations WHERE ticket_code = $2 AND event_id = $1"
    );
    let code = normalize_code(code).ok_or(Error::Invalid(Reason::InvalidTicketCode))?;
    let row: RegistrationRow = on_pool!(db, |pool| sqlx::query_as(SELECT)
        .bind(event_id)
        .bind(&code)
        .fetch_optional(pool)
        .await?)
    .ok_or(Error::NotFound)?;
    with_position(db, row).await
}

/// The token as a QR code in SVG, to inline in a page: no XML prolog, no
/// `style` attribute (the site's CSP allows no inline styles), only
/// presentation attributes. Empty if the token cannot be encoded, which a
/// token from [`issue`] always can.
pub fn qr_svg(token: &str) -> String {
    use qrcode::render::svg;
    use qrcode::{EcLevel, QrCode};
    match QrCode::with_error_correction_level(token.as_bytes(), EcLevel::M) {
        Ok(code) => {
            let document = code
                .render::<svg::Color<'_>>()
                .min_dimensions(256, 256)
                .quiet_zone(true)
                .build();
            match document.find("<svg") {
                Some(start) => document[start..].to_string(),
                None => document,
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "a ticket token did not fit in a QR code");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::Signature;

    use super::*;
    use crate::ticket_token::{PAYLOAD_LEN, TOKEN_CHARS};

    const SEED: [u8; 32] = [7; 32];

    fn claims(event_id: i64, registration_id: i64) -> TicketClaims {
        TicketClaims {
            event_id,
            registration_id,
        }
    }

    #[test]
    fn a_token_round_trips_and_has_the_documented_length() {
        let token = sign(&SEED, claims(42, 4711)).unwrap();
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(!token.contains(['=', '+', '/']));
        assert_eq!(check(&SEED, &token).unwrap(), claims(42, 4711));
    }

    #[test]
    fn another_events_key_or_another_seed_cannot_sign() {
        // A token for event 1, with its signature made by event 2's key.
        let genuine = URL_SAFE_NO_PAD
            .decode(sign(&SEED, claims(1, 9)).unwrap())
            .unwrap();
        let other = event_key(&SEED, 2).unwrap().sign(&genuine[..PAYLOAD_LEN]);
        let mut forged = genuine[..PAYLOAD_LEN].to_vec();
        forged.extend_from_slice(&other.to_bytes());
        assert_eq!(
            check(&SEED, &URL_SAFE_NO_PAD.encode(&forged)),
            Err(invalid_ticket())
        );
        let elsewhere = sign(&[8; 32], claims(1, 9)).unwrap();
        assert_eq!(check(&SEED, &elsewhere), Err(invalid_ticket()));
    }

    #[test]
    fn event_keys_differ_and_the_public_key_alone_verifies() {
        let one = event_key(&SEED, 1).unwrap();
        let two = event_key(&SEED, 2).unwrap();
        assert_ne!(one.verifying_key(), two.verifying_key());
        // What a door device does offline: public key, payload, signature.
        let bytes = URL_SAFE_NO_PAD
            .decode(sign(&SEED, claims(1, 5)).unwrap())
            .unwrap();
        let signature = Signature::from_slice(&bytes[PAYLOAD_LEN..]).unwrap();
        assert!(
            one.verifying_key()
                .verify_strict(&bytes[..PAYLOAD_LEN], &signature)
                .is_ok()
        );
        assert!(
            two.verifying_key()
                .verify_strict(&bytes[..PAYLOAD_LEN], &signature)
                .is_err()
        );
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let token = sign(&SEED, claims(3, 4)).unwrap();
        let mut flipped = token.clone().into_bytes();
        flipped[30] = if flipped[30] == b'A' { b'B' } else { b'A' };
        for bad in [
            String::new(),
            "x".into(),
            token[..token.len() - 1].to_string(),
            format!("{token}A"),
            String::from_utf8(flipped).unwrap(),
            "é".repeat(TOKEN_CHARS / 2),
            "!".repeat(TOKEN_CHARS),
        ] {
            assert_eq!(check(&SEED, &bad), Err(invalid_ticket()), "{bad:?}");
        }
    }

    #[test]
    fn typed_codes_are_forgiving() {
        assert_eq!(normalize_code("7k3m-q9xd").as_deref(), Some("7K3MQ9XD"));
        assert_eq!(normalize_code(" 7K3M Q9XD ").as_deref(), Some("7K3MQ9XD"));
        assert_eq!(
            normalize_code("７Ｋ３Ｍ－Ｑ９ＸＤ").as_deref(),
            Some("7K3MQ9XD")
        );
        assert_eq!(normalize_code("OILo0000").as_deref(), Some("01100000"));
        assert_eq!(normalize_code("7K3MQ9X"), None);
        assert_eq!(normalize_code("7K3MQ9XDE"), None);
        assert_eq!(normalize_code("UUUUUUUU"), None);
        assert_eq!(normalize_code("日本語日本語日本"), None);
    }

    #[test]
    fn the_qr_code_is_inline_svg_without_styles() {
        let svg = qr_svg(&sign(&SEED, claims(1, 2)).unwrap());
        assert!(svg.starts_with("<svg"), "{svg:.60}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("style"));
        assert!(!svg.contains("<?xml"));
    }
}
