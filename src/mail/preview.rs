//! An administrator reading a queued or sent mail on the outbox page: the
//! mail composed as the delivery worker composes it, without sending or
//! changing anything. A link that would let its reader set someone's
//! password is shown without its secret part: reading the outbox must not
//! be a way into another person's account.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::compose::{Composition, MailSite, compose};
use super::outbox::ClaimedMail;
use super::{MailKind, MailPreview};
use crate::storage::{Database, on_pool};
use crate::{Error, Result};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    recipient_user_id: Option<i64>,
    to_address: String,
    lang: String,
    payload: Json<Value>,
    attempts: i32,
    created_at: DateTime<Utc>,
}

/// Mail `id` as it would be composed now.
pub async fn preview(
    db: &Database,
    site: &MailSite,
    id: i64,
    now: DateTime<Utc>,
) -> Result<MailPreview> {
    let row: Row = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, kind, recipient_user_id, to_address, lang, payload, attempts, created_at
           FROM mail_outbox WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
    .ok_or(Error::NotFound)?;
    let kind = MailKind::parse(&row.kind).ok_or(Error::NotFound)?;
    let mail = ClaimedMail {
        id: row.id,
        kind,
        recipient_user_id: row.recipient_user_id,
        to_address: row.to_address.clone(),
        lang: row.lang,
        payload: row.payload.0,
        attempts: row.attempts,
        created_at: row.created_at,
    };
    let (subject, text, reason) = match compose(db, site, &mail, now).await? {
        Composition::Send(composed) => {
            let text = composed.letter.text().map_err(|err| {
                tracing::error!(mail = id, error = %err, "cannot render a mail's text");
                Error::Internal
            })?;
            let text = if matches!(kind, MailKind::Invitation | MailKind::PasswordReset) {
                without_link_secret(&text, site)
            } else {
                text
            };
            (Some(composed.letter.subject), Some(text), None)
        }
        Composition::Obsolete(reason) => (None, None, Some(reason)),
    };
    Ok(MailPreview {
        id,
        kind,
        to_address: row.to_address,
        subject,
        text,
        reason,
    })
}

/// `text` with every password link's token replaced by "…".
fn without_link_secret(text: &str, site: &MailSite) -> String {
    let prefix = format!("{}password/", site.public_url);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        let (before, from_link) = rest.split_at(at + prefix.len());
        out.push_str(before);
        out.push('…');
        rest = from_link
            .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_links_lose_their_secret() {
        let site = MailSite {
            public_url: url::Url::parse("https://tsudoi.example/").unwrap(),
            time_zone: chrono_tz::Asia::Tokyo,
        };
        let text = "Set it here:\nhttps://tsudoi.example/password/AAAAAAAAAAE-x_9Z\nThanks";
        assert_eq!(
            without_link_secret(text, &site),
            "Set it here:\nhttps://tsudoi.example/password/…\nThanks"
        );
        assert_eq!(without_link_secret("no link", &site), "no link");
    }
}
