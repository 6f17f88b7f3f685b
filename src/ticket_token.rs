//! The ticket token's format and its verification with a public key
//! ([`SignedTicket`]): the part of `tickets` a door device needs offline, so
//! it compiles for the browser too. Signing, keys and codes live in `tickets`.
//!
//! Token format: base64url without padding of
//!
//! | bytes  | content                                         |
//! |--------|-------------------------------------------------|
//! | 0      | format version, `1`                             |
//! | 1..9   | event id, signed 64-bit big-endian              |
//! | 9..17  | registration id, signed 64-bit big-endian       |
//! | 17..81 | Ed25519 signature of bytes 0..17 with the event's key |
//!
//! A valid signature proves the server issued a ticket for that registration
//! of that event; whether the registration still holds a seat is for the
//! check-in to ask.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SIGNATURE_LENGTH, Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketClaims {
    pub event_id: i64,
    pub registration_id: i64,
}

const TOKEN_VERSION: u8 = 1;
pub(crate) const PAYLOAD_LEN: usize = 17;
const TOKEN_BYTES: usize = PAYLOAD_LEN + SIGNATURE_LENGTH;
/// base64 of [`TOKEN_BYTES`] without padding.
pub(crate) const TOKEN_CHARS: usize = (TOKEN_BYTES * 4).div_ceil(3);

/// The signed bytes of a token.
#[cfg(feature = "server")]
pub(crate) fn payload(claims: TicketClaims) -> [u8; PAYLOAD_LEN] {
    let mut payload = [0u8; PAYLOAD_LEN];
    payload[0] = TOKEN_VERSION;
    payload[1..9].copy_from_slice(&claims.event_id.to_be_bytes());
    payload[9..17].copy_from_slice(&claims.registration_id.to_be_bytes());
    payload
}

/// The token text for a payload and its signature.
#[cfg(feature = "server")]
pub(crate) fn encode(payload: &[u8; PAYLOAD_LEN], signature: &Signature) -> String {
    let mut token = Vec::with_capacity(TOKEN_BYTES);
    token.extend_from_slice(payload);
    token.extend_from_slice(&signature.to_bytes());
    URL_SAFE_NO_PAD.encode(token)
}

/// The claims of a well-formed token and its signature, not yet checked.
pub(crate) fn parse(token: &str) -> Option<(TicketClaims, [u8; PAYLOAD_LEN], Signature)> {
    let token = token.trim();
    if token.len() != TOKEN_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let (payload, signature) = bytes.split_at_checked(PAYLOAD_LEN)?;
    let payload: [u8; PAYLOAD_LEN] = payload.try_into().ok()?;
    if payload[0] != TOKEN_VERSION {
        return None;
    }
    let id = |range: std::ops::Range<usize>| {
        payload
            .get(range)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_be_bytes)
    };
    let claims = TicketClaims {
        event_id: id(1..9)?,
        registration_id: id(9..17)?,
    };
    let signature = Signature::from_slice(signature).ok()?;
    Some((claims, payload, signature))
}

/// A well-formed token, read once: what it claims, and its signature still
/// to be checked with the key of the event it names.
pub struct SignedTicket {
    /// Not to be trusted before [`SignedTicket::signed_by`] says so: only
    /// for telling which event (and so which key) the token names.
    pub claims: TicketClaims,
    payload: [u8; PAYLOAD_LEN],
    signature: Signature,
}

impl SignedTicket {
    /// `None` for anything cut short or garbled.
    pub fn read(token: &str) -> Option<SignedTicket> {
        let (claims, payload, signature) = parse(token)?;
        Some(SignedTicket {
            claims,
            payload,
            signature,
        })
    }

    /// Whether `key` signed it; false for anything forged or altered.
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        // Strict: refuses the malleable and small-order forms plain `verify` lets through.
        key.verify_strict(&self.payload, &self.signature).is_ok()
    }
}

/// An event's public key in the form the server hands out (32 bytes,
/// base64url without padding).
pub fn public_key_text(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Reads a key written by [`public_key_text`]; `None` if it is not one.
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    VerifyingKey::from_bytes(&<[u8; 32]>::try_from(bytes.as_slice()).ok()?).ok()
}

/// Whether `text` could be a token at all (a code is 8 characters, a token
/// over a hundred), before anything is verified.
pub fn looks_like_token(text: &str) -> bool {
    text.trim().len() == TOKEN_CHARS
}

/// The canonical form of a typed code: case, spaces, dashes and full-width
/// characters (a Japanese input method) do not matter, and the letters
/// Crockford base32 leaves out read as the digits they look like (O → 0,
/// I and L → 1). `None` if it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let compact: String = typed
        .chars()
        .map(|c| match c {
            // Full-width ASCII (U+FF01…U+FF5E) to ASCII.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '–' | '−' | 'ー'))
        .collect();
    if compact.len() != 8 {
        return None;
    }
    let bytes = base32::decode(base32::Alphabet::Crockford, &compact)?;
    Some(base32::encode(base32::Alphabet::Crockford, &bytes))
}
