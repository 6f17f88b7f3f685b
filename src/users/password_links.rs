//! Setting a password without knowing one: invitations an administrator
//! sends to people who have none yet (imported, or created without one), and
//! the reset a person asks for on the sign-in page.
//!
//! Both are a single-use, expiring link by mail. The link's secret part is a
//! keyed hash (HMAC-SHA256) of its row id, with a key kept in
//! `instance_secrets`: the database row and the queued mail name the row
//! only, so reading the outbox or the table gives nobody a way into an
//! account. A link stops working once it is used, once a newer link is made
//! for the same person, or when it expires.
//!
//! Asking for a reset answers the same whether the address belongs to
//! someone or not, and is counted against limits per address and per client
//! like failed logins, so the form can neither list employees nor flood one
//! person's mailbox.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use super::{LoginLimits, password, throttle};
use crate::audit::{self, AuditAction};
use crate::mail::{MailKind, outbox};
use crate::model::AuthenticatedUser;
use crate::reason::Reason;
use crate::storage::{Database, UnitOfWork, installation_secret, on_pool, on_tx};
use crate::{Error, Result};

/// How long an invitation can be used: people do not read company mail every day.
pub const INVITATION_VALID: Duration = Duration::days(7);
/// How long a reset link can be used: it is asked for by someone at the screen.
pub const RESET_VALID: Duration = Duration::hours(1);
/// Someone invited this recently is not invited again, so a double click or
/// a second "invite everyone" does not send each person two mails.
pub const REINVITE_AFTER: Duration = Duration::minutes(10);
/// The most people one chosen-list invitation may name (a page of the list, and then some).
pub const MAX_CHOSEN: usize = 200;

/// Resets asked for per e-mail address within the login window: enough for a
/// lost mail or two, too few to flood a mailbox.
const RESETS_PER_ACCOUNT: u32 = 3;

const SECRET_NAME: &str = "password-links";
/// Binds the hash to this use of the key and to the token's format.
const CONTEXT: &[u8] = b"tsudoi password link v1";
const ID_BYTES: usize = 8;
const MAC_BYTES: usize = 32;
/// The token's length in base64url without padding.
const TOKEN_CHARS: usize = ((ID_BYTES + MAC_BYTES) * 4).div_ceil(3);

/// What a link is for; the mail and the page word themselves after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkPurpose {
    Invitation,
    Reset,
}

impl LinkPurpose {
    fn code(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "invitation",
            LinkPurpose::Reset => "reset",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        match code {
            "invitation" => Some(LinkPurpose::Invitation),
            "reset" => Some(LinkPurpose::Reset),
            _ => None,
        }
    }
}

/// Whom an administrator invites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitees {
    /// These people (those of them without a password).
    Chosen(Vec<i64>),
    /// Every active person who has no password yet.
    EveryoneWithoutPassword,
}

/// A link that can still be used, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsableLink {
    pub link_id: i64,
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub purpose: LinkPurpose,
    pub expires_at: DateTime<Utc>,
}

type LinkMac = Hmac<Sha256>;

fn mac(secret: &[u8; 32], link_id: i64) -> LinkMac {
    // A 32-byte key is always accepted; HMAC takes keys of any length.
    let mut mac = <LinkMac as Mac>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(CONTEXT);
    mac.update(&link_id.to_be_bytes());
    mac
}

/// The token of link `link_id`: its id and the id's keyed hash, in base64url.
fn token_for(secret: &[u8; 32], link_id: i64) -> String {
    let mut bytes = Vec::with_capacity(ID_BYTES + MAC_BYTES);
    bytes.extend_from_slice(&link_id.to_be_bytes());
    bytes.extend_from_slice(&mac(secret, link_id).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The link id a token names, if the token was made with this key. The
/// comparison takes the same time however many bytes match.
fn link_id_of(secret: &[u8; 32], token: &str) -> Option<i64> {
    let token = token.trim();
    if token.len() != TOKEN_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let (id, tag) = bytes.split_at_checked(ID_BYTES)?;
    let link_id = i64::from_be_bytes(id.try_into().ok()?);
    mac(secret, link_id).verify_slice(tag).ok()?;
    Some(link_id)
}

fn invalid_link() -> Error {
    Error::Invalid(Reason::PasswordLinkInvalid)
}

fn new_batch() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes invitation links for `invitees` who are active, have no password
/// and were not invited within [`REINVITE_AFTER`], ends their older links,
/// queues one mail each and records it in the audit log — all or nothing.
/// Answers how many people were invited.
#[tracing::instrument(skip(db, invitees))]
pub async fn invite(
    db: &Database,
    actor: i64,
    invitees: Invitees,
    now: DateTime<Utc>,
) -> Result<u64> {
    // Invitable: active, no password, no invitation within REINVITE_AFTER.
    // `$1` batch, `$2` created, `$3` expires, `$4` invited before this is old enough.
    const INSERT_EVERYONE: &str = "
        INSERT INTO password_links (user_id, purpose, batch, created_at, expires_at)
        SELECT u.id, 'invitation', $1, $2, $3 FROM users u
         WHERE u.active AND u.password_hash IS NULL
           AND NOT EXISTS (SELECT 1 FROM password_links l
                            WHERE l.user_id = u.id AND l.purpose = 'invitation' AND l.created_at > $4)";
    const INSERT_ONE: &str = "
        INSERT INTO password_links (user_id, purpose, batch, created_at, expires_at)
        SELECT u.id, 'invitation', $1, $2, $3 FROM users u
         WHERE u.id = $5 AND u.active AND u.password_hash IS NULL
           AND NOT EXISTS (SELECT 1 FROM password_links l
                            WHERE l.user_id = u.id AND l.purpose = 'invitation' AND l.created_at > $4)";
    let chosen = match &invitees {
        Invitees::Chosen(ids) if ids.is_empty() => {
            return Err(Error::Invalid(Reason::NobodyChosen));
        }
        Invitees::Chosen(ids) if ids.len() > MAX_CHOSEN => {
            return Err(Error::Invalid(Reason::TooManyChosen {
                max: MAX_CHOSEN as u32,
            }));
        }
        Invitees::Chosen(ids) => {
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            Some(ids)
        }
        Invitees::EveryoneWithoutPassword => None,
    };
    let batch = new_batch();
    let expires_at = now + INVITATION_VALID;
    let recent = now - REINVITE_AFTER;
    let mut uow = db.begin_write().await?;
    let invited: u64 = match &chosen {
        None => on_tx!(&mut uow, |tx| sqlx::query(INSERT_EVERYONE)
            .bind(&batch)
            .bind(now)
            .bind(expires_at)
            .bind(recent)
            .execute(&mut *tx)
            .await
            .map(|done| done.rows_affected()))?,
        Some(ids) => {
            let mut invited = 0;
            for id in ids {
                invited += on_tx!(&mut uow, |tx| sqlx::query(INSERT_ONE)
                    .bind(&batch)
                    .bind(now)
                    .bind(expires_at)
                    .bind(recent)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map(|done| done.rows_affected()))?;
            }
            invited
        }
    };
    if invited == 0 {
        return Ok(0);
    }
    end_older_links(&mut uow, &batch, now).await?;
    outbox::queue_password_links(&mut uow, &batch, MailKind::Invitation, now).await?;
    let whom = if chosen.is_some() {
        "chosen"
    } else {
        "everyone without a password"
    };
    audit::insert(
        &mut uow,
        Some(actor),
        AuditAction::InvitationsSent,
        whom,
        json!({ "invited": invited, "valid_until": expires_at }),
        now,
    )
    .await?;
    uow.commit().await?;
    Ok(invited)
}

/// Ends the unused links of the people `batch` made new links for: only the
/// newest link a person got works.
async fn end_older_links(
    uow: &mut UnitOfWork<'_>,
    batch: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_tx!(uow, |tx| sqlx::query(
        "UPDATE password_links SET spent_at = $2
          WHERE spent_at IS NULL AND batch <> $1
            AND user_id IN (SELECT user_id FROM password_links WHERE batch = $1)"
    )
    .bind(batch)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map(|_| ()))
}

/// "Forgot your password?": mails a reset link to `email` if it belongs to
/// an active person. Answers the same either way; refuses with
/// [`Error::TooManyAttempts`] past the limits, which count unknown addresses
/// like known ones.
#[tracing::instrument(skip_all)]
pub async fn request_reset(
    db: &Database,
    limits: &LoginLimits,
    email: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let email = super::login_name(email);
    if email.is_empty() {
        return Err(Error::Invalid(Reason::Missing {
            field: crate::reason::Field::Email,
        }));
    }
    for (key, limit) in [
        (format!("reset:{email}"), RESETS_PER_ACCOUNT),
        (
            format!("reset-{}", throttle::address_key(address)),
            limits.per_address,
        ),
    ] {
        if let throttle::Attempt::Refused {
            retry_after_secs, ..
        } = throttle::reserve(db, &key, limit, limits, now).await?
        {
            return Err(Error::TooManyAttempts { retry_after_secs });
        }
    }
    let batch = new_batch();
    let mut uow = db.begin_write().await?;
    let made = on_tx!(&mut uow, |tx| sqlx::query(
        "INSERT INTO password_links (user_id, purpose, batch, created_at, expires_at)
         SELECT id, 'reset', $2, $3, $4 FROM users WHERE lower(email) = $1 AND active"
    )
    .bind(&email)
    .bind(&batch)
    .bind(now)
    .bind(now + RESET_VALID)
    .execute(&mut *tx)
    .await
    .map(|done| done.rows_affected()))?;
    if made > 0 {
        end_older_links(&mut uow, &batch, now).await?;
        outbox::queue_password_links(&mut uow, &batch, MailKind::PasswordReset, now).await?;
    }
    // Who asked for what stays on record, known address or not.
    audit::insert(
        &mut uow,
        None,
        AuditAction::PasswordResetRequested,
        &email,
        json!({ "address": address, "known": made > 0 }),
        now,
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: i64,
    user_id: i64,
    display_name: String,
    email: String,
    purpose: String,
    expires_at: DateTime<Utc>,
}

/// The link behind `token` if it can still be used: not used, not replaced,
/// not expired, and its person still active.
pub async fn usable(db: &Database, token: &str, now: DateTime<Utc>) -> Result<UsableLink> {
    let secret = installation_secret(db, SECRET_NAME).await?;
    let link_id = link_id_of(&secret, token).ok_or_else(invalid_link)?;
    usable_by_id(db, link_id, now)
        .await?
        .ok_or_else(invalid_link)
}

async fn usable_by_id(
    db: &Database,
    link_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<UsableLink>> {
    let row: Option<LinkRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT l.id, l.user_id, u.display_name, u.email, l.purpose, l.expires_at
           FROM password_links l JOIN users u ON u.id = l.user_id
          WHERE l.id = $1 AND l.spent_at IS NULL AND l.expires_at > $2 AND u.active"
    )
    .bind(link_id)
    .bind(now)
    .fetch_optional(pool)
    .await?);
    row.map(|row| {
        Ok(UsableLink {
            purpose: LinkPurpose::parse(&row.purpose).ok_or(Error::Internal)?,
            link_id: row.id,
            user_id: row.user_id,
            display_name: row.display_name,
            email: row.email,
            expires_at: row.expires_at,
        })
    })
    .transpose()
}

/// What the mail for link `link_id` needs: the link's token and its holder,
/// if the link can still be used when the mail goes out.
pub async fn for_mail(
    db: &Database,
    link_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<(String, UsableLink)>> {
    let Some(link) = usable_by_id(db, link_id, now).await? else {
        return Ok(None);
    };
    let secret = installation_secret(db, SECRET_NAME).await?;
    Ok(Some((token_for(&secret, link_id), link)))
}

/// Sets the password of the link's person and uses the link up, ending every
/// session of theirs; answers the person, to be signed in. A password the
/// rules refuse leaves the link usable, so the person can try again.
#[tracing::instrument(skip_all)]
pub async fn set_password(
    db: &Database,
    token: &str,
    new: String,
    now: DateTime<Utc>,
) -> Result<AuthenticatedUser> {
    let link = usable(db, token, now).await?;
    let hash = password::hash(new).await?;
    let mut uow = db.begin_write().await?;
    // Guarded, so of two uses at the same moment only one gets through.
    let spent = on_tx!(&mut uow, |tx| sqlx::query(
        "UPDATE password_links SET spent_at = $2
          WHERE id = $1 AND spent_at IS NULL AND expires_at > $2"
    )
    .bind(link.link_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map(|done| done.rows_affected()))?;
    let updated = super::admin::replace_password(&mut uow, link.user_id, &hash, now).await?;
    if spent != 1 || !updated {
        return Err(invalid_link());
    }
    on_tx!(&mut uow, |tx| sqlx::query(
        "UPDATE password_links SET spent_at = $2 WHERE user_id = $1 AND spent_at IS NULL"
    )
    .bind(link.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map(|_| ()))?;
    audit::insert(
        &mut uow,
        Some(link.user_id),
        AuditAction::PasswordSetWithLink,
        &link.email,
        json!({ "link": link.purpose.code() }),
        now,
    )
    .await?;
    uow.commit().await?;
    super::current(db, link.user_id)
        .await?
        .ok_or_else(invalid_link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_link_only_with_the_key_that_made_it() {
        let key = [7u8; 32];
        let token = token_for(&key, 42);
        assert_eq!(token.len(), TOKEN_CHARS);
        assert_eq!(link_id_of(&key, &token), Some(42));
        assert_eq!(link_id_of(&[8u8; 32], &token), None);
        // Another id with this token's hash, or a changed hash, is refused.
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[7] ^= 1;
        assert_eq!(link_id_of(&key, &URL_SAFE_NO_PAD.encode(&bytes)), None);
        bytes[7] ^= 1;
        bytes[20] ^= 1;
        assert_eq!(link_id_of(&key, &URL_SAFE_NO_PAD.encode(&bytes)), None);
    }

    #[test]
    fn garbage_tokens_are_refused_without_panicking() {
        let key = [1u8; 32];
        for token in [
            "",
            "x",
            "<script>",
            &"A".repeat(TOKEN_CHARS),
            &"é".repeat(27),
        ] {
            assert_eq!(link_id_of(&key, token), None, "{token}");
        }
    }
}
